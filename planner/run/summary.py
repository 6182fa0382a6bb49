"""The figures of a run: ``summary.json``, the township table, citations and explanations.

Pure functions of the stages' results; :mod:`planner.run.pipeline` calls them once the plan is measured.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import __version__
from planner.audit.explain import explain_row
from planner.coverage import ServiceRule, service_rules
from planner.coverage.access import access_block
from planner.inputs import input_summary
from planner.plan import PlacementOutcome, solver_summary
from planner.standards import STANDARD_IDS, Profile
from planner.types import AREA_CLASSES, AreaClass, AuditResult

if TYPE_CHECKING:
    from planner.plan.solve import Plan, PlanContext
    from planner.run.prepare import Prepared


@dataclass(frozen=True)
class BeforeAfter:
    """Demand and villages with their coverage columns, for one facility set (before or after the plan)."""

    demand: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame


def coverage_block(demand: gpd.GeoDataFrame, column: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for area_class in AREA_CLASSES:
        rows = demand["area_class"] == area_class
        total = float(demand.loc[rows, "population"].sum())
        out[area_class] = (
            round(float(demand.loc[rows & demand[column], "population"].sum()) / total, 6) if total else None
        )
    return out


def citations(profile: Profile) -> dict[str, str]:
    cites = {}
    for sid in STANDARD_IDS:
        with contextlib.suppress(Exception):
            cites[sid] = profile.cite(sid)
    return cites


def chain_summary(chain: pd.DataFrame) -> dict[str, Any]:
    """Villages reached by the park → outlet → station chain and its travel time (minutes)."""
    minutes = pd.to_numeric(chain.get("chain_min", pd.Series(dtype=float)), errors="coerce")
    finite = minutes[np.isfinite(minutes)]
    return {
        "villages": len(chain),
        "reached": len(finite),
        "mean_min": round(float(finite.mean()), 2) if len(finite) else None,
        "max_min": round(float(finite.max()), 2) if len(finite) else None,
    }


def explanations(audit: AuditResult, profile: Profile) -> pd.DataFrame:
    """Plain-language sentences (Chinese and English, with the cited clause) for every county-level check."""
    county = audit.table[audit.table["unit_level"] == "county"]
    return pd.DataFrame(
        {
            "standard_id": county["standard_id"].to_numpy(),
            "passed": county["passed"].to_numpy(),
            "explanation_zh": [explain_row(row, "zh", profile=profile) for _, row in county.iterrows()],
            "explanation_en": [explain_row(row, "en", profile=profile) for _, row in county.iterrows()],
        }
    )


def run_summary(
    prepared: Prepared,
    *,
    before: BeforeAfter,
    after: BeforeAfter,
    proposals: pd.DataFrame,
    outcomes: list[PlacementOutcome],
) -> dict[str, Any]:
    """The ``summary.json`` content of a run (the output contract of issue 2, extended)."""
    scenario = prepared.scenario
    inputs = input_summary(prepared.study)
    demand_before, demand_after = before.demand, after.demand
    villages_before, villages_after = before.villages, after.villages
    covered_before = coverage_block(demand_before, "covered")
    covered_after = coverage_block(demand_after, "covered")
    pickup, stations = outcomes[0], outcomes[1]
    unreachable_pop = float(demand_before.loc[~demand_before["reachable"], "population"].sum())
    return {
        "scenario": scenario.name,
        "title": scenario.title or scenario.name,
        "title_en": scenario.title_en or scenario.title or scenario.name,
        "planner_version": __version__,
        "scenario_hash": prepared.scenario_hash,
        "scenario_file": str(scenario.path) if scenario.path is not None else None,
        "crs": prepared.study.crs.to_string(),
        "reading": scenario.travel.reading,
        "year": scenario.plan.year,
        "profile": prepared.profile.profile,
        "population_total": round(float(demand_before["population"].sum()), 1),
        "population_by_class": {
            c: round(float(demand_before.loc[demand_before["area_class"] == c, "population"].sum()), 1)
            for c in AREA_CLASSES
        },
        "coverage": coverage_summary(
            demand_before, covered_before, covered_after, pickup, service_rules(prepared.profile)
        ),
        "coverage_by_reading": {
            reading: {
                c: {
                    "before": coverage_block(demand_before, f"covered_{reading}")[c],
                    "after": coverage_block(demand_after, f"covered_{reading}")[c],
                }
                for c in AREA_CLASSES
            }
            for reading in ("network", "buffer")
        },
        "access": access_block(
            demand_before,
            demand_after,
            rules=service_rules(prepared.profile),
            townships=prepared.study.townships,
        ),
        "villages": {**inputs["villages"], **village_block(villages_before, villages_after)},
        "population_calibration": inputs["population_calibration"],
        "inputs": inputs["inputs"],
        "proposals": {t: int((proposals["type"] == t).sum()) for t in sorted(set(proposals["type"]))},
        "cost_total": round(float(proposals["cost"].sum()), 2),
        "unreachable": {
            "population_off_network": round(unreachable_pop, 1),
            "population_no_site_within_standard": round(pickup.population_unreachable, 1),
            "villages_no_candidate_within_reach": stations.rows_unreachable,
            "explanation": (
                "Demand farther than travel.max_snap_m from any road cannot be reached by network; "
                "demand with no existing or candidate site within its standard stays uncovered "
                "after the plan."
            ),
        },
        "solver": solver_summary(outcomes),
        "plan_notes": [note for o in outcomes for note in o.notes],
        "network": {mode: net.summary() for mode, net in prepared.networks.items()},
        "cache": _cache_block(prepared),
        "notes": list(prepared.study.notes),
    }


def _cache_block(prepared: Prepared) -> dict[str, Any]:
    disk = prepared.snaps.disk
    return {
        "folder": str(disk.root) if disk is not None else None,
        "networks_reused": prepared.networks_from_cache,
        "coverage_matrices_reused": disk.hits.get("coverage", 0) if disk is not None else 0,
        "coverage_matrices_computed": disk.misses.get("coverage", 0) if disk is not None else 0,
    }


def village_block(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> dict[str, int]:
    """Administrative villages: located or not, with a station of their own, served by a shared one.

    ``own_station_*`` counts villages a station stands in; ``shared_station_*`` villages without one
    that a station within the V-SHARE reach serves; ``with_station_*`` is their sum (served).
    """
    admin = (before["kind"] == "village").to_numpy()
    located = before["mappable"].fillna(True).astype(bool).to_numpy() & admin

    def counts(frame: gpd.GeoDataFrame, when: str) -> dict[str, int]:
        own = frame["own_station"].fillna(False).astype(bool).to_numpy() & admin
        served = frame["has_station"].fillna(False).astype(bool).to_numpy() & admin
        return {
            f"own_station_{when}": int(own.sum()),
            f"shared_station_{when}": int((served & ~own).sum()),
            f"with_station_{when}": int(served.sum()),
        }

    return {
        "total": int(admin.sum()),
        "located": int(located.sum()),
        "without_coordinates": int((admin & ~located).sum()),
        "unmappable": int((admin & ~located).sum()),
        **counts(before, "before"),
        **counts(after, "after"),
    }


def plan_summary(
    ctx: PlanContext, plan: Plan, *, unmet: list[dict[str, Any]], cost_by_standard: dict[str, float]
) -> dict[str, Any]:
    """The standards part of ``summary.json``: the profile, what the plan meets, what stays unmet and why."""
    profile = ctx.profile
    return {
        "profile_title": {"zh": profile.title_zh, "en": profile.title_en},
        "profile_extends": profile.extends,
        "documents": {
            doc_id: {
                "issuer_zh": d.issuer_zh,
                "issuer_en": d.issuer_en,
                "title_zh": d.title_zh,
                "title_en": d.title_en,
                "number": d.number,
                "date": d.date.isoformat(),
            }
            for doc_id, d in profile.documents.items()
        },
        "standards_set": [s for s in STANDARD_IDS if profile.sets(s)],
        "standards_inherited": dict(profile.inherited),
        "meet": list(ctx.meet),
        "objective": ctx.scenario.plan.objective,
        "unmet": unmet,
        "unmet_by_cause": dict(Counter(u["cause"] for u in unmet)),
        "cost_by_standard": cost_by_standard,
        "budget_bound": plan.budget_bound,
    }


def coverage_summary(
    demand: gpd.GeoDataFrame,
    before: dict[str, float | None],
    after: dict[str, float | None],
    pickup: PlacementOutcome,
    rules: Mapping[AreaClass, ServiceRule],
) -> dict[str, dict[str, Any]]:
    """Coverage per class before and after, and for urban/township the share any site could cover.

    ``standard`` names the radius standard the class is held to (``None`` when the profile sets none:
    the figure is then information, measured with the planner's reference rule, and rural coverage —
    a village station within the sharing reach — is always information).

    ``coverable`` is the share of the class's people that some existing or candidate site serves within
    the class's standard: the most any plan over these candidates can reach (``after`` equals it when
    the least-cost cover is solved to optimality).
    """
    out: dict[str, dict[str, Any]] = {}
    unreachable = np.zeros(len(demand), dtype=bool)
    unreachable[pickup.uncoverable] = True
    for area_class in AREA_CLASSES:
        rule = rules[area_class]
        block: dict[str, Any] = {"before": before[area_class], "after": after[area_class]}
        block["standard"] = rule.standard_id if rule.set_by_profile and area_class != "rural" else None
        block["information"] = block["standard"] is None
        if area_class in ("urban", "township"):
            rows = (demand["area_class"] == area_class).to_numpy()
            total = float(demand.loc[rows, "population"].sum())
            lost = float(demand.loc[rows & unreachable, "population"].sum())
            block["coverable"] = round((total - lost) / total, 6) if total else None
        out[area_class] = block
    return out


def township_table(
    townships: gpd.GeoDataFrame, *, before: BeforeAfter, after: BeforeAfter, proposals: pd.DataFrame
) -> pd.DataFrame:
    """Per township: population, coverage and villages with a station before/after, proposals, cost."""
    demand_before, demand_after = before.demand, after.demand
    villages_before, villages_after = before.villages, after.villages
    rows = []
    for _, tw in townships.iterrows():
        code = str(tw["township_code"])
        d_mask = demand_before["township_code"].astype(str) == code
        pop = float(demand_before.loc[d_mask, "population"].sum())
        cov_b = float(demand_before.loc[d_mask & demand_before["covered"], "population"].sum())
        cov_a = float(demand_after.loc[d_mask & demand_after["covered"], "population"].sum())
        v_mask = (villages_before["township_code"].astype(str) == code) & (
            villages_before["kind"] == "village"
        )
        p_mask = proposals["township_code"].astype(str) == code
        rows.append(
            {
                "township_code": code,
                "township_name": tw["township_name"],
                "population": round(pop, 1),
                "coverage_before": round(cov_b / pop, 4) if pop else None,
                "coverage_after": round(cov_a / pop, 4) if pop else None,
                "villages": int(v_mask.sum()),
                "villages_with_station_before": int((villages_before["has_station"] & v_mask).sum()),
                "villages_with_station_after": int((villages_after["has_station"] & v_mask).sum()),
                "villages_own_station_before": int((villages_before["own_station"] & v_mask).sum()),
                "villages_own_station_after": int((villages_after["own_station"] & v_mask).sum()),
                "proposed_outlets": int((p_mask & (proposals["type"] == "outlet")).sum()),
                "proposed_lockers": int((p_mask & (proposals["type"] == "locker")).sum()),
                "proposed_village_stations": int((p_mask & (proposals["type"] == "village_station")).sum()),
                "proposed_cost": round(float(proposals.loc[p_mask, "cost"].sum()), 2),
            }
        )
    return pd.DataFrame(rows)
