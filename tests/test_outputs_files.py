"""write_outputs: the contract files, read back independently (csv, json, pyogrio, sqlite3, openpyxl)."""

from __future__ import annotations

import csv
import functools
import json
import math
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from outputs_fixtures import WORK_CRS, make_run_result
from pyproj import Transformer

from planner.outputs import OutputDirError, files
from planner.outputs import write_outputs as _write_outputs
from planner.outputs.i18n import Lang
from planner.types import AUDIT_COLUMNS, AUDIT_EXTRA_COLUMNS, PROPOSAL_COLUMNS, VILLAGE_GAP_COLUMNS

CONTRACT = {
    "summary.json",
    "proposals.csv",
    "audit.csv",
    "village_gaps.csv",
    "results.gpkg",
    "results.xlsx",
    "map.html",
    "report.html",
}

# report.pdf is printed by Chromium in tests/test_outputs_pdf.py only (it takes seconds)
write_outputs = functools.partial(_write_outputs, pdf=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path, list[Path]]:
    result = make_run_result()
    out = tmp_path_factory.mktemp("outputs") / "demo"
    paths = write_outputs(result, out)
    return result, out, paths


def test_every_contract_file_is_written_and_nothing_else_left(run) -> None:
    result, out, paths = run
    # the contract files, plus one CSV per plain extra table the run carries (e.g. the budget curve)
    extra = {f"{key}.csv" for key in files.extra_frames(result)}
    assert {p.name for p in paths} == CONTRACT | extra
    assert {p.name for p in out.iterdir()} == CONTRACT | extra
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    assert [p.name for p in out.parent.iterdir()] == ["demo"]  # no temporary siblings


def test_summary_json_equals_the_summary(run) -> None:
    result, out, _ = run
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data == result.summary
    for key in (
        "scenario",
        "planner_version",
        "scenario_hash",
        "population_total",
        "coverage",
        "villages",
        "proposals",
        "solver",
        "timings",
    ):
        assert key in data


def test_summary_json_writes_nan_as_null_and_numpy_as_numbers(tmp_path: Path) -> None:
    result = make_run_result()
    result.summary["solver"]["mip_gap"] = float("nan")
    result.summary["villages"]["total"] = np.int64(5)
    result.summary["coverage"]["rural"]["after"] = np.float32(0.5)
    write_outputs(result, tmp_path / "o", formats=())
    data = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert data["solver"]["mip_gap"] is None
    assert data["villages"]["total"] == 5
    assert data["coverage"]["rural"]["after"] == 0.5


def test_csvs_have_contract_columns_and_values(run) -> None:
    result, out, _ = run
    with (out / "proposals.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # the BOM is not part of the first name; the standards each site is there for come last
    extra = ["standards"] if "standards" in result.proposals.columns else []
    assert list(rows[0].keys()) == [*PROPOSAL_COLUMNS, *extra]
    proposed = result.facilities[result.facilities["status"] == "proposed"]
    to_wgs = Transformer.from_crs(WORK_CRS, 4326, always_xy=True)
    lon, lat = to_wgs.transform(proposed.geometry.x.to_numpy(), proposed.geometry.y.to_numpy())
    assert [r["id"] for r in rows] == proposed["facility_id"].tolist()
    assert np.allclose([float(r["lon"]) for r in rows], lon, atol=2e-6)
    assert np.allclose([float(r["lat"]) for r in rows], lat, atol=2e-6)
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(result.summary["solver"]["objective"])
    assert [r["township_name"] for r in rows] == ["东城街道", "东城街道", "东城街道", "柳林镇"]

    audit = pd.read_csv(out / "audit.csv", dtype={"unit_code": str})
    extra = [c for c in AUDIT_EXTRA_COLUMNS if c in result.audit.table.columns]
    assert list(audit.columns) == [*AUDIT_COLUMNS, *extra]
    assert len(audit) == len(result.audit.table)
    assert np.allclose(audit["value"], result.audit.table["value"], rtol=1e-12)
    assert audit["passed"].tolist() == result.audit.table["passed"].tolist()
    assert audit["unit_code"].tolist() == result.audit.table["unit_code"].tolist()  # codes stay text

    gaps = pd.read_csv(out / "village_gaps.csv", dtype={"village_code": str})
    assert list(gaps.columns) == list(VILLAGE_GAP_COLUMNS)
    assert gaps["village_code"].tolist() == ["371502001202", "371502101202", "371502101203"]


def test_gpkg_layers_crs_columns_and_coordinates(run) -> None:
    result, out, _ = run
    path = out / "results.gpkg"
    layers = {name for name, _g in pyogrio.list_layers(path)}
    assert {"boundary", "townships", "demand", "villages", "facilities", "gaps"} <= layers
    frames = {
        name: pyogrio.read_dataframe(path, layer=name)
        for name in ("boundary", "townships", "demand", "villages", "facilities", "gaps")
    }
    for name, gdf in frames.items():
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4326, name
    fac = frames["facilities"]
    assert len(fac) == len(result.facilities)
    assert set(fac["status"]) == {"existing", "proposed"}
    to_wgs = Transformer.from_crs(WORK_CRS, 4326, always_xy=True)
    lon, lat = to_wgs.transform(
        result.facilities.geometry.x.to_numpy(), result.facilities.geometry.y.to_numpy()
    )
    assert np.allclose(fac.geometry.x, lon, atol=1e-9) and np.allclose(fac.geometry.y, lat, atol=1e-9)
    assert frames["demand"]["population"].sum() == pytest.approx(result.summary["population_total"])
    assert frames["demand"]["covered_after"].dtype == bool
    vil = frames["villages"]
    assert len(vil) == 6 and int(vil.geometry.isna().sum()) == 1  # the village without coordinates is kept
    assert frames["gaps"]["population"].sum() == pytest.approx(
        result.demand.loc[~result.demand["covered_before"], "population"].sum()
    )
    corners = np.array(result.boundary.geometry.iloc[0].exterior.coords)
    clon, clat = to_wgs.transform(corners[:, 0], corners[:, 1])
    assert np.allclose(
        frames["boundary"].total_bounds, [min(clon), min(clat), max(clon), max(clat)], atol=1e-7
    )
    assert set(frames["townships"]["township_name"]) == {"东城街道", "柳林镇"}


def test_gpkg_has_a_qgis_style_per_layer(run) -> None:
    result, out, _ = run
    con = sqlite3.connect(out / "results.gpkg")
    try:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        contents = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'"
        ).fetchone()
    finally:
        con.close()
    assert contents == ("attributes",)
    styles = {r[0]: r for r in rows}
    assert set(styles) == {"boundary", "townships", "demand", "villages", "facilities", "gaps"}
    for name, (_n, geom_col, qml, default) in styles.items():
        assert default == 1 and geom_col == "geom", name
        root = ET.fromstring(qml.split("\n", 1)[1])  # drop the DOCTYPE line
        assert root.tag == "qgis"
        assert root.find("renderer-v2") is not None, name
    fac = ET.fromstring(styles["facilities"][2].split("\n", 1)[1]).find("renderer-v2")
    assert fac is not None and fac.get("type") == "categorizedSymbol"
    values = {c.get("value") for c in fac.iter("category")}
    expected = {
        f"{s}:{t}" for s, t in zip(result.facilities["status"], result.facilities["type"], strict=True)
    }
    assert values == expected
    assert len(list(fac.iter("symbol"))) == len(expected)
    demand = ET.fromstring(styles["demand"][2].split("\n", 1)[1]).find("renderer-v2")
    assert demand is not None and demand.get("attr") == "covered_after"
    town = ET.fromstring(styles["townships"][2].split("\n", 1)[1])
    text_style = town.find("labeling/settings/text-style")
    assert text_style is not None and text_style.get("fieldName") == "township_name"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_sheets_and_headers(tmp_path: Path, lang: Lang) -> None:
    result = make_run_result()
    write_outputs(result, tmp_path / "o", lang=lang, formats={"xlsx"})
    wb = openpyxl.load_workbook(tmp_path / "o" / "results.xlsx")
    names = (
        ["摘要", "标准审计", "乡镇", "规划方案", "村级缺口", "设施缺口", "投资覆盖曲线"]
        if lang == "zh"
        else ["Summary", "Audit", "Townships", "Plan", "Village gaps", "Facility gaps", "Budget curve"]
    )
    assert wb.sheetnames == names
    audit = list(wb[names[1]].iter_rows(values_only=True))
    header = audit[0]
    if lang == "zh":
        assert header == ("标准编号", "单元层级", "单元代码", "单元名称", "现状值", "目标值", "是否达标")
        assert [r[6] for r in audit[1:]] == ["是" if p else "否" for p in result.audit.table["passed"]]
        assert [r[1] for r in audit[1:3]] == ["县", "县"]
    else:
        assert header == ("Standard", "Unit level", "Unit code", "Unit name", "Value", "Target", "Passed")
        assert [r[6] for r in audit[1:]] == ["yes" if p else "no" for p in result.audit.table["passed"]]
    assert len(audit) - 1 == len(result.audit.table)
    assert [r[4] for r in audit[1:]] == pytest.approx(result.audit.table["value"].tolist())
    assert [r[2] for r in audit[1:]] == result.audit.table["unit_code"].tolist()  # codes stay text
    # the audit's value reads by standard: a share as percent, a rate with two decimals
    kinds = {r[0]: wb[names[1]].cell(row=i + 2, column=5).number_format for i, r in enumerate(audit[1:])}
    assert kinds["R-URBAN"] == "0.0%" and kinds["D-OUTLET"] == "0.00"
    plan = wb[names[3]]
    plan_rows = list(plan.iter_rows(values_only=True))
    cost_col = plan_rows[0].index("建设费用（万元）" if lang == "zh" else "Cost (yuan)")
    scale = 10_000 if lang == "zh" else 1
    assert sum(r[cost_col] for r in plan_rows[1:]) * scale == pytest.approx(result.proposals["cost"].sum())
    assert plan.cell(row=2, column=cost_col + 1).number_format == ("#,##0.0" if lang == "zh" else "#,##0")
    assert plan_rows[1][1] == ("快递末端网点" if lang == "zh" else "Terminal outlet")

    # the summary sheet: item, before, after, unit, written for a person
    sheet = wb[names[0]]
    rows = list(sheet.iter_rows(values_only=True))
    head = ("项目", "规划前", "规划后", "单位") if lang == "zh" else ("Item", "Before", "After", "Unit")
    assert rows[0] == head
    by_item = {r[0]: r for r in rows[1:] if r[0]}
    urban = by_item["城区服务覆盖率" if lang == "zh" else "Urban coverage"]
    cov = result.summary["coverage"]["urban"]
    assert urban[1:3] == pytest.approx((cov["before"], cov["after"]))
    row_no = 1 + [r[0] for r in rows].index(urban[0])
    assert sheet.cell(row=row_no, column=2).number_format == "0.0%"
    cost = by_item["规划总投资" if lang == "zh" else "Total cost"]
    assert cost[2] * scale == pytest.approx(result.proposals["cost"].sum())
    assert cost[3] == ("万元" if lang == "zh" else "yuan")
    with_station = (
        "有村级站点的行政村（含共享）" if lang == "zh" else "Villages with a station (own or shared)"
    )
    villages = by_item[with_station]
    assert villages[1:3] == (
        result.summary["villages"]["with_station_before"],
        result.summary["villages"]["with_station_after"],
    )
    failing = by_item["未达标的标准（全县）" if lang == "zh" else "Standards failing (county)"]
    county = result.audit.table[result.audit.table["unit_level"] == "county"]
    assert failing[1] == int((~county["passed"]).sum())
    # no cache folder, solver matrix sizes or dotted keys: a person's summary
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "cache" not in flat and "." not in "".join(str(r[0]) for r in rows[1 : len(by_item)] if r[0])

    towns = wb[names[2]]
    header = [c.value for c in towns[1]]
    col = header.index("规划前覆盖率" if lang == "zh" else "Coverage before")
    cell = towns.cell(row=2, column=col + 1)
    assert cell.number_format == "0.0%"
    assert cell.value == pytest.approx(result.township_table["coverage_before"].iloc[0])
    gaps = list(wb[names[4]].iter_rows(values_only=True))
    assert gaps[-1][4] is None  # infinite distance is left empty, not "inf"
    curve = list(wb[names[6]].iter_rows(values_only=True))
    assert curve[0][0] == ("投资上限（万元）" if lang == "zh" else "Budget (yuan)")
    wb.close()


# ---------------------------------------------------------------------------------------------
# atomic writing
# ---------------------------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_failure_leaves_previous_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(make_run_result(), out, formats={"csv"})
    before = _snapshot(out)
    broken = make_run_result()
    del broken.proposals["population_gained"]
    with pytest.raises(ValueError, match="population_gained"):
        write_outputs(broken, out)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_in_a_late_stage_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.outputs.report as report

    def boom(*_a: object, **_k: object) -> Path:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_report", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(make_run_result(), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_earlier_output_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(make_run_result(), out, formats={"csv"})
    (out / "stale.txt").write_text("from an earlier run")
    second = make_run_result()
    second.summary["scenario"] = "second"
    write_outputs(second, out, formats={"csv"})
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"] == "second"
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_refuses_to_replace_a_foreign_folder_or_a_file(tmp_path: Path) -> None:
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(OutputDirError) as err:
        write_outputs(make_run_result(), foreign, formats={"csv"})
    assert err.value.exit_code == 2 and "summary.json" in str(err.value)
    assert (foreign / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(OutputDirError):
        write_outputs(make_run_result(), a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert {p.name for p in write_outputs(make_run_result(), empty, formats={"csv"})} == {
        "summary.json",
        "proposals.csv",
        "audit.csv",
        "village_gaps.csv",
        "budget_curve.csv",  # the fixture's run carries a budget curve
    }


def test_formats_subset_and_unknown_format(tmp_path: Path) -> None:
    paths = write_outputs(make_run_result(), tmp_path / "o", formats={"gpkg"})
    assert {p.name for p in paths} == {"results.gpkg", "summary.json"}
    with pytest.raises(ValueError, match="pdf"):
        write_outputs(make_run_result(), tmp_path / "p", formats={"pdf"})
    assert not (tmp_path / "p").exists()


def test_inputs_are_not_modified(tmp_path: Path) -> None:
    result = make_run_result()
    copies = {n: getattr(result, n).copy() for n in ("demand", "villages", "facilities", "boundary")}
    summary = json.dumps(result.summary, sort_keys=True)
    write_outputs(result, tmp_path / "o")
    for name, frame in copies.items():
        current = getattr(result, name)
        assert current.crs == WORK_CRS
        pd.testing.assert_frame_equal(pd.DataFrame(current), pd.DataFrame(frame))
    assert json.dumps(result.summary, sort_keys=True) == summary
    assert not math.isnan(result.summary["population_total"])


def test_write_audit_tables_for_planner_audit(tmp_path: Path) -> None:
    from planner.outputs import write_audit_tables

    audit = make_run_result().audit
    out = tmp_path / "audit"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    paths = write_audit_tables(audit, out)
    assert [p.name for p in paths] == ["audit.csv", "village_gaps.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["audit.csv", "keep.txt", "village_gaps.csv"]
    table = pd.read_csv(out / "audit.csv", dtype={"unit_code": str})
    extra = [c for c in AUDIT_EXTRA_COLUMNS if c in audit.table.columns]
    assert list(table.columns) == [*AUDIT_COLUMNS, *extra] and len(table) == len(audit.table)
    with pytest.raises(OutputDirError):
        write_audit_tables(audit, out / "keep.txt")


def test_json_format_name_is_accepted(tmp_path: Path) -> None:
    paths = write_outputs(make_run_result(), tmp_path / "o", formats=("json",))
    assert [p.name for p in paths] == ["summary.json"]


def test_a_run_without_proposals_or_gaps_writes_everything(tmp_path: Path) -> None:
    from dataclasses import replace

    import geopandas as gpd

    from planner.types import AuditResult

    base = make_run_result(with_budget_curve=False)
    facilities = base.facilities[base.facilities["status"] == "existing"].reset_index(drop=True)
    empty_gaps = gpd.GeoDataFrame(
        {"area_class": [], "township_code": [], "population": []}, geometry=[], crs=WORK_CRS
    )
    audit = AuditResult(base.audit.table, base.audit.village_gaps.iloc[0:0], empty_gaps)
    result = replace(
        base,
        facilities=facilities,
        proposals=base.proposals.iloc[0:0],
        audit=audit,
        summary={**base.summary, "proposals": {}},
    )
    paths = write_outputs(result, tmp_path / "o")
    assert {p.name for p in paths} == CONTRACT
    assert pd.read_csv(tmp_path / "o" / "proposals.csv").empty
    assert list(pd.read_csv(tmp_path / "o" / "village_gaps.csv").columns) == list(VILLAGE_GAP_COLUMNS)
    assert len(pyogrio.read_dataframe(tmp_path / "o" / "results.gpkg", layer="gaps")) == 0


def test_output_folder_is_readable_by_others(tmp_path: Path) -> None:
    import os
    import stat

    from planner.outputs.files import atomic_dir

    umask = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "x.txt").write_text("x", encoding="utf-8")
    finally:
        os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "out").stat().st_mode)
    assert mode == 0o755
