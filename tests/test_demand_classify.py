"""Area classification: NBS codes first, then the density rule; village assignment."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.demand.classify import DensityRule, assign_villages, classify_demand, classify_villages
from planner.errors import InputDataError

CRS = "EPSG:32650"


def grid_demand(cells: list[tuple[int, int, float, str]]) -> gpd.GeoDataFrame:
    """Demand points on a 1 km grid: (column, row, people, village_code)."""
    return gpd.GeoDataFrame(
        {
            "demand_id": range(len(cells)),
            "population": [c[2] for c in cells],
            "village_code": [c[3] for c in cells],
        },
        geometry=[Point(500 + 1000 * c[0], 500 + 1000 * c[1]) for c in cells],
        crs=CRS,
    )


VILLAGES = pd.DataFrame(
    {
        "village_code": ["V220", "V121", "VNAN"],
        "urban_rural_code": [220, 121, np.nan],
    }
)


def study() -> gpd.GeoDataFrame:
    cells = []
    # A: 3 x 3 block of 6,000 people per km² = 54,000 people, 4-connected -> urban (centre cell coded 220)
    for i in range(3):
        for j in range(3):
            cells.append((i, j, 6000.0, "V220" if (i, j) == (1, 1) else ""))
    cells.append((3, 0, 100.0, ""))  # next to A but only 100 / km² -> rural
    # B: two cells of 26,000 touching only at a corner: 52,000 people in one 8-connected cluster
    cells += [(10, 0, 26_000.0, ""), (11, 1, 26_000.0, "")]
    # C: 2 x 2 of 1,500 / km² = 6,000 people -> township (below 50,000)
    cells += [(20, 0, 1500.0, ""), (21, 0, 1500.0, ""), (20, 1, 1500.0, "VNAN"), (21, 1, 1500.0, "")]
    cells.append((30, 0, 400.0, ""))  # D: alone, 400 people -> rural (cluster < 5,000)
    cells.append((40, 0, 10.0, "V121"))  # coded 121 -> township whatever its density
    return grid_demand(cells)


def classes(frame: gpd.GeoDataFrame) -> list[str]:
    return list(frame["area_class"])


def test_density_rule_and_codes() -> None:
    out = classify_demand(study(), VILLAGES, rule=DensityRule(), cell_size_m=1000)
    cls = classes(out)
    assert cls[:9] == ["urban"] * 4 + ["rural"] + ["urban"] * 4  # centre cell coded 220 -> rural
    assert cls[9] == "rural"
    assert cls[10:12] == ["township", "township"]  # 4-connected: two clusters of 26,000 < 50,000
    assert cls[12:16] == ["township"] * 4  # VNAN has no usable code -> density
    assert cls[16] == "rural" and cls[17] == "township"
    assert list(out["area_class_source"])[4] == "code" and list(out["area_class_source"])[14] == "density"


def test_connectivity_is_configurable() -> None:
    out = classify_demand(study(), VILLAGES, rule=DensityRule(city_connectivity=8, cell_size_m=1000))
    assert classes(out)[10:12] == ["urban", "urban"]  # 8-connected: one cluster of 52,000


def test_thresholds_are_configurable_and_cell_size_inferred() -> None:
    out = classify_demand(study(), VILLAGES, rule=DensityRule(town_min_population=7000))
    assert classes(out)[12:16] == ["rural"] * 4  # 6,000 < 7,000
    out = classify_demand(study(), VILLAGES, rule=DensityRule(city_min_population=6000, city_connectivity=8))
    assert classes(out)[12:16] == ["urban"] * 4  # 1,500 / km² and 6,000 people


def test_density_is_counted_on_the_1km_grid() -> None:
    # 500 m cells of 100 people. Two rows fill each 1 km cell with 4 x 100 = 400 people / km² (>= 300):
    # 30 km cells x 400 = 12,000 people in one cluster -> township.
    pts = [Point(250 + 500 * i, 250 + 500 * j) for i in range(60) for j in range(2)]
    demand = gpd.GeoDataFrame(
        {"population": [100.0] * 120, "village_code": [""] * 120}, geometry=pts, crs=CRS
    )
    assert set(classify_demand(demand, VILLAGES)["area_class"]) == {"township"}
    # One row: each 1 km cell holds 2 x 100 = 200 people / km² (< 300), although each 500 m cell is at
    # 400 / km²: DEGURBA measures density on 1 km cells -> rural.
    one_row = demand.iloc[::2]
    assert set(classify_demand(one_row, VILLAGES)["area_class"]) == {"rural"}


def test_bad_rule_is_refused() -> None:
    with pytest.raises(InputDataError, match="city_connectivity must be 4 or 8"):
        DensityRule(city_connectivity=6)  # type: ignore[arg-type]


def test_classify_villages_fills_missing_codes() -> None:
    demand = classify_demand(study(), VILLAGES, rule=DensityRule(), cell_size_m=1000)
    out = classify_villages(VILLAGES.assign(area_class=""), demand)
    assert list(out["area_class"]) == ["rural", "township", "township"]


def test_assign_villages_nearest_in_same_township() -> None:
    townships = gpd.GeoDataFrame(
        {"township_code": ["T1", "T2"], "township_name": ["a", "b"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {"village_code": ["A", "B", "C", "D"], "township_code": ["T1", "T1", "T2", "T2"]},
        geometry=[Point(100, 500), Point(900, 500), Point(1900, 500), None],
        crs=CRS,
    )
    demand = gpd.GeoDataFrame(
        {"population": [1.0] * 4},
        # the second cell is 150 m from B (in T1) but lies in T2, so it takes T2's C (850 m away)
        geometry=[Point(200, 500), Point(1050, 500), Point(1950, 900), Point(3000, 500)],
        crs=CRS,
    )
    out = assign_villages(demand, villages, townships, max_km=1.0)
    assert list(out["township_code"]) == ["T1", "T2", "T2", ""]
    assert list(out["village_code"]) == ["A", "C", "C", ""]  # 1050 -> C is 850 m (B, 150 m, is in T1)
    tight = assign_villages(demand, villages, townships, max_km=0.5)
    assert list(tight["village_code"]) == ["A", "", "C", ""]  # 850 m > 500 m


# --- Degree of Urbanisation on the 1 km grid: gap filling, holes, land area, the Grande Comore case ---


def cells_km(cells: dict[tuple[int, int], float]) -> gpd.GeoDataFrame:
    """1 km demand cells keyed (column, row) with their people."""
    return grid_demand([(c, r, p, "") for (c, r), p in cells.items()])


def ring_with_hole() -> dict[tuple[int, int], float]:
    """An 8 x 8 km town: a 2 km wide ring of 2,000 people / km² (48 cells, 96,000 people) around a
    4 x 4 km park of 10 people / km²."""
    return {(c, r): 10.0 if 2 <= c <= 5 and 2 <= r <= 5 else 2000.0 for c in range(8) for r in range(8)}


def test_urban_centre_gap_filling_and_holes() -> None:
    cells = ring_with_hole()
    keys = list(cells)
    hole = [k for k in keys if cells[k] == 10.0]
    corners = {(2, 2), (2, 5), (5, 2), (5, 5)}

    def urban(rule: DensityRule) -> set[tuple[int, int]]:
        out = classify_demand(cells_km(cells), VILLAGES, rule=rule, cell_size_m=1000)
        return {k for k, c in zip(keys, out["area_class"], strict=True) if c == "urban"}

    ring = set(keys) - set(hole)
    # the park's 4 corner cells have 5 of 8 neighbours in the centre (majority rule); the other 12 cells
    # are then a 12 km² hole (< 15 km²), filled
    assert urban(DensityRule()) == set(keys)
    # holes only below 10 km²: the corners are still added by the majority rule, the 12 km² hole stays
    assert urban(DensityRule(max_hole_km2=10)) == ring | corners
    # no smoothing: the dense cells only
    assert urban(DensityRule(smooth_centres=False)) == ring


def test_density_is_per_km2_of_land() -> None:
    # A coastal capital: 20 km of coast, 1 km cells. Column 8 (inland) 1,600 people / km² (32,000);
    # column 9 is half sea (coast at x = 9.5 km): 900 people on 0.5 km² of land = 1,800 / km² (18,000).
    pts, pop = [], []
    for r in range(20):
        for dx in (250, 750):
            for dy in (250, 750):
                pts.append(Point(8000 + dx, 1000 * r + dy))
                pop.append(400.0)
        for dy in (250, 750):
            pts.append(Point(9250, 1000 * r + dy))
            pop.append(450.0)
    demand = gpd.GeoDataFrame({"population": pop, "village_code": [""] * len(pop)}, geometry=pts, crs=CRS)
    land = box(0, 0, 9500, 20_000)
    with_land = classify_demand(demand, VILLAGES, cell_size_m=500, land=land)
    assert set(with_land["area_class"]) == {"urban"}  # 32,000 + 18,000 = 50,000 >= 50,000
    # per km² of the whole cell the coast is 900 / km²: the centre is column 8 alone, 32,000 < 50,000
    whole_cells = classify_demand(demand, VILLAGES, cell_size_m=500)
    assert set(whole_cells["area_class"]) == {"township"}


def test_grande_comore_case_a_patchy_city_is_an_urban_centre() -> None:
    # A city of 8 x 5 km whose 200 m cells alternate (checkerboard) between 130 people and none, as a
    # 100 m raster aggregated to 200 m looks between roads, fields and roofs: 500 cells, 65,000 people.
    pts = [Point(100 + 200 * i, 100 + 200 * j) for i in range(40) for j in range(25) if (i + j) % 2 == 0]
    demand = gpd.GeoDataFrame({"population": [130.0] * len(pts), "village_code": ""}, geometry=pts, crs=CRS)
    assert len(demand) == 500
    # On 1 km cells each holds 12 or 13 populated 200 m cells: 1,560 or 1,690 people / km² (>= 1,500),
    # 40 edge-connected cells, 65,000 people: an urban centre.
    out = classify_demand(demand, VILLAGES, cell_size_m=200)
    assert set(out["area_class"]) == {"urban"}
    # The rule as it was (density and 4-connectivity on the 200 m demand cells themselves, no gap
    # filling) finds no urban area at all: every dense cell touches the others only at corners.
    old = classify_demand(
        demand, VILLAGES, rule=DensityRule(grid_m=200, smooth_centres=False), cell_size_m=200
    )
    assert set(old["area_class"]) == {"township"}


def test_demand_cells_coarser_than_the_grid_are_spread() -> None:
    # 2 km demand cells of 8,000 people: 2,000 / km² on each of the four 1 km cells it covers.
    pts = [Point(1000 + 2000 * i, 1000 + 2000 * j) for i in range(4) for j in range(4)]
    demand = gpd.GeoDataFrame({"population": [8000.0] * 16, "village_code": ""}, geometry=pts, crs=CRS)
    assert set(classify_demand(demand, VILLAGES, cell_size_m=2000)["area_class"]) == {"urban"}  # 128,000
    sparse = demand.assign(population=1000.0)  # 250 / km²: below the urban-cluster density
    assert set(classify_demand(sparse, VILLAGES, cell_size_m=2000)["area_class"]) == {"rural"}
