"""Max coverage (MCLP) by count and by money budget, checked against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimize import SolverSettings, solve_max_coverage
from planner.optimize.greedy import greedy_max_coverage, improve_max_coverage
from planner.optimize.reduce import as_bool_csr


def instance(seed: int, m: int = 16, n: int = 9):
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < 0.22
    weight = rng.integers(0, 50, size=m).astype(float)
    cost = rng.integers(1, 8, size=n).astype(float)
    fixed = rng.random(n) < 0.15
    return dense, weight, cost, fixed


def brute_max_cover(dense, weight, cost, fixed, *, budget=None, max_new=None) -> float:
    n = dense.shape[1]
    free = [j for j in range(n) if not fixed[j]]
    best = -1.0
    for r in range(len(free) + 1):
        if max_new is not None and r > max_new:
            break
        for subset in itertools.combinations(free, r):
            if budget is not None and cost[list(subset)].sum() > budget + 1e-9:
                continue
            open_ = fixed.copy()
            open_[list(subset)] = True
            best = max(best, float(weight[dense[:, open_].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", range(10))
def test_count_limited_matches_brute_force(seed: int) -> None:
    dense, weight, cost, fixed = instance(seed)
    p = 1 + seed % 3
    res = solve_max_coverage(sp.csr_matrix(dense), weight, cost, max_new=p, fixed_open=fixed)
    assert res.objective == pytest.approx(brute_max_cover(dense, weight, cost, fixed, max_new=p))
    assert res.arrays["new"].sum() <= p
    assert np.all(res.selected[fixed])


@pytest.mark.parametrize("seed", range(10))
def test_budget_limited_matches_brute_force(seed: int) -> None:
    dense, weight, cost, fixed = instance(50 + seed)
    budget = float(4 + seed)
    res = solve_max_coverage(
        sp.csr_matrix(dense), weight, cost, budget=budget, fixed_open=np.flatnonzero(fixed)
    )
    assert res.objective == pytest.approx(brute_max_cover(dense, weight, cost, fixed, budget=budget))
    assert cost[res.arrays["new"]].sum() <= budget + 1e-9
    assert res.objective == pytest.approx(weight[res.arrays["covered"]].sum())


@pytest.mark.parametrize("seed", range(4))
def test_budget_and_count_together_and_unreduced(seed: int) -> None:
    dense, weight, cost, fixed = instance(90 + seed)
    expected = brute_max_cover(dense, weight, cost, fixed, budget=9.0, max_new=2)
    for reduce in (True, False):
        res = solve_max_coverage(
            sp.csr_matrix(dense),
            weight,
            cost,
            budget=9.0,
            max_new=2,
            fixed_open=fixed,
            settings=SolverSettings(reduce=reduce),
        )
        assert res.objective == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(4))
def test_pulp_cbc_gives_the_same_optimum(seed: int) -> None:
    dense, weight, cost, fixed = instance(130 + seed)
    kw = {"budget": 7.0, "fixed_open": fixed}
    highs = solve_max_coverage(sp.csr_matrix(dense), weight, cost, **kw)
    cbc = solve_max_coverage(
        sp.csr_matrix(dense), weight, cost, settings=SolverSettings(backend="pulp:CBC"), **kw
    )
    assert cbc.objective == pytest.approx(highs.objective)
    assert highs.objective == pytest.approx(brute_max_cover(dense, weight, cost, fixed, budget=7.0))


def test_greedy_is_feasible_and_not_better_than_optimum() -> None:
    for seed in range(6):
        dense, weight, cost, _ = instance(170 + seed, m=25, n=10)
        A = as_bool_csr(sp.csr_matrix(dense))
        plan = greedy_max_coverage(A, weight, cost, budget=8.0)
        assert cost[plan].sum() <= 8.0
        value = weight[dense[:, plan].any(axis=1)].sum()
        assert value <= brute_max_cover(dense, weight, cost, np.zeros(10, bool), budget=8.0) + 1e-9


def test_interchange_keeps_limits_and_never_worsens() -> None:
    for seed in range(6):
        dense, weight, cost, _ = instance(190 + seed, m=25, n=10)
        A = as_bool_csr(sp.csr_matrix(dense))
        none = np.zeros(10, dtype=bool)
        for kw in ({"budget": 8.0}, {"max_new": 2}, {"budget": 12.0, "max_new": 3}):
            start = greedy_max_coverage(A, weight, cost, **kw)
            better = improve_max_coverage(A, weight, cost, start, **kw)
            value = weight[dense[:, better].any(axis=1)].sum()
            assert value >= weight[dense[:, start].any(axis=1)].sum()
            assert value <= brute_max_cover(dense, weight, cost, none, **kw) + 1e-9
            if "budget" in kw:
                assert cost[better].sum() <= kw["budget"] + 1e-9
            if "max_new" in kw:
                assert better.sum() <= kw["max_new"]


def test_needs_a_limit_and_rejects_bad_budget() -> None:
    A = sp.csr_matrix(np.eye(3, dtype=bool))
    with pytest.raises(ValueError, match="budget"):
        solve_max_coverage(A, [1, 1, 1])
    with pytest.raises(ValueError, match="budget must be"):
        solve_max_coverage(A, [1, 1, 1], budget=-1.0)
    with pytest.raises(ValueError, match="weight must be finite"):
        solve_max_coverage(A, [1, np.nan, 1], max_new=1)


def test_time_limit_returns_incumbent() -> None:
    rng = np.random.default_rng(3)
    m, n = 4000, 500
    A = sp.random(m, n, density=0.015, random_state=np.random.RandomState(3), format="csr") != 0
    w = rng.random(m) * 100
    res = solve_max_coverage(A, w, max_new=25, settings=SolverSettings(time_limit_s=0.1, reduce=False))
    assert res.status == "time_limit"
    assert res.arrays["new"].sum() <= 25
    assert res.bound >= res.objective
    assert res.mip_gap > 0
