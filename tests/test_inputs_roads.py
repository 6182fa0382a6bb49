"""Road networks from OSM XML, OSM PBF and GraphML."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
from pyproj import Geod
from shapely.geometry import box

from planner.errors import InputDataError, InputFileNotFoundError
from planner.inputs import read_roads

GEOD = Geod(ellps="WGS84")
# Nodes (id: lon, lat). 1-2-3 a residential street (2 is an interior node, simplified away),
# 3-4 a oneway primary, 4-5 a footway, 6-7 a building outline, 8-9 a road under construction,
# 10-11 a track far outside the study area, 3-12 a street leaving the area (12 outside the bbox).
NODES = {
    1: (116.400, 39.900),
    2: (116.402, 39.900),
    3: (116.404, 39.901),
    4: (116.404, 39.903),
    5: (116.406, 39.903),
    6: (116.401, 39.902),
    7: (116.4015, 39.9025),
    8: (116.400, 39.904),
    9: (116.401, 39.905),
    10: (117.500, 40.500),
    11: (117.501, 40.500),
    12: (116.404, 39.9200),
}
WAYS = [
    (100, [1, 2, 3], {"highway": "residential", "name": "甲路", "maxspeed": "30"}),
    (101, [3, 4], {"highway": "primary", "oneway": "yes"}),
    (102, [4, 5], {"highway": "footway"}),
    (103, [6, 7, 6], {"building": "yes"}),
    (104, [8, 9], {"highway": "construction"}),
    (105, [10, 11], {"highway": "track"}),
    (106, [3, 12], {"highway": "tertiary"}),
]
AREA = gpd.GeoDataFrame(
    {"county_code": ["1"], "county_name": ["x"]}, geometry=[box(116.399, 39.899, 116.407, 39.906)], crs=4326
)


def _write_osm(path: Path) -> Path:
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in NODES.items():
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in WAYS:
        body = "".join(f'<nd ref="{r}"/>' for r in refs) + "".join(
            f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()
        )
        lines.append(f'<way id="{wid}" version="1">{body}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _write_pbf(xml: Path, pbf: Path) -> Path:
    import osmium

    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return pbf


def _dist(a: int, b: int) -> float:
    (x1, y1), (x2, y2) = NODES[a], NODES[b]
    return float(GEOD.inv(x1, y1, x2, y2)[2])


def _check_small_graph(G: nx.MultiDiGraph, *, clipped: bool) -> None:
    assert G.graph["crs"] == "epsg:4326"
    nodes = set(G.nodes)
    assert 2 not in nodes  # simplified away
    assert {6, 7, 8, 9}.isdisjoint(nodes)  # building and construction dropped
    assert {1, 3, 4, 5} <= nodes
    assert (10 in nodes) is (not clipped) and (11 in nodes) is (not clipped)
    # 1-3 two-way residential; length = the two great-circle segments (haversine in osmnx, 0.5 % of Geod).
    e13 = G.get_edge_data(1, 3)[0]
    assert e13["highway"] == "residential" and e13["name"] == "甲路" and e13["maxspeed"] == "30"
    assert e13["length"] == pytest.approx(_dist(1, 2) + _dist(2, 3), rel=5e-3)
    assert G.has_edge(3, 1)
    # oneway primary 3 -> 4 only.
    assert G.has_edge(3, 4) and not G.has_edge(4, 3)
    assert G.get_edge_data(3, 4)[0]["oneway"] is True
    assert G.get_edge_data(3, 4)[0]["length"] == pytest.approx(_dist(3, 4), rel=5e-3)


def test_osm_xml(tmp_path: Path) -> None:
    xml = _write_osm(tmp_path / "small.osm")
    G = read_roads(xml)
    _check_small_graph(G, clipped=False)
    assert 12 in G.nodes


def test_osm_xml_clipped_to_the_boundary(tmp_path: Path) -> None:
    G = read_roads(_write_osm(tmp_path / "small.osm"), boundary=AREA, buffer_m=200)
    _check_small_graph(G, clipped=True)
    assert 12 not in G.nodes  # 2 km north of the area: streamed (way touches the bbox) then truncated


def test_pbf_streaming_matches_xml(tmp_path: Path) -> None:
    xml = _write_osm(tmp_path / "small.osm")
    pbf = _write_pbf(xml, tmp_path / "small.osm.pbf")
    G = read_roads(pbf, boundary=AREA, buffer_m=200)
    _check_small_graph(G, clipped=True)
    G_xml = read_roads(xml, boundary=AREA, buffer_m=200)
    assert set(G.edges(keys=False)) == set(G_xml.edges(keys=False))
    # A large buffer keeps the whole of way 106 (node 12 fetched in the third pass).
    G_big = read_roads(pbf, boundary=AREA, buffer_m=3000)
    assert 12 in G_big.nodes and G_big.get_edge_data(3, 12)[0]["length"] == pytest.approx(
        _dist(3, 12), rel=5e-3
    )


def test_pbf_with_the_on_disk_location_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.inputs.roads as roads

    pbf = _write_pbf(_write_osm(tmp_path / "small.osm"), tmp_path / "small.osm.pbf")
    monkeypatch.setattr(roads, "DISK_INDEX_BYTES", 0)  # every file counts as big
    G = read_roads(pbf, boundary=AREA, buffer_m=200)
    _check_small_graph(G, clipped=True)


def test_truncated_pbf_is_a_clear_error(tmp_path: Path) -> None:
    xml = _write_osm(tmp_path / "small.osm")
    pbf = _write_pbf(xml, tmp_path / "small.osm.pbf")
    data = pbf.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError) as err:
        read_roads(cut)
    msg = str(err.value)
    assert "cut.osm.pbf" in msg and "cannot read the OSM file" in msg and "truncated" in msg


def test_graphml_round_trip_and_truncation(tmp_path: Path) -> None:
    G0 = read_roads(_write_osm(tmp_path / "small.osm"))
    path = tmp_path / "roads.graphml"
    ox.save_graphml(G0, path)
    G = read_roads(path)
    assert set(G.edges(keys=False)) == set(G0.edges(keys=False))
    assert isinstance(G.get_edge_data(1, 3)[0]["length"], float)
    G_clip = read_roads(path, boundary=AREA, buffer_m=200)
    assert 10 not in G_clip.nodes and 1 in G_clip.nodes
    # A projected GraphML comes back in WGS-84.
    ox.save_graphml(ox.project_graph(G0, to_crs="EPSG:32650"), tmp_path / "utm.graphml")
    G_utm = read_roads(tmp_path / "utm.graphml")
    assert G_utm.graph["crs"] == "epsg:4326"
    assert G_utm.nodes[1]["x"] == pytest.approx(116.400, abs=1e-7)


def test_bad_road_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError):
        read_roads(tmp_path / "none.graphml")
    (tmp_path / "r.csv").write_text("x")
    with pytest.raises(InputDataError, match="unsupported road file type"):
        read_roads(tmp_path / "r.csv")
    (tmp_path / "r.shp").write_text("x")
    with pytest.raises(InputDataError, match="cannot read the road layer"):
        read_roads(tmp_path / "r.shp")
    (tmp_path / "bad.graphml").write_text("<graphml><broken")
    with pytest.raises(InputDataError, match="cannot read the GraphML"):
        read_roads(tmp_path / "bad.graphml")
    far = gpd.GeoDataFrame(geometry=[box(100.0, 20.0, 100.1, 20.1)], crs=4326)
    with pytest.raises(InputDataError, match="no highway ways inside the study area"):
        read_roads(_write_osm(tmp_path / "small.osm"), boundary=far)
