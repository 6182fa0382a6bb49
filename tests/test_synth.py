"""Tests of the synthetic county generator (planner.synth), checked on the written files.

Every figure is recomputed here independently of the generator: raster sums with rasterio,
distances with pyproj + shapely in EPSG:4548, connectivity with networkx on the GraphML that
osmnx loads back, gaps by point-in-polygon counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer

from planner.errors import InputDataError
from planner.synth import SynthCounty, SynthParams, synthesize, synthesize_county, write_county
from planner.synth.names import chinese_number

DRIVE = {
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "living_street",
}
PICKUP = {"outlet", "locker", "village_station", "delivery_centre"}
TO_M = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthCounty, dict[str, Path]]:
    county = synthesize(SynthParams())
    paths = write_county(county, tmp_path_factory.mktemp("demo"))
    return county, paths


@pytest.fixture(scope="module")
def villages(demo: tuple[SynthCounty, dict[str, Path]]) -> pd.DataFrame:
    return pd.read_csv(demo[1]["villages"], dtype={"village_code": str, "township_code": str})


@pytest.fixture(scope="module")
def townships(demo: tuple[SynthCounty, dict[str, Path]]) -> gpd.GeoDataFrame:
    return gpd.read_file(demo[1]["townships"])


@pytest.fixture(scope="module")
def facilities(demo: tuple[SynthCounty, dict[str, Path]]) -> pd.DataFrame:
    df = pd.read_csv(demo[1]["facilities"], dtype={"village_code": str})
    df["village_code"] = df["village_code"].fillna("")
    return df


@pytest.fixture(scope="module")
def roads(demo: tuple[SynthCounty, dict[str, Path]]) -> nx.MultiDiGraph:
    return ox.load_graphml(demo[1]["roads"])


def _xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y = TO_M.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


def _road_lines(g: nx.MultiDiGraph, *, highways: set[str] | None = None) -> list[shapely.LineString]:
    lines = []
    for u, v, d in g.edges(data=True):
        if highways is not None and d["highway"] not in highways:
            continue
        if "geometry" in d:
            lon, lat = d["geometry"].xy
        else:
            lon, lat = [g.nodes[u]["x"], g.nodes[v]["x"]], [g.nodes[u]["y"], g.nodes[v]["y"]]
        lines.append(shapely.linestrings(_xy(np.asarray(lon), np.asarray(lat))))
    return lines


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------- determinism
def test_same_params_give_byte_identical_files(
    tmp_path: Path, demo: tuple[SynthCounty, dict[str, Path]]
) -> None:
    summary = synthesize_county(SynthParams(), tmp_path / "again")
    first = _digest(demo[1]["readme"].parent)
    again = _digest(tmp_path / "again")
    assert len(first) == 8
    assert first == again
    assert summary.counts["villages"] >= 80


DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.skipif(not (DATA / "README.md").exists(), reason="the committed demo data is absent")
def test_committed_demo_is_the_generators_output(demo: tuple[SynthCounty, dict[str, Path]]) -> None:
    """data/ must be regenerated (``planner synth``) whenever the generator changes."""
    made = _digest(demo[1]["readme"].parent)
    committed = {k: v for k, v in _digest(DATA).items() if k in made}
    assert committed == made


def test_other_seed_gives_other_county() -> None:
    a = synthesize(SynthParams(seed=7, n_villages=90, extent_km=22.0))
    b = synthesize(SynthParams(seed=8, n_villages=90, extent_km=22.0))
    assert not np.array_equal(a.villages["lon"].to_numpy(), b.villages["lon"].to_numpy())


# --------------------------------------------------------------------------------- population
def test_raster_format_and_total_match_register(
    demo: tuple[SynthCounty, dict[str, Path]], villages: pd.DataFrame
) -> None:
    with rasterio.open(demo[1]["population"]) as src:
        assert src.crs.to_epsg() == 4548
        assert src.res == (100.0, 100.0)
        assert src.dtypes[0] == "float32"
        assert src.compression is not None and src.compression.name.lower() == "deflate"
        band = src.read(1, masked=True)
        transform = src.transform
    total = float(band.compressed().astype(np.float64).sum())
    assert abs(total - villages["population"].sum()) <= 1.0
    assert (band.compressed() >= 0).all()
    # each settlement's people lie around its point: at least half within 600 m
    rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (band.filled(0) > 0))
    cx, cy = rasterio.transform.xy(transform, rows, cols)
    cells = np.column_stack([cx, cy])
    vals = band.filled(0)[rows, cols].astype(np.float64)
    pts = _xy(villages["lon"].to_numpy(), villages["lat"].to_numpy())
    for (x, y), pop in zip(pts, villages["population"], strict=True):
        near = np.hypot(cells[:, 0] - x, cells[:, 1] - y) <= 600.0
        assert vals[near].sum() >= 0.5 * pop


def test_raster_outside_county_is_nodata(demo: tuple[SynthCounty, dict[str, Path]]) -> None:
    county = gpd.read_file(demo[1]["county"]).to_crs("EPSG:4548").geometry.iloc[0]
    with rasterio.open(demo[1]["population"]) as src:
        arr = src.read(1)
        rows, cols = np.indices(arr.shape)
        x, y = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
    inside = shapely.contains_xy(county, np.asarray(x), np.asarray(y)).reshape(arr.shape)
    assert (arr[~inside] == -1).all()
    assert (arr[inside] >= 0).all()


# --------------------------------------------------------------------------------- register
def test_codes_follow_nbs_rules(villages: pd.DataFrame, townships: gpd.GeoDataFrame) -> None:
    codes = villages["village_code"]
    assert codes.str.fullmatch(r"\d{12}").all() and codes.is_unique
    assert (codes.str[:6] == "379901").all()
    assert (codes.str[:9] == villages["township_code"]).all()
    assert set(villages["township_code"]) <= set(townships["township_code"])
    assert townships["township_code"].str.fullmatch(r"379901\d{3}").all()
    tail = codes.str[9:].astype(int)
    kind = villages["kind"]
    assert ((tail >= 1) & (tail <= 199) == (kind == "community")).all()
    assert ((tail >= 200) & (tail <= 399) == (kind == "village")).all()
    # township kind by code range (NBS): 001-099 街道, 100-199 镇, 200-399 乡
    tcode = townships["township_code"].str[6:].astype(int)
    name = townships["township_name"]
    assert (name[tcode < 100].str.endswith("街道")).all()
    assert (name[(tcode >= 100) & (tcode < 200)].str.endswith("镇")).all()
    assert (name[tcode >= 200].str.endswith("乡")).all()


def test_counts_and_urban_rural_codes(villages: pd.DataFrame, townships: gpd.GeoDataFrame) -> None:
    names = townships["township_name"]
    assert names.str.endswith("街道").sum() == 2
    assert 6 <= names.str.endswith("镇").sum() <= 8
    assert 1 <= names.str.endswith("乡").sum() <= 2
    adm = villages[villages["kind"] == "village"]
    assert 80 <= len(adm) <= 200
    assert set(villages["urban_rural_code"]) <= {111, 112, 121, 122, 123, 210, 220}
    assert {111, 112, 121, 210, 220} <= set(villages["urban_rural_code"])
    # the seat: communities of the 街道, tens of thousands of people, 111 core and 112 edge
    street_codes = townships.loc[names.str.endswith("街道"), "township_code"]
    seat = villages[villages["township_code"].isin(street_codes) & (villages["kind"] == "community")]
    assert 60_000 <= seat["population"].sum() <= 90_000
    assert set(seat["urban_rural_code"]) == {111, 112}
    assert (seat.groupby("township_code").size() >= 3).all()
    # every 镇 has a 121 centre community; every 乡 has a 210 centre village
    for code, tname in zip(townships["township_code"], names, strict=True):
        own = villages[villages["township_code"] == code]
        if tname.endswith("镇"):
            assert (own["urban_rural_code"] == 121).sum() == 1
        if tname.endswith("乡"):
            assert (own["urban_rural_code"] == 210).sum() == 1
            assert (own.loc[own["kind"] == "community", "urban_rural_code"] != 121).all()
        assert len(own[own["kind"] == "village"]) >= 3
    # villages: a few hundred to ~2,500 people, 2.5-3.1 persons per household
    assert adm["population"].between(100, 2_500).all()
    ratio = villages["population"] / villages["households"]
    assert ratio.between(2.55, 3.05).all()


def test_village_names_look_chinese_and_unique_per_township(villages: pd.DataFrame) -> None:
    adm = villages[villages["kind"] == "village"]
    assert adm["village_name"].str.endswith("村").all()
    assert adm["village_name"].str.fullmatch(r"[\u4e00-\u9fff]{2,6}").all()
    assert not adm.duplicated(["township_code", "village_name"]).any()
    comm = villages[villages["kind"] == "community"]
    assert comm["village_name"].str.endswith("社区").all()


def test_boundaries_are_geojson_with_contract_columns(
    demo: tuple[SynthCounty, dict[str, Path]], townships: gpd.GeoDataFrame
) -> None:
    doc = json.loads(demo[1]["county"].read_text("utf-8"))
    assert doc["features"][0]["properties"] == {"county_code": "379901", "county_name": "示范县"}
    county = gpd.read_file(demo[1]["county"])
    lon0, lat0, lon1, lat1 = county.total_bounds
    assert 116.3 <= lon0 < lon1 <= 116.9 and 36.2 <= lat0 < lat1 <= 36.7
    c_m = county.to_crs("EPSG:4548").geometry.iloc[0]
    assert 500e6 < c_m.area < 1_100e6  # about 30 x 30 km, irregular
    t_m = townships.to_crs("EPSG:4548")
    assert abs(t_m.area.sum() - c_m.area) / c_m.area < 1e-3  # a partition of the county
    assert (t_m.area > 5e6).all()


# --------------------------------------------------------------------------------- roads
def test_graphml_loads_with_osm_conventions(roads: nx.MultiDiGraph) -> None:
    assert roads.graph["crs"] == "epsg:4326"
    assert 1_000 <= roads.number_of_nodes() <= 6_000
    for _, d in roads.nodes(data=True):
        assert 116.3 < d["x"] < 116.9 and 36.2 < d["y"] < 36.7
        assert isinstance(d["street_count"], int)
    classes = {d["highway"] for _, _, d in roads.edges(data=True)}
    assert classes == {
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "service",
        "living_street",
        "footway",
        "steps",
        "path",
        "track",
    }
    geod = Geod(ellps="WGS84")
    oneway = 0
    for u, v, d in roads.edges(data=True):
        assert isinstance(d["oneway"], bool) and isinstance(d["reversed"], bool)
        assert isinstance(d["osmid"], int)
        if "geometry" in d:
            lon, lat = d["geometry"].xy
            assert (lon[0], lat[0]) == pytest.approx((roads.nodes[u]["x"], roads.nodes[u]["y"]), abs=1e-6)
            assert (lon[-1], lat[-1]) == pytest.approx((roads.nodes[v]["x"], roads.nodes[v]["y"]), abs=1e-6)
        else:
            lon, lat = [roads.nodes[u]["x"], roads.nodes[v]["x"]], [roads.nodes[u]["y"], roads.nodes[v]["y"]]
        assert d["length"] == pytest.approx(geod.line_length(lon, lat), rel=2e-3, abs=0.5)
        if d["oneway"]:
            oneway += 1
            assert d["highway"] == "residential"
            assert not any(dd["osmid"] == d["osmid"] for dd in roads.get_edge_data(v, u, default={}).values())
        else:
            twins = roads.get_edge_data(v, u, default={}).values()
            assert any(t["osmid"] == d["osmid"] and t["reversed"] != d["reversed"] for t in twins)
    assert oneway > 0
    names = {d.get("name") for _, _, d in roads.edges(data=True)}
    assert {"人民路", "G105", "S321"} <= names
    assert any(isinstance(n, str) and re.fullmatch(r"X\d{3}", n) for n in names)
    speeds = {d["highway"] for _, _, d in roads.edges(data=True) if "maxspeed" in d}
    assert "trunk" in speeds


def test_drive_network_connected_and_street_count(roads: nx.MultiDiGraph) -> None:
    drive = roads.edge_subgraph(
        [(u, v, k) for u, v, k, d in roads.edges(keys=True, data=True) if d["highway"] in DRIVE]
    )
    scc = max(nx.strongly_connected_components(drive), key=len)
    assert len(scc) >= 0.97 * drive.number_of_nodes()
    # street_count as osmnx defines it (undirected street segments at each node, parallels counted)
    expected = ox.stats.count_streets_per_node(roads)
    assert all(d["street_count"] == expected[n] for n, d in roads.nodes(data=True))
    assert any(d["street_count"] >= 4 for _, d in roads.nodes(data=True))


def test_villages_near_roads_except_remote_hamlets(roads: nx.MultiDiGraph, villages: pd.DataFrame) -> None:
    tree = shapely.STRtree(_road_lines(roads))
    pts = _xy(villages["lon"].to_numpy(), villages["lat"].to_numpy())
    _, dist = tree.query_nearest(shapely.points(pts), return_distance=True, all_matches=False)
    far = dist > 1_000.0
    assert 1 <= far.sum() <= 3
    assert (villages.loc[far, "kind"] == "village").all()
    assert (dist[~far] <= 500.0).mean() >= 0.95
    # a remote hamlet is also far from the drive network in particular
    dtree = shapely.STRtree(_road_lines(roads, highways=DRIVE))
    _, ddist = dtree.query_nearest(shapely.points(pts[far]), return_distance=True, all_matches=False)
    assert (ddist > 1_000.0).all()


# --------------------------------------------------------------------------------- facilities
def _in_polygons(df: pd.DataFrame, polys: gpd.GeoDataFrame, key: str) -> pd.Series:
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    joined = gpd.sjoin(pts, polys[[key, "geometry"]], predicate="within", how="left")
    return joined[key]


def test_facility_file_schema(facilities: pd.DataFrame) -> None:
    assert list(facilities.columns) == [
        "facility_id",
        "type",
        "name",
        "brands",
        "capacity",
        "floor_area_m2",
        "village_code",
        "lon",
        "lat",
    ]
    assert facilities["facility_id"].is_unique
    assert set(facilities["type"]) == {
        "outlet",
        "locker",
        "village_station",
        "delivery_centre",
        "sorting_centre",
    }
    carriers = {"中国邮政", "中通", "圆通", "申通", "韵达", "极兔", "顺丰", "京东"}
    for brands in facilities["brands"]:
        parts = brands.split(";")
        assert parts and set(parts) <= carriers and len(set(parts)) == len(parts)


def test_one_township_without_outlet(facilities: pd.DataFrame, townships: gpd.GeoDataFrame) -> None:
    outlets = facilities[facilities["type"] == "outlet"]
    per = _in_polygons(outlets, townships, "township_code").value_counts()
    counts = townships["township_code"].map(per).fillna(0)
    assert (counts == 0).sum() >= 1
    assert (counts > 0).sum() >= len(townships) - 2


def test_lockers_below_one_per_100_households(
    facilities: pd.DataFrame, townships: gpd.GeoDataFrame, villages: pd.DataFrame
) -> None:
    streets = townships[townships["township_name"].str.endswith("街道")]
    lockers = facilities[facilities["type"] == "locker"]
    n_seat = _in_polygons(lockers, streets, "township_code").notna().sum()
    seat_hh = villages.loc[
        villages["township_code"].isin(streets["township_code"]) & (villages["kind"] == "community"),
        "households",
    ].sum()
    assert 1 <= n_seat < seat_hh / 100


def test_village_stations_gaps_centres_and_sorting(facilities: pd.DataFrame, villages: pd.DataFrame) -> None:
    adm = villages[villages["kind"] == "village"]
    stations = facilities[facilities["type"] == "village_station"]
    assert set(stations["village_code"]) <= set(adm["village_code"])
    share = adm["village_code"].isin(stations["village_code"]).mean()
    assert 0.65 <= share <= 0.85
    assert stations["name"].str.contains("共建").sum() >= 1  # shared stations
    centres = facilities[facilities["type"] == "delivery_centre"]
    assert (centres["floor_area_m2"] < 30).any() and (centres["floor_area_m2"] >= 30).any()
    sorting = facilities[facilities["type"] == "sorting_centre"]
    assert len(sorting) == 1 and len(sorting["brands"].iloc[0].split(";")) == 2
    assert "park" not in set(facilities["type"])


def test_part_of_seat_beyond_1km_of_any_pickup(
    demo: tuple[SynthCounty, dict[str, Path]], facilities: pd.DataFrame, townships: gpd.GeoDataFrame
) -> None:
    streets = townships[townships["township_name"].str.endswith("街道")].to_crs("EPSG:4548")
    with rasterio.open(demo[1]["population"]) as src:
        arr = src.read(1)
        rows, cols = np.nonzero(arr >= 20.0)  # dense urban cells (>= 2,000 people per km2)
        x, y = rasterio.transform.xy(src.transform, rows, cols)
    cells = np.column_stack([x, y])
    in_seat = shapely.contains_xy(streets.union_all(), cells[:, 0], cells[:, 1])
    pick = facilities[facilities["type"].isin(PICKUP)]
    pxy = _xy(pick["lon"].to_numpy(), pick["lat"].to_numpy())
    d = np.hypot(cells[in_seat, None, 0] - pxy[None, :, 0], cells[in_seat, None, 1] - pxy[None, :, 1]).min(
        axis=1
    )
    far_people = arr[rows[in_seat], cols[in_seat]][d > 1_000.0].sum()
    assert far_people >= 500
    assert (d <= 1_000.0).mean() >= 0.5  # most of the seat is served


# --------------------------------------------------------------------------------- candidates
def test_candidates(
    demo: tuple[SynthCounty, dict[str, Path]],
    roads: nx.MultiDiGraph,
    facilities: pd.DataFrame,
    villages: pd.DataFrame,
) -> None:
    cand = pd.read_csv(demo[1]["candidates"], dtype={"village_code": str}, keep_default_na=False)
    assert list(cand.columns) == ["candidate_id", "type", "lon", "lat", "village_code"]
    assert cand["candidate_id"].is_unique
    counts = cand["type"].value_counts()
    assert counts["outlet"] >= 100 and counts["locker"] >= 50 and 1 <= counts["park"] <= 3
    node_xy = _xy(
        np.array([d["x"] for _, d in roads.nodes(data=True)]),
        np.array([d["y"] for _, d in roads.nodes(data=True)]),
    )
    node_ids = np.array(list(roads.nodes))
    from scipy.spatial import cKDTree

    tree = cKDTree(node_xy)
    for kind in ("outlet", "locker", "park"):
        sub = cand[cand["type"] == kind]
        d, k = tree.query(_xy(sub["lon"].to_numpy(), sub["lat"].to_numpy()))
        assert (d < 1.0).all(), kind  # on a road node
        if kind == "park":
            for n in node_ids[k]:
                assert {e["highway"] for _, _, e in roads.edges(n, data=True)} & {"trunk", "primary"}
    # outlet candidates are thinned: no two closer than 100 m
    oxy = _xy(*cand.loc[cand["type"] == "outlet", ["lon", "lat"]].to_numpy().T)
    pairs = cKDTree(oxy).query_pairs(100.0)
    assert not pairs
    # every village without a station has a station candidate at its centre
    adm = villages[villages["kind"] == "village"]
    lacking = set(adm["village_code"]) - set(
        facilities.loc[facilities["type"] == "village_station", "village_code"]
    )
    vst = cand[cand["type"] == "village_station"]
    assert set(vst["village_code"]) == lacking
    assert len(vst) > len(lacking)  # plus some shops


# --------------------------------------------------------------------------------- params
def test_bad_params_raise_clear_errors() -> None:
    with pytest.raises(InputDataError, match="n_villages"):
        SynthParams(n_villages=5)
    with pytest.raises(InputDataError, match="county_code"):
        SynthParams(county_code="3799")
    with pytest.raises(ValueError, match="extent_km"):
        SynthParams(extent_km=1.0)


def test_chinese_number() -> None:
    assert [chinese_number(n) for n in (1, 10, 12, 20, 99)] == ["一", "十", "十二", "二十", "九十九"]


@pytest.mark.slow
def test_benchmark_size() -> None:
    import time

    start = time.perf_counter()
    county = synthesize(SynthParams.benchmark())
    seconds = time.perf_counter() - start
    assert seconds < 120
    assert 80_000 <= county.roads.number_of_nodes() <= 130_000
    # populated cells when aggregated to 200 m
    pop = np.where(county.population > 0, county.population, 0.0)
    h, w = (pop.shape[0] // 2) * 2, (pop.shape[1] // 2) * 2
    agg = pop[:h, :w].reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    assert 14_000 <= (agg > 0).sum() <= 30_000
    assert 1_500 <= len(county.candidates) <= 3_000
    assert abs(float(pop.sum(dtype=np.float64)) - county.villages["population"].sum()) <= 1.0


def test_small_county_whose_seat_fits_inside_the_gap_is_generated() -> None:
    # a 15,000-person seat lies wholly inside the deliberate gap: facilities are still placed
    county = synthesize(
        SynthParams(seed=22, extent_km=12, n_townships=4, n_villages=24, seat_population=15000)
    )
    seat_outlets = county.facilities[county.facilities["type"].isin(["outlet", "locker"])]
    assert len(seat_outlets) > 0
    assert (county.villages["kind"] == "village").sum() == 24


# --------------------------------------------------------------------------------- total population
SMALL = {
    "seed": 5,
    "extent_km": 16.0,
    "n_townships": 4,
    "n_xiang": 1,
    "n_subdistricts": 1,
    "communities_per_subdistrict": 4,
    "n_villages": 30,
    "n_remote": 1,
    "seat_population": 20_000,
}


@pytest.fixture(scope="module")
def small_plain() -> SynthCounty:
    return synthesize(SynthParams(**SMALL))


@pytest.mark.parametrize("total", [123_457, 2_520_000])
def test_total_population_rescales_register_raster_and_households(
    small_plain: SynthCounty, total: int
) -> None:
    scaled = synthesize(SynthParams(**SMALL, total_population=total))
    a = small_plain.villages.set_index("village_code")
    b = scaled.villages.set_index("village_code")
    # the same settlements, codes, names and places: only the people change
    assert list(a.index) == list(b.index)
    same = ["village_name", "township_code", "kind", "urban_rural_code", "lon", "lat"]
    assert a[same].equals(b[same])
    # the total exactly, each settlement within one person of its share (largest remainder)
    assert int(b["population"].sum()) == total
    share = a["population"] * total / a["population"].sum()
    assert float((b["population"] - share).abs().max()) < 1.0
    assert (b["population"] >= 1).all()
    # the raster carries the same people (cells inside the county; nodata is -1)
    raster = scaled.population.astype(np.float64)
    assert float(raster[raster > 0].sum()) == pytest.approx(total, rel=1e-7, abs=1.0)
    # households follow the rescaled people: 2.6-3.0 persons each (rounding aside)
    big = b[b["population"] >= 100]
    assert (big["population"] / big["households"]).between(2.55, 3.05).all()


def test_total_population_too_small_is_refused_before_any_work() -> None:
    # 4 communities + 4 towns + 1 special + 30 villages = 39 settlements: at least 50 each = 1,950
    with pytest.raises(InputDataError, match=r"total_population=1,000 .*about 39 settlements.*1,950"):
        SynthParams(**SMALL, total_population=1_000)
    assert SynthParams(**SMALL, total_population=1_950).total_population == 1_950


# --------------------------------------------------------------------------------- several counties
@pytest.fixture(scope="module")
def three_counties(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthParams, dict[str, Path]]:
    params = SynthParams(
        seed=11,
        extent_km=24,
        n_townships=7,
        n_xiang=2,
        n_villages=60,
        townships_per_county=3,
        seat_population=30_000,
    )
    return params, write_county(synthesize(params), tmp_path_factory.mktemp("three"))


def test_townships_beyond_one_county_get_several_county_codes(
    three_counties: tuple[SynthParams, dict[str, Path]],
) -> None:
    params, paths = three_counties
    # 7 townships at most 3 per county: ceil(7 / 3) = 3 counties of 3, 2 and 2 townships
    assert params.n_counties == 3
    county = gpd.read_file(paths["county"])
    assert county["county_code"].tolist() == ["379901", "379902", "379903"]
    assert county["county_name"].tolist() == ["示范县", "示范二县", "示范三县"]
    townships = gpd.read_file(paths["townships"])
    codes = townships["township_code"]
    assert len(codes) == 2 + 7 and codes.is_unique and codes.str.fullmatch(r"\d{9}").all()
    prefix, tail = codes.str[:6], codes.str[6:].astype(int)
    assert set(prefix[tail < 100]) == {"379901"}  # the seat's sub-districts
    per_county = prefix[tail >= 100].value_counts().sort_index().tolist()
    assert per_county == [3, 2, 2]
    # within each county: 镇 numbered 100, 101, ... and 乡 200, 201, ... without gaps
    for code in county["county_code"]:
        mine = sorted(tail[prefix == code])
        zhen = [t for t in mine if 100 <= t < 200]
        xiang = [t for t in mine if t >= 200]
        assert zhen == list(range(100, 100 + len(zhen))) and xiang == list(range(200, 200 + len(xiang)))
    # every township lies in the county its code names; the counties partition the area
    c_m, t_m = county.to_crs("EPSG:4548"), townships.to_crs("EPSG:4548")
    for code, geom in zip(t_m["township_code"], t_m.geometry, strict=True):
        owner = c_m.loc[c_m["county_code"] == code[:6], "geometry"].iloc[0]
        assert owner.contains(geom.representative_point())
    assert c_m.area.sum() == pytest.approx(t_m.area.sum(), rel=1e-3)


def test_village_codes_of_several_counties_follow_nbs_rules(
    three_counties: tuple[SynthParams, dict[str, Path]],
) -> None:
    _, paths = three_counties
    villages = pd.read_csv(paths["villages"], dtype={"village_code": str, "township_code": str})
    townships = gpd.read_file(paths["townships"])
    codes = villages["village_code"]
    assert codes.str.fullmatch(r"\d{12}").all() and codes.is_unique
    assert (codes.str[:9] == villages["township_code"]).all()
    assert set(villages["township_code"]) <= set(townships["township_code"])
    assert set(codes.str[:6]) == {"379901", "379902", "379903"}
    tail = codes.str[9:].astype(int)
    assert ((tail <= 199) == (villages["kind"] == "community")).all()
    assert ((tail >= 200) == (villages["kind"] == "village")).all()


def test_several_counties_give_a_scenario_with_one_unit_per_county(
    three_counties: tuple[SynthParams, dict[str, Path]],
) -> None:
    from planner.inputs import read_boundary
    from planner.scenario import load_scenario
    from planner.synth import write_scenario

    params, paths = three_counties
    scenario = load_scenario(write_scenario(paths["readme"].parent, params))
    assert scenario.study_area.county_code is None  # the boundary file's features name the counties
    boundary = read_boundary(scenario.study_area.boundary)
    assert sorted(boundary["county_code"]) == ["379901", "379902", "379903"]
    assert "3 synthetic counties" in paths["readme"].read_text("utf-8")


def test_a_prefecture_of_150_townships_has_valid_unique_codes() -> None:
    params = SynthParams(
        seed=2,
        extent_km=80,
        n_townships=150,
        n_xiang=40,
        n_villages=500,
        n_remote=0,
        seat_population=60_000,
        rural_node_spacing_m=1_500,
        track_share=0.0,
        total_population=2_520_000,
    )
    county = synthesize(params)
    # 150 townships at the default 100 per county: 2 counties of 75 (+ the seat's 2 sub-districts)
    assert county.boundary["county_code"].tolist() == ["379901", "379902"]
    tcodes = county.townships["township_code"]
    assert len(tcodes) == 152 and tcodes.is_unique and tcodes.str.fullmatch(r"\d{9}").all()
    assert tcodes.str[:6].value_counts().to_dict() == {"379901": 77, "379902": 75}
    vcodes = county.villages["village_code"]
    assert vcodes.is_unique and vcodes.str.fullmatch(r"\d{12}").all()
    assert (vcodes.str[:9] == county.villages["township_code"]).all()
    assert int(county.villages["population"].sum()) == 2_520_000


def test_county_codes_must_stay_in_the_prefecture() -> None:
    # 250 townships at 100 per county need 3 codes: 379997..379999 fit, 379998.. would pass 379999
    ok = SynthParams(n_townships=250, n_villages=800, county_code="379997")
    assert [c for c, _ in ok.counties] == ["379997", "379998", "379999"]
    assert [n for _, n in ok.counties] == ["示范县", "示范二县", "示范三县"]
    with pytest.raises(InputDataError, match=r"need 3 county codes from 379998.*ending at most 97"):
        SynthParams(n_townships=250, n_villages=800, county_code="379998")
    with pytest.raises(InputDataError, match="townships_per_county"):
        SynthParams(townships_per_county=101)


def test_township_stems_beyond_the_two_character_pool() -> None:
    from planner.synth.names import township_stems

    stems = township_stems(3_000, np.random.default_rng(0))
    assert len(set(stems)) == 3_000
    assert all(len(s) in (2, 3) for s in stems) and any(len(s) == 3 for s in stems)


def test_cli_synth_population_and_townships_per_county(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from planner.cli import app

    out = tmp_path / "area"
    args = ["synth", str(out), "--seed", "3", "--villages", "40", "--townships", "5"]
    args += ["--townships-per-county", "2", "--population", "90000", "--extent-km", "20"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    villages = pd.read_csv(out / "villages" / "villages.csv", dtype={"village_code": str})
    assert int(villages["population"].sum()) == 90_000
    # ceil(5 / 2) = 3 counties
    assert sorted(set(villages["village_code"].str[:6])) == ["379901", "379902", "379903"]
    bad = CliRunner().invoke(app, ["synth", str(tmp_path / "bad"), "--population", "10"])
    assert bad.exit_code == 2 and "total_population" in bad.output
