"""Capacitated coverage: each site serves at most its capacity, demand assigned within standard.

Two models on the same structure (demand may be split between sites, as a population cell is):

* :func:`solve_capacitated_max_coverage`: open new sites within a count and/or money budget to
  serve the most demand;
* :func:`solve_capacitated_cover`: serve *all* coverable demand at least cost.

Variables: binary ``x_j`` per candidate (fixed sites are open), continuous ``y_ij`` in [0, 1] per
coverage pair (share of demand ``i`` served by site ``j``). Rows: ``sum_j y_ij <= 1`` (``= 1``
when covering), ``sum_i d_i y_ij <= cap_j x_j``, and the strong linking ``y_ij <= x_j`` (kept
while the instance has at most ``strong_link_max`` pairs; the model is exact without it, only its
LP bound is weaker).

Reduction: demand rows with identical coverage sets are merged, demand summed (exact: a merged
row's assignment splits back pro rata). Site dominance is *not* applied: two open sites add
their capacities, so a subset-coverage site is still useful.

Capacity ``NaN`` or ``inf`` means unlimited. Capacities and demand are in one unit (people,
households or parcels/day).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem, SolverError
from planner.optimize._common import preview, site_mask, vector
from planner.optimize.reduce import as_bool_csr, merge_identical_rows
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, solve_mip

log = logging.getLogger(__name__)


def _capacities(capacity: np.ndarray | Sequence[float], A: sp.csr_matrix, demand: np.ndarray) -> np.ndarray:
    cap = np.asarray(capacity, dtype=np.float64)
    n = A.shape[1]
    if cap.shape != (n,):
        raise ValueError(f"capacity has shape {cap.shape}, expected ({n},)")
    if np.any(cap < 0):
        raise ValueError(f"capacity must be >= 0; negative at sites {preview(np.flatnonzero(cap < 0))}")
    reach = np.asarray(A.T.astype(np.float64) @ demand).ravel()  # the most a site could ever serve
    unlimited = ~np.isfinite(cap)
    return np.where(unlimited, reach, np.minimum(cap, reach))


def _build(
    R: sp.csr_matrix,
    d: np.ndarray,
    cap: np.ndarray,
    free: np.ndarray,
    *,
    cover: bool,
    cost: np.ndarray,
    budget: float | None,
    max_new: int | None,
    strong: bool,
) -> tuple[MipModel, np.ndarray]:
    """Columns: ``x`` for the free sites (``free`` original ids), then one ``y`` per nonzero of R."""
    r, n = R.shape
    k = free.size
    pos = np.full(n, -1, dtype=np.int64)
    pos[free] = np.arange(k)
    e = R.nnz
    rows_of_e = np.repeat(np.arange(r), np.diff(R.indptr))
    site_of_e = R.indices.astype(np.int64)
    ycol = k + np.arange(e)
    blocks = []
    lo: list[np.ndarray] = []
    up: list[np.ndarray] = []
    # demand rows: sum_j y_ij (<= or =) 1
    blocks.append(sp.csr_matrix((np.ones(e), (rows_of_e, ycol)), shape=(r, k + e)))
    lo.append(np.ones(r) if cover else np.full(r, -np.inf))
    up.append(np.ones(r))
    # capacity rows: sum_i d_i y_ij - cap_j x_j <= 0 (fixed sites: <= cap_j)
    is_free = pos >= 0
    cap_rows = sp.csr_matrix((d[rows_of_e], (site_of_e, ycol)), shape=(n, k + e)) + sp.csr_matrix(
        (-cap[free], (free, pos[free])), shape=(n, k + e)
    )
    blocks.append(cap_rows)
    lo.append(np.full(n, -np.inf))
    up.append(np.where(is_free, 0.0, cap))
    if strong:
        fe = np.flatnonzero(pos[site_of_e] >= 0)
        link = sp.csr_matrix(
            (
                np.concatenate([np.ones(fe.size), -np.ones(fe.size)]),
                (np.concatenate([np.arange(fe.size)] * 2), np.concatenate([ycol[fe], pos[site_of_e[fe]]])),
            ),
            shape=(fe.size, k + e),
        )
        blocks.append(link)
        lo.append(np.full(fe.size, -np.inf))
        up.append(np.zeros(fe.size))
    if budget is not None:
        blocks.append(sp.csr_matrix(np.concatenate([cost[free], np.zeros(e)])[None, :]))
        lo.append(np.array([-np.inf]))
        up.append(np.array([float(budget)]))
    if max_new is not None:
        blocks.append(sp.csr_matrix(np.concatenate([np.ones(k), np.zeros(e)])[None, :]))
        lo.append(np.array([-np.inf]))
        up.append(np.array([float(max_new)]))
    M = sp.vstack(blocks, format="csr")
    if cover:
        obj = np.concatenate([cost[free], np.zeros(e)])
        sense = "min"
    else:
        obj = np.concatenate([np.zeros(k), d[rows_of_e]])
        sense = "max"
    model = MipModel(
        cost=obj,
        A=M,
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(up),
        col_lower=np.zeros(k + e),
        col_upper=np.ones(k + e),
        integer=np.concatenate([np.ones(k, dtype=bool), np.zeros(e, dtype=bool)]),
        sense=sense,
    )
    return model, rows_of_e


def _solve(
    coverage: sp.spmatrix | sp.sparray,
    demand: np.ndarray | Sequence[float],
    capacity: np.ndarray | Sequence[float],
    cost: np.ndarray | Sequence[float] | None,
    *,
    cover: bool,
    budget: float | None,
    max_new: int | None,
    fixed_open: np.ndarray | Sequence[int] | None,
    settings: SolverSettings,
    strong_link_max: int,
) -> SolveResult:
    t0 = time.perf_counter()
    A = as_bool_csr(coverage)
    m, n = A.shape
    d = vector(demand, m, name="demand")
    c = vector(cost, n, name="cost")
    fixed = site_mask(fixed_open, n)
    cap = _capacities(capacity, A, d)
    uncoverable = np.diff(A.indptr) == 0
    rows = np.flatnonzero(~uncoverable & (d > 0))
    sub = sp.csr_matrix(A[rows])
    if settings.reduce:
        R, rd, row_map = merge_identical_rows(sub, d[rows])
    else:
        R, rd, row_map = sub, d[rows], np.arange(rows.size)
    free = np.flatnonzero(~fixed)
    if budget is not None:
        free = free[c[free] <= budget]
    strong = R.nnz <= strong_link_max
    model, _ = _build(R, rd, cap, free, cover=cover, cost=c, budget=budget, max_new=max_new, strong=strong)
    notes = [
        f"merged {rows.size - R.shape[0]} identical demand rows; "
        + (
            "strong linking rows y <= x"
            if strong
            else f"no strong linking ({R.nnz} pairs > {strong_link_max})"
        ),
        f"{int(uncoverable.sum())} demand rows no site covers",
    ]
    try:
        sol = solve_mip(model, settings=settings)
    except InfeasibleError:
        raise _explain(A, d, cap, fixed, uncoverable) from None
    k = free.size
    selected = fixed.copy()
    selected[free[sol.x[:k] > 0.5]] = True
    y = np.clip(sol.x[k:], 0.0, 1.0)
    y[~selected[R.indices]] = 0.0  # numerical dust on closed sites
    # back to original rows: a merged row's share applies to each of its members
    Y = sp.csr_matrix((y, R.indices, R.indptr), shape=R.shape)
    per_row = sp.csr_matrix(Y[row_map])
    assignment = sp.csr_matrix((per_row.data, per_row.indices, per_row.indptr), shape=(rows.size, n))
    full = _scatter_rows(assignment, rows, m)
    served_share = np.asarray(full.sum(axis=1)).ravel()
    load = np.asarray(full.T @ d).ravel()
    if np.any(load > cap * (1 + 1e-6) + 1e-6):
        raise SolverError("a site serves more than its capacity in the solver's plan; this is a planner bug")
    served = float(served_share @ d)
    new = selected & ~fixed
    objective = float(c[new].sum()) if cover else served
    if sol.status == "time_limit":
        notes.append(
            f"time limit {settings.time_limit_s:g} s reached: best plan returned, gap {sol.mip_gap:.4%}"
        )
    return SolveResult(
        selected=selected,
        status=sol.status,
        objective=objective,
        bound=float(sol.bound),
        mip_gap=float(sol.mip_gap),
        seconds=time.perf_counter() - t0,
        solver=sol.solver,
        size_before={"rows": m, "cols": n, "nnz": int(A.nnz)},
        size_after=model.size,
        notes=tuple(notes),
        arrays={
            "new": new,
            "served_share": served_share,
            "load": load,
            "capacity": cap,
            "uncoverable": uncoverable,
        },
        timings={"build": sol.build_seconds, "solve": sol.seconds},
        extra={"assignment": full, "demand_served": served, "demand_total": float(d.sum())},
    )


def _scatter_rows(B: sp.csr_matrix, rows: np.ndarray, m: int) -> sp.csr_matrix:
    """Place the rows of ``B`` at positions ``rows`` of an ``m``-row matrix (others empty)."""
    counts = np.zeros(m, dtype=np.int64)
    counts[rows] = np.diff(B.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((B.data, B.indices, indptr), shape=(m, B.shape[1]))


def _explain(
    A: sp.csr_matrix, d: np.ndarray, cap: np.ndarray, fixed: np.ndarray, uncoverable: np.ndarray
) -> InfeasibleError:
    """Why full capacitated cover is impossible: the most all sites together can serve, per shortfall."""
    rows = np.flatnonzero(~uncoverable & (d > 0))
    R = sp.csr_matrix(A[rows])
    model, rows_of_e = _build(
        R,
        d[rows],
        cap,
        np.zeros(0, dtype=np.int64),
        cover=False,
        cost=np.zeros(A.shape[1]),
        budget=None,
        max_new=None,
        strong=False,
    )
    sol = solve_mip(model, settings=SolverSettings(time_limit_s=60))
    share = np.bincount(rows_of_e, weights=sol.x, minlength=rows.size)
    short_rows = rows[share < 1 - 1e-6]
    total = float(d[rows].sum())
    load = np.bincount(R.indices, weights=sol.x * d[rows][rows_of_e], minlength=A.shape[1])
    full_sites = np.flatnonzero((load >= cap - 1e-6) & (cap > 0))
    return InfeasibleError(
        "capacitated cover is infeasible: the sites cannot serve all coverable demand",
        [
            Problem(
                f"with every candidate open the sites serve at most {sol.objective:,.1f} of {total:,.1f} "
                f"demand (short by {total - sol.objective:,.1f}); demand rows left short, "
                f"e.g. {preview(short_rows)}; "
                f"sites at capacity, e.g. {preview(full_sites)}",
                location="capacity",
                fix="add candidates near those demand rows or raise the capacities",
            )
        ],
    )


def solve_capacitated_max_coverage(
    coverage: sp.spmatrix | sp.sparray,
    demand: np.ndarray | Sequence[float],
    capacity: np.ndarray | Sequence[float],
    cost: np.ndarray | Sequence[float] | None = None,
    *,
    budget: float | None = None,
    max_new: int | None = None,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
    strong_link_max: int = 200_000,
) -> SolveResult:
    """Open new sites (count and/or budget) to serve the most demand within the sites' capacities.

    Parameters
    ----------
    coverage
        Demand × sites sparse bool matrix (site within standard of the demand).
    demand
        Demand per row (people, households or parcels/day).
    capacity
        Capacity per site in the same unit; ``NaN``/``inf`` = unlimited.
    cost
        Cost per site (with ``budget``).
    budget, max_new
        Money budget and/or maximum number of new sites (at least one is required).
    fixed_open
        Existing sites (bool mask or indices), open with their capacity.
    settings
        Solver settings.
    strong_link_max
        Add the ``y_ij <= x_j`` rows while the coverage has at most this many pairs.

    Returns
    -------
    SolveResult
        ``objective``: demand served. ``arrays``: ``new``, ``served_share`` (per demand row, 0..1),
        ``load`` (per site), ``capacity`` (effective), ``uncoverable``. ``extra["assignment"]``:
        demand × sites CSR of served shares.
    """
    if budget is None and max_new is None:
        raise ValueError("solve_capacitated_max_coverage needs a money budget, a maximum count, or both")
    return _solve(
        coverage,
        demand,
        capacity,
        cost,
        cover=False,
        budget=budget,
        max_new=max_new,
        fixed_open=fixed_open,
        settings=settings or SolverSettings(),
        strong_link_max=strong_link_max,
    )


def solve_capacitated_cover(
    coverage: sp.spmatrix | sp.sparray,
    demand: np.ndarray | Sequence[float],
    capacity: np.ndarray | Sequence[float],
    cost: np.ndarray | Sequence[float] | None = None,
    *,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
    strong_link_max: int = 200_000,
) -> SolveResult:
    """Serve every coverable demand row in full at least cost, within the sites' capacities.

    Parameters are those of :func:`solve_capacitated_max_coverage` without the limits.

    Returns
    -------
    SolveResult
        ``objective``: cost of the new sites; arrays as in :func:`solve_capacitated_max_coverage`.

    Raises
    ------
    InfeasibleError
        Even with every candidate open the capacities fall short; the message gives the most that
        can be served, the shortfall and example demand rows and saturated sites.
    """
    return _solve(
        coverage,
        demand,
        capacity,
        cost,
        cover=True,
        budget=None,
        max_new=None,
        fixed_open=fixed_open,
        settings=settings or SolverSettings(),
        strong_link_max=strong_link_max,
    )
