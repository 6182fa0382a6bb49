"""What both ``planner audit`` and ``planner run`` start from: inputs read, demand classed, networks built."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.coverage import service_rules
from planner.coverage.snaps import SnapCache
from planner.demand import (
    DensityRule,
    assign_villages,
    classify_demand,
    townships_from_villages,
    with_township,
)
from planner.inputs import (
    read_boundary,
    read_candidates,
    read_facilities,
    read_population_demand,
    read_townships,
    read_villages,
    villages_from_osm_places,
    work_crs,
)
from planner.inputs.roads import read_road_table
from planner.network import ModeNetwork
from planner.network.modes import DEFAULT_MODES, ModeSpec, mode_from_overrides
from planner.network.store import mode_networks
from planner.plan.candidates import generate_candidates
from planner.run.timer import StageTimer
from planner.scenario import Scenario, scenario_hash
from planner.standards import Profile
from planner.store import DiskStore, default_cache_root
from planner.types import FACILITY_COLUMNS, VILLAGE_COLUMNS, StudyData

__all__ = ["VEHICLE_MODE", "Prepared", "load_study_data", "prepare"]

log = logging.getLogger(__name__)

#: The travel mode of the county-level chain (parks, outlets, stations): vans on the roads.
VEHICLE_MODE = "car"


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


def _empty_points(crs: Any, columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=crs)
    )


def _read_villages(scenario: Scenario, boundary: gpd.GeoDataFrame, crs: Any, hh: float) -> gpd.GeoDataFrame:
    layer = scenario.inputs.villages
    if layer is None:
        return _empty_points(crs, list(VILLAGE_COLUMNS))
    if layer.format == "osm_places":
        return villages_from_osm_places(
            layer.path,
            crs=crs,
            county_code=scenario.study_area.county_code or "000000",
            boundary=boundary,
            household_size=hh,
            coordinate_system=layer.coordinate_system,
        )
    return read_villages(
        layer.path, crs=crs, coordinate_system=layer.coordinate_system, boundary=boundary, household_size=hh
    )


def _read_facilities(scenario: Scenario, boundary: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    layer = scenario.inputs.facilities
    if layer is None:
        return _empty_points(crs, [c for c in FACILITY_COLUMNS if c != "township_code"])
    return read_facilities(
        layer.path,
        crs=crs,
        coordinate_system=layer.coordinate_system,
        boundary=boundary,
        default_type=layer.default_type,
    )


def _read_candidates(scenario: Scenario, boundary: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    layer = scenario.inputs.candidates
    if layer is None:
        return _empty_points(crs, ["candidate_id", "type", "cost", "capacity", "village_code"])
    cost_table = {str(t): spec.cost for t, spec in scenario.plan.facilities.items()}
    return read_candidates(
        layer.path,
        crs=crs,
        coordinate_system=layer.coordinate_system,
        cost_table=cost_table,
        boundary=boundary,
    )


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
    villages = _read_villages(scenario, boundary, crs, household_size)
    townships = (
        read_townships(area.townships, crs=crs, coordinate_system=area.coordinate_system)
        if area.townships is not None
        else townships_from_villages(villages, boundary.to_crs(crs))
    )
    return StudyData(
        crs=crs,
        boundary=boundary.to_crs(crs),
        townships=townships,
        demand=demand,
        villages=villages,
        facilities=with_township(_read_facilities(scenario, boundary, crs), townships),
        candidates=with_township(_read_candidates(scenario, boundary, crs), townships),
        roads=None,
        notes=(str(pop_report),),
    )


def _classify(scenario: Scenario, study: StudyData) -> gpd.GeoDataFrame:
    classes = scenario.area_classification
    rule = DensityRule(
        city_density_per_km2=classes.city_density_per_km2,
        city_min_population=classes.city_min_population,
        town_density_per_km2=classes.town_density_per_km2,
        town_min_population=classes.town_min_population,
    )
    demand = assign_villages(study.demand, study.villages, study.townships, max_km=classes.village_max_km)
    return classify_demand(
        demand, study.villages, rule=rule, cell_size_m=scenario.inputs.population.resolution_m
    )


def _mode_specs(scenario: Scenario, profile: Profile) -> list[ModeSpec]:
    """The travel modes the standards need (and the vehicle mode), with the scenario's overrides."""
    needed = sorted({r.mode for r in service_rules(profile).values()} | {VEHICLE_MODE})
    specs = []
    for mode in needed:
        override = scenario.travel.modes.get(mode)  # type: ignore[call-overload]
        spec = DEFAULT_MODES[mode]
        if override is not None:
            spec = mode_from_overrides(spec, speeds_kmh=override.speeds_kmh, default_kmh=override.default_kmh)
        specs.append(spec)
    return specs


def prepare(scenario: Scenario, timer: StageTimer | None = None, *, use_cache: bool = True) -> Prepared:
    """Read the inputs, class the demand and build the travel networks the standards need.

    The result carries everything later stages start from: the profile, the layers in the work CRS,
    the classed demand, the networks per travel mode and a snapping/coverage cache (``snaps``).
    Road networks and coverage matrices are cached in :func:`planner.store.default_cache_root`.
    """
    timer = timer or StageTimer()
    with timer.stage("inputs"):
        profile = scenario.load_profile()
        study = load_study_data(scenario, profile)
        digest = scenario_hash(scenario)
    with timer.stage("classify"):
        demand = _classify(scenario, study)
    with timer.stage("network"):
        store = DiskStore(default_cache_root(scenario.cache_dir), enabled=use_cache)
        roads_path = scenario.inputs.roads.path
        boundary_wgs = study.boundary.to_crs(4326)
        networks, from_cache = mode_networks(
            store,
            [roads_path],
            crs=study.crs,
            modes=_mode_specs(scenario, profile),
            read_roads=lambda: read_road_table(roads_path, boundary=boundary_wgs),
        )
        if from_cache:
            log.info("cache: road networks (%s) reused from %s", ", ".join(networks), store.root)
        snaps = SnapCache(networks, max_snap_m=scenario.travel.max_snap_m, disk=store)
    if scenario.inputs.candidates is None:
        generated = generate_candidates(
            networks[VEHICLE_MODE],
            demand,
            study.villages,
            cost_table={str(t): spec.cost for t, spec in scenario.plan.facilities.items() if spec.place},
            cell_size_m=scenario.inputs.population.resolution_m,
        )
        log.info("candidates: %d generated from the roads, population and villages", len(generated))
        study = dataclasses.replace(study, candidates=with_township(generated, study.townships))
    return Prepared(scenario, profile, study, demand, networks, snaps, digest, from_cache)
