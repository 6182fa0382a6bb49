"""The input side of a scenario on the demo county: straight-line-only runs without roads, village point
layers, census calibration and POI facilities wired through ``prepare``, ``input_summary``, and bad
inputs exiting 2 through the CLI with nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from typer.testing import CliRunner

from planner.cli.app import app
from planner.coverage import service_rules
from planner.errors import ScenarioError
from planner.geo import points_xy
from planner.inputs import input_summary, wgs84_to_gcj02
from planner.run import audit_scenario
from planner.run.prepare import prepare
from planner.scenario import load_scenario, validate_scenario
from planner.types import PICKUP_TYPES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"
DATA = ROOT / "data"


def demo_text(*, roads: bool = True, reading: str = "network") -> str:
    text = (
        DEMO.read_text(encoding="utf-8")
        .replace("../data/", str(DATA) + "/")
        .replace(
            "standards: national-default", f"standards: {ROOT / 'scenarios/standards/national-default.yaml'}"
        )
        .replace("  reading: network", f"  reading: {reading}")
    )
    if not roads:  # the roads and the demo's provenance block (which names the roads) go
        text = text.replace(f"  roads:\n    path: {DATA}/roads/roads.graphml\n", "")
        text = re.sub(r"  provenance:.*?\n(    \w+: \{kind: synthetic\}.*?\n)+", "", text)
        assert "provenance" not in text
    return text


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_network_reading_without_roads_names_the_three_ways_out(tmp_path: Path) -> None:
    path = write(tmp_path, demo_text(roads=False))
    problems = validate_scenario(path)
    assert len(problems) == 1 and problems[0].location == "inputs.roads"
    text = str(problems[0])
    assert "planner fetch" in text and "inputs.roads.path" in text and "travel.reading: buffer" in text
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "planner fetch" in result.output
    assert validate_scenario(write(tmp_path, demo_text(roads=False, reading="buffer"), "b.yaml")) == []


def test_scenario_refuses_inputs_options_that_would_change_nothing(tmp_path: Path) -> None:
    base = demo_text(roads=False, reading="buffer")
    bad = {
        "provenance of an absent input": base.replace(
            "inputs:\n", "inputs:\n  provenance:\n    roads: {kind: synthetic}\n"
        ),
        "patterns on a table": base.replace(
            "existing.csv\n", "existing.csv\n    type_patterns: {locker: [丰巢]}\n"
        ),
        "bad regex": base.replace(
            "existing.csv\n", "existing.csv\n    format: poi\n    exclude_patterns: ['(银行']\n"
        ),
        "points with osm places": base.replace(
            "villages.csv\n", "villages.csv\n    format: osm_places\n    points: {path: x.csv}\n"
        ),
    }
    messages = {
        "provenance of an absent input": "does not have: roads",
        "patterns on a table": "apply to format: poi only",
        "bad regex": "not valid regular expressions",
        "points with osm places": "osm_places already have coordinates",
    }
    for name, text in bad.items():
        with pytest.raises(ScenarioError, match=messages[name]):
            load_scenario(write(tmp_path, text, f"{name.replace(' ', '_')}.yaml"))


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("straight"), demo_text(roads=False, reading="buffer"))


def test_straight_line_run_builds_no_network_and_says_so(straight: Path) -> None:
    scenario = load_scenario(straight)
    prepared = prepare(scenario, use_cache=False)
    assert prepared.networks == {} and prepared.study.straight_line_only
    summary = input_summary(prepared.study)
    assert summary["inputs"]["straight_line_only"] is True
    assert summary["inputs"]["provenance"]["roads"] == {"kind": "none", "file": None, "source": None}
    classes = summary["inputs"]["area_classification"]
    assert (classes["grid_m"], classes["city_connectivity"], classes["town_connectivity"]) == (1000.0, 4, 8)
    assert sum(classes["people"].values()) == pytest.approx(prepared.demand["population"].sum(), abs=1.0)
    by_class = prepared.demand.groupby("area_class")["population"].sum()
    for cls, people in by_class.items():
        stated = sum(v for k, v in classes["people"].items() if k.endswith(f":{cls}"))
        assert stated == pytest.approx(people, abs=0.5)
    json.dumps(summary, allow_nan=False)  # JSON-safe


def test_straight_line_audit_equals_brute_force_distances(straight: Path) -> None:
    scenario = load_scenario(straight)
    audit, _ = audit_scenario(scenario, use_cache=False)
    prepared = prepare(scenario, use_cache=False)
    from planner.coverage import assess

    rules = service_rules(prepared.profile)
    facilities = prepared.study.facilities
    demand, villages = assess(
        prepared.demand,
        prepared.study.villages,
        facilities,
        rules=rules,
        snaps=prepared.snaps,
        reading="buffer",
    )
    pickup = points_xy(facilities[facilities["type"].isin(PICKUP_TYPES)])
    xy = points_xy(demand)
    brute = np.sqrt(((xy[:, None, :] - pickup[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    radius = demand["area_class"].map({c: r.distance_m for c, r in rules.items()}).to_numpy()
    np.testing.assert_array_equal(demand["covered"].to_numpy(), brute <= radius)
    assert demand["reachable"].all() and demand["nearest_km"].isna().all()
    # villages: straight-line km to the nearest station (own station counts too)
    stations = points_xy(facilities[facilities["type"] == "village_station"])
    vxy = points_xy(villages)
    ok = ~np.isnan(vxy).any(axis=1)
    dist, _ = cKDTree(stations).query(vxy[ok])
    np.testing.assert_allclose(villages.loc[ok, "nearest_station_km"], dist / 1000.0)
    assert villages["nearest_station_min"].isna().all()
    county = audit.table[(audit.table["unit_level"] == "county") & (audit.table["standard_id"] == "R-URBAN")]
    urban = demand["area_class"] == "urban"
    share = demand.loc[urban & demand["covered"], "population"].sum() / demand.loc[urban, "population"].sum()
    assert float(county["value"].iloc[0]) == pytest.approx(share, abs=1e-9)


def _located_points(tmp_path: Path) -> Path:
    """The demo register's villages as an Amap-style export (GCJ-02, 村委会 names, no codes)."""
    reg = pd.read_csv(DATA / "villages" / "villages.csv", dtype=str)
    x, y = wgs84_to_gcj02(reg["lon"].astype(float).to_numpy(), reg["lat"].astype(float).to_numpy())
    names = [n + ("委会" if n.endswith("村") else "居委会") for n in reg["village_name"]]
    frame = pd.DataFrame(
        {
            "name": names,
            "adname": "示范县",
            "address": reg["township_name"],
            "location": [f"{a:.7f},{b:.7f}" for a, b in zip(x, y, strict=True)],
        }
    )
    path = tmp_path / "村委会.csv"
    path.write_bytes(frame.to_csv(index=False).encode("gb18030"))
    register = reg.drop(columns=["lon", "lat"])
    register.to_csv(tmp_path / "register.csv", index=False)
    return path


def test_register_located_by_points_and_census_calibrated(tmp_path: Path) -> None:
    points = _located_points(tmp_path)
    towns = gpd.read_file(DATA / "boundaries" / "townships.geojson")
    census = pd.DataFrame({"乡镇": towns["township_name"], "常住人口": 10_000 + 1000 * np.arange(len(towns))})
    census.to_csv(tmp_path / "census.csv", index=False, encoding="gbk")
    text = (
        demo_text(roads=False, reading="buffer")
        .replace(
            f"{DATA}/villages/villages.csv",
            f"{tmp_path}/register.csv\n    points: {{path: {points}, coordinate_system: gcj02}}",
        )
        .replace("resolution_m: 200", f"resolution_m: 200\n    calibrate_to: {tmp_path}/census.csv")
    )
    prepared = prepare(load_scenario(write(tmp_path, text)), use_cache=False)
    summary = input_summary(prepared.study)
    reg = pd.read_csv(DATA / "villages" / "villages.csv", dtype=str)
    admin = (reg["kind"] == "village").sum()
    assert summary["villages"]["located"] == admin and summary["villages"]["without_coordinates"] == 0
    assert summary["villages"]["located_by"] == {"points (name)": len(reg)}
    # located where the register said (the export was made from its WGS-84 points)
    back = prepared.study.villages.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, reg["lon"].astype(float), atol=1e-6)
    cal = summary["population_calibration"]
    assert cal["source"] == "census.csv" and cal["census_total"] == census["常住人口"].sum()
    demand = prepared.study.demand
    polygons = towns.to_crs(demand.crs)
    inside = gpd.sjoin(demand, polygons[["geometry"]], predicate="intersects").index.unique()
    outside = demand["population"].sum() - demand.loc[inside, "population"].sum()
    assert cal["outside_townships"] == pytest.approx(outside, abs=0.05)
    # every township's people equal its census figure; people outside every township are kept
    assert demand["population"].sum() == pytest.approx(census["常住人口"].sum() + outside, rel=1e-9)
    assert cal["total_after"] == pytest.approx(demand["population"].sum(), abs=0.05)
    joined = gpd.sjoin(demand, polygons[["township_name", "geometry"]], predicate="intersects")
    joined = joined[~joined.index.duplicated()]
    per_town = joined.groupby("township_name")["population"].sum()
    expected = census.set_index("乡镇")["常住人口"]
    np.testing.assert_allclose(per_town[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert {r["method"] for r in cal["townships"]} == {"scaled"}


def _bad_inputs(tmp_path: Path, case: str) -> Path:
    text = demo_text()
    if case == "poi-location":
        (tmp_path / "poi.csv").write_bytes("name,location\n菜鸟驿站,116.6 36.45\n".encode("gbk"))
        text = text.replace(f"{DATA}/facilities/existing.csv", f"{tmp_path}/poi.csv\n    format: poi")
    elif case == "census-township":
        (tmp_path / "c.csv").write_bytes("乡镇,常住人口\n城东街道,1000\n火星乡,20\n".encode("gbk"))
        text = text.replace("resolution_m: 200", f"resolution_m: 200\n    calibrate_to: {tmp_path}/c.csv")
    else:
        (tmp_path / "p.csv").write_text("type,lon,lat\n村委会,116.6,36.45\n", encoding="utf-8")
        text = text.replace("villages.csv\n", f"villages.csv\n    points: {{path: {tmp_path}/p.csv}}\n")
    return write(tmp_path, text)


@pytest.mark.parametrize(
    ("case", "file", "expected"),
    [
        ("poi-location", "poi.csv", "[line 2, column 'location']: location '116.6 36.45' is not \"lng,lat\""),
        ("census-township", "c.csv", "[line 3, column '乡镇']: township '火星乡' is not in the register"),
        ("points-no-key", "p.csv", "[column village_code/name]: the village point layer has no join key"),
    ],
)
def test_bad_inputs_exit_2_naming_file_row_and_fix(
    tmp_path: Path, case: str, file: str, expected: str
) -> None:
    path = _bad_inputs(tmp_path, case)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    # grouped by file: the file's line, then its problems with their line, column and fix
    assert f"{tmp_path / file}: 1 problem(s)" in flat
    assert " ".join(expected.split()) in flat and "Fix:" in flat
    assert not out.exists()
