"""Budgets of the plan: money limits per facility type and in total, and village-station phases."""

from __future__ import annotations

from planner.optimize import Phase
from planner.optimize.joint import Budgets
from planner.scenario import Scenario
from planner.standards import Profile

__all__ = ["PICKUP_TYPES_PLANNED", "phases", "pickup_budgets", "type_budget"]

#: The facility types the pickup model places.
PICKUP_TYPES_PLANNED = ("outlet", "locker", "delivery_centre")


def type_budget(scenario: Scenario, facility_type: str) -> float | None:
    """The per-type budget of ``facility_type`` (``None`` when the scenario sets none)."""
    budget = scenario.plan.budget
    if budget is None:
        return None
    value = budget.per_type.get(facility_type)  # type: ignore[call-overload]
    return None if value is None else float(value)


def pickup_budgets(scenario: Scenario, *, spent_elsewhere: float = 0.0) -> Budgets:
    """The pickup model's budgets: the per-type budgets of its types and what is left of the total."""
    budget = scenario.plan.budget
    if budget is None:
        return Budgets()
    per_type = {str(t): float(v) for t, v in budget.per_type.items() if t in PICKUP_TYPES_PLANNED}
    total = None if budget.total is None else max(0.0, float(budget.total) - spent_elsewhere)
    return Budgets(total=total, per_type=per_type)


def phases(scenario: Scenario, profile: Profile) -> list[Phase] | None:
    """Village-station phases from ``budget.per_year``: each V-STATION target year with its budget.

    A target worded "超过" (``>``) is met by strictly more than its share: the phase asks for the
    share plus a hair, so the model's ⌈share × villages⌉ lands one above an exact share.
    """
    budget = scenario.plan.budget
    std = profile.get("V-STATION") or profile.get("V-ALL")
    if budget is None or not budget.per_year or std is None:
        return None
    return [
        Phase(year, min(1.0, t.share + (1e-7 if t.comparison == ">" else 0.0)), budget.per_year.get(year))
        for year, t in sorted(std.targets.items())
    ]
