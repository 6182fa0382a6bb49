"""``planner fetch``: download the public data of a study area and write a ready scenario.

For a boundary file or a Chinese admin name (resolved offline through cnmaps), :func:`fetch_area`
downloads the OSM road graph and the postal/courier/locker/place POIs through osmnx (Overpass API)
and the WorldPop population raster of a country and year, cropped to the area; caches every download
under a hash of its query; and writes into the output folder::

    boundaries/county.geojson      the study area (WGS-84)
    roads/roads.graphml            OSM roads, network_type "all" (walk, tricycle and car modes)
    population/worldpop_<iso3>_<year>.tif
    facilities/existing.csv        post offices and courier shops → outlet, parcel lockers → locker
    facilities/candidates.csv      candidate sites by simple rules (:mod:`planner.fetch.candidates`)
    villages/osm_places.csv        OSM place nodes (raw)
    villages/villages.csv          a village register made from them (placeholder NBS-form codes)
    osm/pois.csv                   every POI fetched, with its OSM tag and id
    fetch.json                     provenance: sources, URLs, licences, counts, cache use
    scenario.yaml                  relative paths, national-default standards, the demo's cost table

so that ``planner run OUT/scenario.yaml`` works at once. OSM and WorldPop are WGS-84: nothing here
is GCJ-02 (cnmaps boundaries are converted by :func:`planner.inputs.read_boundary`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import requests
import yaml
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, Problem
from planner.fetch._http import FetchCache, FetchError, default_fetch_cache, make_session
from planner.fetch.osm import (
    DEFAULT_OVERPASS_URL,
    POI_COLUMNS,
    PoisResult,
    RoadsResult,
    fetch_pois,
    fetch_roads,
)
from planner.fetch.worldpop import (
    LICENCE,
    WORLDPOP_API,
    PopulationResult,
    WorldPopProduct,
    WorldPopQuery,
    fetch_worldpop,
)

__all__ = [
    "DEFAULT_OVERPASS_URL",
    "WORLDPOP_API",
    "FetchCache",
    "FetchError",
    "FetchSummary",
    "FetchedFiles",
    "WorldPopQuery",
    "default_fetch_cache",
    "fetch_area",
    "write_fetched_scenario",
]

logger = logging.getLogger(__name__)

#: Unit costs (yuan) of the scenario written, as in the demo scenario.
COST_TABLE: dict[str, dict[str, Any]] = {
    "outlet": {"cost": 60000},
    "locker": {"cost": 25000},
    "village_station": {"cost": 15000},
    "park": {"cost": 3000000, "place": False},
}


@dataclass
class FetchSummary:
    """What :func:`fetch_area` fetched and wrote.

    Attributes
    ----------
    out_dir, scenario_path
        The output folder and its ``scenario.yaml``.
    county_code, county_name
        The study area's code (6 digits or "") and name.
    area_km2
        The study area.
    roads_nodes, roads_edges, roads_km
        The road graph's size.
    facilities
        Facilities written, per type (``outlet``, ``locker``).
    candidates
        Candidate sites written, per type.
    villages, communities
        Register rows made from OSM places, by kind.
    population_total
        People of the WorldPop raster inside the boundary (cell centre inside).
    population_source
        The raster's URL.
    from_cache
        Per item (``roads``, ``pois``, ``population``): True when it came from the cache.
    missing
        What was not found (written as notes in ``fetch.json`` too).
    files
        Every file written.
    """

    out_dir: Path
    scenario_path: Path
    county_code: str
    county_name: str
    area_km2: float
    roads_nodes: int
    roads_edges: int
    roads_km: float
    facilities: dict[str, int]
    candidates: dict[str, int]
    villages: int
    communities: int
    population_total: float
    population_source: str
    from_cache: dict[str, bool]
    missing: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short report, one line per item (for the command line)."""

        def src(item: str) -> str:
            return "from the cache 缓存" if self.from_cache.get(item) else "downloaded 已下载"

        fac = ", ".join(f"{n} {t}" for t, n in sorted(self.facilities.items())) or "none"
        out = [
            f"area 研究区: {self.county_name or '?'} {self.county_code} — {self.area_km2:,.1f} km²",
            f"roads 路网: {self.roads_nodes:,} nodes, {self.roads_edges:,} edges, "
            f"{self.roads_km:,.1f} km ({src('roads')})",
            f"facilities 现状设施: {fac}; places 村/社区: {self.villages} villages, "
            f"{self.communities} communities ({src('pois')})",
            f"population 人口: {self.population_total:,.0f} in the area "
            f"({src('population')}: {self.population_source})",
        ]
        cand = ", ".join(f"{n} {t}" for t, n in sorted(self.candidates.items())) or "none"
        out.append(f"candidate sites 候选点 (by rule, replace with real sites): {cand}")
        out += [f"not found 未获取: {m}" for m in self.missing]
        out.append(f"scenario 情景文件: {self.scenario_path}")
        return out


def _buffered(boundary: gpd.GeoDataFrame, buffer_m: float) -> BaseGeometry:
    """The boundary's union grown by ``buffer_m`` metres (in its UTM zone), in WGS-84."""
    utm = boundary.estimate_utm_crs()
    grown = boundary.to_crs(utm).geometry.union_all().buffer(buffer_m)
    return gpd.GeoSeries([grown], crs=utm).to_crs("EPSG:4326").iloc[0]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-") or "area"


#: Facilities farther outside the boundary are left out (``read_facilities`` refuses > 2 km).
FACILITY_MARGIN_M = 1500.0


def _facilities_frame(pois: pd.DataFrame, boundary: gpd.GeoDataFrame) -> pd.DataFrame:
    """Outlets and lockers in the planner's facilities format (``facility_id`` from the OSM id).

    Those more than :data:`FACILITY_MARGIN_M` outside the boundary are dropped.
    """
    sel = pois[pois["category"].isin(["outlet", "locker"])]
    if len(sel):
        utm = boundary.estimate_utm_crs()
        area = boundary.to_crs(utm).geometry.union_all()
        pts = gpd.GeoSeries(gpd.points_from_xy(sel["lon"], sel["lat"]), crs="EPSG:4326").to_crs(utm)
        sel = sel[(pts.distance(area) <= FACILITY_MARGIN_M).to_numpy()]
    return pd.DataFrame(
        {
            "facility_id": [f"osm-{t}-{i}" for t, i in zip(sel["osm_type"], sel["osm_id"], strict=True)],
            "type": sel["category"].to_numpy(),
            "name": sel["name"].fillna("").to_numpy(),
            "brands": sel["brand"].fillna("").to_numpy(),
            "lon": sel["lon"].to_numpy(),
            "lat": sel["lat"].to_numpy(),
            "osm_tag": sel["osm_tag"].to_numpy(),
        }
    )


def _places_frame(pois: pd.DataFrame) -> pd.DataFrame:
    """OSM places in the format of :func:`planner.inputs.villages_from_osm_places`.

    An unnamed place is kept, named after its tag and OSM id (``hamlet node/123``).
    """
    sel = pois[pois["category"] == "place"]
    names = [
        str(n) if isinstance(n, str) and n.strip() else f"{p} {t}/{i}"
        for n, p, t, i in zip(sel["name"], sel["place"], sel["osm_type"], sel["osm_id"], strict=True)
    ]
    return pd.DataFrame(
        {
            "place": sel["place"].to_numpy(),
            "name": names,
            "lon": sel["lon"].to_numpy(),
            "lat": sel["lat"].to_numpy(),
            "population": sel["population"].to_numpy(),
            "osm_id": [f"{t}/{i}" for t, i in zip(sel["osm_type"], sel["osm_id"], strict=True)],
        }
    )


def _register(places_csv: Path, boundary: gpd.GeoDataFrame, county_code: str) -> pd.DataFrame:
    """The village register (CSV columns of :func:`planner.inputs.read_villages`) from OSM places."""
    from planner.inputs import villages_from_osm_places, work_crs

    code = county_code if re.fullmatch(r"\d{6}", county_code) else "000000"
    reg = villages_from_osm_places(places_csv, crs=work_crs(boundary), county_code=code, boundary=boundary)
    wgs = reg.to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "village_code": reg["village_code"].to_numpy(),
            "village_name": reg["village_name"].to_numpy(),
            "township_code": reg["township_code"].to_numpy(),
            "township_name": reg["township_name"].to_numpy(),
            "kind": reg["kind"].to_numpy(),
            "population": reg["population"].to_numpy(),
            "households": reg["households"].to_numpy(),
            "lon": wgs.geometry.x.round(7).to_numpy(),
            "lat": wgs.geometry.y.round(7).to_numpy(),
            "osm_place": reg["osm_place"].to_numpy(),
        }
    )


@dataclass(frozen=True)
class FetchedFiles:
    """What :func:`fetch_area` wrote, as :func:`write_fetched_scenario` needs it.

    Attributes
    ----------
    name
        The scenario's name.
    county_code, county_name
        The area's code (6 digits, or anything else to leave it out) and name.
    population
        The population raster's path relative to the folder.
    has_villages, has_facilities, has_candidates
        Whether ``villages/villages.csv``, ``facilities/existing.csv``, ``facilities/candidates.csv`` exist.
    """

    name: str
    county_code: str
    county_name: str
    population: str
    has_villages: bool
    has_facilities: bool
    has_candidates: bool = False


def write_fetched_scenario(
    out_dir: Path,
    files: FetchedFiles,
    *,
    standards: str = "national-default",
    resolution_m: float = 200.0,
) -> Path:
    """Write ``scenario.yaml`` for the files :func:`fetch_area` wrote (paths relative to ``out_dir``)."""
    study_area: dict[str, Any] = {"boundary": "boundaries/county.geojson"}
    if re.fullmatch(r"\d{6}", files.county_code):
        study_area["county_code"] = files.county_code
    if files.county_name:
        study_area["county_name"] = files.county_name
    inputs: dict[str, Any] = {
        "population": {"path": files.population, "resolution_m": resolution_m},
        "roads": {"path": "roads/roads.graphml"},
    }
    if files.has_villages:
        inputs["villages"] = {"path": "villages/villages.csv"}
    if files.has_facilities:
        inputs["facilities"] = {"path": "facilities/existing.csv"}
    if files.has_candidates:
        inputs["candidates"] = {"path": "facilities/candidates.csv"}
    label = files.county_name or files.name
    scenario = {
        "name": files.name,
        "title": f"{label}快递末端服务设施规划（OpenStreetMap 与 WorldPop 公开数据）",
        "title_en": f"{label}: express-delivery facility plan (OpenStreetMap and WorldPop data)",
        "study_area": study_area,
        "inputs": inputs,
        "standards": standards,
        "plan": {"year": 2025, "facilities": COST_TABLE},
        "solver": {"backend": "highs", "time_limit_s": 120, "mip_gap": 0.0001},
        "outputs": {"folder": "out", "language": "zh"},
    }
    header = (
        "# A scenario written by `planner fetch` from OpenStreetMap (ODbL) and WorldPop (CC BY 4.0) data.\n"
        "# Paths are relative to this file. Village codes are placeholders in NBS form (not NBS codes):\n"
        "# replace villages/villages.csv with the county's register when you have it. The candidate\n"
        "# sites are made by rule (outlets/lockers at populated road nodes, a station per village):\n"
        "# replace facilities/candidates.csv with the sites the county can build on.\n"
    )
    path = out_dir / "scenario.yaml"
    path.write_text(header + yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class _Area:
    """The study area as read: the frame, its union, its size, code and name, and the query area."""

    frame: gpd.GeoDataFrame
    geom: BaseGeometry
    km2: float
    code: str
    name: str
    query: BaseGeometry

    @property
    def scenario_name(self) -> str:
        """``fetch-<code>``, else ``fetch-<ascii name>``, else ``fetch-area``."""
        if re.fullmatch(r"\d{6}", self.code):
            return f"fetch-{self.code}"
        return f"fetch-{_slug(self.name) if self.name.isascii() else 'area'}"


def _study_area(frame: gpd.GeoDataFrame, *, buffer_m: float) -> _Area:
    """The read boundary as an :class:`_Area` (an empty area is an error)."""
    geom = frame.geometry.union_all()
    km2 = float(frame.to_crs(frame.estimate_utm_crs()).geometry.area.sum()) / 1e6
    if geom.is_empty or km2 <= 0.0:
        raise InputDataError(
            problems=[
                Problem("the study area is empty (zero area)", fix="give a polygon boundary with an area")
            ]
        )
    return _Area(
        frame=frame,
        geom=geom,
        km2=km2,
        code=str(frame["county_code"].iat[0] or ""),
        name=str(frame["county_name"].iat[0] or ""),
        query=_buffered(frame, buffer_m),
    )


@dataclass
class _Written:
    """The layers written into the output folder, the files, and what was not found."""

    out: Path
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    facilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    register: pd.DataFrame = field(default_factory=pd.DataFrame)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)
    population: str = ""

    def keep(self, path: Path) -> Path:
        """Record ``path`` as written."""
        self.files.append(path)
        return path

    def table(self, frame: pd.DataFrame, rel: str, *, missing: str) -> None:
        """Write ``frame`` to ``rel`` when it has rows (removing an older file), else note ``missing``."""
        path = self.out / rel
        path.unlink(missing_ok=True)
        if len(frame):
            frame.to_csv(self.keep(path), index=False)
        else:
            self.missing.append(missing)


def _per_type(frame: pd.DataFrame) -> dict[str, int]:
    """Rows of ``frame`` per ``type``."""
    return {str(k): int(v) for k, v in frame["type"].value_counts().items()} if len(frame) else {}


def _write_layers(
    out: Path, area: _Area, *, pop: PopulationResult, roads: RoadsResult, pois: PoisResult
) -> _Written:
    """Write the boundary, roads, raster, POIs, facilities, places, register and candidates."""
    from planner.fetch.candidates import make_candidates
    from planner.inputs import read_roads

    (out / "scenario.yaml").unlink(missing_ok=True)  # no stale scenario if writing fails half-way
    for sub in ("boundaries", "roads", "population", "facilities", "villages", "osm"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    w = _Written(out)
    area.frame.to_file(w.keep(out / "boundaries" / "county.geojson"), driver="GeoJSON")
    shutil.copyfile(roads.path, w.keep(out / "roads" / "roads.graphml"))
    w.population = f"population/worldpop_{pop.source.iso3.lower()}_{pop.source.year}.tif"
    shutil.copyfile(pop.path, w.keep(out / w.population))
    pois.table.reindex(columns=list(POI_COLUMNS)).to_csv(w.keep(out / "osm" / "pois.csv"), index=False)
    w.facilities = _facilities_frame(pois.table, area.frame)
    w.table(
        w.facilities,
        "facilities/existing.csv",
        missing="no post offices, courier shops or parcel lockers in OSM: add your facility list",
    )
    places = _places_frame(pois.table)
    places_csv = w.keep(out / "villages" / "osm_places.csv")
    places.to_csv(places_csv, index=False)
    w.register = _register(places_csv, area.frame, area.code) if len(places) else pd.DataFrame()
    w.table(
        w.register,
        "villages/villages.csv",
        missing="no OSM places (village/hamlet/town) in the area: add the NBS village register",
    )
    w.candidates = make_candidates(
        read_roads(out / "roads" / "roads.graphml"), area.frame, out / w.population, w.register
    )
    w.table(
        w.candidates,
        "facilities/candidates.csv",
        missing="no candidate sites could be made (no populated road nodes, no villages)",
    )
    if pop.total_in_area <= 0:
        w.missing.append(f"the WorldPop raster has no people inside the area ({pop.source.url})")
    return w


def fetch_area(
    out_dir: Path | str,
    *,
    boundary: Path | str | None = None,
    admin_name: str | None = None,
    county_code: str | None = None,
    county_name: str | None = None,
    iso3: str = "CHN",
    year: int = 2020,
    worldpop: WorldPopProduct = "auto",
    worldpop_download: bool = False,
    buffer_m: float = 2000.0,
    cache_dir: Path | str | None = None,
    refresh: bool = False,
    overpass_url: str = DEFAULT_OVERPASS_URL,
    worldpop_api: str = WORLDPOP_API,
    standards: str = "national-default",
    resolution_m: float = 200.0,
    timeout_s: float = 180.0,
    session: requests.Session | None = None,
    progress: Callable[[str], None] | None = None,
) -> FetchSummary:
    """Download roads, POIs and population for a study area and write a ready scenario.

    The keyword options are those of ``planner fetch`` (one per command-line option).

    Parameters
    ----------
    out_dir
        The folder to write (created; files of an earlier fetch are replaced).
    boundary, admin_name
        The study area: a polygon file, or a Chinese admin name resolved offline via cnmaps
        (``和硕县``, or ``省/市/区县``). Give exactly one.
    county_code, county_name
        Override the area's code and name.
    iso3, year, worldpop
        The WorldPop raster: country, year, product (``auto``, ``constrained``, ``unconstrained``).
    worldpop_download
        Download the whole country raster once instead of reading only the area's window.
    buffer_m
        Margin around the area for roads, POIs and the raster crop (trips and facilities just
        across the border count).
    cache_dir, refresh
        The download cache (default: :func:`default_fetch_cache`); ``refresh`` downloads again.
    overpass_url, worldpop_api
        Service base URLs (an Overpass mirror may be faster from China).
    standards, resolution_m
        The scenario's policy profile and demand cell size.
    timeout_s
        Per-request timeout.
    session
        The HTTP session for WorldPop and the reachability checks (osmnx uses ``requests`` itself).
    progress
        Called with a short label before each step.

    Returns
    -------
    FetchSummary

    Raises
    ------
    InputDataError
        Unknown admin name, bad boundary, empty area, no WorldPop raster for the country/year.
    FetchError
        No network, HTTP errors, no roads in OSM.
    """
    from planner.inputs import read_boundary

    step = progress or (lambda _label: None)
    out = Path(out_dir)
    session = session or make_session()
    cache = FetchCache(cache_dir if cache_dir is not None else default_fetch_cache(), refresh=refresh)
    step("boundary")
    frame = read_boundary(boundary, admin_name=admin_name, county_code=county_code, county_name=county_name)
    area = _study_area(frame, buffer_m=buffer_m)
    step("population")
    query = WorldPopQuery(
        iso3=iso3, year=year, product=worldpop, download=worldpop_download, api_url=worldpop_api
    )
    pop = fetch_worldpop(area.query, area.geom, cache, query=query, session=session, timeout_s=timeout_s)
    step("roads")
    roads = fetch_roads(area.query, cache, overpass_url=overpass_url, timeout_s=timeout_s, session=session)
    step("pois")
    pois = fetch_pois(area.query, cache, overpass_url=overpass_url, timeout_s=timeout_s, session=session)
    step("writing")
    w = _write_layers(out, area, pop=pop, roads=roads, pois=pois)
    files = FetchedFiles(
        name=area.scenario_name,
        county_code=area.code,
        county_name=area.name,
        population=w.population,
        has_villages=len(w.register) > 0,
        has_facilities=len(w.facilities) > 0,
        has_candidates=len(w.candidates) > 0,
    )
    scenario_path = w.keep(write_fetched_scenario(out, files, standards=standards, resolution_m=resolution_m))
    summary = FetchSummary(
        out_dir=out,
        scenario_path=scenario_path,
        county_code=area.code,
        county_name=area.name,
        area_km2=area.km2,
        roads_nodes=roads.nodes,
        roads_edges=roads.edges,
        roads_km=roads.length_km,
        facilities=_per_type(w.facilities),
        candidates=_per_type(w.candidates),
        villages=int((w.register["kind"] == "village").sum()) if len(w.register) else 0,
        communities=int((w.register["kind"] == "community").sum()) if len(w.register) else 0,
        population_total=pop.total_in_area,
        population_source=pop.source.url,
        from_cache={"roads": roads.from_cache, "pois": pois.from_cache, "population": pop.from_cache},
        missing=w.missing,
        files=w.files,
    )
    provenance = _provenance(summary, pop, buffer_m=buffer_m, overpass_url=overpass_url)
    (out / "fetch.json").write_text(json.dumps(provenance, ensure_ascii=False, indent=1), encoding="utf-8")
    w.keep(out / "fetch.json")
    logger.info(
        "fetch: %d road nodes, %d facilities, %d places, %.0f people → %s",
        roads.nodes,
        len(w.facilities),
        len(w.register),
        pop.total_in_area,
        scenario_path,
    )
    return summary


def _provenance(
    summary: FetchSummary, pop: PopulationResult, *, buffer_m: float, overpass_url: str
) -> dict[str, Any]:
    """``fetch.json``: when, the area, the sources and licences, the counts, cache use, what is missing."""
    return {
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "area": {
            "county_code": summary.county_code,
            "county_name": summary.county_name,
            "area_km2": round(summary.area_km2, 3),
            "buffer_m": buffer_m,
        },
        "osm": {"overpass_url": overpass_url, "licence": "© OpenStreetMap contributors, ODbL 1.0"},
        "worldpop": {**pop.source.__dict__, "licence": LICENCE, "crop_shape": list(pop.shape)},
        "counts": {
            "roads_nodes": summary.roads_nodes,
            "roads_edges": summary.roads_edges,
            "roads_km": summary.roads_km,
            "facilities": summary.facilities,
            "candidates": summary.candidates,
            "villages": summary.villages,
            "communities": summary.communities,
            "population_in_area": round(pop.total_in_area, 3),
            "population_in_crop": round(pop.total_in_window, 3),
        },
        "from_cache": summary.from_cache,
        "not_found": summary.missing,
    }
