"""Coverage engine against an independent networkx reference on seeded random road graphs.

The reference never uses the engine's internals: it snaps points by brute force (numpy projection on
every segment of every usable road), splits the roads at the snapped positions in a networkx
``MultiDiGraph``, hangs each point on its split node with its off-network leg, and runs
``nx.single_source_dijkstra_path_length``.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from planner.coverage import (
    buffer_coverage,
    coverage_matrix,
    nearest_facility,
    nearest_straight,
    od_pairs,
    service_areas,
)
from planner.errors import NetworkError
from planner.network import ModeSpec, build_mode_network, snap_points

WORK = CRS.from_epsg(32650)  # UTM 50N
TO_LL = Transformer.from_crs(WORK, 4326, always_xy=True)
X0, Y0 = 400_000.0, 3_600_000.0
ACCESS_KMH = 4.8

CAR = ModeSpec(
    name="car",
    speeds_kmh={"primary": 54.0, "residential": 18.0, "track": 9.0},
    default_kmh=12.0,
    maxspeed="ignore",
    respect_oneway=True,
    excluded=frozenset({"footway"}),
)
WALK = ModeSpec(name="walk", speeds_kmh={}, default_kmh=4.8, respect_oneway=False)


@dataclass
class Road:
    u: int
    v: int
    xy: np.ndarray  # polyline in the work CRS, u → v
    length: float
    highway: str
    oneway: bool


CLASSES = ["primary", "residential", "track", "footway", "mystery_class"]
CLASS_P = [0.3, 0.3, 0.15, 0.1, 0.15]


def random_roads(
    seed: int, n_nodes: int = 36, extent: float = 3000.0, *, pieces: int = 1
) -> tuple[nx.MultiDiGraph, list[Road], np.ndarray]:
    """A random planar-ish road graph (nearest-neighbour links), some one-way, some bent, some footways.

    With ``pieces > 1`` each road is cut into up to that many pieces at nodes of their own (as in
    unsimplified OSM data), each piece with its own class and OSM-to-drawn length ratio; now and
    then a piece of a one-way road is two-way.
    """
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, extent, (n_nodes, 2)) + np.array([X0, Y0])
    g = nx.MultiDiGraph(crs="EPSG:4326")
    lon, lat = TO_LL.transform(pts[:, 0], pts[:, 1])
    for i in range(n_nodes):
        g.add_node(int(i) + 1000, x=float(lon[i]), y=float(lat[i]))
    roads: list[Road] = []
    seen = set()
    next_id = 100_000
    for i in range(n_nodes):
        d = np.hypot(*(pts - pts[i]).T)
        for j in np.argsort(d)[1:5]:
            key = (min(i, int(j)), max(i, int(j)))
            if key in seen:
                continue
            seen.add(key)
            a, b = pts[i], pts[int(j)]
            if rng.random() < 0.4:  # bent road through an offset midpoint
                mid = (a + b) / 2 + rng.normal(0, 0.15 * np.hypot(*(b - a)), 2)
                xy = np.array([a, mid, b])
            else:
                xy = np.array([a, b])
            oneway = bool(rng.random() < 0.25)
            hw = str(rng.choice(CLASSES, p=CLASS_P))
            # cut the polyline at random positions into pieces, each a road of its own
            k = int(rng.integers(1, pieces + 1))
            seg = np.hypot(*np.diff(xy, axis=0).T)
            cum = np.concatenate([[0.0], np.cumsum(seg)])
            cuts = np.sort(rng.uniform(0.1, 0.9, k - 1)) * cum[-1]
            stops = [0.0, *cuts.tolist(), float(cum[-1])]
            ends = [i + 1000]
            for c in cuts:
                p = np.array([np.interp(c, cum, xy[:, 0]), np.interp(c, cum, xy[:, 1])])
                plon, plat = TO_LL.transform(p[0], p[1])
                g.add_node(next_id, x=float(plon), y=float(plat))
                ends.append(next_id)
                next_id += 1
            ends.append(int(j) + 1000)
            for q in range(k):
                inner = [
                    np.array([np.interp(t, cum, xy[:, 0]), np.interp(t, cum, xy[:, 1])])
                    for t in stops[q : q + 2]
                ]
                mids = [xy[m] for m in range(1, len(xy) - 1) if stops[q] < cum[m] < stops[q + 1]]
                pxy = np.array([inner[0], *mids, inner[1]])
                piece_hw = hw if q == 0 or rng.random() < 0.5 else str(rng.choice(CLASSES, p=CLASS_P))
                piece_oneway = oneway and not (k > 1 and rng.random() < 0.1)
                geom_len = float(np.sum(np.hypot(*np.diff(pxy, axis=0).T)))
                length = geom_len * float(rng.uniform(1.0, 1.2))  # OSM length need not equal the drawing
                u, v = ends[q], ends[q + 1]
                roads.append(Road(u, v, pxy, length, piece_hw, piece_oneway))
                glon, glat = TO_LL.transform(pxy[:, 0], pxy[:, 1])
                geom = shapely.LineString(np.column_stack([glon, glat]))
                g.add_edge(u, v, length=length, highway=piece_hw, oneway=piece_oneway, geometry=geom)
                if not piece_oneway:
                    g.add_edge(
                        v, u, length=length, highway=piece_hw, oneway=False, geometry=shapely.reverse(geom)
                    )
    return g, roads, pts


def _speed_mps(mode: ModeSpec, hw: str) -> float | None:
    if hw in mode.excluded:
        return None
    return mode.speeds_kmh.get(hw, mode.default_kmh) / 3.6


def _directions(mode: ModeSpec, road: Road) -> tuple[bool, bool]:
    return True, (not road.oneway) or (not mode.respect_oneway)


def usable_roads(mode: ModeSpec, roads: list[Road]) -> list[Road]:
    """Roads of the largest strongly connected part of the mode's graph (computed with networkx)."""
    dg = nx.DiGraph()
    for r in roads:
        if _speed_mps(mode, r.highway) is None:
            continue
        fwd, bwd = _directions(mode, r)
        if fwd:
            dg.add_edge(r.u, r.v)
        if bwd:
            dg.add_edge(r.v, r.u)
    big = max(nx.strongly_connected_components(dg), key=len)
    return [r for r in roads if _speed_mps(mode, r.highway) is not None and r.u in big and r.v in big]


def brute_snap(roads: list[Road], xy: np.ndarray, max_snap: float) -> list[tuple[int, float, float] | None]:
    """Per point: (road index, fraction along its drawing, distance) of the nearest road, or None.

    Brute force: the foot of the perpendicular on every segment of every road, clamped to the segment.
    """
    a = np.concatenate([r.xy[:-1] for r in roads])
    b = np.concatenate([r.xy[1:] for r in roads])
    road = np.concatenate([np.full(len(r.xy) - 1, k) for k, r in enumerate(roads)])
    seg = np.hypot(*(b - a).T)
    before = np.concatenate(
        [np.concatenate([[0], np.cumsum(np.hypot(*np.diff(r.xy, axis=0).T))[:-1]]) for r in roads]
    )
    total = np.array([np.hypot(*np.diff(r.xy, axis=0).T).sum() for r in roads])[road]
    out: list[tuple[int, float, float] | None] = []
    for p in xy:
        t = np.clip(np.einsum("ij,ij->i", p - a, b - a) / seg**2, 0, 1)
        dist = np.hypot(*(a + t[:, None] * (b - a) - p).T)
        s = int(np.argmin(dist))
        out.append(
            (int(road[s]), float((before[s] + t[s] * seg[s]) / total[s]), float(dist[s]))
            if dist[s] <= max_snap
            else None
        )
    return out


def reference_graph(
    mode: ModeSpec, roads: list[Road], points: dict[str, np.ndarray], max_snap: float
) -> nx.MultiDiGraph:
    """Roads split at every snapped point, with point nodes ``(name, i)`` and their access legs."""
    g = nx.MultiDiGraph()
    on_road: dict[int, list[tuple[float, object]]] = {}
    for name, xy in points.items():
        for i, s in enumerate(brute_snap(roads, xy, max_snap)):
            g.add_node((name, i))
            if s is None:
                continue
            k, f, a = s
            if f < 1e-9:
                anchor: object = roads[k].u
            elif f > 1 - 1e-9:
                anchor = roads[k].v
            else:
                anchor = ("split", name, i)
                on_road.setdefault(k, []).append((f, anchor))
            t = a / (ACCESS_KMH / 3.6)
            g.add_edge((name, i), anchor, length=a, time=t)
            g.add_edge(anchor, (name, i), length=a, time=t)
    for k, r in enumerate(roads):
        v_mps = _speed_mps(mode, r.highway)
        assert v_mps is not None
        chain = [(0.0, r.u), *sorted(on_road.get(k, []), key=lambda x: x[0]), (1.0, r.v)]
        fwd, bwd = _directions(mode, r)
        for (f0, n0), (f1, n1) in itertools.pairwise(chain):
            length = (f1 - f0) * r.length
            if fwd:
                g.add_edge(n0, n1, length=length, time=length / v_mps)
            if bwd:
                g.add_edge(n1, n0, length=length, time=length / v_mps)
    return g


@functools.cache
def scene(seed: int, mode: ModeSpec, n_demand: int = 40, n_sites: int = 8, max_snap: float = 250.0):
    """Seeds from 100 on cut the roads into pieces (unsimplified data: the network merges them)."""
    g, roads, _ = random_roads(seed, pieces=4 if seed >= 100 else 1)
    rng = np.random.default_rng(seed + 1)
    demand = rng.uniform(-300, 3300, (n_demand, 2)) + np.array([X0, Y0])
    sites = rng.uniform(0, 3000, (n_sites, 2)) + np.array([X0, Y0])
    demand[0] = [X0 - 5000, Y0]  # far off every road: unreachable
    net = build_mode_network(g, crs=WORK, mode=mode)
    kept = usable_roads(mode, roads)
    ref = reference_graph(mode, kept, {"d": demand, "s": sites}, max_snap)
    ds = snap_points(net, demand, max_snap_m=max_snap, access_kmh=ACCESS_KMH)
    ss = snap_points(net, sites, max_snap_m=max_snap, access_kmh=ACCESS_KMH)
    return net, kept, ref, demand, sites, ds, ss


def ref_reach(
    ref: nx.MultiDiGraph, n_demand: int, n_sites: int, *, weight: str, cutoff: float | None, to_site: bool
):
    """Dict (demand i, site j) → shortest value, from networkx."""
    out = {}
    if to_site:
        for i in range(n_demand):
            dist = nx.single_source_dijkstra_path_length(ref, ("d", i), cutoff=cutoff, weight=weight)
            out.update({(i, n[1]): v for n, v in dist.items() if isinstance(n, tuple) and n[0] == "s"})
    else:
        for j in range(n_sites):
            dist = nx.single_source_dijkstra_path_length(ref, ("s", j), cutoff=cutoff, weight=weight)
            out.update({(n[1], j): v for n, v in dist.items() if isinstance(n, tuple) and n[0] == "d"})
    return out


SEEDS = [*range(6), 100, 101, 102, 103]


@pytest.mark.parametrize("seed", SEEDS)
def test_snapping_matches_brute_force(seed: int) -> None:
    net, kept, _, demand, _, ds, _ = scene(seed, CAR)
    brute = brute_snap(kept, demand, 250.0)
    assert ds.reachable.tolist() == [b is not None for b in brute]
    assert not ds.reachable[0]
    for i, b in enumerate(brute):
        if b is None:
            assert ds.edge[i] == -1 and np.isinf(ds.access_m[i])
            continue
        assert ds.access_m[i] == pytest.approx(b[2], abs=1e-5)
        # the snapped position equals the brute-force foot point
        r = kept[b[0]]
        cum = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(r.xy, axis=0).T))])
        foot = np.array(
            [np.interp(b[1] * cum[-1], cum, r.xy[:, 0]), np.interp(b[1] * cum[-1], cum, r.xy[:, 1])]
        )
        assert np.allclose(ds.snapped_xy(net)[i], foot, atol=1e-4)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", [CAR, WALK], ids=["car", "walk"])
@pytest.mark.parametrize("to_site", [True, False], ids=["to_site", "from_site"])
def test_distances_equal_networkx(seed: int, mode: ModeSpec, to_site: bool) -> None:
    net, _, ref, demand, sites, ds, ss = scene(seed, mode)
    for weight, cutoff in (("length", 1500.0), ("time", 300.0)):
        expected = ref_reach(ref, len(demand), len(sites), weight=weight, cutoff=cutoff, to_site=to_site)
        if to_site:
            di, sj, vals = od_pairs(net, ds, ss, weight=weight, limit=cutoff)  # type: ignore[arg-type]
        else:
            sj, di, vals = od_pairs(net, ss, ds, weight=weight, limit=cutoff)  # type: ignore[arg-type]
        got = {(int(i), int(j)): float(v) for i, j, v in zip(di, sj, vals, strict=True)}
        assert got.keys() == expected.keys()
        for key, v in expected.items():
            assert got[key] == pytest.approx(v, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_coverage_is_distance_or_time(seed: int) -> None:
    net, _, ref, demand, sites, ds, ss = scene(seed, CAR)
    d_max, t_max = 900.0, 150.0
    by_d = ref_reach(ref, len(demand), len(sites), weight="length", cutoff=d_max, to_site=True)
    by_t = ref_reach(ref, len(demand), len(sites), weight="time", cutoff=t_max, to_site=True)
    m = coverage_matrix(net, ds, ss, max_distance_m=d_max, max_time_s=t_max)
    got = set(zip(*m.nonzero(), strict=True))
    assert got == set(by_d) | set(by_t)
    only_d = coverage_matrix(net, ds, ss, max_distance_m=d_max, max_time_s=None)
    only_t = coverage_matrix(net, ds, ss, max_distance_m=None, max_time_s=t_max)
    assert set(zip(*only_d.nonzero(), strict=True)) == set(by_d)
    assert set(zip(*only_t.nonzero(), strict=True)) == set(by_t)
    assert m.shape == (len(demand), len(sites)) and m.dtype == bool
    assert m[0].nnz == 0  # the unreachable demand point


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_per_demand_cutoffs(seed: int) -> None:
    net, _, ref, demand, sites, ds, ss = scene(seed, CAR)
    cut = np.where(np.arange(len(demand)) % 2 == 0, 600.0, 1800.0)
    full = ref_reach(ref, len(demand), len(sites), weight="length", cutoff=1800.0, to_site=True)
    expected = {k for k, v in full.items() if v <= cut[k[0]]}
    m = coverage_matrix(net, ds, ss, max_distance_m=cut, max_time_s=None)
    assert set(zip(*m.nonzero(), strict=True)) == expected


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("to_site", [True, False], ids=["to_site", "from_site"])
def test_nearest_equals_networkx(seed: int, to_site: bool) -> None:
    net, _, ref, demand, sites, ds, ss = scene(seed, CAR)
    got = nearest_facility(net, ds, ss, direction="to_site" if to_site else "from_site")
    for weight, values, which in (
        ("length", got.distance_m, got.site_by_distance),
        ("time", got.time_s, got.site_by_time),
    ):
        full = ref_reach(ref, len(demand), len(sites), weight=weight, cutoff=None, to_site=to_site)
        for i in range(len(demand)):
            cands = {j: v for (ii, j), v in full.items() if ii == i}
            if not cands:
                assert np.isinf(values[i]) and which[i] == -1
                continue
            best = min(cands.values())
            assert values[i] == pytest.approx(best, rel=1e-9, abs=1e-6)
            assert cands[int(which[i])] == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert np.isinf(got.distance_m[0]) and got.site_by_time[0] == -1


def test_oneway_direction_matters_hand_graph() -> None:
    """A one-way street A→B→C, 1 km each, plus a slow two-way track C–A of 3 km."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    xy = {1: (X0, Y0), 2: (X0 + 1000, Y0), 3: (X0 + 2000, Y0)}
    for n, (x, y) in xy.items():
        lon, lat = TO_LL.transform(x, y)
        g.add_node(n, x=lon, y=lat)
    g.add_edge(1, 2, length=1000.0, highway="primary", oneway=True)
    g.add_edge(2, 3, length=1000.0, highway="primary", oneway=True)
    for u, v in ((3, 1), (1, 3)):
        g.add_edge(
            u,
            v,
            length=3000.0,
            highway="track",
            oneway=False,
            geometry=shapely.LineString(
                [TO_LL.transform(*xy[u]), TO_LL.transform(X0 + 1000, Y0 + 1000), TO_LL.transform(*xy[v])]
            ),
        )
    net = build_mode_network(g, crs=WORK, mode=CAR)
    # demand 10 m south of x=+200 (on A→B), site 20 m north of x=+1500 (on B→C)
    ds = snap_points(net, np.array([[X0 + 200, Y0 - 10]]))
    ss = snap_points(net, np.array([[X0 + 1500, Y0 + 20]]))
    fwd = nearest_facility(net, ds, ss, direction="to_site")
    assert fwd.distance_m[0] == pytest.approx(10 + 800 + 500 + 20)
    # from the site to the demand: on to C, back along the 3 km track to A, then 200 m to the demand
    back = nearest_facility(net, ds, ss, direction="from_site")
    assert back.distance_m[0] == pytest.approx(20 + 500 + 3000 + 200 + 10)
    t = (10 + 20) / (4.8 / 3.6) + 1300 / (54 / 3.6)
    assert fwd.time_s[0] == pytest.approx(t)
    # same edge, site behind the demand on a one-way street: must loop round (C, track, A)
    ss2 = snap_points(net, np.array([[X0 + 100, Y0]]))
    assert nearest_facility(net, ds, ss2).distance_m[0] == pytest.approx(10 + 800 + 1000 + 3000 + 100)
    ss3 = snap_points(net, np.array([[X0 + 300, Y0]]))
    assert nearest_facility(net, ds, ss3).distance_m[0] == pytest.approx(10 + 100)
    m = coverage_matrix(net, ds, ss, max_distance_m=1330.01, max_time_s=None)
    assert m[0, 0]
    m = coverage_matrix(net, ds, ss, max_distance_m=1329.99, max_time_s=None, direction="to_site")
    assert not m[0, 0]
    m = coverage_matrix(net, ds, ss, max_distance_m=1330.01, max_time_s=None, direction="from_site")
    assert not m[0, 0]


def test_or_semantics_hand_graph() -> None:
    """Primary road (54 km/h = 15 m/s) east of A, track (9 km/h = 2.5 m/s) west of A; all 2 km."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for n, x in ((1, X0 - 2000), (2, X0), (3, X0 + 2000)):
        lon, lat = TO_LL.transform(x, Y0)
        g.add_node(n, x=lon, y=lat)
    for u, v, hw in ((1, 2, "track"), (2, 3, "primary")):
        g.add_edge(u, v, length=2000.0, highway=hw, oneway=False)
        g.add_edge(v, u, length=2000.0, highway=hw, oneway=False)
    net = build_mode_network(g, crs=WORK, mode=CAR)
    sites = snap_points(net, np.array([[X0, Y0]]))  # at node 2
    demand = snap_points(net, np.array([[X0 + 1800, Y0], [X0 - 600, Y0], [X0 + 500, Y0], [X0 - 1900, Y0]]))
    # hand figures: distance 1800, 600, 500, 1900 m; time 120, 240, 33.3, 760 s
    m = coverage_matrix(net, demand, sites, max_distance_m=1000.0, max_time_s=200.0).toarray()[:, 0]
    assert m.tolist() == [True, True, True, False]  # by time, by distance, by both, by neither
    only_t = coverage_matrix(net, demand, sites, max_distance_m=None, max_time_s=200.0).toarray()[:, 0]
    assert only_t.tolist() == [True, False, True, False]
    only_d = coverage_matrix(net, demand, sites, max_distance_m=1000.0, max_time_s=None).toarray()[:, 0]
    assert only_d.tolist() == [False, True, True, False]
    near = nearest_facility(net, demand, sites)
    assert np.allclose(near.distance_m, [1800, 600, 500, 1900])
    assert np.allclose(near.time_s, [120, 240, 500 / 15, 760])


def test_buffer_coverage_brute_force() -> None:
    rng = np.random.default_rng(7)
    d = rng.uniform(0, 5000, (300, 2))
    s = rng.uniform(0, 5000, (40, 2))
    s[0] = d[0]  # a coincident pair is covered (distance 0)
    m = buffer_coverage(d, s, radius_m=800.0)
    brute = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1]) <= 800.0
    assert np.array_equal(m.toarray(), brute)
    per = np.where(np.arange(300) % 2 == 0, 300.0, 1000.0)
    brute2 = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1]) <= per[:, None]
    assert np.array_equal(buffer_coverage(d, s, radius_m=per).toarray(), brute2)
    dist, idx = nearest_straight(d, s)
    full = np.hypot(d[:, None, 0] - s[None, :, 0], d[:, None, 1] - s[None, :, 1])
    assert np.allclose(dist, full.min(axis=1)) and np.array_equal(idx, full.argmin(axis=1))


@pytest.mark.parametrize("seed", [3, 101])
@pytest.mark.parametrize("to_site", [True, False], ids=["to_site", "from_site"])
def test_service_area_contains_exactly_the_reachable_roads(seed: int, to_site: bool) -> None:
    """A point on a road lies in a site's area iff its network distance to (from) the site <= 800 m."""
    net, kept, _, _, sites, _, ss = scene(seed, CAR)
    rng = np.random.default_rng(seed)
    probes: list[list[float]] = []  # random points on the usable roads, away from other roads
    lines = [shapely.LineString(r.xy) for r in kept]
    while len(probes) < 150:
        k = int(rng.integers(len(kept)))
        p = lines[k].interpolate(float(rng.uniform(0.02, 0.98)), normalized=True)
        if min(line.distance(p) for m, line in enumerate(lines) if m != k) > 12.0:
            probes.append([p.x, p.y])
    xy = np.array(probes)
    ref = reference_graph(CAR, kept, {"d": xy, "s": sites}, 250.0)
    dist = ref_reach(ref, len(xy), len(sites), weight="length", cutoff=None, to_site=to_site)
    areas = service_areas(
        net, ss, max_distance_m=800.0, buffer_m=4.0, direction="to_site" if to_site else "from_site"
    )
    checked = [0, 0]
    for j in np.flatnonzero(ss.reachable):
        poly = areas.geometry.iloc[j]
        for i in range(len(xy)):
            d = dist.get((i, int(j)), np.inf)
            gap = poly.distance(shapely.Point(xy[i]))
            if d < 800.0 - 2.0:  # on a reached road
                assert gap < 1e-6
                checked[0] += 1
            elif d > 800.0 + 10.0:  # beyond the corridor: buffer 4 m + half a 2 m cell's diagonal
                assert gap > 1.0
                checked[1] += 1
    assert checked[0] > 20 and checked[1] > 20
    assert all(areas.geometry.iloc[j].is_empty for j in np.flatnonzero(~ss.reachable))


def test_snaps_from_another_network_refused() -> None:
    net, _, _, _, _, ds, ss = scene(1, CAR)
    net2 = build_mode_network(random_roads(2)[0], crs=WORK, mode=CAR)
    with pytest.raises(NetworkError, match="another network"):
        coverage_matrix(net2, ds, ss, max_distance_m=1000.0, max_time_s=None)
    with pytest.raises(NetworkError, match="needs max_distance_m"):
        coverage_matrix(net, ds, ss, max_distance_m=None, max_time_s=None)


def test_coverage_cache(tmp_path) -> None:
    from planner.coverage.snaps import cached_coverage
    from planner.store import DiskStore

    net, _, _, _, _, ds, ss = scene(4, CAR)
    store = DiskStore(tmp_path)

    def hit(store: DiskStore, *args, **kwargs) -> tuple[object, bool]:
        before = store.hits.get("coverage", 0)
        matrix = cached_coverage(store, *args, **kwargs)
        return matrix, store.hits.get("coverage", 0) > before

    m1, hit1 = hit(store, net, ds, ss, max_distance_m=1000.0, max_time_s=200.0)
    m2, hit2 = hit(store, net, ds, ss, max_distance_m=1000.0, max_time_s=200.0)
    assert (not hit1) and hit2 and m2.dtype == bool and (m1 != m2).nnz == 0
    assert (m1 != coverage_matrix(net, ds, ss, max_distance_m=1000.0, max_time_s=200.0)).nnz == 0
    _, hit3 = hit(store, net, ds, ss, max_distance_m=1001.0, max_time_s=200.0)
    _, hit4 = hit(store, net, ds, ss, max_distance_m=1000.0, max_time_s=200.0, direction="from_site")
    _, hit5 = hit(store, net, ds.subset(np.arange(5)), ss, max_distance_m=1000.0, max_time_s=200.0)
    assert not (hit3 or hit4 or hit5)
    _, hit6 = hit(DiskStore(tmp_path, enabled=False), net, ds, ss, max_distance_m=1000.0, max_time_s=200.0)
    assert not hit6


def test_buffer_coverage_skips_points_without_coordinates() -> None:
    d = np.array([[0.0, 0.0], [np.nan, np.nan], [500.0, 0.0]])
    s = np.array([[100.0, 0.0], [np.nan, 1.0]])
    assert buffer_coverage(d, s, radius_m=200.0).toarray().tolist() == [
        [True, False],
        [False, False],
        [False, False],
    ]


# ---------------------------------------------------------------------------------------------
# Exact at the cut-off: whole-metre graphs against node-to-node Dijkstra (networkx)
# ---------------------------------------------------------------------------------------------


def integer_grid(
    seed: int, side: int = 12
) -> tuple[nx.MultiDiGraph, nx.DiGraph, dict[int, tuple[float, float]]]:
    """A jittered grid of whole-metre roads (some links missing, so chains of degree-2 nodes merge;
    some one-way), as an osmnx-style graph and as the networkx reference (metres and seconds)."""
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs="EPSG:4326")
    ref = nx.DiGraph()
    xy = {}
    for i in range(side):
        for j in range(side):
            n = i * side + j
            xy[n] = (X0 + 200.0 * i + rng.uniform(-30, 30), Y0 + 200.0 * j + rng.uniform(-30, 30))
            lon, lat = TO_LL.transform(*xy[n])
            g.add_node(n, x=float(lon), y=float(lat))
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di >= side or j + dj >= side or rng.random() < 0.25:
                    continue
                a, b = i * side + j, (i + di) * side + j + dj
                length = float(round(math.dist(xy[a], xy[b]) * rng.uniform(1.0, 1.2)))
                oneway = rng.random() < 0.15
                seconds = length / (18.0 / 3.6)
                g.add_edge(a, b, length=length, highway="residential", oneway=oneway)
                ref.add_edge(a, b, length=length, time=seconds)
                if not oneway:
                    g.add_edge(b, a, length=length, highway="residential", oneway=False)
                    ref.add_edge(b, a, length=length, time=seconds)
    return g, ref


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_at_the_cutoff_on_whole_metre_graphs(seed: int) -> None:
    g, ref = integer_grid(seed)
    net = build_mode_network(g, crs=WORK, mode=CAR)
    assert net.nodes_merged > 0  # chains were merged: points sit on merged nodes too
    part = max(nx.strongly_connected_components(ref), key=len)
    nodes = np.array(sorted(part))
    rng = np.random.default_rng(seed)
    d_nodes = rng.choice(nodes, size=min(80, nodes.size), replace=False)
    s_nodes = rng.choice(nodes, size=12, replace=False)
    # the points sit exactly on road nodes (as the network has them, after the lon/lat round trip)
    raw = build_mode_network(g, crs=WORK, mode=CAR, simplify=False)
    at = dict(zip(raw.node_ids.tolist(), raw.node_xy, strict=True))
    demand = snap_points(net, np.array([at[int(n)] for n in d_nodes]))
    sites = snap_points(net, np.array([at[int(n)] for n in s_nodes]))
    rev = ref.reverse(copy=True)
    for weight, name in (("length", "max_distance_m"), ("time", "max_time_s")):
        dist = [nx.single_source_dijkstra_path_length(rev, int(s), weight=weight) for s in s_nodes]
        values = np.array(sorted({v for d in dist for n, v in d.items() if n in set(d_nodes.tolist())}))
        # whole metres sum exactly: the reference is plain `<= cut`; seconds are fractions whose sums
        # differ in the last bits with the order of addition, so the reference allows the same 1e-6 s
        slack = 0.0 if weight == "length" else 1e-6
        for cut in values[[len(values) // 4, len(values) // 2, 3 * len(values) // 4]]:
            expected = {
                (i, j)
                for j, d in enumerate(dist)
                for i, n in enumerate(d_nodes)
                if d.get(int(n), np.inf) <= cut + slack
            }
            ties = {(i, j) for i, j in expected if abs(dist[j][int(d_nodes[i])] - cut) <= slack}
            assert ties  # the cut-off is a distance some pair has exactly
            kwargs = {"max_distance_m": None, "max_time_s": None, name: float(cut)}
            got = coverage_matrix(net, demand, sites, **kwargs)
            assert set(zip(*got.nonzero(), strict=True)) == expected
    near = nearest_facility(net, demand, sites)
    ref_d = nx.multi_source_dijkstra_path_length(rev, {int(s) for s in s_nodes}, weight="length")
    ref_t = nx.multi_source_dijkstra_path_length(rev, {int(s) for s in s_nodes}, weight="time")
    assert np.array_equal(near.distance_m, [ref_d[int(n)] for n in d_nodes])  # whole metres, exactly
    assert np.allclose(near.time_s, [ref_t[int(n)] for n in d_nodes], rtol=1e-12, atol=0)


def test_tolerance_rule() -> None:
    from planner.coverage.engine import TOLERANCE, within

    assert TOLERANCE == {"length": 1e-6, "time": 1e-6}
    assert within(np.array([3000.0, 3000.0 + 9e-7, 3000.0 + 2e-6]), 3000.0, "length").tolist() == [
        True,
        True,
        False,
    ]
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for n, (dx, dy) in {1: (0.0, 0.0), 2: (1000.0, 0.0)}.items():
        lon, lat = TO_LL.transform(X0 + dx, Y0 + dy)
        g.add_node(n, x=lon, y=lat)
    for a, b in ((1, 2), (2, 1)):
        g.add_edge(a, b, length=1000.0, highway="residential", oneway=False)
    net = build_mode_network(g, crs=WORK, mode=CAR)
    i = {int(n): k for k, n in enumerate(net.node_ids)}
    site = snap_points(net, net.node_xy[[i[1]]])
    demand = snap_points(net, net.node_xy[[i[2]]])
    for cut, covered in ((1000.0, True), (1000.0 - 5e-7, True), (1000.0 - 2e-6, False)):
        mat = coverage_matrix(net, demand, site, max_distance_m=cut, max_time_s=None)
        assert bool(mat[0, 0]) is covered, cut
        assert (od_pairs(net, demand, site, weight="length", limit=cut)[0].size == 1) is covered
    seconds = 1000.0 / (18.0 / 3.6)
    assert coverage_matrix(net, demand, site, max_distance_m=None, max_time_s=seconds - 5e-7)[0, 0]
    assert not coverage_matrix(net, demand, site, max_distance_m=None, max_time_s=seconds - 2e-6)[0, 0]


def test_grouped_service_areas_are_the_union_of_the_sites_areas() -> None:
    """One area per group label (one multi-source search) equals the union of its sites' own areas
    (one search each), to the tracing grid."""
    net, _, _, _, _, _, ss = scene(3, CAR)
    one = service_areas(net, ss, max_distance_m=800.0, buffer_m=4.0)
    labels = ["a" if i % 3 else "b" for i in range(len(one))]
    grouped = service_areas(net, ss, max_distance_m=800.0, buffer_m=4.0, groups=labels).set_index("group")
    for g in ("a", "b"):
        union = shapely.union_all(one.geometry[[lab == g for lab in labels]].to_numpy())
        mine = grouped.geometry[g]
        # the same reach sampled once, not per site: the outlines agree to the sampling (a cell of
        # buffer_m / 2 = 2 m, grown by the corridor of 4 m)
        assert mine.hausdorff_distance(union) <= 4.0 + 2.0  # the corridor width plus a cell
        assert mine.symmetric_difference(union).area < 0.005 * union.area
