"""Stage timing and the progress callback the CLI passes to the run."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StageCallback", "StageTimer", "no_progress"]

#: A context manager per stage name (the CLI shows progress with it).
StageCallback = Callable[[str], AbstractContextManager[Any]]


@contextlib.contextmanager
def no_progress(_: str) -> Iterator[None]:
    """The stage callback that shows nothing."""
    yield


@dataclass
class StageTimer:
    """Times each stage (seconds, summed when a stage runs twice) around the progress callback."""

    stage_cb: StageCallback = no_progress
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run a block as stage ``name``."""
        start = time.perf_counter()
        with self.stage_cb(name):
            yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
