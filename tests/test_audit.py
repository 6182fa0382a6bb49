"""The audit checks on a small hand-built county; every expected number is worked out by hand here."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.audit import run_audit
from planner.errors import InputDataError, StandardsError
from planner.standards import Profile, load_profile

STANDARDS_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "standards"
CRS = "EPSG:32650"
T1, T2 = "130101001", "130101101"
C1, C2 = "130101001001", "130101001002"
V1, V2, V3, V4 = "130101101201", "130101101202", "130101101203", "130101101204"


@pytest.fixture(scope="module")
def national() -> Profile:
    return load_profile(STANDARDS_DIR / "national-default.yaml")


def make_study() -> dict[str, gpd.GeoDataFrame]:
    """One county of 10 km × 10 km: street T1 (west half, two communities), town T2 (east, 4 villages)."""
    boundary = gpd.GeoDataFrame(
        {"county_code": ["130101"], "county_name": ["测试县"]}, geometry=[box(0, 0, 10_000, 10_000)], crs=CRS
    )
    townships = gpd.GeoDataFrame(
        {"township_code": [T1, T2], "township_name": ["城关街道", "东镇"]},
        geometry=[box(0, 0, 5_000, 10_000), box(5_000, 0, 10_000, 10_000)],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {
            "village_code": [C1, C2, V1, V2, V3, V4],
            "village_name": ["一社区", "二社区", "甲村", "乙村", "丙村", "丁村"],
            "township_code": [T1, T1, T2, T2, T2, T2],
            "township_name": ["城关街道", "城关街道", "东镇", "东镇", "东镇", "东镇"],
            "urban_rural_code": [111, 112, 220, 220, 220, 220],
            "kind": ["community", "community", "village", "village", "village", "village"],
            "households": [4000.0, 0.0, 300.0, 200.0, 100.0, 80.0],
            "population": [12_000.0, 3_000.0, 800.0, 500.0, 300.0, 200.0],
            "area_class": ["urban", "urban", "rural", "rural", "rural", "rural"],
            "has_station": [False, False, True, False, False, True],
            "nearest_station_km": [np.nan, np.nan, 0.0, 4.2, np.inf, 0.0],
            "nearest_station_min": [np.nan, np.nan, 0.0, 12.4, np.inf, 0.0],
            "mappable": [True] * 6,
        },
        geometry=[
            Point(500, 500),
            Point(1500, 500),
            Point(6000, 6000),
            Point(9000, 9000),
            Point(8000, 1000),
            None,
        ],
        crs=CRS,
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": range(6),
            "population": [1000.0, 500.0, 300.0, 400.0, 600.0, 100.0],
            "households": [400.0, 200.0, 100.0, 150.0, 250.0, 40.0],
            "area_class": ["urban", "urban", "urban", "township", "township", "rural"],
            "township_code": [T1, T1, T1, T2, T2, T2],
            "village_code": [C1, C1, C2, "", "", V2],
            "covered": [True, False, False, True, False, False],
            "covered_network": [True, False, False, True, False, False],
            "covered_buffer": [True, True, True, True, True, False],
            "covered_strict": [True, False, False, False, False, False],
        },
        geometry=[
            Point(250, 250),
            Point(750, 250),
            Point(1250, 250),
            Point(5250, 250),
            Point(5750, 250),
            Point(9250, 9250),
        ],
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"F{i}" for i in range(1, 11)],
            "type": [
                "outlet",
                "outlet",
                "locker",
                "locker",
                "locker",
                "delivery_centre",
                "delivery_centre",
                "village_station",
                "park",
                "sorting_centre",
            ],
            "name": [f"设施{i}" for i in range(1, 11)],
            "brands": ["中通", "圆通", "", "", "", "", "", "中国邮政", "中国邮政;中通；圆通", "中通"],
            "capacity": [np.nan] * 10,
            "floor_area_m2": [np.nan, np.nan, np.nan, np.nan, np.nan, 25.0, np.nan, np.nan, 5000.0, 2000.0],
            "village_code": [C1, C1, C1, C1, C1, C1, C2, V1, "", ""],
            "township_code": [T1, T1, T1, T1, T1, T1, T1, T2, T2, T2],
        },
        geometry=[Point(300 + i, 300) for i in range(10)],
        crs=CRS,
    )
    return {
        "demand": demand,
        "villages": villages,
        "facilities": facilities,
        "townships": townships,
        "boundary": boundary,
    }


def get(table: pd.DataFrame, sid: str, code: str) -> pd.Series:
    sel = table[(table["standard_id"] == sid) & (table["unit_code"] == code)]
    assert len(sel) == 1, f"{sid} {code}: {len(sel)} rows"
    return sel.iloc[0]


@pytest.fixture(scope="module")
def audit(national: Profile):
    return run_audit(**make_study(), profile=national, year=2024, cell_size_m=500)


def test_r_urban_per_county_township_community(audit) -> None:
    t = audit.table
    county = get(t, "R-URBAN", "130101")
    assert county["value"] == pytest.approx(1000 / 1800)  # covered 1,000 of 1,800 urban people
    assert county["target"] == 1.0 and not county["passed"]
    assert county["shortfall"] == pytest.approx(800)
    assert get(t, "R-URBAN", T1)["value"] == pytest.approx(1000 / 1800)
    c1 = get(t, "R-URBAN", C1)
    assert c1["unit_level"] == "community" and c1["value"] == pytest.approx(1000 / 1500)
    assert get(t, "R-URBAN", C2)["value"] == 0.0
    assert "吉市政办发〔2021〕30号 专栏2" in county["citation"]
    # T2 has no urban people: no row.
    assert t[(t["standard_id"] == "R-URBAN") & (t["unit_code"] == T2)].empty


def test_r_urban_buffer_reading(national: Profile) -> None:
    res = run_audit(**make_study(), profile=national, year=2024, reading="buffer", cell_size_m=500)
    assert get(res.table, "R-URBAN", "130101")["value"] == 1.0
    assert bool(get(res.table, "R-URBAN", "130101")["passed"])
    assert get(res.table, "R-TOWN", T2)["value"] == 1.0


def test_r_town_30_and_15(audit) -> None:
    t = audit.table
    assert get(t, "R-TOWN", T2)["value"] == pytest.approx(400 / 1000)
    assert get(t, "R-TOWN-15", T2)["value"] == 0.0
    assert get(t, "R-TOWN-15", "130101")["shortfall"] == pytest.approx(1000)


def test_r_rural_one_outlet_per_township(audit) -> None:
    t = audit.table
    # T1 (code ...001) is a 街道: urban, held to R-URBAN, not to "一乡一所"; T2 (...101) is a 镇
    assert t[(t["standard_id"] == "R-RURAL") & (t["unit_code"] == T1)].empty
    t2 = get(t, "R-RURAL", T2)
    assert t2["value"] == 0 and not t2["passed"] and t2["shortfall"] == 1 and t2["role"] == "standard"
    county = get(t, "R-RURAL", "130101")  # 0 of the 1 township (乡/镇) passes
    assert county["value"] == 0.0 and county["role"] == "summary" and not county["passed"]


def test_d_outlet_per_10k(audit) -> None:
    """HS 二（一）2: "各社区内每1万人至少布局4-5处" — measured per community, register population first."""
    t = audit.table
    c1 = get(t, "D-OUTLET", C1)  # register population 12,000, 2 outlets
    assert c1["value"] == pytest.approx(2 / 12_000 * 10_000) and c1["role"] == "standard"
    assert c1["shortfall"] == 3 and not c1["passed"]  # ceil(4.8) - 2
    assert "base: register" in c1["note"]
    c2 = get(t, "D-OUTLET", C2)
    assert c2["shortfall"] == 2 and c2["population"] == 3000  # ceil(1.2) - 0
    t1 = get(t, "D-OUTLET", T1)  # a summary of its 2 communities: none meets it, 5 outlets short
    assert t1["role"] == "summary" and t1["value"] == 0.0 and t1["shortfall"] == 5 and not t1["passed"]
    # T2 has no community: the standard does not reach it
    assert t[(t["standard_id"] == "D-OUTLET") & (t["unit_code"] == T2)].empty


def test_d_locker_households(audit) -> None:
    """JJ 三（四）: one group per 100 households, per community; the register's households first."""
    t = audit.table
    c1 = get(t, "D-LOCKER", C1)  # 4,000 households, 3 groups -> 40 needed
    assert c1["value"] == pytest.approx(3 / 4000 * 100) and c1["target"] == 1.0 and c1["shortfall"] == 37
    c2 = get(t, "D-LOCKER", C2)  # no household count: 3,000 / 2.62
    assert c2["population"] == pytest.approx(3000 / 2.62)
    assert c2["shortfall"] == math.ceil(3000 / 2.62 / 100)
    t1 = get(t, "D-LOCKER", T1)  # the summary adds its communities' shortfalls
    assert t1["role"] == "summary" and t1["shortfall"] == 37 + math.ceil(3000 / 2.62 / 100)
    assert t[(t["standard_id"] == "D-LOCKER") & (t["unit_code"] == T2)].empty  # no community in T2


def test_d_centre_floor_area(audit) -> None:
    t = audit.table
    c1 = get(t, "D-CENTRE", C1)  # 12,000 people, centre of 25 m² < 30 m²
    assert c1["value"] == 0.0 and not c1["passed"]
    c2 = get(t, "D-CENTRE", C2)  # exactly 3,000 people (inclusive), centre without floor area
    assert np.isnan(c2["value"]) and pd.isna(c2["passed"])
    assert "floor_area_m2 unknown" in c2["note"]
    county = get(t, "D-CENTRE", "130101")  # C1 fails for sure, so the county fails
    assert county["value"] == 0.0 and not county["passed"] and county["shortfall"] == 1
    assert "1 cannot be judged" in county["note"]


def test_d_centre_unknown_floor_leaves_county_open(national: Profile) -> None:
    study = make_study()
    fac = study["facilities"]
    study["facilities"] = fac.assign(floor_area_m2=fac["floor_area_m2"].replace({25.0: 40.0}))
    res = run_audit(**study, profile=national, year=2024, checks=["D-CENTRE"], cell_size_m=500)
    assert bool(get(res.table, "D-CENTRE", C1)["passed"])
    county = get(res.table, "D-CENTRE", "130101")  # C1 passes, C2 cannot be judged: the county stays open
    assert county["value"] == 1.0 and pd.isna(county["passed"])
    assert "1 cannot be judged (delivery centre present but floor_area_m2 unknown)" in county["note"]


def test_d_centre_states_missing_floor_data(national: Profile) -> None:
    study = make_study()
    study["facilities"] = study["facilities"].assign(floor_area_m2=np.nan)
    res = run_audit(**study, profile=national, year=2024, checks=["D-CENTRE"], cell_size_m=500)
    county = get(res.table, "D-CENTRE", "130101")
    assert "2 cannot be judged" in county["note"] and "floor_area_m2 unknown" in county["note"]
    assert pd.isna(county["passed"])


def test_d_base_per_10k_and_per_100km2(audit) -> None:
    t = audit.table
    # 2 outlets + 2 delivery centres + 1 village station = 5 sites; 2,900 people; 100 km²
    assert get(t, "D-BASE", "130101")["value"] == pytest.approx(5 / 2900 * 10_000)
    assert get(t, "D-BASE-AREA", "130101")["value"] == pytest.approx(5.0)
    assert bool(get(t, "D-BASE-AREA", "130101")["passed"])  # 5 >= 4.92
    t2 = get(t, "D-BASE-AREA", T2)  # 1 station on 50 km² -> 2 per 100 km²
    assert t2["value"] == pytest.approx(2.0) and not t2["passed"]
    assert t2["shortfall"] == 2  # ceil(4.92 * 50 / 100) - 1


def test_v_station_year_targets(audit, national: Profile) -> None:
    t = audit.table
    v = get(t, "V-STATION", "130101")  # 2 of 4 administrative villages (communities excluded)
    assert v["value"] == 0.5 and v["target"] == 0.85 and v["shortfall"] == 2  # ceil(3.4) - 2
    assert get(t, "V-STATION-2024", "130101")["target"] == 0.85
    y25 = get(t, "V-STATION-2025", "130101")
    assert y25["target"] == 1.0 and y25["shortfall"] == 2
    assert get(t, "V-STATION", T2)["value"] == 0.5 and get(t, "V-STATION", T2)["role"] == "breakdown"
    assert pd.isna(get(t, "V-STATION", T2)["passed"])
    early = run_audit(**make_study(), profile=national, year=2023, checks=["V-STATION"], cell_size_m=500)
    early_row = get(early.table, "V-STATION", "130101")  # before all targets: the first, not yet due
    assert early_row["target"] == 0.85 and "not yet due" in early_row["note"]
    both = ["V-ALL", "V-STATION"]
    late = run_audit(**make_study(), profile=national, year=2030, checks=both, cell_size_m=500)
    assert get(late.table, "V-STATION", "130101")["target"] == 1.0
    assert get(late.table, "V-ALL", "130101")["target"] == 1.0


def test_v_all_interim_target(national: Profile) -> None:
    res = run_audit(**make_study(), profile=national, year=2021, checks=["V-ALL"], cell_size_m=500)
    v = get(res.table, "V-ALL", "130101")
    assert v["target"] == 0.95 and v["shortfall"] == 2  # ceil(0.95 * 4) - 2
    assert get(res.table, "V-ALL-2022", "130101")["target"] == 1.0


def test_p_county_carriers(audit, national: Profile) -> None:
    p = get(audit.table, "P-COUNTY", "130101")  # the park hosts 中国邮政, 中通, 圆通 (mixed separators)
    assert p["value"] == 1 and bool(p["passed"])
    study = make_study()
    fac = study["facilities"]
    study["facilities"] = fac.assign(brands=fac["brands"].replace({"中国邮政;中通；圆通": "中国邮政;中通"}))
    res = run_audit(**study, profile=national, year=2024, checks=["P-COUNTY"], cell_size_m=500)
    p = get(res.table, "P-COUNTY", "130101")
    assert p["value"] == 0 and not p["passed"] and p["shortfall"] == 1
    assert "P-COUNTY" in set(res.township_gaps["standard_id"])


def test_village_gaps(audit) -> None:
    g = audit.village_gaps
    assert list(g["village_code"]) == [V2, V3]  # most populous first; communities never listed
    assert "4.2 公里" in g.iloc[0]["reason"] and "12 分钟" in g.iloc[0]["reason"]
    assert list(g["cause"]) == ["station_beyond_reach", "none_reachable"]
    assert g.iloc[0]["nearest_station_km"] == 4.2 and np.isnan(g.iloc[1]["nearest_station_km"])


def test_uncovered_polygons_merge_cells(audit) -> None:
    u = audit.uncovered.set_index(["township_code", "area_class"])
    # urban cells at x=750 and x=1250 are adjacent 500 m squares: one polygon of 0.5 km², 800 people
    urban = u.loc[(T1, "urban")]
    assert urban["population"] == 800 and urban["cells"] == 2
    assert urban["geometry"].area == pytest.approx(2 * 500 * 500)
    assert urban["geometry"].geom_type == "Polygon"
    assert u.loc[(T2, "township")]["population"] == 600
    assert u.loc[(T2, "rural")]["population"] == 100
    assert len(u) == 3


def test_township_gaps_needed(audit) -> None:
    g = audit.township_gaps
    needed = {(r.standard_id, r.unit_code): r.needed for r in g.itertuples()}
    assert needed[("R-RURAL", T2)] == 1
    assert needed[("D-OUTLET", C1)] == 3 and needed[("D-OUTLET", C2)] == 2
    assert needed[("D-LOCKER", C1)] == 37
    assert needed[("D-CENTRE", C1)] == 1
    assert ("D-CENTRE", C2) not in needed  # unknown floor area is not counted as a gap
    assert ("D-OUTLET", T1) not in needed


def test_missing_standard_names_number_and_profile() -> None:
    lc = load_profile(STANDARDS_DIR / "liaocheng-2024.yaml")
    with pytest.raises(StandardsError, match="R-URBAN") as err:
        run_audit(**make_study(), profile=lc, year=2024, checks=["R-URBAN"], cell_size_m=500)
    assert "liaocheng-2024" in str(err.value)
    # Without named checks, the profile's own standards are audited; every other standard gets one row
    # "not set by this document", never an error.
    res = run_audit(**make_study(), profile=lc, year=2024, cell_size_m=500)
    t = res.table
    judged = t[t["role"] != "not_set"]
    assert set(judged["standard_id"].str.replace(r"-20\d\d$", "", regex=True)) == {"V-STATION", "P-COUNTY"}
    not_set = t[t["role"] == "not_set"]
    assert {"R-URBAN", "D-OUTLET", "D-LOCKER", "V-ALL", "P-HUB"} <= set(not_set["standard_id"])
    assert not_set["passed"].isna().all() and not_set["note"].str.contains("not set by this document").all()


def test_missing_columns_listed_together(national: Profile) -> None:
    study = make_study()
    study["demand"] = study["demand"].drop(columns=["covered_network", "covered_strict"])
    study["villages"] = study["villages"].drop(columns=["has_station"])
    with pytest.raises(InputDataError) as err:
        run_audit(**study, profile=national, year=2024, cell_size_m=500)
    text = str(err.value)
    assert "covered_network" in text and "covered_strict" in text and "has_station" in text


def test_cell_size_inferred(national: Profile) -> None:
    res = run_audit(**make_study(), profile=national, year=2024, checks=["R-URBAN"])
    urban = res.uncovered[res.uncovered["area_class"] == "urban"].iloc[0]
    assert urban.geometry.area == pytest.approx(2 * 500 * 500)


def test_two_counties_split_by_code_prefix(national: Profile) -> None:
    study = make_study()
    t2b = "130102101"  # the east township now belongs to county 130102
    study["boundary"] = gpd.GeoDataFrame(
        {"county_code": ["130101", "130102"], "county_name": ["西县", "东县"]},
        geometry=[box(0, 0, 5_000, 10_000), box(5_000, 0, 10_000, 10_000)],
        crs=CRS,
    )
    for name in ("townships", "demand", "villages", "facilities"):
        study[name] = study[name].assign(township_code=study[name]["township_code"].replace({T2: t2b}))
    res = run_audit(**study, profile=national, year=2024, cell_size_m=500)
    t = res.table
    assert get(t, "R-URBAN", "130101")["value"] == pytest.approx(1000 / 1800)
    assert get(t, "R-TOWN", "130102")["value"] == pytest.approx(0.4)
    assert t[(t["standard_id"] == "D-OUTLET") & (t["unit_code"] == "130102")].empty  # no community there
    assert get(t, "D-OUTLET", "130101")["value"] == 0.0  # 0 of its 2 communities
    assert get(t, "R-RURAL", "130102")["value"] == 0.0 and get(t, "R-RURAL", t2b)["shortfall"] == 1
    assert get(t, "D-BASE-AREA", "130102")["value"] == pytest.approx(2.0)  # 1 station on 50 km²
    assert get(t, "V-STATION", "130102")["value"] == 0.5
    assert t[(t["standard_id"] == "V-STATION") & (t["unit_code"] == "130101")].empty  # no villages there
    assert get(t, "P-COUNTY", "130102")["value"] == 1 and get(t, "P-COUNTY", "130101")["value"] == 0
    assert set(res.township_gaps.loc[res.township_gaps["standard_id"] == "P-COUNTY", "unit_code"]) == {
        "130101"
    }
