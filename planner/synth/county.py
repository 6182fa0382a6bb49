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

from planner.synth import geom as sgeom
from planner.synth.facilities import Gaps, Placement, make_candidates, make_facilities
from planner.synth.params import SynthParams
from planner.synth.roads import RoadBuilder, RoadInfo, RoadPlan, build_roads
from planner.synth.settlements import (
    Layout,
    Settlements,
    add_remote_hamlets,
    add_seat_communities,
    add_town_centres,
    add_villages,
    assign_codes,
    make_layout,
    rescale_people,
)

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
    lay = make_layout(rng, p, centre=np.array(to_proj.transform(p.centre_lon, p.centre_lat)))
    st = Settlements()
    add_seat_communities(rng, st, p, lay)
    add_town_centres(rng, st, p, lay)
    angle, zones = add_villages(rng, st, p, lay)
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
    add_remote_hamlets(rng, st, lay, builder=builder, zones=zones)
    assign_codes(rng, st, p, lay)
    if p.total_population is not None:
        rescale_people(st, p.total_population)
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


def _gaps(rng: np.random.Generator, p: SynthParams, lay: Layout) -> Gaps:
    """The deliberate gaps: a seat edge without pickup points, the farthest township without outlets."""
    gap_dir = rng.uniform(0.0, 2 * np.pi)
    return Gaps(
        point=lay.seat + 0.85 * lay.r_seat * np.array([np.cos(gap_dir), np.sin(gap_dir)]),
        radius_m=round(max(1_250.0, 0.75 * lay.r_seat), 1),
        no_outlet_township=lay.units[lay.n_sub + p.n_townships - 1].township_code,
    )


def _register(
    st: Settlements,
    lay: Layout,
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


def _boundary_frame(lay: Layout, p: SynthParams, to_wgs: Transformer) -> gpd.GeoDataFrame:
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


def _townships_frame(lay: Layout, p: SynthParams, to_wgs: Transformer) -> gpd.GeoDataFrame:
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
            "provenance": {
                name: {"kind": "synthetic", "source": f"planner synth, seed {params.seed}"}
                for name in (
                    "boundary",
                    "townships",
                    "population",
                    "roads",
                    "villages",
                    "facilities",
                    "candidates",
                )
            },
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
