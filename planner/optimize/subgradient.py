"""Projected subgradient optimisation of a Lagrangian dual (the bound engine of MCLP and LSCP).

The dual function ``L(lam)`` of a relaxation is convex (minimised, for an upper bound of a
maximisation) or concave (maximised, for a lower bound of a minimisation), piecewise linear, and
every evaluation at any ``lam`` inside its box is a valid bound. The driver runs the classic
Held–Wolfe–Crowder iteration with three refinements measured on county-scale MCLP instances
(``benchmarks/mclp_large.py``):

* Polyak step ``mu * |L - target| / ||s * g||^2`` towards the incumbent's value, with the step
  factor ``mu`` divided by 1.5 after ``patience`` iterations without a new best bound;
* a diagonal metric ``s_i^2`` per multiplier (``s_i = sqrt(upper_i)``: multipliers whose range is
  wide move further), which on the 80k-row MCLP instance reached within 0.2 % of the LP bound in
  1,400 iterations where the unscaled iteration stayed 0.6 % above it after 3,000;
* deflection (Camerini–Fratta–Maffioli): the direction is ``g + deflect * previous direction``.

Components of ``g`` that would push a multiplier out of its box are zeroed before the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DualPoint:
    """One evaluation of the dual function: its value (a valid bound) and a subgradient."""

    value: float
    grad: np.ndarray


@dataclass(frozen=True)
class SubgradientRun:
    """Outcome of :func:`subgradient`: the best multipliers and their bound."""

    lam: np.ndarray
    value: float
    iterations: int
    seconds: float
    stopped: str


def subgradient(
    oracle: Callable[[np.ndarray], DualPoint],
    lam: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    minimize: bool,
    target: Callable[[], float],
    closed: Callable[[float], bool],
    deadline: float,
    max_iter: int = 5000,
    mu: float = 1.0,
    mu_min: float = 1e-4,
    patience: int = 20,
    deflect: float = 0.6,
    scale: np.ndarray | None = None,
    after: Callable[[int, np.ndarray, DualPoint], None] | None = None,
) -> SubgradientRun:
    """Optimise the dual function from ``lam`` until it closes the gap, stalls or runs out of time.

    Parameters
    ----------
    oracle
        ``lam -> DualPoint``: the bound at ``lam`` and a subgradient (of a convex function when
        ``minimize``, of a concave one otherwise).
    lam, lower, upper
        Starting multipliers and their box (``upper`` may be ``inf``).
    minimize
        ``True``: the dual gives upper bounds, minimise it; ``False``: lower bounds, maximise.
    target
        The incumbent's value (read each iteration: heuristics may improve it).
    closed
        ``best -> bool``: the bound proves the incumbent good enough; stop.
    deadline
        ``time.perf_counter()`` value after which to stop.
    max_iter, mu, mu_min, patience, deflect
        Iteration cap, initial and final step factor, stall length before the step factor shrinks,
        deflection weight.
    scale
        Diagonal metric (default ``sqrt(upper)`` where finite, else 1).
    after
        Called after each evaluation with (iteration, multipliers, point), e.g. to run a
        Lagrangian heuristic that improves the incumbent.
    """
    t0 = time.perf_counter()
    sign = 1.0 if minimize else -1.0
    if scale is None:
        scale = np.where(np.isfinite(upper), np.sqrt(np.maximum(upper, 0.0)), 1.0)
    s2 = np.asarray(scale, dtype=np.float64) ** 2
    lam = np.clip(np.asarray(lam, dtype=np.float64), lower, upper)
    best_lam, best = lam.copy(), np.inf * sign
    direction: np.ndarray | None = None
    stall, stopped, it = 0, "iterations", 0
    for it in range(1, max_iter + 1):
        point = oracle(lam)
        if after is not None:
            after(it, lam, point)
        if sign * (best - point.value) > 1e-9 * max(1.0, abs(best) if np.isfinite(best) else 1.0):
            best, best_lam, stall = point.value, lam.copy(), 0
        else:
            stall += 1
            if stall >= patience:
                mu, stall = mu / 1.5, 0
        if closed(best):
            stopped = "closed"
            break
        if mu < mu_min:
            stopped = "converged"
            break
        if time.perf_counter() >= deadline:
            stopped = "time"
            break
        # descent direction in the minimisation convention: lam <- lam - step * d
        g = sign * point.grad
        g[((lam <= lower) & (g > 0)) | ((lam >= upper) & (g < 0))] = 0.0
        direction = g if direction is None else g + deflect * direction
        norm = float(np.sum(s2 * direction * direction))  # not BLAS: its threads stall on busy machines
        if norm <= 0.0:
            stopped = "stationary"
            break
        gap = abs(point.value - target())
        if gap <= 0.0:
            gap = 1e-3 * max(1.0, abs(point.value))
        lam = np.minimum(np.maximum(lam - (mu * gap / norm) * s2 * direction, lower), upper)
    return SubgradientRun(best_lam, float(best), it, time.perf_counter() - t0, stopped)
