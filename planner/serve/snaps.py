"""Snaps kept per point, so that an edited facility set is snapped without snapping it again.

:class:`~planner.coverage.snaps.SnapCache` keys a snap by the whole coordinate array: after an edit
the facility set is a new array and every site would be snapped again. :class:`PointSnapCache`
keeps each point's snap: a new array is assembled from the snaps of its points, and only points
never seen before go through :func:`~planner.network.snap.snap_points` (the network engine for just
those points). Snapping is per point (the nearest usable edge), so the assembled snap equals the
snap of the whole array.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from planner.coverage.snaps import SnapCache
from planner.network import ModeNetwork
from planner.network.snap import Snap, snap_points
from planner.store import DiskStore

__all__ = ["PointSnapCache"]

_FIELDS = ("edge", "fraction", "access_m", "access_s", "along_m", "along_fwd_s", "along_bwd_s", "reachable")


class PointSnapCache(SnapCache):
    """A :class:`SnapCache` that remembers every point it snapped, by mode and coordinates.

    Parameters
    ----------
    networks, max_snap_m, disk
        As for :class:`~planner.coverage.snaps.SnapCache`.
    """

    def __init__(
        self, networks: Mapping[str, ModeNetwork], *, max_snap_m: float, disk: DiskStore | None = None
    ) -> None:
        super().__init__(networks, max_snap_m=max_snap_m, disk=disk)
        self._rows: dict[str, dict[tuple[float, float], tuple[Snap, int]]] = {}
        self._arrays: dict[tuple[str, bytes], Snap] = {}
        self.points_snapped = 0  # points that went through the network engine

    def snap(self, mode: str, xy: np.ndarray) -> Snap:
        """``xy`` snapped onto the ``mode`` network, assembled from the snaps of its points."""
        pts = np.ascontiguousarray(np.asarray(xy, dtype=float)).reshape(-1, 2)
        key = (mode, pts.tobytes())
        if key in self._arrays:
            return self._arrays[key]
        rows = self._rows.setdefault(mode, {})
        coords = [(float(x), float(y)) for x, y in pts]
        missing = list(dict.fromkeys(c for c in coords if c not in rows))
        if missing:
            fresh = snap_points(self.networks[mode], np.array(missing), max_snap_m=self.max_snap_m)
            self.points_snapped += len(missing)
            for i, c in enumerate(missing):
                rows[c] = (fresh, i)
        self._arrays[key] = _assemble([rows[c] for c in coords], pts, self.networks[mode])
        return self._arrays[key]


def _assemble(parts: list[tuple[Snap, int]], pts: np.ndarray, net: ModeNetwork) -> Snap:
    """One :class:`Snap` of the points from the snaps each came from (grouped by source snap)."""
    if not parts:
        return snap_points(net, np.zeros((0, 2)))
    first = parts[0][0]
    values = {f: np.empty(len(parts), dtype=getattr(first, f).dtype) for f in _FIELDS}
    by_source: dict[int, tuple[Snap, list[int], list[int]]] = {}
    for pos, (source, i) in enumerate(parts):
        entry = by_source.setdefault(id(source), (source, [], []))
        entry[1].append(pos)
        entry[2].append(i)
    for source, positions, indices in by_source.values():
        for f in _FIELDS:
            values[f][positions] = getattr(source, f)[indices]
    return replace(first, xy=pts, **values)  # type: ignore[arg-type]
