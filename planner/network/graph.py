"""Road graph → sparse travel-distance and travel-time graphs of one travel mode.

:func:`build_mode_network` turns an osmnx-style ``MultiDiGraph`` (WGS-84 node ``x``/``y``, edge
``highway``, ``oneway``, ``length``, ``maxspeed``, optional ``geometry``) and a travel mode
(:mod:`planner.network.modes`) into a :class:`ModeNetwork`: the largest strongly connected part of the
mode's graph, simplified exactly (:mod:`planner.network.simplify`), as two scipy CSR matrices (metres
and seconds) over the junction nodes, and the *physical edges* (one per road piece, with the directions
the mode may travel it) that points snap to (:mod:`planner.network.snap`).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from planner.errors import CRSError, NetworkError, Problem
from planner.inputs.roadtable import RoadTable, table_from_graph
from planner.network.modes import ModeSpec, mode_speeds
from planner.network.simplify import Chains, EdgeLines, line_lengths, merge_chains, ranges

__all__ = ["EdgeLines", "ModeNetwork", "build_mode_network", "build_mode_networks", "edge_lines"]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# The network of one travel mode
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeNetwork:
    """The usable road network of one travel mode, in the work CRS.

    Attributes
    ----------
    mode
        The travel mode.
    crs
        The work CRS (projected, metres).
    node_ids
        Original graph node ids of the kept nodes; graph index ``i`` is ``node_ids[i]``.
    node_xy
        ``(n, 2)`` node coordinates in the work CRS.
    length
        CSR ``n × n`` arc lengths in metres (the shortest of parallel arcs).
    time
        CSR ``n × n`` arc travel times in seconds (the quickest of parallel arcs).
    edge_u, edge_v
        Graph indices of the physical edges' end nodes, in the direction of ``edge_geometry``.
    edge_length_m
        OSM length of each physical edge.
    edge_fwd_s, edge_bwd_s
        Travel time of each physical edge ``u → v`` and ``v → u``; ``inf`` where the mode may not
        travel that way (one-way streets).
    edge_geometry
        LineStrings of the physical edges in the work CRS, ``u`` to ``v``.
    bp_ptr, bp_geom, bp_len, bp_fwd, bp_bwd
        Breakpoints of the edges merged by simplification (:class:`planner.network.simplify.Chains`):
        drawn length, OSM length and travel times from ``u`` at every merged node.
    nodes_in, edges_in
        Nodes and usable directed edges of the input graph for this mode before the largest strongly
        connected part was taken.
    nodes_dropped, edges_dropped
        How many of them lie outside the largest strongly connected part.
    edges_excluded
        Input edges the mode may not use (by class), counted per class label.
    stretch
        Largest ratio of geometry length to OSM length over the edges (≥ 1); bounds how far, in
        straight line, a network distance can carry (used to prune searches exactly).
    nodes_merged
        Nodes removed by simplification (not junctions: two road pieces, same travel directions).
    """

    mode: ModeSpec
    crs: CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    length: sp.csr_matrix
    time: sp.csr_matrix
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_fwd_s: np.ndarray
    edge_bwd_s: np.ndarray
    edge_geometry: np.ndarray
    bp_ptr: np.ndarray
    bp_geom: np.ndarray
    bp_len: np.ndarray
    bp_fwd: np.ndarray
    bp_bwd: np.ndarray
    nodes_in: int
    edges_in: int
    nodes_dropped: int
    edges_dropped: int
    edges_excluded: Mapping[str, int]
    stretch: float
    nodes_merged: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes kept."""
        return int(self.node_xy.shape[0])

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs in the travel graphs."""
        return int(self.length.nnz)

    @property
    def n_edges(self) -> int:
        """Number of physical edges points can snap to."""
        return int(self.edge_u.shape[0])

    @property
    def max_speed_mps(self) -> float:
        """Fastest speed of the mode on any stretch of road in this network, m/s."""
        valid = np.ones(max(self.bp_len.size - 1, 0), dtype=bool)
        valid[self.bp_ptr[1:-1] - 1] = False  # from one edge's last breakpoint to the next edge's first
        dl = np.diff(self.bp_len)[valid]
        top = 0.0
        for cum in (self.bp_fwd, self.bp_bwd):
            dt = np.diff(cum)[valid]
            with np.errstate(divide="ignore", invalid="ignore"):
                speed = np.where(dt > 0, dl / np.where(dt > 0, dt, 1.0), np.where(dl > 0, 0.0, 0.0))
            top = max(top, float(speed.max(initial=0.0)))
        return top

    @cached_property
    def digest(self) -> str:
        """A content hash of the travel graphs and edges (keys cached coverage matrices)."""
        h = hashlib.sha256(self.mode.to_json().encode())
        h.update(self.crs.to_wkt().encode())
        names = (
            "node_xy",
            "edge_u",
            "edge_v",
            "edge_length_m",
            "edge_fwd_s",
            "edge_bwd_s",
            "bp_geom",
            "bp_len",
            "bp_fwd",
            "bp_bwd",
        )
        arrays = [getattr(self, k) for k in names]
        for a in (*arrays, self.length.indptr, self.length.indices, self.length.data, self.time.data):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:24]

    @cached_property
    def bounds(self) -> np.ndarray:
        """``[xmin, ymin, xmax, ymax]`` of the edges, work CRS."""
        return np.asarray(shapely.total_bounds(self.edge_geometry))

    def summary(self) -> str:
        """One line: mode, nodes and edges kept and dropped."""
        excluded = sum(self.edges_excluded.values())
        return (
            f"network[{self.mode.name}]: {self.n_nodes:,} nodes, {self.n_arcs:,} arcs, "
            f"{self.n_edges:,} snappable edges ({self.nodes_merged:,} non-junction nodes merged); "
            "largest strongly connected part kept, "
            f"{self.nodes_dropped:,} of {self.nodes_in:,} nodes and {self.edges_dropped:,} of "
            f"{self.edges_in:,} edges dropped; {excluded:,} edges not usable by {self.mode.name}"
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the arrays only; the derived values (digest, index, reversed graphs) are rebuilt."""
        return {k: v for k, v in self.__dict__.items() if k not in _DERIVED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometry)

    def strtree(self) -> shapely.STRtree:
        """The spatial index of the edge geometries (built once)."""
        return self._tree

    @cached_property
    def _length_reversed(self) -> sp.csr_matrix:
        return self.length.T.tocsr()

    @cached_property
    def _time_reversed(self) -> sp.csr_matrix:
        return self.time.T.tocsr()

    def graph(self, weight: str, *, reverse: bool = False) -> sp.csr_matrix:
        """The travel graph of ``weight`` (``"length"`` or ``"time"``), transposed for backward searches."""
        if weight == "length":
            return self._length_reversed if reverse else self.length
        return self._time_reversed if reverse else self.time


#: Values a :class:`ModeNetwork` derives from its arrays on first use (not pickled).
_DERIVED = frozenset({"digest", "bounds", "_tree", "_length_reversed", "_time_reversed"})


def fail(
    cls: type[Exception], message: str, problem: str, *, fix: str | None = None, location: str | None = None
) -> Exception:
    """An error of ``cls`` (a :class:`PlannerError`) carrying one :class:`Problem`."""
    return cls(message, [Problem(problem, location=location, fix=fix)])


def _check_work_crs(crs: Any, *, what: str) -> CRS:
    try:
        work = CRS.from_user_input(crs)
    except Exception as exc:
        msg = f"{what}: cannot read the CRS {crs!r} ({exc})."
        raise fail(
            CRSError, msg, "The work CRS must be projected, in metres.", fix="Pass e.g. EPSG:326xx."
        ) from exc
    if not work.is_projected:
        msg = f"{what}: the CRS {work.name!r} is geographic (degrees); distances in degrees are meaningless."
        raise fail(CRSError, msg, "Distance work needs a projected CRS in metres.", fix="Use the UTM zone.")
    unit = work.axis_info[0].unit_name if work.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        raise CRSError(f"{what}: the CRS {work.name!r} has unit {unit!r}; a CRS in metres is needed.")
    return work


@dataclass(frozen=True)
class _Edges:
    """Physical edges of a mode before the largest strongly connected part is taken.

    ``src`` is the table row each edge comes from (its geometry); ``fwd``/``bwd`` are seconds
    (``inf`` where the mode may not travel that way).
    """

    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    fwd: np.ndarray
    bwd: np.ndarray
    src: np.ndarray

    def take(self, keep: np.ndarray, new_index: np.ndarray) -> _Edges:
        return _Edges(
            new_index[self.u[keep]],
            new_index[self.v[keep]],
            self.length[keep],
            self.fwd[keep],
            self.bwd[keep],
            self.src[keep],
        )


def build_mode_network(
    roads: RoadTable | nx.MultiDiGraph, *, crs: Any, mode: ModeSpec, simplify: bool = True
) -> ModeNetwork:
    """Build the travel graphs of one mode from a road table or an osmnx-style road graph.

    Parameters
    ----------
    roads
        A :class:`~planner.inputs.roadtable.RoadTable` (what :func:`planner.inputs.roads.read_road_table`
        returns), or a road graph: graph attribute ``crs`` (default WGS-84), node ``x``/``y``, edge
        ``highway`` (string or list), ``oneway``, ``length`` (metres), ``maxspeed``, optional
        ``geometry`` (shapely LineString or WKT in the graph CRS), optional ``route`` (``ferry``).
    crs
        The work CRS, projected, in metres.
    mode
        The travel mode.
    simplify
        Merge chains of edges through nodes that are not junctions for this mode (exact: see
        :mod:`planner.network.simplify`).

    Returns
    -------
    ModeNetwork
        The largest strongly connected part of the mode's graph.

    Raises
    ------
    CRSError
        The work CRS is geographic or not in metres; the graph's CRS cannot be read.
    NetworkError
        The graph has no nodes, nodes without coordinates, bad lengths, or no usable roads for the mode.
    """
    work = _check_work_crs(crs, what=f"road network ({mode.name})")
    table = roads if isinstance(roads, RoadTable) else table_from_graph(roads)
    node_xy, to_work = _project_nodes(table, work)
    return _build(table, work, node_xy, edge_lines(table, node_xy, to_work), mode, simplify=simplify)


def build_mode_networks(
    roads: RoadTable | nx.MultiDiGraph, *, crs: Any, modes: Sequence[ModeSpec], simplify: bool = True
) -> dict[str, ModeNetwork]:
    """:func:`build_mode_network` for several modes, projecting the roads and their lines once."""
    work = _check_work_crs(crs, what="road network")
    table = roads if isinstance(roads, RoadTable) else table_from_graph(roads)
    node_xy, to_work = _project_nodes(table, work)
    lines = edge_lines(table, node_xy, to_work)
    return {m.name: _build(table, work, node_xy, lines, m, simplify=simplify) for m in modes}


def _build(
    table: RoadTable, work: CRS, node_xy_all: np.ndarray, lines: EdgeLines, mode: ModeSpec, *, simplify: bool
) -> ModeNetwork:
    speed, excluded = mode_speeds(table, mode)
    edges = _physical_edges(table, speed, excluded, mode)
    keep_node, keep_edge, edges_in, used_nodes = _largest_part(edges, table.n_nodes)
    new_index = np.full(table.n_nodes, -1, dtype=np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    kept = edges.take(keep_edge, new_index)
    node_xy = node_xy_all[keep_node]
    # stretch: the largest ratio of drawn (or chord) length to OSM length; bounds straight-line reach
    drawn = np.maximum(lines.length[kept.src], np.hypot(*(node_xy[kept.u] - node_xy[kept.v]).T))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(kept.length > 0, drawn / kept.length, np.where(drawn > 1e-6, np.inf, 1.0))
    stretch = float(max(1.0, np.max(ratio, initial=1.0)))
    n = int(keep_node.sum())
    ch = merge_chains(
        kept.u, kept.v, kept.length, kept.fwd, kept.bwd, lines=(lines, kept.src), n_nodes=n, simplify=simplify
    )
    n_junctions = int(ch.junction.sum())
    nodes_in = int(used_nodes.sum())
    net = _assemble_network(
        mode,
        work,
        ch,
        node_ids=table.node_id[np.flatnonzero(keep_node)[ch.junction]],
        node_xy=node_xy[ch.junction],
        counts={
            "nodes_in": nodes_in,
            "edges_in": edges_in,
            "nodes_dropped": nodes_in - n,
            "edges_dropped": edges_in - int(np.isfinite(kept.fwd).sum() + np.isfinite(kept.bwd).sum()),
            "nodes_merged": n - n_junctions,
        },
        excluded=excluded,
        stretch=stretch,
    )
    logger.info(net.summary())
    return net


def _project_nodes(table: RoadTable, work: CRS) -> tuple[np.ndarray, Transformer]:
    """Node coordinates in the work CRS and the transformer from the table's CRS."""
    try:
        table_crs = CRS.from_user_input(table.crs)
    except Exception as exc:
        raise CRSError(f"road graph: cannot read its CRS {table.crs!r} ({exc}).") from exc
    if table.n_nodes == 0:
        raise fail(
            NetworkError,
            "The road graph is empty.",
            "No nodes in the road graph.",
            fix="Check the roads file.",
        )
    missing = np.flatnonzero(~(np.isfinite(table.x) & np.isfinite(table.y)))
    if missing.size:
        msg = (
            f"{missing.size} nodes lack numeric x/y coordinates (e.g. {table.node_id[missing[:3]].tolist()})."
        )
        raise fail(
            NetworkError, "The road graph is unusable", msg, location="nodes.x/y", fix="Use osmnx graphs."
        )
    to_work = Transformer.from_crs(table_crs, work, always_xy=True)
    x, y = to_work.transform(table.x, table.y)
    node_xy = np.column_stack([x, y])
    if not np.isfinite(node_xy).all():
        msg = f"road graph: node coordinates cannot be projected from {table_crs.name!r} to {work.name!r}."
        raise fail(CRSError, msg, "Node x/y must be lon/lat in the graph's CRS.", location="nodes.x/y")
    return node_xy, to_work


def _physical_edges(table: RoadTable, speed: np.ndarray, excluded: dict[str, int], mode: ModeSpec) -> _Edges:
    """The edges ``mode`` may use, one per road piece (the two directions of a street merged)."""
    usable = np.isfinite(speed)
    length = table.length
    bad = usable & ~(np.isfinite(length) & (length >= 0))
    if bad.any():
        msg = f"{int(bad.sum())} edges have a missing, negative or non-numeric 'length'."
        fix = "Lengths are metres; osmnx adds them (ox.distance.add_edge_lengths)."
        raise fail(NetworkError, "The road graph is unusable", msg, location="edges.length", fix=fix)
    if not usable.any():
        by_class = ", ".join(f"{k or '(no highway tag)'}: {n}" for k, n in sorted(excluded.items()))
        msg = f"All {table.n_edges} edges are excluded for {mode.name} ({by_class or 'no edges'})."
        fix = f"Use a roads file with ways {mode.name} may travel, or change the mode's excluded classes."
        head = f"The road network has no roads usable by mode {mode.name!r}."
        raise fail(NetworkError, head, msg, location="edges.highway", fix=fix)
    idx = np.flatnonzero(usable)
    eu, ev, elen = table.u[idx], table.v[idx], length[idx]
    seconds = elen / (speed[idx] / 3.6)
    direction = table.oneway[idx] if mode.respect_oneway else np.zeros(idx.size, dtype=np.int8)
    fwd = np.where(direction >= 0, seconds, math.inf)
    bwd = np.where(direction <= 0, seconds, math.inf)
    return _merge_directions(_Edges(eu, ev, elen, fwd, bwd, idx))


def _merge_directions(e: _Edges) -> _Edges:
    """One physical edge per road piece: rows joining the same two nodes with the same length (to the
    centimetre) are the directions of one piece; the first row stands for it, with the quickest time
    each way. Self-loops are kept as they are.
    """
    pos = np.arange(e.u.size)
    loop = e.u == e.v
    lo, hi = np.minimum(e.u, e.v), np.maximum(e.u, e.v)
    rounded = np.array([round(x, 2) for x in e.length.tolist()])
    order = np.lexsort((pos, rounded, hi, lo))
    so = order[~loop[order]]
    start = np.ones(so.size, dtype=bool)
    start[1:] = (
        (lo[so][1:] != lo[so][:-1]) | (hi[so][1:] != hi[so][:-1]) | (rounded[so][1:] != rounded[so][:-1])
    )
    rep = pos.copy()
    rep[so] = so[start][np.cumsum(start) - 1]
    same = e.u == e.u[rep]
    fwd, bwd = e.fwd.copy(), e.bwd.copy()
    np.minimum.at(fwd, rep, np.where(same, e.fwd, e.bwd))
    np.minimum.at(bwd, rep, np.where(same, e.bwd, e.fwd))
    keep = rep == pos
    return _Edges(e.u[keep], e.v[keep], e.length[keep], fwd[keep], bwd[keep], e.src[keep])


def _largest_part(e: _Edges, n_all: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The largest strongly connected part: (kept nodes, kept edges, usable arcs in, used nodes)."""
    fwd_ok, bwd_ok = np.isfinite(e.fwd), np.isfinite(e.bwd)
    edges_in = int(fwd_ok.sum() + bwd_ok.sum())
    arcs_u = np.concatenate([e.u[fwd_ok], e.v[bwd_ok]])
    arcs_v = np.concatenate([e.v[fwd_ok], e.u[bwd_ok]])
    used_nodes = np.zeros(n_all, dtype=bool)
    used_nodes[e.u] = True
    used_nodes[e.v] = True
    adj = sp.csr_matrix((np.ones(arcs_u.size), (arcs_u, arcs_v)), shape=(n_all, n_all))
    _, labels = connected_components(adj, directed=True, connection="strong")
    biggest = int(np.argmax(np.bincount(labels[used_nodes])))
    keep_node = (labels == biggest) & used_nodes
    return keep_node, keep_node[e.u] & keep_node[e.v], edges_in, used_nodes


def _assemble_network(
    mode: ModeSpec,
    work: CRS,
    ch: Chains,
    *,
    node_ids: np.ndarray,
    node_xy: np.ndarray,
    counts: dict[str, int],
    excluded: dict[str, int],
    stretch: float,
) -> ModeNetwork:
    """The :class:`ModeNetwork` of the merged chains: CSR travel graphs over the junctions."""
    n = int(ch.junction.sum())
    junction_index = np.full(ch.junction.size, -1, dtype=np.int64)
    junction_index[ch.junction] = np.arange(n)
    eu, ev = junction_index[ch.u], junction_index[ch.v]
    fwd_ok, bwd_ok = np.isfinite(ch.fwd_s), np.isfinite(ch.bwd_s)
    au = np.concatenate([eu[fwd_ok], ev[bwd_ok]])
    av = np.concatenate([ev[fwd_ok], eu[bwd_ok]])
    alen = np.concatenate([ch.length[fwd_ok], ch.length[bwd_ok]])
    atime = np.concatenate([ch.fwd_s[fwd_ok], ch.bwd_s[bwd_ok]])
    loop = au == av
    return ModeNetwork(
        mode=mode,
        crs=work,
        node_ids=node_ids,
        node_xy=node_xy,
        length=_min_csr(au[~loop], av[~loop], alen[~loop], n),
        time=_min_csr(au[~loop], av[~loop], atime[~loop], n),
        edge_u=eu,
        edge_v=ev,
        edge_length_m=ch.length,
        edge_fwd_s=ch.fwd_s,
        edge_bwd_s=ch.bwd_s,
        edge_geometry=ch.geometry,
        bp_ptr=ch.bp_ptr,
        bp_geom=ch.bp_geom,
        bp_len=ch.bp_len,
        bp_fwd=ch.bp_fwd,
        bp_bwd=ch.bp_bwd,
        edges_excluded=dict(sorted(excluded.items())),
        stretch=stretch,
        **counts,
    )


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR matrix keeping the minimum weight of duplicate ``(u, v)`` arcs (explicit zeros kept)."""
    if u.size == 0:
        return sp.csr_matrix((n, n))
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    indptr = np.cumsum(indptr)
    return sp.csr_matrix((w, v, indptr), shape=(n, n))


def edge_lines(table: RoadTable, node_xy: np.ndarray, to_work: Transformer) -> EdgeLines:
    """The rows' lines in the work CRS (see :class:`EdgeLines`)."""
    counts = np.diff(table.geom_ptr)
    has = counts >= 2
    eu, ev = table.u, table.v
    gx, gy = to_work.transform(table.geom_xy[:, 0], table.geom_xy[:, 1])
    gxy = np.column_stack([gx, gy]) if table.geom_xy.size else np.zeros((0, 2))
    first, last = table.geom_ptr[:-1], table.geom_ptr[1:] - 1
    # orient each drawn line from u to v (osmnx stores them so; be safe with hand-made graphs)
    idx = np.flatnonzero(has)
    starts, ends = gxy[first[idx]], gxy[last[idx]]
    d_fwd = np.hypot(*(starts - node_xy[eu[idx]]).T) + np.hypot(*(ends - node_xy[ev[idx]]).T)
    d_rev = np.hypot(*(starts - node_xy[ev[idx]]).T) + np.hypot(*(ends - node_xy[eu[idx]]).T)
    flip = np.zeros(table.n_edges, dtype=bool)
    flip[idx] = d_rev < d_fwd
    n_pts = np.where(has, counts, 2)
    ptr = np.concatenate([[0], np.cumsum(n_pts)]).astype(np.int64)
    xy = np.empty((int(ptr[-1]), 2))
    xy[ranges(ptr[:-1][has], ptr[1:][has])] = gxy[ranges(first[has], last[has] + 1, flip[has])]
    # pin the ends to the nodes (coordinate rounding leaves mm gaps; merged chains must join up)
    xy[ptr[:-1]], xy[ptr[1:] - 1] = node_xy[eu], node_xy[ev]
    return EdgeLines(ptr, xy, line_lengths(ptr, xy))
