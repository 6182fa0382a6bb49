"""The audit: every standard of a policy profile checked per county, township and village/community.

:func:`run_audit` takes the frames of :mod:`planner.types` *after* the pipeline has added the
coverage columns (demand: ``covered``, ``covered_network``, ``covered_buffer``, ``covered_strict``;
villages: ``has_station``, ``nearest_station_km``, ``nearest_station_min``, ``mappable``). It does no
network work, so every check can be tested on hand-built frames.

Conventions of the audit table (``audit.csv``)
----------------------------------------------
One row per (standard_id, unit). ``passed`` is ``value >= target`` (tolerance 1e-9); it is NA
(empty) when the value cannot be computed (D-CENTRE without floor areas). Extra columns:
``population`` (the people, or households, the check counts), ``existing`` (covered people /
facilities / villages with a station), ``shortfall`` (uncovered people / facilities to add /
villages to equip), ``note`` and ``citation`` (document number and clause).

==============  =====================================================  ==========================
standard_id     value                                                  target
==============  =====================================================  ==========================
R-URBAN         share 0..1 of urban-class people covered (reading)     1.0
R-TOWN          share 0..1 of township-class people covered, 30 min    1.0
R-TOWN-15       same with ``covered_strict`` (15 min)                  1.0
R-RURAL         outlets in the township; county: share of townships    outlets_per_township; 1.0
D-OUTLET        outlets per 10,000 residents                           per_10k_min (the 4 of 4–5)
D-LOCKER        locker groups per 100 households                       100 / households_per_group
D-CENTRE        community ≥ min_population: 1 if a centre ≥ min m²     1.0
D-BASE          outlets + stations + centres per 10,000 people         outlets_per_10k (baseline)
D-BASE-AREA     the same per 100 km²                                   outlets_per_100km2
V-ALL           share 0..1 of administrative villages with a station   target for the audit year
V-STATION       the same against V-STATION's year targets              target for the audit year
V-ALL-2022 ...  county rows, one per target year of the profile        that year's target
P-COUNTY        parks/sorting centres hosting ≥ min_carriers brands    min_parks
==============  =====================================================  ==========================

Units: a demand cell belongs to its ``township_code`` and ``village_code``; a township to the
county whose 6-digit code starts its code (or to the only county of the boundary); facilities to
units by their ``township_code`` and ``village_code``. Coverage checks skip units without people
of the class. "Rural" cells have no radius standard (R-RURAL counts outlets per township); the
``uncovered`` polygons include every class whose coverage column says uncovered.

The year target of V-ALL / V-STATION is the latest target year ≤ ``year``, or the earliest if
``year`` precedes them all; "超过85%" is read as ≥ 85 %.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd

from planner.audit._common import READING_COLUMNS, TABLE_COLUMNS, build_units, require_columns, to_table
from planner.audit.checks import (
    base_rows,
    centre_rows,
    locker_rows,
    outlet_rows,
    park_rows,
    radius_rows,
    rural_rows,
)
from planner.audit.gaps import (
    TOWNSHIP_GAP_COLUMNS,
    UNCOVERED_COLUMNS,
    infer_cell_size,
    township_gaps,
    uncovered_polygons,
)
from planner.audit.villages import target_for_year, village_gaps, village_share_rows
from planner.errors import StandardsError
from planner.standards import STANDARD_IDS, Profile
from planner.types import AuditResult

__all__ = [
    "AUDIT_CHECKS",
    "TABLE_COLUMNS",
    "TOWNSHIP_GAP_COLUMNS",
    "UNCOVERED_COLUMNS",
    "run_audit",
    "target_for_year",
]

log = logging.getLogger(__name__)

#: The standards the audit checks (V-SHARE is used by the pipeline to set ``has_station``).
AUDIT_CHECKS: tuple[str, ...] = (
    "R-URBAN",
    "R-TOWN",
    "R-RURAL",
    "D-OUTLET",
    "D-LOCKER",
    "D-CENTRE",
    "D-BASE",
    "V-ALL",
    "V-STATION",
    "P-COUNTY",
)

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
        The audit year, which picks the V-ALL / V-STATION target.
    reading
        Which coverage column R-URBAN, R-TOWN and the uncovered polygons use: ``"network"``
        (``covered_network``), ``"buffer"`` (``covered_buffer``) or ``"scenario"`` (``covered``).
        R-TOWN-15 always uses ``covered_strict``.
    checks
        Standard ids to audit. ``None`` audits every standard of :data:`AUDIT_CHECKS` the profile
        sets; a named check the profile lacks raises :class:`~planner.errors.StandardsError` naming
        the number and the profile.
    cell_size_m
        Side of a demand cell in metres, for the uncovered polygons; inferred from the spacing of
        the demand points when ``None``.

    Returns
    -------
    AuditResult
        ``table`` (:data:`TABLE_COLUMNS`), ``village_gaps``, ``uncovered`` and ``township_gaps``.

    Raises
    ------
    StandardsError
        Unknown reading or check id, or a named check the profile does not set.
    InputDataError
        A frame lacks columns the requested checks need (all listed at once).
    """
    if reading not in READING_COLUMNS:
        raise StandardsError(f"unknown coverage reading {reading!r}; use one of {', '.join(READING_COLUMNS)}")
    if checks is None:
        wanted = [c for c in AUDIT_CHECKS if getattr(profile.standards, STANDARD_IDS[c]) is not None]
    else:
        unknown = [c for c in checks if c not in AUDIT_CHECKS]
        if unknown:
            raise StandardsError(
                f"unknown audit check(s) {', '.join(unknown)}; known: {', '.join(AUDIT_CHECKS)}"
            )
        wanted = list(dict.fromkeys(checks))
        for c in wanted:
            profile.require(c)
    covered_col = READING_COLUMNS[reading]
    dcols = list(_DEMAND_BASE)
    if "R-URBAN" in wanted or "R-TOWN" in wanted:
        dcols.append(covered_col)
    if "R-TOWN" in wanted:
        dcols.append("covered_strict")
    vcols = list(_VILLAGE_BASE)
    if "V-ALL" in wanted or "V-STATION" in wanted:
        vcols.append("has_station")
    require_columns(
        {
            "demand": (demand, dcols),
            "villages": (villages, vcols),
            "facilities": (facilities, _FACILITY_BASE),
            "townships": (townships, ("township_code", "township_name")),
            "boundary": (boundary, ("county_code",)),
        }
    )
    units = build_units(boundary, townships, villages)
    hh = profile.household_size.persons
    rows = []
    reading_note = f"{reading} reading ({covered_col})"
    if "R-URBAN" in wanted:
        rows += radius_rows(
            demand,
            units,
            standard_id="R-URBAN",
            area_class="urban",
            covered_col=covered_col,
            citation=profile.cite("R-URBAN"),
            note=reading_note,
        )
    if "R-TOWN" in wanted:
        std = profile.require("R-TOWN")
        cite = profile.cite("R-TOWN")
        rows += radius_rows(
            demand,
            units,
            standard_id="R-TOWN",
            area_class="township",
            covered_col=covered_col,
            citation=cite,
            note=f"{std.time_min:g} min; {reading_note}",
        )
        strict = std.time_min_strict if std.time_min_strict is not None else std.time_min
        rows += radius_rows(
            demand,
            units,
            standard_id="R-TOWN-15",
            area_class="township",
            covered_col="covered_strict",
            citation=cite,
            note=f"strict reading: {strict:g} min by network",
        )
    if "R-RURAL" in wanted:
        rows += rural_rows(facilities, units, profile.require("R-RURAL"), profile.cite("R-RURAL"))
    if "D-OUTLET" in wanted:
        rows += outlet_rows(
            demand,
            villages,
            facilities,
            units,
            profile.require("D-OUTLET"),
            household_size=hh,
            citation=profile.cite("D-OUTLET"),
        )
    if "D-LOCKER" in wanted:
        rows += locker_rows(
            demand,
            villages,
            facilities,
            units,
            profile.require("D-LOCKER"),
            household_size=hh,
            citation=profile.cite("D-LOCKER"),
        )
    if "D-CENTRE" in wanted:
        rows += centre_rows(
            demand,
            villages,
            facilities,
            units,
            profile.require("D-CENTRE"),
            household_size=hh,
            citation=profile.cite("D-CENTRE"),
        )
    if "D-BASE" in wanted:
        rows += base_rows(demand, facilities, units, profile.require("D-BASE"), profile.cite("D-BASE"))
    if "V-ALL" in wanted:
        v_all = profile.require("V-ALL")
        rows += village_share_rows(
            villages,
            units,
            standard_id="V-ALL",
            targets={**v_all.interim, v_all.by_year: v_all.share},
            year=year,
            citation=profile.cite("V-ALL"),
        )
    if "V-STATION" in wanted:
        rows += village_share_rows(
            villages,
            units,
            standard_id="V-STATION",
            targets=dict(profile.require("V-STATION").targets),
            year=year,
            citation=profile.cite("V-STATION"),
        )
    if "P-COUNTY" in wanted:
        rows += park_rows(
            facilities, units, profile.require("P-COUNTY"), year=year, citation=profile.cite("P-COUNTY")
        )
    table = to_table(rows)

    if "has_station" in villages.columns:
        vgaps = village_gaps(villages)
    else:
        vgaps = village_gaps(villages.iloc[0:0].assign(has_station=False))
    if covered_col in demand.columns and len(demand):
        size = cell_size_m if cell_size_m is not None else infer_cell_size(demand)
        uncovered = uncovered_polygons(demand, covered_col, cell_size_m=size)
    else:
        uncovered = gpd.GeoDataFrame({c: [] for c in UNCOVERED_COLUMNS}, geometry=[], crs=demand.crs)
    tgaps = township_gaps(table)
    failed = int((table["passed"] == False).sum())  # noqa: E712
    log.info(
        "audit: %d rows, %d failed, %d checks, %d village gaps, %d uncovered polygons",
        len(table),
        failed,
        len(wanted),
        len(vgaps),
        len(uncovered),
    )
    return AuditResult(table=table, village_gaps=vgaps, uncovered=uncovered, township_gaps=tgaps)
