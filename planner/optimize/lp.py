"""The LP relaxation of a :class:`~planner.optimize.solver.MipModel`, solved by HiGHS's interior point.

Used where measurement shows the interior point method beats the subgradient iteration as a bound
engine (set cover: on the 400k-node county the 13.7k-row LSCP relaxation solves in ~5 s, where the
subgradient is still 5 % below the LP value after 25 s). The duals need not be exact: the caller
clips them into the multiplier box and evaluates its Lagrangian function there, which is a valid
bound for *any* multipliers. Crossover is off (its vertex is not needed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.optimize.solver import MipModel, quiet_highs


@dataclass(frozen=True)
class LpRelaxation:
    """Primal values, row duals and objective of an LP relaxation (``None`` fields: not available)."""

    x: np.ndarray
    row_dual: np.ndarray
    objective: float
    optimal: bool


def solve_lp_relaxation(
    model: MipModel, *, time_limit_s: float, threads: int | None = None
) -> LpRelaxation | None:
    """Solve the LP relaxation of ``model`` with HiGHS IPM (no crossover) within ``time_limit_s``.

    Returns ``None`` when HiGHS produced no dual values (time limit before the first iterate,
    numerical trouble); the caller falls back to its own bound.
    """
    import highspy

    A = model.A.tocsr()
    A.sort_indices()
    m, n = A.shape
    inf = highspy.kHighsInf
    h = quiet_highs()
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.1)))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(
        int(n),
        int(m),
        int(A.nnz),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize),
        float(model.offset),
        np.ascontiguousarray(model.cost, dtype=np.float64),
        np.where(np.isfinite(model.col_lower), model.col_lower, -inf).astype(np.float64),
        np.where(np.isfinite(model.col_upper), model.col_upper, inf).astype(np.float64),
        np.where(np.isfinite(model.row_lower), model.row_lower, -inf).astype(np.float64),
        np.where(np.isfinite(model.row_upper), model.row_upper, inf).astype(np.float64),
        np.ascontiguousarray(A.indptr, dtype=np.int32),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.data, dtype=np.float64),
        np.zeros(n, dtype=np.int32),
    )
    h.run()
    sol = h.getSolution()
    if not sol.dual_valid or not sol.value_valid:
        return None
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return LpRelaxation(
        np.asarray(sol.col_value, dtype=np.float64),
        np.asarray(sol.row_dual, dtype=np.float64),
        float(h.getInfo().objective_function_value),
        optimal,
    )
