"""Coverage, density and park checks.

R-URBAN, R-TOWN, R-RURAL, D-OUTLET, D-LOCKER, D-CENTRE, D-BASE and P-COUNTY.

Each function returns audit-table rows (see :func:`planner.audit._common.row`); the conventions of
value and target are documented in :mod:`planner.audit`.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np
import pandas as pd

from planner.audit._common import EPS, Units, as_code, needed_to_reach, row
from planner.standards import (
    BaselineDensity,
    CountyPark,
    DeliveryCentre,
    LockerDensity,
    OutletDensity,
    OutletPerTownship,
)

#: Facility types counted as outlets by R-RURAL and D-OUTLET (快递末端网点 / 公共服务站).
OUTLET_TYPES: Final = ("outlet",)
#: Facility types counted by D-BASE ("快递网点或服务站点", JL-C 一（一）2).
BASE_TYPES: Final = ("outlet", "village_station", "delivery_centre")
#: Facility types that can qualify for P-COUNTY.
HUB_TYPES: Final = ("park", "sorting_centre")
#: Area classes whose households D-LOCKER counts at township and county level (built-up land).
LOCKER_CLASSES: Final = ("urban", "township")

Rows = list[dict[str, Any]]


def _count(facilities: pd.DataFrame, types: tuple[str, ...], key: str) -> pd.Series:
    """Number of facilities of ``types`` per value of column ``key`` (codes as strings)."""
    sel = facilities[facilities["type"].isin(types)]
    return as_code(sel[key]).value_counts()


def radius_rows(
    demand: pd.DataFrame,
    units: Units,
    *,
    standard_id: str,
    area_class: str,
    covered_col: str,
    citation: str,
    note: str,
) -> Rows:
    """Share of the population of ``area_class`` cells that is covered, per county, township, village.

    value = covered people / people of the class in the unit (0..1), target = 1.0; units without
    people of the class get no row. ``existing`` = covered people, ``shortfall`` = uncovered people.
    """
    sel = demand[demand["area_class"].astype(str) == area_class]
    pop = sel["population"].astype(float).to_numpy()
    cov = sel[covered_col].fillna(False).astype(bool).to_numpy()
    frame = pd.DataFrame(
        {
            "pop": pop,
            "cov": np.where(cov, pop, 0.0),
            "township": as_code(sel["township_code"]).to_numpy(),
            "village": as_code(sel["village_code"]).to_numpy(),
        }
    )
    frame["county"] = units.county_of(frame["township"]).to_numpy()
    rows: Rows = []
    levels = (("county", "county"), ("township", "township"), ("village", "village"))
    for level, key in levels:
        sums = frame[frame[key] != ""].groupby(key, sort=True)[["pop", "cov"]].sum()
        for code, (p, c) in sums.iterrows():
            if p <= 0:
                continue
            if level == "county":
                unit_level, name = "county", units.counties.get(str(code), str(code))
            elif level == "township":
                unit_level, name = "township", units.townships.get(str(code), str(code))
            else:
                kind = units.village_kind.get(str(code), "village")
                unit_level = "community" if kind == "community" else "village"
                name = units.villages.get(str(code), str(code))
            rows.append(
                row(
                    standard_id,
                    unit_level,
                    str(code),
                    name,
                    value=c / p,
                    target=1.0,
                    population=p,
                    existing=c,
                    shortfall=p - c,
                    note=note,
                    citation=citation,
                )
            )
    return rows


def rural_rows(facilities: pd.DataFrame, units: Units, std: OutletPerTownship, citation: str) -> Rows:
    """R-RURAL: outlets in every township (value = outlets, target = outlets_per_township).

    Every township of the townships layer is checked ("一乡一所"); the county row gives the share of
    townships that pass (target 1.0).
    """
    counts = _count(facilities, OUTLET_TYPES, "township_code")
    rows: Rows = []
    passing: dict[str, list[bool]] = {}
    for code, name in sorted(units.townships.items()):
        n = int(counts.get(code, 0))
        r = row(
            "R-RURAL",
            "township",
            code,
            name,
            value=n,
            target=std.outlets_per_township,
            existing=n,
            shortfall=max(0, std.outlets_per_township - n),
            citation=citation,
        )
        rows.append(r)
        county = units.county_of(pd.Series([code])).iloc[0]
        passing.setdefault(county, []).append(bool(r["passed"]))
    for county, flags in sorted(passing.items()):
        if not county:
            continue
        ok = sum(flags)
        rows.insert(
            0,
            row(
                "R-RURAL",
                "county",
                county,
                units.counties.get(county, county),
                value=ok / len(flags),
                target=1.0,
                existing=ok,
                shortfall=len(flags) - ok,
                note=f"{ok} of {len(flags)} townships have at least {std.outlets_per_township} outlet(s)",
                citation=citation,
            ),
        )
    return rows


def _community_table(villages: pd.DataFrame, demand: pd.DataFrame, household_size: float) -> pd.DataFrame:
    """Communities (kind == "community") with population and households.

    Population from the register when positive, else the demand cells assigned to the community;
    households from the register when positive, else population ÷ household size.
    """
    com = villages[villages["kind"].astype(str) == "community"]
    codes = as_code(com["village_code"])
    demand_pop = demand.groupby(as_code(demand["village_code"]))["population"].sum()
    reg_pop = pd.to_numeric(com["population"], errors="coerce").to_numpy(dtype=float)
    pop = np.where(reg_pop > 0, reg_pop, codes.map(demand_pop).fillna(0.0).to_numpy(dtype=float))
    reg_hh = pd.to_numeric(com["households"], errors="coerce").to_numpy(dtype=float)
    hh = np.where(reg_hh > 0, reg_hh, pop / household_size)
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": com["village_name"].astype(str).to_numpy(),
            "township": as_code(com["township_code"]).to_numpy(),
            "population": pop,
            "households": hh,
        }
    )


def _records(com: pd.DataFrame, column: str) -> list[tuple[str, str, float]]:
    """(code, name, ``column``) of the communities in ``com``, sorted by code."""
    com = com.sort_values("code")
    return [(str(c), str(n), float(v)) for c, n, v in zip(com["code"], com["name"], com[column], strict=True)]


def _per_unit_rows(
    standard_id: str,
    amounts: list[tuple[str, str, str, float, int]],
    *,
    target: float,
    per: float,
    citation: str,
    note: str = "",
) -> Rows:
    """Rows for a density check: value = facilities / amount × per, shortfall = facilities to add.

    ``amounts`` holds (unit_level, code, name, amount, facilities); units with amount <= 0 get no row.
    """
    rows: Rows = []
    for level, code, name, amount, n in amounts:
        if amount <= 0:
            continue
        rows.append(
            row(
                standard_id,
                level,
                code,
                name,
                value=n / amount * per,
                target=target,
                population=amount,
                existing=n,
                shortfall=needed_to_reach(target, amount, per, n),
                note=note,
                citation=citation,
            )
        )
    return rows


def outlet_rows(
    demand: pd.DataFrame,
    villages: pd.DataFrame,
    facilities: pd.DataFrame,
    units: Units,
    std: OutletDensity,
    *,
    household_size: float,
    citation: str,
) -> Rows:
    """D-OUTLET: outlets per 10,000 residents per county, township and community (target per_10k_min).

    ``population`` is residents; ``shortfall`` = ⌈per_10k_min × residents / 10,000⌉ − outlets.
    Outlets belong to a township by ``township_code`` and to a community by ``village_code``.
    """
    by_township = _count(facilities, OUTLET_TYPES, "township_code")
    by_village = _count(facilities, OUTLET_TYPES, "village_code")
    tpop = demand.groupby(as_code(demand["township_code"]))["population"].sum()
    amounts: list[tuple[str, str, str, float, int]] = []
    for county, cname in sorted(units.counties.items()):
        towns = units.townships_of(county)
        pop = (
            float(tpop.reindex(towns).fillna(0.0).sum())
            if len(units.counties) > 1
            else float(demand["population"].sum())
        )
        n = (
            int(by_township.reindex(towns).fillna(0).sum())
            if len(units.counties) > 1
            else int(facilities["type"].isin(OUTLET_TYPES).sum())
        )
        amounts.append(("county", county, cname, pop, n))
    for code, name in sorted(units.townships.items()):
        amounts.append(("township", code, name, float(tpop.get(code, 0.0)), int(by_township.get(code, 0))))
    com = _community_table(villages, demand, household_size)
    for code, name, pop in _records(com, "population"):
        amounts.append(("community", code, name, pop, int(by_village.get(code, 0))))
    note = f"range {std.per_10k_min:g}–{std.per_10k_max:g} per 10,000" if std.per_10k_max else ""
    return _per_unit_rows(
        "D-OUTLET", amounts, target=std.per_10k_min, per=10_000, citation=citation, note=note
    )


def locker_rows(
    demand: pd.DataFrame,
    villages: pd.DataFrame,
    facilities: pd.DataFrame,
    units: Units,
    std: LockerDensity,
    *,
    household_size: float,
    citation: str,
) -> Rows:
    """D-LOCKER: locker groups per 100 households (target = 100 / households_per_group).

    Communities use their register households (else population ÷ household size); townships and
    counties count the households of their urban- and township-class demand cells only (the
    standard applies to residential and business land); ``population`` holds households here.
    """
    by_township = _count(facilities, ("locker",), "township_code")
    by_village = _count(facilities, ("locker",), "village_code")
    built = demand[demand["area_class"].astype(str).isin(LOCKER_CLASSES)]
    thh = built.groupby(as_code(built["township_code"]))["households"].sum()
    target = 100.0 / std.households_per_group
    amounts: list[tuple[str, str, str, float, int]] = []
    for county, cname in sorted(units.counties.items()):
        if len(units.counties) == 1:
            hh = float(built["households"].sum())
            n = int((facilities["type"] == "locker").sum())
        else:
            towns = units.townships_of(county)
            hh = float(thh.reindex(towns).fillna(0.0).sum())
            n = int(by_township.reindex(towns).fillna(0).sum())
        amounts.append(("county", county, cname, hh, n))
    for code, name in sorted(units.townships.items()):
        amounts.append(("township", code, name, float(thh.get(code, 0.0)), int(by_township.get(code, 0))))
    com = _community_table(villages, demand, household_size)
    for code, name, hh in _records(com, "households"):
        amounts.append(("community", code, name, hh, int(by_village.get(code, 0))))
    return _per_unit_rows(
        "D-LOCKER", amounts, target=target, per=100, citation=citation, note="population = households"
    )


def centre_rows(
    demand: pd.DataFrame,
    villages: pd.DataFrame,
    facilities: pd.DataFrame,
    units: Units,
    std: DeliveryCentre,
    *,
    household_size: float,
    citation: str,
) -> Rows:
    """D-CENTRE: every community of ≥ min_population people has a delivery centre of ≥ min_floor_m2.

    Community rows: value 1.0 (a qualifying centre tied to the community by ``village_code``) or
    0.0; NaN with passed NA when its centres lack ``floor_area_m2``. The county row gives the share
    of eligible communities with a qualifying centre and says when the facility data has no floor area.
    """
    centres = facilities[facilities["type"] == "delivery_centre"]
    floor = pd.to_numeric(centres["floor_area_m2"], errors="coerce")
    ccode = as_code(centres["village_code"])
    has_floor_data = bool(floor.notna().any())
    com = _community_table(villages, demand, household_size)
    eligible = com[com["population"] >= std.min_population - EPS].sort_values("code")
    rows: Rows = []
    ok = unknown = 0
    for code, name, people in _records(eligible, "population"):
        mine = floor[ccode == code]
        if bool((mine >= std.min_floor_m2 - EPS).any()):
            value, note = 1.0, ""
            ok += 1
        elif bool(mine.isna().any()):
            value, note = float("nan"), "delivery centre present but floor_area_m2 unknown"
            unknown += 1
        else:
            value = 0.0
            note = (
                f"largest centre {mine.max():g} m² < {std.min_floor_m2:g} m²"
                if len(mine)
                else "no delivery centre"
            )
        rows.append(
            row(
                "D-CENTRE",
                "community",
                code,
                name,
                value=value,
                target=1.0,
                population=people,
                existing=value,
                shortfall=float("nan") if np.isnan(value) else 1.0 - value,
                note=note,
                citation=citation,
            )
        )
    notes = [f"{len(eligible)} communities with ≥{std.min_population:g} people"]
    if not has_floor_data:
        notes.append("no floor-area data: the facility file gives no floor_area_m2 for delivery centres")
    elif unknown:
        notes.append(f"{unknown} communities' centres lack floor_area_m2")
    n = len(eligible)
    for county, cname in sorted(units.counties.items()):
        value = ok / n if n else float("nan")
        rows.insert(
            0,
            row(
                "D-CENTRE",
                "county",
                county,
                cname,
                value=value,
                target=1.0,
                population=float(eligible["population"].sum()),
                existing=ok,
                shortfall=n - ok - unknown,
                note="; ".join(notes),
                citation=citation,
                passed=False if n - ok - unknown > 0 else (None if unknown or not n else True),
            ),
        )
    return rows


def base_rows(
    demand: pd.DataFrame, facilities: pd.DataFrame, units: Units, std: BaselineDensity, citation: str
) -> Rows:
    """D-BASE: outlets and service stations per 10,000 people (``D-BASE``) and per 100 km² (``D-BASE-AREA``).

    Counts :data:`BASE_TYPES`; county and township; passed = at or above the baseline.
    """
    by_township = _count(facilities, BASE_TYPES, "township_code")
    tpop = demand.groupby(as_code(demand["township_code"]))["population"].sum()
    rows: Rows = []
    units_list: list[tuple[str, str, str, float, float, int]] = []
    for county, cname in sorted(units.counties.items()):
        n = int(facilities["type"].isin(BASE_TYPES).sum())
        pop = float(demand["population"].sum())
        if len(units.counties) > 1:
            towns = units.townships_of(county)
            n = int(by_township.reindex(towns).fillna(0).sum())
            pop = float(tpop.reindex(towns).fillna(0.0).sum())
        units_list.append(("county", county, cname, pop, units.county_area_km2.get(county, np.nan), n))
    for code, name in sorted(units.townships.items()):
        units_list.append(
            (
                "township",
                code,
                name,
                float(tpop.get(code, 0.0)),
                units.township_area_km2.get(code, np.nan),
                int(by_township.get(code, 0)),
            )
        )
    for level, code, name, pop, area, n in units_list:
        if pop > 0:
            rows.append(
                row(
                    "D-BASE",
                    level,
                    code,
                    name,
                    value=n / pop * 1e4,
                    target=std.outlets_per_10k,
                    population=pop,
                    existing=n,
                    shortfall=needed_to_reach(std.outlets_per_10k, pop, 1e4, n),
                    note="outlets, village stations and delivery centres per 10,000 people",
                    citation=citation,
                )
            )
        if area > 0:
            rows.append(
                row(
                    "D-BASE-AREA",
                    level,
                    code,
                    name,
                    value=n / area * 100,
                    target=std.outlets_per_100km2,
                    population=pop,
                    existing=n,
                    shortfall=needed_to_reach(std.outlets_per_100km2, area, 100, n),
                    note=f"per 100 km² (area {area:.1f} km²)",
                    citation=citation,
                )
            )
    return rows


_BRAND_SPLIT = re.compile(r"[;；,，、/|]+")


def carriers(brands: object) -> set[str]:
    """The set of carriers in a ``brands`` cell ("中国邮政;中通;圆通" -> 3 carriers)."""
    if brands is None or (isinstance(brands, float) and np.isnan(brands)):
        return set()
    return {b.strip() for b in _BRAND_SPLIT.split(str(brands)) if b.strip()}


def park_rows(facilities: pd.DataFrame, units: Units, std: CountyPark, *, year: int, citation: str) -> Rows:
    """P-COUNTY: parks or sorting centres hosting ≥ min_carriers carriers per county (target min_parks)."""
    hubs = facilities[facilities["type"].isin(HUB_TYPES)]
    n_carriers = hubs["brands"].map(lambda b: len(carriers(b))).astype(int)
    if "carriers_planned" in hubs.columns:  # a proposed park is built to host this many carriers
        planned = pd.to_numeric(hubs["carriers_planned"], errors="coerce").fillna(0).astype(int)
        n_carriers = n_carriers.where(n_carriers >= planned, planned)
    county = units.county_of(as_code(hubs["township_code"]))
    rows: Rows = []
    for code, name in sorted(units.counties.items()):
        mine = n_carriers[(county == code).to_numpy()]
        qualifying = int((mine >= std.min_carriers).sum())
        parts = [
            f"{len(mine)} park(s)/sorting centre(s); "
            f"most carriers in one: {int(mine.max()) if len(mine) else 0}"
        ]
        if std.by_year is not None:
            parts.append(f"deadline end of {std.by_year}" + (" (not yet due)" if year < std.by_year else ""))
        rows.append(
            row(
                "P-COUNTY",
                "county",
                code,
                name,
                value=qualifying,
                target=std.min_parks,
                existing=qualifying,
                shortfall=max(0, std.min_parks - qualifying),
                note="; ".join(parts),
                citation=citation,
            )
        )
    return rows
