"""County-level parts of the plan: express parks (P-COUNTY) and the three-tier delivery chain
(park → township outlet → village station).

Like :mod:`planner.plan.pickup`, this is a geodata adapter: it builds travel-time matrices on the road
networks (:func:`planner.coverage.od_pairs`) and hands arrays to :mod:`planner.optimize`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.coverage import od_pairs
from planner.geo import points_xy
from planner.network import ModeNetwork
from planner.network.snap import snap_points
from planner.optimize import SolverSettings, assign_tiers, solve_parks
from planner.plan.outcome import PlacementOutcome, Shortfall
from planner.standards import Profile

log = logging.getLogger(__name__)

#: Columns of the delivery-chain table.
CHAIN_COLUMNS = (
    "village_code",
    "village_name",
    "township_name",
    "station_id",
    "outlet_id",
    "park_id",
    "chain_min",
)
#: The longest trip a travel-time matrix looks for (seconds); farther pairs are unreachable.
MATRIX_LIMIT_S = 4 * 3600.0
PARK_TYPES = ("park", "sorting_centre")


def travel_minutes(
    net: ModeNetwork, origin_xy: np.ndarray, destination_xy: np.ndarray, *, max_snap_m: float
) -> np.ndarray:
    """Origins × destinations network travel time in minutes (``inf`` where unreachable)."""
    out = np.full((len(origin_xy), len(destination_xy)), np.inf)
    if len(origin_xy) == 0 or len(destination_xy) == 0:
        return out
    origins = snap_points(net, origin_xy, max_snap_m=max_snap_m)
    destinations = snap_points(net, destination_xy, max_snap_m=max_snap_m)
    oi, di, seconds = od_pairs(net, origins, destinations, weight="time", limit=MATRIX_LIMIT_S)
    out[oi, di] = seconds / 60.0
    return out


def brand_count(brands: pd.Series) -> np.ndarray:
    """Number of distinct carriers in a ``;``-joined brands column (NaN where unknown)."""
    counts = []
    for value in brands:
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            counts.append(np.nan)
        else:
            counts.append(len({b.strip() for b in str(value).replace("；", ";").split(";") if b.strip()}))
    return np.asarray(counts, dtype=float)


def qualifying_parks(facilities: gpd.GeoDataFrame, *, min_carriers: int) -> np.ndarray:
    """Mask of facilities that are parks or sorting centres hosting at least ``min_carriers`` carriers."""
    is_park = facilities["type"].isin(PARK_TYPES).to_numpy()
    brands = brand_count(facilities["brands"]) if "brands" in facilities else np.full(len(facilities), np.nan)
    return is_park & (np.nan_to_num(brands, nan=0.0) >= min_carriers)


def place_parks(
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    profile: Profile,
    net: ModeNetwork,
    max_snap_m: float,
    settings: SolverSettings,
    forced: frozenset[str] = frozenset(),
    max_cost: float | None = None,
    objective: str = "median",
) -> PlacementOutcome:
    """County express parks by p-median (or p-center) on travel time from the outlets (P-COUNTY).

    ``objective="center"`` minimises the longest travel time from any outlet instead of the
    population-weighted total. ``forced`` candidate ids are built; ``max_cost`` drops candidates
    dearer than the park budget.

    Clients are the outlets (existing and proposed), each weighted by its township's population
    shared among the township's outlets. Existing parks or sorting centres hosting enough carriers
    are fixed open and count towards the county's minimum; a candidate without a brands list is
    taken as a site built to host the required carriers (the standard's condition for a park).
    """
    rule = profile.require("P-COUNTY")
    qualifying = qualifying_parks(facilities, min_carriers=rule.min_carriers)
    if max_cost is not None:
        candidates = candidates[candidates["cost"].to_numpy(dtype=float) <= max_cost + 1e-6]
    empty = candidates.iloc[0:0].copy()
    if int(qualifying.sum()) >= rule.min_parks:
        return PlacementOutcome("park", empty, None, 0, 0, 0.0, ("the county already has a qualifying park",))
    if len(candidates) == 0:
        return PlacementOutcome(
            "park", empty, None, 1, 1, 0.0, ("no park candidate sites: P-COUNTY stays unmet",)
        )
    outlets = facilities[facilities["type"] == "outlet"]
    if len(outlets) == 0:
        return PlacementOutcome("park", empty, None, 1, 1, 0.0, ("no outlets to serve: no park placed",))
    population = demand.groupby(demand["township_code"].astype(str))["population"].sum()
    per_town = outlets["township_code"].astype(str).value_counts()
    codes = outlets["township_code"].astype(str)
    weight = np.array([population.get(c, 0.0) / per_town.get(c, 1) for c in codes], dtype=float)
    existing = facilities[qualifying]
    sites_xy = np.vstack([points_xy(existing), points_xy(candidates)])
    minutes = travel_minutes(net, points_xy(outlets), sites_xy, max_snap_m=max_snap_m)
    carriers = np.concatenate(
        [
            brand_count(existing["brands"]),
            np.nan_to_num(
                brand_count(candidates["brands"])
                if "brands" in candidates
                else np.full(len(candidates), np.nan),
                nan=float(rule.min_carriers),
            ),
        ]
    )
    fixed = np.zeros(len(sites_xy), dtype=bool)
    fixed[: len(existing)] = True
    fixed[len(existing) :] = candidates["candidate_id"].astype(str).isin(forced).to_numpy()
    eligible = fixed | (carriers >= rule.min_carriers)
    reach = np.isfinite(minutes[:, eligible]).any(axis=1)
    unreached = _unreached_note(outlets, reach, weight, net.mode.name)
    if not reach.any():
        log.warning("parks: %s", unreached)
        return PlacementOutcome(
            "park",
            empty,
            None,
            len(outlets),
            len(outlets),
            float(weight.sum()),
            (unreached,),
            uncoverable=np.arange(len(outlets)),
            shortfalls=(Shortfall("P-COUNTY", "county", "", "", 1, "unreachable"),),
        )
    p = max(rule.min_parks, int(fixed.sum()))
    if objective == "center":
        from planner.optimize import solve_p_center

        result = solve_p_center(
            minutes[reach],
            weight[reach],
            p=p,
            fixed_open=fixed,
            eligible=carriers >= rule.min_carriers,
            settings=settings,
        )
    else:
        result = solve_parks(
            minutes[reach],
            weight[reach],
            p=p,
            carriers=carriers,
            min_carriers=rule.min_carriers,
            fixed_open=fixed,
            settings=settings,
        )
    chosen = candidates.loc[np.asarray(result.selected, dtype=bool)[len(existing) :]].copy()
    log.info("parks: %d candidates → %d chosen (%s)", len(candidates), len(chosen), result.status)
    if unreached:
        log.warning("parks: %s", unreached)
    notes = (
        f"parks chosen by p-{objective} on {net.mode.name} travel time from {int(reach.sum())} outlets; "
        f"candidates without a brands list are taken to host ≥{rule.min_carriers} carriers",
    )
    return PlacementOutcome(
        "park",
        chosen,
        result,
        len(outlets),
        int((~reach).sum()),
        float(weight[~reach].sum()),
        (*notes, unreached) if unreached else notes,
        uncoverable=np.flatnonzero(~reach),
    )


def _unreached_note(outlets: gpd.GeoDataFrame, reach: np.ndarray, weight: np.ndarray, mode: str) -> str:
    """Which outlets reach no eligible park site by road ("" when all do)."""
    if reach.all():
        return ""
    ids = outlets["facility_id"].astype(str).to_numpy()[~reach]
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    planned = (
        f"the park is planned for the {int(reach.sum())} that do"
        if reach.any()
        else "no park is placed: the roads join no outlet to a park site"
    )
    return (
        f"{len(ids)} of {len(outlets)} outlets reach no eligible park site by {mode} road within "
        f"{MATRIX_LIMIT_S / 3600:g} h ({shown}; {weight[~reach].sum():,.0f} people of their townships); "
        f"{planned}"
    )


def delivery_chain(
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    net: ModeNetwork,
    max_snap_m: float,
    settings: SolverSettings,
) -> pd.DataFrame:
    """The three-tier chain per village: park → township outlet → village station, in minutes.

    Each station is assigned to the outlet, and each outlet to the park, that minimise the chain
    time (:func:`planner.optimize.assign_tiers`). A village takes its own station (same village
    code), else the nearest one. Columns: village_code, village_name, township_name, station_id,
    outlet_id, park_id, chain_min (``inf`` when no chain reaches the village).
    """
    columns = list(CHAIN_COLUMNS)
    stations = facilities[facilities["type"] == "village_station"]
    outlets = facilities[facilities["type"] == "outlet"]
    parks = facilities[facilities["type"].isin(PARK_TYPES)]
    admin = villages[(villages["kind"] == "village") & villages.geometry.notna()]
    if min(len(stations), len(outlets), len(parks), len(admin)) == 0:
        return pd.DataFrame(columns=columns)
    # parcels flow park → outlet → station: measure in that direction, pass as the model's matrices
    outlet_station = travel_minutes(net, points_xy(outlets), points_xy(stations), max_snap_m=max_snap_m)
    park_outlet = travel_minutes(net, points_xy(parks), points_xy(outlets), max_snap_m=max_snap_m)
    park_time = np.min(park_outlet, axis=0) if len(parks) else np.full(len(outlets), np.inf)
    reach = np.isfinite(outlet_station + park_time[:, None]).any(axis=0)
    if not reach.any():
        return pd.DataFrame(columns=columns)
    tiers = assign_tiers(outlet_station.T[reach], park_outlet.T, settings=settings)
    chain = np.full(len(stations), np.inf)
    station_outlet = np.full(len(stations), -1)
    chain[reach] = tiers.arrays["chain_min"]
    station_outlet[reach] = tiers.arrays["station_outlet"]
    outlet_park = tiers.arrays["outlet_park"]
    station_of = _station_of_village(admin, stations)
    rows = []
    ids_s = stations["facility_id"].astype(str).to_numpy()
    ids_o = outlets["facility_id"].astype(str).to_numpy()
    ids_p = parks["facility_id"].astype(str).to_numpy()
    for (_, village), s in zip(admin.iterrows(), station_of, strict=True):
        o = station_outlet[s]
        p = outlet_park[o] if o >= 0 else -1
        rows.append(
            {
                "village_code": village["village_code"],
                "village_name": village["village_name"],
                "township_name": village["township_name"],
                "station_id": ids_s[s],
                "outlet_id": ids_o[o] if o >= 0 else "",
                "park_id": ids_p[p] if p >= 0 else "",
                "chain_min": round(float(chain[s]), 2),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _station_of_village(villages: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> np.ndarray:
    """Index (into ``stations``) of each village's own station, else of its nearest station."""
    _, nearest = cKDTree(points_xy(stations)).query(points_xy(villages))
    own = {code: i for i, code in enumerate(stations["village_code"].astype(str)) if code}
    return np.array(
        [own.get(str(code), int(n)) for code, n in zip(villages["village_code"], nearest, strict=True)]
    )
