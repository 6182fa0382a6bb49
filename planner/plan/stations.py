"""Village stations (V-STATION, V-ALL): least-cost stations so that every administrative village is
served — by its own station or, shared (V-SHARE), by one within the sharing reach — optionally phased
by year against the profile's targets and the scenario's yearly budgets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from planner.audit import target_for_year
from planner.coverage import ServiceRule
from planner.coverage.snaps import SnapCache
from planner.coverage.straight import buffer_coverage
from planner.geo import points_xy
from planner.optimize import Phase, SolveResult, SolverSettings, solve_village_stations
from planner.optimize.joint import StationInstance, solve_station_plan
from planner.plan.outcome import PlacementOutcome, Shortfall, empty_like
from planner.standards import Profile, YearTarget

log = logging.getLogger(__name__)


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
        if reading == "buffer":
            block = buffer_coverage(v_xy[mappable], c_xy, radius_m=rule.distance_m)
        else:
            vsnap = snaps.snap(rule.mode, v_xy[mappable])
            csnap = snaps.snap(rule.mode, c_xy)
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


def own_matrix(villages: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame) -> sp.csr_matrix:
    """Villages × candidate stations: True where the candidate stands in the village (same code)."""
    codes = {c: i for i, c in enumerate(villages["village_code"].astype(str))}
    cand = candidates["village_code"].astype(str).to_numpy()
    cols = [j for j, c in enumerate(cand) if c in codes]
    rows = [codes[cand[j]] for j in cols]
    return sp.csr_matrix(
        (np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(villages), len(candidates))
    )


@dataclass(frozen=True)
class StationRequest:
    """What the village-station plan must reach: the standards in ``plan.meet`` that count villages.

    ``own_target``/``served_target``: the year's target of the standard read as "a station in the
    village" / "own or shared" (``None`` when no standard in ``meet`` asks it).
    """

    own_target: tuple[str, YearTarget] | None
    served_target: tuple[str, YearTarget] | None
    budget: float | None = None
    phases: Sequence[Phase] | None = None
    forced: frozenset[str] = frozenset()


def station_request(profile: Profile, meet: set[str], year: int, **kwargs: Any) -> StationRequest:
    """The station plan's targets from the profile's V-STATION and V-ALL (those in ``meet``)."""
    own: tuple[str, YearTarget] | None = None
    served: tuple[str, YearTarget] | None = None
    for sid in ("V-STATION", "V-ALL"):
        std = profile.get(sid)
        if std is None or sid not in meet:
            continue
        _, target, _ = target_for_year(std, year)
        if std.counts == "own":
            own = (sid, target) if own is None or target.share > own[1].share else own
        else:
            served = (sid, target) if served is None or target.share > served[1].share else served
    return StationRequest(own, served, **kwargs)


def _located(villages: gpd.GeoDataFrame) -> np.ndarray:
    admin = villages["kind"].astype(str).to_numpy() == "village"
    mappable = villages["mappable"].fillna(True).astype(bool).to_numpy() if "mappable" in villages else True
    return np.flatnonzero(admin & mappable)


def place_village_stations(
    villages: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    request: StationRequest,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
) -> PlacementOutcome:
    """Least-cost village stations so that the located administrative villages reach the targets.

    A village counts for an ``own`` target when a station stands in it, for a ``served`` target also
    when a station within the V-SHARE reach serves it (only when the profile sets V-SHARE). Villages
    without coordinates are not counted (the audit says how many). With ``phases`` (yearly budgets)
    the stations are phased by year (:func:`planner.optimize.solve_village_stations`).
    """
    pool_idx = _located(villages)
    pool = villages.iloc[pool_idx]
    n = len(pool)
    if n == 0 or (request.own_target is None and request.served_target is None):
        note = "no located administrative villages" if n == 0 else "no village standard in plan.meet"
        return PlacementOutcome("village_station", empty_like(candidates), None, n, 0, 0.0, (note,))
    own = own_matrix(pool, candidates)
    share = (
        village_share_matrix(pool, candidates, rule=rule, snaps=snaps, reading=reading)
        if rule.set_by_profile
        else own
    )
    has_own = pool["own_station"].fillna(False).astype(bool).to_numpy()
    served = pool["has_station"].fillna(False).astype(bool).to_numpy()
    if request.phases:
        return _phased(
            pool,
            pool_idx,
            candidates,
            own if request.own_target else share,
            has_own if request.own_target else served,
            request,
            settings,
        )
    inst = StationInstance(
        own=own,
        share=share,
        has_own=has_own,
        served=served,
        cost=candidates["cost"].to_numpy(dtype=float),
        need_own=request.own_target[1].required(n) if request.own_target else 0,
        need_served=request.served_target[1].required(n) if request.served_target else 0,
        weight=pool["population"].fillna(0).to_numpy(dtype=float),
        forced=candidates["candidate_id"].astype(str).isin(request.forced).to_numpy(),
    )
    result = solve_station_plan(inst, budget=request.budget, settings=settings)
    chosen = candidates.loc[np.asarray(result.selected, dtype=bool)].copy()
    purposes = [t[0] for t in (request.own_target, request.served_target) if t is not None]
    chosen["standards"] = ";".join(purposes)
    log.info("village stations: %d located villages → %d stations, status %s", n, len(chosen), result.status)
    unservable = ~(served | has_own | (np.asarray(share.sum(axis=1)).ravel() > 0))
    return PlacementOutcome(
        "village_station",
        chosen,
        result,
        n,
        int(unservable.sum()),
        float(pool.loc[unservable, "population"].fillna(0).sum()),
        result.notes,
        pool_idx[unservable],
        shortfalls=_station_shortfalls(inst, request, result),
        served_rows=pool_idx[np.asarray(result.arrays["served"], dtype=bool)],
    )


def _station_shortfalls(
    inst: StationInstance, request: StationRequest, result: SolveResult
) -> tuple[Shortfall, ...]:
    out = []
    for target, need, got in (
        (request.own_target, inst.need_own, result.arrays["own"]),
        (request.served_target, inst.need_served, result.arrays["served"]),
    ):
        if target is not None and int(np.sum(got)) < need:
            out.append(Shortfall(target[0], "county", "", "", need - int(np.sum(got)), "no_candidate"))
    return tuple(out)


def _phased(
    pool: gpd.GeoDataFrame,
    pool_idx: np.ndarray,
    candidates: gpd.GeoDataFrame,
    matrix: sp.csr_matrix,
    has: np.ndarray,
    request: StationRequest,
    settings: SolverSettings,
) -> PlacementOutcome:
    result = solve_village_stations(
        matrix,
        candidates["cost"].to_numpy(dtype=float),
        has_station=has,
        phases=request.phases,
        settings=settings,
    )
    chosen_mask = np.asarray(result.arrays["new"], dtype=bool)
    chosen = candidates.loc[chosen_mask].copy()
    chosen["open_year"] = np.asarray(result.arrays["open_year"])[chosen_mask]
    target = request.own_target or request.served_target
    chosen["standards"] = target[0] if target else ""
    unservable = np.asarray(result.arrays["unservable"], dtype=bool)
    by_year = "; ".join(
        f"{row['year']}: {row.get('served', '?')} villages served" for row in result.extra.get("by_year", [])
    )
    return PlacementOutcome(
        "village_station",
        chosen,
        result,
        int((~has).sum()),
        int(unservable.sum()),
        float(pool.loc[unservable, "population"].fillna(0).sum()),
        (f"stations phased by year ({by_year})",),
        pool_idx[unservable],
        served_rows=pool_idx[np.asarray(result.arrays["served"], dtype=bool)],
    )
