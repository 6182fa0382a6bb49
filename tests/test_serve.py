"""``planner serve`` through its HTTP API (FastAPI's test client) on the demo county.

Every figure is checked against a computation made here: the run's own ``audit_after.csv`` for the
starting plan, a hand count of outlets over the register population for an added outlet, the plain
:class:`~planner.coverage.snaps.SnapCache` path of a run for an edited facility set, and
``planner run`` (in process) on a saved scenario.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from serve_fixtures import (
    SHORT_COMMUNITY,
    cell_lonlat,
    demo_output,
    judged,
    read_audit,
    same_passed,
    same_values,
)
from typer.testing import CliRunner

from planner.cli.app import app as cli_app
from planner.coverage import SnapCache, assess, service_rules
from planner.network.snap import snap_points
from planner.run import run_scenario
from planner.scenario import load_scenario
from planner.serve import Editor, create_app, load_session
from planner.serve.snaps import PointSnapCache


@pytest.fixture(scope="module")
def session() -> Any:
    return load_session(demo_output())


@pytest.fixture
def editor(session: Any) -> Editor:
    return Editor(session)


@pytest.fixture
def client(editor: Editor) -> TestClient:
    return TestClient(create_app(editor))


def _table(view: dict[str, Any], fields: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(view["table"], columns=fields)
    return frame.set_index(["standard_id", "unit_level", "unit_code"]).sort_index()


def test_the_starting_plan_is_the_runs_plan_with_the_runs_audit(client: TestClient) -> None:
    layers = client.get("/api/layers").json()
    view = client.get("/api/state").json()
    table = _table(view, layers["table_fields"])
    csv = read_audit(demo_output() / "audit_after.csv").set_index(["standard_id", "unit_level", "unit_code"])
    rows = csv.loc[table.index]
    assert same_values(table["value"], rows["value"])
    assert same_passed(table["passed"], rows["passed"])
    assert not table["changed"].any()
    proposals = pd.read_csv(demo_output() / "proposals.csv", dtype=str)
    proposed = [s["id"] for s in view["sites"] if s["status"] == "proposed"]
    assert sorted(proposed) == sorted(proposals["id"])
    summary = json.loads((demo_output() / "summary.json").read_text(encoding="utf-8"))
    head = view["headline"]["now"]
    assert head["cost"] == pytest.approx(summary["cost_total"])
    for area in ("urban", "township", "rural"):
        assert head["coverage"][area] == pytest.approx(summary["coverage"][area]["after"], abs=1e-6)
    assert head["access"]["county"] == summary["access"]["county"]["after"]


def _outlets(view: dict[str, Any], code: str) -> int:
    return sum(
        1
        for s in view["sites"]
        if s["type"] == "outlet" and s["status"] != "closed" and s["village_code"] == code
    )


def test_an_outlet_added_at_a_point_fixes_the_communitys_outlet_density(
    client: TestClient, session: Any
) -> None:
    fields = client.get("/api/layers").json()["table_fields"]
    before = client.get("/api/state").json()
    lon, lat = cell_lonlat(session.prepared.demand, SHORT_COMMUNITY)
    after = client.post(
        "/api/edit", json={"op": "add_point", "lon": lon, "lat": lat, "type": "outlet"}
    ).json()
    added = next(s for s in after["sites"] if s["id"] == "U1")
    assert added["village_code"] == SHORT_COMMUNITY and added["status"] == "proposed"

    # by hand: outlets in the community over its register population, per 10,000
    villages = session.prepared.study.villages.set_index("village_code")
    people = float(villages.loc[SHORT_COMMUNITY, "population"])
    n = _outlets(before, SHORT_COMMUNITY)
    assert _outlets(after, SHORT_COMMUNITY) == n + 1
    t0, t1 = _table(before, fields), _table(after, fields)
    key = ("D-OUTLET", "community", SHORT_COMMUNITY)
    assert t0.loc[key, "value"] == pytest.approx(n / people * 1e4, rel=1e-12)
    assert t1.loc[key, "value"] == pytest.approx((n + 1) / people * 1e4, rel=1e-12)
    assert t0.loc[key, "passed"] is False and t1.loc[key, "passed"] is True
    # the township and the county: one more of their communities passes
    town = str(villages.loc[SHORT_COMMUNITY, "township_code"])
    communities = villages[(villages["kind"] == "community") & (villages["population"] > 0)]
    k_town = int((communities["township_code"].astype(str) == town).sum())
    for level, code, k in (("township", town, k_town), ("county", "379901", len(communities))):
        assert t1.loc[("D-OUTLET", level, code), "value"] == pytest.approx(
            t0.loc[("D-OUTLET", level, code), "value"] + 1 / k, rel=1e-12
        )
    # nothing else judged changes (coverage is complete already; no other standard counts outlets here)
    changed = t1[t1["changed"]].index.tolist()
    assert sorted(changed) == sorted([key, ("D-OUTLET", "township", town), ("D-OUTLET", "county", "379901")])
    others = t1.drop(index=changed)
    assert same_values(others["value"], t0.loc[others.index, "value"])

    # removed again: the table is the run's again
    restored = client.post("/api/edit", json={"op": "remove", "id": "U1"}).json()
    t2 = _table(restored, fields)
    assert same_values(t2["value"], t0["value"]) and not t2["changed"].any()


def test_bad_requests_get_a_4xx_with_a_message_and_leave_the_plan_unchanged(client: TestClient) -> None:
    start = client.get("/api/state").json()
    bad = [
        ({"op": "add_point", "lon": 100.0, "lat": 30.0, "type": "outlet"}, 422, "outside the study area"),
        ({"op": "add_point", "lon": "east", "lat": 30.0, "type": "outlet"}, 422, "lon"),
        ({"op": "add_point", "lon": 116.6, "lat": 36.45, "type": "sorting_centre"}, 422, "cannot add"),
        ({"op": "remove", "id": "NO-SUCH-SITE"}, 404, "no site"),
        ({"op": "close", "id": "NO-SUCH-SITE"}, 404, "no site"),
        ({"op": "add", "candidate": "NO-SUCH-CANDIDATE"}, 404, "no candidate"),
        ({"op": "add", "candidate": "C00001"}, 409, "in the plan already"),
        ({"op": "remove", "id": "OUT-0001"}, 409, "close it"),
        ({"op": "close", "id": "C00001"}, 409, "remove it"),
        ({"op": "retype", "id": "C00001", "type": "spaceship"}, 422, "unknown facility type"),
        ({"op": "teleport", "id": "C00001"}, 422, "bad request"),
        ({"op": "remove"}, 422, "bad request"),
    ]
    for body, status, text in bad:
        response = client.post("/api/edit", json=body)
        assert response.status_code == status, (body, response.text)
        assert text in response.json()["error"], (body, response.text)
    malformed = client.post(
        "/api/edit", content=b'{"op": "remove", ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["error"]
    assert client.post("/api/undo").status_code == 409
    assert client.post("/api/save", json={"path": "scenario.txt"}).status_code == 422
    end = client.get("/api/state").json()
    assert end["sites"] == start["sites"] and end["table"] == start["table"] and end["edits"] == []


def test_close_reopen_retype_undo_and_reset(client: TestClient) -> None:
    start = client.get("/api/state").json()
    closed = client.post("/api/edit", json={"op": "close", "id": "OUT-0001"}).json()
    site = next(s for s in closed["sites"] if s["id"] == "OUT-0001")
    assert site["status"] == "closed"
    assert closed["headline"]["now"]["existing"] == start["headline"]["now"]["existing"] - 1
    reopened = client.post("/api/edit", json={"op": "close", "id": "OUT-0001"}).json()
    assert reopened["table"] == start["table"]
    retyped = client.post("/api/edit", json={"op": "retype", "id": "C00001", "type": "locker"}).json()
    new = next(s for s in retyped["sites"] if s["id"] == retyped["edits"][-1]["new_id"])
    old = next(s for s in start["sites"] if s["id"] == "C00001")
    assert new["type"] == "locker" and (new["lon"], new["lat"]) == (old["lon"], old["lat"])
    assert "C00001" not in {s["id"] for s in retyped["sites"]}
    undone = client.post("/api/undo").json()
    assert undone["sites"] == reopened["sites"]
    reset = client.post("/api/reset").json()
    assert reset["sites"] == start["sites"] and reset["table"] == start["table"]


def test_the_edited_coverage_equals_a_runs_coverage_of_the_same_sites(session: Any, editor: Editor) -> None:
    """The server's snaps (kept per point) give the same coverage columns as a run's plain cache."""
    from planner.serve import state as st

    lon, lat = cell_lonlat(session.prepared.demand, SHORT_COMMUNITY)
    state = st.add_point(session, session.baseline, lon, lat, "locker")
    state = st.remove(session, state, "C00002")
    state = st.toggle_closed(session, state, "OUT-0002")
    mine = st.evaluate(session, state)
    prepared = session.prepared
    plain = SnapCache(prepared.networks, max_snap_m=prepared.scenario.travel.max_snap_m)
    demand, villages = assess(
        prepared.demand,
        prepared.study.villages,
        state.active,
        rules=service_rules(prepared.profile),
        snaps=plain,
        reading=prepared.scenario.travel.reading,
    )
    cols = ["covered", "covered_network", "covered_buffer", "covered_strict", "reachable"]
    assert (mine.demand[cols] == demand[cols]).all().all()
    np.testing.assert_array_equal(mine.demand["nearest_min"], demand["nearest_min"])
    np.testing.assert_array_equal(mine.villages["nearest_station_km"], villages["nearest_station_km"])
    assert (mine.villages["has_station"] == villages["has_station"]).all()


def test_point_snaps_assembled_equal_one_snap_of_the_array(session: Any) -> None:
    prepared = session.prepared
    cache = PointSnapCache(prepared.networks, max_snap_m=1000.0)
    xy = np.column_stack([prepared.demand.geometry.x, prepared.demand.geometry.y])[:300]
    rng = np.random.default_rng(3)
    cache.snap("car", xy[:200])
    seen = {(float(x), float(y)) for x, y in xy[:200]}
    for _ in range(3):
        pick = xy[rng.choice(len(xy), size=120, replace=True)]
        seen |= {(float(x), float(y)) for x, y in pick}
        got = cache.snap("car", pick)
        want = snap_points(prepared.networks["car"], pick, max_snap_m=1000.0)
        for field in (
            "edge",
            "fraction",
            "access_m",
            "access_s",
            "along_m",
            "along_fwd_s",
            "along_bwd_s",
            "reachable",
        ):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    assert cache.points_snapped == len(seen)  # every point went through the engine once


def test_saved_scenario_reproduces_the_edited_plan_with_planner_run(
    client: TestClient, session: Any, tmp_path: Path
) -> None:
    lon, lat = cell_lonlat(session.prepared.demand, SHORT_COMMUNITY)
    client.post("/api/edit", json={"op": "add_point", "lon": lon, "lat": lat, "type": "outlet"})
    client.post("/api/edit", json={"op": "close", "id": "OUT-0003"})
    view = client.get("/api/state").json()
    saved = client.post("/api/save", json={"path": str(tmp_path / "edited.yaml")}).json()
    assert saved["differences"] == [] and saved["frozen"] is True
    data = yaml.safe_load((tmp_path / "edited.yaml").read_text(encoding="utf-8"))
    proposed = sorted(s["id"] for s in view["sites"] if s["status"] == "proposed")
    assert sorted(data["plan"]["force"]) == proposed
    facilities = pd.read_csv(tmp_path / "edited.facilities.csv", dtype=str)
    assert "OUT-0003" not in set(facilities["facility_id"])
    result = run_scenario(load_scenario(tmp_path / "edited.yaml"), write=False)
    assert sorted(result.facilities.loc[result.facilities["status"] == "proposed", "facility_id"]) == proposed
    fields = client.get("/api/layers").json()["table_fields"]
    mine = _table(view, fields)
    theirs = judged(result.audit_after.table)
    assert same_values(mine["value"], theirs.loc[mine.index, "value"])
    assert same_passed(mine["passed"], theirs.loc[mine.index, "passed"])
    assert result.summary["access"]["county"]["after"] == view["headline"]["now"]["access"]["county"]


def test_reoptimise_keeps_the_users_choices(client: TestClient, session: Any) -> None:
    start = client.get("/api/state").json()
    proposed = {s["id"]: s for s in start["sites"] if s["status"] == "proposed"}
    station = next(i for i, s in proposed.items() if s["type"] == "village_station")
    client.post("/api/edit", json={"op": "remove", "id": station})
    free = [
        c
        for c in client.get("/api/layers").json()["candidates"]
        if c["type"] == "outlet" and c["id"] not in proposed
    ]
    client.post("/api/edit", json={"op": "add", "candidate": free[0]["id"]})
    out = client.post("/api/optimise").json()
    ids = {s["id"] for s in out["sites"] if s["status"] == "proposed"}
    assert free[0]["id"] in ids and station not in ids
    assert out["optimised"] is True and out["edits"][-1]["op"] == "optimise"


def test_serve_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", str(tmp_path), "--port", "0", "--quiet"])
    assert result.exit_code == 2
    assert "summary.json is missing" in result.output
