"""The printable report (``report.html``): one self-contained page, Chinese by default.

The page holds the headline figures, the standards with value, target, pass/fail and the clause,
the townships, before/after charts (inline SVG), the budget–coverage curve when the run has one,
the gap lists, the plan with its costs and the method notes. It has no scripts and loads nothing.

Every figure cell carries its raw number in ``data-value`` (and a ``data-key`` naming where it comes
from, e.g. ``coverage.urban.before`` or ``audit:R-URBAN:371502:value``), so tests and scripts can
check the page against ``summary.json`` and ``audit.csv`` without parsing formatted text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd

from planner.outputs import (
    charts,
    files,
    i18n,
    report_access,
    report_sections,
    report_standards,
    sources,
    staticmap,
)
from planner.outputs.i18n import Lang
from planner.outputs.report_labels import REPORT_LABELS
from planner.outputs.report_standards import citation, standards_table
from planner.outputs.tableview import Cell, TableView
from planner.types import RunResult

_RADIUS: Final[dict[str, tuple[str, str]]] = {
    "network": ("路网距离/时间（沿道路计算）", "network distance/time along the roads"),
    "buffer": ("直线距离（缓冲区）", "straight-line distance (buffer)"),
    "straight": ("直线距离（缓冲区）", "straight-line distance (buffer)"),
}


def _l(key: str, lang: Lang) -> str:
    return i18n.pick(_L[key], lang)


_L = REPORT_LABELS


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("planner.outputs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def _card(label: str, main: Cell, sub: Cell | None = None) -> dict[str, Any]:
    return {"label": label, "main": main, "sub": sub}


def _of(part: Any, whole: Any, lang: Lang) -> str:
    return f"{i18n.fmt_number(part, lang)} / {i18n.fmt_number(whole, lang)}"


def _before(text: str, value: Any, key: str, lang: Lang) -> Cell:
    return Cell(f"{i18n.word('before', lang)} {text}", value, key)


def _coverage_cards(s: Mapping[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """One card per area class; a class no standard holds the plan to is marked as information."""
    cards = []
    for area, cov in (s.get("coverage") or {}).items():
        cov = cov or {}
        label = f"{i18n.area_label(str(area), lang)}{_l('coverage', lang)}"
        if cov.get("information"):
            label += _l("info_mark", lang)
        after, before = cov.get("after"), cov.get("before")
        cards.append(
            _card(
                label,
                Cell(i18n.fmt_pct(after, lang), after, f"coverage.{area}.after"),
                _before(i18n.fmt_pct(before, lang), before, f"coverage.{area}.before", lang),
            )
        )
    return cards


def _village_cards(vil: Mapping[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """Villages with a station of their own, and served (own or a neighbour's shared station)."""
    cards = []
    total = vil.get("total")
    if "own_station_after" in vil:
        own_b = vil.get("own_station_before")
        cards.append(
            _card(
                _l("own_stations", lang),
                Cell(_of(vil.get("own_station_after"), total, lang), vil.get("own_station_after"),
                     "villages.own_station_after"),
                _before(i18n.fmt_number(own_b, lang), own_b, "villages.own_station_before", lang),
            )
        )  # fmt: skip
    with_b = vil.get("with_station_before")
    sub = _before(i18n.fmt_number(with_b, lang), with_b, "villages.with_station_before", lang)
    if "shared_station_before" in vil:
        sub.text += _l("of_them_shared", lang).format(n=i18n.fmt_number(vil["shared_station_before"], lang))
    label = _l("stations_shared" if "own_station_after" in vil else "stations", lang)
    cards.append(
        _card(
            label,
            Cell(_of(vil.get("with_station_after"), total, lang), vil.get("with_station_after"),
                 "villages.with_station_after"),
            sub,
        )
    )  # fmt: skip
    return cards


def _standards_card(result: RunResult, lang: Lang) -> dict[str, Any] | None:
    """Judged county standards met before and after the plan (undecided ones left out)."""
    if result.audit_after is None or "role" not in result.audit.table.columns:
        return None

    def met(table: pd.DataFrame) -> tuple[int, int]:
        county = report_standards.county_rows(table)
        judged = county[county["role"].astype(str).isin(["standard", "summary"]) & county["passed"].notna()]
        return int(judged["passed"].astype(bool).sum()), len(judged)

    before, n_before = met(result.audit.table)
    after, n_after = met(result.audit_after.table)
    return _card(
        _l("standards_met", lang),
        Cell(_of(after, n_after, lang), after, "standards.met_after"),
        _before(_of(before, n_before, lang), before, "standards.met_before", lang),
    )


def headline_cards(result: RunResult, lang: Lang) -> list[dict[str, Any]]:
    """The headline figure cards: label, main text, sub text, and raw values with their keys."""
    s = result.summary
    pop = s.get("population_total")
    cards = [_card(_l("population", lang), Cell(i18n.fmt_count(pop, lang), pop, "population_total"))]
    cards += _coverage_cards(s, lang)
    cards += _village_cards(s.get("villages") or {}, lang) if s.get("villages") else []
    counts = s.get("proposals") or {}
    total = sum(int(v) for v in counts.values())
    sep = "、" if lang == "zh" else ", "
    detail = sep.join(f"{i18n.facility_label(str(t), lang)} {int(n)}" for t, n in counts.items() if int(n))
    cards.append(
        _card(
            _l("new_facilities", lang),
            Cell(i18n.fmt_count(total, lang, "count"), total, "proposals.total"),
            Cell(detail or _l("none", lang)),
        )
    )
    cost = report_standards.plan_cost(result)
    cards.append(_card(_l("investment", lang), Cell(i18n.fmt_yuan(cost, lang), cost, "proposals.cost")))
    standards = _standards_card(result, lang)
    if standards is not None:
        cards.append(standards)
    for card in cards:  # the unit in smaller type, so that a long figure fits its card
        number, _, unit = card["main"].text.rpartition(" ")
        is_unit = bool(number) and bool(unit) and not any(ch.isdigit() for ch in unit)
        card["number"], card["unit"] = (number, unit) if is_unit else (card["main"].text, "")
    return cards


def township_standards_table(result: RunResult, lang: Lang) -> TableView | None:
    """Township-level audit rows as a grid: townships down, standards across, value with pass/fail."""
    audit = files.audit_frame(result)
    town = audit[audit["unit_level"].astype(str) == "township"]
    if town.empty:
        return None
    sids = list(dict.fromkeys(town["standard_id"].astype(str)))
    units = list(
        dict.fromkeys(zip(town["unit_code"].astype(str), town["unit_name"].astype(str), strict=True))
    )
    lookup = {(str(r["standard_id"]), str(r["unit_code"])): r for _, r in town.iterrows()}
    view = TableView(
        headers=[i18n.column_label("township_name", lang), *sids],
        id="standards-township",
        numeric=[False] + [True] * len(sids),
    )
    for code, name in units:
        row = [Cell(name, code)]
        for sid in sids:
            r = lookup.get((sid, code))
            if r is None:
                row.append(Cell(i18n.MISSING))
                continue
            ok = bool(r["passed"]) if not i18n.is_missing(r["passed"]) else None
            mark = "" if ok is None else (" ✔" if ok else " ✘")
            row.append(
                Cell(
                    i18n.fmt_standard_value(sid, r["value"], lang, "township", r.get("role")) + mark,
                    r["value"],
                    f"audit:{sid}:{code}:value",
                    "num " + ("" if ok is None else ("pass" if ok else "fail")),
                )
            )
        view.rows.append(row)
    return view


def frame_table(
    frame: pd.DataFrame, lang: Lang, *, id: str, key_col: str | None = None, total: bool = False
) -> TableView:
    """Any table with headers and cells formatted by column name (see :func:`i18n.fmt_column_value`)."""
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    cols = list(frame.columns)
    view = TableView(headers=[i18n.column_label(str(c), lang) for c in cols], id=id)
    view.numeric = [
        pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and c not in ("lon", "lat")
        for c in cols
    ]
    for _, r in frame.iterrows():
        rk = str(r[key_col]) if key_col and key_col in frame.columns else None
        row = []
        for c, num in zip(cols, view.numeric, strict=True):
            v = r[c]
            if c in ("type", "kind", "facility_type"):
                text = i18n.facility_label(str(v), lang)
            elif c in ("lon", "lat"):
                text = i18n.fmt_number(v, lang, decimals=5)
            elif c == "standards":
                text = i18n.standards_text(v, lang)
            elif c == "cause":
                text = i18n.cause_label(v, lang) or i18n.MISSING
            else:
                text = i18n.fmt_column_value(str(c), v, lang)
            raw = v.item() if hasattr(v, "item") else v
            row.append(
                Cell(
                    text,
                    raw if not isinstance(raw, str) else None,
                    f"{id}:{rk}:{c}" if rk is not None else None,
                    "num" if num else "",
                )
            )
        view.rows.append(row)
    if total and len(frame):
        foot = []
        for i, (c, num) in enumerate(zip(cols, view.numeric, strict=True)):
            if i == 0:
                foot.append(Cell(i18n.word("total", lang)))
            elif num and c not in ("lon", "lat") and not c.startswith(("coverage", "nearest")):
                s = float(pd.to_numeric(frame[c], errors="coerce").fillna(0).sum())
                foot.append(Cell(i18n.fmt_column_value(str(c), s, lang), s, f"{id}:total:{c}", "num"))
            else:
                foot.append(Cell(""))
        view.foot = foot
    return view


def plan_by_type(result: RunResult, lang: Lang) -> TableView:
    """Count, cost and population gained per facility type of the plan."""
    p = files.proposals_frame(result)
    view = TableView(
        headers=[i18n.column_label("type", lang), _l("count", lang), _l("cost", lang), _l("gained", lang)],
        id="plan-by-type",
        numeric=[False, True, True, True],
    )
    for ftype, grp in p.groupby("type", sort=False):
        cost = float(pd.to_numeric(grp["cost"], errors="coerce").fillna(0).sum())
        gained = float(pd.to_numeric(grp["population_gained"], errors="coerce").fillna(0).sum())
        view.rows.append(
            [
                Cell(i18n.facility_label(str(ftype), lang)),
                Cell(i18n.fmt_count(len(grp), lang, "count"), len(grp), f"plan:{ftype}:count", "num"),
                Cell(i18n.fmt_yuan(cost, lang), cost, f"plan:{ftype}:cost", "num"),
                Cell(i18n.fmt_count(gained, lang), gained, f"plan:{ftype}:gained", "num"),
            ]
        )
    cost_all = float(pd.to_numeric(p["cost"], errors="coerce").fillna(0).sum())
    gained_all = float(pd.to_numeric(p["population_gained"], errors="coerce").fillna(0).sum())
    view.foot = [
        Cell(i18n.word("total", lang)),
        Cell(i18n.fmt_count(len(p), lang, "count"), len(p), "plan:total:count", "num"),
        Cell(i18n.fmt_yuan(cost_all, lang), cost_all, "plan:total:cost", "num"),
        Cell(i18n.fmt_count(gained_all, lang), gained_all, "plan:total:gained", "num"),
    ]
    return view


def uncovered_table(result: RunResult, lang: Lang) -> TableView | None:
    """Uncovered population (before the plan) by township and area class, from ``audit.uncovered``."""
    unc = result.audit.uncovered
    if unc is None or unc.empty or "population" not in unc.columns:
        return None
    names = {}
    if {"township_code", "township_name"} <= set(result.townships.columns):
        names = dict(
            zip(
                result.townships["township_code"].astype(str),
                result.townships["township_name"].astype(str),
                strict=True,
            )
        )
    frame = pd.DataFrame(unc.drop(columns=unc.geometry.name))
    by = [c for c in ("township_code", "area_class") if c in frame.columns]
    grouped = frame.groupby(by, dropna=False)["population"].sum().reset_index() if by else frame
    table = pd.DataFrame(
        {
            "township_name": [
                names.get(str(c), str(c)) if str(c) not in ("", "nan") else _l("outside", lang)
                for c in grouped.get("township_code", [""] * len(grouped))
            ],
            "area_class": [
                i18n.area_label(str(a), lang) for a in grouped.get("area_class", [""] * len(grouped))
            ],
            "uncovered_population": grouped["population"].astype(float).to_numpy(),
        }
    ).sort_values("uncovered_population", ascending=False)
    return frame_table(table, lang, id="uncovered", total=True)


def facility_gap_tables(result: RunResult, lang: Lang) -> tuple[TableView | None, TableView | None]:
    """The facility-count gaps (``audit.township_gaps``): a summary per standard and unit level, and
    the county/township rows in detail (community rows are in ``results.xlsx``)."""
    tg = result.audit.township_gaps
    if tg is None or tg.empty or not {"standard_id", "unit_level"} <= set(tg.columns):
        return None, None
    level = tg["unit_level"].astype(str)
    needed = pd.to_numeric(tg.get("needed", pd.Series(0, index=tg.index)), errors="coerce").fillna(0)
    summary = TableView(
        headers=[
            _l("standard", lang),
            _l("content", lang),
            i18n.column_label("unit_level", lang),
            _l("units_failing", lang),
            i18n.column_label("facility_type", lang),
            _l("needed", lang),
        ],
        id="facility-gaps-summary",
        numeric=[False, False, False, True, False, True],
    )
    for keys, grp in tg.groupby([tg["standard_id"].astype(str), level], sort=False):
        sid, lev = str(keys[0]), str(keys[1])
        ftype = str(grp["facility_type"].iloc[0]) if "facility_type" in grp.columns else ""
        n_needed = float(needed[grp.index].sum())
        summary.rows.append(
            [
                Cell(sid),
                Cell(i18n.standard_label(sid, lang)),
                Cell(i18n.pick(i18n.UNIT_LEVEL_LABELS.get(lev, (lev, lev)), lang)),
                Cell(i18n.fmt_number(len(grp), lang), len(grp), f"facility_gaps:{sid}:{lev}:units", "num"),
                Cell(i18n.facility_label(ftype, lang)),
                Cell(i18n.fmt_number(n_needed, lang), n_needed, f"facility_gaps:{sid}:{lev}:needed", "num"),
            ]
        )
    upper = tg[level.isin(["county", "township"])]
    detail = None
    if len(upper):
        detail = TableView(
            headers=[
                _l("standard", lang),
                i18n.column_label("unit_name", lang),
                i18n.column_label("facility_type", lang),
                i18n.column_label("existing", lang),
                _l("value", lang),
                _l("target", lang),
                _l("needed", lang),
            ],
            id="facility-gaps",
            numeric=[False, False, False, True, True, True, True],
        )
        for _, r in upper.iterrows():
            sid, lev = str(r["standard_id"]), str(r["unit_level"])
            detail.rows.append(
                [
                    Cell(sid),
                    Cell(str(r.get("unit_name", ""))),
                    Cell(i18n.facility_label(str(r.get("facility_type", "")), lang)),
                    Cell(i18n.fmt_number(r.get("existing"), lang), None, None, "num"),
                    Cell(i18n.fmt_standard_value(sid, r.get("value"), lang, lev), None, None, "num"),
                    Cell(i18n.fmt_standard_value(sid, r.get("target"), lang, lev), None, None, "num"),
                    Cell(
                        i18n.fmt_number(r.get("needed"), lang),
                        r.get("needed"),
                        f"facility_gaps:{sid}:{r.get('unit_code', '')}:needed",
                        "num",
                    ),
                ]
            )
    return summary, detail


#: Input names and provenance kinds in the report's words.
_INPUT_NAMES: Final[dict[str, tuple[str, str]]] = {
    "boundary": ("县界", "county boundary"),
    "townships": ("乡镇界", "townships"),
    "population": ("人口栅格", "population raster"),
    "census": ("普查人口", "census population"),
    "roads": ("道路网", "roads"),
    "villages": ("村（居）名录", "village register"),
    "village_points": ("村点位", "village points"),
    "facilities": ("现有设施", "existing facilities"),
    "candidates": ("候选点", "candidate sites"),
}
_KINDS: Final[dict[str, tuple[str, str]]] = {
    "real": ("实际数据", "real data"),
    "synthetic": ("合成数据（虚构）", "synthetic (fictional) data"),
    "generated": ("按规则生成", "generated by rule"),
    "unstated": ("来源未注明", "source not stated"),
}


def data_sources_text(provenance: Mapping[str, Any], lang: Lang) -> str:
    """Each input the run used: its name, file, kind (real, synthetic, generated, not stated) and source."""
    parts = []
    for name, entry in provenance.items():
        if not isinstance(entry, Mapping) or entry.get("kind") == "none":
            continue
        label = i18n.pick(_INPUT_NAMES.get(str(name), (str(name), str(name))), lang)
        kind = i18n.pick(_KINDS.get(str(entry.get("kind")), ("", "")), lang)
        what = [str(v) for v in (entry.get("file"), kind, entry.get("source")) if v]
        parts.append(f"{label}：{'，'.join(what)}" if lang == "zh" else f"{label}: {', '.join(what)}")
    return ("；" if lang == "zh" else "; ").join(parts)


def method_notes(result: RunResult, lang: Lang) -> list[tuple[str, str]]:
    """Method notes as (label, text) pairs: data sources, CRS, radius reading, solver, timings."""
    s = result.summary
    method = s.get("method") if isinstance(s.get("method"), Mapping) else {}
    assert isinstance(method, Mapping)
    notes: list[tuple[str, str]] = []
    inputs = s.get("inputs")
    provenance = inputs.get("provenance") if isinstance(inputs, Mapping) else None
    if isinstance(provenance, Mapping) and provenance:
        notes.append((_l("data_sources", lang), data_sources_text(provenance, lang)))
    epsg = result.crs.to_epsg()
    if lang == "zh":
        crs_text = f"投影坐标系 EPSG:{epsg}" if epsg else "投影坐标系（米）"
    else:
        crs_text = f"{result.crs.name}" + (f" (EPSG:{epsg})" if epsg else "")
    out_crs = (
        "；地图、GeoPackage 与 CSV 经纬度为 WGS-84（EPSG:4326）"
        if lang == "zh"
        else "; map, GeoPackage and CSV lon/lat are WGS-84 (EPSG:4326)"
    )
    notes.append((_l("crs", lang), crs_text + out_crs))
    profile = sources.profile_title(s, lang) if s.get("profile") or s.get("profile_title") else ""
    if profile:
        year = s.get("year")
        notes.append(
            (
                _l("profile", lang),
                f"{profile}" + (f"（{year}）" if lang == "zh" and year else f" ({year})" if year else ""),
            )
        )
    reading = method.get("radius_reading") or s.get("radius_reading") or s.get("reading")
    if reading:
        pair = _RADIUS.get(str(reading))
        notes.append((_l("radius", lang), i18n.pick(pair, lang) if pair else str(reading)))
    solver = s.get("solver") or {}
    if solver:
        parts = [str(solver.get("name", "")), i18n.status_label(solver.get("status", ""), lang)]
        if not i18n.is_missing(solver.get("objective")):
            parts.append(
                ("目标值 " if lang == "zh" else "objective ") + i18n.fmt_number(solver["objective"], lang)
            )
        if not i18n.is_missing(solver.get("mip_gap")):
            parts.append(
                ("MIP 间隙 " if lang == "zh" else "MIP gap ")
                + i18n.fmt_pct(solver["mip_gap"], lang, decimals=2)
            )
        if not i18n.is_missing(solver.get("seconds")):
            parts.append(("用时 " if lang == "zh" else "time ") + f"{float(solver['seconds']):.1f} s")
        notes.append(
            (
                _l("solver", lang),
                "，".join(p for p in parts if p) if lang == "zh" else ", ".join(p for p in parts if p),
            )
        )
    unreachable = s.get("unreachable") or method.get("unreachable")
    if unreachable:
        notes.append((_l("unreachable", lang), _describe_unreachable(unreachable, lang)))
    network = s.get("network")
    if network:
        notes.append((_l("network", lang), _describe_network(network, lang)))
    timings = s.get("timings") or {}
    if timings:
        notes.append(
            (
                _l("timings", lang),
                ("，" if lang == "zh" else ", ").join(
                    f"{i18n.pick(_STAGES.get(str(k), (str(k), str(k))), lang)} {float(v):.1f} s"
                    for k, v in timings.items()
                    if not i18n.is_missing(v)
                ),
            )
        )
    extra_notes = method.get("notes") or s.get("notes")
    if extra_notes:
        texts = [t for t in (_local_note(n, lang) for n in _as_list(extra_notes)) if t]
        if texts:
            notes.append((_l("notes", lang), ("；" if lang == "zh" else "; ").join(texts)))
    return notes


def _as_list(obj: Any) -> list[Any]:
    return list(obj) if isinstance(obj, list | tuple) else [obj]


_POPULATION_NOTE: Final = re.compile(
    r"([\d,]+) people inside the area.*?([\d,]+) in ([\d,]+) demand points of (\d+) m"
)


def _local_note(note: Any, lang: Lang) -> str | None:
    """A note of the inputs stage in the run's language; ``None`` for an English note a Chinese
    report cannot word (it stays in summary.json)."""
    text = i18n.local_text(str(note), lang)
    if lang == "en" or (i18n.has_cjk(text) and not re.search(r"[A-Za-z]{4,}", text)):
        return text
    found = _POPULATION_NOTE.search(text)
    if found:
        return (
            f"研究区内常住人口 {found.group(1)} 人，汇总为 {found.group(3)} 个 {found.group(4)} 米网格需求点"
        )
    return None


_STAGES: Final[dict[str, tuple[str, str]]] = {
    "inputs": ("读取数据", "inputs"),
    "classify": ("划分城乡", "classify"),
    "network": ("构建路网", "network"),
    "coverage": ("计算覆盖", "coverage"),
    "audit": ("标准核查", "audit"),
    "optimise": ("优化选址", "optimise"),
    "optimize": ("优化选址", "optimize"),
    "coverage_after": ("评估方案", "coverage after"),
    "outputs": ("输出结果", "outputs"),
}
_UNREACHABLE_KEYS: Final[dict[str, tuple[str, str]]] = {
    "population_off_network": ("距道路过远、路网无法到达的人口", "people too far from any road"),
    "population_no_site_within_standard": (
        "标准范围内无现有或候选设施的人口",
        "people with no existing or candidate site within the standard",
    ),
    "villages_no_candidate_within_reach": (
        "可达范围内无候选站点的行政村",
        "villages with no candidate site in reach",
    ),
}
_MODES: Final[dict[str, tuple[str, str]]] = {
    "car": ("汽车", "car"),
    "walk": ("步行", "walk"),
    "tricycle": ("三轮车", "tricycle"),
}


def _describe_unreachable(obj: Any, lang: Lang) -> str:
    """The run's unreachable demand: known counts named in the output language."""
    if not isinstance(obj, Mapping):
        return _describe(obj, lang)
    parts = []
    for key, val in obj.items():
        if key == "explanation":
            if lang == "en":
                parts.append(str(val))
            continue
        pair = _UNREACHABLE_KEYS.get(str(key))
        name = i18n.pick(pair, lang) if pair else str(key)
        unit = "village" if "villages" in str(key) else "people"
        number = i18n.fmt_number(val, lang)
        if lang == "zh":
            number += " 个" if unit == "village" else " 人"
        parts.append(f"{name} {number}")
    if lang == "zh":
        parts.append("规划后这部分需求仍未覆盖，需要补路或增补候选点")
    return ("；" if lang == "zh" else "; ").join(parts)


def _describe_network(obj: Any, lang: Lang) -> str:
    """Road networks per travel mode: node and arc counts (read from the network summaries)."""
    if not isinstance(obj, Mapping):
        return _describe(obj, lang)
    parts = []
    for mode, text in obj.items():
        name = i18n.pick(_MODES.get(str(mode), (str(mode), str(mode))), lang)
        found = re.search(r"([\d,]+) nodes, ([\d,]+) (?:arcs|edges)", str(text))
        if found and lang == "zh":
            parts.append(f"{name}：{found.group(1)} 个节点、{found.group(2)} 条路段")
        elif found:
            parts.append(f"{name}: {found.group(1)} nodes, {found.group(2)} arcs")
        else:
            parts.append(f"{name}: {_describe(text, lang)}")
    return ("；" if lang == "zh" else "; ").join(parts)


def _describe(obj: Any, lang: Lang) -> str:
    if isinstance(obj, Mapping):
        return ("；" if lang == "zh" else "; ").join(f"{k}: {_describe(v, lang)}" for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return ("；" if lang == "zh" else "; ").join(_describe(v, lang) for v in obj)
    if isinstance(obj, float):
        return i18n.fmt_number(obj, lang, decimals=2 if obj != round(obj) else 0)
    return str(obj)


def reading_comparison(result: RunResult, lang: Lang) -> str:
    """Which reading gives the higher coverage, class by class, before the plan (one sentence).

    Neither reading is stricter everywhere: along roads a point can be farther than in a straight
    line, but the network reading also counts the time standard (e.g. 10 minutes), which can reach
    farther than the straight-line distance.
    """
    by = result.summary.get("coverage_by_reading")
    if not isinstance(by, Mapping) or not {"network", "buffer"} <= set(by):
        return ""
    parts = []
    for area in by["network"]:
        net = (by["network"].get(area) or {}).get("before")
        buf = (by["buffer"].get(area) or {}).get("before")
        if net is None or buf is None or i18n.is_missing(net) or i18n.is_missing(buf):
            continue
        if abs(float(net) - float(buf)) < 5e-4:
            continue
        higher = float(net) > float(buf)
        name = i18n.area_label(str(area), lang)
        if lang == "zh":
            word = "高于" if higher else "低于"
            parts.append(f"{name}{word}直线口径（{i18n.fmt_pct(net, lang)} 对 {i18n.fmt_pct(buf, lang)}）")
        else:
            word = "higher" if higher else "lower"
            parts.append(f"{name.lower()} {word} ({i18n.fmt_pct(net, lang)} vs {i18n.fmt_pct(buf, lang)})")
    if not parts:
        return ""
    if lang == "zh":
        return "规划前，路网口径的覆盖率" + "，".join(parts) + "。两种口径互有高低，并非路网口径总是更严格。"
    return (
        "Before the plan the network reading gives coverage "
        + ", ".join(parts)
        + " than the straight-line reading: neither reading is stricter everywhere."
    )


def reading_table(result: RunResult, lang: Lang) -> TableView | None:
    """Coverage before/after per area class under the network and the straight-line reading."""
    by = result.summary.get("coverage_by_reading")
    if not isinstance(by, Mapping) or not by:
        return None
    view = TableView(
        headers=[
            _l("reading_col", lang),
            i18n.column_label("area_class", lang),
            i18n.word("before", lang),
            i18n.word("after", lang),
        ],
        id="coverage-by-reading",
        numeric=[False, False, True, True],
    )
    for reading, classes in by.items():
        pair = _RADIUS.get(str(reading))
        name = i18n.pick(pair, lang) if pair else str(reading)
        for area, cov in (classes or {}).items():
            cov = cov or {}
            view.rows.append(
                [
                    Cell(name),
                    Cell(i18n.area_label(str(area), lang)),
                    Cell(
                        i18n.fmt_pct(cov.get("before"), lang),
                        cov.get("before"),
                        f"coverage_by_reading.{reading}.{area}.before",
                        "num",
                    ),
                    Cell(
                        i18n.fmt_pct(cov.get("after"), lang),
                        cov.get("after"),
                        f"coverage_by_reading.{reading}.{area}.after",
                        "num",
                    ),
                ]
            )
    return view


def _township_chart(result: RunResult, lang: Lang) -> str | None:
    t = result.township_table
    if not {"township_name", "coverage_before", "coverage_after"} <= set(t.columns) or t.empty:
        return None
    return charts.township_chart(
        t["township_name"].astype(str).tolist(),
        t["coverage_before"].astype(float).tolist(),
        t["coverage_after"].astype(float).tolist(),
        lang,
    )


def grouped_proposals(result: RunResult) -> pd.DataFrame:
    """The plan with the units at one site in one row: ``C1``, ``C1#2`` … become ``C1`` with ``units``.

    ``proposals.csv`` keeps one row per unit (each has its cost); the report groups them.
    """
    plan = files.proposals_frame(result)
    if plan.empty:
        return plan.assign(units=pd.Series(dtype=int))
    site = plan["id"].astype(str).str.split("#").str[0]
    grouped = (
        plan.assign(id=site, units=1)
        .groupby(["id", "type", "lon", "lat", "township_code", "township_name"], sort=False, as_index=False)
        .agg(units=("units", "sum"), cost=("cost", "sum"), population_gained=("population_gained", "sum"))
    )
    return grouped


def _chain_and_density(result: RunResult, lang: Lang, *, longest: int = 15) -> dict[str, Any]:
    """The delivery-chain summary and its longest villages; the density units still short."""
    out: dict[str, Any] = {"chain": None, "chain_text": "", "density_short": None, "explanations": []}
    notes = result.extra_tables.get("explanations")
    if isinstance(notes, pd.DataFrame) and len(notes):
        column = "explanation_zh" if lang == "zh" else "explanation_en"
        failed = notes[notes["passed"].astype("boolean").eq(False).fillna(False).to_numpy(dtype=bool)]
        out["explanations"] = list(
            zip(failed["standard_id"].astype(str), failed[column].astype(str), strict=True)
        )
    chain = result.extra_tables.get("delivery_chain")
    if isinstance(chain, pd.DataFrame) and len(chain):
        minutes = pd.to_numeric(chain["chain_min"], errors="coerce")
        finite = chain[np.isfinite(minutes)].sort_values("chain_min", ascending=False)
        if len(finite):
            out["chain"] = frame_table(
                finite.head(longest), lang, id="delivery_chain", key_col="village_code"
            )
            out["chain_text"] = _l("chain_summary", lang).format(
                reached=len(finite),
                villages=len(chain),
                mean=i18n.fmt_number(float(finite["chain_min"].mean()), lang, decimals=1),
                max=i18n.fmt_number(float(finite["chain_min"].max()), lang, decimals=1),
                n=min(longest, len(finite)),
            )
    targets = result.extra_tables.get("density_targets")
    if isinstance(targets, pd.DataFrame) and len(targets) and "short_by" in targets:
        cols = [
            "standard_id",
            "facility_type",
            "code",
            "name",
            "standard_requires",
            "existing",
            "candidates",
            "short_by",
        ]
        short = targets[targets["short_by"] > 0][[c for c in cols if c in targets.columns]]
        if len(short):
            out["density_short"] = frame_table(short, lang, id="density_short", key_col="code")
    return out


def report_context(result: RunResult, lang: Lang, *, maps: bool = True) -> dict[str, Any]:
    """Everything the report template shows, formatted for ``lang``.

    ``maps=False`` leaves the static maps out (faster; for tests of the tables).
    """
    curve = result.extra_tables.get("budget_curve")
    has_curve = (
        isinstance(curve, pd.DataFrame) and {"budget", "covered_share"} <= set(curve.columns) and len(curve)
    )
    township = result.township_table
    key = "township_code" if "township_code" in township.columns else None
    gaps = files.village_gaps_frame(result, lang=lang)
    epsg = result.crs.to_epsg()
    unmet, unmet_source = report_standards.unmet_view(result, lang)
    sites = report_sections.site_list(result)
    year = result.summary.get("year")
    return {
        "lang": lang,
        "L": {k: _l(k, lang) for k in _L},
        "title": i18n.run_title(result.title, result.summary, lang),
        "profile_line": _l("profile_line", lang).format(
            profile=sources.profile_title(result.summary, lang) or i18n.MISSING,
            year=year if year is not None else i18n.MISSING,
        ),
        "meta": [
            (_l("scenario", lang), result.scenario_name),
            (_l("version", lang), f"planner {result.planner_version}"),
            (_l("hash", lang), result.scenario_hash),
            (_l("crs", lang), f"EPSG:{epsg}" if epsg else result.crs.name),
            (_l("generated", lang), dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ],
        "cards": headline_cards(result, lang),
        "standards": standards_table(result, lang),
        "documents": report_sections.cited_documents(result, lang),
        "unmet": unmet,
        "unmet_source": unmet_source,
        "cost_by_standard": report_standards.cost_view(result, lang),
        "standard_notes": report_standards.standard_notes(result, lang),
        "curve_note": report_sections.curve_note(result, lang),
        "county_map": staticmap.county_map(result, lang) if maps else None,
        "town_pages": report_sections.township_pages(result, lang, maps=maps),
        "standards_town": township_standards_table(result, lang),
        "townships": frame_table(township, lang, id="townships", key_col=key) if len(township) else None,
        "coverage_chart": charts.coverage_chart(result.summary, lang),
        "access": {
            "heading": report_access.heading(lang),
            "chart": report_access.access_chart(result.summary, lang),
            "table": report_access.access_table(result.summary, lang),
        },
        "township_chart": _township_chart(result, lang),
        "budget_chart": charts.budget_chart(curve, lang, chosen_budget=report_standards.plan_cost(result))
        if has_curve and curve is not None
        else None,
        "plan_by_type": plan_by_type(result, lang),
        "plan": frame_table(sites, lang, id="proposals", key_col="id", total=True),
        "sites_have_standards": "standards" in sites.columns,
        "village_gaps": frame_table(gaps, lang, id="village_gaps", key_col="village_code")
        if len(gaps)
        else None,
        "uncovered": uncovered_table(result, lang),
        "facility_gaps": facility_gap_tables(result, lang),
        "method": method_notes(result, lang),
        "by_reading": reading_table(result, lang),
        "reading_text": reading_comparison(result, lang),
        "full_citations": full_citation_table(result, lang),
        **_chain_and_density(result, lang),
    }


def full_citation_table(result: RunResult, lang: Lang) -> TableView | None:
    """Each standard of the audit with its clause: issuer, full document title, number and clause."""
    docs = sources.documents(result.summary)
    sids = list(dict.fromkeys(result.audit.table["standard_id"].astype(str)))
    if not sids:
        return None
    view = TableView(
        headers=[_l("standard", lang), _l("content", lang), _l("citation", lang)],
        id="citations",
        numeric=[False, False, False],
    )
    for sid in sids:
        cite = citation(result, sid)
        view.rows.append(
            [Cell(sid), Cell(i18n.standard_label(sid, lang)), Cell(sources.full_citation(cite, docs, lang))]
        )
    return view


def render_report(result: RunResult, *, lang: Lang, maps: bool = True) -> str:
    """The report's HTML text."""
    return _env().get_template("report.html.j2").render(**report_context(result, lang, maps=maps))


def write_report(result: RunResult, path: Path, *, lang: Lang, maps: bool = True) -> Path:
    """Write ``report.html`` (UTF-8, self-contained: no scripts, styles inline, charts as SVG,
    maps as PNG data)."""
    path.write_text(render_report(result, lang=lang, maps=maps), encoding="utf-8")
    return path
