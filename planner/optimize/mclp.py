"""Best coverage for a budget (maximal covering location problem, MCLP).

Maximise the demand weight (people) covered by open sites when at most ``max_new`` new sites are
opened and/or their cost is at most ``budget``. Existing sites are fixed open and use neither the
count nor the budget.

Model: binary ``x_j`` per candidate, continuous ``0 <= y_i <= 1`` per demand row (integral at
an optimum since the ``x`` are), ``y_i <= sum_{j covers i} x_j``.

Reductions (each exact for MCLP with non-negative weights, applied until nothing changes):

1. rows covered by a fixed site, rows no affordable site covers and rows of weight 0 are dropped
   (their weight is a constant of the objective); sites costing more than the budget are dropped;
2. rows with identical coverage sets are merged, weights summed;
3. a row that only one site covers is folded into that site's objective coefficient
   ("private weight"): ``y_i = x_j`` at an optimum;
4. a site without private weight is dropped when another site covers a superset of its rows and
   costs no more (cost is ignored under a count-only limit): see
   :func:`~planner.optimize.reduce.dominated_columns`.

The reduced model gets the greedy plan (gain per yuan under a budget), improved by best-swap
interchange, as a warm start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.errors import SolverError
from planner.optimize._common import site_mask, vector
from planner.optimize.greedy import greedy_max_coverage, improve_max_coverage
from planner.optimize.lagrange_mip import solve_max_coverage_reduced
from planner.optimize.reduce import as_bool_csr, dominated_columns, merge_identical_rows
from planner.optimize.result import SolveResult, SolverSettings, relative_gap
from planner.optimize.solver import check_backend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReducedCoverage:
    """A max-coverage instance after the reductions (original column ids in ``cols``)."""

    A: sp.csr_matrix
    weight: np.ndarray
    private: np.ndarray
    cols: np.ndarray
    notes: tuple[str, ...]


def reduce_max_coverage(
    A: sp.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    use_cost: bool,
) -> ReducedCoverage:
    """Apply the MCLP reductions (module docstring) to ``A[rows][:, cols]``."""
    col_ids = np.flatnonzero(cols)
    sub = sp.csr_matrix(A[np.flatnonzero(rows)][:, col_ids])
    w = weight[rows]
    keep = np.diff(sub.indptr) > 0
    sub, w = sp.csr_matrix(sub[keep]), w[keep]
    n0 = sub.shape[0]
    sub, w, _ = merge_identical_rows(sub, w)
    merged = n0 - sub.shape[0]
    priv = np.zeros(sub.shape[1])
    folded = dropped = 0
    for _ in range(20):
        changed = False
        size = np.diff(sub.indptr)
        single = size == 1
        if single.any():
            js = sub.indices[sub.indptr[:-1][single]]
            priv += np.bincount(js, weights=w[single], minlength=sub.shape[1])
            folded += int(single.sum())
            sub, w = sp.csr_matrix(sub[~single]), w[~single]
            changed = True
        c = cost[col_ids] if use_cost else np.zeros(col_ids.size)
        dom = dominated_columns(sub, c, private=priv)
        if dom.any():
            dropped += int(dom.sum())
            sub = sp.csr_matrix(sub[:, ~dom])
            col_ids, priv = col_ids[~dom], priv[~dom]
            n1 = sub.shape[0]
            sub, w, _ = merge_identical_rows(sub, w)
            merged += n1 - sub.shape[0]
            changed = True
        if not changed:
            break
    notes = (
        f"reductions: merged {merged} identical demand rows, folded {folded} single-site rows into "
        f"site weights, dropped {dropped} dominated sites",
    )
    return ReducedCoverage(sub, w, priv, col_ids, notes)


def solve_max_coverage(
    coverage: sp.spmatrix | sp.sparray,
    weight: np.ndarray | Sequence[float],
    cost: np.ndarray | Sequence[float] | None = None,
    *,
    budget: float | None = None,
    max_new: int | None = None,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Open new sites to cover the most demand weight within a money budget and/or a count.

    Parameters
    ----------
    coverage
        Demand × sites sparse bool matrix.
    weight
        Demand weight per row (population, households), non-negative.
    cost
        Cost per site (yuan); ``None`` = 1 each. Only used with ``budget``.
    budget
        Money available for new sites.
    max_new
        Maximum number of new sites (``p`` of the classic MCLP).
    fixed_open
        Existing sites (bool mask or indices), fixed open, free.
    settings
        Solver settings.

    Returns
    -------
    SolveResult
        ``objective``: weight covered by the plan (existing and new sites). ``arrays``: ``new``,
        ``covered``, ``covered_before``, ``uncoverable`` (as in
        :func:`~planner.optimize.cover.solve_min_cost_cover`). ``extra``: ``greedy_objective``,
        ``weight_total``, ``cost_new``.
    """
    if budget is None and max_new is None:
        raise ValueError("solve_max_coverage needs a money budget, a maximum number of new sites, or both")
    if budget is not None and (not np.isfinite(budget) or budget < 0):
        raise ValueError(f"budget must be a finite number >= 0, got {budget}")
    if max_new is not None and max_new < 0:
        raise ValueError(f"max_new must be >= 0, got {max_new}")
    settings = settings or SolverSettings()
    check_backend(settings)
    t0 = time.perf_counter()
    A = as_bool_csr(coverage)
    m, n = A.shape
    w = vector(weight, m, name="weight")
    c = vector(cost, n, name="cost")
    fixed = site_mask(fixed_open, n)
    size_before = {"rows": m, "cols": n, "nnz": int(A.nnz)}
    covered_before = np.asarray(A @ fixed.astype(np.int32)).ravel() > 0
    uncoverable = np.diff(A.indptr) == 0
    cols = ~fixed
    if budget is not None:
        cols &= c <= budget
    rows = ~covered_before & ~uncoverable & (w > 0)
    const = float(w[covered_before].sum())
    notes = [f"{int(covered_before.sum())} demand rows (weight {const:g}) already covered by fixed sites"]
    if settings.reduce:
        red = reduce_max_coverage(A, w, c, rows, cols, use_cost=budget is not None)
        notes.extend(red.notes)
    else:
        col_ids = np.flatnonzero(cols)
        sub = sp.csr_matrix(A[np.flatnonzero(rows)][:, col_ids])
        red = ReducedCoverage(sub, w[rows], np.zeros(col_ids.size), col_ids, ())
    t_reduce = time.perf_counter() - t0
    R, rw, priv, cc = red.A, red.weight, red.private, c[red.cols]
    r, k = R.shape
    t1 = time.perf_counter()
    start = greedy_max_coverage(R, rw, cc, budget=budget, max_new=max_new, private=priv)
    if k and r:
        start = improve_max_coverage(R, rw, cc, start, budget=budget, max_new=max_new, private=priv)
    t_greedy = time.perf_counter() - t1
    y0 = np.asarray(R @ start.astype(np.int32)).ravel() > 0
    greedy_value = const + float(priv[start].sum() + rw[y0].sum())
    notes.append(f"greedy plan covers {greedy_value:g}")
    selected = fixed.copy()
    timings = {"reduce": t_reduce, "greedy": t_greedy}
    extra: dict[str, Any] = {}
    if k == 0 or max_new == 0:
        status, bound, gap, solver = "trivial", const, 0.0, "reductions"
    else:
        out = solve_max_coverage_reduced(
            R,
            rw,
            priv,
            cc,
            budget=budget,
            max_new=max_new,
            start=start,
            settings=settings,
            deadline=t0 + settings.time_limit_s,
        )
        selected[red.cols[out.plan]] = True
        status, bound, solver = out.status, const + out.bound, out.solver
        notes.extend(out.notes)
        timings.update(out.timings)
        extra.update(out.extra)
        if "lagrangian_bound" in extra:
            extra["lagrangian_bound"] += const
    new = selected & ~fixed
    covered = np.asarray(A @ selected.astype(np.int32)).ravel() > 0
    objective = float(w[covered].sum())
    bound = max(bound, objective)
    gap = relative_gap(objective, bound) if status != "trivial" else 0.0
    if status == "time_limit":
        notes.append(
            f"time limit {settings.time_limit_s:g} s reached: best plan returned, proven gap {gap:.4%}"
        )
    if budget is not None and c[new].sum() > budget * (1 + 1e-9) + 1e-6:
        raise SolverError(f"the plan costs {c[new].sum():g} > budget {budget:g}; this is a planner bug")
    if max_new is not None and new.sum() > max_new:
        raise SolverError(f"the plan opens {int(new.sum())} > {max_new} sites; this is a planner bug")
    seconds = time.perf_counter() - t0
    result = SolveResult(
        selected=selected,
        status=status,  # type: ignore[arg-type]
        objective=objective,
        bound=float(bound) if status != "trivial" else objective,
        mip_gap=float(gap),
        seconds=seconds,
        solver=solver,
        size_before=size_before,
        size_after={"rows": int(r), "cols": int(k), "nnz": int(R.nnz)},
        notes=tuple(notes),
        arrays={"new": new, "covered": covered, "covered_before": covered_before, "uncoverable": uncoverable},
        timings=timings,
        extra={
            "greedy_objective": greedy_value,
            "weight_total": float(w.sum()),
            "cost_new": float(c[new].sum()),
            **extra,
        },
    )
    log.info(
        "max coverage: %d new sites, covers %g of %g, %s (gap %.2g), %s -> %s in %.2f s",
        int(new.sum()),
        objective,
        float(w.sum()),
        status,
        gap,
        size_before,
        result.size_after,
        seconds,
    )
    return result
