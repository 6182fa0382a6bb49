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
        rows.append({"road_class": name, "geometry": shapely.simplify(merged, simplify_m)})
    frame = pd.DataFrame(rows, columns=["road_class", "geometry"])
    return (
        gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
        .explode(index_parts=False)
        .reset_index(drop=True)
    )
