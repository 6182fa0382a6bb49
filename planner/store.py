"""The on-disk cache: arrays stored under a hash of the inputs and parameters that made them.

One cache location for everything the planner caches (road networks, coverage matrices, downloads):
:func:`default_cache_root` — the scenario's ``cache_dir`` when it sets one, else
``$XDG_CACHE_HOME/planner`` (``~/.cache/planner`` when unset). Running a scenario never writes beside it.

Entries are keyed by a hash of the input file bytes or arrays and every parameter that changes the
result, plus :data:`CACHE_FORMAT` and the planner version, so a stale entry is never reused. Files are
plain ``.npz`` (no pickle) written atomically (:mod:`planner.atomic`); an unreadable entry is logged,
deleted and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS

from planner.atomic import atomic_file

__all__ = ["CACHE_FORMAT", "DiskStore", "default_cache_root", "file_digest", "params_digest"]

logger = logging.getLogger(__name__)

#: Bump when the stored layout or the meaning of a stored result changes.
CACHE_FORMAT = 2

_digest_memo: dict[tuple[str, int, int], str] = {}


def default_cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: ``cache_dir`` if given, else ``$XDG_CACHE_HOME/planner`` or ``~/.cache/planner``."""
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "planner"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("planner")
    except Exception:  # not installed (running from a source tree): the format number still guards
        return "source"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (memoised per path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    memo_key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    cached = _digest_memo.get(memo_key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    _digest_memo[memo_key] = digest
    return digest


def _jsonable(value: Any, h: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        h.update(str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.tobytes())
        return f"<array {arr.dtype} {arr.shape}>"
    if hasattr(value, "to_json") and callable(value.to_json):  # e.g. a travel mode
        return json.loads(value.to_json())
    if isinstance(value, CRS):
        return value.to_wkt()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, h) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v, h) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot hash a {type(value).__name__} into a cache key")


def params_digest(**params: Any) -> str:
    """A stable hash of keyword parameters (numbers, strings, arrays, CRSs, objects with ``to_json``)."""
    h = hashlib.sha256()
    text = json.dumps(_jsonable(params, h), sort_keys=True, ensure_ascii=False)
    h.update(text.encode())
    h.update(f"format={CACHE_FORMAT};planner={_version()}".encode())
    return h.hexdigest()[:32]


class DiskStore:
    """A folder of ``<kind>-<key>.npz`` entries.

    Parameters
    ----------
    root
        The folder (created on first write); default :func:`default_cache_root`.
    enabled
        ``False`` stores nothing and finds nothing (every lookup misses).
    """

    def __init__(self, root: str | Path | None = None, *, enabled: bool = True) -> None:
        self.root = default_cache_root(root)
        self.enabled = enabled
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}

    def path(self, kind: str, key: str) -> Path:
        """The file of an entry (it may not exist)."""
        return self.root / f"{kind}-{key}.npz"

    def load(self, kind: str, key: str) -> dict[str, np.ndarray] | None:
        """The arrays of an entry, or ``None`` (missing, disabled or unreadable; counted as a miss)."""
        path = self.path(kind, key)
        arrays = self._read(path) if self.enabled and path.exists() else None
        counter = self.hits if arrays is not None else self.misses
        counter[kind] = counter.get(kind, 0) + 1
        return arrays

    def _read(self, path: Path) -> dict[str, np.ndarray] | None:
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as exc:  # a truncated or foreign file: drop it and recompute
            logger.warning("cache: %s is unreadable (%s); recomputing", path, exc)
            path.unlink(missing_ok=True)
            return None

    def discard(self, kind: str, key: str) -> None:
        """Remove an entry that turned out unusable."""
        self.path(kind, key).unlink(missing_ok=True)

    def save(self, kind: str, key: str, arrays: Mapping[str, np.ndarray]) -> Path | None:
        """Store arrays under ``(kind, key)`` atomically; returns the file (``None`` when disabled)."""
        if not self.enabled:
            return None
        path = self.path(kind, key)
        with atomic_file(path) as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        return path
