"""The one atomic writer: files and folders appear complete or not at all.

Every file or folder the planner writes for later use (output folders, cache entries, downloads)
goes through this module. A file is written to a temporary sibling and renamed into place; a folder
is built in a temporary sibling ``.<name>.tmp-<pid>-<random>`` and renamed into place in one step.

A run killed with ``kill -9`` cannot clean up after itself; its temporary sibling stays behind. The
next write to the same place removes such leftovers (of processes no longer running) and logs it,
so a killed run never leaves a partial output folder for good.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

_TMP = ".tmp-"
_OLD = ".old-"


def _sibling(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}{kind}{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary siblings of ``target`` left by processes that no longer run.

    Returns the paths removed (each is logged).
    """
    target = Path(target).absolute()
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for kind in (_TMP, _OLD):
        prefix = f".{target.name}{kind}"
        for path in target.parent.glob(f"{prefix}*"):
            pid_text = path.name[len(prefix) :].split("-", 1)[0]
            if pid_text.isdigit() and _pid_alive(int(pid_text)):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            log.warning("removed %s, left behind by an interrupted run", path)
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on success it replaces ``path``.

    The file is created with the usual permissions (the process umask applies). If the block
    raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = _sibling(path, _TMP)
    try:
        with open(tmp, mode, **open_kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: Path, *, check: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces ``target`` in one rename.

    Parameters
    ----------
    target
        The final folder. An existing folder is swapped out and removed after the new one is in
        place (``check`` decides whether it may be replaced).
    check
        Called with ``target`` before any work and again just before the swap; raises to refuse.

    Yields
    ------
    Path
        The temporary folder to write into, removed if the block raises.
    """
    target = Path(target).absolute()
    if check is not None:
        check(target)
    remove_stale(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(target, _TMP)
    os.mkdir(tmp)  # the usual mode (umask applies): outputs are for sharing
    try:
        yield tmp
        if check is not None:
            check(target)  # it may have appeared while we were writing
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, target: Path) -> None:
    old: Path | None = None
    if target.exists():
        old = _sibling(target, _OLD)
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:  # put the previous folder back
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
