"""Capacitated coverage, checked against brute force over site subsets with networkx max flow."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimize import SolverSettings, solve_capacitated_cover, solve_capacitated_max_coverage


def instance(seed: int, m: int = 9, n: int = 6):
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < 0.35
    demand = rng.integers(1, 20, size=m).astype(float)
    cap = rng.integers(5, 40, size=n).astype(float)
    cost = rng.integers(1, 8, size=n).astype(float)
    fixed = rng.random(n) < 0.15
    return dense, demand, cap, cost, fixed


def max_served(dense, demand, cap, open_) -> float:
    """Max flow source -> demand (d_i) -> open sites within standard -> sink (cap_j)."""
    g = nx.DiGraph()
    for i in range(dense.shape[0]):
        g.add_edge("s", ("d", i), capacity=float(demand[i]))
        for j in np.flatnonzero(dense[i] & open_):
            g.add_edge(("d", i), ("f", int(j)), capacity=math.inf)
    for j in np.flatnonzero(open_):
        g.add_edge(("f", int(j)), "t", capacity=float(cap[j]))
    if "t" not in g or "s" not in g:
        return 0.0
    return float(nx.maximum_flow_value(g, "s", "t"))


def brute_max(dense, demand, cap, cost, fixed, *, budget=None, max_new=None) -> float:
    free = [j for j in range(dense.shape[1]) if not fixed[j]]
    best = 0.0
    for r in range(len(free) + 1):
        if max_new is not None and r > max_new:
            break
        for sub in itertools.combinations(free, r):
            if budget is not None and cost[list(sub)].sum() > budget:
                continue
            open_ = fixed.copy()
            open_[list(sub)] = True
            best = max(best, max_served(dense, demand, cap, open_))
    return best


def brute_cover(dense, demand, cap, cost, fixed) -> float:
    need = float(demand[dense.any(axis=1)].sum())
    free = [j for j in range(dense.shape[1]) if not fixed[j]]
    best = math.inf
    for r in range(len(free) + 1):
        for sub in itertools.combinations(free, r):
            open_ = fixed.copy()
            open_[list(sub)] = True
            if max_served(dense, demand, cap, open_) >= need - 1e-9:
                best = min(best, float(cost[list(sub)].sum()))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_capacitated_max_coverage_matches_max_flow_brute_force(seed: int) -> None:
    dense, demand, cap, cost, fixed = instance(seed)
    p = 1 + seed % 3
    res = solve_capacitated_max_coverage(sp.csr_matrix(dense), demand, cap, cost, max_new=p, fixed_open=fixed)
    assert res.objective == pytest.approx(brute_max(dense, demand, cap, cost, fixed, max_new=p), abs=1e-6)
    assert np.all(res.arrays["load"] <= cap + 1e-6)
    A = res.extra["assignment"]
    assert np.all(A.toarray()[~dense] == 0)  # assignments only within standard
    assert res.arrays["served_share"].max() <= 1 + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_budget_matches_brute_force(seed: int) -> None:
    dense, demand, cap, cost, fixed = instance(20 + seed)
    res = solve_capacitated_max_coverage(
        sp.csr_matrix(dense), demand, cap, cost, budget=7.0, fixed_open=fixed
    )
    assert res.objective == pytest.approx(brute_max(dense, demand, cap, cost, fixed, budget=7.0), abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_capacitated_cover_matches_brute_force(seed: int) -> None:
    dense, demand, cap, cost, fixed = instance(40 + seed)
    cap = cap * 2  # make most instances feasible
    expected = brute_cover(dense, demand, cap, cost, fixed)
    if math.isinf(expected):
        with pytest.raises(InfeasibleError, match="short by"):
            solve_capacitated_cover(sp.csr_matrix(dense), demand, cap, cost, fixed_open=fixed)
        return
    res = solve_capacitated_cover(sp.csr_matrix(dense), demand, cap, cost, fixed_open=fixed)
    assert res.objective == pytest.approx(expected)
    covered = dense.any(axis=1)
    assert np.allclose(res.arrays["served_share"][covered], 1.0)


def test_unlimited_capacity_is_plain_coverage_and_strong_link_off_is_exact() -> None:
    dense, demand, cap, cost, _ = instance(77)
    inf = np.full(dense.shape[1], np.nan)
    a = solve_capacitated_max_coverage(sp.csr_matrix(dense), demand, inf, cost, max_new=2)
    assert a.objective == pytest.approx(
        brute_max(dense, demand, np.full(6, 1e9), cost, np.zeros(6, bool), max_new=2)
    )
    b = solve_capacitated_max_coverage(sp.csr_matrix(dense), demand, cap, cost, max_new=2, strong_link_max=0)
    c = solve_capacitated_max_coverage(
        sp.csr_matrix(dense), demand, cap, cost, max_new=2, settings=SolverSettings(backend="pulp:CBC")
    )
    assert b.objective == pytest.approx(c.objective, abs=1e-6)
    assert b.objective == pytest.approx(
        brute_max(dense, demand, cap, cost, np.zeros(6, bool), max_new=2), abs=1e-6
    )


def test_infeasible_capacity_says_how_short() -> None:
    dense = np.ones((2, 1), dtype=bool)
    with pytest.raises(InfeasibleError, match=r"at most 10\.0 of 30\.0.*short by 20\.0"):
        solve_capacitated_cover(sp.csr_matrix(dense), [10.0, 20.0], [10.0])
