"""The parts of the report a bureau hands upward: what is still unmet, what the money is for, the
documents cited, one page per township and the site list.

Each function returns plain data for ``report.html.j2`` (:class:`~planner.outputs.report.TableView`
rows of :class:`~planner.outputs.report.Cell`) and reads the run's optional figures when present:
``summary["unmet"]``, ``summary["cost_by_standard"]``, ``summary["meet"]`` and the ``standards``
column of the proposals. Without them it says what it can from the after-plan audit and the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from planner.audit import failing
from planner.outputs import files, i18n, sources, staticmap
from planner.outputs.i18n import Lang
from planner.outputs.report_labels import REPORT_LABELS
from planner.outputs.tableview import Cell, TableView
from planner.types import RunResult

_COMMUNITY_LEVELS: Final = ("village", "community")


def _l(key: str, lang: Lang) -> str:
    return i18n.pick(REPORT_LABELS[key], lang)


def _cells() -> Any:
    return Cell, TableView


# ---------------------------------------------------------------------------------------------
# Documents cited
# ---------------------------------------------------------------------------------------------


def cited_documents(result: RunResult, lang: Lang) -> list[str]:
    """One line per document the standards cite: number — issuer《title》, in citation order."""
    docs = sources.documents(result.summary)
    seen: dict[str, str] = {}
    for cite in result.citations.values():
        doc, _ = sources.split_citation(str(cite), docs)
        if doc is not None and doc.number not in seen:
            seen[doc.number] = doc.full(lang)
    return list(seen.values())


# ---------------------------------------------------------------------------------------------
# The budget curve
# ---------------------------------------------------------------------------------------------


def curve_note(result: RunResult, lang: Lang) -> str | None:
    """Why the budget curve ends far below the plan's cost, when it does (one sentence)."""
    curve = result.extra_tables.get("budget_curve")
    if not isinstance(curve, pd.DataFrame) or curve.empty or "budget" not in curve.columns:
        return None
    full = curve[
        pd.to_numeric(curve["covered_share"], errors="coerce") >= curve["covered_share"].max() - 1e-9
    ]
    reach = float(pd.to_numeric(full.get("cost_new", full["budget"]), errors="coerce").min())
    total = float(pd.to_numeric(result.proposals.get("cost", pd.Series(dtype=float)), errors="coerce").sum())
    if total <= reach * 1.05:
        return None
    return _l("curve_note", lang).format(
        reach=i18n.fmt_yuan(reach, lang),
        share=i18n.fmt_pct(full["covered_share"].max(), lang),
        total=i18n.fmt_yuan(total, lang),
    )


# ---------------------------------------------------------------------------------------------
# Sites and townships
# ---------------------------------------------------------------------------------------------


def site_list(result: RunResult) -> pd.DataFrame:
    """One row per proposed site: units at the site, cost, population gained, and the standards the
    site is there for (when the proposals carry a ``standards`` column)."""
    plan = files.proposals_frame(result)
    site = plan["id"].astype(str).str.split("#").str[0] if len(plan) else pd.Series(dtype=str)
    extra = result.proposals
    cols = ["id", "township_name", "type"]
    work = plan.assign(id=site, units=1)
    agg: dict[str, Any] = {
        "units": ("units", "sum"),
        "cost": ("cost", "sum"),
        "population_gained": ("population_gained", "sum"),
    }
    if "standards" in extra.columns and len(extra) == len(plan):
        work["standards"] = extra["standards"].fillna("").astype(str).to_numpy()
        agg["standards"] = (
            "standards",
            lambda s: ";".join(sorted({p for v in s for p in str(v).split(";") if p})),
        )
    grouped = work.groupby(cols, sort=False, as_index=False).agg(**agg)
    return grouped


@dataclass
class TownshipPage:
    """One township's page: its figures, map, plan and what stays unmet."""

    code: str
    name: str
    map_png: str | None
    facts: list[tuple[str, str]] = field(default_factory=list)
    plan_text: str = ""
    unmet: list[str] = field(default_factory=list)


def _failing_after(result: RunResult, code: str, lang: Lang) -> list[str]:
    after = result.audit_after
    if after is None or after.table.empty:
        return []
    t = after.table
    codes = t["unit_code"].astype(str)
    mine = t[(codes == code) | (codes.str.startswith(code) & t["unit_level"].isin(_COMMUNITY_LEVELS))]
    bad = mine[failing(mine)]
    lines = []
    for sid, grp in bad.groupby(bad["standard_id"].astype(str), sort=False):
        if "role" in grp.columns and (grp["role"].astype(str) == "standard").any():
            grp = grp[grp["role"].astype(str) == "standard"]  # the township total repeats its units
        label = i18n.standard_label(sid, lang)
        lev = str(grp["unit_level"].iloc[0])
        if lev == "township" or (len(grp) == 1 and lev == "county"):
            r = grp.iloc[0]
            lines.append(
                _l("town_fail", lang).format(
                    sid=sid,
                    label=label,
                    value=i18n.fmt_standard_value(sid, r["value"], lang, lev, r.get("role")),
                    target=i18n.fmt_standard_value(sid, r["target"], lang, lev, r.get("role")),
                )
            )
        else:
            sep = "、" if lang == "zh" else ", "
            names = sep.join(str(n) for n in grp["unit_name"].head(3))
            names += _l("and_more", lang).format(n=len(grp) - 3) if len(grp) > 3 else ""
            level = i18n.pick(i18n.UNIT_LEVEL_LABELS.get(lev, (lev, lev)), lang)
            lines.append(
                _l("town_fail_units", lang).format(
                    sid=sid,
                    label=label,
                    n=len(grp),
                    names=names,
                    level=level if lang == "zh" else level.lower(),
                )
            )
    return lines


def _village_facts(row: pd.Series, lang: Lang) -> list[tuple[str, str]]:
    """Villages with their own station, and served (own or shared), before → after / all."""
    n = row.get("villages")
    if n is None or i18n.is_missing(n) or not int(n):
        return []

    def change(before: Any, after: Any) -> str:
        return (
            f"{i18n.fmt_number(before, lang)} → {i18n.fmt_number(after, lang)} / {i18n.fmt_number(n, lang)}"
        )

    facts = []
    if "villages_own_station_before" in row:
        facts.append(
            (
                _l("own_stations", lang),
                change(row["villages_own_station_before"], row["villages_own_station_after"]),
            )
        )
    vb = row.get("villages_with_station_before", row.get("with_station_before"))
    va = row.get("villages_with_station_after", row.get("with_station_after"))
    label = "stations_shared" if "villages_own_station_before" in row else "stations"
    facts.append((_l(label, lang), change(vb, va)))
    return facts


def _plan_text(mine: pd.DataFrame, lang: Lang) -> str:
    """The township's new sites by facility type, and the standards they are for (units per standard)."""
    if not len(mine):
        return _l("town_no_plan", lang)
    sep = "、" if lang == "zh" else ", "
    counts = mine.groupby("type", sort=False)["units"].sum()
    parts = [f"{i18n.facility_label(str(t), lang)} {int(n)}" for t, n in counts.items()]
    text = _l("town_plan", lang).format(sites=len(mine), parts=sep.join(parts))
    if "standards" in mine.columns:
        per: dict[str, int] = {}
        for ids, units in zip(mine["standards"], mine["units"], strict=True):
            for sid in str(ids).split(";"):
                if sid:
                    per[sid] = per.get(sid, 0) + int(units)
        if per:
            listed = sep.join(
                f"{i18n.standards_text(k, lang)} {v}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])
            )
            text += _l("town_for", lang).format(parts=listed)
    return text


def township_pages(result: RunResult, lang: Lang, *, maps: bool = True) -> list[TownshipPage]:
    """A page (half an A4 sheet) per township with its own small map."""
    table = result.township_table
    if table.empty or "township_code" not in table.columns:
        return []
    sites = site_list(result)
    data = staticmap.MapData.of(result) if maps else None  # read once for every township's map
    pages = []
    for _, row in table.iterrows():
        code, name = str(row["township_code"]), str(row.get("township_name", ""))
        picture = staticmap.township_map(result, code, lang, data=data) if maps else None
        page = TownshipPage(code, name, picture)
        page.facts.append(
            (i18n.column_label("population", lang), i18n.fmt_count(row.get("population"), lang))
        )
        before, after = row.get("coverage_before"), row.get("coverage_after")
        page.facts.append(
            (_l("coverage_word", lang), f"{i18n.fmt_pct(before, lang)} → {i18n.fmt_pct(after, lang)}")
        )
        page.facts += _village_facts(row, lang)
        page.facts.append((_l("cost", lang), i18n.fmt_yuan(row.get("proposed_cost", 0.0), lang)))
        page.plan_text = _plan_text(sites[sites["township_name"].astype(str) == name], lang)
        page.unmet = _failing_after(result, code, lang)
        pages.append(page)
    return pages
