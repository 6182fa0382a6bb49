"""The settlements of a synthetic county (:mod:`planner.synth`), in projected metres.

:func:`make_layout` draws the outline, the seat and the town centres and cuts the township units
(sub-districts of the seat, then 镇 and 乡 as Voronoi cells, grouped into synthetic counties when
there are more than ``townships_per_county``); the ``add_*`` steps place the seat's communities,
the town centres, the administrative villages and the remote hamlets into :class:`Settlements`;
:func:`assign_codes` gives them NBS codes and names, and :func:`rescale_people` sets the total.
Every step draws from the caller's random generator, in the order :func:`~planner.synth.synthesize`
calls them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import shapely

from planner.errors import InputDataError, Problem
from planner.synth import geom as sgeom
from planner.synth import names
from planner.synth.params import SynthParams
from planner.synth.roads import RoadBuilder


@dataclass
class Settlements:
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
        """Add a settlement at ``xy`` in unit ``unit`` (villages get names in :func:`assign_codes`)."""
        self.xy.append(np.asarray(xy, dtype=float))
        self.unit.append(unit)
        self.kind.append(kind)
        self.ur.append(ur)
        self.pop.append(int(pop))
        self.name.append(name)
        self.role.append(role)
        self.sigma.append(float(sigma))


@dataclass(frozen=True, eq=False)
class Unit:
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
class Layout:
    """The county's frame in metres: outline, seat, town centres and township units (seat's first)."""

    boundary: shapely.Geometry
    extent: float
    seat: np.ndarray
    r_seat: float
    towns: np.ndarray
    is_xiang: np.ndarray
    units: list[Unit]
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


def make_layout(rng: np.random.Generator, p: SynthParams, *, centre: np.ndarray) -> Layout:
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
        Unit(county=counties[0][0], code=f"{k + 1:03d}", name=sub_names[k], geom=cells[0].intersection(wedge))
        for k, wedge in enumerate(sgeom.wedges(seat, p.n_subdistricts, 4 * extent))
    ]
    stems = names.township_stems(p.n_townships, rng)
    county_of = county_sectors(towns, seat, n_counties=len(counties))
    n_zhen, n_xiang = np.zeros(len(counties), dtype=int), np.zeros(len(counties), dtype=int)
    for t in range(p.n_townships):
        c = county_of[t]
        if is_xiang[t]:  # 乡 200.., 镇 100.. within each county, nearest the seat first
            code, suffix = f"{200 + n_xiang[c]:03d}", "乡"
            n_xiang[c] += 1
        else:
            code, suffix = f"{100 + n_zhen[c]:03d}", "镇"
            n_zhen[c] += 1
        unit = Unit(
            county=counties[c][0], code=code, name=stems[t] + suffix, geom=cells[t + 1], stem=stems[t]
        )
        units.append(unit)
    return Layout(
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


def county_sectors(towns: np.ndarray, seat: np.ndarray, *, n_counties: int) -> np.ndarray:
    """The county (0..n_counties-1) of each town: consecutive angular sectors around the seat
    holding near-equal numbers of towns (``numpy.array_split`` of the towns ordered by bearing)."""
    out = np.zeros(len(towns), dtype=int)
    if n_counties > 1:
        bearing = np.arctan2(towns[:, 1] - seat[1], towns[:, 0] - seat[0])
        for c, members in enumerate(np.array_split(np.argsort(bearing, kind="stable"), n_counties)):
            out[members] = c
    return out


def add_seat_communities(rng: np.random.Generator, st: Settlements, p: SynthParams, lay: Layout) -> None:
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


def add_town_centres(rng: np.random.Generator, st: Settlements, p: SynthParams, lay: Layout) -> None:
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


def add_villages(
    rng: np.random.Generator, st: Settlements, p: SynthParams, lay: Layout
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


def add_remote_hamlets(
    rng: np.random.Generator, st: Settlements, lay: Layout, *, builder: RoadBuilder, zones: np.ndarray
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


def assign_codes(rng: np.random.Generator, st: Settlements, p: SynthParams, lay: Layout) -> None:
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


def rescale_people(st: Settlements, total: int) -> None:
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
