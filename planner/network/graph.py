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
from collections.abc import Mapping
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
from planner.network.modes import (
    ModeSpec,
    edge_speed_kmh,
    parse_oneway,
)
from planner.network.simplify import merge_chains

__all__ = ["ModeNetwork", "build_mode_network"]

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


def build_mode_network(
    roads: nx.MultiDiGraph, *, crs: Any, mode: ModeSpec, simplify: bool = True
) -> ModeNetwork:
    """Build the travel graphs of one mode from an osmnx-style road graph.

    Parameters
    ----------
    roads
        Road graph: graph attribute ``crs`` (default WGS-84), node ``x``/``y``, edge ``highway``
        (string or list), ``oneway``, ``length`` (metres), ``maxspeed``, optional ``geometry``
        (shapely LineString in the graph CRS), optional ``route`` (``ferry``).
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
    graph_crs_value = roads.graph.get("crs", "EPSG:4326")
    try:
        graph_crs = CRS.from_user_input(graph_crs_value)
    except Exception as exc:
        raise CRSError(f"road graph: cannot read its CRS {graph_crs_value!r} ({exc}).") from exc

    if roads.number_of_nodes() == 0:
        raise fail(
            NetworkError,
            "The road graph is empty.",
            "No nodes in the road graph.",
            fix="Check the roads file.",
        )
    node_list = list(roads.nodes)
    index = {n: i for i, n in enumerate(node_list)}
    lon = np.empty(len(node_list))
    lat = np.empty(len(node_list))
    missing_xy = []
    for i, (_, d) in enumerate(roads.nodes(data=True)):
        try:
            lon[i] = float(d["x"])
            lat[i] = float(d["y"])
        except (KeyError, TypeError, ValueError):
            missing_xy.append(node_list[i])
    if missing_xy:
        msg = f"{len(missing_xy)} nodes lack numeric x/y coordinates (e.g. {missing_xy[:3]})."
        raise fail(
            NetworkError, "The road graph is unusable", msg, location="nodes.x/y", fix="Use osmnx graphs."
        )
    to_work = Transformer.from_crs(graph_crs, work, always_xy=True)
    x, y = to_work.transform(lon, lat)
    node_xy_all = np.column_stack([x, y])
    if not np.isfinite(node_xy_all).all():
        msg = f"road graph: node coordinates cannot be projected from {graph_crs.name!r} to {work.name!r}."
        raise fail(CRSError, msg, "Node x/y must be lon/lat in the graph's CRS.", location="nodes.x/y")

    # --- one pass over the edges: usable directed edges and physical edges -------------------------
    speed_cache: dict[Any, float | None] = {}
    excluded: dict[str, int] = {}
    phys_key: dict[tuple[int, int, float], int] = {}
    e_u: list[int] = []
    e_v: list[int] = []
    e_len: list[float] = []
    e_fwd: list[float] = []
    e_bwd: list[float] = []
    e_geom: list[Any] = []
    bad_length = 0
    for u, v, d in roads.edges(data=True):
        speed, label = edge_speed_kmh(d, mode, speed_cache)
        if speed is None:
            excluded[label] = excluded.get(label, 0) + 1
            continue
        try:
            length = float(d["length"])
        except (KeyError, TypeError, ValueError):
            length = float("nan")
        if not (math.isfinite(length) and length >= 0):
            bad_length += 1
            continue
        iu, iv = index[u], index[v]
        seconds = length / (speed / 3.6)
        direction = parse_oneway(d.get("oneway", False)) if mode.respect_oneway else 0
        fwd = seconds if direction >= 0 else math.inf
        bwd = seconds if direction <= 0 else math.inf
        if iu != iv:
            key = (min(iu, iv), max(iu, iv), round(length, 2))
            j = phys_key.get(key)
            if j is not None:
                if e_u[j] == iu:
                    e_fwd[j], e_bwd[j] = min(e_fwd[j], fwd), min(e_bwd[j], bwd)
                else:
                    e_fwd[j], e_bwd[j] = min(e_fwd[j], bwd), min(e_bwd[j], fwd)
                continue
            phys_key[key] = len(e_u)
        e_u.append(iu)
        e_v.append(iv)
        e_len.append(length)
        e_fwd.append(fwd)
        e_bwd.append(bwd)
        e_geom.append(d.get("geometry"))
    if bad_length:
        msg = f"{bad_length} edges have a missing, negative or non-numeric 'length'."
        fix = "Lengths are metres; osmnx adds them (ox.distance.add_edge_lengths)."
        raise fail(NetworkError, "The road graph is unusable", msg, location="edges.length", fix=fix)
    if not e_u:
        by_class = ", ".join(f"{k or '(no highway tag)'}: {n}" for k, n in sorted(excluded.items()))
        msg = f"All {roads.number_of_edges()} edges are excluded for {mode.name} ({by_class or 'no edges'})."
        fix = f"Use a roads file with ways {mode.name} may travel, or change the mode's excluded classes."
        head = f"The road network has no roads usable by mode {mode.name!r}."
        raise fail(NetworkError, head, msg, location="edges.highway", fix=fix)

    eu = np.asarray(e_u, dtype=np.int64)
    ev = np.asarray(e_v, dtype=np.int64)
    elen = np.asarray(e_len, dtype=float)
    efwd = np.asarray(e_fwd, dtype=float)
    ebwd = np.asarray(e_bwd, dtype=float)

    # --- largest strongly connected part ----------------------------------------------------------
    n_all = len(node_list)
    edges_in = int(np.isfinite(efwd).sum() + np.isfinite(ebwd).sum())
    arcs_u = np.concatenate([eu[np.isfinite(efwd)], ev[np.isfinite(ebwd)]])
    arcs_v = np.concatenate([ev[np.isfinite(efwd)], eu[np.isfinite(ebwd)]])
    used_nodes = np.zeros(n_all, dtype=bool)
    used_nodes[eu] = True
    used_nodes[ev] = True
    adj = sp.csr_matrix((np.ones(arcs_u.size), (arcs_u, arcs_v)), shape=(n_all, n_all))
    _, labels = connected_components(adj, directed=True, connection="strong")
    counts = np.bincount(labels[used_nodes])
    biggest = int(np.argmax(counts))
    keep_node = (labels == biggest) & used_nodes
    keep_edge = keep_node[eu] & keep_node[ev]
    new_index = np.full(n_all, -1, dtype=np.int64)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    n = int(keep_node.sum())
    eu, ev = new_index[eu[keep_edge]], new_index[ev[keep_edge]]
    elen, efwd, ebwd = elen[keep_edge], efwd[keep_edge], ebwd[keep_edge]
    kept_geoms = [g for g, k in zip(e_geom, keep_edge, strict=True) if k]
    node_xy = node_xy_all[keep_node]

    # --- geometries in the work CRS ----------------------------------------------------------------
    geoms = _edge_geometries(kept_geoms, eu, ev, node_xy, to_work)

    # stretch: the largest ratio of drawn (or chord) length to OSM length; bounds straight-line reach
    drawn = np.maximum(shapely.length(geoms), np.hypot(*(node_xy[eu] - node_xy[ev]).T))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(elen > 0, drawn / elen, np.where(drawn > 1e-6, np.inf, 1.0))
    stretch = float(max(1.0, np.max(ratio, initial=1.0)))
    arcs_kept = int(np.isfinite(efwd).sum() + np.isfinite(ebwd).sum())

    # --- merge chains through non-junction nodes, then the CSR travel graphs ------------------------
    ch = merge_chains(eu, ev, elen, efwd, ebwd, geoms, n, simplify=simplify)
    junction_index = np.full(n, -1, dtype=np.int64)
    junction_index[ch.junction] = np.arange(int(ch.junction.sum()))
    kept_ids = np.flatnonzero(keep_node)[ch.junction]
    node_xy = node_xy[ch.junction]
    eu, ev, elen, efwd, ebwd = junction_index[ch.u], junction_index[ch.v], ch.length, ch.fwd_s, ch.bwd_s
    n_merged, n = n - int(ch.junction.sum()), int(ch.junction.sum())
    fwd_ok, bwd_ok = np.isfinite(efwd), np.isfinite(ebwd)
    au = np.concatenate([eu[fwd_ok], ev[bwd_ok]])
    av = np.concatenate([ev[fwd_ok], eu[bwd_ok]])
    alen = np.concatenate([elen[fwd_ok], elen[bwd_ok]])
    atime = np.concatenate([efwd[fwd_ok], ebwd[bwd_ok]])
    loop = au == av
    length_csr = _min_csr(au[~loop], av[~loop], alen[~loop], n)
    time_csr = _min_csr(au[~loop], av[~loop], atime[~loop], n)

    net = ModeNetwork(
        mode=mode,
        crs=work,
        node_ids=_id_array([node_list[i] for i in kept_ids]),
        node_xy=node_xy,
        length=length_csr,
        time=time_csr,
        edge_u=eu,
        edge_v=ev,
        edge_length_m=elen,
        edge_fwd_s=efwd,
        edge_bwd_s=ebwd,
        edge_geometry=ch.geometry,
        bp_ptr=ch.bp_ptr,
        bp_geom=ch.bp_geom,
        bp_len=ch.bp_len,
        bp_fwd=ch.bp_fwd,
        bp_bwd=ch.bp_bwd,
        nodes_in=int(used_nodes.sum()),
        edges_in=edges_in,
        nodes_dropped=int(used_nodes.sum()) - n - n_merged,
        edges_dropped=edges_in - arcs_kept,
        nodes_merged=n_merged,
        edges_excluded=dict(sorted(excluded.items())),
        stretch=stretch,
    )
    logger.info(net.summary())
    return net


def _id_array(ids: list[Any]) -> np.ndarray:
    if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64)
    return np.asarray([str(i) for i in ids], dtype=str)


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


def _as_line(geom: Any) -> shapely.LineString | None:
    """A non-empty LineString from a shapely geometry or WKT text (plain GraphML), else ``None``."""
    if isinstance(geom, str):
        try:
            geom = shapely.from_wkt(geom)
        except shapely.errors.GEOSException:
            return None
    if isinstance(geom, shapely.LineString) and not geom.is_empty:
        return geom
    return None


def _edge_geometries(
    raw: list[Any], eu: np.ndarray, ev: np.ndarray, node_xy: np.ndarray, to_work: Transformer
) -> np.ndarray:
    """Edge LineStrings in the work CRS, oriented from ``u`` to ``v`` (straight when untagged)."""
    geoms = np.empty(len(raw), dtype=object)
    raw = [_as_line(g) for g in raw]
    has = np.array([g is not None for g in raw], dtype=bool)
    if (~has).any():
        idx = np.flatnonzero(~has)
        coords = np.stack([node_xy[eu[idx]], node_xy[ev[idx]]], axis=1)
        geoms[idx] = shapely.linestrings(coords)
    if has.any():
        idx = np.flatnonzero(has)
        src = np.array([raw[i] for i in idx], dtype=object)
        projected = shapely.transform(src, lambda c: np.column_stack(to_work.transform(c[:, 0], c[:, 1])))
        # Orient each geometry from u to v (osmnx stores them so; be safe with hand-made graphs).
        starts = shapely.get_coordinates(shapely.get_point(projected, 0))
        ends = shapely.get_coordinates(shapely.get_point(projected, -1))
        d_fwd = np.hypot(*(starts - node_xy[eu[idx]]).T) + np.hypot(*(ends - node_xy[ev[idx]]).T)
        d_rev = np.hypot(*(starts - node_xy[ev[idx]]).T) + np.hypot(*(ends - node_xy[eu[idx]]).T)
        flip = d_rev < d_fwd
        if flip.any():
            projected[flip] = shapely.reverse(projected[flip])
        # Pin the ends to the nodes (coordinate rounding leaves mm gaps; merged chains must join up).
        coords, which = shapely.get_coordinates(projected, return_index=True)
        first = np.searchsorted(which, np.arange(idx.size))
        last = np.append(first[1:], which.size) - 1
        coords[first], coords[last] = node_xy[eu[idx]], node_xy[ev[idx]]
        geoms[idx] = shapely.linestrings(coords, indices=which)
    return geoms
