"""The plan of a scenario: pickup points, village stations and the county park, as ``plan`` asks.

:func:`make_plan` reads the standards in ``plan.meet`` (default: every plannable standard the profile
sets), the same per-unit requirements the audit checks (:func:`planner.audit.count_requirements`),
the objective, the budgets, capacities and the forced and excluded candidates, and calls the models.
Under ``min_cost`` a budget the least-cost plan exceeds is an error that says short by how much
(:class:`~planner.errors.BudgetError`); under ``max_coverage`` pickup points and stations share the
budget in one model (:mod:`planner.plan.for_budget`) and a park is placed only with its own
``budget.per_type.park``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.audit import Requirement, Units, count_requirements, members_matrix
from planner.coverage import SnapCache, service_rules
from planner.errors import BudgetError, InfeasibleError
from planner.network import ModeNetwork
from planner.optimize import SolverSettings
from planner.optimize.joint import Budgets, budget_shortfall
from planner.plan.budget import PICKUP_TYPES_PLANNED, phases, pickup_budgets, type_budget
from planner.plan.county import place_parks
from planner.plan.for_budget import place_for_budget
from planner.plan.outcome import PlacementOutcome, Shortfall, empty_like
from planner.plan.pickup import (
    RADIUS,
    Capacities,
    PickupRequest,
    expand_multi_unit_sites,
    place_pickup_points,
)
from planner.plan.proposals import facilities_with
from planner.plan.stations import place_village_stations, station_request
from planner.scenario import Scenario
from planner.standards import Profile, definition
from planner.types import PICKUP_TYPES, StudyData

__all__ = ["Plan", "PlanContext", "cost_by_standard", "make_plan", "park_min_carriers", "wants_park"]

#: The travel mode of the county-level chain (parks, outlets, stations): vans on the roads.
VEHICLE_MODE = "car"


@dataclass(frozen=True)
class PlanContext:
    """What the plan reads: the scenario, the profile, the study data, the networks and the units."""

    scenario: Scenario
    profile: Profile
    study: StudyData
    networks: dict[str, ModeNetwork]
    snaps: SnapCache
    units: Units

    @property
    def meet(self) -> tuple[str, ...]:
        """The standards the plan meets."""
        return self.scenario.plan.meet_for(self.profile)

    @property
    def placeable(self) -> frozenset[str]:
        """Facility types the scenario places."""
        return frozenset(str(t) for t, spec in self.scenario.plan.facilities.items() if spec.place)


@dataclass(frozen=True)
class Plan:
    """What the plan chose, and the requirements it was asked to meet."""

    pickup: PlacementOutcome
    stations: PlacementOutcome
    outcomes: list[PlacementOutcome]
    facilities: gpd.GeoDataFrame
    requirements: tuple[Requirement, ...]
    targets: pd.DataFrame
    budget_bound: bool


def _candidates(ctx: PlanContext) -> gpd.GeoDataFrame:
    plan = ctx.scenario.plan
    cands = ctx.study.candidates
    cands = cands[~cands["candidate_id"].astype(str).isin(set(plan.exclude))]
    return expand_multi_unit_sites(cands, {str(t): spec.max_per_site for t, spec in plan.facilities.items()})


def _capacities(ctx: PlanContext) -> Capacities | None:
    caps = {
        str(t): float(s.capacity) for t, s in ctx.scenario.plan.facilities.items() if s.capacity is not None
    }
    return Capacities(caps, ctx.scenario.plan.parcels_per_person_day) if caps else None


def _requirements(
    ctx: PlanContext, demand: gpd.GeoDataFrame, villages: gpd.GeoDataFrame
) -> list[Requirement]:
    facilities = ctx.study.facilities.assign(status="existing")
    return count_requirements(
        ctx.profile,
        units=ctx.units,
        villages=villages,
        demand=demand,
        facilities=facilities,
        year=ctx.scenario.plan.year,
        standards=ctx.meet,
    )


def _targets_table(reqs: list[Requirement], cands: gpd.GeoDataFrame, ctx: PlanContext) -> pd.DataFrame:
    """Per unit of each count standard: what the standard asks, what exists, the candidates, the shortfall."""
    per_unit = np.asarray(members_matrix(cands, reqs, ctx.units).sum(axis=1)).ravel()
    rows = []
    for r, n in zip(reqs, per_unit, strict=True):
        n_cand = int(n)
        rows.append(
            {
                "standard_id": r.standard_id,
                "unit_level": r.level,
                "code": r.code,
                "name": r.name,
                "facility_type": ";".join(r.types),
                "base": round(r.base, 1),
                "standard_requires": r.need,
                "existing": r.have,
                "candidates": n_cand,
                "short_by": max(0, (r.need or 0) - r.have - n_cand) if r.need is not None else 0,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "standard_id",
            "unit_level",
            "code",
            "name",
            "facility_type",
            "base",
            "standard_requires",
            "existing",
            "candidates",
            "short_by",
        ],
    )


def _pickup(
    ctx: PlanContext,
    demand: gpd.GeoDataFrame,
    reqs: list[Requirement],
    cands: gpd.GeoDataFrame,
    settings: SolverSettings,
) -> PlacementOutcome:
    scenario = ctx.scenario
    meet = set(ctx.meet)
    placeable = ctx.placeable & set(PICKUP_TYPES_PLANNED)
    pickup_cands = cands[cands["type"].astype(str).isin(sorted(placeable))]
    plannable = [r for r in reqs if set(r.types) & placeable]
    request = PickupRequest(
        classes=tuple(c for c, sid in RADIUS.items() if sid in meet),
        requirements=plannable,
        budgets=Budgets(per_type=pickup_budgets(scenario).per_type),
        capacities=_capacities(ctx),
        forced=frozenset(scenario.plan.force),
    )
    existing = ctx.study.facilities[ctx.study.facilities["type"].isin(PICKUP_TYPES)]
    try:
        return place_pickup_points(
            demand,
            existing,
            pickup_cands,
            request=request,
            units=ctx.units,
            rules=service_rules(ctx.profile),
            snaps=ctx.snaps,
            reading=scenario.travel.reading,
            settings=settings,
        )
    except InfeasibleError as exc:
        free = place_pickup_points(
            demand,
            existing,
            pickup_cands,
            request=PickupRequest(
                request.classes, plannable, capacities=request.capacities, forced=request.forced
            ),
            units=ctx.units,
            rules=service_rules(ctx.profile),
            snaps=ctx.snaps,
            reading=scenario.travel.reading,
            settings=settings,
        )
        need = free.result.extra["cost_by_type"] if free.result is not None else {}
        problems = budget_shortfall(need, request.budgets)
        raise BudgetError(
            "the budgets cannot pay for the standards in plan.meet", problems or exc.problems
        ) from exc


def _stations(
    ctx: PlanContext, villages: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, settings: SolverSettings
) -> PlacementOutcome:
    scenario = ctx.scenario
    station_cands = cands[cands["type"] == "village_station"]
    if "village_station" not in ctx.placeable:
        station_cands = station_cands.iloc[0:0]
    budget = type_budget(scenario, "village_station")
    request = station_request(
        ctx.profile,
        set(ctx.meet),
        scenario.plan.year,
        budget=budget,
        phases=phases(scenario, ctx.profile),
        forced=frozenset(scenario.plan.force),
    )
    try:
        return place_village_stations(
            villages,
            station_cands,
            request=request,
            rule=service_rules(ctx.profile)["rural"],
            snaps=ctx.snaps,
            reading=scenario.travel.reading,
            settings=settings,
        )
    except InfeasibleError as exc:
        if request.phases:
            raise BudgetError(
                "the yearly budgets cannot pay for the village-station targets", exc.problems
            ) from exc
        if budget is None:
            raise
        free = place_village_stations(
            villages,
            station_cands,
            request=station_request(ctx.profile, set(ctx.meet), scenario.plan.year, forced=request.forced),
            rule=service_rules(ctx.profile)["rural"],
            snaps=ctx.snaps,
            reading=scenario.travel.reading,
            settings=settings,
        )
        need = {"village_station": float(free.chosen["cost"].sum())}
        raise BudgetError(
            "the village-station budget cannot pay for the village standards",
            budget_shortfall(need, Budgets(per_type={"village_station": budget})),
        ) from exc


def _park(
    ctx: PlanContext,
    facilities: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    settings: SolverSettings,
    *,
    max_cost: float | None,
) -> PlacementOutcome:
    outcome = place_parks(
        facilities,
        cands[cands["type"] == "park"],
        demand,
        profile=ctx.profile,
        net=ctx.networks[VEHICLE_MODE],
        max_snap_m=ctx.scenario.travel.max_snap_m,
        settings=settings,
        forced=frozenset(ctx.scenario.plan.force),
        max_cost=max_cost,
        objective=ctx.scenario.plan.park_objective,
    )
    chosen = outcome.chosen.assign(standards="P-COUNTY")
    shortfalls = outcome.shortfalls
    if outcome.rows_unreachable and not shortfalls and len(outcome.chosen) == 0:
        cause = "budget" if max_cost is not None else "no_candidate"
        shortfalls = (Shortfall("P-COUNTY", "county", "", "", 1, cause),)
    return PlacementOutcome(
        outcome.name,
        chosen,
        outcome.result,
        outcome.rows_total,
        outcome.rows_unreachable,
        outcome.population_unreachable,
        outcome.notes,
        shortfalls=shortfalls,
    )


def wants_park(ctx: PlanContext) -> bool:
    """Whether the plan places a county park: P-COUNTY set by the profile, asked for, and placeable."""
    return "P-COUNTY" in ctx.meet and "park" in ctx.placeable and ctx.profile.sets("P-COUNTY")


def park_min_carriers(ctx: PlanContext) -> int:
    """The carriers a park must host to count for P-COUNTY (the profile's figure, else 3)."""
    std = ctx.profile.get("P-COUNTY")
    return std.min_carriers if std is not None else 3


def _min_cost(
    ctx: PlanContext,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    reqs: list[Requirement],
    cands: gpd.GeoDataFrame,
    settings: SolverSettings,
) -> list[PlacementOutcome]:
    pickup = _pickup(ctx, demand, reqs, cands, settings)
    stations = _stations(ctx, villages, cands, settings)
    outcomes = [pickup, stations]
    if wants_park(ctx):
        mid = facilities_with(
            ctx.study.facilities, outcomes, ctx.study.crs, park_carriers=park_min_carriers(ctx)
        )
        outcomes.append(_park(ctx, mid, cands, demand, settings, max_cost=type_budget(ctx.scenario, "park")))
    total = ctx.scenario.plan.budget.total if ctx.scenario.plan.budget else None
    spent = sum(float(o.chosen["cost"].sum()) for o in outcomes if len(o.chosen))
    if total is not None and spent > total + 1e-6:
        raise BudgetError(
            "the budget cannot pay for the standards in plan.meet",
            budget_shortfall({"total": spent}, Budgets(total=total)),
        )
    return outcomes


def _for_budget(
    ctx: PlanContext,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    settings: SolverSettings,
) -> list[PlacementOutcome]:
    scenario = ctx.scenario
    budget = scenario.plan.budget
    outcomes: list[PlacementOutcome] = []
    park_budget = type_budget(scenario, "park")
    spent_park = 0.0
    if wants_park(ctx) and park_budget is not None:
        limit = min(park_budget, budget.total) if budget and budget.total is not None else park_budget
        park = _park(
            ctx, ctx.study.facilities.assign(status="existing"), cands, demand, settings, max_cost=limit
        )
        spent_park = float(park.chosen["cost"].sum()) if len(park.chosen) else 0.0
        outcomes.append(park)
    elif wants_park(ctx):
        note = (
            "objective max_coverage spends the budget on coverage; give budget.per_type.park to place a park",
        )
        outcomes.append(
            PlacementOutcome(
                "park",
                empty_like(cands),
                None,
                1,
                1,
                0.0,
                note,
                shortfalls=(Shortfall("P-COUNTY", "county", "", "", 1, "budget"),),
            )
        )
    per_type = {str(t): float(v) for t, v in (budget.per_type.items() if budget else ()) if t != "park"}
    total = None if budget is None or budget.total is None else max(0.0, float(budget.total) - spent_park)
    placeable = ctx.placeable
    pickup, stations = place_for_budget(
        demand,
        villages,
        ctx.study.facilities[ctx.study.facilities["type"].isin(PICKUP_TYPES)],
        cands[cands["type"].astype(str).isin(sorted(placeable & set(PICKUP_TYPES_PLANNED)))],
        cands[(cands["type"] == "village_station") & ("village_station" in placeable)],
        budgets=Budgets(total=total, per_type=per_type),
        forced=frozenset(scenario.plan.force),
        units=ctx.units,
        rules=service_rules(ctx.profile),
        snaps=ctx.snaps,
        reading=scenario.travel.reading,
        settings=settings,
    )
    return [pickup, stations, *outcomes]


def make_plan(
    ctx: PlanContext, demand: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, settings: SolverSettings
) -> Plan:
    """The plan for the scenario, on the demand and villages measured before it (coverage columns)."""
    cands = _candidates(ctx)
    reqs = _requirements(ctx, demand, villages)
    if ctx.scenario.plan.objective == "max_coverage":
        outcomes = _for_budget(ctx, demand, villages, cands, settings)
    else:
        outcomes = _min_cost(ctx, demand, villages, reqs, cands, settings)
    by_name = {o.name: o for o in outcomes}
    order = [by_name[n] for n in ("pickup", "village_station", "park") if n in by_name]
    facilities = facilities_with(
        ctx.study.facilities, order, ctx.study.crs, park_carriers=park_min_carriers(ctx)
    )
    budget = ctx.scenario.plan.budget
    bound = ctx.scenario.plan.objective == "max_coverage" or bool(
        budget and (budget.total is not None or budget.per_type)
    )
    return Plan(
        by_name["pickup"],
        by_name["village_station"],
        order,
        facilities,
        tuple(reqs),
        _targets_table(reqs, cands, ctx),
        bound,
    )


def cost_by_standard(
    ctx: PlanContext,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    plan: Plan,
    settings: SolverSettings,
) -> dict[str, float]:
    """What each standard in ``meet`` adds to the plan's cost: the plan's cost less the cost without it.

    Solved again without each standard in turn (``min_cost`` only; the park counts whole for P-COUNTY).
    """
    if ctx.scenario.plan.objective != "min_cost":
        return {}
    total = _cost(plan.outcomes)
    out: dict[str, float] = {}
    for sid in ctx.meet:
        if sid == "P-COUNTY":
            park = [o for o in plan.outcomes if o.name == "park"]
            out[sid] = float(park[0].chosen["cost"].sum()) if park and len(park[0].chosen) else 0.0
            continue
        narrowed = ctx.scenario.model_copy(
            update={
                "plan": ctx.scenario.plan.model_copy(
                    update={"meet": tuple(s for s in ctx.meet if s != sid), "budget": None}
                )
            }
        )
        sub = PlanContext(narrowed, ctx.profile, ctx.study, ctx.networks, ctx.snaps, ctx.units)
        reqs = _requirements(sub, demand, villages)
        cands = _candidates(sub)
        kind = definition(sid).kind
        if kind == "share":
            rest = _cost([_stations(sub, villages, cands, settings)]) + _cost(
                [o for o in plan.outcomes if o.name == "pickup"]
            )
        else:
            rest = _cost([_pickup(sub, demand, reqs, cands, settings)]) + _cost(
                [o for o in plan.outcomes if o.name == "village_station"]
            )
        rest += _cost([o for o in plan.outcomes if o.name == "park"])
        out[sid] = round(max(0.0, total - rest), 2)
    return out


def _cost(outcomes: list[PlacementOutcome]) -> float:
    return float(sum(float(o.chosen["cost"].sum()) for o in outcomes if len(o.chosen)))


def plan_notes(plan: Plan) -> list[str]:
    """The plan's notes (each model's), for ``summary.json``."""
    return [note for o in plan.outcomes for note in o.notes]
