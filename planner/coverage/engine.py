"""Bounded shortest paths → sparse coverage matrices, nearest-facility distances and isochrones.

A search starts from virtual *source* nodes appended to the road graph of a
:class:`~planner.network.ModeNetwork` (one per snapped source point, with arcs to the ends of its
edge: the off-network leg plus the part of the edge, in the directions the mode may travel). A
*target* point's value is read off its edge ends: ``min(D[u] + leg from u, D[v] + leg from v)``,
and a source and a target on the same edge may also go straight along it. This is exactly the road
graph split at every point (see :mod:`planner.network`), without building it.

Coverage runs scipy's bounded Dijkstra from the smaller side (sites on the reversed graph, or demand
on the forward one), in chunks of spatially close sources, each on the *window* of the graph that a
path within the cut-off can reach: a path of network length ``D`` never leaves the disc of radius
``stretch * D`` around its source (``stretch`` bounds drawn length over OSM length), so the window
is exact, not a heuristic. Memory is the chunk's distance block plus the covered pairs, never a
dense demand × sites array. Nearest facility is one multi-source search per weight.

**The cut-off is inclusive, with a tolerance.** A pair whose shortest path is at most the standard
plus :data:`TOLERANCE` (1e-6 m for distance, 1e-6 s for time) counts as covered (:func:`within`).
Floating-point sums along a path differ in the last bits with the order of addition, so a pair at
exactly the standard (a village 3,000 m from an outlet on a road of whole-metre pieces) could
otherwise fall either side of it; one micrometre or microsecond is far below any distance or time
that matters for a service standard and far above the rounding of sums of road pieces. With
snapped positions that land on a road node read exactly (:mod:`planner.network.simplify`), coverage
sets equal exact node-to-node Dijkstra with ``cutoff=standard`` on graphs of whole-metre lengths.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planner.errors import NetworkError, Problem
from planner.network import ModeNetwork
from planner.network.snap import Snap

__all__ = [
    "TOLERANCE",
    "Direction",
    "Nearest",
    "Weight",
    "check_snap",
    "coverage_matrix",
    "distances_from_each",
    "distances_from_groups",
    "edge_weights",
    "limits",
    "nearest_facility",
    "od_pairs",
    "within",
]

logger = logging.getLogger(__name__)

Direction = Literal["to_site", "from_site"]
Weight = Literal["length", "time"]

_DEFAULT_MEMORY_MB = 512.0

#: Tolerance of every cut-off comparison, per weight (metres, seconds): see the module notes.
TOLERANCE: Mapping[str, float] = {"length": 1e-6, "time": 1e-6}


def within(value: np.ndarray | float, limit: np.ndarray | float, weight: Weight) -> np.ndarray:
    """Whether ``value`` meets the cut-off ``limit`` under the tolerance rule (``<= limit + TOLERANCE``).

    Parameters
    ----------
    value
        Shortest-path values (metres for ``"length"``, seconds for ``"time"``; ``inf`` = unreachable).
    limit
        The cut-off, a number or one per value.
    weight
        ``"length"`` or ``"time"``.
    """
    return np.asarray(value) <= np.asarray(limit) + TOLERANCE[weight]


@dataclass(frozen=True)
class _Legs:
    """The reachable points of a snap and the cost of their legs to and from their edge's ends.

    ``out_u`` / ``out_v``: from the point to ``u`` / ``v`` (access leg included); ``in_u`` / ``in_v``:
    from ``u`` / ``v`` to the point. ``inf`` where the mode may not travel that way along the edge.
    """

    rows: np.ndarray  # original indices of the reachable points
    xy: np.ndarray
    edge: np.ndarray
    f: np.ndarray
    a: np.ndarray  # access leg (metres or seconds)
    pos_fwd: np.ndarray  # weight from u to the point travelling u → v (inf where closed)
    pos_bwd: np.ndarray  # weight from the point back to u travelling v → u (inf where closed)
    u: np.ndarray
    v: np.ndarray
    out_u: np.ndarray
    out_v: np.ndarray
    in_u: np.ndarray
    in_v: np.ndarray

    @property
    def size(self) -> int:
        return int(self.rows.size)


def check_snap(net: ModeNetwork, snap: Snap, what: str) -> None:
    if snap.network_digest != net.digest:
        raise NetworkError(
            f"{what}: the points were snapped to another network than the {net.mode.name!r} one passed.",
            [Problem("Snap the points with snap_points(net, ...) on the same network.")],
        )


def edge_weights(net: ModeNetwork, weight: Weight) -> tuple[np.ndarray, np.ndarray]:
    """Per physical edge: weight of travelling it ``u → v`` and ``v → u`` (``inf`` where closed)."""
    if weight == "length":
        fwd = np.where(np.isfinite(net.edge_fwd_s), net.edge_length_m, np.inf)
        bwd = np.where(np.isfinite(net.edge_bwd_s), net.edge_length_m, np.inf)
        return fwd, bwd
    return net.edge_fwd_s, net.edge_bwd_s


def _legs(net: ModeNetwork, snap: Snap, weight: Weight) -> _Legs:
    rows = np.flatnonzero(snap.reachable)
    e = snap.edge[rows]
    f = snap.fraction[rows]
    fwd_open, bwd_open = np.isfinite(net.edge_fwd_s[e]), np.isfinite(net.edge_bwd_s[e])
    if weight == "length":
        a = snap.access_m[rows]
        from_u = to_u = snap.along_m[rows]
        to_v = from_v = net.edge_length_m[e] - from_u
    else:
        a = snap.access_s[rows]
        from_u, to_u = snap.along_fwd_s[rows], snap.along_bwd_s[rows]
        to_v = net.edge_fwd_s[e] - from_u
        from_v = net.edge_bwd_s[e] - to_u
    at_u, at_v = f == 0.0, f == 1.0
    inf = np.inf
    return _Legs(
        rows=rows,
        xy=snap.xy[rows],
        edge=e,
        f=f,
        a=a,
        pos_fwd=np.where(fwd_open, from_u, inf),
        pos_bwd=np.where(bwd_open, to_u, inf),
        u=net.edge_u[e],
        v=net.edge_v[e],
        out_u=a + np.where(at_u, 0.0, np.where(bwd_open, to_u, inf)),
        out_v=a + np.where(at_v, 0.0, np.where(fwd_open, to_v, inf)),
        in_u=a + np.where(at_u, 0.0, np.where(fwd_open, from_u, inf)),
        in_v=a + np.where(at_v, 0.0, np.where(bwd_open, from_v, inf)),
    )


def _same_edge(net: ModeNetwork, orig: _Legs, dest: _Legs, weight: Weight) -> tuple[np.ndarray, ...]:
    """Direct trips along a shared edge: (origin position, destination position, cost)."""
    oi, dj = _same_edge_pairs(orig.edge, dest.edge)
    fo, fd = orig.f[oi], dest.f[dj]
    with np.errstate(invalid="ignore"):  # inf - inf where the edge is closed that way
        ahead = np.where(fd >= fo, dest.pos_fwd[dj] - orig.pos_fwd[oi], np.inf)
        behind = np.where(fd <= fo, orig.pos_bwd[oi] - dest.pos_bwd[dj], np.inf)
    along = np.where(fd == fo, 0.0, np.fmin(ahead, behind))
    cost = orig.a[oi] + np.maximum(along, 0.0) + dest.a[dj]
    ok = np.isfinite(cost)
    return oi[ok], dj[ok], cost[ok]


def _same_edge_pairs(edges_a: np.ndarray, edges_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``(i, j)`` with ``edges_a[i] == edges_b[j]``."""
    if edges_a.size == 0 or edges_b.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(edges_a, kind="stable")
    sorted_a = edges_a[order]
    lo = np.searchsorted(sorted_a, edges_b, side="left")
    hi = np.searchsorted(sorted_a, edges_b, side="right")
    counts = hi - lo
    j = np.repeat(np.arange(edges_b.size), counts)
    start = np.repeat(lo, counts)
    offset = np.arange(j.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return order[start + offset], j


def _with_sources(
    base: sp.csr_matrix, u: np.ndarray, v: np.ndarray, cu: np.ndarray, cv: np.ndarray
) -> sp.csr_matrix:
    """``base`` plus one new node per source with arcs to ``u`` (cost ``cu``) and ``v`` (``cv``).

    The new rows are appended (no re-sorting of the base arcs): O(arcs) to build.
    """
    n, k = base.shape[0], u.size
    ok_u, ok_v = np.isfinite(cu), np.isfinite(cv)
    counts = ok_u.astype(np.int64) + ok_v
    cols = np.stack([np.where(ok_u, u, -1), np.where(ok_v, v, -1)], axis=1).ravel()
    vals = np.stack([cu, cv], axis=1).ravel()
    keep = cols >= 0
    indptr = np.concatenate([base.indptr.astype(np.int64), base.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([base.indices.astype(np.int32), cols[keep].astype(np.int32)])
    data = np.concatenate([base.data, vals[keep]])
    return sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _base(net: ModeNetwork, weight: Weight, *, reverse: bool) -> sp.csr_matrix:
    """The travel graph of ``weight``, transposed when searching backwards."""
    return net.graph(weight, reverse=reverse)


@dataclass(frozen=True)
class _Problem:
    """One search: sources (appended rows of ``graph``) and targets evaluated from their edge ends."""

    graph: sp.csr_matrix
    n_base: int
    src: _Legs
    tgt: _Legs
    tgt_in_u: np.ndarray  # cost from the target's u end to the target (in search direction)
    tgt_in_v: np.ndarray
    direct_s: np.ndarray  # same-edge pairs: source position, target position, cost
    direct_t: np.ndarray
    direct_c: np.ndarray
    forward: bool  # sources are the origins


def _problem(net: ModeNetwork, orig: Snap, dest: Snap, weight: Weight, *, sources: str) -> _Problem:
    """Search from the origins on the graph or from the destinations on the reversed graph."""
    o, d = _legs(net, orig, weight), _legs(net, dest, weight)
    oi, dj, cost = _same_edge(net, o, d, weight)
    forward = sources == "origins" or (sources == "smaller" and o.size <= d.size)
    base = _base(net, weight, reverse=not forward)
    if forward:
        graph = _with_sources(base, o.u, o.v, o.out_u, o.out_v)
        return _Problem(graph, net.n_nodes, o, d, d.in_u, d.in_v, oi, dj, cost, True)
    graph = _with_sources(base, d.u, d.v, d.in_u, d.in_v)
    return _Problem(graph, net.n_nodes, d, o, o.out_u, o.out_v, dj, oi, cost, False)


def _reach_radius(net: ModeNetwork, limit: float, weight: Weight, access_kmh: float) -> float:
    """Straight-line radius that no path within ``limit`` can leave (exact bound, see module doc)."""
    if weight == "length":
        r = net.stretch * limit
    else:
        vmax = max(net.max_speed_mps, access_kmh / 3.6)
        r = net.stretch * vmax * limit
    return r * (1.0 + 1e-9) + 1e-6


def _spatial_order(xy: np.ndarray, chunk: int) -> np.ndarray:
    """Order points in serpentine strips so consecutive chunks are compact."""
    if xy.shape[0] <= chunk:
        return np.arange(xy.shape[0])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    width = math.sqrt(span[0] * span[1] * chunk / xy.shape[0])
    strip = np.floor((xy[:, 0] - lo[0]) / max(width, 1e-9)).astype(np.int64)
    y = np.where(strip % 2 == 0, xy[:, 1], -xy[:, 1])
    return np.lexsort((y, strip))


@dataclass(frozen=True)
class _Direct:
    """Same-edge trips grouped by source: ``ptr[s]:ptr[s + 1]`` indexes source ``s``'s trips."""

    ptr: np.ndarray
    tgt: np.ndarray
    cost: np.ndarray

    @classmethod
    def of(cls, pb: _Problem) -> _Direct:
        order = np.argsort(pb.direct_s, kind="stable")
        ptr = np.searchsorted(pb.direct_s[order], np.arange(pb.src.size + 1))
        return cls(ptr, pb.direct_t[order], pb.direct_c[order])

    def apply(self, vals: np.ndarray, pick: np.ndarray, tgts: np.ndarray, tgt_pos: np.ndarray) -> None:
        """Lower ``vals`` (sources ``pick`` × targets ``tgts``) to the direct trips where shorter."""
        lo, hi = self.ptr[pick], self.ptr[pick + 1]
        cnt = hi - lo
        if not cnt.any():
            return
        r = np.repeat(np.arange(pick.size), cnt)
        idx = np.repeat(lo, cnt) + np.arange(r.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        tgt_pos[tgts] = np.arange(tgts.size)
        c = tgt_pos[self.tgt[idx]]
        has = c >= 0
        vals[r[has], c[has]] = np.minimum(vals[r[has], c[has]], self.cost[idx][has])
        tgt_pos[tgts] = -1


def _window(
    pb: _Problem, xy: np.ndarray, local: np.ndarray, pick: np.ndarray, radius: float
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]:
    """The part of the graph a chunk of sources can reach: (nodes, subgraph, local index, targets).

    ``local`` maps graph nodes to subgraph rows (``-1`` outside); the caller resets it after use.
    """
    total = xy.shape[0]
    sxy = pb.src.xy[pick]
    (x0, y0), (x1, y1) = sxy.min(axis=0) - radius, sxy.max(axis=0) + radius
    x, y = xy[:, 0], xy[:, 1]
    nodes = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    if nodes.size < 0.6 * total:
        local[nodes] = np.arange(nodes.size)
        sub, loc = pb.graph[nodes][:, nodes], local
    else:
        sub, loc = pb.graph, np.arange(total)
    tx, ty = pb.tgt.xy[:, 0], pb.tgt.xy[:, 1]
    near = (loc[pb.tgt.u] >= 0) | (loc[pb.tgt.v] >= 0)
    inside = near | ((tx >= x0) & (tx <= x1) & (ty >= y0) & (ty <= y1))
    return nodes, sub, loc, np.flatnonzero(inside)


def _chunk_values(
    pb: _Problem, sub: sp.csr_matrix, loc: np.ndarray, pick: np.ndarray, tgts: np.ndarray, limit: float
) -> np.ndarray:
    """Shortest-path values from the sources ``pick`` to the targets ``tgts`` (``inf`` beyond ``limit``)."""
    dist = dijkstra(sub, directed=True, indices=loc[pb.n_base + pick], limit=limit)
    lu_t, lv_t = loc[pb.tgt.u[tgts]], loc[pb.tgt.v[tgts]]
    du = np.where(lu_t >= 0, dist[:, np.maximum(lu_t, 0)], np.inf) + pb.tgt_in_u[tgts]
    dv = np.where(lv_t >= 0, dist[:, np.maximum(lv_t, 0)], np.inf) + pb.tgt_in_v[tgts]
    return np.minimum(du, dv)


def _bounded_pairs(
    pb: _Problem, node_xy: np.ndarray, *, limit: float, radius: float, memory_mb: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source position, target position, value) with a shortest path ``<= limit`` (inclusive)."""
    k_src, k_tgt = pb.src.size, pb.tgt.size
    if k_src == 0 or k_tgt == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    xy = np.concatenate([node_xy, pb.src.xy])
    direct = _Direct.of(pb)
    local = np.full(xy.shape[0], -1, dtype=np.int64)
    tgt_pos = np.full(k_tgt, -1, dtype=np.int64)
    chunk = int(min(64, max(1, memory_mb * 1e6 // (8.0 * xy.shape[0]))))
    order = _spatial_order(pb.src.xy, chunk)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, order.size, chunk):
        pick = order[start : start + chunk]
        nodes, sub, loc, tgts = _window(pb, xy, local, pick, radius)
        if tgts.size:
            vals = _chunk_values(pb, sub, loc, pick, tgts, limit)
            direct.apply(vals, pick, tgts, tgt_pos)
            rr, cc = np.nonzero(vals <= limit)
            out.append((pick[rr], tgts[cc], vals[rr, cc]))
        local[nodes] = -1
    if not out:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def limits(value: float | np.ndarray | None, n: int, what: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = (
        np.broadcast_to(np.asarray(value, dtype=float), (n,))
        if np.ndim(value) == 0
        else np.asarray(value, float)
    )
    if arr.shape != (n,):
        raise NetworkError(
            f"{what} must be a number or one value per demand point ({n}), got shape {arr.shape}."
        )
    if not (np.isfinite(arr).all() and (arr >= 0).all()):
        raise NetworkError(f"{what} must be finite and >= 0 (metres or seconds), got {value!r}.")
    return arr


def od_pairs(
    net: ModeNetwork,
    origins: Snap,
    destinations: Snap,
    *,
    weight: Weight,
    limit: float,
    memory_mb: float = _DEFAULT_MEMORY_MB,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every origin-destination pair within ``limit`` and its shortest-path value.

    Parameters
    ----------
    net
        The mode network the points were snapped to.
    origins, destinations
        Snapped points; travel goes from an origin to a destination (one-way streets respected).
    weight
        ``"length"`` (metres, off-network legs included) or ``"time"`` (seconds, legs at access speed).
    limit
        Cut-off, metres or seconds; must be finite. Inclusive, with the tolerance rule
        (:func:`within`): pairs up to ``limit + TOLERANCE[weight]`` are returned.
    memory_mb
        Budget for one chunk's distance block.

    Returns
    -------
    tuple of arrays
        ``(origin_index, destination_index, value)`` in the points' original order.
    """
    check_snap(net, origins, "origins")
    check_snap(net, destinations, "destinations")
    if not (limit >= 0 and math.isfinite(limit)):
        raise NetworkError(f"The cut-off must be a finite value >= 0, got {limit}.")
    pb = _problem(net, origins, destinations, weight, sources="smaller")
    access_kmh = max(origins.access_kmh, destinations.access_kmh)
    reach = limit + TOLERANCE[weight]
    radius = _reach_radius(net, reach, weight, access_kmh)
    si, ti, vals = _bounded_pairs(pb, net.node_xy, limit=reach, radius=radius, memory_mb=memory_mb)
    if pb.forward:
        return pb.src.rows[si], pb.tgt.rows[ti], vals
    return pb.tgt.rows[ti], pb.src.rows[si], vals


def coverage_matrix(
    net: ModeNetwork,
    demand: Snap,
    sites: Snap,
    *,
    max_distance_m: float | np.ndarray | None,
    max_time_s: float | np.ndarray | None,
    direction: Direction = "to_site",
    memory_mb: float = _DEFAULT_MEMORY_MB,
) -> sp.csr_matrix:
    """Which sites serve which demand points along the roads.

    A demand point is covered by a site when the network distance is ``<= max_distance_m`` OR the
    network time is ``<= max_time_s`` (each along its own shortest path; off-network legs included,
    walked at the snap's access speed), under the tolerance rule of :func:`within`. Unreachable
    points have empty rows or columns.

    Parameters
    ----------
    net
        The mode network both point sets were snapped to.
    demand, sites
        Snapped demand points and sites.
    max_distance_m, max_time_s
        Cut-offs (a number, or one per demand point); ``None`` leaves that reading out. At least one
        is needed.
    direction
        ``"to_site"``: demand travels to the site (pickup); ``"from_site"``: the site travels to the
        demand (delivery). Matters on one-way streets.
    memory_mb
        Budget for one chunk's distance block.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, demand × sites.
    """
    check_snap(net, demand, "demand")
    check_snap(net, sites, "sites")
    if direction not in ("to_site", "from_site"):
        raise NetworkError(f"direction must be 'to_site' or 'from_site', got {direction!r}.")
    n_d, n_s = len(demand), len(sites)
    d_lim = limits(max_distance_m, n_d, "max_distance_m")
    t_lim = limits(max_time_s, n_d, "max_time_s")
    if d_lim is None and t_lim is None:
        raise NetworkError("coverage_matrix needs max_distance_m, max_time_s or both.")
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    readings: list[tuple[Weight, np.ndarray | None]] = [("length", d_lim), ("time", t_lim)]
    for weight, lim in readings:
        if lim is None or lim.size == 0:
            continue
        top = float(lim.max())
        if direction == "to_site":
            di, si, vals = od_pairs(net, demand, sites, weight=weight, limit=top, memory_mb=memory_mb)
        else:
            si, di, vals = od_pairs(net, sites, demand, weight=weight, limit=top, memory_mb=memory_mb)
        keep = within(vals, lim[di], weight)
        rows.append(di[keep])
        cols.append(si[keep])
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, np.int64)
    mat = sp.csr_matrix((np.ones(r.size, dtype=bool), (r, c)), shape=(n_d, n_s))
    mat.sum_duplicates()
    mat.data[:] = True
    logger.info("coverage[%s]: %d demand x %d sites, %d covered pairs", net.mode.name, n_d, n_s, int(mat.nnz))
    return mat


@dataclass(frozen=True)
class Nearest:
    """Nearest site per demand point along the roads.

    Attributes
    ----------
    distance_m
        Shortest network distance to any site (``inf`` where none is reachable).
    time_s
        Shortest network time to any site (``inf`` where none).
    site_by_distance, site_by_time
        Index of that site (``-1`` where none). The nearest by distance and by time may differ.
    """

    distance_m: np.ndarray
    time_s: np.ndarray
    site_by_distance: np.ndarray
    site_by_time: np.ndarray


def nearest_facility(
    net: ModeNetwork,
    demand: Snap,
    sites: Snap,
    *,
    direction: Direction = "to_site",
) -> Nearest:
    """Network distance and time from every demand point to its nearest site (one multi-source search).

    Parameters
    ----------
    net
        The mode network both point sets were snapped to.
    demand, sites
        Snapped demand points and sites.
    direction
        ``"to_site"`` (demand travels) or ``"from_site"`` (the site travels).
    """
    check_snap(net, demand, "demand")
    check_snap(net, sites, "sites")
    if direction not in ("to_site", "from_site"):
        raise NetworkError(f"direction must be 'to_site' or 'from_site', got {direction!r}.")
    by_length = _nearest_one(net, demand, sites, "length", direction)
    by_time = _nearest_one(net, demand, sites, "time", direction)
    return Nearest(
        distance_m=by_length[0], time_s=by_time[0], site_by_distance=by_length[1], site_by_time=by_time[1]
    )


def _nearest_one(
    net: ModeNetwork, demand: Snap, sites: Snap, weight: Weight, direction: Direction
) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source search from every site: value and index of the nearest site per demand point."""
    n_d = len(demand)
    val = np.full(n_d, np.inf)
    idx = np.full(n_d, -1, dtype=np.int64)
    if direction == "to_site":
        pb = _problem(net, demand, sites, weight, sources="destinations")
    else:
        pb = _problem(net, sites, demand, weight, sources="origins")
    if pb.src.size == 0 or pb.tgt.size == 0:
        return val, idx
    n = pb.n_base
    dist, _, label = dijkstra(
        pb.graph, directed=True, indices=n + np.arange(pb.src.size), min_only=True, return_predecessors=True
    )
    du = dist[pb.tgt.u] + pb.tgt_in_u
    dv = dist[pb.tgt.v] + pb.tgt_in_v
    best = np.minimum(du, dv)
    which = np.where(du <= dv, label[pb.tgt.u], label[pb.tgt.v]) - n
    if pb.direct_c.size:  # a site on the demand's own edge may be nearer straight along it
        order = np.lexsort((pb.direct_c, pb.direct_t))
        t, first = np.unique(pb.direct_t[order], return_index=True)
        c, s = pb.direct_c[order][first], pb.direct_s[order][first]
        better = c < best[t]
        best[t[better]] = c[better]
        which[t[better]] = s[better]
    ok = np.isfinite(best)
    val[pb.tgt.rows[ok]] = best[ok]
    idx[pb.tgt.rows[ok]] = pb.src.rows[which[ok]]
    return val, idx


def distances_from_each(
    net: ModeNetwork, snap: Snap, weight: Weight, limit: float, *, to_site: bool
) -> Iterator[tuple[int, np.ndarray, float]]:
    """One bounded search per reachable snapped point (used to draw service areas).

    Yields ``(row, dist, access)``: the point's row in ``snap``, the ``weight`` from every graph node to
    the point (``to_site``; backwards search) or from the point to every node, ``inf`` beyond
    ``limit``, and the point's own access leg.
    """
    legs = _legs(net, snap, weight)
    in_u, in_v = (legs.in_u, legs.in_v) if to_site else (legs.out_u, legs.out_v)
    graph = _with_sources(_base(net, weight, reverse=to_site), legs.u, legs.v, in_u, in_v)
    for k in range(legs.size):
        dist = dijkstra(graph, directed=True, indices=net.n_nodes + k, limit=limit)[: net.n_nodes]
        yield int(legs.rows[k]), dist, float(legs.a[k])


def distances_from_groups(
    net: ModeNetwork, snap: Snap, weight: Weight, limit: float, *, to_site: bool, groups: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """One bounded multi-source search per group of snapped points (service areas of many sites).

    ``groups`` gives each row of ``snap`` a group number (0 … g-1). Yields ``(group, dist, rows,
    access)`` for each group with a reachable point: the ``weight`` from every graph node to the
    group's nearest point (``to_site``) or from its nearest point to every node, ``inf`` beyond
    ``limit``; the group's rows in ``snap`` and their access legs. The union of the points' own
    reaches is the reach of this minimum (a node is within ``limit`` of some point iff its minimum is).
    """
    legs = _legs(net, snap, weight)
    in_u, in_v = (legs.in_u, legs.in_v) if to_site else (legs.out_u, legs.out_v)
    graph = _with_sources(_base(net, weight, reverse=to_site), legs.u, legs.v, in_u, in_v)
    of_leg = np.asarray(groups)[legs.rows]
    for g in np.unique(of_leg):
        ks = np.flatnonzero(of_leg == g)
        dist = dijkstra(graph, directed=True, indices=net.n_nodes + ks, limit=limit, min_only=True)
        yield int(g), dist[: net.n_nodes], legs.rows[ks], legs.a[ks]
