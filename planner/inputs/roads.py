"""Road networks: osmnx GraphML, OSM XML (``.osm``) and OSM PBF (``.osm.pbf``) → osmnx MultiDiGraph.

The result is always an osmnx-compatible ``MultiDiGraph`` in WGS-84 (graph attribute ``crs``),
nodes with ``x``/``y``, edges with ``highway``, ``oneway``, ``length`` (m) and, when tagged,
``maxspeed`` and ``name``.

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
import math
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import shapely
from pyproj import CRS

from planner.errors import InputDataError, Problem
from planner.inputs.tables import WGS84, check_exists

logger = logging.getLogger(__name__)

#: highway values osmnx's "all" network type excludes.
EXCLUDED_HIGHWAYS = frozenset(
    {"abandoned", "construction", "no", "planned", "platform", "proposed", "raceway", "razed", "disused"}
)
#: Above this file size node locations are kept in a temporary file instead of memory.
DISK_INDEX_BYTES = 512 * 2**20
_PBF_FIX = "the file is damaged or truncated: download the extract again (e.g. from Geofabrik)"


def _graph_crs_ok(G: nx.MultiDiGraph) -> bool:
    crs = G.graph.get("crs")
    return crs is not None and CRS.from_user_input(crs).equals(WGS84)


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


def _load_graphml(path: Path) -> nx.MultiDiGraph:
    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # ElementTree ParseError, KeyError on missing x/y, ValueError on bad types
        raise InputDataError(
            problems=[
                Problem(
                    f"cannot read the GraphML road network: {exc}",
                    file=path,
                    fix="save it with osmnx.save_graphml (nodes need x/y, edges need length)",
                )
            ]
        ) from exc
    if "crs" not in G.graph:
        raise InputDataError(
            problems=[
                Problem(
                    "the GraphML has no 'crs' graph attribute",
                    file=path,
                    fix="save it with osmnx.save_graphml, which records the CRS",
                )
            ]
        )
    if not _graph_crs_ok(G):
        G = ox.project_graph(G, to_latlong=True)
    return G


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
        G = ox.graph_from_xml(tmp_xml, bidirectional=False, simplify=True, retain_all=True)
    logger.debug("osm: %d nodes, %d ways streamed from %s", n_nodes, n_ways, path)
    return G


def _check_edges(G: nx.MultiDiGraph, path: Path) -> None:
    problems: list[Problem] = []
    for u, v, k, data in G.edges(keys=True, data=True):
        length = data.get("length")
        if length is None or not isinstance(length, (int, float)) or math.isnan(length) or length < 0:
            problems.append(
                Problem(
                    f"edge ({u}, {v}, {k}) has no valid length: {length!r}",
                    file=path,
                    location=f"edge {u}-{v}",
                    fix="recompute with osmnx.distance.add_edge_lengths",
                )
            )
        if "highway" not in data:
            problems.append(
                Problem(f"edge ({u}, {v}, {k}) has no highway tag", file=path, location=f"edge {u}-{v}")
            )
        if len(problems) >= 20:
            break
    if problems:
        raise InputDataError(
            f"the road network {path} has bad edges (first {len(problems)} shown):", problems=problems
        )


def read_roads(
    path: Path | str, *, boundary: gpd.GeoDataFrame | None = None, buffer_m: float = 2000.0
) -> nx.MultiDiGraph:
    """Read a road network as an osmnx MultiDiGraph in WGS-84.

    Parameters
    ----------
    path
        ``.graphml`` (osmnx), ``.osm``/``.xml`` (OSM XML) or ``.osm.pbf``.
    boundary
        The study area (any CRS). When given, only roads within ``buffer_m`` of it are kept
        (``.osm``/``.pbf`` are clipped while streaming, then the graph is truncated to the buffered
        area).
    buffer_m
        Margin around the boundary, so that trips may leave the area a little.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph, ``G.graph["crs"]`` EPSG:4326; edges carry ``highway``, ``oneway``, ``length``
        (m) and, when tagged, ``maxspeed``, ``name``. Every component is kept.

    Raises
    ------
    InputFileNotFoundError
        No such file.
    InputDataError
        Unreadable/truncated file, unsupported extension, no roads in the area, edges without length.
    """
    p = check_exists(path, what="roads")
    name = p.name.lower()
    polygon = _area_polygon(boundary, buffer_m)
    if name.endswith(".graphml"):
        G = _load_graphml(p)
    elif name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.xml", ".xml")):
        G = _load_osm(p, polygon)
    else:
        raise InputDataError(
            problems=[
                Problem(
                    f"unsupported road file type {p.suffix!r}",
                    file=p,
                    fix="use osmnx GraphML (.graphml), OSM XML (.osm) or OSM PBF (.osm.pbf)",
                )
            ]
        )
    if polygon is not None and len(G):
        ids = list(G.nodes)
        xs = np.array([G.nodes[n]["x"] for n in ids], dtype=float)
        ys = np.array([G.nodes[n]["y"] for n in ids], dtype=float)
        keep = shapely.intersects_xy(polygon, xs, ys)
        G = G.subgraph([n for n, k in zip(ids, keep, strict=True) if k]).copy()
    if len(G) == 0 or G.number_of_edges() == 0:
        raise InputDataError(
            problems=[
                Problem(
                    "the road network has no roads inside the study area",
                    file=p,
                    fix="use a road file that covers the study area (check its CRS and extent)",
                )
            ]
        )
    _check_edges(G, p)
    G.graph["crs"] = "epsg:4326"
    km = sum(d["length"] for _, _, d in G.edges(data=True)) / 1000.0
    logger.info(
        "roads: %s nodes, %s edges, %.1f km (edge length summed)",
        f"{len(G):,}",
        f"{G.number_of_edges():,}",
        km,
    )
    return G
