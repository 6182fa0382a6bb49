"""Straight-line (buffer) reading of a service radius: coverage and nearest site as the crow flies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from planner.coverage.engine import TOLERANCE, limits, within

__all__ = ["buffer_coverage", "nearest_straight"]


def buffer_coverage(
    demand_xy: np.ndarray, site_xy: np.ndarray, *, radius_m: float | np.ndarray
) -> sp.csr_matrix:
    """Straight-line coverage: demand × sites, True where the distance is ``<= radius_m`` (with the
    engine's tolerance rule, :func:`planner.coverage.engine.within`).

    Parameters
    ----------
    demand_xy, site_xy
        ``(n, 2)`` and ``(m, 2)`` coordinates in the work CRS (metres).
    radius_m
        Radius, a number or one per demand point.
    """
    d = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    s = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    radius = limits(radius_m, d.shape[0], "radius_m")
    assert radius is not None
    d_ok = np.flatnonzero(np.isfinite(d).all(axis=1))  # points without coordinates cover nothing
    s_ok = np.flatnonzero(np.isfinite(s).all(axis=1))
    if d_ok.size == 0 or s_ok.size == 0:
        return sp.csr_matrix((d.shape[0], s.shape[0]), dtype=bool)
    pairs = cKDTree(d[d_ok]).sparse_distance_matrix(
        cKDTree(s[s_ok]), float(radius.max()) + TOLERANCE["length"], output_type="ndarray"
    )
    i, j = d_ok[pairs["i"]], s_ok[pairs["j"]]
    keep = within(pairs["v"], radius[i], "length")
    return sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (i[keep], j[keep])), shape=(d.shape[0], s.shape[0])
    )


def nearest_straight(demand_xy: np.ndarray, site_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance (m) to the nearest site and its index (``inf``/``-1`` without sites)."""
    d = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    s = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    if s.shape[0] == 0:
        return np.full(d.shape[0], np.inf), np.full(d.shape[0], -1, dtype=np.int64)
    dist, idx = cKDTree(s).query(d)
    return np.asarray(dist, float), np.asarray(idx, np.int64)
