"""The most people served for a budget: pickup points and village stations in one model (MCLP).

Under ``objective: max_coverage`` the money is spent where it serves most people, whether on a
pickup point for urban and township people or on a village station for a village's people: one
maximal-covering model over both (:func:`planner.optimize.joint.solve_joint`), with the total and
per-type budgets as its limits. Count standards are not imposed: the budget decides, and what stays
short is reported with cause ``budget``.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from planner.audit import Units
from planner.coverage import ServiceRule, SnapCache
from planner.optimize import SolverSettings
from planner.optimize.joint import Budgets, JointInstance, solve_joint
from planner.plan.outcome import PlacementOutcome
from planner.plan.pickup import PickupRequest, pickup_instance
from planner.plan.stations import own_matrix, village_share_matrix
from planner.types import AreaClass

__all__ = ["place_for_budget"]


def _station_block(
    villages: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str,
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
    """Located administrative villages (positions), villages × [already served, candidates], weights."""
    admin = villages["kind"].astype(str).to_numpy() == "village"
    located = villages["mappable"].fillna(True).astype(bool).to_numpy() if "mappable" in villages else True
    idx = np.flatnonzero(admin & located)
    pool = villages.iloc[idx]
    share = own_matrix(pool, candidates)
    if rule.set_by_profile:
        share = village_share_matrix(pool, candidates, rule=rule, snaps=snaps, reading=reading)
    served = pool["has_station"].fillna(False).astype(bool).to_numpy()
    block = sp.hstack([sp.csr_matrix(served[:, None]), share], format="csr")
    return idx, block, pool["population"].fillna(0).to_numpy(dtype=float)


def place_for_budget(
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    pickup_candidates: gpd.GeoDataFrame,
    station_candidates: gpd.GeoDataFrame,
    *,
    budgets: Budgets,
    forced: frozenset[str],
    units: Units,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
) -> tuple[PlacementOutcome, PlacementOutcome]:
    """Pickup points and stations serving the most people within the budgets."""
    request = PickupRequest(
        classes=("urban", "township"), requirements=(), objective="max_coverage", forced=forced
    )
    rows, pick, copies = pickup_instance(
        demand,
        existing,
        pickup_candidates,
        request=request,
        units=units,
        rules=rules,
        snaps=snaps,
        reading=reading,
    )
    v_idx, block, v_weight = _station_block(
        villages, station_candidates, rule=rules["rural"], snaps=snaps, reading=reading
    )
    n_p, n_s = pick.n_sites, block.shape[1]
    station_ids = station_candidates["candidate_id"].astype(str).to_numpy()
    inst = JointInstance(
        coverage=sp.csr_matrix(sp.block_diag([pick.coverage, block]), dtype=bool),
        weight=np.r_[pick.weight, v_weight],
        fixed=np.r_[pick.fixed, True, np.zeros(n_s - 1, dtype=bool)],
        cost=np.r_[pick.cost, 0.0, station_candidates["cost"].to_numpy(dtype=float)],
        site_type=np.concatenate(
            [pick.site_type.astype(object), np.full(n_s, "village_station", dtype=object)]
        ),
        members=sp.csr_matrix((0, n_p + n_s), dtype=bool),
        need=np.zeros(0, dtype=np.int64),
        forced=np.r_[
            pick.forced if pick.forced is not None else np.zeros(n_p),
            0.0,
            np.isin(station_ids, list(forced)).astype(float),
        ],
        units=np.r_[pick.max_units, np.ones(n_s)],
    )
    result = solve_joint(inst, objective="max_coverage", budgets=budgets, settings=settings)
    selected = np.asarray(result.selected, dtype=bool)
    covered = np.asarray(result.arrays["covered"], dtype=bool)
    n_exist = int(pick.fixed.sum())
    site_units = np.asarray(result.arrays["units"])
    chosen_p = pickup_candidates.loc[copies.chosen(site_units[n_exist:n_p])].copy()
    chosen_p["standards"] = "max_coverage"
    chosen_s = station_candidates.loc[selected[n_p + 1 :]].copy()
    chosen_s["standards"] = "max_coverage"
    note = (
        f"objective max_coverage: the most people served within the budget ({result.objective:,.0f} people)",
    )
    p_cov = np.asarray(pick.coverage.sum(axis=1)).ravel() > 0
    pickup = PlacementOutcome(
        "pickup",
        chosen_p,
        result,
        len(rows),
        int((~p_cov).sum()),
        float(pick.weight[~p_cov].sum()),
        note,
        rows[~p_cov],
        (pick.coverage, pick.weight, pick.cost, pick.fixed),
        served_rows=rows[covered[: len(rows)]],
    )
    stations = PlacementOutcome(
        "village_station", chosen_s, None, len(v_idx), 0, 0.0, note, served_rows=v_idx[covered[len(rows) :]]
    )
    return pickup, stations
