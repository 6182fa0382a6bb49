"""``planner run`` and ``planner audit``: the stages wired together, each timed.

Each stage is a function from typed inputs to typed outputs; this module only orders them, times
them and hands them to the outputs stage. It never prints: progress goes through the ``stage``
callback the CLI passes (a context manager per stage name).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import __version__
from planner.cache import Cache
from planner.candidates import generate_candidates
from planner.classify import DensityRule, assign_villages, classify_demand
from planner.evaluate import SnapCache, evaluate_demand, points_xy, service_rules, village_station_status
from planner.inputs import (
    read_boundary,
    read_candidates,
    read_facilities,
    read_population_demand,
    read_roads,
    read_townships,
    read_villages,
    villages_from_osm_places,
    work_crs,
)
from planner.network import DEFAULT_MODES, ModeNetwork, mode_from_overrides
from planner.optimize import Phase, SolverSettings
from planner.plan import (
    DensityTargets,
    PlacementOutcome,
    attribute_gains,
    density_targets,
    expand_multi_unit_sites,
    place_pickup_points,
    place_village_stations,
    proposals_table,
)
from planner.plan_county import coverage_curve, delivery_chain, place_parks, service_area_layer
from planner.scenario import Scenario, scenario_hash
from planner.standards import Profile
from planner.summary import (
    chain_summary,
    citations,
    coverage_block,
    explanations,
    run_summary,
    township_table,
)
from planner.types import PICKUP_TYPES, AreaClass, AuditResult, RunResult, StudyData

log = logging.getLogger(__name__)

StageCallback = Callable[[str], AbstractContextManager[Any]]

#: The travel mode of the county-level chain (parks, outlets, stations): vans on the roads.
VEHICLE_MODE = "car"


@contextlib.contextmanager
def _no_progress(_: str) -> Iterator[None]:
    yield


@dataclass
class _Timer:
    stage_cb: StageCallback
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        with self.stage_cb(name):
            yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def load_study_data(scenario: Scenario, profile: Profile) -> StudyData:
    """Read every input of the scenario into the work CRS."""
    area = scenario.study_area
    boundary = read_boundary(
        area.boundary,
        admin_name=area.admin_name,
        coordinate_system=area.coordinate_system,
        county_code=area.county_code,
        county_name=area.county_name,
    )
    epsg = None if area.crs == "auto" else int(str(area.crs).lower().replace("epsg:", ""))
    crs = work_crs(boundary, epsg=epsg)
    household_size = profile.household_size.persons
    demand, pop_report = read_population_demand(
        scenario.inputs.population.path,
        boundary=boundary,
        crs=crs,
        resolution_m=scenario.inputs.population.resolution_m,
        household_size=household_size,
    )
    layers = scenario.inputs
    if layers.villages is None:
        villages = _empty_villages(crs)
    elif layers.villages.format == "osm_places":
        villages = villages_from_osm_places(
            layers.villages.path,
            crs=crs,
            county_code=area.county_code or "000000",
            boundary=boundary,
            household_size=household_size,
            coordinate_system=layers.villages.coordinate_system,
        )
    else:
        villages = read_villages(
            layers.villages.path,
            crs=crs,
            coordinate_system=layers.villages.coordinate_system,
            boundary=boundary,
            household_size=household_size,
        )
    townships = (
        read_townships(area.townships, crs=crs, coordinate_system=area.coordinate_system)
        if area.townships is not None
        else _townships_from_villages(villages, boundary.to_crs(crs))
    )
    facilities = (
        read_facilities(
            layers.facilities.path,
            crs=crs,
            coordinate_system=layers.facilities.coordinate_system,
            boundary=boundary,
            default_type=layers.facilities.default_type,
        )
        if layers.facilities is not None
        else _empty_points(
            crs, ["facility_id", "type", "name", "brands", "capacity", "floor_area_m2", "village_code"]
        )
    )
    cost_table: dict[str, float] = {str(t): spec.cost for t, spec in scenario.plan.facilities.items()}
    candidates = (
        read_candidates(
            layers.candidates.path,
            crs=crs,
            coordinate_system=layers.candidates.coordinate_system,
            cost_table=cost_table,
            boundary=boundary,
        )
        if layers.candidates is not None
        else _empty_points(crs, ["candidate_id", "type", "cost", "capacity", "village_code"])
    )
    notes = (str(pop_report),)
    return StudyData(
        crs=crs,
        boundary=boundary.to_crs(crs),
        townships=townships,
        demand=demand,
        villages=villages,
        facilities=_with_township(facilities, townships),
        candidates=_with_township(candidates, townships),
        roads=None,
        notes=notes,
    )


def _empty_points(crs: Any, columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=crs)
    )


def _empty_villages(crs: Any) -> gpd.GeoDataFrame:
    from planner.types import VILLAGE_COLUMNS

    return _empty_points(crs, list(VILLAGE_COLUMNS))


def _townships_from_villages(villages: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Township polygons when none are given: village Voronoi cells dissolved by township, clipped."""
    from shapely import voronoi_polygons
    from shapely.geometry import MultiPoint

    pts = villages[villages.geometry.notna() & ~villages.geometry.is_empty]
    if len(pts) < 2:
        return gpd.GeoDataFrame(
            {"township_code": [""], "township_name": [""]}, geometry=list(boundary.geometry), crs=boundary.crs
        )
    area = boundary.union_all()
    cells = voronoi_polygons(MultiPoint(list(pts.geometry)), extend_to=area)
    cell_frame = gpd.GeoDataFrame(geometry=list(cells.geoms), crs=boundary.crs)
    joined = gpd.sjoin(cell_frame, pts[["township_code", "township_name", "geometry"]], predicate="contains")
    dissolved = joined.dissolve(by=["township_code", "township_name"]).reset_index()
    dissolved["geometry"] = dissolved.geometry.intersection(area)
    return dissolved[["township_code", "township_name", "geometry"]]


def _with_township(points: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``township_code`` from the township polygon each point lies in (nearest within 1 km else)."""
    points = points.copy()
    if len(points) == 0:
        points["township_code"] = pd.Series(dtype=object)
        return points
    valid = points.geometry.notna() & ~points.geometry.is_empty
    codes = pd.Series("", index=points.index, dtype=object)
    if valid.any() and len(townships):
        joined = gpd.sjoin_nearest(
            points.loc[valid, ["geometry"]], townships[["township_code", "geometry"]], max_distance=1000
        )
        joined = joined[~joined.index.duplicated()]
        codes.loc[joined.index] = joined["township_code"].astype(str)
    points["township_code"] = codes
    return points


# ------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """Inputs read, demand classed, networks built: what both ``audit`` and ``run`` start from."""

    scenario: Scenario
    profile: Profile
    study: StudyData
    demand: gpd.GeoDataFrame
    networks: dict[str, ModeNetwork]
    snaps: SnapCache
    scenario_hash: str
    networks_from_cache: bool = False


def cache_dir(scenario: Scenario) -> Path:
    """The scenario's cache folder: ``cache_dir`` if set, else the user's cache (``$XDG_CACHE_HOME/planner``
    or ``~/.cache/planner``), so that running a scenario never writes beside it."""
    if scenario.cache_dir is not None:
        return scenario.cache_dir
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "planner"


def prepare(scenario: Scenario, timer: _Timer | None = None, *, use_cache: bool = True) -> Prepared:
    """Read the inputs, class the demand and build the travel networks the standards need.

    The result carries everything later stages start from: the profile, the layers in the work CRS,
    the classed demand, the networks per travel mode and a snapping/coverage cache (``snaps``).
    """
    timer = timer or _Timer(_no_progress)
    with timer.stage("inputs"):
        profile = scenario.load_profile()
        study = load_study_data(scenario, profile)
        digest = scenario_hash(scenario)
    with timer.stage("classify"):
        rule = DensityRule(
            city_density_per_km2=scenario.area_classification.city_density_per_km2,
            city_min_population=scenario.area_classification.city_min_population,
            town_density_per_km2=scenario.area_classification.town_density_per_km2,
            town_min_population=scenario.area_classification.town_min_population,
        )
        demand = assign_villages(
            study.demand, study.villages, study.townships, max_km=scenario.area_classification.village_max_km
        )
        demand = classify_demand(
            demand, study.villages, rule=rule, cell_size_m=scenario.inputs.population.resolution_m
        )
    with timer.stage("network"):
        rules = service_rules(profile)
        modes_needed = sorted({r.mode for r in rules.values()} | {VEHICLE_MODE})
        specs = []
        for mode in modes_needed:
            override = scenario.travel.modes.get(mode)  # type: ignore[call-overload]
            spec = DEFAULT_MODES[mode]
            if override is not None:
                spec = mode_from_overrides(
                    spec, speeds_kmh=override.speeds_kmh, default_kmh=override.default_kmh
                )
            specs.append(spec)
        disk = Cache(cache_dir(scenario), enabled=use_cache)
        boundary_wgs = study.boundary.to_crs(4326)
        networks, from_cache = disk.mode_networks(
            [scenario.inputs.roads.path],
            crs=study.crs,
            modes=specs,
            read_roads=lambda: read_roads(scenario.inputs.roads.path, boundary=boundary_wgs),
        )
        if from_cache:
            log.info("cache: road networks (%s) reused from %s", ", ".join(networks), disk.root)
        snaps = SnapCache(networks, max_snap_m=scenario.travel.max_snap_m, disk=disk)
    if scenario.inputs.candidates is None:
        generated = generate_candidates(
            networks[VEHICLE_MODE],
            demand,
            study.villages,
            cost_table={str(t): spec.cost for t, spec in scenario.plan.facilities.items() if spec.place},
            cell_size_m=scenario.inputs.population.resolution_m,
        )
        log.info("candidates: %d generated from the roads, population and villages", len(generated))
        study = dataclasses.replace(study, candidates=_with_township(generated, study.townships))
    return Prepared(scenario, profile, study, demand, networks, snaps, digest, from_cache)


def _pickup_sites(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return facilities[facilities["type"].isin(PICKUP_TYPES)]


def _stations(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return facilities[facilities["type"] == "village_station"]


def _assess(
    prepared: Prepared, facilities: gpd.GeoDataFrame, key: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand and villages with the coverage columns the audit reads, for a given facility set."""
    rules = service_rules(prepared.profile)
    reading = prepared.scenario.travel.reading
    pickup = _pickup_sites(facilities)
    flags = evaluate_demand(
        prepared.demand,
        points_xy(pickup),
        rules=rules,
        snaps=prepared.snaps,
        site_key=f"{key}_pickup",
        reading=reading,
    )
    demand = prepared.demand.drop(columns=list(flags.columns), errors="ignore").join(flags)
    status = village_station_status(
        prepared.study.villages,
        _stations(facilities),
        rule=rules["rural"],
        snaps=prepared.snaps,
        station_key=f"{key}_stations",
    )
    villages = prepared.study.villages.drop(columns=list(status.columns), errors="ignore").join(status)
    return demand, villages


def _audit(
    prepared: Prepared, demand: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> AuditResult:
    from planner.audit import run_audit

    return run_audit(
        demand=demand,
        villages=villages,
        facilities=facilities,
        townships=prepared.study.townships,
        boundary=prepared.study.boundary,
        profile=prepared.profile,
        year=prepared.scenario.plan.year,
        reading=prepared.scenario.travel.reading,
        cell_size_m=prepared.scenario.inputs.population.resolution_m,
    )


def run_scenario(
    scenario: Scenario,
    *,
    out_dir: Path | None = None,
    stage: StageCallback | None = None,
    write: bool = True,
    use_cache: bool = True,
) -> RunResult:
    """Run every stage of a scenario: audit before, plan, audit after, outputs.

    Road networks and coverage matrices are cached under :func:`cache_dir` (keyed by the input
    bytes and parameters); ``summary["cache"]`` says what was reused.
    """
    timer = _Timer(stage or _no_progress)
    prepared = prepare(scenario, timer, use_cache=use_cache)
    study = prepared.study
    rules = service_rules(prepared.profile)
    reading = scenario.travel.reading
    with timer.stage("coverage"):
        demand_before, villages_before = _assess(prepared, study.facilities, "existing")
    with timer.stage("audit"):
        audit_before = _audit(prepared, demand_before, villages_before, study.facilities)
    settings = SolverSettings(
        backend=scenario.solver.backend,
        time_limit_s=scenario.solver.time_limit_s,
        mip_gap=scenario.solver.mip_gap,
        threads=scenario.solver.threads,
    )
    placeable = {t for t, spec in scenario.plan.facilities.items() if spec.place}
    cands = study.candidates
    meet = set(scenario.plan.meet)
    p_county = prepared.profile.standards.p_county
    park_carriers = p_county.min_carriers if p_county is not None else 3
    cands = expand_multi_unit_sites(
        cands, {t: spec.max_per_site for t, spec in scenario.plan.facilities.items()}
    )
    pickup_budget, phases = _budgets(scenario, prepared.profile)
    with timer.stage("optimise"):
        pickup_cands = cands[cands["type"].isin(sorted(placeable & {"outlet", "locker", "delivery_centre"}))]
        radius_classes: tuple[tuple[AreaClass, str], ...] = (("urban", "R-URBAN"), ("township", "R-TOWN"))
        classes = tuple(c for c, sid in radius_classes if sid in meet)
        density = density_targets(
            pickup_cands,
            study.facilities,
            demand_before,
            study.villages,
            study.townships,
            profile=prepared.profile,
            meet=meet,
        )
        pickup = place_pickup_points(
            demand_before,
            _pickup_sites(study.facilities),
            pickup_cands,
            rules=rules,
            snaps=prepared.snaps,
            reading=reading,
            settings=settings,
            classes=classes,
            density=None if pickup_budget is not None else density,
            budget=pickup_budget,
        )
        station_cands = cands[cands["type"] == "village_station"]
        if "village_station" not in placeable or "V-STATION" not in meet:
            station_cands = station_cands.iloc[0:0]
        stations = place_village_stations(
            villages_before,
            villages_before["has_station"].to_numpy(),
            station_cands,
            rule=rules["rural"],
            snaps=prepared.snaps,
            reading=reading,
            settings=settings,
            phases=phases,
        )
        outcomes = [pickup, stations]
        if "P-COUNTY" in meet and "park" in placeable and prepared.profile.standards.p_county is not None:
            mid = _facilities_with(study.facilities, outcomes, study.crs, park_carriers=park_carriers)
            outcomes.append(
                place_parks(
                    mid,
                    cands[cands["type"] == "park"],
                    demand_before,
                    profile=prepared.profile,
                    net=prepared.networks[VEHICLE_MODE],
                    max_snap_m=scenario.travel.max_snap_m,
                    settings=settings,
                )
            )
    facilities_after = _facilities_with(study.facilities, outcomes, study.crs, park_carriers=park_carriers)
    with timer.stage("coverage_after"):
        demand_after, villages_after = _assess(prepared, facilities_after, "after")
        audit_after = _audit(prepared, demand_after, villages_after, facilities_after)
        extra = _extra_tables(prepared, pickup, facilities_after, villages_after, density, settings)
    gains = _gains(demand_before, demand_after, villages_before, villages_after, outcomes)
    facilities_after.loc[facilities_after["status"] == "proposed", "population_gained"] = np.concatenate(
        [g for g in gains if len(g)] or [np.zeros(0)]
    )
    township_names = dict(
        zip(study.townships["township_code"].astype(str), study.townships["township_name"], strict=False)
    )
    proposals = proposals_table([o.chosen for o in outcomes], gains, township_names=township_names)
    demand_out = demand_before.copy()
    demand_out["covered_before"] = demand_before["covered"].to_numpy()
    demand_out["covered_after"] = demand_after["covered"].to_numpy()
    villages_out = villages_before.copy()
    villages_out["has_station_before"] = villages_before["has_station"].to_numpy()
    villages_out["has_station_after"] = villages_after["has_station"].to_numpy()
    summary = run_summary(
        prepared,
        demand_before,
        demand_after,
        villages_before,
        villages_after,
        proposals,
        outcomes,
        timer.timings,
    )
    summary["delivery_chain"] = chain_summary(extra["delivery_chain"])
    extra["explanations"] = explanations(audit_before, prepared.profile)
    if phases and stations.result is not None:
        summary["station_phasing"] = stations.result.extra.get("by_year", [])
        extra["station_phasing"] = pd.DataFrame(summary["station_phasing"])
    if "density_targets" in extra:
        table = extra["density_targets"]
        summary["density_targets"] = {
            "units": len(table),
            "units_short": int((table["short_by"] > 0).sum()),
            "facilities_short": int(table["short_by"].sum()),
        }
    result = RunResult(
        scenario_name=scenario.name,
        scenario_hash=prepared.scenario_hash,
        planner_version=__version__,
        language=scenario.outputs.language,
        crs=study.crs,
        title=scenario.title or scenario.name,
        boundary=study.boundary,
        townships=study.townships,
        demand=demand_out,
        villages=villages_out,
        facilities=facilities_after,
        proposals=proposals,
        audit=audit_before,
        audit_after=audit_after,
        township_table=township_table(
            study.townships, demand_before, demand_after, villages_before, villages_after, proposals
        ),
        summary=summary,
        citations=citations(prepared.profile),
        extra_tables=extra,
    )
    if write:
        from planner.outputs import write_outputs

        target = out_dir or scenario.outputs.folder or Path("out") / scenario.name
        with timer.stage("outputs"):
            write_outputs(
                result, Path(target), lang=scenario.outputs.language, formats=scenario.outputs.formats
            )
    result.summary["timings"] = dict(timer.timings)
    return result


def _budgets(scenario: Scenario, profile: Profile) -> tuple[float | None, list[Phase] | None]:
    """The pickup budget of a ``max_coverage`` plan, and village-station phases from ``budget.per_year``.

    Phases pair the profile's V-STATION targets (e.g. 2024: 85 %, 2025: 100 %) with the scenario's
    yearly budgets; a target year without a budget has no money limit.
    """
    budget = scenario.plan.budget
    pickup_budget = None
    if scenario.plan.objective == "max_coverage" and budget is not None:
        per_type = {k: v for k, v in budget.per_type.items() if k in ("outlet", "locker", "delivery_centre")}
        pickup_budget = float(sum(per_type.values())) if per_type else budget.total
    phases = None
    if budget is not None and budget.per_year and profile.standards.v_station is not None:
        phases = [
            Phase(year, share, budget.per_year.get(year))
            for year, share in sorted(profile.standards.v_station.targets.items())
        ]
    return pickup_budget, phases


def _facilities_with(
    existing: gpd.GeoDataFrame, outcomes: list[PlacementOutcome], crs: Any, *, park_carriers: int = 3
) -> gpd.GeoDataFrame:
    """Existing facilities (status ``existing``) and every outcome's chosen sites (``proposed``)."""
    proposed = _proposed_facilities(outcomes, crs, park_carriers=park_carriers)
    both = pd.concat([existing.assign(status="existing"), proposed], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=crs)


def _extra_tables(
    prepared: Prepared,
    pickup: PlacementOutcome,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    density: DensityTargets | None,
    settings: SolverSettings,
) -> dict[str, Any]:
    """The budget curve, the delivery chain, service areas and the density targets, for the outputs."""
    scenario = prepared.scenario
    extra: dict[str, Any] = {}
    if pickup.instance is not None and scenario.plan.curve_steps > 0 and pickup.instance[0].shape[0]:
        extra["budget_curve"] = coverage_curve(
            *pickup.instance, settings=settings, steps=scenario.plan.curve_steps
        )
    extra["delivery_chain"] = delivery_chain(
        villages,
        facilities,
        net=prepared.networks[VEHICLE_MODE],
        max_snap_m=scenario.travel.max_snap_m,
        settings=settings,
    )
    rules = service_rules(prepared.profile)
    areas = [
        service_area_layer(prepared.networks, rules, facilities, max_snap_m=scenario.travel.max_snap_m),
        service_area_layer(
            prepared.networks,
            rules,
            facilities,
            max_snap_m=scenario.travel.max_snap_m,
            types=("village_station",),
            area_class="rural",
        ),
    ]
    extra["service_areas"] = gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=facilities.crs)
    if density is not None:
        extra["density_targets"] = density.table
    return extra


def _proposed_facilities(
    outcomes: list[PlacementOutcome], crs: Any, *, park_carriers: int = 3
) -> gpd.GeoDataFrame:
    """The chosen sites as facility rows; a proposed park is planned to host ``park_carriers`` carriers."""
    outcome_carriers = float(park_carriers)
    frames = []
    for outcome in outcomes:
        if len(outcome.chosen) == 0:
            continue
        chosen = outcome.chosen
        frames.append(
            gpd.GeoDataFrame(
                {
                    "facility_id": chosen["candidate_id"].astype(str).to_numpy(),
                    "type": chosen["type"].astype(str).to_numpy(),
                    "name": "",
                    "brands": "",
                    "capacity": chosen["capacity"].to_numpy(dtype=float) if "capacity" in chosen else np.nan,
                    "floor_area_m2": np.nan,
                    "village_code": chosen["village_code"].astype(str).to_numpy(),
                    "township_code": chosen["township_code"].astype(str).to_numpy(),
                    "status": "proposed",
                    "cost": chosen["cost"].to_numpy(dtype=float),
                    "carriers_planned": np.where(
                        chosen["type"].to_numpy() == "park", outcome_carriers, np.nan
                    ),
                },
                geometry=chosen.geometry.to_numpy(),
                crs=crs,
            )
        )
    if not frames:
        return gpd.GeoDataFrame({"status": pd.Series(dtype=object)}, geometry=gpd.GeoSeries([], crs=crs))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def _gains(
    demand_before: gpd.GeoDataFrame,
    demand_after: gpd.GeoDataFrame,
    villages_before: gpd.GeoDataFrame,
    villages_after: gpd.GeoDataFrame,
    outcomes: list[PlacementOutcome],
) -> list[np.ndarray]:
    """Population newly covered, credited to the nearest proposal of the model that covers it."""
    pickup, stations = outcomes[0], outcomes[1]
    newly = demand_after["covered"].to_numpy() & ~demand_before["covered"].to_numpy()
    newly &= demand_before["area_class"].isin(["urban", "township"]).to_numpy()
    pickup_gain = attribute_gains(
        points_xy(demand_before)[newly],
        demand_before["population"].to_numpy()[newly],
        points_xy(pickup.chosen),
    )
    served = villages_after["has_station"].to_numpy() & ~villages_before["has_station"].to_numpy()
    station_gain = attribute_gains(
        points_xy(villages_before)[served],
        villages_before["population"].fillna(0).to_numpy()[served],
        points_xy(stations.chosen),
    )
    return [pickup_gain, station_gain, *[np.zeros(len(o.chosen)) for o in outcomes[2:]]]


def audit_scenario(
    scenario: Scenario, *, stage: StageCallback | None = None, use_cache: bool = True
) -> tuple[AuditResult, dict[str, Any]]:
    """The audit alone (no optimisation): the standards checked against the existing facilities."""
    timer = _Timer(stage or _no_progress)
    prepared = prepare(scenario, timer, use_cache=use_cache)
    with timer.stage("coverage"):
        demand, villages = _assess(prepared, prepared.study.facilities, "existing")
    with timer.stage("audit"):
        audit = _audit(prepared, demand, villages, prepared.study.facilities)
    summary = {
        "scenario": scenario.name,
        "scenario_hash": prepared.scenario_hash,
        "coverage": {c: {"before": v} for c, v in coverage_block(demand, "covered").items()},
        "timings": dict(timer.timings),
    }
    return audit, summary
