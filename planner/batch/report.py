"""The batch report (``batch_report.html``) and map (``batch_map.html``): units ranked by gap.

Both are self-contained and readable offline: the report is plain HTML with inline CSS; the map
reuses the offline Leaflet assets and compact data layers of :mod:`planner.outputs.mapview`
(no CDN). Chinese by default, English with ``lang="en"``. The *gap* of a unit is the share of its
population not covered under its class's standard before the plan (see :mod:`planner.batch.merge`).
"""

from __future__ import annotations

import html
import itertools
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from planner.batch.merge import totals, unit_polygons
from planner.batch.spec import BatchPlan, Lang
from planner.outputs import i18n
from planner.types import AREA_CLASSES, FACILITY_TYPES

#: Gap classes (upper limits of the share uncovered) and their colours, light to dark (YlOrRd).
GAP_BREAKS: Final[tuple[float, ...]] = (0.05, 0.10, 0.20, 0.35)
GAP_RAMP: Final[tuple[str, ...]] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

_T: Final[dict[str, tuple[str, str]]] = {
    "report": ("批量规划汇总报告", "Batch planning report"),
    "map": ("批量规划汇总地图", "Batch planning map"),
    "units": ("单元", "Units"),
    "totals": ("汇总", "Totals"),
    "ranking": ("各单元按覆盖缺口排序", "Units ranked by coverage gap"),
    "gap_note": (
        "覆盖缺口＝规划前未达到所属类别服务标准的人口占比（城区、镇区、农村合计）。",
        "Gap = share of the population not covered under its class's standard before the plan "
        "(urban, township and rural together).",
    ),
    "rank": ("排名", "Rank"),
    "unit": ("单元", "Unit"),
    "code": ("代码", "Code"),
    "population": ("人口", "Population"),
    "gap_before": ("规划前缺口", "Gap before"),
    "gap_after": ("规划后缺口", "Gap after"),
    "coverage": ("覆盖率 前→后", "Coverage before→after"),
    "stations": ("有站点行政村 前→后/总数", "Villages with a station before→after / total"),
    "proposed": ("规划新增", "Proposed"),
    "cost": ("投资", "Cost"),
    "solver": ("求解状态（间隙）", "Solver status (gap)"),
    "status": ("状态", "Status"),
    "seconds": ("用时（秒）", "Seconds"),
    "links": ("单元成果", "Unit outputs"),
    "report_link": ("报告", "report"),
    "map_link": ("地图", "map"),
    "failures": ("失败的单元", "Failed units"),
    "error": ("错误", "Error"),
    "files": ("汇总文件", "Merged files"),
    "uncovered": ("未覆盖人口 前→后", "Uncovered population before→after"),
    "villages_total": ("有站点行政村 前→后", "Villages with a station before→after"),
    "no_figures": ("无数据（失败）", "no figures (failed)"),
    "legend": ("覆盖缺口（规划前）", "Coverage gap (before plan)"),
    "osm": ("在线底图 OpenStreetMap（需联网）", "Online base map OpenStreetMap (needs internet)"),
    "not_on_map": ("未上图（失败）", "Not on the map (failed)"),
    "generated": ("生成于", "Generated"),
}

_STATUS: Final[dict[str, tuple[str, str]]] = {
    "done": ("完成", "done"),
    "skipped": ("未变更", "unchanged"),
    "failed": ("失败", "failed"),
}

_CSS: Final = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC", sans-serif;
  margin: 24px auto; max-width: 1280px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; }
h2 { font-size: 17px; margin-top: 26px; border-bottom: 1px solid #ccc; }
.sub { color: #666; font-size: 12px; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { border: 1px solid #d0d0d0; padding: 3px 6px; vertical-align: top; }
th { background: #f1f3f5; text-align: left; }
td.n { text-align: right; white-space: nowrap; }
tr.failed td { background: #fff5f5; }
.kpi { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi div { background: #f8f9fa; border: 1px solid #dee2e6; border-radius: 6px; padding: 8px 12px; }
.kpi b { display: block; font-size: 17px; }
pre { white-space: pre-wrap; font-size: 11.5px; margin: 0; }
.sw { display: inline-block; width: 12px; height: 12px; border: 1px solid #888; vertical-align: middle; }
@media print { a { color: inherit; text-decoration: none; } }
"""


def _t(key: str, lang: Lang) -> str:
    return i18n.pick(_T[key], lang)


def gap_colour(gap: float | None) -> str:
    """The colour of a gap share (grey when unknown)."""
    if gap is None:
        return "#cccccc"
    for limit, colour in zip(GAP_BREAKS, GAP_RAMP, strict=False):
        if gap <= limit:
            return colour
    return GAP_RAMP[-1]


def _gap_classes(lang: Lang) -> list[tuple[str, str]]:
    edges = (0.0, *GAP_BREAKS)
    labels = [
        f"{i18n.fmt_pct(lo, lang, decimals=0)}–{i18n.fmt_pct(hi, lang, decimals=0)}"
        for lo, hi in itertools.pairwise(edges)
    ]
    labels.append(f"> {i18n.fmt_pct(GAP_BREAKS[-1], lang, decimals=0)}")
    return list(zip(GAP_RAMP, labels, strict=True))


def _rel(target: Path, base: Path) -> str:
    import os

    return Path(os.path.relpath(target, base)).as_posix()


def _ranked(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    with_rank = sorted((r for r in rows if r.get("gap_rank") is not None), key=lambda r: r["gap_rank"])
    return with_rank + [r for r in rows if r.get("gap_rank") is None]


def _coverage_cell(row: Mapping[str, Any], lang: Lang) -> str:
    parts = []
    for c in AREA_CLASSES:
        before, after = row.get(f"coverage_before_{c}"), row.get(f"coverage_after_{c}")
        if before is None and after is None:
            continue
        parts.append(
            f"{i18n.area_label(c, lang)} {i18n.fmt_pct(before, lang, decimals=0)}→"
            f"{i18n.fmt_pct(after, lang, decimals=0)}"
        )
    return "<br>".join(html.escape(p) for p in parts)


def _proposed_cell(row: Mapping[str, Any], lang: Lang) -> str:
    parts = [
        f"{i18n.facility_label(t, lang)} {row[f'proposed_{t}']}"
        for t in FACILITY_TYPES
        if row.get(f"proposed_{t}")
    ]
    return "<br>".join(html.escape(p) for p in parts) or "0"


def _unit_rows(plan: BatchPlan, rows: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    e = html.escape
    out = []
    for r in _ranked(rows):
        unit_dir = Path(str(r["output_dir"]))
        links = []
        if r["status"] != "failed":
            for name, key in (("report.html", "report_link"), ("map.html", "map_link")):
                if (unit_dir / name).is_file():
                    links.append(f"<a href='{e(_rel(unit_dir / name, plan.out_dir))}'>{e(_t(key, lang))}</a>")
        solver = (
            ""
            if r.get("solver_status") is None
            else (f"{r['solver_status']} ({i18n.fmt_pct(r.get('solver_gap'), lang, decimals=2)})")
        )
        stations = (
            (
                f"{i18n.fmt_number(r.get('villages_with_station_before'), lang)}→"
                f"{i18n.fmt_number(r.get('villages_with_station_after'), lang)}/"
                f"{i18n.fmt_number(r.get('villages'), lang)}"
            )
            if r["status"] != "failed"
            else ""
        )
        out.append(
            f"<tr class='{e(str(r['status']))}'>"
            f"<td class='n'>{'' if r.get('gap_rank') is None else r['gap_rank']}</td>"
            f"<td>{e(str(r['unit_name']))}</td><td>{e(str(r.get('county_code') or r['unit']))}</td>"
            f"<td class='n'>{i18n.fmt_number(r.get('population'), lang)}</td>"
            f"<td class='n'><span class='sw' style='background:{gap_colour(r.get('gap_before'))}'></span> "
            f"{i18n.fmt_pct(r.get('gap_before'), lang)}</td>"
            f"<td class='n'>{i18n.fmt_pct(r.get('gap_after'), lang)}</td>"
            f"<td>{_coverage_cell(r, lang)}</td><td class='n'>{e(stations)}</td>"
            f"<td>{_proposed_cell(r, lang) if r['status'] != 'failed' else ''}</td>"
            f"<td class='n'>{e(i18n.fmt_yuan(r.get('cost_total'), lang))}</td><td>{e(solver)}</td>"
            f"<td>{e(i18n.pick(_STATUS[str(r['status'])], lang))}</td>"
            f"<td class='n'>{i18n.fmt_number(r.get('seconds'), lang, decimals=1)}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    return "\n".join(out)


def render_batch_report(
    plan: BatchPlan,
    rows: Sequence[Mapping[str, Any]],
    *,
    lang: Lang | None = None,
    seconds: float | None = None,
) -> str:
    """The batch report as an HTML string (totals, units ranked by gap, failures with their errors)."""
    from planner import __version__

    lang = lang or plan.language
    e = html.escape
    tot = totals(rows)
    if lang == "zh":
        counts = (
            f"共 {tot['units']} 个：本次完成 {tot['units_done']}，未变更跳过 {tot['units_skipped']}，"
            f"失败 {tot['units_failed']}"
        )
    else:
        counts = (
            f"{tot['units']}: {tot['units_done']} run now, {tot['units_skipped']} unchanged, "
            f"{tot['units_failed']} failed"
        )
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    sub = f"planner {__version__} · {_t('generated', lang)} {stamp}"
    if seconds is not None:
        sub += f" · {i18n.fmt_number(seconds, lang, decimals=1)} s"
    proposed = (
        "<br>".join(f"{e(i18n.facility_label(t, lang))} {n}" for t, n in tot["proposed"].items() if n) or "0"
    )
    kpis = [
        (_t("units", lang), e(counts)),
        (_t("population", lang), i18n.fmt_number(tot["population"], lang)),
        (
            _t("uncovered", lang),
            f"{i18n.fmt_number(tot['uncovered_before'], lang)} → "
            f"{i18n.fmt_number(tot['uncovered_after'], lang)} "
            f"({i18n.fmt_pct(tot['gap_before'], lang)} → {i18n.fmt_pct(tot['gap_after'], lang)})",
        ),
        (
            _t("villages_total", lang),
            f"{tot['villages_with_station_before']:,} → {tot['villages_with_station_after']:,}"
            f" / {tot['villages']:,}",
        ),
        (_t("proposed", lang), proposed),
        (_t("cost", lang), e(i18n.fmt_yuan(tot["cost_total"], lang))),
    ]
    heads = [
        "rank",
        "unit",
        "code",
        "population",
        "gap_before",
        "gap_after",
        "coverage",
        "stations",
        "proposed",
        "cost",
        "solver",
        "status",
        "seconds",
        "links",
    ]
    failures = [r for r in rows if r["status"] == "failed"]
    fail_html = ""
    if failures:
        items = "\n".join(
            f"<tr><td>{e(str(r['unit_name']))} ({e(str(r['unit']))})</td>"
            f"<td><pre>{e(str(r.get('error') or ''))}</pre></td></tr>"
            for r in failures
        )
        fail_html = (
            f"<h2>{e(_t('failures', lang))}</h2><table><tr><th>{e(_t('unit', lang))}</th>"
            f"<th>{e(_t('error', lang))}</th></tr>{items}</table>"
        )
    files = [
        ("batch_summary.csv", "CSV"),
        ("batch_summary.json", "JSON"),
        ("batch_results.gpkg", "GeoPackage"),
        ("batch_map.html", _t("map", lang)),
    ]
    file_links = " · ".join(f"<a href='{name}'>{e(label)}</a>" for name, label in files)
    title = f"{plan.title} — {_t('report', lang)}"
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{e(title)}</h1><div class="sub">{e(sub)}</div>
<h2>{e(_t("totals", lang))}</h2>
<div class="kpi">{"".join(f"<div>{e(k)}<b>{v}</b></div>" for k, v in kpis)}</div>
<h2>{e(_t("ranking", lang))}</h2><p class="sub">{e(_t("gap_note", lang))}</p>
<table><tr>{"".join(f"<th>{e(_t(h, lang))}</th>" for h in heads)}</tr>
{_unit_rows(plan, rows, lang)}
</table>
{fail_html}
<h2>{e(_t("files", lang))}</h2><p>{file_links}</p>
</body></html>
"""


def write_batch_report(
    plan: BatchPlan,
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    lang: Lang | None = None,
    seconds: float | None = None,
) -> Path:
    """Write ``batch_report.html`` (UTF-8, self-contained)."""
    path.write_text(render_batch_report(plan, rows, lang=lang, seconds=seconds), encoding="utf-8")
    return path


def write_batch_map(
    plan: BatchPlan, rows: Sequence[Mapping[str, Any]], path: Path, *, lang: Lang | None = None
) -> Path:
    """Write ``batch_map.html``: every unit coloured by its gap, with its figures in the popup (offline)."""
    import folium
    from branca.element import Element

    from planner.outputs.mapview import DataLayer, OfflineAssets, polygon_features

    lang = lang or plan.language
    e = html.escape
    polys = unit_polygons(rows)
    m = folium.Map(location=[35.0, 105.0], zoom_start=5, tiles=None, prefer_canvas=True, control_scale=True)
    m.default_js = []
    m.default_css = []
    m.add_child(OfflineAssets(), name="planner_assets")
    folium.TileLayer("OpenStreetMap", name=_t("osm", lang), overlay=True, show=False, control=True).add_to(m)
    if polys is not None and len(polys):
        polys = polys.set_geometry(polys.geometry.simplify(0.0005, preserve_topology=True))
        by_unit = {str(r["unit"]): r for r in rows}
        units = [by_unit[str(u)] for u in polys["unit"]]
        keys = [
            str(GAP_RAMP.index(gap_colour(r["gap_before"]))) if r["gap_before"] is not None else "x"
            for r in units
        ]
        styles = {
            str(i): {"color": "#444", "weight": 1.5, "fillColor": c, "fillOpacity": 0.75}
            for i, c in enumerate(GAP_RAMP)
        }
        styles["x"] = {"color": "#444", "weight": 1.5, "fillColor": "#ccc", "fillOpacity": 0.5}
        fields = [
            _t("rank", lang),
            _t("code", lang),
            _t("population", lang),
            _t("gap_before", lang),
            _t("gap_after", lang),
            _t("villages_total", lang),
            _t("proposed", lang),
            _t("cost", lang),
        ]
        titles = [str(r["unit_name"]) for r in units]
        values = [
            [
                "" if r["gap_rank"] is None else str(r["gap_rank"]),
                str(r["county_code"] or r["unit"]),
                i18n.fmt_number(r["population"], lang),
                i18n.fmt_pct(r["gap_before"], lang),
                i18n.fmt_pct(r["gap_after"], lang),
                f"{i18n.fmt_number(r['villages_with_station_before'], lang)} → "
                f"{i18n.fmt_number(r['villages_with_station_after'], lang)} / "
                f"{i18n.fmt_number(r['villages'], lang)}",
                i18n.fmt_number(r["proposed_total"], lang),
                i18n.fmt_yuan(r["cost_total"], lang),
            ]
            for r in units
        ]
        DataLayer(
            {
                "kind": "polygon",
                "styles": styles,
                "fields": fields,
                "features": polygon_features(polys, keys, titles, values),
            },
            name=_t("units", lang),
            show=True,
        ).add_to(m)
        minx, miny, maxx, maxy = polys.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    legend = [f"<h4>{e(_t('legend', lang))}</h4>"]
    legend += [
        f"<div class='row'><span class='sq' style='background:{c}'></span>{e(label)}</div>"
        for c, label in _gap_classes(lang)
    ]
    failed = [str(r["unit_name"]) for r in rows if r["status"] == "failed"]
    if failed:
        legend.append(f"<div class='sec'>{e(_t('not_on_map', lang))}</div><div>{e('、'.join(failed))}</div>")
    root: Any = m.get_root()
    root.html.add_child(Element(f"<div id='planner-legend'>{''.join(legend)}</div>"), name="planner_legend")
    title = f"{plan.title} — {_t('map', lang)}"
    root.html.add_child(
        Element(f"<div id='planner-title'><div class='t'>{e(title)}</div></div>"), name="planner_title"
    )
    root.header.add_child(Element(f"<title>{e(title)}</title>"), name="planner_page_title")
    text = root.render().replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)
    path.write_text(text, encoding="utf-8")
    return path
