"""Benchmark: the planner's exact placement models against PySAL spopt (CBC through PuLP).

One synthetic county (~20,000 demand points, ~2,000 candidate sites, a 3 km straight-line
standard). Both tools solve the same two problems in the same run:

* ``mclp``: maximal covering, p = 50 new sites, weights = population;
* ``lscp``: location set covering (fewest sites covering every demand point some site covers;
  spopt's LSCP has no per-site cost, so every site costs 1 here).

"End to end" is what a user pays per tool: the planner builds a sparse coverage matrix (KD-tree)
and calls :func:`planner.optimize.solve_max_coverage` / :func:`~planner.optimize.solve_min_cost_cover`
(reductions, greedy, HiGHS); spopt gets the dense distance matrix its ``from_cost_matrix`` needs,
builds its PuLP model and solves it with CBC (default options: solved to proven optimality).

Usage::

    python benchmarks/optimize.py                 # full size
    python benchmarks/optimize.py --quick         # small instance, a few seconds
    python benchmarks/optimize.py --json out.json # also write the figures as JSON
    python benchmarks/optimize.py --skip-spopt    # planner only
    python benchmarks/optimize.py --plain         # also HiGHS on the unreduced model

The points come from :mod:`planner.synth` when it produces a county (population raster cells as
demand, its candidate sites topped up with populated cells); ``--source clustered`` uses a
self-contained clustered random county instead (seat, towns, villages, scattered farms).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from planner.optimize import SolverSettings, solve_max_coverage, solve_min_cost_cover


@dataclass(frozen=True)
class Instance:
    """Demand points (x, y in metres, weight) and candidate sites (x, y)."""

    demand_xy: np.ndarray
    weight: np.ndarray
    site_xy: np.ndarray
    source: str


def clustered_county(n_demand: int, n_sites: int, *, seed: int = 7, extent_km: float = 60.0) -> Instance:
    """A clustered random county: a seat, towns and villages (Gaussian clusters) and scattered farms."""
    rng = np.random.default_rng(seed)
    ext = extent_km * 1000.0
    n_towns, n_villages = 12, 220
    seat = np.array([[ext / 2, ext / 2]])
    towns = rng.uniform(0.1 * ext, 0.9 * ext, size=(n_towns, 2))
    villages = rng.uniform(0.02 * ext, 0.98 * ext, size=(n_villages, 2))
    centres = np.vstack([seat, towns, villages])
    sigma = np.concatenate([[2500.0], np.full(n_towns, 900.0), rng.uniform(150.0, 450.0, n_villages)])
    share = np.concatenate([[0.25], np.full(n_towns, 0.20 / n_towns), np.full(n_villages, 0.47 / n_villages)])
    n_scatter = int(0.08 * n_demand)
    counts = rng.multinomial(n_demand - n_scatter, share / share.sum())
    idx = np.repeat(np.arange(centres.shape[0]), counts)
    pts = centres[idx] + rng.normal(size=(idx.size, 2)) * sigma[idx, None]
    pts = np.vstack([pts, rng.uniform(0, ext, size=(n_scatter, 2))])
    pts = np.clip(pts, 0, ext)
    weight = np.maximum(1, np.round(rng.lognormal(3.0, 1.0, size=pts.shape[0]))).astype(float)
    n_near = int(0.7 * n_sites)
    near = pts[rng.choice(pts.shape[0], n_near, replace=False)] + rng.normal(0, 200.0, size=(n_near, 2))
    far = rng.uniform(0, ext, size=(n_sites - n_near, 2))
    return Instance(pts, weight, np.vstack([near, far]), "clustered")


def synth_county(n_demand: int, n_sites: int, *, seed: int = 7) -> Instance:
    """Demand = populated raster cells of :func:`planner.synth.synthesize`; sites = its candidates + cells."""
    from pyproj import Transformer

    from planner.synth import SynthParams, synthesize

    params = SynthParams(seed=seed, extent_km=60.0, n_townships=14, n_villages=300)
    county = synthesize(params)
    populated = int(np.count_nonzero(np.asarray(county.population) > 0))
    if populated < n_demand:  # finer cells until there are enough demand points
        res = max(10.0, params.resolution_m * float(np.sqrt(populated / n_demand)) * 0.95)
        county = synthesize(replace(params, resolution_m=res))
    pop = np.asarray(county.population, dtype=float)
    rows, cols = np.nonzero(pop > 0)
    tr = county.transform
    x = tr.c + (cols + 0.5) * tr.a
    y = tr.f + (rows + 0.5) * tr.e
    demand = np.column_stack([x, y])
    weight = pop[rows, cols]
    rng = np.random.default_rng(seed)
    if demand.shape[0] > n_demand:
        keep = rng.choice(demand.shape[0], n_demand, replace=False)
        demand, weight = demand[keep], weight[keep]
    to_proj = Transformer.from_crs("EPSG:4326", county.crs, always_xy=True)
    cand = county.candidates
    sx, sy = to_proj.transform(cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy())
    sites = np.column_stack([sx, sy])
    if sites.shape[0] < n_sites:
        extra = demand[rng.choice(demand.shape[0], n_sites - sites.shape[0], replace=False)]
        sites = np.vstack([sites, extra])
    # whole persons, at least one per populated cell (integral weights, as spopt's MCLP expects)
    return Instance(demand, np.maximum(1.0, np.round(weight)), sites[:n_sites], "planner.synth")


def coverage_3km(inst: Instance, radius_m: float) -> sp.csr_matrix:
    """Sparse demand × sites coverage by straight-line distance (KD-tree, never dense)."""
    tree_s = cKDTree(inst.site_xy)
    hits = tree_s.query_ball_point(inst.demand_xy, r=radius_m, return_sorted=True)
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = (
        np.concatenate([np.asarray(h, dtype=np.int32) for h in hits]) if indptr[-1] else np.zeros(0, np.int32)
    )
    return sp.csr_matrix(
        (np.ones(indices.size, dtype=bool), indices, indptr),
        shape=(inst.demand_xy.shape[0], inst.site_xy.shape[0]),
    )


def run_planner(A: sp.csr_matrix, weight: np.ndarray, *, p: int, settings: SolverSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    res = solve_max_coverage(A, weight, max_new=p, settings=settings)
    out["mclp"] = {"seconds": time.perf_counter() - t, "result": res}
    coverable = np.diff(A.indptr) > 0
    t = time.perf_counter()
    res = solve_min_cost_cover(A[coverable], None, settings=settings)
    out["lscp"] = {"seconds": time.perf_counter() - t, "result": res}
    return out


def run_spopt(
    D: np.ndarray, weight: np.ndarray, coverable: np.ndarray, *, p: int, radius: float
) -> dict[str, Any]:
    import warnings

    import pulp
    from spopt.locate import LSCP, MCLP

    warnings.simplefilter("ignore")
    out: dict[str, Any] = {}
    t = time.perf_counter()
    model = MCLP.from_cost_matrix(D, weight.astype(float), service_radius=radius, p_facilities=p)
    build = time.perf_counter() - t
    model.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    total = time.perf_counter() - t
    out["mclp"] = {
        "seconds": total,
        "build": build,
        "solve": total - build,
        "objective": float(pulp.value(model.problem.objective)),
        "status": pulp.LpStatus[model.problem.status],
    }
    t = time.perf_counter()
    model = LSCP.from_cost_matrix(D[coverable], service_radius=radius)
    build = time.perf_counter() - t
    model.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    total = time.perf_counter() - t
    out["lscp"] = {
        "seconds": total,
        "build": build,
        "solve": total - build,
        "objective": float(pulp.value(model.problem.objective)),
        "status": pulp.LpStatus[model.problem.status],
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small instance (2,000 demand points, 300 sites)")
    ap.add_argument("--demand", type=int, default=None, help="demand points (default 20,000; quick 2,000)")
    ap.add_argument("--sites", type=int, default=None, help="candidate sites (default 2,000; quick 300)")
    ap.add_argument("--radius-km", type=float, default=3.0)
    ap.add_argument("-p", type=int, default=50, help="new sites in the MCLP")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--source", choices=["synth", "clustered"], default="synth")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument(
        "--plain", action="store_true", help="also solve without the reductions (HiGHS, plain model)"
    )
    ap.add_argument("--mip-gap", type=float, default=1e-4)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    n_demand = args.demand or (2_000 if args.quick else 20_000)
    n_sites = args.sites or (300 if args.quick else 2_000)
    p = min(args.p, 10) if args.quick else args.p
    radius = args.radius_km * 1000.0

    source_note = ""
    if args.source == "synth":
        try:
            inst = synth_county(n_demand, n_sites, seed=args.seed)
        except Exception as exc:  # the synthetic-county generator is optional for this benchmark
            source_note = (
                f"planner.synth unavailable ({type(exc).__name__}: {exc}); used the clustered county"
            )
            inst = clustered_county(n_demand, n_sites, seed=args.seed)
    else:
        inst = clustered_county(n_demand, n_sites, seed=args.seed)
    if source_note:
        print(source_note)
    t = time.perf_counter()
    A = coverage_3km(inst, radius)
    t_cov = time.perf_counter() - t
    coverable = np.diff(A.indptr) > 0
    print(
        f"instance: {inst.source}, {A.shape[0]:,} demand points, {A.shape[1]:,} sites, radius {radius:g} m, "
        f"{A.nnz:,} covering pairs, {int(coverable.sum()):,} coverable; sparse coverage {t_cov:.2f} s"
    )
    settings = SolverSettings(time_limit_s=args.time_limit, mip_gap=args.mip_gap)
    ours = run_planner(A, inst.weight, p=p, settings=settings)
    for name, rec in ours.items():
        r = rec["result"]
        print(
            f"planner {name}: {rec['seconds']:.2f} s (reduce {r.timings['reduce']:.2f}, "
            f"greedy {r.timings['greedy']:.2f}, "
            f"build {r.timings['build']:.2f}, solve {r.timings['solve']:.2f}), objective {r.objective:,.1f}, "
            f"{r.status}, gap {r.mip_gap:.2e}, model {r.size_before} -> {r.size_after}"
        )
    report: dict[str, Any] = {
        "instance": {
            "source": inst.source,
            "note": source_note,
            "demand_points": int(A.shape[0]),
            "sites": int(A.shape[1]),
            "coverable_points": int(coverable.sum()),
            "radius_m": radius,
            "p": p,
            "nnz": int(A.nnz),
            "seed": args.seed,
        }
    }
    plain: dict[str, Any] = {}
    if args.plain:
        plain = run_planner(A, inst.weight, p=p, settings=replace(settings, reduce=False))
        for name, rec in plain.items():
            r = rec["result"]
            print(
                f"planner {name} without reductions: {rec['seconds']:.2f} s, "
                f"objective {r.objective:,.1f}, {r.status}"
            )
            report[f"{name}_plain"] = {
                "seconds": rec["seconds"],
                "objective": r.objective,
                "status": r.status,
            }
    theirs: dict[str, Any] = {}
    t_dense = 0.0
    if not args.skip_spopt:
        t = time.perf_counter()
        D = cdist(inst.demand_xy, inst.site_xy)
        t_dense = time.perf_counter() - t
        print(f"spopt input: dense distance matrix {D.shape} in {t_dense:.2f} s")
        theirs = run_spopt(D, inst.weight, coverable, p=p, radius=radius)
        del D
    for name in ("mclp", "lscp"):
        r = ours[name]["result"]
        planner_s = ours[name]["seconds"] + t_cov
        entry: dict[str, Any] = {
            "planner_seconds": planner_s,
            "planner_model_seconds": ours[name]["seconds"],
            "planner_objective": r.objective,
            "planner_status": r.status,
            "planner_gap": r.mip_gap,
            "planner_timings": r.timings,
            "size_before": r.size_before,
            "size_after": r.size_after,
            "greedy_objective": r.extra.get("greedy_objective"),
        }
        if name in theirs:
            s = theirs[name]
            spopt_s = s["seconds"] + t_dense
            same = abs(s["objective"] - r.objective) <= 1e-4 * max(abs(s["objective"]), abs(r.objective), 1.0)
            entry.update(
                {
                    "spopt_seconds": spopt_s,
                    "spopt_build_seconds": s["build"],
                    "spopt_solve_seconds": s["solve"],
                    "spopt_objective": s["objective"],
                    "spopt_status": s["status"],
                    "same_objective": bool(same),
                    "ratio_vs_spopt": spopt_s / planner_s,
                }
            )
            print(
                f"{name}: planner {planner_s:.2f} s, objective {r.objective:,.1f} | spopt {spopt_s:.2f} s "
                f"(build {s['build']:.2f}, solve {s['solve']:.2f}), "
                f"objective {s['objective']:,.1f} ({s['status']}) | "
                f"same objective: {same}, {spopt_s / planner_s:.1f}x faster"
            )
        report[name] = entry
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
