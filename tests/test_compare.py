"""``planner compare``: two plans side by side.

The diff is checked on two small runs built here by hand (every expected figure counted by hand),
and end to end on the demo against a variant made in the editor (one outlet added, one village
station removed), whose differences are known by construction.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from serve_fixtures import DEMO, SHORT_COMMUNITY, cell_lonlat, chrome, demo_output, run_into
from shapely.geometry import Point, box
from typer.testing import CliRunner

from planner.cli.app import app
from planner.compare import RunFiles, compare_runs
from planner.compare.load import is_judged


def _frame(rows: list[dict[str, Any]], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=[Point(x, y) for x, y in xy], crs=4326)


def _audit(rows: list[tuple[str, str, str, float, bool | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "standard_id": s,
                "unit_level": lvl,
                "unit_code": c,
                "unit_name": c,
                "value": v,
                "target": 1.0,
                "passed": p,
            }
            for s, lvl, c, v, p in rows
        ]
    ).assign(passed=lambda f: f["passed"].astype("boolean"))


def _run(
    name: str, facilities: gpd.GeoDataFrame, audit: pd.DataFrame, covered: list[bool], station: list[bool]
) -> RunFiles:
    towns = gpd.GeoDataFrame(
        {"township_code": ["T1", "T2"], "township_name": ["一镇", "二镇"]},
        geometry=[box(116.0, 36.0, 116.25, 36.1), box(116.25, 36.0, 116.5, 36.1)],
        crs=4326,
    )
    demand = _frame(
        [
            {"population": p, "township_code": t, "village_code": v, "covered_after": c}
            for p, t, v, c in zip(
                [100.0, 50.0, 80.0], ["T1", "T1", "T2"], ["V1", "V2", "V3"], covered, strict=True
            )
        ],
        [(116.05, 36.05), (116.15, 36.05), (116.35, 36.05)],
    )
    villages = _frame(
        [
            {
                "village_code": v,
                "village_name": v,
                "township_code": t,
                "kind": "village",
                "has_station_after": s,
            }
            for v, t, s in zip(["V1", "V2", "V3"], ["T1", "T1", "T2"], station, strict=True)
        ],
        [(116.05, 36.05), (116.15, 36.05), (116.35, 36.05)],
    )
    boundary = gpd.GeoDataFrame(
        {"county_code": ["000001"]}, geometry=[box(116.0, 36.0, 116.5, 36.1)], crs=4326
    )
    summary = {
        "scenario": name,
        "cost_total": float(facilities["cost"].sum()),
        "proposals": {},
        "coverage": {},
    }
    return RunFiles(Path(name), summary, audit, facilities, villages, demand, towns, boundary)


def _sites(rows: list[tuple[str, str, str, float, float, float]]) -> gpd.GeoDataFrame:
    return _frame(
        [
            {
                "facility_id": i,
                "type": t,
                "status": s,
                "cost": c,
                "township_code": "T1" if x < 116.25 else "T2",
            }
            for i, t, s, c, x, _y in rows
        ],
        [(x, y) for *_rest, x, y in rows],
    )


def test_sites_standards_townships_and_villages_by_hand() -> None:
    fa = _sites(
        [
            ("E1", "outlet", "existing", 0.0, 116.01, 36.01),
            ("P1", "outlet", "proposed", 60.0, 116.1, 36.02),
            ("L1", "locker", "proposed", 25.0, 116.2, 36.02),
            ("L1#2", "locker", "proposed", 25.0, 116.2, 36.02),
        ]
    )
    fb = _sites(
        [
            ("E1", "outlet", "existing", 0.0, 116.01, 36.01),
            ("L1", "locker", "proposed", 25.0, 116.2, 36.02),
            ("P2", "outlet", "proposed", 60.0, 116.3, 36.02),
        ]
    )
    aa = _audit(
        [
            ("R-URBAN", "county", "000001", 0.9, False),
            ("D-OUTLET", "community", "V1", 4.2, True),
            ("D-BASE", "county", "000001", 3.0, True),  # information: not compared
            ("V-ALL-2021", "county", "000001", 1.0, True),  # another target year: not compared
            ("V-ALL", "township", "T1", 0.5, None),  # a breakdown: no pass/fail
        ]
    )
    ab = _audit([("R-URBAN", "county", "000001", 1.0, True), ("D-OUTLET", "community", "V1", 4.2, True)])
    assert list(is_judged(aa)) == [True, True, False, False, False]
    a = _run("A", fa, aa, covered=[True, False, True], station=[True, True, False])
    b = _run("B", fb, ab, covered=[True, True, True], station=[True, False, False])
    cmp = compare_runs(a, b)

    where = {(r.type, r.where): (r.units_a, r.units_b) for r in cmp.sites.itertuples()}
    assert where == {
        ("outlet", "only_a"): (1, 0),
        ("outlet", "only_b"): (0, 1),
        ("outlet", "both"): (1, 1),
        ("locker", "both"): (2, 1),
    }
    assert cmp.summary["sites"] == {"only_a": 1, "only_b": 1, "both": 2}

    std = cmp.standards.set_index(["standard_id", "unit_level", "unit_code"])
    assert len(std) == 2
    assert std.loc[("R-URBAN", "county", "000001"), "met"] == "only_b"
    assert std.loc[("D-OUTLET", "community", "V1"), "met"] == "both"
    assert not std.loc[("D-OUTLET", "community", "V1"), "changed"]
    assert cmp.summary["standards"] == {"rows": 2, "met_a": 1, "met_b": 2, "only_a": 0, "only_b": 1}

    towns = cmp.townships.set_index("township_code")
    assert towns.loc["T1", "coverage_a"] == pytest.approx(100 / 150)  # V2's 50 people uncovered in A
    assert towns.loc["T1", "coverage_b"] == pytest.approx(1.0)
    assert (towns.loc["T1", "sites_a"], towns.loc["T1", "sites_b"]) == (3, 1)
    assert (towns.loc["T1", "cost_a"], towns.loc["T1", "cost_b"]) == (110.0, 25.0)
    assert (towns.loc["T2", "sites_a"], towns.loc["T2", "cost_b"]) == (0, 60.0)
    assert (towns.loc["T1", "villages_served_a"], towns.loc["T1", "villages_served_b"]) == (2, 1)

    villages = cmp.villages.set_index("village_code")
    assert sorted(villages.index) == [
        "V2"
    ]  # station lost in B and coverage gained: the station change names it
    assert villages.loc["V2", "change"] == "station"
    assert (villages.loc["V2", "covered_share_a"], villages.loc["V2", "covered_share_b"]) == (0.0, 1.0)


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The demo with one outlet added (in SHORT_COMMUNITY) and one station removed (its village unserved)."""
    from planner.serve import load_session
    from planner.serve import state as st
    from planner.serve.plans import save_scenario

    session = load_session(demo_output())
    lon, lat = cell_lonlat(session.prepared.demand, SHORT_COMMUNITY)
    state = st.add_point(session, session.baseline, lon, lat, "outlet")
    stations = state.proposed[state.proposed["type"] == "village_station"]["facility_id"].astype(str)
    for sid in stations:
        trial = st.remove(session, state, sid)
        villages = st.evaluate(session, trial).villages
        if not villages["has_station"].all():
            state = trial
            lost = villages.loc[~villages["has_station"], "village_code"].astype(str).tolist()
            break
    else:
        pytest.fail("no proposed station whose removal leaves a village unserved")
    folder = tmp_path_factory.mktemp("variant")
    saved = save_scenario(session, state, folder / "variant.yaml")
    assert saved.differences == ()
    return run_into(folder / "variant.yaml", folder / "out"), sid, lost[0]


def test_demo_against_an_edited_variant(variant: tuple[Path, str, str], tmp_path: Path) -> None:
    folder, station, village = variant
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(demo_output()), str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert figures["sites"]["only_a"] == 1 and figures["sites"]["only_b"] == 1
    sites = pd.read_csv(out / "sites.csv", dtype=str, keep_default_na=False)
    assert sites.loc[sites["where"] == "only_a", "ids_a"].tolist() == [station]
    assert sites.loc[sites["where"] == "only_b", "ids_b"].tolist() == ["U1"]
    standards = pd.read_csv(out / "standards.csv", dtype={"unit_code": str})
    row = standards[(standards["standard_id"] == "D-OUTLET") & (standards["unit_code"] == SHORT_COMMUNITY)]
    assert row["met"].tolist() == ["only_b"]
    villages = pd.read_csv(out / "villages.csv", dtype={"village_code": str})
    assert village in set(villages.loc[villages["change"] == "station", "village_code"])
    a = json.loads((demo_output() / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    towns = pd.read_csv(out / "townships.csv", dtype={"township_code": str}).set_index("township_code")
    assert towns["cost_a"].sum() == pytest.approx(a["cost_total"]) and towns["cost_b"].sum() == pytest.approx(
        b["cost_total"]
    )
    assert figures["a"]["cost_total"] == a["cost_total"] and figures["b"]["cost_total"] == b["cost_total"]
    report = (out / "compare.html").read_text(encoding="utf-8")
    assert station in report and "U1" in report and "方案 A" in report
    page = (out / "compare_map.html").read_text(encoding="utf-8")
    assert (
        "<script src" not in page
        and "https://" not in page.split("COMPARE_DATA", 1)[0].split("</script>", 2)[-1]
    )
    assert np.isfinite(towns["coverage_a"]).all()
    _renders(out / "compare_map.html", tmp_path / "chrome")


def _renders(page: Path, profile: Path) -> None:
    """The map side by side draws both plans in headless Chromium, offline, without a script error."""
    drv = chrome(profile)
    if drv is None:
        return  # no browser here: the files were checked above
    try:
        drv.get(page.as_uri())
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and drv.execute_script("return document.querySelectorAll('.leaflet-container').length") < 2
        ):
            time.sleep(0.2)
        assert drv.execute_script("return document.querySelectorAll('.leaflet-container').length") == 2
        drawn = drv.execute_script("return document.querySelectorAll('canvas.leaflet-zoom-animated').length")
        assert drawn == 2
        severe = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, severe
    finally:
        drv.quit()


def test_compare_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        app, ["compare", str(empty), str(demo_output()), "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 2
    for name in ("summary.json", "audit_after.csv", "results.gpkg"):
        assert name in result.output
    assert not (tmp_path / "c").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(demo_output()), str(demo_output()), "--out", str(busy)])
    assert result.exit_code == 2 and "not an earlier comparison" in result.output
    assert (busy / "notes.txt").read_text(encoding="utf-8") == "mine"
    result = CliRunner().invoke(
        app, ["compare", str(tmp_path / "nope.txt"), str(demo_output()), "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 2


@pytest.mark.slow
def test_a_scenario_is_run_first(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app, ["compare", str(DEMO), str(demo_output()), "--out", str(out), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert figures["sites"]["only_a"] == 0 and figures["sites"]["only_b"] == 0
    assert figures["a"]["folder"] == str(out / "a") and (out / "a" / "summary.json").is_file()
    assert "Plans compared" in (out / "compare.html").read_text(encoding="utf-8")
