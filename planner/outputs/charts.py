"""Charts for the report, drawn with matplotlib and returned as inline SVG text.

Text stays text in the SVG (``svg.fonttype = none``), so Chinese labels are drawn by the reader's
browser with its own fonts (微软雅黑, 苹方, Noto Sans CJK ...) and the page needs no embedded font.
Matplotlib measures with a CJK font when one is installed and falls back quietly when not.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from planner.outputs import fonts, i18n, palette
from planner.outputs.i18n import Lang

CJK_FONTS: Final = fonts.CJK_FONTS


def _font_family() -> list[str]:
    return fonts.font_family()


def _rc() -> Any:  # a dict of rcParams (typed loosely: matplotlib types keys as literals)
    return {
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": _font_family(),
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#888888",
        "axes.titleweight": "normal",  # the bundled CJK font has one weight: no "bold" fallback warning
        "svg.hashsalt": "planner",  # deterministic ids: the same run writes the same report
    }


def _to_svg(fig: Any, *, label: str) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=".*findfont.*")
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.find("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    # scale with the page: drop the fixed size, keep the viewBox
    svg = re.sub(r'(<svg[^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    font_css = ", ".join(f"'{f}'" for f in CJK_FONTS) + ", sans-serif"
    svg = re.sub(r"font-family: [^;\"]*", lambda _m: f"font-family: {font_css}", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" class="chart" ', 1)


def coverage_chart(summary: Mapping[str, Any], lang: Lang) -> str:
    """Grouped bars: coverage before and after the plan per area class, and villages with a station.

    Parameters
    ----------
    summary
        The ``summary.json`` content (``coverage`` and ``villages``).
    lang
        Language of the labels.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    groups: list[tuple[str, float | None, float | None]] = []
    for area, cov in (summary.get("coverage") or {}).items():
        cov = cov or {}
        groups.append((i18n.area_label(str(area), lang), cov.get("before"), cov.get("after")))
    vil = summary.get("villages") or {}
    if vil.get("total"):
        total = float(vil["total"])
        groups.append(
            (
                "行政村站点" if lang == "zh" else "Village stations",
                float(vil.get("with_station_before", 0)) / total,
                float(vil.get("with_station_after", 0)) / total,
            )
        )
    title = "规划前后服务覆盖率" if lang == "zh" else "Coverage before and after the plan"
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(6.4, 3.2))
        ax = fig.subplots()
        xs = range(len(groups))
        width = 0.38
        for offset, idx, colour, name in (
            (-width / 2, 1, palette.BEFORE_COLOUR, i18n.word("before", lang)),
            (width / 2, 2, palette.AFTER_COLOUR, i18n.word("after", lang)),
        ):
            vals = [float(g[idx]) if not i18n.is_missing(g[idx]) else 0.0 for g in groups]  # type: ignore[arg-type]
            bars = ax.bar([x + offset for x in xs], vals, width, color=colour, label=name)
            for bar, v in zip(bars, vals, strict=True):
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    v + 0.015,
                    i18n.fmt_pct(v, lang),
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                )
        ax.set_xticks(list(xs), [g[0] for g in groups])
        ax.set_ylim(0, 1.15)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.0f}%"))
        ax.axhline(1.0, color="#999999", linewidth=0.8, linestyle="--")
        ax.set_title(title)
        ax.legend(frameon=False, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
        return _to_svg(fig, label=title)


def budget_chart(curve: pd.DataFrame, lang: Lang, *, chosen_budget: float | None = None) -> str:
    """The budget–coverage curve: covered share of demand against the budget, readable throughout.

    The curve is a step function (coverage rises only when one more site fits the budget), drawn
    as steps with the budget axis on the curve's own range and the coverage axis from just below
    its lowest value, so early gains are not squeezed against zero. Each step's gain in coverage
    points is written above it. The plan's cost is marked when it lies on the
    curve's range; otherwise the title says it lies beyond (other standards cost the rest).
    The numbers above the steps are the coverage points each step adds.

    Parameters
    ----------
    curve
        Columns ``budget`` (yuan) and ``covered_share`` (0..1).
    lang
        Language of the labels.
    chosen_budget
        The plan's cost.
    """
    data = curve.sort_values("budget")
    title = "投资—覆盖率曲线（服务半径标准）" if lang == "zh" else "Budget–coverage curve (service radius)"
    scale, unit = (10_000.0, "万元") if lang == "zh" else (1_000.0, "thousand yuan")
    xs = data["budget"].astype(float).to_numpy() / scale
    ys = data["covered_share"].astype(float).to_numpy()
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(6.4, 3.0))
        ax = fig.subplots()
        ax.step(xs, ys, where="post", color=palette.AFTER_COLOUR, linewidth=2)
        ax.plot(xs, ys, "o", color=palette.AFTER_COLOUR, markersize=3.5)
        for k in range(1, len(xs)):
            gain = ys[k] - ys[k - 1]
            if gain > 5e-4:
                ax.annotate(
                    f"+{gain * 100:.1f}",
                    (xs[k], ys[k]),
                    xytext=(0, 4),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color="#495057",
                )
        low = float(np.nanmin(ys)) if len(ys) else 0.0
        ax.set_ylim(max(0.0, low - max(0.02, (1 - low) * 0.15)), 1.0 + max(0.01, (1 - low) * 0.08))
        if len(xs) > 1:
            ax.set_xlim(xs[0] - (xs[-1] - xs[0]) * 0.02, xs[-1] + (xs[-1] - xs[0]) * 0.04)
        if chosen_budget is not None and not i18n.is_missing(chosen_budget):
            chosen = float(chosen_budget) / scale
            if len(xs) and chosen <= xs[-1] * 1.05:
                ax.axvline(chosen, color="#495057", linestyle=":", linewidth=1.2)
                ax.text(
                    chosen,
                    0.03,
                    " 本方案" if lang == "zh" else " this plan",
                    color="#495057",
                    fontsize=8.5,
                    transform=ax.get_xaxis_transform(),
                )
            else:
                total = i18n.fmt_yuan(chosen_budget, lang)
                title += (
                    f"\n（本方案总投资 {total}，超出本曲线范围）"
                    if lang == "zh"
                    else f"\n(the plan costs {total}, beyond this range)"
                )
        ax.set_xlabel(f"投资（{unit}）" if lang == "zh" else f"Budget ({unit})")
        ax.set_ylabel("覆盖率" if lang == "zh" else "Covered share")
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _p: f"{v * 100:.0f}%" if low < 0.9 else f"{v * 100:.1f}%")
        )
        ax.grid(axis="y", color="#e5e5e5")
        ax.set_title(title, fontsize=9.5)
        return _to_svg(fig, label=title.split("\n")[0])


def township_chart(names: Sequence[str], before: Sequence[float], after: Sequence[float], lang: Lang) -> str:
    """Horizontal bars of coverage before/after per township (for counties with many townships)."""
    title = "各乡镇人口覆盖率" if lang == "zh" else "Coverage by township"
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(6.4, 0.9 + 0.32 * len(names)))
        ax = fig.subplots()
        ys = list(range(len(names)))
        ax.barh(
            [y + 0.2 for y in ys],
            list(before),
            0.38,
            color=palette.BEFORE_COLOUR,
            label=i18n.word("before", lang),
        )
        ax.barh(
            [y - 0.2 for y in ys],
            list(after),
            0.38,
            color=palette.AFTER_COLOUR,
            label=i18n.word("after", lang),
        )
        ax.set_yticks(ys, list(names))
        ax.invert_yaxis()
        ax.set_xlim(0, 1.0)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.0f}%"))
        ax.legend(frameon=False, ncols=2, loc="lower right", bbox_to_anchor=(1, 1.0))
        ax.set_title(title, loc="left")
        return _to_svg(fig, label=title)
