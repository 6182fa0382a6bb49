"""One definition per standard: profiles as the documents word them, and the audit reading them.

Every expected number here is worked out by hand from the clause.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.audit import failing, run_audit
from planner.errors import StandardsError
from planner.standards import Profile, YearTarget, load_profile

STANDARDS_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "standards"
CRS = "EPSG:32650"
COUNTY, TOWN = "130101", "130101101"


def profile(name: str) -> Profile:
    return load_profile(STANDARDS_DIR / f"{name}.yaml")


# ---------------------------------------------------------------------------------------------
# Year targets and their comparison
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "comparison", "total", "need"),
    [
        (0.85, ">", 20, 18),  # 17 of 20 is exactly 85%: "超过85%" needs 18
        (0.85, ">=", 20, 17),
        (0.85, ">", 140, 120),  # 0.85 × 140 = 119
        (0.85, ">", 100, 86),
        (0.95, ">=", 25, 24),  # Hoxud: 95% of 25 villages = 23.75 -> 24
        (1.0, ">=", 7, 7),
        (0.85, ">", 0, 0),
    ],
)
def test_year_target_counts(share: float, comparison: str, total: int, need: int) -> None:
    target = YearTarget(share=share, comparison=comparison)  # type: ignore[arg-type]
    assert target.required(total) == need
    assert target.met(need, total) and (need == 0 or not target.met(need - 1, total))


def test_profiles_word_targets_as_the_clause() -> None:
    lc = profile("liaocheng-2024").require("V-STATION")
    assert lc.targets[2024] == YearTarget(share=0.85, comparison=">")  # "超过85%"
    assert lc.targets[2025] == YearTarget(share=1.0, comparison=">=")  # "全覆盖"
    hs = profile("hoxud-2021").require("V-ALL")
    assert hs.targets[2021].comparison == ">=" and hs.targets[2021].share == 0.95  # "达到95%"


# ---------------------------------------------------------------------------------------------
# Profiles: extends, inherited standards, loops
# ---------------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_adds_a_baseline_and_marks_inherited_standards(tmp_path: Path) -> None:
    base = STANDARDS_DIR / "national-default.yaml"
    mine = _write(
        tmp_path / "hoxud-plus.yaml",
        (STANDARDS_DIR / "hoxud-2021.yaml")
        .read_text(encoding="utf-8")
        .replace("profile: hoxud-2021", f"profile: hoxud-plus\nextends: {base}"),
    )
    p = load_profile(mine)
    hs = profile("hoxud-2021")
    # the document's own standards win; the baseline fills the others, each with its own source
    assert p.require("D-OUTLET") == hs.require("D-OUTLET") and "D-OUTLET" not in p.inherited
    assert p.sets("R-URBAN") and p.inherited["R-URBAN"] == "national-default"
    assert p.cite("R-URBAN") == "吉市政办发〔2021〕30号 专栏2"
    assert p.sets("D-OUTLET-N") and "D-OUTLET-N" not in p.inherited  # Hoxud's own count stays


def test_extends_loop_is_refused(tmp_path: Path) -> None:
    text = (STANDARDS_DIR / "jinjiang-2020.yaml").read_text(encoding="utf-8")
    _write(tmp_path / "a.yaml", text.replace("profile: jinjiang-2020", "profile: a\nextends: b.yaml"))
    _write(tmp_path / "b.yaml", text.replace("profile: jinjiang-2020", "profile: b\nextends: a.yaml"))
    with pytest.raises(StandardsError, match="loop"):
        load_profile(tmp_path / "a.yaml")


def test_full_citation_names_issuer_title_and_number() -> None:
    jj = profile("jinjiang-2020")
    assert (
        jj.cite_full("D-LOCKER")
        == '晋江市人民政府办公室《晋江市建设"中国快递示范城市"实施方案》晋政办〔2020〕24号 三（四）'
    )
    assert "Jinjiang" in jj.cite_full("D-LOCKER", "en")


# ---------------------------------------------------------------------------------------------
# The audit on a hand-built county: villages, attributes and other targets
# ---------------------------------------------------------------------------------------------


def county(
    *, own: list[bool], shared: list[bool], located: list[bool], facilities: gpd.GeoDataFrame | None = None
) -> dict[str, gpd.GeoDataFrame]:
    n = len(own)
    codes = [f"{TOWN}{201 + i:03d}" for i in range(n)]
    villages = gpd.GeoDataFrame(
        {
            "village_code": codes,
            "village_name": [f"村{i}" for i in range(n)],
            "township_code": TOWN,
            "township_name": "东镇",
            "urban_rural_code": 220,
            "kind": "village",
            "households": 100.0,
            "population": 300.0,
            "area_class": "rural",
            "own_station": own,
            "has_station": [o or s for o, s in zip(own, shared, strict=True)],
            "nearest_station_km": 1.0,
            "nearest_station_min": 5.0,
            "mappable": located,
        },
        geometry=[Point(100 * i, 100) if ok else None for i, ok in enumerate(located)],
        crs=CRS,
    )
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [0],
            "population": [300.0],
            "households": [100.0],
            "area_class": ["rural"],
            "township_code": [TOWN],
            "village_code": [codes[0]],
            "covered": [False],
            "covered_network": [False],
            "covered_buffer": [False],
            "covered_strict": [False],
        },
        geometry=[Point(0, 0)],
        crs=CRS,
    )
    if facilities is None:
        facilities = gpd.GeoDataFrame(
            {
                c: pd.Series(dtype=object)
                for c in (
                    "facility_id",
                    "type",
                    "name",
                    "brands",
                    "floor_area_m2",
                    "village_code",
                    "township_code",
                    "capacity",
                )
            },
            geometry=gpd.GeoSeries([], crs=CRS),
        )
    return {
        "demand": demand,
        "villages": villages,
        "facilities": facilities,
        "townships": gpd.GeoDataFrame(
            {"township_code": [TOWN], "township_name": ["东镇"]}, geometry=[box(0, 0, 5000, 5000)], crs=CRS
        ),
        "boundary": gpd.GeoDataFrame(
            {"county_code": [COUNTY], "county_name": ["测试县"]}, geometry=[box(0, 0, 5000, 5000)], crs=CRS
        ),
    }


def row(table: pd.DataFrame, sid: str, code: str = COUNTY) -> pd.Series:
    sel = table[(table["standard_id"] == sid) & (table["unit_code"] == code)]
    assert len(sel) == 1, f"{sid} {code}: {len(sel)} rows"
    return sel.iloc[0]


def test_v_station_counts_own_stations_and_v_all_counts_shared_ones() -> None:
    # 20 located villages: 17 have their own station, 2 more are served by a neighbour's
    study = county(
        own=[True] * 17 + [False] * 3, shared=[False] * 17 + [True, True, False], located=[True] * 20
    )
    table = run_audit(**study, profile=profile("national-default"), year=2024, cell_size_m=200).table
    station = row(table, "V-STATION")  # 17 / 20 = 85%, but the clause says "超过85%": fails, 1 short
    assert station["value"] == pytest.approx(0.85) and not station["passed"] and station["shortfall"] == 1
    v_all = row(table, "V-ALL")  # 2024 falls under the 2022 target (100%): 19 of 20 served
    assert v_all["value"] == pytest.approx(0.95) and not v_all["passed"] and v_all["shortfall"] == 1
    assert {"V-STATION", "V-ALL"} <= set(table.loc[failing(table), "standard_id"])


def test_villages_without_coordinates_are_counted_apart() -> None:
    # 10 villages, 4 without coordinates; of the 6 located, 5 have a station of their own
    study = county(
        own=[True] * 5 + [False] * 5, shared=[False] * 10, located=[True] * 5 + [False] * 4 + [True]
    )
    table = run_audit(**study, profile=profile("national-default"), year=2024, cell_size_m=200).table
    station = row(table, "V-STATION")
    assert station["value"] == pytest.approx(5 / 6) and station["shortfall"] == 1  # > 85% of 6 -> 6
    assert "4 village(s) without coordinates not counted" in station["note"]


def test_before_the_first_target_year_the_first_target_applies_not_yet_due() -> None:
    study = county(own=[True] * 9 + [False], shared=[False] * 10, located=[True] * 10)
    table = run_audit(**study, profile=profile("liaocheng-2024"), year=2023, cell_size_m=200).table
    station = row(table, "V-STATION")
    assert station["target"] == 0.85 and "not yet due" in station["note"] and bool(station["passed"])


def _facilities(**columns: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "facility_id": [f"F{i}" for i in range(n)],
        "name": [f"设施{i}" for i in range(n)],
        "brands": [""] * n,
        "floor_area_m2": [np.nan] * n,
        "village_code": [""] * n,
        "township_code": [TOWN] * n,
        "capacity": [np.nan] * n,
    }
    base.update(columns)
    return gpd.GeoDataFrame(base, geometry=[Point(i, i) for i in range(n)], crs=CRS)


def test_five_haves_from_facility_columns() -> None:
    fac = _facilities(
        type=["village_station"] * 3,
        has_staff=["是", "yes", "1"],
        has_premises=["是", "yes", "0"],
        has_shelves=["是", "yes", "1"],
        has_equipment=["是", "no", "1"],
        has_signage=["是", "yes", "1"],
    )
    study = county(own=[True] * 3, shared=[False] * 3, located=[True] * 3, facilities=fac)
    table = run_audit(**study, profile=profile("hoxud-2021"), year=2022, cell_size_m=200).table
    assert bool(row(table, "V-5HAVE", "F0")["passed"])
    f1 = row(table, "V-5HAVE", "F1")
    assert f1["value"] == pytest.approx(0.8) and "equipment" in f1["note"]
    summary = row(table, "V-5HAVE")
    assert summary["value"] == pytest.approx(1 / 3) and summary["role"] == "summary"


def test_five_haves_without_the_columns_says_which_are_needed() -> None:
    fac = _facilities(type=["village_station"])
    study = county(own=[True], shared=[False], located=[True], facilities=fac)
    table = run_audit(**study, profile=profile("hoxud-2021"), year=2022, cell_size_m=200).table
    r = row(table, "V-5HAVE")
    assert pd.isna(r["passed"]) and "has_staff" in r["note"] and "has_signage" in r["note"]


def test_outlet_count_and_ecommerce_parks_and_hub() -> None:
    fac = _facilities(
        type=["outlet"] * 14 + ["ecommerce_park", "ecommerce_park", "sorting_centre", "sorting_centre"],
        brands=[""] * 14 + ["中国邮政;中通;圆通;韵达", "中通;圆通;韵达", "中通", "圆通"],
        capacity=[np.nan] * 16 + [4_000_000.0, 5_000_000.0],
        automated=[""] * 16 + ["是", "否"],
    )
    study = county(own=[True], shared=[False], located=[True], facilities=fac)
    hoxud = run_audit(**study, profile=profile("hoxud-2021"), year=2022, cell_size_m=200).table
    n = row(hoxud, "D-OUTLET-N")  # "我县需完成15处": 14 outlets, 1 short
    assert n["value"] == 14 and n["target"] == 15 and n["shortfall"] == 1 and not n["passed"]
    jlp = run_audit(**study, profile=profile("jilin-province-2021"), year=2022, cell_size_m=200).table
    assert bool(row(jlp, "P-EPARK", "F14")["passed"])  # postal + 3 express brands
    assert not row(jlp, "P-EPARK", "F15")["passed"]  # no postal company
    assert row(jlp, "P-EPARK")["value"] == 0.5
    jj = run_audit(**study, profile=profile("jinjiang-2020"), year=2022, cell_size_m=200).table
    hub = row(jj, "P-HUB")  # 4 M + 5 M items a day < 10 M
    assert hub["value"] == 9_000_000 and not hub["passed"] and hub["shortfall"] == 1_000_000
    assert row(jj, "P-HUB-AUTO")["value"] == 0.5


def test_countable_targets_need_their_flag_column() -> None:
    fac = _facilities(type=["outlet"] * 3, model_outlet=["是", "是", ""])
    study = county(own=[True], shared=[False], located=[True], facilities=fac)
    table = run_audit(**study, profile=profile("jinjiang-2020"), year=2022, cell_size_m=200).table
    model = row(table, "C-MODEL-OUTLET")
    assert model["value"] == 2 and model["target"] == 40 and model["shortfall"] == 38
    recycle = row(table, "C-RECYCLE")  # the file has no recycling_bin column
    assert pd.isna(recycle["passed"]) and "recycling_bin" in recycle["note"]


def test_standards_a_profile_does_not_set_are_rows_not_errors() -> None:
    study = county(own=[True], shared=[False], located=[True])
    table = run_audit(**study, profile=profile("jinjiang-2020"), year=2022, cell_size_m=200).table
    not_set = table[table["role"] == "not_set"]
    assert {"R-URBAN", "R-TOWN", "V-STATION", "P-COUNTY"} <= set(not_set["standard_id"])
    assert not failing(table[table["role"] == "not_set"]).any()


def test_members_matrix_is_the_per_requirement_masks_stacked() -> None:
    """The vectorised unit × site matrix equals a plain loop over requirements and rows."""
    from planner.audit import Requirement, members_matrix
    from planner.audit._common import Units

    rng = np.random.default_rng(7)
    n = 400
    towns = ["110101001", "110101002", "110102001", "110102003"]
    frame = pd.DataFrame(
        {
            "type": rng.choice(["outlet", "locker", "village_station", "park"], n),
            "township_code": rng.choice(towns, n),
            "village_code": rng.choice([f"11010100100{i}" for i in range(6)] + [""], n),
        }
    )
    units = Units(
        counties={"110101": "A", "110102": "B"},
        townships={t: t for t in towns},
        villages={},
        village_kind={},
        county_of_township={t: t[:6] for t in towns},
        county_area_km2={},
        township_area_km2={},
    )
    keys = [("county", "110101"), ("county", "110102"), ("county", "999999")]
    keys += [("township_code", t) for t in towns] + [("village_code", f"11010100100{i}") for i in range(7)]
    type_sets = [("outlet",), ("outlet", "locker"), ("village_station",), ("park", "locker", "outlet")]
    reqs = [
        Requirement("X", "unit", code, code, types, 0.0, "", 0, 1, (key, code), 0.0, 0.0)
        for key, code in keys
        for types in type_sets
    ]
    got = members_matrix(frame, reqs, units).toarray()
    for k, r in enumerate(reqs):
        key, code = r.members
        for i, row in frame.iterrows():
            unit = row["township_code"][:6] if key == "county" else row[key]
            assert got[k, i] == (unit == code and row["type"] in r.types), (k, i)
