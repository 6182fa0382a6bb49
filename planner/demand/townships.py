"""Townships when the scenario gives no polygons, and the township of every point layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint

__all__ = ["townships_from_villages", "with_township", "with_village"]


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


def with_village(
    points: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *, cell_size_m: float
) -> gpd.GeoDataFrame:
    """Fill a missing ``village_code`` from the demand cell each point lies in.

    A facility or candidate site without a village code belongs to the village or community of its
    demand cell (the cell whose centre is within half a cell diagonal), so that the count standards
    measured per community see it; points outside every populated cell keep ``""``.
    """
    points = points.copy()
    codes = points["village_code"].astype(object).where(points["village_code"].notna(), "").astype(str)
    codes = codes.str.strip().replace({"nan": "", "None": ""})
    missing = (codes == "").to_numpy() & (points.geometry.notna() & ~points.geometry.is_empty).to_numpy()
    if missing.any() and len(demand):
        cells = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
        xy = np.column_stack([points.geometry.x.to_numpy()[missing], points.geometry.y.to_numpy()[missing]])
        dist, idx = cKDTree(cells).query(xy)
        found = dist <= cell_size_m * np.sqrt(0.5) + 1e-6
        fill = np.where(found, demand["village_code"].astype(str).to_numpy()[idx], "")
        codes.iloc[np.flatnonzero(missing)] = fill
    points["village_code"] = codes.to_numpy()
    return points
