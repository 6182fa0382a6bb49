"""The solver adapter on tiny MIPs whose optimum is enumerated in the test."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimize import MipModel, SolverSettings, solve_max_coverage, solve_min_cost_cover, solve_mip


def knapsack_model(seed: int) -> tuple[MipModel, float]:
    """max v.x s.t. w.x <= cap, x in {0,1,2}^n, plus x0 + x1 == 2 (an equality row)."""
    rng = np.random.default_rng(seed)
    n = 5
    v = rng.integers(1, 20, size=n).astype(float)
    w = rng.integers(1, 10, size=n).astype(float)
    cap = float(w.sum())  # x0 = x1 = 1 always fits: feasible; x <= 2 keeps the row binding
    A = sp.csr_matrix(np.vstack([w, [1, 1, 0, 0, 0]]))
    model = MipModel(
        cost=v,
        A=A,
        row_lower=np.array([-np.inf, 2.0]),
        row_upper=np.array([cap, 2.0]),
        col_lower=np.zeros(n),
        col_upper=np.full(n, 2.0),
        integer=np.ones(n, dtype=bool),
        sense="max",
        offset=3.0,
    )
    best = -np.inf
    for x in itertools.product(range(3), repeat=n):
        xa = np.array(x, dtype=float)
        if w @ xa <= cap and xa[0] + xa[1] == 2:
            best = max(best, float(v @ xa) + 3.0)
    return model, best


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("backend", ["highs", "pulp:CBC"])
def test_general_integer_mip_matches_enumeration(seed: int, backend: str) -> None:
    model, best = knapsack_model(seed)
    sol = solve_mip(model, settings=SolverSettings(backend=backend, mip_gap=0.0))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best)
    assert sol.x[0] + sol.x[1] == pytest.approx(2.0)


@pytest.mark.parametrize("backend", ["highs", "pulp:CBC"])
def test_infeasible_model_raises(backend: str) -> None:
    model = MipModel(
        cost=np.ones(2),
        A=sp.csr_matrix(np.array([[1.0, 1.0]])),
        row_lower=np.array([3.0]),
        row_upper=np.array([np.inf]),
        col_lower=np.zeros(2),
        col_upper=np.ones(2),
        integer=np.ones(2, dtype=bool),
    )
    with pytest.raises(InfeasibleError):
        solve_mip(model, settings=SolverSettings(backend=backend))


def test_bad_settings_and_shapes() -> None:
    with pytest.raises(ValueError, match="unknown solver backend"):
        SolverSettings(backend="gurobi")
    with pytest.raises(ValueError, match="time_limit_s"):
        SolverSettings(time_limit_s=0)
    with pytest.raises(ValueError, match="cost has shape"):
        MipModel(
            cost=np.ones(3),
            A=sp.csr_matrix((1, 2)),
            row_lower=np.zeros(1),
            row_upper=np.ones(1),
            col_lower=np.zeros(2),
            col_upper=np.ones(2),
            integer=np.ones(2, dtype=bool),
        )


def test_degenerate_instances() -> None:
    empty_rows = sp.csr_matrix((0, 3), dtype=bool)
    res = solve_min_cost_cover(empty_rows, [1.0, 2.0, 3.0])
    assert res.objective == 0.0 and not res.selected.any()
    no_sites = sp.csr_matrix((4, 0), dtype=bool)
    res = solve_min_cost_cover(no_sites, None)
    assert res.arrays["uncoverable"].all()
    all_fixed = sp.csr_matrix(np.ones((3, 2), dtype=bool))
    res = solve_max_coverage(all_fixed, [1.0, 2.0, 3.0], max_new=1, fixed_open=[0])
    assert res.objective == 6.0 and res.arrays["new"].sum() == 0
    assert res.status == "trivial"
