"""Benchmark: the planner's coverage engine against networkx and pandana on a synthetic county.

One county (:mod:`planner.synth` ``SynthParams.benchmark()``: ~100k road nodes; demand = populated
200 m cells, ~20k; sites = its ~2k candidate sites), the car network (one-way streets respected),
demand travelling to the sites, network-distance cut-offs of 3 km and 10 km. In one run:

* ``planner``: :func:`planner.coverage.coverage_matrix` (bounded multi-source Dijkstra in spatial
  windows, scipy csgraph);
* ``networkx``: ``single_source_dijkstra_path_length(G_reversed, site, cutoff=d)`` per site on the road
  graph split at every snapped point (graph building not timed);
* ``pandana``: ``Network(...)`` (contraction hierarchies) + ``precompute(d)`` + ``nodes_in_range(sites, d)``
  on the same split graph, reversed (pandana searches forward from the sources); all timed (the network
  is built once and its time charged to each cut-off). pandana stores distances as float32, so a few
  pairs within millimetres of the cut-off may differ; the count is reported.

The reference tools run on the road graph as given, split at every snapped point; the planner merges
chains of non-junction nodes first (exactly, see :mod:`planner.network.simplify`). All three see the
same problem, so their coverage sets must be identical; the script asserts that the planner's equal
networkx's (and reports whether pandana's do). Nearest facility: the planner's
:func:`planner.coverage.nearest_facility` (one multi-source search per weight: distance and time)
against ``nx.multi_source_dijkstra_path_length`` for distance and for time.

Usage::

    python benchmarks/coverage.py                 # full size (a few minutes: networkx is slow)
    python benchmarks/coverage.py --quick         # a small county, seconds
    python benchmarks/coverage.py --json out.json # also write the figures as JSON
    python benchmarks/coverage.py --memory        # peak memory of the engine alone on a large grid

Snapping, network building and the networkx graph are timed separately and not part of the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from pyproj import CRS, Transformer

from planner.coverage import coverage_matrix, nearest_facility, od_pairs
from planner.network import DEFAULT_MODES, ModeNetwork, Snap, build_mode_network, snap_points

CUTOFFS_M = (3_000.0, 10_000.0)


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
    # 200 m cells from the raster (sum of 2 x 2 blocks at the default 100 m resolution)
    f = max(1, round(200.0 / abs(county.transform.a)))
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
# The split graph the reference tools run on (built from the snaps, independently of the engine)
# ------------------------------------------------------------------------------------------------


def split_graph(
    net: ModeNetwork, demand: Snap, sites: Snap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Arcs (u, v, metres, seconds) of the road graph split at every snapped point, with point nodes.

    Node ids: road nodes ``0..n-1``, demand ``n + i``, sites ``n + n_demand + j``, split points after.
    Points at an edge end (fraction 0 or 1) hang on that node; the access leg is walked both ways.
    """
    n = net.n_nodes
    lc, tc = net.length.tocoo(), net.time.tocoo()
    assert np.array_equal(lc.row, tc.row) and np.array_equal(lc.col, tc.col)
    us, vs = [lc.row.astype(np.int64)], [lc.col.astype(np.int64)]
    ls, ts = [lc.data], [tc.data]
    next_id = n + len(demand) + len(sites)
    on_edge: dict[int, list[tuple[float, int]]] = {}
    for offset, snap in ((n, demand), (n + len(demand), sites)):
        for i in np.flatnonzero(snap.reachable):
            e, f = int(snap.edge[i]), float(snap.fraction[i])
            if f == 0.0:
                anchor = int(net.edge_u[e])
            elif f == 1.0:
                anchor = int(net.edge_v[e])
            else:
                anchor = next_id
                next_id += 1
                on_edge.setdefault(e, []).append((f, anchor))
            us.append(np.array([offset + i, anchor]))
            vs.append(np.array([anchor, offset + i]))
            ls.append(np.full(2, snap.access_m[i]))
            ts.append(np.full(2, snap.access_s[i]))
    for e, pts in on_edge.items():
        chain = [(0.0, int(net.edge_u[e])), *sorted(pts), (1.0, int(net.edge_v[e]))]
        length, fwd, bwd = float(net.edge_length_m[e]), float(net.edge_fwd_s[e]), float(net.edge_bwd_s[e])
        for (f0, a), (f1, b) in itertools.pairwise(chain):
            for ok, x, y, sec in ((np.isfinite(fwd), a, b, fwd), (np.isfinite(bwd), b, a, bwd)):
                if ok:
                    us.append(np.array([x]))
                    vs.append(np.array([y]))
                    ls.append(np.array([(f1 - f0) * length]))
                    ts.append(np.array([(f1 - f0) * sec]))
    return np.concatenate(us), np.concatenate(vs), np.concatenate(ls), np.concatenate(ts), next_id


def to_networkx(u: np.ndarray, v: np.ndarray, length: np.ndarray, time_s: np.ndarray) -> nx.DiGraph:
    """The *reversed* split graph (searches from the sites), shortest of parallel arcs per weight."""
    best_l: dict[tuple[int, int], float] = {}
    best_t: dict[tuple[int, int], float] = {}
    for a, b, c, t in zip(v.tolist(), u.tolist(), length.tolist(), time_s.tolist(), strict=True):
        if c < best_l.get((a, b), np.inf):
            best_l[(a, b)] = c
        if t < best_t.get((a, b), np.inf):
            best_t[(a, b)] = t
    g = nx.DiGraph()
    g.add_edges_from((a, b, {"length": c, "time": best_t[(a, b)]}) for (a, b), c in best_l.items())
    return g


def pairs_of(mat) -> set[tuple[int, int]]:
    r, c = mat.nonzero()
    return set(zip(r.tolist(), c.tolist(), strict=True))


def run(county: County, *, skip_pandana: bool, skip_networkx: bool) -> dict:
    out: dict = {"county": county.source, "python": platform.python_version()}
    t = time.perf_counter()
    net = build_mode_network(county.roads, crs=county.crs, mode=DEFAULT_MODES["car"])
    out["network_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    demand = snap_points(net, county.demand_xy, max_snap_m=1000.0, label="demand")
    sites = snap_points(net, county.site_xy, max_snap_m=1000.0, label="sites")
    out["snap_s"] = time.perf_counter() - t
    n_d, n_s = len(demand), len(sites)
    out.update(
        road_nodes=net.n_nodes,
        road_nodes_merged=net.nodes_merged,
        road_arcs=net.n_arcs,
        demand=n_d,
        sites=n_s,
        demand_unreachable=demand.n_unreachable,
        sites_unreachable=sites.n_unreachable,
    )
    print(f"county ({county.source}): {net.summary()}")
    print(
        f"  {n_d:,} demand points ({demand.n_unreachable} unreachable), "
        f"{n_s:,} sites ({sites.n_unreachable} unreachable)"
    )
    print(f"  build {out['network_build_s']:.2f} s, snap {out['snap_s']:.2f} s")

    # The reference tools run on the road graph as given (not simplified), split at the same points.
    t = time.perf_counter()
    raw = build_mode_network(county.roads, crs=county.crs, mode=DEFAULT_MODES["car"], simplify=False)
    raw_demand = snap_points(raw, county.demand_xy, max_snap_m=1000.0, label="demand")
    raw_sites = snap_points(raw, county.site_xy, max_snap_m=1000.0, label="sites")
    assert np.array_equal(raw_demand.reachable, demand.reachable)
    assert np.array_equal(raw_sites.reachable, sites.reachable)
    u, v, w, w_time, n_total = split_graph(raw, raw_demand, raw_sites)
    g_rev = None if skip_networkx else to_networkx(u, v, w, w_time)
    n = raw.n_nodes
    print(
        f"  reference split graph (unsimplified roads): {n_total:,} nodes, {u.size:,} arcs "
        f"({time.perf_counter() - t:.1f} s, not timed)"
    )
    demand_ids = n + np.arange(n_d)
    site_ids = n + n_d + np.arange(n_s)
    reach_sites = np.flatnonzero(sites.reachable)

    pdna_net = None
    for cut in CUTOFFS_M:
        key = f"{cut / 1000:g}km"
        res: dict = {"cutoff_m": cut}
        t = time.perf_counter()
        mat = coverage_matrix(net, demand, sites, max_distance_m=cut, max_time_s=None)
        res["planner_s"] = time.perf_counter() - t
        res["pairs"] = int(mat.nnz)
        ours = pairs_of(mat)
        print(f"\ncut-off {cut / 1000:g} km: planner {res['planner_s']:.2f} s, {mat.nnz:,} covered pairs")

        if not skip_networkx:
            assert g_rev is not None
            t = time.perf_counter()
            ref: set[tuple[int, int]] = set()
            for j in reach_sites:
                dist = nx.single_source_dijkstra_path_length(
                    g_rev, int(site_ids[j]), cutoff=cut, weight="length"
                )
                ref.update((node - n, int(j)) for node in dist if n <= node < n + n_d)
            res["networkx_s"] = time.perf_counter() - t
            res["ratio_vs_networkx"] = res["networkx_s"] / res["planner_s"]
            res["identical_to_networkx"] = ours == ref
            print(
                f"  networkx {res['networkx_s']:.2f} s  -> planner is {res['ratio_vs_networkx']:.1f}x faster;"
                f" identical sets: {res['identical_to_networkx']}"
            )
            if not res["identical_to_networkx"]:
                print(
                    f"  MISMATCH: {len(ours - ref)} only planner, {len(ref - ours)} only networkx",
                    file=sys.stderr,
                )

        if not skip_pandana:
            if pdna_net is None:  # contraction hierarchies: built once, its time charged to each cut-off
                import pandana
                import pandas as pd

                t = time.perf_counter()
                all_xy = np.zeros((n_total, 2))  # coordinates only serve pandana's nearest-node lookups
                all_xy[:n] = raw.node_xy
                pdna_net = pandana.Network(
                    pd.Series(all_xy[:, 0]),
                    pd.Series(all_xy[:, 1]),
                    pd.Series(v),  # reversed: pandana searches forward from the sources (the sites)
                    pd.Series(u),
                    pd.DataFrame({"length": w}),
                    twoway=False,
                )
                out["pandana_network_s"] = time.perf_counter() - t
            t = time.perf_counter()
            pdna_net.precompute(cut)
            found = pdna_net.nodes_in_range(site_ids[reach_sites], cut)
            res["pandana_query_s"] = time.perf_counter() - t
            res["pandana_s"] = out["pandana_network_s"] + res["pandana_query_s"]
            dst = found["destination"].to_numpy()
            is_d = (dst >= n) & (dst < n + n_d)
            src = found["source"].to_numpy()[is_d] - n - n_d
            pd_pairs = set(zip((dst[is_d] - n).tolist(), src.tolist(), strict=True))
            res["ratio_vs_pandana"] = res["pandana_s"] / res["planner_s"]
            res["pandana_identical"] = pd_pairs == ours
            diff = pd_pairs ^ ours
            res["pandana_pairs_differing"] = len(diff)
            if diff:  # how far from the cut-off are they? (exact values, not timed)
                di, sj, vals = od_pairs(net, demand, sites, weight="length", limit=cut * 1.01)
                exact = dict(zip(zip(di.tolist(), sj.tolist(), strict=True), vals.tolist(), strict=True))
                res["pandana_max_gap_to_cutoff_m"] = max(abs(exact.get(p, np.inf) - cut) for p in diff)
            print(
                f"  pandana {res['pandana_s']:.2f} s (network {out['pandana_network_s']:.2f} + precompute "
                f"and nodes_in_range {res['pandana_query_s']:.2f}) -> planner is "
                f"{res['ratio_vs_pandana']:.1f}x faster; pandana sets identical: {res['pandana_identical']} "
                f"({res['pandana_pairs_differing']} pairs differ: "
                "pandana keeps float32 distances; the farthest is "
                f"{res.get('pandana_max_gap_to_cutoff_m', 0.0):.3f} m from the cut-off)"
            )
        out[key] = res

    res = {}
    t = time.perf_counter()
    near = nearest_facility(net, demand, sites)
    res["planner_s"] = time.perf_counter() - t
    print(f"\nnearest facility (distance and time): planner {res['planner_s']:.3f} s")
    if not skip_networkx:
        assert g_rev is not None
        srcs = {int(site_ids[j]) for j in reach_sites}
        t = time.perf_counter()
        ref_d = nx.multi_source_dijkstra_path_length(g_rev, srcs, weight="length")
        ref_t = nx.multi_source_dijkstra_path_length(g_rev, srcs, weight="time")
        res["networkx_s"] = time.perf_counter() - t
        ref_d_arr = np.array([ref_d.get(int(k), np.inf) for k in demand_ids])
        ref_t_arr = np.array([ref_t.get(int(k), np.inf) for k in demand_ids])
        res["ratio_vs_networkx"] = res["networkx_s"] / res["planner_s"]
        res["identical_to_networkx"] = bool(
            np.allclose(ref_d_arr, near.distance_m, rtol=1e-9, atol=1e-6)
            and np.allclose(ref_t_arr, near.time_s, rtol=1e-9, atol=1e-6)
        )
        print(
            f"  networkx multi_source_dijkstra (distance and time) {res['networkx_s']:.2f} s -> planner is "
            f"{res['ratio_vs_networkx']:.1f}x faster; identical distances and times: "
            f"{res['identical_to_networkx']}"
        )
    out["nearest"] = res
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


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
        ok = ok and out["nearest"].get("identical_to_networkx", True)
        print(f"\npeak RSS {out['peak_rss_mb']:.0f} MB; all sets identical to networkx: {ok}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float))
    if not args.memory:
        assert ok, "coverage sets differ from networkx"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
