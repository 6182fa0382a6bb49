"""Edit-to-update latency of ``planner serve``: an HTTP edit until its figures are back.

Runs the scenario once (json and csv outputs) unless ``--out`` names a run's folder, starts the
server on a free 127.0.0.1 port in this process, and times each edit as a browser sends it (``POST
/api/edit`` → the JSON the page redraws from: headline, standards table, gap lists, sites, uncovered
areas): a site added at a point (snapped and measured for just that point), the same site removed, a
candidate added, an existing facility closed and reopened, a proposal's type changed, and undo.

The comparison is what a user has without the server: ``planner audit`` on the edited facilities
(inputs read, networks and coverage from the cache, the audit), timed in the same run.

    python benchmarks/serve.py                              # the demo county
    python benchmarks/serve.py --scenario /tmp/s1800/scenario.yaml   # e.g. planner synth --villages 1800
    python benchmarks/serve.py --repeat 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]


def _run(scenario_path: Path) -> Path:
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    scenario = scenario.model_copy(
        update={"outputs": scenario.outputs.model_copy(update={"formats": ("json", "csv")})}
    )
    out = Path(tempfile.mkdtemp(prefix="planner-bench-serve-")) / "out"
    start = time.perf_counter()
    run_scenario(scenario, out_dir=out)
    print(f"run: {time.perf_counter() - start:.1f} s → {out}")
    return out


def _start(out: Path) -> tuple[str, Any, Any]:
    import uvicorn

    from planner.serve import Editor, bind, create_app, load_session

    start = time.perf_counter()
    session = load_session(out)
    editor = Editor(session)
    took = time.perf_counter() - start
    print(f"server ready in {took:.2f} s (inputs read, networks from the cache, the run's plan measured)")
    sock = bind(0)
    config = uvicorn.Config(create_app(editor), log_level="error", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/api/state", timeout=10)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return url, server, editor


def _edit(url: str, body: dict[str, Any] | None, path: str = "/api/edit") -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    response = requests.post(url + path, json=body, timeout=600)
    seconds = time.perf_counter() - start
    response.raise_for_status()
    return seconds, response.json()


def _point(editor: Any) -> tuple[float, float]:
    """A populated urban (else any) demand cell's centre, WGS-84."""
    import geopandas as gpd

    demand = editor.session.prepared.demand
    urban = demand[demand["area_class"] == "urban"]
    cells = urban if len(urban) else demand
    best = cells.loc[cells["population"].idxmax()]
    point = gpd.GeoSeries([best.geometry], crs=demand.crs).to_crs(4326).iloc[0]
    return float(point.x), float(point.y)


def measure(url: str, editor: Any, repeat: int) -> dict[str, list[float]]:
    lon, lat = _point(editor)
    state = requests.get(url + "/api/state", timeout=60).json()
    proposed = [s for s in state["sites"] if s["status"] == "proposed"]
    existing = next(s["id"] for s in state["sites"] if s["status"] == "existing")
    in_plan = {s["id"] for s in proposed}
    layers = requests.get(url + "/api/layers", timeout=60).json()
    free = [
        c["id"]
        for c in layers["candidates"]
        if c["id"] not in in_plan and c["type"] in {p["type"] for p in layers["placeable"]}
    ]
    retype = next(s for s in proposed if s["type"] in ("outlet", "locker"))
    times: dict[str, list[float]] = {
        k: [] for k in ("add_point", "remove", "add_candidate", "close", "reopen", "retype", "undo")
    }
    for k in range(repeat):
        t, view = _edit(url, {"op": "add_point", "lon": lon + 1e-4 * k, "lat": lat, "type": "outlet"})
        times["add_point"].append(t)
        new_id = view["edits"][-1]["id"]
        times["remove"].append(_edit(url, {"op": "remove", "id": new_id})[0])
        if free:
            times["add_candidate"].append(_edit(url, {"op": "add", "candidate": free[k % len(free)]})[0])
        times["close"].append(_edit(url, {"op": "close", "id": existing})[0])
        times["reopen"].append(_edit(url, {"op": "close", "id": existing})[0])
        other = "locker" if retype["type"] == "outlet" else "outlet"
        times["retype"].append(_edit(url, {"op": "retype", "id": retype["id"], "type": other})[0])
        times["undo"].append(_edit(url, None, "/api/undo")[0])
        _edit(url, None, "/api/reset")
    return times


def _audit_seconds(scenario_path: Path) -> float:
    from planner.run import audit_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    start = time.perf_counter()
    audit_scenario(scenario)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "demo.yaml")
    parser.add_argument(
        "--out", type=Path, default=None, help="a run's output folder (else the scenario is run)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="edit cycles (each: 7 edits)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or _run(args.scenario)
    url, server, editor = _start(out)
    try:
        times = measure(url, editor, args.repeat)
    finally:
        server.should_exit = True
    audit = _audit_seconds(args.scenario)
    session = editor.session
    size = {
        "demand_points": len(session.prepared.demand),
        "villages": len(session.prepared.study.villages),
        "sites": len(editor.state.facilities),
        "candidates": len(session.candidates),
    }
    print(f"county: {size}")
    print(f"{'edit':<14}{'median s':>10}{'max s':>10}   (HTTP round trip: edit → figures back)")
    rows = {}
    for name, values in times.items():
        if values:
            rows[name] = {"median": statistics.median(values), "max": max(values), "n": len(values)}
            print(f"{name:<14}{rows[name]['median']:>10.3f}{rows[name]['max']:>10.3f}")
    worst = max(r["median"] for r in rows.values())
    print(f"planner audit on the edited facilities (the alternative): {audit:.2f} s; "
          f"slowest median edit {worst:.3f} s → {audit / worst:.1f}× faster")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"size": size, "edits": rows, "audit_s": audit}, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
