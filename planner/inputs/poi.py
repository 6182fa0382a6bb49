"""Existing facilities from map POI exports (Amap 高德 / Baidu 百度 CSV or XLSX).

What a county bureau can download: a POI search export with ``name`` (e.g. 菜鸟驿站(幸福小区店),
中国邮政(特吾里克镇邮政所), 丰巢快递柜), ``location`` as ``"lng,lat"`` (GCJ-02 for Amap, BD-09 for
Baidu: declare it with ``coordinate_system``), and often ``type``/``typecode``/``address``/``id``.
Separate ``lon``/``lat`` columns are accepted too.

Each row is typed by **name patterns** (regular expressions searched in the name), tried in order;
the first type with a matching pattern wins, so lockers (丰巢快递柜) are recognised before the
generic 快递 of outlets. Rows matching an *exclude* pattern first (the postal savings bank
中国邮政储蓄银行, ATMs) and rows matching no pattern are not facilities: they are dropped, counted
and listed in the report (never silently). Exact duplicates (same name at the same point) are kept
once. Carriers named in the name (中国邮政/EMS, 顺丰, 中通, 圆通, 申通, 韵达, 极兔, 京东, 德邦) fill
``brands``.

The defaults (:data:`DEFAULT_TYPE_PATTERNS`, :data:`DEFAULT_EXCLUDE_PATTERNS`) can be replaced in the
scenario (``inputs.facilities.type_patterns`` / ``exclude_patterns``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from planner.errors import InputDataError, Problem
from planner.inputs.coords import CoordinateSystem
from planner.inputs.tables import (
    WGS84,
    points_inside,
    raise_if,
    read_points,
    read_table,
    resolve_columns,
)
from planner.types import FACILITY_COLUMNS, FACILITY_TYPES

__all__ = ["CARRIER_PATTERNS", "DEFAULT_EXCLUDE_PATTERNS", "DEFAULT_TYPE_PATTERNS", "read_poi_facilities"]

logger = logging.getLogger(__name__)

#: Facility type by name pattern, tried in this order (first match wins).
DEFAULT_TYPE_PATTERNS: dict[str, tuple[str, ...]] = {
    "locker": (
        "丰巢",
        "快递柜",
        "快件柜",
        "智能柜",
        "快件箱",
        "快递箱",
        "自提柜",
        "速递易",
        "格格货栈",
        "云柜",
        "包裹柜",
    ),
    "sorting_centre": ("分拨中心", "分拣中心", "转运中心", "集散中心"),
    "park": ("快递园区", "快递物流园", "电商物流园"),
    "delivery_centre": ("配送中心",),
    "village_station": ("村级.*服务站", "村邮站", "村级快递", "村级寄递", "快递进村"),
    "outlet": (
        "驿站",
        "快递",
        "邮政",
        "邮局",
        "速递",
        "菜鸟",
        "兔喜",
        "妈妈驿站",
        "顺丰",
        "中通",
        "圆通",
        "申通",
        "韵达",
        "极兔",
        "京东",
        "德邦",
        "百世",
        "EMS",
        "网点",
    ),
}
#: Names matching these are not facilities (checked before the type patterns).
DEFAULT_EXCLUDE_PATTERNS: tuple[str, ...] = ("银行", "储蓄", "ATM", "自助服务", "营业厅")
#: Carrier brands recognised in names, for ``brands``.
CARRIER_PATTERNS: dict[str, str] = {
    "中国邮政": "邮政|邮局|EMS",
    "顺丰": "顺丰",
    "中通": "中通",
    "圆通": "圆通",
    "申通": "申通",
    "韵达": "韵达",
    "极兔": "极兔",
    "京东": "京东",
    "德邦": "德邦",
}
_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": ("id", "poi_id", "uid", "编号"),
    "name": ("名称", "poi名称", "title"),
    "address": ("地址", "addr", "详细地址"),
    "category": ("type", "类型", "分类", "tag"),
}


def _compile(patterns: Mapping[str, Sequence[str]]) -> list[tuple[str, re.Pattern[str]]]:
    out: list[tuple[str, re.Pattern[str]]] = []
    for ftype, pats in patterns.items():
        if ftype not in FACILITY_TYPES:
            raise InputDataError(
                problems=[
                    Problem(
                        f"unknown facility type {ftype!r} in the name patterns",
                        location="inputs.facilities.type_patterns",
                        fix=f"use the types {', '.join(FACILITY_TYPES)}",
                    )
                ]
            )
        if pats:
            out.append((ftype, re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE)))
    return out


def type_by_name(
    names: Sequence[str],
    *,
    type_patterns: Mapping[str, Sequence[str]] | None = None,
    exclude_patterns: Sequence[str] | None = None,
) -> list[str]:
    """The facility type of each name by the patterns ("" when excluded or unmatched)."""
    table = _compile(DEFAULT_TYPE_PATTERNS if type_patterns is None else type_patterns)
    excl = DEFAULT_EXCLUDE_PATTERNS if exclude_patterns is None else tuple(exclude_patterns)
    exclude = re.compile("|".join(f"(?:{p})" for p in excl), re.IGNORECASE) if excl else None
    out = []
    for name in names:
        if exclude is not None and exclude.search(name):
            out.append("")
            continue
        out.append(next((t for t, rx in table if rx.search(name)), ""))
    return out


def _brands(name: str) -> str:
    return ";".join(brand for brand, rx in CARRIER_PATTERNS.items() if re.search(rx, name, re.IGNORECASE))


def read_poi_facilities(
    path: Path | str,
    *,
    crs: CRS,
    coordinate_system: CoordinateSystem = "gcj02",
    boundary: gpd.GeoDataFrame | None = None,
    type_patterns: Mapping[str, Sequence[str]] | None = None,
    exclude_patterns: Sequence[str] | None = None,
    tolerance_m: float = 2000.0,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read a POI export as existing facilities, typed by name patterns (see the module docstring).

    Parameters
    ----------
    path
        CSV (UTF-8, GBK/GB18030) or XLSX with ``name`` and ``location`` ("lng,lat") or lon/lat.
    crs
        The work CRS.
    coordinate_system
        The system of the coordinates: ``gcj02`` for Amap (the default), ``bd09`` for Baidu.
    boundary
        The study area in WGS-84; POIs farther than ``tolerance_m`` outside it are dropped (reported):
        a search export usually reaches beyond the county.
    type_patterns, exclude_patterns
        Replace :data:`DEFAULT_TYPE_PATTERNS` / :data:`DEFAULT_EXCLUDE_PATTERNS`.
    tolerance_m
        How far outside the boundary a POI is still kept.

    Returns
    -------
    facilities : geopandas.GeoDataFrame
        Columns :data:`planner.types.FACILITY_COLUMNS`, point geometry, in ``crs``.
    report : dict
        ``file``, ``rows``, ``kept`` (per type), ``excluded``, ``unmatched``, ``outside``,
        ``duplicates`` (counts) and ``dropped_examples`` (up to 10 names per reason).

    Raises
    ------
    InputDataError
        No name column, a ``location`` that is not "lng,lat", bad coordinates (all at once).
    """
    table = read_table(path, what="POI")
    problems: list[Problem] = []
    cols = resolve_columns(
        table, _ALIASES, required=("name",), problems=problems, fix="POI exports name the place in 'name'"
    )
    raise_if(problems, what="POI", path=table.path)
    frame = table.frame
    name_col = cols["name"]
    assert name_col is not None
    names = [str(v) for v in frame[name_col]]
    lon, lat = read_points(table, problems, coordinate_system=coordinate_system, required=True)
    raise_if(problems, what="POI", path=table.path)
    types = np.array(type_by_name(names, type_patterns=type_patterns, exclude_patterns=exclude_patterns))
    excl_rx = DEFAULT_EXCLUDE_PATTERNS if exclude_patterns is None else tuple(exclude_patterns)
    excluded = np.array(
        [bool(excl_rx) and bool(re.search("|".join(excl_rx), n, re.IGNORECASE)) for n in names]
    )
    inside = (
        points_inside(lon, lat, boundary, crs=crs, tolerance_m=tolerance_m)
        if boundary is not None
        else np.ones(len(names), dtype=bool)
    )
    key = pd.Series([f"{n}|{x:.6f}|{y:.6f}" for n, x, y in zip(names, lon, lat, strict=True)])
    duplicate = key.duplicated().to_numpy()
    keep = (types != "") & inside & ~duplicate
    examples = {
        "excluded": [n for n, e in zip(names, excluded, strict=True) if e][:10],
        "unmatched": [n for n, t, e in zip(names, types, excluded, strict=True) if t == "" and not e][:10],
        "outside": [n for n, k, t in zip(names, inside, types, strict=True) if not k and t][:10],
    }
    idx = np.flatnonzero(keep)
    id_col = cols["facility_id"]
    given = [str(v) for v in frame[id_col]] if id_col else [""] * len(names)
    ids = [given[i] or f"P{i + 1}" for i in idx.tolist()]
    if len(set(ids)) < len(ids):  # ids of an export are not always unique: number the rows instead
        ids = [f"P{i + 1}" for i in idx.tolist()]
    out = gpd.GeoDataFrame(
        {
            "facility_id": ids,
            "type": types[idx].tolist(),
            "name": [names[i] for i in idx],
            "brands": [_brands(names[i]) for i in idx],
            "capacity": np.nan,
            "floor_area_m2": np.nan,
            "village_code": "",
            "township_code": "",
        },
        geometry=gpd.points_from_xy(lon[idx], lat[idx]),
        crs=WGS84,
    ).to_crs(crs)[[*FACILITY_COLUMNS, "geometry"]]
    kept: dict[str, int] = {
        t: int((out["type"] == t).sum()) for t in FACILITY_TYPES if (out["type"] == t).any()
    }
    report: dict[str, Any] = {
        "file": table.path.name,
        "format": "poi",
        "coordinate_system": coordinate_system,
        "rows": len(names),
        "kept": kept,
        "excluded": int(excluded.sum()),
        "unmatched": int(((types == "") & ~excluded).sum()),
        "outside": int((~inside & (types != "")).sum()),
        "duplicates": int((duplicate & (types != "") & inside).sum()),
        "dropped_examples": examples,
    }
    dropped = len(names) - len(out)
    log = logger.warning if report["unmatched"] else logger.info
    log(
        "POI %s: %d facilities of %d rows (%s); %d dropped: %d excluded (e.g. banks), %d matched no "
        "type pattern%s, %d outside the area, %d duplicates",
        table.path.name,
        len(out),
        len(names),
        ", ".join(f"{t} {n}" for t, n in kept.items()) or "none",
        dropped,
        report["excluded"],
        report["unmatched"],
        f" (e.g. {', '.join(examples['unmatched'][:3])})" if examples["unmatched"] else "",
        report["outside"],
        report["duplicates"],
    )
    return out, report
