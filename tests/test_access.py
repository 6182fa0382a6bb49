"""Access beyond covered / not covered (:mod:`planner.coverage.access`), checked by hand and by numpy.

Weighted quantiles against ``numpy.quantile(..., method="inverted_cdf")`` on the values repeated by
their (integer) weights; shares, means and the equity measure on small frames computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.coverage.access import (
    access_block,
    access_figures,
    access_stats,
    access_thresholds,
    equity,
    weighted_quantile,
)
from planner.coverage.rules import REFERENCE, ServiceRule


def test_weighted_quantiles_equal_numpys_on_repeated_values() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        values = np.round(rng.exponential(5.0, n), int(rng.integers(0, 3)))  # ties when rounded
        weights = rng.integers(0, 6, n)
        if weights.sum() == 0:
            weights[0] = 1
        repeated = np.repeat(values, weights)
        for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
            want = float(np.quantile(repeated, q, method="inverted_cdf"))
            assert weighted_quantile(values, weights.astype(float), q) == want, (values, weights, q)


def test_unreachable_people_decide_high_quantiles_and_stay_out_of_the_mean() -> None:
    values = np.array([1.0, 2.0, np.inf])
    people = np.array([50.0, 30.0, 20.0])
    classes = np.array(["urban", "urban", "urban"])
    stats = access_stats(values, people, classes, {"urban": {"R-URBAN": 1.5}})
    assert stats["median"] == 1.0  # 50 of 100 people at 1 minute or less
    assert stats["p90"] is None  # the 90th percentile is among the unreachable
    assert stats["mean"] == pytest.approx((1 * 50 + 2 * 30) / 80)
    assert stats["unreached"] == pytest.approx(0.2)
    assert stats["within"] == {"1.5": pytest.approx(0.5)}
    assert stats["within_standard"] == pytest.approx(0.5)
    assert weighted_quantile(np.array([]), np.array([]), 0.5) != weighted_quantile(
        np.array([]), np.array([]), 0.5
    )


def test_within_standard_uses_each_class_its_own_limit() -> None:
    values = np.array([8.0, 12.0, 20.0, 40.0])
    people = np.array([1.0, 1.0, 1.0, 1.0])
    classes = np.array(["urban", "urban", "township", "township"])
    limits = {"urban": {"R-URBAN": 10.0}, "township": {"R-TOWN": 30.0, "R-TOWN-15": 15.0}}
    stats = access_stats(values, people, classes, limits)
    # urban: 8 ≤ 10 yes, 12 no; township: 20 ≤ 30 yes, 40 no
    assert stats["within_standard"] == pytest.approx(0.5)
    assert stats["within"] == {"10": 0.25, "15": 0.5, "30": 0.75}  # 8; 8, 12; 8, 12, 20


def test_thresholds_follow_the_rules_in_minutes_or_km() -> None:
    minutes = access_thresholds(REFERENCE, unit="min")
    assert minutes["urban"] == {"R-URBAN": 10.0}
    assert minutes["township"] == {"R-TOWN": 30.0, "R-TOWN-15": 15.0}
    km = access_thresholds(REFERENCE, unit="km")
    assert km == {"urban": {"R-URBAN": 1.0}, "township": {"R-TOWN": 3.0}, "rural": {"V-SHARE": 2.0}}
    no_time = {**REFERENCE, "rural": ServiceRule("rural", "V-SHARE", "tricycle", 2000.0, 0.0)}
    assert access_thresholds(no_time, unit="min")["rural"] == {}


def test_equity_is_the_worst_tenth_of_villages_by_their_mean_time() -> None:
    # 20 villages: village k has mean time k minutes (two cells each), population 10 + k
    rows = []
    for k in range(20):
        for t in (k - 0.5, k + 0.5):
            rows.append({"v": t, "w": (10 + k) / 2, "code": f"V{k:02d}"})
    rows.append({"v": 1.0, "w": 99.0, "code": ""})  # no village: left out
    frame = pd.DataFrame(rows)
    got = equity(frame["v"].to_numpy(), frame["w"].to_numpy(), frame["code"].to_numpy())
    people = {k: 10 + k for k in range(20)}
    worst = [19, 18]  # ceil(0.1 × 20) = 2 villages
    assert got["villages"] == 20 and got["worst_villages"] == 2
    assert got["worst_population_share"] == pytest.approx(
        sum(people[k] for k in worst) / sum(people.values()), abs=1e-6
    )
    assert got["worst_mean"] == pytest.approx(
        sum(k * people[k] for k in worst) / sum(people[k] for k in worst), abs=1e-3
    )
    assert got["mean"] == pytest.approx(
        sum(k * p for k, p in people.items()) / sum(people.values()), abs=1e-3
    )


def test_a_village_nobody_reaches_is_the_worst() -> None:
    values = np.array([1.0, 2.0, np.inf, 3.0])
    people = np.array([5.0, 5.0, 5.0, 5.0])
    codes = np.array(["A", "B", "C", "C"])
    got = equity(values, people, codes)
    assert got["worst_villages"] == 1
    assert got["worst_population_share"] == pytest.approx(10 / 20)  # village C
    assert got["worst_mean"] == pytest.approx(3.0)  # its people who reach a site


def _demand(minutes: list[float], km: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "population": [100.0, 50.0, 50.0, 25.0],
            "area_class": ["urban", "urban", "township", "rural"],
            "township_code": ["T1", "T1", "T2", "T2"],
            "village_code": ["V1", "V2", "V3", "V4"],
            "nearest_min": minutes,
            "straight_km": km,
        }
    )


def test_access_block_before_and_after_by_county_class_and_township() -> None:
    before = _demand([12.0, 5.0, 20.0, math.inf], [1.5, 0.4, 2.0, 9.0])
    after = _demand([6.0, 5.0, 10.0, 8.0], [0.5, 0.4, 1.0, 1.5])
    towns = pd.DataFrame({"township_code": ["T1", "T2"], "township_name": ["一镇", "二镇"]})
    block = access_block(before, after, rules=REFERENCE, townships=towns)
    assert block["unit"] == "min" and block["mode_by_class"]["urban"] == "walk"
    # county after: times 6 (100), 5 (50), 10 (50), 8 (25) → sorted 5,6,8,10 with weights 50,100,25,50
    county = block["county"]["after"]
    assert county["median"] == 6.0 and county["p90"] == 10.0
    assert county["mean"] == pytest.approx((6 * 100 + 5 * 50 + 10 * 50 + 8 * 25) / 225, abs=1e-3)
    assert block["county"]["before"]["unreached"] == pytest.approx(25 / 225, abs=1e-6)
    assert block["by_class"]["urban"]["before"]["within_standard"] == pytest.approx(50 / 150, abs=1e-6)
    towns_out = {t["township_code"]: t for t in block["by_township"]}
    assert towns_out["T2"]["township_name"] == "二镇"
    assert towns_out["T2"]["after"]["median"] == 10.0  # 50 people at 10, 25 at 8
    assert block["equity"]["after"]["worst_villages"] == 1


def test_without_travel_times_the_figures_are_straight_line_km() -> None:
    demand = _demand([math.nan] * 4, [1.5, 0.4, 2.0, 9.0])
    figures = access_figures(demand, rules=REFERENCE)
    assert figures["measure"] == "straight_km" and figures["unit"] == "km"
    assert figures["by_class"]["urban"]["within"] == {"1": pytest.approx(50 / 150, abs=1e-6)}
