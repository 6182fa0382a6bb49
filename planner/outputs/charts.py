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
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from planner.outputs import i18n, palette
from planner.outputs.i18n import Lang

CJK_FONTS: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Noto Sans CJK JP",
)


def _font_family() -> list[str]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    present = [f for f in CJK_FONTS if f in installed]
    return [*present, "DejaVu Sans", "sans-serif"]


def _rc() -> Any:  # a dict of rcParams (typed loosely: matplotlib types keys as literals)
    return {
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": _font_family(),
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#888888",
        "axes.titleweight": "bold",
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
    """The budget–coverage curve: covered share of demand against the budget.

    Parameters
    ----------
    curve
        Columns ``budget`` (yuan) and ``covered_share`` (0..1).
    lang
        Language of the labels.
    chosen_budget
        The plan's cost, marked on the curve when given.
    """
    data = curve.sort_values("budget")
    title = "投资—覆盖率曲线" if lang == "zh" else "Budget–coverage curve"
    scale, unit = (10_000.0, "万元") if lang == "zh" else (1_000.0, "thousand yuan")
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(6.4, 3.0))
        ax = fig.subplots()
        xs = data["budget"].astype(float) / scale
        ys = data["covered_share"].astype(float)
        ax.plot(xs, ys, marker="o", color=palette.AFTER_COLOUR, linewidth=2, markersize=4)
        if chosen_budget is not None and not i18n.is_missing(chosen_budget):
            ax.axvline(
                float(chosen_budget) / scale,
                color=palette.FACILITY_COLOURS["park"],
                linestyle=":",
                linewidth=1.2,
            )
            ax.text(
                float(chosen_budget) / scale,
                0.02,
                " 本方案" if lang == "zh" else " this plan",
                color=palette.FACILITY_COLOURS["park"],
                fontsize=8.5,
                transform=ax.get_xaxis_transform(),
            )
        ax.set_xlabel(
            f"{'投资' if lang == 'zh' else 'Budget'}（{unit}）" if lang == "zh" else f"Budget ({unit})"
        )
        ax.set_ylabel("覆盖率" if lang == "zh" else "Covered share")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.0f}%"))
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", color="#e5e5e5")
        ax.set_title(title)
        return _to_svg(fig, label=title)


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
