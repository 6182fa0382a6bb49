"""p-center: at most ``p`` open sites, shortest longest trip from a client to its nearest open site.

E.g. the county park for the farthest village or outlet (the equity reading of P-COUNTY, next to
the p-median of :mod:`planner.optimize.parks`). Clients × sites travel times come in (``inf``/NaN =
unreachable); existing sites are fixed open and count towards ``p``; only *eligible* sites may be
opened (a mask, or the carriers rule of :func:`~planner.optimize.parks.solve_parks`).

Exact method: the optimal radius is one of the distinct travel times. For a radius ``r`` the
question "can at most ``p`` sites serve every client within ``r``?" is a set cover: the fewest new
sites covering the clients the fixed sites leave beyond ``r``
(:func:`~planner.optimize.cover.solve_min_cost_cover`, with its reductions and bound). A binary
search over the sorted distinct times, from the largest nearest-site time (no plan does better),
finds the smallest feasible radius. Each set-cover answer is a proof: a plan within ``p`` proves
the radius feasible, a lower bound above ``p`` proves it infeasible; if a time limit leaves one
undecided, the search stops and returns the best plan with the proven interval as its gap.

Clients that no eligible or fixed site reaches are reported (``arrays["unreachable"]``) and left
out of the objective; clients of weight 0 (no people, no parcels) are left out too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem
from planner.optimize._common import preview, site_mask, vector
from planner.optimize.cover import solve_min_cost_cover
from planner.optimize.result import SolveResult, SolverSettings, Status, relative_gap


def _eligible(
    n: int,
    fixed: np.ndarray,
    eligible: np.ndarray | Sequence[bool] | None,
    carriers: object,
    min_carriers: int,
) -> np.ndarray:
    out = np.ones(n, dtype=bool)
    if eligible is not None:
        e = np.asarray(eligible)
        if e.shape != (n,) or e.dtype != bool:
            raise ValueError(f"eligible must be a bool mask of shape ({n},), got {e.dtype} {e.shape}")
        out &= e
    if carriers is not None:
        car = np.asarray(carriers, dtype=np.float64)
        if car.shape != (n,):
            raise ValueError(f"carriers has shape {car.shape}, expected ({n},)")
        out &= np.nan_to_num(car, nan=0.0) >= min_carriers
    return out | fixed  # an existing site stays whatever the rule


def _cover_at(
    T: np.ndarray, radius: float, fixed: np.ndarray, open_ok: np.ndarray, settings: SolverSettings
) -> SolveResult:
    """Fewest new sites serving every client within ``radius`` (columns not ``open_ok`` unusable)."""
    cov = sp.csr_matrix((radius >= T) & open_ok[None, :])
    return solve_min_cost_cover(cov, None, fixed_open=fixed, settings=settings)


def solve_p_center(
    travel_time: np.ndarray,
    weight: np.ndarray | Sequence[float] | None = None,
    *,
    p: int,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    eligible: np.ndarray | Sequence[bool] | None = None,
    carriers: np.ndarray | Sequence[float] | None = None,
    min_carriers: int = 3,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Choose at most ``p`` sites (existing included) minimising the longest client trip.

    Parameters
    ----------
    travel_time
        Clients × candidate sites travel time (minutes or seconds); ``inf``/NaN = unreachable.
    weight
        Client weight (population, parcels/day). The p-center objective is unweighted: a client
        counts when its weight is > 0 (``None``: every client counts).
    p
        Sites open in all, fixed ones included.
    fixed_open
        Existing sites (bool mask or indices), fixed open.
    eligible
        Bool mask of sites that may be opened (``None``: all).
    carriers, min_carriers
        The carriers rule (as :func:`~planner.optimize.parks.solve_parks`): a site with fewer than
        ``min_carriers`` carriers may not be opened. ``None``: no rule.
    settings
        Solver settings (each set-cover check gets the time left of ``time_limit_s``).

    Returns
    -------
    SolveResult
        ``objective``: the longest trip of a counted, reachable client to its nearest open site;
        ``bound``: proven lower bound of that radius. ``arrays``: ``assigned_site`` (nearest open
        site per client, -1 if unreachable), ``client_time``, ``unreachable``, ``counted``,
        ``eligible``, ``new``. ``extra``: ``radius_checks`` (radius, feasible) in search order.

    Raises
    ------
    InfeasibleError
        ``p`` is below the fixed sites, or ``p`` sites cannot reach every reachable client.
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    T = np.asarray(travel_time, dtype=np.float64)
    if T.ndim != 2:
        raise ValueError(f"travel_time must be clients × sites, got shape {T.shape}")
    m, n = T.shape
    T = np.where(np.isnan(T), np.inf, T)
    if np.any(T < 0):
        raise ValueError("travel_time must be >= 0")
    counted = vector(weight, m, name="weight") > 0
    fixed = site_mask(fixed_open, n)
    if p < 0:
        raise ValueError(f"p must be >= 0, got {p}")
    open_ok = _eligible(n, fixed, eligible, carriers, min_carriers)
    reach = np.isfinite(T) & open_ok[None, :]
    unreachable = ~reach.any(axis=1)
    clients = counted & ~unreachable
    Tc = T[clients]
    if p < int(fixed.sum()):
        raise InfeasibleError(
            f"p-center: p = {p} is below the {int(fixed.sum())} existing sites fixed open",
            [Problem(f"p = {p} < {int(fixed.sum())} fixed sites", location="p", fix="raise p")],
        )
    result = _search(Tc, fixed, open_ok, p, settings, t0)
    selected, radius, lower, status, checks, solver = result
    return _result(
        T, selected, fixed, open_ok, unreachable, counted, radius, lower, status, checks, solver, t0
    )


def _search(
    T: np.ndarray, fixed: np.ndarray, open_ok: np.ndarray, p: int, settings: SolverSettings, t0: float
) -> tuple[np.ndarray, float, float, Status, list[tuple[float, bool]], str]:
    """Binary search over the distinct times; returns plan, radius, lower bound, status, checks, solver."""
    if T.shape[0] == 0:
        return fixed.copy(), 0.0, 0.0, "trivial", [], "none"
    usable = np.where(open_ok[None, :], T, np.inf)
    floor = float(usable.min(axis=1).max())  # every client needs its nearest site at least
    times = np.unique(usable[np.isfinite(usable) & (usable >= floor)])
    spare = p - int(fixed.sum())
    deadline = t0 + settings.time_limit_s
    checks: list[tuple[float, bool]] = []
    top = _cover_at(T, float(times[-1]), fixed, open_ok, _left(settings, deadline))
    if top.bound > spare:
        raise InfeasibleError(
            f"p-center: p = {p} sites cannot reach every client (at least {int(fixed.sum() + top.bound)} "
            "are needed at any travel time)",
            [
                Problem(
                    "too few sites for the clients' reach", location="p", fix="raise p or add candidate sites"
                )
            ],
        )
    lo, hi = -1, times.size - 1  # times[lo] proven infeasible (-1: below floor), times[hi] feasible
    best, solver = top, top.solver
    status: Status = "optimal"
    if top.objective > spare:  # time limit: no plan within p at the largest radius
        raise InfeasibleError(
            f"p-center: no plan with {p} sites found within the time limit; raise solver.time_limit_s"
        )
    checks.append((float(times[-1]), True))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        res = _cover_at(T, float(times[mid]), fixed, open_ok, _left(settings, deadline))
        if res.objective <= spare:
            hi, best = mid, res
            checks.append((float(times[mid]), True))
        elif res.bound > spare:
            lo = mid
            checks.append((float(times[mid]), False))
        else:  # undecided within the time limit: stop with the interval proven so far
            status = "time_limit"
            break
    lower = floor if lo < 0 else float(times[lo + 1])
    return best.selected, float(times[hi]), lower, status, checks, solver


def _left(settings: SolverSettings, deadline: float) -> SolverSettings:
    return replace(settings, time_limit_s=max(deadline - time.perf_counter(), 1.0))


def _result(
    T: np.ndarray,
    selected: np.ndarray,
    fixed: np.ndarray,
    open_ok: np.ndarray,
    unreachable: np.ndarray,
    counted: np.ndarray,
    radius: float,
    lower: float,
    status: Status,
    checks: list[tuple[float, bool]],
    solver: str,
    t0: float,
) -> SolveResult:
    m, n = T.shape
    open_times = np.where(selected[None, :], T, np.inf)
    assigned = np.where(np.isfinite(open_times).any(axis=1), np.argmin(open_times, axis=1), -1)
    client_time = open_times.min(axis=1)
    clients = counted & ~unreachable
    objective = float(client_time[clients].max()) if clients.any() else 0.0
    if objective > radius + 1e-9:
        raise InfeasibleError(f"p-center plan exceeds its radius {radius:g}; this is a planner bug")
    gap = relative_gap(objective, lower)
    if status == "optimal" and gap > 1e-9:
        status = "time_limit"
    notes = [
        f"{int(open_ok.sum())} of {n} sites may be opened",
        f"{int(unreachable.sum())} clients no eligible or fixed site reaches (reported, not served)"
        + (f": clients {preview(np.flatnonzero(unreachable))}" if unreachable.any() else ""),
        f"{len(checks)} radius checks (set cover), longest trip {objective:g} (proven >= {lower:g})",
    ]
    return SolveResult(
        selected=selected,
        status=status,
        objective=objective,
        bound=lower,
        mip_gap=gap,
        seconds=time.perf_counter() - t0,
        solver=solver,
        size_before={"rows": m, "cols": n, "nnz": int(np.isfinite(T).sum())},
        size_after={
            "rows": int(clients.sum()),
            "cols": int(open_ok.sum()),
            "nnz": int(np.isfinite(T[clients]).sum()),
        },
        notes=tuple(notes),
        arrays={
            "assigned_site": assigned,
            "client_time": client_time,
            "unreachable": unreachable,
            "counted": counted,
            "eligible": open_ok,
            "new": selected & ~fixed,
        },
        extra={"radius_checks": checks},
    )
