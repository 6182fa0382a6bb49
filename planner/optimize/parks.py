"""County express parks (县级快递园区): p-median on travel time with county, capacity and carrier rules.

Clients are township outlets (or townships) weighted by population or parcel volume; candidates
are park sites with a travel time from every client (``inf`` = unreachable). Choose ``p`` parks
and assign each client to one open park, minimising the weighted travel time, subject to:

* at least ``min_per_county`` parks in every county (P-COUNTY: at least one per county);
* a park only at a site hosting at least ``min_carriers`` carriers (P-COUNTY / P-EPARK: ≥ 3);
* optional capacity per park (weight units), single-sourced assignment;
* optional ``client_county``: clients are served by a park of their own county;
* existing parks ``fixed_open`` count towards ``p`` and the county rule.

Model: binary ``x_j``, binary ``y_ij`` for reachable eligible pairs; ``sum_j y_ij = 1``,
``y_ij <= x_j``, ``sum_j x_j = p``, per county ``sum x >= min_per_county``, capacity
``sum_i w_i y_ij <= cap_j x_j``. Instances are small (tens of clients and sites): no reductions
beyond dropping ineligible sites and unreachable pairs. Infeasibility is explained (unreachable
clients, counties without an eligible site, ``p`` too small, capacity short).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem
from planner.optimize._common import preview, site_mask, vector
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, MipSolution, solve_mip


def solve_parks(
    travel_time: np.ndarray,
    weight: np.ndarray | Sequence[float] | None = None,
    *,
    p: int | None = None,
    site_county: Sequence[str] | np.ndarray | None = None,
    client_county: Sequence[str] | np.ndarray | None = None,
    min_per_county: int = 1,
    carriers: np.ndarray | Sequence[float] | None = None,
    min_carriers: int = 3,
    capacity: np.ndarray | Sequence[float] | None = None,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Choose county park sites by p-median on travel time.

    Parameters
    ----------
    travel_time
        Clients × candidate sites travel time (minutes); ``inf``/``NaN`` = unreachable.
    weight
        Client weight (population or parcels/day); ``None`` = 1 each.
    p
        Number of parks in all (existing included); default: ``min_per_county`` × counties.
    site_county, client_county
        County code per site / per client (``None``: one county, clients served by any park).
    min_per_county
        Parks required in each county of ``site_county``.
    carriers
        Carriers (express brands) a site hosts; sites with fewer than ``min_carriers`` are not
        eligible. ``None``: every site eligible.
    min_carriers
        The carrier rule (≥ 3 in P-COUNTY).
    capacity
        Capacity per site in weight units; ``NaN``/``inf`` = unlimited; ``None``: uncapacitated.
    fixed_open
        Existing parks (bool mask or indices), fixed open.
    settings
        Solver settings.

    Returns
    -------
    SolveResult
        ``objective``: total weighted travel time. ``arrays``: ``assigned_site`` (per client, the
        site index), ``client_time`` (per client, minutes), ``eligible`` (per site), ``new``.
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    inp = _inputs(
        travel_time, weight, site_county, client_county, carriers, min_carriers, capacity, fixed_open
    )
    if p is None:
        p = max(min_per_county * len(inp.counties), int(inp.fixed.sum()), 1)
    problems = _check(
        inp.reach,
        inp.w,
        p,
        inp.scounty,
        inp.counties,
        min_per_county,
        inp.eligible,
        inp.fixed,
        inp.cap,
        min_carriers,
    )
    if problems:
        raise InfeasibleError("the county-park model has no feasible plan", problems)
    model, ci, sj = _model(inp, p, min_per_county)
    try:
        sol = solve_mip(model, settings=settings)
    except InfeasibleError:
        raise InfeasibleError(
            "the county-park model is infeasible: the capacities cannot be met with single-sourced "
            f"assignment of {inp.w.size} clients to {p} parks",
            [
                Problem(
                    "capacity too tight for whole-client assignment",
                    location="capacity",
                    fix="raise park capacities or allow more parks (p)",
                )
            ],
        ) from None
    return _result(inp, model, sol, ci, sj, min_carriers, settings, time.perf_counter() - t0)


@dataclass(frozen=True)
class _Inputs:
    """The checked arrays of a park model: times, weights, county codes, eligible and fixed sites."""

    T: np.ndarray
    w: np.ndarray
    reach: np.ndarray  # clients × sites: reachable, same county, eligible site
    scounty: np.ndarray
    counties: list[str]
    eligible: np.ndarray
    fixed: np.ndarray
    cap: np.ndarray | None


def _shaped(values: Any, n: int, name: str, dtype: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
    return arr


def _inputs(
    travel_time: np.ndarray,
    weight: np.ndarray | Sequence[float] | None,
    site_county: Sequence[str] | np.ndarray | None,
    client_county: Sequence[str] | np.ndarray | None,
    carriers: np.ndarray | Sequence[float] | None,
    min_carriers: int,
    capacity: np.ndarray | Sequence[float] | None,
    fixed_open: np.ndarray | Sequence[int] | None,
) -> _Inputs:
    """The arguments of :func:`solve_parks` checked and turned into arrays."""
    T = np.asarray(travel_time, dtype=np.float64)
    if T.ndim != 2:
        raise ValueError(f"travel_time must be clients × sites, got shape {T.shape}")
    m, n = T.shape
    w = vector(weight, m, name="weight")
    fixed = site_mask(fixed_open, n)
    reach = np.isfinite(T)
    if np.any(T[reach] < 0):
        raise ValueError("travel_time must be >= 0")
    scounty = (
        _shaped(site_county, n, "site_county", object)
        if site_county is not None
        else np.full(n, "", dtype=object)
    )
    eligible = np.ones(n, dtype=bool)
    if carriers is not None:
        eligible = np.nan_to_num(_shaped(carriers, n, "carriers", np.float64), nan=0.0) >= min_carriers
    eligible |= fixed  # an existing park is kept whatever its carriers
    if client_county is not None:
        reach &= _shaped(client_county, m, "client_county", object)[:, None] == scounty[None, :]
    reach &= eligible[None, :]
    cap = None
    if capacity is not None:
        cap = _shaped(capacity, n, "capacity", np.float64)
        cap = np.where(np.isfinite(cap), cap, w.sum())
    return _Inputs(T, w, reach, scounty, sorted(set(scounty.tolist())), eligible, fixed, cap)


def _model(inp: _Inputs, p: int, min_per_county: int) -> tuple[MipModel, np.ndarray, np.ndarray]:
    """The p-median MIP: x (one per site), then y for each reachable client-site pair (row-major)."""
    m, n = inp.T.shape
    ci, sj = np.nonzero(inp.reach)
    e = ci.size
    ycol = n + np.arange(e)
    blocks = [sp.csr_matrix((np.ones(e), (ci, ycol)), shape=(m, n + e))]  # assign once
    lo, up = [np.ones(m)], [np.ones(m)]
    link = sp.csr_matrix(
        (np.concatenate([np.ones(e), -np.ones(e)]), (np.tile(np.arange(e), 2), np.concatenate([ycol, sj]))),
        shape=(e, n + e),
    )
    blocks.append(link)  # y <= x
    lo.append(np.full(e, -np.inf))
    up.append(np.zeros(e))
    blocks.append(sp.csr_matrix(np.concatenate([np.ones(n), np.zeros(e)])[None, :]))  # p parks
    lo.append(np.array([float(p)]))
    up.append(np.array([float(p)]))
    for c in inp.counties if min_per_county > 0 else []:
        blocks.append(sp.csr_matrix(np.concatenate([(inp.scounty == c).astype(float), np.zeros(e)])[None, :]))
        lo.append(np.array([float(min_per_county)]))
        up.append(np.array([np.inf]))
    if inp.cap is not None:
        capm = sp.csr_matrix((inp.w[ci], (sj, ycol)), shape=(n, n + e)) - sp.csr_matrix(
            (inp.cap, (np.arange(n), np.arange(n))), shape=(n, n + e)
        )
        blocks.append(sp.csr_matrix(capm))
        lo.append(np.full(n, -np.inf))
        up.append(np.zeros(n))
    model = MipModel(
        cost=np.concatenate([np.zeros(n), inp.w[ci] * inp.T[ci, sj]]),
        A=sp.vstack(blocks, format="csr"),
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(up),
        col_lower=np.concatenate([inp.fixed.astype(float), np.zeros(e)]),
        col_upper=np.concatenate([inp.eligible.astype(float), np.ones(e)]),
        integer=np.ones(n + e, dtype=bool),
    )
    return model, ci, sj


def _result(
    inp: _Inputs,
    model: MipModel,
    sol: MipSolution,
    ci: np.ndarray,
    sj: np.ndarray,
    min_carriers: int,
    settings: SolverSettings,
    seconds: float,
) -> SolveResult:
    """The park model's :class:`SolveResult`: the sites, each client's park and time, the notes."""
    m, n = inp.T.shape
    selected = sol.x[:n] > 0.5
    y = sol.x[n:] > 0.5
    assigned = np.full(m, -1, dtype=np.int64)
    assigned[ci[y]] = sj[y]
    client_time = inp.T[np.arange(m), assigned]
    notes = [f"{int(inp.eligible.sum())} of {n} sites eligible (>= {min_carriers} carriers or existing)"]
    if sol.status == "time_limit":
        notes.append(
            f"time limit {settings.time_limit_s:g} s reached: best plan returned, gap {sol.mip_gap:.4%}"
        )
    return SolveResult(
        selected=selected,
        status=sol.status,
        objective=float(np.sum(inp.w * client_time)),
        bound=float(sol.bound),
        mip_gap=float(sol.mip_gap),
        seconds=seconds,
        solver=sol.solver,
        size_before={"rows": int(m), "cols": int(n), "nnz": int(m * n)},
        size_after=model.size,
        notes=tuple(notes),
        arrays={
            "assigned_site": assigned,
            "client_time": client_time,
            "eligible": inp.eligible,
            "new": selected & ~inp.fixed,
        },
        timings={"build": sol.build_seconds, "solve": sol.seconds},
    )


def _check(
    reach: np.ndarray,
    w: np.ndarray,
    p: int,
    scounty: np.ndarray,
    counties: list[str],
    min_per_county: int,
    eligible: np.ndarray,
    fixed: np.ndarray,
    cap: np.ndarray | None,
    min_carriers: int,
) -> list[Problem]:
    out: list[Problem] = []
    lost = np.flatnonzero(~reach.any(axis=1))
    if lost.size:
        out.append(
            Problem(
                f"{lost.size} clients reach no eligible park site (clients {preview(lost)})",
                location="travel_time",
                fix=f"add park candidates with >= {min_carriers} carriers that those clients can reach",
            )
        )
    for c in counties:
        k = int((eligible & (scounty == c)).sum())
        if k < min_per_county:
            out.append(
                Problem(
                    f"county {c or '(all)'} has {k} eligible park sites, needs {min_per_county}",
                    location="site_county",
                    fix=f"add park candidates hosting >= {min_carriers} carriers in that county",
                )
            )
    need = min_per_county * len(counties)
    if p < need:
        out.append(
            Problem(
                f"p = {p} parks cannot give {min_per_county} per county to {len(counties)} counties "
                f"(needs {need})",
                location="p",
            )
        )
    if p < int(fixed.sum()):
        out.append(
            Problem(f"p = {p} is below the {int(fixed.sum())} existing parks fixed open", location="p")
        )
    if p > int(eligible.sum()):
        out.append(Problem(f"p = {p} exceeds the {int(eligible.sum())} eligible sites", location="p"))
    if cap is not None:
        best = float(np.sort(np.where(eligible, cap, 0.0))[::-1][:p].sum())
        if best < w.sum() - 1e-9:
            out.append(
                Problem(
                    f"the {p} largest eligible parks hold {best:,.1f} but clients need {w.sum():,.1f} "
                    f"(short by {w.sum() - best:,.1f})",
                    location="capacity",
                )
            )
    return out
