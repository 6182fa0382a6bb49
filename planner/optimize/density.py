"""Density standards per unit: outlets per 10,000 residents, lockers per 100 households, centres.

* :func:`outlet_requirement`: D-OUTLET, ``ceil(per_10k × population / 10,000)`` outlets per unit
  (community or township; the profile sets 4 or 5);
* :func:`locker_requirement`: D-LOCKER, ``ceil(households / households_per_group)`` locker groups
  per residential cluster;
* :func:`centre_requirement`: D-CENTRE, one delivery centre (≥ 30 m²) in a cluster of ≥ 3,000 people;
* :func:`solve_density`: the least-cost new sites so that every unit has its required count
  (existing facilities count), optionally while also covering every coverable demand row (the
  radius standard) — one exact model for both standards.

Model: binary ``x_j``; per unit ``sum_{j in unit} x_j >= required - existing``; with coverage,
``A x >= 1`` on the rows not yet covered. Reductions: coverage rows with identical sets are merged
and rows implied by another row dropped; site dominance is *not* applied (a dominated site still
counts for its unit). A unit with fewer candidates than it still needs makes the model infeasible;
the error lists each such unit and its shortfall.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem, SolverError
from planner.optimize._common import site_mask, vector
from planner.optimize.greedy import greedy_cover
from planner.optimize.reduce import as_bool_csr, dominated_rows, merge_identical_rows
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, solve_mip


def outlet_requirement(population: np.ndarray | Sequence[float], *, per_10k: float) -> np.ndarray:
    """D-OUTLET: outlets required per unit, ``ceil(per_10k × population / 10,000)``."""
    pop = np.asarray(population, dtype=np.float64)
    return np.ceil(per_10k * pop / 10_000.0 - 1e-9).clip(min=0).astype(np.int64)


def locker_requirement(
    households: np.ndarray | Sequence[float], *, households_per_group: float = 100.0
) -> np.ndarray:
    """D-LOCKER: locker groups required per cluster, ``ceil(households / households_per_group)``."""
    hh = np.asarray(households, dtype=np.float64)
    return np.ceil(hh / households_per_group - 1e-9).clip(min=0).astype(np.int64)


def centre_requirement(
    population: np.ndarray | Sequence[float], *, min_population: float = 3_000.0
) -> np.ndarray:
    """D-CENTRE: 1 where a residential cluster has at least ``min_population`` people, else 0."""
    return (np.asarray(population, dtype=np.float64) >= min_population).astype(np.int64)


def solve_density(
    site_unit: Sequence[str] | np.ndarray,
    cost: np.ndarray | Sequence[float] | None,
    required: Mapping[str, int],
    *,
    existing: Mapping[str, int] | None = None,
    coverage: sp.spmatrix | sp.sparray | None = None,
    fixed_open: np.ndarray | Sequence[int] | None = None,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Least-cost new sites meeting per-unit minimum counts (and optionally full coverage).

    Parameters
    ----------
    site_unit
        Unit code per candidate site (``""``: in no unit).
    cost
        Cost per candidate; ``None`` = 1 each.
    required
        Required number of facilities per unit code.
    existing
        Facilities already in each unit (count towards ``required``).
    coverage
        Optional demand × candidates coverage: also cover every row some candidate covers.
    fixed_open
        Candidates fixed open (e.g. existing facilities listed as sites); they count for their
        unit and their coverage, at no cost.
    settings
        Solver settings.

    Returns
    -------
    SolveResult
        ``objective``: cost of the new sites. ``arrays``: ``new``; with coverage also ``covered``
        and ``uncoverable``. ``extra["units"]``: a DataFrame with columns unit, required, existing,
        new, total, met.
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    unit = np.asarray(site_unit, dtype=object)
    n = unit.size
    c = vector(cost, n, name="cost")
    fixed = site_mask(fixed_open, n)
    have = dict(existing or {})
    codes = sorted(required)
    held = {u: int(have.get(u, 0)) + int((fixed & (unit == u)).sum()) for u in codes}
    need = {u: int(required[u]) - held[u] for u in codes}
    _check_candidates(unit, fixed, codes, need, held, required)
    free = np.flatnonzero(~fixed)
    blocks, lo, R, arrays = _rows(unit, free, codes, need, coverage, fixed, settings)
    selected = fixed.copy()
    if blocks:
        M = sp.vstack(blocks, format="csr")
        model = MipModel(
            cost=c[free],
            A=M,
            row_lower=np.concatenate(lo),
            row_upper=np.full(M.shape[0], np.inf),
            col_lower=np.zeros(free.size),
            col_upper=np.ones(free.size),
            integer=np.ones(free.size, dtype=bool),
            start=_start(M, np.concatenate(lo), c[free], R),
        )
        sol = solve_mip(model, settings=settings)
        selected[free[sol.x > 0.5]] = True
        status, bound, gap, solver, size = sol.status, sol.bound, sol.mip_gap, sol.solver, model.size
    else:
        status, bound, gap, solver, size = "trivial", 0.0, 0.0, "reductions", {"rows": 0, "cols": 0, "nnz": 0}
    new = selected & ~fixed
    arrays["new"] = new
    if coverage is not None:
        arrays["covered"] = np.asarray(as_bool_csr(coverage) @ selected.astype(np.int32)).ravel() > 0
        if np.any(~arrays["covered"] & ~arrays["uncoverable"]):
            raise SolverError("the density plan leaves coverable rows uncovered; this is a planner bug")
    table = pd.DataFrame(
        {
            "unit": codes,
            "required": [int(required[u]) for u in codes],
            "existing": [held[u] for u in codes],
            "new": [int((new & (unit == u)).sum()) for u in codes],
        }
    )
    table["total"] = table["existing"] + table["new"]
    table["met"] = table["total"] >= table["required"]
    return SolveResult(
        selected=selected,
        status=status,
        objective=float(c[new].sum()),
        bound=float(bound),
        mip_gap=float(gap),
        seconds=time.perf_counter() - t0,
        solver=solver,
        size_before={
            "rows": len(codes) + (0 if coverage is None else int(coverage.shape[0])),
            "cols": n,
            "nnz": n + (0 if coverage is None else int(as_bool_csr(coverage).nnz)),
        },
        size_after=size,
        arrays=arrays,
        extra={"units": table},
    )


def _check_candidates(
    unit: np.ndarray,
    fixed: np.ndarray,
    codes: list[str],
    need: dict[str, int],
    held: dict[str, int],
    required: Mapping[str, int],
) -> None:
    """Every unit short of candidate sites for its count, in one error."""
    problems = []
    for u in codes:
        cand = int(((unit == u) & ~fixed).sum())
        if need[u] > cand:
            problems.append(
                Problem(
                    f"unit {u} needs {int(required[u])} facilities, has {held[u]}"
                    f" and only {cand} candidate sites: short by {need[u] - cand}",
                    location=f"candidates[{u}]",
                    fix="add candidate sites in that unit",
                )
            )
    if problems:
        raise InfeasibleError("the density standard cannot be met with these candidates", problems)


def _rows(
    unit: np.ndarray,
    free: np.ndarray,
    codes: list[str],
    need: dict[str, int],
    coverage: sp.spmatrix | sp.sparray | None,
    fixed: np.ndarray,
    settings: SolverSettings,
) -> tuple[list[sp.csr_matrix], list[np.ndarray], sp.csr_matrix | None, dict[str, np.ndarray]]:
    """The model's rows over the free sites: one count row per unit still short, then (with
    ``coverage``) one cover row per coverable row not yet covered (reduced); and the arrays known
    before solving (``uncoverable``)."""
    k = free.size
    blocks: list[sp.csr_matrix] = []
    lo: list[np.ndarray] = []
    active = [u for u in codes if need[u] > 0]
    if active:
        pos = {u: i for i, u in enumerate(active)}
        members = [(pos[unit[j]], i) for i, j in enumerate(free) if unit[j] in pos]
        r, col = (
            (np.array(v, dtype=np.int64) for v in zip(*members, strict=True))
            if members
            else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        )
        blocks.append(sp.csr_matrix((np.ones(r.size), (r, col)), shape=(len(active), k)))
        lo.append(np.array([need[u] for u in active], dtype=np.float64))
    arrays: dict[str, np.ndarray] = {}
    R = None
    if coverage is not None:
        A = as_bool_csr(coverage)
        if A.shape[1] != unit.size:
            raise ValueError(f"coverage has {A.shape[1]} sites, site_unit has {unit.size}")
        covered_before = np.asarray(A @ fixed.astype(np.int32)).ravel() > 0
        uncoverable = np.diff(A.indptr) == 0
        rows = np.flatnonzero(~uncoverable & ~covered_before)
        R = sp.csr_matrix(A[rows][:, free])
        if settings.reduce:
            R, _, _ = merge_identical_rows(R, np.ones(R.shape[0]))
            R = sp.csr_matrix(R[~dominated_rows(R)])
        blocks.append(R)
        lo.append(np.ones(R.shape[0]))
        arrays["uncoverable"] = uncoverable
    return blocks, lo, R, arrays


def _start(M: sp.csr_matrix, need: np.ndarray, cost: np.ndarray, R: sp.csr_matrix | None) -> np.ndarray:
    """A feasible start: the cheapest sites per unit, then a greedy cover of what is still uncovered."""
    k = M.shape[1]
    x = np.zeros(k, dtype=bool)
    n_unit = M.shape[0] - (0 if R is None else R.shape[0])
    U = M[:n_unit]
    for i in range(n_unit):
        cols = U.indices[U.indptr[i] : U.indptr[i + 1]]
        x[cols[np.argsort(cost[cols], kind="stable")[: int(need[i])]]] = True
    if R is not None and R.shape[0]:
        left = np.asarray(R @ x.astype(np.int32)).ravel() == 0
        if left.any():
            x |= greedy_cover(sp.csr_matrix(R[left]), cost)
    return x.astype(np.float64)
