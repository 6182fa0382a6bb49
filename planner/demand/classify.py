"""Area classes of demand cells and villages: urban, township or rural.

Order of the evidence (STANDARDS.md, "Area class comes from the data"):

1. A demand cell tied to a village/community (``village_code``) whose NBS urban-rural code
   (统计用城乡划分代码) is known takes that code's class: 111/112 → urban, 121/122/123 → township,
   210/220 → rural (:data:`planner.types.URBAN_RURAL_CLASS`).
2. Any other cell is classed by :class:`DensityRule`, the first stage of the *Degree of Urbanisation*
   (DEGURBA; endorsed by the UN Statistical Commission in 2020, implemented by the EU's GHSL as SMOD
   level 1), on a 1 km grid:

   * The demand cells' people are summed into square cells of ``grid_m`` (1 km) in the work CRS.
     Density is people per km² of the cell's *land*: the part of the cell inside the study area
     when the area is given (the method counts "inhabitants per km² of permanent land"; a coastal
     cell half in the sea is not half as dense), else the whole cell.
   * **Urban centre** (→ ``urban``): cells of at least ``city_density_per_km2`` (1,500/km²),
     grouped by **4-connectivity** (edges only: "contiguous, not including diagonals"). Each group
     is then smoothed as GHSL does: a cell outside it is added when at least 5 of its 8 neighbours
     belong to that group, repeated until no cell is added (3 × 3 conditional majority filter), and
     holes in it smaller than ``max_hole_km2`` (15 km²) are filled. A group is kept when it holds at
     least ``city_min_population`` people (50,000) after gap filling.
   * **Urban cluster** (→ ``township``): cells of at least ``town_density_per_km2`` (300/km²), plus
     the urban-centre cells, grouped by **8-connectivity** (edges and corners), kept when the
     group holds at least ``town_min_population`` people (5,000); its cells outside urban centres
     are ``township``.
   * Every other cell is ``rural``.

   A demand cell takes the class of the grid cell holding its centre; a demand cell larger than the
   grid spreads its people evenly over the grid cells it covers. Not applied (no data for it): the
   built-up-area criterion of the 2021 method revision (cells ≥ 50 % built up count as dense).
   Clusters are computed on all cells, so a cell with a village code still adds its people to the
   cluster it lies in.

   Sources: Eurostat, *Applying the Degree of Urbanisation — a methodological manual to define
   cities, towns and rural areas for international comparisons* (2021), ch. 2; Eurostat Statistics
   Explained, "Glossary:Urban centre" and "Glossary:Urban cluster"; GHSL Data Package 2023,
   GHS-SMOD ("4-connectivity cluster … with smoothed boundaries (3-by-3 conditional majority
   filtering) and < 15 km² holes filled").

:func:`assign_villages` (called by the pipeline before :func:`classify_demand`) gives each demand
cell its township (the polygon it lies in) and village (the nearest village point of that township
within ``max_km``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, Problem
from planner.types import URBAN_RURAL_CLASS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DensityRule:
    """Thresholds of the density rule (see the module docstring; defaults are DEGURBA's).

    Parameters
    ----------
    city_density_per_km2, city_min_population, city_connectivity
        People per km² of land, people per urban centre and neighbourhood (4: edges, 8: with corners).
    town_density_per_km2, town_min_population, town_connectivity
        The same for urban clusters (township class).
    cell_size_m
        Side of a demand cell in metres; inferred from the spacing of the points when ``None``.
    grid_m
        Side of the classification grid's cells (1 km in the method).
    smooth_centres
        Apply the gap filling of urban centres (5-of-8 majority rule, holes below ``max_hole_km2``).
    max_hole_km2
        Holes in an urban centre smaller than this are filled (15 km² in GHSL).
    """

    city_density_per_km2: float = 1_500.0
    city_min_population: float = 50_000.0
    city_connectivity: Literal[4, 8] = 4
    town_density_per_km2: float = 300.0
    town_min_population: float = 5_000.0
    town_connectivity: Literal[4, 8] = 8
    cell_size_m: float | None = None
    grid_m: float = 1_000.0
    smooth_centres: bool = True
    max_hole_km2: float = 15.0

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
            "max_hole_km2",
        ):
            if getattr(self, name) < 0:
                problems.append(Problem(f"{name} must be >= 0", location=f"DensityRule.{name}"))
        if self.cell_size_m is not None and self.cell_size_m <= 0:
            problems.append(Problem("cell_size_m must be > 0", location="DensityRule.cell_size_m"))
        if not self.grid_m > 0:
            problems.append(Problem("grid_m must be > 0", location="DensityRule.grid_m"))
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


@dataclass(frozen=True)
class _Grid:
    """The classification grid: people per cell, land area per cell (km²), the demand points' cells."""

    people: np.ndarray
    land_km2: np.ndarray
    row: np.ndarray
    col: np.ndarray


def _grid(xy: np.ndarray, population: np.ndarray, rule: DensityRule, land: BaseGeometry | None) -> _Grid:
    """Sum the demand cells' people into the ``grid_m`` grid (aligned on multiples of ``grid_m``)."""
    g = rule.grid_m
    cs = _cell_size(xy, rule.cell_size_m)
    m = max(1, math.ceil(cs / g - 1e-9))  # a demand cell larger than the grid is spread over m x m points
    offsets = ((np.arange(m) + 0.5) / m - 0.5) * cs
    ox, oy = np.meshgrid(offsets, offsets)
    sx = (xy[:, :1] + ox.ravel()[None, :]).ravel()
    sy = (xy[:, 1:2] + oy.ravel()[None, :]).ravel()
    sp = np.repeat(population / (m * m), m * m)
    gx, gy = np.floor(sx / g).astype(np.int64), np.floor(sy / g).astype(np.int64)
    x0, y0 = int(gx.min()), int(gy.min())
    people = np.zeros((int(gy.max()) - y0 + 1, int(gx.max()) - x0 + 1))
    np.add.at(people, (gy - y0, gx - x0), sp)
    cell_km2 = g * g / 1e6
    land_km2 = np.full(people.shape, cell_km2)
    if land is not None and not land.is_empty:
        rows, cols = np.nonzero(people > 0)
        boxes = shapely.box((cols + x0) * g, (rows + y0) * g, (cols + x0 + 1) * g, (rows + y0 + 1) * g)
        shapely.prepare(land)
        partial = ~shapely.contains(land, boxes)
        area = shapely.area(shapely.intersection(boxes[partial], land)) / 1e6
        # people whose cell centre lies inside the area but whose grid cell barely touches it keep
        # at least a hundredth of a cell of land, so density stays finite
        land_km2[rows[partial], cols[partial]] = np.maximum(area, cell_km2 / 100.0)
    centre_x = np.floor(xy[:, 0] / g).astype(np.int64) - x0
    centre_y = np.floor(xy[:, 1] / g).astype(np.int64) - y0
    return _Grid(people, land_km2, centre_y, centre_x)


_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def _majority_fill(labels: np.ndarray, *, need: int = 5) -> np.ndarray:
    """Add a cell to a group when at least ``need`` of its 8 neighbours belong to that group; repeat."""
    labels = labels.copy()
    h, w = labels.shape
    while True:
        padded = np.pad(labels, 1)
        neigh = np.stack(
            [padded[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx] for dy, dx in _NEIGHBOURS], axis=-1
        )
        cand = (labels == 0) & ((neigh > 0).sum(axis=-1) >= need)
        if not cand.any():
            return labels
        rows = neigh[cand]
        best, count = np.zeros(len(rows), dtype=labels.dtype), np.zeros(len(rows), dtype=int)
        for j in range(8):
            lab = rows[:, j]
            n = (rows == lab[:, None]).sum(axis=1)
            better = (lab > 0) & (n > count)
            best[better], count[better] = lab[better], n[better]
        add = count >= need
        if not add.any():
            return labels
        idx = np.flatnonzero(cand.ravel())[add]
        labels.ravel()[idx] = best[add]


def _fill_holes(labels: np.ndarray, *, max_cells: float) -> np.ndarray:
    """Fill holes (background enclosed by a group) of fewer than ``max_cells`` cells with that group."""
    mask = labels > 0
    holes, n = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    if n == 0:
        return labels
    labels = labels.copy()
    sizes = np.bincount(holes.ravel())
    ring = ndimage.generate_binary_structure(2, 2)
    for hole in np.flatnonzero(sizes < max_cells):
        if hole == 0:
            continue
        inside = holes == hole
        edge = ndimage.binary_dilation(inside, structure=ring) & ~inside
        around = labels[edge]
        around = around[around > 0]
        if len(around):
            labels[inside] = np.bincount(around).argmax()
    return labels


def _structure(connectivity: int) -> np.ndarray:
    return ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)


def density_classes(
    xy: np.ndarray, population: np.ndarray, rule: DensityRule, *, land: BaseGeometry | None = None
) -> np.ndarray:
    """Area class of each point by the density rule alone (DEGURBA on a 1 km grid).

    Parameters
    ----------
    xy
        (n, 2) demand cell centres in metres on a regular grid.
    population
        People per demand cell.
    rule
        The thresholds.
    land
        The study area (work CRS): density is per km² of the grid cell's part inside it.

    Returns
    -------
    numpy.ndarray
        Array of "urban" / "township" / "rural" strings, one per point.
    """
    n = len(xy)
    out = np.full(n, "rural", dtype=object)
    if n == 0:
        return out
    grid = _grid(xy, population.astype(float), rule, land)
    density = grid.people / grid.land_km2
    cell_km2 = rule.grid_m * rule.grid_m / 1e6

    labels, _ = ndimage.label(
        density >= rule.city_density_per_km2, structure=_structure(rule.city_connectivity)
    )
    if rule.smooth_centres:
        labels = _fill_holes(_majority_fill(labels), max_cells=rule.max_hole_km2 / cell_km2)
    pops = np.bincount(labels.ravel(), weights=grid.people.ravel())
    keep = pops >= rule.city_min_population
    keep[0] = False  # background
    urban = keep[labels]

    town_mask = (density >= rule.town_density_per_km2) | urban
    tlabels, _ = ndimage.label(town_mask, structure=_structure(rule.town_connectivity))
    tpops = np.bincount(tlabels.ravel(), weights=grid.people.ravel())
    tkeep = tpops >= rule.town_min_population
    tkeep[0] = False
    township = tkeep[tlabels]

    out[township[grid.row, grid.col]] = "township"
    out[urban[grid.row, grid.col]] = "urban"
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
    land: BaseGeometry | None = None,
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
    land
        The study area in the demand's CRS: grid cells are as dense as their people per km² of the
        part inside it (DEGURBA's "per km² of permanent land"). ``None``: per km² of the whole cell.

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
    by_density = density_classes(xy, out["population"].fillna(0.0).to_numpy(dtype=float), rule, land=land)
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
