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
import shapely

__all__ = ["Chains", "interpolate_along", "merge_chains"]


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


def merge_chains(
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    fwd_s: np.ndarray,
    bwd_s: np.ndarray,
    geometry: np.ndarray,
    n_nodes: int,
    *,
    simplify: bool = True,
) -> Chains:
    """Merge edge chains through interior nodes (two pieces, same travel directions, no loop).

    Parameters
    ----------
    u, v, length, fwd_s, bwd_s, geometry
        The edges: end nodes, OSM length, travel times ``u → v`` and ``v → u`` (``inf`` where closed),
        LineStrings oriented ``u → v``.
    n_nodes
        Number of nodes.
    simplify
        ``False`` keeps every edge as it is (breakpoints at its two ends only).
    """
    m = u.size
    deg = np.bincount(np.concatenate([u, v]), minlength=n_nodes)
    loop_nodes = np.zeros(n_nodes, dtype=bool)
    loop_nodes[u[u == v]] = True
    interior = (deg == 2) & ~loop_nodes if simplify else np.zeros(n_nodes, dtype=bool)
    # the two edges at each interior node
    ends = np.concatenate([u, v])
    edge_of = np.concatenate([np.arange(m), np.arange(m)])
    order = np.argsort(ends, kind="stable")
    ends, edge_of = ends[order], edge_of[order]
    first = np.searchsorted(ends, np.arange(n_nodes))
    cand = np.flatnonzero(interior)
    e1, e2 = edge_of[first[cand]], edge_of[first[cand] + 1]
    # orient e1 as a → x and e2 as x → b; the node stays a junction unless directions agree
    x = cand
    f1 = np.where(v[e1] == x, np.isfinite(fwd_s[e1]), np.isfinite(bwd_s[e1]))
    b1 = np.where(v[e1] == x, np.isfinite(bwd_s[e1]), np.isfinite(fwd_s[e1]))
    f2 = np.where(u[e2] == x, np.isfinite(fwd_s[e2]), np.isfinite(bwd_s[e2]))
    b2 = np.where(u[e2] == x, np.isfinite(bwd_s[e2]), np.isfinite(fwd_s[e2]))
    a_end = np.where(v[e1] == x, u[e1], v[e1])
    b_end = np.where(u[e2] == x, v[e2], u[e2])
    interior[x[(f1 != f2) | (b1 != b2) | (a_end == b_end)]] = False
    other = np.full((n_nodes, 2), -1, dtype=np.int64)
    other[cand, 0], other[cand, 1] = e1, e2

    chains: list[list[tuple[int, bool]]] = []  # (edge, reversed)
    used = np.zeros(m, dtype=bool)

    def walk(start: int, e: int) -> None:
        node, seq = start, []
        while True:
            used[e] = True
            rev = bool(u[e] != node) if u[e] != v[e] else False
            seq.append((e, rev))
            node = int(u[e] if rev else v[e])
            if not interior[node]:
                break
            nxt = other[node, 0] if other[node, 0] != e else other[node, 1]
            if used[nxt]:  # cannot happen on a consistent graph; keep the node as a junction then
                interior[node] = False
                break
            e = int(nxt)
        chains.append(seq)

    junction_edges = np.flatnonzero(~interior[u] | ~interior[v])
    for e in junction_edges.tolist():
        if not used[e]:
            walk(int(u[e]) if not interior[u[e]] else int(v[e]), e)
    for e in range(m):  # rings of interior nodes only: cut each at one node
        if not used[e]:
            interior[u[e]] = False
            walk(int(u[e]), e)
    return _assemble(chains, u, v, length, fwd_s, bwd_s, geometry, interior)


def _assemble(
    chains: list[list[tuple[int, bool]]],
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    fwd_s: np.ndarray,
    bwd_s: np.ndarray,
    geometry: np.ndarray,
    interior: np.ndarray,
) -> Chains:
    k = len(chains)
    seg = np.array([e for c in chains for e, _ in c], dtype=np.int64)
    rev = np.array([r for c in chains for _, r in c], dtype=bool)
    n_seg = np.array([len(c) for c in chains], dtype=np.int64)
    chain_of = np.repeat(np.arange(k), n_seg)
    first = np.concatenate([[0], np.cumsum(n_seg)[:-1]])
    last = first + n_seg - 1
    # per segment, oriented along its chain
    s_len = length[seg]
    s_fwd = np.where(rev, bwd_s[seg], fwd_s[seg])
    s_bwd = np.where(rev, fwd_s[seg], bwd_s[seg])
    s_geom = shapely.length(geometry[seg])
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
    # geometry: the segments' coordinates in chain order, joints not repeated
    coords, which = shapely.get_coordinates(geometry[seg], return_index=True)
    starts = np.searchsorted(which, np.arange(seg.size))
    stops = np.append(starts[1:], which.size)
    idx_parts: list[np.ndarray] = []
    for i in range(seg.size):
        sl = np.arange(starts[i], stops[i])
        if rev[i]:
            sl = sl[::-1]
        if i != first[chain_of[i]]:
            sl = sl[1:]
        idx_parts.append(sl)
    take = np.concatenate(idx_parts)
    line_of = np.repeat(chain_of, [p.size for p in idx_parts])
    geoms = np.asarray(shapely.linestrings(coords[take], indices=line_of), dtype=object)
    return Chains(
        u=cu.astype(np.int64),
        v=cv.astype(np.int64),
        length=bp_len[tot],
        fwd_s=c_fwd,
        bwd_s=c_bwd,
        geometry=geoms,
        bp_ptr=bp_ptr,
        bp_geom=cum(s_geom),
        bp_len=bp_len,
        bp_fwd=bp_fwd,
        bp_bwd=bp_bwd,
        junction=~interior,
    )


def interpolate_along(
    bp_ptr: np.ndarray, bp_geom: np.ndarray, values: list[np.ndarray], edge: np.ndarray, g: np.ndarray
) -> list[np.ndarray]:
    """Values at drawn position ``g`` along ``edge``, linear between the edge's breakpoints."""
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
    return [val[k] + t * (val[k + 1] - val[k]) for val in values]
