"""A deterministic synthetic Chinese county: the demo data and the benchmark workloads.

:func:`synthesize` builds 示范县 (county code 379901, a fictional county of Shandong on the North China
Plain) in memory: an irregular boundary, a county seat of sub-districts (街道) and communities (社区),
towns (镇) and townships (乡) as Voronoi cells of their centres, administrative villages (村委会) with
NBS 12-digit codes, households and urban-rural codes, a 100 m population raster in EPSG:4548 whose
total equals the register's, an OSM-like road graph (osmnx conventions, WGS-84), existing facilities
with deliberate service gaps, and candidate sites. :func:`write_county` writes the files the planner
reads (see ``docs/architecture.md``). The same parameters always give byte-identical files.

Deliberate gaps the audit must find: lockers fewer than one per 100 households (D-LOCKER), one
township without any outlet (R-RURAL), part of the seat more than 1 km from any pickup point
(R-URBAN), about a quarter of the villages without a station (V-STATION), some delivery centres under
30 m² (D-CENTRE), a single sorting centre hosting two carriers and no park (P-COUNTY), and
``n_remote`` hamlets more than 1 km from any road.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import rasterio
import shapely
import yaml
from affine import Affine
from pyproj import Transformer

from planner.errors import InputDataError, Problem
from planner.synth import geom as sgeom
from planner.synth import names
from planner.synth.facilities import Gaps, Placement, make_candidates, make_facilities
from planner.synth.roads import RoadBuilder, RoadInfo, RoadPlan, build_roads

log = logging.getLogger(__name__)

#: CGCS2000 / 3-degree Gauss-Kruger CM 117E: the raster's CRS and the generator's working CRS.
SYNTH_CRS = "EPSG:4548"
VILLAGE_CSV_COLUMNS = (
    "village_code",
    "village_name",
    "township_code",
    "township_name",
    "urban_rural_code",
    "kind",
    "households",
    "population",
    "lon",
    "lat",
)


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the synthetic county; the defaults make the committed demo.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same parameters give byte-identical files.
    extent_km
        Approximate width and height of the county.
    n_townships
        Towns and townships (镇 + 乡), not counting the seat's sub-districts. Any number: beyond
        ``townships_per_county`` the area is split into several synthetic counties (see below).
    n_xiang
        How many of ``n_townships`` are 乡 (the rest are 镇); the farthest from the seat.
    n_subdistricts
        Sub-districts (街道) of the county seat.
    n_villages
        Administrative villages (村委会) in all, including 乡 centres and remote hamlets.
    n_remote
        Hamlets placed more than 1 km from any road.
    seat_population
        People in the seat's communities.
    communities_per_subdistrict
        Communities (社区居委会) per sub-district.
    town_population
        Range of a town-centre community's population.
    village_population_median
        Median population of an administrative village (log-normal, clipped to 250..2,500).
    seat_street_spacing_m, town_street_spacing_m, village_lane_spacing_m
        Street grid spacings.
    town_grid_half
        A town grid spans ``-half..half`` blocks each way (乡 centres use one less).
    village_lanes
        Extra lane-grid rows and columns per village (0 makes a village a single cross of lanes).
    rural_node_spacing_m
        Node spacing along rural roads (smaller gives more nodes, as unsimplified OSM data does).
    track_share
        Share of neighbouring village pairs joined by a farm track.
    station_share
        Share of administrative villages with an existing village station.
    seat_candidate_spacing_m, rural_candidate_spacing_m, locker_candidate_spacing_m
        Thinning spacings of outlet candidates (seat / elsewhere) and of locker candidates.
    n_park_candidates
        Park candidate sites on the trunk and primary roads near the seat.
    candidate_cost
        Write a ``cost`` column in the candidates (otherwise the scenario's cost table applies).
    resolution_m
        Population raster resolution.
    centre_lon, centre_lat
        Approximate centre of the county (WGS-84).
    county_code, county_name
        The county's 6-digit code and name.
    total_population
        People in the whole area. ``None`` keeps the sizes the other parameters give; a number
        rescales every settlement by the same factor (largest remainder, so the register sums to it
        exactly) after the layout is made, and the raster and households follow the rescaled register.
        The layout (which villages get lane grids and tertiary links) follows the unscaled sizes.
    townships_per_county
        At most this many towns and townships (1..100) per county code. The NBS township part of a
        code has room for 100 镇 (100–199) and 200 乡 (200–399) per county, so a larger area is split
        into ``ceil(n_townships / townships_per_county)`` synthetic counties: angular sectors around
        the seat of near-equal township counts, coded ``county_code``, ``county_code + 1``, ... (the
        last two digits, which must stay within 01..99), each numbering its 镇 from 100 and its 乡 from
        200 by distance from the seat. The seat's sub-districts belong to the first county; county
        ``j + 1`` is named like ``county_name`` with the number (示范县, 示范二县, ...).
    """

    seed: int = 7
    extent_km: float = 30.0
    n_townships: int = 8
    n_xiang: int = 2
    n_subdistricts: int = 2
    n_villages: int = 140
    n_remote: int = 2
    seat_population: int = 75_000
    communities_per_subdistrict: int = 6
    town_population: tuple[int, int] = (3_000, 8_000)
    village_population_median: float = 850.0
    seat_street_spacing_m: float = 220.0
    town_street_spacing_m: float = 160.0
    village_lane_spacing_m: float = 130.0
    town_grid_half: int = 2
    village_lanes: int = 0
    rural_node_spacing_m: float = 450.0
    track_share: float = 0.25
    station_share: float = 0.75
    seat_candidate_spacing_m: float = 400.0
    rural_candidate_spacing_m: float = 1000.0
    locker_candidate_spacing_m: float = 300.0
    n_park_candidates: int = 2
    candidate_cost: bool = False
    resolution_m: float = 100.0
    centre_lon: float = 116.6
    centre_lat: float = 36.45
    county_code: str = "379901"
    county_name: str = "示范县"
    total_population: int | None = None
    townships_per_county: int = 100

    def __post_init__(self) -> None:
        problems = _check_params(self)
        if problems:
            raise InputDataError("invalid synthetic-county parameters", problems=problems)

    @property
    def n_counties(self) -> int:
        """How many county codes the townships need (``ceil(n_townships / townships_per_county)``)."""
        return -(-self.n_townships // self.townships_per_county)

    @property
    def counties(self) -> list[tuple[str, str]]:
        """``(code, name)`` of each synthetic county: ``county_code`` and ``county_name`` first."""
        head, last = self.county_code[:4], int(self.county_code[4:])
        return [
            (f"{head}{last + j:02d}", names.numbered_county(self.county_name, j + 1))
            for j in range(self.n_counties)
        ]

    @classmethod
    def benchmark(cls, *, seed: int = 1) -> SynthParams:
        """A large county for benchmarks: ~100k road nodes, ~20k populated 200 m cells, ~2k candidates."""
        return cls(
            seed=seed,
            extent_km=70.0,
            n_townships=24,
            n_xiang=4,
            n_subdistricts=4,
            n_villages=1_400,
            n_remote=3,
            seat_population=320_000,
            communities_per_subdistrict=10,
            seat_street_spacing_m=110.0,
            town_street_spacing_m=110.0,
            village_lane_spacing_m=70.0,
            town_grid_half=5,
            village_lanes=3,
            rural_node_spacing_m=90.0,
            track_share=0.35,
            seat_candidate_spacing_m=350.0,
            rural_candidate_spacing_m=2_000.0,
            locker_candidate_spacing_m=450.0,
            n_park_candidates=3,
        )


#: Plain ranges of parameters: name -> (lowest, highest, unit in the message, fix).
_RANGES: dict[str, tuple[float, float, str, str]] = {
    "extent_km": (5.0, 200.0, " km", "use e.g. 30"),
    "n_subdistricts": (1, 9, "", "use e.g. 2"),
    "communities_per_subdistrict": (1, 150, "", "use e.g. 6"),
    "n_remote": (0, 5, "", "use 1..3"),
    "seat_street_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "town_street_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "village_lane_spacing_m": (40.0, 1_000.0, " m", "use e.g. 150"),
    "rural_node_spacing_m": (50.0, 5_000.0, " m", "use e.g. 700"),
    "track_share": (0.0, 1.0, " (a share)", "use e.g. 0.25"),
    "station_share": (0.0, 1.0, " (a share)", "use e.g. 0.75"),
    "resolution_m": (10.0, 1_000.0, " m", "use 100"),
    "n_park_candidates": (0, 10, "", "use 1..3"),
    "townships_per_county": (1, 100, "", "use e.g. 20 (a real county has about 10-20)"),
}


def _check_params(p: SynthParams) -> list[Problem]:
    """Every problem of ``p`` (empty when the parameters make a county)."""
    out = [
        Problem(
            f"{name} must be {lo:g}..{hi:g}{unit}, got {getattr(p, name)}",
            location=f"SynthParams.{name}",
            fix=fix,
        )
        for name, (lo, hi, unit, fix) in _RANGES.items()
        if not lo <= getattr(p, name) <= hi
    ]
    return out + _check_counts(p) + _check_place(p) + _check_code_room(p)


def _check_counts(p: SynthParams) -> list[Problem]:
    """Townships, villages and people: enough of each for every township."""
    out: list[Problem] = []

    def bad(name: str, msg: str, fix: str) -> None:
        out.append(Problem(msg, location=f"SynthParams.{name}", fix=fix))

    if p.n_townships < 1:
        bad("n_townships", f"n_townships must be at least 1, got {p.n_townships}", "use e.g. 8")
    if not 0 <= p.n_xiang <= p.n_townships:
        bad("n_xiang", f"n_xiang must be 0..n_townships, got {p.n_xiang}", "use e.g. 2")
    min_v = p.n_xiang + p.n_remote + 3 * (p.n_townships + p.n_subdistricts)
    if not min_v <= p.n_villages <= 150 * (p.n_townships + p.n_subdistricts):
        bad(
            "n_villages",
            f"n_villages={p.n_villages} must leave about 3..150 villages per township",
            f"use at least {min_v}",
        )
    if p.seat_population < 1_000 * p.n_subdistricts:
        bad("seat_population", "seat_population must be at least 1,000 per sub-district", "use e.g. 75000")
    lo, hi = p.town_population
    if not 500 <= lo <= hi:
        bad(
            "town_population",
            f"town_population must be (low, high) with 500 <= low <= high, got {lo, hi}",
            "",
        )
    settlements = p.n_subdistricts * p.communities_per_subdistrict + p.n_townships + 1 + p.n_villages
    if p.total_population is not None and not 50 * settlements <= p.total_population <= 200_000_000:
        bad(
            "total_population",
            f"total_population={p.total_population:,} must give at least 50 people per settlement "
            f"(about {settlements:,} settlements) and at most 200,000,000",
            f"use at least {50 * settlements:,} people, or fewer villages",
        )
    return out


def _check_code_room(p: SynthParams) -> list[Problem]:
    """The synthetic counties' codes stay in the prefecture of ``county_code`` (last two digits <= 99)."""
    if not (len(p.county_code) == 6 and p.county_code.isdigit() and p.townships_per_county >= 1):
        return []  # reported by the other checks
    if int(p.county_code[4:]) + p.n_counties - 1 <= 99:
        return []
    return [
        Problem(
            f"{p.n_townships} townships at {p.townships_per_county} per county need {p.n_counties} "
            f"county codes from {p.county_code}, past {p.county_code[:4]}99",
            location="SynthParams.county_code",
            fix=f"use a county_code ending at most {100 - p.n_counties:02d}, or raise townships_per_county",
        )
    ]


def _check_place(p: SynthParams) -> list[Problem]:
    """The county's code and where it lies."""
    out: list[Problem] = []
    if not (len(p.county_code) == 6 and p.county_code.isdigit()):
        out.append(
            Problem(
                f"county_code must be 6 digits, got {p.county_code!r}",
                location="SynthParams.county_code",
                fix='use e.g. "379901"',
            )
        )
    if not (73.0 <= p.centre_lon <= 135.0 and 18.0 <= p.centre_lat <= 54.0):
        out.append(
            Problem(
                "the centre must lie in China (lon 73..135, lat 18..54)",
                location="SynthParams.centre_lon",
                fix="use 116.6, 36.45",
            )
        )
    return out


@dataclass(frozen=True)
class SynthCounty:
    """A synthetic county in memory. Frames are WGS-84; the raster is in :data:`SYNTH_CRS`.

    ``population`` is float32 persons per cell with ``nodata`` (-1) outside the county.
    """

    params: SynthParams
    boundary: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    roads: nx.MultiDiGraph
    population: np.ndarray
    transform: Affine
    crs: str = SYNTH_CRS
    nodata: float = -1.0
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synthesize_county` wrote, with headline counts."""

    paths: dict[str, Path]
    counts: dict[str, int]


# ----------------------------------------------------------------------------- settlements
@dataclass
class _Settlements:
    """Settlement points (metres) and attributes before codes are assigned."""

    xy: list[np.ndarray] = field(default_factory=list)
    unit: list[int] = field(default_factory=list)  # township index
    kind: list[str] = field(default_factory=list)  # "community" | "village"
    ur: list[int] = field(default_factory=list)
    pop: list[int] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)  # seat | centre | special | village | remote
    sigma: list[float] = field(default_factory=list)  # spread of its people on the raster (m)
    code: list[str] = field(default_factory=list)  # NBS 12-digit code (set by _assign_codes)
    households: list[int] = field(default_factory=list)  # set once the people are final

    def add(
        self,
        xy: np.ndarray,
        unit: int,
        *,
        kind: str,
        ur: int,
        pop: int,
        role: str,
        sigma: float,
        name: str = "",
    ) -> None:
        """Add a settlement at ``xy`` in unit ``unit`` (villages get names in :func:`_assign_codes`)."""
        self.xy.append(np.asarray(xy, dtype=float))
        self.unit.append(unit)
        self.kind.append(kind)
        self.ur.append(ur)
        self.pop.append(int(pop))
        self.name.append(name)
        self.role.append(role)
        self.sigma.append(float(sigma))


@dataclass(frozen=True, eq=False)
class _Unit:
    """A township-level unit (街道, 镇 or 乡): its county's code, its 3-digit code there, name and cell."""

    county: str
    code: str
    name: str
    geom: shapely.Geometry
    stem: str = ""

    @property
    def township_code(self) -> str:
        """The 9-digit township code."""
        return self.county + self.code


@dataclass(frozen=True, eq=False)
class _Layout:
    """The county's frame in metres: outline, seat, town centres and township units (seat's first)."""

    boundary: shapely.Geometry
    extent: float
    seat: np.ndarray
    r_seat: float
    towns: np.ndarray
    is_xiang: np.ndarray
    units: list[_Unit]
    n_sub: int
    n_zhen: int
    counties: list[tuple[str, str]]

    @functools.cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree([u.geom for u in self.units])

    def unit_of(self, xy: np.ndarray) -> np.ndarray:
        """Index of the unit containing each point (the nearest unit for a point on an edge or sliver)."""
        pts = shapely.points(xy)
        idx = np.full(len(xy), -1, dtype=int)
        pi, gi = self._tree.query(pts, predicate="intersects")
        idx[pi[::-1]] = gi[::-1]  # the first hit wins
        missing = idx < 0
        if missing.any():
            idx[missing] = self._tree.nearest(pts[missing])
        return idx


def synthesize(params: SynthParams) -> SynthCounty:
    """Build the synthetic county described by ``params`` in memory (deterministic by ``params.seed``).

    The steps draw from one ``numpy.random.default_rng(params.seed)`` in a fixed order: layout,
    seat communities, town centres, villages, roads, remote hamlets, names, households, gaps,
    facilities, candidates.
    """
    p = params
    rng = np.random.default_rng(p.seed)
    to_proj = Transformer.from_crs("EPSG:4326", SYNTH_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(SYNTH_CRS, "EPSG:4326", always_xy=True)
    lay = _layout(rng, p, centre=np.array(to_proj.transform(p.centre_lon, p.centre_lat)))
    st = _Settlements()
    _add_seat_communities(rng, st, p, lay)
    _add_town_centres(rng, st, p, lay)
    angle, zones = _add_villages(rng, st, p, lay)
    builder = RoadBuilder()
    plan = RoadPlan(
        boundary=lay.boundary,
        seat=lay.seat,
        r_seat=lay.r_seat,
        angle=angle,
        towns=lay.towns,
        is_xiang=lay.is_xiang,
        settlements_xy=np.array(st.xy),
        settlements_pop=np.array(st.pop),
        settlements_role=list(st.role),
        zones=zones,
        params=p,
    )
    road_info = build_roads(builder, rng, plan)
    _add_remote_hamlets(rng, st, lay, builder=builder, zones=zones)
    _assign_codes(rng, st, p, lay)
    if p.total_population is not None:
        _rescale_people(st, p.total_population)
    st.households = [max(1, round(pp / rng.uniform(2.6, 3.0))) for pp in st.pop]
    population, transform = sgeom.population_raster(
        lay.boundary, np.array(st.xy), np.array(st.pop), np.array(st.sigma), p.resolution_m
    )
    gaps = _gaps(rng, p, lay)
    villages, role, road_info = _register(st, lay, p, roads=road_info, to_wgs=to_wgs)
    place = Placement(
        villages=villages,
        role=role,
        village_xy=np.column_stack(to_proj.transform(villages["lon"].to_numpy(), villages["lat"].to_numpy())),
        builder=builder,
        roads=road_info,
        seat=lay.seat,
        r_seat=lay.r_seat,
        population=population,
        transform=transform,
        to_wgs=to_wgs,
    )
    facilities = make_facilities(rng, place, gaps=gaps, station_share=p.station_share)
    candidates = make_candidates(rng, place, facilities=facilities, params=p)
    county = SynthCounty(
        params=p,
        boundary=_boundary_frame(lay, p, to_wgs),
        townships=_townships_frame(lay, p, to_wgs),
        villages=gpd.GeoDataFrame(
            villages, geometry=gpd.points_from_xy(villages["lon"], villages["lat"]), crs="EPSG:4326"
        ),
        facilities=facilities,
        candidates=candidates,
        roads=builder.to_graph(to_wgs),
        population=population,
        transform=transform,
        notes=_notes(gaps, villages, role, to_wgs),
    )
    log.info(
        "synth: %d townships, %d villages/communities, %d road nodes, %d facilities, %d candidates, pop %d",
        len(county.townships),
        len(county.villages),
        county.roads.number_of_nodes(),
        len(facilities),
        len(candidates),
        int(villages["population"].sum()),
    )
    return county


def _layout(rng: np.random.Generator, p: SynthParams, *, centre: np.ndarray) -> _Layout:
    """The outline, the seat, the town centres (nearest the seat first) and the township units.

    Units: the seat's sub-districts (codes 001..) as wedges of the seat's Voronoi cell, then the
    towns' Voronoi cells: 镇 codes 100.. nearest the seat first, then the farthest as 乡 codes 200...
    """
    extent = p.extent_km * 1_000.0
    boundary = sgeom.boundary(rng, centre, extent)
    seat = centre + rng.normal(0.0, extent * 0.04, 2)
    r_seat = float(np.sqrt(p.seat_population / 13_000.0 / np.pi) * 1_000.0)
    town_spacing = 0.8 * np.sqrt(boundary.area / (p.n_townships + 1))
    towns = sgeom.dart(
        rng,
        boundary.buffer(-0.09 * extent),
        p.n_townships,
        spacing=town_spacing,
        avoid=seat[None, :],
        avoid_r=np.array([max(0.75 * town_spacing, r_seat + 3_000.0)]),
    )
    d_seat = np.hypot(*(towns - seat).T)
    towns = towns[np.argsort(d_seat, kind="stable")]
    is_xiang = np.zeros(p.n_townships, dtype=bool)
    is_xiang[p.n_townships - p.n_xiang :] = True
    cells = sgeom.voronoi_cells(np.vstack([seat, towns]), boundary)
    sub_names = names.subdistrict_names(p.n_subdistricts)
    counties = p.counties
    units = [
        _Unit(
            county=counties[0][0], code=f"{k + 1:03d}", name=sub_names[k], geom=cells[0].intersection(wedge)
        )
        for k, wedge in enumerate(sgeom.wedges(seat, p.n_subdistricts, 4 * extent))
    ]
    stems = names.township_stems(p.n_townships, rng)
    county_of = _county_sectors(towns, seat, n_counties=len(counties))
    n_zhen, n_xiang = np.zeros(len(counties), dtype=int), np.zeros(len(counties), dtype=int)
    for t in range(p.n_townships):
        c = county_of[t]
        if is_xiang[t]:  # 乡 200.., 镇 100.. within each county, nearest the seat first
            code, suffix = f"{200 + n_xiang[c]:03d}", "乡"
            n_xiang[c] += 1
        else:
            code, suffix = f"{100 + n_zhen[c]:03d}", "镇"
            n_zhen[c] += 1
        unit = _Unit(
            county=counties[c][0], code=code, name=stems[t] + suffix, geom=cells[t + 1], stem=stems[t]
        )
        units.append(unit)
    return _Layout(
        boundary=boundary,
        extent=extent,
        seat=seat,
        r_seat=r_seat,
        towns=towns,
        is_xiang=is_xiang,
        units=units,
        n_sub=p.n_subdistricts,
        n_zhen=int(n_zhen.sum()),
        counties=counties,
    )


def _county_sectors(towns: np.ndarray, seat: np.ndarray, *, n_counties: int) -> np.ndarray:
    """The county (0..n_counties-1) of each town: consecutive angular sectors around the seat
    holding near-equal numbers of towns (``numpy.array_split`` of the towns ordered by bearing)."""
    out = np.zeros(len(towns), dtype=int)
    if n_counties > 1:
        bearing = np.arctan2(towns[:, 1] - seat[1], towns[:, 0] - seat[0])
        for c, members in enumerate(np.array_split(np.argsort(bearing, kind="stable"), n_counties)):
            out[members] = c
    return out


def _add_seat_communities(rng: np.random.Generator, st: _Settlements, p: SynthParams, lay: _Layout) -> None:
    """The seat's communities in a sunflower pattern, more people at the core (111 core, 112 edge)."""
    n_comm = lay.n_sub * p.communities_per_subdistrict
    golden = np.pi * (3.0 - np.sqrt(5.0))
    i = np.arange(n_comm)
    rad = lay.r_seat * 0.9 * np.sqrt((i + 0.5) / n_comm)
    ang = i * golden + rng.uniform(0, 2 * np.pi)
    cxy = (
        lay.seat + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)]) + rng.normal(0, 60.0, (n_comm, 2))
    )
    weights = np.exp(-((rad / lay.r_seat) ** 2)) * rng.lognormal(0.0, 0.2, n_comm)
    cpop = sgeom.split_int(p.seat_population, weights)
    cunit = np.minimum(lay.unit_of(cxy), lay.n_sub - 1)
    spacing_c = lay.r_seat * np.sqrt(np.pi / n_comm)
    for k, (xy, u, pop, name) in enumerate(
        zip(cxy, cunit, cpop, names.community_names(n_comm, rng), strict=True)
    ):
        ur = 111 if rad[k] < 0.7 * lay.r_seat else 112
        st.add(
            xy, int(u), kind="community", ur=ur, pop=int(pop), name=name, role="seat", sigma=0.5 * spacing_c
        )


def _add_town_centres(rng: np.random.Generator, st: _Settlements, p: SynthParams, lay: _Layout) -> None:
    """A centre per town (镇: a 121 community; 乡: a 210 village) and a 123 special-area community
    beside the largest town."""
    tlo, thi = p.town_population
    n_comm = len(st.xy)
    for t in range(p.n_townships):
        u = lay.n_sub + t
        stem = lay.units[u].stem
        if lay.is_xiang[t]:
            pop = int(rng.integers(1_500, 2_501))
            sigma = 150 + 2.0 * np.sqrt(pop)
            st.add(
                lay.towns[t], u, kind="village", ur=210, pop=pop, name=f"{stem}村", role="centre", sigma=sigma
            )
        else:
            pop = int(rng.integers(tlo, thi + 1))
            sigma = 150 + 2.0 * np.sqrt(pop)
            st.add(
                lay.towns[t],
                u,
                kind="community",
                ur=121,
                pop=pop,
                name=f"{stem}社区",
                role="centre",
                sigma=sigma,
            )
    if not lay.n_zhen:
        return
    t_big = int(np.argmax([st.pop[n_comm + t] if not lay.is_xiang[t] else -1 for t in range(p.n_townships)]))
    ang0 = rng.uniform(0, 2 * np.pi)
    sxy = lay.towns[t_big] + 1_300.0 * np.array([np.cos(ang0), np.sin(ang0)])
    if lay.boundary.contains(shapely.Point(sxy)):
        stem = lay.units[lay.n_sub + t_big].stem
        pop = int(rng.integers(800, 1_600))
        st.add(
            sxy,
            lay.n_sub + t_big,
            kind="community",
            ur=123,
            pop=pop,
            name=f"{stem}工业园社区",
            role="special",
            sigma=200.0,
        )


def _add_villages(
    rng: np.random.Generator, st: _Settlements, p: SynthParams, lay: _Layout
) -> tuple[float, np.ndarray]:
    """The regular administrative villages, clear of the remote zones; returns the road-grid angle
    and the remote zones (reserved away from the main road corridors)."""
    angle = float(rng.uniform(-0.14, 0.14))
    axis_ns = np.array([-np.sin(angle), np.cos(angle)])
    axis_ew = np.array([np.cos(angle), np.sin(angle)])
    seat = lay.seat
    corridors = shapely.multilinestrings(
        [[seat - 2 * lay.extent * ax, seat + 2 * lay.extent * ax] for ax in (axis_ns, axis_ew)]
        + [[seat, tw] for tw in lay.towns]
    )
    zones = sgeom.remote_zones(rng, lay.boundary, np.vstack([seat, lay.towns]), corridors, p.n_remote)
    n_regular = p.n_villages - p.n_xiang - p.n_remote
    v_spacing = 0.75 * np.sqrt(lay.boundary.area / p.n_villages)
    avoid = np.vstack([np.array(st.xy), zones]) if len(zones) else np.array(st.xy)
    avoid_r = np.concatenate(
        [[lay.r_seat + 500.0 if r == "seat" else 900.0 for r in st.role], np.full(len(zones), 2_600.0)]
    )
    vxy = sgeom.dart(
        rng, lay.boundary.buffer(-250.0), n_regular, spacing=v_spacing, avoid=avoid, avoid_r=avoid_r
    )
    vunit = lay.unit_of(vxy)
    vpop = np.clip(rng.lognormal(np.log(p.village_population_median), 0.45, len(vxy)), 250, 2_500).astype(int)
    for xy, u, pop in zip(vxy, vunit, vpop, strict=True):
        if u < lay.n_sub:
            ur = 112 if np.hypot(*(xy - seat)) < lay.r_seat + 1_500.0 else 220
        elif not lay.is_xiang[u - lay.n_sub] and np.hypot(*(xy - lay.towns[u - lay.n_sub])) < 1_800.0:
            ur = 122
        else:
            ur = 220
        st.add(
            xy, int(u), kind="village", ur=ur, pop=int(pop), role="village", sigma=60.0 + 4.0 * np.sqrt(pop)
        )
    return angle, zones


def _add_remote_hamlets(
    rng: np.random.Generator, st: _Settlements, lay: _Layout, *, builder: RoadBuilder, zones: np.ndarray
) -> None:
    """A hamlet in each reserved zone, at the point 1.2-2 km from every road closest to 1.5 km."""
    if not len(zones):
        return
    lines = shapely.STRtree(builder.edge_lines())
    inner = lay.boundary.buffer(-400.0)
    for z in zones:
        g = np.mgrid[-2_000:2_001:200, -2_000:2_001:200].reshape(2, -1).T + z
        g = g[shapely.contains_xy(inner, g[:, 0], g[:, 1])]
        if len(g) == 0:
            g = z[None, :]
        _, dist = lines.query_nearest(shapely.points(g), return_distance=True, all_matches=False)
        dist = np.asarray(dist, dtype=float)
        # a hamlet 1.2-2 km from the nearest road is the realistic case; take the closest to 1.5 km
        score = np.where(dist >= 1_200.0, -np.abs(dist - 1_500.0), dist - 1e6)
        best = int(np.argmax(score))
        if dist[best] < 1_150.0:
            raise InputDataError(
                problems=[
                    Problem(
                        f"could not keep a remote hamlet 1 km from every road (best {dist[best]:.0f} m)",
                        location="SynthParams.n_remote",
                        fix="lower n_remote, raise extent_km, or lower track_share",
                    )
                ]
            )
        pop = int(rng.integers(120, 420))
        unit = int(lay.unit_of(g[best][None, :])[0])
        st.add(g[best], unit, kind="village", ur=220, pop=pop, role="remote", sigma=50.0 + 3.0 * np.sqrt(pop))


def _assign_codes(rng: np.random.Generator, st: _Settlements, p: SynthParams, lay: _Layout) -> None:
    """NBS 12-digit codes by distance from each unit's centre (communities 001.., villages 200..);
    names the unnamed villages (distinct within a township and across the last few thousand)."""
    xy_all = np.array(st.xy)
    unit_arr = np.array(st.unit)
    codes = [""] * len(st.xy)
    taken: set[str] = set()
    for u, unit in enumerate(lay.units):
        members = np.flatnonzero(unit_arr == u)
        ref_pt = lay.seat if u < lay.n_sub else lay.towns[u - lay.n_sub]
        by_dist = members[np.argsort(np.hypot(*(xy_all[members] - ref_pt).T), kind="stable")]
        comm = [m for m in by_dist if st.kind[m] == "community"]
        vill = [m for m in by_dist if st.kind[m] == "village"]
        if len(comm) > 199 or len(vill) > 200:
            raise InputDataError(
                problems=[
                    Problem(
                        f"township {unit.name} would get {len(vill)} villages, over the NBS code range",
                        location="SynthParams.n_villages",
                        fix="raise n_townships or lower n_villages",
                    )
                ]
            )
        for k, m in enumerate(comm):
            codes[m] = f"{unit.township_code}{k + 1:03d}"
        unnamed = [m for m in vill if not st.name[m]]
        fresh = names.village_names(len(unnamed), rng, taken=taken | {st.name[m] for m in vill})
        for m, nm in zip(unnamed, fresh, strict=True):
            st.name[m] = nm
        taken.update(fresh)
        if len(taken) > 5_000:
            taken = set()
        for k, m in enumerate(vill):
            codes[m] = f"{unit.township_code}{200 + k:03d}"
    st.code = codes


def _rescale_people(st: _Settlements, total: int) -> None:
    """Scale every settlement's people by one factor so that they sum to ``total`` exactly
    (largest remainder); every settlement keeps at least one person."""
    scaled = sgeom.split_int(total, np.asarray(st.pop, dtype=float))
    if scaled.min() < 1:
        raise InputDataError(
            problems=[
                Problem(
                    f"total_population={total:,} leaves a settlement of {min(st.pop)} people with nobody",
                    location="SynthParams.total_population",
                    fix="raise total_population, or lower seat_population so the seat takes a smaller share",
                )
            ]
        )
    st.pop = [int(v) for v in scaled]


def _gaps(rng: np.random.Generator, p: SynthParams, lay: _Layout) -> Gaps:
    """The deliberate gaps: a seat edge without pickup points, the farthest township without outlets."""
    gap_dir = rng.uniform(0.0, 2 * np.pi)
    return Gaps(
        point=lay.seat + 0.85 * lay.r_seat * np.array([np.cos(gap_dir), np.sin(gap_dir)]),
        radius_m=round(max(1_250.0, 0.75 * lay.r_seat), 1),
        no_outlet_township=lay.units[lay.n_sub + p.n_townships - 1].township_code,
    )


def _register(
    st: _Settlements,
    lay: _Layout,
    p: SynthParams,
    *,
    roads: RoadInfo,
    to_wgs: Transformer,
) -> tuple[pd.DataFrame, np.ndarray, RoadInfo]:
    """The register in code order (WGS-84 lon/lat), each row's role, and ``roads`` re-indexed to it."""
    xy_all = np.array(st.xy)
    lon, lat = to_wgs.transform(xy_all[:, 0], xy_all[:, 1])
    villages = pd.DataFrame(
        {
            "village_code": st.code,
            "village_name": st.name,
            "township_code": [lay.units[u].township_code for u in st.unit],
            "township_name": [lay.units[u].name for u in st.unit],
            "urban_rural_code": st.ur,
            "kind": st.kind,
            "households": np.array(st.households, dtype=np.int64),
            "population": st.pop,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
        }
    )
    order = np.argsort(np.array(st.code), kind="stable")
    inv = np.empty(len(order), dtype=int)
    inv[order] = np.arange(len(order))
    villages = villages.iloc[order].reset_index(drop=True)
    role = np.asarray(st.role, dtype=object)[order]
    n_comm = lay.n_sub * p.communities_per_subdistrict  # town centres follow the seat's communities
    roads = dataclasses.replace(
        roads,
        village_nodes={int(inv[k]): v for k, v in roads.village_nodes.items()},
        town_of_settlement={int(inv[n_comm + t]): nodes for t, nodes in enumerate(roads.town_nodes)},
    )
    return villages, role, roads


def _to_wgs_geom(geom: shapely.Geometry, to_wgs: Transformer) -> shapely.Geometry:
    def f(c: np.ndarray) -> np.ndarray:
        x, y = to_wgs.transform(c[:, 0], c[:, 1])
        return np.round(np.column_stack([x, y]), 6)

    return shapely.make_valid(shapely.transform(geom, f))


def _boundary_frame(lay: _Layout, p: SynthParams, to_wgs: Transformer) -> gpd.GeoDataFrame:
    """The county outline in WGS-84 with its code and name; one outline per county when there are several
    (the union of its township cells)."""
    if len(lay.counties) == 1:
        return gpd.GeoDataFrame(
            {"county_code": [p.county_code], "county_name": [p.county_name]},
            geometry=[_to_wgs_geom(lay.boundary, to_wgs)],
            crs="EPSG:4326",
        )
    outlines = [
        shapely.union_all([u.geom for u in lay.units if u.county == code]) for code, _ in lay.counties
    ]
    return gpd.GeoDataFrame(
        {"county_code": [c for c, _ in lay.counties], "county_name": [n for _, n in lay.counties]},
        geometry=[_to_wgs_geom(g, to_wgs) for g in outlines],
        crs="EPSG:4326",
    )


def _townships_frame(lay: _Layout, p: SynthParams, to_wgs: Transformer) -> gpd.GeoDataFrame:
    """The township cells in WGS-84, in code order."""
    townships = gpd.GeoDataFrame(
        {
            "township_code": [u.township_code for u in lay.units],
            "township_name": [u.name for u in lay.units],
        },
        geometry=[_to_wgs_geom(u.geom, to_wgs) for u in lay.units],
        crs="EPSG:4326",
    )
    return townships.sort_values("township_code", kind="stable").reset_index(drop=True)


def _notes(gaps: Gaps, villages: pd.DataFrame, role: np.ndarray, to_wgs: Transformer) -> dict[str, Any]:
    """The deliberate gaps, for the README and the tests."""
    gx, gy = to_wgs.transform(gaps.point[0], gaps.point[1])
    return {
        "seat_gap_point": (round(float(gx), 6), round(float(gy), 6)),
        "seat_gap_radius_m": gaps.radius_m,
        "no_outlet_township": gaps.no_outlet_township,
        "remote_villages": villages.loc[role == "remote", "village_code"].tolist(),
    }


# ----------------------------------------------------------------------------- writing
def _feature_collection(gdf: gpd.GeoDataFrame, columns: tuple[str, ...]) -> str:
    feats = []
    for row, geom in zip(gdf[list(columns)].to_dict("records"), gdf.geometry, strict=True):
        feats.append({"type": "Feature", "properties": row, "geometry": shapely.geometry.mapping(geom)})
    doc = {"type": "FeatureCollection", "name": columns[0].split("_")[0], "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


_README = """# 示范县合成数据 / Synthetic demo county

**本目录中的数据全部是合成的（虚构的），不代表任何真实地区。** 示范县（代码 {code}）是一个虚构的山东省县，
位于华北平原。边界、乡镇、村庄名称与代码、人口、道路和快递网点都由 `planner synth`
（`planner/synth/`，随机种子 {seed}）生成，仅用于演示和测试。

**All data in this folder is synthetic (fictional) and describes no real place.** 示范县 (code {code}) is a
fictional county of Shandong on the North China Plain. Its boundary, townships, village names and codes,
population, roads and express-delivery facilities were generated by `planner synth` (`planner/synth/`,
seed {seed}) for demonstrations and tests. Regenerate with the same parameters to get byte-identical files.

{counties}Files:

- `boundaries/county.geojson`: county outline (WGS-84) with `county_code`, `county_name`.
- `boundaries/townships.geojson`: {n_units} townships (街道/镇/乡; Voronoi cells of their centres)
  with `township_code`, `township_name`.
- `population/population_100m.tif`: persons per 100 m cell, float32, EPSG:4548 (CGCS2000 /
  3-degree Gauss-Kruger CM 117E), nodata -1 outside the county; total {pop:,} people.
- `roads/roads.graphml`: osmnx GraphML road network (WGS-84), {n_nodes:,} nodes, {n_edges:,} edges,
  OSM `highway` classes trunk … track, `oneway`, `maxspeed`, `length` (m), Chinese `name`.
- `villages/villages.csv`: {n_vill} communities (居委会) and villages (村委会) with NBS 12-digit codes,
  NBS urban-rural codes, households, population, lon/lat.
- `facilities/existing.csv`: {n_fac} existing facilities (outlets, lockers, village stations,
  delivery centres, one sorting centre).
- `facilities/candidates.csv`: {n_cand} candidate sites (outlet, locker, village_station, park).

Deliberate gaps for the audit to find: lockers far below one per 100 households; township {no_outlet} has no
outlet; part of the seat is more than 1 km from any pickup point; about a quarter of the villages have no
station; some delivery centres are under 30 m²; the only sorting centre hosts two carriers; villages
{remote} lie more than 1 km from any road.

Parameters: `{params}`
"""


def write_county(county: SynthCounty, out_dir: Path) -> dict[str, Path]:
    """Write ``county`` under ``out_dir`` in the planner's input formats; returns ``{layer: path}``.

    Layers: ``county``, ``townships``, ``population``, ``roads``, ``villages``, ``facilities``,
    ``candidates``, ``readme``. Folders are created as needed; existing files are overwritten.
    """
    out_dir = Path(out_dir)
    paths = {
        "county": out_dir / "boundaries" / "county.geojson",
        "townships": out_dir / "boundaries" / "townships.geojson",
        "population": out_dir / "population" / "population_100m.tif",
        "roads": out_dir / "roads" / "roads.graphml",
        "villages": out_dir / "villages" / "villages.csv",
        "facilities": out_dir / "facilities" / "existing.csv",
        "candidates": out_dir / "facilities" / "candidates.csv",
        "readme": out_dir / "README.md",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["county"].write_text(_feature_collection(county.boundary, ("county_code", "county_name")), "utf-8")
    paths["townships"].write_text(
        _feature_collection(county.townships, ("township_code", "township_name")), "utf-8"
    )
    nrow, ncol = county.population.shape
    with rasterio.open(
        paths["population"],
        "w",
        driver="GTiff",
        height=nrow,
        width=ncol,
        count=1,
        dtype="float32",
        crs=county.crs,
        transform=county.transform,
        nodata=county.nodata,
        compress="deflate",
        predictor=3,
        tiled=True,
        blockxsize=256,
        blockysize=256,
    ) as dst:
        dst.write(county.population, 1)
        dst.update_tags(DESCRIPTION="synthetic population (planner synth), persons per cell")
    import osmnx as ox  # here, not at import: osmnx pulls in scikit-learn and matplotlib (~1-2 s)

    ox.save_graphml(county.roads, paths["roads"])
    county.villages.drop(columns="geometry")[list(VILLAGE_CSV_COLUMNS)].to_csv(
        paths["villages"], index=False, lineterminator="\n"
    )
    county.facilities.drop(columns="geometry").to_csv(paths["facilities"], index=False, lineterminator="\n")
    county.candidates.drop(columns="geometry").to_csv(paths["candidates"], index=False, lineterminator="\n")
    p = county.params
    paths["readme"].write_text(
        _README.format(
            code=p.county_code,
            seed=p.seed,
            n_units=len(county.townships),
            pop=int(county.villages["population"].sum()),
            n_nodes=county.roads.number_of_nodes(),
            n_edges=county.roads.number_of_edges(),
            n_vill=len(county.villages),
            n_fac=len(county.facilities),
            n_cand=len(county.candidates),
            no_outlet=county.notes["no_outlet_township"],
            remote=", ".join(county.notes["remote_villages"]) or "(none)",
            params=", ".join(f"{f.name}={getattr(p, f.name)!r}" for f in fields(p)),
            counties=_counties_note(county.boundary),
        ),
        "utf-8",
    )
    return paths


def _counties_note(boundary: gpd.GeoDataFrame) -> str:
    """The README's paragraph on an area of several synthetic counties ("" for one county)."""
    if len(boundary) == 1:
        return ""
    listed = "、".join(
        f"{c} {n}" for c, n in zip(boundary["county_code"], boundary["county_name"], strict=True)
    )
    return (
        f"本区域由 {len(boundary)} 个合成县组成 / The area spans {len(boundary)} synthetic counties "
        f"(one feature each in `boundaries/county.geojson`): {listed}.\n\n"
    )


def synthesize_county(params: SynthParams, out_dir: Path) -> SynthSummary:
    """Build the county of ``params`` and write it under ``out_dir`` (what ``planner synth`` calls)."""
    county = synthesize(params)
    paths = write_county(county, out_dir)
    vill = county.villages
    counts = {
        "townships": len(county.townships),
        "communities": int((vill["kind"] == "community").sum()),
        "villages": int((vill["kind"] == "village").sum()),
        "population": int(vill["population"].sum()),
        "road_nodes": county.roads.number_of_nodes(),
        "road_edges": county.roads.number_of_edges(),
        "facilities": len(county.facilities),
        "candidates": len(county.candidates),
        "populated_cells": int((county.population > 0).sum()),
    }
    return SynthSummary(paths=paths, counts=counts)


def write_scenario(out_dir: Path, params: SynthParams, *, profile: str = "national-default") -> Path:
    """Write ``scenario.yaml`` next to a written county so that ``planner run`` works on it at once.

    Paths in the scenario are relative to ``out_dir`` (the layout :func:`write_county` writes).
    """
    out_dir = Path(out_dir)
    scenario = {
        "name": f"synth-{params.county_code}-seed{params.seed}",
        "title": f"{params.county_name}快递末端服务设施规划（合成数据，种子 {params.seed}）",
        "title_en": (
            f"Synthetic county {params.county_code} (seed {params.seed}): express-delivery facility plan"
        ),
        "study_area": {
            "boundary": "boundaries/county.geojson",
            "townships": "boundaries/townships.geojson",
            # several synthetic counties: the boundary file's features name them
            **(
                {"county_code": params.county_code, "county_name": params.county_name}
                if params.n_counties == 1
                else {}
            ),
        },
        "inputs": {
            "population": {"path": "population/population_100m.tif", "resolution_m": 200},
            "roads": {"path": "roads/roads.graphml"},
            "villages": {"path": "villages/villages.csv"},
            "facilities": {"path": "facilities/existing.csv"},
            "candidates": {"path": "facilities/candidates.csv"},
        },
        "standards": profile,
        "plan": {
            "year": 2025,
            "facilities": {
                "outlet": {"cost": 60000},
                "locker": {"cost": 25000, "max_per_site": 6},
                "village_station": {"cost": 15000},
                "park": {"cost": 3000000},
            },
        },
        "solver": {"backend": "highs", "time_limit_s": 60, "mip_gap": 0.0001},
        "outputs": {"folder": "out", "language": "zh"},
    }
    path = out_dir / "scenario.yaml"
    header = (
        "# A scenario for this synthetic county, written by `planner synth`.\n"
        "# Paths are relative to this file.\n"
    )
    path.write_text(header + yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
