"""``planner fetch`` against a local HTTP server that plays Overpass and WorldPop (no internet).

The server answers with recorded-format responses from ``tests/fixtures/fetch/`` (a hand-made
Overpass JSON of a road grid and of postal/place POIs, a WorldPop catalogue) and serves a tiny
GeoTIFF made here, with HTTP range requests, so the real code paths run: osmnx's own Overpass
requests, ``requests`` for the catalogue, GDAL ``/vsicurl/`` for the windowed raster read. The
written files are checked with the planner's own readers and against independent computations
(haversine road lengths, a shapely point-in-polygon sum of the raster).
"""

from __future__ import annotations

import http.server
import json
import math
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import box

from planner.errors import InputDataError
from planner.fetch import FetchError, fetch_area
from planner.fetch.worldpop import _file_url

FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
#: The study area of the fixtures (WGS-84), about 3.3 km × 3.3 km in Xinjiang.
AREA = box(86.80, 42.25, 86.84, 42.28)
#: Raster grid: 0.001° cells (~100 m) covering the area and a margin.
R_WEST, R_NORTH, R_CELL, R_COLS, R_ROWS = 86.78, 42.30, 0.001, 80, 70


def _raster_values() -> np.ndarray:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 20, size=(R_ROWS, R_COLS)).astype("float32")
    values[10:13, 25:28] = -99999.0  # nodata inside the area
    return values


def _raster_bytes(tmp: Path) -> bytes:
    path = tmp / "country.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=R_COLS,
        height=R_ROWS,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(R_WEST, R_NORTH, R_CELL, R_CELL),
        nodata=-99999.0,
        tiled=True,
        blockxsize=16,
        blockysize=16,
        compress="deflate",
    ) as dst:
        dst.write(_raster_values(), 1)
    return path.read_bytes()


def _expected_population(polygon: shapely.Geometry) -> float:
    """People in cells whose centre lies in ``polygon``: shapely, not rasterio."""
    values = _raster_values().astype(np.float64)
    cols, rows = np.meshgrid(np.arange(R_COLS), np.arange(R_ROWS))
    x = R_WEST + (cols + 0.5) * R_CELL
    y = R_NORTH - (rows + 0.5) * R_CELL
    inside = shapely.contains_xy(polygon, x, y) & (values >= 0)
    return float(values[inside].sum())


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6_371_009.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass
class FakeServer:
    """What the local server answers, and what it was asked."""

    base: str
    tif: bytes
    requests: Counter[str] = field(default_factory=Counter)
    pois_empty: bool = False
    roads_empty: bool = False
    catalogue_status: int = 200


def _handler(state: FakeServer) -> type[http.server.BaseHTTPRequestHandler]:
    catalogue = json.loads((FIXTURES / "worldpop_catalogue.json").read_text(encoding="utf-8"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlparse(self.path)
            state.requests[f"{self.command} {url.path}"] += 1
            if url.path == "/api/status":
                self._send(200, (FIXTURES / "overpass_status.txt").read_bytes(), "text/plain")
            elif url.path.startswith("/rest/data/pop/"):
                alias = url.path.rsplit("/", 1)[-1]
                iso3 = parse_qs(url.query).get("iso3", [""])[0]
                if state.catalogue_status != 200:
                    self._send(state.catalogue_status, b"<html>Internal Server Error</html>", "text/html")
                    return
                doc = catalogue.get(alias, {"data": []}) if iso3 == "CHN" else {"data": []}
                text = json.dumps(doc).replace("{base}", state.base)
                self._send(200, text.encode(), "application/json")
            elif url.path.endswith(".tif"):
                blob, rng = state.tif, self.headers.get("Range")
                if rng:
                    first, last = rng.split("=")[1].split("-")
                    a, b = int(first), min(int(last) if last else len(blob) - 1, len(blob) - 1)
                    extra = {"Content-Range": f"bytes {a}-{b}/{len(blob)}", "Accept-Ranges": "bytes"}
                    self._send(206, blob[a : b + 1], "image/tiff", extra)
                else:
                    self._send(200, blob, "image/tiff", {"Accept-Ranges": "bytes"})
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            url = urlparse(self.path)
            state.requests[f"POST {url.path}"] += 1
            length = int(self.headers.get("Content-Length") or 0)
            query = parse_qs(self.rfile.read(length).decode())["data"][0]
            if "highway" in query and state.roads_empty:
                body = json.dumps({"version": 0.6, "elements": []}).encode()
            elif "highway" in query:
                body = (FIXTURES / "overpass_roads.json").read_bytes()
            elif state.pois_empty:
                body = json.dumps({"version": 0.6, "elements": []}).encode()
            else:
                body = (FIXTURES / "overpass_pois.json").read_bytes()
            self._send(200, body, "application/json")

    return Handler


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeServer]:
    state = FakeServer(base="", tif=_raster_bytes(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def boundary_file(tmp_path: Path) -> Path:
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame(
        {"county_code": ["659999"], "county_name": ["测试县"]}, geometry=[AREA], crs="EPSG:4326"
    ).to_file(path, driver="GeoJSON")
    return path


def _fetch(server: FakeServer, boundary: Path, out: Path, cache: Path, **kw: Any) -> Any:
    return fetch_area(
        out,
        boundary=boundary,
        buffer_m=500,
        cache_dir=cache,
        overpass_url=f"{server.base}/api",
        worldpop_api=f"{server.base}/rest/data/pop",
        timeout_s=20,
        **kw,
    )


def test_fetch_writes_a_scenario_the_readers_accept(
    server: FakeServer, boundary_file: Path, tmp_path: Path
) -> None:
    from planner.inputs import read_facilities, read_population_demand, read_roads, read_villages, work_crs
    from planner.scenario import load_scenario

    out = tmp_path / "out"
    summary = _fetch(server, boundary_file, out, tmp_path / "cache")

    # what was fetched: the constrained product is preferred for 2020, read by window (range requests)
    assert summary.population_source.endswith("chn_ppp_2020_constrained.tif")
    assert server.requests["GET /rest/data/pop/cic2020_100m"] == 1
    assert server.requests["GET /rest/data/pop/wpgp"] == 0
    assert server.requests["POST /api/interpreter"] == 2  # roads and POIs
    assert summary.from_cache == {"roads": False, "pois": False, "population": False}
    assert summary.facilities == {"outlet": 4, "locker": 2}  # post box dropped, building → point
    assert (summary.villages, summary.communities) == (4, 1)  # 界外村 lies outside the boundary
    assert summary.missing == []

    scenario = load_scenario(summary.scenario_path)  # relative paths, files present, CRSs readable
    assert scenario.standards == "national-default"
    assert scenario.inputs.roads.path == (out / "roads" / "roads.graphml").resolve()
    assert {str(t) for t in scenario.plan.facilities} == {"outlet", "locker", "village_station", "park"}

    boundary = gpd.read_file(out / "boundaries" / "county.geojson")
    crs = work_crs(boundary)

    roads = read_roads(scenario.inputs.roads.path)
    grid = json.loads((FIXTURES / "overpass_roads.json").read_text(encoding="utf-8"))
    coords = {e["id"]: (e["lon"], e["lat"]) for e in grid["elements"] if e["type"] == "node"}
    ways = [e for e in grid["elements"] if e["type"] == "way"]
    expected_m = (
        2
        * sum(  # network_type "all": every way both directions
            _haversine_m(*coords[a], *coords[b])
            for w in ways
            for a, b in zip(w["nodes"], w["nodes"][1:], strict=False)
        )
    )
    assert sum(d["length"] for _, _, d in roads.edges(data=True)) == pytest.approx(expected_m, rel=1e-3)
    highways = {h for _, _, d in roads.edges(data=True) for h in np.atleast_1d(d["highway"])}
    assert highways == {w["tags"]["highway"] for w in ways}
    assert summary.roads_km == pytest.approx(expected_m / 1000, rel=1e-3)

    facilities = read_facilities(scenario.inputs.facilities.path, crs=crs, boundary=boundary)  # type: ignore[union-attr]
    assert Counter(facilities["type"]) == Counter({"outlet": 4, "locker": 2})
    by_name = dict(zip(facilities["name"], facilities["type"], strict=True))
    assert (
        by_name["快递柜"] == "locker" and by_name["中通快递"] == "outlet" and by_name["邮政支局"] == "outlet"
    )
    assert "osm-node-206" not in set(facilities["facility_id"])  # the post box

    villages = read_villages(scenario.inputs.villages.path, crs=crs, boundary=boundary)  # type: ignore[union-attr]
    assert sorted(villages["village_name"]) == ["hamlet node/212", "一村", "三组", "二村", "某镇"]
    assert all(code.startswith("659999") and len(code) == 12 for code in villages["village_code"])
    assert villages.set_index("village_name").loc["一村", "population"] == 1200

    expected_pop = _expected_population(AREA)
    assert summary.population_total == pytest.approx(expected_pop, rel=1e-9)
    demand, _ = read_population_demand(
        scenario.inputs.population.path, boundary=boundary, crs=crs, resolution_m=200, household_size=2.62
    )
    assert float(demand["population"].sum()) == pytest.approx(expected_pop, rel=1e-6)
    with rasterio.open(scenario.inputs.population.path) as src:  # a crop, not the whole country
        assert src.width < R_COLS and src.height < R_ROWS

    # candidates: read by the project's reader; spacing, position and population checked by brute force
    from planner.inputs import read_candidates

    costs = {str(t): spec.cost for t, spec in scenario.plan.facilities.items()}
    cand_path = scenario.inputs.candidates.path  # type: ignore[union-attr]
    cands = read_candidates(cand_path, crs=crs, cost_table=costs, boundary=boundary)
    assert Counter(cands["type"]) == Counter(summary.candidates)
    stations = cands[cands["type"] == "village_station"]
    assert sorted(stations["village_code"]) == sorted(
        villages.loc[villages["kind"] == "village", "village_code"]
    )
    node_xy = {(round(d["x"], 6), round(d["y"], 6)) for _, d in roads.nodes(data=True)}
    raw = pd.read_csv(cand_path)
    for kind in ("outlet", "locker"):
        sel = raw[raw["type"] == kind]
        assert all((round(x, 6), round(y, 6)) in node_xy for x, y in zip(sel["lon"], sel["lat"], strict=True))
        assert shapely.contains_xy(AREA, sel["lon"], sel["lat"]).all()
        pts = cands.loc[cands["type"] == kind].geometry
        gaps = [a.distance(b) for i, a in enumerate(pts) for b in list(pts)[i + 1 :]]
        assert min(gaps, default=math.inf) >= (1000.0 if kind == "outlet" else 500.0) * 0.999
    assert summary.candidates["outlet"] >= 1

    provenance = json.loads((out / "fetch.json").read_text(encoding="utf-8"))
    assert provenance["counts"]["facilities"] == {"outlet": 4, "locker": 2}
    assert "ODbL" in provenance["osm"]["licence"] and "CC BY" in provenance["worldpop"]["licence"]


def test_second_fetch_uses_the_cache(server: FakeServer, boundary_file: Path, tmp_path: Path) -> None:
    first = _fetch(server, boundary_file, tmp_path / "a", tmp_path / "cache")
    asked = sum(server.requests.values())
    second = _fetch(server, boundary_file, tmp_path / "b", tmp_path / "cache")
    assert sum(server.requests.values()) == asked  # not one request more
    assert second.from_cache == {"roads": True, "pois": True, "population": True}
    assert any("cache" in line for line in second.lines())
    assert (second.facilities, second.population_total) == (first.facilities, first.population_total)
    assert (tmp_path / "b" / "roads" / "roads.graphml").read_bytes() == (
        tmp_path / "a" / "roads" / "roads.graphml"
    ).read_bytes()
    third = _fetch(server, boundary_file, tmp_path / "c", tmp_path / "cache", refresh=True)
    assert third.from_cache == {"roads": False, "pois": False, "population": False}
    assert server.requests["POST /api/interpreter"] == 4
    # population cached, Overpass unreachable: the roads step says so, naming the server
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    with pytest.raises(FetchError, match=f"cannot reach {dead}/status.*no network"):
        fetch_area(
            tmp_path / "d",
            boundary=boundary_file,
            buffer_m=500,
            cache_dir=tmp_path / "cache",
            overpass_url=dead,
            worldpop_api=f"{server.base}/rest/data/pop",
            timeout_s=5,
        )


def test_whole_file_download_gives_the_same_crop(
    server: FakeServer, boundary_file: Path, tmp_path: Path
) -> None:
    summary = _fetch(
        server, boundary_file, tmp_path / "out", tmp_path / "cache", worldpop_download=True, year=2020
    )
    assert summary.population_total == pytest.approx(_expected_population(AREA), rel=1e-9)
    cached = list((tmp_path / "cache" / "worldpop-files").glob("*.tif"))
    assert [p.read_bytes() for p in cached] == [server.tif]


def test_unconstrained_product_and_catalogue_urls(
    server: FakeServer, boundary_file: Path, tmp_path: Path
) -> None:
    summary = _fetch(server, boundary_file, tmp_path / "out", tmp_path / "cache", worldpop="unconstrained")
    assert summary.population_source.endswith("/2020/CHN/chn_ppp_2020.tif")
    assert server.requests["GET /rest/data/pop/cic2020_100m"] == 0
    # entries that list only ftp:// files are read through their data_file on the https server
    entry = {
        "files": ["ftp://ftp.worldpop.org.uk/GIS/x/chn_ppp_2019.tif"],
        "data_file": "GIS/x/chn_ppp_2019.tif",
    }
    assert _file_url(entry) == "https://data.worldpop.org/GIS/x/chn_ppp_2019.tif"


def test_missing_year_lists_what_the_catalogue_has(
    server: FakeServer, boundary_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputDataError, match=r"no auto population raster for CHN in 2015.*2019, 2020"):
        _fetch(server, boundary_file, tmp_path / "out", tmp_path / "cache", year=2015)


def test_no_pois_is_reported_not_fatal(server: FakeServer, boundary_file: Path, tmp_path: Path) -> None:
    from planner.scenario import load_scenario

    server.pois_empty = True
    summary = _fetch(server, boundary_file, tmp_path / "out", tmp_path / "cache")
    assert summary.facilities == {} and summary.villages == 0
    assert len(summary.missing) == 2 and "post offices" in summary.missing[0]
    scenario = load_scenario(summary.scenario_path)
    assert scenario.inputs.facilities is None and scenario.inputs.villages is None


def test_no_roads_is_an_error(server: FakeServer, boundary_file: Path, tmp_path: Path) -> None:
    server.roads_empty = True
    with pytest.raises(FetchError, match=r"OpenStreetMap has no roads in the study area.*give a road file"):
        _fetch(server, boundary_file, tmp_path / "out", tmp_path / "cache")


def test_http_error_names_the_url(server: FakeServer, boundary_file: Path, tmp_path: Path) -> None:
    server.catalogue_status = 500
    with pytest.raises(FetchError, match=r"HTTP 500 .*127\.0\.0\.1.*/rest/data/pop/cic2020_100m\?iso3=CHN"):
        _fetch(server, boundary_file, tmp_path / "out", tmp_path / "cache")


def test_offline_says_no_network(boundary_file: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(FetchError, match="no network: run fetch on a machine with internet") as err:
        fetch_area(
            tmp_path / "out",
            boundary=boundary_file,
            cache_dir=tmp_path / "cache",
            overpass_url=f"{dead}/api",
            worldpop_api=f"{dead}/rest/data/pop",
            timeout_s=5,
        )
    assert f"cannot reach {dead}/rest/data/pop/cic2020_100m" in str(err.value)
    assert not (tmp_path / "out" / "scenario.yaml").exists()


def test_area_outside_the_raster_is_an_input_error(server: FakeServer, tmp_path: Path) -> None:
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame(
        {"county_name": ["远处"]}, geometry=[box(90.0, 30.0, 90.02, 30.02)], crs="EPSG:4326"
    ).to_file(far)
    with pytest.raises(InputDataError, match="does not overlap the study area"):
        _fetch(server, far, tmp_path / "out", tmp_path / "cache")


def test_bad_area_admin_name_and_iso3(tmp_path: Path) -> None:
    flat = tmp_path / "flat.geojson"
    line_like = shapely.Polygon([(86.8, 42.25), (86.82, 42.25), (86.84, 42.25), (86.8, 42.25)])
    gpd.GeoDataFrame({"county_name": ["x"]}, geometry=[line_like], crs="EPSG:4326").to_file(flat)
    with pytest.raises(InputDataError, match="the study area is empty"):
        fetch_area(tmp_path / "out", boundary=flat, cache_dir=tmp_path / "cache")
    with pytest.raises(InputDataError, match="not found in cnmaps"):
        fetch_area(tmp_path / "out", admin_name="不存在县名", cache_dir=tmp_path / "cache")
    from planner.fetch.worldpop import find_worldpop_file

    with pytest.raises(InputDataError, match="ISO 3166 alpha-3"):
        find_worldpop_file("CN", 2020, session=None)  # type: ignore[arg-type]


def test_pois_table_maps_tags_to_types() -> None:
    from planner.fetch.osm import pois_table

    frame = gpd.GeoDataFrame(
        {
            "amenity": [
                "post_office",
                "parcel_locker",
                "post_box",
                "vending_machine",
                "vending_machine",
                None,
            ],
            "vending": [None, None, None, "drinks", "parcel_pickup;parcel_mail_in", None],
            "place": [None, None, None, None, None, "village"],
            "name": ["a", "b", "c", "d", "e", "f"],
        },
        geometry=gpd.points_from_xy(range(6), range(6)),
        index=pd.MultiIndex.from_tuples([("node", i) for i in range(6)], names=["element", "id"]),
        crs="EPSG:4326",
    )
    table = pois_table(frame)
    assert dict(zip(table["name"], table["category"], strict=True)) == {
        "a": "outlet",
        "b": "locker",
        "e": "locker",
        "f": "place",
    }


def test_cli_command_and_planner_run(server: FakeServer, boundary_file: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from planner.cli.fetch import fetch
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    app = typer.Typer()
    app.command()(fetch)
    app.command("noop")(lambda: None)  # two commands: typer keeps the "fetch" sub-command name
    out = tmp_path / "out"
    args = ["fetch", str(out), "--boundary", str(boundary_file), "--buffer-m", "500"]
    args += [
        "--cache-dir",
        str(tmp_path / "cache"),
        "--overpass-url",
        f"{server.base}/api",
        "--timeout",
        "20",
    ]
    result = CliRunner().invoke(app, args, env={"PLANNER_WORLDPOP_API": f"{server.base}/rest/data/pop"})
    assert result.exit_code == 0, result.output
    assert "4 outlet" in result.output and "2 locker" in result.output
    assert f"planner run {out / 'scenario.yaml'}" in result.output.replace("\n", "")
    result = run_scenario(load_scenario(out / "scenario.yaml"), write=False)  # `planner run` works
    assert len(result.audit.table) > 0
    assert result.summary["population_total"] == pytest.approx(_expected_population(AREA), abs=1.0)
    assert len(result.proposals) > 0  # the candidates written let the plan place facilities
    assert set(result.proposals["type"]) <= {"outlet", "locker", "village_station"}

    bad = CliRunner().invoke(app, ["fetch", str(out)])
    assert bad.exit_code == 2 and "exactly one of --boundary" in bad.output


def test_facilities_far_outside_are_left_out() -> None:
    from planner.fetch import _facilities_frame

    boundary = gpd.GeoDataFrame({"county_code": ["659999"]}, geometry=[AREA], crs="EPSG:4326")
    pois = pd.DataFrame(
        {
            "category": ["outlet", "locker", "outlet", "place"],
            "osm_tag": ["shop=courier", "amenity=parcel_locker", "amenity=post_office", "place=village"],
            "osm_type": ["node"] * 4,
            "osm_id": ["1", "2", "3", "4"],
            "name": ["inside", "1 km out", "3 km out", "village"],
            "brand": [""] * 4,
            "lon": [86.82, 86.84 + 1000 / 82_400, 86.84 + 3000 / 82_400, 86.82],
            "lat": [42.26] * 4,
        }
    )
    assert list(_facilities_frame(pois, boundary)["name"]) == ["inside", "1 km out"]
