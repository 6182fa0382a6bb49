"""Village stations (V-STATION, V-ALL): least-cost stations so that every administrative village is
served — by its own station or, shared (V-SHARE), by one within the sharing reach — optionally phased
by year against the profile's targets and the scenario's yearly budgets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from planner.coverage import ServiceRule
from planner.coverage.snaps import SnapCache
from planner.coverage.straight import buffer_coverage
from planner.geo import points_xy
from planner.optimize import Phase, SolverSettings, solve_min_cost_cover, solve_village_stations
from planner.plan.outcome import PlacementOutcome, empty_like

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
            empty_like(candidates),
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
