"""Benchmark: exact MCLP and LSCP at county scale (400k road nodes), new bound vs plain HiGHS vs spopt.

The instance: a jittered grid road graph (``--side`` × ``--side`` nodes, 150 m apart; a primary road
every 10th line, 15% one-way, 5% of links missing), demand points and candidate sites placed on it
(``--layout clustered``: a county seat, towns, villages and scattered farms with log-normal weights;
``--layout uniform``: uniform points and weights), snapped to the car network and covered by the
planner's coverage engine (:func:`planner.coverage.coverage_matrix`, network distance <= 3 km).
The coverage matrix is cached as ``.npz`` under ``--cache`` (default ``/tmp/mclp_large``), keyed by
the instance parameters, so only the first run pays for the graph.

On that same matrix, in one run:

* ``new``: :func:`planner.optimize.solve_max_coverage` / :func:`~planner.optimize.solve_min_cost_cover`
  as shipped (reductions, greedy + swaps; MCLP: Lagrangian bound by subgradient, LSCP: LP bound by
  HiGHS's interior point; heuristic plans, reduced-cost fixing, HiGHS MIP on the fixed model);
* ``plain``: the old path on the same instance: the same reductions and greedy start, then one
  HiGHS MIP on the reduced model (``SolverSettings(lagrangian=False)``);
* ``spopt`` (``--spopt``, medium instances only, e.g. ``--side 250 --demand 15000 --sites 1500
  -p 60``): PySAL spopt's ``MCLP`` / ``LSCP`` built with ``from_cost_matrix`` from the same
  coverage matrix (a 0/1 "distance" matrix, service radius 0.5), solved by CBC through PuLP
  (``--spopt-solver highs``: PuLP's HiGHS), the same time limit for the solver call. PuLP exposes
  no dual bound, so spopt's gap is only known when the solver proved optimality.

Every tool gets ``--time-limit`` seconds (default 60) and ``--threads`` (default 2). LSCP uses unit
costs (spopt's LSCP has none).

Printed per problem and tool: objective, proven bound, proven gap, seconds, and the ratios.

Usage::

    python benchmarks/mclp_large.py                    # 400k nodes, 80k demand, 8k sites, p=200, 60 s
    python benchmarks/mclp_large.py --quick            # 40k nodes, 8k demand, 800 sites, p=20
    python benchmarks/mclp_large.py --side 250 --demand 15000 --sites 1500 -p 60 --spopt
    python benchmarks/mclp_large.py --json out.json    # also write the figures
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from pyproj import CRS, Transformer

# imports of planner modules outside planner.optimize, kept together (the package is being moved):
from planner.coverage import coverage_matrix
from planner.network import DEFAULT_MODES, build_mode_network, snap_points
from planner.optimize import SolverSettings, solve_max_coverage, solve_min_cost_cover

SPACING_M = 150.0


@dataclass(frozen=True)
class Instance:
    """A coverage instance: demand × sites matrix and demand weights."""

    A: sp.csr_matrix
    weight: np.ndarray
    info: dict[str, Any]


def grid_roads(side: int, seed: int) -> tuple[nx.MultiDiGraph, CRS, np.ndarray]:
    """A jittered ``side`` × ``side`` grid road graph (osmnx-style, WGS-84 nodes); also its node xy."""
    rng = np.random.default_rng(seed)
    crs = CRS.from_epsg(32650)
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    n = side * side
    xy = np.column_stack([ii.ravel(), jj.ravel()]) * SPACING_M + rng.normal(0, SPACING_M * 0.15, (n, 2))
    xy += [400_000.0, 3_500_000.0]
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_nodes_from((int(k), {"x": float(lon[k]), "y": float(lat[k])}) for k in range(n))
    ids = np.arange(n).reshape(side, side)
    for u, v, line in (
        (ids[:-1, :].ravel(), ids[1:, :].ravel(), jj[:-1, :].ravel()),
        (ids[:, :-1].ravel(), ids[:, 1:].ravel(), ii[:, :-1].ravel()),
    ):
        keep = rng.random(u.size) > 0.05
        u, v, line = u[keep], v[keep], line[keep]
        length = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.15, u.size)
        oneway = rng.random(u.size) < 0.15
        hw = np.where(line % 10 == 0, "primary", "residential")
        rows = zip(u.tolist(), v.tolist(), length.tolist(), oneway.tolist(), hw.tolist(), strict=True)
        for a, b, ln, ow, h in rows:
            g.add_edge(a, b, length=ln, highway=h, oneway=ow)
            if not ow:
                g.add_edge(b, a, length=ln, highway=h, oneway=False)
    return g, crs, xy


def place_points(
    lo: np.ndarray, hi: np.ndarray, n_demand: int, n_sites: int, *, layout: str, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand points with weights and candidate sites inside the box ``lo``..``hi``.

    ``clustered``: a seat (25% of the points), 2% of the area in towns, villages (47%), scattered
    farms (8%); weights log-normal (median 20 people); 70% of the sites near demand points, the rest
    uniform. ``uniform``: uniform points, weights 1..100, uniform sites.
    """
    rng = np.random.default_rng(seed + 1)
    ext = hi - lo
    if layout == "uniform":
        pts = lo + rng.random((n_demand, 2)) * ext
        weight = rng.integers(1, 101, n_demand).astype(float)
        return pts, weight, lo + rng.random((n_sites, 2)) * ext
    area_scale = float(np.sqrt(ext[0] * ext[1])) / 60_000.0
    n_towns, n_villages = 40, 2_500
    centres = np.vstack(
        [
            lo + 0.5 * ext,
            lo + rng.uniform(0.05, 0.95, (n_towns, 2)) * ext,
            lo + rng.random((n_villages, 2)) * ext,
        ]
    )
    sigma = np.concatenate(
        [[2500.0 * area_scale], np.full(n_towns, 900.0), rng.uniform(150.0, 450.0, n_villages)]
    )
    share = np.concatenate([[0.25], np.full(n_towns, 0.20 / n_towns), np.full(n_villages, 0.47 / n_villages)])
    n_scatter = int(0.08 * n_demand)
    counts = rng.multinomial(n_demand - n_scatter, share / share.sum())
    idx = np.repeat(np.arange(centres.shape[0]), counts)
    pts = centres[idx] + rng.normal(size=(idx.size, 2)) * sigma[idx, None]
    pts = np.vstack([pts, lo + rng.random((n_scatter, 2)) * ext])
    pts = np.clip(pts, lo, hi)
    weight = np.maximum(1, np.round(rng.lognormal(3.0, 1.0, size=pts.shape[0])))
    n_near = int(0.7 * n_sites)
    near = pts[rng.choice(pts.shape[0], n_near, replace=False)] + rng.normal(0, 200.0, (n_near, 2))
    sites = np.clip(np.vstack([near, lo + rng.random((n_sites - n_near, 2)) * ext]), lo, hi)
    return pts, weight, sites


def build_instance(args: argparse.Namespace) -> Instance:
    """Build (or load from the cache) the coverage matrix of the instance ``args`` describe."""
    key = f"g{args.side}_d{args.demand}_s{args.sites}_{args.layout}_r{args.radius_km:g}_seed{args.seed}"
    path = Path(args.cache) / f"{key}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        A = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        info = json.loads(str(z["info"]))
        info["cached"] = str(path)
        return Instance(A, z["weight"], info)
    t0 = time.perf_counter()
    roads, crs, xy = grid_roads(args.side, args.seed)
    t_graph = time.perf_counter() - t0
    net = build_mode_network(roads, crs=crs, mode=DEFAULT_MODES["car"])
    del roads
    t_net = time.perf_counter() - t0 - t_graph
    pts, weight, site_xy = place_points(
        xy.min(axis=0), xy.max(axis=0), args.demand, args.sites, layout=args.layout, seed=args.seed
    )
    demand = snap_points(net, pts, label="demand")
    sites = snap_points(net, site_xy, label="sites")
    t1 = time.perf_counter()
    A = sp.csr_matrix(
        coverage_matrix(net, demand, sites, max_distance_m=args.radius_km * 1000.0, max_time_s=None)
    )
    t_cov = time.perf_counter() - t1
    info = {
        "road_nodes": args.side**2,
        "network_nodes": int(net.n_nodes),
        "network_arcs": int(net.n_arcs),
        "demand": int(A.shape[0]),
        "sites": int(A.shape[1]),
        "pairs": int(A.nnz),
        "layout": args.layout,
        "radius_km": args.radius_km,
        "graph_s": round(t_graph, 1),
        "network_s": round(t_net, 1),
        "coverage_s": round(t_cov, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        data=A.data,
        indices=A.indices,
        indptr=A.indptr,
        shape=np.array(A.shape),
        weight=weight,
        info=json.dumps(info),
    )
    os.replace(tmp, path)
    info["cached"] = f"written {path}"
    return Instance(A, weight, info)


# ---------------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------------


def run_planner(inst: Instance, *, p: int, settings: SolverSettings) -> dict[str, Any]:
    """MCLP (p new sites, population weights) and LSCP (fewest sites covering every coverable row)."""
    out: dict[str, Any] = {}
    t = time.perf_counter()
    res = solve_max_coverage(inst.A, inst.weight, max_new=p, settings=settings)
    out["mclp"] = _figures(res, time.perf_counter() - t)
    t = time.perf_counter()
    res = solve_min_cost_cover(inst.A, None, settings=settings)
    out["lscp"] = _figures(res, time.perf_counter() - t)
    return out


def _figures(res: Any, seconds: float) -> dict[str, Any]:
    return {
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.mip_gap,
        "status": res.status,
        "seconds": seconds,
        "size_after": res.size_after,
        "timings": {k: round(v, 2) for k, v in res.timings.items()},
        "extra": {k: v for k, v in res.extra.items() if isinstance(v, (int, float, str, dict))},
        "notes": list(res.notes),
    }


def run_spopt(inst: Instance, *, p: int, time_limit: float, solver: str, threads: int) -> dict[str, Any]:
    """spopt's MCLP and LSCP on the same coverage matrix (0/1 'distance', radius 0.5), via PuLP."""
    import warnings

    import pulp
    from spopt.locate import LSCP, MCLP

    warnings.simplefilter("ignore")

    def make_solver() -> Any:
        if solver == "highs":
            return pulp.HiGHS(msg=False, timeLimit=time_limit, threads=threads)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=threads)

    out: dict[str, Any] = {}
    D = np.where(inst.A.toarray(), 0.0, 1.0)
    coverable = np.diff(inst.A.indptr) > 0
    for name in ("mclp", "lscp"):
        t = time.perf_counter()
        if name == "mclp":
            model = MCLP.from_cost_matrix(D, inst.weight.astype(float), service_radius=0.5, p_facilities=p)
        else:
            model = LSCP.from_cost_matrix(D[coverable], service_radius=0.5)
        build = time.perf_counter() - t
        with contextlib.suppress(RuntimeError):  # spopt raises when the solver stops at the time limit
            model.solve(make_solver(), results=False)
        total = time.perf_counter() - t
        sol_status = model.problem.sol_status
        value = pulp.value(model.problem.objective) if sol_status in (1, 2) else None
        objective = float("nan") if value is None else float(value)
        out[name] = {
            "objective": objective,
            "bound": None,
            "gap": 0.0 if sol_status == pulp.LpSolutionOptimal else None,  # PuLP exposes no bound
            "status": pulp.LpSolution[sol_status],
            "seconds": total,
            "build": build,
        }
    return out


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def _fmt_gap(g: float | None) -> str:
    return "n/a" if g is None else f"{100 * g:.3f}%"


def report(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for prob in ("mclp", "lscp"):
        lines.append(f"\n{prob.upper()}")
        lines.append(f"  {'tool':<8} {'objective':>14} {'bound':>14} {'gap':>10} {'seconds':>9}  status")
        for tool, res in results.items():
            r = res[prob]
            bound = "n/a" if r["bound"] is None else f"{r['bound']:,.1f}"
            lines.append(
                f"  {tool:<8} {r['objective']:>14,.1f} {bound:>14} {_fmt_gap(r['gap']):>10} "
                f"{r['seconds']:>9.2f}  {r['status']}"
            )
        new = results["new"][prob]
        for tool, res in results.items():
            if tool == "new":
                continue
            r = res[prob]
            ratio_obj = new["objective"] / r["objective"] if r["objective"] else float("nan")
            gap_ratio = (
                f"{r['gap'] / new['gap']:.1f}x smaller gap"
                if r["gap"] and new["gap"]
                else f"gap {_fmt_gap(r['gap'])} vs {_fmt_gap(new['gap'])}"
            )
            lines.append(
                f"  new vs {tool}: objective x{ratio_obj:.4f}, {gap_ratio}, "
                f"time x{r['seconds'] / max(new['seconds'], 1e-9):.2f} ({tool} / new)"
            )
        lines.append(f"  new: reduced model {new['size_after']}, timings {new['timings']}")
        for key in ("lagrangian_bound", "lagrangian_iterations", "fixed_closed", "fixed_open", "size_mip"):
            if key in new["extra"]:
                lines.append(f"       {key}: {new['extra'][key]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--quick", action="store_true", help="small instance: 200 x 200 grid, 8k demand, 800 sites, p=20"
    )
    ap.add_argument(
        "--side", type=int, default=None, help="grid side (nodes = side^2; default 632 = 399,424)"
    )
    ap.add_argument("--demand", type=int, default=None, help="demand points (default 80,000)")
    ap.add_argument("--sites", type=int, default=None, help="candidate sites (default 8,000)")
    ap.add_argument("-p", type=int, default=None, help="new sites in the MCLP (default 200; quick 20)")
    ap.add_argument("--layout", choices=("clustered", "uniform"), default="clustered")
    ap.add_argument("--radius-km", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve, every tool")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mip-gap", type=float, default=1e-4)
    ap.add_argument("--skip-plain", action="store_true", help="skip the old path (one HiGHS MIP)")
    ap.add_argument("--spopt", action="store_true", help="also spopt (dense matrices: medium instances only)")
    ap.add_argument("--spopt-solver", choices=("cbc", "highs"), default="cbc")
    ap.add_argument("--cache", default="/tmp/mclp_large", help="folder for the cached coverage matrices")
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    args.side = args.side or (200 if args.quick else 632)
    args.demand = args.demand or (8_000 if args.quick else 80_000)
    args.sites = args.sites or (800 if args.quick else 8_000)
    p = args.p or (20 if args.quick else 200)
    inst = build_instance(args)
    print(f"instance: {json.dumps(inst.info)}")
    print(f"MCLP p={p}; LSCP unit costs; time limit {args.time_limit:g} s, {args.threads} threads")
    base = SolverSettings(time_limit_s=args.time_limit, threads=args.threads, mip_gap=args.mip_gap)
    results: dict[str, dict[str, Any]] = {"new": run_planner(inst, p=p, settings=base)}
    if not args.skip_plain:
        plain = SolverSettings(
            time_limit_s=args.time_limit, threads=args.threads, mip_gap=args.mip_gap, lagrangian=False
        )
        results["plain"] = run_planner(inst, p=p, settings=plain)
    if args.spopt:
        if inst.A.shape[0] * inst.A.shape[1] > 60_000_000:
            print("spopt skipped: its dense cost matrix would exceed 60M entries (use a medium instance)")
        else:
            results["spopt"] = run_spopt(
                inst, p=p, time_limit=args.time_limit, solver=args.spopt_solver, threads=args.threads
            )
    for line in report(results):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"instance": inst.info, "p": p, "results": results}, indent=2, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
