"""The joint pickup model and the village-station model against brute force on small instances."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimize.joint import (
    Budgets,
    JointInstance,
    StationInstance,
    solve_joint,
    solve_station_plan,
)


def random_instance(
    seed: int, *, n_rows: int = 9, n_exist: int = 2, n_cand: int = 8, units: int = 3
) -> JointInstance:
    rng = np.random.default_rng(seed)
    n = n_exist + n_cand
    cover = rng.random((n_rows, n)) < 0.25
    members = rng.random((units, n)) < 0.45
    return JointInstance(
        coverage=sp.csr_matrix(cover),
        weight=rng.integers(1, 50, n_rows).astype(float),
        fixed=np.r_[np.ones(n_exist, dtype=bool), np.zeros(n_cand, dtype=bool)],
        cost=np.r_[np.zeros(n_exist), rng.integers(1, 20, n_cand)].astype(float),
        site_type=np.array(rng.choice(["outlet", "locker"], n)),
        members=sp.csr_matrix(members),
        need=rng.integers(0, 3, units),
    )


def brute_min_cost(inst: JointInstance, budgets: Budgets) -> float | None:
    """Least cost over every subset of candidates meeting cover, capped counts and budgets."""
    n_exist = int(inst.fixed.sum())
    cand = np.flatnonzero(~inst.fixed)
    A = inst.coverage.toarray()
    coverable = A.any(axis=1)
    M = inst.members.toarray()
    need = np.minimum(inst.need, M[:, cand].sum(axis=1))
    best = None
    for k in range(len(cand) + 1):
        for pick in itertools.combinations(cand, k):
            x = inst.fixed.copy()
            x[list(pick)] = True
            if not (A[:, x].any(axis=1) | ~coverable).all():
                continue
            if (M[:, list(pick)].sum(axis=1) < need).any():
                continue
            spent = float(inst.cost[list(pick)].sum())
            if budgets.total is not None and spent > budgets.total + 1e-9:
                continue
            if any(
                inst.cost[list(pick)][inst.site_type[list(pick)] == t].sum() > v + 1e-9
                for t, v in budgets.per_type.items()
            ):
                continue
            best = spent if best is None else min(best, spent)
    assert n_exist >= 0
    return best


@pytest.mark.parametrize("seed", range(12))
def test_min_cost_with_counts_equals_brute_force(seed: int) -> None:
    inst = random_instance(seed)
    expected = brute_min_cost(inst, Budgets())
    result = solve_joint(inst)
    assert result.objective == pytest.approx(expected)
    x = np.asarray(result.selected)
    A = inst.coverage.toarray()
    assert (A[:, x].any(axis=1) | ~A.any(axis=1)).all()


@pytest.mark.parametrize("seed", range(8))
def test_per_type_budgets_bind_or_are_infeasible(seed: int) -> None:
    inst = random_instance(seed)
    free = solve_joint(inst)
    by_type = free.extra["cost_by_type"]
    if not by_type:
        pytest.skip("the least-cost plan builds nothing")
    tight_type = max(by_type, key=lambda t: by_type[t])
    budgets = Budgets(per_type={tight_type: by_type[tight_type] - 1})
    expected = brute_min_cost(inst, budgets)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve_joint(inst, budgets=budgets)
    else:
        result = solve_joint(inst, budgets=budgets)
        assert result.objective == pytest.approx(expected)
        assert result.extra["cost_by_type"].get(tight_type, 0.0) <= by_type[tight_type] - 1 + 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_max_coverage_equals_brute_force(seed: int) -> None:
    inst = random_instance(seed)
    budget = 15.0
    A = inst.coverage.toarray()
    cand = np.flatnonzero(~inst.fixed)
    best = 0.0
    for k in range(len(cand) + 1):
        for pick in itertools.combinations(cand, k):
            if inst.cost[list(pick)].sum() > budget:
                continue
            x = inst.fixed.copy()
            x[list(pick)] = True
            best = max(best, float(inst.weight[A[:, x].any(axis=1)].sum()))
    result = solve_joint(inst, objective="max_coverage", budgets=Budgets(total=budget))
    assert result.objective == pytest.approx(best)
    assert result.extra["cost"] <= budget


def capacitated_feasible(A: np.ndarray, load: np.ndarray, cap: np.ndarray, x: np.ndarray) -> bool:
    """Every coverable row assigned in full to open sites within capacity: a max-flow check (networkx)."""
    g = nx.DiGraph()
    rows = np.flatnonzero(A.any(axis=1))
    for i in rows:
        g.add_edge("s", ("r", i), capacity=float(load[i]))
        for j in np.flatnonzero(A[i] & x):
            g.add_edge(("r", i), ("c", j), capacity=float(load[i]))
    for j in np.flatnonzero(x):
        g.add_edge(("c", j), "t", capacity=float(cap[j]) if np.isfinite(cap[j]) else 1e18)
    if not rows.size:
        return True
    value = nx.maximum_flow_value(g, "s", "t")
    return bool(value >= load[rows].sum() - 1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_capacities_bind_as_a_flow_check_says(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    base = random_instance(seed, units=0)
    A = base.coverage.toarray()
    load = base.weight.copy()
    cap = np.r_[np.full(int(base.fixed.sum()), 30.0), rng.integers(20, 60, int((~base.fixed).sum()))].astype(
        float
    )
    inst = JointInstance(
        base.coverage,
        base.weight,
        base.fixed,
        base.cost,
        base.site_type,
        base.members,
        base.need,
        capacity=cap,
        load=load,
    )
    cand = np.flatnonzero(~base.fixed)
    best = None
    for k in range(len(cand) + 1):
        for pick in itertools.combinations(cand, k):
            x = base.fixed.copy()
            x[list(pick)] = True
            if capacitated_feasible(A, load, cap, x):
                cost = float(base.cost[list(pick)].sum())
                best = cost if best is None else min(best, cost)
    if best is None:
        with pytest.raises(InfeasibleError):
            solve_joint(inst)
        return
    result = solve_joint(inst)
    assert result.objective == pytest.approx(best)
    assert capacitated_feasible(A, load, cap, np.asarray(result.selected))


def test_capacity_makes_the_plan_open_more_sites() -> None:
    # three rows of 40 people; site 0 covers all: unlimited it suffices; with capacity 60 it serves only half,
    # and sites 1 + 2 (cost 14) serve all 120 with row 2 split 20/20 (sites 0 + 1 would cost 17)
    cover = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1]], dtype=bool))
    base = dict(
        coverage=cover,
        weight=np.full(3, 40.0),
        fixed=np.zeros(3, dtype=bool),
        cost=np.array([10.0, 7.0, 7.0]),
        site_type=np.array(["outlet"] * 3),
        members=sp.csr_matrix((0, 3), dtype=bool),
        need=np.zeros(0, dtype=int),
    )
    assert solve_joint(JointInstance(**base)).objective == 10.0
    capped = JointInstance(**base, capacity=np.full(3, 60.0), load=np.full(3, 40.0))
    result = solve_joint(capped)
    assert result.objective == 14.0 and list(result.selected) == [False, True, True]


def brute_stations(inst: StationInstance) -> float | None:
    best = None
    n = inst.own.shape[1]
    own, share = inst.own.toarray(), inst.share.toarray()
    for k in range(n + 1):
        for pick in itertools.combinations(range(n), k):
            x = np.zeros(n, dtype=bool)
            x[list(pick)] = True
            has_own = inst.has_own | own[:, x].any(axis=1)
            served = inst.served | has_own | share[:, x].any(axis=1)
            if has_own.sum() >= inst.need_own and served.sum() >= inst.need_served:
                cost = float(inst.cost[x].sum())
                best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(10))
def test_station_plan_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nv, nc = 8, 7
    own = np.zeros((nv, nc), dtype=bool)
    own[rng.integers(0, nv, nc), np.arange(nc)] = True
    share = own | (rng.random((nv, nc)) < 0.3)
    has_own = rng.random(nv) < 0.3
    inst = StationInstance(
        own=sp.csr_matrix(own),
        share=sp.csr_matrix(share),
        has_own=has_own,
        served=has_own | (rng.random(nv) < 0.2),
        cost=rng.integers(1, 9, nc).astype(float),
        need_own=int(rng.integers(2, 6)),
        need_served=int(rng.integers(4, 8)),
    )
    from planner.optimize.joint import station_targets

    need_own, need_served, _ = station_targets(inst)
    capped = StationInstance(
        inst.own, inst.share, inst.has_own, inst.served, inst.cost, need_own, need_served
    )
    result = solve_station_plan(inst)
    assert result.objective == pytest.approx(brute_stations(capped))
    assert (
        int(np.sum(result.arrays["own"])) >= need_own and int(np.sum(result.arrays["served"])) >= need_served
    )
