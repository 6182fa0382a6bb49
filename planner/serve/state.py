"""The plan being edited: the run it starts from, the edits, and the figures of an edited facility set.

:func:`load_session` rebuilds what a run used from its output folder (``summary.json`` names the
scenario file and its hash; the inputs are read again and the networks and coverage come from the
cache) and the run's plan (``proposals.csv``: candidate ids, placed at the candidates' own
coordinates). A :class:`PlanState` is immutable: each edit returns a new one, so a refused edit
leaves the plan as it was and undo is a stack of states.

:func:`evaluate` measures a facility set with the run's own stages: the coverage columns
(:func:`planner.coverage.rules.assess`, through the run's ``assess_facilities``) and the audit
(:func:`planner.audit.run_audit`, through the run's ``audit_facilities``), so the server's table is the run's
table for the same sites, never a second reading of a standard.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from planner.demand import with_township, with_village
from planner.errors import EditError, OutputDirError, Problem, ScenarioError
from planner.geo import points_xy
from planner.plan import PlacementOutcome, expand_multi_unit_sites
from planner.plan.proposals import proposed_facilities
from planner.plan.solve import PlanContext, park_min_carriers, wants_park
from planner.run.pipeline import assess_facilities, audit_facilities, plan_context
from planner.run.prepare import VEHICLE_MODE, Prepared, prepare
from planner.run.timer import StageTimer
from planner.scenario import Scenario, load_scenario, scenario_hash
from planner.serve.snaps import PointSnapCache
from planner.types import FACILITY_COLUMNS, FACILITY_TYPES, AuditResult

__all__ = ["Evaluation", "PlanState", "Session", "evaluate", "load_session"]

log = logging.getLogger(__name__)

#: Where a site of the plan being edited comes from.
ORIGINS = ("existing", "plan", "candidate", "point")


@dataclass(frozen=True)
class Session:
    """What the server reads and never changes: the run's scenario prepared, its plan and candidates.

    ``candidates`` are the scenario's candidates with the copies of multi-unit sites (``C1#2`` …),
    in the work CRS; ``baseline`` the run's plan as a :class:`PlanState`; ``summary`` the run's
    ``summary.json``.
    """

    out_dir: Path
    prepared: Prepared
    ctx: PlanContext
    candidates: gpd.GeoDataFrame
    baseline: PlanState
    summary: dict[str, Any]

    @property
    def scenario(self) -> Scenario:
        return self.prepared.scenario

    @property
    def placeable(self) -> list[str]:
        """Types a user may add: the ones the scenario places (a park only when the plan places one)."""
        types = [t for t in FACILITY_TYPES if t in self.ctx.placeable]
        return [t for t in types if t != "park" or wants_park(self.ctx)]

    def cost(self, ftype: str) -> float:
        spec = self.scenario.plan.facilities.get(ftype)  # type: ignore[call-overload]
        return float(spec.cost) if spec is not None else float("nan")


@dataclass(frozen=True)
class PlanState:
    """The plan being edited.

    Attributes
    ----------
    facilities
        Every site, work CRS: ``facility_id``, ``type``, … (:data:`planner.types.FACILITY_COLUMNS`),
        ``status`` (existing / closed / proposed), ``cost``, ``carriers_planned`` and ``origin``
        (:data:`ORIGINS`: an existing facility, the optimiser's plan, a candidate or a point added
        in the browser).
    points
        The sites added at a point (and retyped proposals) as candidate rows, for saving and
        re-optimising.
    added, removed
        Proposed sites the user added and the optimiser's proposals the user removed.
    closed, retyped
        Existing facilities closed, and existing facilities given another type.
    optimised
        ``(force, exclude)`` when the proposals are the optimiser's plan for these candidate ids (the
        run's, or "re-optimise"); ``None`` once edited by hand.
    edits
        The edits applied, in order (what the page lists).
    """

    facilities: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str], ...] = ()
    optimised: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    edits: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def active(self) -> gpd.GeoDataFrame:
        """The sites in service: existing ones not closed, and the proposals."""
        return self.facilities[self.facilities["status"] != "closed"]

    @property
    def proposed(self) -> gpd.GeoDataFrame:
        return self.facilities[self.facilities["status"] == "proposed"]

    def site(self, site_id: str) -> pd.Series:
        """The row of ``site_id``; :class:`EditError` 404 when there is none."""
        rows = self.facilities[self.facilities["facility_id"].astype(str) == str(site_id)]
        if rows.empty:
            raise EditError(f"no site {site_id!r} in the plan being edited", status=404)
        return rows.iloc[0]


@dataclass(frozen=True)
class Evaluation:
    """The figures of one facility set: demand and villages with their coverage columns, the audit."""

    demand: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    audit: AuditResult
    facilities: gpd.GeoDataFrame
    seconds: float = 0.0


def evaluate(session: Session, state: PlanState) -> Evaluation:
    """Coverage and audit of the sites in service, by the run's own stages."""
    start = time.perf_counter()
    active = state.active
    demand, villages = assess_facilities(session.prepared, active)
    audit = audit_facilities(session.prepared, demand, villages, active)
    return Evaluation(demand, villages, audit, active, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Loading a run
# ---------------------------------------------------------------------------------------------


def _read_summary(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "summary.json"
    if not path.is_file():
        raise OutputDirError(
            problems=[
                Problem(
                    "not the output folder of a run: summary.json is missing",
                    file=out_dir,
                    fix="give the folder `planner run` wrote (its --out or the scenario's outputs.folder)",
                )
            ]
        )
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return summary


def _scenario_of(out_dir: Path, summary: dict[str, Any]) -> Scenario:
    """The run's scenario, checked against the hash the run recorded (same settings, same input bytes)."""
    file = summary.get("scenario_file")
    if not file:
        raise OutputDirError(
            problems=[
                Problem(
                    "summary.json does not name the scenario file (a run of an older planner, or of a batch)",
                    file=out_dir / "summary.json",
                    location="scenario_file",
                    fix="run the scenario again with this version: planner run SCENARIO --out FOLDER",
                )
            ]
        )
    scenario = load_scenario(Path(file))
    digest = scenario_hash(scenario)
    if digest != summary.get("scenario_hash"):
        raise ScenarioError(
            problems=[
                Problem(
                    f"the scenario or its input files changed since the run (hash {digest}, the run's "
                    f"{summary.get('scenario_hash')})",
                    file=Path(file),
                    fix=f"run it again (planner run {file} --out {out_dir}) and serve the new output",
                )
            ]
        )
    return scenario


def _run_plan_ids(out_dir: Path) -> list[str]:
    path = out_dir / "proposals.csv"
    if not path.is_file():
        raise OutputDirError(
            problems=[
                Problem(
                    "proposals.csv is missing: the run's plan cannot be read",
                    file=out_dir,
                    fix="run with outputs.formats including csv",
                )
            ]
        )
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    return table["id"].astype(str).tolist() if "id" in table.columns else []


def candidate_rows(ctx: PlanContext, candidates: gpd.GeoDataFrame, ids: list[str]) -> gpd.GeoDataFrame:
    """Facility rows (status proposed) of candidate ids, as the plan writes them."""
    index = pd.Index(candidates["candidate_id"].astype(str))
    missing = [i for i in ids if i not in index]
    if missing:
        raise EditError(f"unknown candidate id(s): {', '.join(missing[:5])}", status=404)
    chosen = candidates.iloc[index.get_indexer(ids)]
    outcome = PlacementOutcome("serve", chosen, None, 0, 0, 0.0)
    rows = proposed_facilities([outcome], ctx.study.crs, park_carriers=park_min_carriers(ctx))
    return rows.assign(origin="plan")


def _existing(ctx: PlanContext) -> gpd.GeoDataFrame:
    return ctx.study.facilities.assign(status="existing", origin="existing")


def sites_frame(parts: list[gpd.GeoDataFrame], crs: Any) -> gpd.GeoDataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame(
            {c: [] for c in (*FACILITY_COLUMNS, "status", "origin")}, geometry=[], crs=crs
        )
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def empty_points(crs: Any) -> gpd.GeoDataFrame:
    cols = ("candidate_id", "type", "cost", "capacity", "village_code", "township_code")
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)


def load_session(out_dir: Path, *, use_cache: bool = True, timer: StageTimer | None = None) -> Session:
    """Rebuild what the run of ``out_dir`` used, and its plan, for editing.

    Raises
    ------
    OutputDirError
        The folder is not a run's output (no ``summary.json``/``proposals.csv``, no scenario named).
    ScenarioError
        The scenario or its inputs changed since the run.
    """
    out_dir = Path(out_dir)
    summary = _read_summary(out_dir)
    scenario = _scenario_of(out_dir, summary)
    ids = _run_plan_ids(out_dir)
    prepared = prepare(scenario, timer, use_cache=use_cache)
    snaps = PointSnapCache(prepared.networks, max_snap_m=scenario.travel.max_snap_m, disk=prepared.snaps.disk)
    prepared = dataclasses.replace(prepared, snaps=snaps)
    ctx = plan_context(prepared)
    spec = {str(t): s.max_per_site for t, s in scenario.plan.facilities.items()}
    candidates = expand_multi_unit_sites(prepared.study.candidates, spec)
    try:
        plan = candidate_rows(ctx, candidates, ids)
    except EditError as exc:
        raise OutputDirError(
            problems=[
                Problem(
                    f"proposals.csv names sites that are not candidates of the scenario ({exc})",
                    file=out_dir / "proposals.csv",
                    fix="run the scenario again and serve the new output",
                )
            ]
        ) from exc
    facilities = sites_frame([_existing(ctx), plan], prepared.study.crs)
    plan_of_run = (tuple(scenario.plan.force), tuple(scenario.plan.exclude))
    baseline = PlanState(facilities, empty_points(prepared.study.crs), optimised=plan_of_run)
    return Session(out_dir, prepared, ctx, candidates, baseline, summary)


# ---------------------------------------------------------------------------------------------
# Edits
# ---------------------------------------------------------------------------------------------


def _base(site_id: str) -> str:
    return site_id.split("#", 1)[0]


def _with(state: PlanState, facilities: gpd.GeoDataFrame, edit: dict[str, Any], **changes: Any) -> PlanState:
    return dataclasses.replace(
        state, facilities=facilities, optimised=None, edits=(*state.edits, edit), **changes
    )


def _added(state: PlanState, site_id: str) -> dict[str, Any]:
    return {"added": (*state.added, site_id), "removed": tuple(r for r in state.removed if r != site_id)}


def add_candidate(session: Session, state: PlanState, candidate_id: str) -> PlanState:
    """Add a candidate site (one more unit when the site takes several, e.g. locker groups)."""
    cid = str(candidate_id)
    ids = session.candidates["candidate_id"].astype(str)
    base = _base(cid)
    units = [i for i in ids if _base(i) == base]
    if not units or (cid != base and cid not in units):
        raise EditError(f"no candidate {cid!r}", status=404)
    present = set(state.facilities["facility_id"].astype(str))
    if cid == base:
        free = [i for i in units if i not in present]
    else:
        free = [cid] if cid in units and cid not in present else []
    if not free:
        raise EditError(
            f"candidate {cid!r} is in the plan already ({len(units)} unit(s) at most)", status=409
        )
    row = session.candidates[ids == free[0]].iloc[0]
    if str(row["type"]) not in session.placeable:
        raise EditError(f"the scenario does not place {row['type']} sites (plan.facilities)", status=409)
    if base in session.scenario.plan.exclude:
        raise EditError(f"candidate {base!r} is excluded by the scenario (plan.exclude)", status=409)
    rows = candidate_rows(session.ctx, session.candidates, [free[0]]).assign(origin="candidate")
    frame = sites_frame([state.facilities, rows], state.facilities.crs)
    edit = {"op": "add", "id": free[0], "type": str(row["type"])}
    return _with(state, frame, edit, **_added(state, free[0]))


def _to_work(session: Session, lon: float, lat: float) -> np.ndarray:
    crs = session.prepared.study.crs
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    return np.array([[x, y]], dtype=float)


def _snapped(session: Session, xy: np.ndarray) -> np.ndarray:
    """The point moved onto the nearest road of the vehicle network (as it is in a run without roads)."""
    net = session.prepared.networks.get(VEHICLE_MODE)
    if net is None:
        return xy
    from planner.network.snap import snap_points

    snap = snap_points(net, xy, max_snap_m=session.scenario.travel.max_snap_m)
    if not snap.reachable[0]:
        raise EditError(
            f"no road within {session.scenario.travel.max_snap_m:g} m of the point (travel.max_snap_m): "
            "a site must be reachable by road"
        )
    return snap.snapped_xy(net)


def _next_point_id(state: PlanState, session: Session) -> str:
    taken = set(session.candidates["candidate_id"].astype(str)) | set(
        state.facilities["facility_id"].astype(str)
    )
    taken |= set(state.points["candidate_id"].astype(str))
    n = len(state.points) + 1
    while f"U{n}" in taken:
        n += 1
    return f"U{n}"


def _point_row(session: Session, site_id: str, ftype: str, xy: np.ndarray) -> gpd.GeoDataFrame:
    spec = session.scenario.plan.facilities.get(ftype)  # type: ignore[call-overload]
    capacity = float(spec.capacity) if spec is not None and spec.capacity is not None else np.nan
    study = session.prepared.study
    values = {"candidate_id": site_id, "type": ftype, "cost": session.cost(ftype), "capacity": capacity}
    row = gpd.GeoDataFrame(
        {**{k: [v] for k, v in values.items()}, "village_code": [""]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=study.crs,
    )
    cell = session.scenario.inputs.population.resolution_m
    return with_village(with_township(row, study.townships), session.prepared.demand, cell_size_m=cell)


def _check_type(session: Session, ftype: str) -> None:
    if ftype not in session.placeable:
        raise EditError(
            f"cannot add a {ftype!r} site: the scenario places {', '.join(session.placeable) or 'nothing'}",
            status=422,
        )


def add_point(session: Session, state: PlanState, lon: float, lat: float, ftype: str) -> PlanState:
    """Add a site of ``ftype`` at a clicked point, moved onto the nearest road."""
    _check_type(session, ftype)
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise EditError(f"not a WGS-84 longitude/latitude: {lon}, {lat}")
    xy = _to_work(session, lon, lat)
    area = session.prepared.study.boundary.union_all()
    if not area.covers(shapely.Point(xy[0])):
        raise EditError(f"the point {lon:.6f}, {lat:.6f} is outside the study area")
    site_id = _next_point_id(state, session)
    row = _point_row(session, site_id, ftype, _snapped(session, xy))
    edit = {"op": "add_point", "id": site_id, "type": ftype, "lon": lon, "lat": lat}
    return _add_point_row(session, state, row, edit)


def _add_point_row(
    session: Session, state: PlanState, row: gpd.GeoDataFrame, edit: dict[str, Any]
) -> PlanState:
    site_id = str(row["candidate_id"].iat[0])
    outcome = PlacementOutcome("serve", row, None, 0, 0, 0.0)
    fac = proposed_facilities([outcome], row.crs, park_carriers=park_min_carriers(session.ctx)).assign(
        origin="point"
    )
    points = gpd.GeoDataFrame(
        pd.concat([state.points, row], ignore_index=True), geometry="geometry", crs=row.crs
    )
    frame = sites_frame([state.facilities, fac], state.facilities.crs)
    return _with(state, frame, edit, points=points, **_added(state, site_id))


def remove(session: Session, state: PlanState, site_id: str) -> PlanState:
    """Remove a proposed site (an existing facility is closed instead: :func:`toggle_closed`)."""
    row = state.site(site_id)
    if row["status"] != "proposed":
        raise EditError(f"{site_id!r} is an existing facility: close it instead of removing it", status=409)
    frame = state.facilities[state.facilities["facility_id"].astype(str) != str(site_id)]
    if site_id in state.added:
        changes: dict[str, Any] = {"added": tuple(a for a in state.added if a != site_id)}
    else:
        changes = {"removed": (*state.removed, str(site_id))}
    points = state.points[state.points["candidate_id"].astype(str) != str(site_id)]
    edit = {"op": "remove", "id": str(site_id), "type": str(row["type"])}
    return _with(state, gpd.GeoDataFrame(frame, crs=state.facilities.crs), edit, points=points, **changes)


def toggle_closed(session: Session, state: PlanState, site_id: str) -> PlanState:
    """Close an existing facility, or open it again."""
    row = state.site(site_id)
    if row["status"] == "proposed":
        raise EditError(f"{site_id!r} is a proposal: remove it instead of closing it", status=409)
    frame = state.facilities.copy()
    rows = frame["facility_id"].astype(str) == str(site_id)
    closing = row["status"] == "existing"
    frame.loc[rows, "status"] = "closed" if closing else "existing"
    closed = (*state.closed, str(site_id)) if closing else tuple(c for c in state.closed if c != site_id)
    edit = {"op": "close" if closing else "reopen", "id": str(site_id), "type": str(row["type"])}
    return _with(state, frame, edit, closed=closed)


def retype(session: Session, state: PlanState, site_id: str, ftype: str) -> PlanState:
    """Give a site another type: an existing facility in place; a proposal becomes a new site of
    ``ftype`` at the same place (removed, and added as a point)."""
    row = state.site(site_id)
    if ftype not in FACILITY_TYPES:
        raise EditError(f"unknown facility type {ftype!r}; one of {', '.join(FACILITY_TYPES)}")
    if str(row["type"]) == ftype:
        raise EditError(f"{site_id!r} is a {ftype} already", status=409)
    if row["status"] != "proposed":
        frame = state.facilities.copy()
        frame.loc[frame["facility_id"].astype(str) == str(site_id), "type"] = ftype
        retyped = (*[r for r in state.retyped if r[0] != site_id], (str(site_id), ftype))
        edit = {"op": "retype", "id": str(site_id), "type": ftype, "was": str(row["type"])}
        return _with(state, frame, edit, retyped=retyped)
    _check_type(session, ftype)
    xy = points_xy(gpd.GeoDataFrame(geometry=[row.geometry], crs=state.facilities.crs))
    without = remove(session, state, site_id)
    new_id = _next_point_id(without, session)
    point = _point_row(session, new_id, ftype, xy)
    edit = {"op": "retype", "id": str(site_id), "type": ftype, "was": str(row["type"]), "new_id": new_id}
    after = _add_point_row(session, without, point, edit)
    return dataclasses.replace(after, edits=(*state.edits, edit))
