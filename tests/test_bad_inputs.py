"""A corpus of broken inputs, built in code from a small synthetic county, walked through the CLI.

Each kind breaks one thing (a file's contents, the scenario, the profile, the output folder). For every
kind ``planner validate`` and ``planner run`` must exit 2 without a traceback, name the broken file,
write nothing (no output folder, no temporary folder, no new file anywhere in the case folder) and
leave every input byte-identical. Three broken files at once are all named in one report.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from small_county import make_small_county
from typer.testing import CliRunner

from planner.cli.app import app


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic county and its scenario, made once."""
    return make_small_county(tmp_path_factory.mktemp("county"))


# ------------------------------------------------------------------------------------------------
# editing helpers
# ------------------------------------------------------------------------------------------------


def _edit_text(path: Path, edit: Callable[[str], str]) -> None:
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")


def _edit_csv_row(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV (row 1 = first data row)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _scenario(case: Path, edit: Callable[[str], str]) -> None:
    _edit_text(case / "scenario.yaml", edit)


def _geojson(path: Path, edit: Callable[[dict], dict]) -> None:  # type: ignore[type-arg]
    path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))), encoding="utf-8")


def _raster(path: Path, edit: Callable[[np.ndarray, dict], tuple[np.ndarray, dict]]) -> None:  # type: ignore[type-arg]
    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile.copy()
    data, profile = edit(data, profile)
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _to_utm(geometry: dict) -> dict:  # type: ignore[type-arg]
    """A GeoJSON polygon's coordinates in UTM 50N metres (written back without a CRS)."""
    tr = Transformer.from_crs(4326, 32650, always_xy=True)
    rings = [[list(tr.transform(x, y)) for x, y in ring] for ring in geometry["coordinates"]]
    return {**geometry, "coordinates": rings}


# ------------------------------------------------------------------------------------------------
# the corpus
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of broken input: how to break a copy of the county, the file the report must name, and
    the extra CLI arguments (an output folder)."""

    name: str
    breaks: Callable[[Path], None]
    names: str
    out: Callable[[Path], Path] | None = None


def _v(case: Path) -> Path:
    return case / "data" / "villages" / "villages.csv"


def _f(case: Path) -> Path:
    return case / "data" / "facilities" / "existing.csv"


def _c(case: Path) -> Path:
    return case / "data" / "facilities" / "candidates.csv"


def _b(case: Path) -> Path:
    return case / "data" / "boundaries" / "county.geojson"


def _t(case: Path) -> Path:
    return case / "data" / "boundaries" / "townships.geojson"


def _p(case: Path) -> Path:
    return case / "data" / "population" / "population_100m.tif"


def _r(case: Path) -> Path:
    return case / "data" / "roads" / "roads.graphml"


def _duplicate_village(case: Path) -> None:
    lines = _v(case).read_text(encoding="utf-8").splitlines()
    _v(case).write_text("\n".join([*lines, lines[3]]) + "\n", encoding="utf-8")


def _point_boundary(case: Path) -> None:
    _geojson(
        _b(case),
        lambda d: {
            **d,
            "features": [{**d["features"][0], "geometry": {"type": "Point", "coordinates": [116.6, 36.45]}}],
        },
    )


def _metres_boundary(case: Path) -> None:
    _geojson(
        _b(case),
        lambda d: {**d, "features": [{**f, "geometry": _to_utm(f["geometry"])} for f in d["features"]]},
    )


def _degrees_labelled_utm(case: Path) -> None:
    _geojson(
        _b(case),
        lambda d: {**d, "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}},
    )


def _raster_nodata(case: Path) -> None:
    _raster(_p(case), lambda a, p: (np.full_like(a, p["nodata"] if p["nodata"] is not None else -1), p))


def _raster_trillion(case: Path) -> None:
    _raster(_p(case), lambda a, p: (np.where(a > 0, np.float32(1e12), a).astype(a.dtype), p))


def _raster_no_crs(case: Path) -> None:
    def strip(a: np.ndarray, p: dict) -> tuple[np.ndarray, dict]:  # type: ignore[type-arg]
        return a, {k: v for k, v in p.items() if k != "crs"}

    _raster(_p(case), strip)


def _raster_metres_as_degrees(case: Path) -> None:
    """The synthetic raster is in metres (CGCS2000 Gauss-Krüger); label it EPSG:4326."""
    _raster(_p(case), lambda a, p: (a, {**p, "crs": rasterio.crs.CRS.from_epsg(4326)}))


def _raster_elsewhere(case: Path) -> None:
    def move(a: np.ndarray, p: dict) -> tuple[np.ndarray, dict]:  # type: ignore[type-arg]
        t = p["transform"]
        return a, {**p, "transform": rasterio.Affine(t.a, t.b, t.c - 400_000.0, t.d, t.e, t.f)}

    _raster(_p(case), move)


def _graphml_truncated(case: Path) -> None:
    data = _r(case).read_bytes()
    _r(case).write_bytes(data[: len(data) // 2])


def _graphml_elsewhere(case: Path) -> None:
    import osmnx as ox

    graph = ox.load_graphml(_r(case))
    for _, node in graph.nodes(data=True):
        node["x"] -= 30.0
    for _, _, edge in graph.edges(data=True):
        edge.pop("geometry", None)
    ox.save_graphml(graph, _r(case))


def _graphml_no_length(case: Path) -> None:
    import osmnx as ox

    graph = ox.load_graphml(_r(case))
    for _, _, edge in graph.edges(data=True):
        edge["length"] = -5.0
    ox.save_graphml(graph, _r(case))


def _broken_profile(case: Path) -> None:
    (case / "profile.yaml").write_text("profile: broken\nstandards: [not, a, mapping\n", encoding="utf-8")
    _scenario(case, lambda t: t.replace("plan:\n", "standards: profile.yaml\nplan:\n"))


def _profile_missing_numbers(case: Path) -> None:
    (case / "profile.yaml").write_text(
        "profile: thin\ntitle_zh: 薄\ntitle_en: thin\ndocuments: {}\n"
        "standards:\n  R-URBAN: {distance_km: -1}\n",
        encoding="utf-8",
    )
    _scenario(case, lambda t: t.replace("plan:\n", "standards: profile.yaml\nplan:\n"))


def _census_unknown(case: Path) -> None:
    (case / "data" / "census.csv").write_bytes("乡镇,常住人口\n城东街道,1000\n火星乡,20\n".encode("gbk"))
    _scenario(
        case, lambda t: t.replace("resolution_m: 200", "resolution_m: 200\n    calibrate_to: data/census.csv")
    )


def _census_negative(case: Path) -> None:
    (case / "data" / "census.csv").write_text("乡镇,常住人口\n城东街道,-1000\n", encoding="utf-8")
    _scenario(
        case, lambda t: t.replace("resolution_m: 200", "resolution_m: 200\n    calibrate_to: data/census.csv")
    )


def _poi_location(case: Path) -> None:
    (case / "data" / "poi.csv").write_bytes("name,location\n菜鸟驿站,116.6 36.45\n".encode("gbk"))
    _scenario(case, lambda t: t.replace("data/facilities/existing.csv", "data/poi.csv\n    format: poi"))


def _points_no_key(case: Path) -> None:
    (case / "data" / "points.csv").write_text("type,lon,lat\n村委会,116.6,36.45\n", encoding="utf-8")
    _scenario(
        case, lambda t: t.replace("villages.csv\n", "villages.csv\n    points: {path: data/points.csv}\n")
    )


def _villages_metres(case: Path) -> None:
    text = _v(case).read_text(encoding="utf-8").splitlines()
    tr = Transformer.from_crs(4326, 32650, always_xy=True)
    header = text[0].split(",")
    ilon, ilat = header.index("lon"), header.index("lat")
    out = [text[0]]
    for line in text[1:]:
        cells = line.split(",")
        x, y = tr.transform(float(cells[ilon]), float(cells[ilat]))
        cells[ilon], cells[ilat] = f"{x:.1f}", f"{y:.1f}"
        out.append(",".join(cells))
    _v(case).write_text("\n".join(out) + "\n", encoding="utf-8")


def _out_unwritable(case: Path) -> Path:
    if os.geteuid() == 0:  # root writes through permission bits: /proc refuses even root
        return Path("/proc/planner-test-out/out")
    locked = case / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked / "sub" / "out"


def _out_file(case: Path) -> Path:
    (case / "taken.txt").write_text("not a folder", encoding="utf-8")
    return case / "taken.txt"


def _out_under_file(case: Path) -> Path:
    (case / "taken.txt").write_text("not a folder", encoding="utf-8")
    return case / "taken.txt" / "out"


def _out_foreign(case: Path) -> Path:
    (case / "mine").mkdir()
    (case / "mine" / "thesis.docx").write_text("precious", encoding="utf-8")
    return case / "mine"


CASES: list[Kind] = [
    # the scenario file
    Kind("yaml-syntax", lambda c: _scenario(c, lambda t: t.replace("plan:\n", "plan: [\n")), "scenario.yaml"),
    Kind("unknown-key", lambda c: _scenario(c, lambda t: t + "colour: red\n"), "scenario.yaml"),
    Kind(
        "wrong-type",
        lambda c: _scenario(c, lambda t: t.replace("time_limit_s: 30", "time_limit_s: soon")),
        "scenario.yaml",
    ),
    Kind("missing-file", lambda c: _v(c).unlink(), "villages.csv"),
    Kind(
        "unknown-profile",
        lambda c: _scenario(c, lambda t: t.replace("plan:\n", "standards: nowhere\nplan:\n")),
        "scenario.yaml",
    ),
    Kind("profile-not-yaml", _broken_profile, "profile.yaml"),
    Kind("profile-bad-number", _profile_missing_numbers, "profile.yaml"),
    Kind(
        "budget-infinite",
        lambda c: _scenario(
            c, lambda t: t.replace("  year: 2025\n", "  year: 2025\n  budget: {total: .inf}\n")
        ),
        "scenario.yaml",
    ),
    Kind(
        "budget-negative-per-type",
        lambda c: _scenario(
            c, lambda t: t.replace("  year: 2025\n", "  year: 2025\n  budget: {per_type: {outlet: -5}}\n")
        ),
        "scenario.yaml",
    ),
    Kind(
        "budget-year-off-table",
        lambda c: _scenario(
            c, lambda t: t.replace("  year: 2025\n", "  year: 2025\n  budget: {per_year: {2019: 100000}}\n")
        ),
        "scenario.yaml",
    ),
    Kind(
        "scenario-not-text",
        lambda c: (c / "scenario.yaml").write_bytes(b"\xff\xfe\x00\x81name"),
        "scenario.yaml",
    ),
    Kind(
        "scenario-a-list",
        lambda c: (c / "scenario.yaml").write_text("- a\n- b\n", encoding="utf-8"),
        "scenario.yaml",
    ),
    Kind(
        "work-crs-geographic",
        lambda c: _scenario(
            c, lambda t: t.replace("  county_name: 示范县\n", "  county_name: 示范县\n  crs: 4326\n")
        ),
        "scenario.yaml",
    ),
    # the output folder
    Kind("out-unwritable", lambda c: None, "out", out=_out_unwritable),
    Kind("out-is-a-file", lambda c: None, "taken.txt", out=_out_file),
    Kind("out-under-a-file", lambda c: None, "taken.txt", out=_out_under_file),
    Kind(
        "out-inside-input-folder", lambda c: None, "villages", out=lambda c: c / "data" / "villages" / "out"
    ),
    Kind("out-holds-the-inputs", lambda c: None, "data", out=lambda c: c / "data"),
    Kind("out-foreign-folder", lambda c: None, "mine", out=_out_foreign),
    # the boundary and townships
    Kind("boundary-point", _point_boundary, "county.geojson"),
    Kind("boundary-metres-as-4326", _metres_boundary, "county.geojson"),
    Kind("boundary-degrees-as-utm", _degrees_labelled_utm, "county.geojson"),
    Kind("boundary-not-json", lambda c: _b(c).write_text("{not json", encoding="utf-8"), "county.geojson"),
    Kind(
        "boundary-no-features", lambda c: _geojson(_b(c), lambda d: {**d, "features": []}), "county.geojson"
    ),
    Kind(
        "townships-bad-code",
        lambda c: _edit_text(_t(c), lambda t: t.replace('"379901001"', '"3799"', 1)),
        "townships.geojson",
    ),
    # the population raster
    Kind("raster-all-nodata", _raster_nodata, "population_100m.tif"),
    Kind("raster-trillion-people", _raster_trillion, "population_100m.tif"),
    Kind("raster-no-crs", _raster_no_crs, "population_100m.tif"),
    Kind("raster-metres-as-degrees", _raster_metres_as_degrees, "population_100m.tif"),
    Kind("raster-elsewhere", _raster_elsewhere, "population_100m.tif"),
    Kind("raster-not-a-raster", lambda c: _p(c).write_bytes(b"II*\x00garbage"), "population_100m.tif"),
    # the villages
    Kind("villages-duplicate-code", _duplicate_village, "villages.csv"),
    Kind(
        "villages-negative-households", lambda c: _edit_csv_row(_v(c), 2, "households", "-40"), "villages.csv"
    ),
    Kind(
        "villages-code-11-digits",
        lambda c: _edit_csv_row(_v(c), 2, "village_code", "37990100100"),
        "villages.csv",
    ),
    Kind(
        "villages-trillion-people",
        lambda c: _edit_csv_row(_v(c), 2, "population", "1000000000000"),
        "villages.csv",
    ),
    Kind(
        "villages-households-swapped",
        lambda c: _edit_csv_row(_v(c), 2, "households", "90000"),
        "villages.csv",
    ),
    Kind(
        "villages-township-mismatch",
        lambda c: _edit_csv_row(_v(c), 2, "township_code", "379901999"),
        "villages.csv",
    ),
    Kind("villages-far-outside", lambda c: _edit_csv_row(_v(c), 2, "lon", "100.0"), "villages.csv"),
    Kind("villages-lonlat-in-metres", _villages_metres, "villages.csv"),
    Kind("villages-empty-file", lambda c: _v(c).write_bytes(b""), "villages.csv"),
    Kind(
        "villages-no-code-column",
        lambda c: _edit_text(_v(c), lambda t: t.replace("village_code,", "vcode,", 1)),
        "villages.csv",
    ),
    Kind(
        "villages-old-excel",
        lambda c: (
            _v(c).rename(_v(c).with_suffix(".xls")),
            _scenario(c, lambda t: t.replace("villages.csv", "villages.xls")),
        ),
        "villages.xls",
    ),
    # the facilities
    Kind("facilities-unknown-type", lambda c: _edit_csv_row(_f(c), 1, "type", "spaceport"), "existing.csv"),
    Kind(
        "facilities-duplicate-id",
        lambda c: _edit_csv_row(_f(c), 2, "facility_id", "OUT-0001"),
        "existing.csv",
    ),
    Kind("facilities-latitude-95", lambda c: _edit_csv_row(_f(c), 1, "lat", "95.0"), "existing.csv"),
    Kind("facilities-negative-capacity", lambda c: _edit_csv_row(_f(c), 1, "capacity", "-1"), "existing.csv"),
    Kind(
        "facilities-no-type-column",
        lambda c: _edit_text(_f(c), lambda t: t.replace(",type,", ",kind_of,", 1)),
        "existing.csv",
    ),
    Kind("poi-location-not-lng-lat", _poi_location, "poi.csv"),
    # the candidates
    Kind(
        "candidates-type-without-cost",
        lambda c: _edit_csv_row(_c(c), 1, "type", "delivery_centre"),
        "candidates.csv",
    ),
    Kind("candidates-not-a-number", lambda c: _edit_csv_row(_c(c), 1, "lon", "east"), "candidates.csv"),
    Kind(
        "candidates-unknown-type", lambda c: _edit_csv_row(_c(c), 1, "type", "teleporter"), "candidates.csv"
    ),
    # the roads
    Kind("roads-truncated-graphml", _graphml_truncated, "roads.graphml"),
    Kind("roads-elsewhere", _graphml_elsewhere, "roads.graphml"),
    Kind("roads-negative-length", _graphml_no_length, "roads.graphml"),
    Kind(
        "roads-unsupported-type",
        lambda c: (
            _r(c).rename(_r(c).with_suffix(".shp")),
            _scenario(c, lambda t: t.replace("roads.graphml", "roads.shp")),
        ),
        "roads.shp",
    ),
    # census and village points
    Kind("census-unknown-township", _census_unknown, "census.csv"),
    Kind("census-negative", _census_negative, "census.csv"),
    Kind("points-no-join-key", _points_no_key, "points.csv"),
]


#: What the report must say for each kind (a fragment of the expected problem).
SAYS: dict[str, str] = {
    "yaml-syntax": "not valid YAML",
    "unknown-key": "unknown key 'colour'",
    "scenario-not-text": "not text",
    "scenario-a-list": "a scenario must be a mapping of keys",
    "work-crs-geographic": "[study_area.crs]: EPSG:4326 (WGS 84) is geographic",
    "wrong-type": "[solver.time_limit_s]: Input should be a valid number",
    "missing-file": "file not found",
    "unknown-profile": "policy profile 'nowhere' not found",
    "profile-not-yaml": "not valid YAML",
    "profile-bad-number": "[standards.R-URBAN.distance_km]: Input should be greater than 0",
    "budget-infinite": "[plan.budget.total]: Input should be a finite number",
    "budget-negative-per-type": "[plan.budget.per_type.outlet]: Input should be greater than or equal to 0",
    "budget-year-off-table": "budget.per_year names 2019, which is not a target year of V-STATION",
    "out-unwritable": "cannot write in",
    "out-is-a-file": "the output path exists and is not a folder",
    "out-under-a-file": "is a file, so the output folder cannot be made in it",
    "out-inside-input-folder": "the output folder is inside the input folder",
    "out-holds-the-inputs": "the output folder holds the input",
    "out-foreign-folder": "is not an earlier planner output",
    "boundary-point": "the boundary must be polygons, feature has a Point",
    "boundary-metres-as-4326": "the boundary's coordinates look like projected metres",
    "boundary-degrees-as-utm": "the boundary's coordinates look like degrees of longitude/latitude",
    "boundary-not-json": "cannot read the boundary file",
    "boundary-no-features": "the boundary file has no features",
    "townships-bad-code": "township code '3799' is not 9 digits",
    "raster-all-nodata": "has no people inside the study area",
    "raster-trillion-people": "people per km²",
    "raster-no-crs": "has no coordinate reference system",
    "raster-metres-as-degrees": "the population raster's coordinates look like projected metres",
    "raster-elsewhere": "does not overlap the study area",
    "raster-not-a-raster": "cannot read population_100m.tif",
    "villages-duplicate-code": "is duplicated in",
    "villages-negative-households": "value -40 is below the minimum 0",
    "villages-code-11-digits": "village code '37990100100' is not 12 digits",
    "villages-trillion-people": "1e+12 people in one village or community",
    "villages-households-swapped": "people per household, outside",
    "villages-township-mismatch": "township code 379901999 does not match the village code",
    "villages-far-outside": "outside the study area",
    "villages-lonlat-in-metres": "look like projected metres",
    "villages-empty-file": "the file is empty",
    "villages-no-code-column": "required column 'village_code' is missing",
    "villages-old-excel": "old Excel .xls workbook",
    "facilities-unknown-type": "unknown facility type 'spaceport'",
    "facilities-duplicate-id": "id 'OUT-0001' is duplicated",
    "facilities-latitude-95": "latitude 95 is outside -90..90",
    "facilities-negative-capacity": "value -1 is below the minimum 0",
    "facilities-no-type-column": "required column 'type' is missing",
    "poi-location-not-lng-lat": 'is not "lng,lat"',
    "candidates-type-without-cost": "no cost for type 'delivery_centre'",
    "candidates-not-a-number": "'east' is not a longitude",
    "candidates-unknown-type": "unknown facility type 'teleporter'",
    "roads-truncated-graphml": "cannot read the GraphML road network",
    "roads-elsewhere": "no roads inside the study area",
    "roads-negative-length": "has no valid length",
    "roads-unsupported-type": "cannot read roads.shp",
    "census-unknown-township": "township '火星乡' is not in the register",
    "census-negative": "value -1000 is below the minimum 0",
    "points-no-join-key": "the village point layer has no join key",
}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _case(county: Path, tmp_path: Path, kind: Kind) -> tuple[Path, list[str]]:
    case = tmp_path / "case"
    shutil.copytree(county, case)
    kind.breaks(case)
    out = kind.out(case) if kind.out is not None else case / "result"
    return case, ["--out", str(out)]


def test_the_corpus_has_at_least_40_kinds() -> None:
    assert len({k.name for k in CASES}) == len(CASES) >= 40
    assert set(SAYS) == {k.name for k in CASES}


@pytest.mark.parametrize("kind", CASES, ids=[k.name for k in CASES])
def test_broken_input_exits_2_naming_the_file_and_writing_nothing(
    county: Path, tmp_path: Path, kind: Kind
) -> None:
    case, out = _case(county, tmp_path, kind)
    before = _snapshot(case)
    listing = sorted(p.name for p in tmp_path.iterdir())
    out_existed = Path(out[1]).exists()
    for command in (["validate"], ["run", "--quiet"]):
        result = CliRunner().invoke(app, [*command, str(case / "scenario.yaml"), *out])
        text = result.output
        assert result.exit_code == 2, f"{command}: {text}\n{result.exception!r}"
        assert "Traceback" not in text and isinstance(result.exception, SystemExit), text
        flat = " ".join(text.split())
        assert kind.names in text and SAYS[kind.name] in flat, text
        assert "in 1 file(s)" in flat, text  # no other file is blamed (a metres boundary: not the raster)
        assert "Fix:" in text, text
    assert _snapshot(case) == before, "an input changed or a file was written"
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    assert Path(out[1]).exists() == out_existed


def test_three_broken_files_are_all_named(county: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(county, case)
    _duplicate_village(case)
    _edit_csv_row(_f(case), 1, "type", "spaceport")
    _edit_csv_row(_c(case), 1, "lon", "1116.5")
    for command in (["validate"], ["run", "--quiet", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, [*command, str(case / "scenario.yaml")])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "3 problem(s) in 3 file(s)" in text
        for path in (_v(case), _f(case), _c(case)):
            assert f"{path}: 1 problem(s)" in text
        assert "is duplicated" in text and "'spaceport'" in text and "1116.5" in text
    assert not (tmp_path / "out").exists()
