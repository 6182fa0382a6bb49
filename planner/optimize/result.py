"""Typed settings and results shared by every placement model.

Every model in :mod:`planner.optimize` takes arrays and a :class:`SolverSettings` and returns a
:class:`SolveResult`. Problem-specific arrays (covered mask, assignment, opening year ...) live in
``SolveResult.arrays`` under documented keys, so the result type never changes with a flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Status = Literal["optimal", "gap_limit", "time_limit", "infeasible", "trivial"]
"""Status names.

``optimal``: proven optimal within the requested gap (``mip_gap`` holds the proven gap).
``gap_limit``: stopped at the requested relative gap > 0 (a proven near-optimal plan).
``time_limit``: stopped by the time limit; ``selected`` is the best plan found, ``mip_gap`` its proof.
``infeasible``: never returned by a model (they raise :class:`~planner.errors.InfeasibleError`),
kept for the adapter. ``trivial``: the reductions solved the model; no solver call was needed.
"""


@dataclass(frozen=True)
class SolverSettings:
    """How to solve a model.

    Parameters
    ----------
    backend
        ``"highs"`` (default, highspy in-process) or ``"pulp:CBC"``, ``"pulp:GLPK"``,
        ``"pulp:GUROBI"``, ``"pulp:CPLEX"``, ``"pulp:HiGHS"`` (any solver PuLP can drive).
    time_limit_s
        Wall-clock limit of one solver call; a run stopped by it returns its incumbent.
    mip_gap
        Relative MIP gap at which the solver may stop (``1e-4`` = 0.01 %).
    threads
        Solver threads; ``None`` leaves the solver's default.
    verbose
        Show the solver log.
    reduce
        Apply the model's reductions before solving (off only to measure them).
    warm_start
        Pass the greedy plan to the solver as a starting incumbent.
    lagrangian
        Max coverage and set cover only: bound the model by a Lagrangian relaxation first
        (subgradient, :mod:`planner.optimize.lagrange`), keep the heuristic plans it finds, fix
        sites by reduced cost and hand only the rest to the solver; the proven bound is the
        better of the two. ``False``: one solver call on the reduced model (the plain path).
    options
        Extra solver options passed as they are (HiGHS option names for ``"highs"``, keyword
        arguments of the PuLP solver class for ``"pulp:..."``).
    """

    backend: str = "highs"
    time_limit_s: float = 60.0
    mip_gap: float = 1e-4
    threads: int | None = None
    verbose: bool = False
    reduce: bool = True
    warm_start: bool = True
    lagrangian: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")
        if self.mip_gap < 0:
            raise ValueError(f"mip_gap must be >= 0, got {self.mip_gap}")
        if not (self.backend == "highs" or self.backend.startswith("pulp:")):
            raise ValueError(
                f"unknown solver backend {self.backend!r}; use 'highs' or 'pulp:<SOLVER>' "
                "(pulp:CBC, pulp:GLPK, pulp:GUROBI, pulp:CPLEX)"
            )


@dataclass(frozen=True)
class SolveResult:
    """The plan a model produced.

    Attributes
    ----------
    selected
        Bool per candidate site (original indexing): open in the plan. Fixed existing sites are
        ``True``.
    status
        See :data:`Status`.
    objective
        Objective of the plan in the model's own units (yuan, people, person-minutes), over the
        original (unreduced) instance.
    bound
        Proven bound on the objective (lower for minimisation, upper for maximisation).
    mip_gap
        Proven relative gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 when optimal.
    seconds
        Wall-clock seconds of the whole call (reductions, greedy, build, solve).
    solver
        Which backend solved it (``"highs 1.15.1"``, ``"pulp:CBC"``, ``"reductions"``).
    size_before, size_after
        Model size (``rows``, ``cols``, ``nnz``) before and after the reductions.
    notes
        Human-readable remarks (reductions applied, greedy value, time limit hit ...).
    arrays
        Problem-specific arrays; each model documents its keys.
    timings
        Seconds per phase: ``reduce``, ``greedy``, ``build``, ``solve``.
    """

    selected: np.ndarray
    status: Status
    objective: float
    bound: float
    mip_gap: float
    seconds: float
    solver: str
    size_before: dict[str, int]
    size_after: dict[str, int]
    notes: tuple[str, ...] = ()
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_selected(self) -> int:
        """Number of open sites (existing and new)."""
        return int(np.count_nonzero(self.selected))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``summary.json`` and logs)."""
        return {
            "status": self.status,
            "objective": float(self.objective),
            "bound": float(self.bound),
            "mip_gap": float(self.mip_gap),
            "seconds": round(float(self.seconds), 4),
            "solver": self.solver,
            "n_selected": self.n_selected,
            "size_before": dict(self.size_before),
            "size_after": dict(self.size_after),
            "notes": list(self.notes),
        }


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap between a plan's objective and a proven bound (0 when they agree)."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return float(diff / max(abs(objective), 1e-9))
