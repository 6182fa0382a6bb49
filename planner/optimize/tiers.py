"""Three tiers: village station → township outlet → county park, with the chain's travel time.

Each village station is assigned to one outlet and each outlet to one park; a village's delivery
chain time is ``t(station, outlet) + t(outlet, park of that outlet)``. The total weighted chain
time is minimised.

Without capacities the problem separates exactly: every outlet takes its nearest reachable park
(that choice lowers every chain through it), then every station takes the outlet with the least
chain time; no solver is needed (status ``trivial``). With outlet capacities (in station weight:
stations or parcels/day) and/or park capacities, a MIP: binary ``y[s, o]``, binary ``z[o, p]``,
flow ``u[o, p] >= 0`` with ``sum_p u[o, p] = sum_s w_s y[s, o]``, ``u[o, p] <= W z[o, p]``,
``sum_p z[o, p] = 1`` (outlets that reach a park), capacities on the loads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem
from planner.optimize._common import preview, vector
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, MipSolution, solve_mip


def assign_tiers(
    station_outlet: np.ndarray,
    outlet_park: np.ndarray,
    *,
    station_weight: np.ndarray | Sequence[float] | None = None,
    outlet_capacity: np.ndarray | Sequence[float] | None = None,
    park_capacity: np.ndarray | Sequence[float] | None = None,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Assign stations to outlets and outlets to parks, minimising the weighted chain time.

    Parameters
    ----------
    station_outlet
        Stations × outlets travel time (minutes); ``inf``/``NaN`` = no link.
    outlet_park
        Outlets × parks travel time (minutes); ``inf``/``NaN`` = no link.
    station_weight
        Weight per station (population or parcels/day); ``None`` = 1.
    outlet_capacity, park_capacity
        Capacity in station-weight units (``NaN``/``inf`` = unlimited); ``None`` = uncapacitated.
    settings
        Solver settings (capacitated case).

    Returns
    -------
    SolveResult
        ``objective``: total weighted chain time. ``selected``: outlets that serve a station.
        ``arrays``: ``station_outlet`` (outlet per station), ``outlet_park`` (park per outlet,
        -1 when it reaches none), ``chain_min`` (per station), ``outlet_load``, ``park_load``.
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    SO = np.asarray(station_outlet, dtype=np.float64)
    OP = np.asarray(outlet_park, dtype=np.float64)
    if SO.ndim != 2 or OP.ndim != 2 or SO.shape[1] != OP.shape[0]:
        raise ValueError(f"station_outlet {SO.shape} and outlet_park {OP.shape} must be (s × o) and (o × p)")
    SO = np.where(np.isfinite(SO), SO, np.inf)
    OP = np.where(np.isfinite(OP), OP, np.inf)
    s, o = SO.shape
    pk = OP.shape[1]
    w = vector(station_weight, s, name="station_weight")
    capO = _cap(outlet_capacity, o, "outlet_capacity")
    capP = _cap(park_capacity, pk, "park_capacity")
    best_park = np.where(np.isfinite(OP).any(axis=1), np.argmin(OP, axis=1), -1)
    park_time = np.where(best_park >= 0, OP[np.arange(o), np.maximum(best_park, 0)], np.inf)
    chain_best = SO + park_time[None, :]
    lost = np.flatnonzero(~np.isfinite(chain_best).any(axis=1))
    if lost.size:
        raise InfeasibleError(
            "the three-tier network has no chain for some stations",
            [
                Problem(
                    f"{lost.size} stations reach no outlet that reaches a park (stations {preview(lost)})",
                    location="station_outlet",
                    fix="add outlet–park or station–outlet links",
                )
            ],
        )
    if capO is None and capP is None:
        so = np.argmin(chain_best, axis=1)
        op = best_park
        status, bound, gap, solver, size = (
            "trivial",
            None,
            0.0,
            "closed form",
            {"rows": 0, "cols": 0, "nnz": 0},
        )
        t_solve = 0.0
    else:
        so, op, sol, size = _solve_capacitated(SO, OP, w, capO, capP, settings)
        status, bound, gap, solver, t_solve = sol.status, sol.bound, sol.mip_gap, sol.solver, sol.seconds
    chain = SO[np.arange(s), so] + OP[so, op[so]]
    objective = float(w @ chain)
    outlet_load = np.bincount(so, weights=w, minlength=o)
    park_load = np.bincount(op[op >= 0], weights=outlet_load[op >= 0], minlength=pk)
    return SolveResult(
        selected=outlet_load > 0,
        status=status,  # type: ignore[arg-type]
        objective=objective,
        bound=objective if bound is None else float(bound),
        mip_gap=float(gap),
        seconds=time.perf_counter() - t0,
        solver=solver,
        size_before={"rows": int(s + o), "cols": int(s * o + o * pk), "nnz": int(2 * (s * o + o * pk))},
        size_after=size,
        arrays={
            "station_outlet": so,
            "outlet_park": op,
            "chain_min": chain,
            "outlet_load": outlet_load,
            "park_load": park_load,
        },
        timings={"solve": t_solve},
    )


def _cap(values: np.ndarray | Sequence[float] | None, k: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (k,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({k},)")
    if np.any(arr[np.isfinite(arr)] < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr


def _solve_capacitated(
    SO: np.ndarray,
    OP: np.ndarray,
    w: np.ndarray,
    capO: np.ndarray | None,
    capP: np.ndarray | None,
    settings: SolverSettings,
) -> tuple[np.ndarray, np.ndarray, MipSolution, dict[str, int]]:
    s, o = SO.shape
    pk = OP.shape[1]
    W = float(w.sum())
    ys, yo = np.nonzero(np.isfinite(SO))
    zo, zp = np.nonzero(np.isfinite(OP))
    ny, nz = ys.size, zo.size
    # columns: y (ny), z (nz), u (nz)
    Y, Z, U = 0, ny, ny + nz
    ncol = ny + 2 * nz
    rows: list[sp.csr_matrix] = []
    lo: list[np.ndarray] = []
    up: list[np.ndarray] = []

    def add(
        data: np.ndarray, r: np.ndarray, c: np.ndarray, nrow: int, lower: np.ndarray, upper: np.ndarray
    ) -> None:
        rows.append(sp.csr_matrix((data, (r, c)), shape=(nrow, ncol)))
        lo.append(lower)
        up.append(upper)

    add(np.ones(ny), ys, Y + np.arange(ny), s, np.ones(s), np.ones(s))  # each station one outlet
    reaches = np.isfinite(OP).any(axis=1).astype(float)
    add(np.ones(nz), zo, Z + np.arange(nz), o, reaches, reaches)  # each outlet one park (if any)
    # flow balance: sum_p u[o,p] - sum_s w_s y[s,o] = 0
    add(
        np.concatenate([np.ones(nz), -w[ys]]),
        np.concatenate([zo, yo]),
        np.concatenate([U + np.arange(nz), Y + np.arange(ny)]),
        o,
        np.zeros(o),
        np.zeros(o),
    )
    # u[o,p] <= W z[o,p]
    add(
        np.concatenate([np.ones(nz), -W * np.ones(nz)]),
        np.tile(np.arange(nz), 2),
        np.concatenate([U + np.arange(nz), Z + np.arange(nz)]),
        nz,
        np.full(nz, -np.inf),
        np.zeros(nz),
    )
    if capO is not None:
        add(w[ys], yo, Y + np.arange(ny), o, np.full(o, -np.inf), np.where(np.isfinite(capO), capO, W))
    if capP is not None:
        add(
            np.ones(nz), zp, U + np.arange(nz), pk, np.full(pk, -np.inf), np.where(np.isfinite(capP), capP, W)
        )
    M = sp.vstack(rows, format="csr")
    model = MipModel(
        cost=np.concatenate([w[ys] * SO[ys, yo], np.zeros(nz), OP[zo, zp]]),
        A=M,
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(up),
        col_lower=np.zeros(ncol),
        col_upper=np.concatenate([np.ones(ny + nz), np.full(nz, W)]),
        integer=np.concatenate([np.ones(ny + nz, dtype=bool), np.zeros(nz, dtype=bool)]),
    )
    try:
        sol = solve_mip(model, settings=settings)
    except InfeasibleError:
        short = []
        if capO is not None:
            short.append(f"outlet capacity {np.nansum(np.where(np.isfinite(capO), capO, W)):,.1f}")
        if capP is not None:
            short.append(f"park capacity {np.nansum(np.where(np.isfinite(capP), capP, W)):,.1f}")
        raise InfeasibleError(
            "the three-tier assignment is infeasible under the capacities",
            [
                Problem(
                    f"stations carry {W:,.1f}; total "
                    + ", ".join(short)
                    + " (or the links that fit are missing)",
                    location="capacity",
                    fix="raise capacities or add links",
                )
            ],
        ) from None
    x = sol.x
    so = np.zeros(s, dtype=np.int64)
    pick = x[Y : Y + ny] > 0.5
    so[ys[pick]] = yo[pick]
    op = np.full(o, -1, dtype=np.int64)
    pz = x[Z : Z + nz] > 0.5
    op[zo[pz]] = zp[pz]
    return so, op, sol, model.size
