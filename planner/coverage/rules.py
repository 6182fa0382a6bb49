"""Coverage of demand and villages by a set of facilities, under each area class's standard.

This is the adapter between the geodata (demand points, villages, facilities in the work CRS) and the
network engine (:mod:`planner.network`, :mod:`planner.coverage`). Each area class has one service
rule: a travel mode, a distance and a time (covered if distance ≤ d OR time ≤ t, as the standards say):

- ``urban``: R-URBAN (1 km or 10 minutes on foot),
- ``township``: R-TOWN (3 km or 30 minutes by vehicle; 15 minutes reported as ``covered_strict``),
- ``rural``: V-SHARE (a village station within the sharing reach, e.g. 2 km by tricycle) — rural areas
  are served by village stations ("村村通快递"), R-RURAL's one-outlet-per-township is audited per township.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from planner.coverage.engine import nearest_facility, within
from planner.coverage.snaps import SnapCache
from planner.coverage.straight import buffer_coverage
from planner.geo import points_xy
from planner.standards import Profile
from planner.types import AREA_CLASSES, PICKUP_TYPES, AreaClass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceRule:
    """The service standard that applies to one area class.

    ``set_by_profile`` is ``False`` when the profile does not set the standard and the planner
    measures coverage with its reference value (:data:`REFERENCE`) for information only.
    """

    area_class: AreaClass
    standard_id: str
    mode: str
    distance_m: float
    time_s: float
    strict_time_s: float | None = None
    set_by_profile: bool = True


#: Reference rules for coverage figures when a profile sets no radius or sharing standard: the
#: numbers of 吉市政办发〔2021〕30号 专栏2 (R-URBAN, R-TOWN) and the planner's default sharing reach.
#: They give information only: the audit checks only the standards a profile sets.
REFERENCE: dict[AreaClass, ServiceRule] = {
    "urban": ServiceRule("urban", "R-URBAN", "walk", 1000.0, 600.0, None, False),
    "township": ServiceRule("township", "R-TOWN", "car", 3000.0, 1800.0, 900.0, False),
    "rural": ServiceRule("rural", "V-SHARE", "tricycle", 2000.0, 600.0, None, False),
}


def service_rules(profile: Profile) -> dict[AreaClass, ServiceRule]:
    """The rule per area class from the profile (R-URBAN, R-TOWN, V-SHARE), else the reference rule."""
    rules = dict(REFERENCE)
    urban, town, share = profile.get("R-URBAN"), profile.get("R-TOWN"), profile.get("V-SHARE")
    if urban is not None:
        rules["urban"] = ServiceRule(
            "urban", "R-URBAN", urban.mode, urban.distance_km * 1000, urban.time_min * 60
        )
    if town is not None:
        strict = town.time_min_strict * 60 if town.time_min_strict else None
        rules["township"] = ServiceRule(
            "township", "R-TOWN", town.mode, town.distance_km * 1000, town.time_min * 60, strict
        )
    if share is not None:
        share_time = share.max_min if share.max_min is not None else 0.0
        rules["rural"] = ServiceRule("rural", "V-SHARE", share.mode, share.max_km * 1000, share_time * 60)
    return rules


def _straight_nearest_km(target_xy: np.ndarray, site_xy: np.ndarray) -> np.ndarray:
    out = np.full(len(target_xy), np.inf)
    valid_sites = site_xy[~np.isnan(site_xy).any(axis=1)]
    valid = ~np.isnan(target_xy).any(axis=1)
    if len(valid_sites) and valid.any():
        dist, _ = cKDTree(valid_sites).query(target_xy[valid])
        out[valid] = dist / 1000.0
    return out


def evaluate_demand(
    demand: gpd.GeoDataFrame,
    site_xy: np.ndarray,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
) -> pd.DataFrame:
    """Nearest-facility distance/time and coverage flags per demand point.

    Returns a frame indexed like ``demand`` with the columns the audit reads: reachable,
    nearest_km, nearest_min, straight_km, covered_network, covered_buffer, covered, covered_strict.
    """
    n = len(demand)
    demand_xy = points_xy(demand)
    straight_km = _straight_nearest_km(demand_xy, site_xy)
    reachable = np.zeros(n, dtype=bool)
    nearest_km = np.full(n, np.inf)
    nearest_min = np.full(n, np.inf)
    covered_network = np.zeros(n, dtype=bool)
    covered_buffer = np.zeros(n, dtype=bool)
    covered_strict = np.zeros(n, dtype=bool)
    classes = demand["area_class"].to_numpy()
    for area_class in AREA_CLASSES:
        rows = np.flatnonzero(classes == area_class)
        if len(rows) == 0:
            continue
        rule = rules[area_class]
        if rule.mode not in snaps.networks:  # straight-line-only run: no network measures
            reachable[rows] = True
            nearest_km[rows] = np.nan
            nearest_min[rows] = np.nan
        else:
            dsnap = snaps.snap(rule.mode, demand_xy)
            reachable[rows] = dsnap.reachable[rows]
            if len(site_xy):
                nearest = nearest_facility(snaps.networks[rule.mode], dsnap, snaps.snap(rule.mode, site_xy))
                nearest_km[rows] = nearest.distance_m[rows] / 1000.0
                nearest_min[rows] = nearest.time_s[rows] / 60.0
        within_d = within(nearest_km[rows] * 1000, rule.distance_m, "length")
        covered_network[rows] = within_d | within(nearest_min[rows] * 60, rule.time_s, "time")
        covered_buffer[rows] = within(straight_km[rows] * 1000, rule.distance_m, "length")
        strict_s = rule.strict_time_s if rule.strict_time_s is not None else rule.time_s
        covered_strict[rows] = within_d | within(nearest_min[rows] * 60, strict_s, "time")
    covered = covered_network if reading == "network" else covered_buffer
    out = pd.DataFrame(
        {
            "reachable": reachable,
            "nearest_km": nearest_km,
            "nearest_min": nearest_min,
            "straight_km": straight_km,
            "covered_network": covered_network,
            "covered_buffer": covered_buffer,
            "covered": covered,
            "covered_strict": covered_buffer if reading == "buffer" else covered_strict,
        },
        index=demand.index,
    )
    return out


def demand_site_coverage(
    demand: gpd.GeoDataFrame,
    site_xy: np.ndarray,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
    classes: tuple[AreaClass, ...],
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Sparse coverage (demand rows of ``classes`` × sites) under each row's class rule.

    Returns the demand row indices (positions in ``demand``) and a CSR matrix with one row per index.
    """
    demand_xy = points_xy(demand)
    area = demand["area_class"].to_numpy()
    blocks = []
    row_index = []
    for area_class in classes:
        rows = np.flatnonzero(area == area_class)
        if len(rows) == 0:
            continue
        rule = rules[area_class]
        if reading == "buffer":
            block = buffer_coverage(demand_xy[rows], site_xy, radius_m=rule.distance_m)
        else:
            dsnap = snaps.snap(rule.mode, demand_xy)
            ssnap = snaps.snap(rule.mode, site_xy)
            full = snaps.coverage(
                rule.mode, dsnap, ssnap, max_distance_m=rule.distance_m, max_time_s=rule.time_s
            )
            block = sp.csr_matrix(full)[rows]
        blocks.append(sp.csr_matrix(block, dtype=bool))
        row_index.append(rows)
    if not blocks:
        return np.zeros(0, dtype=int), sp.csr_matrix((0, len(site_xy)), dtype=bool)
    return np.concatenate(row_index), sp.vstack(blocks, format="csr")


def village_station_status(
    villages: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    *,
    rule: ServiceRule,
    snaps: SnapCache,
    reading: str = "network",
) -> pd.DataFrame:
    """Per village: its own station, a shared one within reach, and the nearest station km/min.

    ``own_station``: a station stands in the village (same ``village_code``). ``has_station``: own, or
    — when the profile sets V-SHARE (``rule.set_by_profile``) — a station within the sharing reach:
    distance ≤ d OR time ≤ t along the network, or, with ``reading="buffer"``, straight-line distance
    ≤ d (the reading the station plan uses too). ``mappable``: the village has coordinates.
    """
    xy = points_xy(villages)
    mappable = ~np.isnan(xy).any(axis=1)
    n = len(villages)
    nearest_km = np.full(n, np.inf)
    nearest_min = np.full(n, np.inf)
    station_xy = points_xy(stations)
    if len(stations) and mappable.any() and (reading == "buffer" or rule.mode not in snaps.networks):
        # the straight-line reading: straight-line km, no travel time
        nearest_km = np.where(mappable, _straight_nearest_km(xy, station_xy), np.inf)
        nearest_min = np.full(n, np.nan)
    elif len(stations) and mappable.any():
        vsnap = snaps.snap(rule.mode, xy)
        ssnap = snaps.snap(rule.mode, station_xy)
        nearest = nearest_facility(snaps.networks[rule.mode], vsnap, ssnap)
        nearest_km = np.where(mappable, nearest.distance_m / 1000.0, np.inf)
        nearest_min = np.where(mappable, nearest.time_s / 60.0, np.inf)
    own_codes = set(stations["village_code"].astype(str)) - {""} if len(stations) else set()
    own = villages["village_code"].astype(str).isin(own_codes).to_numpy()
    shared = within(nearest_km * 1000, rule.distance_m, "length") | within(
        nearest_min * 60, rule.time_s, "time"
    )
    shared &= rule.set_by_profile
    return pd.DataFrame(
        {
            "has_station": own | shared,
            "own_station": own,
            "nearest_station_km": nearest_km,
            "nearest_station_min": nearest_min,
            "mappable": mappable,
        },
        index=villages.index,
    )


def assess(
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand and villages with the coverage columns the audit reads, for a given facility set.

    Demand gets the columns of :func:`evaluate_demand` (served by the pickup facilities), villages those
    of :func:`village_station_status` (served by the village stations).
    """
    pickup = facilities[facilities["type"].isin(PICKUP_TYPES)]
    flags = evaluate_demand(demand, points_xy(pickup), rules=rules, snaps=snaps, reading=reading)
    demand = demand.drop(columns=list(flags.columns), errors="ignore").join(flags)
    stations = facilities[facilities["type"] == "village_station"]
    status = village_station_status(villages, stations, rule=rules["rural"], snaps=snaps, reading=reading)
    villages = villages.drop(columns=list(status.columns), errors="ignore").join(status)
    return demand, villages
