"""QGIS styles for ``results.gpkg``, stored in the ``layer_styles`` table QGIS reads on load.

QGIS looks for a table ``layer_styles`` (the QGIS GeoPackage styling extension) and applies the row
whose ``f_table_name`` is the layer and ``useAsDefault`` is true. Each style here is a small QML
document (renderer and, for townships, labels) in the colours of :mod:`planner.outputs.palette`,
so the GeoPackage looks like the web map when opened in QGIS. The symbol properties are written in
both the ``<Option>`` form (QGIS ≥ 3.26) and the older ``<prop>`` form so any QGIS 3 reads them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from xml.sax.saxutils import quoteattr

import geopandas as gpd

from planner.outputs import i18n, palette
from planner.outputs.i18n import Lang

QML_HEAD: Final = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"

_CREATE: Final = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


def _props(props: Mapping[str, str]) -> str:
    options = "".join(
        f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in props.items()
    )
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return f'<Option type="Map">{options}</Option>{legacy}'


def marker_symbol(
    name: str,
    colour: str,
    *,
    size: float = 2.6,
    shape: str = "circle",
    outline: str = "#333333",
    outline_width: float = 0.3,
) -> str:
    """A simple marker symbol (QML ``<symbol type="marker">``)."""
    props = {
        "color": palette.rgba_csv(colour),
        "name": shape,
        "outline_color": palette.rgba_csv(outline),
        "outline_style": "solid",
        "outline_width": f"{outline_width}",
        "outline_width_unit": "MM",
        "size": f"{size}",
        "size_unit": "MM",
    }
    return (
        f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
        f'force_rhr="0"><layer class="SimpleMarker" enabled="1" pass="0" locked="0">'
        f"{_props(props)}</layer></symbol>"
    )


def fill_symbol(
    name: str,
    colour: str | None,
    *,
    outline: str,
    outline_width: float = 0.4,
    outline_style: str = "solid",
    alpha: int = 255,
) -> str:
    """A simple fill symbol; ``colour=None`` draws the outline only."""
    props = {
        "color": palette.rgba_csv(colour or "#ffffff", alpha if colour else 0),
        "style": "solid" if colour else "no",
        "outline_color": palette.rgba_csv(outline),
        "outline_style": outline_style,
        "outline_width": f"{outline_width}",
        "outline_width_unit": "MM",
    }
    return (
        f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
        f'force_rhr="0"><layer class="SimpleFill" enabled="1" pass="0" locked="0">'
        f"{_props(props)}</layer></symbol>"
    )


def single_renderer(symbol: str) -> str:
    """A single-symbol renderer around one ``<symbol name="0">``."""
    return (
        f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )


def categorized_renderer(attr: str, categories: Sequence[tuple[str, str, str]]) -> str:
    """A categorized renderer: ``categories`` are (value, label, symbol XML named by its index)."""
    cats = "".join(
        f'<category symbol="{i}" value={quoteattr(value)} label={quoteattr(label)} render="true"/>'
        for i, (value, label, _sym) in enumerate(categories)
    )
    symbols = "".join(sym for _v, _l, sym in categories)
    return (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
        f'enableorderby="0" forceraster="0"><categories>{cats}</categories>'
        f"<symbols>{symbols}</symbols></renderer-v2>"
    )


def labeling(field: str, *, size: float = 10, colour: str = "#333333") -> str:
    """Simple labels from one field, with a white buffer so they read over any fill."""
    return (
        f'<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(field)} fontSize="{size}" '
        f'textColor="{palette.rgba_csv(colour)}" isExpression="0" fontWeight="75">'
        f'<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        f'</text-style><placement placement="1"/></settings></labeling>'
    )


def qml(renderer: str, extra: str = "") -> str:
    """A whole QML document holding a renderer (and optional labeling)."""
    labels_on = "1" if extra else "0"
    return (
        f'{QML_HEAD}<qgis version="3.28.0" styleCategories="Symbology|Labeling" '
        f'labelsEnabled="{labels_on}">{renderer}{extra}</qgis>\n'
    )


def _bool_categories(attr: str, colours: tuple[str, str], labels: tuple[str, str], *, size: float) -> str:
    return categorized_renderer(
        attr,
        [
            ("1", labels[0], marker_symbol("0", colours[0], size=size)),
            ("0", labels[1], marker_symbol("1", colours[1], size=size)),
        ],
    )


def layer_qml(layer: str, gdf: gpd.GeoDataFrame, *, lang: Lang) -> str:
    """The QML style of one ``results.gpkg`` layer."""
    zh = lang == "zh"
    if layer == "boundary":
        return qml(
            single_renderer(fill_symbol("0", None, outline=palette.BOUNDARY_COLOUR, outline_width=0.8))
        )
    if layer == "townships":
        extra = labeling("township_name") if "township_name" in gdf.columns else ""
        return qml(
            single_renderer(
                fill_symbol(
                    "0", None, outline=palette.TOWNSHIP_COLOUR, outline_width=0.4, outline_style="dash"
                )
            ),
            extra,
        )
    if layer == "gaps":
        return qml(
            single_renderer(
                fill_symbol("0", palette.GAP_COLOUR, outline=palette.GAP_COLOUR, outline_width=0.2, alpha=110)
            )
        )
    if layer == "demand" and "covered_after" in gdf.columns:
        labels = ("规划后已覆盖", "规划后仍未覆盖") if zh else ("covered after plan", "uncovered after plan")
        colours = (palette.COVER_COLOURS["covered"], palette.COVER_COLOURS["uncovered"])
        return qml(_bool_categories("covered_after", colours, labels, size=1.6))
    if layer == "villages" and "has_station_after" in gdf.columns:
        labels = (
            ("有村级站点（规划后）", "无村级站点（规划后）")
            if zh
            else ("station after plan", "no station after plan")
        )
        colours = (palette.VILLAGE_COLOURS["station"], palette.VILLAGE_COLOURS["none"])
        return qml(_bool_categories("has_station_after", colours, labels, size=2.6))
    if layer == "facilities" and {"status", "type"} <= set(gdf.columns):
        cats: list[tuple[str, str, str]] = []
        pairs = sorted({(str(s), str(t)) for s, t in zip(gdf["status"], gdf["type"], strict=True)})
        for i, (status, ftype) in enumerate(pairs):
            colour = palette.facility_colour(ftype)
            proposed = status == "proposed"
            sym = marker_symbol(
                str(i),
                "#ffffff" if proposed else colour,
                size=3.6 if proposed else 3.0,
                shape="star" if proposed else "circle",
                outline=colour,
                outline_width=0.6 if proposed else 0.3,
            )
            label = (
                f"{i18n.word(status, lang) if status in i18n.WORDS else status} · "
                f"{i18n.facility_label(ftype, lang)}"
            )
            cats.append((f"{status}:{ftype}", label, sym))
        return qml(categorized_renderer('"status" || \':\' || "type"', cats))
    default_colour = "#1c7ed6"
    geom_types = set(gdf.geom_type.dropna()) if len(gdf) else set()
    if geom_types and geom_types <= {"Point", "MultiPoint"}:
        return qml(single_renderer(marker_symbol("0", default_colour)))
    return qml(single_renderer(fill_symbol("0", None, outline=default_colour)))


def write_layer_styles(path: Path, layers: Mapping[str, gpd.GeoDataFrame], *, lang: Lang) -> None:
    """Add (or replace) a default QGIS style per layer in the GeoPackage at ``path``.

    The ``layer_styles`` table is registered in ``gpkg_contents`` as an attributes table, as
    QGIS itself does, so the GeoPackage stays valid.
    """
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(_CREATE)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
                (now,),
            )
            for name, gdf in layers.items():
                geom_col = _geometry_column(con, name)
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (name,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
                    "ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
                    (name, geom_col, name, layer_qml(name, gdf, lang=lang), "planner default style", now),
                )
    finally:
        con.close()


def _geometry_column(con: sqlite3.Connection, table: str) -> str:
    row = con.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchone()
    return str(row[0]) if row else "geom"
