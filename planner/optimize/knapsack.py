"""The site-selection subproblem of the Lagrangian relaxations: a count and/or budget knapsack, in LP.

``max  sum_j c_j x_j  s.t.  sum_j x_j <= p,  sum_j cost_j x_j <= budget,  0 <= x <= 1``.

Its LP optimum is a valid upper bound of the 0/1 problem, and by LP duality every pair of
multipliers ``pi`` (count) and ``theta`` (budget), both ``>= 0``, gives the bound

``p * pi + budget * theta + sum_j max(0, c_j - pi - theta * cost_j)``,

equal to the LP optimum at the optimal pair. The *reduced value* ``d_j = c_j - pi - theta * cost_j``
says how much forcing ``x_j`` to 1 (``d_j < 0``) or to 0 (``d_j > 0``) lowers that bound: the
bound with ``x_j`` fixed is the bound above minus ``|d_j|`` (same multipliers, still dual
feasible). :mod:`planner.optimize.lagrange` fixes sites with it.

Count only: ``pi`` is any value between the ``(p+1)``-th and the ``p``-th largest ``c`` (clipped
at 0), found by a partial sort. With a budget the optimal ``theta`` minimises a convex piecewise
linear function of one variable; it is found by bisection on its slope, the count handled exactly
inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KnapsackLP:
    """The LP solution of the subproblem and its dual multipliers.

    Attributes
    ----------
    value
        The LP bound (the dual function at ``pi``, ``theta``; always a valid bound).
    x
        An LP-optimal solution (fractional on at most a few entries).
    pi, theta
        Dual multipliers of the count and the budget (0 when the limit is absent).
    pi_low
        Smallest optimal ``pi`` (count only: the ``(p+1)``-th largest ``c``, clipped at 0); the
        reduced values with ``pi_low`` are the strongest for fixing sites *in*, those with ``pi``
        for fixing sites *out*.
    plan
        A 0/1 plan within both limits, built greedily in the order of the reduced values (the
        Lagrangian heuristic's starting point).
    """

    value: float
    x: np.ndarray
    pi: float
    theta: float
    pi_low: float
    plan: np.ndarray


def _top(c: np.ndarray, p: int | None) -> tuple[np.ndarray, float, float]:
    """Bool mask of the ``p`` largest positive ``c`` and the count multiplier range (hi, lo)."""
    k = c.size
    if p is None or p >= k:
        return c > 0, 0.0, 0.0
    if p <= 0:
        return (
            np.zeros(k, dtype=bool),
            max(float(c.max(initial=0.0)), 0.0),
            max(float(c.max(initial=0.0)), 0.0),
        )
    part = np.argpartition(-c, p)
    top = part[:p]
    hi = max(float(c[top].min()), 0.0)
    lo = max(float(c[part[p:]].max()), 0.0)
    mask = np.zeros(k, dtype=bool)
    mask[top] = True
    return mask & (c > 0), hi, lo


def solve_knapsack_lp(
    c: np.ndarray, cost: np.ndarray, *, p: int | None, budget: float | None, iterations: int = 60
) -> KnapsackLP:
    """Solve the LP of the site-selection subproblem (module docstring).

    Parameters
    ----------
    c
        Value per site (may be negative: such sites are never chosen).
    cost
        Non-negative cost per site (used only with ``budget``).
    p
        Count limit (``None`` = none).
    budget
        Money limit (``None`` = none).
    iterations
        Bisection steps on ``theta`` (budget only).
    """
    c = np.asarray(c, dtype=np.float64)
    if budget is None:
        mask, hi, lo = _top(c, p)
        pi = hi if p is not None and p < c.size else 0.0
        value = float(c[mask].sum())
        return KnapsackLP(value, mask.astype(np.float64), pi, 0.0, lo if p is not None else 0.0, mask)
    cost = np.asarray(cost, dtype=np.float64)

    def at(theta: float) -> tuple[np.ndarray, float, float, float]:
        r = c - theta * cost
        mask, hi, lo = _top(r, p)
        return mask, float(cost[mask].sum()), hi, lo

    mask0, used0, hi0, lo0 = at(0.0)
    if used0 <= budget:
        value = float(c[mask0].sum())
        return KnapsackLP(value, mask0.astype(np.float64), hi0 if p is not None else 0.0, 0.0, lo0, mask0)
    if p is None:
        return _budget_only(c, cost, float(budget))
    pos = cost > 0
    t_hi = (
        float(np.max(np.where(pos, np.maximum(c, 0.0) / np.where(pos, cost, 1.0), 0.0))) * (1 + 1e-12) + 1e-12
    )
    t_lo = 0.0
    for _ in range(iterations):
        mid = 0.5 * (t_lo + t_hi)
        if at(mid)[1] > budget:
            t_lo = mid
        else:
            t_hi = mid
    m_in, used_in, hi_in, lo_in = at(t_hi)  # within budget
    m_out, used_out, _, _ = at(t_lo)  # over budget
    alpha = (
        1.0 if used_out <= used_in else float(np.clip((budget - used_in) / (used_out - used_in), 0.0, 1.0))
    )
    x = (1 - alpha) * m_in.astype(np.float64) + alpha * m_out.astype(np.float64)
    theta = t_hi
    r = c - theta * cost
    pi = hi_in if p is not None and p < c.size else 0.0
    cap = float(c.size) if p is None else float(p)
    value = float(budget) * theta + cap * pi + float(np.maximum(r - pi, 0.0).sum())
    plan = _greedy_plan(r, cost, p, float(budget))
    return KnapsackLP(value, x, pi, theta, lo_in if p is not None else 0.0, plan)


def _budget_only(c: np.ndarray, cost: np.ndarray, budget: float) -> KnapsackLP:
    """The budget knapsack LP without a count limit, in closed form (Dantzig's fractional knapsack).

    Sites of positive value are taken in decreasing value per yuan until the budget runs out; the
    site where it runs out is taken in part and its value per yuan is the optimal ``theta``. One
    sort instead of the bisection's sixty passes (the budget–coverage curve solves this LP some
    twenty thousand times on a prefecture). The caller has checked that the budget does not cover
    every site of positive value.
    """
    x = np.zeros(c.size, dtype=np.float64)
    free = (c > 0) & (cost <= 0)
    x[free] = 1.0
    paid = np.flatnonzero((c > 0) & (cost > 0))
    ratio = c[paid] / cost[paid]
    order = paid[np.argsort(-ratio, kind="stable")]
    spent = np.cumsum(cost[order])
    k = int(np.searchsorted(spent, budget, side="right"))  # the first site the budget cannot pay in full
    x[order[:k]] = 1.0
    theta = 0.0
    if k < order.size:
        j = order[k]
        x[j] = (budget - (float(spent[k - 1]) if k else 0.0)) / float(cost[j])
        theta = float(c[j] / cost[j])
    r = c - theta * cost
    value = budget * theta + float(np.maximum(r, 0.0).sum())
    plan = r > 0
    if float(cost[plan].sum()) > budget + 1e-9:  # rounding at the break: fall back to the greedy
        plan = _greedy_plan(r, cost, None, budget)
    return KnapsackLP(value, x, 0.0, theta, 0.0, plan)


def _greedy_plan(r: np.ndarray, cost: np.ndarray, p: int | None, budget: float) -> np.ndarray:
    """Sites in decreasing reduced value while positive and within the count and the budget."""
    plan = np.zeros(r.size, dtype=bool)
    left, count = budget, 0
    for j in np.argsort(-r, kind="stable"):
        if r[j] <= 0 or (p is not None and count >= p):
            break
        if cost[j] <= left + 1e-9:
            plan[j] = True
            left -= cost[j]
            count += 1
    return plan


def dual_value(
    c: np.ndarray, cost: np.ndarray, *, p: int | None, budget: float | None, pi: float, theta: float
) -> float:
    """The bound ``p*pi + budget*theta + sum max(0, c - pi - theta*cost)`` at given multipliers."""
    r = np.asarray(c, dtype=np.float64) - pi - (theta * np.asarray(cost) if budget is not None else 0.0)
    cap = float(c.size) if p is None else float(p)
    return cap * pi + (float(budget) * theta if budget is not None else 0.0) + float(np.maximum(r, 0.0).sum())
