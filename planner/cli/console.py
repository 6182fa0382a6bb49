"""The terminal of the CLI: the consoles, logging set-up, stage progress and the error exit.

Shared by every command module of :mod:`planner.cli`; the library itself never prints.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from planner.errors import PlannerError

__all__ = ["console", "fail", "out_console", "progress", "setup_logging"]

console = Console(stderr=True)
out_console = Console()

_STAGE_NAMES = {
    "inputs": "reading inputs 读取数据",
    "classify": "classing demand 划分城乡",
    "network": "building road networks 构建路网",
    "coverage": "measuring coverage 计算覆盖",
    "audit": "auditing standards 标准核查",
    "optimise": "optimising the plan 优化选址",
    "coverage_after": "measuring the plan 评估方案",
    "outputs": "writing outputs 输出结果",
}


def setup_logging(verbose: bool, quiet: bool) -> None:
    """Log through rich on stderr: warnings and up when quiet, info by default, debug with -v."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )
    for noisy in ("matplotlib", "fiona", "rasterio", "pyogrio", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def progress(quiet: bool) -> Iterator[Any]:
    """A stage callback: a spinner with the elapsed time for every stage (nothing when quiet)."""
    if quiet:

        @contextlib.contextmanager
        def silent(_: str) -> Iterator[None]:
            yield

        yield silent
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:

        @contextlib.contextmanager
        def stage(name: str) -> Iterator[None]:
            task = progress.add_task(_STAGE_NAMES.get(name, name), total=1)
            try:
                yield
            finally:
                progress.update(task, completed=1)

        yield stage


def fail(exc: PlannerError) -> typer.Exit:
    """Print a planner error and return the exit to raise (exit code 2 for bad input)."""
    console.print("[bold red]error[/]: " + escape(str(exc)), highlight=False, soft_wrap=True)
    return typer.Exit(code=exc.exit_code)
