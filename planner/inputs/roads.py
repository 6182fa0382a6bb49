"""Road networks: osmnx GraphML, OSM XML/PBF and centreline layers → a road table (or osmnx graph).

:func:`read_road_table` returns a :class:`~planner.inputs.roadtable.RoadTable` in WGS-84 (what the
travel networks are built from); :func:`read_roads` the same network as an osmnx-compatible
``MultiDiGraph`` (nodes with ``x``/``y``, edges with ``highway``, ``oneway``, ``length`` (m) and,
when known, ``maxspeed``, ``name``, ``geometry``). The formats:

* ``.graphml`` (osmnx): streamed straight to arrays (:mod:`planner.inputs.graphml`), no networkx
  graph in between; a GraphML in another CRS is brought to WGS-84.
* ``.osm``/``.osm.pbf``: see below.
* line layers (``.gpkg``, ``.shp``, ``.geojson``, ``.fgb``, …): road centrelines with a road-class
  column, noded into a graph (:mod:`planner.inputs.centrelines`).

``.osm`` and ``.osm.pbf`` files are streamed with pyosmium in one pass, so a country extract is
never loaded: libosmium keeps only node *locations* (in memory, or in a temporary file for files
over :data:`DISK_INDEX_BYTES`), drops buildings and every other non-highway object in C++, and the
highway ways that touch the study area's bounding box (plus ``buffer_m``) are kept whole, with
their nodes' coordinates (node tags such as traffic signals are not carried over). The kept
ways are written to a small temporary OSM XML file and handed to
:func:`osmnx.graph_from_xml` (so oneway handling, edge lengths and topology simplification are
exactly osmnx's). Ways that are not roads in osmnx's ``all`` network (``area=yes``, highway
``construction``/``proposed``/``platform``/…) are dropped, as osmnx does when downloading.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from pyproj import CRS, Transformer

from planner.errors import InputDataError, Problem
from planner.inputs.centrelines import LINE_SUFFIXES, read_centrelines
from planner.inputs.coords import CoordinateSystem
from planner.inputs.graphml import read_graphml_table
from planner.inputs.roadtable import UNKNOWN_CLASS, RoadTable, table_from_graph
from planner.inputs.tables import WGS84, check_exists

__all__ = ["read_road_table", "read_roads"]

logger = logging.getLogger(__name__)

#: highway values osmnx's "all" network type excludes.
EXCLUDED_HIGHWAYS = frozenset(
    {"abandoned", "construction", "no", "planned", "platform", "proposed", "raceway", "razed", "disused"}
)
#: Above this file size node locations are kept in a temporary file instead of memory.
DISK_INDEX_BYTES = 512 * 2**20
_PBF_FIX = "the file is damaged or truncated: download the extract again (e.g. from Geofabrik)"


def _area_polygon(boundary: gpd.GeoDataFrame | None, buffer_m: float) -> Any:
    """The boundary buffered by ``buffer_m`` metres, in WGS-84 (None when no boundary)."""
    if boundary is None:
        return None
    if boundary.crs is None:
        raise InputDataError(problems=[Problem("the boundary has no CRS")])
    utm = boundary.to_crs(WGS84).estimate_utm_crs()
    return (
        gpd.GeoSeries([boundary.to_crs(utm).geometry.union_all().buffer(buffer_m)], crs=utm)
        .to_crs(WGS84)
        .iloc[0]
    )


def _load_graphml(path: Path) -> RoadTable:
    table, crs = read_graphml_table(path)
    if crs is None:
        raise InputDataError(
            problems=[
                Problem(
                    "the GraphML has no 'crs' graph attribute",
                    file=path,
                    fix="save it with osmnx.save_graphml, which records the CRS",
                )
            ]
        )
    try:
        src = CRS.from_user_input(crs)
    except Exception as exc:
        raise InputDataError(
            problems=[Problem(f"the GraphML's CRS {crs!r} cannot be read ({exc})", file=path)]
        ) from exc
    if src.equals(WGS84):
        return table
    to_wgs = Transformer.from_crs(src, WGS84, always_xy=True)
    x, y = to_wgs.transform(table.x, table.y)
    gx, gy = to_wgs.transform(table.geom_xy[:, 0], table.geom_xy[:, 1])
    return replace(table, x=np.asarray(x), y=np.asarray(y), geom_xy=np.column_stack([gx, gy]))


def _location_index(path: Path, tmp: Path) -> str:
    """The node-location store: in memory for ordinary extracts, a file on disk for big ones."""
    if path.stat().st_size > DISK_INDEX_BYTES:
        return f"sparse_file_array,{tmp / 'locations.idx'}"
    return "flex_mem"


def _osmium_stream(
    path: Path, bbox: tuple[float, float, float, float] | None, tmp_xml: Path, *, index: str = "flex_mem"
) -> tuple[int, int]:
    """Write the highway ways of ``path`` that touch ``bbox`` (with all their nodes) to ``tmp_xml``.

    One streaming pass: libosmium stores node locations (``index``), drops every non-way object and
    every way without a ``highway`` tag in C++; Python sees only the highway ways.
    """
    import osmium
    import osmium.filter

    minx, miny, maxx, maxy = bbox if bbox is not None else (-180.0, -90.0, 180.0, 90.0)
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations(index)
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    way: Any
    for way in processor:
        tags = {t.k: t.v for t in way.tags}
        if tags.get("highway") in EXCLUDED_HIGHWAYS or tags.get("area") == "yes":
            continue
        located = [(n.ref, n.location.lon, n.location.lat) for n in way.nodes if n.location.valid()]
        if len(located) < 2 or not any(minx <= x <= maxx and miny <= y <= maxy for _, x, y in located):
            continue
        ways.append((way.id, [r for r, _, _ in located], tags))
        nodes.update((r, (x, y)) for r, x, y in located)
    with tmp_xml.open("w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"planner\">\n")
        for nid in sorted(nodes):
            lon, lat = nodes[nid]
            fh.write(f'<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
        for wid, refs, tags in ways:
            fh.write(f'<way id="{wid}">')
            fh.write("".join(f'<nd ref="{r}"/>' for r in refs))
            fh.write("".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()))
            fh.write("</way>\n")
        fh.write("</osm>\n")
    return len(nodes), len(ways)


def _load_osm(path: Path, polygon: Any) -> nx.MultiDiGraph:
    bbox = tuple(polygon.bounds) if polygon is not None else None
    with tempfile.TemporaryDirectory(prefix="planner-osm-") as tmp:
        tmp_xml = Path(tmp) / "roads.osm"
        try:
            n_nodes, n_ways = _osmium_stream(path, bbox, tmp_xml, index=_location_index(path, Path(tmp)))
        except RuntimeError as exc:  # libosmium: "PBF error: ...", "XML parsing error ..."
            raise InputDataError(
                problems=[Problem(f"cannot read the OSM file: {exc}", file=path, fix=_PBF_FIX)]
            ) from exc
        if n_ways == 0:
            where = " inside the study area" if polygon is not None else ""
            raise InputDataError(
                problems=[
                    Problem(
                        f"the OSM file has no highway ways{where}",
                        file=path,
                        fix="use an extract that covers the study area",
                    )
                ]
            )
        import osmnx as ox  # only for OSM XML/PBF: its way simplification and oneway rules

        G = ox.graph_from_xml(tmp_xml, bidirectional=False, simplify=True, retain_all=True)
    logger.debug("osm: %d nodes, %d ways streamed from %s", n_nodes, n_ways, path)
    return G


def _check_edges(table: RoadTable, path: Path) -> None:
    """Edges without a valid length or without a class are refused (the first 20 named)."""
    bad_length = ~(np.isfinite(table.length) & (table.length >= 0))
    untagged = np.array([k == (UNKNOWN_CLASS,) for k in table.kinds], dtype=bool)[table.kind]
    problems: list[Problem] = []
    ids = table.node_id
    for e in np.flatnonzero(bad_length | untagged)[:20].tolist():
        u, v = ids[table.u[e]], ids[table.v[e]]
        if bad_length[e]:
            problems.append(
                Problem(
                    f"edge ({u}, {v}) has no valid length: {table.length[e]!r}",
                    file=path,
                    location=f"edge {u}-{v}",
                    fix="recompute with osmnx.distance.add_edge_lengths",
                )
            )
        if untagged[e]:
            problems.append(
                Problem(f"edge ({u}, {v}) has no highway tag", file=path, location=f"edge {u}-{v}")
            )
    if problems:
        raise InputDataError(
            f"the road network {path} has bad edges (first {len(problems)} shown):", problems=problems
        )


def _read_any(p: Path, polygon: Any, options: Mapping[str, Any]) -> RoadTable:
    name = p.name.lower()
    if name.endswith(".graphml"):
        return _load_graphml(p)
    if name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.xml", ".xml")):
        return table_from_graph(_load_osm(p, polygon))
    if name.endswith(LINE_SUFFIXES):
        return read_centrelines(p, polygon=polygon, **options)
    raise InputDataError(
        problems=[
            Problem(
                f"unsupported road file type {p.suffix!r}",
                file=p,
                fix="use osmnx GraphML (.graphml), OSM XML (.osm), OSM PBF (.osm.pbf) or a line layer "
                "(.gpkg, .shp, .geojson, .fgb)",
            )
        ]
    )


def read_road_table(
    path: Path | str,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    buffer_m: float = 2000.0,
    layer: str | None = None,
    class_column: str | None = None,
    classes: Mapping[str, str] | None = None,
    known_classes: Iterable[str] = (),
    oneway_column: str | None = None,
    speed_column: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    node_crossings: bool | None = None,
) -> RoadTable:
    """Read a road network as a :class:`~planner.inputs.roadtable.RoadTable` in WGS-84.

    Parameters
    ----------
    path
        ``.graphml`` (osmnx), ``.osm``/``.xml`` (OSM XML), ``.osm.pbf``, or a line layer (``.gpkg``,
        ``.shp``, ``.geojson``, ``.fgb``, …) of road centrelines.
    boundary
        The study area (any CRS). When given, only roads within ``buffer_m`` of it are kept (OSM files
        and line layers are clipped while reading, then the network is cut to the buffered area).
    buffer_m
        Margin around the boundary, so that trips may leave the area a little.
    layer, class_column, classes, known_classes, oneway_column, speed_column
        Options of line layers (:func:`planner.inputs.centrelines.read_centrelines`); refused for the
        other formats when given.
    coordinate_system, node_crossings
        Options of line layers too: GCJ-02/BD-09 lon/lat converted on load; the crossing rule.

    Raises
    ------
    InputFileNotFoundError
        No such file.
    InputDataError
        Unreadable/truncated file, unsupported extension, no roads in the area, edges without length,
        and the problems of a centreline layer (no class column, unknown classes, …).
    """
    p = check_exists(path, what="roads")
    polygon = _area_polygon(boundary, buffer_m)
    options = {
        "layer": layer,
        "class_column": class_column,
        "classes": classes,
        "known_classes": tuple(known_classes),
        "oneway_column": oneway_column,
        "speed_column": speed_column,
        "coordinate_system": coordinate_system,
        "node_crossings": node_crossings,
    }
    _refuse_layer_options(p, options)
    table = _read_any(p, polygon, options)
    if polygon is not None and table.n_nodes:
        table = table.subset_nodes(shapely.intersects_xy(polygon, table.x, table.y))
    if table.n_nodes == 0 or table.n_edges == 0:
        raise InputDataError(
            problems=[
                Problem(
                    "the road network has no roads inside the study area",
                    file=p,
                    fix="use a road file that covers the study area (check its CRS and extent)",
                )
            ]
        )
    _check_edges(table, p)
    table = replace(table, crs="epsg:4326")
    logger.info(
        "roads: %s nodes, %s edges, %.1f km (edge length summed)",
        f"{table.n_nodes:,}",
        f"{table.n_edges:,}",
        float(np.nansum(table.length)) / 1000.0,
    )
    return table


def _refuse_layer_options(p: Path, options: Mapping[str, Any]) -> None:
    if p.name.lower().endswith(LINE_SUFFIXES):
        return
    # known_classes is information (the classes the scenario has speeds for), never a request
    given = [k for k, v in options.items() if k != "known_classes" and v not in (None, {}, "wgs84")]
    if given:
        raise InputDataError(
            problems=[
                Problem(
                    f"{', '.join(given)} apply to road centreline layers, not to {p.suffix} files",
                    file=p,
                    location="inputs.roads",
                    fix="remove them, or use a line layer (.gpkg, .shp, .geojson, .fgb)",
                )
            ]
        )


def read_roads(path: Path | str, **options: Any) -> nx.MultiDiGraph:
    """Read a road network as an osmnx ``MultiDiGraph`` in WGS-84 (see :func:`read_road_table`).

    Parameters
    ----------
    path
        The road file.
    **options
        The keyword options of :func:`read_road_table` (``boundary``, ``buffer_m``, …).

    Returns
    -------
    networkx.MultiDiGraph
        ``G.graph["crs"]`` EPSG:4326; edges carry ``highway``, ``oneway``, ``length`` (m) and, when
        known, ``maxspeed``, ``name``, ``geometry``. Every component is kept.
    """
    return read_road_table(path, **options).to_networkx()
