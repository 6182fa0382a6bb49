"""Facilities and candidate sites."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS, Transformer
from shapely.geometry import box

from planner.errors import InputDataError
from planner.inputs import bd09_to_wgs84, read_candidates, read_facilities
from planner.types import CANDIDATE_COLUMNS, FACILITY_COLUMNS

UTM50 = CRS.from_epsg(32650)
BOUNDARY = gpd.GeoDataFrame(
    {"county_code": ["110101"], "county_name": ["x"]}, geometry=[box(116.0, 39.8, 116.6, 40.2)], crs=4326
)


def _csv(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_facilities_with_chinese_types_and_aliases(tmp_path: Path) -> None:
    text = (
        "编号,类型,名称,快递品牌,capacity,面积,village_code,经度,纬度\n"
        "A1,快递末端网点,甲网点,中国邮政、中通,500,40,,116.40,39.90\n"
        "A2,智能快件箱,乙柜,丰巢,,,,116.41,39.91\n"
        'A3,村级寄递物流综合服务站,丙站,"中通,圆通",,25,110101001201,116.42,39.92\n'
        "A4,县级快递园区,园区,,1e5,20000,,116.43,39.93\n"
        "A5,分拨中心,分拨,,,,,116.44,39.94\n"
        "A6,公共快递配送中心,中心,,,30,,116.45,39.95\n"
    )
    f = read_facilities(_csv(tmp_path, text), crs=UTM50, boundary=BOUNDARY)
    assert list(f.columns) == [*FACILITY_COLUMNS, "geometry"]
    assert f["type"].tolist() == [
        "outlet",
        "locker",
        "village_station",
        "park",
        "sorting_centre",
        "delivery_centre",
    ]
    assert f["facility_id"].tolist() == ["A1", "A2", "A3", "A4", "A5", "A6"]
    assert f["brands"].tolist()[:3] == ["中国邮政;中通", "丰巢", "中通;圆通"]
    assert f["capacity"].iloc[0] == 500 and np.isnan(f["capacity"].iloc[1]) and f["capacity"].iloc[3] == 1e5
    assert f["floor_area_m2"].iloc[0] == 40 and np.isnan(f["floor_area_m2"].iloc[1])
    assert f["village_code"].tolist()[2] == "110101001201" and f["village_code"].iloc[0] == ""
    assert (f["township_code"] == "").all()
    x, y = Transformer.from_crs(4326, UTM50, always_xy=True).transform(116.40, 39.90)
    assert f.geometry.iloc[0].x == pytest.approx(x) and f.geometry.iloc[0].y == pytest.approx(y)


def test_osm_post_offices_with_default_ids_and_tags(tmp_path: Path) -> None:
    text = (
        "tag,name,lon,lat,osm_type,osm_id\n"
        "amenity=post_office,Main PO,116.40,39.90,node,1\n"
        "amenity=parcel_locker,,116.41,39.91,node,2\n"
    )
    f = read_facilities(_csv(tmp_path, text), crs=UTM50)
    assert f["type"].tolist() == ["outlet", "locker"] and f["facility_id"].tolist() == ["1", "2"]
    g = read_facilities(
        _csv(tmp_path, "name,lng,latitude\nX,116.4,39.9\n", "g.csv"), crs=UTM50, default_type="outlet"
    )
    assert g["facility_id"].tolist() == ["F1"] and g["type"].tolist() == ["outlet"]


def test_facility_problems_are_gathered(tmp_path: Path) -> None:
    text = (
        "facility_id,type,lon,lat,capacity\n"
        "A,outlet,116.4,39.9,10\n"
        "A,kiosk,116.4,39.9,10\n"  # duplicate id, unknown type
        "B,locker,39.9,116.4,x\n"  # swapped lon/lat, bad capacity
        "C,locker,,,\n"  # no coordinates
        "D,locker,121.47,31.23,\n"
    )  # outside the area
    with pytest.raises(InputDataError) as err:
        read_facilities(_csv(tmp_path, text), crs=UTM50, boundary=BOUNDARY)
    msg = str(err.value)
    assert "f.csv:3" in msg and "duplicated" in msg and "unknown facility type 'kiosk'" in msg
    assert "f.csv:4" in msg and "latitude 116.4 is outside -90..90" in msg and "swapped" in msg
    assert "'x' is not a number" in msg
    assert "f.csv:5" in msg and "lon/lat are blank" in msg
    assert "f.csv:6" in msg and "outside the study area" in msg
    assert len(err.value.problems) == 6


def test_missing_type_column(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="required column 'type' is missing"):
        read_facilities(_csv(tmp_path, "facility_id,lon,lat\nA,116.4,39.9\n"), crs=UTM50)


def test_bd09_facilities_are_converted(tmp_path: Path) -> None:
    f = read_facilities(
        _csv(tmp_path, "type,lon,lat\noutlet,116.404,39.915\n"), crs=UTM50, coordinate_system="bd09"
    )
    wx, wy = bd09_to_wgs84(116.404, 39.915)
    x, y = Transformer.from_crs(4326, UTM50, always_xy=True).transform(float(wx), float(wy))
    assert f.geometry.iloc[0].x == pytest.approx(x, abs=1e-6) and f.geometry.iloc[0].y == pytest.approx(
        y, abs=1e-6
    )


def test_candidates_cost_from_file_or_table(tmp_path: Path) -> None:
    text = (
        "candidate_id,type,cost,capacity,lon,lat\n"
        "C1,outlet,12000,,116.40,39.90\n"
        "C2,outlet,,,116.41,39.91\n"
        "C3,智能快件箱,,100,116.42,39.92\n"
    )
    c = read_candidates(
        _csv(tmp_path, text), crs=UTM50, cost_table={"outlet": 50000, "locker": 8000}, boundary=BOUNDARY
    )
    assert list(c.columns) == [*CANDIDATE_COLUMNS, "geometry"]
    assert c["cost"].tolist() == [12000.0, 50000.0, 8000.0]
    assert c["type"].tolist() == ["outlet", "outlet", "locker"]
    assert np.isnan(c["capacity"].iloc[0]) and c["capacity"].iloc[2] == 100


def test_candidate_without_cost_names_the_row(tmp_path: Path) -> None:
    text = "candidate_id,type,lon,lat\nC1,outlet,116.4,39.9\nC2,park,116.41,39.91\n"
    with pytest.raises(InputDataError) as err:
        read_candidates(_csv(tmp_path, text), crs=UTM50, cost_table={"outlet": 1.0})
    msg = str(err.value)
    assert len(err.value.problems) == 1
    assert "f.csv:3" in msg and "no cost for type 'park'" in msg and "cost table" in msg
