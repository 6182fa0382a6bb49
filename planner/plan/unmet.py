"""What the plan leaves unmet, and why: every failing unit of a standard in ``plan.meet``.

After the plan the same audit runs on existing + proposed facilities (``audit_after``). Every row of
a standard in ``meet`` that is judged (``role`` standard or summary) and fails is listed with its
cause:

``unreachable``
    the people are farther than ``travel.max_snap_m`` from every road the standard's mode uses;
``no_candidate``
    no existing or candidate site of a type that meets the standard reaches the unit (or the unit has
    fewer candidate sites than it needs);
``no_coordinates``
    the villages cannot be placed (the register gives no coordinates);
``budget``
    the money runs out (``objective: max_coverage``);
``not_placeable``
    the scenario does not place the facility type that meets the standard (``place: false`` or no
    cost entry);
``solver_limit``
    the solver stopped at its time limit before meeting it;
``unexplained``
    none of these: a planner bug (tests fail on it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.audit import JUDGED_ROLES
from planner.plan.outcome import PlacementOutcome
from planner.standards import CATALOGUE, definition

__all__ = ["CAUSES", "PlanFacts", "unmet_rows"]

CAUSES: Final = (
    "unreachable",
    "no_candidate",
    "no_coordinates",
    "budget",
    "not_placeable",
    "solver_limit",
    "unexplained",
)


@dataclass(frozen=True)
class PlanFacts:
    """What the plan knows about why a unit stays short."""

    demand: gpd.GeoDataFrame
    outcomes: Sequence[PlacementOutcome]
    placeable: frozenset[str]
    objective: str
    unlocated_villages: int
    budget_bound: bool = False
    township_of_village: dict[str, str] | None = None


def _radius_cause(row: pd.Series, facts: PlanFacts, uncoverable: np.ndarray) -> tuple[str, dict[str, float]]:
    demand = facts.demand
    area = "urban" if row["standard_id"] == "R-URBAN" else "township"
    level, code = row["unit_level"], str(row["unit_code"])
    key = {"county": None, "township": "township_code"}.get(level, "village_code")
    sel = (demand["area_class"].astype(str) == area).to_numpy() & ~demand["covered"].fillna(False).to_numpy(
        dtype=bool
    )
    if key is not None:
        sel &= (demand[key].astype(str) == code).to_numpy()
    people = demand["population"].to_numpy(dtype=float)
    unreachable = sel & ~demand["reachable"].fillna(False).to_numpy(dtype=bool)
    no_site = sel & uncoverable & ~unreachable
    rest = sel & ~unreachable & ~no_site
    causes = {
        "unreachable": float(people[unreachable].sum()),
        "no_candidate": float(people[no_site].sum()),
        _plan_limit(facts, "pickup"): float(people[rest].sum()),
    }
    causes = {k: round(v, 1) for k, v in causes.items() if v > 0}
    main = max(causes, key=lambda k: causes[k]) if causes else "no_candidate"
    return main, causes


def _plan_limit(facts: PlanFacts, name: str) -> str:
    """Why a unit a site could serve stays short: the budget, the solver's time limit, or (a bug)
    nothing the planner knows of: ``unexplained``."""
    if facts.objective == "max_coverage" or facts.budget_bound:
        return "budget"
    for o in facts.outcomes:
        if o.name == name and o.result is not None and o.result.status == "time_limit":
            return "solver_limit"
    return "unexplained"


def _count_cause(row: pd.Series, facts: PlanFacts) -> str:
    sid = str(row["standard_id"])
    if not set(definition(sid).serves) & facts.placeable:
        return "not_placeable"
    for o in facts.outcomes:
        for s in o.shortfalls:
            if s.standard_id == sid and s.code in ("", str(row["unit_code"])):
                return s.cause
    if sid == "P-COUNTY":
        park = [o for o in facts.outcomes if o.name == "park"]
        return "no_candidate" if park and park[0].rows_unreachable else _plan_limit(facts, "park")
    return _plan_limit(facts, "village_station" if sid.startswith("V-") else "pickup")


def unmet_rows(audit_after: pd.DataFrame, meet: Sequence[str], facts: PlanFacts) -> list[dict[str, Any]]:
    """One entry per failing judged row of a standard in ``meet`` (``summary.json`` → ``unmet``)."""
    pickup = [o for o in facts.outcomes if o.name == "pickup"]
    uncoverable = np.zeros(len(facts.demand), dtype=bool)
    if pickup:
        uncoverable[pickup[0].uncoverable] = True
    failing = audit_after[
        audit_after["standard_id"].isin(list(meet))
        & audit_after["role"].isin(list(JUDGED_ROLES))
        & audit_after["passed"].eq(False).fillna(False).astype(bool)
    ]
    out: list[dict[str, Any]] = []
    units = failing[failing["role"] == "standard"]
    for _, row in failing.iterrows():
        causes: dict[str, float] = {}
        kind = CATALOGUE[str(row["standard_id"])].kind
        if kind == "radius":
            cause, causes = _radius_cause(row, facts, uncoverable)
        elif row["role"] == "summary":
            cause, causes = _summary_cause(row, units, facts)
        else:
            cause = _count_cause(row, facts)
        if kind == "share" and facts.unlocated_villages:
            causes["no_coordinates"] = float(facts.unlocated_villages)
        out.append(
            {
                "standard": str(row["standard_id"]),
                "unit_level": str(row["unit_level"]),
                "unit_code": str(row["unit_code"]),
                "unit_name": str(row["unit_name"]),
                "value": _num(row["value"]),
                "target": _num(row["target"]),
                "short_by": _num(row["shortfall"]),
                "cause": cause,
                "causes": causes,
            }
        )
    return out


def _summary_cause(row: pd.Series, units: pd.DataFrame, facts: PlanFacts) -> tuple[str, dict[str, float]]:
    """A summary row's cause: those of the failing units inside it (the most frequent first)."""
    sid, level, code = row["standard_id"], row["unit_level"], str(row["unit_code"])
    children = units[units["standard_id"] == sid]
    if level == "township":
        parent = facts.township_of_village or {}
        inside = children["unit_code"].astype(str).map(lambda c: parent.get(c, c[:9])) == code
        children = children[inside.to_numpy()]
    counts = Counter(_count_cause(child, facts) for _, child in children.iterrows())
    if not counts:
        return "unexplained", {}
    return counts.most_common(1)[0][0], {k: float(v) for k, v in counts.items()}


def _num(value: Any) -> float | None:
    v = float(value)
    return None if not np.isfinite(v) else round(v, 6)


def cause_counts(unmet: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many unmet rows each cause explains."""
    return dict(Counter(str(u["cause"]) for u in unmet))
