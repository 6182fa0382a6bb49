"""Existing facilities and candidate sites of the synthetic county (:mod:`planner.synth`).

Facilities carry the deliberate gaps listed in :mod:`planner.synth`; candidates are road nodes in
populated cells thinned to a spacing, village centres of villages without a station (plus a few
shops), and park sites on the trunk and primary roads near the seat. All positions are computed in
the projected CRS (metres) and returned as WGS-84 GeoDataFrames with lon/lat columns.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import Transformer
from scipy.spatial import cKDTree

from planner.synth import names
from planner.synth.roads import DRIVE_HIGHWAYS, RoadBuilder

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


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...], to_wgs: Transformer) -> gpd.GeoDataFrame:
    """Rows with projected ``x``/``y`` to a WGS-84 GeoDataFrame with rounded lon/lat columns."""
    df = pd.DataFrame(rows, columns=[*columns, "x", "y"])
    lon, lat = to_wgs.transform(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float))
    df["lon"] = np.round(lon, 6)
    df["lat"] = np.round(lat, 6)
    df = df.drop(columns=["x", "y"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def make_facilities(
    rng: np.random.Generator,
    *,
    villages: pd.DataFrame,
    role: np.ndarray,
    village_xy: np.ndarray,
    builder: RoadBuilder,
    road_info: dict[str, Any],
    seat: np.ndarray,
    gap_point: np.ndarray,
    gap_radius_m: float,
    no_outlet_township: str,
    to_wgs: Transformer,
    station_share: float,
) -> gpd.GeoDataFrame:
    """Existing facilities with the deliberate gaps (see :mod:`planner.synth`).

    No pickup facility lies within ``gap_radius_m`` of ``gap_point`` (a seat edge), and township
    ``no_outlet_township`` gets no outlet.
    """
    rows: list[dict[str, Any]] = []
    tree = cKDTree(village_xy)
    codes = villages["village_code"].astype(str).tolist()
    vname = villages["village_name"].astype(str).tolist()
    vpop = villages["population"].astype(int).tolist()
    vhh = villages["households"].astype(int).tolist()
    vkind = villages["kind"].astype(str).tolist()
    vtown = villages["township_code"].astype(str).tolist()
    vtname = villages["township_name"].astype(str).tolist()

    def add(
        kind: str, name: str, brands: str, capacity: float, area: float, xy: np.ndarray, code: str
    ) -> None:
        jitter = rng.normal(0.0, 10.0, 2)
        rows.append(
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

    seat_nodes = np.asarray(road_info["seat_nodes"])
    seat_xy = builder.xy(seat_nodes)
    ok_seat = np.hypot(*(seat_xy - gap_point).T) > gap_radius_m + 60.0
    # a small seat may lie wholly inside the deliberate gap: then place facilities anywhere in it
    seat_ok_xy = seat_xy[ok_seat] if ok_seat.any() else seat_xy

    def near_nodes(pt: np.ndarray, radius: float) -> np.ndarray:
        d = np.hypot(*(seat_ok_xy - pt).T)
        close = seat_ok_xy[d <= radius]
        return close if len(close) else seat_ok_xy[[int(np.argmin(d))]]

    # --- county seat: outlets, lockers (far fewer than 1 per 100 households), delivery centres
    seat_idx = np.flatnonzero(role == "seat")
    served = [k for k in seat_idx if np.hypot(*(village_xy[k] - gap_point)) > gap_radius_m + 150.0]
    post = near_nodes(seat, 300.0)
    add(
        "outlet",
        "中国邮政示范县分公司城区营业部",
        "中国邮政",
        3_000.0,
        260.0,
        post[0],
        codes[tree.query(post[0])[1]],
    )
    for k in served:
        name = vname[k]
        pop = vpop[k]
        hh = vhh[k]
        for _ in range(1 + int(pop > 7_000)):
            spots = near_nodes(village_xy[k], 350.0)
            xy = spots[rng.integers(len(spots))]
            brand = names.outlet_brand(rng)
            cap = float(rng.integers(3, 16) * 100)
            area = float(rng.integers(25, 121))
            add("outlet", f"{brand}（{name}店）", names.carriers_subset(rng, k_min=2, k_max=5), cap, area, xy,
                codes[k])  # fmt: skip
        for g in range(max(1, hh // 450)):
            spots = near_nodes(village_xy[k], 450.0)
            xy = spots[rng.integers(len(spots))]
            brand = "丰巢智能柜" if rng.random() < 0.7 else "中邮智递柜"
            add("locker", f"{brand}（{name}{g + 1}号）", names.carriers_subset(rng, k_min=3, k_max=6),
                float(rng.integers(6, 13) * 10), float("nan"), xy, codes[k])  # fmt: skip
    big = sorted(served, key=lambda k: -vpop[k])[:4]
    areas = [18.0, 26.0, 45.0, 60.0]
    for k, area in zip(big, areas, strict=False):
        spots = near_nodes(village_xy[k], 300.0)
        xy = spots[rng.integers(len(spots))]
        add("delivery_centre", f"{vname[k]}公共快递配送中心",
            names.carriers_subset(rng, k_min=3, k_max=6), float(rng.integers(8, 21) * 100), area, xy,
            codes[k])  # fmt: skip

    # --- the only sorting centre: on the trunk outside the seat, two carriers (P-COUNTY fails)
    art = np.asarray(road_info["arterial_out"])
    if len(art):
        axy = builder.xy(art)
        d = np.hypot(*(axy - seat).T)
        k_sc = int(np.argmin(np.abs(d - (d.min() + 1_500.0))))
        add("sorting_centre", "示范县中通韵达分拨中心", "中通;韵达", 60_000.0, 5_200.0, axy[k_sc], "")

    # --- town centres: a post office and a few outlets each, except one township with none
    for k in np.flatnonzero(role == "centre"):
        tcode = vtown[k]
        if tcode == no_outlet_township:
            continue
        t_nodes = builder.xy(road_info["town_of_settlement"][k])
        stem = vtname[k][:-1]
        add(
            "outlet",
            f"{stem}邮政支局",
            "中国邮政",
            800.0,
            120.0,
            t_nodes[rng.integers(len(t_nodes))],
            codes[k],
        )
        is_zhen = vkind[k] == "community"
        for _ in range(int(rng.integers(1, 3)) if is_zhen else 0):
            brand = names.outlet_brand(rng)
            add("outlet", f"{brand}（{stem}店）", names.carriers_subset(rng, k_min=2, k_max=5),
                float(rng.integers(3, 9) * 100), float(rng.integers(30, 91)),
                t_nodes[rng.integers(len(t_nodes))], codes[k])  # fmt: skip
        if is_zhen and vpop[k] > 5_000:
            add("locker", f"丰巢智能柜（{stem}）", names.carriers_subset(rng, k_min=3, k_max=6), 80.0,
                float("nan"), t_nodes[rng.integers(len(t_nodes))], codes[k])  # fmt: skip

    # --- village stations in about station_share of the administrative villages
    adm = np.flatnonzero((villages["kind"].to_numpy() == "village") & (role != "remote"))
    n_adm_all = int((villages["kind"] == "village").sum())
    n_st = min(len(adm), round(station_share * n_adm_all))
    has = np.zeros(len(villages), dtype=bool)
    has[rng.permutation(adm)[:n_st]] = True
    lacking = np.flatnonzero((villages["kind"].to_numpy() == "village") & ~has)
    shared: dict[int, int] = {}
    if len(lacking):
        lack_tree = cKDTree(village_xy[lacking])
        for k in np.flatnonzero(has):
            if len(shared) >= 3:
                break
            d, j = lack_tree.query(village_xy[k])
            partner = int(lacking[j])
            if d < 2_500.0 and partner not in shared.values() and role[partner] != "remote":
                shared[int(k)] = partner
    for k in np.flatnonzero(has):
        name = str(vname[k])
        nodes = road_info["village_nodes"].get(k) or road_info["town_of_settlement"].get(k) or []
        if nodes:
            nxy = builder.xy(nodes)
            xy = nxy[int(np.argmin(np.hypot(*(nxy - village_xy[k]).T)))]
        else:
            xy = village_xy[k]
        if int(k) in shared:
            label = f"{name}、{vname[shared[int(k)]]}共建村级寄递物流综合服务站"
        else:
            label = f"{name}村级寄递物流综合服务站"
        add("village_station", label, names.carriers_subset(rng, k_min=1, k_max=4, with_post=True),
            float(rng.integers(5, 31) * 10), float(rng.integers(15, 61)), xy, codes[k])  # fmt: skip

    gdf = _frame(rows, FACILITY_CSV_COLUMNS, to_wgs)
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
    rng: np.random.Generator,
    *,
    villages: pd.DataFrame,
    role: np.ndarray,
    village_xy: np.ndarray,
    facilities: gpd.GeoDataFrame,
    builder: RoadBuilder,
    road_info: dict[str, Any],
    population: np.ndarray,
    transform: Affine,
    seat: np.ndarray,
    r_seat: float,
    to_wgs: Transformer,
    params: Any,
) -> gpd.GeoDataFrame:
    """Candidate sites: outlets/lockers at thinned populated road nodes, stations, parks."""
    rows: list[dict[str, Any]] = []
    codes = villages["village_code"].to_numpy()
    vtree = cKDTree(village_xy)

    def code_near(xy: np.ndarray) -> str:
        d, k = vtree.query(xy)
        return str(codes[k]) if d <= 1_500.0 else ""

    # --- outlet and locker candidates: drivable road nodes in populated cells
    hw = builder.node_highways()
    ids = np.array(sorted(n for n, h in hw.items() if h & DRIVE_HIGHWAYS), dtype=np.int64)
    xy = builder.xy(ids)
    cols = np.floor((xy[:, 0] - transform.c) / transform.a).astype(int)
    rws = np.floor((xy[:, 1] - transform.f) / transform.e).astype(int)
    ok = (rws >= 0) & (rws < population.shape[0]) & (cols >= 0) & (cols < population.shape[1])
    popv = np.zeros(len(ids))
    popv[ok] = population[rws[ok], cols[ok]]
    populated = popv >= 2.0
    in_seat = np.hypot(*(xy - seat).T) <= 1.2 * r_seat * 1.15
    towns = np.array([village_xy[k] for k in np.flatnonzero(role == "centre")]).reshape(-1, 2)
    in_town = np.zeros(len(ids), dtype=bool)
    if len(towns):
        in_town = cKDTree(towns).query(xy)[0] <= 900.0
    sel = np.flatnonzero(populated)
    spacing = np.where(in_seat[sel], params.seat_candidate_spacing_m, params.rural_candidate_spacing_m)
    for k in sel[_thin(xy[sel], in_seat[sel].astype(np.int64), spacing)]:
        rows.append({"type": "outlet", "village_code": code_near(xy[k]), "x": xy[k, 0], "y": xy[k, 1]})
    sel = np.flatnonzero(populated & (in_seat | in_town))
    lsp = np.full(len(sel), params.locker_candidate_spacing_m)
    for k in sel[_thin(xy[sel], np.zeros(len(sel), dtype=np.int64), lsp)]:
        rows.append({"type": "locker", "village_code": code_near(xy[k]), "x": xy[k, 0], "y": xy[k, 1]})

    # --- village-station candidates: centres of villages without a station, plus a few shops
    has = set(facilities.loc[facilities["type"] == "village_station", "village_code"])
    for k in np.flatnonzero(villages["kind"].to_numpy() == "village"):
        if codes[k] in has:
            continue
        rows.append(
            {
                "type": "village_station",
                "village_code": codes[k],
                "x": village_xy[k, 0],
                "y": village_xy[k, 1],
            }
        )
        nodes = road_info["village_nodes"].get(int(k), [])
        if len(nodes) > 1 and rng.random() < 0.4:
            nxy = builder.xy(nodes)
            far = nxy[int(np.argmax(np.hypot(*(nxy - village_xy[k]).T)))]
            rows.append(
                {"type": "village_station", "village_code": codes[k], "x": far[0] + 8.0, "y": far[1] + 8.0}
            )

    # --- park candidates on the trunk / primary roads 1.5-5 km from the seat
    art = np.asarray(road_info["arterial_out"])
    if len(art) and params.n_park_candidates:
        axy = builder.xy(art)
        d = np.hypot(*(axy - seat).T) - r_seat
        pool = np.flatnonzero((d > 800.0) & (d < 5_000.0))
        chosen: list[int] = []
        for k in pool[rng.permutation(len(pool))]:
            if all(np.hypot(*(axy[k] - axy[c])) > 1_500.0 for c in chosen):
                chosen.append(int(k))
            if len(chosen) == params.n_park_candidates:
                break
        for k in chosen:
            rows.append({"type": "park", "village_code": "", "x": axy[k, 0], "y": axy[k, 1]})

    columns: tuple[str, ...] = CANDIDATE_CSV_COLUMNS
    if params.candidate_cost:
        columns = (*columns, "cost")
        for r in rows:
            factor = 1.3 if np.hypot(r["x"] - seat[0], r["y"] - seat[1]) <= 1.3 * r_seat else 1.0
            r["cost"] = CANDIDATE_COSTS[r["type"]] * factor
    gdf = _frame(rows, ("type", "village_code") + (("cost",) if params.candidate_cost else ()), to_wgs)
    gdf.insert(0, "candidate_id", [f"C{i + 1:05d}" for i in range(len(gdf))])
    return gdf[[*columns, "geometry"]]
