"""Candidate sites for a fetched area, so that the plan of the scenario written can place facilities.

Rules (those of :mod:`planner.plan.candidates`, written into the scenario's comment and ``fetch.json``):

- ``outlet``: road-graph nodes inside the boundary on roads vehicles use (not footways, paths,
  steps, cycleways), in a populated raster cell; thinned greedily, most populated first, so that no
  two are closer than ``outlet_spacing_m``.
- ``locker``: the same nodes in dense cells (at least ``locker_density_per_km2`` people per km²),
  thinned to ``locker_spacing_m``.
- ``village_station``: one at each village of the register (OSM ``place=village/hamlet``).

These are a starting point; a county replaces them with the sites it can actually build on.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import Transformer

from planner.plan.candidates import CandidateRules, pick_sites

#: OSM highway classes no delivery vehicle uses (candidates are not placed on them).
NON_VEHICLE = frozenset({"footway", "path", "steps", "cycleway", "pedestrian", "bridleway", "corridor"})
CANDIDATE_FILE_COLUMNS = ("candidate_id", "type", "lon", "lat", "village_code")


def _vehicle_nodes(graph: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat of nodes with at least one edge that is not a footway/path (WGS-84)."""
    ok: set[object] = set()
    for u, v, data in graph.edges(data=True):
        classes = {str(h) for h in np.atleast_1d(data.get("highway", ""))}
        if classes - NON_VEHICLE:
            ok.update((u, v))
    nodes = sorted(ok, key=str)
    lon = np.array([float(graph.nodes[n]["x"]) for n in nodes])
    lat = np.array([float(graph.nodes[n]["y"]) for n in nodes])
    return lon, lat


def _cell_population(raster: Path, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """People in the raster cell of each point and that cell's density (people per km²)."""
    with rasterio.open(raster) as src:
        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        data = src.read(1).astype(np.float64)
        nodata = src.nodata
        rows, cols = rasterio.transform.rowcol(src.transform, np.atleast_1d(x), np.atleast_1d(y))
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        people = np.zeros(len(lon))
        people[inside] = data[rows[inside], cols[inside]]
        if nodata is not None:
            people[people == nodata] = 0.0
        people[~np.isfinite(people) | (people < 0)] = 0.0
        # cell area in km², measured at each point (geographic rasters shrink with latitude)
        if src.crs.is_geographic:
            dx = abs(src.transform.a) * 111.32 * np.cos(np.radians(lat))
            dy = abs(src.transform.e) * 110.57
            area = dx * dy
        else:
            area = np.full(len(lon), abs(src.transform.a * src.transform.e) / 1e6)
    return people, people / np.maximum(area, 1e-9)


def make_candidates(
    graph: nx.MultiDiGraph,
    boundary: gpd.GeoDataFrame,
    population: Path,
    register: pd.DataFrame,
    *,
    outlet_spacing_m: float = 1000.0,
    locker_spacing_m: float = 500.0,
    locker_density_per_km2: float = 1500.0,
) -> pd.DataFrame:
    """Candidate sites (columns :data:`CANDIDATE_FILE_COLUMNS`, WGS-84) by the rules of this module.

    Parameters
    ----------
    graph
        The road graph (osmnx, WGS-84).
    boundary
        The study area (WGS-84).
    population
        The population raster.
    register
        Villages with ``village_code``, ``kind``, ``lon``, ``lat`` (may be empty).
    outlet_spacing_m, locker_spacing_m
        Minimum distances between candidates of a type.
    locker_density_per_km2
        Lockers are proposed only where the cell is at least this dense.
    """
    lon, lat = _vehicle_nodes(graph)
    area = boundary.to_crs("EPSG:4326").geometry.union_all()
    inside = shapely.contains_xy(area, lon, lat) if len(lon) else np.zeros(0, dtype=bool)
    lon, lat = lon[inside], lat[inside]
    people, density = _cell_population(population, lon, lat)
    utm = boundary.estimate_utm_crs()
    x, y = Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(lon, lat)
    xy = np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]) if len(lon) else np.zeros((0, 2))
    rows: list[dict[str, object]] = []
    rules = CandidateRules(outlet_spacing_m, locker_spacing_m, locker_density_per_km2)
    for kind, n, k in pick_sites(xy, people, density, rules):
        rows.append(
            {
                "candidate_id": f"{kind}-{n}",
                "type": kind,
                "lon": round(float(lon[k]), 7),
                "lat": round(float(lat[k]), 7),
                "village_code": "",
            }
        )
    if len(register):
        villages = register[register["kind"] == "village"]
        for n, (code, vlon, vlat) in enumerate(
            zip(villages["village_code"], villages["lon"], villages["lat"], strict=True), start=1
        ):
            rows.append(
                {
                    "candidate_id": f"village_station-{n}",
                    "type": "village_station",
                    "lon": float(vlon),
                    "lat": float(vlat),
                    "village_code": str(code),
                }
            )
    return pd.DataFrame(rows, columns=list(CANDIDATE_FILE_COLUMNS))
