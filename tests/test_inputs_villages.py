"""Village registers: codes, kinds, households, coordinates, and every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Transformer
from shapely.geometry import box

from planner.errors import InputDataError
from planner.inputs import gcj02_to_wgs84, kind_from_code, read_villages, villages_from_osm_places
from planner.types import VILLAGE_COLUMNS

UTM50 = CRS.from_epsg(32650)
BOUNDARY = gpd.GeoDataFrame(
    {"county_code": ["110101"], "county_name": ["x"]}, geometry=[box(116.0, 39.8, 116.6, 40.2)], crs=4326
)

GOOD = """village_code,village_name,township_code,township_name,urban_rural_code,population,households,lon,lat
110101001001,东社区,110101001,甲街道,111,3000,,116.40,39.90
110101001201,西村,110101001,甲街道,220,,400,116.45,39.95
110101002202,南村,,乙镇,,1310,500,,
"""


def _csv(tmp_path: Path, text: str, name: str = "v.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_kind_from_code_follows_the_nbs_ranges() -> None:
    assert kind_from_code("110101001001") == "community"
    assert kind_from_code("110101001199") == "community"
    assert kind_from_code("110101001200") == "village"
    assert kind_from_code("110101001599") == "village"
    assert kind_from_code("110101001600") is None


def test_read_good_register(tmp_path: Path) -> None:
    v = read_villages(_csv(tmp_path, GOOD), crs=UTM50, boundary=BOUNDARY, household_size=2.62)
    assert list(v.columns) == [*VILLAGE_COLUMNS, "mappable", "geometry"]
    assert v["kind"].tolist() == ["community", "village", "village"]
    assert v["township_code"].tolist() == ["110101001", "110101001", "110101002"]  # 3rd from the code
    assert v["urban_rural_code"].tolist() == [111, 220, 0]
    assert v["area_class"].tolist() == ["urban", "rural", ""]
    # population / households derived with the household size; given values kept.
    assert v["households"].iloc[0] == pytest.approx(3000 / 2.62)
    assert v["population"].iloc[1] == pytest.approx(400 * 2.62)
    assert v["population"].iloc[2] == 1310 and v["households"].iloc[2] == 500
    assert v["mappable"].tolist() == [True, True, False]
    assert v.geometry.iloc[2] is None
    x, y = Transformer.from_crs(4326, UTM50, always_xy=True).transform(116.40, 39.90)
    assert v.geometry.iloc[0].x == pytest.approx(x) and v.geometry.iloc[0].y == pytest.approx(y)


def test_register_without_coordinates_or_population(tmp_path: Path) -> None:
    # The NBS code list as china-division ships it (kind "other" for virtual living areas).
    text = (
        "code,name,streetCode,provinceCode,cityCode,areaCode,streetName,areaName,kind\n"
        "652828100006,光明中心社区,652828100,65,6528,652828,特吾里克镇,和硕县,community\n"
        "652828100201,新村,652828100,65,6528,652828,特吾里克镇,和硕县,village\n"
        "652828400598,清水河农场虚拟生活区,652828400,65,6528,652828,清水河农场,和硕县,other\n"
    )
    v = read_villages(_csv(tmp_path, text), crs=CRS.from_epsg(32645))
    assert v["kind"].tolist() == ["community", "village", "other"]
    assert v["township_name"].tolist() == ["特吾里克镇", "特吾里克镇", "清水河农场"]
    assert v["population"].isna().all() and v["households"].isna().all()
    assert not v["mappable"].any() and v.geometry.isna().all()
    assert (v["area_class"] == "").all() and (v["urban_rural_code"] == 0).all()


def test_duplicate_codes_are_listed_with_their_rows(tmp_path: Path) -> None:
    text = GOOD + "110101001201,西村重复,110101001,甲街道,220,100,,116.45,39.95\n"
    with pytest.raises(InputDataError) as err:
        read_villages(_csv(tmp_path, text), crs=UTM50)
    msg = str(err.value)
    assert "110101001201 is duplicated in line 3, line 5" in msg
    assert "v.csv:5" in msg


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "village_code,village_name,township_code,urban_rural_code,population,lon,lat\n"
        "11010100120,短码,110101001,220,100,116.4,39.9\n"  # 11 digits
        "110101001202,甲,110101009,220,100,116.4,39.9\n"  # township mismatch
        "110101001203,乙,110101001,999,100,116.4,39.9\n"  # unknown urban-rural code
        "110101001204,丙,110101001,220,很多,116.4,39.9\n"  # non-numeric population
        "110101001205,丁,110101001,220,100,121.5,31.2\n"
    )  # Shanghai: outside the boundary
    with pytest.raises(InputDataError) as err:
        read_villages(_csv(tmp_path, text), crs=UTM50, boundary=BOUNDARY)
    msg = str(err.value)
    assert len(err.value.problems) == 5
    assert "v.csv:2" in msg and "not 12 digits" in msg
    assert "v.csv:3" in msg and "does not match the village code" in msg
    assert "v.csv:4" in msg and "urban-rural code '999'" in msg
    assert "v.csv:5" in msg and "'很多' is not a number of people" in msg
    assert "v.csv:6" in msg and "outside the study area" in msg
    assert "Fix:" in msg


def test_missing_column_names_the_column_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as err:
        read_villages(_csv(tmp_path, "village_name,population\n甲,100\n"), crs=UTM50)
    msg = str(err.value)
    assert "required column 'village_code' is missing" in msg and "v.csv" in msg
    assert "统计用区划代码" in msg  # the accepted aliases are listed


def test_gcj02_coordinates_are_converted(tmp_path: Path) -> None:
    text = "village_code,village_name,lon,lat\n110101001201,甲,116.4,39.9\n"
    v = read_villages(_csv(tmp_path, text), crs=UTM50, coordinate_system="gcj02")
    wx, wy = gcj02_to_wgs84(116.4, 39.9)
    x, y = Transformer.from_crs(4326, UTM50, always_xy=True).transform(float(wx), float(wy))
    assert v.geometry.iloc[0].x == pytest.approx(x, abs=1e-6) and v.geometry.iloc[0].y == pytest.approx(
        y, abs=1e-6
    )


def test_gbk_csv_xlsx_and_geojson(tmp_path: Path) -> None:
    text = (
        "统计用区划代码,名称,乡镇名称,城乡分类代码,户数,经度,纬度\n"
        "110101001201,西村,甲街道,121,10,116.45,39.95\n"
    )
    v1 = read_villages(_csv(tmp_path, text, "gbk.csv", encoding="gbk"), crs=UTM50)
    assert v1["village_name"].iloc[0] == "西村" and v1["area_class"].iloc[0] == "township"
    assert v1["population"].iloc[0] == pytest.approx(26.2)
    frame = pd.DataFrame(
        {
            "村代码": [110101001201, 110101001202],  # stored as numbers, as Excel users do
            "村名称": ["西村", "东村"],
            "人口": [50, None],  # a blank cell
            "lng": [116.45, None],
            "lat": [39.95, None],
        }
    )
    frame.to_excel(tmp_path / "v.xlsx", index=False)
    v2 = read_villages(tmp_path / "v.xlsx", crs=UTM50)
    assert v2["population"].iloc[0] == 50 and v2["village_code"].tolist() == ["110101001201", "110101001202"]
    assert np.isnan(v2["population"].iloc[1]) and v2.geometry.iloc[1] is None
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"village_code": "110101001201", "village_name": "西村"},
                "geometry": {"type": "Point", "coordinates": [116.45, 39.95]},
            }
        ],
    }
    (tmp_path / "v.geojson").write_text(json.dumps(gj), encoding="utf-8")
    v3 = read_villages(tmp_path / "v.geojson", crs=UTM50)
    np.testing.assert_allclose(
        [v3.geometry.iloc[0].x, v3.geometry.iloc[0].y],
        [v2.geometry.iloc[0].x, v2.geometry.iloc[0].y],
        atol=1e-6,
    )


def test_xlsx_excel_number_codes_error(tmp_path: Path) -> None:
    # Excel often stores codes as numbers and drops nothing here, but a float-formatted code is wrong.
    text = "village_code,village_name\n1.10101001201E+11,甲\n"
    with pytest.raises(InputDataError, match="not 12 digits") as err:
        read_villages(_csv(tmp_path, text), crs=UTM50)
    assert "as text" in str(err.value)


def test_osm_places_get_placeholder_codes(tmp_path: Path) -> None:
    text = (
        "place,name,lon,lat,population,osm_node_id\n"
        "city,Town,116.40,39.90,99600,1\n"
        "village,A,116.41,39.91,5000,2\n"
        "hamlet,B,116.42,39.92,,3\n"
        "island,C,116.43,39.93,,4\n"  # not a settlement kind: dropped
        "village,Far,121.47,31.23,10,5\n"  # outside the area: dropped
    )
    v = villages_from_osm_places(_csv(tmp_path, text), crs=UTM50, county_code="999999", boundary=BOUNDARY)
    assert v["village_name"].tolist() == ["Town", "A", "B"]
    assert v["village_code"].tolist() == ["999999900001", "999999950200", "999999950201"]
    assert (
        [kind_from_code(c) for c in v["village_code"]]
        == v["kind"].tolist()
        == ["community", "village", "village"]
    )
    assert v["township_code"].tolist() == ["999999900", "999999950", "999999950"]
    assert v["population"].iloc[0] == 99600 and np.isnan(v["population"].iloc[2])
    assert v["households"].iloc[1] == pytest.approx(5000 / 2.62)
    assert v["osm_place"].tolist() == ["city", "village", "hamlet"] and v["mappable"].all()
    with pytest.raises(ValueError, match="6 digits"):
        villages_from_osm_places(_csv(tmp_path, text), crs=UTM50, county_code="12")


def test_osm_free_text_population_is_parsed_or_dropped_never_the_file(tmp_path: Path) -> None:
    text = (
        "place,name,lon,lat,population\n"
        "village,A,116.41,39.91,1000 à 3000\n"  # a range: the value is dropped, the place kept
        "village,B,116.42,39.92,约2000\n"
        "hamlet,C,116.43,39.93,1 200\n"
        "village,D,116.44,39.94,2000+\n"
    )
    v = villages_from_osm_places(_csv(tmp_path, text), crs=UTM50, county_code="999999", boundary=BOUNDARY)
    assert v["village_name"].tolist() == ["A", "B", "C", "D"]
    pop = v["population"].tolist()
    assert np.isnan(pop[0]) and pop[1:3] == [2000.0, 1200.0] and np.isnan(pop[3])
    dropped = v.attrs["dropped_values"]
    assert len(dropped) == 2 and "'1000 à 3000'" in dropped[0] and "line 2" in dropped[0]
    assert "'2000+'" in dropped[1] and "bound" in dropped[1]
