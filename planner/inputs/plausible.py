"""Plausibility checks of the inputs: figures no real county has, each threshold with its reason.

The readers call these after the format checks: a file can be well-formed and still say something no
county can hold (coordinates in metres labelled as degrees, 10^12 people, more households than a
village could have). Each check returns :class:`~planner.errors.Problem` objects naming the file,
the row and the fix, so the reader reports them with its other problems.

Thresholds (module constants, so a test or a caller can name them):

:data:`MAX_DENSITY_PER_KM2`
    2,000,000 people per km² in one demand cell. The densest settlement on record, Kowloon Walled City
    (Hong Kong, about 33,000 people on 2.6 ha before its demolition in 1993), held about 1.3 million
    per km²; no raster of real people exceeds it. Above it the raster holds something else: people per
    km² instead of per cell, or an undeclared nodata value (3.4e38, -9999 read as people).
:data:`MAX_VILLAGE_PEOPLE`
    500,000 people in one village or community. GB 50180-2018 (城市居住区规划设计标准, its table
    of residential area levels) sizes its largest residential area, the 15-minute life circle
    (十五分钟生活圈居住区), at 50,000–100,000 people, and a 居委会 community or 村委会 village is a
    part of such an area; five times its upper bound leaves room for the largest urban villages while
    catching a unit slip (万人 read as people) or a county total on a village row.
:data:`HOUSEHOLD_SIZE_FACTOR`
    4: a village's people per household must lie within a factor of 4 of the profile's household size
    (2.62 in the 2020 census, so 0.66–10.5). The 2020 census's provincial averages lie between about 2
    and 3.5 persons per family household; a village outside the band has households and people
    swapped, or counts one as registered (户籍) and the other as resident (常住).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from planner.errors import Problem

__all__ = [
    "HOUSEHOLD_SIZE_FACTOR",
    "MAX_DENSITY_PER_KM2",
    "MAX_VILLAGE_PEOPLE",
    "Finding",
    "axes_problem",
    "density_problem",
    "household_findings",
    "size_findings",
]

MAX_DENSITY_PER_KM2 = 2_000_000.0
MAX_VILLAGE_PEOPLE = 500_000.0
HOUSEHOLD_SIZE_FACTOR = 4.0

_REPROJECT_FIX = (
    "give the file the CRS its coordinates are really in (e.g. ogr2ogr -a_srs EPSG:32650 for UTM zone "
    "50N, or a .prj file), or reproject it to longitude/latitude: ogr2ogr -t_srs EPSG:4326 -s_srs "
    "EPSG:<its CRS> out.geojson in.geojson (GeoJSON without a 'crs' member is read as EPSG:4326)"
)


def axes_problem(
    bounds: Sequence[float], crs: CRS | str | int | None, *, file: Path | None, what: str
) -> Problem | None:
    """A problem when the coordinates cannot be in the CRS the file declares.

    Coordinates beyond ±180/±90 in a geographic CRS are projected metres labelled as degrees (a UTM
    GeoJSON without its ``crs`` member); coordinates all within ±180/±90 in a projected CRS are degrees
    labelled as metres (such an extent would be a few hundred metres at the projection's origin).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the layer in its own CRS.
    crs
        The CRS the file declares (or the reader assumed).
    file, what
        The file and what it is ("boundary", "population raster"), for the message.
    """
    if crs is None or not np.all(np.isfinite(np.asarray(bounds, dtype=float))):
        return None
    declared = CRS.from_user_input(crs)
    x0, y0, x1, y1 = (float(v) for v in bounds)
    shown = ", ".join(f"{v:,.6g}" for v in (x0, y0, x1, y1))
    degrees = max(abs(x0), abs(x1)) <= 180.0 and max(abs(y0), abs(y1)) <= 90.0
    if declared.is_geographic and not degrees:
        return Problem(
            f"the {what}'s coordinates look like projected metres (bounds {shown}), but the file "
            f"declares {declared.name} (degrees of longitude/latitude, which stay within ±180/±90)",
            file=file,
            location="coordinate reference system",
            fix=_REPROJECT_FIX,
        )
    if declared.is_projected and degrees:
        return Problem(
            f"the {what}'s coordinates look like degrees of longitude/latitude (bounds {shown}), but "
            f"the file declares the projected {declared.name} (metres): the area would be a few "
            "hundred metres wide at the projection's origin",
            file=file,
            location="coordinate reference system",
            fix="label the file EPSG:4326 (ogr2ogr -a_srs EPSG:4326 / gdal_edit.py -a_srs EPSG:4326)",
        )
    return None


def density_problem(
    people: npt.NDArray[np.float64],
    *,
    cell_km2: float,
    xy: npt.NDArray[np.float64],
    crs: CRS,
    file: Path | None,
) -> Problem | None:
    """A problem when any cell holds more than :data:`MAX_DENSITY_PER_KM2` people per km².

    Parameters
    ----------
    people
        People per cell.
    cell_km2
        The cells' area in km².
    xy
        The cells' centres (n × 2) in ``crs``, to say where the densest one is.
    crs
        Their CRS.
    file
        The raster.
    """
    people = np.asarray(people, dtype=float)
    density = people / cell_km2
    over = np.flatnonzero(~(density <= MAX_DENSITY_PER_KM2))
    if len(over) == 0:
        return None
    worst = int(over[np.argmax(np.nan_to_num(density[over], nan=np.inf))])
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(xy[worst, 0], xy[worst, 1])
    return Problem(
        f"{len(over):,} cell(s) hold more than {MAX_DENSITY_PER_KM2:,.0f} people per km², the most "
        f"{density[worst]:,.4g} per km² ({people[worst]:,.4g} people in the {cell_km2:g} km² cell at lon "
        f"{lon:.5f}, lat {lat:.5f}); the densest settlement on record held about 1.3 million per km²",
        file=file,
        location="band 1",
        fix="check that the raster counts people per cell (not per km² or per hectare) and that its "
        "nodata value is declared (gdal_edit.py -a_nodata VALUE FILE)",
    )


@dataclass(frozen=True)
class Finding:
    """An implausible figure in row ``row`` (0-based) of a table, with the fix; the reader turns it into
    a :class:`~planner.errors.Problem` naming the file, the line and the column."""

    row: int
    message: str
    fix: str


def size_findings(population: npt.NDArray[np.float64]) -> list[Finding]:
    """A finding for each village above :data:`MAX_VILLAGE_PEOPLE` people."""
    return [
        Finding(
            i,
            f"{population[i]:,.6g} people in one village or community; more than "
            f"{MAX_VILLAGE_PEOPLE:,.0f} is beyond any real one (GB 50180-2018's largest residential "
            "area holds 50,000–100,000 people)",
            "check the unit (people, not 万人 or 千人) and that the row is one village, not a township "
            "or county total",
        )
        for i in np.flatnonzero(np.asarray(population, dtype=float) > MAX_VILLAGE_PEOPLE).tolist()
    ]


def household_findings(
    population: npt.NDArray[np.float64], households: npt.NDArray[np.float64], *, household_size: float
) -> list[Finding]:
    """A finding for each village whose people per household lie outside the band around
    ``household_size`` (:data:`HOUSEHOLD_SIZE_FACTOR`); rows lacking either figure are not judged."""
    pop = np.asarray(population, dtype=float)
    hh = np.asarray(households, dtype=float)
    low, high = household_size / HOUSEHOLD_SIZE_FACTOR, household_size * HOUSEHOLD_SIZE_FACTOR
    # rows with a negative or an implausibly large figure are reported for that (not twice)
    sane = (pop <= MAX_VILLAGE_PEOPLE) & (hh * household_size <= MAX_VILLAGE_PEOPLE)
    judged = (pop >= 0) & (hh >= 0) & sane
    both = np.isfinite(pop) & np.isfinite(hh) & ((pop > 0) | (hh > 0)) & judged
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(hh > 0, pop / np.where(hh > 0, hh, 1.0), np.inf)
    return [
        Finding(
            i,
            f"{pop[i]:,.6g} people in {hh[i]:,.6g} households is {size[i]:,.3g} people per household, "
            f"outside {low:.2f}–{high:.1f} (a factor {HOUSEHOLD_SIZE_FACTOR:g} around the profile's "
            f"{household_size:g})",
            "check that both columns count the same people (both registered 户籍 or both resident 常住) "
            "and are not swapped; if the figures are right, leave the households blank and they are "
            "derived from the people with the profile's household size",
        )
        for i in np.flatnonzero(both & ((size < low) | (size > high))).tolist()
    ]
