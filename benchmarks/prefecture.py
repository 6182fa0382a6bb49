"""Benchmark: a whole prefecture through ``planner run``, stage by stage, cold cache.

The prefecture is the synthetic one of issue 16 (``planner synth --benchmark --villages 1800
--townships 99 --extent-km 150``: ~211k road nodes, ~2.5 M people, ~30k demand cells). The run is a
fresh process (``planner run SCENARIO --out DIR -q``) with ``XDG_CACHE_HOME`` pointing to a new empty
folder, so no road network or coverage matrix comes from an earlier run. Printed: the stage times
the run records in ``summary.json`` (``timings``), the rest of the wall time (start-up and writing
the outputs), the CPU time and the peak memory (max RSS) of the run, against the goals of issue 16
(60 s, 8 GB on 2 cores).

Usage::

    python benchmarks/prefecture.py                          # synthesises the prefecture once, then runs it
    python benchmarks/prefecture.py --scenario path/to/scenario.yaml
    python benchmarks/prefecture.py --json out.json          # also write the figures as JSON

The synthetic prefecture is kept in ``--workdir`` (default ``/tmp/planner-prefecture``) between runs;
every run gets a new cache folder and a new output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL_S = 60.0
GOAL_GB = 8.0
SYNTH = ["--benchmark", "--villages", "1800", "--townships", "99", "--extent-km", "150"]


def planner_cmd() -> list[str]:
    return [sys.executable, "-m", "planner"]


def ensure_prefecture(workdir: Path) -> Path:
    """The prefecture's scenario, synthesised into ``workdir`` the first time."""
    scenario = workdir / "prefecture" / "scenario.yaml"
    if not scenario.exists():
        print(f"synthesising the prefecture into {scenario.parent} (once) ...", flush=True)
        t = time.perf_counter()
        subprocess.run(
            [*planner_cmd(), "synth", *SYNTH, str(scenario.parent)], check=True, capture_output=True
        )
        print(f"  done in {time.perf_counter() - t:.0f} s")
    return scenario


class TreeMemory:
    """Samples the summed RSS of a process and all its descendants (the run writes its outputs
    with a helper process and Chromium beside it) every 0.1 s; :meth:`stop` gives the peak, GB."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def _sample(self, pid: int) -> None:
        try:
            import psutil
        except ImportError:  # the bench extra brings it (through dask.distributed)
            return
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not self._done.wait(0.1):
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak / 2**30


def run_once(scenario: Path, out: Path) -> dict:
    """One cold-cache ``planner run``: wall, CPU and peak memory of the child, stage times."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="planner-cold-cache-") as cache:
        env["XDG_CACHE_HOME"] = cache
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*planner_cmd(), "run", str(scenario), "--out", str(out), "-q"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        tree = TreeMemory(proc.pid)
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t
        tree_peak = tree.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"planner run failed with exit code {done.returncode}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    stages = {k: float(v) for k, v in summary.get("timings", {}).items()}
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_gb": after.ru_maxrss / 2**20,  # kB → GB; the largest child so far (this run's)
        "peak_tree_gb": tree_peak,  # the run, its output helper and Chromium together
        "stages_s": stages,
        "rest_s": wall - sum(stages.values()),
    }


def report(fig: dict) -> None:
    print(f"\n{'stage':<28}{'seconds':>10}")
    for name, sec in fig["stages_s"].items():
        print(f"{name:<28}{sec:>10.1f}")
    print(f"{'start-up and outputs':<28}{fig['rest_s']:>10.1f}")
    wall = fig["wall_s"]
    print(f"{'total (wall)':<28}{wall:>10.1f}   goal < {GOAL_S:.0f} s: {wall < GOAL_S}")
    print(f"{'CPU (user + system)':<28}{fig['cpu_s']:>10.1f}")
    peak = max(fig["peak_rss_gb"], fig.get("peak_tree_gb", 0.0))
    print(f"{'peak memory, largest (GB)':<28}{fig['peak_rss_gb']:>10.2f}")
    tree = fig.get("peak_tree_gb", 0.0)
    print(f"{'peak memory, all (GB)':<28}{tree:>10.2f}   goal < {GOAL_GB:.0f} GB: {peak < GOAL_GB}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n(load average at the end {load:.1f} on {os.cpu_count()} cores; a busy machine runs long)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", type=Path, help="scenario to run (default: the synthetic prefecture)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "planner-prefecture")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    scenario = args.scenario or ensure_prefecture(args.workdir)
    out = Path(tempfile.mkdtemp(prefix="out-", dir=args.workdir)) / "out"
    print(f"planner run {scenario} (cold cache) ...", flush=True)
    fig = run_once(scenario, out)
    fig.update(scenario=str(scenario), python=platform.python_version(), cores=os.cpu_count())
    report(fig)
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
