"""Map POI exports (Amap/Baidu) as existing facilities: typed by name, GCJ-02/BD-09 converted, GBK read."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import box

from planner.errors import InputDataError
from planner.inputs import read_poi_facilities, wgs84_to_bd09, wgs84_to_gcj02

CRS_WORK = CRS.from_epsg(32645)
BOUNDARY = gpd.GeoDataFrame({"county_name": ["X"]}, geometry=[box(86.80, 42.20, 86.92, 42.30)], crs=4326)

# name, WGS-84 lon, lat, expected type ("" = dropped), expected brands
POIS = [
    ("菜鸟驿站(幸福小区店)", 86.8573, 42.2586, "outlet", ""),
    ("中国邮政(特吾里克镇邮政所)", 86.8600, 42.2600, "outlet", "中国邮政"),
    ("丰巢快递柜(明珠花园)", 86.8610, 42.2570, "locker", ""),
    ("中通快递和硕营业部", 86.8500, 42.2500, "outlet", "中通"),
    ("中国邮政储蓄银行(和硕县支行)", 86.8620, 42.2620, "", ""),  # a bank: excluded
    ("兴隆超市", 86.8550, 42.2550, "", ""),  # no pattern: not a facility
    ("乌什塔拉村级寄递物流综合服务站", 86.8800, 42.2800, "village_station", ""),
    ("顺丰速运分拨中心", 86.9000, 42.2900, "sorting_centre", "顺丰"),
    ("菜鸟驿站(幸福小区店)", 86.8573, 42.2586, "", ""),  # exact duplicate of the first row
    ("妈妈驿站(远方店)", 87.5000, 42.5000, "", ""),  # far outside the county
]


def amap_csv(path: Path, system: str = "gcj02", *, encoding: str = "gbk") -> Path:
    lon = np.array([p[1] for p in POIS])
    lat = np.array([p[2] for p in POIS])
    x, y = wgs84_to_gcj02(lon, lat) if system == "gcj02" else wgs84_to_bd09(lon, lat)
    frame = pd.DataFrame(
        {
            "id": [f"B0FFG{i:05d}" for i in range(len(POIS))],
            "name": [p[0] for p in POIS],
            "type": "生活服务;物流速递;物流速递",
            "typecode": "070500",
            "address": "和硕县特吾里克镇",
            "location": [f"{a:.6f},{b:.6f}" for a, b in zip(x, y, strict=True)],
            "pname": "新疆维吾尔自治区",
            "adname": "和硕县",
        }
    )
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


@pytest.mark.parametrize(("system", "suffix"), [("gcj02", ".csv"), ("bd09", ".csv"), ("gcj02", ".xlsx")])
def test_amap_export_typed_converted_and_counted(tmp_path: Path, system: str, suffix: str) -> None:
    path = amap_csv(tmp_path / f"amap{suffix}", system)
    out, report = read_poi_facilities(path, crs=CRS_WORK, coordinate_system=system, boundary=BOUNDARY)  # type: ignore[arg-type]
    kept = [p for p in POIS if p[3]]
    assert out["name"].tolist() == [p[0] for p in kept]
    assert out["type"].tolist() == [p[3] for p in kept]
    assert out["brands"].tolist() == [p[4] for p in kept]
    assert out["facility_id"].is_unique
    # the GCJ-02/BD-09 values were made from the WGS-84 points by the forward formulas: the reader's
    # inverse gets back to them (to ~1e-8 degrees, the 6 decimals of the export)
    back = out.to_crs(4326)
    np.testing.assert_allclose(back.geometry.x, [p[1] for p in kept], atol=2e-6)
    np.testing.assert_allclose(back.geometry.y, [p[2] for p in kept], atol=2e-6)
    assert report["rows"] == 10
    assert report["kept"] == {"outlet": 3, "locker": 1, "village_station": 1, "sorting_centre": 1}
    assert (report["excluded"], report["unmatched"], report["duplicates"], report["outside"]) == (1, 1, 1, 1)
    assert report["dropped_examples"]["unmatched"] == ["兴隆超市"]


def test_patterns_come_from_the_scenario_in_their_order(tmp_path: Path) -> None:
    path = amap_csv(tmp_path / "amap.csv")
    patterns = {"locker": ["驿站"], "outlet": ["邮政", "快递"]}  # this bureau counts 驿站 as lockers
    out, report = read_poi_facilities(
        path, crs=CRS_WORK, boundary=BOUNDARY, type_patterns=patterns, exclude_patterns=[]
    )
    types = dict(zip(out["name"], out["type"], strict=True))
    assert types["菜鸟驿站(幸福小区店)"] == "locker"
    assert types["丰巢快递柜(明珠花园)"] == "outlet"  # 快递 (outlet) — no locker pattern matches it now
    assert types["中国邮政储蓄银行(和硕县支行)"] == "outlet"  # no exclusions
    assert "乌什塔拉村级寄递物流综合服务站" not in types  # no village_station pattern given
    assert report["excluded"] == 0


def test_location_that_is_not_lng_lat_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    text = 'name,location\n菜鸟驿站,"86.8573,42.2586"\n丰巢快递柜,北京市朝阳区\n中国邮政,"42.2586"\n'
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InputDataError) as err:
        read_poi_facilities(path, crs=CRS_WORK, boundary=BOUNDARY)
    message = str(err.value)
    assert str(path) in message
    assert f"{path}:3 [line 3, column 'location']" in message and f"{path}:4" in message
    assert "'北京市朝阳区' is not \"lng,lat\"" in message and "Fix:" in message


def test_poi_without_name_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "noname.csv"
    path.write_text('title2,location\n菜鸟驿站,"86.8573,42.2586"\n', encoding="utf-8")
    with pytest.raises(InputDataError, match="required column 'name' is missing"):
        read_poi_facilities(path, crs=CRS_WORK)
