"""Budgets of the plan: the pickup budget of a ``max_coverage`` plan and village-station phases."""

from __future__ import annotations

from planner.optimize import Phase
from planner.scenario import Scenario
from planner.standards import Profile

__all__ = ["plan_budgets"]


def plan_budgets(scenario: Scenario, profile: Profile) -> tuple[float | None, list[Phase] | None]:
    """The pickup budget of a ``max_coverage`` plan, and village-station phases from ``budget.per_year``.

    Phases pair the profile's V-STATION targets (e.g. 2024: 85 %, 2025: 100 %) with the scenario's
    yearly budgets; a target year without a budget has no money limit.
    """
    budget = scenario.plan.budget
    pickup_budget = None
    if scenario.plan.objective == "max_coverage" and budget is not None:
        per_type = {k: v for k, v in budget.per_type.items() if k in ("outlet", "locker", "delivery_centre")}
        pickup_budget = float(sum(per_type.values())) if per_type else budget.total
    phases = None
    if budget is not None and budget.per_year and profile.standards.v_station is not None:
        phases = [
            Phase(year, share, budget.per_year.get(year))
            for year, share in sorted(profile.standards.v_station.targets.items())
        ]
    return pickup_budget, phases
