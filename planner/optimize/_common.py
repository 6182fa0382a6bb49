"""Input checks shared by the model families (internal)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def site_mask(
    fixed_open: np.ndarray | Sequence[int] | None, n: int, *, name: str = "fixed_open"
) -> np.ndarray:
    """Bool mask of length ``n`` from a bool mask or a list of site indices (``None`` = none)."""
    if fixed_open is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(fixed_open)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"{name} mask has shape {arr.shape}, expected ({n},) (one entry per site)")
        return arr.copy()
    if arr.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a bool mask or integer site indices, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n:
        bad = arr[(arr < 0) | (arr >= n)]
        raise ValueError(f"{name} has site indices outside 0..{n - 1}: {bad[:10].tolist()}")
    mask = np.zeros(n, dtype=bool)
    mask[arr] = True
    return mask


def vector(
    values: np.ndarray | Sequence[float] | None, n: int, *, name: str, default: float = 1.0
) -> np.ndarray:
    """A finite, non-negative float vector of length ``n`` (``None`` = all ``default``)."""
    if values is None:
        return np.full(n, float(default))
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise ValueError(
            f"{name} must be finite and >= 0; {idx.size} entries are not (first indices {idx[:10].tolist()})"
        )
    return arr


def preview(indices: np.ndarray, limit: int = 10) -> str:
    """``"3, 7, 12 (and 40 more)"`` for messages."""
    idx = np.asarray(indices).ravel()
    head = ", ".join(str(int(i)) for i in idx[:limit])
    return head + (f" (and {idx.size - limit} more)" if idx.size > limit else "")
