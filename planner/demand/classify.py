"""Area classes of demand cells and villages: urban, township or rural.

Order of the evidence (STANDARDS.md, "Area class comes from the data"):

1. A demand cell tied to a village/community (``village_code``) whose NBS urban-rural code
   (统计用城乡划分代码) is known takes that code's class: 111/112 → urban, 121/122/123 → township,
   210/220 → rural (:data:`planner.types.URBAN_RURAL_CLASS`).
2. Any other cell is classed by :class:`DensityRule`, a degree-of-urbanisation style rule on the
   population grid (Eurostat/GHSL "DEGURBA", simplified):

   * *urban*: cells with at least ``city_density_per_km2`` people/km² (default 1,500) that form a cluster
     of at least ``city_min_population`` people (default 50,000); clusters are **4-connected** (cells
     sharing an edge), as for DEGURBA urban centres;
   * *township*: other cells with at least ``town_density_per_km2`` people/km² (default 300) in an
     **8-connected** cluster (edges or corners, as for DEGURBA urban clusters) of at least
     ``town_min_population`` people (default 5,000);
   * *rural*: everything else.

   Density is people per km² of the demand cell (the scenario's resolution); DEGURBA's gap filling
   and smoothing of urban centres are not applied. Clusters are computed on all cells, so a cell
   with a village code still adds its people to the cluster it lies in.

:func:`assign_villages` (called by the pipeline before :func:`classify_demand`) gives each demand
cell its township (the polygon it lies in) and village (the nearest village point of that township
within ``max_km``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from planner.errors import InputDataError, Problem
from planner.types import URBAN_RURAL_CLASS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DensityRule:
    """Thresholds of the density rule (see the module docstring).

    Parameters
    ----------
    city_density_per_km2, city_min_population, city_connectivity
        People/km², cluster population and neighbourhood (4 or 8) of urban clusters.
    town_density_per_km2, town_min_population, town_connectivity
        The same for township clusters.
    cell_size_m
        Side of a demand cell in metres; inferred from the spacing of the points when ``None``.
    """

    city_density_per_km2: float = 1_500.0
    city_min_population: float = 50_000.0
    city_connectivity: Literal[4, 8] = 4
    town_density_per_km2: float = 300.0
    town_min_population: float = 5_000.0
    town_connectivity: Literal[4, 8] = 8
    cell_size_m: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for name in ("city_connectivity", "town_connectivity"):
            if getattr(self, name) not in (4, 8):
                problems.append(Problem(f"{name} must be 4 or 8", location=f"DensityRule.{name}"))
        if self.town_density_per_km2 > self.city_density_per_km2:
            problems.append(
                Problem(
                    "town_density_per_km2 is above city_density_per_km2",
                    location="DensityRule.town_density_per_km2",
                    fix="the township threshold must not exceed the urban one",
                )
            )
        for name in (
            "city_density_per_km2",
            "town_density_per_km2",
            "city_min_population",
            "town_min_population",
        ):
            if getattr(self, name) < 0:
                problems.append(Problem(f"{name} must be >= 0", location=f"DensityRule.{name}"))
        if self.cell_size_m is not None and self.cell_size_m <= 0:
            problems.append(Problem("cell_size_m must be > 0", location="DensityRule.cell_size_m"))
        if problems:
            raise InputDataError("invalid density rule", problems=problems)


def _xy(points: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) coordinates of point geometries."""
    if len(points) == 0:
        return np.zeros((0, 2))
    return np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])


def _cell_size(xy: np.ndarray, given: float | None) -> float:
    if given is not None:
        return float(given)
    if len(xy) < 2:
        return 1_000.0  # a single cell: its size does not change which class it gets below the thresholds
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(dist[:, 1]))


def density_classes(xy: np.ndarray, population: np.ndarray, rule: DensityRule) -> np.ndarray:
    """Area class of each point by the density rule alone.

    Parameters
    ----------
    xy
        (n, 2) cell centres in metres on a regular grid.
    population
        People per cell.
    rule
        The thresholds.

    Returns
    -------
    numpy.ndarray
        Array of "urban" / "township" / "rural" strings, one per point.
    """
    n = len(xy)
    out = np.full(n, "rural", dtype=object)
    if n == 0:
        return out
    cs = _cell_size(xy, rule.cell_size_m)
    ix = np.rint((xy[:, 0] - xy[:, 0].min()) / cs).astype(np.int64)
    iy = np.rint((xy[:, 1] - xy[:, 1].min()) / cs).astype(np.int64)
    grid = np.zeros((int(iy.max()) + 1, int(ix.max()) + 1))
    np.add.at(grid, (iy, ix), population.astype(float))
    density = grid / (cs / 1000.0) ** 2

    def clustered(threshold: float, min_pop: float, connectivity: int) -> np.ndarray:
        mask = density >= threshold
        structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
        labels, _ = ndimage.label(mask, structure=structure)
        pops = np.bincount(labels.ravel(), weights=grid.ravel())
        keep = pops >= min_pop
        keep[0] = False  # background
        return keep[labels]

    township = clustered(rule.town_density_per_km2, rule.town_min_population, rule.town_connectivity)
    urban = clustered(rule.city_density_per_km2, rule.city_min_population, rule.city_connectivity)
    out[township[iy, ix]] = "township"
    out[urban[iy, ix]] = "urban"
    return out


def _code_classes(village_codes: pd.Series, villages: pd.DataFrame) -> pd.Series:
    """Class from the NBS urban-rural code of each cell's village (NaN where unknown)."""
    codes = villages["village_code"].astype(str).str.strip()
    ur = pd.to_numeric(villages["urban_rural_code"], errors="coerce")
    cls = ur.map(lambda c: URBAN_RURAL_CLASS.get(int(c)) if pd.notna(c) else None)
    lookup = dict(zip(codes, cls, strict=True))
    return village_codes.astype(str).str.strip().map(lookup)


def classify_demand(
    demand: gpd.GeoDataFrame,
    villages: pd.DataFrame,
    *,
    rule: DensityRule | None = None,
    cell_size_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Set ``area_class`` of each demand cell (see the module docstring for the rule).

    Parameters
    ----------
    demand
        Demand points (work CRS, metres) with ``population`` and ``village_code``.
    villages
        The village register with ``village_code`` and ``urban_rural_code``.
    rule
        Density thresholds for cells without a usable village code (default :class:`DensityRule`).
    cell_size_m
        Side of a demand cell in metres (the scenario's resolution); overrides ``rule.cell_size_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` with ``area_class`` and ``area_class_source`` ("code" or "density").
    """
    rule = rule or DensityRule()
    if cell_size_m is not None:
        rule = replace(rule, cell_size_m=cell_size_m)
    out = demand.copy()
    xy = (
        np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
        if len(out)
        else np.zeros((0, 2))
    )
    by_density = density_classes(xy, out["population"].fillna(0.0).to_numpy(dtype=float), rule)
    vcodes = out["village_code"] if "village_code" in out.columns else pd.Series("", index=out.index)
    by_code = _code_classes(vcodes.fillna(""), villages).to_numpy(dtype=object)
    has_code = pd.notna(by_code) & (by_code != None)  # noqa: E711
    out["area_class"] = np.where(has_code, by_code, by_density).astype(str)
    out["area_class_source"] = np.where(has_code, "code", "density")
    counts = out["area_class"].value_counts().to_dict()
    log.info(
        "classify: %d cells (%d by village code), urban %d, township %d, rural %d",
        len(out),
        int(has_code.sum()),
        counts.get("urban", 0),
        counts.get("township", 0),
        counts.get("rural", 0),
    )
    return out


def classify_villages(villages: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    """Fill ``area_class`` of villages whose urban-rural code is missing or unknown.

    Such a village takes the class holding most people among its demand cells (after
    :func:`classify_demand`), else "rural". Villages with a known code keep the code's class.
    """
    out = villages.copy()
    ur = pd.to_numeric(out["urban_rural_code"], errors="coerce")
    by_code = ur.map(lambda c: URBAN_RURAL_CLASS.get(int(c)) if pd.notna(c) else None)
    cells = demand[demand["village_code"].astype(str) != ""]
    majority: dict[str, str] = {}
    if len(cells):
        pop = cells.groupby([cells["village_code"].astype(str), "area_class"])["population"].sum()
        ranked = pop.sort_values(ascending=False).reset_index()
        for code, cls in zip(ranked["village_code"], ranked["area_class"], strict=True):
            majority.setdefault(str(code), str(cls))
    fallback = out["village_code"].astype(str).map(majority).fillna("rural")
    out["area_class"] = by_code.where(by_code.notna(), fallback).astype(str)
    return out


def assign_villages(
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    max_km: float,
) -> gpd.GeoDataFrame:
    """Give each demand cell its ``township_code`` and ``village_code``.

    The township is the polygon the cell lies in (first match on a shared border; "" outside every
    township). The village is the nearest village/community point whose register ``township_code``
    is the cell's township and which is at most ``max_km`` away; cells with none get "" and are then
    classed by the density rule. Villages without coordinates are not used.

    Parameters
    ----------
    demand, villages, townships
        In the same projected CRS (metres).
    max_km
        Largest distance from a cell to its village.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``demand`` with ``township_code`` and ``village_code`` set.
    """
    if demand.crs is not None and townships.crs is not None and demand.crs != townships.crs:
        raise InputDataError(
            problems=[
                Problem(
                    f"demand is in {demand.crs}, townships in {townships.crs}",
                    location="townships",
                    fix="reproject both to the work CRS before assigning villages",
                )
            ]
        )
    out = demand.copy()
    joined = gpd.sjoin(
        out[["geometry"]], townships[["township_code", "geometry"]], how="left", predicate="intersects"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    tcode = joined["township_code"].reindex(out.index)
    out["township_code"] = tcode.where(tcode.notna(), "").astype(str)
    vcode = np.full(len(out), "", dtype=object)
    has_geom = villages.geometry.notna() & ~villages.geometry.is_empty
    pts = villages[has_geom]
    xy = (
        np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
        if len(out)
        else np.zeros((0, 2))
    )
    cell_town = out["township_code"].to_numpy()
    for town, group in pts.groupby(pts["township_code"].astype(str)):
        rows = np.flatnonzero(cell_town == town)
        if len(rows) == 0:
            continue
        vxy = np.column_stack([group.geometry.x.to_numpy(), group.geometry.y.to_numpy()])
        dist, idx = cKDTree(vxy).query(xy[rows], k=1, distance_upper_bound=max_km * 1000.0)
        ok = np.isfinite(dist)
        vcode[rows[ok]] = group["village_code"].astype(str).to_numpy()[idx[ok]]
    out["village_code"] = vcode.astype(str)
    log.info(
        "assign_villages: %d cells, %d in a township, %d with a village",
        len(out),
        int((out["township_code"] != "").sum()),
        int((out["village_code"] != "").sum()),
    )
    return out
