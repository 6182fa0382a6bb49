"""Village coordinates from a separate point layer (village-committee POIs, settlement points).

The NBS register (统计用区划代码) has codes and names but no coordinates. A county can locate its
villages with a point layer it has: an Amap/Baidu export of 村委会 POIs, a settlement layer, a
surveyed list. Each register village is joined to the layer:

1. **By code**, when the layer has a 12-digit village code column (``village_code``, ``code``,
   ``统计用区划代码``): exact match.
2. **By name within the township**, for rows without a code. The point's township is, in order: its
   ``township_code`` / ``township_name`` column, else the township polygon it lies in, else the one
   register township whose name appears in its ``address``. Names are compared by
   :mod:`planner.inputs.names`: the cleaned name first (whitespace, full-width characters and a
   trailing bracketed note ignored), then without the suffixes 村/村委会/村民委员会/社区/居委会/党群服务中心
   …. When several register villages of the township share the name, the point's suffix (村 or
   社区/居委会) decides; if it cannot, the match is refused as *ambiguous*. A point whose township is
   unknown is matched over the whole county, and only when exactly one village has that name.

A village matched by several points takes their mean when they lie within ``max_spread_m`` of it (a
村委会 and its 党群服务中心 are usually one compound); farther apart, the match is refused as
ambiguous and listed. A village with coordinates in the register keeps them. Points outside the
study area (beyond the tolerance) are skipped: POI exports usually reach beyond the county.

Every register village gets a row in the *locations table* (:data:`LOCATION_COLUMNS`): how it was
located, or why not; every point that located nothing is listed in the *unmatched points* table.
Villages left without coordinates keep ``mappable`` False.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.errors import Problem
from planner.inputs.coords import CoordinateSystem
from planner.inputs.names import clean_name, kind_hint, township_key, village_key
from planner.inputs.tables import (
    WGS84,
    Table,
    points_inside,
    raise_if,
    read_points,
    read_table,
    resolve_columns,
)

__all__ = ["LOCATION_COLUMNS", "VillageLocations", "locate_villages", "read_village_points"]

logger = logging.getLogger(__name__)

#: Columns of the locations table (one row per register village/community).
LOCATION_COLUMNS = (
    "village_code",
    "village_name",
    "township_code",
    "township_name",
    "kind",
    "located",  # bool
    "source",  # "register", "points (code)", "points (name)", "" when not located
    "points",  # where the matched point(s) are in the file ("line 3; line 9")
    "reason",  # why not located ("" when located)
)
#: Columns of the unmatched-points table.
UNMATCHED_POINT_COLUMNS = ("row", "name", "code", "township", "reason")

_ALIASES: dict[str, tuple[str, ...]] = {
    "village_code": ("code", "villagecode", "村代码", "统计用区划代码", "区划代码"),
    "name": ("village_name", "名称", "村名", "村名称", "poi_name"),
    "township_code": ("streetcode", "street_code", "town_code", "乡镇代码"),
    "township_name": ("streetname", "street_name", "town_name", "乡镇名称", "乡镇", "乡镇街道"),
    "address": ("地址", "addr", "详细地址"),
}


@dataclass(frozen=True)
class VillagePoints:
    """A point layer read for locating villages (WGS-84 lon/lat, text columns as read)."""

    table: Table
    lon: np.ndarray
    lat: np.ndarray
    code: list[str]
    name: list[str]
    township_code: list[str]
    township_name: list[str]
    address: list[str]


@dataclass(frozen=True)
class VillageLocations:
    """The villages with the coordinates found, and how each was (not) located."""

    villages: gpd.GeoDataFrame
    table: pd.DataFrame
    unmatched_points: pd.DataFrame
    path: Path | None


def read_village_points(path: Path | str, *, coordinate_system: CoordinateSystem = "wgs84") -> VillagePoints:
    """Read a village point layer (CSV/XLSX with lon/lat or ``location`` "lng,lat", or a vector file).

    Raises
    ------
    InputDataError
        No join key (neither a village code nor a name column), missing or bad coordinates, codes
        that are not 12 digits.
    """
    table = read_table(path, what="village points")
    problems: list[Problem] = []
    cols = resolve_columns(table, _ALIASES, required=(), problems=problems)
    if cols["village_code"] is None and cols["name"] is None:
        problems.append(
            Problem(
                "the village point layer has no join key: neither a village code column (village_code, "
                "code, 统计用区划代码) nor a name column (name, 名称); the file has: "
                + ", ".join(map(str, table.frame.columns)),
                file=table.path,
                location="column village_code/name",
                fix="add the NBS 12-digit village code, or the village name (and its township) to each point",
            )
        )
    raise_if(problems, what="village points", path=table.path)
    frame = table.frame

    def column(key: str) -> list[str]:
        c = cols[key]
        return frame[c].astype(str).tolist() if c else [""] * len(frame)

    codes = column("village_code")
    for i, code in enumerate(codes):
        if code and not re.fullmatch(r"\d{12}", code):
            problems.append(
                table.problem(
                    i,
                    f"village code {code!r} is not 12 digits",
                    column=cols["village_code"],
                    fix="use the NBS 12-digit 统计用区划代码 as text, or leave it blank to join by name",
                )
            )
    lon, lat = read_points(table, problems, coordinate_system=coordinate_system, required=True)
    raise_if(problems, what="village points", path=table.path)
    return VillagePoints(
        table,
        lon,
        lat,
        codes,
        column("name"),
        column("township_code"),
        column("township_name"),
        column("address"),
    )


def _point_townships(
    points: VillagePoints, register: pd.DataFrame, polygons: gpd.GeoDataFrame | None, crs: CRS
) -> list[str]:
    """The township code of each point: its columns, else its polygon, else its address ("" unknown)."""
    reg_names = (
        register.drop_duplicates("township_code").set_index("township_code")["township_name"].astype(str)
    )
    by_key: dict[str, list[str]] = {}
    for code, name in reg_names.items():
        if name:
            by_key.setdefault(township_key(name), []).append(str(code))
    out = [""] * len(points.name)
    poly_code = np.full(len(out), "", dtype=object)
    if polygons is not None and len(polygons):
        has = ~(np.isnan(points.lon) | np.isnan(points.lat))
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points.lon, points.lat), crs=WGS84).to_crs(crs)
        joined = gpd.sjoin(pts[has], polygons[["township_code", "geometry"]], predicate="intersects")
        joined = joined[~joined.index.duplicated()]
        poly_code[joined.index.to_numpy()] = joined["township_code"].astype(str).to_numpy()
    for i in range(len(out)):
        code, name, address = points.township_code[i], points.township_name[i], clean_name(points.address[i])
        if re.fullmatch(r"\d{9}", code):
            out[i] = code
        elif name and len(by_key.get(township_key(name), [])) == 1:
            out[i] = by_key[township_key(name)][0]
        elif poly_code[i]:
            out[i] = str(poly_code[i])
        elif address:
            hits = {str(c) for c, n in reg_names.items() if n and clean_name(n) in address}
            hits |= {cs[0] for key, cs in by_key.items() if len(cs) == 1 and len(key) >= 2 and key in address}
            if len(hits) == 1:
                out[i] = hits.pop()
    return out


def _candidates(name: str, township: str, register: pd.DataFrame) -> list[int]:
    """Register rows (positions) the point's name matches, within its township when known.

    ``register`` carries the names cleaned (``_clean``) and without suffixes (``_key``).
    """
    pool = register if not township else register[register["township_code"].astype(str) == township]
    exact = pool.loc[pool["_clean"] == clean_name(name), "_pos"].tolist()
    if exact:
        return [int(i) for i in exact]
    hits = [int(i) for i in pool.loc[pool["_key"] == village_key(name), "_pos"]]
    if len(hits) > 1 and (hint := kind_hint(name)):
        kinds = register["kind"].to_numpy()
        narrowed = [i for i in hits if kinds[i] == hint]
        hits = narrowed or hits
    return hits


def locate_villages(
    villages: gpd.GeoDataFrame,
    points: VillagePoints,
    *,
    crs: CRS,
    townships: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 500.0,
    max_spread_m: float = 1000.0,
) -> VillageLocations:
    """Give register villages the coordinates of the points that match them (see the module docstring).

    Parameters
    ----------
    villages
        The register (:func:`planner.inputs.villages.read_villages`), in ``crs``.
    points
        The point layer (:func:`read_village_points`).
    crs
        The work CRS.
    townships
        Township polygons in ``crs`` (optional): the township of a point without township columns.
    boundary
        The study area in WGS-84: points farther than ``tolerance_m`` outside it are skipped.
    tolerance_m
        How far outside the boundary a point may lie.
    max_spread_m
        Several points matching one village are averaged when all lie within this distance of their
        mean; else the village is left unlocated as ambiguous.

    Returns
    -------
    VillageLocations
    """
    register = pd.DataFrame(villages.drop(columns="geometry")).reset_index(drop=True)
    register["_pos"] = np.arange(len(register))
    register["_clean"] = [clean_name(n) for n in register["village_name"]]
    register["_key"] = [village_key(n) for n in register["village_name"]]
    n_pts = len(points.name)
    xy = np.full((n_pts, 2), np.nan)
    has = ~(np.isnan(points.lon) | np.isnan(points.lat))
    if has.any():
        proj = gpd.GeoSeries(gpd.points_from_xy(points.lon[has], points.lat[has]), crs=WGS84).to_crs(crs)
        xy[has] = np.column_stack([proj.x.to_numpy(), proj.y.to_numpy()])
    unmatched: list[dict[str, str]] = []
    usable = has.copy()
    if boundary is not None:
        usable &= points_inside(points.lon, points.lat, boundary, crs=crs, tolerance_m=tolerance_m)
    towns = _point_townships(points, register, townships, crs)
    code_pos = {str(c): i for i, c in enumerate(register["village_code"].astype(str))}
    hits: dict[int, list[int]] = {}
    how: dict[int, str] = {}
    ambiguous: dict[int, list[int]] = {}
    for j in range(n_pts):
        where = points.table.locations[j]
        label = {"row": where, "name": points.name[j], "code": points.code[j], "township": towns[j]}
        if not usable[j]:
            unmatched.append(label | {"reason": "outside the study area"})
            continue
        if points.code[j]:
            pos = code_pos.get(points.code[j])
            if pos is None:
                unmatched.append(label | {"reason": "code not in the register"})
                continue
            hits.setdefault(pos, []).append(j)
            how[pos] = "points (code)"
            continue
        found = _candidates(points.name[j], towns[j], register) if points.name[j] else []
        if len(found) == 1:
            hits.setdefault(found[0], []).append(j)
            how.setdefault(found[0], "points (name)")
        elif found:
            codes = ", ".join(str(register["village_code"].iat[i]) for i in found)
            unmatched.append(label | {"reason": f"ambiguous: the name matches {codes}"})
            for i in found:
                ambiguous.setdefault(i, []).append(j)
        else:
            reason = "no register village of that name" + (" in its township" if towns[j] else "")
            unmatched.append(label | {"reason": reason})
    return _apply(
        villages, register, points, xy, hits, how, ambiguous, unmatched, crs=crs, max_spread_m=max_spread_m
    )


def _apply(
    villages: gpd.GeoDataFrame,
    register: pd.DataFrame,
    points: VillagePoints,
    xy: np.ndarray,
    hits: dict[int, list[int]],
    how: dict[int, str],
    ambiguous: dict[int, list[int]],
    unmatched: list[dict[str, str]],
    *,
    crs: CRS,
    max_spread_m: float,
) -> VillageLocations:
    """Set the coordinates found and build the locations and unmatched-points tables."""
    locs = points.table.locations
    geometry = list(villages.geometry)
    registered = villages.geometry.notna().to_numpy() & ~villages.geometry.is_empty.to_numpy()
    rows = []
    for pos in range(len(register)):
        rec = register.iloc[pos]
        source, reason, where = "", "", ""
        matched = hits.get(pos, [])
        if registered[pos]:
            source = "register"
            if matched:
                where = "; ".join(locs[j] for j in matched) + " (not used: the register has coordinates)"
        elif matched:
            mean = xy[matched].mean(axis=0)
            spread = float(np.max(np.hypot(*(xy[matched] - mean).T)))
            where = "; ".join(locs[j] for j in matched)
            if spread <= max_spread_m:
                geometry[pos] = shapely.Point(*mean)
                source = how[pos]
            else:
                reason = (
                    f"ambiguous: {len(matched)} points up to {spread / 1000:.1f} km from their mean ({where})"
                )
        elif pos in ambiguous:
            reason = "ambiguous: " + "; ".join(
                f"{locs[j]} {points.name[j]!r} matches several villages" for j in ambiguous[pos]
            )
        else:
            reason = "no point with this code or name"
        rows.append(
            {
                "village_code": rec["village_code"],
                "village_name": rec["village_name"],
                "township_code": rec["township_code"],
                "township_name": rec["township_name"],
                "kind": rec["kind"],
                "located": bool(source),
                "source": source,
                "points": where,
                "reason": reason,
            }
        )
    table = pd.DataFrame(rows, columns=list(LOCATION_COLUMNS))
    out = villages.copy()
    out = out.set_geometry(gpd.GeoSeries(geometry, index=villages.index, crs=crs))
    out["mappable"] = table["located"].to_numpy()
    unmatched_frame = pd.DataFrame(unmatched, columns=list(UNMATCHED_POINT_COLUMNS))
    logger.info(
        "village points %s: %d of %d register units located (%d by the register, %d by code, %d by name); "
        "%d points matched nothing",
        points.table.path.name,
        int(table["located"].sum()),
        len(table),
        int((table["source"] == "register").sum()),
        int((table["source"] == "points (code)").sum()),
        int((table["source"] == "points (name)").sum()),
        len(unmatched_frame),
    )
    return VillageLocations(out, table, unmatched_frame, points.table.path)


def register_locations(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """The locations table of a register read without a point layer (coordinates from the register only)."""
    located = villages.geometry.notna().to_numpy() & ~villages.geometry.is_empty.to_numpy()
    return pd.DataFrame(
        {
            "village_code": villages["village_code"].to_numpy(),
            "village_name": villages["village_name"].to_numpy(),
            "township_code": villages["township_code"].to_numpy(),
            "township_name": villages["township_name"].to_numpy(),
            "kind": villages["kind"].to_numpy(),
            "located": located,
            "source": np.where(located, "register", ""),
            "points": "",
            "reason": np.where(located, "", "no coordinates in the register and no village point layer"),
        },
        columns=list(LOCATION_COLUMNS),
    )
