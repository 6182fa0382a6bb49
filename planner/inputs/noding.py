"""Noding of road lines into a routable graph: where lines connect, and where they only cross.

The rule (documented for users in :mod:`planner.inputs.centrelines`):

* Noding happens in the layer's own CRS (before any reprojection, which would move a vertex that
  lies on a line off it). **Vertices are the same node** when they fall in the same cell of a grid
  of :data:`GRID_M` (1 cm) in projected layers or :data:`GRID_DEG` (1e-7°, about 1 cm) in lon/lat
  layers. Consecutive repeats of a vertex in a line are dropped; a line left with fewer than two
  distinct vertices is a zero-length line and is dropped (counted).
* **A shared vertex always connects**: every line ends at a node, and a vertex that two lines (or
  one line twice) pass through is a junction. The data says so.
* **A line ending on another line** (within one grid cell of it) where that line has no vertex (a
  T-junction drawn without splitting the through road) connects, unless the level information says
  the two are at different levels; the through road gets the end vertex as a new vertex.
* **Lines that cross without a shared vertex** are an over/underpass unless the data says
  otherwise: with ``node_crossings=None`` (the default) they connect only when the layer has level
  information (a ``layer``, ``bridge`` or ``tunnel`` column, or Z coordinates that vary) and it puts
  both at the same level at the crossing; with ``True`` they connect unless the level information
  says the levels differ; with ``False`` crossings and T-junctions never connect (shared vertices only).
* **Levels**: a line's level is its ``layer`` value when the layer has that column (missing = 0),
  else +1 on a bridge, -1 in a tunnel, 0 otherwise; with varying Z coordinates, two lines are at
  the same level at a crossing when their Z there (linear along each line) differ by at most
  :data:`Z_TOLERANCE_M`. A line never connects to itself where it crosses itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["GRID_DEG", "GRID_M", "Z_TOLERANCE_M", "Noded", "node_lines"]

#: Grid of vertex matching in lon/lat layers (degrees) and in projected layers (metres).
GRID_DEG = 1e-7
GRID_M = 0.01
#: Largest difference of Z (metres) at which two crossing lines are at the same level.
Z_TOLERANCE_M = 2.0


@dataclass(frozen=True)
class Noded:
    """Lines split at their nodes.

    Attributes
    ----------
    xy
        ``(k, 2)`` vertices of the pieces (the layer's CRS); piece ``p`` is ``xy[start[p]:stop[p] + 1]``.
    vertex_part
        The line of each vertex.
    start, stop
        First and last vertex of each piece.
    part
        The line each piece comes from.
    u, v
        Node index of each piece's first and last vertex.
    node_xy
        ``(n, 2)`` node coordinates.
    dropped_zero_length
        Lines with fewer than two distinct vertices (dropped).
    joined, crossings_joined, crossings_apart
        T-junctions connected, crossings connected, crossings left apart (over/underpasses).
    """

    xy: np.ndarray
    vertex_part: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    part: np.ndarray
    u: np.ndarray
    v: np.ndarray
    node_xy: np.ndarray
    dropped_zero_length: int
    joined: int
    crossings_joined: int
    crossings_apart: int


@dataclass(frozen=True)
class _Grid:
    """The matching grid: cell size and origin; a point's key is its cell as one ``int64``."""

    cell: float
    x0: float
    y0: float

    @classmethod
    def of(cls, xy: np.ndarray, cell: float) -> _Grid:
        lo = xy.min(axis=0) - cell if xy.size else np.zeros(2)
        hi = xy.max(axis=0) + cell if xy.size else np.zeros(2)
        cell = max(cell, float((hi - lo).max()) / 2**30)  # keys stay within 31 bits a side
        return cls(cell, float(lo[0]), float(lo[1]))

    def keys(self, xy: np.ndarray) -> np.ndarray:
        qx = np.round((xy[:, 0] - self.x0) / self.cell).astype(np.int64)
        qy = np.round((xy[:, 1] - self.y0) / self.cell).astype(np.int64)
        return qx * np.int64(2**31) + qy


def _drop_repeats(key: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Mask of the vertices to keep: not a repeat of the previous vertex of the same line."""
    repeat = np.zeros(key.size, dtype=bool)
    repeat[1:] = (key[1:] == key[:-1]) & (part[1:] == part[:-1])
    return ~repeat


@dataclass(frozen=True)
class _Lines:
    """Clean lines: flat vertices, their line, grid key, distance along the line (degrees) and Z."""

    xy: np.ndarray
    z: np.ndarray
    part: np.ndarray
    key: np.ndarray
    along: np.ndarray
    ptr: np.ndarray  # vertices of line i: ptr[i]:ptr[i + 1] (empty for dropped lines)
    geom: np.ndarray  # LineString per line (None for dropped lines)
    dropped: int
    grid: _Grid

    @classmethod
    def of(cls, xy: np.ndarray, z: np.ndarray, part: np.ndarray, n_parts: int, cell: float) -> _Lines:
        grid = _Grid.of(xy, cell)
        keep = _drop_repeats(grid.keys(xy), part)
        xy, z, part = xy[keep], z[keep], part[keep]
        counts = np.bincount(part, minlength=n_parts)
        short = counts[part] < 2
        dropped = int(((counts > 0) & (counts < 2)).sum())
        xy, z, part = xy[~short], z[~short], part[~short]
        seg = np.hypot(*np.diff(xy, axis=0).T) if xy.shape[0] > 1 else np.zeros(0)
        seg = np.where(part[1:] == part[:-1], seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        ptr = np.searchsorted(part, np.arange(n_parts + 1))
        first = np.minimum(ptr[:-1], max(part.size - 1, 0))
        along = cum - cum[first][part] if part.size else cum[:0]
        geom = np.full(n_parts, None, dtype=object)
        present = np.flatnonzero(np.diff(ptr) > 0)
        if present.size:
            geom[present] = shapely.linestrings(xy, indices=np.searchsorted(present, part))
        return cls(xy, z, part, grid.keys(xy), along, ptr, geom, dropped, grid)

    def z_at(self, which: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Z of line ``which`` at distance ``d`` along it (linear between vertices; ``nan`` without Z)."""
        lo_ptr, hi_ptr = self.ptr[which], self.ptr[which + 1]
        total = self.along[self.ptr[1:] - 1].max(initial=0.0) + 1.0
        flat = self.part * total + self.along  # increasing over the flat vertices
        k = np.searchsorted(flat, which * total + d, side="right") - 1
        k = np.clip(k, lo_ptr, hi_ptr - 2)
        span = self.along[k + 1] - self.along[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip(np.where(span > 0, (d - self.along[k]) / span, 0.0), 0.0, 1.0)
        return self.z[k] + t * (self.z[k + 1] - self.z[k])


@dataclass(frozen=True)
class _Meetings:
    """Points where two lines meet without a vertex of both: the lines, the point, its kind."""

    i: np.ndarray
    j: np.ndarray
    xy: np.ndarray
    touch: np.ndarray  # an end of one line, or the end of a shared stretch (else a crossing)
    on_i: np.ndarray  # the point is a vertex of line i already
    on_j: np.ndarray


def _meetings(lines: _Lines) -> _Meetings:
    """Every point where two different lines meet, except where it is a vertex of both: where they
    intersect, and where a line ends within one grid cell of another."""
    present = np.flatnonzero(lines.geom != None)  # noqa: E711 (element-wise)
    tree = shapely.STRtree(lines.geom[present])
    a, b = tree.query(lines.geom[present], predicate="intersects")
    i, j = present[a], present[b]
    i, j = i[i < j], j[i < j]
    parts, pair = shapely.get_parts(shapely.intersection(lines.geom[i], lines.geom[j]), return_index=True)
    kind = shapely.get_type_id(parts)
    pts = parts[kind == 0]
    stretch = parts[kind == 1]  # two lines sharing a stretch: they meet at its ends
    stretch_ends = np.concatenate([shapely.get_point(stretch, 0), shapely.get_point(stretch, -1)])
    xy = shapely.get_coordinates(np.concatenate([pts, stretch_ends]))
    pair = np.concatenate([pair[kind == 0], pair[kind == 1], pair[kind == 1]])
    shared = np.concatenate([np.zeros(pts.size, dtype=bool), np.ones(stretch_ends.size, dtype=bool)])
    # line ends on (or within a grid cell of) another line
    end_vertex = np.concatenate([lines.ptr[:-1][present], lines.ptr[1:][present] - 1])
    pe, le = tree.query(shapely.points(lines.xy[end_vertex]), predicate="dwithin", distance=lines.grid.cell)
    owner, other = lines.part[end_vertex[pe]], present[le]
    near = owner != other
    mi = np.concatenate([i[pair], owner[near]])
    mj = np.concatenate([j[pair], other[near]])
    xy = np.concatenate([xy, lines.xy[end_vertex[pe[near]]]])
    shared = np.concatenate([shared, np.ones(int(near.sum()), dtype=bool)])
    key = lines.grid.keys(xy)
    # one meeting per pair of lines and point
    _, first = np.unique(
        np.column_stack([np.minimum(mi, mj), np.maximum(mi, mj), key]), axis=0, return_index=True
    )
    first = np.sort(first)
    mi, mj, xy, key, shared = mi[first], mj[first], xy[first], key[first], shared[first]
    on_i, on_j = _is_vertex(lines, mi, key), _is_vertex(lines, mj, key)
    new = ~(on_i & on_j)
    end_of = _is_end(lines, mi, key) | _is_end(lines, mj, key)
    return _Meetings(mi[new], mj[new], xy[new], (end_of | shared)[new], on_i[new], on_j[new])


def _is_vertex(lines: _Lines, which: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Whether the point of grid ``key`` is a vertex of line ``which`` (element-wise)."""
    uniq = np.unique(np.concatenate([lines.key, key]))
    big = np.int64(uniq.size)
    vertex = np.sort(lines.part.astype(np.int64) * big + np.searchsorted(uniq, lines.key))
    query = which.astype(np.int64) * big + np.searchsorted(uniq, key)
    if vertex.size == 0:
        return np.zeros(which.size, dtype=bool)
    pos = np.clip(np.searchsorted(vertex, query), 0, vertex.size - 1)
    return vertex[pos] == query


def _is_end(lines: _Lines, which: np.ndarray, key: np.ndarray) -> np.ndarray:
    first = lines.key[lines.ptr[which]]
    last = lines.key[lines.ptr[which + 1] - 1]
    return (key == first) | (key == last)


def _decide(
    lines: _Lines, m: _Meetings, level: np.ndarray, level_known: bool, node_crossings: bool | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which meetings connect: (connect, at the same level known, at different levels known)."""
    same = np.zeros(m.i.size, dtype=bool)
    differ = np.zeros(m.i.size, dtype=bool)
    if level_known:
        same, differ = level[m.i] == level[m.j], level[m.i] != level[m.j]
    elif np.isfinite(lines.z).any() and np.ptp(lines.z[np.isfinite(lines.z)]) > 0:
        pts = shapely.points(m.xy)
        zi = lines.z_at(m.i, shapely.line_locate_point(lines.geom[m.i], pts))
        zj = lines.z_at(m.j, shapely.line_locate_point(lines.geom[m.j], pts))
        close = np.abs(zi - zj) <= Z_TOLERANCE_M
        same, differ = close, np.isfinite(zi - zj) & ~close
    if node_crossings is False:
        connect = np.zeros(m.i.size, dtype=bool)
    elif node_crossings is True:
        connect = ~differ
    else:
        connect = np.where(m.touch, ~differ, same)
    return connect, same, differ


def _insert(lines: _Lines, m: _Meetings, connect: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines' vertices with the connecting points inserted in order: (xy, line, key)."""
    into_i, into_j = connect & ~m.on_i, connect & ~m.on_j
    which = np.concatenate([m.i[into_i], m.j[into_j]])
    pts_xy = np.concatenate([m.xy[into_i], m.xy[into_j]])
    d = shapely.line_locate_point(lines.geom[which], shapely.points(pts_xy)) if which.size else np.zeros(0)
    part = np.concatenate([lines.part, which])
    along = np.concatenate([lines.along, d])
    flag = np.concatenate([np.zeros(lines.part.size, np.int8), np.ones(which.size, np.int8)])
    order = np.lexsort((flag, along, part))
    all_xy = np.concatenate([lines.xy, pts_xy])[order]
    part, key = part[order], np.concatenate([lines.key, lines.grid.keys(pts_xy)])[order]
    keep = _drop_repeats(key, part)
    return all_xy[keep], part[keep], key[keep]


def node_lines(
    xy: np.ndarray,
    z: np.ndarray,
    part: np.ndarray,
    n_parts: int,
    *,
    level: np.ndarray,
    level_known: bool,
    node_crossings: bool | None = None,
    geographic: bool = True,
) -> Noded:
    """Split lines into pieces between nodes by the rule of the module notes.

    Parameters
    ----------
    xy, z
        Vertices in the layer's CRS (Z in metres or ``nan``), line after line.
    part
        The line of each vertex (``0..n_parts-1``, non-decreasing).
    n_parts
        Number of lines.
    level, level_known
        Level of each line from its attributes, and whether the layer has level attributes at all.
    node_crossings
        ``None``: crossings connect where the level information says the same level; ``True``:
        unless it says different levels; ``False``: never (nor T-junctions).
    geographic
        The layer is lon/lat (grid :data:`GRID_DEG`), else projected in metres (:data:`GRID_M`).
    """
    lines = _Lines.of(xy, z, part, n_parts, GRID_DEG if geographic else GRID_M)
    if lines.part.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Noded(
            np.zeros((0, 2)),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            np.zeros((0, 2)),
            lines.dropped,
            0,
            0,
            0,
        )
    m = _meetings(lines)
    connect, _, _ = _decide(lines, m, level, level_known, node_crossings)
    vxy, vpart, vkey = _insert(lines, m, connect)
    return _split(vxy, vpart, vkey, lines.dropped, m, connect)


def _split(
    xy: np.ndarray, part: np.ndarray, key: np.ndarray, dropped: int, m: _Meetings, connect: np.ndarray
) -> Noded:
    """Cut the lines at their ends and at every vertex used twice; number the nodes."""
    n = part.size
    first = np.ones(n, dtype=bool)
    first[1:] = part[1:] != part[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = part[1:] != part[:-1]
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    cut = first | last | (counts[inverse] >= 2)
    at = np.flatnonzero(cut)
    same_line = part[at[1:]] == part[at[:-1]]
    start, stop = at[:-1][same_line], at[1:][same_line]
    # nodes numbered in order of first appearance, at the coordinates of that appearance
    cut_keys = inverse[at]
    _, first_pos = np.unique(cut_keys, return_index=True)
    first_pos = np.sort(first_pos)
    node_of_key = np.full(uniq.size, -1, dtype=np.int64)
    node_of_key[cut_keys[first_pos]] = np.arange(first_pos.size)
    node_xy = xy[at[first_pos]]
    return Noded(
        xy=xy,
        vertex_part=part,
        start=start,
        stop=stop,
        part=part[start],
        u=node_of_key[inverse[start]],
        v=node_of_key[inverse[stop]],
        node_xy=node_xy,
        dropped_zero_length=dropped,
        joined=int((connect & m.touch).sum()),
        crossings_joined=int((connect & ~m.touch).sum()),
        crossings_apart=int((~connect & ~m.touch).sum()),
    )
