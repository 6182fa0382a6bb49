"""What both ``planner audit`` and ``planner run`` start from: inputs read, demand classed, networks built.

Wiring only; the readers are in :mod:`planner.inputs`, the demand rules in :mod:`planner.demand`.
Without a road file (``travel.reading: buffer``) no network is built: the run is straight-line only
(``StudyData.straight_line_only``), ``Prepared.networks`` is empty, and the outlet/locker candidates
are generated on the populated demand cells instead of the road nodes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from planner.coverage import service_rules
from planner.coverage.snaps import SnapCache
from planner.demand import (
    DensityRule,
    assign_villages,
    calibrate_to_census,
    classify_demand,
    townships_from_villages,
    with_register_townships,
    with_township,
    with_village,
)
from planner.errors import CheckError, InputDataError, PlannerError, Problem
from planner.geo import points_xy
from planner.inputs import (
    PopulationReport,
    locate_villages,
    read_boundary,
    read_candidates,
    read_census,
    read_facilities,
    read_poi_facilities,
    read_population_demand,
    read_townships,
    read_village_points,
    read_villages,
    register_locations,
    villages_from_osm_places,
    work_crs,
)
from planner.inputs.repair import Repair
from planner.inputs.roads import read_road_table
from planner.inputs.roadtable import RoadTable
from planner.inputs.tables import WGS84
from planner.network import ModeNetwork
from planner.network.modes import DEFAULT_MODES, ModeSpec, mode_from_overrides
from planner.network.store import mode_networks
from planner.plan.candidates import CandidateRules, generate_candidates, pick_sites
from planner.run.timer import StageTimer
from planner.scenario import Scenario, scenario_hash
from planner.standards import Profile
from planner.store import DiskStore, default_cache_root
from planner.types import FACILITY_COLUMNS, VILLAGE_COLUMNS, StudyData

__all__ = ["VEHICLE_MODE", "Prepared", "StudyRead", "load_study_data", "prepare", "read_study_data"]

log = logging.getLogger(__name__)

#: The travel mode of the county-level chain (parks, outlets, stations): vans on the roads.
VEHICLE_MODE = "car"


@dataclass(frozen=True)
class Prepared:
    """Inputs read, demand classed, networks built: what both ``audit`` and ``run`` start from.

    ``networks`` is empty in a straight-line-only run (no road file, ``travel.reading: buffer``).
    """

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


@dataclass(frozen=True)
class _Villages:
    """The villages read (and located), with what the outputs report about them."""

    frame: gpd.GeoDataFrame
    locations: pd.DataFrame | None = None
    unmatched_points: pd.DataFrame | None = None
    dropped_values: tuple[str, ...] = ()


def _read_villages(
    gather: _Gather,
    scenario: Scenario,
    boundary: gpd.GeoDataFrame | None,
    crs: Any,
    hh: float,
    polygons: gpd.GeoDataFrame | None,
) -> _Villages | None:
    """The villages read (and located by the point layer); None when a file failed (``gather`` has why)."""
    layer = scenario.inputs.villages
    if layer is None:
        return _Villages(_empty_points(crs, list(VILLAGE_COLUMNS)))
    if layer.format == "osm_places":
        places = gather(
            layer.path,
            villages_from_osm_places,
            layer.path,
            crs=crs,
            county_code=scenario.study_area.county_code or "000000",
            boundary=boundary,
            household_size=hh,
            coordinate_system=layer.coordinate_system,
        )
        if places is None:
            return None
        return _Villages(places, dropped_values=tuple(places.attrs.get("dropped_values", ())))
    register = gather(
        layer.path,
        read_villages,
        layer.path,
        crs=crs,
        coordinate_system=layer.coordinate_system,
        boundary=boundary,
        household_size=hh,
    )
    if layer.points is None:
        return None if register is None else _Villages(register, register_locations(register))
    where = layer.points.path
    points = gather(where, read_village_points, where, coordinate_system=layer.points.coordinate_system)
    if register is None or points is None:
        return None
    located = gather(
        where,
        locate_villages,
        register,
        points,
        crs=crs,
        townships=polygons,
        boundary=boundary,
        max_spread_m=layer.points.max_spread_m,
    )
    return None if located is None else _Villages(located.villages, located.table, located.unmatched_points)


def _read_facilities(
    scenario: Scenario, boundary: gpd.GeoDataFrame | None, crs: Any
) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    layer = scenario.inputs.facilities
    if layer is None:
        return _empty_points(crs, [c for c in FACILITY_COLUMNS if c != "township_code"]), None
    if layer.format == "poi":
        return read_poi_facilities(
            layer.path,
            crs=crs,
            coordinate_system=layer.coordinate_system,
            boundary=boundary,
            type_patterns=(
                {str(t): list(ps) for t, ps in layer.type_patterns.items()}
                if layer.type_patterns is not None
                else None
            ),
            exclude_patterns=layer.exclude_patterns,
        )
    frame = read_facilities(
        layer.path,
        crs=crs,
        coordinate_system=layer.coordinate_system,
        boundary=boundary,
        default_type=layer.default_type,
    )
    kept = frame["type"].value_counts().to_dict()
    return frame, {"file": layer.path.name, "format": "table", "rows": len(frame), "kept": kept}


def _read_candidates(scenario: Scenario, boundary: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame:
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


def _townships(
    scenario: Scenario,
    polygons: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, str]:
    """The townships (polygons given, else the located villages' Voronoi cells) and their source."""
    if polygons is not None:
        return with_register_townships(polygons, villages), "polygons"
    townships = townships_from_villages(villages, boundary)
    with_area = townships.geometry.notna() & ~townships.geometry.is_empty
    return townships, "voronoi of located villages" if with_area.any() else "register (no areas)"


def _people_outside(demand: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> float:
    """People of demand points outside every township polygon."""
    areas = townships[townships.geometry.notna() & ~townships.geometry.is_empty]
    if len(areas) == 0:
        return float(demand["population"].sum())
    inside = gpd.sjoin(demand[["geometry"]], areas[["geometry"]], predicate="intersects").index.unique()
    return float(demand["population"].sum() - demand.loc[inside, "population"].sum())


_AUTO_SOURCES = {
    "candidates": "generated from the roads (or, without roads, the populated demand cells) and the villages",
    "townships": "Voronoi cells of the located villages, dissolved by township",
}


def _provenance(scenario: Scenario, township_source: str) -> dict[str, dict[str, Any]]:
    """Per input: real/synthetic/generated (as the scenario states), none (absent), unstated."""
    area, inputs = scenario.study_area, scenario.inputs
    villages = inputs.villages
    files: dict[str, Any] = {
        "boundary": area.boundary,
        "townships": area.townships,
        "population": inputs.population.path,
        "census": inputs.population.calibrate_to,
        "roads": inputs.roads.path if inputs.roads is not None else None,
        "villages": villages.path if villages is not None else None,
        "village_points": villages.points.path
        if villages is not None and villages.points is not None
        else None,
        "facilities": inputs.facilities.path if inputs.facilities is not None else None,
        "candidates": inputs.candidates.path if inputs.candidates is not None else None,
    }
    out: dict[str, dict[str, Any]] = {}
    for name, file in files.items():
        stated = inputs.provenance.get(name)  # type: ignore[call-overload]
        entry: dict[str, Any] = {
            "kind": "unstated",
            "file": file.name if file is not None else None,
            "source": None,
        }
        if file is None:
            entry["kind"] = "none"
            if name == "boundary" and area.admin_name:
                entry |= {
                    "kind": "real",
                    "file": None,
                    "source": f"cnmaps: {area.admin_name} (Amap, GCJ-02 → WGS-84)",
                }
            elif name == "candidates" or (name == "townships" and township_source.startswith("voronoi")):
                entry |= {"kind": "generated", "source": _AUTO_SOURCES[name]}
        if stated is not None:
            entry |= {"kind": stated.kind, "source": stated.source}
        out[name] = entry
    return out


P = ParamSpec("P")
T = TypeVar("T")

#: The CRS the layers are read in when the boundary is unusable (so that their own problems are still
#: found): Web Mercator, metres; nothing is computed in it.
_FALLBACK_CRS = CRS.from_epsg(3857)


class _Gather:
    """Runs each reader and keeps the problems of a failing one (each naming its file) instead of
    stopping there: every problem of every input file is found in one pass.

    ``skip`` holds files whose problems are already reported (by the scenario check: missing files,
    rasters without a CRS); their readers' problems are not repeated.
    """

    def __init__(self, *, skip: frozenset[Path] = frozenset()) -> None:
        self.problems: list[Problem] = []
        self.errors: list[PlannerError] = []
        self.skip = skip

    def __call__(
        self, file: Path | None, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        try:
            return read(*args, **kwargs)
        except PlannerError as exc:
            self.errors.append(exc)
            for problem in exc.problems or [Problem(str(exc))]:
                if problem.file is None:
                    problem = dataclasses.replace(problem, file=file)
                if problem.file is None or Path(problem.file) not in self.skip:
                    self.problems.append(problem)
            return None

    def error(self) -> PlannerError:
        """The error to raise: the one reader's own error, or every problem of every file together."""
        if len(self.errors) == 1 and self.problems == list(self.errors[0].problems):
            return self.errors[0]
        return CheckError(self.problems)


@dataclass(frozen=True)
class StudyRead:
    """What :func:`read_study_data` found: the study data (None when an input failed), every problem of
    every input file, and the repairs it made (told as notes)."""

    study: StudyData | None
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...]
    error: PlannerError | None = None
    #: the boundary in WGS-84 when it could be read (to clip the roads with), even if other files failed
    boundary: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class _Layers:
    """The layers read, before the townships and the census calibration."""

    boundary: gpd.GeoDataFrame
    crs: CRS
    demand: gpd.GeoDataFrame
    population: PopulationReport
    polygons: gpd.GeoDataFrame | None
    villages: _Villages
    facilities: tuple[gpd.GeoDataFrame, dict[str, Any] | None]
    candidates: gpd.GeoDataFrame


def _work_crs(gather: _Gather, scenario: Scenario, boundary: gpd.GeoDataFrame | None) -> CRS:
    area = scenario.study_area
    epsg = None if area.crs == "auto" else int(str(area.crs).lower().replace("epsg:", ""))
    if boundary is None:
        crs = gather(scenario.path, work_crs, _empty_points(WGS84, []), epsg=epsg) if epsg else None
        return crs if crs is not None else _FALLBACK_CRS
    crs = gather(scenario.path, work_crs, boundary, epsg=epsg)
    return crs if crs is not None else _FALLBACK_CRS


def _read_layers(
    gather: _Gather, scenario: Scenario, profile: Profile
) -> tuple[_Layers | None, gpd.GeoDataFrame | None]:
    """Every input file read (each through its reader, each failing one recorded in ``gather``), and the
    boundary (WGS-84) when it could be read."""
    area, inputs = scenario.study_area, scenario.inputs
    boundary = gather(
        area.boundary or scenario.path,
        read_boundary,
        area.boundary,
        admin_name=area.admin_name,
        coordinate_system=area.coordinate_system,
        county_code=area.county_code,
        county_name=area.county_name,
    )
    crs = _work_crs(gather, scenario, boundary)
    hh = profile.household_size.persons
    people = None
    if boundary is not None:
        people = gather(
            inputs.population.path,
            read_population_demand,
            inputs.population.path,
            boundary=boundary,
            crs=crs,
            resolution_m=inputs.population.resolution_m,
            household_size=hh,
        )
    polygons = None
    if area.townships is not None:
        polygons = gather(
            area.townships, read_townships, area.townships, crs=crs, coordinate_system=area.coordinate_system
        )
    villages = _read_villages(gather, scenario, boundary, crs, hh, polygons)
    facilities = gather(_layer_path(inputs.facilities), _read_facilities, scenario, boundary, crs)
    candidates = gather(_layer_path(inputs.candidates), _read_candidates, scenario, boundary, crs)
    if gather.errors or boundary is None or people is None or villages is None:
        return None, boundary
    assert facilities is not None and candidates is not None
    return _Layers(boundary, crs, people[0], people[1], polygons, villages, facilities, candidates), boundary


def _layer_path(layer: Any) -> Path | None:
    return None if layer is None else Path(layer.path)


def _calibrated(
    gather: _Gather, scenario: Scenario, profile: Profile, layers: _Layers, townships: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    """The demand rescaled to the census per township (unchanged without a census file)."""
    pop = scenario.inputs.population
    if pop.calibrate_to is None:
        return layers.demand, None
    census = gather(
        pop.calibrate_to,
        read_census,
        pop.calibrate_to,
        townships=townships,
        county_name=str(layers.boundary["county_name"].iat[0]),
    )
    if census is None:
        return layers.demand, None
    done = gather(
        pop.calibrate_to,
        calibrate_to_census,
        layers.demand,
        townships,
        census,
        resolution_m=pop.resolution_m,
        household_size=profile.household_size.persons,
        area=layers.boundary.to_crs(layers.crs).union_all(),
    )
    return done if done is not None else (layers.demand, None)


def _repairs(scenario: Scenario, layers: _Layers, total: float) -> list[Repair]:
    """The boundary's and townships' repairs, each with the people of the parts it changed, counted as
    the population reader counts the study area (people of the raster whose (sub-)cell centre lies in
    those parts)."""
    pop = scenario.inputs.population
    told = []
    for repair in [*layers.boundary.attrs.get("repairs", []), *_attr(layers.polygons, "repairs")]:
        people = 0.0
        if not repair.looped.is_empty:
            region = gpd.GeoDataFrame(geometry=[repair.looped], crs=WGS84)
            try:
                _, counted = read_population_demand(
                    pop.path, boundary=region, crs=layers.crs, resolution_m=pop.resolution_m, household_size=1
                )
                people = counted.total_inside
            except InputDataError:  # no people there (or the raster does not reach it)
                people = 0.0
        told.append(dataclasses.replace(repair, people=people, people_total=total))
    return told


def _attr(frame: gpd.GeoDataFrame | None, key: str) -> list[Any]:
    return [] if frame is None else list(frame.attrs.get(key, []))


def read_study_data(
    scenario: Scenario, profile: Profile, *, skip: frozenset[Path] = frozenset()
) -> StudyRead:
    """Read every input of the scenario into the work CRS (villages located, population calibrated),
    finding every problem of every input file in one pass.

    Parameters
    ----------
    scenario, profile
        The scenario and its policy profile.
    skip
        Files whose problems are already reported elsewhere (not repeated).

    Returns
    -------
    StudyRead
        The study data, or None with every problem of every file (``error`` is what to raise). The
        repairs of the boundary and the townships are ``notes`` (also in the study's notes and
        ``input_report["repairs"]``).
    """
    gather = _Gather(skip=skip)
    layers, boundary = _read_layers(gather, scenario, profile)
    if layers is None:
        return StudyRead(None, tuple(gather.problems), (), gather.error(), boundary)
    villages = layers.villages
    boundary_work = layers.boundary.to_crs(layers.crs)
    townships, township_source = _townships(scenario, layers.polygons, villages.frame, boundary_work)
    demand, calibration = _calibrated(gather, scenario, profile, layers, townships)
    if gather.errors:
        return StudyRead(None, tuple(gather.problems), (), gather.error(), boundary)
    repairs = _repairs(scenario, layers, float(layers.population.total_inside))
    notes = tuple(r.note() for r in repairs)
    facilities, facility_report = layers.facilities
    with_area = townships.geometry.notna() & ~townships.geometry.is_empty
    report: dict[str, Any] = {
        "population": layers.population.as_dict(),
        "townships": {
            "source": township_source,
            "total": len(townships),
            "with_area": int(with_area.sum()),
            "people_outside": round(_people_outside(demand, townships), 1),
        },
        "facilities": facility_report,
        "dropped_values": list(villages.dropped_values),
        "repairs": [str(n.describe(with_file=False)) for n in notes],
    }
    study = StudyData(
        crs=layers.crs,
        boundary=boundary_work,
        townships=townships,
        demand=demand,
        villages=villages.frame,
        facilities=with_township(facilities, townships),
        candidates=with_township(layers.candidates, townships),
        roads=None,
        notes=(str(layers.population), *(str(n) for n in notes)),
        straight_line_only=scenario.inputs.roads is None,
        provenance=_provenance(scenario, township_source),
        village_locations=villages.locations,
        village_points_unmatched=villages.unmatched_points,
        population_calibration=calibration,
        input_report=report,
    )
    return StudyRead(study, (), notes, None, boundary)


def load_study_data(scenario: Scenario, profile: Profile) -> StudyData:
    """Read every input of the scenario into the work CRS (villages located, population calibrated).

    Raises the one reader's error when one input file fails, else a
    :class:`~planner.errors.CheckError` with every problem of every failing file.
    """
    read = read_study_data(scenario, profile)
    if read.study is None:
        assert read.error is not None
        raise read.error
    return read.study


def _classify(scenario: Scenario, study: StudyData) -> gpd.GeoDataFrame:
    classes = scenario.area_classification
    rule = DensityRule(
        city_density_per_km2=classes.city_density_per_km2,
        city_min_population=classes.city_min_population,
        city_connectivity=classes.city_connectivity,
        town_density_per_km2=classes.town_density_per_km2,
        town_min_population=classes.town_min_population,
        town_connectivity=classes.town_connectivity,
        grid_m=classes.grid_m,
        smooth_centres=classes.smooth_centres,
        max_hole_km2=classes.max_hole_km2,
    )
    demand = assign_villages(study.demand, study.villages, study.townships, max_km=classes.village_max_km)
    return classify_demand(
        demand,
        study.villages,
        rule=rule,
        cell_size_m=scenario.inputs.population.resolution_m,
        land=study.boundary.union_all(),
    )


def _classes_block(scenario: Scenario, demand: gpd.GeoDataFrame) -> dict[str, Any]:
    """How the demand was classed: the method and thresholds, and people per class and evidence."""
    people = demand.groupby(["area_class_source", "area_class"])["population"].sum()
    return {
        "method": "NBS urban-rural code of the cell's village, else the Degree of Urbanisation "
        "(DEGURBA stage 1) on a grid of grid_m",
        **scenario.area_classification.model_dump(mode="json"),
        "people": {f"{source}:{cls}": round(float(v), 1) for (source, cls), v in people.items()},
    }


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


def candidates_without_roads(
    demand: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    cost_table: dict[str, float],
    cell_size_m: float,
) -> gpd.GeoDataFrame:
    """Candidate sites of a straight-line-only run: :mod:`planner.plan.candidates`' rules, with the
    populated demand-cell centres in place of the road nodes (outlets and lockers), and the located
    administrative villages (stations)."""
    xy = points_xy(demand)
    people = demand["population"].to_numpy(dtype=float)
    density = people / (cell_size_m * cell_size_m / 1e6)
    rows: list[dict[str, Any]] = []
    for kind, n, k in pick_sites(xy, people, density, CandidateRules()):
        if kind in cost_table:
            rows.append(
                {
                    "candidate_id": f"G-{kind}-{n}",
                    "type": kind,
                    "x": xy[k, 0],
                    "y": xy[k, 1],
                    "village_code": "",
                }
            )
    admin = villages[
        (villages["kind"] == "village") & villages.geometry.notna() & ~villages.geometry.is_empty
    ]
    if "village_station" in cost_table:
        for n, (code, (x, y)) in enumerate(
            zip(admin["village_code"].astype(str), points_xy(admin), strict=True), 1
        ):
            rows.append(
                {
                    "candidate_id": f"G-village_station-{n}",
                    "type": "village_station",
                    "x": x,
                    "y": y,
                    "village_code": code,
                }
            )
    frame = pd.DataFrame(rows, columns=["candidate_id", "type", "x", "y", "village_code"])
    return gpd.GeoDataFrame(
        {
            "candidate_id": frame["candidate_id"],
            "type": frame["type"],
            "cost": frame["type"].map(cost_table).astype(float),
            "capacity": np.nan,
            "village_code": frame["village_code"],
        },
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=demand.crs,
    )


def _known_classes(scenario: Scenario) -> list[str]:
    """The road classes the scenario's speed overrides name (a line layer may use them)."""
    return sorted({k for m in scenario.travel.modes.values() for k in m.speeds_kmh})


def read_scenario_roads(scenario: Scenario, boundary_wgs84: gpd.GeoDataFrame | None) -> RoadTable:
    """The scenario's road file read as the networks read it (clipped to the area, the layer options)."""
    roads = scenario.inputs.roads
    assert roads is not None
    return read_road_table(
        roads.path, boundary=boundary_wgs84, known_classes=_known_classes(scenario), **roads.reader_options()
    )


def _networks(
    scenario: Scenario, profile: Profile, study: StudyData, store: DiskStore
) -> tuple[dict[str, ModeNetwork], bool]:
    """The travel networks the standards need, from the cache or built; none without a road file."""
    if scenario.inputs.roads is None:
        log.info("network: no road file; straight-line reading only (no networks built)")
        return {}, False
    roads = scenario.inputs.roads
    boundary_wgs = study.boundary.to_crs(4326)
    read = study.roads  # already read by the checks: not read twice

    def table() -> RoadTable:
        return read if read is not None else read_scenario_roads(scenario, boundary_wgs)

    options = roads.reader_options()
    known = _known_classes(scenario)
    networks, from_cache = mode_networks(
        store,
        [roads.path],
        crs=study.crs,
        modes=_mode_specs(scenario, profile),
        read_roads=table,
        options={**options, "known_classes": known} if options or known else None,
    )
    if from_cache:
        log.info("cache: road networks (%s) reused from %s", ", ".join(networks), store.root)
    return networks, from_cache


def prepare(
    scenario: Scenario,
    timer: StageTimer | None = None,
    *,
    use_cache: bool = True,
    study: StudyData | None = None,
) -> Prepared:
    """Read the inputs, class the demand and build the travel networks the standards need.

    The result carries everything later stages start from: the profile, the layers in the work CRS,
    the classed demand, the networks per travel mode (none in a straight-line-only run) and a
    snapping/coverage cache (``snaps``). Road networks and coverage matrices are cached in
    :func:`planner.store.default_cache_root`.

    ``study`` is the inputs as the checks read them (:mod:`planner.run.checks`, with the road graph):
    they are then not read again.
    """
    timer = timer or StageTimer()
    if study is None:
        with timer.stage("inputs"):
            profile = scenario.load_profile()
            study = load_study_data(scenario, profile)
            digest = scenario_hash(scenario)
    else:
        profile = scenario.load_profile()
        digest = scenario_hash(scenario)
    with timer.stage("classify"):
        demand = _classify(scenario, study)
        report = {**study.input_report, "area_classification": _classes_block(scenario, demand)}
        cell = scenario.inputs.population.resolution_m
        study = dataclasses.replace(
            study,
            input_report=report,
            facilities=with_village(study.facilities, demand, cell_size_m=cell),
            candidates=with_village(study.candidates, demand, cell_size_m=cell),
        )
    with timer.stage("network"):
        store = DiskStore(default_cache_root(scenario.cache_dir), enabled=use_cache)
        networks, from_cache = _networks(scenario, profile, study, store)
        snaps = SnapCache(networks, max_snap_m=scenario.travel.max_snap_m, disk=store)
    if scenario.inputs.candidates is None:
        cost_table = {str(t): spec.cost for t, spec in scenario.plan.facilities.items() if spec.place}
        cell = scenario.inputs.population.resolution_m
        if networks:
            generated = generate_candidates(
                networks[VEHICLE_MODE], demand, study.villages, cost_table=cost_table, cell_size_m=cell
            )
            log.info("candidates: %d generated from the roads, population and villages", len(generated))
        else:
            generated = candidates_without_roads(
                demand, study.villages, cost_table=cost_table, cell_size_m=cell
            )
            log.info(
                "candidates: %d generated from the populated cells and villages (no roads)", len(generated)
            )
        located = with_township(generated, study.townships)
        study = dataclasses.replace(study, candidates=with_village(located, demand, cell_size_m=cell))
    return Prepared(scenario, profile, study, demand, networks, snaps, digest, from_cache)
