"""Existing facilities and candidate sites (CSV/XLSX/GeoJSON) → point frames in the work CRS.

Types are the planner's six (:data:`planner.types.FACILITY_TYPES`); the ``type`` column also
accepts the Chinese names used in the policy documents and OSM tags (``amenity=post_office`` …),
see :data:`TYPE_ALIASES`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS

from planner.errors import InputDataError, Problem
from planner.inputs.coords import CoordinateSystem
from planner.inputs.tables import (
    WGS84,
    Table,
    check_inside,
    parse_numbers,
    raise_if,
    read_points,
    read_table,
    resolve_columns,
)
from planner.types import CANDIDATE_COLUMNS, FACILITY_COLUMNS, FACILITY_TYPES

logger = logging.getLogger(__name__)

#: Accepted spellings of each facility type (matched after stripping and lower-casing).
TYPE_ALIASES: dict[str, str] = {
    **{t: t for t in FACILITY_TYPES},
    "delivery_center": "delivery_centre",
    "sorting_center": "sorting_centre",
    "station": "village_station",
    # Chinese names (STANDARDS.md facility table)
    "快递末端网点": "outlet",
    "末端网点": "outlet",
    "公共服务站": "outlet",
    "快递末端公共服务站": "outlet",
    "快递网点": "outlet",
    "乡镇网点": "outlet",
    "公共收寄设施": "outlet",
    "快递服务站": "outlet",
    "智能快件箱": "locker",
    "快件箱": "locker",
    "智能信包箱": "locker",
    "智能快递柜": "locker",
    "快递柜": "locker",
    "村级寄递物流综合服务站": "village_station",
    "村级快递服务点": "village_station",
    "村邮站": "village_station",
    "村级服务站": "village_station",
    "村级快递服务站": "village_station",
    "公共快递配送中心": "delivery_centre",
    "快递配送中心": "delivery_centre",
    "快递园区": "park",
    "县级快递园区": "park",
    "快递物流园区": "park",
    "物流园区": "park",
    "分拨中心": "sorting_centre",
    "分拣中心": "sorting_centre",
    # OpenStreetMap tags
    "amenity=post_office": "outlet",
    "post_office": "outlet",
    "shop=courier": "outlet",
    "office=courier": "outlet",
    "courier": "outlet",
    "amenity=parcel_locker": "locker",
    "parcel_locker": "locker",
    "amenity=post_depot": "sorting_centre",
    "post_depot": "sorting_centre",
}

_FACILITY_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": ("id", "编号", "网点编号", "osm_id"),
    "type": ("facility_type", "类型", "设施类型", "tag"),
    "name": ("名称", "网点名称"),
    "brands": ("brand", "carriers", "品牌", "快递品牌"),
    "capacity": ("处理能力", "容量"),
    "floor_area_m2": ("floor_area", "area_m2", "面积", "建筑面积"),
    "village_code": ("村代码", "统计用区划代码"),
}
_CANDIDATE_ALIASES: dict[str, tuple[str, ...]] = {
    "candidate_id": ("id", "site_id", "编号"),
    "type": ("facility_type", "类型", "设施类型"),
    "cost": ("cost_yuan", "造价", "成本", "费用"),
    "capacity": ("处理能力", "容量"),
    "village_code": ("村代码", "统计用区划代码"),
}
_TYPE_FIX = (
    "use one of " + ", ".join(FACILITY_TYPES) + " (or a Chinese name such as 快递末端网点, 智能快件箱)"
)


def parse_type(value: str) -> str | None:
    """The planner's facility type for a spelling in a file, or None when unknown."""
    return TYPE_ALIASES.get(value.strip().lower())


def _types(table: Table, column: str | None, problems: list[Problem], default: str | None) -> list[str]:
    out: list[str] = []
    for i in range(len(table.frame)):
        raw = str(table.frame[column].iat[i]) if column else ""
        if raw == "" and default is not None:
            out.append(default)
            continue
        parsed = parse_type(raw)
        if parsed is None:
            problems.append(
                table.problem(
                    i,
                    f"unknown facility type {raw!r}" if raw else "the facility type is blank",
                    column=column or "type",
                    fix=_TYPE_FIX,
                )
            )
            out.append("")
        else:
            out.append(parsed)
    return out


def _ids(table: Table, column: str | None, problems: list[Problem], prefix: str) -> list[str]:
    n = len(table.frame)
    if column is None:
        return [f"{prefix}{i + 1}" for i in range(n)]
    ids = table.frame[column].tolist()
    seen: dict[str, int] = {}
    for i, v in enumerate(ids):
        if v == "":
            problems.append(table.problem(i, "the id is blank", column=column, fix="give every row an id"))
        elif v in seen:
            problems.append(
                table.problem(
                    i,
                    f"id {v!r} is duplicated ({table.locations[seen[v]]})",
                    column=column,
                    fix="ids must be unique",
                )
            )
        else:
            seen[v] = i
    return ids


def _village_codes(table: Table, column: str | None, problems: list[Problem]) -> list[str]:
    if column is None:
        return [""] * len(table.frame)
    codes = table.frame[column].tolist()
    for i, c in enumerate(codes):
        if c and not re.fullmatch(r"\d{12}", c):
            problems.append(
                table.problem(
                    i,
                    f"village code {c!r} is not 12 digits",
                    column=column,
                    fix="use the NBS 12-digit 统计用区划代码 as text, or leave it blank",
                )
            )
    return codes


def _points(
    table: Table,
    problems: list[Problem],
    *,
    crs: CRS,
    coordinate_system: CoordinateSystem,
    boundary: gpd.GeoDataFrame | None,
    tolerance_m: float,
    what: str,
) -> npt.NDArray[np.object_]:
    lon, lat = read_points(table, problems, coordinate_system=coordinate_system, required=True)
    if boundary is not None:
        check_inside(table, lon, lat, boundary, problems, crs=crs, tolerance_m=tolerance_m, what=what)
    return np.asarray(gpd.points_from_xy(lon, lat), dtype=object)


def read_facilities(
    path: Path | str,
    *,
    crs: CRS,
    coordinate_system: CoordinateSystem = "wgs84",
    boundary: gpd.GeoDataFrame | None = None,
    default_type: str | None = None,
    tolerance_m: float = 2000.0,
) -> gpd.GeoDataFrame:
    """Read existing facilities into the work CRS.

    Parameters
    ----------
    path
        CSV/XLSX with ``lon``/``lat`` (or ``lng``, ``longitude``/``latitude``, ``经度``/``纬度``) or a
        point vector file. Columns: ``facility_id`` (else ``F1``, ``F2`` … by row), ``type``
        (required unless ``default_type``), optional ``name``, ``brands`` (";"-joined; "," "、" "/"
        also split), ``capacity``, ``floor_area_m2``, ``village_code``.
    crs
        The work CRS.
    coordinate_system
        The system of the coordinates (GCJ-02/BD-09 are converted).
    boundary
        The study area in WGS-84; facilities farther than ``tolerance_m`` outside are errors
        (facilities just across the border may serve the area, hence the generous default).
    default_type
        Type for rows whose type is blank, or for a file without a type column (e.g. ``"outlet"``
        for a list of post offices).
    tolerance_m
        How far outside the boundary a facility may lie.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`planner.types.FACILITY_COLUMNS` (``township_code`` empty, filled by the
        pipeline), point geometry, in ``crs``.

    Raises
    ------
    InputDataError
        Every problem at once: missing columns, unknown types, duplicate ids, bad numbers or
        coordinates, facilities outside the area.
    """
    if default_type is not None and default_type not in FACILITY_TYPES:
        raise InputDataError(
            problems=[
                Problem(
                    f"unknown default_type {default_type!r}",
                    location="inputs.facilities.default_type",
                    fix=f"use one of {', '.join(FACILITY_TYPES)}",
                )
            ]
        )
    table = read_table(path, what="facilities")
    problems: list[Problem] = []
    cols = resolve_columns(
        table, _FACILITY_ALIASES, required=() if default_type else ("type",), problems=problems
    )
    raise_if(problems, what="facilities", path=table.path)
    ids = _ids(table, cols["facility_id"], problems, "F")
    types = _types(table, cols["type"], problems, default_type)
    names = table.frame[cols["name"]].tolist() if cols["name"] else [""] * len(ids)
    brands = (
        [
            ";".join(b for b in (s.strip() for s in re.split(r"[;；,，、/|]", v)) if b)
            for v in table.frame[cols["brands"]]
        ]
        if cols["brands"]
        else [""] * len(ids)
    )
    capacity = parse_numbers(table, cols["capacity"], problems, minimum=0.0)
    floor = parse_numbers(table, cols["floor_area_m2"], problems, minimum=0.0, what="an area in m²")
    villages = _village_codes(table, cols["village_code"], problems)
    pts = _points(
        table,
        problems,
        crs=crs,
        coordinate_system=coordinate_system,
        boundary=boundary,
        tolerance_m=tolerance_m,
        what="facility",
    )
    raise_if(problems, what="facilities", path=table.path)
    out = gpd.GeoDataFrame(
        {
            "facility_id": [str(v) for v in ids],
            "type": types,
            "name": names,
            "brands": brands,
            "capacity": capacity,
            "floor_area_m2": floor,
            "village_code": villages,
            "township_code": [""] * len(ids),
        },
        geometry=list(pts),
        crs=WGS84,
    ).to_crs(crs)[[*FACILITY_COLUMNS, "geometry"]]
    logger.info(
        "facilities: %d (%s)", len(out), ", ".join(f"{k} {v}" for k, v in out["type"].value_counts().items())
    )
    return out


def read_candidates(
    path: Path | str,
    *,
    crs: CRS,
    cost_table: Mapping[str, float],
    coordinate_system: CoordinateSystem = "wgs84",
    boundary: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 500.0,
) -> gpd.GeoDataFrame:
    """Read candidate sites for new facilities into the work CRS.

    Parameters
    ----------
    path
        CSV/XLSX/vector file with ``candidate_id`` (else ``C1``, ``C2`` …), ``type``,
        ``lon``/``lat`` (or point geometry), optional ``cost`` (yuan), ``capacity``, ``village_code``.
    crs
        The work CRS.
    cost_table
        Cost (yuan) per facility type, used where the file gives no cost.
    coordinate_system
        The system of the coordinates.
    boundary
        The study area in WGS-84; candidates farther than ``tolerance_m`` outside are errors.
    tolerance_m
        How far outside the boundary a candidate may lie.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`planner.types.CANDIDATE_COLUMNS`, point geometry, in ``crs``.

    Raises
    ------
    InputDataError
        Every problem at once; a row whose type has no cost in the file nor in ``cost_table`` is
        named with the fix.
    """
    table = read_table(path, what="candidates")
    problems: list[Problem] = []
    cols = resolve_columns(table, _CANDIDATE_ALIASES, required=("type",), problems=problems)
    raise_if(problems, what="candidates", path=table.path)
    ids = _ids(table, cols["candidate_id"], problems, "C")
    types = _types(table, cols["type"], problems, None)
    given = parse_numbers(table, cols["cost"], problems, minimum=0.0, what="a cost in yuan")
    cost = np.array(given, dtype=float)
    for i, t in enumerate(types):
        if not math.isnan(cost[i]) or not t:
            continue
        if t in cost_table:
            cost[i] = float(cost_table[t])
        else:
            problems.append(
                table.problem(
                    i,
                    f"no cost for type {t!r}: the row has no cost and the scenario's cost table "
                    f"has only {', '.join(cost_table) or 'nothing'}",
                    column=cols["cost"] or "cost",
                    fix=f"add a cost column value or a {t!r} entry to the scenario's cost table",
                )
            )
    capacity = parse_numbers(table, cols["capacity"], problems, minimum=0.0)
    villages = _village_codes(table, cols["village_code"], problems)
    pts = _points(
        table,
        problems,
        crs=crs,
        coordinate_system=coordinate_system,
        boundary=boundary,
        tolerance_m=tolerance_m,
        what="candidate site",
    )
    raise_if(problems, what="candidates", path=table.path)
    out = gpd.GeoDataFrame(
        {
            "candidate_id": [str(v) for v in ids],
            "type": types,
            "cost": cost,
            "capacity": capacity,
            "village_code": villages,
            "township_code": [""] * len(ids),
        },
        geometry=list(pts),
        crs=WGS84,
    ).to_crs(crs)[[*CANDIDATE_COLUMNS, "geometry"]]
    logger.info("candidates: %d sites", len(out))
    return out
