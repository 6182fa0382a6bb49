"""Road centreline layers (GPKG/SHP/GeoJSON/FGB) with Chinese classes → routable networks.

Fixtures are small line layers built here in a UTM CRS. Expected travel times come from an
independent computation: the great-circle length of the drawn lines (written out below, osmnx's
formula) at the documented class speeds, and a networkx graph wired by hand from the fixture's
intended connections (which crossings join, which do not).
"""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from planner.errors import InputDataError
from planner.inputs.coords import wgs84_to_gcj02
from planner.inputs.roadclasses import CHINESE_CLASSES, normalise_class
from planner.inputs.roads import read_road_table, read_roads
from planner.network import DEFAULT_MODES, build_mode_network

UTM = CRS.from_epsg(32650)
TO_LL = Transformer.from_crs(UTM, 4326, always_xy=True)
X0, Y0 = 500_000.0, 4_000_000.0
CAR = DEFAULT_MODES["car"]


def ll(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LL.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def haversine_m(points: list[tuple[float, float]]) -> float:
    """Great-circle length (R = 6,371,009 m) of a lon/lat polyline, written out independently."""
    total = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        p1, p2, dl = math.radians(y1), math.radians(y2), math.radians(x2 - x1)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        total += 2 * math.asin(math.sqrt(min(1.0, h))) * 6_371_009.0
    return total


def layer(rows: list[dict], crs: object = UTM) -> gpd.GeoDataFrame:
    """A layer from rows with ``geometry`` given in metres from (X0, Y0) (None/empty kept)."""
    geoms = []
    for r in rows:
        g = r["geometry"]
        geoms.append(shapely.affinity.translate(g, X0, Y0) if g is not None and not g.is_empty else g)
    gdf = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows], geometry=geoms, crs=UTM
    )
    return gdf.to_crs(crs) if crs != UTM else gdf


def node_at(table, x: float, y: float) -> int:
    lon, lat = ll(x, y)
    d = np.hypot(table.x - lon, table.y - lat)
    i = int(np.argmin(d))
    assert d[i] < 1e-6, f"no node at ({x}, {y})"
    return i


def car_seconds(table, a: tuple[float, float], b: tuple[float, float], mode=CAR) -> float:
    """Shortest time from the node at ``a`` to the node at ``b`` on the planner's network."""
    net = build_mode_network(table, crs=UTM, mode=mode, simplify=False)
    ids = {int(n): i for i, n in enumerate(net.node_ids)}
    i, j = ids[node_at(table, *a)], ids[node_at(table, *b)]
    return float(dijkstra(net.time, indices=i)[j])


# A square block 1 km a side: south 县道 (A-B), east 乡道 (B-C), north 村道 (C-D, drawn with a bend
# vertex), west 国道 (D-A). Inside, a one-way 支路 from A to C (drawn A→C, oneway=yes, 限速 60).
A, B, C, D = (0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0), (0.0, 1000.0)
BLOCK = [
    {"道路等级": "县道", "名称": "南路", "oneway": None, "geometry": LineString([A, B])},
    {"道路等级": "乡道", "名称": "东路", "oneway": "no", "geometry": LineString([B, C])},
    {"道路等级": "村道", "名称": "北路", "oneway": "", "geometry": LineString([C, (500.0, 1100.0), D])},
    {"道路等级": "国道G312", "名称": "西路", "oneway": "0", "geometry": LineString([D, A])},
    {"道路等级": "支路", "名称": "斜街", "oneway": "yes", "限速": 60, "geometry": LineString([A, C])},
]


def seconds_of(points_m: list[tuple[float, float]], kmh: float) -> float:
    return haversine_m([ll(*p) for p in points_m]) / (kmh / 3.6)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".fgb"])
def test_chinese_classes_speeds_and_oneway(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"roads{suffix}"
    if suffix == ".shp":  # as a bureau's shapefile comes: GBK text, no .cpg file naming it
        layer(BLOCK).to_file(path, encoding="gbk")
        path.with_suffix(".cpg").unlink(missing_ok=True)
    else:
        layer(BLOCK).to_file(path)
    table = read_road_table(path)
    assert table.n_nodes == 4  # A, B, C, D; the bend of the north road is not a node
    speeds = CAR.speeds_kmh
    assert {"县道", "乡道", "村道", "国道", "支路"} <= set(speeds)
    # the block wired by hand in networkx: great-circle lengths at the documented class speeds
    ref = nx.DiGraph()
    for (a, b), points, cls, both in [
        ((A, B), [A, B], "县道", True),
        ((B, C), [B, C], "乡道", True),
        ((C, D), [C, (500.0, 1100.0), D], "村道", True),
        ((D, A), [D, A], "国道", True),
        ((A, C), [A, C], "支路", False),  # one-way A → C
    ]:
        t = seconds_of(points, 60.0 if cls == "支路" else speeds[cls])  # the 支路 at its 限速 (cars take it)
        ref.add_edge(a, b, t=t)
        if both:
            ref.add_edge(b, a, t=t)
    for a in (A, B, C, D):
        for b in (A, B, C, D):
            expected = nx.shortest_path_length(ref, a, b, weight="t")
            assert car_seconds(table, a, b) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    # the one-way matters: C → A is not the reverse of A → C
    assert car_seconds(table, C, A) > car_seconds(table, A, C) + 10
    # walkers ignore one-way streets
    walk = DEFAULT_MODES["walk"]
    assert car_seconds(table, C, A, mode=walk) == pytest.approx(seconds_of([C, A], 4.8), rel=1e-12)
    # the graph form carries the classes, names and one-way flags
    G = read_roads(path)
    assert sorted({d["highway"] for _, _, d in G.edges(data=True)}) == sorted(
        ["县道", "乡道", "村道", "国道", "支路"]
    )
    ac = G.get_edge_data(node_at(table, *A), node_at(table, *C))
    assert ac[0]["oneway"] is True and ac[0]["name"] == "斜街"
    assert G.get_edge_data(node_at(table, *C), node_at(table, *A)) is None


def test_backward_oneway_direction_codes_and_speed_column(tmp_path: Path) -> None:
    rows = [  # NavInfo direction codes: 0/1 two-way, 2 forward, 3 backward
        {"class": "primary", "dir": 3, "maxspeed": "30", "geometry": LineString([A, B])},
        {"class": "primary", "dir": 1, "maxspeed": 0, "geometry": LineString([B, C])},
        {"class": "primary", "dir": 1, "maxspeed": None, "geometry": LineString([C, D])},
        {"class": "primary", "dir": 0, "maxspeed": "60 km/h", "geometry": LineString([D, A])},
        {"class": "primary", "dir": 2, "maxspeed": "100", "geometry": LineString([A, C])},
    ]
    path = tmp_path / "r.gpkg"
    layer(rows).to_file(path)
    table = read_road_table(path)
    primary = CAR.speeds_kmh["primary"]
    ref = nx.DiGraph()
    ref.add_edge(B, A, t=seconds_of([A, B], 30.0))  # backward only; maxspeed replaces the class speed
    for a, b, kmh in [(B, C, primary), (C, D, primary), (D, A, 60.0)]:  # 0 = speed not known
        ref.add_edge(a, b, t=seconds_of([a, b], kmh))
        ref.add_edge(b, a, t=seconds_of([a, b], kmh))
    ref.add_edge(A, C, t=seconds_of([A, C], 100.0))  # forward only
    for a in (A, B, C, D):
        for b in (A, B, C, D):
            expected = nx.shortest_path_length(ref, a, b, weight="t")
            assert car_seconds(table, a, b) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert car_seconds(table, A, B) > car_seconds(table, B, A)


def _cross_layer(extra: dict | None = None, *, shared: bool) -> list[dict]:
    """A horizontal and a vertical road crossing at (500, 0), with or without a vertex there."""
    mid = [(500.0, 0.0)] if shared else []
    horizontal = LineString([(0.0, 0.0), *mid, (1000.0, 0.0)])
    vertical = LineString([(500.0, -500.0), *([(500.0, 0.0)] if shared else []), (500.0, 500.0)])
    rows = [
        {"class": "县道", "geometry": horizontal},
        {"class": "县道", "geometry": vertical},
    ]
    for r, e in zip(rows, (extra or {}).get("levels", [{}, {}]), strict=True):
        r.update(e)
    return rows


def _joined(table) -> bool:
    """Whether the crossing roads meet: a path from the west end to the north end that stays short."""
    t = car_seconds(table, (0.0, 0.0), (500.0, 500.0))
    return math.isfinite(t)


@pytest.mark.parametrize(
    ("shared", "levels", "node_crossings", "joined"),
    [
        (True, None, None, True),  # a shared vertex always connects
        (False, None, None, False),  # no vertex, no level information: an over/underpass
        (False, None, True, True),  # node_crossings=True: every crossing not known to differ
        (False, [{"layer": 1, "bridge": "T"}, {"layer": 0, "bridge": "F"}], None, False),  # bridge over
        (False, [{"layer": 1, "bridge": "T"}, {"layer": 0, "bridge": "F"}], True, False),  # levels differ
        (False, [{"layer": 0}, {"layer": 0}], None, True),  # same layer: they meet
        (True, [{"layer": 1}, {"layer": 0}], None, True),  # a shared vertex connects whatever the layer
        (False, [{"tunnel": "是"}, {"tunnel": "否"}], None, False),  # 隧道 under
    ],
)
def test_crossings_and_levels(tmp_path: Path, shared: bool, levels, node_crossings, joined: bool) -> None:
    rows = _cross_layer({"levels": levels} if levels else None, shared=shared)
    path = tmp_path / "x.gpkg"
    layer(rows).to_file(path)
    table = read_road_table(path, node_crossings=node_crossings)
    assert (table.n_nodes == 5) is joined  # four ends, plus the crossing when joined
    if joined:
        # west end → crossing → north end along 县道: great-circle legs through the crossing node (on
        # shared-vertex layers (500, 0) itself; else where the drawn lines meet)
        ends = {node_at(table, *p) for p in [(0.0, 0.0), (1000.0, 0.0), (500.0, -500.0), (500.0, 500.0)]}
        (x,) = (i for i in range(table.n_nodes) if i not in ends)
        crossing = (float(table.x[x]), float(table.y[x]))
        legs = haversine_m([ll(0.0, 0.0), crossing]) + haversine_m([crossing, ll(500.0, 500.0)])
        expected = legs / (CAR.speeds_kmh["县道"] / 3.6)
        assert car_seconds(table, (0.0, 0.0), (500.0, 500.0)) == pytest.approx(expected, rel=1e-9)
        assert haversine_m([crossing, ll(500.0, 0.0)]) < 0.05
    else:
        # apart: the two roads are two separate components (the network keeps the larger, a tie: one)
        G = read_roads(path, node_crossings=node_crossings)
        assert nx.number_weakly_connected_components(G) == 2


def test_z_coordinates_decide_the_level(tmp_path: Path) -> None:
    over = LineString([(0.0, 0.0, 8.0), (1000.0, 0.0, 8.0)])  # 8 m up
    under = LineString([(500.0, -500.0, 0.0), (500.0, 500.0, 0.0)])
    at_grade = LineString([(0.0, 200.0, 0.5), (1000.0, 200.0, 0.5)])  # crosses `under` at 200 m, 0.5 m up
    path = tmp_path / "z.gpkg"
    layer([{"class": "县道", "geometry": g} for g in (over, under, at_grade)]).to_file(path)
    table = read_road_table(path)

    def near(x: float, y: float) -> bool:
        return min(haversine_m([ll(x, y), (a, b)]) for a, b in zip(table.x, table.y, strict=True)) < 0.05

    assert near(500.0, 200.0)  # joined at grade
    assert not near(500.0, 0.0)  # the overpass is not
    assert table.n_nodes == 7


def test_t_junction_multilines_duplicates_zero_length_and_empty(tmp_path: Path, caplog) -> None:
    rows = [
        {"class": "省道", "geometry": LineString([(0.0, 0.0), (1000.0, 0.0)])},
        # ends on the 省道 where it has no vertex: a T-junction, joined
        {"class": "村道", "geometry": LineString([(400.0, 600.0), (400.0, 0.0)])},
        # a MultiLineString: two parts that do not touch each other
        {
            "class": "乡道",
            "geometry": MultiLineString([[(1000.0, 0.0), (1000.0, 500.0)], [(0.0, 0.0), (0.0, -300.0)]]),
        },
        {"class": "省道", "geometry": LineString([(1000.0, 0.0), (0.0, 0.0)])},  # the 省道 again, reversed
        {"class": "村道", "geometry": LineString([(0.0, -300.0), (0.0, -300.0)])},  # zero length
        {"class": "村道", "geometry": None},
        {"class": "村道", "geometry": LineString()},
    ]
    path = tmp_path / "t.gpkg"
    layer(rows).to_file(path)
    with caplog.at_level(logging.INFO):
        table = read_road_table(path)
    text = caplog.text
    assert "2 rows without geometry skipped" in text
    # the 村道 ends on the 省道 and on its reversed copy: two T-junctions, one node; the copy's two pieces
    assert "2 T-junctions" in text and "1 zero-length lines" in text and "2 repeated pieces" in text
    # nodes: (0,0), (1000,0), (400,600), (400,0), (1000,500), (0,-300)
    assert table.n_nodes == 6
    s = CAR.speeds_kmh
    expected = seconds_of([(400.0, 600.0), (400.0, 0.0)], s["村道"]) + seconds_of(
        [(400.0, 0.0), (0.0, 0.0)], s["省道"]
    )
    expected += seconds_of([(0.0, 0.0), (0.0, -300.0)], s["乡道"])
    assert car_seconds(table, (400.0, 600.0), (0.0, -300.0)) == pytest.approx(expected, rel=1e-12)


def test_gcj02_layers_are_converted(tmp_path: Path) -> None:
    rows = layer(BLOCK, crs=4326)
    lon_lat = shapely.get_coordinates(rows.geometry.to_numpy())
    gx, gy = wgs84_to_gcj02(lon_lat[:, 0], lon_lat[:, 1])
    shifted = rows.copy()
    shifted.geometry = shapely.set_coordinates(rows.geometry.to_numpy().copy(), np.column_stack([gx, gy]))
    path = tmp_path / "gcj.geojson"
    shifted.to_file(path)
    table = read_road_table(path, coordinate_system="gcj02")
    assert np.allclose([table.x[node_at(table, *B)], table.y[node_at(table, *B)]], ll(*B), atol=1e-9)
    raw = read_road_table(path)  # read as WGS-84, the same network lies hundreds of metres off
    assert haversine_m([(raw.x[0], raw.y[0]), (table.x[0], table.y[0])]) > 100.0


def test_study_area_clip(tmp_path: Path) -> None:
    path = tmp_path / "r.gpkg"
    far = {"道路等级": "县道", "geometry": LineString([(50_000.0, 0.0), (51_000.0, 0.0)])}
    layer([*BLOCK, far]).to_file(path)
    area = gpd.GeoDataFrame(geometry=[Polygon([(-10, -10), (1010, -10), (1010, 1110), (-10, 1110)])], crs=UTM)
    area.geometry = area.geometry.translate(X0, Y0)
    assert read_road_table(path).n_nodes == 6
    assert read_road_table(path, boundary=area, buffer_m=100).n_nodes == 4


def test_bad_layers_name_every_problem(tmp_path: Path) -> None:
    no_class = layer([{"名称": "x", "宽度": 7, "geometry": LineString([A, B])}])
    no_class.to_file(tmp_path / "a.gpkg")
    with pytest.raises(InputDataError) as err:
        read_road_table(tmp_path / "a.gpkg")
    msg = str(err.value)
    assert "a.gpkg" in msg and "no road-class column" in msg and "名称, 宽度" in msg and "class_column" in msg

    rows = [
        {"等级": "县道", "oneway": "yes", "geometry": LineString([A, B])},
        {"等级": "快车道", "oneway": "sometimes", "geometry": LineString([B, C])},
        {"等级": "快车道", "oneway": "no", "geometry": LineString([C, D])},
        {"等级": "县道", "oneway": "no", "geometry": Point(0, 0)},
        {"等级": "县道", "oneway": "no", "geometry": Polygon([(0, 0), (1, 0), (1, 1)])},
    ]
    layer(rows).to_file(tmp_path / "b.gpkg")
    with pytest.raises(InputDataError) as err:
        read_road_table(tmp_path / "b.gpkg")
    msg = str(err.value)
    assert "unknown road class '快车道' in column '等级' (FID 2, 3)" in msg
    assert "inputs.roads.classes" in msg and "县道" in msg  # the accepted classes and the override key
    assert "one-way value 'sometimes'" in msg and "FID 2" in msg
    assert "Point geometries" in msg and "FID 4" in msg and "Polygon geometries" in msg and "FID 5" in msg
    assert err.value.exit_code == 2
    # the override maps the unknown value; a named class column that is absent is refused
    table = read_road_table(tmp_path / "a.gpkg", class_column="名称", classes={"x": "县道"})
    assert table.kinds == (("县道",),)
    with pytest.raises(InputDataError, match="the class column 'grade' is not in the layer"):
        read_road_table(tmp_path / "a.gpkg", class_column="grade")


def test_layer_options_refused_for_osm_files(tmp_path: Path) -> None:
    import osmnx as ox

    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, x=116.0, y=39.0)
    g.add_node(2, x=116.01, y=39.0)
    g.add_edge(1, 2, highway="primary", length=860.0, oneway=False)
    ox.save_graphml(g, tmp_path / "r.graphml")
    with pytest.raises(InputDataError, match="class_column apply to road centreline layers"):
        read_road_table(tmp_path / "r.graphml", class_column="x")
    with pytest.raises(InputDataError, match="coordinate_system apply to road centreline layers"):
        read_road_table(tmp_path / "r.graphml", coordinate_system="gcj02")
    # what a scenario passes for every format by default is not a request
    assert read_road_table(tmp_path / "r.graphml", classes={}, known_classes=["专线"]).n_edges == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("国道", "国道"),
        (" 国道G312 ", "国道"),
        ("县道（X012）", "县道"),
        ("G312", "国道"),
        ("x012", "县道"),
        ("城市主干路", "主干路"),
        ("主干道", "主干路"),
        ("快速路", "城市快速路"),
        ("高速", "高速公路"),
        ("Village Road", "村道"),
        ("Primary", "primary"),
        ("track_grade3", "track"),
        ("unknown", "road"),
        ("步行街", "pedestrian"),
        ("二级", "二级公路"),
        ("快车道", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_class_names(value: object, expected: str | None) -> None:
    assert normalise_class(value) == expected


def test_every_chinese_class_has_speeds_in_every_mode() -> None:
    for mode in DEFAULT_MODES.values():
        for cls in CHINESE_CLASSES:
            assert cls in mode.speeds_kmh or cls in mode.excluded, (mode.name, cls)
    assert "高速公路" in DEFAULT_MODES["walk"].excluded and "城市快速路" in DEFAULT_MODES["tricycle"].excluded
    assert normalise_class("mine", aliases={"MINE": "县道"}) == "县道"
    assert normalise_class("专线", known=["专线"]) == "专线"
