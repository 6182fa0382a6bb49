"""Solve a reduced MCLP or LSCP: Lagrangian bound and heuristics, reduced-cost fixing, then the MIP.

Both model families reduce their instance exactly first (:mod:`planner.optimize.mclp`,
:mod:`planner.optimize.cover`) and start from a greedy plan. Then, with
``SolverSettings.lagrangian`` (the default):

1. a bound: MCLP optimises its Lagrangian dual by subgradient
   (:func:`planner.optimize.lagrange.mclp_lagrangian`, at most half the time left); LSCP solves
   its LP relaxation by HiGHS's interior point (:mod:`planner.optimize.lp`) and evaluates the
   Lagrangian function at the LP duals (:func:`~planner.optimize.lagrange.cover_lagrangian`;
   subgradient if the LP gives no duals). Either value is a proven bound as strong as the LP
   relaxation's, found at a fraction of the cost of HiGHS's own root LP on county-scale
   instances (measured in ``benchmarks/mclp_large.py``); heuristic plans built from the
   multipliers (swap-improved for MCLP, LP rounding and Beasley's completion for LSCP) may
   improve the incumbent;
2. if the bound already proves the incumbent within ``mip_gap`` the run stops;
3. otherwise sites are fixed by reduced cost (closed or opened in every better plan), the rows
   decided by the opened sites leave the model, and the solver gets the rest with the time left
   and the incumbent as its start, unless that model is too big for the solver to set up in the
   time left (:data:`SETUP_S_PER_NNZ`): then the bound and the best plan stand;
4. the final bound is the better of the Lagrangian bound and
   ``max(incumbent, best plan violating a fixing, solver's bound on the fixed model)``.

Reduced-cost fixing needs the gap below the value of one site: on the 400k-node uniform county
(gap 0.33 % after the bound) it closes 5,746 of 7,877 sites and HiGHS then proves 0.007 % in
seconds; on the clustered county (gap ~0.8 %, one site worth ~0.17 %) it fixes nothing.

With ``lagrangian=False`` the reduced model goes to the solver as one MIP (the plain path).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.optimize.greedy import greedy_cover
from planner.optimize.lagrange import LagrangeResult, cover_lagrangian, mclp_lagrangian, must_reach
from planner.optimize.lp import solve_lp_relaxation
from planner.optimize.reduce import merge_identical_rows
from planner.optimize.result import SolverSettings, Status, relative_gap
from planner.optimize.solver import MipModel, solve_mip

LAGRANGE_SHARE = 0.5
"""Share of the time left that the subgradient run may use."""

POLISH_SHARE = 0.75
"""The swap improvement of the Lagrangian plans stops at this share of the time left."""

SETUP_S_PER_NNZ = 20e-6
"""Seconds HiGHS needs per nonzero before it honours its time limit (presolve, clique table,
symmetry detection). Measured on the 400k-node county's 2.6M-nonzero MCLP model on the 2 shared
cores: a 10 s limit returned after 14 s, a 15 s limit after 44 s. The solver is skipped when the
time left is shorter than this estimate (the Lagrangian bound and plan stand), so a run keeps to
its time limit."""

MIN_SOLVER_S = 1.0
"""The solver always gets at least this many seconds (the total may overrun the limit by that)."""


@dataclass(frozen=True)
class ReducedSolve:
    """The plan for a reduced instance (columns of the reduced model), with its proof.

    ``value`` and ``bound`` are in the reduced model's units (no constant of fixed sites added).
    """

    plan: np.ndarray
    value: float
    bound: float
    status: Status
    solver: str
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _status(gap: float, settings: SolverSettings, *, timed_out: bool) -> Status:
    if timed_out and gap > max(settings.mip_gap, 1e-9):
        return "time_limit"
    return "optimal" if gap <= 1e-6 else "gap_limit"


def _remaining(deadline: float) -> float:
    return max(deadline - time.perf_counter(), MIN_SOLVER_S)


def _solver_fits(model: MipModel, deadline: float) -> bool:
    """Whether the solver can set ``model`` up within the time left (:data:`SETUP_S_PER_NNZ`)."""
    return deadline - time.perf_counter() >= max(SETUP_S_PER_NNZ * model.A.nnz, MIN_SOLVER_S)


def _skipped(done: ReducedSolve, model: MipModel, deadline: float) -> ReducedSolve:
    left = max(deadline - time.perf_counter(), 0.0)
    note = (
        f"solver skipped: the fixed model ({model.A.nnz:,} nonzeros) needs about "
        f"{SETUP_S_PER_NNZ * model.A.nnz:.0f} s to set up, {left:.0f} s left; the Lagrangian bound stands"
    )
    # only reached when the bound does not close the gap: the run stops for lack of time
    return replace(
        done, notes=(*done.notes, note), status="time_limit", extra={**done.extra, "size_mip": model.size}
    )


# ---------------------------------------------------------------------------------------------
# Max coverage
# ---------------------------------------------------------------------------------------------


def max_coverage_model(
    R: sp.csr_matrix,
    weight: np.ndarray,
    private: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float | None,
    max_new: int | None,
    start: np.ndarray | None,
    offset: float = 0.0,
) -> MipModel:
    """The MCLP MIP: binary ``x`` (sites), continuous ``y <= 1`` (rows), ``y_i <= sum_j a_ij x_j``."""
    r, k = R.shape
    top = sp.hstack([-sp.csr_matrix(R, dtype=np.float64), sp.identity(r, format="csr")], format="csr")
    extra_rows = []
    upper = [np.zeros(r)]
    if budget is not None:
        extra_rows.append(sp.csr_matrix(np.concatenate([cost, np.zeros(r)])[None, :]))
        upper.append(np.array([float(budget)]))
    if max_new is not None:
        extra_rows.append(sp.csr_matrix(np.concatenate([np.ones(k), np.zeros(r)])[None, :]))
        upper.append(np.array([float(max_new)]))
    M = sp.vstack([top, *extra_rows], format="csr")
    x0 = None
    if start is not None:
        y0 = (np.asarray(R @ start.astype(np.float64)).ravel() > 0).astype(np.float64)
        x0 = np.concatenate([start.astype(np.float64), y0])
    return MipModel(
        cost=np.concatenate([private, weight]),
        A=M,
        row_lower=np.full(M.shape[0], -np.inf),
        row_upper=np.concatenate(upper),
        col_lower=np.zeros(k + r),
        col_upper=np.ones(k + r),
        integer=np.concatenate([np.ones(k, dtype=bool), np.zeros(r, dtype=bool)]),
        sense="max",
        offset=offset,
        start=x0,
    )


@dataclass(frozen=True)
class _Restricted:
    """An MCLP instance with some sites closed and some opened (``free`` columns remain)."""

    R: sp.csr_matrix
    weight: np.ndarray
    private: np.ndarray
    free: np.ndarray
    const: float


def _restrict_max_coverage(
    R: sp.csr_matrix, weight: np.ndarray, private: np.ndarray, free: np.ndarray, opened: np.ndarray
) -> _Restricted:
    """Drop closed sites, take the rows of opened sites as covered, merge rows, fold single-site rows."""
    csc = sp.csc_matrix(R)
    hit = np.asarray(csc[:, np.flatnonzero(opened)].sum(axis=1)).ravel() > 0
    const = float(private[opened].sum() + weight[hit].sum())
    free_ids = np.flatnonzero(free)
    sub = sp.csr_matrix(R[np.flatnonzero(~hit)][:, free_ids])
    w = weight[~hit]
    size = np.diff(sub.indptr)
    keep = (size > 0) & (w > 0)
    sub, w = sp.csr_matrix(sub[keep]), w[keep]
    sub, w, _ = merge_identical_rows(sub, w)
    priv = private[free_ids].copy()
    single = np.diff(sub.indptr) == 1
    if single.any():
        priv += np.bincount(sub.indices[sub.indptr[:-1][single]], weights=w[single], minlength=free_ids.size)
        sub, w = sp.csr_matrix(sub[~single]), w[~single]
    return _Restricted(sub, w, priv, free_ids, const)


def solve_max_coverage_reduced(
    R: sp.csr_matrix,
    weight: np.ndarray,
    private: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float | None,
    max_new: int | None,
    start: np.ndarray,
    settings: SolverSettings,
    deadline: float,
) -> ReducedSolve:
    """Best plan and proven upper bound for a reduced MCLP instance (module docstring)."""
    if not settings.lagrangian:
        model = max_coverage_model(R, weight, private, cost, budget=budget, max_new=max_new, start=start)
        sol = solve_mip(model, settings=settings)
        timings = {"build": sol.build_seconds, "solve": sol.seconds}
        return ReducedSolve(
            sol.x[: R.shape[1]] > 0.5, sol.objective, sol.bound, sol.status, sol.solver, timings=timings
        )
    t0 = time.perf_counter()
    left = max(deadline - t0, 0.0)
    # the solver could not use the last quarter on a model this big: the subgradient and the
    # heuristics get its time
    big = SETUP_S_PER_NNZ * (R.nnz + 2 * R.shape[0]) > (1 - POLISH_SHARE) * left
    lag = mclp_lagrangian(
        R,
        weight,
        private,
        cost,
        p=max_new,
        budget=budget,
        start=start,
        deadline=t0 + (POLISH_SHARE if big else LAGRANGE_SHARE) * left,
        polish_deadline=t0 + (1.0 if big else POLISH_SHARE) * left,
        gap=settings.mip_gap,
    )
    done = _lagrangian_report(lag, time.perf_counter() - t0, settings, "plan")
    if lag.bound < must_reach(
        lag.plan_value, maximize=True, integral=_integral(weight, private), gap=settings.mip_gap
    ):
        return done
    opened, free = lag.fix_in, ~lag.fix_in & ~lag.fix_out
    if (max_new is not None and opened.sum() > max_new) or (
        budget is not None and cost[opened].sum() > budget * (1 + 1e-12) + 1e-9
    ):  # no plan can hold every site that a better plan needs: the incumbent is proven
        return _with_bound(done, min(lag.bound, max(lag.plan_value, lag.fixed_bound)), settings)
    sub = _restrict_max_coverage(R, weight, private, free, opened)
    p2 = None if max_new is None else int(max_new - opened.sum())
    b2 = None if budget is None else float(budget - cost[opened].sum())
    c2 = cost[sub.free]
    start2 = lag.plan[sub.free]
    if (
        np.any(opened & ~lag.plan)
        or (p2 is not None and start2.sum() > p2)
        or (b2 is not None and c2[start2].sum() > b2 + 1e-9)
    ):
        start2 = np.zeros(sub.free.size, dtype=bool)
    model = max_coverage_model(
        sub.R, sub.weight, sub.private, c2, budget=b2, max_new=p2, start=start2, offset=sub.const
    )
    if not _solver_fits(model, deadline):
        return _skipped(done, model, deadline)
    sol = solve_mip(model, settings=replace(settings, time_limit_s=_remaining(deadline)))
    plan, value = lag.plan, lag.plan_value
    if sol.objective > value:
        plan = opened.copy()
        plan[sub.free[sol.x[: sub.free.size] > 0.5]] = True
        value = sol.objective
    bound = min(lag.bound, max(value, lag.fixed_bound, sol.bound))
    gap = relative_gap(value, bound)
    return replace(
        done,
        plan=plan,
        value=value,
        bound=bound,
        status=_status(gap, settings, timed_out=sol.status == "time_limit"),
        solver=sol.solver,
        timings={**done.timings, "build": sol.build_seconds, "solve": sol.seconds},
        extra={**done.extra, "size_mip": model.size},
    )


def _lagrangian_report(
    lag: LagrangeResult, seconds: float, settings: SolverSettings, what: str
) -> ReducedSolve:
    """The result of the Lagrangian phase alone, with its notes and figures."""
    notes = [
        f"Lagrangian bound {lag.bound:.10g} after {lag.iterations} subgradient iterations "
        f"({lag.seconds:.2f} s, {lag.stopped}); best heuristic {what} {lag.plan_value:.10g}"
        + "".join(f"; {name} plan after swaps {v:.10g}" for name, v in lag.heuristics),
        f"reduced-cost fixing: {int(lag.fix_out.sum())} sites closed, {int(lag.fix_in.sum())} opened",
    ]
    extra: dict[str, Any] = {
        "lagrangian_bound": lag.bound,
        "lagrangian_iterations": lag.iterations,
        "fixed_closed": int(lag.fix_out.sum()),
        "fixed_open": int(lag.fix_in.sum()),
    }
    status = _status(relative_gap(lag.plan_value, lag.bound), settings, timed_out=False)
    return ReducedSolve(
        lag.plan,
        lag.plan_value,
        lag.bound,
        status,
        "lagrangian",
        tuple(notes),
        {"lagrangian": seconds},
        extra,
    )


def _with_bound(done: ReducedSolve, bound: float, settings: SolverSettings) -> ReducedSolve:
    gap = relative_gap(done.value, bound)
    return replace(done, bound=bound, status=_status(gap, settings, timed_out=False))


def _integral(*arrays: np.ndarray) -> bool:
    return all(bool(np.all(a == np.round(a))) for a in arrays)


# ---------------------------------------------------------------------------------------------
# Set cover
# ---------------------------------------------------------------------------------------------


def cover_model(R: sp.csr_matrix, cost: np.ndarray, *, start: np.ndarray | None) -> MipModel:
    """The set-cover MIP: binary ``x``, ``A x >= 1``, minimise ``cost @ x``."""
    r, k = R.shape
    return MipModel(
        cost=np.asarray(cost, dtype=np.float64),
        A=sp.csr_matrix(R, dtype=np.float64),
        row_lower=np.ones(r),
        row_upper=np.full(r, np.inf),
        col_lower=np.zeros(k),
        col_upper=np.ones(k),
        integer=np.ones(k, dtype=bool),
        start=None if start is None else start.astype(np.float64),
    )


def solve_cover_reduced(
    R: sp.csr_matrix,
    cost: np.ndarray,
    *,
    start: np.ndarray,
    settings: SolverSettings,
    deadline: float,
) -> ReducedSolve:
    """Cheapest cover and proven lower bound for a reduced set-cover instance (module docstring)."""
    if not settings.lagrangian:
        sol = solve_mip(cover_model(R, cost, start=start), settings=settings)
        timings = {"build": sol.build_seconds, "solve": sol.seconds}
        return ReducedSolve(sol.x > 0.5, sol.objective, sol.bound, sol.status, sol.solver, timings=timings)
    t0 = time.perf_counter()
    lag_deadline = t0 + LAGRANGE_SHARE * max(deadline - t0, 0.0)
    lp = solve_lp_relaxation(
        cover_model(R, cost, start=None), time_limit_s=lag_deadline - t0, threads=settings.threads
    )
    t_lp = time.perf_counter() - t0
    lag = cover_lagrangian(
        R,
        cost,
        start=start,
        deadline=lag_deadline,
        gap=settings.mip_gap,
        lam0=None if lp is None else lp.row_dual,
        x_lp=None if lp is None else lp.x,
        max_iter=0 if lp is not None and lp.optimal else 5000,
    )
    done = _lagrangian_report(lag, time.perf_counter() - t0, settings, "cover")
    lp_note = (
        "no LP duals" if lp is None else f"LP relaxation {lp.objective:.10g} ({t_lp:.2f} s, interior point)"
    )
    done = replace(done, notes=(lp_note, *done.notes))
    if lag.bound > must_reach(lag.plan_value, maximize=False, integral=_integral(cost), gap=settings.mip_gap):
        return done
    opened, free = lag.fix_in, ~lag.fix_in & ~lag.fix_out
    csr = sp.csr_matrix(R)
    hit = np.asarray(csr[:, np.flatnonzero(opened)].sum(axis=1)).ravel() > 0
    free_ids = np.flatnonzero(free)
    sub = sp.csr_matrix(csr[np.flatnonzero(~hit)][:, free_ids])
    if np.any(np.diff(sub.indptr) == 0):  # a row no allowed site covers: no better cover exists
        return _with_bound(done, max(lag.bound, min(lag.plan_value, lag.fixed_bound)), settings)
    sub, _, _ = merge_identical_rows(sub, np.ones(sub.shape[0]))
    c2 = cost[free_ids]
    # HiGHS starts from the greedy cover, not the Lagrangian heuristic's (kept as our incumbent):
    # measured at 60 s it then ends with better covers (912 vs 915, 842 vs 844, 137 vs 138 sites)
    start2 = start[free_ids]
    if np.any(opened & ~start) or np.any(np.asarray(sub @ start2.astype(np.float64)).ravel() < 0.5):
        start2 = greedy_cover(sub, c2)
    model = replace(cover_model(sub, c2, start=start2), offset=float(cost[opened].sum()))
    if not _solver_fits(model, deadline):
        return _skipped(done, model, deadline)
    sol = solve_mip(model, settings=replace(settings, time_limit_s=_remaining(deadline)))
    plan, value = lag.plan, lag.plan_value
    if sol.objective < value:
        plan = opened.copy()
        plan[free_ids[sol.x > 0.5]] = True
        value = sol.objective
    bound = max(lag.bound, min(value, lag.fixed_bound, sol.bound))
    gap = relative_gap(value, bound)
    return replace(
        done,
        plan=plan,
        value=value,
        bound=bound,
        status=_status(gap, settings, timed_out=sol.status == "time_limit"),
        solver=sol.solver,
        timings={**done.timings, "build": sol.build_seconds, "solve": sol.seconds},
        extra={**done.extra, "size_mip": model.size},
    )
