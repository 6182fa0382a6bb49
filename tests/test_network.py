"""Travel modes from OSM tags, mode networks (largest strongly connected part), snapping, errors."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from planner.errors import CRSError, NetworkError
from planner.network import (
    DEFAULT_MODES,
    ModeSpec,
    build_mode_network,
    mode_from_overrides,
    parse_maxspeed,
    snap_points,
)

WORK = CRS.from_epsg(32650)
TO_LL = Transformer.from_crs(WORK, 4326, always_xy=True)
X0, Y0 = 400_000.0, 3_600_000.0
SHARED = Path(__file__).resolve().parents[2] / "shared"


def graph(nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int, dict]]) -> nx.MultiDiGraph:
    """A WGS-84 MultiDiGraph from node offsets (metres from X0, Y0) and edges with attributes."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for n, (dx, dy) in nodes.items():
        lon, lat = TO_LL.transform(X0 + dx, Y0 + dy)
        g.add_node(n, x=lon, y=lat)
    for u, v, attrs in edges:
        g.add_edge(u, v, **attrs)
    return g


def two_way(u: int, v: int, **attrs) -> list[tuple[int, int, dict]]:
    return [(u, v, {**attrs, "oneway": False}), (v, u, {**attrs, "oneway": False})]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60", 60.0),
        (50, 50.0),
        ("30 mph", 30 * 1.609344),
        ("20 knots", 20 * 1.852),
        (["40", "60"], 50.0),
        ("40;60", 50.0),
        ("['30', '50']", 40.0),
        ("CN:urban", None),
        ("none", None),
        ("signals", None),
        (None, None),
        (float("nan"), None),
        ("0", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    got = parse_maxspeed(value)
    assert got == (pytest.approx(expected) if expected is not None else None)


SQUARE = {1: (0.0, 0.0), 2: (1000.0, 0.0), 3: (1000.0, 1000.0), 4: (0.0, 1000.0)}


def test_speeds_by_class_maxspeed_and_lists() -> None:
    edges = [
        *two_way(1, 2, length=1000.0, highway="primary", maxspeed="60"),
        *two_way(2, 3, length=1000.0, highway=["residential", "tertiary"]),
        *two_way(3, 4, length=1000.0, highway="primary", maxspeed="30 mph"),
        *two_way(4, 1, length=1000.0, highway="mystery"),
    ]
    g = graph(SQUARE, edges)
    car = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    t = car.time.toarray()
    i = {int(n): k for k, n in enumerate(car.node_ids)}
    assert t[i[1], i[2]] == pytest.approx(1000 / (60 / 3.6))  # maxspeed replaces the class speed
    assert t[i[2], i[3]] == pytest.approx(1000 / ((25 + 35) / 2 / 3.6))  # mean of residential, tertiary
    assert t[i[3], i[4]] == pytest.approx(1000 / (30 * 1.609344 / 3.6))
    assert t[i[4], i[1]] == pytest.approx(1000 / (25 / 3.6))  # unknown class: default speed
    tri = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["tricycle"], simplify=False)
    tt = tri.time.toarray()
    assert tt[i[1], i[2]] == pytest.approx(1000 / (25 / 3.6))  # capped at the vehicle's top speed
    walk = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["walk"], simplify=False)
    assert walk.time.toarray()[i[1], i[2]] == pytest.approx(1000 / (4.8 / 3.6))
    faster = mode_from_overrides(DEFAULT_MODES["car"], speeds_kmh={"mystery": 50.0})
    assert build_mode_network(g, crs=WORK, mode=faster, simplify=False).time.toarray()[
        i[4], i[1]
    ] == pytest.approx(72.0)
    assert faster.speeds_kmh["primary"] == DEFAULT_MODES["car"].speeds_kmh["primary"]


def test_vehicles_keep_off_footways_and_respect_oneway() -> None:
    nodes = {**SQUARE, 5: (500.0, 500.0)}
    edges = [
        (1, 2, {"length": 1000.0, "highway": "residential", "oneway": True}),
        *two_way(2, 3, length=1000.0, highway="residential"),
        *two_way(3, 4, length=1000.0, highway="residential"),
        *two_way(4, 1, length=1000.0, highway="residential"),
        *two_way(1, 5, length=700.0, highway="footway"),
        *two_way(5, 3, length=700.0, highway="steps"),
    ]
    g = graph(nodes, edges)
    car = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    assert car.n_nodes == 4 and car.n_arcs == 7  # one-way 1→2 only; the footway node is gone
    assert car.edges_excluded == {"footway": 2, "steps": 2}
    i = {int(n): k for k, n in enumerate(car.node_ids)}
    length = car.length.toarray()
    assert length[i[1], i[2]] == 1000.0 and length[i[2], i[1]] == 0.0  # no arc 2→1
    walk = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["walk"], simplify=False)
    assert walk.n_nodes == 5 and walk.n_arcs == 12  # walkers go both ways everywhere


def test_largest_strongly_connected_part_and_counts() -> None:
    nodes = {**SQUARE, 5: (3000.0, 0.0), 6: (4000.0, 0.0), 7: (5000.0, 0.0)}
    edges = [
        *two_way(1, 2, length=1000.0, highway="residential"),
        *two_way(2, 3, length=1000.0, highway="residential"),
        *two_way(3, 4, length=1000.0, highway="residential"),
        (2, 5, {"length": 2000.0, "highway": "residential", "oneway": True}),  # dead end: cannot come back
        *two_way(6, 7, length=1000.0, highway="residential"),  # an island
    ]
    net = build_mode_network(graph(nodes, edges), crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    assert sorted(net.node_ids.tolist()) == [1, 2, 3, 4]
    assert net.nodes_in == 7 and net.nodes_dropped == 3
    assert net.edges_in == 9 and net.edges_dropped == 3
    # independent check with networkx
    dg = nx.DiGraph([(u, v) for u, v, _ in edges])
    biggest = max(nx.strongly_connected_components(dg), key=lambda c: len(c))
    assert set(biggest) == set(net.node_ids.tolist())
    assert "3 of 7 nodes" in net.summary()


def test_ferries_and_untagged_ways() -> None:
    edges = [
        *two_way(1, 2, length=1000.0, highway="residential"),
        *two_way(2, 3, length=1000.0, route="ferry"),  # no highway tag: a ferry
        *two_way(3, 4, length=1000.0),  # no highway tag and no route: unknown class
        *two_way(4, 1, length=1000.0, highway="residential"),
    ]
    g = graph(SQUARE, edges)
    net = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    i = {int(n): k for k, n in enumerate(net.node_ids)}
    t = net.time.toarray()
    assert t[i[2], i[3]] == pytest.approx(1000 / (10 / 3.6))  # ferry speed
    assert t[i[3], i[4]] == pytest.approx(1000 / (25 / 3.6))  # default speed
    no_ferry = ModeSpec(name="car", speeds_kmh={"residential": 30.0}, default_kmh=20.0, respect_oneway=True)
    net2 = build_mode_network(g, crs=WORK, mode=no_ferry, simplify=False)
    assert net2.edges_excluded == {"ferry": 2}
    assert net2.n_nodes == 4  # still connected around the other side


def test_edges_without_geometry_and_snapping_positions() -> None:
    edges = [
        *two_way(1, 2, length=1100.0, highway="residential"),
        *two_way(2, 3, length=1000.0, highway="residential"),
        *two_way(3, 4, length=1000.0, highway="residential"),
        *two_way(4, 1, length=1000.0, highway="residential"),
    ]
    net = build_mode_network(graph(SQUARE, edges), crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    pts = np.array([[X0 + 250.0, Y0 - 40.0], [X0 + 1200.0, Y0 + 500.0], [X0 - 5000.0, Y0]])
    s = snap_points(net, pts, max_snap_m=1000.0)
    assert s.reachable.tolist() == [True, True, False]
    assert s.access_m[:2] == pytest.approx([40.0, 200.0], abs=1e-6)
    assert s.access_s[0] == pytest.approx(40.0 / (4.8 / 3.6))
    assert np.allclose(s.snapped_xy(net)[:2], [[X0 + 250.0, Y0], [X0 + 1000.0, Y0 + 500.0]], atol=1e-6)
    assert s.edge[2] == -1 and np.isinf(s.access_m[2]) and s.n_unreachable == 1
    e = s.edge[0]
    f = s.fraction[0] if net.node_ids[net.edge_u[e]] == 1 else 1 - s.fraction[0]
    assert f == pytest.approx(0.25)


def test_snap_refuses_degrees_and_wrong_crs_and_far_points() -> None:
    edges = two_way(1, 2, length=1000.0, highway="residential")
    net = build_mode_network(graph({1: (0, 0), 2: (1000, 0)}, edges), crs=WORK, mode=DEFAULT_MODES["walk"])
    lonlat = np.column_stack(TO_LL.transform([X0 + 10], [Y0 + 10]))
    with pytest.raises(NetworkError, match="outside the walk network's extent") as err:
        snap_points(net, lonlat, label="demand")
    assert "not degrees" in str(err.value)
    with pytest.raises(CRSError, match="geographic"):
        snap_points(net, lonlat, crs="EPSG:4326")
    with pytest.raises(CRSError, match="differs"):
        snap_points(net, np.array([[X0, Y0]]), crs="EPSG:32651")
    # points without coordinates (a register without locations) are unreachable, not an error
    partly = snap_points(net, np.array([[np.nan, np.nan], [X0 + 10, Y0 + 10]]))
    assert partly.reachable.tolist() == [False, True] and np.isinf(partly.access_m[0])
    far = snap_points(net, np.array([[X0 + 500, Y0 + 5000], [X0 + 500, Y0 + 10]]), max_snap_m=1000.0)
    assert far.reachable.tolist() == [False, True]
    assert snap_points(net, np.empty((0, 2))).edge.size == 0


def test_build_refuses_bad_inputs() -> None:
    only_foot = graph({1: (0, 0), 2: (1000, 0)}, two_way(1, 2, length=1000.0, highway="footway"))
    with pytest.raises(NetworkError, match="no roads usable by mode 'car'") as err:
        build_mode_network(only_foot, crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    assert "footway: 2" in str(err.value)
    ok = graph({1: (0, 0), 2: (1000, 0)}, two_way(1, 2, length=1000.0, highway="residential"))
    with pytest.raises(CRSError, match="geographic"):
        build_mode_network(ok, crs="EPSG:4326", mode=DEFAULT_MODES["car"], simplify=False)
    bad = graph({1: (0, 0), 2: (1000, 0)}, two_way(1, 2, length="abc", highway="residential"))
    with pytest.raises(NetworkError, match="length"):
        build_mode_network(bad, crs=WORK, mode=DEFAULT_MODES["car"], simplify=False)
    with pytest.raises(NetworkError, match="empty"):
        build_mode_network(
            nx.MultiDiGraph(crs="EPSG:4326"), crs=WORK, mode=DEFAULT_MODES["car"], simplify=False
        )
    with pytest.raises(NetworkError, match="positive"):
        ModeSpec(name="x", speeds_kmh={"primary": -5.0}, default_kmh=0.0)


def test_curved_geometry_orientation_and_pickle() -> None:
    bend = shapely.LineString(
        [TO_LL.transform(X0 + 1000, Y0), TO_LL.transform(X0 + 500, Y0 + 400), TO_LL.transform(X0, Y0)]
    )
    # geometry given in the v→u direction on purpose: the network orients it u→v
    edges = two_way(1, 2, length=1300.0, highway="residential", geometry=bend)
    net = build_mode_network(graph({1: (0, 0), 2: (1000, 0)}, edges), crs=WORK, mode=DEFAULT_MODES["walk"])
    assert net.n_edges == 1  # the two directions are one physical edge
    geom = net.edge_geometry[0]
    start = np.array(geom.coords[0])
    assert np.allclose(start, net.node_xy[net.edge_u[0]], atol=1e-6)
    s = snap_points(net, np.array([[X0 + 500, Y0 + 450]]))
    assert s.access_m[0] == pytest.approx(50.0, abs=1e-6)
    clone = pickle.loads(pickle.dumps(net))
    assert clone.digest == net.digest


@pytest.mark.realdata
def test_real_osm_graph_vavuniya() -> None:
    path = SHARED / "data" / "real" / "vavuniya_LK" / "roads_osmnx_vavuniya.graphml"
    if not path.exists():
        pytest.skip("shared real data not available")
    g = nx.read_graphml(path)  # plain GraphML: every attribute a string, geometry as WKT
    assert isinstance(next(iter(g.edges(data=True)))[2].get("length"), str)
    crs = CRS.from_epsg(32644)  # UTM 44N covers Vavuniya
    from scipy.sparse.csgraph import dijkstra

    for name in ("walk", "car"):
        mode = DEFAULT_MODES[name]
        net = build_mode_network(g, crs=crs, mode=mode)
        assert net.n_nodes > 100 and net.nodes_merged >= 0
        assert net.nodes_dropped + net.n_nodes + net.nodes_merged == net.nodes_in
        # independent reference: networkx on the raw GraphML edges the mode may use
        dg = nx.DiGraph()
        for u, v, d in g.edges(data=True):
            hw = d.get("highway", "")
            classes = ast.literal_eval(hw) if hw.startswith("[") else [hw]
            if any(c in mode.excluded for c in classes):
                continue
            length = float(d["length"])
            pairs = [(u, v)] if (mode.respect_oneway and d.get("oneway") == "True") else [(u, v), (v, u)]
            for a, b in pairs:
                if length < dg.get_edge_data(a, b, {"w": np.inf})["w"]:
                    dg.add_edge(a, b, w=length)
        biggest = max(nx.strongly_connected_components(dg), key=lambda c: len(c))
        assert net.n_nodes + net.nodes_merged == len(biggest)
        ref = nx.single_source_dijkstra_path_length(dg, str(net.node_ids[0]), weight="w")
        ours = dijkstra(net.length, indices=0)
        expected = np.array([ref[str(k)] for k in net.node_ids])
        assert np.allclose(ours, expected, rtol=1e-9, atol=1e-6)


def test_network_cache_round_trip(tmp_path: Path) -> None:
    from planner.network.store import mode_networks
    from planner.store import DiskStore

    bend = shapely.LineString(
        [TO_LL.transform(X0, Y0), TO_LL.transform(X0 + 500, Y0 + 300), TO_LL.transform(X0 + 1000, Y0)]
    )
    edges = [
        *two_way(1, 2, length=1200.0, highway="residential", geometry=bend.wkt),
        *two_way(2, 3, length=1000.0, highway="residential"),
        *two_way(3, 4, length=1000.0, highway="footway"),
        *two_way(4, 1, length=1000.0, highway="residential"),
        *two_way(3, 1, length=1500.0, highway="primary"),
    ]
    roads_file = tmp_path / "roads.graphml"
    nx.write_graphml(graph(SQUARE, edges), roads_file)
    reads: list[int] = []

    def read() -> nx.MultiDiGraph:
        reads.append(1)
        return nx.read_graphml(roads_file)

    cache = DiskStore(tmp_path / "cache")
    modes = [DEFAULT_MODES["walk"], DEFAULT_MODES["car"]]
    first, hit = mode_networks(cache, [roads_file], crs=WORK, modes=modes, read_roads=read)
    assert not hit and len(reads) == 1  # read once for both modes
    second, hit = mode_networks(cache, [roads_file], crs=WORK, modes=modes, read_roads=read)
    assert hit and len(reads) == 1
    for name in ("walk", "car"):
        a, b = first[name], second[name]
        assert a.digest == b.digest and a.summary() == b.summary()
        assert (a.length != b.length).nnz == 0 and np.array_equal(a.node_ids, b.node_ids)
        assert all(ga.equals_exact(gb, 0) for ga, gb in zip(a.edge_geometry, b.edge_geometry, strict=True))
        assert all(
            np.array_equal(getattr(a, k), getattr(b, k)) for k in ("bp_ptr", "bp_geom", "bp_fwd", "bp_bwd")
        )
    car = first["car"]
    assert car.n_nodes + car.nodes_merged == 4 and car.edges_excluded == {"footway": 2}
    # another mode, another CRS or other file bytes: a miss
    _, hit = mode_networks(cache, [roads_file], crs=WORK, modes=[DEFAULT_MODES["tricycle"]], read_roads=read)
    assert not hit
    _, hit = mode_networks(cache, [roads_file], crs="EPSG:32651", modes=modes[:1], read_roads=read)
    assert not hit
    roads_file.write_text(roads_file.read_text().replace("1500.0", "1600.0"))
    changed, hit = mode_networks(cache, [roads_file], crs=WORK, modes=modes[1:], read_roads=read)
    assert not hit and changed["car"].digest != first["car"].digest
    # a corrupt entry is recomputed, not fatal
    for f in (tmp_path / "cache").glob("network-*.npz"):
        f.write_bytes(b"not a zip")
    again, hit = mode_networks(cache, [roads_file], crs=WORK, modes=modes[1:], read_roads=read)
    assert not hit and again["car"].digest == changed["car"].digest


def test_simplification_merges_chains_exactly() -> None:
    """A 3-piece road 1-5-6-2 (walk) with a junction at 2; piece classes and OSM lengths differ."""
    nodes = {**SQUARE, 5: (300.0, 0.0), 6: (600.0, 0.0), 7: (0.0, -500.0)}
    edges = [
        *two_way(1, 7, length=500.0, highway="residential"),
        *two_way(1, 5, length=330.0, highway="steps"),
        *two_way(5, 6, length=300.0, highway="residential"),
        *two_way(6, 2, length=420.0, highway="path"),
        *two_way(2, 3, length=1000.0, highway="residential"),
        *two_way(3, 1, length=1500.0, highway="residential"),
        *two_way(2, 4, length=1500.0, highway="residential"),
    ]
    g = graph(nodes, edges)
    plain = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["walk"], simplify=False)
    simple = build_mode_network(g, crs=WORK, mode=DEFAULT_MODES["walk"])
    assert plain.n_nodes == 7 and simple.n_nodes == 4  # junctions 1, 2 and dead ends 4, 7 remain
    assert simple.nodes_merged == 3  # 5, 6 and 3 (3 joins two pieces: 2-3-1 is one edge too)
    assert sorted(simple.node_ids.tolist()) == [1, 2, 4, 7]
    assert "3 non-junction nodes merged" in simple.summary()
    e = int(np.flatnonzero(np.isclose(simple.edge_length_m, 1050.0))[0])
    expected_t = 330 / (2.4 / 3.6) + 300 / (4.8 / 3.6) + 420 / (4.5 / 3.6)
    assert simple.edge_fwd_s[e] == pytest.approx(expected_t)
    # a point 100 m along the residential piece: legs exactly as on the unmerged pieces
    pt = np.array([[X0 + 400.0, Y0 + 30.0]])
    s = snap_points(simple, pt)
    start_is_1 = simple.node_ids[simple.edge_u[s.edge[0]]] == 1
    along = s.along_m[0] if start_is_1 else simple.edge_length_m[s.edge[0]] - s.along_m[0]
    assert along == pytest.approx(430.0)
    t_from_1 = s.along_fwd_s[0] if start_is_1 else simple.edge_bwd_s[s.edge[0]] - s.along_bwd_s[0]
    assert t_from_1 == pytest.approx(330 / (2.4 / 3.6) + 100 / (4.8 / 3.6))
    assert simple.max_speed_mps == pytest.approx(4.8 / 3.6)


def test_ring_without_junctions() -> None:
    """A closed ring of four 1 km two-way pieces (a road loop on its own) becomes one loop edge."""
    from planner.coverage import nearest_facility

    edges = [
        *two_way(1, 2, length=1000.0, highway="residential"),
        *two_way(2, 3, length=1000.0, highway="residential"),
    ]
    edges += [
        *two_way(3, 4, length=1000.0, highway="residential"),
        *two_way(4, 1, length=1000.0, highway="residential"),
    ]
    net = build_mode_network(graph(SQUARE, edges), crs=WORK, mode=DEFAULT_MODES["car"])
    assert net.n_nodes == 1 and net.n_edges == 1 and net.nodes_merged == 3
    assert net.edge_u[0] == net.edge_v[0] and net.edge_length_m[0] == pytest.approx(4000.0)
    demand = snap_points(net, np.array([[X0 + 100.0, Y0 - 5.0], [X0 + 1005.0, Y0 + 900.0]]))
    site = snap_points(net, np.array([[X0 - 5.0, Y0 + 300.0]]))  # on piece 4-1, 300 m from node 1
    near = nearest_facility(net, demand, site)
    # hand figures: 5 + 100 to node 1 + 300 + 5; and 5 + 100 to node 3 + 1000 to node 4 + 700 + 5
    assert near.distance_m == pytest.approx([410.0, 1810.0], abs=1e-6)
    assert near.time_s == pytest.approx(
        [10 / (4.8 / 3.6) + 400 / (25 / 3.6), 10 / (4.8 / 3.6) + 1800 / (25 / 3.6)]
    )


def _tagged_graph() -> nx.MultiDiGraph:
    """Edges with every kind of tag the readers meet: lists, stringified lists, units, ferries, one-way
    (both ways), drawn geometry (some stored v → u), parallel edges."""
    nodes = {**SQUARE, 5: (500.0, 500.0), 6: (1500.0, 500.0)}
    bend = shapely.LineString(
        [TO_LL.transform(X0 + 1000, Y0), TO_LL.transform(X0 + 600, Y0 + 300), TO_LL.transform(X0, Y0)]
    )
    edges = [
        *two_way(1, 2, length=1300.0, highway="primary", maxspeed="60", geometry=bend),
        *two_way(2, 3, length=1000.0, highway=["residential", "tertiary"], maxspeed=["30", "50"]),
        (3, 4, {"length": 1000.0, "highway": "secondary", "oneway": True, "maxspeed": "30 mph"}),
        (4, 3, {"length": 1000.0, "highway": "footway", "oneway": False}),
        *two_way(4, 1, length=1000.0, highway="mystery", maxspeed="CN:urban"),
        *two_way(1, 5, length=710.0, route="ferry"),
        *two_way(5, 3, length=707.0, highway="track", maxspeed="20"),
        *two_way(3, 6, length=710.0, highway="steps"),
        *two_way(2, 6, length=720.0, highway="service"),
        (2, 6, {"length": 650.0, "highway": "unclassified", "oneway": True}),  # a parallel edge
    ]
    return graph(nodes, edges)


def test_vectorised_speeds_equal_the_per_edge_rule() -> None:
    from planner.inputs.roadtable import table_from_graph
    from planner.network.modes import edge_speed_kmh, mode_speeds

    g = _tagged_graph()
    table = table_from_graph(g)
    slow_ferry = ModeSpec("boat", {"track": 9.0}, 11.0, "cap", True, frozenset({"steps"}), ferry_kmh=None)
    for mode in (*DEFAULT_MODES.values(), slow_ferry):
        speeds, excluded = mode_speeds(table, mode)
        counted: dict[str, int] = {}
        for e, (_, _, d) in enumerate(g.edges(data=True)):
            one, label = edge_speed_kmh(d, mode)
            if one is None:
                assert np.isnan(speeds[e])
                counted[label] = counted.get(label, 0) + 1
            else:
                assert speeds[e] == one  # the same float, not just close
        assert excluded == counted


def test_graphml_table_equals_osmnx_load(tmp_path: Path) -> None:
    """The streamed GraphML reader gives the networks osmnx.load_graphml gives (old path), array for array."""
    import osmnx as ox

    from planner.inputs.roads import read_road_table

    path = tmp_path / "r.graphml"
    ox.save_graphml(_tagged_graph(), path)
    table = read_road_table(path)
    G = ox.load_graphml(path)
    for mode in DEFAULT_MODES.values():
        for simplify in (True, False):
            a = build_mode_network(G, crs=WORK, mode=mode, simplify=simplify)
            b = build_mode_network(table, crs=WORK, mode=mode, simplify=simplify)
            assert a.digest == b.digest and a.summary() == b.summary()
            assert np.array_equal(a.node_ids, b.node_ids)
            assert all(x.equals_exact(y, 0) for x, y in zip(a.edge_geometry, b.edge_geometry, strict=True))
    # a projected GraphML comes back in WGS-84 with the same nodes
    ox.save_graphml(ox.project_graph(G, to_crs="EPSG:32650"), tmp_path / "utm.graphml")
    utm = read_road_table(tmp_path / "utm.graphml")
    where = {int(n): i for i, n in enumerate(table.node_id)}
    back = np.array([where[int(n)] for n in utm.node_id])
    assert np.allclose(utm.x, table.x[back], atol=1e-9) and np.allclose(utm.y, table.y[back], atol=1e-9)


def test_network_key_covers_reader_options_and_shapefile_parts(tmp_path: Path) -> None:
    from planner.network.store import network_key

    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        (tmp_path / f"r{suffix}").write_bytes(b"x" + suffix.encode())
    car = DEFAULT_MODES["car"]
    key = network_key([tmp_path / "r.shp"], crs=WORK, mode=car)
    assert key == network_key([tmp_path / "r.shp"], crs=WORK, mode=car, options={})
    assert key != network_key([tmp_path / "r.shp"], crs=WORK, mode=car, options={"classes": {"x": "县道"}})
    (tmp_path / "r.dbf").write_bytes(b"the attributes changed")
    assert key != network_key([tmp_path / "r.shp"], crs=WORK, mode=car)
