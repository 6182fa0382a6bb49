"""Chinese coordinate systems: WGS-84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

GCJ-02 is WGS-84 shifted by an obfuscating function (the published "Krasovsky" formula that every
open implementation uses); BD-09 is a further rotation/offset of GCJ-02. The forward directions are
closed formulas. The inverses are not, so they are solved here by fixed-point iteration of the
forward formula until the residual is below ``1e-10`` degrees (about 0.01 mm) instead of the
common one-step approximation (which is off by up to a few metres).

Outside China the GCJ-02 shift is not applied (the usual ``out_of_china`` box), as the Chinese
map providers do. Every function is vectorised over numpy arrays and accepts scalars too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, Problem

CoordinateSystem: TypeAlias = Literal["wgs84", "gcj02", "bd09"]
COORDINATE_SYSTEMS: tuple[CoordinateSystem, ...] = ("wgs84", "gcj02", "bd09")

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]
_Forward: TypeAlias = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-10
_MAX_ITER = 30


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether points lie outside the box where GCJ-02 applies.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray
        True where the point is outside ``72.004–137.8347 E, 0.8293–55.8271 N``.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    return ~((x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271))


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.array(x, dtype=float), np.array(y, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to GCJ-02 (the published forward formula).

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees (scalars or arrays of one shape).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude; points outside China are returned unchanged.
    """
    x, y = _as_arrays(lon, lat)
    dlat = _transform_lat(x - 105.0, y - 35.0)
    dlon = _transform_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(x, y)
    return np.where(outside, x, x + dlon), np.where(outside, y, y + dlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to BD-09 (Baidu's published forward formula).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude.
    """
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(
    forward: _Forward, target_lon: FloatArray, target_lat: FloatArray, start: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(p) == target`` by fixed-point iteration from ``start``."""
    x, y = start
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - target_lon, fy - target_lat
        x = x - ex
        y = y - ey
        if max(float(np.max(np.abs(ex), initial=0.0)), float(np.max(np.abs(ey), initial=0.0))) < _TOL_DEG:
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to WGS-84, the exact inverse of :func:`wgs84_to_gcj02`.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 longitude and latitude, such that ``wgs84_to_gcj02`` of them reproduces the input to
        better than 1e-9 degrees.
    """
    x, y = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, x, y, (x.copy(), y.copy()))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to GCJ-02, the exact inverse of :func:`gcj02_to_bd09`.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude.
    """
    x, y = _as_arrays(lon, lat)
    # Baidu's published one-step inverse as the starting point.
    xx, yy = x - 0.0065, y - 0.006
    z = np.sqrt(xx * xx + yy * yy) - 0.00002 * np.sin(yy * _X_PI)
    theta = np.arctan2(yy, xx) - 0.000003 * np.cos(xx * _X_PI)
    start = (z * np.cos(theta), z * np.sin(theta))
    return _invert(gcj02_to_bd09, x, y, start)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS-84 (through GCJ-02, both steps exact)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, coordinate_system: CoordinateSystem
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates given in ``coordinate_system`` to WGS-84.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.
    coordinate_system
        ``"wgs84"`` (returned unchanged), ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 longitude and latitude.
    """
    if coordinate_system == "wgs84":
        return _as_arrays(lon, lat)
    if coordinate_system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if coordinate_system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise InputDataError(
        problems=[
            Problem(
                f"unknown coordinate system {coordinate_system!r}",
                location="coordinate_system",
                fix=f"use one of {', '.join(COORDINATE_SYSTEMS)}",
            )
        ]
    )


def geometry_to_wgs84(geometry: BaseGeometry, coordinate_system: CoordinateSystem) -> BaseGeometry:
    """Convert every vertex of a shapely geometry from ``coordinate_system`` to WGS-84.

    Parameters
    ----------
    geometry
        A geometry whose coordinates are longitude/latitude in ``coordinate_system``.
    coordinate_system
        The system the coordinates are in.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The same geometry with WGS-84 coordinates.
    """
    if coordinate_system == "wgs84":
        return geometry

    def _convert(coords: FloatArray) -> FloatArray:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], coordinate_system)
        return np.column_stack([x, y])

    return shapely.transform(geometry, _convert)
