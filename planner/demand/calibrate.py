"""Population calibrated to census totals per township (dasymetric rescaling).

A raster (WorldPop, GHS-POP) says where people live; a census (七普 常住人口 per 乡镇街道) says how
many live in each township. The demand points are rescaled township by township so that each
township's people equal its census total, while the points keep their shares within it:

``population_after = population_before × census_t / raster_t``  for each point of township ``t``

(dasymetric mapping with the raster as the ancillary layer). The township of a point is the polygon
it lies in (the first one on a shared border, as :func:`planner.demand.classify.assign_villages`
decides). Cases, each reported per township:

- ``scaled``: the raster has people in the township; its points are rescaled.
- ``spread evenly``: the census counts people but the raster has none there (a raster that misses
  a settlement, or a coarse raster whose cell centres fall outside a small township). The census
  people are spread evenly over the township's area (inside the study area) on the demand grid,
  and a warning says so: the planner cannot know where in the township they live.
- ``no area``: the township has no polygon (the register names it, but neither township polygons
  nor located villages give its area): its census people cannot be placed; they are reported,
  not added, with a warning.
- ``not in census``: a township with an area but no census row keeps the raster's people (warning).

People outside every township polygon keep the raster's figure and are reported as such.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, Problem
from planner.inputs.census import CensusTotals
from planner.types import DEMAND_COLUMNS

__all__ = ["calibrate_to_census"]

log = logging.getLogger(__name__)


def _township_of(demand: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """The township code of each demand point ("" outside every polygon; first match on a border)."""
    joined = gpd.sjoin(
        demand[["geometry"]], polygons[["township_code", "geometry"]], how="left", predicate="intersects"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    codes = joined["township_code"].reindex(demand.index)
    return codes.where(codes.notna(), "").astype(str).to_numpy()


def _even_points(polygon: BaseGeometry, resolution_m: float) -> np.ndarray:
    """Centres of the demand grid's cells (absolute grid of ``resolution_m``) inside ``polygon``."""
    x0, y0, x1, y1 = polygon.bounds
    r = resolution_m
    xs = (np.arange(math.floor(x0 / r), math.ceil(x1 / r)) + 0.5) * r
    ys = (np.arange(math.floor(y0 / r), math.ceil(y1 / r)) + 0.5) * r
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(polygon, gx.ravel(), gy.ravel())
    pts = np.column_stack([gx.ravel()[inside], gy.ravel()[inside]])
    if len(pts) == 0:  # smaller than one cell: one point
        rp = polygon.representative_point()
        pts = np.array([[rp.x, rp.y]])
    return pts


def _no_area_error(census: CensusTotals) -> InputDataError:
    return InputDataError(
        problems=[
            Problem(
                "calibrating the population to census totals needs the townships' areas, and no "
                "township has one (no township polygons, no village coordinates)",
                file=census.path,
                location="inputs.population.calibrate_to",
                fix="give study_area.townships (township polygons), or village coordinates "
                "(inputs.villages.points) so that township areas can be drawn, or remove calibrate_to",
            )
        ]
    )


@dataclass(frozen=True)
class _Township:
    """One township's calibration: its census figure and the raster's people in it."""

    code: str
    name: str
    census: float | None
    raster: float

    @property
    def label(self) -> str:
        return f"township {self.name or self.code} ({self.code})"

    def _row(self, after: float, factor: float | None, method: str) -> dict[str, Any]:
        return {
            "township_code": self.code,
            "township_name": self.name,
            "census": self.census,
            "before": self.raster,
            "after": after,
            "factor": factor,
            "method": method,
        }

    def scale(self, pop: np.ndarray, town: np.ndarray, *, has_area: bool) -> tuple[dict[str, Any], str]:
        """Scale the raster's people in place to the census (or say why not)."""
        if self.census is None:
            return self._row(
                self.raster, None, "not in census"
            ), f"{self.label} has no census row: raster people kept"
        if not has_area:
            return self._row(0.0, None, "no area"), (
                f"{self.label} has no area: its {self.census:,.0f} census people cannot be placed "
                "and are not counted"
            )
        factor = self.census / self.raster
        pop[town == self.code] *= factor
        return self._row(self.census, factor, "scaled"), ""

    def spread(
        self, polygon: BaseGeometry, resolution_m: float, *, crs: Any
    ) -> tuple[dict[str, Any], str, gpd.GeoDataFrame | None]:
        """Census people where the raster has none: spread evenly over the township's area."""
        target = float(self.census or 0.0)
        pts = _even_points(polygon, resolution_m) if target > 0 else np.zeros((0, 2))
        if not len(pts):
            return self._row(target, None, "scaled"), "", None
        frame = gpd.GeoDataFrame(
            {"population": np.full(len(pts), target / len(pts)), "township_code": self.code},
            geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
            crs=crs,
        )
        warning = (
            f"{self.label}: the census counts {target:,.0f} people but the raster has none there; "
            f"they were spread evenly over its area ({len(pts)} cells of {resolution_m:g} m)"
        )
        return self._row(target, None, "spread evenly"), warning, frame


def calibrate_to_census(
    demand: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    census: CensusTotals,
    *,
    resolution_m: float,
    household_size: float,
    area: BaseGeometry | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Rescale demand per township to census totals (see the module docstring).

    Parameters
    ----------
    demand
        Demand points (work CRS) with ``population`` and ``households``.
    townships
        Township polygons (work CRS; rows without geometry have no area).
    census
        The census totals joined to township codes (:func:`planner.inputs.census.read_census`).
    resolution_m
        The demand grid's cell size, for people spread evenly over a township.
    household_size
        Persons per household (``households = population / household_size``).
    area
        The study area (work CRS): spread people stay inside it.

    Returns
    -------
    demand : geopandas.GeoDataFrame
        The calibrated demand (``demand_id`` renumbered; points left with no people dropped).
    report : dict
        ``source`` (file name), ``townships`` (one dict per township: code, name, census, before,
        after, factor, method), ``total_before``, ``total_after``, ``census_total``,
        ``outside_townships`` (people outside every township polygon), ``warnings``.

    Raises
    ------
    InputDataError
        No township has an area, so nothing can be calibrated.
    """
    has_area = townships.geometry.notna() & ~townships.geometry.is_empty
    polygons = townships[has_area]
    if len(polygons) == 0:
        raise _no_area_error(census)
    demand = demand.copy()
    town = _township_of(demand, polygons)
    pop = demand["population"].to_numpy(dtype=float).copy()
    before = pd.Series(pop).groupby(town).sum()
    names = dict(
        zip(townships["township_code"].astype(str), townships["township_name"].astype(str), strict=True)
    )
    census_pop = dict(zip(census.frame["township_code"], census.frame["population"], strict=True))
    area_codes = set(polygons["township_code"].astype(str))
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    added: list[gpd.GeoDataFrame] = []
    for code in dict.fromkeys([*census_pop, *sorted(area_codes)]):
        step = _Township(code, names.get(code, ""), census_pop.get(code), float(before.get(code, 0.0)))
        if step.census is None or code not in area_codes or step.raster > 0:
            row, warning = step.scale(pop, town, has_area=code in area_codes)
        else:
            polygon = polygons.loc[polygons["township_code"].astype(str) == code].geometry.union_all()
            row, warning, frame = step.spread(
                polygon if area is None else polygon.intersection(area), resolution_m, crs=demand.crs
            )
            if frame is not None:
                added.append(frame)
        rows.append(row)
        if warning:
            warnings.append(warning)
    demand["population"] = pop
    out = demand
    if added:
        extra = pd.concat(added, ignore_index=True)
        extra = extra.assign(area_class="", village_code="", households=0.0, demand_id=0)
        out = gpd.GeoDataFrame(pd.concat([demand, extra[demand.columns]], ignore_index=True), crs=demand.crs)
    out = out[out["population"] > 0].reset_index(drop=True)
    out["demand_id"] = np.arange(len(out), dtype=np.int64)
    out["households"] = out["population"] / household_size
    outside = float(pop[town == ""].sum())
    for warning in warnings:
        log.warning("calibration: %s", warning)
    report = {
        "source": census.path.name,
        "townships": rows,
        "total_before": round(float(before.sum()), 1),
        "total_after": round(float(out["population"].sum()), 1),
        "census_total": round(census.total, 1),
        "outside_townships": round(outside, 1),
        "warnings": warnings + list(census.notes),
    }
    log.info(
        "calibration: %s people before, %s after (census %s, %s outside every township)",
        f"{report['total_before']:,.0f}",
        f"{report['total_after']:,.0f}",
        f"{report['census_total']:,.0f}",
        f"{outside:,.0f}",
    )
    return gpd.GeoDataFrame(out[[*DEMAND_COLUMNS, "geometry"]], crs=demand.crs), report
