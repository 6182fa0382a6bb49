"""The parts of the report a bureau hands upward: what is still unmet, what the money is for, the
documents cited, one page per township and the site list.

Each function returns plain data for ``report.html.j2`` (:class:`~planner.outputs.report.TableView`
rows of :class:`~planner.outputs.report.Cell`) and reads the run's optional figures when present:
``summary["unmet"]``, ``summary["cost_by_standard"]``, ``summary["meet"]`` and the ``standards``
column of the proposals. Without them it says what it can from the after-plan audit and the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
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
# Still unmet after the plan
# ---------------------------------------------------------------------------------------------


def _unmet_from_audit(result: RunResult) -> pd.DataFrame:
    """Failing rows of the after-plan audit below county level (when the run has no ``unmet``)."""
    after = result.audit_after
    if after is None or after.table.empty:
        return pd.DataFrame()
    t = after.table
    rows = t[(t["unit_level"].astype(str) != "county") & failing(t)]
    return rows.rename(columns={"standard_id": "standard"})


def unmet_view(result: RunResult, lang: Lang) -> tuple[Any, str]:
    """Units still failing a standard after the plan, grouped by standard, level and cause.

    Returns the table (``None`` when nothing is unmet) and a sentence saying where the rows come
    from (the run's ``unmet`` list, or the after-plan audit).
    """
    Cell, TableView = _cells()
    unmet = result.summary.get("unmet")
    from_summary = isinstance(unmet, list)
    frame = pd.DataFrame(unmet) if from_summary and unmet else _unmet_from_audit(result)
    if from_summary and not unmet:
        return None, _l("all_met", lang)
    if frame.empty:
        return None, _l("all_met", lang) if result.audit_after is not None else _l("no_after_audit", lang)
    if "cause" not in frame.columns:
        frame["cause"] = ""
    if "short_by" not in frame.columns:
        frame["short_by"] = float("nan")
    view = TableView(
        headers=[
            _l("standard", lang),
            _l("content", lang),
            i18n.column_label("unit_level", lang),
            _l("units_failing", lang),
            _l("examples", lang),
            _l("short_by", lang),
            _l("cause", lang),
        ],
        id="unmet",
        numeric=[False, False, False, True, False, True, False],
    )
    keys = [frame["standard"].astype(str), frame["unit_level"].astype(str), frame["cause"].astype(str)]
    for (sid_key, lev_key, cause), grp in frame.groupby(keys, sort=False):
        sid, lev = str(sid_key), str(lev_key)
        names = [str(n) for n in grp.get("unit_name", pd.Series(dtype=str)).head(4)]
        more = len(grp) - len(names)
        sep = "、" if lang == "zh" else ", "
        example = sep.join(names) + (_l("and_more", lang).format(n=more) if more > 0 else "")
        short = pd.to_numeric(grp["short_by"], errors="coerce")
        short_text = (
            i18n.fmt_standard_value(sid, short.sum(), lang, lev) if short.notna().any() else i18n.MISSING
        )
        view.rows.append(
            [
                Cell(sid),
                Cell(i18n.standard_label(sid, lang)),
                Cell(i18n.pick(i18n.UNIT_LEVEL_LABELS.get(lev, (lev, lev)), lang)),
                Cell(i18n.fmt_number(len(grp), lang), len(grp), f"unmet:{sid}:{lev}:{cause}:units", "num"),
                Cell(example),
                Cell(short_text, float(short.sum()) if short.notna().any() else None, None, "num"),
                Cell(i18n.cause_label(cause, lang) if cause else i18n.MISSING),
            ]
        )
    source = _l("unmet_from_summary" if from_summary else "unmet_from_audit", lang)
    return view, source


# ---------------------------------------------------------------------------------------------
# What the money is for
# ---------------------------------------------------------------------------------------------


def cost_view(result: RunResult, lang: Lang) -> Any:
    """What each standard adds to the plan's cost (``summary["cost_by_standard"]``), or ``None``."""
    Cell, TableView = _cells()
    by = result.summary.get("cost_by_standard")
    if not isinstance(by, Mapping) or not by:
        return None
    total = sum(float(v) for v in by.values() if not i18n.is_missing(v))
    view = TableView(
        headers=[_l("standard", lang), _l("content", lang), _l("cost", lang), _l("share_of_cost", lang)],
        id="cost-by-standard",
        numeric=[False, False, True, True],
    )
    for sid, yuan in sorted(by.items(), key=lambda kv: -float(kv[1] or 0)):
        value = float(yuan or 0)
        view.rows.append(
            [
                Cell(str(sid)),
                Cell(i18n.standard_label(str(sid), lang)),
                Cell(i18n.fmt_yuan(value, lang), value, f"cost_by_standard:{sid}", "num"),
                Cell(i18n.fmt_pct(value / total if total else None, lang), None, None, "num"),
            ]
        )
    view.foot = [
        Cell(i18n.word("total", lang)),
        Cell(""),
        Cell(i18n.fmt_yuan(total, lang), total, "cost_by_standard:total", "num"),
        Cell(""),
    ]
    return view


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
        label = i18n.standard_label(sid, lang)
        lev = str(grp["unit_level"].iloc[0])
        if lev == "township":
            r = grp.iloc[0]
            lines.append(
                _l("town_fail", lang).format(
                    sid=sid,
                    label=label,
                    value=i18n.fmt_standard_value(sid, r["value"], lang, lev),
                    target=i18n.fmt_standard_value(sid, r["target"], lang, lev),
                )
            )
        else:
            sep = "、" if lang == "zh" else ", "
            names = sep.join(str(n) for n in grp["unit_name"].head(3))
            lines.append(_l("town_fail_units", lang).format(sid=sid, label=label, n=len(grp), names=names))
    return lines


def township_pages(result: RunResult, lang: Lang, *, maps: bool = True) -> list[TownshipPage]:
    """A page (half an A4 sheet) per township with its own small map."""
    table = result.township_table
    if table.empty or "township_code" not in table.columns:
        return []
    sites = site_list(result)
    pages = []
    for _, row in table.iterrows():
        code, name = str(row["township_code"]), str(row.get("township_name", ""))
        page = TownshipPage(code, name, staticmap.township_map(result, code, lang) if maps else None)
        page.facts.append(
            (i18n.column_label("population", lang), i18n.fmt_count(row.get("population"), lang))
        )
        before, after = row.get("coverage_before"), row.get("coverage_after")
        page.facts.append(
            (_l("coverage_word", lang), f"{i18n.fmt_pct(before, lang)} → {i18n.fmt_pct(after, lang)}")
        )
        if "villages" in row and not i18n.is_missing(row["villages"]) and int(row["villages"]):
            vb = row.get("villages_with_station_before", row.get("with_station_before"))
            va = row.get("villages_with_station_after", row.get("with_station_after"))
            page.facts.append(
                (
                    _l("stations", lang),
                    f"{i18n.fmt_number(vb, lang)} → {i18n.fmt_number(va, lang)}"
                    f" / {i18n.fmt_number(row['villages'], lang)}",
                )
            )
        page.facts.append((_l("cost", lang), i18n.fmt_yuan(row.get("proposed_cost", 0.0), lang)))
        mine = sites[sites["township_name"].astype(str) == name]
        if len(mine):
            counts = mine.groupby("type", sort=False)["units"].sum()
            sep = "、" if lang == "zh" else ", "
            parts = [f"{i18n.facility_label(str(t), lang)} {int(n)}" for t, n in counts.items()]
            page.plan_text = _l("town_plan", lang).format(sites=len(mine), parts=sep.join(parts))
        else:
            page.plan_text = _l("town_no_plan", lang)
        page.unmet = _failing_after(result, code, lang)
        pages.append(page)
    return pages
