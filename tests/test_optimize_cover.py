"""Min-cost cover (LSCP) and the solver adapter, checked against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import SolverError
from planner.optimize import SolverSettings, solve_min_cost_cover
from planner.optimize.greedy import greedy_cover
from planner.optimize.reduce import as_bool_csr, dominated_columns, dominated_rows, merge_identical_rows


def random_instance(seed: int, m: int = 14, n: int = 9, density: float = 0.25):
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < density
    cost = rng.integers(1, 10, size=n).astype(float)
    fixed = rng.random(n) < 0.15
    return dense, cost, fixed


def brute_min_cover(dense: np.ndarray, cost: np.ndarray, fixed: np.ndarray) -> float:
    """Cheapest set of non-fixed sites covering every row some site covers (all subsets)."""
    n = dense.shape[1]
    need = dense.any(axis=1) & ~dense[:, fixed].any(axis=1)
    free = [j for j in range(n) if not fixed[j]]
    best = np.inf
    for r in range(len(free) + 1):
        for subset in itertools.combinations(free, r):
            cols = list(subset)
            if np.all(dense[need][:, cols].any(axis=1)) if cols else not need.any():
                best = min(best, float(cost[cols].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_min_cost_cover_matches_brute_force(seed: int) -> None:
    dense, cost, fixed = random_instance(seed)
    expected = brute_min_cover(dense, cost, fixed)
    res = solve_min_cost_cover(sp.csr_matrix(dense), cost, fixed_open=fixed)
    assert res.status in ("optimal", "trivial")
    assert res.objective == pytest.approx(expected)
    assert np.all(res.selected[fixed])
    # the plan is feasible: every coverable row is covered
    assert np.array_equal(res.arrays["covered"], dense.any(axis=1) | False) or np.all(
        res.arrays["covered"][dense.any(axis=1)]
    )
    assert np.array_equal(res.arrays["uncoverable"], ~dense.any(axis=1))
    assert res.objective == pytest.approx(cost[res.arrays["new"]].sum())


@pytest.mark.parametrize("seed", range(6))
def test_reductions_do_not_change_the_optimum(seed: int) -> None:
    dense, cost, fixed = random_instance(100 + seed, m=30, n=10, density=0.2)
    expected = brute_min_cover(dense, cost, fixed)
    plain = solve_min_cost_cover(
        sp.csr_matrix(dense), cost, fixed_open=fixed, settings=SolverSettings(reduce=False)
    )
    red = solve_min_cost_cover(sp.csr_matrix(dense), cost, fixed_open=np.flatnonzero(fixed))
    assert plain.objective == pytest.approx(expected)
    assert red.objective == pytest.approx(expected)
    assert red.size_after["rows"] <= plain.size_after["rows"]


@pytest.mark.parametrize("seed", range(6))
def test_pulp_cbc_gives_the_same_optimum(seed: int) -> None:
    dense, cost, fixed = random_instance(200 + seed, m=20, n=9)
    highs = solve_min_cost_cover(
        sp.csr_matrix(dense), cost, fixed_open=fixed, settings=SolverSettings(reduce=False)
    )
    cbc = solve_min_cost_cover(
        sp.csr_matrix(dense),
        cost,
        fixed_open=fixed,
        settings=SolverSettings(backend="pulp:CBC", reduce=False),
    )
    assert cbc.objective == pytest.approx(highs.objective)
    assert cbc.objective == pytest.approx(brute_min_cover(dense, cost, fixed))


def test_uncoverable_rows_are_reported_not_an_error() -> None:
    dense = np.array([[1, 0], [0, 0], [0, 1], [0, 0]], dtype=bool)
    res = solve_min_cost_cover(sp.csr_matrix(dense), [3.0, 4.0])
    assert res.arrays["uncoverable"].tolist() == [False, True, False, True]
    assert res.objective == 7.0
    assert res.selected.tolist() == [True, True]


def test_fixed_sites_cost_nothing_and_cover_their_rows() -> None:
    dense = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]], dtype=bool)
    res = solve_min_cost_cover(sp.csr_matrix(dense), [1.0, 5.0, 1.0], fixed_open=[1])
    # rows 0,1 covered by fixed site 1; row 2 needs site 0
    assert res.selected.tolist() == [True, True, False]
    assert res.objective == 1.0


def test_time_limited_run_returns_incumbent_with_gap() -> None:
    # a random set cover big enough that HiGHS cannot prove optimality in 0.05 s
    rng = np.random.default_rng(7)
    m, n = 3000, 400
    A = sp.random(m, n, density=0.02, random_state=np.random.RandomState(7), format="csr") != 0
    cost = rng.integers(50, 100, size=n).astype(float)
    res = solve_min_cost_cover(A, cost, settings=SolverSettings(time_limit_s=0.1, reduce=False))
    assert res.status == "time_limit"
    assert res.mip_gap > 0
    assert res.bound <= res.objective
    coverable = np.diff(sp.csr_matrix(A).indptr) > 0
    assert np.all(res.arrays["covered"][coverable])


def test_bad_inputs_raise_clear_errors() -> None:
    A = sp.csr_matrix(np.eye(3, dtype=bool))
    with pytest.raises(ValueError, match="cost has shape"):
        solve_min_cost_cover(A, [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        solve_min_cost_cover(A, [1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match="outside"):
        solve_min_cost_cover(A, None, fixed_open=[5])
    with pytest.raises(SolverError, match=r"not installed|cannot create"):
        solve_min_cost_cover(
            sp.csr_matrix(np.ones((3, 3), dtype=bool)),
            None,
            settings=SolverSettings(backend="pulp:NO_SUCH_SOLVER", reduce=False),
        )


def test_merge_rows_and_dominance_rules() -> None:
    dense = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 0]], dtype=bool)
    A = as_bool_csr(sp.csr_matrix(dense))
    merged, w, row_map = merge_identical_rows(A, np.array([1.0, 2.0, 3.0, 4.0]))
    assert merged.shape[0] == 3
    assert w.tolist() == [3.0, 3.0, 4.0]
    assert row_map[0] == row_map[1]
    # site 0 ⊂ site 1 at equal cost: dominated; site 2 ⊂ site 1 but cheaper: kept
    dom = dominated_columns(A, np.array([2.0, 2.0, 1.0]))
    assert dom.tolist() == [True, False, False]
    # row {1} is contained in rows {0,1} and {1,2}: those two are implied
    rows = dominated_rows(merged)
    assert rows.tolist() == [True, True, False]


def test_greedy_cover_is_feasible_and_irredundant() -> None:
    for seed in range(5):
        dense, cost, _ = random_instance(300 + seed, m=40, n=12)
        A = as_bool_csr(sp.csr_matrix(dense))
        plan = greedy_cover(A, cost)
        coverable = dense.any(axis=1)
        assert np.all(dense[coverable][:, plan].any(axis=1))
        for j in np.flatnonzero(plan):
            others = plan.copy()
            others[j] = False
            assert not np.all(dense[coverable][:, others].any(axis=1))


@pytest.mark.parametrize("seed", range(5))
def test_dominated_rows_equal_pairwise_subset_check(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    dense = rng.random((60, 8)) < 0.35
    A = as_bool_csr(sp.csr_matrix(dense))
    merged, _, _ = merge_identical_rows(A, np.ones(60))
    rows = merged.toarray().astype(bool)
    expected = [
        any(
            i != k and rows[i].any() and np.all(rows[k] >= rows[i]) and rows[k].sum() > rows[i].sum()
            for i in range(rows.shape[0])
        )
        for k in range(rows.shape[0])
    ]
    assert dominated_rows(merged).tolist() == expected
