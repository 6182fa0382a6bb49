"""Coordinate conversions WGS-84 / GCJ-02 / BD-09 against published reference values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from planner.inputs.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Published results for (116.404, 39.915) from wandergis/coordtransform, test/app.js.
REF_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
REF_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# The same file's inverses use the one-step approximation (error up to ~1e-6 degrees).
REF_BD09_TO_GCJ02_APPROX = (116.39762729119315, 39.90865673957631)
REF_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)

china_lon = st.floats(min_value=73.5, max_value=134.7)
china_lat = st.floats(min_value=18.2, max_value=53.5)


def test_forward_formulas_match_published_values() -> None:
    x, y = wgs84_to_gcj02(116.404, 39.915)
    assert float(x) == pytest.approx(REF_WGS84_TO_GCJ02[0], abs=1e-12)
    assert float(y) == pytest.approx(REF_WGS84_TO_GCJ02[1], abs=1e-12)
    x, y = gcj02_to_bd09(116.404, 39.915)
    assert float(x) == pytest.approx(REF_GCJ02_TO_BD09[0], abs=1e-12)
    assert float(y) == pytest.approx(REF_GCJ02_TO_BD09[1], abs=1e-12)


def test_exact_inverses_are_close_to_the_published_approximations_and_exact() -> None:
    x, y = gcj02_to_wgs84(116.404, 39.915)
    assert float(x) == pytest.approx(REF_GCJ02_TO_WGS84_APPROX[0], abs=2e-6)
    assert float(y) == pytest.approx(REF_GCJ02_TO_WGS84_APPROX[1], abs=2e-6)
    fx, fy = wgs84_to_gcj02(x, y)
    assert abs(float(fx) - 116.404) < 1e-9 and abs(float(fy) - 39.915) < 1e-9
    x, y = bd09_to_gcj02(116.404, 39.915)
    assert float(x) == pytest.approx(REF_BD09_TO_GCJ02_APPROX[0], abs=2e-6)
    assert float(y) == pytest.approx(REF_BD09_TO_GCJ02_APPROX[1], abs=2e-6)
    fx, fy = gcj02_to_bd09(x, y)
    assert abs(float(fx) - 116.404) < 1e-9 and abs(float(fy) - 39.915) < 1e-9


def test_gcj02_shift_in_beijing_is_a_few_hundred_metres() -> None:
    # The known size of the obfuscation: between ~100 m and ~700 m in eastern China.
    x, y = wgs84_to_gcj02(116.404, 39.915)
    _, _, dist = Geod(ellps="WGS84").inv(116.404, 39.915, float(x), float(y))
    assert 300 < dist < 700


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_round_trips_inside_china(lon: float, lat: float) -> None:
    for fwd, inv in (
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
        (wgs84_to_bd09, bd09_to_wgs84),
    ):
        x, y = inv(*fwd(lon, lat))
        assert abs(float(x) - lon) < 1e-8 and abs(float(y) - lat) < 1e-8


def test_vectorised_and_outside_china_unchanged() -> None:
    lon = np.array([116.404, 2.35, 139.69])  # Beijing, Paris, Tokyo (east of the GCJ-02 box)
    lat = np.array([39.915, 48.85, 35.69])
    x, y = wgs84_to_gcj02(lon, lat)
    assert x.shape == (3,)
    assert x[1] == 2.35 and y[1] == 48.85
    assert x[2] == 139.69 and y[2] == 35.69
    assert x[0] != 116.404
    back = gcj02_to_wgs84(x, y)
    np.testing.assert_allclose(back[0], lon, atol=1e-9)
    np.testing.assert_allclose(back[1], lat, atol=1e-9)


def test_to_wgs84_dispatch_and_geometry() -> None:
    from shapely.geometry import Polygon

    gx, gy = wgs84_to_gcj02([116.0, 116.1, 116.1], [40.0, 40.0, 40.1])
    poly = Polygon(zip(gx, gy, strict=True))
    back = geometry_to_wgs84(poly, "gcj02")
    coords = np.asarray(back.exterior.coords)[:3]
    np.testing.assert_allclose(coords[:, 0], [116.0, 116.1, 116.1], atol=1e-9)
    np.testing.assert_allclose(coords[:, 1], [40.0, 40.0, 40.1], atol=1e-9)
    bx, by = wgs84_to_bd09(116.0, 40.0)
    x, y = to_wgs84(bx, by, "bd09")
    assert abs(float(x) - 116.0) < 1e-9 and abs(float(y) - 40.0) < 1e-9
    assert to_wgs84(1.0, 2.0, "wgs84") == (1.0, 2.0)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(1.0, 2.0, "utm")  # type: ignore[arg-type]
