"""Population raster -> demand points: totals preserved, nodata, CRSs, bad rasters."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from planner.errors import CRSError, InputDataError
from planner.inputs import read_population_demand

UTM50 = CRS.from_epsg(32650)


def _tif(
    path: Path, data: np.ndarray, *, transform: object, crs: object | None, nodata: float | None = None
) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def _boundary_utm(geom: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"county_code": ["x"], "county_name": ["x"]}, geometry=[geom], crs=UTM50).to_crs(
        4326
    )


def test_aggregation_sums_blocks_inside_the_boundary(tmp_path: Path) -> None:
    # 10 x 10 cells of 100 m, origin (500000, 4400000); values 1..100.
    data = np.arange(1, 101, dtype=float).reshape(10, 10)
    x0, y0 = 500000.0, 4400000.0
    path = _tif(tmp_path / "p.tif", data, transform=from_origin(x0, y0, 100, 100), crs=UTM50)
    # Boundary: the west 6 columns and north 6 rows (cells whose centres are inside: rows 0-5, cols 0-5).
    area = box(x0, y0 - 600, x0 + 600, y0)
    demand, report = read_population_demand(
        path, boundary=_boundary_utm(area), crs=UTM50, resolution_m=200, household_size=2.5
    )
    inside = data[:6, :6]
    # Independent: 2 x 2 block sums of the inside cells (target grid aligned with the raster).
    blocks = inside.reshape(3, 2, 3, 2).sum(axis=(1, 3))
    assert report.total_window == pytest.approx(inside.sum())  # the window read is the bbox
    assert report.total_inside == pytest.approx(inside.sum())
    assert report.total_outside == pytest.approx(0.0)
    assert report.total_after == pytest.approx(inside.sum())
    assert len(demand) == 9
    assert list(demand.columns) == [
        "demand_id",
        "population",
        "households",
        "area_class",
        "township_code",
        "village_code",
        "geometry",
    ]
    assert demand["demand_id"].tolist() == list(range(9))
    # Block (r, c) has centre (x0 + 100 + 200c, y0 - 100 - 200r).
    for r in range(3):
        for c in range(3):
            hit = demand[demand.geometry.geom_equals(Point(x0 + 100 + 200 * c, y0 - 100 - 200 * r))]
            assert len(hit) == 1
            assert hit["population"].iloc[0] == pytest.approx(blocks[r, c])
    np.testing.assert_allclose(demand["households"], demand["population"] / 2.5)
    assert (demand["area_class"] == "").all() and (demand["village_code"] == "").all()


def test_nodata_negative_and_nan_cells_are_excluded(tmp_path: Path) -> None:
    data = np.full((4, 4), 10.0)
    data[0, 0] = -99999.0  # declared nodata
    data[1, 1] = np.nan
    data[2, 2] = -5.0  # undeclared negative
    path = _tif(
        tmp_path / "n.tif", data, transform=from_origin(500000, 4400000, 100, 100), crs=UTM50, nodata=-99999.0
    )
    area = box(500000, 4400000 - 400, 500400, 4400000)
    demand, report = read_population_demand(
        path, boundary=_boundary_utm(area), crs=UTM50, resolution_m=100, household_size=3
    )
    assert report.nodata_cells == 3
    assert report.total_after == pytest.approx(13 * 10.0)
    assert len(demand) == 13
    assert any("negative" in n for n in report.notes)


def test_geographic_raster_total_matches_cell_centres_inside(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    data = rng.uniform(0, 50, size=(30, 40))
    data[rng.uniform(size=data.shape) < 0.3] = 0.0
    res = 1 / 1200  # 3 arc-seconds, like WorldPop 100 m
    west, north = 116.30, 39.95
    path = _tif(tmp_path / "g.tif", data, transform=from_origin(west, north, res, res), crs=4326)
    area = Point(116.317, 39.937).buffer(0.01)  # a circle in degrees, inside the raster
    boundary = gpd.GeoDataFrame({"county_code": ["1"], "county_name": ["c"]}, geometry=[area], crs=4326)
    demand, report = read_population_demand(
        path, boundary=boundary, crs=UTM50, resolution_m=250, household_size=2.62
    )
    # Independent: sum the cells whose centre lies in the circle (shapely point-in-polygon).
    rows, cols = np.indices(data.shape)
    cx = west + (cols + 0.5) * res
    cy = north - (rows + 0.5) * res
    inside = np.array([area.contains(Point(x, y)) for x, y in zip(cx.ravel(), cy.ravel(), strict=True)])
    expected = data.ravel()[inside].sum()
    assert report.subdivision == 1
    assert report.total_inside == pytest.approx(expected, rel=1e-9)
    assert demand["population"].sum() == pytest.approx(expected, rel=1e-9)
    # Every demand point is a 250 m cell centre of the work CRS grid.
    xs, _ys = demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()
    assert np.allclose((xs - 125) % 250, 0) or np.allclose(np.mod(xs - 125, 250) % 250, 0)
    assert demand.crs == UTM50


def test_coarse_cells_are_spread_over_their_area(tmp_path: Path) -> None:
    # One 1 km cell of 100 people, boundary covering it fully: 100 target cells of 100 m with 1 person.
    data = np.array([[100.0, 0.0], [0.0, 0.0]])
    path = _tif(tmp_path / "c.tif", data, transform=from_origin(500000, 4400000, 1000, 1000), crs=UTM50)
    area = box(499900, 4398900, 501100, 4400100)
    demand, report = read_population_demand(
        path, boundary=_boundary_utm(area), crs=UTM50, resolution_m=100, household_size=2
    )
    assert report.subdivision == 10
    assert len(demand) == 100
    np.testing.assert_allclose(demand["population"], 1.0)
    assert demand.geometry.x.min() == pytest.approx(500050) and demand.geometry.x.max() == pytest.approx(
        500950
    )
    # Half of the cell inside the boundary -> half of the people.
    half = box(500000, 4399000, 500500, 4400000)
    demand2, report2 = read_population_demand(
        path, boundary=_boundary_utm(half), crs=UTM50, resolution_m=100, household_size=2
    )
    assert report2.total_after == pytest.approx(50.0)
    assert report2.total_outside == pytest.approx(50.0)
    assert len(demand2) == 50


def test_mollweide_raster(tmp_path: Path) -> None:
    moll = CRS.from_string("ESRI:54009")  # GHSL's CRS
    tr = Transformer.from_crs(4326, moll, always_xy=True)
    mx, my = tr.transform(116.3, 39.95)
    data = np.ones((20, 20)) * 4.0
    path = _tif(tmp_path / "m.tif", data, transform=from_origin(mx, my, 100, 100), crs=moll)
    # Boundary = the raster footprint shrunk by 230 m on each side, drawn in Mollweide.
    area_m = box(mx + 230, my - 1770, mx + 1770, my - 230)
    boundary = gpd.GeoDataFrame({"county_code": ["1"], "county_name": ["c"]}, geometry=[area_m], crs=moll)
    _demand, report = read_population_demand(
        path, boundary=boundary.to_crs(4326), crs=UTM50, resolution_m=500, household_size=2.62
    )
    # Cell j spans [100 j, 100 j + 100] m from the origin; centres 100 j + 50 inside (230, 1770): j = 2..17.
    assert report.total_inside == pytest.approx(16 * 16 * 4.0)
    assert report.total_window == pytest.approx(16 * 16 * 4.0)  # the window: cells the bbox touches
    assert report.total_after == pytest.approx(report.total_inside)


def test_raster_without_crs_or_overlap_is_an_error(tmp_path: Path) -> None:
    data = np.ones((3, 3))
    nocrs = _tif(tmp_path / "nocrs.tif", data, transform=from_origin(500000, 4400000, 100, 100), crs=None)
    b = _boundary_utm(box(500000, 4399700, 500300, 4400000))
    with pytest.raises(CRSError, match="no CRS") as err:
        read_population_demand(nocrs, boundary=b, crs=UTM50, resolution_m=100, household_size=2)
    assert "nocrs.tif" in str(err.value) and "Fix:" in str(err.value)
    far = _tif(tmp_path / "far.tif", data, transform=from_origin(600000, 4400000, 100, 100), crs=UTM50)
    with pytest.raises(InputDataError, match="does not overlap") as err2:
        read_population_demand(far, boundary=b, crs=UTM50, resolution_m=100, household_size=2)
    assert "far.tif" in str(err2.value)
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(InputDataError, match="cannot read the raster"):
        read_population_demand(bad, boundary=b, crs=UTM50, resolution_m=100, household_size=2)
    with pytest.raises(CRSError, match="projected"):
        read_population_demand(far, boundary=b, crs=CRS.from_epsg(4326), resolution_m=100, household_size=2)


def test_partial_coverage_is_noted(tmp_path: Path) -> None:
    data = np.ones((4, 4))
    path = _tif(tmp_path / "p.tif", data, transform=from_origin(500000, 4400000, 100, 100), crs=UTM50)
    b = _boundary_utm(box(500000, 4399600, 500800, 4400000))  # twice as wide as the raster
    _demand, report = read_population_demand(path, boundary=b, crs=UTM50, resolution_m=100, household_size=2)
    assert report.coverage_fraction == pytest.approx(0.5, abs=1e-3)
    assert any("covers only" in n for n in report.notes)
    assert report.total_after == pytest.approx(16.0)


def test_rasters_coarser_than_500_m_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = np.full((2, 2), 100.0)
    area = _boundary_utm(box(500000, 4398000, 502000, 4400000))
    coarse = _tif(tmp_path / "c.tif", data, transform=from_origin(500000, 4400000, 1000, 1000), crs=UTM50)
    with caplog.at_level("WARNING", logger="planner.inputs.population"):
        _, report = read_population_demand(
            coarse, boundary=area, crs=UTM50, resolution_m=200, household_size=2
        )
    assert report.coarse and report.source_cell_m == pytest.approx(1000.0)
    warning = report.as_dict()["warning"]
    assert "~1,000 m (1.0 km), coarser than 500 m" in warning and "spread evenly" in warning
    assert warning in report.notes and "coarser than 500 m" in caplog.text
    fine = _tif(
        tmp_path / "f.tif",
        np.full((20, 20), 1.0),
        transform=from_origin(500000, 4400000, 100, 100),
        crs=UTM50,
    )
    _, report = read_population_demand(fine, boundary=area, crs=UTM50, resolution_m=200, household_size=2)
    assert not report.coarse and report.as_dict()["warning"] is None
