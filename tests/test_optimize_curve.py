"""Budget–coverage curve against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimize import budget_coverage_curve


def brute(dense, weight, cost, budget=None, count=None) -> float:
    n = dense.shape[1]
    best = 0.0
    for r in range(n + 1):
        for sub in itertools.combinations(range(n), r):
            if count is not None and r > count:
                continue
            if budget is not None and cost[list(sub)].sum() > budget:
                continue
            best = max(best, float(weight[dense[:, list(sub)].any(axis=1)].sum()))
    return best


def test_budget_curve_matches_brute_force_and_is_monotone() -> None:
    rng = np.random.default_rng(11)
    dense = rng.random((20, 8)) < 0.25
    weight = rng.integers(1, 30, size=20).astype(float)
    cost = rng.integers(1, 6, size=8).astype(float)
    budgets = [0, 3, 6, 9, 12]
    df = budget_coverage_curve(sp.csr_matrix(dense), weight, cost, budgets=budgets)
    assert df["limit"].tolist() == budgets
    for b, got in zip(budgets, df["covered_weight"], strict=True):
        assert got == pytest.approx(brute(dense, weight, cost, budget=b))
    assert np.all(np.diff(df["covered_weight"]) >= -1e-9)
    assert df["gain"].iloc[1:].tolist() == pytest.approx(np.diff(df["covered_weight"]).tolist())
    assert np.all(df["cost_new"] <= df["limit"] + 1e-9)


def test_count_curve_with_existing_sites() -> None:
    rng = np.random.default_rng(12)
    dense = rng.random((15, 7)) < 0.3
    weight = rng.integers(1, 30, size=15).astype(float)
    fixed = np.zeros(7, dtype=bool)
    fixed[0] = True
    df = budget_coverage_curve(sp.csr_matrix(dense), weight, counts=[0, 1, 2, 3], fixed_open=fixed)
    for k, got in zip([0, 1, 2, 3], df["covered_weight"], strict=True):
        # brute force over the other six sites, site 0 always open
        best = 0.0
        for r in range(k + 1):
            for sub in itertools.combinations(range(1, 7), r):
                best = max(best, float(weight[dense[:, [0, *sub]].any(axis=1)].sum()))
        assert got == pytest.approx(best)
    with pytest.raises(ValueError, match="exactly one"):
        budget_coverage_curve(sp.csr_matrix(dense), weight)
