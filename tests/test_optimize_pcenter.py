"""p-center (shortest longest trip with at most p sites) against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.optimize import SolverSettings, solve_p_center


def instance(seed: int, m: int = 9, n: int = 7):
    rng = np.random.default_rng(seed)
    clients, sites = rng.random((m, 2)) * 50, rng.random((n, 2)) * 50
    T = np.round(np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)), 1)
    T[rng.random((m, n)) < 0.15] = np.inf
    return T


def brute(T, p, fixed, allowed, counted) -> float:
    """min over plans (fixed + at most p - |fixed| allowed sites) of the longest counted trip."""
    n = T.shape[1]
    free = [j for j in range(n) if allowed[j] and not fixed[j]]
    reach = np.isfinite(np.where((allowed | fixed)[None, :], T, np.inf)).any(axis=1)
    rows = counted & reach
    best = np.inf
    for r in range(p - int(fixed.sum()) + 1):
        for sub in itertools.combinations(free, r):
            open_ = fixed.copy()
            open_[list(sub)] = True
            if not open_.any():
                continue
            worst = np.where(open_[None, :], T[rows], np.inf).min(axis=1).max(initial=0.0)
            best = min(best, worst)
    return best


@pytest.mark.parametrize("seed", range(15))
def test_p_center_equals_brute_force(seed: int) -> None:
    T = instance(seed)
    n = T.shape[1]
    rng = np.random.default_rng(seed)
    fixed = np.zeros(n, dtype=bool)
    if seed % 3 == 0:
        fixed[rng.integers(0, n)] = True
    p = 2 + seed % 3
    allowed = np.ones(n, dtype=bool)
    expected = brute(T, p, fixed, allowed, np.ones(T.shape[0], dtype=bool))
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleError):
            solve_p_center(T, p=p, fixed_open=fixed)
        return
    res = solve_p_center(T, p=p, fixed_open=fixed)
    assert res.objective == pytest.approx(expected)
    assert res.status == "optimal" and res.mip_gap == 0.0 and res.bound == pytest.approx(expected)
    assert res.selected.sum() <= p and np.all(res.selected[fixed])
    reach = ~res.arrays["unreachable"]
    assert np.all(res.arrays["client_time"][reach] <= expected + 1e-9)
    # the assignment is the nearest open site
    t = res.arrays["client_time"]
    for i in np.flatnonzero(reach):
        j = res.arrays["assigned_site"][i]
        assert res.selected[j] and T[i, j] == t[i] == np.min(np.where(res.selected, T[i], np.inf))


@pytest.mark.parametrize("seed", range(10))
def test_p_center_with_carriers_rule_and_zero_weight_clients(seed: int) -> None:
    T = instance(100 + seed, m=10, n=8)
    n = T.shape[1]
    rng = np.random.default_rng(seed)
    carriers = rng.integers(1, 6, n)
    fixed = np.zeros(n, dtype=bool)
    fixed[np.argmin(carriers)] = True  # an existing site below the rule stays open
    weight = rng.integers(0, 4, T.shape[0]).astype(float)
    allowed = carriers >= 3
    counted = weight > 0
    p = 3
    expected = brute(T, p, fixed, allowed, counted)
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleError):
            solve_p_center(T, weight, p=p, fixed_open=fixed, carriers=carriers, min_carriers=3)
        return
    res = solve_p_center(T, weight, p=p, fixed_open=fixed, carriers=carriers, min_carriers=3)
    assert res.objective == pytest.approx(expected)
    assert np.all(~res.arrays["new"] | allowed)
    assert np.array_equal(res.arrays["eligible"], allowed | fixed)


def test_unreachable_clients_are_reported_not_infeasible() -> None:
    T = np.array([[5.0, np.inf], [np.inf, 7.0], [np.inf, np.inf], [3.0, 9.0]])
    res = solve_p_center(T, p=2)
    assert res.arrays["unreachable"].tolist() == [False, False, True, False]
    assert res.arrays["assigned_site"][2] == -1
    assert res.objective == 7.0 and res.selected.tolist() == [True, True]
    # an eligibility mask can make a client unreachable too
    res = solve_p_center(T, p=1, eligible=np.array([True, False]))
    assert res.arrays["unreachable"].tolist() == [False, True, True, False]
    assert res.objective == 5.0


def test_too_few_sites_and_bad_inputs_are_explained() -> None:
    T = np.array([[5.0, np.inf], [np.inf, 7.0]])
    with pytest.raises(InfeasibleError, match="cannot reach every client"):
        solve_p_center(T, p=1)
    with pytest.raises(InfeasibleError, match="below the 2 existing"):
        solve_p_center(T, p=1, fixed_open=[0, 1])
    with pytest.raises(ValueError, match="clients × sites"):
        solve_p_center(np.ones(3), p=1)
    with pytest.raises(ValueError, match=">= 0"):
        solve_p_center(-np.ones((2, 2)), p=1)


def test_p_center_through_a_pulp_solver_when_available() -> None:
    import pulp

    if "PULP_CBC_CMD" not in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("CBC not installed")
    T = instance(7, m=12, n=8)
    res = solve_p_center(T, p=3, settings=SolverSettings(backend="pulp:CBC"))
    assert res.objective == pytest.approx(brute(T, 3, np.zeros(8, bool), np.ones(8, bool), np.ones(12, bool)))
