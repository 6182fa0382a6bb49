"""Per-unit requirements of the count standards: the one reading the audit and the plan share.

For every count standard a profile sets (R-RURAL, D-OUTLET, D-OUTLET-N, D-LOCKER, D-LOCKER-N,
D-CENTRE) :func:`count_requirements` lists each unit the standard is measured over (see
:mod:`planner.standards.catalogue`), its base (people or households, register first, raster
otherwise), the facilities it has and the least number it needs to pass. The audit writes its rows
from these (``passed`` is ``have >= need``); the plan asks its model for ``need - have`` more
facilities in the unit; the after-plan audit recounts the same way. Nothing else reads a count
standard.

Units and membership
--------------------
* a **community** (社区/居委会, ``kind == "community"``) holds the facilities whose ``village_code`` is
  its code (the pipeline fills a missing ``village_code`` from the demand cell a facility lies in);
* a **township** holds the facilities whose ``township_code`` is its code; R-RURAL ("一乡一所") applies
  to 乡 and 镇 — townships whose NBS code has 100–399 in its last three digits; 街道 (001–099) are urban
  and fall under R-URBAN (with non-NBS codes every township counts);
* the **county** holds every facility of the study area (per county when the boundary has several).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.audit._common import Units, as_code
from planner.standards import Profile

#: Facility types each count standard counts.
COUNTED_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "R-RURAL": ("outlet",),
    "D-OUTLET": ("outlet",),
    "D-OUTLET-N": ("outlet",),
    "D-LOCKER": ("locker",),
    "D-LOCKER-N": ("locker",),
    "D-CENTRE": ("delivery_centre",),
}


@dataclass(frozen=True)
class Requirement:
    """One unit of a count standard: what it has and the least it needs to pass.

    ``members`` selects the facilities (and candidate sites) of the unit: ``("village_code", code)``,
    ``("township_code", code)`` or ``("county", code)``. ``need`` is ``None`` when the standard cannot
    be judged in the unit (``unknown`` says why, e.g. centres without a floor area).
    """

    standard_id: str
    level: str
    code: str
    name: str
    types: tuple[str, ...]
    base: float
    base_source: str
    have: int
    need: int | None
    members: tuple[str, str]
    value: float
    target: float
    note: str = ""
    unknown: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """``have >= need`` (``None`` when the unit cannot be judged)."""
        return None if self.need is None else self.have >= self.need

    @property
    def short_by(self) -> int:
        """Facilities to add to pass (0 when passing or unknown)."""
        return 0 if self.need is None else max(0, self.need - self.have)


def is_xiangzhen(code: str) -> bool | None:
    """Whether an NBS township code is a 乡 or 镇 (True), a 街道 or the like (False), or unknown (None)."""
    if len(code) != 9 or not code.isdigit():
        return None
    return 100 <= int(code[6:]) <= 399


def community_table(villages: pd.DataFrame, demand: pd.DataFrame, household_size: float) -> pd.DataFrame:
    """Communities (``kind == "community"``) with their one base: population and households.

    Population: the register's when positive, else the demand cells assigned to the community.
    Households: the register's when positive, else population ÷ household size. ``pop_source`` and
    ``hh_source`` say which (``register`` or ``raster``).
    """
    com = villages[villages["kind"].astype(str) == "community"]
    codes = as_code(com["village_code"])
    demand_pop = demand.groupby(as_code(demand["village_code"]))["population"].sum()
    reg_pop = pd.to_numeric(com["population"], errors="coerce").to_numpy(dtype=float)
    raster_pop = codes.map(demand_pop).fillna(0.0).to_numpy(dtype=float)
    pop = np.where(reg_pop > 0, reg_pop, raster_pop)
    reg_hh = pd.to_numeric(com["households"], errors="coerce").to_numpy(dtype=float)
    hh = np.where(reg_hh > 0, reg_hh, pop / household_size)
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": com["village_name"].astype(str).to_numpy(),
            "township": as_code(com["township_code"]).to_numpy(),
            "population": pop,
            "households": hh,
            "pop_source": np.where(reg_pop > 0, "register", "raster"),
            "hh_source": np.where(
                reg_hh > 0, "register", np.where(reg_pop > 0, "register÷size", "raster÷size")
            ),
        }
    ).sort_values("code", kind="stable")


def members_mask(frame: pd.DataFrame, members: tuple[str, str], units: Units) -> np.ndarray:
    """Rows of a facility or candidate frame that belong to a unit (see :class:`Requirement`)."""
    key, code = members
    if key == "county":
        if len(units.counties) == 1:
            return np.ones(len(frame), dtype=bool)
        return (units.county_of(as_code(frame["township_code"])) == code).to_numpy()
    return (as_code(frame[key]) == code).to_numpy()


def members_matrix(frame: pd.DataFrame, requirements: Sequence[Requirement], units: Units) -> sp.csr_matrix:
    """Requirements × rows (boolean): the rows of the counted types in each requirement's unit.

    The same as stacking :func:`members_mask` ``& type`` per requirement, with each unit key's codes
    and each type set read once (a prefecture has thousands of requirements over tens of thousands
    of candidates).
    """
    n = len(frame)
    kinds = frame["type"].astype(str).to_numpy() if n else np.array([], dtype=object)
    of_types: dict[tuple[str, ...], np.ndarray] = {}
    ids: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for k, r in enumerate(requirements):
        key, code = r.members
        if key == "county" and len(units.counties) == 1:
            inside = np.ones(n, dtype=bool)
        else:
            if key not in ids:
                raw = as_code(frame["township_code"]) if key == "county" else as_code(frame[key])
                vals = units.county_of(raw) if key == "county" else raw
                codes, uniques = pd.factorize(vals)
                ids[key] = (codes, {str(u): i for i, u in enumerate(uniques)})
            codes, where = ids[key]
            inside = codes == where.get(code, -2)
        if r.types not in of_types:
            of_types[r.types] = np.isin(kinds, r.types)
        hit = np.flatnonzero(inside & of_types[r.types])
        rows.append(np.full(hit.size, k))
        cols.append(hit)
    r_idx = np.concatenate(rows) if rows else np.array([], dtype=int)
    c_idx = np.concatenate(cols) if cols else np.array([], dtype=int)
    data = np.ones(r_idx.size, dtype=bool)
    return sp.csr_matrix((data, (r_idx, c_idx)), shape=(len(requirements), n), dtype=bool)


def _count(facilities: pd.DataFrame, types: tuple[str, ...], members: tuple[str, str], units: Units) -> int:
    of_type = facilities["type"].astype(str).isin(types).to_numpy()
    return int((of_type & members_mask(facilities, members, units)).sum())


def _density_need(per: float, target: float, base: float) -> int:
    """The least count ``n`` with ``n / base × per >= target``: ``⌈target × base / per⌉``."""
    return max(0, math.ceil(target * base / per - 1e-9))


def _rural(profile: Profile, units: Units, facilities: pd.DataFrame) -> list[Requirement]:
    std = profile.require("R-RURAL")
    out = []
    for code, name in sorted(units.townships.items()):
        if is_xiangzhen(code) is False:
            continue
        members = ("township_code", code)
        have = _count(facilities, COUNTED_TYPES["R-RURAL"], members, units)
        out.append(
            Requirement(
                "R-RURAL",
                "township",
                code,
                name,
                COUNTED_TYPES["R-RURAL"],
                1.0,
                "township",
                have,
                std.outlets_per_township,
                members,
                have,
                std.outlets_per_township,
            )
        )
    return out


def _outlet_density(
    profile: Profile, units: Units, facilities: pd.DataFrame, com: pd.DataFrame, demand: pd.DataFrame
) -> list[Requirement]:
    std = profile.require("D-OUTLET")
    types = COUNTED_TYPES["D-OUTLET"]
    if std.unit == "community":
        rows = [
            (str(c), str(n), float(p), str(s), ("village_code", str(c)), "community")
            for c, n, p, s in zip(com["code"], com["name"], com["population"], com["pop_source"], strict=True)
        ]
    else:
        tpop = demand.groupby(as_code(demand["township_code"]))["population"].sum()
        rows = [
            (c, n, float(tpop.get(c, 0.0)), "raster", ("township_code", c), "township")
            for c, n in sorted(units.townships.items())
        ]
    out = []
    for code, name, pop, source, members, level in rows:
        if pop <= 0:
            continue
        have = _count(facilities, types, members, units)
        need = _density_need(10_000, std.per_10k_min, pop)
        note = f"range {std.per_10k_min:g}–{std.per_10k_max:g} per 10,000" if std.per_10k_max else ""
        out.append(
            Requirement(
                "D-OUTLET",
                level,
                code,
                name,
                types,
                pop,
                source,
                have,
                need,
                members,
                have / pop * 10_000,
                std.per_10k_min,
                note,
            )
        )
    return out


def _locker_density(
    profile: Profile, units: Units, facilities: pd.DataFrame, com: pd.DataFrame
) -> list[Requirement]:
    std = profile.require("D-LOCKER")
    types = COUNTED_TYPES["D-LOCKER"]
    target = 100.0 / std.households_per_group
    out = []
    for code, name, households, source in zip(
        com["code"], com["name"], com["households"], com["hh_source"], strict=True
    ):
        hh = float(households)
        if hh <= 0:
            continue
        members = ("village_code", str(code))
        have = _count(facilities, types, members, units)
        need = _density_need(100, target, hh)
        out.append(
            Requirement(
                "D-LOCKER",
                "community",
                str(code),
                str(name),
                types,
                hh,
                str(source),
                have,
                need,
                members,
                have / hh * 100,
                target,
                "base = households",
            )
        )
    return out


def _facility_count(
    sid: str, profile: Profile, units: Units, facilities: pd.DataFrame, year: int
) -> list[Requirement]:
    std = profile.require(sid)
    types = COUNTED_TYPES[sid]
    parts = []
    if std.by_year is not None:
        parts.append(f"by end of {std.by_year}" + (" (not yet due)" if year < std.by_year else ""))
    if std.baseline is not None:
        parts.append(f"{std.baseline} in {std.baseline_year}")
    out = []
    for code, name in sorted(units.counties.items()):
        members = ("county", code)
        have = _count(facilities, types, members, units)
        out.append(
            Requirement(
                sid,
                "county",
                code,
                name,
                types,
                float(std.count),
                "document",
                have,
                std.count,
                members,
                float(have),
                float(std.count),
                "; ".join(parts),
            )
        )
    return out


def _centres(
    profile: Profile, units: Units, facilities: pd.DataFrame, com: pd.DataFrame
) -> list[Requirement]:
    std = profile.require("D-CENTRE")
    types = COUNTED_TYPES["D-CENTRE"]
    centres = facilities[facilities["type"].astype(str).isin(types)]
    floor = pd.to_numeric(centres["floor_area_m2"], errors="coerce")
    planned = (
        (centres["status"].astype(str) == "proposed") if "status" in centres.columns else floor.isna() & False
    )
    qualifies = (floor >= std.min_floor_m2 - 1e-9) | planned  # a proposed centre is built to the standard
    ccode = as_code(centres["village_code"])
    out = []
    for r in com[com["population"] >= std.min_population - 1e-9].itertuples():
        mine = ccode == str(r.code)
        have = int((mine & qualifies).sum())
        unknown = int((mine & floor.isna() & ~planned).sum())
        need: int | None = 1
        why = ""
        if have == 0 and unknown:
            need, why = None, "delivery centre present but floor_area_m2 unknown"
        note = (
            ""
            if have
            else (
                why
                or (
                    "no delivery centre"
                    if not mine.any()
                    else f"largest centre {floor[mine].max():g} m² < {std.min_floor_m2:g} m²"
                )
            )
        )
        out.append(
            Requirement(
                "D-CENTRE",
                "community",
                str(r.code),
                str(r.name),
                types,
                float(r.population),
                str(r.pop_source),
                have,
                need,
                ("village_code", str(r.code)),
                float(min(have, 1)) if need is not None else float("nan"),
                1.0,
                note,
                why,
            )
        )
    return out


def count_requirements(
    profile: Profile,
    *,
    units: Units,
    villages: pd.DataFrame,
    demand: pd.DataFrame,
    facilities: pd.DataFrame,
    year: int,
    standards: tuple[str, ...] | None = None,
) -> list[Requirement]:
    """Every unit of every count standard the profile sets (or of ``standards``), in catalogue order."""
    wanted = [s for s in COUNTED_TYPES if profile.sets(s) and (standards is None or s in standards)]
    com = community_table(villages, demand, profile.household_size.persons)
    out: list[Requirement] = []
    for sid in wanted:
        if sid == "R-RURAL":
            out += _rural(profile, units, facilities)
        elif sid == "D-OUTLET":
            out += _outlet_density(profile, units, facilities, com, demand)
        elif sid == "D-LOCKER":
            out += _locker_density(profile, units, facilities, com)
        elif sid == "D-CENTRE":
            out += _centres(profile, units, facilities, com)
        else:
            out += _facility_count(sid, profile, units, facilities, year)
    return out
