"""Density standards (per-unit minimum counts, optionally with coverage) against brute force."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimize import centre_requirement, locker_requirement, outlet_requirement, solve_density


def test_requirement_formulas() -> None:
    # 4 per 10,000: 2,500 people -> 1; 2,501 -> 2; 10,000 -> 4; 0 -> 0
    assert outlet_requirement([2500, 2501, 10000, 0], per_10k=4).tolist() == [1, 2, 4, 0]
    assert outlet_requirement([10000, 12001], per_10k=5).tolist() == [5, 7]
    assert locker_requirement([100, 101, 0, 250]).tolist() == [1, 2, 0, 3]
    assert centre_requirement([2999, 3000, 8000]).tolist() == [0, 1, 1]


def brute(unit, cost, required, existing, dense=None, fixed=None) -> float:
    n = len(unit)
    fixed = np.zeros(n, bool) if fixed is None else fixed
    free = [j for j in range(n) if not fixed[j]]
    need_rows = None
    if dense is not None:
        need_rows = dense.any(axis=1) & ~dense[:, fixed].any(axis=1)
    best = math.inf
    for r in range(len(free) + 1):
        for sub in itertools.combinations(free, r):
            open_ = fixed.copy()
            open_[list(sub)] = True
            if any(existing.get(u, 0) + int((open_ & (unit == u)).sum()) < q for u, q in required.items()):
                continue
            if dense is not None and not np.all(dense[need_rows][:, open_].any(axis=1)):
                continue
            best = min(best, float(cost[list(sub)].sum()))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_density_with_and_without_coverage_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 9
    unit = rng.permutation(np.array(["a", "a", "a", "b", "b", "c", "c", "", ""], dtype=object))
    cost = rng.integers(1, 9, size=n).astype(float)
    required = {"a": 2, "b": 1, "c": 1}
    existing = {"b": int(rng.integers(0, 2))}
    fixed = rng.random(n) < 0.15
    dense = rng.random((12, n)) < 0.25
    for cov in (None, dense):
        expected = brute(unit, cost, required, existing, cov, fixed)
        kw: dict[str, Any] = {
            "existing": existing,
            "fixed_open": fixed,
            "coverage": None if cov is None else sp.csr_matrix(cov),
        }
        if math.isinf(expected):
            with pytest.raises(InfeasibleError, match="short by"):
                solve_density(unit, cost, required, **kw)
            continue
        res = solve_density(unit, cost, required, **kw)
        assert res.objective == pytest.approx(expected)
        assert res.extra["units"]["met"].all()


def test_shortfall_is_named_per_unit() -> None:
    unit = np.array(["t1", "t1", "t2"], dtype=object)
    with pytest.raises(
        InfeasibleError, match=r"unit t1 needs 4 facilities, has 1 and only 2 candidate sites: short by 1"
    ):
        solve_density(unit, None, {"t1": 4, "t2": 1}, existing={"t1": 1})
