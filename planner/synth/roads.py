"""Road network of the synthetic county (:mod:`planner.synth`), built in projected metres.

:class:`RoadBuilder` collects nodes and OSM-like ways; :meth:`RoadBuilder.to_graph` turns them into an
osmnx-convention ``MultiDiGraph`` in WGS-84 (graph attribute ``crs="epsg:4326"``, node ``x``/``y`` =
lon/lat and ``street_count``; edge ``osmid``, ``highway``, ``oneway``, ``reversed``, ``length`` in
metres, optional ``name``, ``ref``, ``maxspeed`` and a shapely ``geometry`` on curved edges). A
two-way way gives an edge each way (the second with ``reversed=True``); a one-way way gives one edge.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from planner.synth import names

#: Highway classes a car may use (the osmnx ``drive`` filter keeps these; it drops track, path,
#: footway, steps and pedestrian ways).
DRIVE_HIGHWAYS: frozenset[str] = frozenset(
    {"trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service", "living_street"}
)


@dataclass
class _Way:
    nodes: list[int]
    shapes: list[np.ndarray]  # per edge: the polyline from node i to node i+1 (k x 2, metres)
    highway: str
    name: str | None
    ref: str | None
    oneway: bool
    maxspeed: str | None


class RoadBuilder:
    """Accumulates road nodes (snapped to 0.1 m so shared junctions merge) and ways, in metres."""

    def __init__(self) -> None:
        self._buf = np.empty((1024, 2), dtype=float)
        self._n = 0
        self._index: dict[tuple[int, int], int] = {}
        self._ways: list[_Way] = []

    # ------------------------------------------------------------------ nodes
    def node(self, x: float, y: float) -> int:
        """Return the node id at ``(x, y)``, creating it if needed (ids start at 1)."""
        key = (round(x * 10.0), round(y * 10.0))
        nid = self._index.get(key)
        if nid is None:
            if self._n == len(self._buf):
                self._buf = np.concatenate([self._buf, np.empty_like(self._buf)])
            self._buf[self._n] = (x, y)
            self._n += 1
            nid = self._n
            self._index[key] = nid
        return nid

    def xy(self, nodes: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Coordinates (n x 2, metres) of ``nodes`` (all nodes in id order when ``None``)."""
        if nodes is None:
            return self._buf[: self._n].copy()
        return self._buf[np.asarray(nodes, dtype=int) - 1]

    @property
    def n_nodes(self) -> int:
        """Number of nodes so far."""
        return self._n

    # ------------------------------------------------------------------- ways
    def way(
        self,
        nodes: Sequence[int],
        *,
        highway: str,
        name: str | None = None,
        ref: str | None = None,
        oneway: bool = False,
        maxspeed: str | None = None,
        shapes: list[np.ndarray] | None = None,
    ) -> None:
        """Add a way through existing ``nodes`` (consecutive duplicates are dropped)."""
        clean: list[int] = []
        clean_shapes: list[np.ndarray] = []
        for i, n in enumerate(nodes):
            if clean and clean[-1] == n:
                continue
            if clean and shapes is not None:
                clean_shapes.append(shapes[i - 1])
            clean.append(n)
        if len(clean) < 2:
            return
        if shapes is None:
            pts = self.xy(clean)
            clean_shapes = [pts[i : i + 2] for i in range(len(clean) - 1)]
        self._ways.append(_Way(clean, clean_shapes, highway, name, ref, oneway, maxspeed))

    def polyline(
        self,
        points: np.ndarray,
        *,
        highway: str,
        node_spacing_m: float,
        name: str | None = None,
        ref: str | None = None,
        maxspeed: str | None = None,
        oneway: bool = False,
    ) -> list[int]:
        """Add a way along a dense polyline, with a node about every ``node_spacing_m`` metres.

        The polyline's first and last points become nodes (merging with existing nodes there);
        intermediate vertices become the edges' curved ``geometry``. Returns the node ids.
        """
        pts = np.asarray(points, dtype=float)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        total = cum[-1]
        n_edges = max(1, round(total / node_spacing_m))
        targets = np.linspace(0.0, total, n_edges + 1)
        cut = np.unique(np.clip(np.searchsorted(cum, targets), 0, len(pts) - 1))
        cut[0], cut[-1] = 0, len(pts) - 1
        cut = np.unique(cut)
        ids = [self.node(*pts[i]) for i in cut]
        shapes = [pts[a : b + 1] for a, b in itertools.pairwise(cut)]
        self.way(ids, highway=highway, name=name, ref=ref, oneway=oneway, maxspeed=maxspeed, shapes=shapes)
        return ids

    def _edges(self) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray]:
        """All way segments as ``(way index, u, v)``, their shape points and each shape's start offset."""
        segs: list[tuple[int, int, int]] = []
        shapes: list[np.ndarray] = []
        for wi, w in enumerate(self._ways):
            segs.extend((wi, u, v) for u, v in itertools.pairwise(w.nodes))
            shapes.extend(w.shapes)
        sizes = np.fromiter((len(x) for x in shapes), dtype=np.int64, count=len(shapes))
        pts = np.concatenate(shapes) if shapes else np.empty((0, 2))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        return segs, pts, offsets

    def edge_lines(self) -> list[shapely.LineString]:
        """Every way segment as a LineString in metres."""
        _, pts, offsets = self._edges()
        if len(pts) == 0:
            return []
        ids = np.repeat(np.arange(len(offsets)), np.diff(np.append(offsets, len(pts))))
        return list(shapely.linestrings(pts, indices=ids))

    def node_highways(self) -> dict[int, set[str]]:
        """The highway classes of the ways meeting at each node."""
        out: dict[int, set[str]] = {}
        for w in self._ways:
            for n in w.nodes:
                out.setdefault(n, set()).add(w.highway)
        return out

    def add_junctions(self, *, snap_m: float = 1.0) -> int:
        """Put a node wherever two ways cross (at-grade junctions); returns how many were added.

        Ways are built independently, so a village link may cross a county road between nodes.
        Real rural roads meet at grade, so each crossing becomes a shared node splitting both
        edges (a crossing within ``snap_m`` of an edge's end node reuses that node).
        """
        segs, _, _ = self._edges()
        lines = np.asarray(self.edge_lines(), dtype=object)
        if len(lines) < 2:
            return 0
        left, right = shapely.STRtree(lines).query(lines, predicate="crosses")
        keep = left < right
        left, right = left[keep], right[keep]
        cuts: dict[int, list[tuple[float, int, np.ndarray]]] = {}
        added = 0
        hits = shapely.intersection(lines[left], lines[right])
        for a, b, hit in zip(left.tolist(), right.tolist(), hits, strict=True):
            for pt in shapely.get_parts(shapely.extract_unique_points(hit)):
                xy = shapely.get_coordinates(pt)[0]
                ends = [segs[a][1], segs[a][2], segs[b][1], segs[b][2]]
                d_end = np.hypot(*(self.xy(ends) - xy).T)
                if d_end.min() <= snap_m:
                    nid = ends[int(np.argmin(d_end))]
                else:
                    before = self._n
                    nid = self.node(*xy)
                    added += int(self._n > before)
                xy = self.xy([nid])[0]
                for e in (a, b):
                    if nid not in (segs[e][1], segs[e][2]):
                        cuts.setdefault(e, []).append((float(lines[e].project(shapely.Point(xy))), nid, xy))
        if not cuts:
            return 0
        self._cut_ways(cuts)
        return added

    def _cut_ways(self, cuts: dict[int, list[tuple[float, int, np.ndarray]]]) -> None:
        """Split the way segments (numbered as :meth:`_edges` numbers them) at their cuts."""
        e = 0
        for w in self._ways:
            nodes, shapes = [w.nodes[0]], []
            for i in range(len(w.nodes) - 1):
                pieces = _split_shape(w.shapes[i], sorted(cuts.get(e, []), key=lambda c: c[0]))
                for nid, shape in pieces[:-1]:
                    shapes.append(shape)
                    nodes.append(nid)
                shapes.append(pieces[-1][1])
                nodes.append(w.nodes[i + 1])
                e += 1
            w.nodes, w.shapes = nodes, shapes

    # ------------------------------------------------------------------ graph
    def to_graph(self, to_wgs84: Transformer) -> nx.MultiDiGraph:
        """The osmnx-convention graph in WGS-84 (lengths measured in the projected metres).

        Lengths are planar lengths in EPSG:4548, whose scale error within a county near the
        central meridian 117E is below 0.01 %.
        """
        xy = self.xy()
        lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
        g = nx.MultiDiGraph(crs="epsg:4326", simplified=False, created_with="planner.synth")
        used = sorted({n for w in self._ways for n in w.nodes})
        g.add_nodes_from((n, {"y": float(lat[n - 1]), "x": float(lon[n - 1])}) for n in used)
        segs, pts, offsets = self._edges()
        if not segs:
            return g
        ends = np.append(offsets, len(pts))
        sizes = np.diff(ends)
        step = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(step)])
        lengths = np.round(cum[ends[1:] - 1] - cum[ends[:-1]], 3)
        curved = np.flatnonzero(sizes > 2)
        geoms: dict[int, shapely.LineString] = {}
        if len(curved):
            take = np.concatenate([np.arange(ends[i], ends[i + 1]) for i in curved])
            glon, glat = to_wgs84.transform(pts[take, 0], pts[take, 1])
            coords = np.round(np.column_stack([glon, glat]), 7)
            ids = np.repeat(np.arange(len(curved)), sizes[curved])
            lines = shapely.linestrings(coords, indices=ids)
            geoms = dict(zip(curved.tolist(), lines, strict=True))
        keys: dict[tuple[int, int], int] = {}
        undirected: set[tuple[int, int, int]] = set()
        edges: list[tuple[int, int, int, dict[str, object]]] = []
        for e, (wi, u, v) in enumerate(segs):
            w = self._ways[wi]
            attrs = _way_tags(w, osmid=wi + 1)
            geom = geoms.get(e)
            directions = [(u, v, False, geom)]
            if not w.oneway:
                directions.append((v, u, True, None if geom is None else shapely.reverse(geom)))
            for a, b, rev, gm in directions:
                k = keys.get((a, b), 0)
                keys[(a, b)] = k + 1
                d = {**attrs, "reversed": rev, "length": float(lengths[e])}
                if gm is not None:
                    d["geometry"] = gm
                edges.append((a, b, k, d))
                undirected.add((min(a, b), max(a, b), k))
        g.add_edges_from(edges)
        # street_count as osmnx counts it: undirected street segments incident on each node
        counts = np.zeros(len(xy) + 1, dtype=np.int64)
        if undirected:
            arr = np.array(sorted(undirected), dtype=np.int64)
            np.add.at(counts, arr[:, 0], 1)
            np.add.at(counts, arr[:, 1], 1)
        nx.set_node_attributes(g, {n: int(counts[n]) for n in used}, name="street_count")
        return g


def _way_tags(w: _Way, *, osmid: int) -> dict[str, object]:
    """The OSM tags of a way's edges (``name``, ``ref`` and ``maxspeed`` only when set)."""
    attrs: dict[str, object] = {"osmid": osmid, "highway": w.highway, "oneway": w.oneway}
    if w.name:
        attrs["name"] = w.name
    if w.ref:
        attrs["ref"] = w.ref
    if w.maxspeed:
        attrs["maxspeed"] = w.maxspeed
    return attrs


def _split_shape(
    shape: np.ndarray, cuts: list[tuple[float, int, np.ndarray]]
) -> list[tuple[int, np.ndarray]]:
    """Cut a polyline at ``(distance along, node id, point)`` cuts (sorted by distance).

    Returns ``(node id ending the piece, piece)`` pairs; the last piece's id is ``-1``.
    """
    step = np.hypot(*np.diff(shape, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(step)])
    out: list[tuple[int, np.ndarray]] = []
    start_pt, start_i = shape[0], 1
    seen: set[int] = set()
    for dist, nid, pt in cuts:
        if nid in seen:
            continue
        seen.add(nid)
        i = int(np.clip(np.searchsorted(cum, dist, side="right"), 1, len(shape) - 1))
        i = max(i, start_i)
        out.append((nid, np.vstack([start_pt, shape[start_i:i], pt])))
        start_pt, start_i = pt, i
    out.append((-1, np.vstack([start_pt, shape[start_i:]])))
    return out


def curve(a: np.ndarray, b: np.ndarray, *, bend: float, step_m: float = 100.0) -> np.ndarray:
    """A gently curved polyline from ``a`` to ``b`` (quadratic Bezier), vertices every ~``step_m``.

    ``bend`` is the sideways offset of the control point as a fraction of the chord length.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = b - a
    length = float(np.hypot(*d))
    normal = np.array([-d[1], d[0]]) / max(length, 1e-9)
    ctrl = (a + b) / 2.0 + normal * bend * length
    k = max(2, int(np.ceil(length / step_m)) + 1)
    t = np.linspace(0.0, 1.0, k)[:, None]
    pts = (1 - t) ** 2 * a + 2 * (1 - t) * t * ctrl + t**2 * b
    pts[0], pts[-1] = a, b
    return np.asarray(pts)


def grid(
    builder: RoadBuilder,
    centre: np.ndarray,
    *,
    spacing_m: float,
    half: int,
    angle: float,
    keep: np.ndarray | None = None,
) -> dict[tuple[int, int], int]:
    """Create the nodes of a rotated square lattice ``(i, j)``, ``-half..half``; returns ``(i, j) -> id``.

    ``keep`` is an optional boolean array ``(2*half+1, 2*half+1)`` indexed ``[i+half, j+half]``.
    """
    c, s = np.cos(angle), np.sin(angle)
    out: dict[tuple[int, int], int] = {}
    for i in range(-half, half + 1):
        for j in range(-half, half + 1):
            if keep is not None and not keep[i + half, j + half]:
                continue
            dx, dy = i * spacing_m, j * spacing_m
            out[(i, j)] = builder.node(centre[0] + c * dx - s * dy, centre[1] + s * dx + c * dy)
    return out


def lattice_runs(lattice: dict[tuple[int, int], int], *, along_i: bool) -> list[tuple[int, list[int]]]:
    """Maximal runs of consecutive lattice nodes along rows (``along_i``) or columns.

    Returns ``(line index, node ids)`` pairs: the line index is ``j`` for rows and ``i`` for columns.
    """
    lines: dict[int, list[tuple[int, int]]] = {}
    for (i, j), nid in lattice.items():
        line, pos = (j, i) if along_i else (i, j)
        lines.setdefault(line, []).append((pos, nid))
    runs: list[tuple[int, list[int]]] = []
    for line in sorted(lines):
        items = sorted(lines[line])
        run = [items[0][1]]
        for (p0, _), (p1, nid) in itertools.pairwise(items):
            if p1 == p0 + 1:
                run.append(nid)
            else:
                if len(run) > 1:
                    runs.append((line, run))
                run = [nid]
        if len(run) > 1:
            runs.append((line, run))
    return runs


def _ray_end(
    boundary: shapely.Geometry, start: np.ndarray, direction: np.ndarray, *, inset_m: float
) -> np.ndarray:
    """The last point inside ``boundary`` (shrunk by ``inset_m``) going from ``start`` along ``direction``."""
    region = boundary.buffer(-inset_m)
    t = np.arange(0.0, 400_000.0, 50.0)
    pts = start + t[:, None] * direction
    inside = shapely.contains_xy(region, pts[:, 0], pts[:, 1])
    stop = int(np.argmin(inside)) if not inside.all() else len(t)
    return np.asarray(pts[max(stop - 1, 0)])


def _near_zone(a: np.ndarray, b: np.ndarray, zones: np.ndarray, *, clearance_m: float) -> bool:
    """Whether the segment a-b passes within ``clearance_m`` of any zone point."""
    if len(zones) == 0:
        return False
    d = b - a
    t = np.clip(((zones - a) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
    closest = a + t[:, None] * d
    return bool((np.hypot(*(zones - closest).T) < clearance_m).any())


def _lattice_ways(
    builder: RoadBuilder,
    lattice: dict[tuple[int, int], int],
    *,
    names_rows: dict[int, str] | None,
    names_cols: dict[int, str] | None,
    highway: Any,
) -> None:
    """Ways along every row and column run; ``highway(line, along_i, run)`` returns (class, oneway, extra)."""
    for along_i, table in ((True, names_rows), (False, names_cols)):
        for line, run in lattice_runs(lattice, along_i=along_i):
            hw, oneway, extra = highway(line, along_i, run)
            nodes = run[::-1] if oneway == "reverse" else run
            builder.way(
                nodes,
                highway=hw,
                name=(table or {}).get(line),
                oneway=bool(oneway),
                ref=extra.get("ref"),
                maxspeed=extra.get("maxspeed"),
            )


@dataclass(frozen=True, eq=False)
class RoadPlan:
    """Where the roads go (projected metres): the county, its seat and towns, the settlements, the gaps.

    Attributes
    ----------
    boundary
        The county outline.
    seat, r_seat
        The seat's centre and radius.
    angle
        Rotation of the seat grid and the arterials (radians).
    towns, is_xiang
        Town and township centres (n x 2) and which of them are 乡.
    settlements_xy, settlements_pop, settlements_role
        Every settlement: position, people and role (``seat``, ``centre``, ``special``, ``village``).
    zones
        Reserved zones of the remote hamlets (nothing is built near them).
    params
        The :class:`~planner.synth.county.SynthParams`: street spacings, grid sizes, node spacing of
        rural roads, share of farm tracks.
    """

    boundary: shapely.Geometry
    seat: np.ndarray
    r_seat: float
    angle: float
    towns: np.ndarray
    is_xiang: np.ndarray
    settlements_xy: np.ndarray
    settlements_pop: np.ndarray
    settlements_role: list[str]
    zones: np.ndarray
    params: Any


@dataclass(frozen=True, eq=False)
class RoadInfo:
    """Node groups of the road network that the facilities and candidates are placed on.

    Attributes
    ----------
    seat_nodes
        Nodes of the seat's street grid.
    town_nodes
        Nodes of each town's grid, in the order of ``RoadPlan.towns``.
    village_nodes
        Lane-grid nodes per settlement index.
    arterial_out
        Nodes of the trunk and primary roads from the seat to the county edge.
    town_of_settlement
        Town-grid nodes per settlement index of a town centre (filled in by the caller).
    """

    seat_nodes: list[int]
    town_nodes: list[list[int]]
    village_nodes: dict[int, list[int]]
    arterial_out: list[int]
    town_of_settlement: dict[int, list[int]] = field(default_factory=dict)


def build_roads(builder: RoadBuilder, rng: np.random.Generator, plan: RoadPlan) -> RoadInfo:
    """Lay out the county's roads in ``builder`` (metres); returns node groups the facilities need.

    Seat: a rotated street grid with primary axes (人民路 = G105, 建设路 = S321), secondary arterials
    every third street, one-way residential streets, living streets, service spurs, footways, steps
    and park paths in the core. Trunk G105 and primary S321 run from the seat to the county edge;
    a secondary road joins the seat to each town's small grid; tertiary roads join neighbouring
    towns; every village gets a lane grid and an unclassified or tertiary link to the nearest
    network node; farm tracks join some neighbouring villages. Nothing is built near ``plan.zones``.
    The random draws happen in this order, so the same seed gives the same network.
    """
    seat_lat = _seat_grid(builder, plan)
    _seat_blocks(builder, rng, seat_lat, plan)
    seat_nodes = sorted(set(seat_lat.values()))
    arterial_out = _arterials(builder, rng, seat_lat, plan)
    town_nodes = _town_grids(builder, rng, plan)
    _town_links(builder, rng, seat_nodes, town_nodes, plan)
    vil = _lane_settlements(plan)
    village_nodes = _VillageLanes(builder, rng, plan).build(vil)
    plain = [k for k in vil if plan.settlements_role[k] == "village"]
    _farm_tracks(builder, rng, plain, village_nodes, plan)
    builder.add_junctions()
    return RoadInfo(
        seat_nodes=seat_nodes, town_nodes=town_nodes, village_nodes=village_nodes, arterial_out=arterial_out
    )


def _seat_radius(plan: RoadPlan) -> float:
    """Radius of the seat's street grid (a little beyond the seat's own radius)."""
    return float(plan.r_seat * 1.15)


def _seat_grid(builder: RoadBuilder, plan: RoadPlan) -> dict[tuple[int, int], int]:
    """The seat's rotated street grid and its named streets; returns the lattice ``(i, j) -> node``."""
    g = plan.params.seat_street_spacing_m
    big_r = _seat_radius(plan)
    half = int(np.ceil(big_r / g))
    ii, jj = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1), indexing="ij")
    keep = (ii * g) ** 2 + (jj * g) ** 2 <= big_r**2
    seat_lat = grid(builder, plan.seat, spacing_m=g, half=half, angle=plan.angle, keep=keep)
    core = 0.6 * big_r
    row_lines = sorted({j for _, j in seat_lat}, key=lambda j: (abs(j), j))
    col_lines = sorted({i for i, _ in seat_lat}, key=lambda i: (abs(i), i))
    row_names = {j: names.seat_street_name(k, east_west=True) for k, j in enumerate(row_lines)}
    col_names = {i: names.seat_street_name(k - 1, east_west=False) for k, i in enumerate(col_lines)}
    col_names[0] = "人民路"

    def seat_class(line: int, along_i: bool, run: list[int]) -> tuple[str, Any, dict[str, str]]:
        if line == 0:
            return "primary", False, {"ref": "S321" if along_i else "G105", "maxspeed": "50"}
        if line % 3 == 0:
            return "secondary", False, {"maxspeed": "40"}
        if along_i and line % 3 == 1 and abs(line) * g < core and len(run) >= 3:
            return "residential", ("reverse" if (line // 3) % 2 else True), {}
        if not along_i and line % 3 == 2 and abs(line) * g < 0.5 * big_r:
            return "living_street", False, {}
        return "residential", False, {}

    _lattice_ways(builder, seat_lat, names_rows=row_names, names_cols=col_names, highway=seat_class)
    return seat_lat


def _seat_blocks(
    builder: RoadBuilder,
    rng: np.random.Generator,
    seat_lat: dict[tuple[int, int], int],
    plan: RoadPlan,
) -> None:
    """Footways, steps and park paths across blocks of the core; service spurs into compounds outside it."""
    spacing_m = plan.params.seat_street_spacing_m
    core = 0.6 * _seat_radius(plan)
    c, s = np.cos(plan.angle), np.sin(plan.angle)
    n_walk = 0
    for (i, j), a in seat_lat.items():
        corners = [seat_lat.get((i + 1, j)), seat_lat.get((i, j + 1)), seat_lat.get((i + 1, j + 1))]
        if any(k is None for k in corners):
            continue
        roll = rng.random()
        # the block's diagonal: corner (i, j) to (i+1, j+1), or (i+1, j) to (i, j+1)
        diag = (corners[0], corners[1]) if rng.random() < 0.5 else (a, corners[2])
        assert diag[0] is not None and diag[1] is not None
        pa, pb = builder.xy([diag[0], diag[1]])
        mid = (pa + pb) / 2.0
        dist = float(np.hypot(*(mid - plan.seat)))
        if dist < core and roll < 0.3:  # footway across the block (小区 / 广场), sometimes with steps
            # the first such block is a park (path), the second has steps, the rest are random
            kind = "path" if roll < 0.06 or n_walk == 0 else "footway"
            n_walk += 1
            m = builder.node(*mid)
            if roll > 0.24 or n_walk == 2:
                step = builder.node(*(mid + (pb - mid) * 30.0 / max(np.hypot(*(pb - mid)), 1.0)))
                builder.way([diag[0], m], highway=kind)
                builder.way([m, step], highway="steps")
                builder.way([step, diag[1]], highway=kind)
            else:
                builder.way([diag[0], m, diag[1]], highway=kind)
        elif dist >= core and roll < 0.25:  # service road into a compound from corner (i, j)
            dx, dy = 0.45 * spacing_m, 0.35 * spacing_m
            pc = builder.xy([a])[0]
            tip = builder.node(pc[0] + c * dx - s * dy, pc[1] + s * dx + c * dy)
            builder.way([a, tip], highway="service")


def _arterials(
    builder: RoadBuilder,
    rng: np.random.Generator,
    seat_lat: dict[tuple[int, int], int],
    plan: RoadPlan,
) -> list[int]:
    """Trunk G105 (north-south) and primary S321 (east-west) from the seat grid to the county edge."""
    spacing_m = plan.params.rural_node_spacing_m
    axis_ns = np.array([-np.sin(plan.angle), np.cos(plan.angle)])
    axis_ew = np.array([np.cos(plan.angle), np.sin(plan.angle)])
    arterial_out: list[int] = []
    for line_i, ax, hw, ref, speed in (
        (True, axis_ns, "trunk", "G105", "80"),
        (False, axis_ew, "primary", "S321", "60"),
    ):
        ends = [(k, v) for k, v in seat_lat.items() if (k[0] == 0 if line_i else k[1] == 0)]
        key = (lambda kv: kv[0][1]) if line_i else (lambda kv: kv[0][0])
        for sign, (_, node) in ((1.0, max(ends, key=key)), (-1.0, min(ends, key=key))):
            start = builder.xy([node])[0]
            end = _ray_end(plan.boundary, start, sign * ax, inset_m=60.0)
            if np.hypot(*(end - start)) < 2 * spacing_m:
                continue
            pts = curve(start, end, bend=float(rng.normal(0.0, 0.03)))
            arterial_out += builder.polyline(
                pts, highway=hw, name=ref, ref=ref, maxspeed=speed, node_spacing_m=spacing_m
            )
    return arterial_out


def _town_grids(builder: RoadBuilder, rng: np.random.Generator, plan: RoadPlan) -> list[list[int]]:
    """A small rotated street grid at every town centre (乡 centres one size smaller); their nodes."""
    params = plan.params
    town_nodes: list[list[int]] = []

    def town_class(line: int, along_i: bool, run: list[int]) -> tuple[str, Any, dict[str, str]]:
        return ("tertiary" if line == 0 else "residential"), False, {}

    for t, txy in enumerate(plan.towns):
        th = max(1, params.town_grid_half - (1 if plan.is_xiang[t] else 0))
        ti, tj = np.meshgrid(np.arange(-th, th + 1), np.arange(-th, th + 1), indexing="ij")
        tkeep = ti**2 + tj**2 <= (th + 0.5) ** 2
        tang = float(rng.uniform(-0.3, 0.3))
        lat = grid(builder, txy, spacing_m=params.town_street_spacing_m, half=th, angle=tang, keep=tkeep)
        street = list(names.TOWN_STREETS)
        rn = {j: street[(2 * abs(j) + (j < 0)) % len(street)] for j in range(-th, th + 1)}
        cn = {i: street[(2 * abs(i) + (i < 0) + 1) % len(street)] for i in range(-th, th + 1)}
        _lattice_ways(builder, lat, names_rows=rn, names_cols=cn, highway=town_class)
        town_nodes.append(sorted(set(lat.values())))
    return town_nodes


def _town_links(
    builder: RoadBuilder,
    rng: np.random.Generator,
    seat_nodes: list[int],
    town_nodes: list[list[int]],
    plan: RoadPlan,
) -> None:
    """A secondary road from the seat to every town; tertiary roads between neighbouring towns."""
    spacing = plan.params.rural_node_spacing_m
    seat, towns = plan.seat, plan.towns
    big_r = _seat_radius(plan)
    seat_tree = cKDTree(builder.xy(seat_nodes))
    n_s = 0
    for t, txy in enumerate(towns):
        d = (txy - seat) / np.hypot(*(txy - seat))
        a = seat_nodes[int(seat_tree.query(seat + d * big_r)[1])]
        txy_nodes = builder.xy(town_nodes[t])
        b = town_nodes[t][int(np.argmin(np.hypot(*(txy_nodes - seat).T)))]
        pa, pb = builder.xy([a, b])
        if t < 2:
            ref = f"S2{31 + 7 * t:02d}"
        else:
            n_s += 1
            ref = f"X0{10 + 3 * n_s:02d}"
        pts = curve(pa, pb, bend=float(rng.normal(0.0, 0.05)))
        builder.polyline(pts, highway="secondary", name=ref, ref=ref, node_spacing_m=spacing)
    for k, (t, u) in enumerate(_neighbour_towns(towns)):
        xt, xu = builder.xy(town_nodes[t]), builder.xy(town_nodes[u])
        dm = np.hypot(xt[:, None, 0] - xu[None, :, 0], xt[:, None, 1] - xu[None, :, 1])
        at, au = np.unravel_index(int(np.argmin(dm)), dm.shape)
        pa, pb = xt[at], xu[au]
        if _near_zone(pa, pb, plan.zones, clearance_m=1_800.0):
            continue
        ref = f"X1{k + 1:02d}"
        pts = curve(pa, pb, bend=float(rng.normal(0.0, 0.06)))
        builder.polyline(pts, highway="tertiary", name=ref, ref=ref, node_spacing_m=spacing)


def _neighbour_towns(towns: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of neighbouring towns (each town's two nearest, if under 1.5 times its nearest), sorted."""
    pairs: set[tuple[int, int]] = set()
    if len(towns) > 1:
        ttree = cKDTree(towns)
        for t in range(len(towns)):
            _, nbr = ttree.query(towns[t], k=min(3, len(towns)))
            for u in np.atleast_1d(nbr)[1:]:
                if np.hypot(*(towns[u] - towns[t])) < 1.5 * np.hypot(
                    *(towns[np.atleast_1d(nbr)[1]] - towns[t])
                ):
                    pairs.add((min(t, int(u)), max(t, int(u))))
    return sorted(pairs)


def _lane_settlements(plan: RoadPlan) -> list[int]:
    """Settlements that get a lane grid (villages and the special area), nearest a centre first."""
    centres = np.vstack([plan.seat, plan.towns])
    vil = [k for k, r in enumerate(plan.settlements_role) if r in ("village", "special")]
    d_centre = cKDTree(centres).query(plan.settlements_xy[vil])[0] if vil else np.empty(0)
    return [vil[k] for k in np.argsort(d_centre, kind="stable")]


@dataclass
class _VillageLanes:
    """Lane grids in the villages and their links to the network (numbering tertiary links Y001, ...)."""

    builder: RoadBuilder
    rng: np.random.Generator
    plan: RoadPlan
    y_count: int = 0

    def build(self, vil: list[int]) -> dict[int, list[int]]:
        """A lane grid and a link for every settlement in ``vil``; returns lane nodes per settlement.

        Villages are linked in batches of 25, each batch to the network as it stood before the batch
        (so villages near a centre link to it and farther ones to their nearer neighbours).
        """
        village_nodes: dict[int, list[int]] = {}
        batch = 25
        for b0 in range(0, len(vil), batch):
            net_tree = cKDTree(self.builder.xy())  # node ids are 1 + the tree's indices
            for k in vil[b0 : b0 + batch]:
                own = self.grid(k)
                village_nodes[k] = own
                self.link(k, own, net_tree)
        return village_nodes

    def grid(self, k: int) -> list[int]:
        """The lane grid of settlement ``k`` (a cross of lanes for small villages); its node ids."""
        params = self.plan.params
        vxy = self.plan.settlements_xy[k]
        pop = int(self.plan.settlements_pop[k])
        vh = 1 + (params.village_lanes if pop > 700 else params.village_lanes // 2)
        vi, vj = np.meshgrid(np.arange(-vh, vh + 1), np.arange(-vh, vh + 1), indexing="ij")
        vkeep = (vi**2 + vj**2 <= (vh + 0.3) ** 2) & ((pop > 500) | (vi == 0) | (vj == 0))
        vang = float(self.rng.uniform(-0.25, 0.25))
        lat = grid(
            self.builder, vxy, spacing_m=params.village_lane_spacing_m, half=vh, angle=vang, keep=vkeep
        )

        def lane_class(line: int, along_i: bool, run: list[int]) -> tuple[str, Any, dict[str, str]]:
            return "residential", False, {}

        _lattice_ways(self.builder, lat, names_rows=None, names_cols=None, highway=lane_class)
        return sorted(set(lat.values()))

    def link(self, k: int, own: list[int], net_tree: cKDTree) -> None:
        """Link settlement ``k`` (lane nodes ``own``) to the first of its 8 nearest nodes in ``net_tree``.

        Nodes closer than 1 m (already joined) and links passing near a remote zone are skipped.
        Large villages (and some others) get a tertiary road, the rest an unclassified one.
        """
        builder, rng = self.builder, self.rng
        vxy = self.plan.settlements_xy[k]
        pop = int(self.plan.settlements_pop[k])
        own_xy = builder.xy(own)
        dists, idx = net_tree.query(vxy, k=min(8, net_tree.n))
        for d_n, j in zip(np.atleast_1d(dists), np.atleast_1d(idx), strict=True):
            txy = builder.xy([int(j) + 1])[0]
            src = own[int(np.argmin(np.hypot(*(own_xy - txy).T)))]
            sxy = builder.xy([src])[0]
            if d_n < 1.0 or _near_zone(sxy, txy, self.plan.zones, clearance_m=1_700.0):
                continue
            tertiary = pop >= 1_500 or rng.random() < 0.15
            vref: str | None = None
            if tertiary:
                self.y_count += 1
                vref = f"Y{self.y_count:03d}"
            builder.polyline(
                curve(sxy, txy, bend=float(rng.normal(0.0, 0.04))),
                highway="tertiary" if tertiary else "unclassified",
                name=vref,
                ref=vref,
                node_spacing_m=self.plan.params.rural_node_spacing_m,
            )
            return


def _farm_tracks(
    builder: RoadBuilder,
    rng: np.random.Generator,
    plain: list[int],
    village_nodes: dict[int, list[int]],
    plan: RoadPlan,
) -> None:
    """Farm tracks between some neighbouring villages (a share ``params.track_share`` of the pairs)."""
    params = plan.params
    if len(plain) <= 3 or params.track_share <= 0:
        return
    vxy_all = plan.settlements_xy[plain]
    vtree = cKDTree(vxy_all)
    _, nbrs = vtree.query(vxy_all, k=4)
    typical = float(np.median(np.hypot(*(vxy_all[nbrs[:, 1]] - vxy_all).T)))
    done: set[tuple[int, int]] = set()
    for a_i in range(len(plain)):
        for b_i in nbrs[a_i, 1:]:
            pair = (min(a_i, int(b_i)), max(a_i, int(b_i)))
            if pair in done:
                continue
            done.add(pair)
            if rng.random() >= params.track_share:
                continue
            pa, pb = vxy_all[pair[0]], vxy_all[pair[1]]
            if np.hypot(*(pb - pa)) > 1.8 * typical or _near_zone(pa, pb, plan.zones, clearance_m=1_700.0):
                continue
            xa, xb = builder.xy(village_nodes[plain[pair[0]]]), builder.xy(village_nodes[plain[pair[1]]])
            ia = int(np.argmin(np.hypot(*(xa - pb).T)))
            ib = int(np.argmin(np.hypot(*(xb - pa).T)))
            pts = curve(xa[ia], xb[ib], bend=float(rng.normal(0.0, 0.08)))
            builder.polyline(pts, highway="track", node_spacing_m=params.rural_node_spacing_m)
