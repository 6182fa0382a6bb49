"""``results.xlsx``: the run's tables for people, in the run's language, numbers formatted.

Every sheet name, header and word in a cell is in the run's language (Chinese or English); codes
(standard ids, unit and facility ids) stay as they are. Money is in 万元 in a Chinese workbook and
in yuan in an English one; shares carry a percent format, counts a thousands separator. The first
sheet (摘要 / Summary) is written for a person: one row per figure with its value before and after
the plan and its unit, then the run's particulars (profile, year, software).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.audit import failing
from planner.outputs import files, i18n, report_standards, sources
from planner.outputs.i18n import Lang
from planner.types import AUDIT_COLUMNS, RunResult

SHEETS: Final[dict[str, tuple[str, str]]] = {
    "summary": ("摘要", "Summary"),
    "audit": ("标准审计", "Audit"),
    "townships": ("乡镇", "Townships"),
    "proposals": ("规划方案", "Plan"),
    "unmet": ("规划后仍未达标", "Unmet after plan"),
    "village_gaps": ("村级缺口", "Village gaps"),
    "facility_gaps": ("设施缺口", "Facility gaps"),
    "audit_after": ("规划后审计", "Audit after plan"),
    "delivery_chain": ("三级寄递链", "Delivery chain"),
    "density_targets": ("密度目标", "Density targets"),
    "budget_curve": ("投资覆盖曲线", "Budget curve"),
    "station_phasing": ("村站分年建设", "Station phasing"),
}

#: Columns that are keys for scripts, not for people (left out of the workbook).
_DROP: Final = frozenset({"unit", "seconds", "kind_code"})
_MONEY: Final = frozenset({"cost", "budget", "cost_new", "proposed_cost", "cost_total"})
_FACILITY_COLUMNS: Final = ("type", "kind", "facility_type")


def _is_money(col: str) -> bool:
    return col in _MONEY or col.endswith(("_cost", "_yuan"))


def _is_share(col: str) -> bool:
    return (
        col.startswith("coverage") or col.endswith(("_share", "_rate")) or col in ("share", "covered_share")
    )


def _is_count(col: str) -> bool:
    return (
        col
        in (
            "population",
            "households",
            "covered_weight",
            "gain",
            "existing",
            "needed",
            "short_by",
            "shortfall",
        )
        or col.startswith(("population", "villages", "proposed_", "with_station", "own_station"))
        or col.startswith("shared_station")
        or col.endswith(("_gained", "_population"))
    )


def header(col: str, lang: Lang) -> str:
    """A column's header; money columns say 万元 in Chinese."""
    text = i18n.column_label(col, lang)
    if _is_money(col) and lang == "zh":
        base = text.split("（")[0]
        return f"{base}（万元）"
    if _is_money(col) and lang == "en" and "yuan" not in text:
        return f"{text} (yuan)"
    return text


def column_format(col: str, lang: Lang) -> str | None:
    """The Excel number format of a column by what its name says it holds."""
    if _is_money(col):
        return "#,##0.0" if lang == "zh" else "#,##0"
    if _is_share(col):
        return "0.0%"
    if col.endswith(("_km", "_min")) or col == "chain_min":
        return "0.0"
    if col == "mip_gap":
        return "0.00%"
    if _is_count(col):
        return "#,##0"
    return None


def _value_format(standard_id: str, unit_level: str, role: Any = None) -> str:
    kind = i18n.standard_kind(standard_id, unit_level, role)
    return {"pct": "0.0%", "count": "0"}.get(kind, "0.00")


def people_frame(
    frame: pd.DataFrame,
    lang: Lang,
    *,
    docs: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """A table in the run's language: words translated, money in 万元 (zh), infinities empty.

    Codes become words: facility types, unit levels, solver statuses, causes, the audit's ``role``,
    its ``source`` (the profile's title, from ``summary``) and a site's ``standards``.

    ``frame.attrs`` of the result carries ``formats`` (column index → Excel format) and
    ``cell_formats`` (row, column index → format; the audit's value and target read per standard).
    """
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    drop = [c for c in frame.columns if c in _DROP]
    if "kind" in frame.columns and set(frame["kind"].astype(str)) <= {"budget", "count"}:
        drop.append("kind")  # the budget curve's row kind, not a facility type
    src = frame.drop(columns=drop).reset_index(drop=True)
    out = pd.DataFrame(index=src.index)
    for col in src.columns:
        series = src[col]
        if pd.api.types.is_bool_dtype(series) or col == "passed":
            series = series.map(lambda v: i18n.fmt_bool(v, lang) if not i18n.is_missing(v) else None)
        elif col in _FACILITY_COLUMNS:
            series = series.map(lambda t: i18n.facility_label(str(t), lang))
        elif col == "unit_level":
            series = series.map(lambda t: i18n.pick(i18n.UNIT_LEVEL_LABELS.get(str(t), (str(t),) * 2), lang))
        elif col == "status":
            series = series.map(lambda t: i18n.status_label(t, lang))
        elif col == "cause":
            series = series.map(lambda t: i18n.cause_label(t, lang))
        elif col == "role":
            series = series.map(lambda t: i18n.role_label(t, lang))
        elif col == "source":
            series = series.map(lambda t: sources.source_title(t, summary or {}, lang))
        elif col == "standards":
            series = series.map(lambda t: i18n.standards_text(t, lang))
        elif col in ("note", "reason", "explanation"):
            series = series.map(lambda t: i18n.local_note(t, lang))
        elif col == "citation":
            series = series.map(lambda t: sources.full_citation(t, docs or {}, lang))
        elif _is_money(col) and lang == "zh":
            series = pd.to_numeric(series, errors="coerce") / 10_000
        if pd.api.types.is_float_dtype(series):
            series = series.replace([np.inf, -np.inf], np.nan)
        out[header(str(col), lang)] = series
    formats = {i: f for i, c in enumerate(src.columns) if (f := column_format(str(c), lang))}
    cell_formats: dict[tuple[int, int], str] = {}
    if {"standard_id", "unit_level"} <= set(src.columns):
        roles = src["role"] if "role" in src.columns else pd.Series(None, index=src.index)
        for j, col in enumerate(src.columns):
            if col in ("value", "target"):
                triples = zip(src["standard_id"], src["unit_level"], roles, strict=True)
                for i, (sid, lev, role) in enumerate(triples):
                    cell_formats[(i, j)] = _value_format(str(sid), str(lev), role)
    out.attrs["formats"] = formats
    out.attrs["cell_formats"] = cell_formats
    return out


# ---------------------------------------------------------------------------------------------
# The summary sheet
# ---------------------------------------------------------------------------------------------

_S: Final[dict[str, tuple[str, str]]] = {
    "item": ("项目", "Item"),
    "before": ("规划前", "Before"),
    "after": ("规划后", "After"),
    "unit": ("单位", "Unit"),
    "population": ("常住人口", "Population"),
    "coverage": ("{area}服务覆盖率", "{area} coverage"),
    "villages_total": ("行政村", "Administrative villages"),
    "with_station": ("有村级站点的行政村（含共享）", "Villages with a station (own or shared)"),
    "own_station": ("有自建村级站点的行政村", "Villages with their own station"),
    "shared_station": ("由邻村站点共享服务的行政村", "Villages served by a shared station"),
    "without_coordinates": ("无坐标的行政村", "Villages without coordinates"),
    "new": ("新增{type}", "New: {type}"),
    "cost_total": ("规划总投资", "Total cost"),
    "cost_by_standard": ("其中为满足 {sid}（{name}）", "of which for {sid} ({name})"),
    "cost_shared": ("其中同时服务多项标准的设施", "of which sites serving several standards"),
    "failing": ("未达标的标准（全县）", "Standards failing (county)"),
    "unmet": (
        "规划后仍未达标的单元（不含乡镇、全县汇总）",
        "Units still short after the plan (totals not repeated)",
    ),
    "people": ("人", "people"),
    "villages": ("个", "villages"),
    "count": ("个", "sites"),
    "pct": ("%", "%"),
    "yuan": ("万元", "yuan"),
    "standards": ("项", "standards"),
    "units": ("个", "units"),
    "meta_item": ("运行信息", "About this run"),
    "meta_value": ("内容", "Value"),
    "title": ("规划名称", "Title"),
    "profile": ("标准依据", "Standards profile"),
    "year": ("规划年份", "Plan year"),
    "scenario": ("方案文件", "Scenario"),
    "software": ("软件", "Software"),
    "hash": ("方案指纹", "Scenario hash"),
    "reading": ("服务半径口径", "Reading of the radius"),
}


def _s(key: str, lang: Lang) -> str:
    return i18n.pick(_S[key], lang)


def _county_failing(table: pd.DataFrame | None) -> int | None:
    if table is None or table.empty:
        return None
    county = table[table["unit_level"].astype(str) == "county"]
    return int(failing(county).sum())


def summary_rows(result: RunResult, lang: Lang) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary sheet: figures (item, before, after, unit, and the Excel format of the row) and
    the run's particulars (item, value)."""
    s = result.summary
    rows: list[tuple[str, Any, Any, str, str]] = []
    rows.append((_s("population", lang), s.get("population_total"), None, _s("people", lang), "#,##0"))
    for area, cov in (s.get("coverage") or {}).items():
        cov = cov or {}
        label = _s("coverage", lang).format(area=i18n.area_label(str(area), lang))
        rows.append((label, cov.get("before"), cov.get("after"), _s("pct", lang), "0.0%"))
    vil = s.get("villages") or {}
    if vil:
        rows.append(
            (_s("villages_total", lang), vil.get("total"), vil.get("total"), _s("villages", lang), "0")
        )
        pairs = [
            ("with_station", "with_station"),
            ("own_station", "own_station"),
            ("shared_station", "shared_station"),
        ]
        for key, label in pairs:
            if f"{key}_before" in vil or f"{key}_after" in vil:
                rows.append(
                    (
                        _s(label, lang),
                        vil.get(f"{key}_before"),
                        vil.get(f"{key}_after"),
                        _s("villages", lang),
                        "0",
                    )
                )
        if vil.get("without_coordinates"):
            rows.append(
                (_s("without_coordinates", lang), vil["without_coordinates"], None, _s("villages", lang), "0")
            )
    for ftype, count in (s.get("proposals") or {}).items():
        label = _s("new", lang).format(type=i18n.facility_label(str(ftype), lang))
        rows.append((label, None, count, _s("count", lang), "#,##0"))
    scale = 10_000 if lang == "zh" else 1
    money = "#,##0.0" if lang == "zh" else "#,##0"
    cost = s.get("cost_total")
    if cost is None:
        cost = float(pd.to_numeric(result.proposals.get("cost", pd.Series(dtype=float))).sum())
    rows.append((_s("cost_total", lang), None, float(cost) / scale, _s("yuan", lang), money))
    by_standard = s.get("cost_by_standard") or {}
    for sid, yuan in by_standard.items():
        label = _s("cost_by_standard", lang).format(sid=sid, name=i18n.standard_label(str(sid), lang))
        rows.append((label, None, float(yuan) / scale, _s("yuan", lang), money))
    shared = float(cost) - sum(float(v or 0) for v in by_standard.values())
    if by_standard and shared > 0.5:
        rows.append((_s("cost_shared", lang), None, shared / scale, _s("yuan", lang), money))
    before_fail = _county_failing(result.audit.table)
    after_fail = _county_failing(result.audit_after.table) if result.audit_after is not None else None
    if before_fail is not None:
        rows.append((_s("failing", lang), before_fail, after_fail, _s("standards", lang), "0"))
    if isinstance(s.get("unmet"), list):
        unmet = pd.DataFrame(s["unmet"])
        n_units = len(report_standards.standard_unit_rows(unmet, result)) if len(unmet) else 0
        rows.append((_s("unmet", lang), None, n_units, _s("units", lang), "0"))
    figures = pd.DataFrame(
        [r[:4] for r in rows], columns=[_s(k, lang) for k in ("item", "before", "after", "unit")]
    )
    figures.attrs["row_formats"] = [r[4] for r in rows]
    reading = str(s.get("reading") or "")
    reading_text = {
        "network": ("路网距离/时间", "network distance/time"),
        "buffer": ("直线距离", "straight-line distance"),
    }.get(reading, (reading, reading))
    meta = [
        (_s("title", lang), i18n.run_title(result.title, s, lang)),
        (_s("profile", lang), sources.profile_title(s, lang)),
        (_s("year", lang), s.get("year")),
        (_s("reading", lang), i18n.pick(reading_text, lang)),
        (_s("scenario", lang), result.scenario_name),
        (_s("software", lang), f"planner {result.planner_version}"),
        (_s("hash", lang), result.scenario_hash),
    ]
    particulars = pd.DataFrame(
        [(k, v) for k, v in meta if v not in (None, "")],
        columns=[_s("meta_item", lang), _s("meta_value", lang)],
    )
    return figures, particulars


# ---------------------------------------------------------------------------------------------
# The workbook
# ---------------------------------------------------------------------------------------------


def unmet_frame(summary: Mapping[str, Any], result: RunResult | None = None) -> pd.DataFrame | None:
    """``summary["unmet"]`` as a table (None when the run has no such list or it is empty); with the
    run, each row's role in the after-plan audit (a township or county total is ``summary``)."""
    unmet = summary.get("unmet")
    if not isinstance(unmet, list) or not unmet:
        return None
    cols = ["standard", "unit_level", "unit_code", "unit_name", "value", "target", "short_by", "cause"]
    frame = pd.DataFrame(unmet)
    frame = frame[[c for c in cols if c in frame.columns]]
    if result is not None and result.audit_after is not None and "role" in result.audit_after.table.columns:
        frame = frame.assign(role=report_standards.row_roles(frame, result))
    return frame.rename(columns={"standard": "standard_id"})


#: Columns of the audit sheets after the ``audit.csv`` contract (``source`` only when a standard is
#: inherited from a profile the run's profile extends).
_AUDIT_EXTRA: Final = ("role", "population", "existing", "shortfall", "note", "citation")


def audit_sheet(table: pd.DataFrame, summary: Mapping[str, Any]) -> pd.DataFrame:
    """An audit table for the workbook: the contract columns, what each row is, the counts, the note
    and the clause; the source profile when some standard is inherited."""
    cols = [*AUDIT_COLUMNS, *(c for c in _AUDIT_EXTRA if c in table.columns)]
    if "source" in table.columns and any(sources.is_inherited(v, summary) for v in table["source"]):
        cols.append("source")
    return pd.DataFrame(table.loc[:, cols]).reset_index(drop=True)


def xlsx_tables(result: RunResult, lang: Lang) -> dict[str, pd.DataFrame]:
    """The sheets of ``results.xlsx`` (sheet name → table in the run's language)."""
    docs = sources.documents(result.summary)
    township = result.township_table
    srcs: dict[str, pd.DataFrame | None] = {
        "audit": audit_sheet(result.audit.table, result.summary) if _has_contract(result) else None,
        "townships": township,
        "proposals": _proposals_sheet(result),
        "unmet": unmet_frame(result.summary, result),
        "village_gaps": files.village_gaps_frame(result, lang=lang),
    }
    gaps = result.audit.township_gaps
    if gaps is not None and len(gaps):
        srcs["facility_gaps"] = pd.DataFrame(gaps).reset_index(drop=True)
    if result.audit_after is not None and len(result.audit_after.table):
        srcs["audit_after"] = audit_sheet(result.audit_after.table, result.summary)
    srcs.update(files.extra_frames(result))
    figures, particulars = summary_rows(result, lang)
    figures.attrs["particulars"] = particulars
    tables = {i18n.pick(SHEETS["summary"], lang): figures}
    for key, frame in srcs.items():
        if frame is not None:
            tables[i18n.pick(SHEETS[key], lang)] = people_frame(
                frame, lang, docs=docs, summary=result.summary
            )
    return tables


def _proposals_sheet(result: RunResult) -> pd.DataFrame:
    """The plan's rows with the standards each one is there for (when the run gives them)."""
    frame = files.proposals_frame(result)
    if "standards" not in result.proposals.columns or len(result.proposals) != len(frame):
        return frame
    return frame.assign(standards=result.proposals["standards"].to_numpy())


def _has_contract(result: RunResult) -> bool:
    files.audit_frame(result)  # raises naming the missing contract columns
    return True


def _style_header(ws: Any, row: int) -> None:
    from openpyxl.styles import Font, PatternFill

    for cell in ws[row]:
        if cell.value is not None:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")


def _fit_widths(ws: Any) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in ws.iter_rows(max_row=min(ws.max_row, 500)):
        for cell in row:
            if cell.value is not None:
                text = f"{cell.value:,.1f}" if isinstance(cell.value, float) else str(cell.value)
                widths[cell.column] = max(widths.get(cell.column, 0), _display_width(text))
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(60, max(8, width + 2))


def _write_summary(writer: Any, sheet: str, figures: pd.DataFrame) -> None:
    figures.to_excel(writer, sheet_name=sheet, index=False)
    ws = writer.sheets[sheet]
    for i, fmt in enumerate(figures.attrs["row_formats"], start=2):
        for col in (2, 3):
            ws.cell(row=i, column=col).number_format = fmt
    particulars: pd.DataFrame = figures.attrs["particulars"]
    start = len(figures) + 3
    particulars.to_excel(writer, sheet_name=sheet, index=False, startrow=start)
    _style_header(ws, 1)
    _style_header(ws, start + 1)
    ws.freeze_panes = "A2"


def write_xlsx(result: RunResult, path: Path, *, lang: Lang) -> Path:
    """Write ``results.xlsx``: the summary sheet, then one sheet per table (bold frozen header,
    filters, formats and fitted widths)."""
    tables = xlsx_tables(result, lang)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for n, (sheet, frame) in enumerate(tables.items()):
            if n == 0:
                _write_summary(writer, sheet, frame)
                _fit_widths(writer.sheets[sheet])
                continue
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            if frame.shape[1]:
                ws.auto_filter.ref = ws.dimensions
            _style_header(ws, 1)
            for idx, fmt in frame.attrs.get("formats", {}).items():
                for (cell,) in ws.iter_rows(min_row=2, min_col=idx + 1, max_col=idx + 1):
                    cell.number_format = fmt
            for (i, j), fmt in frame.attrs.get("cell_formats", {}).items():
                ws.cell(row=i + 2, column=j + 1).number_format = fmt
            _fit_widths(ws)
    return path


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
