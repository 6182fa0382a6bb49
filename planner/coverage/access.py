"""Access beyond covered / not covered: how far people are from their nearest pickup point.

The coverage columns say whether a person is within the standard; this module says *how far* they
are. Per group of people (the county, each township, each area class) it gives the
population-weighted distribution of the travel time to the nearest pickup point — by the travel
mode of the standard the person is held to (on foot in urban cells, by vehicle in township cells,
by tricycle in rural cells: the ``nearest_min`` column :func:`planner.coverage.rules.evaluate_demand`
adds) — as its median, 90th percentile, mean and the share of people within each standard's
minutes, and an equity measure: the share of people living in the worst-served tenth of the
villages, and how long they travel.

In a straight-line run (no road network) there are no travel times: the same figures are given for
the straight-line distance (``straight_km``) and the standards' kilometres.

Quantiles are population-weighted *inverted-CDF* quantiles: the smallest time ``t`` such that at least
the share ``q`` of the people travel ``t`` or less (with equal weights, numpy's
``quantile(method="inverted_cdf")``). People off the road network (no road within the snap
distance) count as never reaching a site: they are in the quantiles (a quantile they decide is
``None``, "unreachable"), out of the mean, and reported as ``unreached``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.coverage.rules import ServiceRule
from planner.types import AREA_CLASSES, AreaClass

__all__ = [
    "ACCESS_NOTE",
    "access_block",
    "access_figures",
    "access_stats",
    "access_thresholds",
    "equity",
    "weighted_quantile",
]

#: The share of villages the equity measure calls worst served.
WORST_SHARE: Final = 0.1

ACCESS_NOTE: Final = (
    "Travel time to the nearest pickup point (outlet, locker group, village station or delivery centre) "
    "by the travel mode of the standard each person is held to (urban: the R-URBAN mode, township: "
    "R-TOWN's, rural: V-SHARE's); population-weighted. Equity: the people in the worst-served tenth of "
    "the villages (ranked by their people's mean time) and their mean time."
)

STRAIGHT_NOTE: Final = (
    "Straight-line distance (no road network) to the nearest pickup point (outlet, locker group, village "
    "station or delivery centre); population-weighted. Equity: the people in the worst-served tenth of the "
    "villages (ranked by their people's mean distance) and their mean distance."
)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value ``v`` with at least the share ``q`` of the weight at values ``<= v``.

    ``inf`` values take part (a quantile they decide is ``inf``); zero and negative weights do not.
    Returns NaN when there is no positive weight.
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = (w > 0) & ~np.isnan(v)
    v, w = v[keep], w[keep]
    if v.size == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    target = q * cum[-1]
    # the first position whose cumulative weight reaches the target (a relative tolerance for sums)
    pos = int(np.searchsorted(cum, target - 1e-12 * cum[-1], side="left"))
    return float(v[min(pos, v.size - 1)])


def _num(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def access_thresholds(
    rules: Mapping[AreaClass, ServiceRule], *, unit: str
) -> dict[AreaClass, dict[str, float]]:
    """Per area class: the standard's limits in ``unit`` ("min" or "km"), keyed by the standard id.

    Township classes get R-TOWN and, when it has one, its strict reading (``R-TOWN-15``). A rule
    without a time limit (a V-SHARE of kilometres only) gives no minutes.
    """
    out: dict[AreaClass, dict[str, float]] = {}
    for area_class in AREA_CLASSES:
        rule = rules[area_class]
        limits: dict[str, float] = {}
        if unit == "km":
            limits[rule.standard_id] = rule.distance_m / 1000.0
        elif rule.time_s > 0:
            limits[rule.standard_id] = rule.time_s / 60.0
            if rule.strict_time_s is not None and rule.strict_time_s != rule.time_s:
                limits[f"{rule.standard_id}-{rule.strict_time_s / 60.0:g}"] = rule.strict_time_s / 60.0
        out[area_class] = limits
    return out


def access_stats(
    values: np.ndarray,
    population: np.ndarray,
    classes: np.ndarray,
    thresholds: Mapping[AreaClass, Mapping[str, float]],
) -> dict[str, Any]:
    """The distribution of one group of people: median, 90th percentile, mean and shares within.

    Parameters
    ----------
    values
        Minutes (or km) to the nearest pickup point per demand point; ``inf`` off the network.
    population
        People per demand point.
    classes
        Area class per demand point (which standard's limit ``within_standard`` applies).
    thresholds
        :func:`access_thresholds`.

    Returns
    -------
    dict
        ``population``, ``median``, ``p90``, ``mean`` (over the people who reach a site),
        ``unreached`` (share of people with no reachable site), ``within`` (limit → share of the
        people at most that far; every limit of the classes present) and ``within_standard`` (share
        of the people within their own class's main standard).
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(population, dtype=float)
    total = float(w.sum())
    finite = np.isfinite(v)
    reached = float(w[finite].sum())
    out: dict[str, Any] = {"population": round(total, 1)}
    if total <= 0:
        empty: dict[str, Any] = {"median": None, "p90": None, "mean": None, "unreached": None, "within": {}}
        return {**out, **empty, "within_standard": None}
    out["median"] = _num(weighted_quantile(v, w, 0.5))
    out["p90"] = _num(weighted_quantile(v, w, 0.9))
    out["mean"] = _num(float((v[finite] * w[finite]).sum()) / reached) if reached > 0 else None
    out["unreached"] = round((total - reached) / total, 6)
    present = [c for c in AREA_CLASSES if (classes == c).any()]
    limits = sorted({lim for c in present for lim in thresholds.get(c, {}).values()})
    out["within"] = {f"{lim:g}": round(float(w[v <= lim].sum()) / total, 6) for lim in limits}
    own = np.zeros(v.size, dtype=bool)
    for c in present:
        main = next(iter(thresholds.get(c, {}).values()), None)
        if main is not None:
            rows = classes == c
            own[rows] = v[rows] <= main
    with_limit = np.isin(classes, [c for c in present if thresholds.get(c)])
    base = float(w[with_limit].sum())
    out["within_standard"] = round(float(w[own].sum()) / base, 6) if base > 0 else None
    return out


def equity(
    values: np.ndarray, population: np.ndarray, villages: np.ndarray, *, worst: float = WORST_SHARE
) -> dict[str, Any]:
    """The people in the worst-served tenth of the villages.

    Each village (demand points grouped by ``village_code``; points without one are left out) is
    ranked by its people's mean time (``inf`` when none of them reaches a site); the ``ceil(worst ×
    villages)`` worst are the worst-served villages (ties by code).

    Returns
    -------
    dict
        ``villages`` (villages ranked), ``worst_villages``, ``worst_population_share`` (their people
        over the people of all ranked villages), ``worst_mean`` (their people's mean time, over those
        who reach a site) and ``mean`` (everyone's), so ``worst_mean / mean`` says how much worse off
        they are.
    """
    frame = pd.DataFrame(
        {"v": np.asarray(values, float), "w": np.asarray(population, float), "code": villages}
    )
    frame = frame[(frame["code"].astype(str) != "") & (frame["w"] > 0)]
    if frame.empty:
        return dict.fromkeys(("worst_population_share", "worst_mean", "mean")) | {
            "villages": 0,
            "worst_villages": 0,
        }
    frame = frame.assign(fin=np.isfinite(frame["v"]))
    frame = frame.assign(
        vw=np.where(frame["fin"], frame["v"] * frame["w"], 0.0), wf=np.where(frame["fin"], frame["w"], 0.0)
    )
    per = frame.groupby("code", sort=True).agg(
        w=("w", "sum"), vw=("vw", "sum"), wf=("wf", "sum"), all_fin=("fin", "all")
    )
    per["mean"] = np.where(per["all_fin"], per["vw"] / per["wf"].where(per["wf"] > 0, 1.0), np.inf)
    per = per.reset_index().sort_values(["mean", "code"], ascending=[False, True], kind="stable")
    n_worst = math.ceil(worst * len(per))
    bad = per.iloc[:n_worst]
    reached_bad = float(bad["wf"].sum())
    reached_all = float(per["wf"].sum())
    return {
        "villages": len(per),
        "worst_villages": n_worst,
        "worst_population_share": round(float(bad["w"].sum()) / float(per["w"].sum()), 6),
        "worst_mean": _num(float(bad["vw"].sum()) / reached_bad) if reached_bad > 0 else None,
        "mean": _num(float(per["vw"].sum()) / reached_all) if reached_all > 0 else None,
    }


def _measure(demand: pd.DataFrame) -> tuple[str, str]:
    """``nearest_min`` in minutes, or ``straight_km`` when the run has no travel times."""
    minutes = pd.to_numeric(demand.get("nearest_min", pd.Series(dtype=float)), errors="coerce")
    if len(minutes) and minutes.notna().any():
        return "nearest_min", "min"
    return "straight_km", "km"


def access_figures(
    demand: gpd.GeoDataFrame | pd.DataFrame,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    townships: pd.DataFrame | None = None,
    measure: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Access figures of one facility set: the county, each area class, each township, equity.

    ``demand`` carries the coverage columns of :func:`planner.coverage.rules.evaluate_demand`
    (``nearest_min``, ``straight_km``) and ``population``, ``area_class``, ``township_code``,
    ``village_code``. ``townships`` (``township_code``, ``township_name``) orders and names the
    township rows.
    """
    column, unit = measure or _measure(demand)
    thresholds = access_thresholds(rules, unit=unit)
    values = pd.to_numeric(demand[column], errors="coerce").to_numpy(dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    people = demand["population"].to_numpy(dtype=float)
    classes = demand["area_class"].astype(str).to_numpy()
    codes = demand["township_code"].astype(str).to_numpy()
    by_township = []
    if townships is not None:
        for code, name in zip(
            townships["township_code"].astype(str), townships["township_name"], strict=True
        ):
            rows = codes == code
            stats = access_stats(values[rows], people[rows], classes[rows], thresholds)
            by_township.append({"township_code": code, "township_name": str(name), **stats})
    return {
        "measure": column,
        "unit": unit,
        "county": access_stats(values, people, classes, thresholds),
        "by_class": {
            c: access_stats(values[classes == c], people[classes == c], classes[classes == c], thresholds)
            for c in AREA_CLASSES
        },
        "by_township": by_township,
        "equity": equity(values, people, demand["village_code"].astype(str).to_numpy()),
    }


def access_block(
    before: gpd.GeoDataFrame | pd.DataFrame,
    after: gpd.GeoDataFrame | pd.DataFrame,
    *,
    rules: Mapping[AreaClass, ServiceRule],
    townships: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """``summary.json`` → ``access``: the figures of :func:`access_figures` before and after the plan.

    Every group carries ``{"before": ..., "after": ...}``; ``thresholds`` gives each class's limits
    and ``mode_by_class`` the travel mode its times are measured in.
    """
    measure = _measure(before)
    fb = access_figures(before, rules=rules, townships=townships, measure=measure)
    fa = access_figures(after, rules=rules, townships=townships, measure=measure)
    towns = [
        {**_names(b), "before": _strip(b), "after": _strip(a)}
        for b, a in zip(fb["by_township"], fa["by_township"], strict=True)
    ]
    return {
        "measure": measure[0],
        "unit": measure[1],
        "mode_by_class": {c: rules[c].mode for c in AREA_CLASSES} if measure[1] == "min" else None,
        "thresholds": access_thresholds(rules, unit=measure[1]),
        "county": {"before": fb["county"], "after": fa["county"]},
        "by_class": {c: {"before": fb["by_class"][c], "after": fa["by_class"][c]} for c in AREA_CLASSES},
        "by_township": towns,
        "equity": {"before": fb["equity"], "after": fa["equity"]},
        "note": ACCESS_NOTE if measure[1] == "min" else STRAIGHT_NOTE,
    }


def _names(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"township_code": row["township_code"], "township_name": row["township_name"]}


def _strip(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("township_code", "township_name")}
