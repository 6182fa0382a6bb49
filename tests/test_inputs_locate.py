"""Villages located from a point layer: by code, by name within the township (suffix variants, spaces,
full-width characters), ambiguous matches refused and listed, unmatched villages and points listed."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import box

from planner.errors import InputDataError
from planner.inputs import locate_villages, read_village_points, read_villages, wgs84_to_gcj02
from planner.inputs.names import clean_name, kind_hint, township_key, village_key

WORK = CRS.from_epsg(32645)
BOUNDARY = gpd.GeoDataFrame(geometry=[box(86.0, 42.0, 87.0, 43.0)], crs=4326)
REGISTER = """village_code,village_name,township_code,township_name
652828100006,光明中心社区,652828100,特吾里克镇
652828100200,红星村,652828100,特吾里克镇
652828100007,红星社区,652828100,特吾里克镇
652828101200,古努恩布呼村,652828101,塔哈其镇
652828101201,祖鲁门苏勒村,652828101,塔哈其镇
652828101202,查干布呼村,652828101,塔哈其镇
652828102200,老城村,652828102,曲惠镇
652828102201,榆树园村,652828102,曲惠镇
652828205200,新塔热村,652828205,新塔热乡
652828205201,红星村,652828205,新塔热乡
"""
# name, township name column, address, WGS-84 lon, lat, what it should locate ("" = nothing)
POINTS = [
    ("光明中心社区居委会", "", "", 86.85, 42.25, "652828100006"),  # community suffix variant
    (
        "红星村村民委员会",
        "特吾里克镇",
        "",
        86.86,
        42.26,
        "652828100200",
    ),  # 红星村 vs 红星社区: suffix decides
    ("红星", "特吾里克镇", "", 86.87, 42.27, ""),  # no suffix: 红星村 or 红星社区? refused
    ("古努恩布呼村委会", "塔哈其镇", "", 86.60, 42.30, "652828101200"),
    (
        "祖鲁门苏勒村党群服务中心",
        "",
        "新疆和硕县塔哈其镇祖鲁门苏勒村",
        86.61,
        42.31,
        "652828101201",
    ),  # township from address
    (
        "　祖鲁门 苏勒村委会（北）",
        "塔哈其镇",
        "",
        86.6105,
        42.3102,
        "652828101201",
    ),  # full-width space, note; ~50 m away
    ("查干布呼村委会", "塔哈其镇", "", 86.62, 42.32, ""),  # two points 11 km apart: ambiguous
    ("查干布呼村", "塔哈其镇", "", 86.75, 42.32, ""),
    ("老城村委会", "曲惠镇", "", 86.90, 42.40, "652828102200"),
    ("新塔热村委会", "", "", 86.95, 42.45, "652828205200"),  # township unknown, name unique in the county
    ("红星村委会", "", "", 86.96, 42.46, ""),  # township unknown: two 红星村 in the county, refused
    ("幸福村委会", "曲惠镇", "", 86.91, 42.41, ""),  # not in the register
    ("远方村委会", "", "", 88.50, 41.00, ""),  # outside the county
]


def write_points(path: Path) -> Path:
    lon = np.array([p[3] for p in POINTS])
    lat = np.array([p[4] for p in POINTS])
    gx, gy = wgs84_to_gcj02(lon, lat)  # an Amap export: GCJ-02
    frame = pd.DataFrame(
        {
            "name": [p[0] for p in POINTS],
            "乡镇": [p[1] for p in POINTS],
            "address": [p[2] for p in POINTS],
            "location": [f"{x:.7f},{y:.7f}" for x, y in zip(gx, gy, strict=True)],
        }
    )
    path.write_bytes(frame.to_csv(index=False).encode("gbk"))
    return path


@pytest.fixture
def register(tmp_path: Path) -> gpd.GeoDataFrame:
    (tmp_path / "register.csv").write_text(REGISTER, encoding="utf-8")
    return read_villages(tmp_path / "register.csv", crs=WORK)


def test_name_normalisation() -> None:
    assert clean_name(" 新塔热村委会（和硕县） ") == "新塔热村委会"
    assert clean_name("ＸＸ村") == "XX村"
    assert village_key("新塔热村村民委员会") == village_key("新塔热村") == "新塔热"
    assert village_key("光明中心社区居委会") == village_key("光明中心社区") == "光明中心"
    assert village_key("红星村党群服务中心") == "红星"
    assert township_key("特吾里克镇") == township_key("特吾里克") == "特吾里克"
    assert township_key("城东街道办事处") == "城东"
    assert (kind_hint("红星村委会"), kind_hint("红星社区居委会"), kind_hint("红星")) == (
        "village",
        "community",
        "",
    )


def test_points_locate_villages_by_name_within_township(tmp_path: Path, register: gpd.GeoDataFrame) -> None:
    points = read_village_points(write_points(tmp_path / "pts.csv"), coordinate_system="gcj02")
    result = locate_villages(register, points, crs=WORK, boundary=BOUNDARY)
    table = result.table.set_index("village_code")
    expected = {p[5] for p in POINTS if p[5]}
    assert set(table.index[table["located"]]) == expected
    assert result.villages["mappable"].tolist() == table["located"].tolist()
    # located at the WGS-84 point (the GCJ-02 export converted back)
    lonlat = result.villages.to_crs(4326).set_index("village_code").geometry
    assert lonlat["652828101200"].x == pytest.approx(86.60, abs=1e-6)
    assert lonlat["652828101200"].y == pytest.approx(42.30, abs=1e-6)
    # two points of 祖鲁门苏勒村 ~50 m apart: their mean
    assert lonlat["652828101201"].x == pytest.approx((86.61 + 86.6105) / 2, abs=1e-6)
    assert table.loc["652828101201", "points"] == "line 6; line 7"
    # two points of 查干布呼村 ~11 km apart: refused, with both rows
    reason = table.loc["652828101202", "reason"]
    assert reason.startswith("ambiguous: 2 points") and "line 8; line 9" in reason
    # 红星 without a suffix matches 红星村 and 红星社区: listed with the codes; 红星社区 stays unlocated
    assert "ambiguous" in table.loc["652828100007", "reason"]
    assert table.loc["652828205201", "located"] == np.False_
    assert table.loc["652828102201", "reason"] == "no point with this code or name"
    unmatched = result.unmatched_points.set_index("name")["reason"]
    assert unmatched["红星"] == "ambiguous: the name matches 652828100200, 652828100007"
    assert unmatched["红星村委会"] == "ambiguous: the name matches 652828100200, 652828205201"
    assert unmatched["幸福村委会"] == "no register village of that name in its township"
    assert unmatched["远方村委会"] == "outside the study area"
    assert len(unmatched) == 4


def test_points_join_by_code_and_register_coordinates_win(tmp_path: Path, register: gpd.GeoDataFrame) -> None:
    path = tmp_path / "pts.geojson"
    gpd.GeoDataFrame(
        {"village_code": ["652828102201", "652828999200"], "名称": ["任意名", "不存在"]},
        geometry=gpd.points_from_xy([86.92, 86.93], [42.42, 42.43]),
        crs=4326,
    ).to_file(path)
    result = locate_villages(register, read_village_points(path), crs=WORK, boundary=BOUNDARY)
    table = result.table.set_index("village_code")
    assert table.loc["652828102201", "source"] == "points (code)"
    assert result.table["located"].sum() == 1
    assert result.unmatched_points["reason"].tolist() == ["code not in the register"]


def test_point_layer_without_join_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pts.csv"
    path.write_text("type,lon,lat\n村委会,86.9,42.4\n", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_village_points(path)
    text = str(err.value)
    assert str(path) in text and "no join key" in text and "Fix:" in text
