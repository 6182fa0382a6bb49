"""report.html: its figures equal summary.json and audit.csv (parsed back from the written files)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from outputs_fixtures import DataCells, coverage_share, make_run_result

from planner.outputs import write_outputs as _write_outputs
from planner.types import AUDIT_COLUMNS, RunResult

# report.pdf is printed by Chromium in tests/test_outputs_pdf.py only (it takes seconds)
write_outputs = functools.partial(_write_outputs, pdf=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"report-{lang}") / "out"
        write_outputs(make_run_result(), folder, lang=lang, formats={"csv", "report"})
        out[lang] = folder
    return out


def test_headline_figures_equal_summary_json(written: dict[str, Path]) -> None:
    folder = written["zh"]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    cells = DataCells((folder / "report.html").read_text(encoding="utf-8"))
    assert float(cells.value("population_total")) == summary["population_total"]
    # the unit is set smaller beside the figure
    assert cells.text("population_total") == f"{round(summary['population_total']):,}人"
    demand = make_run_result().demand
    for area, cov in summary["coverage"].items():
        for when in ("before", "after"):
            key = f"coverage.{area}.{when}"
            assert float(cells.value(key)) == cov[when]
            # and independently of the summary: the population-weighted share of the demand points
            assert float(cells.value(key)) == pytest.approx(coverage_share(demand, area, f"covered_{when}"))
        assert cells.text(f"coverage.{area}.after") == f"{cov['after'] * 100:.1f}%"
        assert cells.text(f"coverage.{area}.before").endswith(f"{cov['before'] * 100:.1f}%")
    assert int(float(cells.value("villages.with_station_after"))) == summary["villages"]["with_station_after"]
    assert cells.text("villages.with_station_after") == (
        f"{summary['villages']['with_station_after']} / {summary['villages']['total']}"
    )
    assert int(float(cells.value("proposals.total"))) == sum(summary["proposals"].values())


def test_standards_table_equals_audit_csv(written: dict[str, Path]) -> None:
    folder = written["zh"]
    audit = pd.read_csv(folder / "audit.csv", dtype={"unit_code": str})
    cells = DataCells((folder / "report.html").read_text(encoding="utf-8"))
    for _, row in audit.iterrows():
        base = f"audit:{row['standard_id']}:{row['unit_code']}"
        assert float(cells.value(f"{base}:value")) == pytest.approx(row["value"], rel=1e-12), base
        if row["unit_level"] == "county":
            assert float(cells.value(f"{base}:target")) == pytest.approx(row["target"])
            assert cells.value(f"{base}:passed") == ("true" if row["passed"] else "false")
            assert cells.text(f"{base}:passed").endswith("达标")
            assert ("未达标" in cells.text(f"{base}:passed")) == (not row["passed"])
    r_urban = audit[(audit["standard_id"] == "R-URBAN") & (audit["unit_level"] == "county")].iloc[0]
    assert cells.text(f"audit:R-URBAN:{r_urban['unit_code']}:value") == f"{r_urban['value'] * 100:.1f}%"


def test_citations_and_clauses_are_shown(written: dict[str, Path]) -> None:
    text = (written["zh"] / "report.html").read_text(encoding="utf-8")
    table = text[text.index('<table id="standards">') :]
    table = table[: table.index("</table>")]
    for sid, citation in make_run_result().citations.items():
        row = re.search(rf'data-key="audit:{sid}:371502:standard_id"[^<]*</td>(.*?)</tr>', table, re.S)
        assert row is not None, sid
        assert citation in row.group(1)


def test_plan_costs_and_gap_lists(written: dict[str, Path]) -> None:
    folder = written["zh"]
    cells = DataCells((folder / "report.html").read_text(encoding="utf-8"))
    proposals = pd.read_csv(folder / "proposals.csv")
    assert float(cells.value("plan:total:cost")) == pytest.approx(proposals["cost"].sum())
    assert cells.text("plan:total:cost") == f"{proposals['cost'].sum() / 10_000:.1f} 万元"
    assert float(cells.value("proposals.cost")) == pytest.approx(proposals["cost"].sum())
    for ftype, grp in proposals.groupby("type"):
        assert int(float(cells.value(f"plan:{ftype}:count"))) == len(grp)
        assert float(cells.value(f"plan:{ftype}:gained")) == pytest.approx(grp["population_gained"].sum())
    gaps = pd.read_csv(folder / "village_gaps.csv", dtype={"village_code": str})
    for _, g in gaps.iterrows():
        assert float(cells.value(f"village_gaps:{g['village_code']}:population")) == g["population"]
    assert cells.text("village_gaps:371502101203:nearest_station_km") == "不可达"
    result = make_run_result()
    uncovered = result.demand.loc[~result.demand["covered_before"], "population"].sum()
    assert float(cells.value("uncovered:total:uncovered_population")) == pytest.approx(uncovered)


def test_report_is_self_contained_and_has_charts(written: dict[str, Path]) -> None:
    text = (written["zh"] / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r'(?:src|href)="(?:https?:)?//', text)
    assert text.count("<svg") == 3
    assert (
        'aria-label="规划前后服务覆盖率"' in text and 'aria-label="投资—覆盖率曲线（服务半径标准）"' in text
    )
    for heading in ("主要指标", "标准达标情况", "乡镇分述", "投资与规划地图", "缺口清单", "方法说明"):
        assert heading in text
    # the maps are PNG data: one for the county and one per township
    maps = re.findall(r'<img[^>]*src="data:image/png;base64,', text)
    assert len(maps) == 1 + len(make_run_result().township_table)
    assert "EPSG:32650" in text and "highs" in text


def test_english_report(written: dict[str, Path]) -> None:
    text = (written["en"] / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in text
    assert "Headline figures" in text and "主要指标" not in text
    cells = DataCells(text)
    assert cells.text("coverage.urban.before").startswith("before ")
    assert cells.text("plan:total:cost") == "¥415,000"


def test_without_budget_curve_the_report_says_so(tmp_path: Path) -> None:
    write_outputs(make_run_result(with_budget_curve=False), tmp_path / "o", formats={"report"})
    text = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert 'aria-label="投资—覆盖率曲线（服务半径标准）"' not in text
    assert "本次运行未计算投资—覆盖率曲线" in text


def test_after_plan_audit_is_shown_next_to_the_audit(tmp_path: Path) -> None:
    from dataclasses import replace

    from planner.types import AuditResult

    result = make_run_result()
    after_table = result.audit.table.copy()
    after_table["value"] = after_table["value"].where(after_table["standard_id"] != "R-URBAN", 1.0)
    after_table["passed"] = after_table["passed"] | (after_table["standard_id"] == "R-URBAN")
    result = replace(
        result, audit_after=AuditResult(after_table, result.audit.village_gaps, result.audit.uncovered)
    )
    write_outputs(result, tmp_path / "o", formats={"report"})
    cells = DataCells((tmp_path / "o" / "report.html").read_text(encoding="utf-8"))
    assert cells.value("audit:R-URBAN:371502:passed") == "false"
    assert cells.value("after:R-URBAN:371502:passed") == "true"
    assert float(cells.value("after:R-URBAN:371502:value")) == 1.0
    assert cells.text("after:R-URBAN:371502:value") == "100.0%"
    assert cells.value("after:R-TOWN:371502:passed") == "false"


def test_facility_gaps_are_summarised(written: dict[str, Path]) -> None:
    cells = DataCells((written["zh"] / "report.html").read_text(encoding="utf-8"))
    gaps = make_run_result().audit.township_gaps
    for (sid, level), grp in gaps.groupby(["standard_id", "unit_level"]):
        assert int(float(cells.value(f"facility_gaps:{sid}:{level}:units"))) == len(grp)
        assert float(cells.value(f"facility_gaps:{sid}:{level}:needed")) == grp["needed"].sum()
    assert cells.value("facility_gaps:D-OUTLET:371502001:needed") == "16.0"
    assert "facility_gaps:D-OUTLET:371502001001:needed" not in cells.cells  # communities: in the xlsx


def test_uncovered_population_outside_townships_is_named(tmp_path: Path) -> None:
    result = make_run_result()
    result.audit.uncovered.loc[0, "township_code"] = ""
    write_outputs(result, tmp_path / "o", formats={"report"})
    text = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "（不在任何乡镇内）" in text


def test_english_title_when_the_run_has_one(tmp_path: Path) -> None:
    result = make_run_result()
    result.summary["title_en"] = "Example County express plan"
    write_outputs(result, tmp_path / "o", lang="en", formats={"report", "map"})
    for name in ("report.html", "map.html"):
        text = (tmp_path / "o" / name).read_text(encoding="utf-8")
        assert "<title>Example County express plan" in text


def _with_issue12_keys() -> RunResult:
    """The tiny run with the summary keys of the standards work (issue 12) filled in by hand."""
    import dataclasses

    result = make_run_result()
    s = dict(result.summary)
    s["profile"] = "national-default"
    s["profile_title"] = {"zh": "示例县快递标准（测试）", "en": "Example County standards (test)"}
    s["meet"] = ["R-URBAN", "R-TOWN", "D-OUTLET", "V-ALL"]
    s["unmet"] = [
        {"standard": "D-OUTLET", "unit_level": "community", "unit_code": "371502001001", "unit_name": "东关社区",  # noqa: E501
         "value": 2.38, "target": 4.0, "short_by": 1.0, "cause": "no_candidate"},
        {"standard": "V-ALL", "unit_level": "village", "unit_code": "371502101203", "unit_name": "北沟村",
         "value": 0.0, "target": 1.0, "short_by": 1.0, "cause": "no_coordinates"},
        {"standard": "V-ALL", "unit_level": "village", "unit_code": "371502101202", "unit_name": "张家洼村",
         "value": 0.0, "target": 1.0, "short_by": 1.0, "cause": "budget"},
    ]  # fmt: skip
    s["cost_by_standard"] = {
        "R-URBAN": 180_000.0,
        "D-OUTLET": 150_000.0,
        "V-ALL": 60_000.0,
        "R-TOWN": 25_000.0,
    }
    s["villages"] = {
        **s["villages"],
        "own_station_before": 2, "own_station_after": 3,
        "shared_station_before": 1, "shared_station_after": 1,
        "located": 4, "without_coordinates": 1,
    }  # fmt: skip
    proposals = result.proposals.assign(standards=["R-URBAN;D-OUTLET", "R-TOWN", "V-ALL", "D-OUTLET"])
    return dataclasses.replace(result, summary=s, proposals=proposals, audit_after=result.audit)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unmet_cost_by_standard_and_own_stations_are_shown(tmp_path: Path, lang: str) -> None:
    result = _with_issue12_keys()
    write_outputs(result, tmp_path / "o", lang=lang, formats={"report", "xlsx"})
    text = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    cells = DataCells(text)
    # units still short after the plan, grouped by standard, level and cause, causes in words
    assert cells.value("unmet:V-ALL:village:budget:units") == "1.0"
    assert cells.value("unmet:V-ALL:village:no_coordinates:units") == "1.0"
    assert cells.value("unmet:D-OUTLET:community:no_candidate:units") == "1.0"
    words = (
        ("可达范围内无候选点", "预算不足", "缺少坐标")
        if lang == "zh"
        else ("no candidate site within reach", "budget too small", "no coordinates")
    )
    for word in words:
        assert word in text
    # what each standard adds; the total is the plan's (here the standards' costs add up to it)
    total = sum(result.summary["cost_by_standard"].values())
    assert float(cells.value("cost_by_standard:total")) == pytest.approx(result.proposals["cost"].sum())
    assert total == pytest.approx(result.proposals["cost"].sum())
    assert "cost_by_standard:shared" not in cells.cells
    assert float(cells.value("cost_by_standard:R-URBAN")) == 180_000.0
    # the profile by its title, the plan's standards marked, own stations counted apart
    assert result.summary["profile_title"][lang] in text
    assert cells.value("meet:R-URBAN:371502") == "true" and cells.value("meet:R-RURAL:371502") == "false"
    assert int(float(cells.value("villages.own_station_after"))) == 3
    # the site list says which standards each site is for
    sites = re.search(r'<table id="proposals">(.*?)</table>', text, flags=re.S)
    listed = "D-OUTLET、R-URBAN" if lang == "zh" else "D-OUTLET, R-URBAN"
    assert sites is not None and listed in sites.group(1)  # a site lists its standards sorted
    wb = openpyxl.load_workbook(tmp_path / "o" / "results.xlsx", read_only=True)
    sheet = "规划后仍未达标" if lang == "zh" else "Unmet after plan"
    rows = list(wb[sheet].iter_rows(values_only=True))
    assert len(rows) == 1 + len(result.summary["unmet"])
    summary = {r[0]: r for r in wb["摘要" if lang == "zh" else "Summary"].iter_rows(values_only=True) if r[0]}
    own = summary["有自建村级站点的行政村" if lang == "zh" else "Villages with their own station"]
    assert own[1:3] == (2, 3)
    wb.close()


def test_without_issue12_keys_the_report_degrades(written: dict[str, Path]) -> None:
    text = (written["zh"] / "report.html").read_text(encoding="utf-8")
    assert "本次运行未给出各标准所需投资" in text  # cost shown by facility type instead
    assert "本次运行未做规划后审计" in text  # the tiny run has no after-plan audit
    assert 'id="cost-by-standard"' not in text


def _with_engine_rows() -> RunResult:
    """The tiny run with the audit columns of the standards engine: roles, sources and notes.

    The run's profile is hoxud-2021, which extends national-default (P-COUNTY inherited). D-OUTLET is
    judged per community (two, one short) and summed up per township and county (role ``summary``);
    R-TOWN-15 is information, D-LOCKER-N not set, V-5HAVE cannot be judged from the data.
    """
    import dataclasses

    from planner.types import AuditResult

    result = _with_issue12_keys()
    t = result.audit.table.copy()
    t["role"], t["source"], t["note"], t["citation"] = "standard", "hoxud-2021", "", ""
    county, town = ("371502", "示例县"), ("371502001", "东城街道")
    is_outlet = (t["standard_id"] == "D-OUTLET") & (t["unit_level"] == "county")
    t.loc[is_outlet, ["value", "target", "role", "note"]] = [
        0.5,
        1.0,
        "summary",
        "1 of 2 communities meet the standard",
    ]
    t.loc[t["standard_id"] == "P-COUNTY", "source"] = "national-default"
    nan = float("nan")
    extra = pd.DataFrame(
        [
            ("D-OUTLET", "township", *town, 0.5, 1.0, False, "summary", "1 of 2 communities meet the standard"),  # noqa: E501
            ("D-OUTLET", "community", "371502001001", "东关社区", 2.38, 4.0, False, "standard", ""),
            ("D-OUTLET", "community", "371502001002", "西关社区", 4.2, 4.0, True, "standard", ""),
            ("R-TOWN-15", "county", *county, 0.9, 1.0, False, "info", "strict reading: 15 min"),
            ("D-LOCKER-N", "county", *county, nan, nan, pd.NA, "not_set", "not set by this document (hoxud-2021)"),  # noqa: E501
            ("V-5HAVE", "county", *county, nan, nan, pd.NA, "standard",
             "cannot be audited from these data: the five haves of village stations needs facility column(s) "
             "has_staff, has_premises"),
        ],
        columns=[*AUDIT_COLUMNS, "role", "note"],
    ).assign(source="hoxud-2021", citation="")  # fmt: skip
    table = pd.concat([t, extra], ignore_index=True)
    table["passed"] = pd.array([None if p is pd.NA else bool(p) for p in table["passed"]], dtype="boolean")
    after = table.copy()
    after.loc[after["standard_id"] == "R-URBAN", ["value", "passed"]] = [1.0, True]
    s = dict(result.summary)
    s["profile"] = "hoxud-2021"
    s["unmet"] = [
        {"standard": "D-OUTLET", "unit_level": "community", "unit_code": "371502001001",
         "unit_name": "东关社区", "value": 2.38, "target": 4.0, "short_by": 1.0, "cause": "no_candidate"},
        {"standard": "D-OUTLET", "unit_level": "township", "unit_code": town[0], "unit_name": town[1],
         "value": 0.5, "target": 1.0, "short_by": 1.0, "cause": "no_candidate"},
    ]  # fmt: skip
    s["cost_by_standard"] = {"R-URBAN": 200_000.0, "D-OUTLET": 150_000.0, "R-TOWN": 0.0, "V-ALL": 0.0}
    audit = dataclasses.replace(result.audit, table=table)
    return dataclasses.replace(
        result, summary=s, audit=audit, audit_after=AuditResult(after, audit.village_gaps, audit.uncovered)
    )


def test_judged_rows_reference_rows_and_inherited_standards(tmp_path: Path) -> None:
    from planner.standards import load_profile

    result = _with_engine_rows()
    write_outputs(result, tmp_path / "o", lang="zh", formats={"report", "xlsx"})
    text = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    cells = DataCells(text)
    standards = text[
        text.index('<table id="standards">') : text.index("</table>", text.index('id="standards"'))
    ]
    # the table has the judged rows; information, not-set rows are named under it, not judged
    for sid in ("R-URBAN", "D-OUTLET", "V-5HAVE", "P-COUNTY"):
        assert f"audit:{sid}:371502:value" in cells.cells, sid
    for sid in ("R-TOWN-15", "D-LOCKER-N"):
        assert f"audit:{sid}:371502" not in standards, sid
    reference = re.search(r'id="reference-rows">(.*?)</p>', text, flags=re.S)
    not_set = re.search(r'id="not-set-rows">(.*?)</p>', text, flags=re.S)
    undecided = re.search(r'id="undecided-rows">(.*?)</p>', text, flags=re.S)
    assert reference and "R-TOWN-15" in reference.group(1) and "90.0%" in reference.group(1)
    assert not_set and "D-LOCKER-N" in not_set.group(1) and "R-TOWN-15" not in not_set.group(1)
    assert undecided and "V-5HAVE" in undecided.group(1) and "has_staff" in undecided.group(1)
    # a total over communities reads as communities meeting / communities
    assert cells.text("audit:D-OUTLET:371502:value") == "1 / 2"
    assert float(cells.value("audit:D-OUTLET:371502:value")) == 0.5
    # P-COUNTY comes from national-default: marked, and the note names that profile by its title
    assert cells.text("audit:P-COUNTY:371502:standard_id").endswith("†")
    assert not cells.text("audit:R-URBAN:371502:standard_id").endswith("†")
    inherited = re.search(r'id="inherited-note">(.*?)</p>', text, flags=re.S)
    national = load_profile(Path(__file__).resolve().parents[1] / "scenarios/standards/national-default.yaml")
    assert inherited and national.title_zh in inherited.group(1)
    # still unmet: the community only (the township total repeats it), 1 of the 2 communities
    assert cells.value("unmet:D-OUTLET:community:no_candidate:units") == "1.0"
    assert cells.text("unmet:D-OUTLET:community:no_candidate:units") == "1 / 2"
    assert not any(k.startswith("unmet:D-OUTLET:township") for k in cells.cells)
    # cost: each standard's own, what several share (total less their sum), and the plan's total
    total = float(result.proposals["cost"].sum())
    assert float(cells.value("cost_by_standard:total")) == pytest.approx(total)
    assert float(cells.value("cost_by_standard:shared")) == pytest.approx(total - 350_000.0)
    free = re.search(r"<tr><td>([^<]*)</td><td>无需额外投资", text)
    assert free and set(free.group(1).split("、")) == {"R-TOWN", "V-ALL"}
    # the workbook says what a row is and where an inherited standard comes from, in words
    wb = openpyxl.load_workbook(tmp_path / "o" / "results.xlsx", read_only=True)
    rows = list(wb["标准审计"].iter_rows(values_only=True))
    wb.close()
    head = rows[0]
    roles = {r[0]: r[head.index("行类型")] for r in rows[1:] if r[2] == "371502"}
    assert (
        roles["D-OUTLET"] == "汇总"
        and roles["R-TOWN-15"] == "参考指标"
        and roles["D-LOCKER-N"] == "本文件未规定"
    )
    sources = {r[0]: r[head.index("所据文件")] for r in rows[1:] if r[2] == "371502"}
    assert sources["P-COUNTY"] == national.title_zh and sources["R-URBAN"] == "示例县快递标准（测试）"
