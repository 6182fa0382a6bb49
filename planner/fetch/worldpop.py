"""WorldPop population rasters: find the country-year file in the REST catalogue, clip it to the area.

The catalogue (``https://hub.worldpop.org/rest/data/pop/<product>?iso3=CHN``) answers
``{"data": [{"popyear": "2020", "files": ["https://data.worldpop.org/...tif"], "data_file": ...}]}``.
Products: ``cic2020_100m`` (constrained, people only in mapped settlements, 2020 only) and ``wpgp``
(unconstrained 100 m, 2000–2020). ``auto`` takes the constrained raster when the catalogue has one
for the year, else the unconstrained.

A country raster is large (China's is several GB), so by default only the window around the study
area is read over HTTP range requests (GDAL ``/vsicurl/``); ``download=True`` fetches the whole file
once into the cache instead (for networks where range requests fail). The clip is a plain crop
(no resampling, no masking): :func:`planner.inputs.read_population_demand` does the boundary
selection, and the total reported here uses the same rule (cell centre inside the boundary).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
import rasterio.features
import rasterio.windows
import requests
from rasterio.errors import RasterioIOError, WindowError
from rasterio.warp import transform_bounds, transform_geom
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from planner.errors import InputDataError, Problem
from planner.fetch._http import NO_NETWORK_FIX, FetchCache, FetchError, download_file, get_json

logger = logging.getLogger(__name__)

WORLDPOP_API = "https://hub.worldpop.org/rest/data/pop"
WORLDPOP_FILES = "https://data.worldpop.org"
WorldPopProduct = Literal["auto", "constrained", "unconstrained"]
_ALIASES: dict[str, str] = {"constrained": "cic2020_100m", "unconstrained": "wpgp"}
LICENCE = "WorldPop (www.worldpop.org), CC BY 4.0"


@dataclass(frozen=True)
class WorldPopFile:
    """One catalogue entry: the raster's URL and what it is."""

    url: str
    product: str
    year: int
    iso3: str
    title: str
    doi: str


@dataclass(frozen=True)
class PopulationResult:
    """The clipped raster (in the cache), its source and the people inside the boundary."""

    path: Path
    source: WorldPopFile
    total_in_area: float
    total_in_window: float
    shape: tuple[int, int]
    from_cache: bool


def _file_url(entry: dict[str, Any]) -> str | None:
    """The https URL of an entry's GeoTIFF (old entries list ftp:// URLs; data_file is the path)."""
    files = [str(f) for f in entry.get("files") or [] if str(f).lower().endswith((".tif", ".tiff"))]
    for f in files:
        if f.startswith(("https://", "http://")):
            return f
    data_file = str(entry.get("data_file") or "")
    if data_file.lower().endswith((".tif", ".tiff")):
        return f"{WORLDPOP_FILES}/{data_file.lstrip('/')}"
    return None


def find_worldpop_file(
    iso3: str,
    year: int,
    *,
    product: WorldPopProduct = "auto",
    session: requests.Session,
    api_url: str = WORLDPOP_API,
    timeout_s: float = 60.0,
) -> WorldPopFile:
    """Look up the country-year raster in the WorldPop REST catalogue.

    Raises
    ------
    InputDataError
        The ISO3 code is malformed, or the catalogue has no raster for that country and year
        (the message lists the years it has).
    FetchError
        No network, an HTTP error, or an answer that is not the catalogue.
    """
    iso3 = iso3.strip().upper()
    if len(iso3) != 3 or not iso3.isalpha():
        raise InputDataError(
            problems=[Problem(f"{iso3!r} is not an ISO 3166 alpha-3 country code", fix="e.g. CHN for China")]
        )
    kinds = ["constrained", "unconstrained"] if product == "auto" else [product]
    seen: dict[str, list[str]] = {}
    for kind in kinds:
        alias = _ALIASES[kind]
        url = f"{api_url.rstrip('/')}/{alias}"
        doc = get_json(session, url, params={"iso3": iso3}, timeout_s=timeout_s)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise FetchError(
                problems=[Problem(f"{url}?iso3={iso3} did not answer a WorldPop catalogue (no 'data' list)")]
            )
        entries = [e for e in doc["data"] if isinstance(e, dict) and str(e.get("iso3", iso3)).upper() == iso3]
        seen[kind] = sorted({str(e.get("popyear")) for e in entries})
        for entry in entries:
            if str(entry.get("popyear")) != str(year):
                continue
            file_url = _file_url(entry)
            if file_url is not None:
                return WorldPopFile(
                    url=file_url,
                    product=kind,
                    year=year,
                    iso3=iso3,
                    title=str(entry.get("title") or ""),
                    doi=str(entry.get("doi") or ""),
                )
    have = "; ".join(f"{k}: {', '.join(v) or 'none'}" for k, v in seen.items())
    raise InputDataError(
        problems=[
            Problem(
                f"WorldPop has no {product} population raster for {iso3} in {year} "
                f"(years available — {have})",
                fix="choose a listed year (--year) or product (--worldpop), or check the ISO3 code",
            )
        ]
    )


def _rounded(bounds: Any) -> tuple[float, ...]:
    return tuple(round(float(b), 4) for b in bounds)


def _crop(
    source: str, area: BaseGeometry, boundary: BaseGeometry, dest: Path
) -> tuple[float, float, tuple[int, int]]:
    """Write the window of ``source`` around ``area`` (WGS-84) to ``dest``; return totals and shape."""
    with rasterio.open(source) as src:
        if src.crs is None:
            raise InputDataError(problems=[Problem(f"the raster {source} has no CRS")])
        left, bottom, right, top = transform_bounds("EPSG:4326", src.crs, *area.bounds, densify_pts=21)
        window = rasterio.windows.from_bounds(left, bottom, right, top, transform=src.transform)
        col0, row0 = math.floor(window.col_off), math.floor(window.row_off)
        col1 = math.ceil(window.col_off + window.width)
        row1 = math.ceil(window.row_off + window.height)
        window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
        full = rasterio.windows.Window(0, 0, src.width, src.height)
        try:
            window = window.intersection(full)
        except WindowError:
            window = rasterio.windows.Window(0, 0, 0, 0)
        if window.width < 1 or window.height < 1:
            raise InputDataError(
                problems=[
                    Problem(
                        f"the population raster {source} does not overlap the study area "
                        f"(raster bounds {_rounded(src.bounds)}, area {_rounded(area.bounds)})",
                        fix="check the ISO3 code (--iso3): it must be the country the area lies in",
                    )
                ]
            )
        data = src.read(1, window=window)
        transform = src.window_transform(window)
        profile = src.profile.copy()
        nodata = src.nodata
        crs = src.crs
    profile.update(
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        transform=transform,
        compress="deflate",
        tiled=data.shape[0] >= 256 and data.shape[1] >= 256,
    )
    for key in ("blockxsize", "blockysize", "interleave", "photometric"):
        profile.pop(key, None)
    if profile["tiled"]:
        profile.update(blockxsize=256, blockysize=256)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(dest, "w", **profile) as out:
        out.write(data, 1)
    values = data.astype(np.float64)
    valid = np.isfinite(values) & (values >= 0)
    if nodata is not None:
        valid &= values != nodata
    values = np.where(valid, values, 0.0)
    inside = rasterio.features.geometry_mask(
        [transform_geom("EPSG:4326", crs, mapping(boundary))],
        out_shape=data.shape,
        transform=transform,
        invert=True,
    )
    return float(values[inside].sum()), float(values.sum()), (int(data.shape[0]), int(data.shape[1]))


@dataclass(frozen=True)
class WorldPopQuery:
    """Which WorldPop raster to fetch and how.

    Attributes
    ----------
    iso3, year
        The country (ISO 3166 alpha-3) and the population year.
    product
        ``auto`` (constrained when the catalogue has it for the year), ``constrained`` or ``unconstrained``.
    download
        Fetch the whole country file once instead of reading the area's window over HTTP.
    api_url
        The catalogue's base URL.
    """

    iso3: str = "CHN"
    year: int = 2020
    product: WorldPopProduct = "auto"
    download: bool = False
    api_url: str = WORLDPOP_API


def fetch_worldpop(
    area: BaseGeometry,
    boundary: BaseGeometry,
    cache: FetchCache,
    *,
    query: WorldPopQuery,
    session: requests.Session,
    timeout_s: float = 180.0,
) -> PopulationResult:
    """Get the WorldPop raster of a country and year, cropped to ``area`` (WGS-84), via the cache.

    Parameters
    ----------
    area
        The crop area in WGS-84 (study area plus margin).
    boundary
        The study area itself, for the reported total.
    cache
        Where downloads are kept.
    query
        Which raster, whole-file download or not, the catalogue URL.
    session
        The HTTP session (catalogue and whole-file downloads).
    timeout_s
        Per-request timeout.

    Raises
    ------
    FetchError
        No network, HTTP errors, an unreadable remote raster.
    InputDataError
        No raster for that country/year, or the raster does not cover the area.
    """
    source = _catalogue_entry(query, cache, session=session, timeout_s=timeout_s)
    clip_query = {"url": source.url, "bounds": [round(b, 6) for b in area.bounds]}
    hit = cache.lookup("worldpop", clip_query)
    if hit is not None:
        folder, meta = hit
        logger.info("population: using the cache %s", folder)
        return PopulationResult(
            folder / "population.tif",
            source,
            meta["total_in_area"],
            meta["total_in_window"],
            tuple(meta["shape"]),
            True,
        )
    if query.download:
        whole = cache.root / "worldpop-files" / Path(source.url.split("?")[0]).name
        if cache.refresh or not whole.is_file():
            download_file(session, source.url, whole, timeout_s=timeout_s)
        reader = str(whole)
    else:
        reader = source.url
    with cache.writing("worldpop", clip_query) as staging:
        try:
            with rasterio.Env(**_gdal_http_env(session, timeout_s)):
                total_in, total_window, shape = _crop(reader, area, boundary, staging / "population.tif")
        except RasterioIOError as exc:
            raise _unreadable(reader, exc, downloaded=query.download) from exc
        meta = {
            "total_in_area": total_in,
            "total_in_window": total_window,
            "shape": list(shape),
            "source": source.__dict__,
        }
        cache.seal(staging, clip_query, meta)
    folder = cache.folder("worldpop", clip_query)
    logger.info(
        "population: %s, %d×%d cells, %.0f people in the area", source.url, shape[1], shape[0], total_in
    )
    return PopulationResult(folder / "population.tif", source, total_in, total_window, shape, False)


def _catalogue_entry(
    query: WorldPopQuery, cache: FetchCache, *, session: requests.Session, timeout_s: float
) -> WorldPopFile:
    """The catalogue entry of ``query``, from the cache or the catalogue (then cached)."""
    catalogue_query = {
        "api": query.api_url.rstrip("/"),
        "iso3": query.iso3.upper(),
        "year": query.year,
        "product": query.product,
    }
    hit = cache.lookup("worldpop-catalogue", catalogue_query)
    if hit is not None:
        return WorldPopFile(**hit[1]["file"])
    source = find_worldpop_file(
        query.iso3,
        query.year,
        product=query.product,
        session=session,
        api_url=query.api_url,
        timeout_s=timeout_s,
    )
    with cache.writing("worldpop-catalogue", catalogue_query) as staging:
        cache.seal(staging, catalogue_query, {"file": source.__dict__})
    return source


def _gdal_http_env(session: requests.Session, timeout_s: float) -> dict[str, str]:
    """GDAL settings for reading a remote GeoTIFF by range requests (``/vsicurl/``)."""
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
        "GDAL_HTTP_TIMEOUT": str(int(timeout_s)),
        "GDAL_HTTP_MAX_RETRY": "3",
        "GDAL_HTTP_RETRY_DELAY": "2",
        "GDAL_HTTP_USERAGENT": str(session.headers.get("User-Agent", "planner")),
    }


def _unreadable(reader: str, exc: RasterioIOError, *, downloaded: bool) -> FetchError:
    """The error for a raster GDAL cannot read, with the fix that fits how it was read."""
    fix = (
        "delete the cached file and run fetch again"
        if downloaded
        else f"{NO_NETWORK_FIX}; if you are online but range requests are blocked, "
        "rerun with --worldpop-download (fetches the whole country file once)"
    )
    return FetchError(problems=[Problem(f"cannot read the WorldPop raster {reader}: {exc}", fix=fix)])
