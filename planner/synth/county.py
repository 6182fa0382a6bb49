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

import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import rasterio
import shapely
import yaml
from affine import Affine
from pyproj import Transformer

from planner.errors import InputDataError, Problem
from planner.synth import geom as sgeom
from planner.synth import names
from planner.synth.facilities import make_candidates, make_facilities
from planner.synth.roads import RoadBuilder, build_roads

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
        Towns and townships (镇 + 乡), not counting the seat's sub-districts.
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

    def __post_init__(self) -> None:
        problems = _check_params(self)
        if problems:
            raise InputDataError("invalid synthetic-county parameters", problems=problems)

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


def _check_params(p: SynthParams) -> list[Problem]:
    out: list[Problem] = []

    def bad(name: str, msg: str, fix: str) -> None:
        out.append(Problem(msg, location=f"SynthParams.{name}", fix=fix))

    if not 5.0 <= p.extent_km <= 200.0:
        bad("extent_km", f"extent_km must be 5..200 km, got {p.extent_km}", "use e.g. 30")
    if not 1 <= p.n_townships <= 99:
        bad("n_townships", f"n_townships must be 1..99, got {p.n_townships}", "use e.g. 8")
    if not 0 <= p.n_xiang <= p.n_townships or p.n_xiang > 99:
        bad("n_xiang", f"n_xiang must be 0..n_townships, got {p.n_xiang}", "use e.g. 2")
    if not 1 <= p.n_subdistricts <= 9:
        bad("n_subdistricts", f"n_subdistricts must be 1..9, got {p.n_subdistricts}", "use e.g. 2")
    if not 1 <= p.communities_per_subdistrict <= 150:
        bad("communities_per_subdistrict", "communities_per_subdistrict must be 1..150", "use e.g. 6")
    if not 0 <= p.n_remote <= 5:
        bad("n_remote", f"n_remote must be 0..5, got {p.n_remote}", "use 1..3")
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
    for name in ("seat_street_spacing_m", "town_street_spacing_m", "village_lane_spacing_m"):
        if not 40.0 <= getattr(p, name) <= 1_000.0:
            bad(name, f"{name} must be 40..1000 m", "use e.g. 150")
    if not 50.0 <= p.rural_node_spacing_m <= 5_000.0:
        bad("rural_node_spacing_m", "rural_node_spacing_m must be 50..5000 m", "use e.g. 700")
    for name in ("track_share", "station_share"):
        if not 0.0 <= getattr(p, name) <= 1.0:
            bad(name, f"{name} must be a share in 0..1", "use e.g. 0.75")
    if not 10.0 <= p.resolution_m <= 1_000.0:
        bad("resolution_m", "resolution_m must be 10..1000 m", "use 100")
    if not (len(p.county_code) == 6 and p.county_code.isdigit()):
        bad("county_code", f"county_code must be 6 digits, got {p.county_code!r}", 'use e.g. "379901"')
    if not (73.0 <= p.centre_lon <= 135.0 and 18.0 <= p.centre_lat <= 54.0):
        bad("centre_lon", "the centre must lie in China (lon 73..135, lat 18..54)", "use 116.6, 36.45")
    if not 0 <= p.n_park_candidates <= 10:
        bad("n_park_candidates", "n_park_candidates must be 0..10", "use 1..3")
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
    sigma: list[float] = field(default_factory=list)

    def add(
        self, xy: np.ndarray, unit: int, kind: str, ur: int, pop: int, name: str, role: str, sigma: float
    ) -> None:
        self.xy.append(np.asarray(xy, dtype=float))
        self.unit.append(unit)
        self.kind.append(kind)
        self.ur.append(ur)
        self.pop.append(int(pop))
        self.name.append(name)
        self.role.append(role)
        self.sigma.append(float(sigma))


def synthesize(params: SynthParams) -> SynthCounty:
    """Build the synthetic county described by ``params`` in memory (deterministic by ``params.seed``)."""
    p = params
    rng = np.random.default_rng(p.seed)
    to_proj = Transformer.from_crs("EPSG:4326", SYNTH_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(SYNTH_CRS, "EPSG:4326", always_xy=True)
    centre = np.array(to_proj.transform(p.centre_lon, p.centre_lat))
    extent = p.extent_km * 1_000.0
    boundary = sgeom.boundary(rng, centre, extent)
    area = boundary.area

    # --- seat and town centres
    seat = centre + rng.normal(0.0, extent * 0.04, 2)
    r_seat = float(np.sqrt(p.seat_population / 13_000.0 / np.pi) * 1_000.0)
    town_spacing = 0.8 * np.sqrt(area / (p.n_townships + 1))
    towns = sgeom.dart(
        rng,
        boundary.buffer(-0.09 * extent),
        p.n_townships,
        spacing=town_spacing,
        avoid=seat[None, :],
        avoid_r=np.array([max(0.75 * town_spacing, r_seat + 3_000.0)]),
    )
    d_seat = np.hypot(*(towns - seat).T)
    order = np.argsort(d_seat, kind="stable")  # nearest towns first: 镇 codes 100.., then 乡 codes 200..
    towns = towns[order]
    is_xiang = np.zeros(p.n_townships, dtype=bool)
    is_xiang[p.n_townships - p.n_xiang :] = True

    cells = sgeom.voronoi_cells(np.vstack([seat, towns]), boundary)
    seat_cell = cells[0]
    units: list[dict[str, Any]] = []
    sub_names = names.subdistrict_names(p.n_subdistricts)
    for k, wedge in enumerate(sgeom.wedges(seat, p.n_subdistricts, 4 * extent)):
        units.append({"code": f"{k + 1:03d}", "name": sub_names[k], "geom": seat_cell.intersection(wedge)})
    stems = names.township_stems(p.n_townships, rng)
    n_zhen = 0
    for t in range(p.n_townships):
        if is_xiang[t]:
            code, suffix = f"{200 + t - (p.n_townships - p.n_xiang):03d}", "乡"
        else:
            code, suffix = f"{100 + n_zhen:03d}", "镇"
            n_zhen += 1
        units.append({"code": code, "name": stems[t] + suffix, "stem": stems[t], "geom": cells[t + 1]})
    n_sub = p.n_subdistricts
    unit_geoms = [u["geom"] for u in units]
    unit_tree = shapely.STRtree(unit_geoms)

    def unit_of(xy: np.ndarray) -> np.ndarray:
        pts = shapely.points(xy)
        idx = np.full(len(xy), -1, dtype=int)
        pi, gi = unit_tree.query(pts, predicate="intersects")
        idx[pi[::-1]] = gi[::-1]  # the first hit wins
        missing = idx < 0
        if missing.any():  # on a shared edge or a sliver: the nearest unit
            idx[missing] = unit_tree.nearest(pts[missing])
        return idx

    st = _Settlements()
    # --- seat communities (sunflower pattern, denser at the core)
    n_comm = n_sub * p.communities_per_subdistrict
    golden = np.pi * (3.0 - np.sqrt(5.0))
    i = np.arange(n_comm)
    rad = r_seat * 0.9 * np.sqrt((i + 0.5) / n_comm)
    ang = i * golden + rng.uniform(0, 2 * np.pi)
    cxy = seat + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)]) + rng.normal(0, 60.0, (n_comm, 2))
    weights = np.exp(-((rad / r_seat) ** 2)) * rng.lognormal(0.0, 0.2, n_comm)
    cpop = sgeom.split_int(p.seat_population, weights)
    cunit = np.minimum(unit_of(cxy), n_sub - 1)
    spacing_c = r_seat * np.sqrt(np.pi / n_comm)
    for k, (xy, u, pop, name) in enumerate(
        zip(cxy, cunit, cpop, names.community_names(n_comm, rng), strict=True)
    ):
        ur = 111 if rad[k] < 0.7 * r_seat else 112
        st.add(xy, int(u), "community", ur, int(pop), name, "seat", 0.5 * spacing_c)

    # --- town and township centres, one special-area community (123) in the largest town
    tlo, thi = p.town_population
    for t in range(p.n_townships):
        u = n_sub + t
        stem = units[u]["stem"]
        if is_xiang[t]:
            pop = int(rng.integers(1_500, 2_501))
            st.add(towns[t], u, "village", 210, pop, f"{stem}村", "centre", 150 + 2.0 * np.sqrt(pop))
        else:
            pop = int(rng.integers(tlo, thi + 1))
            st.add(towns[t], u, "community", 121, pop, f"{stem}社区", "centre", 150 + 2.0 * np.sqrt(pop))
    if n_zhen:
        t_big = int(np.argmax([st.pop[n_comm + t] if not is_xiang[t] else -1 for t in range(p.n_townships)]))
        ang0 = rng.uniform(0, 2 * np.pi)
        sxy = towns[t_big] + 1_300.0 * np.array([np.cos(ang0), np.sin(ang0)])
        if boundary.contains(shapely.Point(sxy)):
            stem = units[n_sub + t_big]["stem"]
            st.add(sxy, n_sub + t_big, "community", 123, int(rng.integers(800, 1_600)), f"{stem}工业园社区",
                   "special", 200.0)  # fmt: skip

    # --- main road corridors (for the remote zones) and regular villages
    angle = float(rng.uniform(-0.14, 0.14))
    axis_ns = np.array([-np.sin(angle), np.cos(angle)])
    axis_ew = np.array([np.cos(angle), np.sin(angle)])
    corridors = shapely.multilinestrings(
        [[seat - 2 * extent * ax, seat + 2 * extent * ax] for ax in (axis_ns, axis_ew)]
        + [[seat, tw] for tw in towns]
    )
    all_centres = np.vstack([seat, towns])
    zones = sgeom.remote_zones(rng, boundary, all_centres, corridors, p.n_remote)
    n_regular = p.n_villages - p.n_xiang - p.n_remote
    v_spacing = 0.75 * np.sqrt(area / p.n_villages)
    avoid = np.vstack([np.array(st.xy), zones]) if len(zones) else np.array(st.xy)
    avoid_r = np.concatenate(
        [
            [r_seat + 500.0 if r == "seat" else 900.0 for r in st.role],
            np.full(len(zones), 2_600.0),
        ]
    )
    vxy = sgeom.dart(rng, boundary.buffer(-250.0), n_regular, spacing=v_spacing, avoid=avoid, avoid_r=avoid_r)
    vunit = unit_of(vxy)
    vpop = np.clip(rng.lognormal(np.log(p.village_population_median), 0.45, len(vxy)), 250, 2_500).astype(int)
    town_of_unit = {n_sub + t: towns[t] for t in range(p.n_townships)}
    for xy, u, pop in zip(vxy, vunit, vpop, strict=True):
        if u < n_sub:
            ur = 112 if np.hypot(*(xy - seat)) < r_seat + 1_500.0 else 220
        elif not is_xiang[u - n_sub] and np.hypot(*(xy - town_of_unit[int(u)])) < 1_800.0:
            ur = 122
        else:
            ur = 220
        st.add(xy, int(u), "village", ur, int(pop), "", "village", 60.0 + 4.0 * np.sqrt(pop))

    # --- roads
    builder = RoadBuilder()
    road_info = build_roads(
        builder,
        rng,
        params=p,
        boundary=boundary,
        seat=seat,
        r_seat=r_seat,
        angle=angle,
        towns=towns,
        is_xiang=is_xiang,
        settlements_xy=np.array(st.xy),
        settlements_pop=np.array(st.pop),
        settlements_role=list(st.role),
        zones=zones,
    )

    # --- remote hamlets: the points of the reserved zones farthest from every road
    if p.n_remote:
        lines = shapely.STRtree(builder.edge_lines())
        for z in zones:
            g = np.mgrid[-2_000:2_001:200, -2_000:2_001:200].reshape(2, -1).T + z
            g = g[shapely.contains_xy(boundary.buffer(-400.0), g[:, 0], g[:, 1])]
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
            st.add(g[best], int(unit_of(g[best][None, :])[0]), "village", 220, pop, "", "remote",
                   50.0 + 3.0 * np.sqrt(pop))  # fmt: skip

    # --- codes and names per township
    xy_all = np.array(st.xy)
    unit_arr = np.array(st.unit)
    codes = [""] * len(st.xy)
    taken: set[str] = set()
    for u, unit in enumerate(units):
        members = np.flatnonzero(unit_arr == u)
        ref_pt = seat if u < n_sub else towns[u - n_sub]
        dist = np.hypot(*(xy_all[members] - ref_pt).T)
        comm = [m for m in members[np.argsort(dist, kind="stable")] if st.kind[m] == "community"]
        vill = [m for m in members[np.argsort(dist, kind="stable")] if st.kind[m] == "village"]
        if len(comm) > 199 or len(vill) > 200:
            raise InputDataError(
                problems=[
                    Problem(
                        f"township {unit['name']} would get {len(vill)} villages, over the NBS code range",
                        location="SynthParams.n_villages",
                        fix="raise n_townships or lower n_villages",
                    )
                ]
            )
        for k, m in enumerate(comm):
            codes[m] = f"{p.county_code}{unit['code']}{k + 1:03d}"
        unnamed = [m for m in vill if not st.name[m]]
        fresh = names.village_names(len(unnamed), rng, taken=taken | {st.name[m] for m in vill})
        for m, nm in zip(unnamed, fresh, strict=True):
            st.name[m] = nm
        taken.update(fresh)
        if len(taken) > 5_000:
            taken = set()
        for k, m in enumerate(vill):
            codes[m] = f"{p.county_code}{unit['code']}{200 + k:03d}"

    households = np.array(
        [max(1, round(pp / rng.uniform(2.6, 3.0))) for pp in st.pop],
        dtype=np.int64,
    )

    # --- population raster
    population, transform = sgeom.population_raster(
        boundary, xy_all, np.array(st.pop), np.array(st.sigma), p.resolution_m
    )

    # --- deliberate gaps: a seat edge without pickup points, the farthest township without outlets
    gap_dir = rng.uniform(0.0, 2 * np.pi)
    gap_point = seat + 0.85 * r_seat * np.array([np.cos(gap_dir), np.sin(gap_dir)])
    gap_radius = round(max(1_250.0, 0.75 * r_seat), 1)
    no_outlet_township = p.county_code + units[n_sub + p.n_townships - 1]["code"]

    # --- frames in WGS-84
    lon, lat = to_wgs.transform(xy_all[:, 0], xy_all[:, 1])
    villages = pd.DataFrame(
        {
            "village_code": codes,
            "village_name": st.name,
            "township_code": [p.county_code + units[u]["code"] for u in st.unit],
            "township_name": [units[u]["name"] for u in st.unit],
            "urban_rural_code": st.ur,
            "kind": st.kind,
            "households": households,
            "population": st.pop,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
        }
    )
    villages["role"] = st.role
    order = np.argsort(np.array(codes), kind="stable")
    inv = np.empty(len(order), dtype=int)
    inv[order] = np.arange(len(order))
    villages = villages.iloc[order].reset_index(drop=True)
    role = villages.pop("role")
    road_info["village_nodes"] = {int(inv[k]): v for k, v in road_info["village_nodes"].items()}
    road_info["town_of_settlement"] = {
        int(inv[n_comm + t]): nodes for t, nodes in enumerate(road_info["town_nodes"])
    }
    villages_gdf = gpd.GeoDataFrame(
        villages, geometry=gpd.points_from_xy(villages["lon"], villages["lat"]), crs="EPSG:4326"
    )

    def to_wgs_geom(geom: shapely.Geometry) -> shapely.Geometry:
        def f(c: np.ndarray) -> np.ndarray:
            x, y = to_wgs.transform(c[:, 0], c[:, 1])
            return np.round(np.column_stack([x, y]), 6)

        return shapely.make_valid(shapely.transform(geom, f))

    boundary_gdf = gpd.GeoDataFrame(
        {"county_code": [p.county_code], "county_name": [p.county_name]},
        geometry=[to_wgs_geom(boundary)],
        crs="EPSG:4326",
    )
    townships_gdf = gpd.GeoDataFrame(
        {
            "township_code": [p.county_code + u["code"] for u in units],
            "township_name": [u["name"] for u in units],
        },
        geometry=[to_wgs_geom(u["geom"]) for u in units],
        crs="EPSG:4326",
    )
    townships_gdf = townships_gdf.sort_values("township_code", kind="stable").reset_index(drop=True)

    roads = builder.to_graph(to_wgs)
    vproj = np.column_stack(to_proj.transform(villages["lon"].to_numpy(), villages["lat"].to_numpy()))
    facilities = make_facilities(
        rng,
        villages=villages,
        role=role.to_numpy(),
        village_xy=vproj,
        builder=builder,
        road_info=road_info,
        seat=seat,
        gap_point=gap_point,
        gap_radius_m=gap_radius,
        no_outlet_township=no_outlet_township,
        to_wgs=to_wgs,
        station_share=p.station_share,
    )
    candidates = make_candidates(
        rng,
        villages=villages,
        role=role.to_numpy(),
        village_xy=vproj,
        facilities=facilities,
        builder=builder,
        road_info=road_info,
        population=population,
        transform=transform,
        seat=seat,
        r_seat=r_seat,
        to_wgs=to_wgs,
        params=p,
    )
    gx, gy = to_wgs.transform(gap_point[0], gap_point[1])
    notes = {
        "seat_gap_point": (round(float(gx), 6), round(float(gy), 6)),
        "seat_gap_radius_m": gap_radius,
        "no_outlet_township": no_outlet_township,
        "remote_villages": villages.loc[role.to_numpy() == "remote", "village_code"].tolist(),
    }
    log.info(
        "synth: %d townships, %d villages/communities, %d road nodes, %d facilities, %d candidates, pop %d",
        len(townships_gdf),
        len(villages_gdf),
        roads.number_of_nodes(),
        len(facilities),
        len(candidates),
        int(villages["population"].sum()),
    )
    return SynthCounty(
        params=p,
        boundary=boundary_gdf,
        townships=townships_gdf,
        villages=villages_gdf,
        facilities=facilities,
        candidates=candidates,
        roads=roads,
        population=population,
        transform=transform,
        notes=notes,
    )


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
（`planner/synth.py`，随机种子 {seed}）生成，仅用于演示和测试。

**All data in this folder is synthetic (fictional) and describes no real place.** 示范县 (code {code}) is a
fictional county of Shandong on the North China Plain. Its boundary, townships, village names and codes,
population, roads and express-delivery facilities were generated by `planner synth` (`planner/synth.py`,
seed {seed}) for demonstrations and tests. Regenerate with the same parameters to get byte-identical files.

Files:

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
        ),
        "utf-8",
    )
    return paths


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
            "county_code": params.county_code,
            "county_name": params.county_name,
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
