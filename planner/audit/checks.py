"""The audit rows of every standard kind: radius, counts, baselines, parks, attributes, other targets.

Each function returns audit-table rows (see :func:`planner.audit._common.row`); conventions of
value, target and role are documented in :mod:`planner.audit`. Count standards take their units
from :mod:`planner.audit.requirements`, the reading the plan shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from planner.audit._common import Meta, Units, as_code, needed_to_reach, row
from planner.audit.requirements import Requirement
from planner.standards import CATALOGUE, PLANNABLE, STANDARD_IDS, Profile
from planner.standards.profile import BaselineDensity, CountyPark

#: Facility types counted by D-BASE ("快递网点或服务站点", JL-C 一（一）2).
BASE_TYPES: Final = ("outlet", "village_station", "delivery_centre")
#: Facility types that can qualify for P-COUNTY.
HUB_TYPES: Final = ("park", "sorting_centre")
#: Postal carriers: P-EPARK asks for room for the postal company and three express brands.
POSTAL: Final = ("中国邮政", "邮政", "EMS", "China Post")

Rows = list[dict[str, Any]]
Cite = Callable[[str], Meta]


def radius_rows(
    demand: pd.DataFrame,
    units: Units,
    *,
    standard_id: str,
    area_class: str,
    covered_col: str,
    note: str,
    meta: Meta,
    role: str = "standard",
) -> Rows:
    """Share of the people of ``area_class`` cells that is covered, per county, township, village.

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
    for level in ("county", "township", "village"):
        sums = frame[frame[level] != ""].groupby(level, sort=True)[["pop", "cov"]].sum()
        for code, (p, c) in sums.iterrows():
            if p <= 0:
                continue
            unit_level, name = units.level_and_name(level, str(code))
            covered_all = c >= p * (1 - 1e-12)
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
                    passed=bool(covered_all),
                    role=role,
                    **meta,
                )
            )
    return rows


def requirement_rows(reqs: Sequence[Requirement], units: Units, *, meta: Cite) -> Rows:
    """The rows of the count standards from their requirements: one per unit, plus summaries.

    A unit row passes when it has at least what it needs. A standard measured per community (or per
    township) also gets a row per township and county (``summary``): value = share of its units that
    pass, target 1.0, ``shortfall`` = facilities still to add in them.
    """
    rows: Rows = []
    for sid in dict.fromkeys(r.standard_id for r in reqs):
        mine = [r for r in reqs if r.standard_id == sid]
        for r in mine:
            note = "; ".join(
                x
                for x in (
                    r.note,
                    f"base: {r.base_source}" if r.base_source else "",
                    f"needs {r.need}" if r.need is not None else "",
                )
                if x
            )
            rows.append(
                row(
                    sid,
                    r.level,
                    r.code,
                    r.name,
                    value=r.value,
                    target=r.target,
                    population=r.base,
                    existing=r.have,
                    shortfall=float(r.short_by) if r.need is not None else float("nan"),
                    note=note,
                    passed=r.passed,
                    **meta(sid),
                )
            )
        if mine and mine[0].level in ("community", "township"):
            rows += _summaries(sid, mine, units, meta=meta)
    return rows


def _summaries(sid: str, reqs: list[Requirement], units: Units, *, meta: Cite) -> Rows:
    level = reqs[0].level
    groups: dict[tuple[str, str], list[Requirement]] = {}
    for r in reqs:
        township = units.township_of_village.get(r.code, r.code[:9]) if level == "community" else r.code
        county = units.county_of(pd.Series([township])).iloc[0]
        if level == "community":
            groups.setdefault(("township", township), []).append(r)
        groups.setdefault(("county", county), []).append(r)
    rows: Rows = []
    what = "communities" if level == "community" else "townships"
    for (lvl, code), mine in sorted(groups.items()):
        if not code:
            continue
        judged = [r for r in mine if r.passed is not None]
        ok = sum(bool(r.passed) for r in judged)
        unknown = [r for r in mine if r.passed is None]
        passed: bool | None = False if ok < len(judged) else (None if unknown or not judged else True)
        note = f"{ok} of {len(judged)} {what} meet the standard"
        if unknown:
            note += f"; {len(unknown)} cannot be judged ({unknown[0].unknown or 'no data'})"
        name = units.counties.get(code, code) if lvl == "county" else units.townships.get(code, code)
        rows.append(
            row(
                sid,
                lvl,
                code,
                name,
                value=ok / len(judged) if judged else float("nan"),
                target=1.0,
                population=sum(r.base for r in mine),
                existing=ok,
                shortfall=sum(r.short_by for r in mine),
                note=note,
                role="summary",
                passed=passed,
                **meta(sid),
            )
        )
    return rows


def base_rows(
    demand: pd.DataFrame, facilities: pd.DataFrame, units: Units, std: BaselineDensity, meta: Meta
) -> Rows:
    """D-BASE: outlets and service stations per 10,000 people and per 100 km² (information rows)."""
    counts = as_code(facilities.loc[facilities["type"].isin(BASE_TYPES), "township_code"]).value_counts()
    tpop = demand.groupby(as_code(demand["township_code"]))["population"].sum()
    rows: Rows = []
    items: list[tuple[str, str, str, float, float, int]] = []
    for county, cname in sorted(units.counties.items()):
        towns = units.townships_of(county)
        one = len(units.counties) == 1
        n = (
            int(facilities["type"].isin(BASE_TYPES).sum())
            if one
            else int(counts.reindex(towns).fillna(0).sum())
        )
        pop = float(demand["population"].sum()) if one else float(tpop.reindex(towns).fillna(0.0).sum())
        items.append(("county", county, cname, pop, units.county_area_km2.get(county, np.nan), n))
    for code, name in sorted(units.townships.items()):
        items.append(
            (
                "township",
                code,
                name,
                float(tpop.get(code, 0.0)),
                units.township_area_km2.get(code, np.nan),
                int(counts.get(code, 0)),
            )
        )
    for level, code, name, pop, area, n in items:
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
                    role="info",
                    **meta,
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
                    role="info",
                    **meta,
                )
            )
    return rows


_BRAND_SPLIT = re.compile(r"[;；,，、/|]+")


def carriers(brands: object) -> set[str]:
    """The set of carriers in a ``brands`` cell ("中国邮政;中通;圆通" -> 3 carriers)."""
    if brands is None or (isinstance(brands, float) and np.isnan(brands)):
        return set()
    return {b.strip() for b in _BRAND_SPLIT.split(str(brands)) if b.strip()}


def park_rows(facilities: pd.DataFrame, units: Units, std: CountyPark, *, year: int, meta: Meta) -> Rows:
    """P-COUNTY: parks or sorting centres hosting ≥ min_carriers carriers per county (target min_parks)."""
    hubs = facilities[facilities["type"].isin(HUB_TYPES)]
    n_carriers = hubs["brands"].map(lambda b: len(carriers(b))).astype(int)
    if "carriers_planned" in hubs.columns:  # a proposed park is built to host this many carriers
        planned = pd.to_numeric(hubs["carriers_planned"], errors="coerce").fillna(0).astype(int)
        n_carriers = n_carriers.where(n_carriers >= planned, planned)
    county = units.county_of(as_code(hubs["township_code"])) if len(units.counties) > 1 else None
    rows: Rows = []
    for code, name in sorted(units.counties.items()):
        mine = n_carriers if county is None else n_carriers[(county == code).to_numpy()]
        qualifying = int((mine >= std.min_carriers).sum())
        parts = [
            f"{len(mine)} park(s)/sorting centre(s); "
            f"most carriers in one: {int(mine.max()) if len(mine) else 0}"
        ]
        if std.by_year is not None:
            parts.append(f"by end of {std.by_year}" + (" (not yet due)" if year < std.by_year else ""))
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
                **meta,
            )
        )
    return rows


def _proposed(frame: pd.DataFrame) -> pd.Series:
    """Rows the plan proposes (``status == "proposed"``); all False for existing-only frames."""
    if "status" not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    return (frame["status"].astype(str) == "proposed").astype(bool)


def _truthy(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.strip().str.lower()
    return text.isin(["1", "true", "yes", "y", "是", "有", "√", "✓"])


def _needs_columns(sid: str, units: Units, columns: Sequence[str], what: str, meta: Meta) -> Rows:
    note = f"cannot be audited from these data: {what} needs facility column(s) {', '.join(columns)}"
    return [
        row(sid, "county", c, n, value=float("nan"), target=float("nan"), note=note, **meta)
        for c, n in sorted(units.counties.items())
    ]


def five_have_rows(facilities: pd.DataFrame, units: Units, profile: Profile, meta: Meta) -> Rows:
    """V-5HAVE: each village station has staff, premises, shelves, equipment and signage (五有).

    Read from yes/no facility columns (the profile names them); a proposed station is built to the
    standard. Without the columns the county row says which are needed.
    """
    cols = profile.require("V-5HAVE").columns
    stations = facilities[facilities["type"] == "village_station"]
    proposed = _proposed(stations)
    missing = [c for c in cols.values() if c not in stations.columns]
    if missing and not proposed.all():
        return _needs_columns("V-5HAVE", units, missing, "the five haves of village stations", meta)
    have = pd.DataFrame(
        {k: (_truthy(stations[c]) if c in stations else False) for k, c in cols.items()}, index=stations.index
    )
    count = have.sum(axis=1).where(~proposed, len(cols))
    rows: Rows = []
    for i, ((_, st), n) in enumerate(zip(stations.iterrows(), count, strict=True)):
        absent = [k for k in cols if not bool(have[k].iloc[i])] if n < len(cols) else []
        rows.append(
            row(
                "V-5HAVE",
                "facility",
                str(st["facility_id"]),
                str(st.get("name", "")),
                value=n / len(cols),
                target=1.0,
                existing=n,
                shortfall=len(cols) - n,
                note=("lacks " + ", ".join(absent)) if absent else "",
                **meta,
            )
        )
    ok = int((count >= len(cols)).sum())
    for code, name in sorted(units.counties.items()):
        rows.insert(
            0,
            row(
                "V-5HAVE",
                "county",
                code,
                name,
                value=ok / len(stations) if len(stations) else float("nan"),
                target=1.0,
                existing=ok,
                shortfall=len(stations) - ok,
                role="summary",
                note=f"{ok} of {len(stations)} village stations have all five",
                **meta,
            ),
        )
    return rows


def epark_rows(facilities: pd.DataFrame, units: Units, profile: Profile, meta: Meta) -> Rows:
    """P-EPARK: every e-commerce park (type ``ecommerce_park``) hosts postal and ≥3 express brands."""
    std = profile.require("P-EPARK")
    parks = facilities[facilities["type"] == "ecommerce_park"]
    if len(parks) == 0:
        return _needs_columns(
            "P-EPARK", units, ["type = ecommerce_park", "brands"], "the e-commerce parks", meta
        )
    rows: Rows = []
    ok = 0
    for _, park in parks.iterrows():
        brands = carriers(park.get("brands"))
        postal = any(any(p in b for p in POSTAL) for b in brands)
        express = len([b for b in brands if not any(p in b for p in POSTAL)])
        passed = postal and express >= std.min_carriers
        ok += passed
        rows.append(
            row(
                "P-EPARK",
                "facility",
                str(park["facility_id"]),
                str(park.get("name", "")),
                value=express,
                target=std.min_carriers,
                existing=express,
                passed=passed,
                note=f"postal company {'present' if postal else 'absent'}; {express} express brand(s)",
                **meta,
            )
        )
    for code, name in sorted(units.counties.items()):
        rows.insert(
            0,
            row(
                "P-EPARK",
                "county",
                code,
                name,
                value=ok / len(parks),
                target=1.0,
                existing=ok,
                shortfall=len(parks) - ok,
                role="summary",
                **meta,
            ),
        )
    return rows


def hub_rows(facilities: pd.DataFrame, units: Units, profile: Profile, meta: Meta) -> Rows:
    """P-HUB: sorting centres' daily transfer capacity (``capacity``, items/day) and ``automated``."""
    std = profile.require("P-HUB")
    centres = facilities[facilities["type"] == "sorting_centre"]
    cap = pd.to_numeric(centres["capacity"], errors="coerce")
    rows: Rows = []
    for code, name in sorted(units.counties.items()):
        if len(centres) == 0 or cap.isna().all():
            rows += _needs_columns(
                "P-HUB",
                units,
                ["type = sorting_centre", "capacity (items/day)"],
                "the sorting centres' daily capacity",
                meta,
            )
        else:
            total = float(cap.fillna(0).sum())
            rows.append(
                row(
                    "P-HUB",
                    "county",
                    code,
                    name,
                    value=total,
                    target=std.daily_items,
                    existing=total,
                    shortfall=max(0.0, std.daily_items - total),
                    note=f"{len(centres)} sorting centre(s); daily transfer capacity, items",
                    **meta,
                )
            )
        if "automated" not in centres.columns:
            rows += _needs_columns(
                "P-HUB-AUTO", units, ["automated (yes/no)"], "automation of sorting centres", meta
            )
        else:
            auto = int(_truthy(centres["automated"]).sum())
            rows.append(
                row(
                    "P-HUB-AUTO",
                    "county",
                    code,
                    name,
                    value=auto / len(centres) if len(centres) else float("nan"),
                    target=1.0,
                    existing=auto,
                    shortfall=len(centres) - auto,
                    note=f"{auto} of {len(centres)} sorting centres fully automated",
                    **meta,
                )
            )
    return rows


def count_target_rows(facilities: pd.DataFrame, units: Units, profile: Profile, *, year: int) -> Rows:
    """The document's other countable targets (``counts`` of the profile): facilities of a type, by a flag."""
    rows: Rows = []
    for cid, target in profile.counts.items():
        of_type = facilities[facilities["type"].astype(str) == target.facility_type]
        meta = Meta(
            citation=target.source.cite(profile.documents), source=profile.inherited.get(cid, profile.profile)
        )
        proposed = _proposed(of_type)
        needed = [c for c in ((target.flag,) if target.flag else ()) if c not in of_type.columns]
        if target.new_since is not None and "opened_year" not in of_type.columns and not proposed.all():
            needed.append("opened_year")
        if needed:
            rows += _needs_columns(cid, units, needed, target.title_en, meta)
            continue
        mask = pd.Series(True, index=of_type.index)
        if target.flag:
            mask &= _truthy(of_type[target.flag])
        if target.new_since is not None:
            opened = (
                pd.to_numeric(of_type["opened_year"], errors="coerce") if "opened_year" in of_type else None
            )
            mask &= proposed if opened is None else (opened >= target.new_since) | proposed
        n = int(mask.sum())
        judged = not target.baseline and target.scope == "study_area"
        parts = [f"by end of {target.by_year}"] if target.by_year else []
        if target.baseline:
            parts.append("a baseline the document reports, shown for comparison")
        elif not judged:
            parts.append(f"a figure for the whole {target.scope}, shown for comparison")
        note = "; ".join(parts)
        for code, name in sorted(units.counties.items()):
            rows.append(
                row(
                    cid,
                    "county",
                    code,
                    name,
                    value=n,
                    target=target.count,
                    existing=n,
                    shortfall=max(0, target.count - n),
                    note=note,
                    role="standard" if judged else "info",
                    **meta,
                )
            )
    return rows


def not_set_rows(profile: Profile, units: Units) -> Rows:
    """One row per catalogued standard the profile does not set: "not set by this document"."""
    rows: Rows = []
    for sid in STANDARD_IDS:
        if profile.sets(sid) or CATALOGUE[sid].kind == "info":
            continue
        plan = " (the plan does not place for it)" if sid in PLANNABLE else ""
        for code, name in sorted(units.counties.items()):
            rows.append(
                row(
                    sid,
                    "county",
                    code,
                    name,
                    value=float("nan"),
                    target=float("nan"),
                    role="not_set",
                    note=f"not set by this document ({profile.profile}){plan}",
                    source=profile.profile,
                )
            )
    return rows
