"""The geodata adapter of the optimiser: layers in, coverage arrays to the models, proposals out.

The models in :mod:`planner.optimize` take arrays only; this module builds those arrays from the
demand, village, facility and candidate layers, calls the models, and turns the chosen sites into the
``proposals.csv`` rows (with the population each proposal newly covers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from planner.evaluate import ServiceRule, SnapCache, demand_site_coverage, points_xy
from planner.optimize import (
    Phase,
    SolveResult,
    SolverSettings,
    locker_requirement,
    outlet_requirement,
    solve_density,
    solve_max_coverage,
    solve_min_cost_cover,
    solve_village_stations,
)
from planner.standards import Profile
from planner.types import AreaClass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlacementOutcome:
    """What one placement model chose."""

    name: str
    chosen: gpd.GeoDataFrame  # the chosen candidate rows
    result: SolveResult | None
    rows_total: int  # demand rows (or villages) the model had to serve
    rows_unreachable: int  # of those, rows no candidate nor existing site can serve
    population_unreachable: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: positions (in the demand or village frame) of the rows no site can serve within standard
    uncoverable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: the covering instance (coverage, demand weight, site cost, fixed sites) for a budget curve
    instance: tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray] | None = None


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


def _empty_like(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return candidates.iloc[0:0].copy()


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
        demand, site_xy, rules=rules, snaps=snaps, site_key="pickup_sites", reading=reading, classes=classes
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
            _empty_like(candidates),
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


def village_share_matrix(
    villages: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str,
) -> sp.csr_matrix:
    """Villages × candidate stations: True where the candidate can serve the village.

    A candidate serves its own village (same village_code) and, shared (V-SHARE), every village within
    the sharing reach (distance ≤ d OR time ≤ t along the network, or straight-line with ``buffer``).
    """
    v_xy = points_xy(villages)
    c_xy = points_xy(candidates)
    n_v, n_c = len(villages), len(candidates)
    if n_v == 0 or n_c == 0:
        return sp.csr_matrix((n_v, n_c), dtype=bool)
    mappable = ~np.isnan(v_xy).any(axis=1)
    reach = sp.csr_matrix((n_v, n_c), dtype=bool)
    if mappable.any():
        from planner.coverage import buffer_coverage

        if reading == "buffer":
            block = buffer_coverage(v_xy[mappable], c_xy, radius_m=rule.distance_m)
        else:
            vsnap = snaps.snap("villages_to_place", rule.mode, v_xy[mappable])
            csnap = snaps.snap("station_candidates", rule.mode, c_xy)
            block = snaps.coverage(
                rule.mode, vsnap, csnap, max_distance_m=rule.distance_m, max_time_s=rule.time_s
            )
        index = np.flatnonzero(mappable)
        block = sp.coo_matrix(block)
        reach = sp.csr_matrix(
            (np.ones(block.nnz, dtype=bool), (index[block.row], block.col)), shape=(n_v, n_c), dtype=bool
        )
    codes = villages["village_code"].astype(str).to_numpy()
    cand_codes = candidates["village_code"].astype(str).to_numpy()
    code_pos = {code: i for i, code in enumerate(codes)}
    own_rows = [code_pos[c] for c in cand_codes if c in code_pos]
    own_cols = [j for j, c in enumerate(cand_codes) if c in code_pos]
    own = sp.csr_matrix(
        (np.ones(len(own_rows), dtype=bool), (own_rows, own_cols)), shape=(n_v, n_c), dtype=bool
    )
    return sp.csr_matrix(reach + own, dtype=bool)


def place_village_stations(
    villages: gpd.GeoDataFrame,
    has_station: np.ndarray,
    candidates: gpd.GeoDataFrame,
    *,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
    phases: Sequence[Phase] | None = None,
) -> PlacementOutcome:
    """Least-cost village stations so that every administrative village without one is served.

    With ``phases`` (the profile's V-STATION targets by year with the scenario's yearly budgets),
    stations are also given an opening year so that each year's share of villages is met within that
    year's money; ``result.arrays["open_year"]`` and ``result.extra["by_year"]`` say how.
    """
    if phases:
        return _phased_village_stations(
            villages,
            has_station,
            candidates,
            rule=rule,
            snaps=snaps,
            reading=reading,
            settings=settings,
            phases=phases,
        )
    need = (villages["kind"].to_numpy() == "village") & ~np.asarray(has_station, dtype=bool)
    targets = villages.loc[need]
    if len(targets) == 0 or len(candidates) == 0:
        notes = ("every administrative village already has a station",) if len(targets) == 0 else ()
        if len(targets) and not len(candidates):
            notes = ("no village-station candidate sites",)
        return PlacementOutcome(
            "village_station",
            _empty_like(candidates),
            None,
            len(targets),
            len(targets) if len(targets) and not len(candidates) else 0,
            float(targets["population"].fillna(0).sum()) if not len(candidates) else 0.0,
            notes,
        )
    share = village_share_matrix(targets, candidates, rule=rule, snaps=snaps, reading=reading)
    coverable = np.asarray(share.sum(axis=1)).ravel() > 0
    result = solve_min_cost_cover(
        share, candidates["cost"].to_numpy(dtype=float), fixed_open=None, settings=settings
    )
    chosen = candidates.loc[np.asarray(result.selected, dtype=bool)].copy()
    log.info(
        "village stations: %d villages to serve (%d unreachable) → %d stations, status %s",
        len(targets),
        int((~coverable).sum()),
        len(chosen),
        result.status,
    )
    return PlacementOutcome(
        "village_station",
        chosen,
        result,
        len(targets),
        int((~coverable).sum()),
        float(targets.loc[~coverable, "population"].fillna(0).sum()),
        result.notes,
        np.flatnonzero(need)[~coverable],
    )


def _phased_village_stations(
    villages: gpd.GeoDataFrame,
    has_station: np.ndarray,
    candidates: gpd.GeoDataFrame,
    *,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
    phases: Sequence[Phase],
) -> PlacementOutcome:
    admin = villages["kind"].to_numpy() == "village"
    pool = villages.loc[admin]
    before = np.asarray(has_station, dtype=bool)[admin]
    share = village_share_matrix(pool, candidates, rule=rule, snaps=snaps, reading=reading)
    result = solve_village_stations(
        share, candidates["cost"].to_numpy(dtype=float), has_station=before, phases=phases, settings=settings
    )
    chosen_mask = np.asarray(result.arrays["new"], dtype=bool)
    chosen = candidates.loc[chosen_mask].copy()
    chosen["open_year"] = np.asarray(result.arrays["open_year"])[chosen_mask]
    unservable = np.asarray(result.arrays["unservable"], dtype=bool)
    by_year = "; ".join(
        f"{row['year']}: {row.get('served', '?')} villages served" for row in result.extra.get("by_year", [])
    )
    return PlacementOutcome(
        "village_station",
        chosen,
        result,
        int((~before).sum()),
        int(unservable.sum()),
        float(pool.loc[unservable, "population"].fillna(0).sum()),
        (f"stations phased by year ({by_year})",),
        np.flatnonzero(admin)[unservable],
    )


def attribute_gains(gained_xy: np.ndarray, gained_weight: np.ndarray, chosen_xy: np.ndarray) -> np.ndarray:
    """Split newly covered population among chosen sites: each newly covered point goes to its nearest one."""
    totals = np.zeros(len(chosen_xy))
    if len(chosen_xy) == 0 or len(gained_xy) == 0:
        return totals
    _, idx = cKDTree(chosen_xy).query(gained_xy)
    np.add.at(totals, idx, gained_weight)
    return totals


def proposals_table(
    chosen: Sequence[gpd.GeoDataFrame],
    gains: Sequence[np.ndarray],
    *,
    township_names: Mapping[str, str],
) -> pd.DataFrame:
    """The ``proposals.csv`` table (WGS-84 lon/lat) for the chosen candidates of every model."""
    frames = []
    for frame, gain in zip(chosen, gains, strict=True):
        if len(frame) == 0:
            continue
        wgs = frame.to_crs(4326)
        frames.append(
            pd.DataFrame(
                {
                    "id": frame["candidate_id"].astype(str).to_numpy(),
                    "type": frame["type"].astype(str).to_numpy(),
                    "lon": wgs.geometry.x.round(6).to_numpy(),
                    "lat": wgs.geometry.y.round(6).to_numpy(),
                    "township_code": frame["township_code"].astype(str).to_numpy(),
                    "township_name": [township_names.get(str(c), "") for c in frame["township_code"]],
                    "cost": frame["cost"].to_numpy(dtype=float),
                    "population_gained": np.round(gain, 1),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=[
                "id",
                "type",
                "lon",
                "lat",
                "township_code",
                "township_name",
                "cost",
                "population_gained",
            ]
        )
    return pd.concat(frames, ignore_index=True)


def solver_summary(outcomes: Sequence[PlacementOutcome]) -> dict[str, Any]:
    """The ``solver`` block of summary.json: the worst status and gap, the plan's cost, the time.

    ``objective`` is the money objective (the cost of the new sites of the cost-minimising models);
    each model's own objective (the park model's is weighted travel minutes) is under ``models``.
    """
    results = [(o.name, o.result) for o in outcomes if o.result is not None]
    if not results:
        return {"name": "none", "status": "not_needed", "objective": 0.0, "mip_gap": 0.0, "seconds": 0.0}
    order = {"trivial": 0, "optimal": 0, "gap_limit": 1, "time_limit": 2}
    worst = max((r for _, r in results), key=lambda r: order.get(r.status, 3))
    solvers = sorted({r.solver for _, r in results if r.solver not in ("reductions", "closed form")})
    return {
        "name": solvers[0] if solvers else results[0][1].solver,
        "status": worst.status,
        "objective": float(sum(r.objective for name, r in results if name != "park")),
        "mip_gap": float(max(r.mip_gap for _, r in results)),
        "seconds": float(sum(r.seconds for _, r in results)),
        "models": {
            name: {
                "status": r.status,
                "objective": r.objective,
                "objective_unit": "weighted minutes" if name == "park" else "yuan",
                "mip_gap": r.mip_gap,
                "seconds": r.seconds,
                "size_before": r.size_before,
                "size_after": r.size_after,
            }
            for name, r in results
        },
    }
