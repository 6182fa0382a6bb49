"""Townships when the scenario gives no polygons, and the township of every point layer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint

__all__ = ["townships_from_villages", "with_township"]


def townships_from_villages(villages: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Township polygons when none are given: village Voronoi cells dissolved by township, clipped."""
    pts = villages[villages.geometry.notna() & ~villages.geometry.is_empty]
    if len(pts) < 2:
        return gpd.GeoDataFrame(
            {"township_code": [""], "township_name": [""]}, geometry=list(boundary.geometry), crs=boundary.crs
        )
    area = boundary.union_all()
    cells = voronoi_polygons(MultiPoint(list(pts.geometry)), extend_to=area)
    cell_frame = gpd.GeoDataFrame(geometry=list(cells.geoms), crs=boundary.crs)
    joined = gpd.sjoin(cell_frame, pts[["township_code", "township_name", "geometry"]], predicate="contains")
    dissolved = joined.dissolve(by=["township_code", "township_name"]).reset_index()
    dissolved["geometry"] = dissolved.geometry.intersection(area)
    return dissolved[["township_code", "township_name", "geometry"]]


def with_township(points: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``township_code`` from the township polygon each point lies in (nearest within 1 km else)."""
    points = points.copy()
    if len(points) == 0:
        points["township_code"] = pd.Series(dtype=object)
        return points
    valid = points.geometry.notna() & ~points.geometry.is_empty
    codes = pd.Series("", index=points.index, dtype=object)
    if valid.any() and len(townships):
        joined = gpd.sjoin_nearest(
            points.loc[valid, ["geometry"]], townships[["township_code", "geometry"]], max_distance=1000
        )
        joined = joined[~joined.index.duplicated()]
        codes.loc[joined.index] = joined["township_code"].astype(str)
    points["township_code"] = codes
    return points
