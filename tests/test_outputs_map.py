"""map.html: offline, compact, and the layers hold exactly the run's objects (read back from the page)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from outputs_fixtures import WORK_CRS, X0, Y0, make_run_result
from pyproj import Transformer
from rich.console import Console
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from planner.outputs import headline_table, i18n
from planner.outputs.mapview import write_map


def _layers(text: str) -> dict[str, dict[str, Any]]:
    """Layer variable -> the spec the page builds it from."""
    found = re.findall(r"var (data_layer_\w+) = plannerLayer\((\{.*?\})\);\n", text)
    return {var: json.loads(spec) for var, spec in found}


def _names(text: str) -> dict[str, str]:
    """Layer-control names -> layer variable, from folium's layer control block."""
    block = text[text.index("overlays :  {") :]
    block = block[: block.index("},")]
    return {json.loads(k): v for k, v in re.findall(r'("(?:[^"\\]|\\.)*") : (\w+),', block)}


def _by_name(text: str) -> dict[str, dict[str, Any]]:
    specs = _layers(text)
    return {name: specs[var] for name, var in _names(text).items() if var in specs}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("map") / "map.html"
    write_map(make_run_result(), path, lang="zh")
    return path.read_text(encoding="utf-8")


def test_map_needs_no_network(page: str) -> None:
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="?(?:https?:)?//', page)
    assert "Leaflet 1.9.4" in page  # inlined
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert '<html lang="zh-CN">' in page
    assert "tile.openstreetmap.org" in page  # the optional online layer exists, off by default


def test_layers_hold_the_run_objects(page: str) -> None:
    result = make_run_result()
    by_name = _by_name(page)
    # every data layer appears in the layer control (plus the OSM tile layer)
    assert len(_names(page)) == len(_layers(page)) + 1 == len(by_name) + 1
    to_wgs = Transformer.from_crs(WORK_CRS, 4326, always_xy=True)

    fac = result.facilities
    station = fac["type"] == "village_station"
    for mask, name in (
        ((fac["status"] == "existing") & ~station, "现有设施"),
        ((fac["status"] == "existing") & station, "现有村级站点"),
        (fac["status"] == "proposed", "规划新增设施"),
    ):
        spec = by_name[name]
        sub = fac[mask]
        assert spec["kind"] == "icon" and len(spec["features"]) == len(sub)
        lon, lat = to_wgs.transform(sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy())
        assert np.allclose([f["x"] for f in spec["features"]], lon, atol=6e-6)
        assert np.allclose([f["y"] for f in spec["features"]], lat, atol=6e-6)
        assert [f["k"] for f in spec["features"]] == sub["type"].tolist()
    p001 = by_name["规划新增设施"]["features"][0]
    assert "18.0 万元" in p001["v"] and "2,331 人" in p001["v"]

    cover = by_name["需求点覆盖情况（全部）"]
    still = by_name["规划后仍未覆盖的需求点"]
    assert [k for k in still["keys"] if k is not None] == ["uncovered"] * int(
        (~result.demand["covered_after"]).sum()
    )
    d = result.demand
    found = re.search(r"var planner_demand = (\[.*?\]);\n", page)
    assert found is not None
    shared = json.loads(found.group(1))
    assert cover["ref"] == "planner_demand" and len(shared) == len(cover["keys"]) == len(d)
    lon, lat = to_wgs.transform(d.geometry.x.to_numpy(), d.geometry.y.to_numpy())
    assert np.allclose([f["x"] for f in shared], lon, atol=6e-6)
    assert [f["v"][0] for f in shared] == [f"{round(p):,} 人" for p in d["population"]]
    keys = pd.Series(cover["keys"])
    assert (keys == "covered").sum() == d["covered_before"].sum()
    assert (keys == "gained").sum() == (d["covered_after"] & ~d["covered_before"]).sum()
    assert (keys == "uncovered").sum() == (~d["covered_after"]).sum()

    villages = by_name["行政村站点状态"]["features"]
    v = result.villages[result.villages.geometry.notna()]
    assert [f["t"] for f in villages] == v["village_name"].tolist()
    expected = [
        "station" if b else ("gained" if a else "none")
        for b, a in zip(v["has_station_before"], v["has_station_after"], strict=True)
    ]
    assert [f["k"] for f in villages] == expected

    towns = by_name["乡镇界"]
    assert [lab[2] for lab in towns["labels"]] == ["东城街道", "柳林镇"]
    gaps = by_name["未覆盖区域（规划前）"]
    assert len(gaps["features"]) == len(result.audit.uncovered)


def test_popups_are_escaped(tmp_path: Path) -> None:
    result = make_run_result()
    result.facilities.loc[0, "name"] = "<script>alert(1)</script>"
    write_map(result, tmp_path / "m.html", lang="zh")
    text = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text
    assert (
        "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in text
    )  # kept as data, escaped again in the browser


def test_service_areas_from_the_run_are_used(tmp_path: Path) -> None:
    write_map(make_run_result(with_service_areas=True), tmp_path / "m.html", lang="en")
    names = _names((tmp_path / "m.html").read_text(encoding="utf-8"))
    assert "Facility service areas" in names
    assert not any(n.startswith("Service radius") for n in names)


def test_buffer_radii_follow_the_area_class(tmp_path: Path) -> None:
    result = make_run_result()
    write_map(result, tmp_path / "m.html", lang="zh")
    text = (tmp_path / "m.html").read_text(encoding="utf-8")
    spec = next(s for n, s in _by_name(text).items() if n.startswith("服务半径"))
    existing = next(f for f in spec["features"] if f["k"] == "existing")
    to_utm = Transformer.from_crs(4326, WORK_CRS, always_xy=True)
    drawn = shapely.transform(
        shape(existing["g"]), lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1]))
    )
    # independently: each existing pickup facility gets 1 km (urban) or 3 km (township) by the class of
    # its nearest demand point; rural ones get none
    d = result.demand
    dx, dy = d.geometry.x.to_numpy(), d.geometry.y.to_numpy()
    circles = []
    fac = result.facilities
    for _, f in fac[
        (fac["status"] == "existing") & fac["type"].isin(["outlet", "locker", "village_station"])
    ].iterrows():
        cls = d["area_class"].iloc[int(np.argmin(np.hypot(dx - f.geometry.x, dy - f.geometry.y)))]
        radius = {"urban": 1000.0, "township": 3000.0}.get(cls)
        if radius:
            circles.append(f.geometry.buffer(radius, 64))
    expected = unary_union(circles)
    assert drawn.area == pytest.approx(expected.area, rel=0.02)
    assert drawn.symmetric_difference(expected).area < 0.03 * expected.area


def test_many_demand_points_stay_small(tmp_path: Path) -> None:
    result = make_run_result()
    rng = np.random.default_rng(1)
    n = 5000
    xy = rng.uniform([X0, Y0], [X0 + 10_000, Y0 + 10_000], size=(n, 2))
    big = gpd.GeoDataFrame(
        {
            "demand_id": np.arange(n),
            "population": rng.uniform(10, 500, n),
            "households": rng.uniform(4, 200, n),
            "area_class": rng.choice(["urban", "township", "rural"], n),
            "township_code": "371502001",
            "village_code": "",
            "covered_before": rng.random(n) < 0.5,
            "covered_after": rng.random(n) < 0.9,
            "nearest_km": rng.uniform(0, 9, n),
            "nearest_min": rng.uniform(0, 60, n),
        },
        geometry=[Point(x, y) for x, y in xy],
        crs=WORK_CRS,
    )
    object.__setattr__(result, "demand", big)
    write_map(result, tmp_path / "m.html", lang="zh")
    size = (tmp_path / "m.html").stat().st_size
    assert size < 1_500_000, size  # three demand layers of 5,000 points with popups


def test_formats_for_chinese_readers() -> None:
    assert i18n.fmt_count(12345, "zh") == "12,345 人"
    assert i18n.fmt_count(12345.4, "en") == "12,345"
    assert i18n.fmt_pct(0.85, "zh") == "85.0%"
    assert i18n.fmt_yuan(125_000, "zh") == "12.5 万元"
    assert i18n.fmt_yuan(8_000, "zh") == "8,000 元"
    assert i18n.fmt_yuan(125_000, "en") == "¥125,000"
    assert i18n.fmt_km(float("inf"), "zh") == "不可达"
    assert i18n.fmt_min(12.46, "zh") == "12.5 分钟"
    assert i18n.fmt_pct(float("nan"), "zh") == i18n.MISSING
    assert i18n.fmt_standard_value("D-OUTLET", 3.3, "zh") == "3.30"
    assert i18n.fmt_column_value("coverage_after", 0.5, "zh") == "50.0%"
    assert i18n.fmt_column_value("passed", True, "zh") == "是"


def test_headline_table_shows_the_summary() -> None:
    summary = make_run_result().summary
    console = Console(record=True, width=120)
    console.print(headline_table(summary, lang="zh"))
    text = console.export_text()
    assert f"{round(summary['population_total']):,} 人" in text
    assert f"{summary['coverage']['urban']['before'] * 100:.1f}%" in text
    assert "100.0%" in text and "2 / 5" in text and "3 / 5" in text
    console = Console(record=True, width=120)
    console.print(headline_table(summary, lang="en"))
    assert "Urban coverage" in console.export_text()


def test_villages_with_their_own_station_and_shared_ones(tmp_path: Path) -> None:
    """Own station, one the plan builds in the village, a neighbour's shared one, none — told apart."""
    import dataclasses

    result = make_run_result()
    villages = result.villages.assign(own_station=[True, True, False, False, False, False])
    facilities = result.facilities.copy()
    facilities.loc[facilities["facility_id"] == "P003", "village_code"] = "371502001202"  # built in it
    result = dataclasses.replace(result, villages=villages, facilities=facilities)
    write_map(result, tmp_path / "map.html", lang="zh")
    features = _by_name((tmp_path / "map.html").read_text(encoding="utf-8"))["行政村站点状态"]["features"]
    # by hand: 001001 and 001201 own one; 001202 gets one; 101201 is served by a neighbour's, 101202 by
    # none (101203 has no coordinates: not on the map)
    assert [f["k"] for f in features] == ["station", "station", "gained", "shared", "none"]
    before = [f["v"][5] for f in features]
    after = [f["v"][6] for f in features]
    assert before == ["本村有站", "本村有站", "无站点", "共享邻村站点", "无站点"]
    assert after == ["本村有站", "本村有站", "本村有站", "共享邻村站点", "无站点"]


def test_a_proposed_site_says_which_standards_it_is_for(tmp_path: Path) -> None:
    """The popup of a proposed site names the standards the plan placed it for; an existing one the
    standards its type counts towards."""
    import dataclasses

    result = make_run_result()
    proposals = result.proposals.assign(standards=["R-URBAN;D-OUTLET", "R-TOWN", "V-ALL", "max_coverage"])
    write_map(dataclasses.replace(result, proposals=proposals), tmp_path / "map.html", lang="zh")
    by_name = _by_name((tmp_path / "map.html").read_text(encoding="utf-8"))
    proposed = {f["t"]: f["v"][7] for f in by_name["规划新增设施"]["features"]}
    assert proposed["快递末端网点 P001"] == "D-OUTLET、R-URBAN"
    assert proposed["智能快件箱 P002"] == "R-TOWN"
    assert proposed["快递末端网点 P004"] == "投资约束下覆盖最多人口"  # the budget plan
    existing = {f["t"]: f["v"][7] for f in by_name["现有设施"]["features"]}
    assert existing["快递末端网点 东关快递服务站"] == "R-URBAN / R-TOWN / D-OUTLET"
