"""The worked Chinese example ``scenarios/examples/hoxud.yaml`` on the real data of 和硕县 (skipped when
../shared/data/china/hoxud is absent).

Real boundary, real NBS register (no coordinates), real WorldPop at ~9 km; no roads, so the run is
straight-line only. Expected numbers come from the folder's SOURCES.md and files, or are recomputed here
(pandas counts, rasterio sums weighted by shapely areas, pyproj cell sizes).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod

ROOT = Path(__file__).resolve().parents[1]
HOXUD = ROOT.parent / "shared" / "data" / "china" / "hoxud"
SCENARIO = ROOT / "scenarios" / "examples" / "hoxud.yaml"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not HOXUD.is_dir(), reason="../shared/data/china/hoxud is absent"),
]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict[str, object]]:
    from planner.inputs import input_summary
    from planner.run import audit_scenario
    from planner.run.prepare import prepare
    from planner.scenario import load_scenario

    cache = tmp_path_factory.mktemp("cache")
    scenario = load_scenario(SCENARIO).model_copy(update={"cache_dir": cache})
    audit, _ = audit_scenario(scenario)
    prepared = prepare(scenario)
    return audit, {"prepared": prepared, "summary": input_summary(prepared.study)}


def test_hoxud_inputs_are_stated_as_they_are(audited: tuple[object, dict[str, object]]) -> None:
    _, found = audited
    summary = found["summary"]
    assert isinstance(summary, dict)
    json.dumps(summary, allow_nan=False, ensure_ascii=False)
    register = pd.read_csv(HOXUD / "villages_nbs2023_china-division.csv", dtype=str)
    kinds = register["kind"].value_counts()
    villages = summary["villages"]
    # no coordinates in the register and no point layer: every village and community is listed
    assert (villages["located"], villages["without_coordinates"]) == (0, kinds["village"])
    assert villages["communities_without_coordinates"] == kinds["community"]
    assert len(villages["unmatched"]) == len(register)
    assert summary["population_calibration"] is None  # no real census per township offline
    inputs = summary["inputs"]
    assert inputs["straight_line_only"] is True
    kinds_of = {name: entry["kind"] for name, entry in inputs["provenance"].items()}
    assert kinds_of == {
        "boundary": "real",
        "townships": "real",
        "population": "real",
        "census": "none",
        "roads": "none",
        "villages": "real",
        "village_points": "none",
        "facilities": "none",
        "candidates": "generated",
    }
    # the ~9 km raster is warned about, with its cell size: 1/12 degree of latitude in metres
    cell_m = Geod(ellps="WGS84").inv(87.5, 42.0, 87.5, 42.0 + 1 / 12)[2]
    population = inputs["population"]
    assert population["coarse"] and population["source_cell_m"] == pytest.approx(cell_m, rel=0.01)
    assert f"~{population['source_cell_m']:,.0f} m" in population["warning"]
    towns = pd.read_csv(HOXUD / "townships_nbs2023_china-division.csv", dtype=str)
    assert inputs["townships"]["total"] == len(towns) and inputs["townships"]["with_area"] == 0
    assert inputs["townships"]["people_outside"] == pytest.approx(population["total_after"], abs=0.1)


def test_hoxud_population_equals_the_raster_inside_the_boundary(
    audited: tuple[object, dict[str, object]],
) -> None:
    _, found = audited
    prepared = found["prepared"]
    total = float(prepared.demand["population"].sum())  # type: ignore[attr-defined]
    import geopandas as gpd

    area = gpd.read_file(HOXUD / "boundary_county_cnmaps_wgs84.geojson").geometry.union_all()
    with rasterio.open(HOXUD / "worldpop2020_10km.tif") as src:
        values = src.read(1, masked=True).astype("float64").filled(0.0)
        t = src.transform
    weighted = sum(
        values[r, c]
        * shapely.box(t.c + c * t.a, t.f + (r + 1) * t.e, t.c + (c + 1) * t.a, t.f + r * t.e)
        .intersection(area)
        .area
        / (abs(t.a * t.e))
        for r, c in zip(*np.nonzero(values > 0), strict=True)
    )
    assert total == pytest.approx(weighted, rel=0.03)
    assert total == pytest.approx(90_585, rel=0.05)  # SOURCES.md: cell centres inside the boundary


def test_hoxud_audit_names_townships_from_the_register(audited: tuple[object, dict[str, object]]) -> None:
    audit, _ = audited
    table = audit.table  # type: ignore[attr-defined]
    towns = pd.read_csv(HOXUD / "townships_nbs2023_china-division.csv", dtype=str)
    rows = table[(table["standard_id"] == "R-RURAL") & (table["unit_level"] == "township")]
    names = dict(zip(towns["code"], towns["name"], strict=True))
    # "一乡一所" applies to 乡 and 镇 (NBS 100–399): the farm and the police district (4xx) are not held to it
    xiangzhen = {c: n for c, n in names.items() if 100 <= int(c[6:]) <= 399}
    assert dict(zip(rows["unit_code"], rows["unit_name"], strict=True)) == xiangzhen
    assert "" not in set(table["unit_code"])  # no unnamed township


def test_hoxud_runs_end_to_end(tmp_path: Path) -> None:
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(SCENARIO).model_copy(update={"cache_dir": tmp_path / "cache"})
    result = run_scenario(scenario, out_dir=tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["reading"] == "buffer" and summary["network"] == {}
    assert summary["population_total"] == pytest.approx(float(result.demand["population"].sum()), abs=0.1)
    assert set(result.proposals["type"]) <= {"outlet", "locker"}  # no village has coordinates for a station
    assert math.isfinite(summary["population_total"])
    # what the report must say: villages located, the calibration (none here), straight-line only
    assert summary["villages"]["located"] == 0 and summary["villages"]["without_coordinates"] == 26
    assert summary["inputs"]["straight_line_only"] is True
    assert summary["population_calibration"] is None
