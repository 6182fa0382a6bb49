"""Runs that meet trouble: killed in the output stage, a boundary that crosses itself, roads of the county
seat only, a network that reaches nothing, years outside a profile's table. Each is checked against an
independent computation (the raster read by hand, shapely distances to the roads, the audit's own notes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
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
from shapely.geometry import LineString, Polygon
from small_county import make_small_county
from typer.testing import CliRunner

from planner.cli.app import app
from planner.network import DEFAULT_MODES

UTM = "EPSG:32650"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_small_county(tmp_path_factory.mktemp("county"))


def _copy(county: Path, tmp_path: Path) -> Path:
    case = tmp_path / "case"
    shutil.copytree(county, case)
    return case


def _squash(text: str) -> str:
    """The output without any whitespace (rich wraps long lines anywhere)."""
    return "".join(text.split())


# ------------------------------------------------------------------------------------------------
# a run killed with SIGKILL in the output stage
# ------------------------------------------------------------------------------------------------

_KILLABLE = """
import sys, time
from pathlib import Path
import planner.outputs.files as files

real = files.write_csv


def slow(frame, path):
    done = real(frame, path)
    Path(sys.argv[1]).write_text(str(path))  # the output stage has begun writing: kill me now
    time.sleep(300)
    return done


files.write_csv = slow
from planner.cli.app import app

app(["run", sys.argv[2], "--out", sys.argv[3], "--quiet"])
"""


def test_a_run_killed_while_writing_leaves_no_output_and_the_next_run_removes_its_leftover(
    county: Path, tmp_path: Path
) -> None:
    scenario, out, marker = county / "scenario.yaml", tmp_path / "out", tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE, str(marker), str(scenario), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, "the run ended before its output stage"
            assert time.monotonic() < deadline, "the run never reached its output stage"
            time.sleep(0.1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not out.exists(), "a killed run left a partial output folder"
    (leftover,) = tmp_path.glob(".out.tmp-*")
    assert any(leftover.iterdir()), "the killed run had begun writing into its temporary folder"
    assert str(proc.pid) in leftover.name

    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").is_file()
    assert not list(tmp_path.glob(".out.*")), "the leftover is still there"
    # the log says so (in the run's language: the demo county's is Chinese)
    said = _squash(result.output)
    assert (
        _squash(f"已删除上次中断运行留下的 {leftover}") in said
        or _squash(f"removed {leftover}, left behind by an interrupted run") in said
    ), result.output


# ------------------------------------------------------------------------------------------------
# a boundary that crosses itself: repaired, and told with the area and people it changed
# ------------------------------------------------------------------------------------------------


def _people_with_centres_in(raster: Path, region_wgs84: Polygon) -> float:
    """People of the raster cells whose centre lies in ``region`` (by hand: numpy centres, shapely)."""
    with rasterio.open(raster) as src:
        data = src.read(1, masked=True).filled(0.0).astype(float)
        rows, cols = np.indices(data.shape)
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel(), offset="center")
        region = gpd.GeoSeries([region_wgs84], crs=4326).to_crs(src.crs).iloc[0]
    inside = shapely.contains_xy(region, np.asarray(xs), np.asarray(ys))
    values = data.ravel()
    return float(values[inside & (values > 0)].sum())


def test_a_self_intersecting_boundary_is_repaired_and_told(county: Path, tmp_path: Path) -> None:
    case = _copy(county, tmp_path)
    path = case / "data" / "boundaries" / "county.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    ring = data["features"][0]["geometry"]["coordinates"][0]
    # a square loop inside the county, traced in the ring's own direction from its first vertex: the
    # outline encloses the square twice, so a repair by crossings would cut it out as a hole
    x0, y0 = 116.590, 36.440
    square = [[x0, y0], [x0 + 0.02, y0], [x0 + 0.02, y0 + 0.015], [x0, y0 + 0.015], [x0, y0]]
    if Polygon(ring).exterior.is_ccw != Polygon(square).exterior.is_ccw:
        square = square[::-1]
    looped_ring = [ring[0], *square, *ring]
    data["features"][0]["geometry"]["coordinates"] = [looped_ring]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert not Polygon(looped_ring).is_valid

    result = CliRunner().invoke(app, ["validate", str(case / "scenario.yaml")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"{path} [feature 1]: the boundary is not a valid polygon" in text
    # the area of the square (UTM, planar) and its people (raster cells by hand) are what is told
    area_km2 = gpd.GeoSeries([Polygon(square)], crs=4326).to_crs(UTM).area.iloc[0] / 1e6
    people = _people_with_centres_in(case / "data" / "population" / "population_100m.tif", Polygon(square))
    assert people > 100
    assert f"{area_km2:,.2f} km²" in text
    assert f"holding {people:,.0f} people" in text
    # and they are kept: the study area holds as many people as with the valid boundary
    from planner.run.prepare import load_study_data
    from planner.scenario import load_scenario

    repaired = load_scenario(case / "scenario.yaml")
    valid = load_scenario(county / "scenario.yaml")
    total = load_study_data(repaired, repaired.load_profile()).demand["population"].sum()
    assert total == pytest.approx(load_study_data(valid, valid.load_profile()).demand["population"].sum())


# ------------------------------------------------------------------------------------------------
# roads of the county seat only: the run completes and says what it could not reach
# ------------------------------------------------------------------------------------------------


def _car_lines(graph_path: Path) -> list[LineString]:
    """The roads a car may use, in UTM: the largest strongly connected part of the usable edges (as the
    planner's networks keep it), found with networkx."""
    graph = ox.load_graphml(graph_path)
    excluded = DEFAULT_MODES["car"].excluded

    def usable(d: dict) -> bool:  # type: ignore[type-arg]
        classes = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        return not any(c in excluded for c in classes)

    car = nx.MultiDiGraph([(u, v, k, d) for u, v, k, d in graph.edges(keys=True, data=True) if usable(d)])
    part = max(nx.strongly_connected_components(car), key=len)
    to_utm = Transformer.from_crs(4326, UTM, always_xy=True)
    lines = []
    for u, v, d in car.subgraph(part).edges(data=True):
        geom = d.get("geometry") or LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
        x, y = to_utm.transform(*np.asarray(geom.coords).T)
        lines.append(LineString(np.column_stack([x, y])))
    return lines


def _beyond(lines: list[LineString], frame: pd.DataFrame, metres: float) -> set[int]:
    to_utm = Transformer.from_crs(4326, UTM, always_xy=True)
    roads = shapely.union_all(lines)
    x, y = to_utm.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    dist = shapely.distance(roads, shapely.points(np.column_stack([x, y])))
    return set(np.flatnonzero(dist > metres).tolist())


def test_roads_of_the_seat_only_give_a_complete_run_that_reports_what_they_leave_out(
    county: Path, tmp_path: Path
) -> None:
    case = _copy(county, tmp_path)
    roads = case / "data" / "roads" / "roads.graphml"
    graph = ox.load_graphml(roads)
    geod = Geod(ellps="WGS84")
    near = [n for n, d in graph.nodes(data=True) if geod.inv(116.60, 36.45, d["x"], d["y"])[2] < 3500]
    ox.save_graphml(graph.subgraph(near).copy(), roads)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(case / "scenario.yaml"), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    detail = summary["unreachable_detail"]

    lines = _car_lines(roads)
    facilities = pd.read_csv(case / "data" / "facilities" / "existing.csv", dtype=str)
    facilities[["lon", "lat"]] = facilities[["lon", "lat"]].astype(float)
    outlets = facilities[facilities["type"] == "outlet"].reset_index(drop=True)
    off = {outlets["facility_id"][i] for i in _beyond(lines, outlets, 1000.0)}
    assert off, "the cut should leave outlets beyond the roads"
    car = detail["by_layer"]["car"]
    assert set(car["facilities"]["outlet"]["ids"]) == off
    villages = pd.read_csv(case / "data" / "villages" / "villages.csv", dtype=str)
    villages[["lon", "lat"]] = villages[["lon", "lat"]].astype(float)
    v_off = {villages["village_code"][i] for i in _beyond(lines, villages, 1000.0)}
    assert car["villages"]["unreachable"] == len(v_off) and set(car["villages"]["codes"]) <= v_off

    # the park is planned for the outlets the roads join to a park site; the others are named
    park = detail["by_standard"]["P-COUNTY"]
    assert park["reach_no_park_site"] >= len(off) and park["reach_no_park_site"] < park["outlets"]
    assert summary["proposals"].get("park") == 1
    assert not [u for u in summary["unmet"] if u["standard"] == "P-COUNTY"]
    note = next(n for n in summary["plan_notes"] if "reach no eligible park site" in n)
    assert all(i in note for i in sorted(off))
    # the chain reaches only villages on the seat's roads
    assert detail["by_standard"]["delivery_chain"]["not_reached"] >= len(v_off & set(villages.index))


def test_a_network_that_reaches_nobody_is_an_error(county: Path, tmp_path: Path) -> None:
    case = _copy(county, tmp_path)
    scenario = case / "scenario.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8") + "travel:\n  max_snap_m: 0.001\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "roads.graphml" in text and "the roads reach none of the people" in text
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------
# years outside the profile's tables: validate says which target applies, as the audit does
# ------------------------------------------------------------------------------------------------


def test_a_year_before_the_targets_is_told_as_the_audit_reads_it(county: Path, tmp_path: Path) -> None:
    case = _copy(county, tmp_path)
    scenario = case / "scenario.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace("year: 2025", "year: 2023"), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # national-default: V-STATION {2024: > 85 %, 2025: 100 %}, P-COUNTY by the end of 2024
    assert (
        "plan.year 2023 is before the first target year of V-STATION (2024): the audit applies the " in text
    )
    assert "2024 target (> 85%), marked not yet due" in text
    assert "P-COUNTY is due by the end of 2024: in 2023 it is reported as not yet due" in text
    from planner.run import audit_scenario
    from planner.scenario import load_scenario

    audit, _ = audit_scenario(load_scenario(scenario))
    table = audit.table
    station = table[(table["standard_id"] == "V-STATION") & (table["unit_level"] == "county")]
    assert (
        len(station)
        and station["note"].str.contains("target for end of 2024 (not yet due in 2023)", regex=False).all()
    )
