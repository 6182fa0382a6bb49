"""The report's access section: how far people are from a pickup point, before and after the plan.

Reads ``summary["access"]`` (:func:`planner.coverage.access.access_block`): a chart of the median
and 90th-percentile travel time per area class and for the county, before and after, and a table
with the mean, the share within the standard's time and the equity measure (the people in the
worst-served tenth of the villages). Nothing is drawn for a run without the block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from planner.outputs import charts, i18n, palette
from planner.outputs.i18n import Lang
from planner.outputs.tableview import Cell, TableView

__all__ = ["access_chart", "access_table", "heading"]

_L = {
    "title_min": (
        "到最近取件点的时间（中位数与 90% 分位）",
        "Time to the nearest pickup point (median and 90th pct.)",
    ),
    "title_km": (
        "到最近取件点的直线距离（中位数与 90% 分位）",
        "Distance to the nearest pickup point (median, 90th pct.)",
    ),
    "county": ("全县", "County"),
    "group": ("人群", "People"),
    "median": ("中位数", "Median"),
    "p90": ("90% 分位", "90th pct."),
    "mean": ("平均", "Mean"),
    "within": ("标准时间内", "Within standard"),
    "worst": ("最差 10% 村：人口占比 / 平均", "Worst-served 10% of villages: people / mean"),
    "heading": ("可达性：到最近取件点的时间分布", "Access: time to the nearest pickup point"),
}


def _l(key: str, lang: Lang) -> str:
    return i18n.pick(_L[key], lang)


def _groups(access: Mapping[str, Any], lang: Lang) -> list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    rows = [(_l("county", lang), access["county"]["before"], access["county"]["after"])]
    for area, pair in access.get("by_class", {}).items():
        if (pair.get("before") or {}).get("population"):
            rows.append((i18n.area_label(str(area), lang), pair["before"], pair["after"]))
    return rows


def _unit(access: Mapping[str, Any], lang: Lang) -> str:
    if access.get("unit") == "km":
        return "公里" if lang == "zh" else "km"
    return "分钟" if lang == "zh" else "min"


def _bars(ax: Any, groups: list[Any], side: int, offset: float, width: float, lang: Lang) -> float:
    """One side's bars (median) and whiskers (to the 90th percentile); returns the highest whisker."""
    colour = palette.BEFORE_COLOUR if side == 1 else palette.AFTER_COLOUR
    name = i18n.word("before" if side == 1 else "after", lang)
    top = 0.0
    for x, group in enumerate(groups):
        median, p90 = group[side].get("median"), group[side].get("p90")
        if median is None:
            continue
        ax.bar(x + offset, median, width, color=colour, label=name if x == 0 else None)
        whisker = x + offset + width * 0.3  # beside the bar's label
        if p90 is not None:
            ax.plot([whisker] * 2, [median, p90], color="#333333", linewidth=1.2)
            ax.plot(whisker, p90, marker="_", color="#333333", markersize=9)
            top = max(top, p90)
        ax.text(x + offset - width * 0.1, median, f"{median:.1f}", ha="center", va="bottom", fontsize=8)
    return top


def access_chart(summary: Mapping[str, Any], lang: Lang) -> str | None:
    """Median (bar) and 90th percentile (whisker) per group, before (grey) and after (blue-grey)."""
    access = summary.get("access")
    if not access:
        return None
    groups = _groups(access, lang)
    title = _l("title_km" if access.get("unit") == "km" else "title_min", lang)
    with matplotlib.rc_context(charts._rc()):
        fig = Figure(figsize=(6.4, 3.2))
        ax = fig.subplots()
        width = 0.38
        top = max(_bars(ax, groups, 1, -width / 2, width, lang), _bars(ax, groups, 2, width / 2, width, lang))
        ax.set_xticks(list(range(len(groups))), [g[0] for g in groups])
        ax.set_ylim(0, max(top, 1.0) * 1.15)
        ax.set_ylabel(_unit(access, lang))
        ax.set_title(title)
        ax.legend(frameon=False, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
        return charts._to_svg(fig, label=title)


def _fmt(value: Any, unit: str, lang: Lang) -> str:
    return i18n.MISSING if value is None else f"{i18n.fmt_number(value, lang, decimals=1)} {unit}".strip()


def heading(lang: Lang) -> str:
    """The section's heading."""
    return _l("heading", lang)


def access_table(summary: Mapping[str, Any], lang: Lang) -> TableView | None:
    """Per group: median, 90th percentile, mean and share within the standard, before → after; equity."""
    access = summary.get("access")
    if not access:
        return None
    unit = _unit(access, lang)
    view = TableView(
        headers=[_l(k, lang) for k in ("group", "median", "p90", "mean", "within")],
        numeric=[False, True, True, True, True],
        id="access",
    )
    for name, before, after in _groups(access, lang):
        row = [Cell(name)]
        for key in ("median", "p90", "mean"):
            row.append(
                Cell(
                    f"{_fmt(before.get(key), unit, lang)} → {_fmt(after.get(key), unit, lang)}",
                    after.get(key),
                )
            )
        within = after.get("within_standard")
        row.append(
            Cell(
                f"{i18n.fmt_pct(before.get('within_standard'), lang)} → {i18n.fmt_pct(within, lang)}", within
            )
        )
        view.rows.append(row)
    eq_b, eq_a = access["equity"]["before"], access["equity"]["after"]
    was, now = (
        f"{i18n.fmt_pct(e.get('worst_population_share'), lang)} / {_fmt(e.get('worst_mean'), unit, lang)}"
        for e in (eq_b, eq_a)
    )
    text = f"{was} → {now}"
    view.foot = [Cell(_l("worst", lang)), Cell(text, eq_a.get("worst_mean")), Cell(""), Cell(""), Cell("")]
    return view
