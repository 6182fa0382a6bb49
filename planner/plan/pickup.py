"""Pickup points (outlets, locker groups, delivery centres): the radius standards (R-URBAN, R-TOWN)
and the density counts (R-RURAL, D-OUTLET, D-LOCKER) in one exact model, or the best coverage for a
budget.

The models in :mod:`planner.optimize` take arrays only; this module builds those arrays from the
demand, facility and candidate layers and calls them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.coverage import ServiceRule, demand_site_coverage
from planner.coverage.snaps import SnapCache
from planner.geo import points_xy
from planner.optimize import (
    SolverSettings,
    locker_requirement,
    outlet_requirement,
    solve_density,
    solve_max_coverage,
    solve_min_cost_cover,
)
from planner.plan.outcome import PlacementOutcome, empty_like
from planner.standards import Profile
from planner.types import AreaClass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DensityTargets:
    """Per-unit minimum counts the pickup plan must meet (R-RURAL, D-OUTLET per township; D-LOCKER
    per community), keyed ``outlet:<township_code>`` / ``locker:<community_code>``.

    ``required`` is capped at what the unit's candidate sites allow; ``table`` says, per unit, what the
    standard asks, what exists, how many candidates there are and what the plan is asked to reach.
    """

    required: dict[str, int]
    existing: dict[str, int]
    site_unit: np.ndarray
    table: pd.DataFrame

    @property
    def shortfalls(self) -> tuple[str, ...]:
        """One sentence per unit whose standard cannot be met with its candidate sites."""
        short = self.table[self.table["short_by"] > 0]
        return tuple(
            f"{r.kind} {r.code} {r.name}: the standard asks {r.standard_requires}, {r.existing} exist and "
            f"only {r.candidates} candidate sites are given: short by {r.short_by} (add candidate sites)"
            for r in short.itertuples()
        )


def density_targets(
    candidates: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    profile: Profile,
    meet: set[str],
) -> DensityTargets | None:
    """The per-unit counts of the standards in ``meet`` the profile sets (``None`` when there are none)."""
    standards = profile.standards
    rows: list[dict[str, Any]] = []
    site_unit = np.full(len(candidates), "", dtype=object)
    cand_type = candidates["type"].astype(str).to_numpy()
    cand_town = candidates["township_code"].astype(str).to_numpy()
    cand_village = candidates["village_code"].astype(str).to_numpy()
    fac_type = facilities["type"].astype(str).to_numpy()
    want_rural = "R-RURAL" in meet and standards.r_rural is not None
    want_outlet = "D-OUTLET" in meet and standards.d_outlet is not None
    if want_rural or want_outlet:
        population = demand.groupby(demand["township_code"].astype(str))["population"].sum()
        existing = pd.Series(facilities.loc[fac_type == "outlet", "township_code"].astype(str)).value_counts()
        for tw in townships.itertuples():
            code = str(tw.township_code)
            need = 0
            if want_rural and standards.r_rural is not None:
                need = standards.r_rural.outlets_per_township
            if want_outlet and standards.d_outlet is not None:
                pop = float(population.get(code, 0.0))
                need = max(need, int(outlet_requirement([pop], per_10k=standards.d_outlet.per_10k_min)[0]))
            in_unit = (cand_type == "outlet") & (cand_town == code)
            site_unit[in_unit] = f"outlet:{code}"
            rows.append(
                _unit_row("outlet", code, str(tw.township_name), need, int(existing.get(code, 0)), in_unit)
            )
    if "D-LOCKER" in meet and standards.d_locker is not None:
        communities = villages[villages["kind"] == "community"]
        households = communities["households"].astype(float)
        households = households.fillna(
            communities["population"].astype(float) / profile.household_size.persons
        )
        existing = pd.Series(facilities.loc[fac_type == "locker", "village_code"].astype(str)).value_counts()
        lockers_needed = locker_requirement(
            households.fillna(0).to_numpy(), households_per_group=standards.d_locker.households_per_group
        )
        for (code, name), k in zip(
            zip(
                communities["village_code"].astype(str), communities["village_name"].astype(str), strict=True
            ),
            lockers_needed,
            strict=True,
        ):
            in_unit = (cand_type == "locker") & (cand_village == code)
            site_unit[in_unit] = f"locker:{code}"
            rows.append(_unit_row("locker", code, name, int(k), int(existing.get(code, 0)), in_unit))
    if not rows:
        return None
    table = pd.DataFrame(rows)
    table["planned_required"] = np.minimum(
        table["standard_requires"], table["existing"] + table["candidates"]
    )
    table["short_by"] = table["standard_requires"] - table["planned_required"]
    return DensityTargets(
        required=dict(zip(table["unit"], table["planned_required"].astype(int), strict=True)),
        existing=dict(zip(table["unit"], table["existing"].astype(int), strict=True)),
        site_unit=site_unit,
        table=table,
    )


def _unit_row(
    kind: str, code: str, name: str, need: int, existing: int, in_unit: np.ndarray
) -> dict[str, Any]:
    return {
        "unit": f"{kind}:{code}",
        "kind": kind,
        "code": code,
        "name": name,
        "standard_requires": int(need),
        "existing": int(existing),
        "candidates": int(in_unit.sum()),
    }


def expand_multi_unit_sites(
    candidates: gpd.GeoDataFrame, max_per_site: Mapping[str, int]
) -> gpd.GeoDataFrame:
    """Repeat each candidate of a type that one site can host several of (e.g. locker groups).

    The k-th copy of candidate ``C1`` is ``C1#k`` (k ≥ 2): choosing it means one more unit at the same
    place and cost. Density counts then see every unit; coverage is unchanged by the copies.
    """
    repeat = candidates["type"].astype(str).map(lambda t: int(max_per_site.get(t, 1))).to_numpy()
    if (repeat <= 1).all():
        return candidates
    index = np.repeat(np.arange(len(candidates)), repeat)
    copy_no = np.concatenate([np.arange(1, k + 1) for k in repeat])
    out = candidates.iloc[index].copy()
    ids = out["candidate_id"].astype(str).to_numpy()
    out["candidate_id"] = [i if k == 1 else f"{i}#{k}" for i, k in zip(ids, copy_no, strict=True)]
    return out.reset_index(drop=True)


def place_pickup_points(
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
    classes: tuple[AreaClass, ...] = ("urban", "township"),
    density: DensityTargets | None = None,
    budget: float | None = None,
) -> PlacementOutcome:
    """Least-cost set of pickup points so that every coverable urban/township demand point is served.

    Existing pickup facilities are fixed open; candidates carry their cost. Demand that no site (existing
    or candidate) can serve within its class's standard is counted and reported, not forced. With
    ``density``, the same exact model also meets the per-unit counts (outlets per township, locker
    groups per community): one plan for the radius and the density standards together.
    """
    site_xy = (
        np.vstack([points_xy(existing), points_xy(candidates)]) if len(candidates) else points_xy(existing)
    )
    rows, cov = demand_site_coverage(
        demand, site_xy, rules=rules, snaps=snaps, reading=reading, classes=classes
    )
    n_exist = len(existing)
    cost = np.concatenate([np.zeros(n_exist), candidates["cost"].to_numpy(dtype=float)])
    fixed = np.zeros(len(cost), dtype=bool)
    fixed[:n_exist] = True
    population = demand["population"].to_numpy(dtype=float)[rows]
    coverable = np.asarray(cov.sum(axis=1)).ravel() > 0
    if not len(candidates) or cov.shape[0] == 0:
        return PlacementOutcome(
            "pickup",
            empty_like(candidates),
            None,
            len(rows),
            int((~coverable).sum()),
            float(population[~coverable].sum()),
            ("no candidate sites for pickup points",) if not len(candidates) else (),
            rows[~coverable],
        )
    notes: tuple[str, ...] = ()
    if budget is not None:  # best coverage for the money (MCLP); density counts are not imposed
        result = solve_max_coverage(
            sp.csr_matrix(cov), population, cost, budget=budget, fixed_open=fixed, settings=settings
        )
        chosen_mask = np.asarray(result.selected, dtype=bool)[n_exist:]
        notes = (f"objective max_coverage: most people covered for {budget:,.0f} yuan",)
    elif density is None:
        result = solve_min_cost_cover(sp.csr_matrix(cov), cost, fixed_open=fixed, settings=settings)
        chosen_mask = np.asarray(result.selected, dtype=bool)[n_exist:]
    else:
        cov = sp.csr_matrix(cov)
        by_existing = np.asarray(cov[:, :n_exist].sum(axis=1)).ravel() > 0
        result = solve_density(
            density.site_unit,
            candidates["cost"].to_numpy(dtype=float),
            density.required,
            existing=density.existing,
            coverage=cov[~by_existing][:, n_exist:],
            settings=settings,
        )
        chosen_mask = np.asarray(result.selected, dtype=bool)
        notes = density.shortfalls
    chosen = candidates.loc[chosen_mask].copy()
    log.info(
        "pickup plan: %d demand rows (%d unreachable), %d candidates → %d chosen, status %s",
        len(rows),
        int((~coverable).sum()),
        len(candidates),
        len(chosen),
        result.status,
    )
    return PlacementOutcome(
        "pickup",
        chosen,
        result,
        len(rows),
        int((~coverable).sum()),
        float(population[~coverable].sum()),
        (*result.notes, *notes),
        rows[~coverable],
        (sp.csr_matrix(cov), population, cost, fixed),
    )
