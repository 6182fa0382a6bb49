"""Snapped points and coverage matrices, computed once per content and reused across the stages.

:class:`SnapCache` snaps a set of points onto a mode network once: it is keyed by the mode and the
points' coordinates themselves, never by a caller-chosen name, so two stages asking for the same
points share one snap and different points can never collide. Coverage matrices go through the
on-disk cache (:class:`planner.store.DiskStore`) when one is given.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from planner.coverage.engine import TOLERANCE, Direction, coverage_matrix
from planner.network import ModeNetwork
from planner.network.snap import Snap, snap_points
from planner.store import DiskStore, params_digest

__all__ = ["SnapCache", "cached_coverage"]

logger = logging.getLogger(__name__)

KIND = "coverage"


def _snap_params(snap: Snap) -> dict[str, object]:
    return {
        "edge": snap.edge,
        "fraction": snap.fraction,
        "access_m": snap.access_m,
        "access_s": snap.access_s,
        "along": [snap.along_m, snap.along_fwd_s, snap.along_bwd_s],
        "network": snap.network_digest,
    }


def cached_coverage(
    store: DiskStore | None,
    net: ModeNetwork,
    demand: Snap,
    sites: Snap,
    *,
    max_distance_m: float | np.ndarray | None,
    max_time_s: float | np.ndarray | None,
    direction: Direction = "to_site",
) -> sp.csr_matrix:
    """:func:`planner.coverage.engine.coverage_matrix`, from the disk cache when it holds it."""
    if store is None:
        return coverage_matrix(
            net, demand, sites, max_distance_m=max_distance_m, max_time_s=max_time_s, direction=direction
        )
    key = params_digest(
        kind=KIND,
        network=net.digest,
        demand=_snap_params(demand),
        sites=_snap_params(sites),
        max_distance_m=max_distance_m,
        max_time_s=max_time_s,
        direction=direction,
        tolerance=dict(TOLERANCE),  # the cut-off rule: matrices made under another rule are not reused
    )
    z = store.load(KIND, key)
    if z is not None:
        try:
            mat = sp.csr_matrix(
                (z["data"].astype(bool), z["indices"], z["indptr"]), shape=tuple(z["shape"].tolist())
            )
            logger.debug("cache: coverage[%s] (%d pairs) loaded from %s", net.mode.name, mat.nnz, store.root)
            return mat
        except Exception as exc:  # an entry of an older layout: drop it and recompute
            logger.warning("cache: coverage %s is unusable (%s); recomputing", key, exc)
            store.discard(KIND, key)
    mat = coverage_matrix(
        net, demand, sites, max_distance_m=max_distance_m, max_time_s=max_time_s, direction=direction
    )
    store.save(
        KIND,
        key,
        {"data": mat.data, "indices": mat.indices, "indptr": mat.indptr, "shape": np.array(mat.shape)},
    )
    return mat


def _points_key(mode: str, xy: np.ndarray) -> tuple[str, str]:
    arr = np.ascontiguousarray(np.asarray(xy, dtype=float))
    return mode, hashlib.sha256(str(arr.shape).encode() + arr.tobytes()).hexdigest()


class SnapCache:
    """Snaps points once per (mode, coordinates); coverage through the disk cache when given.

    Parameters
    ----------
    networks
        The mode networks by mode name.
    max_snap_m
        Points farther from every usable road are unreachable.
    disk
        The on-disk cache of coverage matrices (``None``: compute every time).
    """

    def __init__(
        self, networks: Mapping[str, ModeNetwork], *, max_snap_m: float, disk: DiskStore | None = None
    ) -> None:
        self.networks = networks
        self.max_snap_m = max_snap_m
        self.disk = disk
        self._snaps: dict[tuple[str, str], Snap] = {}
        self._coverage: dict[tuple[str, int, int, float, float], sp.csr_matrix] = {}

    def coverage(
        self, mode: str, demand: Snap, sites: Snap, *, max_distance_m: float, max_time_s: float
    ) -> sp.csr_matrix:
        """A coverage matrix on the ``mode`` network: computed once per run, from the disk cache when it
        holds it (snaps come from :meth:`snap`, one object per content, so their identity keys them)."""
        key = (mode, id(demand), id(sites), float(max_distance_m), float(max_time_s))
        if key not in self._coverage:
            self._coverage[key] = cached_coverage(
                self.disk,
                self.networks[mode],
                demand,
                sites,
                max_distance_m=max_distance_m,
                max_time_s=max_time_s,
            )
        return self._coverage[key]

    def snap(self, mode: str, xy: np.ndarray) -> Snap:
        """``xy`` snapped onto the ``mode`` network (computed once for the same coordinates)."""
        key = _points_key(mode, xy)
        if key not in self._snaps:
            self._snaps[key] = snap_points(self.networks[mode], xy, max_snap_m=self.max_snap_m)
        return self._snaps[key]
