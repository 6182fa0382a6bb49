"""Townships: the register's townships named from the register, never an unnamed catch-all township."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.demand import assign_villages, townships_from_villages, with_register_townships, with_township

CRS = "EPSG:32645"
BOUNDARY = gpd.GeoDataFrame(geometry=[box(0, 0, 10_000, 10_000)], crs=CRS)


def register(points: list[Point | None]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "village_code": ["652828100200", "652828100201", "652828101200", "652828102200"],
            "village_name": ["甲村", "乙村", "丙村", "丁村"],
            "township_code": ["652828100", "652828100", "652828101", "652828102"],
            "township_name": ["特吾里克镇", "", "塔哈其镇", "曲惠镇"],
            "kind": "village",
        },
        geometry=points,
        crs=CRS,
    )


def test_unlocated_register_gives_named_townships_without_area() -> None:
    out = townships_from_villages(register([None] * 4), BOUNDARY)
    assert out[["township_code", "township_name"]].values.tolist() == [
        ["652828100", "特吾里克镇"],
        ["652828101", "塔哈其镇"],
        ["652828102", "曲惠镇"],
    ]
    assert out.geometry.isna().all()
    # demand then lies outside every township (code ""), not in an unnamed township row
    demand = gpd.GeoDataFrame({"population": [5.0]}, geometry=[Point(500, 500)], crs=CRS)
    assigned = assign_villages(demand, register([None] * 4), out, max_km=2)
    assert assigned["township_code"].tolist() == [""]
    assert with_township(demand, out)["township_code"].tolist() == [""]


def test_located_villages_give_voronoi_areas_named_from_the_register() -> None:
    out = townships_from_villages(
        register([Point(2000, 5000), Point(3000, 5000), Point(8000, 5000), None]), BOUNDARY
    )
    by_code = out.set_index("township_code")
    assert by_code["township_name"].to_dict() == {
        "652828100": "特吾里克镇",
        "652828101": "塔哈其镇",
        "652828102": "曲惠镇",
    }
    # Voronoi: the border between x = 3,000 and x = 8,000 is x = 5,500
    assert by_code.geometry["652828100"].area == pytest.approx(5500 * 10_000)
    assert by_code.geometry["652828101"].area == pytest.approx(4500 * 10_000)
    assert by_code.geometry["652828102"] is None


def test_polygons_without_names_are_named_and_missing_townships_added() -> None:
    polygons = gpd.GeoDataFrame(
        {"township_code": ["652828100"], "township_name": [""]}, geometry=[box(0, 0, 5000, 10_000)], crs=CRS
    )
    out = with_register_townships(polygons, pd.DataFrame(register([None] * 4).drop(columns="geometry")))
    assert out["township_name"].tolist() == ["特吾里克镇", "塔哈其镇", "曲惠镇"]
    assert out.geometry.notna().tolist() == [True, False, False]


def test_no_register_no_townships() -> None:
    empty = register([None] * 4).iloc[0:0]
    out = townships_from_villages(empty, BOUNDARY)
    assert len(out) == 0 and list(out.columns) == ["township_code", "township_name", "geometry"]
