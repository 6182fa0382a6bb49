"""Small geometry helpers shared by the stages."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

__all__ = ["points_xy"]


def points_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) coordinates of a point layer in its (projected) CRS; rows without geometry get NaN."""
    geom = frame.geometry
    xy = np.full((len(frame), 2), np.nan)
    has = ~(geom.isna() | geom.is_empty).to_numpy()
    if has.any():
        xy[has, 0] = geom[has].x.to_numpy()
        xy[has, 1] = geom[has].y.to_numpy()
    return xy
