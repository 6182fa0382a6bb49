"""The plausibility thresholds (planner.inputs.plausible) at their edges, computed by hand, and the
polygon repair (planner.inputs.repair) on outlines whose parts are known."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import Polygon, box

from planner.inputs.plausible import (
    HOUSEHOLD_SIZE_FACTOR,
    MAX_DENSITY_PER_KM2,
    MAX_VILLAGE_PEOPLE,
    axes_problem,
    density_problem,
    household_findings,
    size_findings,
)
from planner.inputs.repair import repair_polygons


def test_axes_metres_in_degrees_and_degrees_in_metres() -> None:
    wgs, utm = CRS.from_epsg(4326), CRS.from_epsg(32650)
    assert axes_problem((116.5, 36.4, 116.7, 36.5), wgs, file=None, what="boundary") is None
    assert axes_problem((448_959.0, 4_020_115.0, 470_000.0, 4_040_000.0), utm, file=None, what="b") is None
    metres = axes_problem((448_959.0, 4_020_115.0, 470_000.0, 4_040_000.0), wgs, file=None, what="boundary")
    assert metres is not None and "look like projected metres" in metres.message and metres.fix
    degrees = axes_problem((116.5, 36.4, 116.7, 36.5), utm, file=None, what="boundary")
    assert degrees is not None and "look like degrees" in degrees.message
    # the edges of the degree ranges: ±180 and ±90 are degrees, a hair beyond is not
    assert axes_problem((-180.0, -90.0, 180.0, 90.0), wgs, file=None, what="b") is None
    assert axes_problem((-180.0, -90.0, 180.0, 90.5), wgs, file=None, what="b") is not None


def test_density_ceiling_at_its_edge() -> None:
    cell_km2 = 0.2 * 0.2  # 200 m cells
    at_ceiling = MAX_DENSITY_PER_KM2 * cell_km2  # 80,000 people in 0.04 km²
    xy = np.array([[500_000.0, 4_000_000.0], [500_200.0, 4_000_000.0]])
    utm = CRS.from_epsg(32650)
    assert density_problem(np.array([at_ceiling, 10.0]), cell_km2=cell_km2, xy=xy, crs=utm, file=None) is None
    over = density_problem(np.array([10.0, at_ceiling + 1]), cell_km2=cell_km2, xy=xy, crs=utm, file=None)
    assert over is not None and over.message.startswith("1 cell(s) hold more than 2,000,000 people per km²")
    # the densest cell is located: the second one, at UTM 50N (500200, 4000000) = lon 117.0022…
    assert "lon 117.00" in over.message
    assert density_problem(np.array([np.inf, 1.0]), cell_km2=cell_km2, xy=xy, crs=utm, file=None) is not None


def test_village_size_and_people_per_household_bands() -> None:
    assert [f.row for f in size_findings(np.array([MAX_VILLAGE_PEOPLE, MAX_VILLAGE_PEOPLE + 1, np.nan]))] == [
        1
    ]
    size = 2.62
    low, high = size / HOUSEHOLD_SIZE_FACTOR, size * HOUSEHOLD_SIZE_FACTOR  # 0.655 and 10.48
    assert (low, high) == (0.655, 10.48)
    people = np.array([100.0, 100.0, 1048.0, 1049.0, 100.0, 100.0, 100.0, 0.0])
    households = np.array([152.0, 153.0, 100.0, 100.0, np.nan, -3.0, 0.0, 0.0])
    # 100/152 = 0.658 ok; 100/153 = 0.654 below; 10.48 ok; 10.49 above; blank and negative not judged;
    # 100 people in 0 households is beyond any band; nobody in no households is not judged
    assert [f.row for f in household_findings(people, households, household_size=size)] == [1, 3, 6]


def test_a_looped_outline_is_repaired_keeping_the_loop_and_telling_its_area() -> None:
    # the ring runs round the 4x4 square and then loops round [1,3]x[1,3] in the same direction: the
    # inner square is enclosed twice (a repair by crossings would make it a hole)
    ring = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0), (1, 1), (3, 1), (3, 3), (1, 3), (1, 1), (0, 0)]
    scale = 0.01  # degrees: about 1.1 km
    loop = Polygon([(x * scale, y * scale) for x, y in ring])
    fine = box(0.1, 0.1, 0.2, 0.2)
    fixed, repairs = repair_polygons([fine, loop], what="boundary", file=None)
    assert fixed[0] is fine and len(repairs) == 1
    (repair,) = repairs
    assert repair.feature == 2 and "Self-intersection" in repair.reason
    assert shapely.equals(fixed[1], box(0, 0, 4 * scale, 4 * scale))
    assert shapely.equals(repair.looped, box(scale, scale, 3 * scale, 3 * scale))
    # areas: 4.4 km x 4.4 km and 2.2 km x 2.2 km near the equator (0.01° of latitude = 1.106 km there)
    assert abs(repair.area_km2 - (0.04 * 110.574) * (0.04 * 111.320)) < 0.05
    assert abs(repair.looped_km2 - (0.02 * 110.574) * (0.02 * 111.320)) < 0.02
    note = repair.note()
    assert note.location == "feature 2" and "are kept" in note.message and note.fix
