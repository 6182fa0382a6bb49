"""Candidate sites generated from the data when the scenario gives no candidate file.

Rules (the same as ``planner fetch`` writes, see :mod:`planner.fetch.candidates`):

- ``outlet``: nodes of the vehicle road network in a populated demand cell, thinned greedily (most
  populated first) so that no two are closer than ``outlet_spacing_m``;
- ``locker``: the same nodes in dense cells (≥ ``locker_density_per_km2`` people per km²), thinned to
  ``locker_spacing_m``;
- ``village_station``: the point of every administrative village with coordinates.

Costs come from the scenario's cost table. These are a starting point: a county replaces them with the
sites it can build on.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.evaluate import points_xy
from planner.fetch.candidates import thin
from planner.network import ModeNetwork


def generate_candidates(
    net: ModeNetwork,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    cost_table: Mapping[str, float],
    cell_size_m: float,
    outlet_spacing_m: float = 1000.0,
    locker_spacing_m: float = 500.0,
    locker_density_per_km2: float = 1500.0,
) -> gpd.GeoDataFrame:
    """Candidate sites by the rules of this module, in the network's (work) CRS.

    Parameters
    ----------
    net
        The vehicle network; its nodes are the outlet and locker candidates.
    demand
        Demand cells (``population``) of size ``cell_size_m``.
    villages
        Villages (``kind``, ``village_code``); administrative villages with a point get a station site.
    cost_table
        Cost per facility type; types missing from it are not generated.
    """
    node_xy = np.asarray(net.node_xy, dtype=float)
    people = np.zeros(len(node_xy))
    if len(demand) and len(node_xy):
        dist, idx = cKDTree(points_xy(demand)).query(node_xy)
        inside = dist <= cell_size_m * np.sqrt(0.5)
        people[inside] = demand["population"].to_numpy(dtype=float)[idx[inside]]
    density = people / (cell_size_m * cell_size_m / 1e6)
    rows: list[dict[str, object]] = []
    for kind, mask, spacing in (
        ("outlet", people > 0, outlet_spacing_m),
        ("locker", density >= locker_density_per_km2, locker_spacing_m),
    ):
        if kind not in cost_table:
            continue
        pool = np.flatnonzero(mask)
        order = pool[np.argsort(-people[pool], kind="stable")]
        for n, k in enumerate(thin(node_xy, order, spacing), start=1):
            x, y = node_xy[k]
            rows.append({"candidate_id": f"G-{kind}-{n}", "type": kind, "x": x, "y": y, "village_code": ""})
    if "village_station" in cost_table and len(villages):
        admin = villages[
            (villages["kind"] == "village") & villages.geometry.notna() & ~villages.geometry.is_empty
        ]
        xy = points_xy(admin)
        for n, (code, (x, y)) in enumerate(zip(admin["village_code"].astype(str), xy, strict=True), start=1):
            rows.append({"candidate_id": f"G-village_station-{n}", "type": "village_station", "x": x, "y": y,
                         "village_code": code})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["candidate_id", "type", "x", "y", "village_code"])
    return gpd.GeoDataFrame(
        {
            "candidate_id": frame["candidate_id"],
            "type": frame["type"],
            "cost": frame["type"].map(dict(cost_table)).astype(float),
            "capacity": np.nan,
            "village_code": frame["village_code"],
        },
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=net.crs,
    )
