"""The road layer of the maps: the road graph's edges as simplified lines, by class.

The pipeline reads the roads as an OSMnx graph; :func:`road_lines` turns it into a small
GeoDataFrame (``road_class``: major/secondary/minor, LineString geometry in the work CRS) that the
outputs draw when a run carries it as ``RunResult.extra_tables["roads"]``. Footways, paths and steps
are left out; lines are simplified to ``simplify_m`` metres and merged per class.
"""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

#: OSM ``highway`` values by drawn class; others (footway, path, steps …) are not drawn.
ROAD_CLASSES: Final[dict[str, str]] = {
    **dict.fromkeys(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"), "major"),
    **dict.fromkeys(("secondary", "tertiary", "secondary_link", "tertiary_link"), "secondary"),
    **dict.fromkeys(("unclassified", "residential", "living_street", "service", "track", "road"), "minor"),
}


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list | tuple) and value else value)


def road_lines(graph: Any, *, crs: CRS, simplify_m: float = 15.0) -> gpd.GeoDataFrame:
    """The edges of an OSMnx road graph as merged, simplified lines with a ``road_class``.

    Parameters
    ----------
    graph
        A ``networkx.MultiDiGraph`` with node ``x``/``y`` and edge ``highway`` (OSMnx form).
    crs
        The work CRS (metres) to return the lines in.
    simplify_m
        Douglas–Peucker tolerance in metres.
    """
    import osmnx as ox

    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    cls = edges["highway"].map(lambda h: ROAD_CLASSES.get(_first(h)))
    edges = edges.assign(road_class=cls)[cls.notna()].to_crs(crs)
    rows = []
    for name, grp in edges.groupby("road_class"):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.to_numpy()))
        rows.append(
            {"road_class": name, "geometry": shapely.simplify(merged, simplify_m, preserve_topology=False)}
        )
    frame = pd.DataFrame(rows, columns=["road_class", "geometry"])
    return (
        gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
        .explode(index_parts=False)
        .reset_index(drop=True)
    )


#: Free-flow car speeds (km/h) from which an edge is drawn as a major / secondary road: the default
#: car speeds put motorway, trunk and primary at 50 km/h or more, secondary and tertiary at 35–40.
MAJOR_KMH: Final = 47.5
SECONDARY_KMH: Final = 32.5


def road_lines_from_network(net: Any, *, simplify_m: float = 15.0) -> gpd.GeoDataFrame:
    """The road layer from the car network the run already holds (no second read of the road file).

    The class comes from each edge's free-flow car speed (``MAJOR_KMH``, ``SECONDARY_KMH``), which the
    mode derives from the road class or the ``maxspeed`` tag.
    """
    import numpy as np

    seconds = np.fmin(net.edge_fwd_s, net.edge_bwd_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(seconds > 0, net.edge_length_m / seconds * 3.6, 0.0)
    classes = np.where(kmh >= MAJOR_KMH, "major", np.where(kmh >= SECONDARY_KMH, "secondary", "minor"))
    rows = []
    for name in ("major", "secondary", "minor"):
        geoms = net.edge_geometry[classes == name]
        if len(geoms):
            # the edges already meet at the graph's nodes: merged into chains without a union
            # (a union of a prefecture's edges nodes them again, 50 s for nothing)
            merged = shapely.line_merge(shapely.multilinestrings(geoms))
            rows.append(
                {
                    "road_class": name,
                    "geometry": shapely.simplify(merged, simplify_m, preserve_topology=False),
                }
            )
    frame = pd.DataFrame(rows, columns=["road_class", "geometry"])
    return (
        gpd.GeoDataFrame(frame, geometry="geometry", crs=net.crs)
        .explode(index_parts=False)
        .reset_index(drop=True)
    )
