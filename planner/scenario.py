"""The scenario file: what to study, with which data, against which standards, and what to place.

A scenario is a YAML file (``scenarios/demo.yaml`` is the worked example). It is parsed into frozen
pydantic models; unknown keys are errors. Paths are relative to the scenario file. Every problem of a
scenario (YAML syntax, unknown keys, wrong types, missing files, rasters or layers without a CRS) is
gathered and reported together with the file, line and field path: :func:`validate_scenario` returns
them, :func:`load_scenario` raises :class:`~planner.errors.ScenarioError` with all of them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.errors import Problem, ScenarioError
from planner.standards import PLANNABLE, Profile, load_profile, resolve_profile_path
from planner.types import FACILITY_TYPES, FacilityType

CoordinateSystem = Literal["wgs84", "gcj02", "bd09"]
TravelModeName = Literal["walk", "tricycle", "car"]
OUTPUT_FORMATS: tuple[str, ...] = ("json", "csv", "gpkg", "xlsx", "map", "report")
#: Standards a plan can be asked to meet (the radius, count, village and park standards).
PLANNABLE_STANDARDS: tuple[str, ...] = PLANNABLE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudyArea(_Strict):
    """The study area: a boundary file, or a Chinese admin name resolved offline through cnmaps."""

    boundary: Path | None = Field(default=None, description="county boundary file (GeoJSON, GPKG, SHP)")
    admin_name: str | None = Field(default=None, description="Chinese admin unit name, e.g. 和硕县 (cnmaps)")
    county_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    county_name: str | None = None
    townships: Path | None = Field(default=None, description="township polygons with township_code/name")
    coordinate_system: CoordinateSystem = "wgs84"
    crs: str | int = Field(default="auto", description="work CRS: 'auto' (UTM of the area) or an EPSG code")

    @model_validator(mode="after")
    def _one_source(self) -> StudyArea:
        if (self.boundary is None) == (self.admin_name is None):
            raise ValueError("give exactly one of 'boundary' (a file) or 'admin_name' (e.g. 和硕县)")
        return self

    @field_validator("crs")
    @classmethod
    def _crs_form(cls, value: str | int) -> str | int:
        if isinstance(value, str) and value != "auto" and not re.fullmatch(r"(?i)(epsg:)?\d{4,6}", value):
            raise ValueError("expected 'auto' or an EPSG code such as 32650 or 'EPSG:4548'")
        return value


class PopulationInput(_Strict):
    """A population raster (WorldPop, GHSL or any GeoTIFF) aggregated to demand points.

    ``calibrate_to`` names a table of census people per township (code or name, population; CSV in
    UTF-8/GBK/GB18030 or XLSX): the raster's people are rescaled township by township so that each
    township's total equals the census (:mod:`planner.demand.calibrate`).
    """

    path: Path
    resolution_m: float = Field(default=200.0, gt=0, le=5000, description="demand cell size in metres")
    calibrate_to: Path | None = Field(default=None, description="census people per township (CSV/XLSX)")


class LayerInput(_Strict):
    """A point/table layer (villages, facilities, candidates): CSV, XLSX or GeoJSON."""

    path: Path
    coordinate_system: CoordinateSystem = "wgs84"


class FacilitiesInput(LayerInput):
    """Existing facilities: a facility table (``format: table``) or a map POI export (``format: poi``).

    ``default_type`` types rows of a table without a ``type`` column. A POI export (Amap/Baidu CSV or
    XLSX with ``name`` and ``location`` "lng,lat") is typed by name patterns
    (:mod:`planner.inputs.poi`); ``type_patterns`` (facility type → regular expressions, tried in
    the order given) and ``exclude_patterns`` replace the built-in ones.
    """

    default_type: FacilityType | None = None
    format: Literal["table", "poi"] = "table"
    type_patterns: dict[FacilityType, tuple[str, ...]] | None = None
    exclude_patterns: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _poi_options(self) -> FacilitiesInput:
        if self.format != "poi" and (self.type_patterns is not None or self.exclude_patterns is not None):
            raise ValueError("type_patterns and exclude_patterns apply to format: poi only")
        if self.format == "poi" and self.default_type is not None:
            raise ValueError("default_type applies to format: table; a POI export is typed by type_patterns")
        bad = []
        for pattern in [
            *(p for ps in (self.type_patterns or {}).values() for p in ps),
            *(self.exclude_patterns or ()),
        ]:
            try:
                re.compile(pattern)
            except re.error as exc:
                bad.append(f"{pattern!r} ({exc})")
        if bad:
            raise ValueError(f"not valid regular expressions: {', '.join(bad)}")
        return self


class VillagePointsInput(LayerInput):
    """A point layer that locates register villages (village-committee POIs, settlement points).

    Joined by 12-digit village code, else by name within the township (:mod:`planner.inputs.locate`).
    """

    max_spread_m: float = Field(
        default=1000.0, gt=0, description="several points of one village are averaged when this close"
    )


class VillagesInput(LayerInput):
    """Villages: an NBS-coded register (``register``) or OSM place nodes (``osm_places``).

    ``osm_places`` files have columns place, name, lon, lat (as ``planner fetch`` writes them).
    ``points`` locates the villages of a register without coordinates.
    """

    format: Literal["register", "osm_places"] = "register"
    points: VillagePointsInput | None = None

    @model_validator(mode="after")
    def _points_for_register(self) -> VillagesInput:
        if self.points is not None and self.format != "register":
            raise ValueError("points locate the villages of a register; osm_places already have coordinates")
        return self


class RoadsInput(_Strict):
    """The road network: osmnx GraphML, OSM XML or OSM PBF, or a centreline line layer (GPKG, SHP, GeoJSON,
    FlatGeobuf) with a road-class column (国道/省道/县道/乡道/村道, 城市快速路/主干路/次干路/支路, OSM tags).

    The layer options apply to line layers only (a GraphML/OSM file with one is refused).
    """

    path: Path
    layer: str | None = Field(default=None, description="the layer of a multi-layer file (GPKG)")
    class_column: str | None = Field(
        default=None, description="the road-class column (found by name if unset)"
    )
    classes: dict[str, str] = Field(
        default_factory=dict, description="layer class values → a known class (e.g. 快车道: 县道)"
    )
    oneway_column: str | None = None
    speed_column: str | None = None
    coordinate_system: CoordinateSystem | None = Field(
        default=None, description="wgs84/gcj02/bd09 (default: the study area's)"
    )
    node_crossings: bool | None = Field(
        default=None,
        description="crossings without a shared vertex: None = connect only where the level data agree, "
        "True = connect every crossing not known to differ in level, False = shared vertices only",
    )

    def reader_options(self) -> dict[str, Any]:
        """The options of a line layer that were set (a GraphML/OSM file takes none)."""
        options: dict[str, Any] = {
            "layer": self.layer,
            "class_column": self.class_column,
            "classes": dict(self.classes) or None,
            "oneway_column": self.oneway_column,
            "speed_column": self.speed_column,
            "node_crossings": self.node_crossings,
        }
        if self.coordinate_system not in (None, "wgs84"):
            options["coordinate_system"] = self.coordinate_system
        return {k: v for k, v in options.items() if v is not None}


#: The inputs a provenance entry can describe.
InputName = Literal[
    "boundary",
    "townships",
    "population",
    "census",
    "roads",
    "villages",
    "village_points",
    "facilities",
    "candidates",
]


class Provenance(_Strict):
    """Where an input comes from: ``real`` data, ``synthetic`` (invented) or ``generated`` (derived by a
    rule from other inputs), with a free-text ``source``. Reported in ``summary.json`` and the report."""

    kind: Literal["real", "synthetic", "generated"]
    source: str | None = None


class Inputs(_Strict):
    """The input data files.

    ``roads`` may be left out when ``travel.reading`` is ``buffer``: the run is then straight-line only
    (no networks are built, and the outputs say so). ``provenance`` states, per input, whether it is
    real, synthetic or generated.
    """

    population: PopulationInput
    roads: RoadsInput | None = None
    villages: VillagesInput | None = None
    facilities: FacilitiesInput | None = None
    candidates: LayerInput | None = Field(
        default=None, description="candidate sites; without a file they are generated (planner/candidates.py)"
    )
    provenance: dict[InputName, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _provenance_of_given_inputs(self) -> Inputs:
        absent = {
            "census": self.population.calibrate_to is None,
            "roads": self.roads is None,
            "villages": self.villages is None,
            "village_points": self.villages is None or self.villages.points is None,
            "facilities": self.facilities is None,
        }
        unused = sorted(name for name in self.provenance if absent.get(name, False))
        if unused:
            raise ValueError(f"provenance given for inputs the scenario does not have: {', '.join(unused)}")
        return self


class AreaClassification(_Strict):
    """How demand cells without a village code are classed: the Degree of Urbanisation (DEGURBA) on a
    1 km grid (:mod:`planner.demand.classify`); the defaults are the method's thresholds."""

    city_density_per_km2: float = Field(default=1500.0, gt=0)
    city_min_population: float = Field(default=50_000.0, ge=0)
    town_density_per_km2: float = Field(default=300.0, gt=0)
    town_min_population: float = Field(default=5_000.0, ge=0)
    city_connectivity: Literal[4, 8] = Field(default=4, description="urban centres: 4 (edges only)")
    town_connectivity: Literal[4, 8] = Field(default=8, description="urban clusters: 8 (with corners)")
    grid_m: float = Field(default=1000.0, gt=0, le=10_000, description="classification grid cell size")
    smooth_centres: bool = Field(default=True, description="urban-centre gap filling (5 of 8 neighbours)")
    max_hole_km2: float = Field(default=15.0, ge=0, description="holes in urban centres filled below this")
    village_max_km: float = Field(
        default=2.0, gt=0, description="cells farther from any village point stay unassigned"
    )

    @model_validator(mode="after")
    def _ordered(self) -> AreaClassification:
        if self.town_density_per_km2 > self.city_density_per_km2:
            raise ValueError("town_density_per_km2 must not exceed city_density_per_km2")
        return self


class ModeOverride(_Strict):
    """Overrides of a travel mode's speed table (km/h per OSM highway class)."""

    speeds_kmh: dict[str, float] = Field(default_factory=dict)
    default_kmh: float | None = Field(default=None, gt=0)

    @field_validator("speeds_kmh")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"speeds must be > 0 km/h (check {', '.join(bad)})")
        return value


class Travel(_Strict):
    """Which reading of the service radius drives the plan, snapping, speed overrides."""

    reading: Literal["network", "buffer"] = "network"
    max_snap_m: float = Field(default=1000.0, gt=0)
    modes: dict[TravelModeName, ModeOverride] = Field(default_factory=dict)


class FacilityPlan(_Strict):
    """A facility type the plan may place, with its unit cost (yuan).

    ``capacity`` (parcels per day one new unit handles) makes the pickup plan capacitated: every
    person is assigned to an open site within standard, no site above its capacity (existing sites
    use the facilities file's ``capacity`` column; empty = unlimited). Only pickup types
    (outlet, locker, delivery_centre) take a capacity.
    """

    cost: float = Field(ge=0, allow_inf_nan=False)
    place: bool = True
    capacity: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="parcels per day one new unit handles"
    )
    max_per_site: int = Field(
        default=1, ge=1, le=50, description="how many units one candidate site can host (e.g. locker groups)"
    )


#: An amount of money (yuan): a finite number >= 0.
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Budget(_Strict):
    """Money budgets (yuan) in total, per facility type, or per year (village-station phasing)."""

    total: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    per_type: dict[FacilityType, Money] = Field(default_factory=dict)
    per_year: dict[int, Money] = Field(default_factory=dict)


#: Parcels per person per day in China, 2023: 132.07 billion express items (国家邮政局《2023年邮政行业
#: 发展统计公报》) over 1.41 billion residents and 365 days ≈ 0.26. Used to turn people into parcels/day
#: when capacities apply.
PARCELS_PER_PERSON_DAY = 0.26

_CAPACITY_TYPES = ("outlet", "locker", "delivery_centre")


class Plan(_Strict):
    """What to place and how."""

    year: int = Field(default=2025, ge=2000, le=2100, description="the year whose targets the audit applies")
    objective: Literal["min_cost", "max_coverage"] = "min_cost"
    facilities: dict[FacilityType, FacilityPlan]
    budget: Budget | None = None
    meet: tuple[str, ...] | None = Field(
        default=None,
        description="standards the plan must meet (default: every plannable standard the profile sets)",
    )
    force: tuple[str, ...] = Field(default=(), description="candidate ids the plan must build")
    exclude: tuple[str, ...] = Field(default=(), description="candidate ids the plan must not build")
    park_objective: Literal["median", "center"] = Field(
        default="median",
        description="county park: least weighted travel time (median) or least longest time (center)",
    )
    parcels_per_person_day: float = Field(default=PARCELS_PER_PERSON_DAY, gt=0, le=10)
    curve_steps: int = Field(default=10, ge=0, le=50, description="budget–coverage curve points (0: none)")

    @field_validator("meet")
    @classmethod
    def _known_standards(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(value or ()) - set(PLANNABLE_STANDARDS))
        if unknown:
            raise ValueError(f"cannot plan for {unknown}; choose from {list(PLANNABLE_STANDARDS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        if self.objective == "max_coverage" and (
            self.budget is None or (self.budget.total is None and not self.budget.per_type)
        ):
            raise ValueError("objective max_coverage needs a budget: budget.total and/or budget.per_type")
        both = sorted(set(self.force) & set(self.exclude))
        if both:
            raise ValueError(f"candidates both forced and excluded: {both}")
        wrong = sorted(
            t for t, spec in self.facilities.items() if spec.capacity is not None and t not in _CAPACITY_TYPES
        )
        if wrong:
            raise ValueError(
                f"capacity applies to pickup types {list(_CAPACITY_TYPES)} only; remove it from {wrong}"
            )
        return self

    def meet_for(self, profile: Profile) -> tuple[str, ...]:
        """The standards this plan meets: ``meet`` as given, else each plannable standard the profile sets."""
        if self.meet is not None:
            return self.meet
        return tuple(s for s in PLANNABLE_STANDARDS if profile.sets(s))


class Solver(_Strict):
    """Solver settings. A run stopped by the time limit returns its best plan and the proven gap."""

    backend: str = Field(default="highs", pattern=r"^(highs|pulp:(CBC|GLPK|GUROBI|CPLEX|HiGHS))$")
    time_limit_s: float = Field(default=120.0, gt=0)
    mip_gap: float = Field(default=1e-4, ge=0, lt=1)
    threads: int | None = Field(default=None, ge=1)


class Outputs(_Strict):
    """Where and how to write the results."""

    folder: Path | None = None
    language: Literal["zh", "en"] = "zh"
    formats: tuple[str, ...] = OUTPUT_FORMATS

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(OUTPUT_FORMATS))
        if unknown:
            raise ValueError(f"unknown formats {unknown}; choose from {list(OUTPUT_FORMATS)}")
        return value


def _inherit_coordinate_system(data: Any) -> Any:
    """The raw scenario with each point layer lacking a ``coordinate_system`` given the study area's."""
    if not isinstance(data, dict):
        return data
    area, inputs = data.get("study_area"), data.get("inputs")
    system = area.get("coordinate_system") if isinstance(area, dict) else None
    if system is None or not isinstance(inputs, dict):
        return data
    inputs = dict(inputs)
    for key in ("villages", "facilities", "candidates", "roads"):
        layer = inputs.get(key)
        if isinstance(layer, dict) and "coordinate_system" not in layer:
            inputs[key] = {**layer, "coordinate_system": system}
    return {**data, "inputs": inputs}


class Scenario(_Strict):
    """A validated scenario. Paths are absolute (resolved against the scenario file's folder)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="a short slug used in file names")
    title: str | None = None
    title_en: str | None = None
    study_area: StudyArea
    inputs: Inputs
    standards: str = Field(default="national-default", description="profile name or path to a profile YAML")
    area_classification: AreaClassification = AreaClassification()
    travel: Travel = Travel()
    plan: Plan
    solver: Solver = Solver()
    outputs: Outputs = Outputs()
    cache_dir: Path | None = None
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _layers_inherit_coordinate_system(cls, data: Any) -> Any:
        """A point layer without its own ``coordinate_system`` takes the study area's (GCJ-02 / BD-09)."""
        return _inherit_coordinate_system(data)

    @property
    def base_dir(self) -> Path:
        """The folder the scenario's relative paths are resolved against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def profile_path(self) -> Path:
        """The policy profile file named by ``standards``."""
        return resolve_profile_path(self.standards, self.base_dir)

    def load_profile(self) -> Profile:
        """Load the policy profile named by ``standards``."""
        return load_profile(self.profile_path())

    def input_files(self) -> dict[str, Path]:
        """Every input file the scenario names, keyed by its field path."""
        files: dict[str, Path] = {}
        if self.study_area.boundary is not None:
            files["study_area.boundary"] = self.study_area.boundary
        if self.study_area.townships is not None:
            files["study_area.townships"] = self.study_area.townships
        files["inputs.population.path"] = self.inputs.population.path
        if self.inputs.population.calibrate_to is not None:
            files["inputs.population.calibrate_to"] = self.inputs.population.calibrate_to
        if self.inputs.roads is not None:
            files["inputs.roads.path"] = self.inputs.roads.path
        for key in ("villages", "facilities", "candidates"):
            layer = getattr(self.inputs, key)
            if layer is not None:
                files[f"inputs.{key}.path"] = layer.path
        if self.inputs.villages is not None and self.inputs.villages.points is not None:
            files["inputs.villages.points.path"] = self.inputs.villages.points.path
        return files


# ------------------------------------------------------------------------------------------------
# Reading with line numbers
# ------------------------------------------------------------------------------------------------


def _line_index(node: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Yield (field path, 1-based line) for every key and item of a composed YAML node."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            yield (*path, key), key_node.start_mark.line + 1
            for sub_path, line in _line_index(value_node, (*path, key)):
                if sub_path != (*path, key):
                    yield sub_path, line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _line_index(item, (*path, i))


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    """The line of the longest prefix of ``loc`` that the YAML file has."""
    normalised = tuple(str(p) if not isinstance(p, int) else p for p in loc)
    for n in range(len(normalised), -1, -1):
        prefix = normalised[:n]
        for key in (prefix, tuple(str(p) for p in prefix)):
            if key in lines:
                return lines[key]
    return None


def yaml_text(path: Path) -> str:
    """A YAML file's text: UTF-8 (with or without BOM), else GB18030 (what a Chinese Windows editor
    saves as "ANSI"). Raises :class:`UnicodeDecodeError` when it is neither (a binary file)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_yaml(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    text = yaml_text(path)
    node = yaml.compose(text)
    data = yaml.safe_load(text)
    lines = dict(_line_index(node)) if node is not None else {}
    # keys are str in the index; also index them by int when they are digits (year keys)
    for key_path, line in list(lines.items()):
        alt = tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in key_path)
        lines.setdefault(alt, line)
    return data, lines


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make the scenario's relative paths absolute, in place."""

    def fix(section: dict[str, Any] | None, key: str) -> None:
        if isinstance(section, dict) and isinstance(section.get(key), str):
            section[key] = str((base / section[key]).resolve())

    for loc in FILE_FIELDS:
        section: Any = data
        for key in loc[:-1]:
            section = section.get(key) if isinstance(section, dict) else None
        fix(section, loc[-1])
    fix(data.get("outputs"), "folder")
    if isinstance(data.get("cache_dir"), str):
        data["cache_dir"] = str((base / data["cache_dir"]).resolve())


def _check_files(scenario: Scenario, path: Path, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """Missing input files, unreadable profiles, and rasters or layers without a CRS."""
    problems: list[Problem] = _roads_problems(scenario, path, lines)
    for field_path, file in scenario.input_files().items():
        loc = tuple(field_path.split("."))
        if not file.is_file():
            problems.append(
                Problem(
                    f"file not found: {file}",
                    file=path,
                    location=field_path,
                    line=_line_for(lines, loc),
                    fix="paths are relative to the scenario file; check the name and folder",
                )
            )
            continue
        problems.extend(_crs_problems(field_path, file, path, _line_for(lines, loc)))
    profile_path = scenario.profile_path()
    if not profile_path.is_file():
        problems.append(
            Problem(
                f"policy profile {scenario.standards!r} not found (looked for {profile_path})",
                file=path,
                location="standards",
                line=_line_for(lines, ("standards",)),
                fix="name a profile in scenarios/standards/ (e.g. national-default) "
                "or give a path to a YAML file",
            )
        )
    else:
        from planner.errors import StandardsError

        try:
            profile = load_profile(profile_path)
        except StandardsError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_meet_problems(scenario, profile, path, lines))
            problems.extend(_phase_problems(scenario, profile, path, lines))
    return problems


def _meet_problems(
    scenario: Scenario, profile: Profile, path: Path, lines: dict[tuple[Any, ...], int]
) -> list[Problem]:
    """``plan.meet`` naming a standard the profile does not set."""
    missing = [sid for sid in scenario.plan.meet or () if not profile.sets(sid)]
    if not missing:
        return []
    return [
        Problem(
            f"plan.meet names {', '.join(missing)}, which profile {profile.profile!r} does not set",
            file=path,
            location="plan.meet",
            line=_line_for(lines, ("plan", "meet")),
            fix=f"remove them from plan.meet, or use a profile that sets them (e.g. one with "
            f"'extends: national-default'); this profile sets "
            f"{', '.join(s for s in PLANNABLE_STANDARDS if profile.sets(s)) or 'no plannable standard'}",
        )
    ]


def _phase_problems(
    scenario: Scenario, profile: Profile, path: Path, lines: dict[tuple[Any, ...], int]
) -> list[Problem]:
    """``budget.per_year`` naming years the profile's village-station table does not have.

    The yearly budgets pay for the village stations of each target year of V-STATION (else V-ALL); a
    budget for another year would be ignored, so it is refused.
    """
    budget = scenario.plan.budget
    if budget is None or not budget.per_year:
        return []
    loc = "plan.budget.per_year"
    line = _line_for(lines, ("plan", "budget", "per_year"))
    sid = "V-STATION" if profile.sets("V-STATION") else "V-ALL" if profile.sets("V-ALL") else None
    if sid is None:
        return [
            Problem(
                f"budget.per_year phases the village stations by the target years of V-STATION or V-ALL, "
                f"and profile {profile.profile!r} sets neither",
                file=path,
                location=loc,
                line=line,
                fix="remove budget.per_year (use budget.total), or use a profile that sets V-STATION",
            )
        ]
    years = sorted(profile.get(sid).targets)
    extra = sorted(set(budget.per_year) - set(years))
    if not extra:
        return []
    return [
        Problem(
            f"budget.per_year names {', '.join(map(str, extra))}, which {'is' if len(extra) == 1 else 'are'} "
            f"not a target year of {sid} in profile {profile.profile!r} (its years: "
            f"{', '.join(map(str, years))}); a budget for another year would be ignored",
            file=path,
            location=loc,
            line=line,
            fix=f"give the budgets for the target years {', '.join(map(str, years))} (each pays for the "
            "stations that year's target needs)",
        )
    ]


def _roads_problems(scenario: Scenario, path: Path, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """The network reading without a road file: the three ways out."""
    if scenario.inputs.roads is not None or scenario.travel.reading != "network":
        return []
    return [
        Problem(
            "no road file: travel.reading is 'network', which measures the service radii along roads",
            file=path,
            location="inputs.roads",
            line=_line_for(lines, ("inputs",)),
            fix="one of: (1) run `planner fetch` to download the area's OSM roads (online) and use the "
            "scenario it writes; (2) give a road file as inputs.roads.path (osmnx GraphML, .osm, "
            ".osm.pbf); (3) set travel.reading: buffer to measure straight-line distances (the outputs "
            "then say the figures are straight-line only)",
        )
    ]


def _crs_problems(field_path: str, file: Path, scenario_path: Path, line: int | None) -> list[Problem]:
    """A raster or vector layer whose CRS is missing (CSV tables carry lon/lat and need none)."""
    suffix = file.suffix.lower()
    crs_missing = False
    try:
        if suffix in {".tif", ".tiff", ".vrt", ".img"}:
            import rasterio

            with rasterio.open(file) as src:
                crs_missing = src.crs is None
        elif suffix in {".shp", ".gpkg", ".fgb"}:
            import pyogrio

            crs_missing = pyogrio.read_info(file).get("crs") in (None, "")
    except Exception as exc:  # unreadable files are reported, not crashed on
        return [
            Problem(
                f"cannot read {file.name}: {exc}",
                file=scenario_path,
                location=field_path,
                line=line,
                fix="check that the file is complete and in a supported format",
            )
        ]
    if crs_missing:
        return [
            Problem(
                f"{file.name} has no coordinate reference system (CRS)",
                file=scenario_path,
                location=field_path,
                line=line,
                fix="assign the CRS the data is in (e.g. gdalwarp/ogr2ogr -a_srs EPSG:4326, or a .prj file)",
            )
        ]
    return []


def _parse(path: Path) -> tuple[Scenario | None, list[Problem], dict[tuple[Any, ...], int]]:
    path = Path(path)
    if not path.is_file():
        return None, [Problem("scenario file not found", file=path, fix="check the path")], {}
    try:
        data, lines = _read_yaml(path)
    except UnicodeDecodeError as exc:
        return (
            None,
            [
                Problem(
                    f"not text: {exc.reason} at byte {exc.start}",
                    file=path,
                    fix="save it as UTF-8 text (YAML)",
                )
            ],
            {},
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return (
            None,
            [
                Problem(
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    file=path,
                    line=line,
                    fix="check the indentation, the colons and the closing brackets at or before this line",
                )
            ],
            {},
        )
    if not isinstance(data, dict):
        return (
            None,
            [
                Problem(
                    "a scenario must be a mapping of keys (name, study_area, inputs, plan …)",
                    file=path,
                    fix="start from scenarios/demo.yaml",
                )
            ],
            {},
        )
    _resolve_paths(data, path.parent.resolve())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "[key]")
            field_path = ".".join(str(p) for p in loc) or "(top level)"
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
                fix = "remove it or check its spelling (see scenarios/demo.yaml for the known keys)"
            elif err["type"] == "missing":
                message = "required field is missing"
                fix = f"add {field_path} (see scenarios/demo.yaml and the scenario keys in README.md)"
            else:
                fix = f"correct {field_path} (see scenarios/demo.yaml and the scenario keys in README.md)"
                if "input" in err and not isinstance(err["input"], dict | list):
                    message += f" (got {err['input']!r})"
            problems.append(
                Problem(message, file=path, location=field_path, line=_line_for(lines, loc), fix=fix)
            )
        problems.extend(_raw_missing_files(data, path, lines))
        return None, problems, lines
    return scenario.model_copy(update={"path": path.resolve()}), [], lines


#: The scenario fields that name input files (relative to the scenario file unless absolute).
FILE_FIELDS: tuple[tuple[str, ...], ...] = (
    ("study_area", "boundary"),
    ("study_area", "townships"),
    ("inputs", "population", "path"),
    ("inputs", "population", "calibrate_to"),
    ("inputs", "roads", "path"),
    ("inputs", "villages", "points", "path"),
    ("inputs", "villages", "path"),
    ("inputs", "facilities", "path"),
    ("inputs", "candidates", "path"),
)


def _raw_missing_files(data: dict[str, Any], path: Path, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """File problems (missing, unreadable, no CRS) of a scenario that failed validation, so they are
    reported in the same run as the schema problems."""
    problems = []
    for loc in FILE_FIELDS:
        node: Any = data
        for key in loc:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and Path(node).is_file():
            problems.extend(_crs_problems(".".join(loc), Path(node), path, _line_for(lines, loc)))
        elif isinstance(node, str):
            problems.append(
                Problem(
                    f"file not found: {node}",
                    file=path,
                    location=".".join(loc),
                    line=_line_for(lines, loc),
                    fix="paths are relative to the scenario file; check the name and folder",
                )
            )
    return problems


def read_scenario(path: str | Path) -> tuple[Scenario | None, list[Problem]]:
    """The scenario of a file and every problem of the file, in file order.

    The scenario is None when the file does not validate; with problems of its files only (missing,
    no CRS, a profile that does not set what ``plan.meet`` names) it is returned with them.
    """
    path = Path(path)
    scenario, problems, lines = _parse(path)
    if scenario is not None:
        problems = _check_files(scenario, path, lines)
    return scenario, sorted(problems, key=lambda p: (p.line or 0, p.location or ""))


def language_of(path: str | Path) -> Literal["zh", "en"]:
    """The ``outputs.language`` a scenario file asks for (``zh`` when it is not readable or not set), for
    the words around its checks before they run."""
    try:
        data = yaml.safe_load(yaml_text(Path(path)))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return "zh"
    outputs = data.get("outputs") if isinstance(data, dict) else None
    return "en" if isinstance(outputs, dict) and outputs.get("language") == "en" else "zh"


def validate_scenario(path: str | Path) -> list[Problem]:
    """Every problem of a scenario file, in file order (an empty list when it is valid)."""
    return read_scenario(path)[1]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario; raise :class:`ScenarioError` listing every problem."""
    path = Path(path)
    scenario, problems = read_scenario(path)
    if problems or scenario is None:
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the scenario", problems=problems)
    return scenario


def _section(model: type[BaseModel], value: Any) -> Any:
    """``value`` validated as ``model`` (``None`` when it is not valid or absent)."""
    try:
        return model.model_validate(value if value is not None else {})
    except ValidationError:
        return None


def readable_sections(path: str | Path) -> Scenario | None:
    """The sections of a scenario file that validate on their own, as a scenario to read the inputs with.

    When a scenario file has problems in some sections, its input files can still be checked: this
    returns a scenario (built without the whole-file validation) holding the study area and the inputs
    when both validate, the plan when it validates (else a cost table of zeros, so no "no cost"
    problem is invented), and defaults for the rest. None when the study area or the inputs do not
    validate, or the file is not a YAML mapping.
    """
    path = Path(path)
    try:
        data, _ = _read_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    _resolve_paths(data, path.parent.resolve())
    data = _inherit_coordinate_system(data)
    area, inputs = _section(StudyArea, data.get("study_area")), _section(Inputs, data.get("inputs"))
    if area is None or inputs is None:
        return None
    plan = _section(Plan, data.get("plan")) or Plan.model_construct(
        facilities={t: FacilityPlan(cost=0.0) for t in FACILITY_TYPES}
    )
    standards = data.get("standards")
    return Scenario.model_construct(
        name=str(data.get("name") or path.stem),
        study_area=area,
        inputs=inputs,
        standards=standards if isinstance(standards, str) else "national-default",
        area_classification=_section(AreaClassification, data.get("area_classification"))
        or AreaClassification(),
        travel=_section(Travel, data.get("travel")) or Travel(),
        plan=plan,
        path=path.resolve(),
    )


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scenario_hash(scenario: Scenario) -> str:
    """A hash of the scenario's settings, its profile and the bytes of every input file (16 hex digits)."""
    settings = scenario.model_dump(mode="json", exclude={"outputs", "cache_dir"})
    parts = {
        "settings": settings,
        "files": {key: _file_digest(p) for key, p in sorted(scenario.input_files().items())},
        "profile": _file_digest(scenario.profile_path()),
    }
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
