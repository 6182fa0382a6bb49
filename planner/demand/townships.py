"""Townships when the scenario gives no polygons, and the township of every point layer.

The township list is the union of the township polygons (when given) and the register's townships
(the 9-digit prefixes of the village codes, named as the register names them). A township without a
polygon is kept with geometry None: the code-based checks still see it (its villages, its outlets),
while nothing can be mapped or counted by area in it. There is never a township without a code: people
outside every township polygon are counted as such (township code ``""``), not as a township.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely import voronoi_polygons
from shapely.geometry import MultiPoint

__all__ = [
    "register_townships",
    "townships_from_villages",
    "with_register_townships",
    "with_township",
    "with_village",
]


def register_townships(villages: pd.DataFrame) -> pd.DataFrame:
    """The register's townships: ``township_code`` and ``township_name`` (first non-blank name), sorted."""
    if len(villages) == 0:
        return pd.DataFrame(
            {"township_code": pd.Series(dtype=object), "township_name": pd.Series(dtype=object)}
        )
    frame = pd.DataFrame(
        {
            "township_code": villages["township_code"].astype(str).to_numpy(),
            "township_name": villages["township_name"].fillna("").astype(str).to_numpy(),
        }
    )
    frame = frame[frame["township_code"] != ""]
    named = frame.sort_values("township_name", key=lambda s: s == "", kind="stable")
    return named.drop_duplicates("township_code").sort_values("township_code").reset_index(drop=True)


def with_register_townships(townships: gpd.GeoDataFrame, villages: pd.DataFrame) -> gpd.GeoDataFrame:
    """Townships with blank names named from the register, and the register's other townships added.

    Added townships have geometry None (no area).
    """
    register = register_townships(villages)
    names = dict(zip(register["township_code"], register["township_name"], strict=True))
    out = townships.copy()
    codes = out["township_code"].astype(str)
    blank = out["township_name"].fillna("").astype(str).str.strip() == ""
    out.loc[blank, "township_name"] = codes[blank].map(names).fillna("")
    missing = register[~register["township_code"].isin(set(codes))]
    if len(missing) == 0:
        return out
    extra = gpd.GeoDataFrame(missing, geometry=[None] * len(missing), crs=townships.crs)
    return gpd.GeoDataFrame(pd.concat([out, extra], ignore_index=True), crs=townships.crs)


def townships_from_villages(villages: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Township areas when no polygons are given: the located villages' Voronoi cells, by township.

    The Voronoi cells of the villages with coordinates are dissolved by township and clipped to the
    boundary (an approximation: with few villages located, a township's area reaches over its
    neighbours'). With fewer than two located villages there are no areas. Every register township is
    returned, named from the register; those without an area have geometry None.
    """
    pts = villages[villages.geometry.notna() & ~villages.geometry.is_empty]
    empty = gpd.GeoDataFrame(
        {"township_code": pd.Series(dtype=object), "township_name": pd.Series(dtype=object)},
        geometry=gpd.GeoSeries([], crs=boundary.crs),
    )
    if len(pts) < 2:
        return with_register_townships(empty, villages)
    area = boundary.union_all()
    cells = voronoi_polygons(MultiPoint(list(pts.geometry)), extend_to=area)
    cell_frame = gpd.GeoDataFrame(geometry=list(cells.geoms), crs=boundary.crs)
    joined = gpd.sjoin(cell_frame, pts[["township_code", "geometry"]], predicate="contains")
    dissolved = joined.dissolve(by="township_code").reset_index()
    dissolved["geometry"] = dissolved.geometry.intersection(area)
    dissolved["township_name"] = ""
    polygons = gpd.GeoDataFrame(dissolved[["township_code", "township_name", "geometry"]], crs=boundary.crs)
    return with_register_townships(polygons, villages)


def with_township(points: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``township_code`` from the township polygon each point lies in (nearest within 1 km else)."""
    points = points.copy()
    if len(points) == 0:
        points["township_code"] = pd.Series(dtype=object)
        return points
    valid = points.geometry.notna() & ~points.geometry.is_empty
    codes = pd.Series("", index=points.index, dtype=object)
    areas = townships[townships.geometry.notna() & ~townships.geometry.is_empty]
    if valid.any() and len(areas):
        joined = gpd.sjoin_nearest(
            points.loc[valid, ["geometry"]], areas[["township_code", "geometry"]], max_distance=1000
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
