"""The budget–coverage curve of the pickup plan: people covered at each budget of a sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.optimize import SolverSettings, budget_coverage_curve, solve_min_cost_cover

__all__ = ["coverage_curve"]


def coverage_curve(
    coverage: sp.csr_matrix,
    population: np.ndarray,
    cost: np.ndarray,
    fixed: np.ndarray,
    *,
    settings: SolverSettings,
    steps: int = 10,
) -> pd.DataFrame:
    """Budget–coverage curve for the pickup points: people covered at each budget of a sweep.

    The sweep runs from 0 (existing facilities only) to the cost of the least-cost full cover, in
    ``steps`` equal steps. Columns: those of :data:`planner.optimize.curve.CURVE_COLUMNS`, with
    ``limit`` named ``budget``.
    """
    full = solve_min_cost_cover(coverage, cost, fixed_open=fixed, settings=settings)
    top = max(full.objective, 1.0)
    budgets = np.linspace(0.0, top, steps + 1)
    curve = budget_coverage_curve(
        coverage, population, cost, budgets=budgets.tolist(), fixed_open=fixed, settings=settings
    )
    return curve.rename(columns={"limit": "budget"})
