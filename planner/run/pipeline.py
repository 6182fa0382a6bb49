"""``planner run`` and ``planner audit``: the stages wired together, each timed.

Wiring only: each stage is a function of its own package (inputs, demand, network, coverage, audit,
plan, outputs); this module orders them, times them and hands the result to the outputs stage. It
never prints: progress goes through the ``stage`` callback the CLI passes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import __version__
from planner.audit import build_units, run_audit
from planner.coverage.areas import service_area_layer
from planner.coverage.rules import assess, service_rules
from planner.errors import OutputDirError, Problem
from planner.optimize import SolverSettings
from planner.outputs.roads import road_lines_from_network
from planner.plan.county import CHAIN_COLUMNS, delivery_chain
from planner.plan.curve import coverage_curve
from planner.plan.proposals import population_gains, proposals_table
from planner.plan.solve import Plan, PlanContext, cost_by_standard, make_plan
from planner.plan.unmet import PlanFacts, unmet_rows
from planner.run.checks import Checked, Command, check_loaded
from planner.run.prepare import VEHICLE_MODE, Prepared, prepare
from planner.run.reach import reach_block
from planner.run.summary import (
    BeforeAfter,
    chain_summary,
    citations,
    coverage_block,
    explanations,
    plan_summary,
    run_summary,
    township_table,
)
from planner.run.timer import StageCallback, StageTimer
from planner.scenario import Scenario
from planner.types import AuditResult, RunResult

__all__ = [
    "assess_facilities",
    "audit_facilities",
    "audit_scenario",
    "plan_context",
    "run_scenario",
    "solver_settings",
]


def assess_facilities(
    prepared: Prepared, facilities: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand and villages as a set of facilities serves them, under the run's rules and reading
    (the run's coverage step; ``planner serve`` calls it after each edit)."""
    return assess(
        prepared.demand,
        prepared.study.villages,
        facilities,
        rules=service_rules(prepared.profile),
        snaps=prepared.snaps,
        reading=prepared.scenario.travel.reading,
    )


def audit_facilities(
    prepared: Prepared, demand: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> AuditResult:
    """The run's audit of a set of facilities (before or after the plan, or an edited plan)."""
    return run_audit(
        demand=demand,
        villages=villages,
        facilities=facilities,
        townships=prepared.study.townships,
        boundary=prepared.study.boundary,
        profile=prepared.profile,
        year=prepared.scenario.plan.year,
        reading=prepared.scenario.travel.reading,
        cell_size_m=prepared.scenario.inputs.population.resolution_m,
    )


def solver_settings(scenario: Scenario) -> SolverSettings:
    """The solver settings a scenario's ``solver`` section asks for."""
    return SolverSettings(
        backend=scenario.solver.backend,
        time_limit_s=scenario.solver.time_limit_s,
        mip_gap=scenario.solver.mip_gap,
        threads=scenario.solver.threads,
    )


def plan_context(prepared: Prepared) -> PlanContext:
    """What the plan reads: the scenario, profile, layers, networks, snaps and units of a run."""
    study = prepared.study
    units = build_units(study.boundary, study.townships, study.villages)
    return PlanContext(prepared.scenario, prepared.profile, study, prepared.networks, prepared.snaps, units)


def _facts(ctx: PlanContext, plan: Plan, after: BeforeAfter) -> PlanFacts:
    villages = after.villages
    admin = villages["kind"].astype(str) == "village"
    unlocated = int((admin & ~villages["mappable"].fillna(True).astype(bool)).sum())
    return PlanFacts(
        after.demand,
        plan.outcomes,
        ctx.placeable,
        ctx.scenario.plan.objective,
        unlocated,
        plan.budget_bound,
        ctx.units.township_of_village,
    )


def _extra_tables(
    prepared: Prepared, plan: Plan, villages: gpd.GeoDataFrame, settings: SolverSettings
) -> dict[str, Any]:
    """The budget curve, the delivery chain, service areas and the density targets, for the outputs."""
    scenario = prepared.scenario
    facilities = plan.facilities
    extra: dict[str, Any] = {}
    instance = plan.pickup.instance
    if instance is not None and scenario.plan.curve_steps > 0 and instance[0].shape[0]:
        extra["budget_curve"] = coverage_curve(*instance, settings=settings, steps=scenario.plan.curve_steps)
    if VEHICLE_MODE not in prepared.networks:  # a straight-line-only run: no travel times to draw
        extra["delivery_chain"] = pd.DataFrame(columns=list(CHAIN_COLUMNS))
        extra["service_areas"] = gpd.GeoDataFrame({"status": [], "type": []}, geometry=[], crs=facilities.crs)
    else:
        extra["delivery_chain"] = delivery_chain(
            villages,
            facilities,
            net=prepared.networks[VEHICLE_MODE],
            max_snap_m=scenario.travel.max_snap_m,
            settings=settings,
        )
        extra["service_areas"] = _service_areas(prepared, facilities)
        if {"map", "report"} & set(scenario.outputs.formats):
            extra["roads"] = road_lines_from_network(prepared.networks[VEHICLE_MODE])
    if len(plan.targets):
        extra["density_targets"] = plan.targets
    return extra


def _service_areas(prepared: Prepared, facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rules = service_rules(prepared.profile)
    snap_m = prepared.scenario.travel.max_snap_m
    areas = [
        service_area_layer(prepared.networks, rules, facilities, max_snap_m=snap_m),
        service_area_layer(
            prepared.networks,
            rules,
            facilities,
            max_snap_m=snap_m,
            types=("village_station",),
            area_class="rural",
        ),
    ]
    return gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=facilities.crs)


def _plan_blocks(plan: Plan, phases: bool) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The summary blocks of the plan beyond :func:`run_summary` (phasing, density targets) and their
    tables."""
    blocks: dict[str, Any] = {}
    tables: dict[str, pd.DataFrame] = {}
    if phases and plan.stations.result is not None:
        blocks["station_phasing"] = plan.stations.result.extra.get("by_year", [])
        tables["station_phasing"] = pd.DataFrame(blocks["station_phasing"])
    if len(plan.targets):
        table = plan.targets
        blocks["density_targets"] = {
            "units": len(table),
            "units_short": int((table["short_by"] > 0).sum()),
            "facilities_short": int(table["short_by"].sum()),
        }
    return blocks, tables


def _with_status(before: BeforeAfter, after: BeforeAfter) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand with covered_before/after and villages with has_station_before/after, for the outputs."""
    demand = before.demand.copy()
    demand["covered_before"] = before.demand["covered"].to_numpy()
    demand["covered_after"] = after.demand["covered"].to_numpy()
    villages = before.villages.copy()
    villages["has_station_before"] = before.villages["has_station"].to_numpy()
    villages["has_station_after"] = after.villages["has_station"].to_numpy()
    return demand, villages


def _proposals(
    prepared: Prepared, plan: Plan, before: BeforeAfter, after: BeforeAfter
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The proposals table, and the facilities with each proposal's newly covered population."""
    gains = population_gains(before.demand, after.demand, before.villages, after.villages, plan.outcomes)
    facilities = plan.facilities.copy()
    proposed = facilities["status"] == "proposed"
    facilities.loc[proposed, "population_gained"] = np.concatenate(
        [g for g in gains if len(g)] or [np.zeros(0)]
    )
    townships = prepared.study.townships
    names = dict(zip(townships["township_code"].astype(str), townships["township_name"], strict=False))
    return proposals_table([o.chosen for o in plan.outcomes], gains, township_names=names), facilities


def _checked(
    scenario: Scenario, timer: StageTimer, checked: Checked | None, *, out: Path | None, command: Command
) -> Checked:
    """The checks before any work (:mod:`planner.run.checks`): made here unless the caller made them;
    raises :class:`~planner.errors.CheckError` with every problem, so nothing is computed."""
    if checked is None:
        with timer.stage("inputs"):
            checked = check_loaded(scenario, out=out, command=command)
    else:
        timer.timings["inputs"] = round(timer.timings.get("inputs", 0.0) + checked.seconds, 3)
    checked.raise_if_failed()
    return checked


def run_scenario(
    scenario: Scenario,
    *,
    out_dir: Path | None = None,
    stage: StageCallback | None = None,
    write: bool = True,
    use_cache: bool = True,
    checked: Checked | None = None,
) -> RunResult:
    """Run every stage of a scenario: checks, audit before, plan, audit after, outputs.

    Nothing is computed when the checks (:func:`planner.run.checks.check_loaded`, or ``checked`` made
    by the caller) find a problem: they raise :class:`~planner.errors.CheckError` with every one.
    Road networks and coverage matrices are cached (:func:`planner.store.default_cache_root`);
    ``summary["cache"]`` says what was reused.
    """
    timer = StageTimer(stage) if stage is not None else StageTimer()
    target = Path(out_dir or scenario.outputs.folder or Path("out") / scenario.name)
    checked = _checked(scenario, timer, checked, out=target if write else None, command="run")
    prepared = prepare(scenario, timer, use_cache=use_cache, study=checked.study)
    study = prepared.study
    with timer.stage("coverage"):
        before = BeforeAfter(*assess_facilities(prepared, study.facilities))
    with timer.stage("audit"):
        audit_before = audit_facilities(prepared, before.demand, before.villages, study.facilities)
    settings = solver_settings(scenario)
    ctx = plan_context(prepared)
    with timer.stage("optimise"):
        plan = make_plan(ctx, before.demand, before.villages, settings)
        costs = cost_by_standard(ctx, before.demand, before.villages, plan, settings)
    with timer.stage("coverage_after"):
        after = BeforeAfter(*assess_facilities(prepared, plan.facilities))
        audit_after = audit_facilities(prepared, after.demand, after.villages, plan.facilities)
        extra = _extra_tables(prepared, plan, after.villages, settings)
    proposals, facilities = _proposals(prepared, plan, before, after)
    blocks, tables = _plan_blocks(plan, phases=bool(scenario.plan.budget and scenario.plan.budget.per_year))
    unmet = unmet_rows(audit_after.table, ctx.meet, _facts(ctx, plan, after))
    summary = {
        **run_summary(prepared, before=before, after=after, proposals=proposals, outcomes=plan.outcomes),
        **plan_summary(ctx, plan, unmet=unmet, cost_by_standard=costs),
        "timings": dict(timer.timings),
        "delivery_chain": chain_summary(extra["delivery_chain"]),
        **blocks,
    }
    park = next((o for o in plan.outcomes if o.name == "park"), None)
    summary["unreachable_detail"] = reach_block(prepared, park=park, chain=extra["delivery_chain"])
    extra = {**extra, "explanations": explanations(audit_before, prepared.profile), **tables}
    demand_out, villages_out = _with_status(before, after)
    result = RunResult(
        scenario_name=scenario.name,
        scenario_hash=prepared.scenario_hash,
        planner_version=__version__,
        language=scenario.outputs.language,
        crs=study.crs,
        title=scenario.title or scenario.name,
        boundary=study.boundary,
        townships=study.townships,
        demand=demand_out,
        villages=villages_out,
        facilities=facilities,
        proposals=proposals,
        audit=audit_before,
        audit_after=audit_after,
        township_table=township_table(study.townships, before=before, after=after, proposals=proposals),
        summary=summary,
        citations=citations(prepared.profile),
        extra_tables=extra,
    )
    if not write:
        return result
    from planner.outputs import write_outputs

    with timer.stage("outputs"):
        try:
            write_outputs(result, target, lang=scenario.outputs.language, formats=scenario.outputs.formats)
        except OSError as exc:  # the folder checked writable before the run, changed since
            raise OutputDirError(
                problems=[
                    Problem(
                        f"the outputs could not be written: {exc.strerror or exc}",
                        file=target,
                        fix="check the folder's permissions and free space, or choose another with --out",
                    )
                ]
            ) from exc
    return dataclasses.replace(result, summary={**summary, "timings": dict(timer.timings)})


def audit_scenario(
    scenario: Scenario,
    *,
    stage: StageCallback | None = None,
    use_cache: bool = True,
    checked: Checked | None = None,
) -> tuple[AuditResult, dict[str, Any]]:
    """The audit alone (no optimisation): the standards checked against the existing facilities.

    The checks come first, as in :func:`run_scenario` (``checked``: made by the caller)."""
    timer = StageTimer(stage) if stage is not None else StageTimer()
    checked = _checked(scenario, timer, checked, out=None, command="audit")
    prepared = prepare(scenario, timer, use_cache=use_cache, study=checked.study)
    with timer.stage("coverage"):
        demand, villages = assess_facilities(prepared, prepared.study.facilities)
    with timer.stage("audit"):
        audit = audit_facilities(prepared, demand, villages, prepared.study.facilities)
    summary = {
        "scenario": scenario.name,
        "scenario_hash": prepared.scenario_hash,
        "coverage": {c: {"before": v} for c, v in coverage_block(demand, "covered").items()},
        "timings": dict(timer.timings),
    }
    return audit, summary
