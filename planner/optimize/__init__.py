"""Exact placement models: arrays in, :class:`SolveResult` out.

Coverage matrices are ``scipy.sparse`` (demand × sites, bool) built by :mod:`planner.coverage`;
no geodata enters this package. Every model reduces its instance exactly, starts the solver
from a greedy plan, and returns the plan with its proven gap (see :mod:`planner.optimize.result`).
"""

from __future__ import annotations

from planner.optimize.capacity import solve_capacitated_cover, solve_capacitated_max_coverage
from planner.optimize.cover import solve_min_cost_cover
from planner.optimize.curve import budget_coverage_curve
from planner.optimize.density import centre_requirement, locker_requirement, outlet_requirement, solve_density
from planner.optimize.mclp import solve_max_coverage
from planner.optimize.parks import solve_parks
from planner.optimize.pcenter import solve_p_center
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, MipSolution, solve_mip
from planner.optimize.stations import Phase, solve_village_stations
from planner.optimize.tiers import assign_tiers

__all__ = [
    "MipModel",
    "MipSolution",
    "Phase",
    "SolveResult",
    "SolverSettings",
    "assign_tiers",
    "budget_coverage_curve",
    "centre_requirement",
    "locker_requirement",
    "outlet_requirement",
    "solve_capacitated_cover",
    "solve_capacitated_max_coverage",
    "solve_density",
    "solve_max_coverage",
    "solve_min_cost_cover",
    "solve_mip",
    "solve_p_center",
    "solve_parks",
    "solve_village_stations",
]
