"""What the roads leave unreachable, per layer and per standard (``summary.json`` → ``unreachable_detail``).

A road file that covers only part of the area (roads of the county seat alone) does not stop a run:
the points farther than ``travel.max_snap_m`` from every road a travel mode may use cannot be served
along roads, and the plan is made for the rest. This module states what was left out:

``by_layer``
    per travel mode, for the demand (points, people), the located villages, the existing facilities and
    the candidate sites (per type): how many lie beyond the mode's roads;
``by_standard``
    per standard measured along roads: the radius standards (R-URBAN, R-TOWN) and the village sharing
    reach (V-SHARE) with the people or villages of their area class their mode cannot reach; the
    county park (P-COUNTY) with the outlets that reach no park site; the delivery chain with the
    villages it does not reach.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.coverage.rules import service_rules
from planner.geo import points_xy
from planner.plan.outcome import PlacementOutcome
from planner.run.prepare import Prepared

__all__ = ["reach_block"]

#: How many codes or ids of unreachable rows are listed (the counts are complete).
LISTED = 20


def _off(prepared: Prepared, mode: str, frame: gpd.GeoDataFrame) -> np.ndarray:
    """Mask of the rows of ``frame`` (with a geometry) beyond ``mode``'s roads."""
    has = (frame.geometry.notna() & ~frame.geometry.is_empty).to_numpy()
    off = np.zeros(len(frame), dtype=bool)
    if has.any():
        off[has] = ~prepared.snaps.snap(mode, points_xy(frame[has])).reachable
    return off


def _by_type(prepared: Prepared, mode: str, frame: gpd.GeoDataFrame, key: str) -> dict[str, Any]:
    off = _off(prepared, mode, frame)
    out = {}
    for kind in sorted(set(frame["type"].astype(str))):
        rows = (frame["type"].astype(str) == kind).to_numpy()
        out[kind] = {
            "total": int(rows.sum()),
            "unreachable": int((rows & off).sum()),
            "ids": frame.loc[rows & off, key].astype(str).tolist()[:LISTED],
        }
    return out


def _layers(prepared: Prepared, mode: str) -> dict[str, Any]:
    study, demand = prepared.study, prepared.demand
    people = demand["population"].to_numpy(dtype=float)
    off = _off(prepared, mode, demand)
    villages = study.villages
    v_off = _off(prepared, mode, villages)
    located = (villages.geometry.notna() & ~villages.geometry.is_empty).to_numpy()
    return {
        "demand": {
            "points": len(demand),
            "unreachable": int(off.sum()),
            "people": round(float(people[off].sum()), 1),
        },
        "villages": {
            "located": int(located.sum()),
            "unreachable": int(v_off.sum()),
            "codes": villages.loc[v_off, "village_code"].astype(str).tolist()[:LISTED],
        },
        "facilities": _by_type(prepared, mode, study.facilities, "facility_id"),
        "candidates": _by_type(prepared, mode, study.candidates, "candidate_id"),
    }


def _standards(
    prepared: Prepared, park: PlacementOutcome | None, chain: pd.DataFrame | None
) -> dict[str, Any]:
    demand = prepared.demand
    people = demand["population"].to_numpy(dtype=float)
    out: dict[str, Any] = {}
    for area_class, rule in service_rules(prepared.profile).items():
        if rule.mode not in prepared.networks:
            continue
        if area_class == "rural":
            villages = prepared.study.villages
            admin = (villages["kind"].astype(str) == "village").to_numpy()
            off = _off(prepared, rule.mode, villages) & admin
            out[rule.standard_id] = {
                "mode": rule.mode,
                "villages": int(admin.sum()),
                "unreachable": int(off.sum()),
            }
            continue
        rows = (demand["area_class"].astype(str) == area_class).to_numpy()
        off = _off(prepared, rule.mode, demand) & rows
        out[rule.standard_id] = {
            "mode": rule.mode,
            "people": round(float(people[rows].sum()), 1),
            "unreachable": round(float(people[off].sum()), 1),
        }
    if park is not None and park.rows_total:
        out["P-COUNTY"] = {
            "outlets": park.rows_total,
            "reach_no_park_site": park.rows_unreachable,
            "people": round(park.population_unreachable, 1),
        }
    if chain is not None and len(chain):
        minutes = pd.to_numeric(chain["chain_min"], errors="coerce").to_numpy(dtype=float)
        out["delivery_chain"] = {"villages": len(chain), "not_reached": int((~np.isfinite(minutes)).sum())}
    return out


def reach_block(
    prepared: Prepared, *, park: PlacementOutcome | None = None, chain: pd.DataFrame | None = None
) -> dict[str, Any]:
    """``{"by_layer": {mode: {...}}, "by_standard": {...}}`` (both empty in a straight-line-only run).

    Parameters
    ----------
    prepared
        The prepared run (networks, snaps, layers).
    park
        The park model's outcome (its unreachable rows are the outlets no park site reaches).
    chain
        The delivery-chain table (``chain_min`` inf where no chain reaches the village).
    """
    if not prepared.networks:
        return {"by_layer": {}, "by_standard": {}}
    return {
        "by_layer": {mode: _layers(prepared, mode) for mode in sorted(prepared.networks)},
        "by_standard": _standards(prepared, park, chain),
    }
