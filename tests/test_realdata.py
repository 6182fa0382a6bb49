"""The input readers on the real data in ../shared/data (skipped when that folder is absent).

Expected numbers come from the folders' SOURCES.md (written when the data were assembled) or are
recomputed here independently (rasterio sums, pandas counts, shapely areas).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import rasterio
import shapely

from planner.inputs import (
    read_boundary,
    read_facilities,
    read_population_demand,
    read_roads,
    read_townships,
    read_villages,
    villages_from_osm_places,
    work_crs,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]
COX = DATA / "real" / "coxsbazar_BD"
VAV = DATA / "real" / "vavuniya_LK"
CHINA = DATA / "china"

# From china/<place>/SOURCES.md: area km², townships, village-level units by kind, WorldPop persons
# whose 10 km cell centre is inside the boundary.
CHINA_FACTS = {
    "hoxud": (12746.3, 9, {"village": 26, "community": 8, "other": 2}, 90_585),
    "jilin_city": (27712.1, 150, {"village": 1378, "community": 393, "other": 7}, 4_322_327),
    "jinjiang": (718.5, 22, {"village": 293, "community": 111, "other": 1}, 1_830_186),
    "liaocheng": (8635.0, 136, {"village": 2161, "community": 245, "other": 2}, 6_296_292),
}


def _undirected_km(G: nx.MultiDiGraph) -> float:
    return sum(d["length"] for _, _, d in ox.convert.to_undirected(G).edges(data=True)) / 1000.0


@pytest.fixture(scope="module")
def cox_boundary() -> gpd.GeoDataFrame:
    return read_boundary(COX / "aoi_worldpop_clip_bbox.geojson", county_name="Cox's Bazar window")


def test_coxsbazar_population_total_matches_the_raster(cox_boundary: gpd.GeoDataFrame) -> None:
    crs = work_crs(cox_boundary)
    assert crs.to_epsg() == 32646
    demand, report = read_population_demand(
        COX / "worldpop_coxsbazar.tif", boundary=cox_boundary, crs=crs, resolution_m=200, household_size=4.0
    )
    with rasterio.open(COX / "worldpop_coxsbazar.tif") as src:
        band = src.read(1, masked=True).astype("float64")
        raster_total = float(band.sum())
    assert raster_total == pytest.approx(224_544, abs=1)  # SOURCES.md
    # The window polygon is the raster's footprint, so every person is inside.
    assert report.total_after == pytest.approx(raster_total, rel=1e-9)
    assert demand["population"].sum() == pytest.approx(raster_total, rel=1e-9)
    assert report.total_outside == pytest.approx(0.0, abs=1e-6)
    # 200 m cells over ~115 km²: at most ~2,900 cells (fewer than the 6,123 populated source cells).
    assert 500 < len(demand) < 2_900
    np.testing.assert_allclose(demand["households"], demand["population"] / 4.0)


def test_coxsbazar_roads_graphml_and_pbf(cox_boundary: gpd.GeoDataFrame) -> None:
    G = read_roads(COX / "roads_osmnx_coxsbazar_aoi.graphml")
    assert (len(G), G.number_of_edges()) == (912, 2071)  # SOURCES.md
    assert _undirected_km(G) == pytest.approx(222.9, abs=0.1)
    P = read_roads(COX / "bangladesh_osm_clip1.osm.pbf", boundary=cox_boundary, buffer_m=0)
    assert P.graph["crs"] == "epsg:4326"
    # The pbf clip, streamed to the same window, holds the same street network as the GraphML derived
    # from it (bbox cut and simplification differ only at the edges).
    common = set(P.nodes) & set(G.nodes)
    assert len(common) >= 0.9 * len(G)
    assert _undirected_km(P) == pytest.approx(_undirected_km(G), rel=0.15)
    xs = np.array([d["x"] for _, d in P.nodes(data=True)])
    ys = np.array([d["y"] for _, d in P.nodes(data=True)])
    assert shapely.contains_xy(cox_boundary.geometry.iloc[0].buffer(1e-6), xs, ys).all()
    highways = {
        d["highway"] if isinstance(d["highway"], str) else d["highway"][0] for *_, d in P.edges(data=True)
    }
    assert {"residential", "primary"} <= highways and "construction" not in highways


def test_coxsbazar_post_offices_as_facilities(cox_boundary: gpd.GeoDataFrame) -> None:
    crs = work_crs(cox_boundary)
    f = read_facilities(COX / "osm_postal_pois.csv", crs=crs, boundary=cox_boundary)
    raw = pd.read_csv(COX / "osm_postal_pois.csv")
    assert len(f) == len(raw) == 2
    assert f["type"].tolist() == ["outlet", "outlet"]
    assert f["name"].tolist() == raw["name"].tolist()
    back = f.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, raw["lon"], atol=1e-9)
    np.testing.assert_allclose(back.geometry.y, raw["lat"], atol=1e-9)


@pytest.fixture(scope="module")
def vav_graph() -> nx.MultiDiGraph:
    return read_roads(VAV / "roads_osmnx_vavuniya.graphml")


def test_vavuniya_roads_and_villages(vav_graph: nx.MultiDiGraph) -> None:
    G = vav_graph
    assert (len(G), G.number_of_edges()) == (4893, 11858)  # SOURCES.md
    assert _undirected_km(G) == pytest.approx(1196.8, abs=0.1)
    xs = [d["x"] for _, d in G.nodes(data=True)]
    ys = [d["y"] for _, d in G.nodes(data=True)]
    area = gpd.GeoDataFrame(geometry=[shapely.box(min(xs), min(ys), max(xs), max(ys))], crs=4326)
    crs = work_crs(area)
    v = villages_from_osm_places(VAV / "osm_places.csv", crs=crs, county_code="999999", boundary=area)
    raw = pd.read_csv(VAV / "osm_places.csv")
    lon, lat = raw["lon"], raw["lat"]
    in_box = (lon >= min(xs)) & (lon <= max(xs)) & (lat >= min(ys)) & (lat <= max(ys))
    expected = raw[in_box & raw["place"].isin(["village", "hamlet", "locality", "city", "town"])]
    assert len(v) == len(expected) and len(v) > 20
    assert v["village_code"].is_unique and v["village_code"].str.fullmatch(r"\d{12}").all()
    assert (v["kind"] == "community").sum() == (expected["place"].isin(["city", "town"])).sum()
    assert v["population"].sum() == pytest.approx(expected["population"].sum())
    assert v.loc[v["village_name"] == "Vavuniya", "population"].iloc[0] == 99_600


def test_vavuniya_pbf_streams_the_rural_network(vav_graph: nx.MultiDiGraph) -> None:
    box = shapely.box(80.48, 8.74, 80.52, 8.78)  # Vavuniya town centre
    P = read_roads(VAV / "vavuniya.osm.pbf", boundary=gpd.GeoDataFrame(geometry=[box], crs=4326), buffer_m=0)
    inside = [n for n, d in vav_graph.nodes(data=True) if box.covers(shapely.Point(d["x"], d["y"]))]
    assert len(P) > 100
    # The GraphML was derived from the same pbf: its nodes in the box are found by streaming.
    assert len(set(P.nodes) & set(inside)) >= 0.8 * len(inside)


@pytest.mark.parametrize("place", sorted(CHINA_FACTS))
def test_chinese_places_boundary_registers_and_population(place: str) -> None:
    area_km2, n_townships, kinds, pop_centres = CHINA_FACTS[place]
    folder = CHINA / place
    b = read_boundary(folder / "boundary_county_cnmaps_wgs84.geojson")
    crs = work_crs(b)
    assert b.to_crs(crs).area.sum() / 1e6 == pytest.approx(area_km2, rel=2e-3)
    assert b["county_code"].str.fullmatch(r"\d{6}").all()
    # The raw GCJ-02 file, declared as such, lands on the WGS-84 one (cnmaps converted it with the
    # one-step approximation; ours is exact: they differ by far less than a metre).
    raw = read_boundary(folder / "boundary_county_cnmaps_RAW_GCJ02.geojson", coordinate_system="gcj02")
    union = b.to_crs(crs).geometry.union_all()
    mismatch = raw.to_crs(crs).geometry.union_all().symmetric_difference(union).area
    assert mismatch / union.area < 2e-3
    t = read_townships(folder / "townships_nbs2023_china-division.csv", crs=crs)
    assert len(t) == n_townships and t["township_code"].is_unique
    v = read_villages(folder / "villages_nbs2023_china-division.csv", crs=crs, boundary=b)
    assert v["kind"].value_counts().to_dict() == kinds
    assert v["population"].isna().all() and not v["mappable"].any()
    assert set(v["township_code"]) <= set(t["township_code"])
    demand, report = read_population_demand(
        folder / "worldpop2020_10km.tif", boundary=b, crs=crs, resolution_m=2000, household_size=2.62
    )
    # Independent: each 10 km cell's people weighted by the share of its area inside the boundary.
    with rasterio.open(folder / "worldpop2020_10km.tif") as src:
        values = src.read(1, masked=True).astype("float64").filled(0.0)
        t = src.transform
    area = b.geometry.union_all()
    weighted = 0.0
    for r, c in zip(*np.nonzero(values > 0), strict=True):
        cell = shapely.box(t.c + c * t.a, t.f + (r + 1) * t.e, t.c + (c + 1) * t.a, t.f + r * t.e)
        weighted += values[r, c] * cell.intersection(area).area / cell.area
    assert report.total_after == pytest.approx(weighted, rel=0.03)
    # SOURCES.md counted whole cells by their centre: coarse, so only roughly the same.
    assert report.total_after == pytest.approx(pop_centres, rel=0.2)
    assert report.total_after == pytest.approx(demand["population"].sum(), rel=1e-9)
    assert report.total_window == pytest.approx(report.total_inside + report.total_outside, rel=1e-9)


def test_cnmaps_hoxud_matches_the_shared_boundary() -> None:
    shared = read_boundary(CHINA / "hoxud" / "boundary_county_cnmaps_wgs84.geojson")
    resolved = read_boundary(admin_name="和硕县")
    crs = work_crs(shared)
    a = shared.to_crs(crs).geometry.union_all()
    r = resolved.to_crs(crs).geometry.union_all()
    assert r.area == pytest.approx(a.area, rel=0.01)
    assert a.intersection(r).area / a.union(r).area > 0.99
    assert resolved.loc[0, "county_name"] == "和硕县"
