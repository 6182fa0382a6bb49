"""Scenario keys of the plan change the result or are refused: budgets, capacity, force/exclude,
the study area's coordinate system, the meet list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from planner.cli import app
from planner.errors import BudgetError
from planner.run import run_scenario
from planner.scenario import Budget, load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def demo(cache: Path, **plan: Any) -> Any:
    scenario = load_scenario(DEMO)
    plan = {"curve_steps": 0, **plan}
    return scenario.model_copy(update={"cache_dir": cache, "plan": scenario.plan.model_copy(update=plan)})


@pytest.fixture(scope="module")
def baseline(cache: Path) -> Any:
    return run_scenario(demo(cache), write=False)


def test_a_total_budget_below_the_least_cost_is_explained(cache: Path, baseline: Any) -> None:
    least = baseline.summary["cost_total"]
    with pytest.raises(BudgetError) as err:
        run_scenario(demo(cache, budget=Budget(total=100_000.0)), write=False)
    text = str(err.value)
    assert f"{least:,.0f}" in text and f"short by {least - 100_000:,.0f}" in text
    assert err.value.exit_code == 2


def test_a_per_type_budget_binds_its_type(cache: Path, baseline: Any) -> None:
    lockers = baseline.proposals.loc[baseline.proposals["type"] == "locker", "cost"].sum()
    with pytest.raises(BudgetError, match=r"plan.budget.per_type.locker"):
        run_scenario(demo(cache, budget=Budget(per_type={"locker": lockers - 1})), write=False)
    stations = baseline.proposals.loc[baseline.proposals["type"] == "village_station", "cost"].sum()
    with pytest.raises(BudgetError, match="village_station"):
        run_scenario(demo(cache, budget=Budget(per_type={"village_station": stations - 1})), write=False)


def test_a_budget_above_the_least_cost_changes_nothing(cache: Path, baseline: Any) -> None:
    roomy = run_scenario(demo(cache, budget=Budget(total=baseline.summary["cost_total"] + 1)), write=False)
    assert roomy.summary["cost_total"] == baseline.summary["cost_total"]


def test_force_and_exclude_candidates(cache: Path, baseline: Any) -> None:
    chosen = set(baseline.proposals["id"])
    cands = pd.read_csv(ROOT / "data" / "facilities" / "candidates.csv", dtype=str)
    unused_outlet = next(c for c in cands.loc[cands["type"] == "outlet", "candidate_id"] if c not in chosen)
    used = baseline.proposals.loc[baseline.proposals["type"] == "outlet", "id"].iloc[0]
    result = run_scenario(demo(cache, force=(unused_outlet,), exclude=(used,)), write=False)
    ids = set(result.proposals["id"])
    assert unused_outlet in ids and used not in ids
    assert result.summary["cost_total"] >= baseline.summary["cost_total"]


def test_force_and_exclude_the_same_candidate_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["plan"]["force"] = ["C00001"]
    data["plan"]["exclude"] = ["C00001"]
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True).replace("../data", str(ROOT / "data")), encoding="utf-8"
    )
    messages = " ".join(p.message for p in validate_scenario(path))
    assert "both forced and excluded" in messages


def test_meet_naming_a_standard_the_profile_lacks_is_refused_before_any_work(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("../data", str(ROOT / "data"))
    text = text.replace("standards: national-default", "standards: liaocheng-2024")
    data = yaml.safe_load(text)
    data["plan"]["meet"] = ["V-STATION", "D-LOCKER"]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "D-LOCKER" in result.output and "liaocheng-2024" in result.output


def test_capacity_constrains_the_plan(cache: Path, baseline: Any) -> None:
    scenario = demo(cache, meet=("R-URBAN", "R-TOWN"))
    free = run_scenario(scenario, write=False)
    facilities = dict(scenario.plan.facilities)
    facilities["outlet"] = facilities["outlet"].model_copy(update={"capacity": 400.0})
    facilities["locker"] = facilities["locker"].model_copy(update={"capacity": 400.0})
    capped = run_scenario(
        scenario.model_copy(update={"plan": scenario.plan.model_copy(update={"facilities": facilities})}),
        write=False,
    )
    # 400 parcels a day at 0.26 parcels per person is about 1,540 people per new unit: more units are needed
    assert len(capped.proposals) > len(free.proposals)
    assert capped.summary["cost_total"] > free.summary["cost_total"]


def test_the_study_areas_coordinate_system_applies_to_point_layers(tmp_path: Path) -> None:
    from planner.inputs.coords import wgs84_to_gcj02

    facilities = pd.read_csv(ROOT / "data" / "facilities" / "existing.csv", dtype={"village_code": str})
    lon, lat = wgs84_to_gcj02(facilities["lon"].to_numpy(), facilities["lat"].to_numpy())
    facilities = facilities.assign(lon=np.round(lon, 7), lat=np.round(lat, 7))
    facilities.to_csv(tmp_path / "existing_gcj.csv", index=False)
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8").replace("../data", str(ROOT / "data")))
    data["inputs"]["facilities"]["path"] = str(tmp_path / "existing_gcj.csv")
    # the boundary file is WGS-84 and says so (GeoJSON); the study area's gcj02 is for the point layers
    data["study_area"]["coordinate_system"] = "gcj02"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    scenario = load_scenario(path)
    layer = scenario.inputs.facilities
    assert layer is not None and layer.coordinate_system == "gcj02"
    assert scenario.inputs.villages is not None and scenario.inputs.villages.coordinate_system == "gcj02"
    from pyproj import CRS

    from planner.inputs import read_facilities

    read = read_facilities(layer.path, crs=CRS.from_epsg(4548), coordinate_system=layer.coordinate_system)
    back = read.to_crs(4326)
    original = pd.read_csv(ROOT / "data" / "facilities" / "existing.csv")
    # converted back to WGS-84 on load: within a metre of the original points (GCJ-02 offsets are ~500 m)
    assert np.abs(back.geometry.x.to_numpy() - original["lon"].to_numpy()).max() < 1e-5
    assert np.abs(back.geometry.y.to_numpy() - original["lat"].to_numpy()).max() < 1e-5


def test_park_objective_median_and_center_are_each_optimal_by_enumeration(cache: Path) -> None:
    """The park chosen by p-median has the least population-weighted travel time from the outlets,
    the one chosen by p-center the least longest travel time: checked over every park candidate."""
    from planner.geo import points_xy
    from planner.plan.county import travel_minutes
    from planner.run.prepare import prepare

    median = run_scenario(demo(cache, park_objective="median"), write=False)
    center = run_scenario(demo(cache, park_objective="center"), write=False)
    prepared = prepare(demo(cache), use_cache=True)
    cands = prepared.study.candidates
    cands = cands[cands["type"] == "park"]
    net = prepared.networks["car"]
    for result, kind in ((median, "median"), (center, "center")):
        fac = result.facilities
        outlets = fac[fac["type"] == "outlet"]
        population = result.demand.groupby(result.demand["township_code"].astype(str))["population"].sum()
        codes = outlets["township_code"].astype(str)
        per_town = codes.value_counts()
        weight = np.array([population.get(c, 0.0) / per_town[c] for c in codes])
        minutes = travel_minutes(net, points_xy(outlets), points_xy(cands), max_snap_m=1000.0)
        score = (weight[:, None] * minutes).sum(axis=0) if kind == "median" else minutes.max(axis=0)
        chosen = fac[(fac["type"] == "park") & (fac["status"] == "proposed")]
        assert len(chosen) == 1, kind
        j = int(
            np.flatnonzero(
                cands["candidate_id"].astype(str).to_numpy() == str(chosen["facility_id"].iloc[0])
            )[0]
        )
        assert score[j] <= score.min() * (1 + 1e-4) + 1e-9, (kind, score[j], score.min())
