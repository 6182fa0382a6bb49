"""MCLP and LSCP through the Lagrangian path (bound, fixing, MIP on the rest), end to end.

Checked against brute-force enumeration on tiny instances and against the plain path (one HiGHS MIP
on the reduced model, ``SolverSettings(lagrangian=False)``) on medium geometric instances.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimize import SolverSettings, solve_max_coverage, solve_min_cost_cover
from planner.optimize.result import relative_gap

PLAIN = SolverSettings(lagrangian=False)
NEW = SolverSettings(lagrangian=True)


def tiny(seed: int, m: int = 16, n: int = 10):
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < 0.25
    weight = rng.integers(0, 60, m).astype(float)
    cost = rng.integers(1, 7, n).astype(float)
    fixed = rng.random(n) < 0.15
    return dense, weight, cost, fixed


def geometric(seed: int, m: int = 400, n: int = 80, radius: float = 0.12, *, clustered: bool = True):
    """Demand (clustered or uniform) and sites in the unit square, covered within ``radius``."""
    rng = np.random.default_rng(seed)
    centres = rng.random((6, 2))
    demand = np.clip(centres[rng.integers(0, 6, m)] + rng.normal(0, 0.12, (m, 2)), 0, 1)
    if not clustered:
        demand = rng.random((m, 2))
    sites = rng.random((n, 2))
    dist = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weight = np.round(rng.lognormal(3.0, 1.0, m))
    cost = rng.integers(2, 9, n).astype(float)
    return sp.csr_matrix(dist <= radius), weight, cost


def brute_mclp(dense, weight, cost, fixed, *, budget=None, max_new=None) -> float:
    free = [j for j in range(dense.shape[1]) if not fixed[j]]
    best = 0.0
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


def brute_cover(dense, cost, fixed) -> float:
    need = dense.any(axis=1) & ~dense[:, fixed].any(axis=1)
    free = [j for j in range(dense.shape[1]) if not fixed[j]]
    best = np.inf
    for r in range(len(free) + 1):
        for subset in itertools.combinations(free, r):
            if dense[need][:, list(subset)].any(axis=1).all():
                best = min(best, float(cost[list(subset)].sum()))
    return best


def check_proof(res, *, maximize: bool) -> None:
    assert res.mip_gap == pytest.approx(relative_gap(res.objective, res.bound), abs=1e-12)
    if maximize:
        assert res.bound >= res.objective - 1e-9
    else:
        assert res.bound <= res.objective + 1e-9


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limits", ["count", "budget", "both"])
def test_mclp_equals_brute_force(seed: int, limits: str) -> None:
    dense, weight, cost, fixed = tiny(seed)
    max_new = 1 + seed % 3 if limits in ("count", "both") else None
    budget = float(4 + seed % 6) if limits in ("budget", "both") else None
    res = solve_max_coverage(
        sp.csr_matrix(dense), weight, cost, budget=budget, max_new=max_new, fixed_open=fixed, settings=NEW
    )
    expected = brute_mclp(dense, weight, cost, fixed, budget=budget, max_new=max_new)
    assert res.objective == pytest.approx(expected)
    assert res.status in ("optimal", "gap_limit", "trivial")
    assert res.bound >= expected - 1e-9
    assert np.all(res.selected[fixed])
    if max_new is not None:
        assert res.arrays["new"].sum() <= max_new
    if budget is not None:
        assert cost[res.arrays["new"]].sum() <= budget + 1e-9
    check_proof(res, maximize=True)


@pytest.mark.parametrize("seed", range(12))
def test_lscp_equals_brute_force(seed: int) -> None:
    dense, _, cost, fixed = tiny(40 + seed, m=14, n=11)
    if seed % 3 == 0:
        cost = np.ones(dense.shape[1])
    res = solve_min_cost_cover(sp.csr_matrix(dense), cost, fixed_open=fixed, settings=NEW)
    assert res.objective == pytest.approx(brute_cover(dense, cost, fixed))
    assert np.all(res.selected[fixed])
    check_proof(res, maximize=False)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limits", ["count", "budget", "both"])
def test_mclp_equals_plain_highs_on_medium_instances(seed: int, limits: str) -> None:
    A, weight, cost = geometric(seed)
    max_new = 6 if limits in ("count", "both") else None
    budget = 30.0 if limits in ("budget", "both") else None
    fixed = np.zeros(A.shape[1], dtype=bool)
    fixed[seed % 5 :: 37] = True
    kw = dict(budget=budget, max_new=max_new, fixed_open=fixed)
    new = solve_max_coverage(A, weight, cost, settings=NEW, **kw)
    plain = solve_max_coverage(A, weight, cost, settings=PLAIN, **kw)
    assert plain.status == "optimal"
    assert new.objective == pytest.approx(plain.objective, rel=1e-4)
    assert new.bound >= plain.objective - 1e-6
    assert np.all(new.selected[fixed])
    check_proof(new, maximize=True)


@pytest.mark.parametrize("seed", range(8))
def test_mclp_many_sites_uniform_demand_equals_plain_highs(seed: int) -> None:
    A, weight, cost = geometric(seed, m=400, n=100, radius=0.08, clustered=False)
    new = solve_max_coverage(A, weight, cost, max_new=15, settings=NEW)
    plain = solve_max_coverage(A, weight, cost, max_new=15, settings=PLAIN)
    assert plain.status == "optimal"
    assert new.objective == pytest.approx(plain.objective, rel=1e-4)
    check_proof(new, maximize=True)


@pytest.mark.parametrize("seed", range(6))
def test_lscp_equals_plain_highs_on_medium_instances(seed: int) -> None:
    A, _, cost = geometric(20 + seed, m=400, n=150, radius=0.12, clustered=False)
    if seed % 2:
        cost = np.ones(A.shape[1])
    fixed = np.zeros(A.shape[1], dtype=bool)
    fixed[seed::29] = True
    new = solve_min_cost_cover(A, cost, fixed_open=fixed, settings=NEW)
    plain = solve_min_cost_cover(A, cost, fixed_open=fixed, settings=PLAIN)
    assert plain.status == "optimal"
    assert new.objective == pytest.approx(plain.objective, rel=1e-4)
    assert new.bound <= plain.objective + 1e-6
    check_proof(new, maximize=False)


def test_lagrangian_notes_and_sizes_are_reported() -> None:
    A, weight, cost = geometric(3)
    res = solve_max_coverage(A, weight, cost, max_new=6, settings=NEW)
    assert any("Lagrangian bound" in n for n in res.notes)
    assert res.extra["lagrangian_bound"] >= res.objective - 1e-9
    assert "lagrangian" in res.timings
    res = solve_min_cost_cover(A, cost, settings=NEW)
    assert any("LP relaxation" in n for n in res.notes)


def test_a_missing_backend_is_refused_before_any_work() -> None:
    from planner.errors import SolverError

    dense, weight, cost, _ = tiny(1)
    bad = SolverSettings(backend="pulp:NO_SUCH_SOLVER")
    with pytest.raises(SolverError, match=r"not installed|cannot create"):
        solve_max_coverage(sp.csr_matrix(dense), weight, cost, max_new=2, settings=bad)
    with pytest.raises(SolverError, match=r"not installed|cannot create"):
        solve_min_cost_cover(sp.csr_matrix(dense), cost, settings=bad)


def test_solver_skipped_when_the_model_cannot_be_set_up_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.optimize.lagrange_mip as lm

    A, weight, cost = geometric(4, m=400, n=100, radius=0.08, clustered=False)
    plain = solve_max_coverage(A, weight, cost, max_new=15, settings=PLAIN)
    monkeypatch.setattr(lm, "SETUP_S_PER_NNZ", 1e3)  # every model "too big"
    res = solve_max_coverage(A, weight, cost, max_new=15, settings=SolverSettings(time_limit_s=5))
    assert res.bound >= plain.objective - 1e-9  # the Lagrangian bound stands and is valid
    assert res.objective <= plain.objective + 1e-9
    check_proof(res, maximize=True)
    if res.status != "optimal":  # the bound did not close the gap: the solver was skipped
        assert res.status == "time_limit"
        assert any("solver skipped" in n for n in res.notes)
    cov = solve_min_cost_cover(A, cost, settings=SolverSettings(time_limit_s=5))
    plain_cov = solve_min_cost_cover(A, cost, settings=PLAIN)
    assert cov.bound <= plain_cov.objective + 1e-9 <= cov.objective + 1e-9
    check_proof(cov, maximize=False)
