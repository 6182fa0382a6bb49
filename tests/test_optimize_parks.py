"""County parks (p-median with county, carrier and capacity rules) against brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.optimize import SolverSettings, solve_parks


def instance(seed: int, m: int = 6, n: int = 5):
    rng = np.random.default_rng(seed)
    T = rng.uniform(5, 60, size=(m, n)).round(1)
    T[rng.random((m, n)) < 0.1] = np.inf
    w = rng.integers(1, 10, size=m).astype(float)
    county = np.array(["A", "A", "B", "B", "B"][:n], dtype=object)
    carriers = rng.integers(1, 6, size=n)
    cap = rng.integers(10, 40, size=n).astype(float)
    return T, w, county, carriers, cap


def brute(T, w, county, eligible, p, fixed, cap=None, min_per_county=1) -> float:
    m, n = T.shape
    best = math.inf
    for sub in itertools.combinations(range(n), p):
        s = list(sub)
        if not all(eligible[j] for j in s) or not all(j in s for j in np.flatnonzero(fixed)):
            continue
        if any(sum(county[j] == c for j in s) < min_per_county for c in set(county)):
            continue
        if cap is None:
            times = T[:, s].min(axis=1)
            if np.all(np.isfinite(times)):
                best = min(best, float(w @ times))
            continue
        for assign in itertools.product(s, repeat=m):
            a = np.array(assign)
            t = T[np.arange(m), a]
            if not np.all(np.isfinite(t)):
                continue
            load = np.bincount(a, weights=w, minlength=n)
            if np.all(load <= cap + 1e-9):
                best = min(best, float(w @ t))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_p_median_with_county_and_carriers_matches_brute_force(seed: int) -> None:
    T, w, county, carriers, _ = instance(seed)
    eligible = carriers >= 3
    p = 2 + seed % 2
    expected = brute(T, w, county, eligible, p, np.zeros(5, bool))
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            solve_parks(T, w, p=p, site_county=county, carriers=carriers)
        return
    res = solve_parks(T, w, p=p, site_county=county, carriers=carriers)
    assert res.objective == pytest.approx(expected)
    assert res.selected.sum() == p
    assert np.all(eligible[res.selected])
    for c in ("A", "B"):
        assert res.selected[county == c].sum() >= 1


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_parks_match_brute_force(seed: int) -> None:
    T, w, county, _, cap = instance(30 + seed, m=5)
    T = np.where(np.isfinite(T), T, 50.0)
    eligible = np.ones(5, dtype=bool)
    fixed = np.zeros(5, dtype=bool)
    fixed[seed % 5] = True
    expected = brute(T, w, county, eligible, 2, fixed, cap=cap)
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            solve_parks(T, w, p=2, site_county=county, capacity=cap, fixed_open=fixed)
        return
    res = solve_parks(T, w, p=2, site_county=county, capacity=cap, fixed_open=fixed)
    assert res.objective == pytest.approx(expected)
    assert res.selected[seed % 5]
    load = np.bincount(res.arrays["assigned_site"], weights=w, minlength=5)
    assert np.all(load <= cap + 1e-9)
    cbc = solve_parks(
        T,
        w,
        p=2,
        site_county=county,
        capacity=cap,
        fixed_open=fixed,
        settings=SolverSettings(backend="pulp:CBC"),
    )
    assert cbc.objective == pytest.approx(expected)


def test_county_without_eligible_site_is_explained() -> None:
    T = np.full((2, 3), 10.0)
    county = np.array(["A", "A", "B"], dtype=object)
    with pytest.raises(InfeasibleError, match="county B has 0 eligible park sites"):
        solve_parks(T, site_county=county, carriers=[3, 4, 2])


def test_unreachable_client_is_named() -> None:
    T = np.array([[10.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(InfeasibleError, match=r"1 clients reach no eligible park site \(clients 1\)"):
        solve_parks(T, p=1)
