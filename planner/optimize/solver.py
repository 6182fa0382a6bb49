"""The solver adapter: one array-built MIP, solved by HiGHS (default) or any PuLP solver.

A model family builds a :class:`MipModel` (objective, bounds, integrality and a row-wise sparse
constraint matrix) and calls :func:`solve_mip`. HiGHS gets the CSR arrays directly through
``Highs.passModel`` (no per-nonzero Python loop); PuLP gets one affine expression per row.

Statuses are mapped to names (:data:`planner.optimize.result.Status`). A time limit returns the
incumbent with its proven gap; a time limit without any incumbent, a numerical failure, or a
missing solver raise :class:`~planner.errors.SolverError`; an infeasible model raises
:class:`~planner.errors.InfeasibleError` (the model families catch it and explain the cause).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimize.result import SolverSettings, Status, relative_gap

log = logging.getLogger(__name__)

INF = float("inf")


@dataclass(frozen=True)
class MipModel:
    """A mixed-integer linear program in arrays.

    ``sense`` * (``cost`` @ x + ``offset``) is minimised (``sense="min"``) or maximised, subject to
    ``row_lower <= A @ x <= row_upper``, ``col_lower <= x <= col_upper`` and ``x[integer]`` integral.
    ``start`` is an optional feasible plan passed to the solver as a warm start.
    """

    cost: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    sense: str = "min"
    offset: float = 0.0
    start: np.ndarray | None = None

    def __post_init__(self) -> None:
        m, n = self.A.shape
        for name, arr, size in (
            ("cost", self.cost, n),
            ("col_lower", self.col_lower, n),
            ("col_upper", self.col_upper, n),
            ("integer", self.integer, n),
            ("row_lower", self.row_lower, m),
            ("row_upper", self.row_upper, m),
        ):
            if np.shape(arr) != (size,):
                raise ValueError(f"MipModel.{name} has shape {np.shape(arr)}, expected ({size},)")
        if self.sense not in ("min", "max"):
            raise ValueError(f"MipModel.sense must be 'min' or 'max', got {self.sense!r}")

    @property
    def size(self) -> dict[str, int]:
        """Rows, columns and nonzeros."""
        return {"rows": int(self.A.shape[0]), "cols": int(self.A.shape[1]), "nnz": int(self.A.nnz)}


@dataclass(frozen=True)
class MipSolution:
    """What the solver returned for a :class:`MipModel`."""

    x: np.ndarray
    status: Status
    objective: float
    bound: float
    mip_gap: float
    seconds: float
    solver: str
    build_seconds: float


def solve_mip(model: MipModel, *, settings: SolverSettings) -> MipSolution:
    """Solve ``model`` with the backend ``settings.backend``.

    Parameters
    ----------
    model
        The MIP.
    settings
        Backend, time limit, gap, threads, verbosity.

    Returns
    -------
    MipSolution
        Plan (column values), status, objective, proven bound and gap, seconds.

    Raises
    ------
    InfeasibleError
        The solver proved the model infeasible (callers explain why).
    SolverError
        No plan: solver missing, numerical failure, or a time limit before any incumbent.
    """
    if model.A.shape[1] == 0:
        obj = float(model.offset)
        return MipSolution(np.zeros(0), "trivial", obj, obj, 0.0, 0.0, "none", 0.0)
    if settings.backend == "highs":
        return _solve_highs(model, settings)
    return _solve_pulp(model, settings)


def check_backend(settings: SolverSettings) -> None:
    """Raise :class:`~planner.errors.SolverError` now if the backend cannot run.

    Models that may finish without a solver call (reductions, Lagrangian bound) call this first,
    so a missing solver is reported before any work, never skipped silently.
    """
    if settings.backend != "highs":
        _pulp_solver(settings)
    else:
        import highspy  # noqa: F401  (a dependency: fails only in a broken install)


# ---------------------------------------------------------------------------------------------
# HiGHS
# ---------------------------------------------------------------------------------------------


def quiet_highs(*, verbose: bool = False) -> Any:
    """A HiGHS instance that prints nothing unless ``verbose``.

    ``highspy.Highs()`` calls HiGHS in its constructor (enableCallbacks), which prints the version
    banner before ``output_flag`` can be set; its base class takes ``output_flag`` first (no callbacks
    are used here).
    """
    import highspy

    h = getattr(highspy._core, "_Highs", highspy.Highs)()
    h.setOptionValue("output_flag", bool(verbose))
    return h


def _solve_highs(model: MipModel, settings: SolverSettings) -> MipSolution:
    import highspy

    t0 = time.perf_counter()
    A = sp.csr_matrix(model.A)
    A.sort_indices()
    m, n = A.shape
    h = quiet_highs(verbose=settings.verbose)
    h.setOptionValue("time_limit", float(settings.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(settings.mip_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if settings.threads is not None:
        h.setOptionValue("threads", int(settings.threads))
    for key, value in settings.options.items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
            raise SolverError(f"HiGHS rejected the option {key}={value!r}; see the HiGHS option list")
    lower = np.where(np.isfinite(model.col_lower), model.col_lower, -highspy.kHighsInf).astype(np.float64)
    upper = np.where(np.isfinite(model.col_upper), model.col_upper, highspy.kHighsInf).astype(np.float64)
    rlo = np.where(np.isfinite(model.row_lower), model.row_lower, -highspy.kHighsInf).astype(np.float64)
    rup = np.where(np.isfinite(model.row_upper), model.row_upper, highspy.kHighsInf).astype(np.float64)
    status = h.passModel(
        int(n),
        int(m),
        int(A.nnz),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize),
        float(model.offset),
        np.ascontiguousarray(model.cost, dtype=np.float64),
        lower,
        upper,
        rlo,
        rup,
        np.ascontiguousarray(A.indptr, dtype=np.int32),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.data, dtype=np.float64),
        np.ascontiguousarray(model.integer, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel returned an error); this is a planner bug")
    if model.start is not None and settings.warm_start:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(model.start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    solver = f"highs {h.version()}"
    MS = highspy.HighsModelStatus
    if ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible) and not has_plan:
        raise InfeasibleError("the model is infeasible (HiGHS)")
    if not has_plan:
        if ms == MS.kTimeLimit:
            raise SolverError(
                f"HiGHS reached the time limit of {settings.time_limit_s:g} s without any feasible plan; "
                "raise solver.time_limit_s"
            )
        raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(ms)!r} and no plan")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    integral = bool(np.any(model.integer))
    bound = float(info.mip_dual_bound) if integral else objective
    if not np.isfinite(bound):
        bound = objective if ms == MS.kOptimal else _box_bound(model)
    gap = relative_gap(objective, bound)
    name: Status
    if ms == MS.kOptimal:
        name = "optimal" if gap <= max(settings.mip_gap, 1e-9) and gap <= 1e-6 else "gap_limit"
    elif ms == MS.kTimeLimit:
        name = "time_limit"
    else:
        name = "gap_limit"
    return MipSolution(x, name, objective, bound, gap, seconds, solver, build)


def _box_bound(model: MipModel) -> float:
    """The bound from the column bounds alone (used when a solver stops before its first LP)."""
    lo = model.cost * model.col_lower
    up = model.cost * model.col_upper
    with np.errstate(invalid="ignore"):
        terms = np.fmax(lo, up) if model.sense == "max" else np.fmin(lo, up)
    terms = np.where(model.cost == 0, 0.0, terms)
    value = float(np.sum(terms) + model.offset)
    return value if np.isfinite(value) else (INF if model.sense == "max" else -INF)


# ---------------------------------------------------------------------------------------------
# PuLP
# ---------------------------------------------------------------------------------------------


def _pulp_solver(settings: SolverSettings) -> object:
    import pulp

    name = settings.backend.split(":", 1)[1].upper()
    aliases = {
        "CBC": "PULP_CBC_CMD",
        "GLPK": "GLPK_CMD",
        "GUROBI": "GUROBI",
        "CPLEX": "CPLEX_PY",
        "HIGHS": "HiGHS",
    }
    solver_name = aliases.get(name, settings.backend.split(":", 1)[1])
    kwargs: dict[str, object] = {"msg": bool(settings.verbose), "timeLimit": float(settings.time_limit_s)}
    if solver_name not in ("GLPK_CMD",):
        kwargs["gapRel"] = float(settings.mip_gap)
    if settings.threads is not None and solver_name not in ("GLPK_CMD",):
        kwargs["threads"] = int(settings.threads)
    if solver_name in ("PULP_CBC_CMD", "GUROBI", "CPLEX_PY", "CPLEX_CMD"):
        kwargs["warmStart"] = settings.warm_start
    kwargs.update(settings.options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.getSolver(solver_name, **kwargs)
    except Exception as exc:  # pulp raises a bare PulpSolverError for unknown names
        raise SolverError(
            f"PuLP cannot create solver {solver_name!r} ({exc}); "
            f"available here: {pulp.listSolvers(onlyAvailable=True)}"
        ) from exc
    if not solver.available():
        raise SolverError(
            f"PuLP solver {solver_name!r} is not installed; "
            f"available here: {pulp.listSolvers(onlyAvailable=True)}"
        )
    return solver


def _solve_pulp(model: MipModel, settings: SolverSettings) -> MipSolution:
    import pulp

    t0 = time.perf_counter()
    solver = _pulp_solver(settings)
    A = sp.csr_matrix(model.A)
    m, n = A.shape
    sense = pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize
    prob = pulp.LpProblem("planner", sense)
    xs = [
        prob.add_variable(
            f"x{j}",
            lowBound=None if not np.isfinite(model.col_lower[j]) else float(model.col_lower[j]),
            upBound=None if not np.isfinite(model.col_upper[j]) else float(model.col_upper[j]),
            cat=pulp.LpInteger if model.integer[j] else pulp.LpContinuous,
        )
        for j in range(n)
    ]
    nz = np.flatnonzero(model.cost)
    prob += pulp.LpAffineExpression([(xs[j], float(model.cost[j])) for j in nz]) + float(model.offset)
    indptr, indices, data = A.indptr, A.indices.tolist(), A.data.tolist()
    for i in range(m):
        lo, hi = indptr[i], indptr[i + 1]
        expr = pulp.LpAffineExpression([(xs[indices[k]], data[k]) for k in range(lo, hi)])
        rl, ru = float(model.row_lower[i]), float(model.row_upper[i])
        if np.isfinite(rl) and np.isfinite(ru) and rl == ru:
            prob += expr == rl, f"r{i}"
            continue
        if np.isfinite(rl):
            prob += expr >= rl, f"r{i}l"
        if np.isfinite(ru):
            prob += expr <= ru, f"r{i}u"
    if model.start is not None and settings.warm_start:
        for j, v in enumerate(np.asarray(model.start, dtype=float)):
            xs[j].setInitialValue(round(v) if model.integer[j] else v)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"{settings.backend} failed: {exc}") from exc
    seconds = time.perf_counter() - t1
    values = np.array([v.varValue if v.varValue is not None else np.nan for v in xs], dtype=float)
    sol_status = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        raise InfeasibleError(f"the model is infeasible ({settings.backend})")
    if np.isnan(values).any() or sol_status in (pulp.LpSolutionNoSolutionFound,):
        if seconds >= 0.95 * settings.time_limit_s:
            raise SolverError(
                f"{settings.backend} reached the time limit of {settings.time_limit_s:g} s without any "
                "feasible plan; raise solver.time_limit_s"
            )
        raise SolverError(f"{settings.backend} returned no plan (status {pulp.LpStatus[prob.status]})")
    # Integral columns are rounded: solvers return values within their integrality tolerance.
    values = np.where(model.integer.astype(bool), np.round(values), values)
    objective = float(model.cost @ values + model.offset)
    name: Status
    if sol_status == pulp.LpSolutionOptimal and prob.status == pulp.LpStatusOptimal:
        # PuLP does not expose the dual bound; an optimal status means proven within gapRel, so
        # the gap reported is that tolerance (an upper bound on the true gap).
        name = "optimal"
        gap = float(settings.mip_gap)
        slack = gap * max(abs(objective), 1e-9)
        bound = objective + slack if model.sense == "max" else objective - slack
    else:
        name = "time_limit" if seconds >= 0.9 * settings.time_limit_s else "gap_limit"
        bound = INF if model.sense == "max" else -INF
        gap = INF
    return MipSolution(values, name, objective, bound, gap, seconds, settings.backend, build)
