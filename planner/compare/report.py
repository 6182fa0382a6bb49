"""The files of a comparison: ``compare.html`` (the report), ``compare_map.html`` (A and B side by
side, the views kept in step), ``compare.json`` and the tables as CSV. Self-contained, offline."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2
import numpy as np
import pandas as pd

from planner.compare.diff import Comparison
from planner.outputs import i18n, palette
from planner.outputs.files import write_csv
from planner.outputs.i18n import Lang

__all__ = ["write_comparison"]

LABELS: Final[dict[str, tuple[str, str]]] = {
    "title": ("规划方案对比", "Plans compared"),
    "plan_a": ("方案 A", "Plan A"),
    "plan_b": ("方案 B", "Plan B"),
    "headline": ("主要指标", "Headline figures"),
    "figure": ("指标", "Figure"),
    "cost_total": ("新增投资（元）", "Cost of new sites (yuan)"),
    "sites_proposed": ("规划新增设施", "Sites proposed"),
    "coverage_urban": ("城区覆盖率", "Urban coverage"),
    "coverage_township": ("镇区覆盖率", "Township coverage"),
    "coverage_rural": ("农村覆盖率", "Rural coverage"),
    "villages_with_station": ("有服务的行政村", "Villages served"),
    "unmet": ("规划后仍未达标项", "Rows still unmet"),
    "access_median": ("到最近取件点时间中位数", "Median time to the nearest pickup point"),
    "access_p90": ("90% 分位时间", "90th percentile time"),
    "worst_decile_share": ("服务最差 10% 村的人口占比", "People in the worst-served 10% of villages"),
    "sites": ("设施", "Sites"),
    "only_a": ("仅方案 A", "Only in A"),
    "only_b": ("仅方案 B", "Only in B"),
    "both": ("两方案共有", "In both"),
    "type": ("类型", "Type"),
    "place": ("位置", "Place"),
    "township": ("乡镇", "Township"),
    "units": ("数量", "Units"),
    "ids": ("编号", "Ids"),
    "standards": ("标准达标情况", "Standards met"),
    "standard": ("标准", "Standard"),
    "unit": ("单位", "Unit"),
    "met_a": ("A 达标", "Met in A"),
    "met_b": ("B 达标", "Met in B"),
    "value_a": ("A 数值", "Value A"),
    "value_b": ("B 数值", "Value B"),
    "rows_met": ("达标行数", "Rows met"),
    "rows_differ": ("两方案不同的行", "Rows that differ"),
    "no_difference": ("两方案无差别。", "No difference."),
    "townships": ("各乡镇投资与覆盖", "Cost and coverage per township"),
    "population": ("人口", "People"),
    "coverage": ("覆盖率", "Coverage"),
    "cost": ("投资（元）", "Cost (yuan)"),
    "served": ("有服务的行政村", "Villages served"),
    "median": ("时间中位数", "Median time"),
    "villages": ("状态变化的村/社区", "Villages and communities that change status"),
    "village": ("村/社区", "Village / community"),
    "station_a": ("A 有站点服务", "Station in A"),
    "station_b": ("B 有站点服务", "Station in B"),
    "covered_a": ("A 覆盖人口比例", "Covered share in A"),
    "covered_b": ("B 覆盖人口比例", "Covered share in B"),
    "map": ("对比地图", "Map side by side"),
    "map_note": (
        "黄色（橙边）为仅在本方案中的设施，其余（按类型着色）为两方案共有；红圈为状态变化的村。",
        "Yellow (orange edge): sites only in this plan; the others (coloured by type) are in both; "
        "red rings: villages whose status changes.",
    ),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "folder": ("输出目录", "Output folder"),
    "scenario": ("情景", "Scenario"),
}


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN/inf and pandas NA → None, numpy scalars → Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def _l(key: str, lang: Lang) -> str:
    return i18n.pick(LABELS[key], lang)


def _fmt(value: Any, kind: str, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return i18n.MISSING
    if kind == "pct":
        return i18n.fmt_pct(value, lang)
    if kind == "yuan":
        return i18n.fmt_yuan(value, lang)
    if kind == "min":
        return i18n.fmt_min(value, lang)
    if kind == "bool":
        return _l("yes", lang) if bool(value) else _l("no", lang)
    return i18n.fmt_number(value, lang)


def _headline_rows(cmp: Comparison, lang: Lang) -> list[tuple[str, str, str]]:
    a, b = cmp.summary["a"], cmp.summary["b"]
    n_a, n_b = sum(a["proposals"].values()), sum(b["proposals"].values())
    rows = [
        ("cost_total", _fmt(a["cost_total"], "yuan", lang), _fmt(b["cost_total"], "yuan", lang)),
        ("sites_proposed", _fmt(n_a, "n", lang), _fmt(n_b, "n", lang)),
    ]
    for c in ("urban", "township", "rural"):
        cov_a, cov_b = a["coverage_after"].get(c), b["coverage_after"].get(c)
        rows.append((f"coverage_{c}", _fmt(cov_a, "pct", lang), _fmt(cov_b, "pct", lang)))
    for key, kind in (
        ("villages_with_station", "n"),
        ("unmet", "n"),
        ("access_median", "min"),
        ("access_p90", "min"),
        ("worst_decile_share", "pct"),
    ):
        rows.append((key, _fmt(a[key], kind, lang), _fmt(b[key], kind, lang)))
    return [(_l(k, lang), va, vb) for k, va, vb in rows]


def _town_names(cmp: Comparison) -> dict[str, str]:
    t = cmp.townships
    return dict(zip(t["township_code"].astype(str), t["township_name"].astype(str), strict=True))


def _site_rows(cmp: Comparison, where: str, lang: Lang) -> list[list[str]]:
    names = _town_names(cmp)
    rows = cmp.sites[cmp.sites["where"] == where]
    return [
        [
            i18n.facility_label(str(r.type), lang),
            f"{r.lon:.5f}, {r.lat:.5f}",
            names.get(str(r.township_code), str(r.township_code)),
            f"{r.units_a} / {r.units_b}",
            str(r.ids_a or r.ids_b)[:60],
        ]
        for r in rows.itertuples(index=False)
    ]


def _standard_rows(cmp: Comparison, lang: Lang) -> list[list[str]]:
    rows = cmp.standards[cmp.standards["changed"]]
    out = []
    for r in rows.itertuples(index=False):
        sid, level = str(r.standard_id), str(r.unit_level)
        level_label = i18n.pick(i18n.UNIT_LEVEL_LABELS.get(level, (level, level)), lang)
        out.append(
            [
                f"{i18n.standard_label(sid, lang)} ({sid})",
                f"{level_label} {r.unit_name}",
                i18n.fmt_standard_value(sid, r.value_a, lang, level),
                i18n.fmt_standard_value(sid, r.value_b, lang, level),
                _fmt(r.passed_a, "bool", lang),
                _fmt(r.passed_b, "bool", lang),
            ]
        )
    return out


def _per_standard(cmp: Comparison, lang: Lang) -> list[list[str]]:
    s = cmp.standards
    out = []
    for sid, rows in s.groupby("standard_id", sort=False):
        a = int(rows["passed_a"].astype("boolean").fillna(False).sum())
        b = int(rows["passed_b"].astype("boolean").fillna(False).sum())
        out.append(
            [f"{i18n.standard_label(str(sid), lang)} ({sid})", f"{a} / {len(rows)}", f"{b} / {len(rows)}"]
        )
    return out


def _town_rows(cmp: Comparison, lang: Lang) -> list[list[str]]:
    return [
        [
            str(r.township_name),
            _fmt(r.population_a, "n", lang),
            f"{_fmt(r.coverage_a, 'pct', lang)} / {_fmt(r.coverage_b, 'pct', lang)}",
            f"{r.sites_a} / {r.sites_b}",
            f"{_fmt(r.cost_a, 'yuan', lang)} / {_fmt(r.cost_b, 'yuan', lang)}",
            f"{r.villages_served_a} / {r.villages_served_b}",
            f"{_fmt(r.median_time_a, 'min', lang)} / {_fmt(r.median_time_b, 'min', lang)}",
        ]
        for r in cmp.townships.itertuples(index=False)
    ]


def _village_rows(cmp: Comparison, lang: Lang) -> list[list[str]]:
    names = _town_names(cmp)
    return [
        [
            f"{r.village_name} ({r.village_code})",
            names.get(str(r.township_code), str(r.township_code)),
            f"{_fmt(r.station_a, 'bool', lang)} / {_fmt(r.station_b, 'bool', lang)}",
            f"{_fmt(r.covered_share_a, 'pct', lang)} / {_fmt(r.covered_share_b, 'pct', lang)}",
        ]
        for r in cmp.villages.itertuples(index=False)
    ]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("planner.compare", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        keep_trailing_newline=True,
    )


def render_report(cmp: Comparison, lang: Lang) -> str:
    """``compare.html``: headline, sites, standards, townships and villages, A beside B."""
    return (
        _env()
        .get_template("compare.html.j2")
        .render(
            lang=lang,
            L={k: _l(k, lang) for k in LABELS},
            s=cmp.summary,
            title_a=cmp.a.title(lang),
            title_b=cmp.b.title(lang),
            headline=_headline_rows(cmp, lang),
            site_tables=[(k, _site_rows(cmp, k, lang)) for k in ("only_a", "only_b", "both")],
            per_standard=_per_standard(cmp, lang),
            standard_rows=_standard_rows(cmp, lang),
            town_rows=_town_rows(cmp, lang),
            village_rows=_village_rows(cmp, lang),
        )
    )


# ---------------------------------------------------------------------------------------------
# The map side by side
# ---------------------------------------------------------------------------------------------


def _leaflet() -> tuple[str, str]:
    base = resources.files("planner.outputs").joinpath("templates")
    return base.joinpath("leaflet.css").read_text(encoding="utf-8"), base.joinpath("leaflet.js").read_text(
        encoding="utf-8"
    )


def _map_data(cmp: Comparison, lang: Lang) -> dict[str, Any]:
    def geo(frame: Any) -> Any:
        return json.loads(frame[["geometry"]].simplify(0.0002).to_json()) if len(frame) else None

    sites = cmp.sites
    changed = set(cmp.villages["village_code"].astype(str))
    v = cmp.a.villages
    villages = [
        [round(float(g.y), 6), round(float(g.x), 6), str(name)]
        for code, name, g in zip(v["village_code"], v["village_name"], v.geometry, strict=True)
        if str(code) in changed and g is not None and not g.is_empty
    ]
    return json_safe(
        {
            "boundary": geo(cmp.a.boundary),
            "townships": geo(cmp.a.townships),
            "sites": [
                [r.lat, r.lon, r.type, r.where, r.units_a, r.units_b, r.ids_a or r.ids_b]
                for r in sites.itertuples(index=False)
            ],
            "villages": villages,
            "colours": palette.FACILITY_COLOURS,
            "plan": palette.PLAN_ADDS,
            "types": {t: i18n.facility_label(t, lang) for t in palette.FACILITY_COLOURS},
        }
    )


def render_map(cmp: Comparison, lang: Lang) -> str:
    """``compare_map.html``: plan A and plan B side by side, their views kept in step (offline)."""
    css, js = _leaflet()
    data = json.dumps(_map_data(cmp, lang), ensure_ascii=False).replace("</", "<\\/")
    return (
        _env()
        .get_template("compare_map.html.j2")
        .render(
            lang=lang,
            note=_l("map_note", lang),
            title=_l("map", lang),
            plan_a=_l("plan_a", lang),
            plan_b=_l("plan_b", lang),
            title_a=cmp.a.title(lang),
            title_b=cmp.b.title(lang),
            leaflet_css=css,
            leaflet_js=js,
            data=data,
        )
    )


def write_comparison(cmp: Comparison, folder: Path, *, lang: Lang) -> list[Path]:
    """Write the comparison's files into ``folder`` (the caller makes it atomic)."""
    paths = []
    for name, frame in (
        ("sites", cmp.sites),
        ("standards", cmp.standards),
        ("townships", cmp.townships),
        ("villages", cmp.villages),
    ):
        paths.append(write_csv(frame, folder / f"{name}.csv"))
    (folder / "compare.json").write_text(
        json.dumps(json_safe(cmp.summary), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (folder / "compare.html").write_text(render_report(cmp, lang), encoding="utf-8")
    (folder / "compare_map.html").write_text(render_map(cmp, lang), encoding="utf-8")
    return [*paths, folder / "compare.json", folder / "compare.html", folder / "compare_map.html"]
