"""Road centreline layers (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, any line layer GDAL reads).

A county bureau's road data usually comes from the transport or natural-resources department as a
line layer with a Chinese road-class field, or from OpenStreetMap as a shapefile (Geofabrik's
``gis_osm_roads_free_1``). :func:`read_centrelines` reads it with pyogrio and nodes it into a
routable :class:`~planner.inputs.roadtable.RoadTable`.

Columns (names compared without case; the first match in each list is used):

=============  ===========================================================================================
what           accepted names
=============  ===========================================================================================
class (must)   ``class_column`` if given, else one of :data:`CLASS_COLUMNS` (``class``, ``road_class``,
               ``fclass``, ``highway``, ``等级``, ``道路等级``, ``公路等级``, ``技术等级``, ``行政等级``, …).
               Values: see :mod:`planner.inputs.roadclasses` (国道 … 村道, 城市快速路 … 支路, 一级 … 四级公路,
               variants, route numbers such as ``G312``, OSM tags); ``classes`` maps any other value.
one-way        ``oneway_column`` if given, else one of :data:`ONEWAY_COLUMNS` (``oneway``, ``单行``, …):
               forward (one-way in the direction the line is drawn): ``yes``, ``true``, ``1``, ``是``,
               ``单行``, ``单向``, ``正向``, ``F``, ``FT``; backward: ``-1``, ``T`` and ``TF`` (Geofabrik
               and ESRI conventions), ``反向``, ``逆向``; two-way: ``no``, ``false``, ``0``, ``否``,
               ``双向``, ``B``, empty. Or a direction column (:data:`DIRECTION_COLUMNS`, ``direction``,
               ``方向``) with NavInfo codes ``0``/``1`` two-way, ``2`` forward, ``3`` backward.
speed          ``speed_column`` if given, else one of :data:`SPEED_COLUMNS` (``maxspeed``, ``speed``,
               ``限速``, ``设计速度``, …): km/h (``"60"``, ``"60 km/h"``, ``"40 mph"``); ``0``, negative
               or empty = not known. Used as OSM ``maxspeed`` is (cars take it, e-tricycles are capped
               by it, walkers ignore it).
name           one of :data:`NAME_COLUMNS` (``name``, ``名称``, ``道路名称``, …), optional.
level          ``layer`` (integer; OSM), ``bridge`` / ``桥梁``, ``tunnel`` / ``隧道`` (yes/true/1/T/是):
               see the crossing rule.
=============  ===========================================================================================

Text: as the file declares it; a shapefile that does not (no ``.cpg``, no code page) is read as UTF-8,
else as GB18030/GBK (as Chinese shapefiles come).

Geometry: LineStrings and MultiLineStrings (each part a line); Z coordinates are read (for the
crossing rule) and dropped; rows with an empty or missing geometry are skipped with a warning
naming them; any other geometry type is refused. The layer's CRS is honoured (CGCS2000 and the
Gauss-Krüger zones included); a layer without a CRS is read as WGS-84 lon/lat when its
coordinates are degrees, else refused. ``coordinate_system="gcj02"``/``"bd09"`` converts lon/lat
layers from Amap/Tencent or Baidu coordinates on load.

Noding (:mod:`planner.inputs.noding`): lines connect where they share a vertex (to ~1 cm) and where
one ends on another; lines that cross without a shared vertex are over/underpasses unless the layer
says they are at the same level (``layer``/``bridge``/``tunnel`` columns or varying Z) or
``node_crossings=True`` asks for every crossing not known to be at different levels.

Pieces: the length of a piece is the great-circle length of its drawn line (as osmnx measures
edges); pieces of zero length are dropped; a piece that repeats another (same two nodes, same
length to the centimetre) is dropped, keeping the first row's attributes; every drop is counted in
the log line.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from planner.errors import InputDataError, Problem
from planner.inputs.coords import CoordinateSystem, to_wgs84
from planner.inputs.noding import Noded, node_lines
from planner.inputs.roadclasses import CHINESE_CLASSES, normalise_class
from planner.inputs.roadtable import RoadTable, _kind_codes, parse_maxspeed

__all__ = [
    "CLASS_COLUMNS",
    "DIRECTION_COLUMNS",
    "LINE_SUFFIXES",
    "NAME_COLUMNS",
    "ONEWAY_COLUMNS",
    "SPEED_COLUMNS",
    "read_centrelines",
]

logger = logging.getLogger(__name__)

#: File endings read as line layers.
LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".tab", ".mif", ".sqlite")

# fmt: off
CLASS_COLUMNS = (
    "road_class", "roadclass", "rd_class", "class", "fclass", "highway", "grade", "道路等级", "公路等级",
    "技术等级", "行政等级", "等级", "道路类型", "道路类别", "类别", "类型", "kind", "type",
)
ONEWAY_COLUMNS = ("oneway", "one_way", "单行", "单向", "是否单行", "单行线")
DIRECTION_COLUMNS = ("direction", "dir", "方向", "通行方向")
SPEED_COLUMNS = (
    "maxspeed", "max_speed", "speed_limit", "speedlimit", "speed_kmh", "speed", "限速", "设计速度",
    "设计时速",
    "车速",
)
NAME_COLUMNS = ("name", "road_name", "roadname", "名称", "道路名称", "路名", "name_zh")
LAYER_COLUMNS = ("layer", "层", "层级")
BRIDGE_COLUMNS = ("bridge", "is_bridge", "桥梁", "桥")
TUNNEL_COLUMNS = ("tunnel", "is_tunnel", "隧道")

_FORWARD = frozenset(
    {"yes", "y", "true", "1", "1.0", "是", "单行", "单向", "正向", "顺向", "f", "ft", "forward"}
)
_BACKWARD = frozenset({"-1", "-1.0", "reverse", "backward", "t", "tf", "反向", "逆向"})
_BOTH = frozenset({"no", "n", "false", "0", "0.0", "否", "双向", "双行", "b", "both", "", "nan", "none"})
_DIRECTION = {"0": 0, "1": 0, "2": 1, "3": -1, "0.0": 0, "1.0": 0, "2.0": 1, "3.0": -1}
_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0", "是", "桥", "桥梁", "隧道"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "0.0", "否", "", "nan", "none"})
# fmt: on


@dataclass(frozen=True)
class _Columns:
    klass: str | None
    oneway: str | None
    direction: str | None
    speed: str | None
    name: str | None
    layer: str | None
    bridge: str | None
    tunnel: str | None


def _fold(text: str) -> str:
    return str(text).strip().lower()


def _find(columns: Sequence[str], given: str | None, names: Iterable[str]) -> str | None:
    """The column named ``given`` (case-insensitive), else the first of ``names`` present."""
    by_folded = {_fold(c): c for c in columns}
    if given is not None:
        return by_folded.get(_fold(given))
    return next((by_folded[_fold(n)] for n in names if _fold(n) in by_folded), None)


def _columns(
    gdf: gpd.GeoDataFrame, path: Path, given: Mapping[str, str | None], problems: list[Problem]
) -> _Columns:
    """Resolve the columns; a missing class column (or a named column that is absent) is a problem."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    have = ", ".join(map(str, cols)) or "(none)"
    found = {}
    for what, names in (("class", CLASS_COLUMNS), ("oneway", ONEWAY_COLUMNS), ("speed", SPEED_COLUMNS)):
        found[what] = _find(cols, given.get(what), names)
        if given.get(what) is not None and found[what] is None:
            problems.append(
                Problem(
                    f"the {what} column {given[what]!r} is not in the layer (its columns: {have})",
                    file=path,
                    location=f"inputs.roads.{what}_column",
                    fix="name one of the layer's columns",
                )
            )
    if found["class"] is None and given.get("class") is None:
        problems.append(
            Problem(
                f"the road layer has no road-class column (its columns: {have}); looked for "
                + ", ".join(CLASS_COLUMNS[:12])
                + " …",
                file=path,
                location="columns",
                fix="name the column that holds the road class (国道/省道/县道 …, or OSM highway tags) "
                "in the scenario as inputs.roads.class_column",
            )
        )
    direction = None if found["oneway"] is not None else _find(cols, None, DIRECTION_COLUMNS)
    return _Columns(
        klass=found["class"],
        oneway=found["oneway"],
        direction=direction,
        speed=found["speed"],
        name=_find(cols, None, NAME_COLUMNS),
        layer=_find(cols, None, LAYER_COLUMNS),
        bridge=_find(cols, None, BRIDGE_COLUMNS),
        tunnel=_find(cols, None, TUNNEL_COLUMNS),
    )


def _rows(fids: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(f) for f in fids[:limit])
    more = f" … ({len(fids)} rows)" if len(fids) > limit else ""
    return f"FID {shown}{more}"


def _text(series: pd.Series) -> np.ndarray:
    """Column values as trimmed lower-case text (``""`` for missing); whole floats without ``.0``."""
    out = np.empty(len(series), dtype=object)
    for i, value in enumerate(series.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[i] = ""
        elif isinstance(value, float) and value.is_integer():
            out[i] = str(int(value))
        else:
            out[i] = _fold(value)
    return out


def _classes(
    gdf: gpd.GeoDataFrame,
    col: str,
    path: Path,
    *,
    aliases: Mapping[str, str] | None,
    known: Iterable[str],
    problems: list[Problem],
) -> np.ndarray:
    """The class of each row; every unknown value is a problem naming it and its rows."""
    raw = gdf[col].tolist()
    known = list(known)
    cache: dict[str, str | None] = {}
    out = np.empty(len(raw), dtype=object)
    for i, value in enumerate(raw):
        key = "" if value is None else str(value)
        if key not in cache:
            cache[key] = normalise_class(value, aliases=aliases, known=known)
        out[i] = cache[key]
    missing = np.array([c is None for c in out], dtype=bool)
    fids = gdf.index.to_numpy()
    keys = np.array(["" if v is None else str(v) for v in raw], dtype=object)
    for value in dict.fromkeys(keys[missing]):
        rows = fids[missing & (keys == value)]
        problems.append(
            Problem(
                f"unknown road class {value!r} in column {col!r} ({_rows(rows)})",
                file=path,
                location=f"column {col}",
                fix=f"use one of {'/'.join(CHINESE_CLASSES)} or an OSM highway tag (primary, residential, "
                "…), "
                f"or map it in the scenario: inputs.roads.classes: {{{value!r}: 县道}} (any accepted class), "
                "or give it speeds under travel.modes.<mode>.speeds_kmh",
            )
        )
    return out


def _oneway(gdf: gpd.GeoDataFrame, cols: _Columns, path: Path, problems: list[Problem]) -> np.ndarray:
    """``+1``/``-1``/``0`` per row from the one-way or direction column (two-way without one)."""
    out = np.zeros(len(gdf), dtype=np.int8)
    col = cols.oneway or cols.direction
    if col is None:
        return out
    text = _text(gdf[col])
    bad = np.zeros(len(gdf), dtype=bool)
    for i, t in enumerate(text):
        if cols.direction is not None and t in _DIRECTION:
            out[i] = _DIRECTION[t]
        elif t in _FORWARD:
            out[i] = 1
        elif t in _BACKWARD:
            out[i] = -1
        elif t not in _BOTH:
            bad[i] = True
    for value in dict.fromkeys(text[bad]):
        rows = gdf.index.to_numpy()[bad & (text == value)]
        problems.append(
            Problem(
                f"one-way value {value!r} in column {col!r} is not understood ({_rows(rows)})",
                file=path,
                location=f"column {col}",
                fix="use yes/no/-1 (or 1/0, 是/否, 双向/正向/反向, B/F/T); for a direction column 1 two-way, "
                "2 forward, 3 backward",
            )
        )
    return out


def _speeds(gdf: gpd.GeoDataFrame, col: str | None, path: Path, problems: list[Problem]) -> np.ndarray:
    """Speed column in km/h (``nan`` where not known); text that is not a speed is a problem."""
    out = np.full(len(gdf), np.nan)
    if col is None:
        return out
    text = _text(gdf[col])
    bad = np.zeros(len(gdf), dtype=bool)
    cache: dict[str, float | None] = {}
    for i, t in enumerate(text):
        if t not in cache:
            cache[t] = parse_maxspeed(t)
        speed = cache[t]
        if speed is not None:
            out[i] = speed
        elif t and not _is_zero_or_negative(t):
            bad[i] = True
    for value in dict.fromkeys(text[bad]):
        rows = gdf.index.to_numpy()[bad & (text == value)]
        problems.append(
            Problem(
                f"speed {value!r} in column {col!r} is not a speed ({_rows(rows)})",
                file=path,
                location=f"column {col}",
                fix="give km/h as a number (60, '60 km/h'); leave it empty or 0 where not known",
            )
        )
    return out


def _is_zero_or_negative(text: str) -> bool:
    try:
        return float(text) <= 0
    except ValueError:
        return False


def _levels(
    gdf: gpd.GeoDataFrame, cols: _Columns, path: Path, problems: list[Problem]
) -> tuple[np.ndarray, bool]:
    """Level of each row (``layer``, else bridge +1 / tunnel -1 / 0) and whether the layer has any."""
    level = np.zeros(len(gdf))
    if cols.bridge is not None:
        level = np.where(_flags(gdf[cols.bridge]), 1.0, level)
    if cols.tunnel is not None:
        level = np.where(_flags(gdf[cols.tunnel]), -1.0, level)
    if cols.layer is not None:
        values = pd.to_numeric(gdf[cols.layer], errors="coerce").to_numpy(dtype=float)
        text = _text(gdf[cols.layer])
        bad = np.isnan(values) & (text != "")
        if bad.any():
            rows = gdf.index.to_numpy()[bad]
            problems.append(
                Problem(
                    f"layer values {sorted(set(text[bad]))[:5]} in column {cols.layer!r} are not numbers "
                    f"({_rows(rows)})",
                    file=path,
                    location=f"column {cols.layer}",
                    fix="layer is an integer: 0 ground, 1 bridge, -1 tunnel (OSM)",
                )
            )
        level = np.where(np.isnan(values), level, values)
    known = any(c is not None for c in (cols.layer, cols.bridge, cols.tunnel))
    return level, known


def _flags(series: pd.Series) -> np.ndarray:
    text = _text(series)
    return np.array([t in _TRUE or (t not in _FALSE and bool(t)) for t in text], dtype=bool)


@dataclass(frozen=True)
class _Parts:
    """The line parts of a layer: flat vertices, the part of each vertex, the row of each part."""

    xy: np.ndarray
    z: np.ndarray
    part: np.ndarray
    row: np.ndarray  # position (0-based) of each part's row in the layer


def _parts(gdf: gpd.GeoDataFrame, path: Path, problems: list[Problem]) -> _Parts:
    """Explode (Multi)LineStrings; empty rows are skipped with a warning, other types are problems."""
    geoms = gdf.geometry.to_numpy()
    fids = gdf.index.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kind = shapely.get_type_id(geoms)
    lines = ~empty & np.isin(kind, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    other = ~empty & ~lines
    if empty.any():
        logger.warning(
            "roads %s: %d rows without geometry skipped (%s)", path.name, int(empty.sum()), _rows(fids[empty])
        )
    for type_id in np.unique(kind[other]):
        rows = fids[other & (kind == type_id)]
        problems.append(
            Problem(
                f"{_TYPE_NAMES.get(int(type_id), 'non-line')} geometries where road lines are expected "
                f"({_rows(rows)})",
                file=path,
                location="geometry",
                fix="roads must be LineStrings or MultiLineStrings (centrelines): remove or convert these "
                "rows",
            )
        )
    rows = np.flatnonzero(lines)
    parts, which = shapely.get_parts(geoms[rows], return_index=True)
    coords, part = shapely.get_coordinates(parts, include_z=True, return_index=True)
    return _Parts(coords[:, :2], coords[:, 2], part.astype(np.int64), rows[which])


_TYPE_NAMES = {0: "Point", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon", 7: "GeometryCollection"}


def _source_crs(
    xy: np.ndarray, crs: Any, coordinate_system: CoordinateSystem, path: Path, problems: list[Problem]
) -> CRS:
    """The layer's CRS (WGS-84 for a layer without one whose coordinates are degrees)."""
    if crs is None:
        inside = xy.size == 0 or (np.abs(xy[:, 0]).max() <= 180 and np.abs(xy[:, 1]).max() <= 90)
        if not inside:
            problems.append(
                Problem(
                    "the road layer has no CRS and its coordinates are not degrees",
                    file=path,
                    fix="save the layer with its CRS (e.g. a GeoPackage, or a shapefile with its .prj)",
                )
            )
        else:
            logger.warning("roads %s: no CRS; coordinates read as WGS-84 lon/lat", path.name)
        return CRS.from_epsg(4326)
    src = CRS.from_user_input(crs)
    if coordinate_system != "wgs84" and not src.is_geographic:
        problems.append(
            Problem(
                f"coordinate_system {coordinate_system} applies to lon/lat layers, but this layer is "
                f"projected ({src.name})",
                file=path,
                location="inputs.roads.coordinate_system",
                fix="leave coordinate_system at wgs84 for projected layers",
            )
        )
    return src


def _to_wgs84(xy: np.ndarray, src: CRS, coordinate_system: CoordinateSystem) -> np.ndarray:
    """Vertices in WGS-84 lon/lat from the layer's CRS, and from GCJ-02/BD-09 when declared."""
    if xy.size and not src.equals(CRS.from_epsg(4326)):
        lon, lat = Transformer.from_crs(src, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([lon, lat])
    if xy.size and coordinate_system != "wgs84":
        xy = np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], coordinate_system))
    return xy


def _haversine(xy: np.ndarray) -> np.ndarray:
    """Great-circle length (m) of each step between consecutive vertices (osmnx's formula and radius)."""
    lon, lat = np.deg2rad(xy[:, 0]), np.deg2rad(xy[:, 1])
    h = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1.0, h))) * 6_371_009.0


@dataclass(frozen=True)
class _Attrs:
    """Per-row attributes of the layer."""

    klass: np.ndarray
    oneway: np.ndarray
    speed: np.ndarray
    name: np.ndarray
    fid: np.ndarray  # the layer's FID of each row (the "way" of the pieces cut from it)


def _ranges(lo: np.ndarray, hi: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Concatenated ``lo..hi`` (inclusive) index ranges, each reversed where ``reverse``."""
    counts = hi - lo + 1
    step = np.repeat(np.arange(counts.size), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.where(reverse[step], hi[step] - offset, lo[step] + offset)


def _pieces(noded: Noded, rows: np.ndarray, attrs: _Attrs) -> tuple[RoadTable, dict[str, int]]:
    """Directed rows (osmnx style) of the noded pieces; zero-length and repeated pieces dropped."""
    step = _haversine(noded.xy)
    step = np.where(noded.vertex_part[1:] == noded.vertex_part[:-1], step, 0.0)
    length = np.add.reduceat(step, noded.start) if noded.start.size else np.zeros(0)
    lo, hi = np.minimum(noded.u, noded.v), np.maximum(noded.u, noded.v)
    rounded = np.array([round(x, 2) for x in length.tolist()])
    order = np.lexsort((np.arange(lo.size), rounded, hi, lo))
    new = np.ones(order.size, dtype=bool)
    new[1:] = (np.diff(lo[order]) != 0) | (np.diff(hi[order]) != 0) | (np.diff(rounded[order]) != 0)
    repeat = np.zeros(lo.size, dtype=bool)
    repeat[order[~new]] = True
    zero = length <= 0
    keep = np.flatnonzero(~zero & ~repeat)
    direction = attrs.oneway[rows[noded.part[keep]]]
    # one row per direction of travel, as osmnx has them: u→v unless one-way backwards, then v→u
    # unless one-way forwards (drawn reversed)
    pos = np.arange(keep.size)
    f, b = direction >= 0, direction <= 0
    sequence = np.argsort(np.concatenate([pos[f] * 2, pos[b] * 2 + 1]), kind="stable")
    piece = np.concatenate([keep[f], keep[b]])[sequence]
    rev = np.concatenate([np.zeros(int(f.sum()), bool), np.ones(int(b.sum()), bool)])[sequence]
    counts = {"zero_length": int(zero.sum()), "repeated": int((repeat & ~zero).sum())}
    return _table(noded, piece, rev, length, rows, attrs), counts


def _table(
    noded: Noded, piece: np.ndarray, rev: np.ndarray, length: np.ndarray, rows: np.ndarray, attrs: _Attrs
) -> RoadTable:
    row = rows[noded.part[piece]]
    kind, kinds = _kind_codes((str(c),) for c in attrs.klass[row])
    counts = noded.stop[piece] - noded.start[piece] + 1
    take = _ranges(noded.start[piece], noded.stop[piece], rev)
    return RoadTable(
        node_id=np.arange(noded.node_xy.shape[0], dtype=np.int64),
        x=noded.node_xy[:, 0].copy(),
        y=noded.node_xy[:, 1].copy(),
        u=np.where(rev, noded.v[piece], noded.u[piece]),
        v=np.where(rev, noded.u[piece], noded.v[piece]),
        length=length[piece],
        kind=kind,
        kinds=kinds,
        oneway=(attrs.oneway[row] != 0).astype(np.int8),
        maxspeed=attrs.speed[row],
        geom_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        geom_xy=noded.xy[take],
        name=attrs.name[row],
        osmid=attrs.fid[row],
    )


def _layer_name(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer``, or the only line layer of a multi-layer file."""
    if layer is not None:
        return layer
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # a file pyogrio cannot list: reading it reports the error
        return None
    lines = [str(n) for n, g in layers if g is not None and "line" in str(g).lower()]
    if len(layers) > 1 and len(lines) > 1:
        raise InputDataError(
            problems=[
                Problem(
                    f"the file has several line layers ({', '.join(lines)})",
                    file=path,
                    location="inputs.roads.layer",
                    fix="name the road layer in the scenario as inputs.roads.layer",
                )
            ]
        )
    return lines[0] if len(layers) > 1 and lines else None


def _read_text_layer(path: Path, name: str | None, mask: Any) -> gpd.GeoDataFrame:
    """Read the layer; a shapefile whose text encoding is unknown (no ``.cpg``, no code page in the
    DBF: GDAL falls back to ISO-8859-1) is read as UTF-8, else as GB18030 (GBK), as Chinese data comes.
    """
    guess = path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists()
    if guess and pyogrio.read_info(path, layer=name).get("encoding") in (None, "ISO-8859-1"):
        try:
            return pyogrio.read_dataframe(path, layer=name, mask=mask, fid_as_index=True, encoding="utf-8")
        except UnicodeDecodeError:
            logger.warning("roads %s: no .cpg and the text is not UTF-8; read as GB18030 (GBK)", path.name)
            return pyogrio.read_dataframe(path, layer=name, mask=mask, fid_as_index=True, encoding="gb18030")
    return pyogrio.read_dataframe(path, layer=name, mask=mask, fid_as_index=True)


def _read_layer(
    path: Path, layer: str | None, polygon: Any, coordinate_system: CoordinateSystem
) -> gpd.GeoDataFrame:
    """The layer (FID as index), only the features meeting ``polygon`` (WGS-84) when given."""
    name = _layer_name(path, layer)
    try:
        mask = None
        if polygon is not None:
            info = pyogrio.read_info(path, layer=name)
            if info.get("crs"):
                # GCJ-02/BD-09 differ from WGS-84 by < 1 km: grow the mask by 0.02° for them
                grow = 0.02 if coordinate_system != "wgs84" else 0.0
                area = gpd.GeoSeries([polygon.buffer(grow) if grow else polygon], crs=4326)
                mask = area.to_crs(info["crs"]).iloc[0]
        return _read_text_layer(path, name, mask)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
        raise InputDataError(
            problems=[
                Problem(
                    f"cannot read the road layer: {exc}",
                    file=path,
                    fix="use a GeoPackage, Shapefile (with .shx/.dbf/.prj), GeoJSON or FlatGeobuf line layer",
                )
            ]
        ) from exc


def read_centrelines(
    path: Path,
    *,
    polygon: Any = None,
    layer: str | None = None,
    class_column: str | None = None,
    classes: Mapping[str, str] | None = None,
    known_classes: Iterable[str] = (),
    oneway_column: str | None = None,
    speed_column: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    node_crossings: bool | None = None,
) -> RoadTable:
    """Read a road centreline layer and node it into a :class:`RoadTable` (see the module notes).

    Parameters
    ----------
    path
        The line layer (any format GDAL reads: GeoPackage, Shapefile, GeoJSON, FlatGeobuf, …).
    polygon
        The study area (WGS-84); only features meeting it are read.
    layer
        The layer of a multi-layer file (default: its only line layer).
    class_column, oneway_column, speed_column
        Column names (default: found by name, see :data:`CLASS_COLUMNS` etc.).
    classes
        Values of the class column mapped to classes (checked before the built-in names).
    known_classes
        Further classes accepted as they are (those the scenario gives speeds for).
    coordinate_system
        ``"gcj02"``/``"bd09"`` for lon/lat layers in Amap/Tencent or Baidu coordinates.
    node_crossings
        The crossing rule: ``None`` by level information, ``True`` every crossing not known to be at
        different levels, ``False`` shared vertices only.

    Raises
    ------
    InputDataError
        Every problem at once: no class column (the layer's columns named), unknown class values
        (with their rows), unreadable one-way or speed values, non-line geometries, no usable CRS.
    """
    gdf = _read_layer(path, layer, polygon, coordinate_system)
    problems: list[Problem] = []
    given = {"class": class_column, "oneway": oneway_column, "speed": speed_column}
    cols = _columns(gdf, path, given, problems)
    attrs = _attributes(gdf, cols, path, classes=classes, known=known_classes, problems=problems)
    level, level_known = _levels(gdf, cols, path, problems)
    parts = _parts(gdf, path, problems)
    src = _source_crs(parts.xy, gdf.crs, coordinate_system, path, problems)
    if problems:
        raise InputDataError(f"the road layer {path} cannot be used:", problems)
    n_parts = int(parts.row.size)
    noded = node_lines(
        parts.xy,
        parts.z,
        parts.part,
        n_parts,
        level=level[parts.row],
        level_known=level_known,
        node_crossings=node_crossings,
        geographic=src.is_geographic,
    )
    noded = replace(
        noded,
        xy=_to_wgs84(noded.xy, src, coordinate_system),
        node_xy=_to_wgs84(noded.node_xy, src, coordinate_system),
    )
    table, dropped = _pieces(noded, parts.row, attrs)
    logger.info(
        "roads %s: %d features, %d lines → %d nodes, %d pieces; %d T-junctions and %d crossings joined, "
        "%d crossings left apart (over/underpasses); dropped %d zero-length lines, %d zero-length and %d "
        "repeated pieces",
        path.name, len(gdf), n_parts, table.n_nodes, int(noded.start.size), noded.joined,
        noded.crossings_joined, noded.crossings_apart, noded.dropped_zero_length, dropped["zero_length"],
        dropped["repeated"],
    )  # fmt: skip
    return table


def _attributes(
    gdf: gpd.GeoDataFrame,
    cols: _Columns,
    path: Path,
    *,
    classes: Mapping[str, str] | None,
    known: Iterable[str],
    problems: list[Problem],
) -> _Attrs:
    klass = np.full(len(gdf), None, dtype=object)
    if cols.klass is not None:
        klass = _classes(gdf, cols.klass, path, aliases=classes, known=known, problems=problems)
    return _Attrs(
        klass=klass,
        oneway=_oneway(gdf, cols, path, problems),
        speed=_speeds(gdf, cols.speed, path, problems),
        name=np.array(_text_names(gdf, cols.name), dtype=object),
        fid=np.asarray(gdf.index.to_numpy(), dtype=object),
    )


def _text_names(gdf: gpd.GeoDataFrame, col: str | None) -> list[str]:
    if col is None:
        return [""] * len(gdf)
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip() for v in gdf[col]]
