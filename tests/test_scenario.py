"""The scenario file: validation gathers every problem with its line and field, paths resolve, hashes move."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pydantic import ValidationError
from rasterio.transform import from_origin

from planner.errors import ScenarioError
from planner.scenario import load_scenario, scenario_hash, validate_scenario

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _tiny_inputs(tmp: Path, *, raster_crs: str | None = "EPSG:4326") -> None:
    (tmp / "county.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[116,36],[116.1,36],[116.1,36.1],[116,36.1],[116,36]]]}}]}',
        encoding="utf-8",
    )
    with rasterio.open(
        tmp / "pop.tif",
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="float32",
        crs=raster_crs,
        transform=from_origin(116, 36.1, 0.05, 0.05),
    ) as dst:
        dst.write(np.ones((1, 2, 2), dtype="float32"))
    (tmp / "roads.graphml").write_text("<graphml/>", encoding="utf-8")


VALID = """\
name: tiny
study_area:
  boundary: county.geojson
inputs:
  population: {{path: pop.tif}}
  roads: {{path: roads.graphml}}
standards: {profile}
plan:
  facilities:
    outlet: {{cost: 50000}}
"""


def test_valid_scenario_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path)
    profile = ROOT / "scenarios" / "standards" / "national-default.yaml"
    path = _write(tmp_path, VALID.format(profile=profile))
    scenario = load_scenario(path)
    assert scenario.study_area.boundary == (tmp_path / "county.geojson").resolve()
    assert scenario.inputs.population.path == (tmp_path / "pop.tif").resolve()
    assert scenario.inputs.population.resolution_m == 200.0
    assert scenario.travel.reading == "network"
    with pytest.raises(ValidationError):  # frozen
        scenario.name = "other"  # type: ignore[misc]


def test_every_problem_is_reported_at_once_with_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        name: has space
        study_area:
          boundary: missing.geojson
          colour: red
        inputs:
          population: {path: nope.tif, resolution_m: -5}
          roads: {path: r.graphml}
        plan:
          year: soon
          facilities:
            outlet: {cost: abc}
            spaceship: {cost: 3}
        """,
    )
    problems = validate_scenario(path)
    by_location = {p.location: p for p in problems}
    # each of the eight problems, with the line it is on
    assert by_location["name"].line == 1
    assert (
        by_location["study_area.boundary"].line == 3
        and "not found" in by_location["study_area.boundary"].message
    )
    assert (
        by_location["study_area.colour"].line == 4
        and "unknown key" in by_location["study_area.colour"].message
    )
    assert by_location["inputs.population.resolution_m"].line == 6
    assert by_location["inputs.population.path"].line == 6
    assert by_location["inputs.roads.path"].line == 7
    assert by_location["plan.year"].line == 9
    assert by_location["plan.facilities.outlet.cost"].line == 11
    assert "plan.facilities.spaceship" in by_location
    assert len(problems) == 9
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.exit_code == 2
    assert len(info.value.problems) == 9


def test_raster_without_crs_is_reported(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path, raster_crs=None)
    profile = ROOT / "scenarios" / "standards" / "national-default.yaml"
    path = _write(tmp_path, VALID.format(profile=profile))
    problems = validate_scenario(path)
    assert len(problems) == 1
    assert problems[0].location == "inputs.population.path"
    assert "no coordinate reference system" in problems[0].message
    assert problems[0].line == 5


def test_unknown_profile_and_yaml_syntax(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path)
    path = _write(tmp_path, VALID.format(profile="no-such-profile"))
    problems = validate_scenario(path)
    assert [p.location for p in problems] == ["standards"]
    broken = _write(tmp_path, "name: x\nstudy_area: [unclosed\n", "broken.yaml")
    (problem,) = validate_scenario(broken)
    assert "not valid YAML" in problem.message and problem.line is not None


def test_exactly_one_area_source_and_budget_for_max_coverage(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path)
    text = VALID.format(profile="national-default").replace(
        "  boundary: county.geojson", "  boundary: county.geojson\n  admin_name: 和硕县"
    )
    text = text.replace("plan:\n", "plan:\n  objective: max_coverage\n")
    problems = validate_scenario(_write(tmp_path, text))
    messages = " ".join(p.message for p in problems)
    assert "exactly one of 'boundary'" in messages
    assert "max_coverage needs a budget" in messages


def test_hash_changes_with_inputs_and_settings(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path)
    profile = ROOT / "scenarios" / "standards" / "national-default.yaml"
    path = _write(tmp_path, VALID.format(profile=profile))
    first = scenario_hash(load_scenario(path))
    assert first == scenario_hash(load_scenario(path))
    (tmp_path / "roads.graphml").write_text("<graphml></graphml>", encoding="utf-8")
    second = scenario_hash(load_scenario(path))
    assert second != first
    path.write_text(VALID.format(profile=profile).replace("50000", "60000"), encoding="utf-8")
    assert scenario_hash(load_scenario(path)) not in {first, second}


def test_demo_scenario_is_valid() -> None:
    assert validate_scenario(ROOT / "scenarios" / "demo.yaml") == []


def test_crs_problem_reported_together_with_schema_problems(tmp_path: Path) -> None:
    _tiny_inputs(tmp_path, raster_crs=None)
    profile = ROOT / "scenarios" / "standards" / "national-default.yaml"
    text = VALID.format(profile=profile).replace("name: tiny", "name: tiny\ncolour: red")
    problems = validate_scenario(_write(tmp_path, text))
    assert {p.location for p in problems} == {"colour", "inputs.population.path"}
    assert any("no coordinate reference system" in p.message for p in problems)
