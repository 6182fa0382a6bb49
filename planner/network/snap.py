"""Snapping points to a mode network: the nearest physical edge, the position along it and the
straight off-network access leg (walked at the access speed, counted in distance and time).

Points farther than ``max_snap_m`` from every usable road are *unreachable*, never silently snapped.
Conventions for a snapped point ``P`` on edge ``e = (u, v)``: the point reaches ``u`` by travelling
``v → u`` along the edge (or at once when it lies at ``u``) and ``v`` by travelling ``u → v`` (or at
once at ``v``), at the OSM length and travel time of that part of the edge. This is exactly the road
graph with the edge split at the point.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from planner.errors import CRSError, NetworkError
from planner.network.graph import ModeNetwork, fail
from planner.network.simplify import interpolate_along

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------

_FRACTION_EPS = 1e-9


@dataclass(frozen=True)
class Snap:
    """Points snapped to the nearest edge of a :class:`ModeNetwork`.

    Attributes
    ----------
    edge
        Physical edge index per point; ``-1`` where unreachable.
    fraction
        Position along the edge, 0 at ``edge_u`` and 1 at ``edge_v`` (0 where unreachable).
    access_m
        Length of the straight off-network leg from the point to the edge (``inf`` where unreachable).
    access_s
        Time of that leg at the access (walking) speed (``inf`` where unreachable).
    along_m
        OSM length from the edge's ``u`` end to the snapped position.
    along_fwd_s, along_bwd_s
        Travel time from ``u`` to the position (``u → v``) and from the position back to ``u``
        (``v → u``); 0 where the edge is closed that way.
    reachable
        ``access_m <= max_snap_m``: the point has a road within reach.
    xy
        The points, work CRS.
    network_digest
        :attr:`ModeNetwork.digest` of the network snapped to.
    max_snap_m, access_kmh
        The options used.
    """

    edge: np.ndarray
    fraction: np.ndarray
    access_m: np.ndarray
    access_s: np.ndarray
    along_m: np.ndarray
    along_fwd_s: np.ndarray
    along_bwd_s: np.ndarray
    reachable: np.ndarray
    xy: np.ndarray
    network_digest: str
    max_snap_m: float
    access_kmh: float

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    @property
    def n_unreachable(self) -> int:
        """Number of points with no usable road within ``max_snap_m``."""
        return int((~self.reachable).sum())

    def subset(self, which: np.ndarray) -> Snap:
        """The snaps of some points (boolean mask or integer indices), in that order."""
        return replace(
            self,
            edge=self.edge[which],
            fraction=self.fraction[which],
            access_m=self.access_m[which],
            access_s=self.access_s[which],
            along_m=self.along_m[which],
            along_fwd_s=self.along_fwd_s[which],
            along_bwd_s=self.along_bwd_s[which],
            reachable=self.reachable[which],
            xy=self.xy[which],
        )

    def snapped_xy(self, net: ModeNetwork) -> np.ndarray:
        """Coordinates of the snapped positions on the edges (NaN where unreachable)."""
        out = np.full((len(self), 2), np.nan)
        ok = self.reachable
        if ok.any():
            geoms = net.edge_geometry[self.edge[ok]]
            pts = shapely.line_interpolate_point(geoms, self.fraction[ok], normalized=True)
            out[ok] = shapely.get_coordinates(pts)
        return out


def snap_points(
    net: ModeNetwork,
    xy: np.ndarray,
    *,
    max_snap_m: float = 1000.0,
    access_kmh: float = 4.8,
    crs: Any = None,
    label: str = "points",
) -> Snap:
    """Snap points to the nearest usable edge of a mode network.

    Parameters
    ----------
    net
        The mode network.
    xy
        ``(n, 2)`` point coordinates in the work CRS (metres).
    max_snap_m
        Points farther than this from every edge are unreachable (not snapped).
    access_kmh
        Speed of the off-network leg (walking), km/h.
    crs
        The CRS of ``xy`` when known; it must equal the network's work CRS.
    label
        What the points are (``"demand"``, ``"sites"``), for messages.

    Returns
    -------
    Snap
        Points without coordinates (NaN: e.g. villages of a register without locations) and points
        farther than ``max_snap_m`` from every usable road are unreachable; both are counted in a
        warning.

    Raises
    ------
    CRSError
        ``crs`` differs from the network's or is geographic.
    NetworkError
        Every point with coordinates lies outside the network's extent (grown by ``max_snap_m``): the
        usual sign of points in degrees or in another CRS, or of a roads file of another area.
    """
    pts = _checked_points(net, xy, crs=crs, label=label, max_snap_m=max_snap_m, access_kmh=access_kmh)
    has_xy, inside = _inside(net, pts, max_snap_m=max_snap_m, label=label)
    edge, fraction, access, along = _nearest_edges(net, pts, inside, max_snap_m=max_snap_m)
    reachable = edge >= 0
    snap = Snap(
        edge=edge,
        fraction=fraction,
        access_m=access,
        access_s=np.where(reachable, access / (access_kmh / 3.6), np.inf),
        along_m=along[0],
        along_fwd_s=along[1],
        along_bwd_s=along[2],
        reachable=reachable,
        xy=pts,
        network_digest=net.digest,
        max_snap_m=float(max_snap_m),
        access_kmh=float(access_kmh),
    )
    n = pts.shape[0]
    if n and snap.n_unreachable:
        what = (
            "%s: %d of %d points unreachable by network (%d without coordinates, %d beyond %g m of a %s road)"
        )
        n_far = snap.n_unreachable - int((~has_xy).sum())
        logger.warning(
            what, label, snap.n_unreachable, n, int((~has_xy).sum()), n_far, max_snap_m, net.mode.name
        )
    return snap


def _checked_points(
    net: ModeNetwork, xy: np.ndarray, *, crs: Any, label: str, max_snap_m: float, access_kmh: float
) -> np.ndarray:
    """The points as an ``(n, 2)`` float array, their CRS and the options checked."""
    pts = np.asarray(xy, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise NetworkError(f"{label}: coordinates must be an (n, 2) array, got shape {pts.shape}.")
    if crs is not None:
        given = CRS.from_user_input(crs)
        fix, todo = "gdf.to_crs(work_crs)", f"Project the {label} to the work CRS {net.crs.name!r} first."
        if given.is_geographic:
            msg = (
                f"{label}: coordinates in a geographic CRS ({given.name}); distances in degrees are refused."
            )
            raise fail(CRSError, msg, todo, fix=fix)
        if given != net.crs:
            msg = f"{label}: CRS {given.name!r} differs from the network's work CRS {net.crs.name!r}."
            raise fail(CRSError, msg, todo, fix=fix)
    if not (max_snap_m >= 0 and math.isfinite(max_snap_m)):
        raise NetworkError(f"max_snap_m must be a finite distance >= 0 m, got {max_snap_m}.")
    if not (access_kmh > 0 and math.isfinite(access_kmh)):
        raise NetworkError(f"access_kmh must be a positive speed, got {access_kmh}.")
    return pts


def _inside(
    net: ModeNetwork, pts: np.ndarray, *, max_snap_m: float, label: str
) -> tuple[np.ndarray, np.ndarray]:
    """Points with coordinates, and those within the network's extent grown by ``max_snap_m``.

    Every point with coordinates outside the extent is refused: the usual sign of degrees or of
    another CRS.
    """
    has_xy = np.isfinite(pts).all(axis=1)
    bounds = net.bounds
    lo, hi = bounds[:2] - max_snap_m, bounds[2:] + max_snap_m
    inside = has_xy & (pts >= lo).all(axis=1) & (pts <= hi).all(axis=1)
    if has_xy.any() and not inside.any():
        extent = f"x {bounds[0]:.0f}..{bounds[2]:.0f}, y {bounds[1]:.0f}..{bounds[3]:.0f}"
        msg = f"{label}: all {int(has_xy.sum())} points lie outside the {net.mode.name} network's extent."
        where = f"{label} extent {_bbox(pts[has_xy])} vs network extent {extent} (work CRS {net.crs.name})."
        fix = "Check the points are in the work CRS (metres, not degrees) and the roads file covers them."
        raise fail(NetworkError, msg, where, fix=fix)
    return has_xy, inside


def _nearest_edges(
    net: ModeNetwork, pts: np.ndarray, inside: np.ndarray, *, max_snap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge within ``max_snap_m``, position along it, access leg and ``(3, n)`` along-values
    (OSM length, time ``u → v``, time back to ``u``) per point; ``-1``/``0``/``inf``/``0`` where none.
    """
    n = pts.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    fraction = np.zeros(n)
    access = np.full(n, np.inf)
    along = np.zeros((3, n))
    if not inside.any():
        return edge, fraction, access, along
    geoms = shapely.points(np.where(inside[:, None], pts, 0.0))
    geoms[~inside] = None  # query_nearest skips missing geometries
    (pi, ei), dist = net.strtree().query_nearest(
        geoms, max_distance=max_snap_m, return_distance=True, all_matches=False
    )
    edge[pi] = ei
    access[pi] = dist
    lines = net.edge_geometry[ei]
    glen = shapely.length(lines)
    loc = np.clip(shapely.line_locate_point(lines, geoms[pi]), 0.0, glen)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(glen > 0, loc / np.where(glen > 0, glen, 1.0), 0.0)
    at_u, at_v = f <= _FRACTION_EPS, f >= 1.0 - _FRACTION_EPS
    f[at_u], f[at_v] = 0.0, 1.0
    fraction[pi] = f
    bps = (net.bp_len, net.bp_fwd, net.bp_bwd)
    vals = interpolate_along(net.bp_ptr, net.bp_geom, list(bps), ei, loc)
    last = net.bp_ptr[ei + 1] - 1
    for row, (val, bp) in enumerate(zip(vals, bps, strict=True)):
        along[row, pi] = np.where(at_u, 0.0, np.where(at_v, bp[last], val))
    return edge, fraction, access, along


def _bbox(xy: np.ndarray) -> str:
    if xy.size == 0:
        return "(empty)"
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    return f"x {lo[0]:.0f}..{hi[0]:.0f}, y {lo[1]:.0f}..{hi[1]:.0f}"
