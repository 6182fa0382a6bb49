"""Greedy heuristics on the sparse structure: warm starts for the exact models.

Each heuristic returns a feasible plan (bool per column). The exact models pass it to the solver
as its first incumbent, and report its value next to the optimum.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp


def greedy_cover(A: sp.csr_matrix, cost: np.ndarray) -> np.ndarray:
    """Chvátal's greedy set cover with cost, then a redundancy pass.

    Repeatedly opens the column with the least cost per newly covered row; then closes, in
    decreasing cost, every open column whose rows are all covered by other open columns.
    Rows that no column covers are ignored.

    Parameters
    ----------
    A
        Rows × columns 0/1 CSR.
    cost
        Non-negative cost per column.

    Returns
    -------
    numpy.ndarray
        Bool per column: open.
    """
    n = A.shape[1]
    cost = np.asarray(cost, dtype=np.float64)
    csc = sp.csc_matrix(A)
    csr = sp.csr_matrix(A)
    uncovered = np.diff(csr.indptr) > 0
    count = np.diff(csc.indptr).astype(np.float64)
    chosen = np.zeros(n, dtype=bool)
    while uncovered.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(count > 0, cost / np.maximum(count, 1e-300), np.inf)
        j = int(np.argmin(ratio))
        if not np.isfinite(ratio[j]):
            break
        chosen[j] = True
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        rows = rows[uncovered[rows]]
        uncovered[rows] = False
        if rows.size:
            sub = csr[rows]
            count -= np.bincount(sub.indices, minlength=n)
        count[j] = 0
    return drop_redundant(A, cost, chosen)


def drop_redundant(A: sp.csr_matrix, cost: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Close open columns (most expensive first) whose rows stay covered by the others."""
    csc = sp.csc_matrix(A)
    chosen = chosen.copy()
    times = np.asarray(A @ chosen.astype(np.int64)).ravel()
    for j in np.flatnonzero(chosen)[np.argsort(-np.asarray(cost)[chosen], kind="stable")]:
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if rows.size == 0 or np.all(times[rows] >= 2):
            chosen[j] = False
            times[rows] -= 1
    return chosen


def greedy_max_coverage(
    A: sp.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float | None = None,
    max_new: int | None = None,
    private: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy maximal coverage under a count and/or money budget.

    With a money budget the column with the best gain per yuan among the affordable ones is
    opened (the single best affordable column is kept if it beats the ratio plan, the classic
    1-1/e safeguard); with a count only, the column with the largest gain.

    Parameters
    ----------
    A
        Rows × columns 0/1 CSR.
    weight
        Non-negative weight per row.
    cost
        Non-negative cost per column.
    budget, max_new
        Money budget and/or maximum number of columns.
    private
        Weight earned by a column alone (folded singleton rows).

    Returns
    -------
    numpy.ndarray
        Bool per column: open.
    """
    m, n = A.shape
    weight = np.asarray(weight, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    priv = np.zeros(n) if private is None else np.asarray(private, dtype=np.float64)
    csc = sp.csc_matrix(A)
    csr = sp.csr_matrix(A)

    def run(by_ratio: bool) -> tuple[np.ndarray, float]:
        uncovered = np.ones(m, dtype=bool)
        gain = np.asarray(csc.T @ weight).ravel() + priv
        chosen = np.zeros(n, dtype=bool)
        left = np.inf if budget is None else float(budget)
        value = 0.0
        while max_new is None or chosen.sum() < max_new:
            ok = (~chosen) & (cost <= left + 1e-9) & (gain > 0)
            if not ok.any():
                break
            score = gain / np.maximum(cost, 1e-12) if by_ratio else gain.copy()
            score[~ok] = -np.inf
            j = int(np.argmax(score))
            chosen[j] = True
            left -= cost[j]
            value += gain[j]
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            rows = rows[uncovered[rows]]
            uncovered[rows] = False
            if rows.size:
                sub = csr[rows]
                gain -= np.bincount(
                    sub.indices, weights=np.repeat(weight[rows], np.diff(sub.indptr)), minlength=n
                )
            gain[j] = 0.0
        return chosen, value

    if budget is None:
        return run(False)[0]
    best, value = run(True)
    ratio_free = run(False)
    if ratio_free[1] > value:
        best, value = ratio_free
    return best


def improve_max_coverage(
    A: sp.csr_matrix,
    weight: np.ndarray,
    cost: np.ndarray,
    chosen: np.ndarray,
    *,
    budget: float | None = None,
    max_new: int | None = None,
    private: np.ndarray | None = None,
    max_iter: int = 500,
    deadline: float | None = None,
) -> np.ndarray:
    """Best-improvement interchange (Teitz–Bart) for max coverage, from a feasible plan.

    Each round evaluates every swap (close ``j`` open, open ``k`` closed) at once on the sparse
    structure: ``gain(k) - loss(j) + shared(j, k)`` where ``loss(j)`` is the weight only ``j``
    covers, ``gain(k)`` the uncovered weight ``k`` would add and ``shared(j, k)`` the weight only
    ``j`` covers that ``k`` also covers. The best improving swap that keeps the count and budget
    is applied (or a plain opening while the limits allow one); stops when none improves.

    ``deadline`` (a ``time.perf_counter()`` value) stops the rounds early.

    Returns
    -------
    numpy.ndarray
        Bool per column: a plan at least as good as ``chosen``, within the same limits.
    """
    n = A.shape[1]
    w = np.asarray(weight, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    priv = np.zeros(n) if private is None else np.asarray(private, dtype=np.float64)
    csr = sp.csr_matrix(A, dtype=np.float64)
    csc = sp.csc_matrix(csr)
    x = chosen.copy()
    cnt = np.asarray(csr @ x.astype(np.float64)).ravel()
    tol = 1e-9 * max(1.0, float(w.sum() + priv.sum()))
    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        spent = float(c[x].sum())
        gain = np.asarray(csc.T @ (w * (cnt == 0))).ravel() + priv
        gain[x] = -np.inf
        room_count = max_new is None or int(x.sum()) < max_new
        if room_count:
            ok = ~x if budget is None else (~x) & (c <= budget - spent + 1e-9)
            if ok.any() and np.max(np.where(ok, gain, -np.inf)) > tol:
                k = int(np.argmax(np.where(ok, gain, -np.inf)))
                x[k] = True
                cnt += np.asarray(csc[:, k].todense()).ravel()
                continue
        S = np.flatnonzero(x)
        if S.size == 0:
            break
        once = (cnt == 1).astype(np.float64) * w
        loss = np.asarray(csc[:, S].T @ once).ravel() + priv[S]
        shared = (sp.csr_matrix(csc[:, S].T.multiply(once[None, :])) @ csr).toarray()  # |S| × n
        delta = gain[None, :] - loss[:, None] + shared
        if budget is not None:
            delta[(c[None, :] - c[S][:, None]) > budget - spent + 1e-9] = -np.inf
        delta[:, x] = -np.inf
        jj, kk = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[jj, kk] <= tol:
            break
        j = int(S[jj])
        x[j] = False
        x[int(kk)] = True
        cnt -= np.asarray(csc[:, j].todense()).ravel()
        cnt += np.asarray(csc[:, int(kk)].todense()).ravel()
    return x
