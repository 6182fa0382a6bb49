"""The plan's rows: chosen sites as facilities and ``proposals.csv`` rows, with the population each
proposal newly covers, and the solver block of ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.geo import points_xy
from planner.plan.outcome import PlacementOutcome


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
    """The ``proposals.csv`` table (WGS-84 lon/lat) for the chosen candidates of every model, with the
    standards each site is there for (``standards``: ``;``-joined ids; ``max_coverage``: the budget plan)."""
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
                    "standards": frame["standards"].fillna("").astype(str).to_numpy()
                    if "standards" in frame.columns
                    else "",
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
                "standards",
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


def facilities_with(
    existing: gpd.GeoDataFrame, outcomes: list[PlacementOutcome], crs: Any, *, park_carriers: int = 3
) -> gpd.GeoDataFrame:
    """Existing facilities (status ``existing``) and every outcome's chosen sites (``proposed``)."""
    proposed = proposed_facilities(outcomes, crs, park_carriers=park_carriers)
    both = pd.concat([existing.assign(status="existing"), proposed], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=crs)


def proposed_facilities(
    outcomes: list[PlacementOutcome], crs: Any, *, park_carriers: int = 3
) -> gpd.GeoDataFrame:
    """The chosen sites as facility rows; a proposed park is planned to host ``park_carriers`` carriers."""
    outcome_carriers = float(park_carriers)
    frames = []
    for outcome in outcomes:
        if len(outcome.chosen) == 0:
            continue
        chosen = outcome.chosen
        frames.append(
            gpd.GeoDataFrame(
                {
                    "facility_id": chosen["candidate_id"].astype(str).to_numpy(),
                    "type": chosen["type"].astype(str).to_numpy(),
                    "name": "",
                    "brands": "",
                    "capacity": chosen["capacity"].to_numpy(dtype=float) if "capacity" in chosen else np.nan,
                    "floor_area_m2": np.nan,
                    "village_code": chosen["village_code"].astype(str).to_numpy(),
                    "township_code": chosen["township_code"].astype(str).to_numpy(),
                    "status": "proposed",
                    "cost": chosen["cost"].to_numpy(dtype=float),
                    "carriers_planned": np.where(
                        chosen["type"].to_numpy() == "park", outcome_carriers, np.nan
                    ),
                },
                geometry=chosen.geometry.to_numpy(),
                crs=crs,
            )
        )
    if not frames:
        return gpd.GeoDataFrame({"status": pd.Series(dtype=object)}, geometry=gpd.GeoSeries([], crs=crs))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def population_gains(
    demand_before: gpd.GeoDataFrame,
    demand_after: gpd.GeoDataFrame,
    villages_before: gpd.GeoDataFrame,
    villages_after: gpd.GeoDataFrame,
    outcomes: list[PlacementOutcome],
) -> list[np.ndarray]:
    """Population newly covered, credited to the nearest proposal of the model that covers it."""
    pickup, stations = outcomes[0], outcomes[1]
    newly = demand_after["covered"].to_numpy() & ~demand_before["covered"].to_numpy()
    newly &= demand_before["area_class"].isin(["urban", "township"]).to_numpy()
    pickup_gain = attribute_gains(
        points_xy(demand_before)[newly],
        demand_before["population"].to_numpy()[newly],
        points_xy(pickup.chosen),
    )
    served = villages_after["has_station"].to_numpy() & ~villages_before["has_station"].to_numpy()
    station_gain = attribute_gains(
        points_xy(villages_before)[served],
        villages_before["population"].fillna(0).to_numpy()[served],
        points_xy(stations.chosen),
    )
    return [pickup_gain, station_gain, *[np.zeros(len(o.chosen)) for o in outcomes[2:]]]
