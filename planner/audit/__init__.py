"""The audit: every standard of a policy profile checked per county, township and village/community.

:func:`run_audit` takes the frames of :mod:`planner.types` *after* the pipeline has added the
coverage columns (demand: ``covered``, ``covered_network``, ``covered_buffer``, ``covered_strict``;
villages: ``has_station``, ``own_station``, ``nearest_station_km``, ``nearest_station_min``,
``mappable``). It does no network work, so every check can be tested on hand-built frames.

Each standard has one definition (:mod:`planner.standards.catalogue`); count standards are read
through :mod:`planner.audit.requirements`, which the plan reads too.

Conventions of the audit table (``audit.csv``, ``audit_after.csv``)
-------------------------------------------------------------------
One row per (standard_id, unit). ``passed`` is the standard's own test (``value >= target`` for the
radius and density standards, ``have >= need`` for counts, the clause's comparison for shares); it
is NA (empty) when the value cannot be computed or the row is not judged. ``role`` says what a row
is (:data:`ROLES`): ``standard`` (the unit the standard is measured over), ``summary`` (an aggregate
that passes only when every unit in it passes), ``breakdown``, ``year`` (another target year),
``info`` (reported, not a standard to meet: D-BASE, R-TOWN-15, baselines) or ``not_set`` (a standard
this document does not set). ``source`` names the profile that sets the standard (a profile it
``extends`` for inherited standards). Extra columns: ``population`` (the base the check counts:
people, households or villages), ``existing`` (covered people / facilities / villages counted),
``shortfall`` (uncovered people / facilities to add / villages to equip), ``note`` and ``citation``.

==============  =====================================================  ==========================
standard_id     value                                                  target
==============  =====================================================  ==========================
R-URBAN         share 0..1 of urban-class people covered (reading)     1.0
R-TOWN          share 0..1 of township-class people covered            1.0
R-TOWN-15       same with ``covered_strict`` (15 min), info            1.0
R-RURAL         outlets in the 乡/镇; county: share of them passing    outlets_per_township; 1.0
D-OUTLET        outlets per 10,000 residents of each community         per_10k_min (the 4 of 4–5)
D-OUTLET-N      outlets in the county                                  the document's count
D-LOCKER        locker groups per 100 households of each community     100 / households_per_group
D-LOCKER-N      locker groups in the area                              the document's count
D-CENTRE        community ≥ min_population: 1 if a centre ≥ min m²     1.0
D-BASE(-AREA)   outlets + stations + centres per 10,000 people/100 km²  the baseline (info)
V-ALL           share of located villages served (own or shared)       the year's share
V-STATION       share of located villages with their own station       the year's share (> for 超过)
V-5HAVE         five haves per village station                          1.0
P-COUNTY        parks/sorting centres hosting ≥ min_carriers brands    min_parks
P-EPARK         express brands per e-commerce park (postal too)        min_carriers
P-HUB           sorting centres' daily capacity; P-HUB-AUTO automation  daily_items; 1.0
C-...           the document's other countable targets                  the count
==============  =====================================================  ==========================

Units: a demand cell belongs to its ``township_code`` and ``village_code``; a township to the
county whose 6-digit code starts its code (or to the only county of the boundary); facilities to
units by their ``township_code`` and ``village_code``. Coverage checks skip units without people
of the class.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd

from planner.audit._common import (
    JUDGED_ROLES,
    READING_COLUMNS,
    ROLES,
    TABLE_COLUMNS,
    Meta,
    Units,
    build_units,
    failing,
    require_columns,
    to_table,
)
from planner.audit.checks import (
    base_rows,
    count_target_rows,
    epark_rows,
    five_have_rows,
    hub_rows,
    not_set_rows,
    park_rows,
    radius_rows,
    requirement_rows,
)
from planner.audit.gaps import (
    TOWNSHIP_GAP_COLUMNS,
    UNCOVERED_COLUMNS,
    infer_cell_size,
    township_gaps,
    uncovered_polygons,
)
from planner.audit.requirements import Requirement, count_requirements, members_mask, members_matrix
from planner.audit.villages import share_requirement, target_for_year, village_gaps, village_share_rows
from planner.errors import StandardsError
from planner.standards import STANDARD_IDS, Profile
from planner.types import AuditResult

__all__ = [
    "AUDIT_CHECKS",
    "JUDGED_ROLES",
    "ROLES",
    "TABLE_COLUMNS",
    "TOWNSHIP_GAP_COLUMNS",
    "UNCOVERED_COLUMNS",
    "Requirement",
    "Units",
    "build_units",
    "count_requirements",
    "failing",
    "members_mask",
    "members_matrix",
    "run_audit",
    "share_requirement",
    "target_for_year",
]

log = logging.getLogger(__name__)

#: The standards the audit checks (V-SHARE is the sharing reach the coverage stage uses).
AUDIT_CHECKS: tuple[str, ...] = tuple(s for s in STANDARD_IDS if s != "V-SHARE")

_DEMAND_BASE = ("population", "households", "area_class", "township_code", "village_code")
_VILLAGE_BASE = ("village_code", "village_name", "township_code", "kind", "population", "households")
_FACILITY_BASE = ("type", "brands", "floor_area_m2", "village_code", "township_code")


def run_audit(
    *,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame,
    profile: Profile,
    year: int,
    reading: str = "network",
    checks: Sequence[str] | None = None,
    cell_size_m: float | None = None,
) -> AuditResult:
    """Audit the standards of ``profile`` on the study data.

    Parameters
    ----------
    demand, villages, facilities, townships, boundary
        Frames with the columns of :mod:`planner.types`, including the coverage columns the
        pipeline adds (see the module docstring), all in the work CRS.
    profile
        The policy profile; each check cites its clause.
    year
        The audit year, which picks the year targets.
    reading
        Which coverage column R-URBAN, R-TOWN and the uncovered polygons use: ``"network"``
        (``covered_network``), ``"buffer"`` (``covered_buffer``) or ``"scenario"`` (``covered``).
        R-TOWN-15 always uses ``covered_strict``.
    checks
        Standard ids to audit. ``None`` audits every standard the profile sets and adds a
        "not set by this document" row for the others; a named check the profile lacks raises
        :class:`~planner.errors.StandardsError` naming the number and the profile.
    cell_size_m
        Side of a demand cell in metres, for the uncovered polygons; inferred from the spacing of
        the demand points when ``None``.

    Returns
    -------
    AuditResult
        ``table`` (:data:`TABLE_COLUMNS`), ``village_gaps``, ``uncovered`` and ``township_gaps``.
    """
    if reading not in READING_COLUMNS:
        raise StandardsError(f"unknown coverage reading {reading!r}; use one of {', '.join(READING_COLUMNS)}")
    wanted = _wanted(profile, checks)
    covered_col = READING_COLUMNS[reading]
    _check_frames(demand, villages, facilities, townships, boundary, wanted, covered_col)
    units = build_units(boundary, townships, villages)
    rows = _rows(
        wanted,
        profile=profile,
        units=units,
        demand=demand,
        villages=villages,
        facilities=facilities,
        year=year,
        covered_col=covered_col,
        reading=reading,
    )
    if checks is None:
        rows += count_target_rows(facilities, units, profile, year=year) + not_set_rows(profile, units)
    table = to_table(rows)
    vgaps = village_gaps(
        villages if "has_station" in villages.columns else villages.iloc[0:0].assign(has_station=False)
    )
    if covered_col in demand.columns and len(demand):
        size = cell_size_m if cell_size_m is not None else infer_cell_size(demand)
        uncovered = uncovered_polygons(demand, covered_col, cell_size_m=size)
    else:
        uncovered = gpd.GeoDataFrame({c: [] for c in UNCOVERED_COLUMNS}, geometry=[], crs=demand.crs)
    failed = int((table["passed"] == False).sum())  # noqa: E712
    log.info(
        "audit: %d rows, %d failed, %d checks, %d village gaps", len(table), failed, len(wanted), len(vgaps)
    )
    return AuditResult(
        table=table, village_gaps=vgaps, uncovered=uncovered, township_gaps=township_gaps(table)
    )


def _wanted(profile: Profile, checks: Sequence[str] | None) -> list[str]:
    if checks is None:
        return [c for c in AUDIT_CHECKS if profile.sets(c)]
    unknown = [c for c in checks if c not in AUDIT_CHECKS]
    if unknown:
        raise StandardsError(f"unknown audit check(s) {', '.join(unknown)}; known: {', '.join(AUDIT_CHECKS)}")
    for c in checks:
        profile.require(c)
    return list(dict.fromkeys(checks))


def _check_frames(
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame,
    wanted: list[str],
    covered_col: str,
) -> None:
    dcols = list(_DEMAND_BASE)
    if "R-URBAN" in wanted or "R-TOWN" in wanted:
        dcols += [covered_col, *(["covered_strict"] if "R-TOWN" in wanted else [])]
    vcols = list(_VILLAGE_BASE) + (["has_station"] if {"V-ALL", "V-STATION"} & set(wanted) else [])
    require_columns(
        {
            "demand": (demand, dcols),
            "villages": (villages, vcols),
            "facilities": (facilities, _FACILITY_BASE),
            "townships": (townships, ("township_code", "township_name")),
            "boundary": (boundary, ("county_code",)),
        }
    )


def _meta(profile: Profile, sid: str) -> Meta:
    return Meta(citation=profile.cite(sid), source=profile.inherited.get(sid, profile.profile))


def _rows(
    wanted: list[str],
    *,
    profile: Profile,
    units: Units,
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    year: int,
    covered_col: str,
    reading: str,
) -> list[dict[str, Any]]:
    """Every row of the wanted standards, in catalogue order."""
    rows: list[dict[str, Any]] = []
    note = f"{reading} reading ({covered_col})"
    if "R-URBAN" in wanted:
        rows += radius_rows(
            demand,
            units,
            standard_id="R-URBAN",
            area_class="urban",
            covered_col=covered_col,
            note=note,
            meta=_meta(profile, "R-URBAN"),
        )
    if "R-TOWN" in wanted:
        std = profile.require("R-TOWN")
        rows += radius_rows(
            demand,
            units,
            standard_id="R-TOWN",
            area_class="township",
            covered_col=covered_col,
            note=f"{std.time_min:g} min; {note}",
            meta=_meta(profile, "R-TOWN"),
        )
        strict = std.time_min_strict if std.time_min_strict is not None else std.time_min
        rows += radius_rows(
            demand,
            units,
            standard_id="R-TOWN-15",
            area_class="township",
            covered_col="covered_strict",
            note=f"strict reading: {strict:g} min",
            meta=_meta(profile, "R-TOWN"),
            role="info",
        )
    reqs = count_requirements(
        profile,
        units=units,
        villages=villages,
        demand=demand,
        facilities=facilities,
        year=year,
        standards=tuple(wanted),
    )
    rows += requirement_rows(reqs, units, meta=lambda sid: _meta(profile, sid))
    if "D-BASE" in wanted:
        rows += base_rows(demand, facilities, units, profile.require("D-BASE"), _meta(profile, "D-BASE"))
    for sid in ("V-ALL", "V-STATION"):
        if sid in wanted:
            rows += village_share_rows(
                villages,
                units,
                standard_id=sid,
                std=profile.require(sid),
                year=year,
                meta=_meta(profile, sid),
            )
    if "V-5HAVE" in wanted:
        rows += five_have_rows(facilities, units, profile, _meta(profile, "V-5HAVE"))
    if "P-COUNTY" in wanted:
        rows += park_rows(
            facilities, units, profile.require("P-COUNTY"), year=year, meta=_meta(profile, "P-COUNTY")
        )
    if "P-EPARK" in wanted:
        rows += epark_rows(facilities, units, profile, _meta(profile, "P-EPARK"))
    if "P-HUB" in wanted:
        rows += hub_rows(facilities, units, profile, _meta(profile, "P-HUB"))
    return rows
