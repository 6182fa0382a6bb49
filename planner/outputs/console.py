"""The terminal's table of headline figures (rich), printed by the CLI at the end of a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.markup import escape
from rich.table import Table

from planner.outputs import i18n
from planner.outputs.i18n import Lang


def headline_table(summary: Mapping[str, Any], *, lang: Lang = "zh") -> Table:
    """A rich table of the run's headline figures from ``summary.json`` content.

    Parameters
    ----------
    summary
        The summary dict (contract keys: population_total, coverage, villages, proposals, solver).
    lang
        Language of the labels.

    Returns
    -------
    rich.table.Table
        Rows: population, coverage before → after per area class (a class held to no standard marked
        as information), villages with their own station and served (own or shared), proposals per
        facility type, the cost, the standards still unmet after the plan and why, the solver.
    """
    zh = lang == "zh"
    table = Table(title="主要指标" if zh else "Headline figures", show_lines=False)
    table.add_column("指标" if zh else "Figure", style="bold")
    table.add_column(i18n.word("before", lang), justify="right")
    table.add_column(i18n.word("after", lang), justify="right")

    table.add_row("总人口" if zh else "Population", i18n.fmt_count(summary.get("population_total"), lang), "")
    for area, cov in (summary.get("coverage") or {}).items():
        cov = cov or {}
        label = f"{i18n.area_label(str(area), lang)}{'覆盖率' if zh else ' coverage'}"
        if cov.get("information"):
            label += "（参考）" if zh else " (for information)"
        before, after = cov.get("before"), cov.get("after")
        style = (
            "green" if after is not None and not i18n.is_missing(after) and float(after) >= 1.0 else "yellow"
        )
        table.add_row(label, i18n.fmt_pct(before, lang), f"[{style}]{i18n.fmt_pct(after, lang)}[/{style}]")
    vil = summary.get("villages") or {}
    if vil:
        total = vil.get("total")
        rows = [("own_station", "本村有站的行政村", "Villages with their own station")] * (
            "own_station_before" in vil
        )
        rows.append(("with_station", "有站点服务的行政村（含共享）", "Villages served (own or shared)"))
        for key, zh_label, en_label in rows:
            table.add_row(
                zh_label if zh else en_label,
                f"{i18n.fmt_number(vil.get(key + '_before'), lang)} / {i18n.fmt_number(total, lang)}",
                f"{i18n.fmt_number(vil.get(key + '_after'), lang)} / {i18n.fmt_number(total, lang)}",
            )
    for ftype, count in (summary.get("proposals") or {}).items():
        label = f"{'新增' if zh else 'New: '}{i18n.facility_label(str(ftype), lang)}"
        table.add_row(label, "", i18n.fmt_number(count, lang))
    cost = summary.get("cost_total")
    if cost is not None and not i18n.is_missing(cost):
        table.add_row("规划总投资" if zh else "Total cost", "", i18n.fmt_yuan(cost, lang))
    unmet = summary.get("unmet")
    if isinstance(unmet, list):
        table.add_row("规划后仍未达标" if zh else "Still unmet after the plan", "", _unmet_text(unmet, lang))
    solver = summary.get("solver") or {}
    if solver:
        gap = solver.get("mip_gap")
        text = f"{solver.get('name', '')} {i18n.status_label(solver.get('status', ''), lang)}".strip()
        if not i18n.is_missing(gap):
            text += f"{'，间隙' if zh else ', gap'} {i18n.fmt_pct(gap, lang, decimals=2)}"
        table.add_row("求解器" if zh else "Solver", "", text)
    return table


def _unmet_text(unmet: list[Any], lang: Lang) -> str:
    """The standards still unmet after the plan and why, in a few words (``无`` when none)."""
    if not unmet:
        return "[green]无[/green]" if lang == "zh" else "[green]none[/green]"
    causes: dict[str, set[str]] = {}
    for item in unmet:
        causes.setdefault(str(item.get("standard", "")), set()).add(i18n.cause_label(item.get("cause"), lang))
    sep = "\n"
    parts = [
        f"{sid}（{'、'.join(sorted(c - {''}))}）"
        if lang == "zh"
        else f"{sid} ({', '.join(sorted(c - {''}))})"
        for sid, c in causes.items()
    ]
    return "[yellow]" + escape(sep.join(parts)) + "[/yellow]"
