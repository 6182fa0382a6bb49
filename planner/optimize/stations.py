"""Village stations (村级寄递物流综合服务站) at least cost, optionally phased by year.

``share[i, j]`` says candidate station ``j`` can serve village ``i`` within the profile's sharing
rule (V-SHARE: its own village, or a neighbour within the set distance/time). A village that
already has a station (own or shared) needs nothing.

Without phases: every village that some candidate can serve gets one, at least cost (a set cover,
solved by :func:`~planner.optimize.cover.solve_min_cost_cover` with all its reductions); villages
no candidate can serve are reported in ``arrays["unservable"]``.

With phases (V-STATION, e.g. ≥85 % of villages by 2024, 100 % by 2025) and yearly budgets: choose
which station opens in which year so that by the end of each phase year at least
``ceil(target_share × villages)`` villages are served, the money spent in each year fits its budget
(with ``carry_over`` unspent money rolls forward), at least total cost. Model: binary ``o[j, t]``
(station ``j`` open by the end of phase ``t``, monotone in ``t``), continuous ``z[g, t] <= 1``
(village group ``g`` served by then) with ``z[g, t] <= sum_j share[g, j] o[j, t]``.

Reductions (phased model): villages with identical candidate sets are merged (counts summed);
a station is dropped when another serves a superset of its villages at no more cost (swap it in the
same year: coverage no less, spend no more). Infeasible phasing is explained per year: how many
villages no candidate can serve, and the least cost of each year's target against the money
available by then.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem
from planner.optimize._common import preview, vector
from planner.optimize.cover import solve_min_cost_cover
from planner.optimize.reduce import as_bool_csr, dominated_columns, merge_identical_rows
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, solve_mip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """One phase year: the share of villages with a station by its end, and its budget.

    Parameters
    ----------
    year
        Calendar year (the target holds at its end).
    target_share
        Share of *all* villages (0..1) that must be served by then (existing stations count).
    budget
        Money for new stations in this year; ``None`` means no limit.
    """

    year: int
    target_share: float
    budget: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.target_share <= 1.0:
            raise ValueError(f"phase {self.year}: target_share must be in [0, 1], got {self.target_share}")
        if self.budget is not None and (not math.isfinite(self.budget) or self.budget < 0):
            raise ValueError(f"phase {self.year}: budget must be finite and >= 0, got {self.budget}")


def solve_village_stations(
    share: sp.spmatrix | sp.sparray,
    cost: np.ndarray | Sequence[float] | None = None,
    *,
    has_station: np.ndarray | None = None,
    phases: Sequence[Phase] | None = None,
    carry_over: bool = True,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Place village stations at least cost, optionally phased by year under yearly budgets.

    Parameters
    ----------
    share
        Villages × candidate stations sparse bool: the candidate can serve the village.
    cost
        Cost per candidate (yuan); ``None`` = 1 each.
    has_station
        Bool per village: already served by an existing station.
    phases
        Yearly targets and budgets (any order; sorted by year). ``None``: serve every servable
        village at least cost.
    carry_over
        With phases: unspent budget of a year may be spent later.
    settings
        Solver settings.

    Returns
    -------
    SolveResult
        ``objective``: cost of the new stations. ``arrays``: ``new`` (bool per candidate),
        ``open_year`` (int per candidate, -1 = not opened; without phases 0 for opened),
        ``served`` (bool per village at the end), ``served_before``, ``unservable`` (no existing
        station and no candidate). ``extra["by_year"]``: per phase year the villages served, the
        share, the spend and the budget.

    Raises
    ------
    InfeasibleError
        A phase target cannot be met: too many villages no candidate can serve, or a budget short
        (the message gives the year, the least cost and the money available).
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    A = as_bool_csr(share, name="share")
    m, n = A.shape
    c = vector(cost, n, name="cost")
    before = np.zeros(m, dtype=bool) if has_station is None else np.asarray(has_station, dtype=bool)
    if before.shape != (m,):
        raise ValueError(f"has_station has shape {before.shape}, expected ({m},) (one per village)")
    unservable = ~before & (np.diff(A.indptr) == 0)
    if not phases:
        need = sp.csr_matrix(A.multiply(~before[:, None]))
        res = solve_min_cost_cover(need, c, settings=settings)
        served = before | res.arrays["covered"]
        open_year = np.where(res.arrays["new"], 0, -1)
        arrays = {
            "new": res.arrays["new"],
            "open_year": open_year,
            "served": served,
            "served_before": before,
            "unservable": unservable,
        }
        notes = (*res.notes, f"{int(unservable.sum())} villages no candidate can serve")
        return SolveResult(
            res.selected,
            res.status,
            res.objective,
            res.bound,
            res.mip_gap,
            time.perf_counter() - t0,
            res.solver,
            res.size_before,
            res.size_after,
            notes,
            arrays,
            res.timings,
            {"by_year": []},
        )
    return _solve_phased(
        A, c, before, unservable, sorted(phases, key=lambda p: p.year), carry_over, settings, t0
    )


def _targets(phases: Sequence[Phase], m: int) -> np.ndarray:
    return np.array([math.ceil(p.target_share * m - 1e-9) for p in phases], dtype=np.int64)


def _solve_phased(
    A: sp.csr_matrix,
    c: np.ndarray,
    before: np.ndarray,
    unservable: np.ndarray,
    phases: list[Phase],
    carry_over: bool,
    settings: SolverSettings,
    t0: float,
) -> SolveResult:
    m, n = A.shape
    years = [p.year for p in phases]
    if len(set(years)) != len(years):
        raise ValueError(f"phase years must be distinct, got {years}")
    T = len(phases)
    have = int(before.sum())
    targets = _targets(phases, m)
    need = np.maximum(targets - have, 0)
    servable = ~before & ~unservable
    _check_targets(phases, targets, m, have, servable, unservable)
    rows = np.flatnonzero(servable)
    sub = sp.csr_matrix(A[rows])
    budgets = [p.budget for p in phases]
    size_before = _phased_model(sub, np.ones(rows.size), c, need, budgets, carry_over).size
    R, w, cols = sub, np.ones(rows.size), np.arange(n)
    notes = [f"{have} of {m} villages already served; {int(unservable.sum())} no candidate can serve"]
    if settings.reduce:
        R, w, _ = merge_identical_rows(sub, w)
        dom = dominated_columns(R, c)
        cols = cols[~dom]
        R = sp.csr_matrix(R[:, ~dom])
        notes.append(
            f"reductions: merged {rows.size - R.shape[0]} villages with identical candidate sets, "
            f"dropped {int(dom.sum())} dominated candidates"
        )
    t_reduce = time.perf_counter() - t0
    model = _phased_model(R, w, c[cols], need, budgets, carry_over)
    try:
        sol = solve_mip(model, settings=settings)
    except InfeasibleError:
        raise _explain_budget(R, w, c[cols], need, phases, carry_over, settings) from None
    k = cols.size
    o = sol.x[: k * T].reshape(T, k) > 0.5
    open_year = np.full(n, -1, dtype=np.int64)
    first = np.argmax(o, axis=0)
    opened = o.any(axis=0)
    open_year[cols[opened]] = np.asarray(years)[first[opened]]
    new = open_year >= 0
    by_year, served = _by_year(A, c, before, phases, targets, open_year)
    if sol.status == "time_limit":
        notes.append(
            f"time limit {settings.time_limit_s:g} s reached: best plan returned, gap {sol.mip_gap:.4%}"
        )
    objective = float(c[new].sum())
    arrays = {
        "new": new,
        "open_year": open_year,
        "served": served,
        "served_before": before,
        "unservable": unservable,
    }
    return SolveResult(
        selected=new,
        status=sol.status,
        objective=objective,
        bound=float(sol.bound),
        mip_gap=float(sol.mip_gap),
        seconds=time.perf_counter() - t0,
        solver=sol.solver,
        size_before=size_before,
        size_after=model.size,
        notes=tuple(notes),
        arrays=arrays,
        timings={"reduce": t_reduce, "build": sol.build_seconds, "solve": sol.seconds},
        extra={"by_year": by_year},
    )


def _check_targets(
    phases: list[Phase],
    targets: np.ndarray,
    m: int,
    have: int,
    servable: np.ndarray,
    unservable: np.ndarray,
) -> None:
    """Every phase whose target exceeds what the candidates can reach, in one error."""
    max_reach = have + int(servable.sum())
    problems: list[Problem] = []
    for p, k in zip(phases, targets, strict=True):
        if k > max_reach:
            problems.append(
                Problem(
                    f"{p.year}: the target {p.target_share:.0%} needs {k} of {m} villages served, "
                    "but at most "
                    f"{max_reach} can be ({have} already, {int(servable.sum())} reachable by a candidate); "
                    f"{int(unservable.sum())} villages have no candidate within the sharing rule: "
                    f"{preview(np.flatnonzero(unservable))}",
                    location=f"phases[{p.year}]",
                    fix="add candidate stations near those villages or relax the sharing rule",
                )
            )
    if problems:
        raise InfeasibleError("the village-station phasing cannot meet its targets", problems)


def _by_year(
    A: sp.csr_matrix,
    c: np.ndarray,
    before: np.ndarray,
    phases: list[Phase],
    targets: np.ndarray,
    open_year: np.ndarray,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Per phase: villages served, share, spend and budget; and the villages served at the end.

    A phase left short of its target (which the model forbids) is a planner bug and raises.
    """
    m = A.shape[0]
    by_year = []
    served = before.copy()
    for t, p in enumerate(phases):
        open_t = (open_year >= 0) & (open_year <= p.year)
        served = before | (np.asarray(A @ open_t.astype(np.int32)).ravel() > 0)
        by_year.append(
            {
                "year": p.year,
                "target_share": p.target_share,
                "villages_served": int(served.sum()),
                "share": float(served.sum() / m) if m else 1.0,
                "spend": float(c[open_year == p.year].sum()),
                "budget": p.budget,
            }
        )
        if served.sum() < targets[t]:
            raise InfeasibleError(
                f"{p.year}: the plan serves {int(served.sum())} < {targets[t]}; planner bug"
            )
    return by_year, served


def _phased_model(
    R: sp.csr_matrix,
    w: np.ndarray,
    cost: np.ndarray,
    need: np.ndarray,
    budgets: Sequence[float | None],
    carry_over: bool,
) -> MipModel:
    """Columns: ``o[t, j]`` (k per phase, binary) then ``z[t, g]`` (r per phase, continuous)."""
    r, k = R.shape
    T = len(need)
    nx, nz = k * T, r * T
    blocks: list[sp.csr_matrix] = []
    lo: list[np.ndarray] = []
    up: list[np.ndarray] = []
    I_T = sp.identity(T, format="csr")
    # z[t, g] - sum_j R[g, j] o[t, j] <= 0
    link = sp.hstack([sp.kron(I_T, -R, format="csr"), sp.identity(nz, format="csr")], format="csr")
    blocks.append(link)
    lo.append(np.full(nz, -np.inf))
    up.append(np.zeros(nz))
    # sum_g w_g z[t, g] >= need[t]
    count = sp.hstack(
        [sp.csr_matrix((T, nx)), sp.kron(I_T, sp.csr_matrix(w[None, :]), format="csr")], format="csr"
    )
    blocks.append(count)
    lo.append(need.astype(np.float64))
    up.append(np.full(T, np.inf))
    if T > 1:
        # o[t-1, j] - o[t, j] <= 0 (open stays open)
        D = sp.diags([np.ones(T - 1), -np.ones(T - 1)], [0, 1], shape=(T - 1, T), format="csr")
        mono = sp.hstack(
            [sp.kron(D, sp.identity(k), format="csr"), sp.csr_matrix(((T - 1) * k, nz))], format="csr"
        )
        blocks.append(mono)
        lo.append(np.full((T - 1) * k, -np.inf))
        up.append(np.zeros((T - 1) * k))
    # budgets: spend(t) = cost . (o[t] - o[t-1])
    cum = 0.0
    for t, b in enumerate(budgets):
        if b is None:
            cum = np.inf
            continue
        row = np.zeros(nx + nz)
        if carry_over:
            cum += b
            if not np.isfinite(cum):
                continue
            row[t * k : (t + 1) * k] = cost
            bound = cum
        else:
            row[t * k : (t + 1) * k] = cost
            if t > 0:
                row[(t - 1) * k : t * k] = -cost
            bound = b
        blocks.append(sp.csr_matrix(row[None, :]))
        lo.append(np.array([-np.inf]))
        up.append(np.array([bound]))
    M = sp.vstack(blocks, format="csr")
    obj = np.zeros(nx + nz)
    obj[(T - 1) * k : T * k] = cost
    return MipModel(
        cost=obj,
        A=M,
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(up),
        col_lower=np.zeros(nx + nz),
        col_upper=np.ones(nx + nz),
        integer=np.concatenate([np.ones(nx, dtype=bool), np.zeros(nz, dtype=bool)]),
    )


def _explain_budget(
    R: sp.csr_matrix,
    w: np.ndarray,
    cost: np.ndarray,
    need: np.ndarray,
    phases: Sequence[Phase],
    carry_over: bool,
    settings: SolverSettings,
) -> InfeasibleError:
    """Per phase year: the least cost of its target against the money available by then."""
    problems: list[Problem] = []
    available = 0.0
    for t, p in enumerate(phases):
        available = available + p.budget if p.budget is not None else np.inf
        if need[t] <= 0 or not np.isfinite(available):
            continue
        single = _phased_model(R, w, cost, need[t : t + 1], [None], carry_over)
        sol = solve_mip(single, settings=settings)
        least = sol.objective if sol.status in ("optimal", "trivial") else sol.bound
        if least > available + 1e-6:
            problems.append(
                Problem(
                    f"{p.year}: reaching {p.target_share:.0%} ({int(need[t])} more villages) costs at least "
                    f"{least:,.0f}, but the budgets through {p.year} total {available:,.0f}: short by "
                    f"{least - available:,.0f}",
                    location=f"phases[{p.year}].budget",
                    fix="raise the budgets or move the target to a later year",
                )
            )
    if not problems:
        problems.append(
            Problem(
                "each year's target is affordable with all money up to that year, but not with the money of "
                + ("each year" if not carry_over else "the years in sequence")
                + ": spending cannot be spread over the years to fit every yearly budget",
                location="phases",
                fix="allow carry-over of unspent budget or move money to the earlier years",
            )
        )
    return InfeasibleError("the village-station phasing is infeasible under its budgets", problems)
