"""Lagrangian bounds and reduced-cost fixing (MCLP and LSCP), checked against enumeration and scipy's LP.

Every plan of a tiny instance is enumerated: the bound must hold against the brute-force optimum,
and every plan better than the incumbent (by more than the tolerance) must respect the fixings.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from planner.optimize.greedy import greedy_cover, greedy_max_coverage
from planner.optimize.knapsack import dual_value, solve_knapsack_lp
from planner.optimize.lagrange import cover_lagrangian, mclp_lagrangian, must_reach
from planner.optimize.lagrange_mip import cover_model, max_coverage_model
from planner.optimize.lp import solve_lp_relaxation


def tiny(seed: int, m: int = 14, n: int = 9) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < 0.3
    dense[np.arange(m), rng.integers(0, n, m)] = True  # every row coverable
    weight = rng.integers(1, 40, m).astype(float)
    cost = rng.integers(1, 6, n).astype(float)
    return sp.csr_matrix(dense), weight, cost


def all_plans(n: int) -> np.ndarray:
    return np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)


def coverage_values(A: sp.csr_matrix, weight: np.ndarray, plans: np.ndarray) -> np.ndarray:
    hit = (A.toarray().astype(int) @ plans.T.astype(int)) > 0
    return weight @ hit


def feasible(plans: np.ndarray, cost: np.ndarray, p: int | None, budget: float | None) -> np.ndarray:
    ok = np.ones(plans.shape[0], dtype=bool)
    if p is not None:
        ok &= plans.sum(axis=1) <= p
    if budget is not None:
        ok &= plans @ cost <= budget + 1e-9
    return ok


# ---------------------------------------------------------------------------------------------
# the knapsack subproblem
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_budget_knapsack_closed_form_with_ties_matches_linprog(seed: int) -> None:
    """The budget-only LP is solved in closed form (one sort): many equal values per yuan, free
    sites and a budget that stops inside a tie, against scipy's LP."""
    rng = np.random.default_rng(100 + seed)
    k = 30
    cost = rng.integers(0, 4, k).astype(float)
    c = cost * rng.integers(-1, 3, k) + (cost == 0) * rng.integers(-1, 2, k)  # ratios in {-1, 0, 1, 2}
    budget = float(rng.integers(1, max(2, int(cost[c > 0].sum())) + 1))
    ref = linprog(-c, A_ub=cost[None, :], b_ub=[budget], bounds=(0, 1), method="highs")
    kn = solve_knapsack_lp(c, cost, p=None, budget=budget)
    assert kn.value == pytest.approx(-ref.fun, abs=1e-9)
    assert kn.x @ c == pytest.approx(-ref.fun, abs=1e-9)
    assert kn.x @ cost <= budget + 1e-9 and cost[kn.plan].sum() <= budget + 1e-9
    assert ((kn.x >= 0) & (kn.x <= 1)).all()
    assert dual_value(c, cost, p=None, budget=budget, pi=0.0, theta=kn.theta) == pytest.approx(kn.value)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limits", ["count", "budget", "both"])
def test_knapsack_lp_matches_scipy_linprog(seed: int, limits: str) -> None:
    rng = np.random.default_rng(seed)
    k = 25
    c = rng.normal(2.0, 3.0, k)
    cost = rng.integers(0, 9, k).astype(float)
    p = 4 if limits in ("count", "both") else None
    budget = 11.0 if limits in ("budget", "both") else None
    rows, rhs = [], []
    if p is not None:
        rows.append(np.ones(k))
        rhs.append(p)
    if budget is not None:
        rows.append(cost)
        rhs.append(budget)
    ref = linprog(-c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=(0, 1), method="highs")
    kn = solve_knapsack_lp(c, cost, p=p, budget=budget)
    assert kn.value == pytest.approx(-ref.fun, rel=1e-7, abs=1e-7)
    assert kn.x @ c == pytest.approx(-ref.fun, rel=1e-7, abs=1e-7)  # x is an LP optimum
    if p is not None:
        assert kn.x.sum() <= p + 1e-9 and kn.plan.sum() <= p
    if budget is not None:
        assert kn.x @ cost <= budget + 1e-7 and cost[kn.plan].sum() <= budget + 1e-9
    # any multipliers give a valid bound (weak duality)
    for pi, theta in rng.uniform(0, 3, (5, 2)):
        assert dual_value(c, cost, p=p, budget=budget, pi=pi, theta=theta) >= -ref.fun - 1e-9


# ---------------------------------------------------------------------------------------------
# max coverage
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_mclp_lagrangian_bound_and_fixings_hold_against_enumeration(seed: int) -> None:
    A, weight, cost = tiny(seed)
    n = A.shape[1]
    p = [2, 3, None][seed % 3]
    budget = None if p is not None and seed % 2 else float(5 + seed % 7)
    plans = all_plans(n)
    ok = feasible(plans, cost, p, budget)
    values = coverage_values(A, weight, plans)
    best = float(values[ok].max())
    start = greedy_max_coverage(A, weight, cost, budget=budget, max_new=p)
    gap = [0.0, 1e-4, 0.05][seed % 3]
    res = mclp_lagrangian(
        A,
        weight,
        np.zeros(n),
        cost,
        p=p,
        budget=budget,
        start=start,
        deadline=time.perf_counter() + 30,
        gap=gap,
        max_iter=300,
    )
    assert res.bound >= best - 1e-9
    assert res.plan_value == pytest.approx(coverage_values(A, weight, res.plan[None, :])[0])
    assert feasible(res.plan[None, :], cost, p, budget)[0]
    better = ok & (values >= must_reach(res.plan_value, maximize=True, integral=True, gap=gap))
    assert not np.any(plans[better][:, res.fix_out])
    assert np.all(plans[better][:, res.fix_in])
    violating = ok & (np.any(plans[:, res.fix_out], axis=1) | np.any(~plans[:, res.fix_in], axis=1))
    if violating.any():
        assert values[violating].max() <= res.fixed_bound + 1e-9


def test_mclp_lagrangian_dual_function_is_an_upper_bound_everywhere() -> None:
    from planner.optimize.lagrange import _MclpOracle

    for seed in range(10):
        A, weight, cost = tiny(100 + seed)
        n = A.shape[1]
        plans = all_plans(n)
        for p, budget in ((2, None), (None, 7.0), (3, 9.0)):
            best = coverage_values(A, weight, plans)[feasible(plans, cost, p, budget)].max()
            oracle = _MclpOracle(A, weight, np.zeros(n), cost, p, budget, np.zeros(n, dtype=bool))
            rng = np.random.default_rng(seed)
            for _ in range(20):
                lam = rng.uniform(0, 1, A.shape[0]) * weight
                assert oracle(lam).value >= best - 1e-6


# ---------------------------------------------------------------------------------------------
# set cover
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_cover_lagrangian_bound_and_fixings_hold_against_enumeration(seed: int) -> None:
    A, _, cost = tiny(300 + seed, m=12, n=10)
    if seed % 4 == 0:
        cost = np.ones(A.shape[1])
    plans = all_plans(A.shape[1])
    covers = np.all((A.toarray().astype(int) @ plans.T.astype(int)) > 0, axis=0)
    values = plans @ cost
    best = float(values[covers].min())
    gap = [0.0, 1e-4, 0.1][seed % 3]
    use_lp = seed % 2 == 0
    lp = solve_lp_relaxation(cover_model(A, cost, start=None), time_limit_s=30) if use_lp else None
    res = cover_lagrangian(
        A,
        cost,
        start=greedy_cover(A, cost),
        deadline=time.perf_counter() + 30,
        gap=gap,
        lam0=None if lp is None else lp.row_dual,
        x_lp=None if lp is None else lp.x,
        max_iter=0 if lp is not None else 400,
    )
    assert res.bound <= best + 1e-9
    assert np.all(A @ res.plan.astype(int) > 0)
    assert res.plan_value == pytest.approx(cost[res.plan].sum())
    integral = bool(np.all(cost == np.round(cost)))
    better = covers & (values <= must_reach(res.plan_value, maximize=False, integral=integral, gap=gap))
    assert not np.any(plans[better][:, res.fix_out])
    assert np.all(plans[better][:, res.fix_in])


@pytest.mark.parametrize("seed", range(8))
def test_lp_relaxation_matches_scipy_linprog(seed: int) -> None:
    A, weight, cost = tiny(500 + seed, m=30, n=12)
    lp = solve_lp_relaxation(cover_model(A, cost, start=None), time_limit_s=30)
    ref = linprog(
        cost, A_ub=-A.toarray().astype(float), b_ub=-np.ones(A.shape[0]), bounds=(0, 1), method="highs"
    )
    assert lp is not None and lp.optimal
    assert lp.objective == pytest.approx(ref.fun, rel=1e-6)
    model = max_coverage_model(A, weight, np.zeros(A.shape[1]), cost, budget=None, max_new=3, start=None)
    lp2 = solve_lp_relaxation(model, time_limit_s=30)
    r, k = A.shape
    A_ub = np.vstack(
        [
            np.hstack([-A.toarray().astype(float), np.eye(r)]),
            np.concatenate([np.ones(k), np.zeros(r)])[None, :],
        ]
    )
    ref2 = linprog(
        -np.concatenate([np.zeros(k), weight]),
        A_ub=A_ub,
        b_ub=np.concatenate([np.zeros(r), [3]]),
        bounds=(0, 1),
        method="highs",
    )
    assert lp2 is not None and lp2.objective == pytest.approx(-ref2.fun, rel=1e-6)
