"""`planner run` end to end on the committed demo county, with its numbers checked independently.

The run happens once per test session (about a minute); each test reads what it wrote and compares it
with a computation made here from the input files: networkx on the demo roads, spatial joins with
geopandas, hand counts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from planner.cli.app import app
from planner.network import DEFAULT_MODES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"
DATA = ROOT / "data"
CONTRACT_FILES = (
    "summary.json",
    "proposals.csv",
    "audit.csv",
    "village_gaps.csv",
    "results.gpkg",
    "results.xlsx",
    "map.html",
    "report.html",
)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(app, ["run", str(DEMO), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return out


@pytest.fixture(scope="session")
def summary(demo_run: Path) -> dict[str, Any]:
    return json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))


def test_every_contract_file_is_written(demo_run: Path, summary: dict[str, Any]) -> None:
    for name in CONTRACT_FILES:
        assert (demo_run / name).is_file(), name
    assert not list(demo_run.parent.glob(".*tmp*")), "temporary output folder left behind"
    for key in (
        "scenario",
        "planner_version",
        "scenario_hash",
        "population_total",
        "coverage",
        "villages",
        "proposals",
        "solver",
        "timings",
    ):
        assert key in summary
    assert set(summary["coverage"]) == {"urban", "township", "rural"}
    for name in ("name", "status", "objective", "mip_gap", "seconds"):
        assert name in summary["solver"]
    proposals = pd.read_csv(demo_run / "proposals.csv", dtype={"township_code": str})
    assert list(proposals.columns) == [
        "id",
        "type",
        "lon",
        "lat",
        "township_code",
        "township_name",
        "cost",
        "population_gained",
        "standards",
    ]
    # every proposal is there for standards the plan was asked to meet
    for named in proposals["standards"].fillna(""):
        assert named and set(named.split(";")) <= set(summary["meet"]), named
    assert summary["proposals"] == proposals["type"].value_counts().to_dict()
    assert math.isclose(summary["cost_total"], proposals["cost"].sum(), rel_tol=1e-9)


def test_plan_reaches_every_coverable_person(summary: dict[str, Any]) -> None:
    cov = summary["coverage"]
    for area_class in ("urban", "township", "rural"):
        assert cov[area_class]["after"] >= cov[area_class]["before"] - 1e-12
    # urban and township: the least-cost cover serves everyone any site can serve
    for area_class in ("urban", "township"):
        assert cov[area_class]["after"] >= cov[area_class]["coverable"] - 1e-9
    assert summary["solver"]["status"] in {"optimal", "trivial"}
    villages = summary["villages"]
    assert villages["with_station_after"] >= villages["with_station_before"]
    reachable = (
        villages["total"]
        - villages["unmappable"]
        - summary["unreachable"]["villages_no_candidate_within_reach"]
    )
    assert villages["with_station_after"] >= reachable
    # both readings of the radius are reported
    assert set(summary["coverage_by_reading"]) == {"network", "buffer"}


def test_population_total_matches_the_raster(summary: dict[str, Any]) -> None:
    import rasterio

    with rasterio.open(DATA / "population" / "population_100m.tif") as src:
        band = src.read(1, masked=True)
    assert math.isclose(summary["population_total"], float(band.sum()), rel_tol=1e-6)


def test_township_without_outlet_is_found_by_hand(demo_run: Path) -> None:
    townships = gpd.read_file(DATA / "boundaries" / "townships.geojson")
    facilities = pd.read_csv(DATA / "facilities" / "existing.csv")
    outlets = gpd.GeoDataFrame(
        facilities[facilities["type"] == "outlet"],
        geometry=gpd.points_from_xy(
            facilities.loc[facilities["type"] == "outlet", "lon"],
            facilities.loc[facilities["type"] == "outlet", "lat"],
        ),
        crs=4326,
    )
    counts = gpd.sjoin(townships, outlets, predicate="contains").groupby("township_code").size()
    expected_failing = {str(c) for c in townships["township_code"] if counts.get(c, 0) < 1}
    assert expected_failing, "the demo county should have a township without an outlet"
    audit = pd.read_csv(demo_run / "audit.csv", dtype={"unit_code": str})
    rural = audit[(audit["standard_id"] == "R-RURAL") & (audit["unit_level"] == "township")]
    failing = set(rural.loc[rural["passed"].astype(str) == "False", "unit_code"])
    assert failing == expected_failing


# ---------------------------------------------------------------------------------------------
# nearest-station distances against networkx on the demo roads
# ---------------------------------------------------------------------------------------------


def _mode_graph(crs: str) -> tuple[nx.DiGraph, list[tuple[Any, Any, float, LineString]]]:
    """The demo roads a tricycle may use, projected; one arc per (u, v) with the shortest length."""
    graph = ox.project_graph(ox.load_graphml(DATA / "roads" / "roads.graphml"), to_crs=crs)
    excluded = DEFAULT_MODES["tricycle"].excluded
    simple = nx.DiGraph()
    arcs = []
    for u, v, data in graph.edges(data=True):
        classes = data.get("highway")
        classes = classes if isinstance(classes, list) else [classes]
        if any(c in excluded for c in classes):
            continue
        geom = data.get("geometry") or LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
        )
        length = float(data["length"])
        arcs.append((u, v, length, geom))
        if not simple.has_edge(u, v) or simple[u][v]["length"] > length:
            simple.add_edge(u, v, length=length)
    return simple, arcs


def _attach(
    graph: nx.DiGraph, arcs: list[tuple[Any, Any, float, LineString]], point: Point, name: str
) -> list[tuple[Any, Any, float, float, float]]:
    """Add ``name`` as a source node and ``name+'*'`` as a target node, joined to the nearest arc(s).

    Returns the snaps as (u, v, fraction along u→v, arc length, access leg).
    """
    dists = np.array([geom.distance(point) for *_, geom in arcs])
    best = float(dists.min())
    snaps = []
    for i in np.flatnonzero(dists <= best + 1e-6):
        u, v, length, geom = arcs[i]
        frac = geom.project(point) / geom.length if geom.length > 0 else 0.0
        graph.add_edge(name, v, length=best + (1 - frac) * length)
        graph.add_edge(u, name + "*", length=frac * length + best)
        snaps.append((u, v, frac, length, best))
    return snaps


def test_nearest_station_distances_equal_networkx(demo_run: Path, summary: dict[str, Any]) -> None:
    crs = summary["crs"]
    gaps = pd.read_csv(demo_run / "village_gaps.csv", dtype={"village_code": str})
    gaps = gaps[np.isfinite(gaps["nearest_station_km"])].head(6)
    assert len(gaps) >= 3
    villages = pd.read_csv(DATA / "villages" / "villages.csv", dtype={"village_code": str})
    facilities = pd.read_csv(DATA / "facilities" / "existing.csv", dtype={"village_code": str})
    stations = facilities[facilities["type"] == "village_station"]
    to_xy = gpd.GeoSeries(gpd.points_from_xy(stations["lon"], stations["lat"]), crs=4326).to_crs(crs)
    graph, arcs = _mode_graph(crs)
    max_snap = 1000.0
    targets = {}
    for i, pt in enumerate(to_xy):
        if min(geom.distance(pt) for *_, geom in arcs) <= max_snap:
            targets[f"s{i}*"] = _attach(graph, arcs, pt, f"s{i}")
    for _, gap in gaps.iterrows():
        row = villages[villages["village_code"] == gap["village_code"]].iloc[0]
        pt = gpd.GeoSeries([Point(row["lon"], row["lat"])], crs=4326).to_crs(crs).iloc[0]
        name = f"v{gap['village_code']}"
        own = _attach(graph, arcs, pt, name)
        lengths = nx.single_source_dijkstra_path_length(graph, name, weight="length")
        best = min(lengths.get(t, math.inf) for t in targets)
        # village and station on the same arc: straight along it when the station lies ahead
        for t_snaps in targets.values():
            for u, v, frac, length, access in own:
                for tu, tv, tfrac, _, taccess in t_snaps:
                    if (u, v) == (tu, tv) and tfrac >= frac:
                        best = min(best, access + (tfrac - frac) * length + taccess)
        assert math.isclose(gap["nearest_station_km"], best / 1000.0, rel_tol=1e-6, abs_tol=1e-6), gap[
            "village_name"
        ]
        graph.remove_node(name)


# ---------------------------------------------------------------------------------------------
# broken scenarios
# ---------------------------------------------------------------------------------------------


def _scenario_text() -> str:
    return (
        DEMO.read_text(encoding="utf-8")
        .replace("../data/", str(DATA) + "/")
        .replace(
            "standards: national-default",
            f"standards: {ROOT / 'scenarios' / 'standards' / 'national-default.yaml'}",
        )
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("population_100m.tif", "missing.tif"), "file not found"),
        (
            lambda t: t.replace("  reading: network", "  reading: network\n  colour: red"),
            "unknown key 'colour'",
        ),
        (lambda t: t.replace("time_limit_s: 60", "time_limit_s: soon"), "valid number"),
    ],
    ids=["missing-file", "unknown-key", "wrong-type"],
)
def test_broken_scenarios_exit_2_with_a_clear_message(tmp_path: Path, edit: Any, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(edit(_scenario_text()), encoding="utf-8")
    for command in ("validate", "run"):
        args = [command, str(path)] + (
            ["--out", str(tmp_path / "out"), "--quiet"] if command == "run" else []
        )
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert str(path) in result.output
    assert not (tmp_path / "out").exists()


def test_raster_without_crs_exits_2(tmp_path: Path) -> None:
    import rasterio

    with rasterio.open(DATA / "population" / "population_100m.tif") as src:
        profile = src.profile.copy()
        data = src.read()
    profile.pop("crs", None)
    with rasterio.open(tmp_path / "nocrs.tif", "w", **profile) as dst:
        dst.write(data)
    path = tmp_path / "nocrs.yaml"
    path.write_text(
        _scenario_text().replace(
            str(DATA / "population" / "population_100m.tif"), str(tmp_path / "nocrs.tif")
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "no coordinate reference system" in result.output


def test_off_network_people_are_reported_not_snapped(summary: dict[str, Any]) -> None:
    # the demo has hamlets more than 1 km from any road: reported as unreachable, not snapped
    assert summary["unreachable"]["population_off_network"] > 0


def test_second_run_reuses_the_cache_and_plans_the_same(tmp_path: Path) -> None:
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(DEMO).model_copy(update={"cache_dir": tmp_path / "cache"})
    first = run_scenario(scenario, write=False)
    second = run_scenario(scenario, write=False)
    assert first.summary["cache"]["networks_reused"] is False
    assert first.summary["cache"]["coverage_matrices_computed"] > 0
    assert second.summary["cache"]["networks_reused"] is True
    assert second.summary["cache"]["coverage_matrices_computed"] == 0
    assert (
        second.summary["cache"]["coverage_matrices_reused"]
        == first.summary["cache"]["coverage_matrices_computed"]
    )
    pd.testing.assert_frame_equal(first.proposals, second.proposals)
    assert first.summary["coverage"] == second.summary["coverage"]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _demo_with(cache: Path, **plan: Any) -> Any:
    from planner.scenario import load_scenario

    scenario = load_scenario(DEMO)
    return scenario.model_copy(update={"cache_dir": cache, "plan": scenario.plan.model_copy(update=plan)})


def test_max_coverage_plan_stays_within_its_budget(shared_cache: Path) -> None:
    from planner.run import run_scenario
    from planner.scenario import Budget

    budget = 100_000.0
    result = run_scenario(
        _demo_with(shared_cache, objective="max_coverage", budget=Budget(total=budget), curve_steps=0),
        write=False,
    )
    # the budget binds every type: pickup points and village stations share it, no park without its own
    assert 0 < result.proposals["cost"].sum() <= budget
    assert "park" not in set(result.proposals["type"])
    park = [u for u in result.summary["unmet"] if u["standard"] == "P-COUNTY"]
    assert park and park[0]["cause"] == "budget"
    served_before = result.summary["villages"]["with_station_before"]
    gained = result.summary["coverage"]["urban"]["after"] > result.summary["coverage"]["urban"]["before"]
    assert gained or result.summary["villages"]["with_station_after"] > served_before


def test_village_stations_phased_by_year_meet_each_year_within_budget(shared_cache: Path) -> None:
    from planner.run import run_scenario
    from planner.scenario import Budget

    # V-STATION counts a village when a station stands in it: 105 of the demo's 140 villages have one;
    # "超过85%" in 2024 needs 120 (15 more, 15,000 yuan each), 2025 needs all 140
    scenario = _demo_with(
        shared_cache, budget=Budget(per_year={2024: 250_000, 2025: 1_000_000}), curve_steps=0
    )
    result = run_scenario(scenario, write=False)
    by_year = {row["year"]: row for row in result.summary["station_phasing"]}
    assert set(by_year) == {2024, 2025}
    assert by_year[2024]["share"] > 0.85 and by_year[2025]["share"] >= 1.0 - 1e-9  # "超过85%": strictly more
    spend_2024 = by_year[2024]["spend"]
    assert spend_2024 <= 250_000 and by_year[2024]["villages_served"] == 120
    assert spend_2024 + by_year[2025]["spend"] == pytest.approx(
        result.proposals.loc[result.proposals["type"] == "village_station", "cost"].sum()
    )
