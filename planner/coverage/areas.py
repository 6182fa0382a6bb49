"""Service areas (isochrones): the roads from which a site is reached within a standard's cut-off."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage

from planner.coverage.engine import Direction, Weight, check_snap, distances_from_groups, edge_weights
from planner.coverage.rules import ServiceRule
from planner.errors import NetworkError
from planner.geo import points_xy
from planner.network import ModeNetwork
from planner.network.snap import Snap, snap_points
from planner.types import AreaClass

__all__ = ["service_area_layer", "service_areas"]


def service_areas(
    net: ModeNetwork,
    sites: Snap,
    *,
    max_distance_m: float | None = None,
    max_time_s: float | None = None,
    direction: Direction = "to_site",
    buffer_m: float = 50.0,
    groups: Sequence[Hashable] | None = None,
) -> gpd.GeoDataFrame:
    """Isochrone polygons: the roads from which each site is reached within the cut-off(s).

    The reachable parts of the edges (cut exactly where the budget runs out, the site's own access
    leg counted) are widened by ``buffer_m`` on a grid of ``buffer_m / 2`` cells and traced. With both
    cut-offs the area is the union (distance OR time).

    Parameters
    ----------
    net
        The mode network.
    sites
        Snapped sites; unreachable sites get an empty polygon.
    max_distance_m, max_time_s
        The cut-offs; at least one.
    direction
        ``"to_site"``: the area people reach the site from; ``"from_site"``: the area the site reaches.
    buffer_m
        Half-width of the drawn road corridor, metres.
    groups
        One label per site: one area per distinct label (the union of its sites' areas, traced once:
        a prefecture's thousands of sites make one raster, not thousands). ``None``: one per site.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site`` (index into ``sites``; with ``groups``, ``group``: the label, as text),
        ``max_distance_m``, ``max_time_s``, geometry; work CRS.
    """
    check_snap(net, sites, "sites")
    if max_distance_m is None and max_time_s is None:
        raise NetworkError("service_areas needs max_distance_m, max_time_s or both.")
    if groups is None:
        labels, owner = np.arange(len(sites)), np.arange(len(sites))
    else:
        labels, owner = np.unique(np.asarray([str(g) for g in groups], dtype=str), return_inverse=True)
    reach = [_Reach() for _ in range(len(labels))]
    readings: list[tuple[Weight, float | None]] = [("length", max_distance_m), ("time", max_time_s)]
    for weight, limit in readings:
        if limit is not None:
            _collect(net, sites, weight, float(limit), direction == "to_site", reach, owner)
    geoms = [_corridor(r.points(net, buffer_m / 2.0), buffer_m) for r in reach]
    key = {"site": np.arange(len(sites))} if groups is None else {"group": labels.tolist()}
    return gpd.GeoDataFrame(
        {
            **key,
            "max_distance_m": max_distance_m if max_distance_m is not None else np.nan,
            "max_time_s": max_time_s if max_time_s is not None else np.nan,
        },
        geometry=geoms,
        crs=net.crs,
    )


class _Reach:
    """The reached road of one area: whole edges and parts of edges (edge, from, to along it)."""

    def __init__(self) -> None:
        self.whole: list[np.ndarray] = []
        self.parts: list[tuple[int, float, float]] = []

    def points(self, net: ModeNetwork, step: float) -> np.ndarray:
        """Points along the reached road, at most ``step`` apart (ends included)."""
        out = [np.zeros((0, 2))]
        if self.whole:
            edges = np.unique(np.concatenate(self.whole))
            if edges.size:
                lines = shapely.segmentize(net.edge_geometry[edges], step)
                out.append(shapely.get_coordinates(lines))
        if self.parts:
            e, lo, hi = (np.array(v) for v in zip(*self.parts, strict=True))
            n = np.ceil(np.maximum(hi - lo, 0.0) / step).astype(np.int64) + 1
            which = np.repeat(np.arange(e.size), n)
            k = np.arange(which.size) - np.repeat(np.cumsum(n) - n, n)
            at = np.minimum(lo[which] + k * step, hi[which])
            pts = shapely.line_interpolate_point(net.edge_geometry[e[which]], at)
            out.append(shapely.get_coordinates(pts))
        return np.concatenate(out)


def _collect(
    net: ModeNetwork,
    sites: Snap,
    weight: Weight,
    limit: float,
    to_site: bool,
    reach: list[_Reach],
    owner: np.ndarray,
) -> None:
    """Add what the sites of each area reach within ``limit`` of ``weight`` to its :class:`_Reach`:
    one multi-source search per area (the union of its sites' reaches), then each site's own edge."""
    tot_fwd, tot_bwd = edge_weights(net, weight)  # inf where closed
    need_u, need_v = (tot_bwd, tot_fwd) if to_site else (tot_fwd, tot_bwd)
    for group, dist, rows, access in distances_from_groups(
        net, sites, weight, limit, to_site=to_site, groups=owner
    ):
        area = reach[group]
        left_u, left_v = limit - dist[net.edge_u], limit - dist[net.edge_v]
        whole = (left_u >= need_u) | (left_v >= need_v)  # the whole edge within reach from one end
        area.whole.append(np.flatnonzero(whole))
        for e in np.flatnonzero(((left_u >= 0) | (left_v >= 0)) & ~whole).tolist():
            area.parts.extend(_reached_parts(net, weight, e, float(left_u[e]), float(left_v[e]), to_site))
        for site, leg in zip(rows.tolist(), access.tolist(), strict=True):
            if limit - leg >= 0:
                area.parts.append(_own_edge_part(net, weight, sites, site, limit - leg, to_site))


def _profiles(
    net: ModeNetwork, weight: Weight, e: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool]:
    """Drawn positions and cumulative costs from ``u`` (``u → v`` and back to ``u``) along edge ``e``."""
    sl = slice(int(net.bp_ptr[e]), int(net.bp_ptr[e + 1]))
    fwd_open, bwd_open = bool(np.isfinite(net.edge_fwd_s[e])), bool(np.isfinite(net.edge_bwd_s[e]))
    if weight == "length":
        return net.bp_geom[sl], net.bp_len[sl], net.bp_len[sl], fwd_open, bwd_open
    return net.bp_geom[sl], net.bp_fwd[sl], net.bp_bwd[sl], fwd_open, bwd_open


def _reached_parts(
    net: ModeNetwork, weight: Weight, e: int, left_u: float, left_v: float, to_site: bool
) -> list[tuple[int, float, float]]:
    """The parts of edge ``e`` within the budget left at its ends (``-inf``/negative: none), as
    ``(e, from, to)`` positions along the edge's drawn line."""
    g, c_fwd, c_bwd, fwd_open, bwd_open = _profiles(net, weight, e)
    # from the u end the trip runs v → u (to the site) or u → v (from the site); from v the reverse
    a, a_open, b, b_open = (
        (c_bwd, bwd_open, c_fwd, fwd_open) if to_site else (c_fwd, fwd_open, c_bwd, bwd_open)
    )
    total = float(g[-1])
    hi_u = (float(np.interp(left_u, a, g)) if a_open else 0.0) if left_u >= 0 else -1.0
    lo_v = (float(np.interp(b[-1] - left_v, b, g)) if b_open else total) if left_v >= 0 else np.inf
    if hi_u >= lo_v:
        return [(e, 0.0, total)]
    parts = []
    if hi_u >= 0:
        parts.append((e, 0.0, hi_u))
    if lo_v <= total:
        parts.append((e, lo_v, total))
    return parts


def _own_edge_part(
    net: ModeNetwork, weight: Weight, sites: Snap, site: int, budget: float, to_site: bool
) -> tuple[int, float, float]:
    """The part of the site's own edge reached straight along it within ``budget``: ``(e, from, to)``."""
    e = int(sites.edge[site])
    g, c_fwd, c_bwd, fwd_open, bwd_open = _profiles(net, weight, e)
    pos = float(sites.fraction[site]) * float(g[-1])
    s_fwd = float(np.interp(pos, g, c_fwd))
    s_bwd = float(np.interp(pos, g, c_bwd))
    lo = hi = pos
    if to_site:  # behind the site travelling forwards, ahead of it travelling backwards
        if fwd_open:
            lo = float(np.interp(s_fwd - budget, c_fwd, g))
        if bwd_open:
            hi = float(np.interp(s_bwd + budget, c_bwd, g))
    else:
        if fwd_open:
            hi = float(np.interp(s_fwd + budget, c_fwd, g))
        if bwd_open:
            lo = float(np.interp(s_bwd - budget, c_bwd, g))
    return (e, min(lo, pos), max(hi, pos))


def _corridor(pts: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """The reached road (points at most ``buffer_m / 2`` apart) widened by ``buffer_m``, as a polygon.

    The points mark cells of a grid of ``buffer_m / 2``; the marked cells are grown by ``buffer_m``
    and traced (rasterio): linear in the road length reached, where unioning thousands of buffers
    costs seconds per site. The outline is exact to half a cell.
    """
    if len(pts) == 0:
        return shapely.Polygon()
    cell = buffer_m / 2.0
    lo = np.floor((pts.min(axis=0) - 2 * buffer_m) / cell) * cell  # one grid for every area
    ij = np.floor((pts - lo) / cell).astype(np.int64)
    shape = (int(ij[:, 1].max()) + 5, int(ij[:, 0].max()) + 5)
    mask = np.zeros(shape, dtype=bool)
    mask[ij[:, 1], ij[:, 0]] = True
    r = int(np.ceil(buffer_m / cell))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    mask = ndimage.binary_dilation(mask, structure=(xx**2 + yy**2) <= r * r)
    transform = Affine(cell, 0.0, lo[0], 0.0, cell, lo[1])  # row i spans y = lo + i * cell upwards
    polys = [
        shapely.geometry.shape(g)
        for g, _ in features.shapes(mask.astype(np.uint8), mask=mask, transform=transform)
    ]
    if len(polys) == 1:
        return polys[0]
    # the traced parts of one raster are disjoint (at most touching at a corner): collected, not
    # unioned (a union of a prefecture's parts costs seconds for the same area)
    return shapely.make_valid(shapely.MultiPolygon(polys))


def service_area_layer(
    networks: Mapping[str, ModeNetwork],
    rules: Mapping[AreaClass, ServiceRule],
    facilities: gpd.GeoDataFrame,
    *,
    max_snap_m: float,
    types: Sequence[str] = ("outlet", "locker", "delivery_centre"),
    area_class: AreaClass = "urban",
) -> gpd.GeoDataFrame:
    """Network service areas of pickup facilities under one class's rule: one area per status
    (``existing``, ``proposed``), the union of its sites' areas, with the types it holds."""
    rule = rules[area_class]
    sites = facilities[facilities["type"].isin(list(types))]
    # several units at one place (locker groups at one compound) share one service area
    xy = points_xy(sites)
    key = pd.DataFrame({"x": xy[:, 0].round(1), "y": xy[:, 1].round(1), "status": sites["status"].to_numpy()})
    sites = sites.loc[~key.duplicated().to_numpy()]
    if len(sites) == 0:
        return gpd.GeoDataFrame({"status": [], "type": []}, geometry=[], crs=facilities.crs)
    net = networks[rule.mode]
    snap = snap_points(net, points_xy(sites), max_snap_m=max_snap_m)
    status = sites["status"].astype(str).to_numpy()
    areas = service_areas(
        net, snap, max_distance_m=rule.distance_m, max_time_s=rule.time_s, groups=status.tolist()
    )
    kinds = (
        pd.Series(sites["type"].astype(str).to_numpy())
        .groupby(status)
        .agg(lambda t: ";".join(sorted(set(t))))
    )
    areas = areas.rename(columns={"group": "status"}).assign(
        type=lambda f: f["status"].map(kinds), area_class=area_class
    )
    return areas[~areas.geometry.is_empty]
