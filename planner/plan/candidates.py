"""Candidate sites generated from the data when the scenario gives no candidate file.

Rules (``planner fetch`` writes its candidate file by the same rules, :func:`pick_sites`):

- ``outlet``: nodes of the vehicle road network in a populated demand cell, thinned greedily (most
  populated first) so that no two are closer than ``outlet_spacing_m``;
- ``locker``: the same nodes in dense cells (≥ ``locker_density_per_km2`` people per km²), thinned to
  ``locker_spacing_m``;
- ``village_station``: the point of every administrative village with coordinates.

Costs come from the scenario's cost table. These are a starting point: a county replaces them with the
sites it can build on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.geo import points_xy
from planner.network import ModeNetwork


@dataclass(frozen=True)
class CandidateRules:
    """Spacing and density of generated outlet and locker candidates."""

    outlet_spacing_m: float = 1000.0
    locker_spacing_m: float = 500.0
    locker_density_per_km2: float = 1500.0


def thin(xy: np.ndarray, order: np.ndarray, spacing_m: float) -> np.ndarray:
    """Indices kept by greedy thinning: visit ``order``, keep a point when none kept is within spacing.

    Parameters
    ----------
    xy
        Points in metres, shape (n, 2).
    order
        The visiting order (a permutation of ``range(n)``), best first.
    spacing_m
        The minimum distance between kept points.

    Returns
    -------
    numpy.ndarray
        Kept indices, in visiting order.
    """
    cells: dict[tuple[int, int], list[int]] = {}
    kept: list[int] = []
    for i in order:
        cx, cy = math.floor(xy[i, 0] / spacing_m), math.floor(xy[i, 1] / spacing_m)
        near = (j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cells.get((cx + dx, cy + dy), ()))
        if all(math.hypot(*(xy[i] - xy[j])) >= spacing_m for j in near):
            cells.setdefault((cx, cy), []).append(int(i))
            kept.append(int(i))
    return np.asarray(kept, dtype=np.int64)


def pick_sites(
    xy: np.ndarray, people: np.ndarray, density: np.ndarray, rules: CandidateRules
) -> Iterator[tuple[str, int, int]]:
    """Outlet and locker candidates among points (road nodes) by the rules of this module.

    Parameters
    ----------
    xy
        The points in metres, shape (n, 2).
    people, density
        People in each point's demand cell and that cell's density (people per km²).
    rules
        Spacings and the locker density threshold.

    Yields
    ------
    tuple
        ``(type, number, index)``: ``number`` counts the type's candidates from 1, ``index`` is the point.
    """
    for kind, mask, spacing in (
        ("outlet", people > 0, rules.outlet_spacing_m),
        ("locker", density >= rules.locker_density_per_km2, rules.locker_spacing_m),
    ):
        idx = np.flatnonzero(mask)
        order = idx[np.argsort(-people[idx], kind="stable")]
        for n, k in enumerate(thin(xy, order, spacing), start=1):
            yield kind, n, int(k)


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
    rules = CandidateRules(outlet_spacing_m, locker_spacing_m, locker_density_per_km2)
    for kind, n, k in pick_sites(node_xy, people, density, rules):
        if kind in cost_table:
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
