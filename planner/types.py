"""Shared data contracts between the stages.

Stages exchange plain GeoDataFrames with the columns listed here (never subclasses), and frozen
dataclasses. Every GeoDataFrame that flows between stages is in the *work CRS* (a projected CRS in
metres chosen per study area, see :func:`planner.inputs.boundary.work_crs`) unless its name says WGS-84.

Codes are strings: county 6 digits, township 9 digits, village/community 12 digits (NBS 统计用区划代码).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import geopandas as gpd
import pandas as pd
from pyproj import CRS

AreaClass = Literal["urban", "township", "rural"]
AREA_CLASSES: Final[tuple[AreaClass, ...]] = ("urban", "township", "rural")

#: NBS urban-rural codes (统计用城乡划分代码) and the area class each maps to (STANDARDS.md).
URBAN_RURAL_CLASS: Final[dict[int, AreaClass]] = {
    111: "urban",  # 主城区
    112: "urban",  # 城乡结合区
    121: "township",  # 镇中心区
    122: "township",  # 镇乡结合区
    123: "township",  # 特殊区域
    210: "rural",  # 乡中心区
    220: "rural",  # 村庄
}

FacilityType = Literal["outlet", "locker", "village_station", "delivery_centre", "park", "sorting_centre"]
FACILITY_TYPES: Final[tuple[FacilityType, ...]] = (
    "outlet",  # 快递末端网点 / 公共服务站 (community or township outlet)
    "locker",  # 智能快件箱组
    "village_station",  # 村级寄递物流综合服务站
    "delivery_centre",  # 公共快递配送中心 (>=30 m2, residential project >= 3,000 people)
    "park",  # 县级快递园区
    "sorting_centre",  # 分拨中心 (counts as a park for P-COUNTY when it hosts enough carriers)
)
#: Facility types where residents pick up and drop off parcels (R-URBAN / R-TOWN service radius).
PICKUP_TYPES: Final[tuple[FacilityType, ...]] = ("outlet", "locker", "village_station", "delivery_centre")

# ---------------------------------------------------------------------------------------------
# Column schemas of the GeoDataFrames passed between stages (geometry column is "geometry").
# ---------------------------------------------------------------------------------------------

#: Study-area boundary: one row per county.
BOUNDARY_COLUMNS: Final = ("county_code", "county_name")
#: Townships (乡镇/街道): polygons.
TOWNSHIP_COLUMNS: Final = ("township_code", "township_name")
#: Demand points (population cells aggregated to the scenario's resolution), point geometry.
#: ``households`` is population / household size unless villages give counts.
DEMAND_COLUMNS: Final = (
    "demand_id",  # int, 0..n-1, row order
    "population",  # float
    "households",  # float
    "area_class",  # AreaClass
    "township_code",  # str, "" if outside every township
    "village_code",  # str, "" if no village/community assigned
)
#: Villages and communities from the register; geometry may be None (register without coordinates).
VILLAGE_COLUMNS: Final = (
    "village_code",  # str, 12 digits, unique
    "village_name",
    "township_code",  # str, 9 digits
    "township_name",
    "urban_rural_code",  # int, one of URBAN_RURAL_CLASS
    "kind",  # "village" (行政村/村委会) or "community" (社区/居委会)
    "households",  # float
    "population",  # float
    "area_class",  # AreaClass
)
#: Existing facilities, point geometry.
FACILITY_COLUMNS: Final = (
    "facility_id",  # str, unique
    "type",  # FacilityType
    "name",
    "brands",  # str, carriers joined by ";" (e.g. "中国邮政;中通;圆通")
    "capacity",  # float, NaN when unknown
    "floor_area_m2",  # float, NaN when unknown
    "village_code",  # str, "" when not tied to a village
    "township_code",  # str, filled by the pipeline from the township polygons
)
#: Candidate sites for new facilities, point geometry.
CANDIDATE_COLUMNS: Final = (
    "candidate_id",  # str, unique
    "type",  # FacilityType
    "cost",  # float, yuan
    "capacity",  # float, NaN when unknown
    "village_code",  # str, "" when not tied to a village
    "township_code",  # str
)

# Columns the pipeline adds to demand before the audit (per demand point, under the class's standard):
#   reachable      bool   snapped to the network within the maximum snap distance
#   nearest_km     float  network distance to the nearest pickup facility (inf if none)
#   nearest_min    float  network time (minutes) by the class's travel mode to the nearest pickup facility
#   straight_km    float  straight-line distance to the nearest pickup facility
#   covered        bool   covered under the scenario's reading of the class's standard
#   covered_buffer bool   covered under the straight-line reading
#   covered_network bool  covered under the network reading
#   covered_strict bool   township class only: network time <= the strict time (15 min); else = covered
# Columns the pipeline adds to villages before the audit:
#   has_station          bool   an existing village station serves it (own, or shared within V-SHARE)
#   nearest_station_km   float  network distance from the village to the nearest village station
#   nearest_station_min  float  network time (minutes, V-SHARE mode) to the nearest village station
#   mappable             bool   the village has coordinates


@dataclass(frozen=True)
class StudyData:
    """Everything read from the inputs, in the work CRS, ready for the stages.

    The optional fields say what the outputs must say about the inputs (read them through
    :func:`planner.inputs.input_summary`):

    ``straight_line_only``
        No road network was used (no roads given, ``travel.reading: buffer``): every distance is a
        straight line, and no network figures exist.
    ``provenance``
        Per input (boundary, townships, population, census, roads, villages, village_points,
        facilities, candidates): ``{"kind": "real"|"synthetic"|"generated"|"unstated"|"none",
        "file": name or None, "source": text or None}``.
    ``village_locations``
        One row per register village/community: how it was located or why not
        (:data:`planner.inputs.locate.LOCATION_COLUMNS`).
    ``village_points_unmatched``
        The points of the village point layer that located nothing, with the reason.
    ``population_calibration``
        The census calibration per township, before/after totals and the source file (None: not
        calibrated).
    ``input_report``
        Further facts per reader (population raster cell size and its warning, township source,
        POI rows kept and dropped, free-text values dropped) and the area classification.
    """

    crs: CRS
    boundary: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    #: the road table as the checks read it (:class:`planner.inputs.roadtable.RoadTable`), to build the
    #: networks without reading the file twice; None: read when the networks are built (if not cached)
    roads: Any = None
    notes: tuple[str, ...] = ()
    straight_line_only: bool = False
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    village_locations: pd.DataFrame | None = None
    village_points_unmatched: pd.DataFrame | None = None
    population_calibration: dict[str, Any] | None = None
    input_report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditResult:
    """The audit of the standards.

    ``table`` has the ``audit.csv`` columns: standard_id, unit_level (county/township/village/
    community), unit_code, unit_name, value, target, passed. ``village_gaps`` has the
    ``village_gaps.csv`` columns. ``uncovered`` holds uncovered population as polygons (merged cells)
    with columns area_class, township_code, population.
    """

    table: pd.DataFrame
    village_gaps: pd.DataFrame
    uncovered: gpd.GeoDataFrame
    township_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)


AUDIT_COLUMNS: Final = ("standard_id", "unit_level", "unit_code", "unit_name", "value", "target", "passed")
#: The audit table's explanation columns, written after the contract ones (see planner.audit).
AUDIT_EXTRA_COLUMNS: Final = ("population", "existing", "shortfall", "note", "citation", "role", "source")
VILLAGE_GAP_COLUMNS: Final = (
    "village_code",
    "village_name",
    "township_name",
    "population",
    "nearest_station_km",
    "nearest_station_min",
    "reason",
)
PROPOSAL_COLUMNS: Final = (
    "id",
    "type",
    "lon",
    "lat",
    "township_code",
    "township_name",
    "cost",
    "population_gained",
)


@dataclass(frozen=True)
class RunResult:
    """What a run produced; the outputs stage writes it to files.

    ``facilities`` holds existing and proposed facilities with a ``status`` column
    ("existing"/"proposed") plus ``cost`` and ``population_gained`` (proposed only).
    ``demand`` carries ``covered_before`` and ``covered_after``; ``villages`` carries
    ``has_station_before`` and ``has_station_after``. ``summary`` is the ``summary.json`` content.
    """

    scenario_name: str
    scenario_hash: str
    planner_version: str
    language: Literal["zh", "en"]
    crs: CRS
    title: str
    boundary: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    proposals: pd.DataFrame
    audit: AuditResult
    township_table: pd.DataFrame
    summary: dict[str, Any]
    audit_after: AuditResult | None = None
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    citations: dict[str, str] = field(default_factory=dict)
