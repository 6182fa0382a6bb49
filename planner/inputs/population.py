"""Population raster (WorldPop, GHSL, any GeoTIFF of persons per cell) → demand points.

How the total is preserved
--------------------------
Only the window of the raster around the boundary is read. Each source cell is split into
``k × k`` equal sub-cells (``k = ceil(source cell size / target resolution)``, so a coarse raster is
spread over its area instead of being dumped at its centre; ``k = 1`` when the raster is finer than
the target). A sub-cell belongs to the study area when its centre is inside the boundary
(rasterised in the raster's own CRS). Its people are then summed into the square target cell of
``resolution_m`` (in the work CRS) that contains its centre. So

``total_after == total_inside`` exactly (up to float rounding), and
``total_window == total_inside + total_outside``.

Demand points are the centres of the populated target cells.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.windows
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine

from planner.errors import CRSError, InputDataError, Problem
from planner.inputs.plausible import axes_problem, density_problem
from planner.inputs.tables import check_exists
from planner.types import DEMAND_COLUMNS

logger = logging.getLogger(__name__)

#: Upper bound on the number of sub-cells held in memory at once (float64 arrays of this length).
MAX_SUBCELLS = 16_000_000
#: Rasters with cells coarser than this (metres) get a warning: service radii of 1–3 km and the
#: 1 km grid of the area classes are finer than what such a raster knows.
COARSE_CELL_M = 500.0


def coarse_warning(cell_m: float) -> str:
    """The warning for a raster of ``cell_m`` metre cells coarser than :data:`COARSE_CELL_M` ("" if not)."""
    if cell_m <= COARSE_CELL_M:
        return ""
    return (
        f"the population raster's cells are ~{cell_m:,.0f} m ({cell_m / 1000:.1f} km), coarser than "
        f"{COARSE_CELL_M:.0f} m: people are spread evenly over each cell, so which people lie within "
        "a 1-3 km service radius, and the urban/township classes of the 1 km grid, follow the raster's "
        "cells rather than the settlements (a town smaller than a cell is smeared over it); "
        "use a 100 m raster (WorldPop 100 m, GHS-POP) for planning, or calibrate to census totals"
    )


@dataclass(frozen=True)
class PopulationReport:
    """What happened to the people of the raster.

    Attributes
    ----------
    path
        The raster file.
    source_crs
        The raster's CRS (WKT-able string).
    source_resolution
        Cell size (x, y) in the raster's units.
    source_cell_m
        Approximate cell size in metres (largest side, measured in the work CRS).
    subdivision
        ``k``: each source cell was split into ``k × k`` sub-cells.
    total_window
        People in the raster window read (the boundary's bounding box), nodata excluded.
    total_inside
        People whose (sub-)cell centre lies inside the boundary.
    total_outside
        ``total_window - total_inside``: people of the window outside the boundary.
    total_after
        People in the demand points (equals ``total_inside``).
    demand_points
        Number of populated target cells.
    nodata_cells
        Source cells in the window that were nodata (masked, NaN or negative).
    coverage_fraction
        Share of the boundary's area covered by the raster's extent (1.0 when fully covered).
    notes
        Human-readable remarks (partial coverage, negative values, several bands, coarse cells).
    """

    path: Path
    source_crs: str
    source_resolution: tuple[float, float]
    source_cell_m: float
    subdivision: int
    resolution_m: float
    total_window: float
    total_inside: float
    total_outside: float
    total_after: float
    demand_points: int
    nodata_cells: int
    coverage_fraction: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        text = (
            f"population {self.path.name}: {self.total_inside:,.0f} people inside the area "
            f"({self.total_window:,.0f} in the raster window, "
            f"{self.total_outside:,.0f} outside the boundary), "
            f"{self.total_after:,.0f} in {self.demand_points:,} demand points of {self.resolution_m:g} m; "
            f"source {self.source_crs} cells of ~{self.source_cell_m:.0f} m, "
            f"{self.nodata_cells:,} nodata cells"
        )
        return text + "".join(f"; {n}" for n in self.notes)

    @property
    def coarse(self) -> bool:
        """Whether the raster's cells are coarser than :data:`COARSE_CELL_M`."""
        return self.source_cell_m > COARSE_CELL_M

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (file name, cell size, totals, warning) for ``summary.json``."""
        return {
            "file": self.path.name,
            "source_crs": self.source_crs,
            "source_cell_m": round(self.source_cell_m, 1),
            "coarse": self.coarse,
            "warning": coarse_warning(self.source_cell_m) or None,
            "resolution_m": self.resolution_m,
            "total_window": round(self.total_window, 1),
            "total_inside": round(self.total_inside, 1),
            "total_outside": round(self.total_outside, 1),
            "total_after": round(self.total_after, 1),
            "demand_points": self.demand_points,
            "nodata_cells": self.nodata_cells,
            "coverage_fraction": round(self.coverage_fraction, 4),
            "notes": list(self.notes),
        }


def _apply(t: Affine, cols: Any, rows: Any) -> tuple[Any, Any]:
    """Map column/row coordinates through an affine transform (arrays or scalars)."""
    return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f


def _window(
    transform: Affine, bounds: tuple[float, float, float, float], width: int, height: int
) -> rasterio.windows.Window:
    """The smallest whole-cell window covering ``bounds``, clipped to the raster."""
    inv = ~transform
    xs = [bounds[0], bounds[2], bounds[0], bounds[2]]
    ys = [bounds[1], bounds[1], bounds[3], bounds[3]]
    cols, rows = _apply(inv, np.asarray(xs), np.asarray(ys))
    eps = 1e-6  # reprojection round-off must not add a row or column
    c0 = max(0, math.floor(float(np.min(cols)) + eps))
    c1 = min(width, math.ceil(float(np.max(cols)) - eps))
    r0 = max(0, math.floor(float(np.min(rows)) + eps))
    r1 = min(height, math.ceil(float(np.max(rows)) - eps))
    return rasterio.windows.Window(c0, r0, max(0, c1 - c0), max(0, r1 - r0))


def _cell_size_m(transform: Affine, src_crs: CRS, crs: CRS, col: float, row: float) -> float:
    """Largest side (metres, in ``crs``) of the source cell at (col, row)."""
    tr = Transformer.from_crs(src_crs, crs, always_xy=True)
    x0, y0 = _apply(transform, col, row)
    x1, y1 = _apply(transform, col + 1, row)
    x2, y2 = _apply(transform, col, row + 1)
    (px0, px1, px2), (py0, py1, py2) = tr.transform([x0, x1, x2], [y0, y1, y2])
    return float(max(math.hypot(px1 - px0, py1 - py0), math.hypot(px2 - px0, py2 - py0)))


def read_population_demand(
    path: Path | str,
    *,
    boundary: gpd.GeoDataFrame,
    crs: CRS,
    resolution_m: float,
    household_size: float,
    band: int = 1,
) -> tuple[gpd.GeoDataFrame, PopulationReport]:
    """Clip a population raster to the study area and aggregate it to demand points.

    Parameters
    ----------
    path
        GeoTIFF (or any GDAL raster) of persons per cell, in any CRS and resolution.
    boundary
        The study area (any CRS; usually WGS-84 from :func:`read_boundary`).
    crs
        The work CRS (projected, metres).
    resolution_m
        Side of the square demand cells in metres.
    household_size
        Persons per household, for ``households = population / household_size``.
    band
        The raster band holding persons.

    Returns
    -------
    demand : geopandas.GeoDataFrame
        Columns :data:`planner.types.DEMAND_COLUMNS` (``area_class``, ``township_code``,
        ``village_code`` empty strings, filled later), point geometry at target-cell centres, in
        ``crs``; rows ordered by cell (north to south, west to east).
    report : PopulationReport
        Totals before/after, people outside the boundary, nodata cells.

    Raises
    ------
    InputFileNotFoundError
        The raster does not exist.
    CRSError
        The raster has no CRS, or ``crs`` is not projected.
    InputDataError
        The file is not a readable raster, does not overlap the study area, or holds no people there.
    """
    p = check_exists(path, what="population raster")
    crs = CRS.from_user_input(crs)
    _check_arguments(crs, resolution_m, household_size, boundary)
    notes: list[str] = []
    win = _read_window(p, boundary, band, notes)
    values = np.ma.filled(win.data.astype("float64"), np.nan)
    invalid = ~np.isfinite(values) | (values < 0)
    negatives = int(np.sum(np.isfinite(values) & (values < 0)))
    if negatives:
        notes.append(f"{negatives} cells with negative values were treated as nodata")
    nodata_cells = int(invalid.sum())
    values[invalid] = 0.0
    total_window = float(values.sum())
    if win.coverage < 0.999:
        notes.append(f"the raster covers only {win.coverage:.1%} of the study area; the rest has no people")
    height, width = values.shape
    cell_m = _cell_size_m(win.transform, win.crs, crs, width / 2.0, height / 2.0)
    if warning := coarse_warning(cell_m):
        logger.warning("population %s: %s", p.name, warning)
        notes.append(warning)
    k = max(1, math.ceil(cell_m / resolution_m - 1e-9))
    while k > 1 and height * width * k * k > MAX_SUBCELLS:
        k -= 1
    if k * resolution_m < cell_m * 0.999:
        notes.append(f"source cells ({cell_m:.0f} m) were split {k}x{k}, coarser than the demand resolution")
    tx, ty, people, total_inside = _subcells(values, win, k, crs)
    cx, cy, population = _aggregate(tx, ty, people, boundary.to_crs(crs).total_bounds, resolution_m)
    if len(population) == 0:
        raise InputDataError(
            problems=[
                Problem(
                    "the population raster has no people inside the study area "
                    f"(window total {total_window:,.1f}, nodata cells {nodata_cells})",
                    file=p,
                    fix="check that the raster is the right country/year and that nodata is declared",
                )
            ]
        )
    dense = density_problem(
        population, cell_km2=resolution_m**2 / 1e6, xy=np.column_stack([cx, cy]), crs=crs, file=p
    )
    if dense is not None:
        raise InputDataError(problems=[dense])
    demand = gpd.GeoDataFrame(
        {
            "demand_id": np.arange(len(population), dtype=np.int64),
            "population": population,
            "households": population / household_size,
            "area_class": [""] * len(population),
            "township_code": [""] * len(population),
            "village_code": [""] * len(population),
        },
        geometry=gpd.points_from_xy(cx, cy),
        crs=crs,
    )[[*DEMAND_COLUMNS, "geometry"]]
    report = PopulationReport(
        path=p,
        source_crs=win.crs.to_string(),
        source_resolution=win.resolution,
        source_cell_m=cell_m,
        subdivision=k,
        resolution_m=float(resolution_m),
        total_window=total_window,
        total_inside=total_inside,
        total_outside=total_window - total_inside,
        total_after=float(population.sum()),
        demand_points=len(demand),
        nodata_cells=nodata_cells,
        coverage_fraction=win.coverage,
        notes=tuple(notes),
    )
    logger.info(
        "population: %s people inside (%s in the window, %s outside), %d demand points at %g m",
        f"{total_inside:,.0f}",
        f"{total_window:,.0f}",
        f"{total_window - total_inside:,.0f}",
        len(demand),
        resolution_m,
    )
    return demand, report


def _check_arguments(
    crs: CRS, resolution_m: float, household_size: float, boundary: gpd.GeoDataFrame
) -> None:
    if not crs.is_projected:
        raise CRSError(problems=[Problem(f"the work CRS must be projected (metres), got {crs.name}")])
    if not resolution_m > 0 or not household_size > 0:
        raise InputDataError(
            problems=[
                Problem(
                    f"resolution_m ({resolution_m}) and household_size ({household_size}) must be positive",
                    location="inputs.population.resolution_m",
                    fix="give a demand cell size in metres (e.g. 200) and the profile's household size",
                )
            ]
        )
    if boundary.crs is None:
        raise CRSError(problems=[Problem("the boundary has no CRS", fix="read it with read_boundary")])


@dataclass(frozen=True)
class _Window:
    """The raster cells over the study area: values, their grid, the area in the raster's CRS."""

    data: np.ma.MaskedArray
    transform: Affine
    crs: CRS
    resolution: tuple[float, float]
    area: Any  # the study area (shapely) in the raster's CRS
    coverage: float  # share of the study area inside the raster's extent


def _raster_problem(message: str, p: Path, fix: str) -> InputDataError:
    return InputDataError(problems=[Problem(message, file=p, fix=fix)])


def _read_window(p: Path, boundary: gpd.GeoDataFrame, band: int, notes: list[str]) -> _Window:
    """The raster's band over the study area's bounding box, checked (CRS, axes, band, overlap)."""
    try:
        src = rasterio.open(p)
    except RasterioIOError as exc:
        raise _raster_problem(
            f"cannot read the raster: {exc}", p, "give a GeoTIFF of persons per cell"
        ) from exc
    with src:
        if src.crs is None:
            raise CRSError(
                problems=[
                    Problem(
                        "the population raster has no CRS",
                        file=p,
                        fix="assign one, e.g. gdal_edit.py -a_srs EPSG:4326 FILE (WorldPop is EPSG:4326)",
                    )
                ]
            )
        if (mislabelled := axes_problem(src.bounds, src.crs, file=p, what="population raster")) is not None:
            raise CRSError(problems=[mislabelled])
        if band < 1 or band > src.count:
            raise _raster_problem(
                f"the raster has no band {band}", p, "give a raster whose first band holds persons per cell"
            )
        if src.count > 1:
            notes.append(f"raster has {src.count} bands; band {band} was used")
        src_crs = CRS.from_user_input(src.crs)
        area_src = boundary.to_crs(src_crs).geometry.union_all()
        ax0, ay0, ax1, ay1 = area_src.bounds
        rx0, ry0, rx1, ry1 = src.bounds
        if ax1 <= rx0 or ax0 >= rx1 or ay1 <= ry0 or ay0 >= ry1:
            raise _raster_problem(
                f"the population raster does not overlap the study area (raster bounds "
                f"{tuple(round(v, 4) for v in src.bounds)}, area bounds "
                f"{tuple(round(v, 4) for v in area_src.bounds)} in {src_crs.to_string()})",
                p,
                "use a raster of the study area's country/region",
            )
        window = _window(src.transform, (ax0, ay0, ax1, ay1), src.width, src.height)
        data = src.read(band, window=window, masked=True)
        from shapely.geometry import box

        inside = area_src.intersection(box(rx0, ry0, rx1, ry1)).area
        return _Window(
            data=data,
            transform=src.window_transform(window),
            crs=src_crs,
            resolution=(abs(float(src.transform.a)), abs(float(src.transform.e))),
            area=area_src,
            coverage=float(inside / area_src.area) if area_src.area else 0.0,
        )


def _subcells(
    values: np.ndarray, win: _Window, k: int, crs: CRS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Each source cell split ``k``×``k`` (people shared evenly), the sub-cells inside the study area
    (centre rule) kept: their centres in the work CRS, people, and the people inside in all."""
    height, width = values.shape
    sub_transform = win.transform @ Affine.scale(1.0 / k, 1.0 / k)
    inside = rasterio.features.rasterize(
        [(win.area, 1)], out_shape=(height * k, width * k), transform=sub_transform, fill=0, dtype="uint8"
    ).astype(bool)
    sub_values = np.repeat(np.repeat(values / (k * k), k, axis=0), k, axis=1)
    keep = inside & (sub_values > 0)
    rows, cols = np.nonzero(keep)
    xs, ys = _apply(sub_transform, cols + 0.5, rows + 0.5)
    tx, ty = Transformer.from_crs(win.crs, crs, always_xy=True).transform(np.asarray(xs), np.asarray(ys))
    return (
        np.asarray(tx, dtype=float),
        np.asarray(ty, dtype=float),
        sub_values[rows, cols],
        float(sub_values[inside].sum()),
    )


def _aggregate(
    tx: np.ndarray, ty: np.ndarray, people: np.ndarray, bounds: np.ndarray, resolution_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """People summed into square demand cells of ``resolution_m`` anchored at the study area's
    north-west corner: the centres (x, y) of the cells with people and their people, north to south,
    west to east."""
    ox = math.floor(bounds[0] / resolution_m) * resolution_m
    oy = math.ceil(bounds[3] / resolution_m) * resolution_m
    if len(people) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    cells = pd.DataFrame(
        {
            "iy": np.floor((oy - ty) / resolution_m).astype(np.int64),
            "ix": np.floor((tx - ox) / resolution_m).astype(np.int64),
            "population": people,
        }
    )
    agg = cells.groupby(["iy", "ix"], sort=True, as_index=False).agg(population=("population", "sum"))
    agg = agg[agg["population"] > 0].reset_index(drop=True)
    cx = ox + (agg["ix"].to_numpy() + 0.5) * resolution_m
    cy = oy - (agg["iy"].to_numpy() + 0.5) * resolution_m
    return cx, cy, agg["population"].to_numpy(dtype=float)
