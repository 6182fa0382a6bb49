"""Exact simplification of a mode's road edges: merge chains through degree-2 nodes.

Unsimplified OSM data (and :mod:`planner.synth`) carries a node every few dozen metres along rural
roads. A node that joins exactly two road pieces, travelled in the same directions, is not a
junction: the two pieces merge into one edge. The merged edge keeps *breakpoints* (cumulative drawn
length, OSM length and travel time in each direction at every merged node), so a point snapped
anywhere on it gets exactly the legs it would get on the unmerged pieces, even where speed or the
ratio of drawn to OSM length changes along the chain. Shortest paths are unchanged; the searches see
fewer nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = ["Chains", "EdgeLines", "interpolate_along", "line_lengths", "merge_chains", "ranges"]


@dataclass(frozen=True)
class Chains:
    """Merged edges (``u → v`` in the direction of the geometry) and their breakpoints.

    ``bp_ptr[e]:bp_ptr[e + 1]`` indexes edge ``e``'s breakpoints in ``bp_geom`` (drawn length from
    ``u``), ``bp_len`` (OSM length from ``u``), ``bp_fwd`` (time from ``u`` travelling ``u → v``; 0 when
    the edge is closed that way) and ``bp_bwd`` (time to ``u`` travelling ``v → u``; 0 when closed).
    ``junction`` marks the nodes that remain.
    """

    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    fwd_s: np.ndarray
    bwd_s: np.ndarray
    geometry: np.ndarray
    bp_ptr: np.ndarray
    bp_geom: np.ndarray
    bp_len: np.ndarray
    bp_fwd: np.ndarray
    bp_bwd: np.ndarray
    junction: np.ndarray


def ranges(lo: np.ndarray, hi: np.ndarray, reverse: np.ndarray | None = None) -> np.ndarray:
    """Concatenated index ranges ``lo[i]..hi[i]-1``, each reversed where ``reverse``."""
    counts = hi - lo
    step = np.repeat(np.arange(counts.size), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    if reverse is None:
        return lo[step] + offset
    return np.where(reverse[step], hi[step] - 1 - offset, lo[step] + offset)


def line_lengths(ptr: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Length of each line ``xy[ptr[i]:ptr[i+1]]``, summed vertex by vertex as GEOS does (same bits
    as ``shapely.length``)."""
    d = np.diff(xy, axis=0)
    step = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    n_steps = np.diff(ptr) - 1
    out = np.zeros(ptr.size - 1)
    for j in range(int(n_steps.max(initial=0))):  # one pass per vertex position: sequential sums
        live = np.flatnonzero(n_steps > j)
        out[live] += step[ptr[live] + j]
    return out


@dataclass(frozen=True)
class EdgeLines:
    """Drawn lines of a road table's rows in the work CRS, oriented ``u → v``, ends on their nodes.

    Row ``e``'s line is ``xy[ptr[e]:ptr[e + 1]]`` (a straight line between its nodes when the table
    has none); ``length`` is its drawn length.
    """

    ptr: np.ndarray
    xy: np.ndarray
    length: np.ndarray


def merge_chains(
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    fwd_s: np.ndarray,
    bwd_s: np.ndarray,
    *,
    lines: tuple[EdgeLines, np.ndarray],
    n_nodes: int,
    simplify: bool = True,
) -> Chains:
    """Merge edge chains through interior nodes (two pieces, same travel directions, no loop).

    Parameters
    ----------
    u, v, length, fwd_s, bwd_s
        The edges: end nodes, OSM length, travel times ``u → v`` and ``v → u`` (``inf`` where closed).
    lines
        ``(lines, row)``: the drawn lines, oriented ``u → v``, and the line of each edge.
    n_nodes
        Number of nodes.
    simplify
        ``False`` keeps every edge as it is (breakpoints at its two ends only).
    """
    interior, other = _interior(u, v, fwd_s, bwd_s, n_nodes, simplify=simplify)
    seg, rev, n_seg, interior = _chain_order(u, v, interior, other)
    return _assemble(seg, rev, n_seg, u, v, length, fwd_s, bwd_s, lines, interior)


def _interior(
    u: np.ndarray, v: np.ndarray, fwd_s: np.ndarray, bwd_s: np.ndarray, n_nodes: int, *, simplify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes that join exactly two pieces travelled the same ways (no loop), and those two pieces."""
    m = u.size
    deg = np.bincount(np.concatenate([u, v]), minlength=n_nodes)
    loop_nodes = np.zeros(n_nodes, dtype=bool)
    loop_nodes[u[u == v]] = True
    interior = (deg == 2) & ~loop_nodes if simplify else np.zeros(n_nodes, dtype=bool)
    ends = np.concatenate([u, v])
    edge_of = np.concatenate([np.arange(m), np.arange(m)])
    order = np.argsort(ends, kind="stable")
    ends, edge_of = ends[order], edge_of[order]
    first = np.searchsorted(ends, np.arange(n_nodes))
    x = np.flatnonzero(interior)
    e1, e2 = edge_of[first[x]], edge_of[first[x] + 1]
    # orient e1 as a → x and e2 as x → b; the node stays a junction unless directions agree
    f1 = np.where(v[e1] == x, np.isfinite(fwd_s[e1]), np.isfinite(bwd_s[e1]))
    b1 = np.where(v[e1] == x, np.isfinite(bwd_s[e1]), np.isfinite(fwd_s[e1]))
    f2 = np.where(u[e2] == x, np.isfinite(fwd_s[e2]), np.isfinite(bwd_s[e2]))
    b2 = np.where(u[e2] == x, np.isfinite(bwd_s[e2]), np.isfinite(fwd_s[e2]))
    a_end = np.where(v[e1] == x, u[e1], v[e1])
    b_end = np.where(u[e2] == x, v[e2], u[e2])
    interior[x[(f1 != f2) | (b1 != b2) | (a_end == b_end)]] = False
    other = np.full((n_nodes, 2), -1, dtype=np.int64)
    other[x, 0], other[x, 1] = e1, e2
    return interior, other


def _through(u: np.ndarray, v: np.ndarray, interior: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, ...]:
    """The edge that continues each edge through its ``u`` and its ``v`` end (``-1`` at junctions)."""
    e = np.arange(u.size)
    nb_u = np.where(other[u, 0] != e, other[u, 0], other[u, 1])
    nb_v = np.where(other[v, 0] != e, other[v, 0], other[v, 1])
    return np.where(interior[u], nb_u, -1), np.where(interior[v], nb_v, -1)


def _chain_order(
    u: np.ndarray, v: np.ndarray, interior: np.ndarray, other: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The chains: edges in chain order, whether each is walked ``v → u``, the chain sizes, and the
    interior nodes left (a ring's cut node is a junction).

    A chain starts at the junction end of its lowest-numbered edge that has one and runs through
    interior nodes to the next junction; chains are ordered by that edge. A ring of interior nodes
    only is cut at the ``u`` end of its lowest-numbered edge and comes after every other chain.
    """
    m = u.size
    nb_u, nb_v = _through(u, v, interior, other)
    label = _components(nb_u, nb_v, m)
    junction_edge = ~interior[u] | ~interior[v]
    has_junction = np.bincount(label, weights=junction_edge, minlength=label.max(initial=-1) + 1) > 0
    lowest = np.full(has_junction.size, m, dtype=np.int64)
    np.minimum.at(lowest, label, np.arange(m))
    ring = ~has_junction
    if ring.any():  # cut each ring at the u end of its lowest edge
        interior = interior.copy()
        interior[u[lowest[ring]]] = False
        nb_u, nb_v = _through(u, v, interior, other)
        junction_edge = ~interior[u] | ~interior[v]
    start = np.full(has_junction.size, m, dtype=np.int64)
    np.minimum.at(start, label[junction_edge], np.flatnonzero(junction_edge))
    pos = _positions(nb_u, nb_v, start, m)
    # walked v → u where the chain enters the edge at v: the start edge from its junction end,
    # the others from the edge before them
    is_start = np.zeros(m, dtype=bool)
    is_start[start] = True
    rev = np.where(is_start, interior[u], ~((nb_u >= 0) & (pos[np.maximum(nb_u, 0)] == pos - 1)))
    rev &= u != v
    chain_key = ring.astype(np.int64) * (m + 1) + start  # chains by start edge, rings last
    order = np.lexsort((pos, chain_key[label]))
    sizes = np.bincount(np.argsort(np.argsort(chain_key))[label], minlength=start.size)
    return order, rev[order], sizes, interior


def _components(nb_u: np.ndarray, nb_v: np.ndarray, m: int) -> np.ndarray:
    """Connected components of the edges linked through interior nodes."""
    e = np.arange(m)
    a = np.concatenate([e[nb_u >= 0], e[nb_v >= 0]])
    b = np.concatenate([nb_u[nb_u >= 0], nb_v[nb_v >= 0]])
    adj = sp.csr_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(m, m))
    return connected_components(adj, directed=False)[1]


def _positions(nb_u: np.ndarray, nb_v: np.ndarray, start: np.ndarray, m: int) -> np.ndarray:
    """Position of each edge along its chain: breadth-first levels from the chains' start edges."""
    e = np.arange(m)
    a = np.concatenate([e[nb_u >= 0], e[nb_v >= 0], np.full(start.size, m)])
    b = np.concatenate([nb_u[nb_u >= 0], nb_v[nb_v >= 0], start])
    adj = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(m + 1, m + 1))
    level = dijkstra(adj, directed=False, indices=m, unweighted=True)[:m]
    return (level - 1).astype(np.int64)


def _assemble(
    seg: np.ndarray,
    rev: np.ndarray,
    n_seg: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    fwd_s: np.ndarray,
    bwd_s: np.ndarray,
    lines: tuple[EdgeLines, np.ndarray],
    interior: np.ndarray,
) -> Chains:
    k = n_seg.size
    chain_of = np.repeat(np.arange(k), n_seg)
    first = np.concatenate([[0], np.cumsum(n_seg)[:-1]])
    last = first + n_seg - 1
    # per segment, oriented along its chain
    s_len = length[seg]
    s_fwd = np.where(rev, bwd_s[seg], fwd_s[seg])
    s_bwd = np.where(rev, fwd_s[seg], bwd_s[seg])
    drawn, row = lines
    s_geom = drawn.length[row[seg]]
    cu = np.where(rev[first], v[seg[first]], u[seg[first]])
    cv = np.where(rev[last], u[seg[last]], v[seg[last]])

    def cum(values: np.ndarray) -> np.ndarray:
        """Breakpoint arrays: per chain 0 then the running sums of its segments."""
        out = np.zeros(seg.size + k)
        pos = np.arange(seg.size) + chain_of + 1
        c = np.cumsum(values)
        base = np.concatenate([[0.0], c])[first][chain_of]
        out[pos] = c - base
        return out

    fwd_open = np.isfinite(s_fwd)
    bwd_open = np.isfinite(s_bwd)
    bp_fwd = cum(np.where(fwd_open, s_fwd, 0.0))
    bp_bwd = cum(np.where(bwd_open, s_bwd, 0.0))
    bp_ptr = np.concatenate([[0], np.cumsum(n_seg + 1)])
    tot = bp_ptr[1:] - 1
    bp_len = cum(s_len)
    c_fwd = np.where(np.logical_and.reduceat(fwd_open, first), bp_fwd[tot], np.inf)
    c_bwd = np.where(np.logical_and.reduceat(bwd_open, first), bp_bwd[tot], np.inf)
    return Chains(
        u=cu.astype(np.int64),
        v=cv.astype(np.int64),
        length=bp_len[tot],
        fwd_s=c_fwd,
        bwd_s=c_bwd,
        geometry=_chain_lines(drawn, row[seg], rev, first, chain_of),
        bp_ptr=bp_ptr,
        bp_geom=cum(s_geom),
        bp_len=bp_len,
        bp_fwd=bp_fwd,
        bp_bwd=bp_bwd,
        junction=~interior,
    )


def _chain_lines(
    drawn: EdgeLines, rows: np.ndarray, rev: np.ndarray, first: np.ndarray, chain_of: np.ndarray
) -> np.ndarray:
    """LineStrings of the chains: the segments' vertices in chain order, joints not repeated."""
    lo, hi = drawn.ptr[rows], drawn.ptr[rows + 1]
    take = ranges(lo, hi, rev)
    seg_of = np.repeat(np.arange(rows.size), hi - lo)
    not_first = np.ones(rows.size, dtype=bool)
    not_first[first] = False
    head = np.concatenate([[True], seg_of[1:] != seg_of[:-1]])
    keep = ~(head & not_first[seg_of])  # a later segment's first vertex is the joint
    return np.asarray(shapely.linestrings(drawn.xy[take[keep]], indices=chain_of[seg_of[keep]]), dtype=object)


#: A snapped position within this drawn distance (metres) of a breakpoint reads the breakpoint's values
#: exactly, so a point on a merged road node gets the node's whole-number length, not ``x ± 1e-9``.
BREAKPOINT_EPS_M = 1e-6


def interpolate_along(
    bp_ptr: np.ndarray, bp_geom: np.ndarray, values: list[np.ndarray], edge: np.ndarray, g: np.ndarray
) -> list[np.ndarray]:
    """Values at drawn position ``g`` along ``edge``, linear between the edge's breakpoints.

    A position within :data:`BREAKPOINT_EPS_M` of a breakpoint takes that breakpoint's values as they
    are (no interpolation), so positions on merged nodes are exact.
    """
    if edge.size == 0:
        return [np.empty(0) for _ in values]
    total = bp_geom[bp_ptr[1:] - 1]
    offset = np.concatenate([[0.0], np.cumsum(total + 1.0)[:-1]])
    counts = np.diff(bp_ptr)
    key = bp_geom + np.repeat(offset, counts)
    k = np.searchsorted(key, offset[edge] + g, side="right") - 1
    k = np.clip(k, bp_ptr[edge], bp_ptr[edge + 1] - 2)
    span = bp_geom[k + 1] - bp_geom[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(span > 0, (g - bp_geom[k]) / np.where(span > 0, span, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    at_start = g - bp_geom[k] <= BREAKPOINT_EPS_M
    at_end = ~at_start & (bp_geom[k + 1] - g <= BREAKPOINT_EPS_M)
    return [
        np.where(at_start, val[k], np.where(at_end, val[k + 1], val[k] + t * (val[k + 1] - val[k])))
        for val in values
    ]
