"""Shared reading of tabular inputs (CSV, XLSX, GeoJSON/GPKG/SHP) with row-numbered problems.

Every cell is read as text (codes keep their leading zeros) and stripped. Column names are matched
case-insensitively against per-reader alias lists (``lon``/``lng``/``longitude``/``经度`` ...). Each
row keeps where it came from (CSV line, XLSX row, GeoJSON feature) so that problems name it.
Readers gather every :class:`~planner.errors.Problem` and raise once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from planner.errors import CRSError, InputDataError, InputFileNotFoundError, Problem
from planner.inputs.coords import COORDINATE_SYSTEMS, CoordinateSystem, to_wgs84
from planner.inputs.plausible import axes_problem

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
WGS84 = CRS.from_epsg(4326)

LON_ALIASES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_ALIASES = ("lat", "latitude", "y", "纬度")
#: A single "lng,lat" column, as Amap (高德) and Baidu POI exports write it (longitude first).
LOCATION_ALIASES = ("location", "lnglat", "lng_lat", "经纬度", "坐标", "位置坐标")
#: UTF-8 (with or without BOM) first, then GB18030, a superset of GBK and GB2312 (what Excel and
#: WPS write when a Chinese Windows saves "CSV"). UTF-16 is recognised by its byte-order mark.
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Table:
    """A table read from a file.

    Attributes
    ----------
    frame
        The cells as stripped strings (``""`` for blanks); column names stripped and lower-cased.
    path
        The file.
    locations
        For each row, where it is in the file (``"line 3"``, ``"row 3"``, ``"feature 1"``).
    lines
        For CSV, the 1-based line number of each row (header is line 1); else None.
    geometry
        For spatial files, the geometries in WGS-84 (or in the file's geographic CRS when it is
        labelled WGS-84 but declared GCJ-02/BD-09 by the caller); else None.
    """

    frame: pd.DataFrame
    path: Path
    locations: list[str]
    lines: list[int] | None
    geometry: gpd.GeoSeries | None

    def problem(self, i: int, message: str, *, column: str | None = None, fix: str | None = None) -> Problem:
        """A problem about row ``i`` (0-based position), naming the file, the row and the column."""
        loc = self.locations[i] if 0 <= i < len(self.locations) else None
        if column:
            loc = f"{loc}, column {column!r}" if loc else f"column {column!r}"
        line = self.lines[i] if self.lines is not None and 0 <= i < len(self.lines) else None
        return Problem(message, file=self.path, location=loc, line=line, fix=fix)


def check_exists(path: Path | str, *, what: str) -> Path:
    """Return ``path`` as a Path, or raise :class:`InputFileNotFoundError` naming ``what``."""
    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(
            problems=[
                Problem(f"the {what} file does not exist", file=p, fix="check the path in the scenario")
            ]
        )
    return p


def _encodings(path: Path) -> tuple[str, ...]:
    """The encodings to try: UTF-16 when the file starts with its byte-order mark, else UTF-8 then GB18030."""
    with path.open("rb") as fh:
        head = fh.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff"):
        return ("utf-16",)
    return _ENCODINGS


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    encodings = _encodings(path)
    # Excel's "Unicode text" (UTF-16) is tab-separated; other CSVs are comma-separated.
    sep = "\t" if encodings == ("utf-16",) else ","
    for enc in encodings:
        try:
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding=enc, skipinitialspace=True, sep=sep
            )
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError as exc:
            raise InputDataError(
                problems=[Problem("the file is empty", file=path, fix="give the table with its header row")]
            ) from exc
        except pd.errors.ParserError as exc:
            raise InputDataError(
                problems=[
                    Problem(f"cannot parse the CSV: {exc}", file=path, fix="save it as comma-separated UTF-8")
                ]
            ) from exc
    raise InputDataError(
        problems=[Problem(f"cannot decode the text ({last})", file=path, fix="save the CSV as UTF-8 or GBK")]
    )


def _cell_text(value: object) -> str:
    """A vector file's attribute as text; whole floats lose their ``.0`` (codes stored as numbers)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def read_table(path: Path | str, *, what: str) -> Table:
    """Read a CSV, XLSX or vector file into a :class:`Table` of stripped strings.

    Parameters
    ----------
    path
        The file. ``.csv``/``.txt`` (UTF-8 or GBK), ``.xlsx`` (first sheet), or a vector format
        readable by pyogrio (``.geojson``, ``.gpkg``, ``.shp``); vector files keep their geometry.
    what
        What the file is, for messages ("villages", "facilities").

    Returns
    -------
    Table

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputDataError
        The file cannot be read.
    CRSError
        A vector file other than GeoJSON has no CRS.
    """
    p = check_exists(path, what=what)
    suffix = p.suffix.lower()
    geometry: gpd.GeoSeries | None = None
    lines: list[int] | None = None
    if suffix in (".csv", ".txt"):
        frame = _read_csv(p)
        lines = list(range(2, len(frame) + 2))
        locations = [f"line {n}" for n in lines]
    elif suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(p, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds (zip, xml, key) for broken files
            raise InputDataError(
                problems=[Problem(f"cannot read the Excel file: {exc}", file=p, fix="re-save it as .xlsx")]
            ) from exc
        locations = [f"row {n}" for n in range(2, len(frame) + 2)]
    elif suffix in SPATIAL_SUFFIXES:
        try:
            gdf = gpd.read_file(p)
        except Exception as exc:  # pyogrio's DataSourceError and friends
            raise InputDataError(
                problems=[
                    Problem(
                        f"cannot read the vector file: {exc}",
                        file=p,
                        fix="check that the file is complete; or give the table as CSV or XLSX",
                    )
                ]
            ) from exc
        if gdf.crs is None:
            if suffix in (".geojson", ".json"):
                gdf = gdf.set_crs(WGS84)  # RFC 7946: GeoJSON is WGS-84 longitude/latitude
            else:
                raise CRSError(
                    problems=[Problem("the file has no CRS", file=p, fix="define its CRS (e.g. a .prj file)")]
                )
        geometry = gdf.geometry
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frame = frame.astype(object).map(_cell_text)
        locations = [f"feature {n}" for n in range(1, len(frame) + 1)]
    elif suffix == ".xls":
        raise InputDataError(
            problems=[
                Problem(
                    f"the {what} file is an old Excel .xls workbook, which is not read",
                    file=p,
                    fix="open it in Excel or WPS and save it as .xlsx (or as CSV)",
                )
            ]
        )
    else:
        raise InputDataError(
            problems=[
                Problem(
                    f"unsupported {what} file type {suffix!r}",
                    file=p,
                    fix="use CSV, XLSX, GeoJSON, GeoPackage or Shapefile",
                )
            ]
        )
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else _cell_text(v))
    frame = frame.reset_index(drop=True)
    return Table(frame=frame, path=p, locations=locations, lines=lines, geometry=geometry)


def find_column(table: Table, aliases: Sequence[str]) -> str | None:
    """The first column of ``table`` whose lower-cased name is one of ``aliases``."""
    cols = set(table.frame.columns)
    for a in aliases:
        if a.lower() in cols:
            return a.lower()
    return None


def resolve_columns(
    table: Table,
    aliases: Mapping[str, Sequence[str]],
    *,
    required: Sequence[str],
    problems: list[Problem],
    fix: str | None = None,
) -> dict[str, str | None]:
    """Map canonical column names to the file's columns; missing required ones become problems.

    Parameters
    ----------
    table
        The table.
    aliases
        For each canonical name, the accepted spellings (the canonical name itself is always accepted).
    required
        Canonical names that must be present.
    problems
        Where to append the problems.
    fix
        Extra advice appended to the missing-column problems.

    Returns
    -------
    dict
        Canonical name -> the file's column name, or None when absent.
    """
    found: dict[str, str | None] = {}
    for name, alias in aliases.items():
        found[name] = find_column(table, (name, *alias))
    for name in required:
        if found.get(name) is None:
            accepted = ", ".join(dict.fromkeys((name, *aliases.get(name, ()))))
            problems.append(
                Problem(
                    f"required column {name!r} is missing (accepted names: {accepted}); "
                    f"the file has: {', '.join(map(str, table.frame.columns)) or 'no columns'}",
                    file=table.path,
                    location=f"column {name}",
                    fix=fix or f"add a {name!r} column",
                )
            )
    return found


def parse_numbers(
    table: Table,
    column: str | None,
    problems: list[Problem],
    *,
    minimum: float | None = None,
    what: str = "a number",
) -> npt.NDArray[np.float64]:
    """Parse a column as floats; blanks give NaN, non-numbers and values below ``minimum`` are problems.

    Thousands separators (``1,234``) are accepted.
    """
    n = len(table.frame)
    out = np.full(n, np.nan)
    if column is None:
        return out
    raw = table.frame[column].str.replace(",", "", regex=False).str.replace("，", "", regex=False)
    values = np.array(pd.to_numeric(raw.where(raw != "", None), errors="coerce"), dtype=float)
    cells = table.frame[column].tolist()
    for i in np.flatnonzero(np.isnan(values) & (raw != "").to_numpy()).tolist():
        problems.append(
            table.problem(
                i,
                f"{cells[i]!r} is not {what}",
                column=column,
                fix="write one number (digits and a decimal point; 1,234 is read as 1234) or leave it blank",
            )
        )
    values[np.isinf(values)] = np.nan
    if minimum is not None:
        for i in np.flatnonzero(values < minimum).tolist():
            problems.append(
                table.problem(
                    i,
                    f"value {values[i]:g} is below the minimum {minimum:g}",
                    column=column,
                    fix=f"give a value of at least {minimum:g}, or leave it blank if unknown",
                )
            )
    return values


# Free-text numbers (OpenStreetMap tags such as population=1000 à 3000 or "约2000").
_APPROX_WORDS = re.compile(
    r"^(?:约|大约|大概|近|around|about|approx\.?|approximately|ca\.?|circa|env\.?|environ|~|≈|±)\s*"
)
_UNIT_WORDS = re.compile(
    r"\s*(?:人|口|居民|people|persons|inhabitants|inh\.?|residents|hab\.?|habitants|pop\.?)\s*$"
)
_NUMBER = re.compile(r"^(\d{1,3}(?:[,'\u00a0\u202f ]\d{3})+|\d+)(\.\d+)?\s*(万|k)?$")


def parse_free_number(text: str) -> tuple[float | None, str]:
    """A number written as free text, when it is unambiguous.

    Accepted: plain numbers with thousands separators (``1,200``, ``1 200``, ``1'200``), an
    approximate marker (``约``, ``大约``, ``ca.``, ``about``, ``~``), a unit word (``人``, ``people``,
    ``inhabitants``, ``hab.``) and the multipliers ``万`` (10,000) and ``k`` (1,000).
    Refused (ambiguous): ranges (``1000 à 3000``, ``1000-3000``), bounds (``>2000``, ``2000+``,
    ``超过2000``), several numbers (``2000 (2010)``), a dot between groups of three digits
    (``1.200``: a thousands separator or a decimal point?), and text without a number.

    Parameters
    ----------
    text
        The cell.

    Returns
    -------
    tuple
        ``(value, "")`` when parsed, ``(None, reason)`` when refused; ``(None, "")`` for a blank cell.
    """
    t = unicodedata.normalize("NFKC", text).strip().lower()
    if t == "":
        return None, ""
    t = _APPROX_WORDS.sub("", t)
    t = _UNIT_WORDS.sub("", t).strip()
    groups = re.findall(r"\d+(?:[.,'\u00a0\u202f ]\d+)*", t)
    if len(groups) > 1 or re.search(r"\d\s*(?:-|–|—|~|à|a|to|bis|至|到)\s*\d", t):
        return None, "a range or several numbers"
    if re.search(r"[<>≥≤+]|超过|以上|以下|不足|多于|少于|more than|less than|over|under", t):
        return None, "a bound, not a value"
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", t):
        return None, "a dot between groups of three digits (thousands separator or decimal point?)"
    match = _NUMBER.match(t)
    if match is None:
        return None, "no number"
    whole = re.sub(r"[,'\u00a0\u202f ]", "", match.group(1))
    value = float(whole + (match.group(2) or ""))
    if match.group(3) == "万":
        value *= 10_000.0
    elif match.group(3) == "k":
        value *= 1_000.0
    return value, ""


def parse_free_numbers(
    table: Table, column: str | None, dropped: list[Problem], *, what: str = "a number"
) -> npt.NDArray[np.float64]:
    """Parse a free-text column with :func:`parse_free_number`; refused cells become NaN.

    Each refused cell is appended to ``dropped`` (a warning, not an error: the rest of the file is
    read) naming the row, the value and why it was dropped.
    """
    n = len(table.frame)
    out = np.full(n, np.nan)
    if column is None:
        return out
    for i, cell in enumerate(table.frame[column].tolist()):
        value, reason = parse_free_number(str(cell))
        if value is not None and value >= 0:
            out[i] = value
        elif reason:
            dropped.append(
                table.problem(
                    i,
                    f"{cell!r} is not {what} ({reason}); the value was dropped, the row kept",
                    column=column,
                    fix="write one number (e.g. 2000) if the source knows it",
                )
            )
    return out


def _check_coordinate_system(coordinate_system: CoordinateSystem) -> CoordinateSystem:
    if coordinate_system not in COORDINATE_SYSTEMS:
        raise InputDataError(
            problems=[
                Problem(
                    f"unknown coordinate_system {coordinate_system!r}",
                    location="coordinate_system",
                    fix=f"use one of {', '.join(COORDINATE_SYSTEMS)}",
                )
            ]
        )
    return coordinate_system


def read_points(
    table: Table,
    problems: list[Problem],
    *,
    coordinate_system: CoordinateSystem = "wgs84",
    required: bool = True,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS-84 longitude/latitude of each row (NaN where the row has no coordinates).

    Coordinates come from the point geometry of a vector file, from the lon/lat columns
    (``lon``/``lng``/``longitude``/``经度`` and ``lat``/``latitude``/``纬度``) or, when those are
    absent, from one ``location`` column holding ``"lng,lat"`` (longitude first, as Amap and Baidu
    POI exports write it; also ``lnglat``, ``经纬度``, ``坐标``). Declared GCJ-02/BD-09
    coordinates are converted; a vector file in a projected CRS is taken as it is (already exact).
    Non-point geometries are reduced to a representative point.

    Parameters
    ----------
    table
        The table.
    problems
        Where to append problems: missing columns (when ``required``), non-numbers, a ``location``
        that is not ``"lng,lat"``, out-of-range values, rows with only one of lon/lat.
    coordinate_system
        The system the file's coordinates are in.
    required
        Whether every row must have coordinates (False: blanks give NaN).

    Returns
    -------
    tuple of numpy.ndarray
        Longitude and latitude in WGS-84.
    """
    cs = _check_coordinate_system(coordinate_system)
    n = len(table.frame)
    if table.geometry is not None and not table.geometry.isna().all():
        geom = table.geometry
        source_crs = geom.crs
        missing = geom.isna().to_numpy() | geom.is_empty.to_numpy()
        pts = geom.copy()
        non_point = (~missing) & (geom.geom_type.to_numpy() != "Point")
        if non_point.any():
            pts[non_point] = geom[non_point].representative_point()
        # A projected file is exact: reproject it. A geographic one holds lon/lat in the declared system.
        projected = source_crs is not None and not CRS.from_user_input(source_crs).is_geographic
        mislabelled = axes_problem(geom[~missing].total_bounds, source_crs, file=table.path, what="layer")
        if mislabelled is not None:
            problems.append(mislabelled)
            return np.full(n, np.nan), np.full(n, np.nan)
        pts = pts.to_crs(WGS84)
        lon = np.where(missing, np.nan, shapely.get_x(pts.to_numpy()))
        lat = np.where(missing, np.nan, shapely.get_y(pts.to_numpy()))
        if required:
            for i in np.flatnonzero(missing).tolist():
                problems.append(table.problem(i, "the feature has no geometry", fix="give it a point"))
        if not projected:
            lon, lat = to_wgs84(lon, lat, cs)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    lon_col = find_column(table, LON_ALIASES)
    lat_col = find_column(table, LAT_ALIASES)
    loc_col = find_column(table, LOCATION_ALIASES)
    if (lon_col is None or lat_col is None) and loc_col is not None:
        lon, lat, lon_blank = _split_location(table, loc_col, problems)
        lat_blank = lon_blank
        lon_col = lat_col = loc_col
    elif lon_col is None or lat_col is None:
        if required:
            problems.append(
                Problem(
                    "coordinate columns are missing (need lon and lat; also accepted: lng, longitude, "
                    "经度 / latitude, 纬度, or one 'location' column of \"lng,lat\"); the file has: "
                    f"{', '.join(map(str, table.frame.columns))}",
                    file=table.path,
                    location="column lon/lat",
                    fix="add lon and lat columns in decimal degrees",
                )
            )
        return np.full(n, np.nan), np.full(n, np.nan)
    else:
        lon = parse_numbers(table, lon_col, problems, what="a longitude in decimal degrees")
        lat = parse_numbers(table, lat_col, problems, what="a latitude in decimal degrees")
        lon_blank = (table.frame[lon_col] == "").to_numpy()
        lat_blank = (table.frame[lat_col] == "").to_numpy()
    if _metres_in_degree_columns(table, lon, lat, lon_col, lat_col, problems):
        return np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        if lon_blank[i] != lat_blank[i]:
            problems.append(table.problem(i, "only one of lon/lat is given", fix="give both or neither"))
        elif required and lon_blank[i]:
            problems.append(table.problem(i, "lon/lat are blank", fix="give the point's coordinates"))
        if not np.isnan(lon[i]) and not -180.0 <= lon[i] <= 180.0:
            problems.append(
                table.problem(
                    i,
                    f"longitude {lon[i]:g} is outside -180..180",
                    column=lon_col,
                    fix="give the longitude in decimal degrees (WGS-84, or the declared coordinate_system)",
                )
            )
            lon[i] = np.nan
        if not np.isnan(lat[i]) and not -90.0 <= lat[i] <= 90.0:
            problems.append(
                table.problem(
                    i,
                    f"latitude {lat[i]:g} is outside -90..90",
                    column=lat_col,
                    fix="are lon and lat swapped?",
                )
            )
            lat[i] = np.nan
    bad = np.isnan(lon) | np.isnan(lat)
    lon[bad] = np.nan
    lat[bad] = np.nan
    wlon, wlat = to_wgs84(lon, lat, cs)
    return np.asarray(wlon, dtype=float), np.asarray(wlat, dtype=float)


def _metres_in_degree_columns(
    table: Table,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    lon_col: str,
    lat_col: str,
    problems: list[Problem],
) -> bool:
    """One problem (and True) when every coordinate given lies beyond ±180/±90: projected metres in
    the degree columns, said once for the file instead of once per row."""
    given = ~(np.isnan(lon) | np.isnan(lat))
    beyond = given & ((np.abs(lon) > 180.0) | (np.abs(lat) > 90.0))
    if given.sum() < 2 or beyond.sum() < given.sum():
        return False
    shown = f"x {np.nanmin(lon):,.0f}..{np.nanmax(lon):,.0f}, y {np.nanmin(lat):,.0f}..{np.nanmax(lat):,.0f}"
    problems.append(
        Problem(
            f"the coordinates in columns {lon_col!r}/{lat_col!r} look like projected metres ({shown}), "
            "not degrees of longitude/latitude",
            file=table.path,
            location=f"columns {lon_col}, {lat_col}",
            fix="convert them to WGS-84 degrees (e.g. in QGIS, or with pyproj from the CRS they are in), "
            "or give the layer as a GeoPackage that carries its CRS",
        )
    )
    return True


_LOCATION_RE = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*[,，]\s*([-+]?\d+(?:\.\d+)?)\s*$")


def _split_location(
    table: Table, column: str, problems: list[Problem]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Longitude, latitude and blank flags of a ``"lng,lat"`` column (Amap/Baidu exports)."""
    cells = table.frame[column].tolist()
    n = len(cells)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    blank = np.array([c == "" for c in cells], dtype=bool)
    for i, cell in enumerate(cells):
        if blank[i]:
            continue
        match = _LOCATION_RE.match(cell)
        if match is None:
            problems.append(
                table.problem(
                    i,
                    f'location {cell!r} is not "lng,lat" (two decimal numbers, longitude first, '
                    "separated by a comma)",
                    column=column,
                    fix="write it as e.g. 86.857300,42.258570 as Amap/Baidu exports do, or give lon and "
                    "lat columns",
                )
            )
            continue
        lon[i], lat[i] = float(match.group(1)), float(match.group(2))
    return lon, lat, blank


def points_inside(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    boundary_wgs84: gpd.GeoDataFrame,
    *,
    crs: CRS,
    tolerance_m: float,
) -> npt.NDArray[np.bool_]:
    """Whether each WGS-84 point lies within ``tolerance_m`` of the boundary (True where lon/lat are NaN).

    Distances are measured in ``crs`` (projected, metres).
    """
    inside = np.ones(len(lon), dtype=bool)
    has = ~(np.isnan(lon) | np.isnan(lat))
    if not has.any():
        return inside
    area = boundary_wgs84.to_crs(crs).geometry.union_all().buffer(tolerance_m)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon[has], lat[has]), crs=WGS84).to_crs(crs)
    inside[has] = shapely.contains_xy(area, shapely.get_x(pts.to_numpy()), shapely.get_y(pts.to_numpy()))
    return inside


def check_inside(
    table: Table,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    boundary_wgs84: gpd.GeoDataFrame,
    problems: list[Problem],
    *,
    crs: CRS,
    tolerance_m: float,
    what: str,
) -> None:
    """Append a problem for each point farther than ``tolerance_m`` outside the boundary.

    Distances are measured in ``crs`` (projected, metres).
    """
    inside = points_inside(lon, lat, boundary_wgs84, crs=crs, tolerance_m=tolerance_m)
    for i in np.flatnonzero(~inside).tolist():
        problems.append(
            table.problem(
                int(i),
                f"the {what} at lon {lon[i]:.6f}, lat {lat[i]:.6f} (WGS-84) lies more than "
                f"{tolerance_m:g} m outside the study area",
                fix="check the coordinates, swapped lon/lat, or the declared coordinate_system "
                "(wgs84/gcj02/bd09)",
            )
        )


def raise_if(
    problems: list[Problem], *, what: str, path: Path, error: type[InputDataError] = InputDataError
) -> None:
    """Raise ``error`` with every problem at once, if there are any."""
    if problems:
        raise error(f"{len(problems)} problem(s) in the {what} file {path}:", problems=problems)
