"""Benchmark: the planner's coverage engine against networkx and pandana, checked on the original graph.

County: :mod:`planner.synth` ``SynthParams.benchmark()`` (~100k road nodes), its road lengths rounded to
whole metres, so that pairs at exactly a cut-off exist and must be counted (issue 16.3); the car
network (one-way streets respected), demand travelling to the sites, cut-offs of 3 km and 10 km.

Points sit on road nodes: demand is the road node nearest each populated 200 m cell, sites the road
node nearest each candidate site, among the nodes of the car network's largest strongly connected
part as networkx finds it on the original graph. So the reference is exact node-to-node Dijkstra on
the ORIGINAL road graph as given (every node, every edge, no snapping, splitting or simplifying of
the planner's involved), and the planner must give the same sets, ties at the cut-off included:

* ``planner``: :func:`planner.coverage.coverage_matrix` on the network it builds (chains of
  non-junction nodes merged exactly; the points snapped onto it);
* ``networkx``: ``single_source_dijkstra_path_length(G_reversed, site, cutoff=d)`` per site;
* ``pandana``: ``Network(...)`` (contraction hierarchies) built once, reported apart, then per
  cut-off ``precompute(d)`` + ``nodes_in_range(sites, d)``; pandana keeps float32 distances, so pairs
  within centimetres of the cut-off may differ (counted, the largest gap reported);
* nearest facility: :func:`planner.coverage.nearest_facility` (distance and time) against
  ``nx.multi_source_dijkstra_path_length`` for each, and against raw scipy (``dijkstra(min_only=True)``
  from the sites on the reversed original graph, no snapping): what a user writing it by hand gets.

Usage::

    python benchmarks/coverage.py                 # full size (a few minutes: networkx is slow)
    python benchmarks/coverage.py --quick         # a small county, seconds
    python benchmarks/coverage.py --json out.json # also write the figures as JSON
    python benchmarks/coverage.py --memory        # peak memory of the engine alone on a large grid

Network building, snapping and the reference graphs are timed apart and not in the ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from planner.coverage import coverage_matrix, nearest_facility
from planner.inputs.roadtable import RoadTable, table_from_graph
from planner.network import DEFAULT_MODES, build_mode_network, snap_points
from planner.network.modes import mode_speeds

CUTOFFS_M = (3_000.0, 10_000.0)
CAR = DEFAULT_MODES["car"]


@dataclass
class County:
    roads: nx.MultiDiGraph
    crs: CRS
    demand_xy: np.ndarray
    site_xy: np.ndarray
    source: str


def synth_county(quick: bool, seed: int) -> County:
    """The synthetic county of :mod:`planner.synth`: roads, populated 200 m cells, candidate sites."""
    from planner.synth import SynthParams, synthesize

    params = SynthParams(seed=seed) if quick else SynthParams.benchmark(seed=seed)
    county = synthesize(params)
    crs = CRS.from_user_input(county.crs)
    pop = np.where(county.population > 0, county.population, 0.0)
    f = max(1, round(200.0 / abs(county.transform.a)))  # 200 m cells from the 100 m raster
    h, w = (pop.shape[0] // f) * f, (pop.shape[1] // f) * f
    blocks = pop[:h, :w].reshape(h // f, f, w // f, f).sum(axis=(1, 3))
    rows, cols = np.nonzero(blocks > 0)
    t = county.transform
    x = t.c + (cols + 0.5) * f * t.a
    y = t.f + (rows + 0.5) * f * t.e
    to_work = Transformer.from_crs(4326, crs, always_xy=True)
    cand = county.candidates
    sx, sy = to_work.transform(cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy())
    return County(county.roads, crs, np.column_stack([x, y]), np.column_stack([sx, sy]), "planner.synth")


def grid_county(n_side: int, n_demand: int, n_sites: int, seed: int, *, spacing: float = 150.0) -> County:
    """A jittered grid county (fallback and --memory).

    Residential streets, a primary road every 10th line, 15% one-way, 5% of links missing.
    """
    rng = np.random.default_rng(seed)
    crs = CRS.from_epsg(32650)
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    xy = np.column_stack([ii.ravel(), jj.ravel()]) * spacing + rng.normal(0, spacing * 0.15, (n_side**2, 2))
    xy += [400_000.0, 3_500_000.0]
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_nodes_from((int(k), {"x": float(lon[k]), "y": float(lat[k])}) for k in range(n_side**2))
    ids = np.arange(n_side**2).reshape(n_side, n_side)
    edges = []
    for u, v, line in (
        (ids[:-1, :].ravel(), ids[1:, :].ravel(), jj[:-1, :].ravel()),
        (ids[:, :-1].ravel(), ids[:, 1:].ravel(), ii[:, :-1].ravel()),
    ):
        keep = rng.random(u.size) > 0.05
        u, v, line = u[keep], v[keep], line[keep]
        length = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.15, u.size)
        oneway = rng.random(u.size) < 0.15
        hw = np.where(line % 10 == 0, "primary", "residential")
        for a, b, ln, ow, h in zip(
            u.tolist(), v.tolist(), length.tolist(), oneway.tolist(), hw.tolist(), strict=True
        ):
            edges.append((a, b, {"length": ln, "highway": h, "oneway": ow}))
            if not ow:
                edges.append((b, a, {"length": ln, "highway": h, "oneway": False}))
    g.add_edges_from(edges)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return County(g, crs, rng.uniform(lo, hi, (n_demand, 2)), rng.uniform(lo, hi, (n_sites, 2)), "grid")


# ------------------------------------------------------------------------------------------------
# The reference: the original graph, whole metres, points on its nodes
# ------------------------------------------------------------------------------------------------


@dataclass
class Reference:
    table: RoadTable  # the original roads, whole-metre lengths
    g_rev: nx.DiGraph  # reversed (searches from the sites): length, time
    demand_nodes: np.ndarray  # table node index per demand point
    site_nodes: np.ndarray
    node_xy: np.ndarray  # table nodes in the work CRS
    csr_rev: dict[str, sp.csr_matrix]  # the reversed graph as scipy matrices (raw scipy's input)


def reference(county: County) -> Reference:
    """Whole-metre roads, the reversed networkx graph of the car, the points put on its nodes."""
    table = table_from_graph(county.roads)
    table = replace(table, length=np.maximum(1.0, np.round(table.length)))
    speed, _ = mode_speeds(table, CAR)  # the car's speed per edge: the problem's data, not the engine
    ok = np.isfinite(speed)
    g_rev = nx.DiGraph()
    for e in np.flatnonzero(ok).tolist():
        u, v, length = int(table.u[e]), int(table.v[e]), float(table.length[e])
        seconds = length / (speed[e] / 3.6)
        arcs = [(u, v)] if table.oneway[e] == 1 else [(v, u)] if table.oneway[e] == -1 else [(u, v), (v, u)]
        for a, b in arcs:  # stored reversed; the shortest of parallel arcs per weight
            old = g_rev.get_edge_data(b, a)
            if old is None:
                g_rev.add_edge(b, a, length=length, time=seconds)
            else:
                old["length"], old["time"] = min(old["length"], length), min(old["time"], seconds)
    part = np.array(sorted(max(nx.strongly_connected_components(g_rev), key=len)))
    lon, lat = table.x, table.y
    x, y = Transformer.from_crs(table.crs, county.crs, always_xy=True).transform(lon, lat)
    node_xy = np.column_stack([x, y])
    tree = cKDTree(node_xy[part])
    demand = np.unique(part[tree.query(county.demand_xy)[1]])
    sites = np.unique(part[tree.query(county.site_xy)[1]])
    n = table.n_nodes
    csr = {}
    for weight in ("length", "time"):
        rows, cols, w = zip(*((a, b, d[weight]) for a, b, d in g_rev.edges(data=True)), strict=True)
        csr[weight] = sp.csr_matrix((w, (rows, cols)), shape=(n, n))
    return Reference(table, g_rev, demand, sites, node_xy, csr)


def pairs_of(mat) -> set[tuple[int, int]]:
    r, c = mat.nonzero()
    return set(zip(r.tolist(), c.tolist(), strict=True))


def networkx_pairs(ref: Reference, cut: float) -> set[tuple[int, int]]:
    where = {int(n): i for i, n in enumerate(ref.demand_nodes)}
    out: set[tuple[int, int]] = set()
    for j, s in enumerate(ref.site_nodes.tolist()):
        dist = nx.single_source_dijkstra_path_length(ref.g_rev, s, cutoff=cut, weight="length")
        out.update((where[n], j) for n in dist if n in where)
    return out


def pandana_network(ref: Reference):
    import pandana
    import pandas as pd

    src, dst, w = zip(*((a, b, d["length"]) for a, b, d in ref.g_rev.edges(data=True)), strict=True)
    return pandana.Network(
        pd.Series(ref.node_xy[:, 0]),
        pd.Series(ref.node_xy[:, 1]),
        pd.Series(np.asarray(src)),  # the reversed graph: pandana searches forward from the sites
        pd.Series(np.asarray(dst)),
        pd.DataFrame({"length": np.asarray(w, dtype=float)}),
        twoway=False,
    )


def pandana_pairs(pdna, ref: Reference, cut: float) -> set[tuple[int, int]]:
    where = {int(n): i for i, n in enumerate(ref.demand_nodes)}
    site_of = {int(n): j for j, n in enumerate(ref.site_nodes)}
    pdna.precompute(cut)
    found = pdna.nodes_in_range(ref.site_nodes, cut)
    src, dst = found["source"].to_numpy(), found["destination"].to_numpy()
    return {(where[d], site_of[s]) for s, d in zip(src.tolist(), dst.tolist(), strict=True) if d in where}


# ------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def run(county: County, *, skip_pandana: bool, skip_networkx: bool) -> dict:
    ref, ref_s = timed(reference, county)
    net, build_s = timed(build_mode_network, ref.table, crs=county.crs, mode=CAR)
    (demand, sites), snap_s = timed(
        lambda: (
            snap_points(net, ref.node_xy[ref.demand_nodes]),
            snap_points(net, ref.node_xy[ref.site_nodes]),
        )
    )
    out: dict = {"county": county.source, "python": platform.python_version(), "network_build_s": build_s}
    out.update(
        snap_s=snap_s,
        reference_build_s=ref_s,
        road_nodes=ref.table.n_nodes,
        road_arcs=ref.g_rev.number_of_edges(),
    )
    out.update(planner_nodes=net.n_nodes, nodes_merged=net.nodes_merged, demand=len(demand), sites=len(sites))
    print(
        f"county ({county.source}): {ref.table.n_nodes:,} road nodes, "
        f"{ref.g_rev.number_of_edges():,} car arcs"
    )
    print(f"  planner network: {net.summary()}")
    print(f"  {len(demand):,} demand nodes, {len(sites):,} site nodes (largest strongly connected part)")
    print(f"  planner build {build_s:.2f} s, snap {snap_s:.2f} s; reference graph {ref_s:.1f} s (not timed)")
    assert demand.reachable.all() and sites.reachable.all() and float(demand.access_m.max()) == 0.0
    pdna = None
    if not skip_pandana:
        pdna, out["pandana_network_s"] = timed(pandana_network, ref)
        print(f"  pandana network (contraction hierarchies) {out['pandana_network_s']:.1f} s, reported apart")
    for cut in CUTOFFS_M:
        out[f"{cut / 1000:g}km"] = cutoff_run(net, demand, sites, ref, pdna, cut, skip_networkx=skip_networkx)
    out["nearest"] = nearest_run(net, demand, sites, ref, skip_networkx=skip_networkx)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def cutoff_run(net, demand, sites, ref: Reference, pdna, cut: float, *, skip_networkx: bool) -> dict:
    mat, planner_s = timed(coverage_matrix, net, demand, sites, max_distance_m=cut, max_time_s=None)
    ours = pairs_of(mat)
    res: dict = {"cutoff_m": cut, "planner_s": planner_s, "pairs": int(mat.nnz)}
    print(f"\ncut-off {cut / 1000:g} km: planner {planner_s:.2f} s, {mat.nnz:,} covered pairs")
    if not skip_networkx:
        theirs, res["networkx_s"] = timed(networkx_pairs, ref, cut)
        res["ratio_vs_networkx"] = res["networkx_s"] / planner_s
        res["identical_to_networkx"] = ours == theirs
        res["pairs_at_the_cutoff"] = _ties(ref, theirs, cut)
        print(
            f"  networkx {res['networkx_s']:.2f} s -> planner {res['ratio_vs_networkx']:.1f}x faster; "
            "identical sets:"
            f" {ours == theirs} ({res['pairs_at_the_cutoff']} pairs exactly at the cut-off)"
        )
        if ours != theirs:
            print(
                f"  MISMATCH: {len(ours - theirs)} only planner, {len(theirs - ours)} only networkx",
                file=sys.stderr,
            )
    if pdna is not None:
        found, res["pandana_query_s"] = timed(pandana_pairs, pdna, ref, cut)
        res["ratio_vs_pandana_queries"] = res["pandana_query_s"] / planner_s
        res["pandana_pairs_differing"] = len(found ^ ours)
        print(
            f"  pandana precompute + nodes_in_range {res['pandana_query_s']:.2f} s -> planner "
            f"{res['ratio_vs_pandana_queries']:.1f}x faster (its network build apart); "
            f"{res['pandana_pairs_differing']} pairs differ (pandana's float32 distances)"
        )
    return res


def _ties(ref: Reference, pairs: set[tuple[int, int]], cut: float) -> int:
    """How many covered pairs are exactly at the cut-off (whole metres: a real tie)."""
    by_site: dict[int, list[int]] = {}
    for i, j in pairs:
        by_site.setdefault(j, []).append(i)
    n = 0
    for j, rows in by_site.items():
        dist = nx.single_source_dijkstra_path_length(
            ref.g_rev, int(ref.site_nodes[j]), cutoff=cut, weight="length"
        )
        n += sum(dist[int(ref.demand_nodes[i])] == cut for i in rows)
    return n


def nearest_run(net, demand, sites, ref: Reference, *, skip_networkx: bool) -> dict:
    near, planner_s = timed(nearest_facility, net, demand, sites)
    res: dict = {"planner_s": planner_s, **nearest_parts(net, demand, sites)}
    print(
        f"\nnearest facility (distance and time): planner {planner_s:.3f} s (of which: points' legs and the "
        f"graph with the sources appended {res['setup_s']:.3f} s, the two searches {res['search_s']:.3f} s)"
    )
    raw, res["raw_scipy_s"] = timed(raw_scipy_nearest, ref)
    res["raw_scipy_identical"] = bool(np.array_equal(raw[0], near.distance_m))
    print(
        f"  raw scipy on the original graph (min_only, no snapping) {res['raw_scipy_s']:.3f} s "
        f"-> planner/raw {planner_s / res['raw_scipy_s']:.2f}; "
        f"identical distances: {res['raw_scipy_identical']}"
    )
    if skip_networkx:
        return res
    srcs = {int(s) for s in ref.site_nodes}
    t = time.perf_counter()
    ref_d = nx.multi_source_dijkstra_path_length(ref.g_rev, srcs, weight="length")
    ref_t = nx.multi_source_dijkstra_path_length(ref.g_rev, srcs, weight="time")
    res["networkx_s"] = time.perf_counter() - t
    d = np.array([ref_d[int(n)] for n in ref.demand_nodes])
    s = np.array([ref_t[int(n)] for n in ref.demand_nodes])
    res["ratio_vs_networkx"] = res["networkx_s"] / planner_s
    res["distances_identical"] = bool(np.array_equal(d, near.distance_m))
    res["max_time_difference_s"] = float(np.max(np.abs(s - near.time_s)))
    print(
        f"  networkx multi_source_dijkstra (distance and time) {res['networkx_s']:.2f} s -> planner is "
        f"{res['ratio_vs_networkx']:.1f}x faster; distances identical: {res['distances_identical']}, "
        f"times within {res['max_time_difference_s']:.1e} s"
    )
    return res


def nearest_parts(net, demand, sites) -> dict:
    """Where the planner's nearest-facility time goes: setting up the two searches, the searches."""
    from planner.coverage import engine

    t = time.perf_counter()
    problems = [engine._problem(net, demand, sites, w, sources="destinations") for w in ("length", "time")]
    setup = time.perf_counter() - t
    t = time.perf_counter()
    for pb in problems:
        idx = pb.n_base + np.arange(pb.src.size)
        dijkstra(pb.graph, directed=True, indices=idx, min_only=True, return_predecessors=True)
    return {"setup_s": setup, "search_s": time.perf_counter() - t}


def raw_scipy_nearest(ref: Reference) -> tuple[np.ndarray, np.ndarray]:
    """Nearest site by scipy alone on the original reversed graph, already a CSR matrix (what a user
    would write by hand: no snapping, points on nodes only)."""
    out = []
    for weight in ("length", "time"):
        dist = dijkstra(ref.csr_rev[weight], directed=True, indices=ref.site_nodes, min_only=True)
        out.append(dist[ref.demand_nodes])
    return out[0], out[1]


def memory_probe(n_side: int, n_demand: int, n_sites: int, cut: float, workdir: Path) -> dict:
    """Peak memory of the engine alone on a large grid county.

    Stage 1 (this process) builds the network from a networkx graph and stores it with
    :func:`planner.network.store.save_network`, as a first run would; stage 2 runs in a fresh process that
    loads the cached network, snaps the points and computes coverage and nearest facility, as a second run
    would. Stage 2's peak RSS is the engine's footprint (Python and libraries included).
    """
    import subprocess

    from planner.network.store import save_network
    from planner.store import DiskStore

    county = grid_county(n_side, n_demand, n_sites, seed=3)
    t = time.perf_counter()
    net = build_mode_network(county.roads, crs=county.crs, mode=DEFAULT_MODES["car"])
    build_s = time.perf_counter() - t
    stage1_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    save_network(DiskStore(workdir), "probe", net)
    np.save(workdir / "demand.npy", county.demand_xy)
    np.save(workdir / "sites.npy", county.site_xy)
    del county, net
    done = subprocess.run(
        [sys.executable, __file__, "--memory-stage2", str(workdir), "--memory-cut", str(cut)],
        check=True,
        capture_output=True,
        text=True,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out.update(grid_nodes=n_side**2, build_s=build_s, stage1_peak_rss_mb_incl_networkx_graph=stage1_rss)
    return out


def memory_stage2(workdir: Path, cut: float) -> dict:
    from planner.network.store import load_network
    from planner.store import DiskStore

    def rss() -> float:  # peak RSS of this process (VmHWM; ru_maxrss would inherit the parent's)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    net = load_network(DiskStore(workdir), "probe")
    assert net is not None
    out: dict = {"road_nodes": net.n_nodes, "road_arcs": net.n_arcs, "cutoff_m": cut, "rss_loaded_mb": rss()}
    demand = snap_points(net, np.load(workdir / "demand.npy"), label="demand")
    sites = snap_points(net, np.load(workdir / "sites.npy"), label="sites")
    out.update(demand=len(demand), sites=len(sites), rss_snapped_mb=rss())
    t = time.perf_counter()
    mat = coverage_matrix(net, demand, sites, max_distance_m=cut, max_time_s=cut / (25 / 3.6))
    out.update(coverage_s=time.perf_counter() - t, pairs=int(mat.nnz), rss_coverage_mb=rss())
    t = time.perf_counter()
    nearest_facility(net, demand, sites)
    out.update(nearest_s=time.perf_counter() - t, peak_rss_mb=rss())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small county (the demo size)")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--source", choices=("synth", "grid"), default="synth")
    ap.add_argument("--skip-pandana", action="store_true")
    ap.add_argument("--skip-networkx", action="store_true")
    ap.add_argument("--memory", action="store_true", help="engine-only memory probe on a large grid")
    ap.add_argument("--memory-side", type=int, default=400, help="grid side for --memory (side^2 nodes)")
    ap.add_argument("--memory-demand", type=int, default=400_000)
    ap.add_argument("--memory-sites", type=int, default=5_000)
    ap.add_argument("--memory-cut", type=float, default=3_000.0)
    ap.add_argument("--memory-stage2", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_stage2:
        print(json.dumps(memory_stage2(args.memory_stage2, args.memory_cut)))
        return 0
    if args.memory:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            out = memory_probe(
                args.memory_side, args.memory_demand, args.memory_sites, args.memory_cut, Path(tmp)
            )
        print(json.dumps(out, indent=2))
    else:
        t = time.perf_counter()
        if args.source == "synth":
            county = synth_county(args.quick, args.seed)
        else:
            side = 60 if args.quick else 316
            county = grid_county(
                side, 2_000 if args.quick else 20_000, 200 if args.quick else 2_000, args.seed
            )
        print(f"county generated in {time.perf_counter() - t:.1f} s")
        out = run(county, skip_pandana=args.skip_pandana, skip_networkx=args.skip_networkx)
        ok = all(out[f"{c / 1000:g}km"].get("identical_to_networkx", True) for c in CUTOFFS_M)
        ok = ok and out["nearest"].get("distances_identical", True)
        print(f"\npeak RSS {out['peak_rss_mb']:.0f} MB; all sets identical to networkx: {ok}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float))
    if not args.memory:
        assert ok, "coverage sets differ from networkx"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
