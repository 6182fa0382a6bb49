"""One exact model for a plan's pickup points: radius coverage, per-unit counts, budgets and capacity.

Arrays in, :class:`~planner.optimize.result.SolveResult` out. Sites are the existing facilities
(fixed open) followed by the candidate sites; rows are demand points (people); units are the units of
the count standards (a community, a township, the county: a site may belong to several).

``objective="min_cost"`` — least cost so that

* every demand row some site can serve is served (``A x >= 1``; rows served by an existing site are
  already met),
* every unit gets the facilities it still needs (``M x >= need``),
* the money spent stays within the total and per-type budgets (when given),
* with capacities, each row's people are assigned to open sites that serve it, no site above its
  capacity (``y_ij`` continuous, ``sum_j y_ij = 1``, ``sum_i load_i y_ij <= cap_j x_j``).

``objective="max_coverage"`` — the most people served within the budgets (MCLP; counts are not
imposed: the budget decides).

:func:`solve_station_plan` is the village-station model: stations so that at least ``need_own``
villages have a station of their own and ``need_served`` are served (own or shared), at least cost
or within a budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from planner.errors import InfeasibleError, Problem
from planner.optimize.reduce import as_bool_csr, merge_identical_rows
from planner.optimize.result import SolveResult, SolverSettings
from planner.optimize.solver import MipModel, solve_mip

log = logging.getLogger(__name__)

Objective = Literal["min_cost", "max_coverage"]

#: Assignment pairs up to which every pair gets the strong link ``y_ij <= x_j`` (a tighter LP bound).
STRONG_LINK_MAX = 200_000


@dataclass(frozen=True)
class JointInstance:
    """The arrays of a pickup plan (see the module docstring).

    ``coverage`` rows × sites; ``weight`` people per row; ``fixed`` existing sites; ``cost`` per unit
    of a site (existing 0); ``site_type`` per site; ``members`` units × sites and ``need`` the
    facilities each unit still needs beyond what it has; ``capacity`` per unit of a site (``inf`` =
    unlimited) and ``load`` per row (in the capacity's unit) when capacities apply, else ``None``;
    ``units``: how many units a site can host (``x_j`` is then an integer up to it; default 1);
    ``forced``: the units each site must get (bool or counts).
    """

    coverage: sp.csr_matrix
    weight: np.ndarray
    fixed: np.ndarray
    cost: np.ndarray
    site_type: np.ndarray
    members: sp.csr_matrix
    need: np.ndarray
    capacity: np.ndarray | None = None
    load: np.ndarray | None = None
    forced: np.ndarray | None = None
    units: np.ndarray | None = None

    @property
    def n_sites(self) -> int:
        """Number of sites (existing and candidates)."""
        return int(self.coverage.shape[1])

    @property
    def max_units(self) -> np.ndarray:
        """How many units each site can host (locker groups at one compound; existing sites 1)."""
        return np.ones(self.n_sites) if self.units is None else np.asarray(self.units, dtype=float)


@dataclass(frozen=True)
class Budgets:
    """Money limits (yuan): in total and per facility type; ``None`` = no limit."""

    total: float | None = None
    per_type: Mapping[str, float] = field(default_factory=dict)

    def rows(self, cost: np.ndarray, site_type: np.ndarray) -> list[tuple[np.ndarray, float, str]]:
        """``(coefficients, limit, label)`` of each budget row."""
        out = []
        if self.total is not None:
            out.append((cost, float(self.total), "total"))
        for t, limit in sorted(self.per_type.items()):
            out.append((np.where(site_type == t, cost, 0.0), float(limit), str(t)))
        return out


def _stack(blocks: list[sp.csr_matrix], n: int) -> sp.csr_matrix:
    blocks = [b for b in blocks if b.shape[0]]
    return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n))


def _bounds(inst: JointInstance) -> tuple[np.ndarray, np.ndarray]:
    lower = inst.fixed.astype(float)
    if inst.forced is not None:
        lower = np.maximum(lower, inst.forced.astype(float))
    return lower, np.maximum(inst.max_units, lower)


def _count_rows(inst: JointInstance) -> tuple[sp.csr_matrix, np.ndarray]:
    """Count constraints ``M_cand x >= need`` over candidate sites (needs capped at what the unit has)."""
    cand = sp.diags((~inst.fixed).astype(float))
    members = sp.csr_matrix(inst.members @ cand)
    available = np.asarray(members @ inst.max_units).ravel()
    need = np.minimum(inst.need, available)
    keep = need > 0
    return members[keep], need[keep].astype(float)


def _min_cost_model(inst: JointInstance, budgets: Budgets) -> MipModel:
    A = as_bool_csr(inst.coverage)
    open_fixed = np.asarray(A[:, inst.fixed].sum(axis=1)).ravel() > 0
    coverable = np.asarray(A.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(coverable & ~open_fixed)
    cover, _, _ = merge_identical_rows(A[rows], np.ones(rows.size))
    members, need = _count_rows(inst)
    budget_rows = budgets.rows(inst.cost, inst.site_type)
    B = (
        sp.csr_matrix(np.array([r[0] for r in budget_rows]))
        if budget_rows
        else sp.csr_matrix((0, inst.n_sites))
    )
    matrix = _stack([sp.csr_matrix(cover, dtype=float), members.astype(float), B], inst.n_sites)
    lower = np.concatenate([np.ones(cover.shape[0]), need, np.full(B.shape[0], -np.inf)])
    upper = np.concatenate([np.full(cover.shape[0] + need.size, np.inf), [r[1] for r in budget_rows]])
    col_lo, col_hi = _bounds(inst)
    return MipModel(
        inst.cost.astype(float), matrix, lower, upper, col_lo, col_hi, np.ones(inst.n_sites, dtype=bool)
    )


def _capacity_model(inst: JointInstance, budgets: Budgets, *, cover: bool) -> tuple[MipModel, sp.coo_matrix]:
    """Sites ``x``, then an assignment share ``y`` per coverage pair; ``cover``: serve all in full."""
    assert inst.capacity is not None and inst.load is not None
    A = sp.coo_matrix(as_bool_csr(inst.coverage))
    n, p = inst.n_sites, A.nnz
    coverable = np.flatnonzero(np.asarray(as_bool_csr(inst.coverage).sum(axis=1)).ravel() > 0)
    row_pos = {r: k for k, r in enumerate(coverable)}
    assign = sp.csr_matrix(
        (np.ones(p), ([row_pos[r] for r in A.row], n + np.arange(p))), shape=(coverable.size, n + p)
    )
    finite = np.flatnonzero(np.isfinite(inst.capacity))
    load = sp.csr_matrix((inst.load[A.row], (A.col, n + np.arange(p))), shape=(n, n + p))
    load = load - sp.csr_matrix((inst.capacity[finite], (finite, finite)), shape=(n, n + p))
    load = sp.csr_matrix(load)[finite]
    # y_ij <= x_j: needed where a closed site has no capacity row (unlimited), kept for every pair of a
    # candidate while the instance is small (a stronger LP bound; the model is exact either way)
    unlimited = ~np.isfinite(inst.capacity)
    need_link = ~inst.fixed[A.col] & (unlimited[A.col] | (p <= STRONG_LINK_MAX))
    k = np.flatnonzero(need_link)
    link = sp.csr_matrix(
        (
            np.r_[np.ones(k.size), -np.ones(k.size)],
            (np.r_[np.arange(k.size), np.arange(k.size)], np.r_[n + k, A.col[k]]),
        ),
        shape=(k.size, n + p),
    )
    members, need = _count_rows(inst)
    members = sp.hstack([members, sp.csr_matrix((members.shape[0], p))], format="csr")
    budget_rows = budgets.rows(inst.cost, inst.site_type)
    B = (
        sp.csr_matrix(np.array([np.r_[r[0], np.zeros(p)] for r in budget_rows]))
        if budget_rows
        else sp.csr_matrix((0, n + p))
    )
    matrix = _stack([assign, load, link, members, B], n + p)
    lower = np.concatenate(
        [
            np.ones(coverable.size) if cover else np.zeros(coverable.size),
            np.full(load.shape[0] + link.shape[0], -np.inf),
            need,
            np.full(B.shape[0], -np.inf),
        ]
    )
    upper = np.concatenate(
        [
            np.ones(coverable.size),
            np.zeros(load.shape[0] + link.shape[0]),
            np.full(need.size, np.inf),
            [r[1] for r in budget_rows],
        ]
    )
    col_lo, col_hi = _bounds(inst)
    cost = np.r_[inst.cost, np.zeros(p)] if cover else np.r_[np.zeros(n), inst.weight[A.row]]
    integer = np.r_[np.ones(n, dtype=bool), np.zeros(p, dtype=bool)]
    model = MipModel(
        cost.astype(float),
        matrix,
        lower,
        upper,
        np.r_[col_lo, np.zeros(p)],
        np.r_[col_hi, np.ones(p)],
        integer,
        sense="min" if cover else "max",
    )
    return model, A


def _max_coverage_model(inst: JointInstance, budgets: Budgets) -> tuple[MipModel, np.ndarray, float]:
    A = as_bool_csr(inst.coverage)
    open_fixed = np.asarray(A[:, inst.fixed].sum(axis=1)).ravel() > 0
    coverable = np.asarray(A.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(coverable & ~open_fixed)
    sub = A[rows].astype(float)
    n, m = inst.n_sites, rows.size
    link = sp.hstack([-sub, sp.identity(m, format="csr")], format="csr")  # z_i - sum_j a_ij x_j <= 0
    budget_rows = budgets.rows(inst.cost, inst.site_type)
    B = (
        sp.csr_matrix(np.array([np.r_[r[0], np.zeros(m)] for r in budget_rows]))
        if budget_rows
        else sp.csr_matrix((0, n + m))
    )
    matrix = _stack([link, B], n + m)
    lower = np.full(matrix.shape[0], -np.inf)
    upper = np.concatenate([np.zeros(m), [r[1] for r in budget_rows]])
    col_lo, col_hi = _bounds(inst)
    constant = float(inst.weight[open_fixed].sum())
    model = MipModel(
        np.r_[np.zeros(n), inst.weight[rows]].astype(float),
        matrix,
        lower,
        upper,
        np.r_[col_lo, np.zeros(m)],
        np.r_[col_hi, np.ones(m)],
        np.r_[np.ones(n, dtype=bool), np.zeros(m, dtype=bool)],
        sense="max",
        offset=constant,
    )
    return model, rows, constant


def solve_joint(
    inst: JointInstance,
    *,
    objective: Objective = "min_cost",
    budgets: Budgets | None = None,
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Solve a pickup plan (see the module docstring).

    Returns
    -------
    SolveResult
        ``selected`` (sites open, existing included), ``objective`` (cost of new sites for
        ``min_cost``; people served for ``max_coverage``), ``arrays["covered"]`` (rows served),
        ``extra["cost_by_type"]``.

    Raises
    ------
    InfeasibleError
        The budgets cannot pay for what the standards need (the caller explains by how much).
    """
    settings = settings or SolverSettings()
    budgets = budgets or Budgets()
    start = time.perf_counter()
    if inst.capacity is not None:
        model, pairs = _capacity_model(inst, budgets, cover=objective == "min_cost")
    elif objective == "min_cost":
        model, pairs = _min_cost_model(inst, budgets), None
    else:
        model, _, _ = _max_coverage_model(inst, budgets)
        pairs = None
    sol = solve_mip(model, settings=settings)
    units = np.rint(sol.x[: inst.n_sites]) if sol.x.size else inst.fixed.astype(float)
    units = np.maximum(units, inst.fixed.astype(float))
    x = units > 0
    covered = _covered(inst, x, sol.x, pairs)
    new = np.where(inst.fixed, 0.0, units)
    spent = float(inst.cost @ new)
    by_type = {
        str(t): float(inst.cost[inst.site_type == t] @ new[inst.site_type == t])
        for t in np.unique(inst.site_type[new > 0])
    }
    return SolveResult(
        selected=x,
        status=sol.status,
        objective=spent if objective == "min_cost" else float(inst.weight[covered].sum()),
        bound=sol.bound,
        mip_gap=sol.mip_gap,
        seconds=time.perf_counter() - start,
        solver=sol.solver,
        size_before={
            "rows": int(inst.coverage.shape[0]),
            "cols": inst.n_sites,
            "nnz": int(inst.coverage.nnz),
        },
        size_after=model.size,
        arrays={"covered": covered, "units": units.astype(np.int64)},
        extra={"cost_by_type": by_type, "cost": spent},
    )


def _covered(
    inst: JointInstance, x: np.ndarray, values: np.ndarray, pairs: sp.coo_matrix | None
) -> np.ndarray:
    """Rows served by the open sites (with capacities: rows assigned in full)."""
    A = as_bool_csr(inst.coverage)
    if pairs is None:
        return np.asarray(A[:, x].sum(axis=1)).ravel() > 0
    share = np.zeros(A.shape[0])
    np.add.at(share, pairs.row, values[inst.n_sites :])
    return share >= 1 - 1e-6


def budget_shortfall(problems_of: Mapping[str, float], budgets: Budgets) -> list[Problem]:
    """Problems for the budgets a plan's least costs exceed: ``{type or "total": least cost}`` in."""
    out = []
    if budgets.total is not None and problems_of.get("total", 0.0) > budgets.total + 1e-6:
        need = problems_of["total"]
        out.append(
            Problem(
                f"the standards in plan.meet need at least {need:,.0f} yuan; plan.budget.total is "
                f"{budgets.total:,.0f} yuan: short by {need - budgets.total:,.0f} yuan",
                location="plan.budget.total",
                fix="raise the budget, narrow plan.meet, or use objective: max_coverage",
            )
        )
    for t, limit in sorted(budgets.per_type.items()):
        need = problems_of.get(t, 0.0)
        if need > limit + 1e-6:
            out.append(
                Problem(
                    f"{t}: the standards in plan.meet need at least {need:,.0f} yuan of {t}s; "
                    f"plan.budget.per_type.{t} is {limit:,.0f}: short by {need - limit:,.0f} yuan",
                    location=f"plan.budget.per_type.{t}",
                    fix="raise that budget, narrow plan.meet, or use objective: max_coverage",
                )
            )
    return out


@dataclass(frozen=True)
class StationInstance:
    """Villages × station candidates: ``own`` (candidate stands in the village) and ``share`` (it serves
    the village, own or within reach); what each village has; the counts to reach."""

    own: sp.csr_matrix
    share: sp.csr_matrix
    has_own: np.ndarray
    served: np.ndarray
    cost: np.ndarray
    need_own: int
    need_served: int
    weight: np.ndarray | None = None
    forced: np.ndarray | None = None


def station_targets(inst: StationInstance) -> tuple[int, int, list[str]]:
    """The reachable counts (own, served) and a note for each target the candidates cannot reach."""
    own_possible = int((inst.has_own | (np.asarray(inst.own.sum(axis=1)).ravel() > 0)).sum())
    served_possible = int(
        (inst.served | inst.has_own | (np.asarray(inst.share.sum(axis=1)).ravel() > 0)).sum()
    )
    notes = []
    if inst.need_own > own_possible:
        notes.append(f"own stations: {inst.need_own} villages needed, the candidates reach {own_possible}")
    if inst.need_served > served_possible:
        notes.append(f"served villages: {inst.need_served} needed, the candidates reach {served_possible}")
    return min(inst.need_own, own_possible), min(inst.need_served, served_possible), notes


def solve_station_plan(
    inst: StationInstance,
    *,
    budget: float | None = None,
    objective: Objective = "min_cost",
    settings: SolverSettings | None = None,
) -> SolveResult:
    """Village stations: at least ``need_own`` own and ``need_served`` served villages, least cost.

    Variables: ``x_j`` per candidate, ``o_v``/``s_v`` in [0, 1] per village (own / served), with
    ``o_v <= has_own_v + sum_j own_vj x_j`` and ``s_v <= has_own_v + served_v + sum_j share_vj x_j``.
    ``max_coverage``: the most people served (``weight``) within ``budget``; needs are not imposed.
    Targets above what the candidates can reach are capped (see :func:`station_targets`).
    """
    settings = settings or SolverSettings()
    start = time.perf_counter()
    nv, nc = inst.own.shape
    need_own, need_served, notes = station_targets(inst)
    ident = sp.identity(nv, format="csr")
    zeros = sp.csr_matrix((nv, nv))
    own_link = sp.hstack([-inst.own.astype(float), ident, zeros], format="csr")
    share_link = sp.hstack([-inst.share.astype(float), zeros, ident], format="csr")
    rows = [own_link, share_link]
    lower = [np.full(nv, -np.inf), np.full(nv, -np.inf)]
    upper = [inst.has_own.astype(float), (inst.served | inst.has_own).astype(float)]
    if objective == "min_cost":
        rows += [
            sp.csr_matrix(np.r_[np.zeros(nc), np.ones(nv), np.zeros(nv)]),
            sp.csr_matrix(np.r_[np.zeros(nc), np.zeros(nv), np.ones(nv)]),
        ]
        lower += [np.array([need_own]), np.array([need_served])]
        upper += [np.array([np.inf]), np.array([np.inf])]
    if budget is not None:
        rows.append(sp.csr_matrix(np.r_[inst.cost, np.zeros(2 * nv)]))
        lower.append(np.array([-np.inf]))
        upper.append(np.array([budget]))
    weight = inst.weight if inst.weight is not None else np.ones(nv)
    cost = np.r_[inst.cost, np.zeros(2 * nv)] if objective == "min_cost" else np.r_[np.zeros(nc + nv), weight]
    forced = inst.forced.astype(float) if inst.forced is not None else np.zeros(nc)
    model = MipModel(
        cost,
        sp.vstack(rows, format="csr"),
        np.concatenate(lower),
        np.concatenate(upper),
        np.r_[forced, np.zeros(2 * nv)],
        np.ones(nc + 2 * nv),
        np.r_[np.ones(nc, dtype=bool), np.zeros(2 * nv, dtype=bool)],
        sense="min" if objective == "min_cost" else "max",
    )
    try:
        sol = solve_mip(model, settings=settings)
    except InfeasibleError as exc:
        raise InfeasibleError(
            problems=[
                Problem(
                    "the village-station budget cannot pay for the stations the targets need",
                    location="plan.budget",
                )
            ]
        ) from exc
    x = np.asarray(sol.x[:nc]) > 0.5 if sol.x.size else np.zeros(nc, dtype=bool)
    opened_own = inst.has_own | (np.asarray(inst.own[:, x].sum(axis=1)).ravel() > 0)
    served = inst.served | opened_own | (np.asarray(inst.share[:, x].sum(axis=1)).ravel() > 0)
    return SolveResult(
        selected=x,
        status=sol.status,
        objective=float(inst.cost[x].sum()),
        bound=sol.bound,
        mip_gap=sol.mip_gap,
        seconds=time.perf_counter() - start,
        solver=sol.solver,
        size_before={"rows": nv, "cols": nc, "nnz": int(inst.share.nnz)},
        size_after=model.size,
        notes=tuple(notes),
        arrays={"own": opened_own, "served": served},
        extra={"need_own": need_own, "need_served": need_served},
    )
