"""The report's first part on the standards: met and still unmet, what is not set, what it costs.

Everything here reads the audit's judged rows (:func:`planner.audit.failing`, roles ``standard`` and
``summary``) before and after the plan, ``summary["unmet"]`` with its causes and
``summary["cost_by_standard"]``. An audit table without a ``role`` column (an older run) has every
county row judged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from planner.audit import failing
from planner.audit.explain import base_id, note_zh
from planner.outputs import files, i18n, sources
from planner.outputs.i18n import Lang
from planner.outputs.report_labels import REPORT_LABELS
from planner.outputs.tableview import Cell, TableView
from planner.types import RunResult

#: Roles of the rows a plan must meet (the table's rows); the others are listed compactly.
_JUDGED: Final = ("standard", "summary")
_MARK: Final = "†"


def _l(key: str, lang: Lang) -> str:
    return i18n.pick(REPORT_LABELS[key], lang)


def _sep(lang: Lang) -> str:
    return "；" if lang == "zh" else "; "


def _list_sep(lang: Lang) -> str:
    return "、" if lang == "zh" else ", "


def standard_name(result: RunResult, standard_id: str, lang: Lang) -> str:
    """The short name of a standard: the label, or a countable target's title from the profile."""
    if standard_id.startswith("C-"):
        return sources.count_title(standard_id, result.summary, lang) or standard_id
    return i18n.standard_label(standard_id, lang) or standard_id


def citation(result: RunResult, standard_id: str, row: Any = None) -> str:
    """The clause a standard comes from: the audit row's own ``citation`` if it has one, else
    ``result.citations`` for the id or its base id (``V-ALL-2021`` -> ``V-ALL``)."""
    if row is not None:
        text = row.get("citation")
        if isinstance(text, str) and text.strip():
            return text
    base = i18n.base_standard(standard_id, result.citations)
    return result.citations[base] if base else i18n.MISSING


def _roles(table: pd.DataFrame) -> pd.Series:
    if "role" in table.columns:
        return table["role"].astype(str)
    return pd.Series("standard", index=table.index)


def county_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The county rows of an audit table."""
    return table[table["unit_level"].astype(str) == "county"]


def pass_cell(passed: Any, lang: Lang, key: str) -> Cell:
    """✔ 达标 / ✘ 未达标, or "—" (an undecided row: no data to judge it)."""
    if i18n.is_missing(passed):
        return Cell(i18n.MISSING, None, key)
    ok = bool(passed)
    return Cell(
        ("✔ " if ok else "✘ ") + i18n.word("pass" if ok else "fail", lang), ok, key, "pass" if ok else "fail"
    )


def _value(sid: str, value: Any, lang: Lang, key: str, role: Any = None) -> Cell:
    return Cell(i18n.fmt_standard_value(sid, value, lang, "county", role), value, key, "num")


_UNITS: Final[dict[str, tuple[str, str]]] = {
    "communities": ("社区", "communities"),
    "townships": ("乡镇", "townships"),
    "villages": ("行政村", "villages"),
}


def summary_counts(row: Any) -> tuple[int, int, str] | None:
    """A summary row's units meeting the standard, its units, and their kind (from its note)."""
    if str(row.get("role", "")) != "summary":
        return None
    found = re.search(
        r"(\d+) of (\d+) (communities|townships|villages) meet the standard", str(row.get("note"))
    )
    return (int(found.group(1)), int(found.group(2)), found.group(3)) if found else None


def _count_cell(row: Any, key: str) -> Cell | None:
    """``5 / 19`` for a summary row (units meeting / units), its share as the raw value."""
    counts = summary_counts(row)
    if counts is None:
        return None
    return Cell(f"{counts[0]} / {counts[1]}", row["value"], key, "num")


def standards_table(result: RunResult, lang: Lang) -> TableView:
    """The judged county rows: value and result before and after the plan, whether the plan must meet
    it, and the clause. A standard inherited from the profile this one extends is marked †."""
    files.audit_frame(result)  # checks the contract columns
    audit = result.audit.table
    county = county_rows(audit)
    county = county[_roles(county).isin(_JUDGED).to_numpy()]
    after: dict[tuple[str, str], pd.Series] = {}
    if result.audit_after is not None and not result.audit_after.table.empty:
        at = result.audit_after.table
        after = {(str(r["standard_id"]), str(r["unit_code"])): r for _, r in at.iterrows()}
    meet = result.summary.get("meet")
    meet_ids = {str(m) for m in meet} if isinstance(meet, list) else None
    headers = [_l(k, lang) for k in ("standard", "content", "value", "target", "result")]
    headers += [_l("after_value", lang), _l("after_result", lang)] if after else []
    headers += [_l("meet", lang)] if meet_ids is not None else []
    headers.append(_l("citation", lang))
    view = TableView(headers=headers, id="standards")
    view.numeric = (
        [False, False, True, True, False]
        + ([True, False] if after else [])
        + ([False] if meet_ids is not None else [])
        + [False]
    )
    for _, r in county.iterrows():
        sid, code = str(r["standard_id"]), str(r["unit_code"])
        key = f"audit:{sid}:{code}"
        mark = f" {_MARK}" if sources.is_inherited(r.get("source"), result.summary) else ""
        counts = summary_counts(r)
        name = standard_name(result, sid, lang)
        if counts is not None:
            name += _l("summary_hint", lang).format(units=i18n.pick(_UNITS[counts[2]], lang))
        row = [
            Cell(sid + mark, sid, f"{key}:standard_id", "id"),
            Cell(name),
            _count_cell(r, f"{key}:value") or _value(sid, r["value"], lang, f"{key}:value", r.get("role")),
            Cell(f"{counts[1]} / {counts[1]}", r["target"], f"{key}:target", "num")
            if counts is not None
            else _value(sid, r["target"], lang, f"{key}:target", r.get("role")),
            pass_cell(r["passed"], lang, f"{key}:passed"),
        ]
        if after:
            ar = after.get((sid, code))
            row += (
                [_count_cell(ar, f"after:{sid}:{code}:value")
                 or _value(sid, ar["value"], lang, f"after:{sid}:{code}:value", ar.get("role")),
                 pass_cell(ar["passed"], lang, f"after:{sid}:{code}:passed")]
                if ar is not None
                else [Cell(i18n.MISSING), Cell(i18n.MISSING)]
            )  # fmt: skip
        if meet_ids is not None:
            planned = base_id(sid) in meet_ids
            row.append(Cell("●" if planned else "", planned, f"meet:{sid}:{code}"))
        row.append(Cell(citation(result, sid, r)))
        view.rows.append(row)
    return view


@dataclass
class StandardNotes:
    """What the standards table leaves out, in a few lines: reference figures and other target
    years, standards the data cannot judge, standards the document does not set, inherited ones."""

    reference: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    not_set: list[str] = field(default_factory=list)
    inherited: str = ""


def _figure(sid: str, value: Any, lang: Lang, role: Any = None) -> str:
    return i18n.fmt_standard_value(sid, value, lang, "county", role)


def standard_notes(result: RunResult, lang: Lang) -> StandardNotes:
    """The compact lines under the standards table (empty lists when the table has no roles)."""
    out = StandardNotes()
    table = result.audit.table
    if "role" not in table.columns:
        return out
    county = county_rows(table)
    roles = _roles(county)
    after = county_rows(result.audit_after.table) if result.audit_after is not None else county.iloc[0:0]
    after_by = {str(r["standard_id"]): r for _, r in after.iterrows()}
    for _, r in county[roles.isin(["info", "year"]).to_numpy()].iterrows():
        sid = str(r["standard_id"])
        ar = after_by.get(sid)
        text = f"{sid} {standard_name(result, sid, lang)} {_figure(sid, r['value'], lang)}"
        if ar is not None:
            text += f" → {_figure(sid, ar['value'], lang)}"
        text += ("（目标 " if lang == "zh" else " (target ") + _figure(sid, r["target"], lang)
        text += "）" if lang == "zh" else ")"
        out.reference.append(text)
    undecided = county[roles.isin(_JUDGED).to_numpy() & county["passed"].isna().to_numpy()]
    for _, r in undecided.iterrows():
        sid = str(r["standard_id"])
        note = note_zh(r.get("note")) if lang == "zh" else str(r.get("note") or "")
        note = note.removeprefix("现有数据无法核查：").removeprefix("cannot be audited from these data: ")
        out.undecided.append(f"{sid} {standard_name(result, sid, lang)}（{note}）" if lang == "zh"
                             else f"{sid} {standard_name(result, sid, lang)} ({note})")  # fmt: skip
    for _, r in county[(roles == "not_set").to_numpy()].iterrows():
        sid = str(r["standard_id"])
        out.not_set.append(f"{sid} {standard_name(result, sid, lang)}")
    inherited = {str(s) for s in county.get("source", pd.Series(dtype=str))
                 if sources.is_inherited(s, result.summary)}  # fmt: skip
    if inherited:
        titles = _list_sep(lang).join(
            sources.source_title(s, result.summary, lang) for s in sorted(inherited)
        )
        out.inherited = _l("inherited_note", lang).format(mark=_MARK, titles=titles)
    return out


# ---------------------------------------------------------------------------------------------
# Still unmet after the plan
# ---------------------------------------------------------------------------------------------


def _unmet_frame(result: RunResult) -> tuple[pd.DataFrame, bool]:
    """The units still failing after the plan (``summary["unmet"]``, else the after-plan audit's
    judged failing rows below the county), and whether they come from the summary."""
    unmet = result.summary.get("unmet")
    if isinstance(unmet, list):
        return pd.DataFrame(unmet), True
    after = result.audit_after
    if after is None or after.table.empty:
        return pd.DataFrame(), False
    t = after.table
    rows = t[(t["unit_level"].astype(str) != "county") & failing(t)]
    return rows.rename(columns={"standard_id": "standard"}), False


def row_roles(frame: pd.DataFrame, result: RunResult) -> list[str]:
    """The after-plan audit's role of each row of an unmet list (``standard`` when unknown)."""
    after = result.audit_after
    if after is None or "role" not in after.table.columns or frame.empty:
        return ["standard"] * len(frame)
    t = after.table
    role = {
        (str(s), str(c)): str(r) for s, c, r in zip(t["standard_id"], t["unit_code"], t["role"], strict=True)
    }
    sids = frame["standard"] if "standard" in frame.columns else frame["standard_id"]
    return [role.get((str(s), str(c)), "standard") for s, c in zip(sids, frame["unit_code"], strict=True)]


def standard_unit_rows(frame: pd.DataFrame, result: RunResult) -> pd.DataFrame:
    """The rows of the unit each standard is measured over (role ``standard``): a township or county
    summary repeats its communities and is left out, unless a standard has no other rows."""
    if frame.empty:
        return frame
    own = pd.Series([r == "standard" for r in row_roles(frame, result)], index=frame.index)
    sids = (frame["standard"] if "standard" in frame.columns else frame["standard_id"]).astype(str)
    has_own = own.groupby(sids).transform("any")
    return frame[own | ~has_own]


def _units_of(result: RunResult, sid: str, level: str) -> int | None:
    """How many units of ``level`` the after-plan audit judges ``sid`` over."""
    after = result.audit_after
    if after is None or after.table.empty:
        return None
    t = after.table
    mask = (t["standard_id"].astype(str) == sid) & (t["unit_level"].astype(str) == level)
    if "role" in t.columns:
        mask &= t["role"].astype(str) == "standard"
    return int(mask.sum()) or None


def _short_text(sid: str, short: pd.Series, lang: Lang) -> str:
    if not short.notna().any():
        return i18n.MISSING
    total = float(short.sum())
    if i18n.standard_kind(sid) == "pct" and total <= 1.0:
        return i18n.fmt_pct(total, lang)
    return i18n.fmt_number(total, lang, decimals=0 if total == round(total) else 2)


def unmet_view(result: RunResult, lang: Lang) -> tuple[TableView | None, str]:
    """Units still failing a standard after the plan, one row per standard, unit level and cause:
    how many of the units fail, examples, what is still short and why (in words).

    Returns the table (``None`` when nothing is unmet) and a sentence saying where the rows come from.
    """
    frame, from_summary = _unmet_frame(result)
    if from_summary and frame.empty:
        return None, _l("all_met", lang)
    if frame.empty:
        return None, _l("all_met", lang) if result.audit_after is not None else _l("no_after_audit", lang)
    frame = standard_unit_rows(frame, result)
    frame = frame.assign(
        cause=frame["cause"].fillna("").astype(str) if "cause" in frame.columns else "",
        short_by=frame["short_by"] if "short_by" in frame.columns else float("nan"),
    )
    view = TableView(
        headers=[_l(k, lang) for k in ("standard", "content")]
        + [i18n.column_label("unit_level", lang)]
        + [_l(k, lang) for k in ("units_failing", "examples", "short_by", "cause")],
        id="unmet",
        numeric=[False, False, False, True, False, True, False],
    )
    keys = [frame["standard"].astype(str), frame["unit_level"].astype(str), frame["cause"]]
    for (sid_key, lev_key, cause), grp in frame.groupby(keys, sort=False):
        sid, lev = str(sid_key), str(lev_key)
        names = [str(n) for n in grp.get("unit_name", pd.Series(dtype=str)).head(4)]
        more = len(grp) - len(names)
        example = _list_sep(lang).join(names) + (_l("and_more", lang).format(n=more) if more > 0 else "")
        short = pd.to_numeric(grp["short_by"], errors="coerce")
        of = _units_of(result, sid, lev)
        view.rows.append(
            [
                Cell(sid, None, None, "id"),
                Cell(standard_name(result, sid, lang)),
                Cell(i18n.pick(i18n.UNIT_LEVEL_LABELS.get(lev, (lev, lev)), lang)),
                Cell(
                    f"{len(grp)} / {of}" if of else i18n.fmt_number(len(grp), lang),
                    len(grp),
                    f"unmet:{sid}:{lev}:{cause}:units",
                    "num",
                ),
                Cell(example),
                Cell(
                    _short_text(sid, short, lang),
                    float(short.sum()) if short.notna().any() else None,
                    None,
                    "num",
                ),
                Cell(i18n.cause_label(cause, lang) or i18n.MISSING),
            ]
        )
    return view, _l("unmet_from_summary" if from_summary else "unmet_from_audit", lang)


# ---------------------------------------------------------------------------------------------
# What the money is for
# ---------------------------------------------------------------------------------------------


def plan_cost(result: RunResult) -> float:
    """The plan's total cost (the proposals' costs)."""
    if "cost" in result.proposals.columns and len(result.proposals):
        return float(pd.to_numeric(result.proposals["cost"], errors="coerce").fillna(0).sum())
    return 0.0


def cost_view(result: RunResult, lang: Lang) -> TableView | None:
    """What each standard adds to the plan's cost (``summary["cost_by_standard"]``: the plan's cost
    less the cost of a plan without that standard), the part several standards share, and the total.

    Standards that add nothing share one row. ``None`` when the run gives no cost by standard.
    """
    by = result.summary.get("cost_by_standard")
    if not isinstance(by, Mapping) or not by:
        return None
    costs = {str(k): float(v or 0) for k, v in by.items() if not i18n.is_missing(v)}
    total = plan_cost(result)
    view = TableView(
        headers=[_l(k, lang) for k in ("standard", "content", "cost", "share_of_cost")],
        id="cost-by-standard",
        numeric=[False, False, True, True],
    )

    def share(value: float) -> Cell:
        return Cell(i18n.fmt_pct(value / total if total else None, lang), None, None, "num")

    for sid, value in sorted(costs.items(), key=lambda kv: -kv[1]):
        if value > 0:
            view.rows.append(
                [
                    Cell(sid, None, None, "id"),
                    Cell(standard_name(result, sid, lang)),
                    Cell(i18n.fmt_yuan(value, lang), value, f"cost_by_standard:{sid}", "num"),
                    share(value),
                ]
            )
    free = [sid for sid, value in costs.items() if value <= 0]
    if free:
        view.rows.append(
            [
                Cell(_list_sep(lang).join(free)),
                Cell(_l("cost_free", lang)),
                Cell(i18n.fmt_yuan(0.0, lang), 0.0, "cost_by_standard:free", "num"),
                share(0.0),
            ]
        )
    shared = total - sum(costs.values())
    if shared > 0.5:
        view.rows.append(
            [
                Cell(""),
                Cell(_l("cost_shared", lang)),
                Cell(i18n.fmt_yuan(shared, lang), shared, "cost_by_standard:shared", "num"),
                share(shared),
            ]
        )
    view.foot = [
        Cell(i18n.word("total", lang)),
        Cell(_l("cost_total_note", lang) if shared < -0.5 else ""),
        Cell(i18n.fmt_yuan(total, lang), total, "cost_by_standard:total", "num"),
        share(total),
    ]
    return view


def site_standards(ids: Any, lang: Lang) -> str:
    """A site's standards for the site list (``max_coverage``: the budget plan, in words)."""
    return i18n.standards_text(ids, lang)
