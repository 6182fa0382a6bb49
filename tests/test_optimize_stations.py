"""Village stations (with sharing and phasing by year), checked against brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimize import Phase, SolverSettings, solve_village_stations


def instance(seed: int, m: int = 10, n: int = 6):
    rng = np.random.default_rng(seed)
    share = rng.random((m, n)) < 0.3
    cost = rng.integers(1, 9, size=n).astype(float)
    has = rng.random(m) < 0.2
    return share, cost, has


def brute_phased(share, cost, has, phases, carry_over=True) -> float:
    """Least total cost over every assignment of an opening phase (or none) to each candidate."""
    m, n = share.shape
    T = len(phases)
    best = math.inf
    for assign in itertools.product(range(-1, T), repeat=n):
        a = np.array(assign)
        ok = True
        cum_budget = 0.0
        cum_spend = 0.0
        for t, p in enumerate(phases):
            open_t = (a >= 0) & (a <= t)
            served = has | share[:, open_t].any(axis=1)
            if served.sum() < math.ceil(p.target_share * m - 1e-9):
                ok = False
                break
            spend = cost[a == t].sum()
            if p.budget is not None:
                if carry_over:
                    cum_budget += p.budget
                    cum_spend += spend
                    if cum_spend > cum_budget + 1e-9:
                        ok = False
                        break
                elif spend > p.budget + 1e-9:
                    ok = False
                    break
            else:
                cum_budget = math.inf
        if ok:
            best = min(best, float(cost[a >= 0].sum()))
    return best


def brute_all(share, cost, has) -> float:
    n = share.shape[1]
    need = ~has & share.any(axis=1)
    best = math.inf
    for r in range(n + 1):
        for sub in itertools.combinations(range(n), r):
            if np.all(share[need][:, list(sub)].any(axis=1)):
                best = min(best, float(cost[list(sub)].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_unphased_matches_brute_force(seed: int) -> None:
    share, cost, has = instance(seed)
    res = solve_village_stations(sp.csr_matrix(share), cost, has_station=has)
    assert res.objective == pytest.approx(brute_all(share, cost, has))
    served = res.arrays["served"]
    assert np.all(served[~res.arrays["unservable"]])
    assert np.array_equal(res.arrays["unservable"], ~has & ~share.any(axis=1))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("carry_over", [True, False])
def test_phased_matches_brute_force(seed: int, carry_over: bool) -> None:
    share, cost, has = instance(40 + seed, m=10, n=6)
    # a reachable final target and an interim target, budgets that bind
    reach = (has | share.any(axis=1)).sum() / 10
    phases = [Phase(2024, round(min(reach, 0.6), 2), budget=8.0), Phase(2025, reach, budget=10.0)]
    expected = brute_phased(share, cost, has, phases, carry_over)
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            solve_village_stations(
                sp.csr_matrix(share), cost, has_station=has, phases=phases, carry_over=carry_over
            )
        return
    res = solve_village_stations(
        sp.csr_matrix(share), cost, has_station=has, phases=phases, carry_over=carry_over
    )
    assert res.objective == pytest.approx(expected)
    years = res.arrays["open_year"]
    assert set(np.unique(years)) <= {-1, 2024, 2025}
    for row, p in zip(res.extra["by_year"], phases, strict=True):
        assert row["villages_served"] >= math.ceil(p.target_share * 10 - 1e-9)
    # spend per year as the plan says
    assert res.extra["by_year"][0]["spend"] == pytest.approx(cost[years == 2024].sum())


def test_phased_pulp_and_highs_agree() -> None:
    share, cost, has = instance(7, m=12, n=7)
    reach = (has | share.any(axis=1)).sum() / 12
    phases = [Phase(2024, min(0.5, reach), budget=12.0), Phase(2025, reach, budget=30.0)]
    a = solve_village_stations(sp.csr_matrix(share), cost, has_station=has, phases=phases)
    b = solve_village_stations(
        sp.csr_matrix(share),
        cost,
        has_station=has,
        phases=phases,
        settings=SolverSettings(backend="pulp:CBC"),
    )
    c = solve_village_stations(
        sp.csr_matrix(share), cost, has_station=has, phases=phases, settings=SolverSettings(reduce=False)
    )
    assert a.objective == pytest.approx(b.objective)
    assert a.objective == pytest.approx(c.objective)
    assert a.objective == pytest.approx(brute_phased(share, cost, has, phases))
    assert c.size_after["rows"] >= a.size_after["rows"]


def test_unreachable_target_names_the_villages() -> None:
    share = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], dtype=bool)
    with pytest.raises(InfeasibleError, match=r"2025.*needs 4 of 4.*at most 2.*2, 3"):
        solve_village_stations(sp.csr_matrix(share), [1.0, 1.0], phases=[Phase(2025, 1.0)])


def test_short_budget_says_by_how_much() -> None:
    share = np.eye(4, dtype=bool)
    cost = np.array([10.0, 20.0, 30.0, 40.0])
    # 2024: 75 % = 3 villages, cheapest 10+20+30 = 60 > 50 available: short by 10
    phases = [Phase(2024, 0.75, budget=50.0), Phase(2025, 1.0, budget=100.0)]
    with pytest.raises(InfeasibleError, match=r"2024.*at least 60.*total 50.*short by 10"):
        solve_village_stations(sp.csr_matrix(share), cost, phases=phases)


def test_no_carry_over_infeasibility_is_explained() -> None:
    share = np.eye(2, dtype=bool)
    cost = np.array([10.0, 10.0])
    # 2024 needs one station (budget 10 ok); 2025 needs the other but gets 5 and cannot use 2024's leftover
    phases = [Phase(2024, 0.5, budget=15.0), Phase(2025, 1.0, budget=5.0)]
    with pytest.raises(InfeasibleError, match="cannot be spread"):
        solve_village_stations(sp.csr_matrix(share), cost, phases=phases, carry_over=False)
    ok = solve_village_stations(sp.csr_matrix(share), cost, phases=phases, carry_over=True)
    assert ok.objective == 20.0


def test_phasing_can_force_a_dearer_plan() -> None:
    # one big shared station (cost 10) serves all four villages; four own stations cost 3 each.
    share = np.column_stack([np.ones(4, dtype=bool), np.eye(4, dtype=bool)])
    cost = np.array([10.0, 3.0, 3.0, 3.0, 3.0])
    assert solve_village_stations(sp.csr_matrix(share), cost).objective == 10.0
    phases = [Phase(2024, 0.5, budget=6.0), Phase(2025, 1.0, budget=10.0)]
    res = solve_village_stations(sp.csr_matrix(share), cost, phases=phases)
    assert brute_phased(share, cost, np.zeros(4, bool), phases) == 12.0
    assert res.objective == pytest.approx(12.0)
    years = res.arrays["open_year"]
    assert years[0] == -1
    assert sorted(years[1:].tolist()) == [2024, 2024, 2025, 2025]
