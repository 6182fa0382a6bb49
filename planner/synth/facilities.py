"""Existing facilities and candidate sites of the synthetic county (:mod:`planner.synth`).

Facilities carry the deliberate gaps listed in :mod:`planner.synth`; candidates are road nodes in
populated cells thinned to a spacing, village centres of villages without a station (plus a few
shops), and park sites on the trunk and primary roads near the seat. All positions are computed in
the projected CRS (metres) and returned as WGS-84 GeoDataFrames with lon/lat columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import Transformer
from scipy.spatial import cKDTree

from planner.synth import names
from planner.synth.roads import DRIVE_HIGHWAYS, RoadBuilder, RoadInfo

FACILITY_CSV_COLUMNS = (
    "facility_id",
    "type",
    "name",
    "brands",
    "capacity",
    "floor_area_m2",
    "village_code",
    "lon",
    "lat",
)
CANDIDATE_CSV_COLUMNS = ("candidate_id", "type", "lon", "lat", "village_code")
#: Unit costs (yuan) written when ``SynthParams.candidate_cost`` is set; the seat costs 30 % more.
CANDIDATE_COSTS = {"outlet": 60_000.0, "locker": 25_000.0, "village_station": 15_000.0, "park": 3_000_000.0}


@dataclass(frozen=True, eq=False)
class Placement:
    """What facilities and candidates are placed from (projected metres unless said otherwise).

    Attributes
    ----------
    villages
        The register (codes, names, kinds, people, households) in code order.
    role
        Each register row's role: ``seat``, ``centre``, ``special``, ``village`` or ``remote``.
    village_xy
        Each register row's position.
    builder, roads
        The road network and its node groups.
    seat, r_seat
        The seat's centre and radius.
    population, transform
        The population raster (persons per cell) and its transform.
    to_wgs
        Projected metres to WGS-84.
    """

    villages: pd.DataFrame
    role: np.ndarray
    village_xy: np.ndarray
    builder: RoadBuilder
    roads: RoadInfo
    seat: np.ndarray
    r_seat: float
    population: np.ndarray
    transform: Affine
    to_wgs: Transformer


@dataclass(frozen=True)
class Gaps:
    """The deliberate gaps of the existing network.

    Attributes
    ----------
    point, radius_m
        No pickup facility lies within ``radius_m`` of ``point`` (an edge of the seat).
    no_outlet_township
        The township code that gets no outlet.
    """

    point: np.ndarray
    radius_m: float
    no_outlet_township: str


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...], to_wgs: Transformer) -> gpd.GeoDataFrame:
    """Rows with projected ``x``/``y`` to a WGS-84 GeoDataFrame with rounded lon/lat columns."""
    df = pd.DataFrame(rows, columns=[*columns, "x", "y"])
    lon, lat = to_wgs.transform(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float))
    df["lon"] = np.round(lon, 6)
    df["lat"] = np.round(lat, 6)
    df = df.drop(columns=["x", "y"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def make_facilities(
    rng: np.random.Generator, place: Placement, *, gaps: Gaps, station_share: float
) -> gpd.GeoDataFrame:
    """Existing facilities with the deliberate gaps (see :mod:`planner.synth`).

    No pickup facility lies within ``gaps.radius_m`` of ``gaps.point`` (a seat edge), township
    ``gaps.no_outlet_township`` gets no outlet, and about ``station_share`` of the administrative
    villages have a station.
    """
    rows = _Rows(rng)
    _seat_facilities(rows, rng, place, gaps)
    _sorting_centre(rows, place)
    _town_facilities(rows, rng, place, gaps)
    _village_stations(rows, rng, place, station_share=station_share)
    gdf = _frame(rows.rows, FACILITY_CSV_COLUMNS, place.to_wgs)
    prefix = {
        "outlet": "OUT",
        "locker": "LCK",
        "village_station": "VST",
        "delivery_centre": "DC",
        "sorting_centre": "SC",
    }
    counter: dict[str, int] = {}
    ids = []
    for kind in gdf["type"]:
        counter[kind] = counter.get(kind, 0) + 1
        ids.append(f"{prefix[kind]}-{counter[kind]:04d}")
    gdf["facility_id"] = ids
    return gdf


@dataclass
class _Rows:
    """Facility rows in metres; each position gets a 10 m jitter (drawn from ``rng`` as it is added)."""

    rng: np.random.Generator
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, kind: str, name: str, brands: str, *, capacity: float, area: float, xy: np.ndarray, code: str
    ) -> None:
        """Add a facility of ``kind`` at ``xy`` (jittered) in village ``code``."""
        jitter = self.rng.normal(0.0, 10.0, 2)
        self.rows.append(
            {
                "type": kind,
                "name": name,
                "brands": brands,
                "capacity": capacity,
                "floor_area_m2": area,
                "village_code": code,
                "x": float(xy[0] + jitter[0]),
                "y": float(xy[1] + jitter[1]),
            }
        )


def _seat_facilities(rows: _Rows, rng: np.random.Generator, place: Placement, gaps: Gaps) -> None:
    """The seat: the post office, outlets and lockers per community (lockers far fewer than 1 per 100
    households), delivery centres in the four largest communities; none inside the gap."""
    v = place.villages
    codes = v["village_code"].astype(str).tolist()
    vname = v["village_name"].astype(str).tolist()
    vpop = v["population"].astype(int).tolist()
    vhh = v["households"].astype(int).tolist()
    tree = cKDTree(place.village_xy)
    seat_xy = place.builder.xy(np.asarray(place.roads.seat_nodes))
    ok_seat = np.hypot(*(seat_xy - gaps.point).T) > gaps.radius_m + 60.0
    # a small seat may lie wholly inside the deliberate gap: then place facilities anywhere in it
    seat_ok_xy = seat_xy[ok_seat] if ok_seat.any() else seat_xy

    def spot_near(pt: np.ndarray, radius: float) -> np.ndarray:
        spots = _near_nodes(seat_ok_xy, pt, radius)
        return np.asarray(spots[rng.integers(len(spots))])

    seat_idx = np.flatnonzero(place.role == "seat")
    served = [k for k in seat_idx if np.hypot(*(place.village_xy[k] - gaps.point)) > gaps.radius_m + 150.0]
    post = _near_nodes(seat_ok_xy, place.seat, 300.0)[0]
    rows.add(
        "outlet",
        "中国邮政示范县分公司城区营业部",
        "中国邮政",
        capacity=3_000.0,
        area=260.0,
        xy=post,
        code=codes[tree.query(post)[1]],
    )
    for k in served:
        for _ in range(1 + int(vpop[k] > 7_000)):
            xy = spot_near(place.village_xy[k], 350.0)
            brand = names.outlet_brand(rng)
            cap = float(rng.integers(3, 16) * 100)
            area = float(rng.integers(25, 121))
            rows.add(
                "outlet",
                f"{brand}（{vname[k]}店）",
                names.carriers_subset(rng, k_min=2, k_max=5),
                capacity=cap,
                area=area,
                xy=xy,
                code=codes[k],
            )
        for g in range(max(1, vhh[k] // 450)):
            xy = spot_near(place.village_xy[k], 450.0)
            brand = "丰巢智能柜" if rng.random() < 0.7 else "中邮智递柜"
            rows.add(
                "locker",
                f"{brand}（{vname[k]}{g + 1}号）",
                names.carriers_subset(rng, k_min=3, k_max=6),
                capacity=float(rng.integers(6, 13) * 10),
                area=float("nan"),
                xy=xy,
                code=codes[k],
            )
    big = sorted(served, key=lambda k: -vpop[k])[:4]
    for k, area in zip(big, [18.0, 26.0, 45.0, 60.0], strict=False):
        xy = spot_near(place.village_xy[k], 300.0)
        rows.add(
            "delivery_centre",
            f"{vname[k]}公共快递配送中心",
            names.carriers_subset(rng, k_min=3, k_max=6),
            capacity=float(rng.integers(8, 21) * 100),
            area=area,
            xy=xy,
            code=codes[k],
        )


def _near_nodes(nodes_xy: np.ndarray, pt: np.ndarray, radius: float) -> np.ndarray:
    """The nodes within ``radius`` of ``pt``, else the nearest one."""
    d = np.hypot(*(nodes_xy - pt).T)
    close = nodes_xy[d <= radius]
    return close if len(close) else nodes_xy[[int(np.argmin(d))]]


def _sorting_centre(rows: _Rows, place: Placement) -> None:
    """The only sorting centre: on the trunk outside the seat, two carriers (P-COUNTY fails)."""
    art = np.asarray(place.roads.arterial_out)
    if len(art):
        axy = place.builder.xy(art)
        d = np.hypot(*(axy - place.seat).T)
        k_sc = int(np.argmin(np.abs(d - (d.min() + 1_500.0))))
        rows.add(
            "sorting_centre",
            "示范县中通韵达分拨中心",
            "中通;韵达",
            capacity=60_000.0,
            area=5_200.0,
            xy=axy[k_sc],
            code="",
        )


def _town_facilities(rows: _Rows, rng: np.random.Generator, place: Placement, gaps: Gaps) -> None:
    """Town centres: a post office and a few outlets each (a locker in large towns), except one township."""
    v = place.villages
    codes = v["village_code"].astype(str).tolist()
    town_code = v["township_code"].astype(str).tolist()
    town_name = v["township_name"].astype(str).tolist()
    kind = v["kind"].astype(str).tolist()
    people = v["population"].astype(int).tolist()
    for k in np.flatnonzero(place.role == "centre").tolist():
        if town_code[k] == gaps.no_outlet_township:
            continue
        t_nodes = place.builder.xy(place.roads.town_of_settlement[k])
        stem = town_name[k][:-1]
        rows.add(
            "outlet",
            f"{stem}邮政支局",
            "中国邮政",
            capacity=800.0,
            area=120.0,
            xy=t_nodes[rng.integers(len(t_nodes))],
            code=codes[k],
        )
        is_zhen = kind[k] == "community"
        for _ in range(int(rng.integers(1, 3)) if is_zhen else 0):
            brand = names.outlet_brand(rng)
            rows.add(
                "outlet",
                f"{brand}（{stem}店）",
                names.carriers_subset(rng, k_min=2, k_max=5),
                capacity=float(rng.integers(3, 9) * 100),
                area=float(rng.integers(30, 91)),
                xy=t_nodes[rng.integers(len(t_nodes))],
                code=codes[k],
            )
        if is_zhen and people[k] > 5_000:
            rows.add(
                "locker",
                f"丰巢智能柜（{stem}）",
                names.carriers_subset(rng, k_min=3, k_max=6),
                capacity=80.0,
                area=float("nan"),
                xy=t_nodes[rng.integers(len(t_nodes))],
                code=codes[k],
            )


def _village_stations(
    rows: _Rows, rng: np.random.Generator, place: Placement, *, station_share: float
) -> None:
    """Village stations in about ``station_share`` of the administrative villages, a few shared by two."""
    v = place.villages
    vname = v["village_name"].astype(str).tolist()
    codes = v["village_code"].astype(str).tolist()
    is_village = v["kind"].to_numpy() == "village"
    adm = np.flatnonzero(is_village & (place.role != "remote"))
    n_st = min(len(adm), round(station_share * int(is_village.sum())))
    has = np.zeros(len(v), dtype=bool)
    has[rng.permutation(adm)[:n_st]] = True
    shared = _shared_stations(place, has, is_village)
    for k in np.flatnonzero(has).tolist():
        name = vname[k]
        nodes = place.roads.village_nodes.get(k) or place.roads.town_of_settlement.get(k) or []
        if nodes:
            nxy = place.builder.xy(nodes)
            xy = nxy[int(np.argmin(np.hypot(*(nxy - place.village_xy[k]).T)))]
        else:
            xy = place.village_xy[k]
        if k in shared:
            label = f"{name}、{vname[shared[k]]}共建村级寄递物流综合服务站"
        else:
            label = f"{name}村级寄递物流综合服务站"
        rows.add(
            "village_station",
            label,
            names.carriers_subset(rng, k_min=1, k_max=4, with_post=True),
            capacity=float(rng.integers(5, 31) * 10),
            area=float(rng.integers(15, 61)),
            xy=xy,
            code=codes[k],
        )


def _shared_stations(place: Placement, has: np.ndarray, is_village: np.ndarray) -> dict[int, int]:
    """Up to three stations shared with a neighbouring village without one (within 2.5 km)."""
    lacking = np.flatnonzero(is_village & ~has)
    shared: dict[int, int] = {}
    if len(lacking):
        lack_tree = cKDTree(place.village_xy[lacking])
        for k in np.flatnonzero(has):
            if len(shared) >= 3:
                break
            d, j = lack_tree.query(place.village_xy[k])
            partner = int(lacking[j])
            if d < 2_500.0 and partner not in shared.values() and place.role[partner] != "remote":
                shared[int(k)] = partner
    return shared


def _thin(xy: np.ndarray, group: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Indices of one point per (group, grid cell of ``spacing``): the one nearest the cell centre."""
    gx = np.floor(xy[:, 0] / spacing).astype(np.int64)
    gy = np.floor(xy[:, 1] / spacing).astype(np.int64)
    off = np.hypot(xy[:, 0] - (gx + 0.5) * spacing, xy[:, 1] - (gy + 0.5) * spacing)
    order = np.lexsort((np.arange(len(xy)), off, gy, gx, group))
    key = np.column_stack([group, gx, gy])[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (key[1:] != key[:-1]).any(axis=1)
    return np.sort(order[first])


def make_candidates(
    rng: np.random.Generator, place: Placement, *, facilities: gpd.GeoDataFrame, params: Any
) -> gpd.GeoDataFrame:
    """Candidate sites: outlets/lockers at thinned populated road nodes, stations, parks.

    ``params`` (a :class:`~planner.synth.county.SynthParams`) gives the thinning spacings, the number
    of park sites and whether to write a ``cost`` column.
    """
    codes = place.villages["village_code"].to_numpy()
    vtree = cKDTree(place.village_xy)

    def code_near(xy: np.ndarray) -> str:
        d, k = vtree.query(xy)
        return str(codes[k]) if d <= 1_500.0 else ""

    rows = _pickup_candidates(place, params=params, code_near=code_near)
    rows += _station_candidates(rng, place, facilities)
    rows += _park_candidates(rng, place, n=params.n_park_candidates)
    columns: tuple[str, ...] = CANDIDATE_CSV_COLUMNS
    if params.candidate_cost:
        columns = (*columns, "cost")
        for r in rows:
            near_seat = np.hypot(r["x"] - place.seat[0], r["y"] - place.seat[1]) <= 1.3 * place.r_seat
            r["cost"] = CANDIDATE_COSTS[r["type"]] * (1.3 if near_seat else 1.0)
    gdf = _frame(rows, ("type", "village_code") + (("cost",) if params.candidate_cost else ()), place.to_wgs)
    gdf.insert(0, "candidate_id", [f"C{i + 1:05d}" for i in range(len(gdf))])
    return gdf[[*columns, "geometry"]]


def _pickup_candidates(
    place: Placement, *, params: Any, code_near: Callable[[np.ndarray], str]
) -> list[dict[str, Any]]:
    """Outlet and locker candidates: drivable road nodes in populated cells, thinned to a spacing.

    Outlets everywhere (a finer spacing in the seat); lockers in the seat and near town centres.
    """
    hw = place.builder.node_highways()
    ids = np.array(sorted(n for n, h in hw.items() if h & DRIVE_HIGHWAYS), dtype=np.int64)
    xy = place.builder.xy(ids)
    transform, population = place.transform, place.population
    cols = np.floor((xy[:, 0] - transform.c) / transform.a).astype(int)
    rws = np.floor((xy[:, 1] - transform.f) / transform.e).astype(int)
    ok = (rws >= 0) & (rws < population.shape[0]) & (cols >= 0) & (cols < population.shape[1])
    popv = np.zeros(len(ids))
    popv[ok] = population[rws[ok], cols[ok]]
    populated = popv >= 2.0
    in_seat = np.hypot(*(xy - place.seat).T) <= 1.2 * place.r_seat * 1.15
    towns = np.array([place.village_xy[k] for k in np.flatnonzero(place.role == "centre")]).reshape(-1, 2)
    in_town = np.zeros(len(ids), dtype=bool)
    if len(towns):
        in_town = cKDTree(towns).query(xy)[0] <= 900.0
    rows: list[dict[str, Any]] = []
    sel = np.flatnonzero(populated)
    spacing = np.where(in_seat[sel], params.seat_candidate_spacing_m, params.rural_candidate_spacing_m)
    for k in sel[_thin(xy[sel], in_seat[sel].astype(np.int64), spacing)]:
        rows.append({"type": "outlet", "village_code": code_near(xy[k]), "x": xy[k, 0], "y": xy[k, 1]})
    sel = np.flatnonzero(populated & (in_seat | in_town))
    lsp = np.full(len(sel), params.locker_candidate_spacing_m)
    for k in sel[_thin(xy[sel], np.zeros(len(sel), dtype=np.int64), lsp)]:
        rows.append({"type": "locker", "village_code": code_near(xy[k]), "x": xy[k, 0], "y": xy[k, 1]})
    return rows


def _station_candidates(
    rng: np.random.Generator, place: Placement, facilities: gpd.GeoDataFrame
) -> list[dict[str, Any]]:
    """Village-station candidates: the centre of every village without a station, plus a few shops."""
    codes = place.villages["village_code"].to_numpy()
    has = set(facilities.loc[facilities["type"] == "village_station", "village_code"])
    rows: list[dict[str, Any]] = []
    for k in np.flatnonzero(place.villages["kind"].to_numpy() == "village"):
        if codes[k] in has:
            continue
        vxy = place.village_xy[k]
        rows.append({"type": "village_station", "village_code": codes[k], "x": vxy[0], "y": vxy[1]})
        nodes = place.roads.village_nodes.get(int(k), [])
        if len(nodes) > 1 and rng.random() < 0.4:
            nxy = place.builder.xy(nodes)
            far = nxy[int(np.argmax(np.hypot(*(nxy - vxy).T)))]
            rows.append(
                {"type": "village_station", "village_code": codes[k], "x": far[0] + 8.0, "y": far[1] + 8.0}
            )
    return rows


def _park_candidates(rng: np.random.Generator, place: Placement, *, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` park candidates on the trunk / primary roads 0.8-5 km beyond the seat, 1.5 km apart."""
    art = np.asarray(place.roads.arterial_out)
    if not len(art) or not n:
        return []
    axy = place.builder.xy(art)
    d = np.hypot(*(axy - place.seat).T) - place.r_seat
    pool = np.flatnonzero((d > 800.0) & (d < 5_000.0))
    chosen: list[int] = []
    for k in pool[rng.permutation(len(pool))]:
        if all(np.hypot(*(axy[k] - axy[c])) > 1_500.0 for c in chosen):
            chosen.append(int(k))
        if len(chosen) == n:
            break
    return [{"type": "park", "village_code": "", "x": axy[k, 0], "y": axy[k, 1]} for k in chosen]
