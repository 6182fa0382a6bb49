"""Three-tier assignment (station → outlet → park) against brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from planner.errors import InfeasibleError
from planner.optimize import SolverSettings, assign_tiers


def instance(seed: int, s: int = 5, o: int = 3, p: int = 2):
    rng = np.random.default_rng(seed)
    SO = rng.uniform(5, 40, size=(s, o)).round(1)
    SO[rng.random((s, o)) < 0.15] = np.inf
    OP = rng.uniform(10, 60, size=(o, p)).round(1)
    w = rng.integers(1, 6, size=s).astype(float)
    return SO, OP, w


def brute(SO, OP, w, capO=None, capP=None) -> float:
    s, o = SO.shape
    p = OP.shape[1]
    best = math.inf
    for op in itertools.product(range(p), repeat=o):
        for so in itertools.product(range(o), repeat=s):
            a = np.array(so)
            chain = SO[np.arange(s), a] + OP[a, np.array(op)[a]]
            if not np.all(np.isfinite(chain)):
                continue
            lo = np.bincount(a, weights=w, minlength=o)
            if capO is not None and np.any(lo > capO + 1e-9):
                continue
            lp = np.bincount(np.array(op), weights=lo, minlength=p)
            if capP is not None and np.any(lp > capP + 1e-9):
                continue
            best = min(best, float(w @ chain))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_uncapacitated_closed_form_matches_brute_force(seed: int) -> None:
    SO, OP, w = instance(seed)
    res = assign_tiers(SO, OP, station_weight=w)
    assert res.status == "trivial"
    assert res.objective == pytest.approx(brute(SO, OP, w))
    assert np.allclose(
        res.arrays["chain_min"],
        SO[np.arange(5), res.arrays["station_outlet"]]
        + OP[res.arrays["station_outlet"], res.arrays["outlet_park"][res.arrays["station_outlet"]]],
    )


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_matches_brute_force(seed: int) -> None:
    SO, OP, w = instance(20 + seed)
    capO = np.full(3, w.sum() / 2)
    capP = np.array([w.sum() * 0.6, w.sum()])
    expected = brute(SO, OP, w, capO, capP)
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            assign_tiers(SO, OP, station_weight=w, outlet_capacity=capO, park_capacity=capP)
        return
    res = assign_tiers(SO, OP, station_weight=w, outlet_capacity=capO, park_capacity=capP)
    assert res.objective == pytest.approx(expected)
    assert np.all(res.arrays["outlet_load"] <= capO + 1e-9)
    assert np.all(res.arrays["park_load"] <= capP + 1e-9)


def test_capacitated_pulp_agrees_and_no_chain_is_explained() -> None:
    SO, OP, w = instance(44)
    capO = np.full(3, w.sum() / 2)
    a = assign_tiers(SO, OP, station_weight=w, outlet_capacity=capO)
    b = assign_tiers(
        SO, OP, station_weight=w, outlet_capacity=capO, settings=SolverSettings(backend="pulp:CBC")
    )
    assert a.objective == pytest.approx(b.objective)
    assert a.objective == pytest.approx(brute(SO, OP, w, capO))
    SO2 = np.array([[np.inf, 5.0], [3.0, 4.0]])
    OP2 = np.array([[10.0], [np.inf]])
    with pytest.raises(InfeasibleError, match=r"stations 0"):
        assign_tiers(SO2, OP2)
