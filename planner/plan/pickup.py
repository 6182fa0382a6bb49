"""Pickup points (outlets, locker groups, delivery centres) for the standards in ``plan.meet``.

One exact model (:func:`planner.optimize.joint.solve_joint`) serves every coverable urban and
township person within the radius standards (R-URBAN, R-TOWN) and gives every unit of the count
standards (R-RURAL, D-OUTLET, D-OUTLET-N, D-LOCKER, D-LOCKER-N, D-CENTRE) the facilities it needs —
read from the same requirements the audit checks (:func:`planner.audit.count_requirements`) — at
least cost, within the budgets and capacities, or the most people served for a budget.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.audit import Requirement, Units, members_matrix
from planner.coverage import ServiceRule, SnapCache, demand_site_coverage
from planner.geo import points_xy
from planner.optimize import SolverSettings
from planner.optimize.joint import Budgets, JointInstance, Objective, solve_joint
from planner.plan.outcome import PlacementOutcome, Shortfall, empty_like
from planner.types import AreaClass

__all__ = ["Capacities", "PickupRequest", "expand_multi_unit_sites", "pickup_instance", "place_pickup_points"]

log = logging.getLogger(__name__)

#: The radius standard of each area class.
RADIUS: dict[AreaClass, str] = {"urban": "R-URBAN", "township": "R-TOWN"}


@dataclass(frozen=True)
class Capacities:
    """Capacities of pickup sites in parcels per day; demand = people × ``parcels_per_person_day``.

    ``per_type``: the capacity of one new unit of each type; existing facilities use their own
    ``capacity`` column (empty = unlimited).
    """

    per_type: Mapping[str, float]
    parcels_per_person_day: float


@dataclass(frozen=True)
class PickupRequest:
    """What the pickup plan must do: the radius classes, the count requirements, the objective."""

    classes: tuple[AreaClass, ...]
    requirements: Sequence[Requirement]
    objective: Objective = "min_cost"
    budgets: Budgets = field(default_factory=Budgets)
    capacities: Capacities | None = None
    forced: frozenset[str] = frozenset()


def expand_multi_unit_sites(
    candidates: gpd.GeoDataFrame, max_per_site: Mapping[str, int]
) -> gpd.GeoDataFrame:
    """Repeat each candidate of a type that one site can host several of (e.g. locker groups).

    The k-th copy of candidate ``C1`` is ``C1#k`` (k ≥ 2): choosing it means one more unit at the same
    place and cost. Counts then see every unit; coverage is unchanged by the copies.
    """
    repeat = candidates["type"].astype(str).map(lambda t: int(max_per_site.get(t, 1))).to_numpy()
    if (repeat <= 1).all():
        return candidates
    index = np.repeat(np.arange(len(candidates)), repeat)
    copy_no = np.concatenate([np.arange(1, k + 1) for k in repeat])
    out = candidates.iloc[index].copy()
    ids = out["candidate_id"].astype(str).to_numpy()
    out["candidate_id"] = [i if k == 1 else f"{i}#{k}" for i, k in zip(ids, copy_no, strict=True)]
    return out.reset_index(drop=True)


def _members(requirements: Sequence[Requirement], sites: gpd.GeoDataFrame, units: Units) -> sp.csr_matrix:
    """Units × sites: the sites of the counted types in each requirement's unit."""
    return members_matrix(sites, requirements, units)


def _capacity(sites: gpd.GeoDataFrame, n_exist: int, caps: Capacities) -> np.ndarray:
    existing = (
        sites["capacity"].to_numpy(dtype=float)[:n_exist] if "capacity" in sites else np.full(n_exist, np.nan)
    )
    new = (
        sites["type"].astype(str).map(lambda t: caps.per_type.get(t, np.inf)).to_numpy(dtype=float)[n_exist:]
    )
    out = np.r_[existing, new]
    return np.where(np.isfinite(out) & (out > 0), out, np.inf)


@dataclass(frozen=True)
class Copies:
    """Candidate sites and the copies ``expand_multi_unit_sites`` made of them (``C1``, ``C1#2`` …).

    The model takes one column per site with an integer number of units (up to its copies); the
    plan's rows are the first ``k`` copies of a site given ``k`` units.
    """

    first: np.ndarray  # position (in the expanded frame) of each site's first copy
    count: np.ndarray  # copies of each site
    site_of: np.ndarray  # for each expanded row, its site
    rank: np.ndarray  # for each expanded row, its copy number (1, 2, …)

    @classmethod
    def of(cls, candidates: gpd.GeoDataFrame) -> Copies:
        ids = candidates["candidate_id"].astype(str).str.split("#").str[0].to_numpy()
        _, first, site_of, count = np.unique(ids, return_index=True, return_inverse=True, return_counts=True)
        order = np.argsort(first, kind="stable")  # sites in the order they first appear
        remap = np.empty_like(order)
        remap[order] = np.arange(order.size)
        site_of = remap[site_of]
        rank = np.zeros(len(ids), dtype=np.int64)
        seen = np.zeros(order.size, dtype=np.int64)
        for i, s in enumerate(site_of):
            seen[s] += 1
            rank[i] = seen[s]
        return cls(first[order], count[order], site_of, rank)

    def chosen(self, units: np.ndarray) -> np.ndarray:
        """Mask of the expanded rows the plan builds: the first ``units[site]`` copies of each site."""
        return self.rank <= np.asarray(units)[self.site_of]


def pickup_instance(
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    request: PickupRequest,
    units: Units,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
) -> tuple[np.ndarray, JointInstance, Copies]:
    """The demand rows (positions in ``demand``), the joint model's arrays and the candidates' copies.

    Each candidate site is one column of the model, however many copies (units) it may host.
    """
    copies = Copies.of(candidates)
    distinct = candidates.iloc[copies.first]
    sites = gpd.GeoDataFrame(
        pd.concat([existing, distinct], ignore_index=True), geometry="geometry", crs=demand.crs
    )
    classes = request.classes if request.objective == "min_cost" else tuple(RADIUS)
    rows, cov = demand_site_coverage(
        demand, points_xy(sites), rules=rules, snaps=snaps, reading=reading, classes=classes
    )
    n_exist = len(existing)
    fixed = np.zeros(len(sites), dtype=bool)
    fixed[:n_exist] = True
    need = np.array([r.short_by for r in request.requirements], dtype=np.int64)
    forced_rows = candidates["candidate_id"].astype(str).isin(request.forced).to_numpy()
    forced = np.bincount(copies.site_of[forced_rows], minlength=len(distinct))
    caps = request.capacities
    weight = demand["population"].to_numpy(dtype=float)[rows]
    inst = JointInstance(
        coverage=sp.csr_matrix(cov, dtype=bool),
        weight=weight,
        fixed=fixed,
        cost=np.r_[np.zeros(n_exist), distinct["cost"].to_numpy(dtype=float)],
        site_type=sites["type"].astype(str).to_numpy(),
        members=_members(request.requirements, sites, units),
        need=need,
        capacity=_capacity(sites, n_exist, caps) if caps is not None else None,
        load=weight * caps.parcels_per_person_day if caps is not None else None,
        forced=np.r_[np.zeros(n_exist), forced],
        units=np.r_[np.ones(n_exist), copies.count],
    )
    return rows, inst, copies


def _shortfalls(inst: JointInstance, requirements: Sequence[Requirement]) -> tuple[Shortfall, ...]:
    """Units whose candidate sites are too few for what they need."""
    available = np.asarray(inst.members[:, ~inst.fixed] @ inst.max_units[~inst.fixed]).ravel()
    return tuple(
        Shortfall(r.standard_id, r.level, r.code, r.name, int(r.short_by - a), "no_candidate")
        for r, a in zip(requirements, available, strict=True)
        if r.short_by > a
    )


def _purposes(
    inst: JointInstance, rows_class: np.ndarray, requirements: Sequence[Requirement], chosen: np.ndarray
) -> list[str]:
    """The standards each chosen site is there for: radius classes it newly serves, units that needed it."""
    A = sp.csc_matrix(inst.coverage)
    M = sp.csc_matrix(inst.members)
    M.sort_indices()  # requirements in their order
    short = np.array([r.short_by > 0 for r in requirements], dtype=bool)
    served_by_existing = np.asarray(inst.coverage[:, inst.fixed].sum(axis=1)).ravel() > 0
    out = []
    for j in np.flatnonzero(chosen):
        mine: list[str] = []
        rows = A.indices[A.indptr[j] : A.indptr[j + 1]]
        for cls in np.unique(rows_class[rows[~served_by_existing[rows]]]):
            mine.append(RADIUS[cls])
        ks = M.indices[M.indptr[j] : M.indptr[j + 1]]
        mine.extend(requirements[k].standard_id for k in ks[short[ks]])
        out.append(";".join(dict.fromkeys(mine)))
    return out


def place_pickup_points(
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    request: PickupRequest,
    units: Units,
    rules: Mapping[AreaClass, ServiceRule],
    snaps: SnapCache,
    reading: str,
    settings: SolverSettings,
) -> PlacementOutcome:
    """Pickup points for a request: least cost for its standards, or the most people for its budget.

    Existing pickup facilities are fixed open. Demand no site (existing or candidate) can serve within
    its class's standard is counted and reported, not forced; a unit whose candidates are too few is
    given all of them and reported short (``Shortfall``). The chosen rows get a ``standards`` column:
    the standards each site is there for.
    """
    rows, inst, copies = pickup_instance(
        demand, existing, candidates, request=request, units=units, rules=rules, snaps=snaps, reading=reading
    )
    coverable = np.asarray(inst.coverage.sum(axis=1)).ravel() > 0
    population = inst.weight
    uncoverable = rows[~coverable]
    if not len(candidates):
        note = ("no candidate sites for pickup points",)
        return PlacementOutcome(
            "pickup",
            empty_like(candidates),
            None,
            len(rows),
            int((~coverable).sum()),
            float(population[~coverable].sum()),
            note,
            uncoverable,
            shortfalls=_shortfalls(inst, request.requirements),
        )
    result = solve_joint(inst, objective=request.objective, budgets=request.budgets, settings=settings)
    n_exist = len(existing)
    site_units = np.asarray(result.arrays["units"])[n_exist:]
    chosen = candidates.loc[copies.chosen(site_units)].copy()
    classes = demand["area_class"].astype(str).to_numpy()[rows]
    purposes = _purposes(inst, classes, request.requirements, np.asarray(result.selected) & ~inst.fixed)
    by_site = dict(zip(np.flatnonzero(site_units > 0), purposes, strict=True))
    chosen["standards"] = [by_site[s] for s in copies.site_of[copies.chosen(site_units)]]
    log.info(
        "pickup plan: %d demand rows (%d unreachable), %d candidates → %d chosen, status %s",
        len(rows),
        int((~coverable).sum()),
        len(candidates),
        len(chosen),
        result.status,
    )
    notes: tuple[str, ...] = ()
    if request.objective == "max_coverage":
        notes = ("objective max_coverage: the most people served within the budget; counts not imposed",)
    return PlacementOutcome(
        "pickup",
        chosen,
        result,
        len(rows),
        int((~coverable).sum()),
        float(population[~coverable].sum()),
        (*result.notes, *notes),
        uncoverable,
        (inst.coverage, population, inst.cost, inst.fixed),
        shortfalls=_shortfalls(inst, request.requirements),
        served_rows=rows[np.asarray(result.arrays["covered"], dtype=bool)],
    )
