"""Budget–coverage curve: what each extra yuan (or each extra ten outlets) buys.

Solves the max-coverage model (:func:`~planner.optimize.mclp.solve_max_coverage`) at each budget
of a sweep and tabulates the weight covered. Each point is an exact optimum (or a time-limited
incumbent with its gap, shown in the table), so the curve is non-decreasing up to the solver gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.optimize.mclp import solve_max_coverage
from planner.optimize.result import SolverSettings

CURVE_COLUMNS = (
    "limit",
    "kind",
    "new_sites",
    "cost_new",
    "covered_weight",
    "covered_share",
    "gain",
    "status",
    "mip_gap",
    "seconds",
)
"""Columns of the curve table (``kind`` is ``"budget"`` or ``"count"``; ``gain`` over the previous row)."""


def budget_coverage_curve(
    coverage: sp.spmatrix | sp.sparray,
    weight: np.ndarray | Sequence[float],
    cost: np.ndarray | Sequence[float] | None = None,
    *,
    budgets: Sequence[float] | None = None,
    counts: Sequence[int] | None = None,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
) -> pd.DataFrame:
    """Solve max coverage at each money budget (or each count of new sites) of a sweep.

    Parameters
    ----------
    coverage
        Demand × sites sparse bool matrix.
    weight
        Demand weight per row.
    cost
        Cost per site (needed with ``budgets``).
    budgets
        Money budgets to evaluate (sorted ascending in the table).
    counts
        Numbers of new sites to evaluate, instead of ``budgets``.
    fixed_open
        Existing sites, fixed open.
    settings
        Solver settings for each point.

    Returns
    -------
    pandas.DataFrame
        One row per limit, columns :data:`CURVE_COLUMNS`; the first row is the limit 0 (existing
        sites only) when 0 is in the sweep.
    """
    if (budgets is None) == (counts is None):
        raise ValueError("give exactly one of budgets (money) or counts (number of new sites)")
    limits = (
        sorted(set(float(b) for b in budgets))
        if budgets is not None
        else sorted(set(int(k) for k in counts or ()))
    )
    if not limits:
        raise ValueError("the sweep is empty")
    total = float(np.sum(np.asarray(weight, dtype=np.float64)))
    rows = []
    previous = None
    for limit in limits:
        if budgets is not None:
            res = solve_max_coverage(
                coverage, weight, cost, budget=float(limit), fixed_open=fixed_open, settings=settings
            )
        else:
            res = solve_max_coverage(
                coverage, weight, cost, max_new=int(limit), fixed_open=fixed_open, settings=settings
            )
        covered = float(res.objective)
        rows.append(
            {
                "limit": limit,
                "kind": "budget" if budgets is not None else "count",
                "new_sites": int(res.arrays["new"].sum()),
                "cost_new": float(res.extra["cost_new"]),
                "covered_weight": covered,
                "covered_share": covered / total if total > 0 else 1.0,
                "gain": covered - previous if previous is not None else np.nan,
                "status": res.status,
                "mip_gap": float(res.mip_gap),
                "seconds": float(res.seconds),
            }
        )
        previous = covered
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
