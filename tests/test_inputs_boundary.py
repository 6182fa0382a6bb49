"""Boundary, townships and the work CRS."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS, Transformer
from shapely.geometry import Point, Polygon, box

from planner.errors import CRSError, InputDataError, InputFileNotFoundError
from planner.inputs import gcj02_to_wgs84, read_boundary, read_townships, wgs84_to_gcj02, work_crs


def _write_geojson(path: Path, features: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _feature(geom: object, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": gpd.GeoSeries([geom]).__geo_interface__["features"][0]["geometry"],
    }


def test_work_crs_is_the_utm_zone_of_the_centroid() -> None:
    # Zone = floor((lon + 180) / 6) + 1: 116.4 E -> 50 (EPSG:32650); 86.9 E -> 45; south -> 327xx.
    beijing = gpd.GeoDataFrame(geometry=[box(116.3, 39.8, 116.5, 40.0)], crs=4326)
    assert work_crs(beijing) == CRS.from_epsg(32650)
    hoxud = gpd.GeoDataFrame(geometry=[box(86.6, 41.4, 88.3, 42.8)], crs=4326)
    assert work_crs(hoxud) == CRS.from_epsg(32645)
    south = gpd.GeoDataFrame(geometry=[box(-47.0, -16.0, -46.0, -15.0)], crs=4326)
    assert work_crs(south) == CRS.from_epsg(32723)
    assert work_crs(beijing, epsg=4547) == CRS.from_epsg(4547)  # CGCS2000 / 3-degree GK CM 114E


def test_work_crs_refuses_geographic_epsg() -> None:
    b = gpd.GeoDataFrame(geometry=[box(116.3, 39.8, 116.5, 40.0)], crs=4326)
    with pytest.raises(CRSError, match="geographic"):
        work_crs(b, epsg=4326)
    with pytest.raises(CRSError, match="not a known CRS"):
        work_crs(b, epsg=999999)


def test_read_boundary_geojson_and_projected_gpkg(tmp_path: Path) -> None:
    poly = box(116.3, 39.8, 116.5, 40.0)
    path = _write_geojson(
        tmp_path / "b.geojson", [_feature(poly, county_code="110101", county_name="东城区")]
    )
    b = read_boundary(path)
    assert b.crs == CRS.from_epsg(4326)
    assert list(b.columns) == ["county_code", "county_name", "geometry"]
    assert b.loc[0, "county_code"] == "110101" and b.loc[0, "county_name"] == "东城区"
    assert b.geometry.iloc[0].equals_exact(poly, 1e-12)
    # The same polygon stored in UTM 50N comes back in WGS-84 (vertices checked with pyproj directly).
    tr = Transformer.from_crs(4326, 32650, always_xy=True)
    utm = Polygon([tr.transform(x, y) for x, y in poly.exterior.coords])
    gpd.GeoDataFrame({"adcode": ["110101"]}, geometry=[utm], crs=32650).to_file(tmp_path / "b.gpkg")
    b2 = read_boundary(tmp_path / "b.gpkg", county_name="东城区")
    assert b2.loc[0, "county_code"] == "110101"
    np.testing.assert_allclose(
        np.asarray(b2.geometry.iloc[0].exterior.coords)[:, :2].min(axis=0), [116.3, 39.8], atol=1e-9
    )


def test_read_boundary_declared_gcj02_is_converted(tmp_path: Path) -> None:
    lon = np.array([116.3, 116.5, 116.5, 116.3, 116.3])
    lat = np.array([39.8, 39.8, 40.0, 40.0, 39.8])
    gx, gy = wgs84_to_gcj02(lon, lat)
    path = _write_geojson(tmp_path / "gcj.geojson", [_feature(Polygon(zip(gx, gy, strict=True)))])
    b = read_boundary(path, coordinate_system="gcj02", county_code="110101", county_name="x")
    xy = np.asarray(b.geometry.iloc[0].exterior.coords)
    expected = np.column_stack(gcj02_to_wgs84(gx, gy))
    assert len(xy) == 5
    # same vertex set (orientation may be normalised by make_valid)
    for v in np.column_stack([lon, lat]):
        assert np.min(np.hypot(*(xy - v).T)) < 1e-8
    assert np.allclose(np.sort(expected, axis=0), np.sort(xy, axis=0), atol=1e-8)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_read_boundary_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match="does not exist"):
        read_boundary(tmp_path / "missing.geojson")
    pts = _write_geojson(tmp_path / "pts.geojson", [_feature(Point(116.3, 39.8))])
    with pytest.raises(InputDataError, match="must be polygons") as err:
        read_boundary(pts)
    assert "feature 1" in str(err.value)
    gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)]).to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match="no CRS") as err2:
        read_boundary(tmp_path / "nocrs.shp")
    assert "nocrs.shp" in str(err2.value)
    with pytest.raises(InputDataError, match="exactly one"):
        read_boundary()


def test_enclosing_prefecture_row_is_dropped(tmp_path: Path) -> None:
    a, b_, c = box(116.0, 40.0, 116.1, 40.1), box(116.1, 40.0, 116.2, 40.1), box(116.0, 40.1, 116.2, 40.2)
    outer = box(116.0, 40.0, 116.2, 40.2)
    path = _write_geojson(
        tmp_path / "pref.geojson",
        [
            _feature(outer, adcode="110100"),
            _feature(a, adcode="110101", district="A"),
            _feature(b_, adcode="110102", district="B"),
            _feature(c, adcode="110103", district="C"),
        ],
    )
    out = read_boundary(path)
    assert out["county_code"].tolist() == ["110101", "110102", "110103"]
    assert out["county_name"].tolist() == ["A", "B", "C"]


def test_read_townships_polygons_and_code_list(tmp_path: Path) -> None:
    path = _write_geojson(
        tmp_path / "t.geojson",
        [
            _feature(box(116.0, 40.0, 116.1, 40.1), township_code="110101001", township_name="甲街道"),
            _feature(box(116.1, 40.0, 116.2, 40.1), township_code="110101002", township_name="乙街道"),
        ],
    )
    crs = CRS.from_epsg(32650)
    t = read_townships(path, crs=crs)
    assert t.crs == crs and t["township_code"].tolist() == ["110101001", "110101002"]
    expected_area = gpd.GeoSeries([box(116.0, 40.0, 116.1, 40.1)], crs=4326).to_crs(crs).area.iloc[0]
    assert t.geometry.iloc[0].area == pytest.approx(expected_area, rel=1e-9)
    # An NBS code list without polygons (china-division columns): geometry None.
    csv = tmp_path / "t.csv"
    csv.write_text(
        "code,name,areaCode\n652828100,特吾里克镇,652828\n652828101,塔哈其镇,652828\n", encoding="utf-8"
    )
    t2 = read_townships(csv, crs=crs)
    assert t2["township_name"].tolist() == ["特吾里克镇", "塔哈其镇"] and t2.geometry.isna().all()


def test_read_townships_gathers_every_problem(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("township_code,township_name\n65282810,A\n652828101,B\n652828101,C\n", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_townships(csv, crs=CRS.from_epsg(32645))
    msg = str(err.value)
    assert len(err.value.problems) == 2
    assert "t.csv:2" in msg and "not 9 digits" in msg
    assert "t.csv:4" in msg and "duplicated (line 3)" in msg


def test_cnmaps_name_resolution_errors() -> None:
    with pytest.raises(InputDataError, match="ambiguous") as err:
        read_boundary(admin_name="鼓楼区")
    assert "江苏省/南京市/鼓楼区" in str(err.value)
    with pytest.raises(InputDataError, match="not found"):
        read_boundary(admin_name="不存在县")


def test_cnmaps_gcj02_geometry_is_converted_with_the_exact_inverse() -> None:
    from cnmaps import get_adm_maps

    raw = get_adm_maps(district="和硕县", engine="geopandas", wgs84=False).geometry.iloc[0]
    b = read_boundary(admin_name="新疆维吾尔自治区/巴音郭楞蒙古自治州/和硕县")
    assert b.loc[0, "county_name"] == "和硕县"
    assert b.loc[0, "county_code"] == "652828"  # the adcode of 和硕县 (NBS county code)
    # A vertex of the raw GCJ-02 ring, converted independently, is a vertex of the result.
    gx, gy = raw.geoms[0].exterior.coords[0]
    wx, wy = gcj02_to_wgs84(gx, gy)
    xy = (
        np.asarray(b.geometry.iloc[0].geoms[0].exterior.coords)
        if b.geometry.iloc[0].geom_type == "MultiPolygon"
        else np.asarray(b.geometry.iloc[0].exterior.coords)
    )
    assert np.min(np.hypot(xy[:, 0] - wx, xy[:, 1] - wy)) < 1e-9


def test_numeric_codes_in_geojson_and_a_self_intersecting_boundary(tmp_path: Path) -> None:
    path = tmp_path / "t.geojson"
    feature = {
        "type": "Feature",
        "properties": {"township_code": 110101001, "township_name": "甲"},  # a number, not text
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[116.0, 40.0], [116.1, 40.0], [116.1, 40.1], [116.0, 40.0]]],
        },
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    assert read_townships(path, crs=CRS.from_epsg(32650))["township_code"].tolist() == ["110101001"]
    # A bow-tie (self-intersecting) ring is repaired into two triangles of the same total area.
    bowtie = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},
    }
    bpath = tmp_path / "bowtie.geojson"
    bpath.write_text(json.dumps({"type": "FeatureCollection", "features": [bowtie]}), encoding="utf-8")
    b = read_boundary(bpath)
    assert b.geometry.iloc[0].is_valid and b.geometry.iloc[0].geom_type == "MultiPolygon"
    assert b.geometry.iloc[0].area == pytest.approx(2.0)  # two triangles of base 2, height 1
