"""Census totals per township: reading (GBK, XLSX, names without 镇/乡, total rows), joining, and the
dasymetric calibration of the demand, checked against hand numbers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.demand import calibrate_to_census
from planner.errors import InputDataError
from planner.inputs import read_census
from planner.types import DEMAND_COLUMNS

CRS = "EPSG:32645"
TOWNSHIPS = gpd.GeoDataFrame(
    {
        "township_code": ["652828100", "652828101", "652828102", "652828200"],
        "township_name": ["特吾里克镇", "塔哈其镇", "曲惠镇", "乌什塔拉回族民族乡"],
    },
    geometry=[box(0, 0, 3000, 1000), box(3000, 0, 5000, 1000), box(0, 1000, 2000, 2000), None],
    crs=CRS,
)
AREA = box(0, 0, 6000, 2000)


def demand() -> gpd.GeoDataFrame:
    """1 km demand cells: two in 特吾里克镇 (10 and 30 people), none in 塔哈其镇, one in 曲惠镇 (7),
    one outside every township (5)."""
    pts = [(500, 500, 10.0), (1500, 500, 30.0), (500, 1500, 7.0), (5500, 500, 5.0)]
    return gpd.GeoDataFrame(
        {
            "demand_id": range(4),
            "population": [p[2] for p in pts],
            "households": [p[2] / 2.5 for p in pts],
            "area_class": "",
            "township_code": "",
            "village_code": "",
        },
        geometry=[Point(p[0], p[1]) for p in pts],
        crs=CRS,
    )[[*DEMAND_COLUMNS, "geometry"]]


def census_csv(path: Path, rows: list[tuple[str, str, str]], encoding: str = "gbk") -> Path:
    text = "乡镇街道,代码,常住人口\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


GOOD = [("特吾里克", "", "100"), ("", "652828101", "50"), ("合计", "", "150")]


def test_read_joins_by_code_and_by_name_without_suffix(tmp_path: Path) -> None:
    census = read_census(census_csv(tmp_path / "c.csv", GOOD), townships=TOWNSHIPS)
    assert census.frame[["township_code", "population", "matched_by"]].values.tolist() == [
        ["652828100", 100.0, "name without suffix"],
        ["652828101", 50.0, "code"],
    ]
    assert census.total_rows == (("line 4", "合计", 150.0),) and census.notes == ()
    # the same table as XLSX with UTF-8 text and a 7th-census style header
    pd.DataFrame({"乡镇": ["特吾里克镇", "塔哈其镇"], "2020年常住人口": [100, 50]}).to_excel(
        tmp_path / "c.xlsx", index=False
    )
    xlsx = read_census(tmp_path / "c.xlsx", townships=TOWNSHIPS)
    assert xlsx.frame["population"].tolist() == [100.0, 50.0] and xlsx.total == 150.0


def test_total_row_that_disagrees_is_noted(tmp_path: Path) -> None:
    rows = [("特吾里克镇", "", "100"), ("和硕县", "", "999")]
    census = read_census(census_csv(tmp_path / "c.csv", rows), townships=TOWNSHIPS, county_name="和硕县")
    assert census.total == 100.0 and "says 999" in census.notes[0]


def test_unknown_township_and_bad_rows_are_errors_naming_row_and_fix(tmp_path: Path) -> None:
    rows = [
        ("特吾里克镇", "", "100"),
        ("不存在乡", "", "20"),
        ("", "652828999", "5"),
        ("塔哈其镇", "", "很多"),
        ("特吾里克", "", "1"),
    ]
    path = census_csv(tmp_path / "c.csv", rows)
    with pytest.raises(InputDataError) as err:
        read_census(path, townships=TOWNSHIPS)
    text = str(err.value)
    assert f"{path}:3" in text and "township '不存在乡' is not in the register" in text
    assert f"{path}:4" in text and "'652828999' is not one of the study's townships" in text
    assert f"{path}:5" in text and "'很多' is not a number of people" in text
    assert f"{path}:6" in text and "appears twice" in text
    assert "Fix: use a code or a name of: 特吾里克镇 (652828100)" in text


def test_calibration_matches_census_and_keeps_shares(tmp_path: Path) -> None:
    census = read_census(census_csv(tmp_path / "c.csv", GOOD), townships=TOWNSHIPS)
    out, report = calibrate_to_census(
        demand(), TOWNSHIPS, census, resolution_m=1000, household_size=2.5, area=AREA
    )
    people = {(p.x, p.y): v for p, v in zip(out.geometry, out["population"], strict=True)}
    # 特吾里克镇: 10 : 30 scaled to 100 -> 25 and 75 (factor 2.5)
    assert people[(500, 500)] == pytest.approx(25.0) and people[(1500, 500)] == pytest.approx(75.0)
    # 塔哈其镇: no raster people, 50 census people spread over its two 1 km cells
    assert people[(3500, 500)] == pytest.approx(25.0) and people[(4500, 500)] == pytest.approx(25.0)
    # 曲惠镇 has no census row, the point outside every township has none: both kept
    assert people[(500, 1500)] == 7.0 and people[(5500, 500)] == 5.0
    assert len(out) == 6 and out["demand_id"].tolist() == list(range(6))
    assert out["households"].tolist() == pytest.approx((out["population"] / 2.5).tolist())
    assert (report["total_before"], report["total_after"], report["census_total"]) == (52.0, 162.0, 150.0)
    assert report["outside_townships"] == 5.0 and report["source"] == "c.csv"
    methods = {r["township_code"]: (r["method"], r["before"], r["after"]) for r in report["townships"]}
    assert methods == {
        "652828100": ("scaled", 40.0, 100.0),
        "652828101": ("spread evenly", 0.0, 50.0),
        "652828102": ("not in census", 7.0, 7.0),
    }
    assert any("spread evenly" in w for w in report["warnings"])


def test_census_township_without_area_is_reported_not_placed(tmp_path: Path) -> None:
    rows = [("特吾里克镇", "", "100"), ("乌什塔拉回族民族乡", "", "30")]
    census = read_census(census_csv(tmp_path / "c.csv", rows), townships=TOWNSHIPS)
    out, report = calibrate_to_census(demand(), TOWNSHIPS, census, resolution_m=1000, household_size=2.5)
    row = next(r for r in report["townships"] if r["township_code"] == "652828200")
    assert (row["method"], row["census"], row["after"]) == ("no area", 30.0, 0.0)
    assert out["population"].sum() == pytest.approx(100 + 7 + 5)
    assert any("cannot be placed" in w for w in report["warnings"])


def test_calibration_without_any_township_area_is_refused(tmp_path: Path) -> None:
    census = read_census(census_csv(tmp_path / "c.csv", GOOD), townships=TOWNSHIPS)
    no_areas = TOWNSHIPS.assign(geometry=None)
    with pytest.raises(InputDataError, match="needs the townships' areas") as err:
        calibrate_to_census(demand(), no_areas, census, resolution_m=1000, household_size=2.5)
    assert "study_area.townships" in str(err.value)
