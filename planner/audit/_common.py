"""Shared helpers of the audit: input checks, units (county, township, village) and table rows.

Private to :mod:`planner.audit`; the public entry point is :func:`planner.audit.run_audit`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputDataError, Problem
from planner.types import AUDIT_COLUMNS, AUDIT_EXTRA_COLUMNS

#: Columns of the audit table: the ``audit.csv`` contract plus explanation columns.
TABLE_COLUMNS: Final = (*AUDIT_COLUMNS, *AUDIT_EXTRA_COLUMNS)
# population: people (or, for V-*, residents of the administrative villages) the check counts;
# existing: covered people / facilities counted / villages with a station; shortfall: uncovered
# people / facilities to add / villages to equip to reach the target; note: plain text (the target
# year, "no floor-area data"); citation: document number and clause (Profile.cite); role: standard /
# summary / breakdown / year / info / not_set (see planner.audit); source: the profile that sets the
# standard (the run's, or the one it extends).

#: Row roles: ``standard`` — the unit the standard is measured over; ``summary`` — a township or county
#: aggregate that passes only when every unit in it passes; ``breakdown`` — an informative split (no
#: pass/fail); ``year`` — another target year of the same standard; ``info`` — a figure to report, not
#: a standard to meet; ``not_set`` — a standard this profile does not set.
ROLES: Final = ("standard", "summary", "breakdown", "year", "info", "not_set")
#: Roles whose failures the plan must meet or explain (``summary.json`` → ``unmet``).
JUDGED_ROLES: Final = ("standard", "summary")


class Meta(TypedDict):
    """The citation and the source profile every row of a standard carries."""

    citation: str
    source: str


#: Tolerance of the pass test ``value >= target``.
EPS: Final = 1e-9

#: Coverage columns the pipeline adds to demand, per reading.
READING_COLUMNS: Final[dict[str, str]] = {
    "network": "covered_network",
    "buffer": "covered_buffer",
    "scenario": "covered",
}


def require_columns(frames: Mapping[str, tuple[pd.DataFrame, Iterable[str]]]) -> None:
    """Raise one :class:`InputDataError` listing every missing column of every frame.

    Parameters
    ----------
    frames
        Frame name -> (frame, columns the audit needs from it).
    """
    problems = []
    for name, (frame, columns) in frames.items():
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            problems.append(
                Problem(
                    f"the {name} frame lacks column(s) {', '.join(missing)} the audit needs",
                    location=name,
                    fix="pass the frame produced by the pipeline (see the column lists in planner/types.py)",
                )
            )
    if problems:
        raise InputDataError("cannot run the audit", problems=problems)


def as_code(series: pd.Series) -> pd.Series:
    """Codes as plain strings, missing values as ``""``."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def needed_to_reach(target_per_unit: float, amount: float, per: float, existing: float) -> int:
    """Facilities to add so that ``(existing + n) / amount * per >= target_per_unit``.

    ``⌈target × amount / per⌉ − existing``, never below 0 (``⌈4 × 12,000 / 10,000⌉ − 2 = 3``).
    """
    if amount <= 0:
        return 0
    need = math.ceil(target_per_unit * amount / per - EPS)
    return max(0, int(need - existing))


@dataclass(frozen=True)
class Units:
    """Codes and names of the units the audit reports on.

    ``county_of_township`` maps a township code to its county code. With one county in the
    boundary every township belongs to it; with several, a township belongs to the county whose
    6-digit code starts its 9-digit code (NBS rule).
    """

    counties: dict[str, str]
    townships: dict[str, str]
    villages: dict[str, str]
    village_kind: dict[str, str]
    county_of_township: dict[str, str]
    county_area_km2: dict[str, float]
    township_area_km2: dict[str, float]
    township_of_village: dict[str, str] = field(default_factory=dict)

    def level_and_name(self, level: str, code: str) -> tuple[str, str]:
        """The unit level and name of ``code`` (``village`` splits into village and community)."""
        if level == "county":
            return "county", self.counties.get(code, code)
        if level == "township":
            return "township", self.townships.get(code, code)
        kind = self.village_kind.get(code, "village")
        return ("community" if kind == "community" else "village"), self.villages.get(code, code)

    def townships_of(self, county: str) -> list[str]:
        """Township codes of ``county``."""
        return [t for t in self.townships if self.county_of_township.get(t) == county]

    def county_of(self, township_codes: pd.Series) -> pd.Series:
        """County code of each township code (``""`` when unknown)."""
        if len(self.counties) == 1:
            (only,) = self.counties
            return pd.Series(only, index=township_codes.index, dtype=object)
        mapped = township_codes.map(self.county_of_township)
        prefix = township_codes.str[:6]
        by_prefix = prefix.where(prefix.isin(list(self.counties)), "")
        return mapped.where(mapped.notna(), by_prefix).astype(str)


def build_units(boundary: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, villages: pd.DataFrame) -> Units:
    """Collect unit codes, names and areas from the boundary, townships and village register."""
    county_codes = (
        as_code(boundary["county_code"])
        if "county_code" in boundary.columns
        else pd.Series(["county"] * len(boundary))
    )
    county_names = boundary["county_name"].astype(str) if "county_name" in boundary.columns else county_codes
    counties = dict(zip(county_codes, county_names, strict=True))
    county_area: dict[str, float] = {}
    if isinstance(boundary, gpd.GeoDataFrame) and boundary.geometry is not None:
        for code, geom in zip(county_codes, boundary.geometry, strict=True):
            county_area[code] = county_area.get(code, 0.0) + (
                float(geom.area) / 1e6 if geom is not None else 0.0
            )
    tcodes = as_code(townships["township_code"])
    tnames = townships["township_name"].astype(str)
    township_names = dict(zip(tcodes, tnames, strict=True))
    township_area = {
        code: float(geom.area) / 1e6 if geom is not None else float("nan")
        for code, geom in zip(tcodes, townships.geometry, strict=True)
    }
    if len(counties) == 1:
        only = str(next(iter(counties)))
        county_of_township: dict[str, str] = {str(t): only for t in tcodes}
    else:
        county_of_township = {str(t): str(t)[:6] for t in tcodes if str(t)[:6] in counties}
    vcodes = as_code(villages["village_code"])
    return Units(
        counties=counties,
        townships=township_names,
        villages=dict(zip(vcodes, villages["village_name"].astype(str), strict=True)),
        village_kind=dict(zip(vcodes, villages["kind"].astype(str), strict=True)),
        county_of_township=county_of_township,
        county_area_km2=county_area,
        township_area_km2=township_area,
        township_of_village=dict(zip(vcodes, as_code(villages["township_code"]), strict=True)),
    )


def row(
    standard_id: str,
    unit_level: str,
    unit_code: str,
    unit_name: str,
    *,
    value: float,
    target: float,
    population: float = float("nan"),
    existing: float = float("nan"),
    shortfall: float = float("nan"),
    note: str = "",
    citation: str = "",
    passed: bool | Literal["auto"] | None = "auto",
    role: str = "standard",
    source: str = "",
) -> dict[str, Any]:
    """One audit-table row; ``passed="auto"`` means ``value >= target`` (NA when value is NaN)."""
    if passed == "auto":
        passed = None if np.isnan(float(value)) or np.isnan(float(target)) else bool(value >= target - EPS)
    if role in ("breakdown", "not_set"):
        passed = None
    return {
        "standard_id": standard_id,
        "unit_level": unit_level,
        "unit_code": unit_code,
        "unit_name": unit_name,
        "value": float(value),
        "target": float(target),
        "passed": passed,
        "population": float(population),
        "existing": float(existing),
        "shortfall": float(shortfall),
        "note": note,
        "citation": citation,
        "role": role,
        "source": source,
    }


def to_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The audit table with :data:`TABLE_COLUMNS`; ``passed`` is a nullable boolean."""
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["passed"] = table["passed"].astype("boolean")
    for col in ("value", "target", "population", "existing", "shortfall"):
        table[col] = table[col].astype(float)
    for col in ("standard_id", "unit_level", "unit_code", "unit_name", "note", "citation", "role", "source"):
        table[col] = table[col].astype(object)
    return table.reset_index(drop=True)


def failing(table: pd.DataFrame) -> pd.Series:
    """Rows that fail a judged check: ``passed`` is False and the role is judged (NA and info stay out)."""
    judged = (
        table["role"].isin(JUDGED_ROLES) if "role" in table.columns else pd.Series(True, index=table.index)
    )
    return (table["passed"].astype("boolean").eq(False).fillna(False) & judged).astype(bool)
