"""``planner batch``: a real Dask LocalCluster over small synthetic counties, one of them broken.

The cluster has 2 worker *processes* (``processes=True``), as ``planner batch`` runs by default:
the stages are GIL-bound Python, so processes are what gives parallelism in production, and only
processes exercise what threads would hide (every job and outcome pickled across a process
boundary, the task imported by a fresh interpreter, a failure confined to its worker).

Every merged figure is checked against the unit's own ``summary.json`` read back from disk, and the
ranking against a gap computed here from those files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
import yaml

from planner.batch import BatchSpecError, cnmaps_units, outputs_complete, plan_batch, run_batch, run_unit
from planner.batch.report import render_batch_report
from planner.batch.spec import CnmapsUnits, UnitJob, load_batch_file, scenario_file_units
from planner.scenario import load_scenario
from planner.synth import SynthParams, synthesize_county
from planner.types import AREA_CLASSES, FACILITY_TYPES

GOOD = ("379901", "379902", "379903")
BROKEN = "379904"  # its roads file is missing
SMALL: dict[str, Any] = dict(
    extent_km=15,
    n_townships=3,
    n_xiang=1,
    n_subdistricts=1,
    n_villages=30,
    seat_population=20_000,
    communities_per_subdistrict=4,
    n_remote=1,
)
PATHS = {
    "study_area.boundary": "counties/{code}/boundaries/county.geojson",
    "study_area.townships": "counties/{code}/boundaries/townships.geojson",
    "inputs.population.path": "counties/{code}/population/population_100m.tif",
    "inputs.roads.path": "counties/{code}/roads/roads.graphml",
    "inputs.villages.path": "counties/{code}/villages/villages.csv",
    "inputs.facilities.path": "counties/{code}/facilities/existing.csv",
    "inputs.candidates.path": "counties/{code}/facilities/candidates.csv",
}
TEMPLATE = {
    "name": "synth",
    "title": "合成县快递服务设施规划",
    "study_area": {"boundary": "placeholder.geojson", "crs": "auto"},
    "inputs": {
        "population": {"path": "placeholder.tif", "resolution_m": 200},
        "roads": {"path": "placeholder.graphml"},
    },
    "standards": "national-default",
    "plan": {
        "year": 2025,
        "facilities": {
            "outlet": {"cost": 60000},
            "locker": {"cost": 25000},
            "village_station": {"cost": 15000},
            "park": {"cost": 3000000, "place": False},
        },
    },
    "solver": {"time_limit_s": 30},
    "outputs": {"formats": ["csv", "gpkg"]},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four synthetic counties (the last without its roads file), a template and a batch file."""
    root = tmp_path_factory.mktemp("batch")
    for i, code in enumerate((*GOOD, BROKEN)):
        params = SynthParams(
            seed=40 + i, county_code=code, county_name=f"合成{i + 1}县", centre_lon=116.0 + 0.4 * i, **SMALL
        )
        synthesize_county(params, root / "counties" / code)
    (root / "counties" / BROKEN / "roads" / "roads.graphml").unlink()
    (root / "template.yaml").write_text(yaml.safe_dump(TEMPLATE, allow_unicode=True), encoding="utf-8")
    batch = {
        "name": "synth-batch",
        "title": "合成省",
        "template": "template.yaml",
        "units": [{"code": c, "name": f"合成{i + 1}县"} for i, c in enumerate((*GOOD, BROKEN))],
        "paths": PATHS,
        "outputs": {"folder": "out"},
    }
    (root / "batch.yaml").write_text(yaml.safe_dump(batch, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real local Dask cluster: 2 worker processes, 1 thread each."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as c,
    ):
        yield c


PROGRESS: list[Any] = []


@pytest.fixture(scope="module")
def first_run(workdir: Path, client: Any) -> Any:
    return run_batch(plan_batch(workdir / "batch.yaml"), client=client, on_progress=PROGRESS.append)


def _unit_summary(workdir: Path, code: str) -> dict[str, Any]:
    return json.loads((workdir / "out" / "units" / code / "summary.json").read_text(encoding="utf-8"))


def _mtime(workdir: Path, code: str) -> int:
    return (workdir / "out" / "units" / code / "summary.json").stat().st_mtime_ns


# ------------------------------------------------------------------------------------------------
# The batch on the cluster
# ------------------------------------------------------------------------------------------------


def test_broken_unit_is_recorded_and_does_not_stop_the_others(first_run: Any, workdir: Path) -> None:
    status = {o.unit_id: o.status for o in first_run.outcomes}
    assert status == {**dict.fromkeys(GOOD, "done"), BROKEN: "failed"}
    broken = next(o for o in first_run.outcomes if o.unit_id == BROKEN)
    assert broken.error_type == "ScenarioError" and broken.error is not None
    assert f"unit {BROKEN}" in broken.error
    assert "inputs.roads.path" in broken.error
    assert str(workdir / "counties" / BROKEN / "roads" / "roads.graphml") in broken.error
    for code in GOOD:  # every good unit wrote its outputs and a done-marker with the hash it ran
        summary = _unit_summary(workdir, code)
        marker = json.loads((workdir / "out" / "units" / code / ".planner-batch-done.json").read_text())
        assert marker["scenario_hash"] == summary["scenario_hash"]
    assert not (workdir / "out" / "units" / BROKEN / "summary.json").exists()
    log_text = (workdir / "out" / "logs" / f"{BROKEN}.log").read_text(encoding="utf-8")
    assert "roads.graphml" in log_text  # each unit's log is kept, the failure in it
    assert "batch: running" in (workdir / "out" / "logs" / f"{GOOD[0]}.log").read_text(encoding="utf-8")
    assert all(
        o.pid is not None and o.pid != os.getpid() for o in first_run.outcomes
    )  # ran in worker processes


def test_merged_summary_equals_the_unit_summaries_on_disk(first_run: Any, workdir: Path) -> None:
    table = pd.read_csv(workdir / "out" / "batch_summary.csv", dtype={"unit": str, "county_code": str})
    assert list(table["unit"]) == [*GOOD, BROKEN]
    gaps = {}
    for code in GOOD:
        s = _unit_summary(workdir, code)
        row = table.set_index("unit").loc[code]
        assert row["status"] == "done"
        assert row["population"] == pytest.approx(s["population_total"])
        for c in AREA_CLASSES:
            for when in ("before", "after"):
                expected = s["coverage"][c][when]
                got = row[f"coverage_{when}_{c}"]
                assert (pd.isna(got) and expected is None) or got == pytest.approx(expected)
        assert row["villages"] == s["villages"]["total"]
        assert row["villages_with_station_before"] == s["villages"]["with_station_before"]
        assert row["villages_with_station_after"] == s["villages"]["with_station_after"]
        for t in FACILITY_TYPES:
            assert row[f"proposed_{t}"] == s["proposals"].get(t, 0)
        assert row["cost_total"] == pytest.approx(s["cost_total"])
        assert row["solver_gap"] == pytest.approx(s["solver"]["mip_gap"])
        assert row["scenario_hash"] == s["scenario_hash"]
        uncovered = sum(
            s["population_by_class"][c] * (1 - s["coverage"][c]["before"])
            for c in AREA_CLASSES
            if s["coverage"][c]["before"] is not None
        )
        assert row["uncovered_before"] == pytest.approx(uncovered, abs=0.1)
        gaps[code] = uncovered / s["population_total"]
    ranked = sorted(GOOD, key=lambda c: -gaps[c])
    assert [table.set_index("unit").loc[c, "gap_rank"] for c in ranked] == [1, 2, 3]
    failed = table.set_index("unit").loc[BROKEN]
    assert failed["status"] == "failed" and "roads" in failed["error"]
    assert pd.isna(failed["population"]) and pd.isna(failed["gap_rank"])
    doc = json.loads((workdir / "out" / "batch_summary.json").read_text(encoding="utf-8"))
    assert [u["unit"] for u in doc["units"]] == [*GOOD, BROKEN]
    assert doc["totals"]["population"] == pytest.approx(
        sum(_unit_summary(workdir, c)["population_total"] for c in GOOD)
    )
    assert doc["totals"]["units_failed"] == 1


def test_merged_geopackage_holds_every_unit_layer(first_run: Any, workdir: Path) -> None:
    merged = workdir / "out" / "batch_results.gpkg"
    layers = {str(n) for n, _ in pyogrio.list_layers(merged)}
    unit_gpkg = {c: workdir / "out" / "units" / c / "results.gpkg" for c in GOOD}
    unit_layers = {str(n) for n, g in pyogrio.list_layers(unit_gpkg[GOOD[0]]) if g is not None}
    assert unit_layers <= layers and "units" in layers
    for layer in sorted(unit_layers):
        counts = pyogrio.read_dataframe(merged, layer=layer, read_geometry=False)["unit"].value_counts()
        for code in GOOD:
            expected = pyogrio.read_info(unit_gpkg[code], layer=layer)["features"]
            assert counts.get(code, 0) == expected, (layer, code)
    units = pyogrio.read_dataframe(merged, layer="units")
    assert sorted(units["unit"]) == list(GOOD)


def test_report_and_map(first_run: Any, workdir: Path) -> None:
    report = (workdir / "out" / "batch_report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in report and "按覆盖缺口排序" in report
    for i in range(4):
        assert f"合成{i + 1}县" in report
    assert "inputs.roads.path" in report  # the broken unit's error is shown
    english = render_batch_report(first_run.plan, first_run.rows, lang="en")
    assert '<html lang="en">' in english and "Units ranked by coverage gap" in english
    page = (workdir / "out" / "batch_map.html").read_text(encoding="utf-8")
    assert "L.map(" in page or "L.map (" in page
    assert 'src="http' not in page and "cdn." not in page  # offline: no external scripts
    for code in GOOD:
        assert code in page


def test_rerun_skips_unchanged_and_reruns_changed(first_run: Any, workdir: Path, client: Any) -> None:
    before = {c: _mtime(workdir, c) for c in GOOD}
    second = run_batch(plan_batch(workdir / "batch.yaml"), client=client)
    assert {o.unit_id: o.status for o in second.outcomes} == {
        **dict.fromkeys(GOOD, "skipped"),
        BROKEN: "failed",
    }
    assert {c: _mtime(workdir, c) for c in GOOD} == before  # nothing rewritten
    table = pd.read_csv(workdir / "out" / "batch_summary.csv", dtype={"unit": str}).set_index("unit")
    for code in GOOD:  # skipped units keep their figures in the merged summary
        assert table.loc[code, "population"] == pytest.approx(
            _unit_summary(workdir, code)["population_total"]
        )

    # change one unit's input bytes (drop its last existing facility) and damage another's outputs
    facilities = workdir / "counties" / GOOD[1] / "facilities" / "existing.csv"
    lines = facilities.read_text(encoding="utf-8").splitlines(keepends=True)
    facilities.write_text("".join(lines[:-1]), encoding="utf-8")
    (workdir / "out" / "units" / GOOD[2] / "proposals.csv").unlink()
    third = run_batch(plan_batch(workdir / "batch.yaml"), client=client)
    assert {o.unit_id: o.status for o in third.outcomes} == {
        GOOD[0]: "skipped",
        GOOD[1]: "done",
        GOOD[2]: "done",
        BROKEN: "failed",
    }
    assert _mtime(workdir, GOOD[0]) == before[GOOD[0]]
    assert _mtime(workdir, GOOD[1]) != before[GOOD[1]]
    new_hash = _unit_summary(workdir, GOOD[1])["scenario_hash"]
    assert new_hash != first_run.rows[1]["scenario_hash"]
    assert (workdir / "out" / "units" / GOOD[2] / "proposals.csv").is_file()


# ------------------------------------------------------------------------------------------------
# Without a cluster
# ------------------------------------------------------------------------------------------------


def test_unit_scenarios_from_the_template(workdir: Path) -> None:
    plan = plan_batch(workdir / "batch.yaml", out_dir=workdir / "plan-only")
    assert [j.unit.id for j in plan.jobs] == [*GOOD, BROKEN]
    job = plan.jobs[0]
    scenario = load_scenario(job.scenario_path)  # the made scenario is a valid scenario file
    assert scenario.name == f"synth-{GOOD[0]}"
    assert (
        scenario.inputs.roads.path == (workdir / "counties" / GOOD[0] / "roads" / "roads.graphml").resolve()
    )
    assert scenario.study_area.county_code == GOOD[0]
    assert scenario.outputs.folder == (workdir / "plan-only" / "units" / GOOD[0]).resolve()
    assert scenario.outputs.formats == ("csv", "gpkg")
    assert job.input_bytes == sum(p.stat().st_size for p in scenario.input_files().values())


def test_corrupt_raster_fails_the_unit_without_raising(workdir: Path, tmp_path: Path) -> None:
    plan = plan_batch(workdir / "batch.yaml", out_dir=tmp_path / "out")
    data = yaml.safe_load(plan.jobs[0].scenario_path.read_text(encoding="utf-8"))
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00 this is not a GeoTIFF")
    data["inputs"]["population"]["path"] = str(bad)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    job = UnitJob(plan.jobs[0].unit, scenario, tmp_path / "out" / "units" / "bad")
    outcome = run_unit(job)
    assert outcome.status == "failed" and outcome.error is not None
    assert "bad.tif" in outcome.error and "inputs.population.path" in outcome.error
    assert not outputs_complete(job.out_dir, "0" * 16, ("csv",))


def test_cnmaps_units_of_a_city() -> None:
    units = cnmaps_units(CnmapsUnits(province="吉林省", city="吉林市"))
    # Jilin City's 9 county-level units (4 districts, 1 county, 4 county-level cities)
    names = ["昌邑区", "龙潭区", "船营区", "丰满区", "永吉县", "蛟河市", "桦甸市", "舒兰市", "磐石市"]
    assert sorted(u.name for u in units) == sorted(names)
    changyi = next(u for u in units if u.name == "昌邑区")
    assert changyi.code == "220202" and changyi.admin_name == "吉林省/吉林市/昌邑区"
    assert all(u.code is not None and u.code.startswith("2202") for u in units)
    only = cnmaps_units(CnmapsUnits(province="吉林省", city="吉林市", include=["昌邑区", "220203"]))
    assert [u.name for u in only] == ["昌邑区", "龙潭区"]
    with pytest.raises(BatchSpecError, match="province must be a full name"):
        cnmaps_units(CnmapsUnits(province="吉林"))


def test_cnmaps_template_uses_admin_names(workdir: Path, tmp_path: Path) -> None:
    batch = {
        "name": "jilin",
        "template": str(workdir / "template.yaml"),
        "units": {"province": "吉林省", "city": "吉林市", "include": ["永吉县"]},
        "paths": {"inputs.roads.path": "roads/{code}.graphml"},
    }
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(batch, allow_unicode=True), encoding="utf-8")
    plan = plan_batch(tmp_path / "b.yaml", out_dir=tmp_path / "out")
    (job,) = plan.jobs
    data = yaml.safe_load(job.scenario_path.read_text(encoding="utf-8"))
    assert data["study_area"]["admin_name"] == "吉林省/吉林市/永吉县"
    assert "boundary" not in data["study_area"]
    assert data["study_area"]["county_code"] == "220221"
    assert data["inputs"]["roads"]["path"] == str((tmp_path / "roads" / "220221.graphml").resolve())
    assert "villages" not in data["inputs"]  # layers the template does not have stay absent


def test_bad_batch_files_name_the_file_the_line_and_the_fix(workdir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntemplate: t.yaml\nunits: [{code: '1'}]\nthreads: 4\n", encoding="utf-8")
    with pytest.raises(BatchSpecError) as err:
        load_batch_file(bad)
    problem = err.value.problems[0]
    assert problem.file == bad and problem.line == 4 and "threads" in problem.message and problem.fix
    placeholder = tmp_path / "placeholder.yaml"
    placeholder.write_text(
        yaml.safe_dump(
            {
                "name": "x",
                "template": str(workdir / "template.yaml"),
                "units": [{"code": "379901"}],
                "paths": {"inputs.roads.path": "{county}/roads.graphml"},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(BatchSpecError, match=r"unit 379901 .*no placeholder \['county'\]"):
        plan_batch(placeholder, out_dir=tmp_path / "o")


def test_scenario_list_units(workdir: Path, tmp_path: Path) -> None:
    plan = plan_batch(workdir / "batch.yaml", out_dir=tmp_path / "o")
    files = [j.scenario_path for j in plan.jobs[:2]]
    units = scenario_file_units(files)
    assert [u.id for u, _ in units] == [f"synth-{GOOD[0]}", f"synth-{GOOD[1]}"]
    listed = plan_batch(files, out_dir=tmp_path / "list")
    assert [j.out_dir for j in listed.jobs] == [tmp_path / "list" / "units" / u.id for u, _ in units]


def test_every_scenario_file_field_is_a_batch_path_field() -> None:
    """A template's relative census table or village points file is made absolute for each unit."""
    from planner.batch.spec import PATH_FIELDS, _absolute_paths

    assert "inputs.population.calibrate_to" in PATH_FIELDS
    assert "inputs.villages.points.path" in PATH_FIELDS
    data = {
        "inputs": {
            "population": {"path": "p.tif", "calibrate_to": "census.csv"},
            "villages": {"path": "v.csv", "points": {"path": "pts.csv"}},
        }
    }
    base = Path("/data/template")
    _absolute_paths(data, base)
    assert data["inputs"]["population"]["calibrate_to"] == str((base / "census.csv").resolve())
    assert data["inputs"]["villages"]["points"]["path"] == str((base / "pts.csv").resolve())
