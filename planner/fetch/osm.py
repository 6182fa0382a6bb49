"""OpenStreetMap downloads through osmnx (Overpass API): the road graph and the postal/place POIs.

Roads: ``osmnx.graph_from_polygon(network_type="all")`` so that walking, tricycle and car networks can
all be built from one graph; saved as GraphML. POIs: post offices, parcel lockers (also the older
``amenity=vending_machine`` + ``vending=parcel_pickup`` tagging), courier shops/offices and
settlements (``place=*``); each becomes one row of a flat table with a point (areas give their
representative point). Both are cached by :class:`~planner.fetch._http.FetchCache` under a hash of
the query polygon, the filters, the Overpass URL and the osmnx version.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import requests
import shapely
from shapely.geometry.base import BaseGeometry

from planner.errors import Problem
from planner.fetch._http import (
    USER_AGENT,
    FetchCache,
    FetchError,
    check_reachable,
    http_error,
    no_network,
)

logger = logging.getLogger(__name__)

DEFAULT_OVERPASS_URL = "https://overpass-api.de/api"

#: The OSM tags asked for: postal and courier facilities, parcel lockers, settlements.
POI_TAGS: dict[str, list[str]] = {
    "amenity": ["post_office", "parcel_locker"],
    "vending": ["parcel_pickup", "parcel_mail_in", "parcel_pickup;parcel_mail_in"],
    "shop": ["courier"],
    "office": ["courier"],
    "place": ["city", "town", "suburb", "neighbourhood", "village", "hamlet"],
}
#: Columns of the POI table (one row per OSM element).
POI_COLUMNS = (
    "category",
    "osm_tag",
    "osm_type",
    "osm_id",
    "name",
    "brand",
    "place",
    "population",
    "lon",
    "lat",
)


@dataclass(frozen=True)
class RoadsResult:
    """The downloaded road graph (``path`` is in the cache) and its size."""

    path: Path
    nodes: int
    edges: int
    length_km: float
    from_cache: bool


@dataclass(frozen=True)
class PoisResult:
    """The POI table (columns :data:`POI_COLUMNS`, WGS-84 lon/lat) and where it came from."""

    table: pd.DataFrame
    from_cache: bool


def _osmnx_version() -> str:
    import osmnx

    return str(osmnx.__version__)


@contextlib.contextmanager
def _osmnx_settings(cache: FetchCache, overpass_url: str, timeout_s: float) -> Iterator[Any]:
    """osmnx configured for one fetch (its HTTP cache inside ours), restored afterwards."""
    import osmnx as ox

    names = (
        "overpass_url",
        "requests_timeout",
        "cache_folder",
        "use_cache",
        "http_user_agent",
        "log_console",
    )
    saved = {n: getattr(ox.settings, n) for n in names}
    ox.settings.overpass_url = overpass_url.rstrip("/")
    ox.settings.requests_timeout = int(timeout_s)
    ox.settings.cache_folder = str(cache.root / "osmnx-http")
    ox.settings.use_cache = not cache.refresh
    ox.settings.http_user_agent = USER_AGENT
    ox.settings.log_console = False
    try:
        yield ox
    finally:
        for n, v in saved.items():
            setattr(ox.settings, n, v)


def _overpass_call(what: str, overpass_url: str, call: Any) -> Any:
    """Run an osmnx download; map its failures to :class:`FetchError`. None when OSM has nothing."""
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    url = overpass_url.rstrip("/") + "/interpreter"
    try:
        return call()
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise no_network(url, exc) from exc
    except ResponseStatusCodeError as exc:
        status = re.search(r"\b(\d{3})\b", str(exc))
        raise http_error(url, int(status.group(1)) if status else 0, body=str(exc)) from exc
    except InsufficientResponseError as exc:
        logger.info("%s: OSM returned nothing (%s)", what, exc)
        return None
    except ValueError as exc:  # osmnx: "Found no graph nodes within the requested polygon."
        if "no graph nodes" not in str(exc):
            raise
        logger.info("%s: OSM returned nothing inside the area (%s)", what, exc)
        return None


def _polygon_key(polygon: BaseGeometry) -> str:
    return str(shapely.to_wkt(shapely.set_precision(polygon, 1e-6), rounding_precision=6))


def fetch_roads(
    polygon: BaseGeometry,
    cache: FetchCache,
    *,
    overpass_url: str = DEFAULT_OVERPASS_URL,
    network_type: str = "all",
    timeout_s: float = 180.0,
    session: requests.Session | None = None,
) -> RoadsResult:
    """Download the OSM road graph inside ``polygon`` (WGS-84) and store it as GraphML in the cache.

    Parameters
    ----------
    polygon
        The query area in WGS-84 (the study area plus a margin).
    cache
        Where downloads are kept.
    overpass_url
        The Overpass API base URL (``.../api``); a mirror may be faster from China.
    network_type
        osmnx network type; ``all`` keeps footways and tracks as well as roads for vehicles.
    timeout_s
        Per-request timeout.
    session
        Used only for the reachability check before osmnx starts.

    Raises
    ------
    FetchError
        No network, an HTTP error, or OSM has no roads in the area.
    """
    query = {
        "polygon": _polygon_key(polygon),
        "network_type": network_type,
        "overpass_url": overpass_url.rstrip("/"),
        "osmnx": _osmnx_version(),
    }
    hit = cache.lookup("roads", query)
    if hit is not None:
        folder, meta = hit
        logger.info("roads: using the cache %s", folder)
        return RoadsResult(folder / "roads.graphml", meta["nodes"], meta["edges"], meta["length_km"], True)
    check_reachable(
        session or requests.Session(), overpass_url.rstrip("/") + "/status", timeout_s=min(timeout_s, 30)
    )
    with _osmnx_settings(cache, overpass_url, timeout_s) as ox:
        graph = _overpass_call(
            "roads",
            overpass_url,
            lambda: ox.graph_from_polygon(
                polygon, network_type=network_type, simplify=True, retain_all=True, truncate_by_edge=True
            ),
        )
        if graph is None or len(graph) == 0:
            raise FetchError(
                problems=[
                    Problem(
                        "OpenStreetMap has no roads in the study area",
                        fix="check the area (boundary file or admin name); a large area may have timed "
                        "out on the server: rerun with a larger --timeout; where OSM lacks roads, give a "
                        "road file of your own (GraphML, .osm or .osm.pbf) in the scenario",
                    )
                ]
            )
        length_km = sum(float(d.get("length", 0.0)) for _, _, d in graph.edges(data=True)) / 1000.0
        meta = {"nodes": len(graph), "edges": graph.number_of_edges(), "length_km": round(length_km, 3)}
        with cache.writing("roads", query) as staging:
            ox.save_graphml(graph, staging / "roads.graphml")
            cache.seal(staging, query, meta)
    folder = cache.folder("roads", query)
    logger.info("roads: %d nodes, %d edges, %.1f km downloaded", meta["nodes"], meta["edges"], length_km)
    return RoadsResult(folder / "roads.graphml", meta["nodes"], meta["edges"], meta["length_km"], False)


def _category(tags: dict[str, Any]) -> tuple[str, str]:
    """(category, the tag that decided it) of one OSM element: outlet, locker or place ("" = none)."""
    amenity = str(tags.get("amenity") or "")
    vending = str(tags.get("vending") or "")
    if amenity == "parcel_locker":
        return "locker", "amenity=parcel_locker"
    if amenity == "vending_machine" and "parcel" in vending:
        return "locker", f"vending={vending}"
    if amenity == "post_office":
        return "outlet", "amenity=post_office"
    if tags.get("shop") == "courier":
        return "outlet", "shop=courier"
    if tags.get("office") == "courier":
        return "outlet", "office=courier"
    if str(tags.get("place") or "") in POI_TAGS["place"]:
        return "place", f"place={tags['place']}"
    return "", ""  # e.g. amenity=post_box or a vending machine for drinks: dropped


def _population(value: Any) -> float | None:
    """An OSM ``population`` tag as a number (None when missing or not a plain number)."""
    text = str(value or "").replace(",", "").replace(" ", "").strip()
    return float(text) if re.fullmatch(r"\d+(\.\d+)?", text) else None


def pois_table(features: Any) -> pd.DataFrame:
    """Flatten an osmnx features GeoDataFrame into the POI table (:data:`POI_COLUMNS`).

    Post boxes, vending machines that are not for parcels and elements without a geometry are
    dropped. Areas (a post office building, a village polygon) give their representative point.
    """
    rows: list[dict[str, Any]] = []
    if features is not None and len(features):
        frame = features.to_crs("EPSG:4326") if features.crs is not None else features
        columns = [c for c in frame.columns if c != "geometry"]
        for idx, geom, values in zip(
            frame.index, frame.geometry, frame[columns].itertuples(index=False), strict=True
        ):
            tags = {c: v for c, v in zip(columns, values, strict=True) if isinstance(v, str) and v}
            category, tag = _category(tags)
            if not category or geom is None or geom.is_empty:
                continue
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            osm_type, osm_id = (idx if isinstance(idx, tuple) else ("", idx))[:2]
            name = tags.get("name") or tags.get("name:zh") or tags.get("name:en") or ""
            rows.append(
                {
                    "category": category,
                    "osm_tag": tag,
                    "osm_type": str(osm_type),
                    "osm_id": str(osm_id),
                    "name": name,
                    "brand": tags.get("brand") or tags.get("operator") or "",
                    "place": tags.get("place", "") if category == "place" else "",
                    "population": _population(tags.get("population")) if category == "place" else None,
                    "lon": round(float(point.x), 7),
                    "lat": round(float(point.y), 7),
                }
            )
    table = pd.DataFrame(rows, columns=list(POI_COLUMNS))
    return table.sort_values(["category", "osm_type", "osm_id"], kind="stable").reset_index(drop=True)


def fetch_pois(
    polygon: BaseGeometry,
    cache: FetchCache,
    *,
    overpass_url: str = DEFAULT_OVERPASS_URL,
    timeout_s: float = 180.0,
    session: requests.Session | None = None,
) -> PoisResult:
    """Download the postal, courier, locker and place POIs inside ``polygon`` (WGS-84).

    Returns
    -------
    PoisResult
        The table; empty (not an error) when OSM has none of these in the area.

    Raises
    ------
    FetchError
        No network or an HTTP error.
    """
    query = {
        "polygon": _polygon_key(polygon),
        "tags": POI_TAGS,
        "overpass_url": overpass_url.rstrip("/"),
        "osmnx": _osmnx_version(),
    }
    hit = cache.lookup("pois", query)
    if hit is not None:
        folder, _ = hit
        logger.info("POIs: using the cache %s", folder)
        table = pd.read_csv(
            folder / "pois.csv", dtype={"osm_id": str, "name": str, "brand": str, "place": str}
        )
        return PoisResult(table.fillna({"name": "", "brand": "", "place": "", "osm_type": ""}), True)
    check_reachable(
        session or requests.Session(), overpass_url.rstrip("/") + "/status", timeout_s=min(timeout_s, 30)
    )
    with _osmnx_settings(cache, overpass_url, timeout_s) as ox:
        tags: dict[str, bool | str | list[str]] = {k: list(v) for k, v in POI_TAGS.items()}
        features = _overpass_call("POIs", overpass_url, lambda: ox.features_from_polygon(polygon, tags))
    table = pois_table(features)
    with cache.writing("pois", query) as staging:
        table.to_csv(staging / "pois.csv", index=False)
        cache.seal(
            staging, query, {"rows": len(table), "by_category": table["category"].value_counts().to_dict()}
        )
    logger.info("POIs: %d downloaded", len(table))
    return PoisResult(table, False)
