"""The interactive map (``map.html``): folium + Leaflet, self-contained and readable offline.

Offline first: Leaflet's JS and CSS (vendored in ``templates/``, BSD-2, images inlined) are written
into the page, folium's CDN links (jQuery, Bootstrap, Font Awesome) are dropped, and symbols are
drawn with circle markers and text ``DivIcon``\\ s, so the map needs no network. An OpenStreetMap
layer is offered in the layer control, switched off by default (it needs a connection).

The data travels as compact arrays (coordinates rounded to 5 decimals ≈ 1 m, polygons simplified)
and one small script builds the Leaflet layers and popups in the browser, so thousands of demand
points stay a few hundred kilobytes. Popup values are formatted in Python (Chinese or English) and
escaped in the browser before they are shown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from pyproj import CRS

from planner.outputs import files, i18n, palette
from planner.outputs.i18n import Lang
from planner.outputs.mapassets import DataLayer, MetricScale, OfflineAssets, Panes, SharedData
from planner.types import PICKUP_TYPES, RunResult

WGS84: Final = CRS.from_epsg(4326)
DECIMALS: Final = 5
#: Default straight-line service radii (m) when the RunResult carries no service areas (R-URBAN, R-TOWN).
DEFAULT_RADIUS_M: Final[dict[str, float]] = {"urban": 1000.0, "township": 3000.0}

_T: Final[dict[str, tuple[str, str]]] = {
    "population": ("人口分布（分级）", "Population (graded)"),
    "area": ("地区类型", "Area classes"),
    "coverage": ("需求点覆盖情况（全部）", "Demand coverage (all points)"),
    "uncovered_layer": ("规划后仍未覆盖的需求点", "Demand still uncovered after the plan"),
    "existing_stations": ("现有村级站点", "Existing village stations"),
    "gaps": ("未覆盖区域（规划前）", "Uncovered areas (before plan)"),
    "service_network": ("设施服务区", "Facility service areas"),
    "service_buffer": (
        "服务半径（直线 {u} 公里 / {t} 公里，示意）",
        "Service radius (straight line {u} km / {t} km, indicative)",
    ),
    "existing": ("现有设施", "Existing facilities"),
    "proposed": ("规划新增设施", "Proposed facilities"),
    "villages": ("行政村站点状态", "Village station status"),
    "townships": ("乡镇界", "Township boundaries"),
    "boundary": ("县界", "County boundary"),
    "roads": ("道路（按等级）", "Roads (by class)"),
    "road_major": ("主要道路", "Major roads"),
    "road_secondary": ("次要道路", "Secondary roads"),
    "road_minor": ("其他道路", "Minor roads"),
    "count": ("数量", "Count"),
    "osm": ("在线底图 OpenStreetMap（需联网）", "Online base map OpenStreetMap (needs internet)"),
    "covered": ("规划前已覆盖", "Covered before plan"),
    "gained": ("规划新增覆盖", "Covered by the plan"),
    "uncovered": ("规划后仍未覆盖", "Still uncovered"),
    "station": ("已有村级站点", "Has a station"),
    "station_gained": ("规划新建站点", "Station added by plan"),
    "station_none": ("仍无站点", "Still without station"),
    "station_shared": ("由邻村站点共享服务（本村无站）", "Served by a neighbour's shared station"),
    "own": ("本村有站", "own station"),
    "shared_word": ("共享邻村站点", "shared station"),
    "no_station": ("无站点", "none"),
    "legend": ("图例", "Legend"),
    "facilities": ("设施（实心＝现有，白底＝规划新增）", "Facilities (solid = existing, white = proposed)"),
    "demand": ("需求点", "Demand points"),
    "people_per_point": ("人口（人/点）", "People per point"),
    "service": ("服务范围", "Service areas"),
    "svc_existing": ("现有设施服务范围", "Existing facilities"),
    "svc_proposed": ("规划设施新增服务范围", "Proposed facilities"),
    "gap": ("未覆盖人口区域", "Uncovered population"),
    "name": ("名称", "Name"),
    "status": ("状态", "Status"),
    "brands": ("入驻品牌", "Carriers"),
    "fixes": ("对应标准", "Standard it serves"),
    "nearest_km": ("最近设施距离", "Nearest facility"),
    "nearest_min": ("最近设施时间", "Nearest facility time"),
    "kind": ("类别", "Kind"),
    "station_before": ("规划前村级站点", "Station before plan"),
    "station_after": ("规划后村级站点", "Station after plan"),
    "gap_reason": ("缺口原因", "Gap"),
    "county": ("县（市、区）", "County"),
    "radius_note": (
        "服务半径为直线缓冲区示意；覆盖判定以路网计算为准。",
        "Radii are straight-line buffers for orientation; coverage uses the road network.",
    ),
}


def _t(key: str, lang: Lang) -> str:
    return i18n.pick(_T[key], lang)


# ---------------------------------------------------------------------------------------------
# Frames to compact features
# ---------------------------------------------------------------------------------------------


def _r(v: float) -> float:
    return round(float(v), DECIMALS)


def _wgs(frame: gpd.GeoDataFrame, crs: CRS, *, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    gdf = frame if frame.crs is not None else frame.set_crs(crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if simplify_m > 0:
        gdf = gdf.set_geometry(gdf.geometry.simplify(simplify_m, preserve_topology=True))
    return gdf.to_crs(WGS84)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def point_features(
    gdf: gpd.GeoDataFrame, keys: Sequence[str], titles: Sequence[str], values: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """Compact point features: rounded lon/lat, style key, title and popup values."""
    xs, ys = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    return [
        {"x": _r(x), "y": _r(y), "k": k, "t": t, "v": list(v)}
        for x, y, k, t, v in zip(xs, ys, keys, titles, values, strict=True)
    ]


def polygon_features(
    gdf: gpd.GeoDataFrame, keys: Sequence[str], titles: Sequence[str], values: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """Compact polygon (or line) features: GeoJSON geometry with rounded coordinates."""
    # rounded in one vectorised pass (a prefecture's service areas hold millions of vertices)
    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda c: np.round(c, DECIMALS))
    out = []
    for geom, k, t, v in zip(geoms, keys, titles, values, strict=True):
        gj = geom.__geo_interface__
        out.append(
            {"g": {"type": gj["type"], "coordinates": gj["coordinates"]}, "k": k, "t": t, "v": list(v)}
        )
    return out


def _population_breaks(pop: np.ndarray) -> list[float]:
    """Four upper limits giving five graded classes.

    Quantiles 40/70/90/97 % of the populated points, rounded to 2 significant digits: a county's
    people sit in few dense cells, so the upper classes pick out the towns.
    """
    pop = pop[pop > 0]
    if pop.size == 0:
        return [1.0, 2.0, 3.0, 4.0]
    qs = np.quantile(pop, [0.4, 0.7, 0.9, 0.97])
    breaks: list[float] = []
    for q in qs:
        if q <= 0:
            val = 0.0
        else:
            mag = 10 ** (math.floor(math.log10(q)) - 1)
            val = round(q / mag) * mag
        if not breaks or val > breaks[-1]:
            breaks.append(float(val))
    return breaks


def _pop_class(value: float, breaks: Sequence[float]) -> int:
    for i, b in enumerate(breaks):
        if value <= b:
            return i
    return len(breaks)


def _township_names(result: RunResult) -> dict[str, str]:
    t = result.townships
    if {"township_code", "township_name"} <= set(t.columns):
        return dict(zip(t["township_code"].astype(str), t["township_name"].astype(str), strict=True))
    return {}


def _radii(result: RunResult) -> dict[str, float]:
    radii = dict(DEFAULT_RADIUS_M)
    given = result.summary.get("radius_m")
    if isinstance(given, dict):
        radii.update({str(k): float(v) for k, v in given.items() if v is not None})
    return radii


# ---------------------------------------------------------------------------------------------
# The layers
# ---------------------------------------------------------------------------------------------


DEMAND_VAR: Final = "planner_demand"


def _demand_layers(
    result: RunResult, lang: Lang, names: dict[str, str]
) -> tuple[SharedData | None, list[DataLayer]]:
    demand = _wgs(result.demand, result.crs)
    demand = demand[demand["population"].astype(float) > 0]  # cells without people show nothing
    if demand.empty:
        return None, []
    pop = demand["population"].astype(float).to_numpy()
    area = _col(demand, "area_class").astype(str)
    before = _col(demand, "covered_before").fillna(False).astype(bool).to_numpy()
    after = _col(demand, "covered_after").fillna(False).astype(bool).to_numpy()
    fields = [
        i18n.column_label("population", lang),
        i18n.column_label("households", lang),
        i18n.column_label("area_class", lang),
        i18n.column_label("township_name", lang),
        i18n.word("before", lang),
        i18n.word("after", lang),
        _t("nearest_km", lang),
        _t("nearest_min", lang),
    ]
    cov_word = {
        True: "已覆盖" if lang == "zh" else "covered",
        False: "未覆盖" if lang == "zh" else "uncovered",
    }
    values = [
        [
            i18n.fmt_count(p, lang),
            i18n.fmt_count(h, lang, "households"),
            i18n.area_label(a, lang),
            names.get(str(tc), str(tc or "")),
            cov_word[bool(b)],
            cov_word[bool(af)],
            i18n.fmt_km(km, lang),
            i18n.fmt_min(mi, lang),
        ]
        for p, h, a, tc, b, af, km, mi in zip(
            pop,
            _col(demand, "households"),
            area,
            _col(demand, "township_code"),
            before,
            after,
            _col(demand, "nearest_km"),
            _col(demand, "nearest_min"),
            strict=True,
        )
    ]
    titles = [
        f"{i18n.area_label(a, lang)} · {i18n.fmt_count(p, lang)}" for a, p in zip(area, pop, strict=True)
    ]

    breaks = _population_breaks(pop)
    pop_keys = [str(_pop_class(p, breaks)) for p in pop]
    pop_styles = {
        str(i): {
            "radius": 3 + 1.2 * i,
            "color": "#7f4f24",
            "weight": 0.5,
            "fillColor": c,
            "fillOpacity": 0.85,
        }
        for i, c in enumerate(palette.POPULATION_RAMP)
    }
    cover_keys = [
        "covered" if b else ("gained" if a else "uncovered") for b, a in zip(before, after, strict=True)
    ]
    cover_styles = {
        k: {"radius": 5, "color": "#ffffff", "weight": 0.6, "fillColor": c, "fillOpacity": 0.9}
        for k, c in palette.COVER_COLOURS.items()
    }
    area_styles = {
        k: {"radius": 4, "color": "#ffffff", "weight": 0.5, "fillColor": c, "fillOpacity": 0.85}
        for k, c in palette.AREA_COLOURS.items()
    }
    features = point_features(demand, [""] * len(demand), titles, values)
    for f in features:
        del f["k"]  # each layer gives its own style keys
    shared = SharedData(DEMAND_VAR, features)

    def circles(styles: Any, keys: list[Any], name: str, show: bool, **extra: Any) -> DataLayer:
        """A layer drawing the shared demand points as circles, styled by ``keys``."""
        spec = {"kind": "circle", "styles": styles, "fields": fields, "ref": DEMAND_VAR, "keys": keys}
        return DataLayer({**spec, **extra}, name=_t(name, lang), show=show)

    return shared, [
        circles(pop_styles, pop_keys, "population", False, breaks=breaks),
        circles(area_styles, list(area), "area", False),
        circles(cover_styles, cover_keys, "coverage", False),
        circles(cover_styles, [k if k == "uncovered" else None for k in cover_keys], "uncovered_layer", True),
    ]


def _road_layer(result: RunResult, lang: Lang) -> DataLayer | None:
    """Roads by class (``extra_tables["roads"]``: lines with ``road_class`` major/secondary/minor)."""
    roads = result.extra_tables.get("roads")
    if not isinstance(roads, gpd.GeoDataFrame) or roads.empty or "road_class" not in roads.columns:
        return None
    g = _wgs(roads, result.crs, simplify_m=15.0)
    keys = [str(k) for k in g["road_class"]]
    styles = {
        k: {"color": palette.ROAD_COLOURS[k], "weight": palette.ROAD_WIDTHS[k], "opacity": 0.9}
        for k in palette.ROAD_COLOURS
    }
    return DataLayer(
        {
            "kind": "line",
            "styles": styles,
            "fields": [],
            "features": polygon_features(g, keys, [""] * len(g), [[] for _ in keys]),
        },
        name=_t("roads", lang),
        show=True,
    )


def _gap_layer(result: RunResult, lang: Lang, names: dict[str, str]) -> DataLayer | None:
    gaps = result.audit.uncovered
    if gaps is None or gaps.empty:
        return None
    g = _wgs(gaps, result.crs, simplify_m=10.0)
    fields = [
        i18n.column_label("area_class", lang),
        i18n.column_label("township_name", lang),
        i18n.column_label("uncovered_population", lang),
    ]
    area = _col(g, "area_class").astype(str)
    tcode = _col(g, "township_code")
    pop = _col(g, "population")
    values = [
        [i18n.area_label(a, lang), names.get(str(t), str(t or "")), i18n.fmt_count(p, lang)]
        for a, t, p in zip(area, tcode, pop, strict=True)
    ]
    titles = [_t("gap", lang)] * len(g)
    style = {
        "gap": {
            "color": palette.GAP_COLOUR,
            "weight": 1,
            "fillColor": palette.GAP_COLOUR,
            "fillOpacity": 0.25,
            "dashArray": "3 3",
        }
    }
    return DataLayer(
        {
            "kind": "polygon",
            "styles": style,
            "fields": fields,
            "features": polygon_features(g, ["gap"] * len(g), titles, values),
        },
        name=_t("gaps", lang),
        show=True,
    )


def _service_layer(result: RunResult, lang: Lang) -> DataLayer | None:
    areas = result.extra_tables.get("service_areas")
    if isinstance(areas, gpd.GeoDataFrame) and not areas.empty:
        src = areas if areas.crs is not None else areas.set_crs(result.crs)
        src = src.to_crs(result.crs)
        if "status" not in src.columns:
            src = src.assign(status="existing")
        name = _t("service_network", lang)
    else:
        fac = result.facilities
        fac = fac[fac["type"].isin(PICKUP_TYPES) & fac.geometry.notna()]
        demand = result.demand
        if fac.empty or demand.empty or "area_class" not in demand.columns:
            return None
        radii = _radii(result)
        near = gpd.sjoin_nearest(fac[["status", "geometry"]], demand[["area_class", "geometry"]], how="left")
        near = near[~near.index.duplicated(keep="first")]
        radius = near["area_class"].map(radii)
        keep = radius.notna()
        src = gpd.GeoDataFrame(
            {"status": near.loc[keep, "status"]},
            geometry=near.loc[keep].geometry.buffer(radius[keep].to_numpy(), quad_segs=16),
            crs=result.crs,
        )
        name = _t("service_buffer", lang).format(
            u=f"{radii['urban'] / 1000:g}", t=f"{radii['township'] / 1000:g}"
        )
    if src.empty:
        return None
    # each area simplified before the union: simplifying the union of a prefecture's thousands of
    # traced areas (one polygon with tens of thousands of rings) took eight minutes
    src = src.set_geometry(src.geometry.simplify(15.0, preserve_topology=True))
    dissolved = src[["status", "geometry"]].dissolve(by="status").reset_index()
    if {"existing", "proposed"} <= set(dissolved["status"]):  # show only the plan's new reach in orange
        old = dissolved.loc[dissolved["status"] == "existing"].geometry.iloc[0]
        mask = dissolved["status"] == "proposed"
        dissolved.loc[mask, "geometry"] = dissolved.loc[mask].geometry.difference(old)
    dissolved = dissolved[~dissolved.geometry.is_empty]
    g = _wgs(dissolved, result.crs)
    keys = [str(s) for s in g["status"]]
    titles = [_t("svc_proposed" if k == "proposed" else "svc_existing", lang) for k in keys]
    styles = {
        k: {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.12}
        for k, c in palette.BUFFER_COLOURS.items()
    }
    return DataLayer(
        {
            "kind": "polygon",
            "styles": styles,
            "fields": [],
            "features": polygon_features(g, keys, titles, [[] for _ in keys]),
        },
        name=name,
        show=False,
    )


def _plan_standards(result: RunResult) -> dict[str, set[str]]:
    """Proposed facility id -> the standards the plan placed it for (``proposals["standards"]``)."""
    plan = result.proposals
    if "standards" not in plan.columns or "id" not in plan.columns:
        return {}
    return {
        str(i): {p for p in str(s).split(";") if p}
        for i, s in zip(plan["id"], plan["standards"].fillna(""), strict=True)
    }


def _fixes(ftype: str) -> str:
    """The standards a facility of this type counts towards (an existing one, or a run without
    the plan's own reasons)."""
    if ftype == "village_station":
        return "V-ALL / V-STATION"
    if ftype in ("park", "sorting_centre"):
        return "P-COUNTY"
    return "R-URBAN / R-TOWN / D-OUTLET" if ftype == "outlet" else "R-URBAN / R-TOWN"


def _facility_layers(result: RunResult, lang: Lang, names: dict[str, str]) -> list[DataLayer]:
    fac = _wgs(result.facilities, result.crs)
    layers = []
    fields = [
        i18n.column_label("type", lang),
        _t("status", lang),
        _t("name", lang),
        _t("brands", lang),
        i18n.column_label("township_name", lang),
        i18n.column_label("cost", lang),
        i18n.column_label("population_gained", lang),
        _t("fixes", lang),
        _t("count", lang),
    ]
    status_col = _col(fac, "status").astype(str)
    is_station = fac["type"].astype(str) == "village_station"
    plan_for = _plan_standards(result)
    groups = (  # existing village stations get their own layer (many, and the village layer shows them)
        ("existing", "existing", (status_col == "existing") & ~is_station, True),
        ("existing", "existing_stations", (status_col == "existing") & is_station, False),
        ("proposed", "proposed", status_col == "proposed", True),
    )
    for status, layer_key, mask, show in groups:
        sub = fac[mask]
        if sub.empty:
            continue
        types = sub["type"].astype(str).tolist()
        styles = {
            t: {
                "color": palette.facility_colour(t),
                "sym": i18n.facility_symbol(t, lang),
                "proposed": status == "proposed",
            }
            for t in set(types)
        }
        values = []
        titles = []
        places = (
            sub.geometry.x.round(5).astype(str)
            + ","
            + sub.geometry.y.round(5).astype(str)
            + ","
            + sub["type"].astype(str)
        )
        counts = places.map(places.value_counts())
        reasons: dict[str, set[str]] = {}
        for place, fid in zip(places, _col(sub, "facility_id").astype(str), strict=True):
            reasons.setdefault(place, set()).update(plan_for.get(fid, set()))
        first = ~places.duplicated()
        sub, types, counts = sub[first], [t for t, k in zip(types, first, strict=True) if k], counts[first]
        for (_, row), t in zip(sub.iterrows(), types, strict=True):
            name = row.get("name")
            name = "" if i18n.is_missing(name) else str(name)
            fid = str(row.get("facility_id", ""))
            titles.append(f"{i18n.facility_label(t, lang)} {name or fid}".strip())
            brands = row.get("brands")
            brands = (
                "" if i18n.is_missing(brands) else str(brands).replace(";", "、" if lang == "zh" else ", ")
            )
            proposed = status == "proposed"
            values.append(
                [
                    i18n.facility_label(t, lang),
                    i18n.word(status, lang),
                    name or fid,
                    brands,
                    names.get(str(row.get("township_code", "")), ""),
                    i18n.fmt_yuan(row.get("cost"), lang) if proposed else "",
                    i18n.fmt_count(row.get("population_gained"), lang) if proposed else "",
                    i18n.standards_text(";".join(sorted(reasons[places[row.name]])), lang)
                    if proposed and reasons.get(places[row.name])
                    else _fixes(t),
                    str(int(counts[row.name])) if int(counts[row.name]) > 1 else "",
                ]
            )
        layers.append(
            DataLayer(
                {
                    "kind": "icon",
                    "styles": styles,
                    "fields": fields,
                    "features": [
                        {**f, "n": int(n)}
                        for f, n in zip(point_features(sub, types, titles, values), counts, strict=True)
                    ],
                },
                name=_t(layer_key, lang),
                show=show,
            )
        )
    return layers


def village_states(
    result: RunResult, vil: pd.DataFrame, lang: Lang
) -> tuple[list[str], list[str], list[str]]:
    """Each village's map key and its station before and after the plan, in words.

    Keys: ``station`` (a station of its own before the plan), ``gained`` (the plan builds one in
    it), ``shared`` (served by a neighbour's station within the sharing reach, none of its own) and
    ``none``. Without an ``own_station`` column every served village counts as having a station.
    """
    served_b = _col(vil, "has_station_before").fillna(False).astype(bool).to_numpy()
    served_a = _col(vil, "has_station_after").fillna(False).astype(bool).to_numpy()
    if "own_station" in vil.columns:
        own_b = vil["own_station"].fillna(False).astype(bool).to_numpy()
        fac = result.facilities
        built = set()
        if {"status", "type", "village_code"} <= set(fac.columns):
            new = fac[(fac["status"] == "proposed") & (fac["type"] == "village_station")]
            built = set(new["village_code"].astype(str))
        own_a = own_b | vil["village_code"].astype(str).isin(built).to_numpy()
    else:
        own_b, own_a = served_b, served_a
    words = {k: _t(k, lang) for k in ("own", "shared_word", "no_station")}

    def word(own: Any, served: Any) -> str:
        return words["own"] if own else words["shared_word"] if served else words["no_station"]

    keys = [
        "station" if ob else "gained" if oa else "shared" if sa else "none"
        for ob, oa, sa in zip(own_b, own_a, served_a, strict=True)
    ]
    before = [word(o, s) for o, s in zip(own_b, served_b, strict=True)]
    after = [word(o, s) for o, s in zip(own_a, served_a, strict=True)]
    return keys, before, after


def _village_layer(result: RunResult, lang: Lang) -> DataLayer | None:
    vil = _wgs(result.villages, result.crs)
    if vil.empty:
        return None
    keys, before_words, after_words = village_states(result, vil, lang)
    reasons: dict[str, str] = {}
    vg = files.village_gaps_frame(result, lang=lang)  # the reason worded from its cause
    if len(vg):
        reasons = dict(zip(vg["village_code"].astype(str), vg["reason"].astype(str), strict=True))
    fields = [
        i18n.column_label("village_code", lang),
        i18n.column_label("township_name", lang),
        _t("kind", lang),
        i18n.column_label("population", lang),
        i18n.column_label("households", lang),
        _t("station_before", lang),
        _t("station_after", lang),
        i18n.column_label("nearest_station_km", lang),
        i18n.column_label("nearest_station_min", lang),
        _t("gap_reason", lang),
    ]
    kind_word = {"village": i18n.word("village_kind", lang), "community": i18n.word("community_kind", lang)}
    values = []
    for (_, row), b, a in zip(vil.iterrows(), before_words, after_words, strict=True):
        values.append(
            [
                str(row.get("village_code", "")),
                str(row.get("township_name", "") or ""),
                kind_word.get(str(row.get("kind", "")), str(row.get("kind", "") or "")),
                i18n.fmt_count(row.get("population"), lang),
                i18n.fmt_count(row.get("households"), lang, "households"),
                b,
                a,
                i18n.fmt_km(row.get("nearest_station_km"), lang),
                i18n.fmt_min(row.get("nearest_station_min"), lang),
                reasons.get(str(row.get("village_code", "")), ""),
            ]
        )
    titles = [str(n) for n in _col(vil, "village_name").fillna("")]
    teal = palette.VILLAGE_COLOURS["station"]
    styles = {  # a station: teal dot; added by the plan: teal ring; none: white dot
        "station": {"radius": 5.5, "color": "#222222", "weight": 1.2, "fillColor": teal, "fillOpacity": 0.95},
        "gained": {"radius": 5.5, "color": teal, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.95},
        "shared": {
            "radius": 5.5,
            "color": "#222222",
            "weight": 1.2,
            "fillColor": palette.VILLAGE_COLOURS["shared"],
            "fillOpacity": 0.95,
        },
        "none": {
            "radius": 5.5,
            "color": palette.VILLAGE_NONE_EDGE,
            "weight": 1.2,
            "fillColor": palette.VILLAGE_COLOURS["none"],
            "fillOpacity": 0.95,
        },
    }
    return DataLayer(
        {
            "kind": "circle",
            "styles": styles,
            "fields": fields,
            "features": point_features(vil, keys, titles, values),
        },
        name=_t("villages", lang),
        show=True,
    )


def _township_layer(result: RunResult, lang: Lang) -> DataLayer | None:
    town = _wgs(result.townships, result.crs, simplify_m=20.0)
    if town.empty:
        return None
    table = result.township_table
    extra_cols: list[str] = []
    lookup: dict[str, pd.Series] = {}
    if "township_code" in table.columns:
        extra_cols = [c for c in table.columns if c not in ("township_code", "township_name", "geometry")]
        lookup = {str(r["township_code"]): r for _, r in table.iterrows()}
    fields = [i18n.column_label("township_code", lang)] + [i18n.column_label(c, lang) for c in extra_cols]
    values = []
    for code in _col(town, "township_code").astype(str):
        row = lookup.get(code)
        vals = [code] + [
            i18n.fmt_column_value(c, row[c], lang) if row is not None else "" for c in extra_cols
        ]
        values.append(vals)
    titles = [str(n) for n in _col(town, "township_name").fillna("")]
    style = {
        "t": {
            "color": palette.TOWNSHIP_COLOUR,
            "weight": 1.5,
            "dashArray": "6 4",
            "fill": True,
            "fillOpacity": 0.0,
        }
    }
    pts = town.geometry.representative_point()
    labels = [[_r(p.x), _r(p.y), t] for p, t in zip(pts, titles, strict=True)]
    return DataLayer(
        {
            "kind": "polygon",
            "styles": style,
            "fields": fields,
            "labels": labels,
            "features": polygon_features(town, ["t"] * len(town), titles, values),
        },
        name=_t("townships", lang),
        show=True,
    )


def _boundary_layer(result: RunResult, lang: Lang) -> DataLayer | None:
    b = _wgs(result.boundary, result.crs, simplify_m=20.0)
    if b.empty:
        return None
    titles = [str(n) for n in _col(b, "county_name").fillna("")]
    fields = [i18n.column_label("unit_code", lang), i18n.column_label("population", lang)]
    pop = result.summary.get("population_total")
    values = [[str(c), i18n.fmt_count(pop, lang)] for c in _col(b, "county_code").fillna("")]
    style = {"b": {"color": palette.BOUNDARY_COLOUR, "weight": 3, "fill": False}}
    return DataLayer(
        {
            "kind": "polygon",
            "styles": style,
            "fields": fields,
            "features": polygon_features(b, ["b"] * len(b), titles, values),
        },
        name=_t("boundary", lang),
        show=True,
    )


# ---------------------------------------------------------------------------------------------
# Legend, title and the map
# ---------------------------------------------------------------------------------------------


def legend_html(result: RunResult, lang: Lang, breaks: Sequence[float] | None) -> str:
    """The legend box (a plain ``<div id="planner-legend">``)."""
    e = html.escape
    rows: list[str] = [
        f"<h4>{e(_t('legend', lang))}</h4>",
        f"<div class='sec'>{e(_t('facilities', lang))}</div>",
    ]
    types = [t for t in i18n.FACILITY_LABELS if t in set(result.facilities["type"].astype(str))]
    for t in types:
        c = palette.facility_colour(t)
        sym = e(i18n.facility_symbol(t, lang))
        rows.append(
            f"<div class='row'><span class='pl-fac' style='background:{c};border-color:{c}'>{sym}</span>"
            f"<span class='pl-fac pl-fac-new' style='color:{c};border-color:{c}'>{sym}</span>"
            f"{e(i18n.facility_label(t, lang))}</div>"
        )
    rows.append(f"<div class='sec'>{e(_t('coverage', lang))}</div>")
    for key in ("covered", "gained", "uncovered"):
        rows.append(
            f"<div class='row'><span class='dot' style='background:{palette.COVER_COLOURS[key]}'></span>"
            f"{e(_t(key, lang))}</div>"
        )
    rows.append(f"<div class='sec'>{e(_t('villages', lang))}</div>")
    teal = palette.VILLAGE_COLOURS["station"]
    for style, label in (
        (f"background:{teal};border:1.5px solid #222", "station"),
        (f"background:#fff;border:3px solid {teal}", "station_gained"),
        (f"background:{palette.VILLAGE_COLOURS['shared']};border:1.5px solid #222", "station_shared"),
        (f"background:#fff;border:1.5px solid {palette.VILLAGE_NONE_EDGE}", "station_none"),
    ):
        rows.append(f"<div class='row'><span class='dot' style='{style}'></span>{e(_t(label, lang))}</div>")
    if isinstance(result.extra_tables.get("roads"), gpd.GeoDataFrame):
        rows.append(f"<div class='sec'>{e(_t('roads', lang))}</div>")
        for key in ("major", "secondary", "minor"):
            rows.append(
                f"<div class='row'><span class='sq' style='height:0;border-top:"
                f"{palette.ROAD_WIDTHS[key]:g}px solid {palette.ROAD_COLOURS[key]}'></span>"
                f"{e(_t('road_' + key, lang))}</div>"
            )
    rows.append(f"<div class='sec'>{e(_t('service', lang))}</div>")
    for key, label in (("existing", "svc_existing"), ("proposed", "svc_proposed")):
        c = palette.BUFFER_COLOURS[key]
        rows.append(
            f"<div class='row'><span class='sq' style='background:{c}33;border:1px solid {c}'></span>"
            f"{e(_t(label, lang))}</div>"
        )
    rows.append(
        f"<div class='row'><span class='sq' style='background:{palette.GAP_COLOUR}40;"
        f"border:1px dashed {palette.GAP_COLOUR}'></span>{e(_t('gaps', lang))}</div>"
    )
    if breaks:
        rows.append(f"<div class='sec'>{e(_t('people_per_point', lang))}</div>")
        lows = [0.0, *breaks]
        for i, colour in enumerate(palette.POPULATION_RAMP[: len(breaks) + 1]):
            label = (
                f"≤ {i18n.fmt_number(breaks[i], lang)}"
                if i < len(breaks)
                else f"> {i18n.fmt_number(lows[i], lang)}"
            )
            rows.append(
                f"<div class='row'><span class='dot' style='background:{colour}'></span>{e(label)}</div>"
            )
    rows.append(
        "<div class='row'><span class='sq' style='height:0;"
        f"border-top:3px solid {palette.BOUNDARY_COLOUR}'></span>"
        f"{e(_t('boundary', lang))}</div>"
    )
    rows.append(
        f"<div class='row'><span class='sq' style='height:0;border-top:2px dashed {palette.TOWNSHIP_COLOUR}'>"
        f"</span>{e(_t('townships', lang))}</div>"
    )
    return "<div id='planner-legend' class='planner-legend'>" + "".join(rows) + "</div>"


def title_html(result: RunResult, lang: Lang) -> str:
    """The title box at the top of the map."""
    e = html.escape
    sub = (
        f"{'方案' if lang == 'zh' else 'Scenario'}：{result.scenario_name} · "
        f"planner {result.planner_version} · {result.scenario_hash[:8]}"
    )
    if lang == "en":
        sub = sub.replace("：", ": ")
    title = i18n.run_title(result.title, result.summary, lang)
    return f"<div id='planner-title'><div class='t'>{e(title)}</div><div class='s'>{e(sub)}</div></div>"


def build_map(result: RunResult, *, lang: Lang) -> folium.Map:
    """Build the folium map of a run (no network needed to render it).

    Parameters
    ----------
    result
        The run; frames in its work CRS are converted to WGS-84 here.
    lang
        Language of the labels and popups.

    Returns
    -------
    folium.Map
        The map; ``map.get_root().render()`` gives the self-contained HTML.
    """
    bounds = _wgs(result.boundary, result.crs).total_bounds
    if not np.all(np.isfinite(bounds)):
        bounds = _wgs(result.demand, result.crs).total_bounds
    m = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        tiles=None,
        zoom_start=11,
        prefer_canvas=True,
        zoom_snap=0.25,
        control_scale=False,
    )
    m.default_js = []  # no CDN links: Leaflet comes inline from OfflineAssets
    m.default_css = []
    m.add_child(OfflineAssets(), name="planner_assets")
    m.add_child(Panes(), name="planner_panes")
    folium.TileLayer("OpenStreetMap", name=_t("osm", lang), overlay=True, show=False, control=True).add_to(m)

    names = _township_names(result)
    shared, demand_layers = _demand_layers(result, lang, names)
    if shared is not None:
        shared.add_to(m)
    layers: list[DataLayer | None] = [
        _road_layer(result, lang),
        *demand_layers,
        _gap_layer(result, lang, names),
        _service_layer(result, lang),
        _township_layer(result, lang),
        _boundary_layer(result, lang),
        _village_layer(result, lang),
        *_facility_layers(result, lang, names),
    ]
    for layer in layers:
        if layer is not None:
            layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    MetricScale().add_to(m)
    breaks = demand_layers[0].spec.get("breaks") if demand_layers else None
    root = cast(Figure, m.get_root())
    root.html.add_child(Element(legend_html(result, lang, breaks)), name="planner_legend")
    root.html.add_child(Element(title_html(result, lang)), name="planner_title")
    root.header.add_child(
        Element(f"<title>{html.escape(i18n.run_title(result.title, result.summary, lang))}</title>"),
        name="planner_page_title",
    )
    # keep the county clear of the title (top), legend (left) and layer control (right)
    m.fit_bounds(
        [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
        padding_top_left=(250, 75),
        padding_bottom_right=(360, 30),
    )
    return m


def write_map(result: RunResult, path: Path, *, lang: Lang) -> Path:
    """Render the map of a run to ``path`` (UTF-8 HTML, no external scripts or styles)."""
    text = build_map(result, lang=lang).get_root().render()
    if lang == "zh":
        text = text.replace("<html>", '<html lang="zh-CN">', 1)
    else:
        text = text.replace("<html>", '<html lang="en">', 1)
    path.write_text(text, encoding="utf-8")
    return path
