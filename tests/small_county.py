"""A small synthetic county (16 villages, ~35,000 people, 3 townships) with its scenario, for tests that
break, kill or cut its inputs (tests/test_bad_inputs.py, tests/test_robust_runs.py)."""

from __future__ import annotations

from pathlib import Path

from planner.synth import SynthParams, synthesize_county

SCENARIO = """\
name: small
study_area:
  boundary: data/boundaries/county.geojson
  townships: data/boundaries/townships.geojson
  county_code: "379901"
  county_name: 示范县
inputs:
  population:
    path: data/population/population_100m.tif
    resolution_m: 200
  roads:
    path: data/roads/roads.graphml
  villages:
    path: data/villages/villages.csv
  facilities:
    path: data/facilities/existing.csv
  candidates:
    path: data/facilities/candidates.csv
plan:
  year: 2025
  facilities:
    outlet: {cost: 60000}
    locker: {cost: 25000}
    village_station: {cost: 15000}
    park: {cost: 3000000}
solver:
  time_limit_s: 30
outputs:
  formats: [json, csv]
"""

PARAMS = SynthParams(
    extent_km=12.0,
    n_townships=3,
    n_xiang=1,
    n_subdistricts=1,
    n_villages=16,
    n_remote=1,
    seat_population=3000,
    communities_per_subdistrict=2,
)


def make_small_county(base: Path) -> Path:
    """Write the county's files under ``base/data`` and ``base/scenario.yaml``; return ``base``."""
    synthesize_county(PARAMS, base / "data")
    (base / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    return base
