"""Every document profile audits and plans the demo and 20 seeded synthetic counties, and every unit a
standard in ``plan.meet`` still fails after the plan is listed in ``summary.json`` → ``unmet`` with a
cause that an independent check here confirms."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from planner.audit import failing
from planner.cli import app
from planner.run import run_scenario
from planner.scenario import load_scenario
from planner.standards import definition

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"
PROFILES = [
    "national-default",
    "hoxud-2021",
    "jinjiang-2020",
    "liaocheng-2024",
    "jilin-city-2021",
    "jilin-province-2021",
]


#: One cache for every run of this module (networks and coverage matrices reused across profiles).
CACHE: dict[str, Path] = {}


def with_profile(
    path: Path, profile: str, out: Path, *, reading: str | None = None, variant: int = -1
) -> Path:
    """A copy of a scenario under another profile: absolute paths, the module's cache, JSON and CSV out.

    ``variant`` stresses the plan: 0 — a 120 m snapping distance (people off the roads), 2 — the best
    coverage for 300,000 yuan, 3 — lockers not placed and nine of every ten outlet candidates excluded.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = path.parent
    area, inputs = data["study_area"], data["inputs"]
    for key in ("boundary", "townships"):
        if key in area:
            area[key] = str((base / area[key]).resolve())
    for layer in inputs.values():
        if isinstance(layer, dict) and "path" in layer:
            layer["path"] = str((base / layer["path"]).resolve())
    data["standards"] = profile
    data["cache_dir"] = str(CACHE["dir"])
    data.setdefault("outputs", {})["formats"] = ["json", "csv"]
    data["outputs"].pop("folder", None)
    if reading:
        data.setdefault("travel", {})["reading"] = reading
    if variant == 0:
        data.setdefault("travel", {})["max_snap_m"] = 120
    elif variant == 2:
        data["plan"]["objective"] = "max_coverage"
        data["plan"]["budget"] = {"total": 300_000}
    elif variant == 3:
        data["plan"]["facilities"]["locker"]["place"] = False
        cands = pd.read_csv(Path(inputs["candidates"]["path"]), dtype=str)
        outlets = cands.loc[cands["type"] == "outlet", "candidate_id"].tolist()
        data["plan"]["exclude"] = [c for i, c in enumerate(outlets) if i % 10]
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    CACHE["dir"] = tmp_path_factory.mktemp("cache")


# ---------------------------------------------------------------------------------------------
# Independent checks of the causes
# ---------------------------------------------------------------------------------------------


def _built_all(result: Any, unmet: dict[str, Any], excluded: tuple[str, ...]) -> bool:
    """``no_candidate`` for a count standard: every candidate of a counted type in the unit (but those
    the scenario excludes) was built."""
    study_candidates = result.extra_tables.get("_candidates")
    assert study_candidates is not None
    study_candidates = study_candidates[~study_candidates["candidate_id"].astype(str).isin(excluded)]
    types = set(definition(unmet["standard"]).serves)
    key = {"community": "village_code", "township": "township_code"}.get(unmet["unit_level"])
    cands = study_candidates[study_candidates["type"].astype(str).isin(types)]
    if key is not None:
        cands = cands[cands[key].astype(str) == unmet["unit_code"]]
    return set(cands["candidate_id"].astype(str)) <= set(result.proposals["id"].astype(str))


def _radius_people(result: Any, unmet: dict[str, Any]) -> pd.DataFrame:
    demand = result.demand
    area = "urban" if unmet["standard"] == "R-URBAN" else "township"
    sel = (demand["area_class"] == area) & ~demand["covered_after"].astype(bool)
    key = {"township": "township_code", "village": "village_code", "community": "village_code"}.get(
        unmet["unit_level"]
    )
    if key is not None:
        sel &= demand[key].astype(str) == unmet["unit_code"]
    return demand[sel]


#: The fastest speed of each mode (km/h) in the planner's speed table: a trip of t minutes cannot
#: leave a disc of radius t × this speed, so a site farther than that (and than d) is out of reach.
FASTEST_KMH = {"walk": 6.0, "tricycle": 25.0, "car": 120.0}


def _no_site_within(result: Any, cells: pd.DataFrame, scenario: Any) -> np.ndarray:
    """Cells no existing or candidate pickup site can reach: straight-line distance beyond d (the buffer
    reading) or, along roads, beyond both d and the farthest a trip of t minutes can go (a lower bound
    of the network distance that proves a cell out of reach)."""
    sites = result.extra_tables["_sites"]
    profile = scenario.load_profile()
    cells_xy = np.column_stack([cells.geometry.x, cells.geometry.y])
    sites_xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    out = np.ones(len(cells), dtype=bool)
    for area, sid in (("urban", "R-URBAN"), ("township", "R-TOWN")):
        std = profile.require(sid)
        rows = (cells["area_class"] == area).to_numpy()
        reach = std.distance_km * 1000
        if scenario.travel.reading == "network":
            reach = max(reach, std.time_min / 60 * FASTEST_KMH[std.mode] * 1000)
        if rows.any() and len(sites_xy):
            d = np.sqrt(((cells_xy[rows, None, :] - sites_xy[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
            out[rows] = d > reach + 1e-6
        if scenario.travel.reading == "network" and rows.any() and not out[rows].all():
            out[rows] |= _beyond_by_network(result, cells_xy[rows], sites_xy, std, scenario)
    return out


def _beyond_by_network(
    result: Any, cells_xy: np.ndarray, sites_xy: np.ndarray, std: Any, scenario: Any
) -> np.ndarray:
    """Along the roads: the nearest site (one multi-source search per weight, the engine's nearest-facility
    search that tests/test_coverage.py checks against networkx) is beyond both d and t."""
    from planner.coverage import nearest_facility
    from planner.network import snap_points

    net = result.extra_tables["_networks"][std.mode]
    cells = snap_points(net, cells_xy, max_snap_m=scenario.travel.max_snap_m)
    sites = snap_points(net, sites_xy, max_snap_m=scenario.travel.max_snap_m)
    near = nearest_facility(net, cells, sites)
    return (near.distance_m > std.distance_km * 1000 + 1e-6) & (near.time_s > std.time_min * 60 + 1e-6)


def check_unmet(result: Any, scenario: Any) -> None:
    summary = result.summary
    after = result.audit_after.table
    judged = after[failing(after) & after["standard_id"].isin(summary["meet"])]
    listed = {(u["standard"], u["unit_level"], u["unit_code"]) for u in summary["unmet"]}
    for _, r in judged.iterrows():
        assert (r["standard_id"], r["unit_level"], str(r["unit_code"])) in listed, r.to_dict()
    placeable = {t for t, s in scenario.plan.facilities.items() if s.place}
    for u in summary["unmet"]:
        cause, kind = u["cause"], definition(u["standard"]).kind
        assert cause != "unexplained", u
        if cause == "not_placeable":
            assert not set(definition(u["standard"]).serves) & placeable, u
        elif cause == "budget":
            assert summary["objective"] == "max_coverage" or summary["budget_bound"], u
        elif (
            cause == "no_candidate" and kind == "count" and u["unit_level"] == definition(u["standard"]).unit
        ):
            assert _built_all(result, u, scenario.plan.exclude), u  # the unit's own row
        elif cause == "no_candidate" and kind == "radius":
            cells = _radius_people(result, u)
            assert _no_site_within(result, cells, scenario).any(), u
        elif cause == "unreachable" and kind == "radius":
            cells = _radius_people(result, u)
            assert (~cells["reachable"].astype(bool)).any(), u
        elif cause == "no_candidate" and u["standard"] == "P-COUNTY":
            assert not (result.extra_tables["_candidates"]["type"] == "park").any() or "park" not in placeable


def run_checked(path: Path) -> Any:
    scenario = load_scenario(path)
    result = run_scenario(scenario, write=False)
    from planner.run.prepare import prepare

    prepared = prepare(scenario)
    study = prepared.study
    pickup = study.facilities[study.facilities["type"].isin(["outlet", "locker", "delivery_centre"])]
    cand = study.candidates[study.candidates["type"].isin(["outlet", "locker", "delivery_centre"])]
    placeable = [t for t, spec in scenario.plan.facilities.items() if spec.place]
    cand = cand[~cand["candidate_id"].astype(str).isin(scenario.plan.exclude) & cand["type"].isin(placeable)]
    sites = pd.concat([pickup[["geometry"]], cand[["geometry"]]], ignore_index=True)
    extra = {
        **result.extra_tables,
        "_candidates": study.candidates,
        "_sites": sites,
        "_networks": prepared.networks,
    }
    result = dataclasses.replace(result, extra_tables=extra)
    check_unmet(result, scenario)
    return result


# ---------------------------------------------------------------------------------------------
# The demo under every profile, through the CLI
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_audits_and_plans_the_demo(profile: str, tmp_path: Path) -> None:
    path = with_profile(DEMO, profile, tmp_path / f"{profile}.yaml")
    runner = CliRunner()
    audit = runner.invoke(app, ["audit", str(path), "-q"])
    assert audit.exit_code == 0, audit.output
    run = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "-q"])
    assert run.exit_code == 0, run.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["profile"] == profile and set(summary["meet"]) <= set(summary["standards_set"])
    after = pd.read_csv(tmp_path / "out" / "audit_after.csv", encoding="utf-8-sig")
    before = pd.read_csv(tmp_path / "out" / "audit.csv", encoding="utf-8-sig")
    assert list(after.columns) == list(before.columns)
    run_checked(path)


# ---------------------------------------------------------------------------------------------
# 20 seeded synthetic counties of varied size, each under a profile, half along the roads
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counties(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, Path]]:
    from planner.synth import SynthParams, synthesize_county, write_scenario

    root = tmp_path_factory.mktemp("synth")
    out = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        params = dataclasses.replace(
            SynthParams(seed=100 + seed),
            n_villages=int(rng.integers(25, 60)),
            n_townships=int(rng.integers(2, 6)),
            extent_km=float(rng.uniform(12, 24)),
        )
        folder = root / f"c{seed}"
        synthesize_county(params, folder)
        out.append((seed, write_scenario(folder, params)))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_synthetic_county_under_a_profile(
    seed: int, counties: list[tuple[int, Path]], tmp_path: Path
) -> None:
    path = dict(counties)[seed]
    profile = PROFILES[seed % len(PROFILES)]
    reading = "buffer" if seed % 2 else None
    scenario_path = with_profile(path, profile, tmp_path / "s.yaml", reading=reading, variant=seed % 5)
    result = run_checked(scenario_path)
    assert result.summary["profile"] == profile
    assert np.isfinite(result.summary["population_total"])
