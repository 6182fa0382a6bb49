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
from planner.optimize import SolveResult, SolverSettings, solve_min_cost_cover
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
) -> PlacementOutcome:
    """Least-cost set of pickup points so that every coverable urban/township demand point is served.

    Existing pickup facilities are fixed open; candidates carry their cost. Demand that no site (existing
    or candidate) can serve within its class's standard is counted and reported, not forced.
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
    result = solve_min_cost_cover(sp.csr_matrix(cov), cost, fixed_open=fixed, settings=settings)
    chosen_mask = np.asarray(result.selected, dtype=bool)[n_exist:]
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
        result.notes,
        rows[~coverable],
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
        from planner.coverage import buffer_coverage, coverage_matrix

        if reading == "buffer":
            block = buffer_coverage(v_xy[mappable], c_xy, radius_m=rule.distance_m)
        else:
            net = snaps.networks[rule.mode]
            vsnap = snaps.snap("villages_to_place", rule.mode, v_xy[mappable])
            csnap = snaps.snap("station_candidates", rule.mode, c_xy)
            block = coverage_matrix(net, vsnap, csnap, max_distance_m=rule.distance_m, max_time_s=rule.time_s)
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
) -> PlacementOutcome:
    """Least-cost village stations so that every administrative village without one is served."""
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
    """The ``solver`` block of summary.json: the worst status and gap, the total objective and time."""
    results = [o.result for o in outcomes if o.result is not None]
    if not results:
        return {"name": "none", "status": "not_needed", "objective": 0.0, "mip_gap": 0.0, "seconds": 0.0}
    order = {"optimal": 0, "gap_limit": 1, "time_limit": 2}
    worst = max(results, key=lambda r: order.get(r.status, 3))
    return {
        "name": results[0].solver,
        "status": worst.status,
        "objective": float(sum(r.objective for r in results)),
        "mip_gap": float(max(r.mip_gap for r in results)),
        "seconds": float(sum(r.seconds for r in results)),
        "models": {
            o.name: {
                "status": o.result.status,
                "objective": o.result.objective,
                "mip_gap": o.result.mip_gap,
                "seconds": o.result.seconds,
            }
            for o in outcomes
            if o.result is not None
        },
    }
