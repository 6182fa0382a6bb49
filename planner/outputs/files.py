"""Writing the output folder: the atomic folder swap, ``summary.json``, the CSVs, GeoPackage and XLSX.

Every output is written into a temporary sibling folder (``.<name>.tmp-XXXX`` next to the target);
only when every file is complete is the old folder (if any) moved aside and the new one renamed into
place, so a failed run leaves the previous output untouched and nothing half-written. A folder that
exists but does not look like an earlier output of the planner (not empty, no ``summary.json``) is
never replaced: the planner refuses rather than delete someone's files.

Tables for scripts (CSV) keep the contract's English column names and are UTF-8 with a BOM (Excel); tables for
officials (XLSX) get Chinese headers and sheet names when the language is Chinese. Spatial outputs
are in WGS-84 (EPSG:4326): QGIS users then need no reprojection and the coordinates match the CSVs.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from planner import atomic
from planner.errors import OutputDirError, Problem
from planner.outputs import i18n
from planner.outputs.i18n import Lang
from planner.types import (
    AUDIT_COLUMNS,
    AUDIT_EXTRA_COLUMNS,
    PROPOSAL_COLUMNS,
    VILLAGE_GAP_COLUMNS,
    AuditResult,
    RunResult,
)

WGS84: Final = CRS.from_epsg(4326)
#: Tolerance (metres, work CRS) used to simplify polygons before they are written for people.
SIMPLIFY_M: Final = 5.0
#: A marker file of our own output folders, so an existing folder is replaced only when it is ours.
MARKER: Final = "summary.json"


# ---------------------------------------------------------------------------------------------
# The atomic folder
# ---------------------------------------------------------------------------------------------


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputDirError(
            problems=[
                Problem(
                    "the output path exists and is not a folder",
                    file=out_dir,
                    fix="choose another --out folder",
                )
            ]
        )
    entries = [p for p in out_dir.iterdir() if p.name != ".DS_Store"]
    if entries and not (out_dir / MARKER).is_file():
        raise OutputDirError(
            problems=[
                Problem(
                    f"the output folder exists and is not an earlier planner output (no {MARKER}); "
                    "refusing to replace it",
                    file=out_dir,
                    fix="choose an empty or new --out folder, or remove this one yourself",
                )
            ]
        )


def atomic_dir(out_dir: Path) -> contextlib.AbstractContextManager[Path]:
    """A temporary sibling folder that replaces ``out_dir`` in one rename on success
    (:func:`planner.atomic.atomic_dir`); ``out_dir`` may exist only if it is empty or an earlier output."""
    return atomic.atomic_dir(Path(out_dir), check=_check_replaceable)


# ---------------------------------------------------------------------------------------------
# summary.json and the CSVs
# ---------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _clean_float(float(value))
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"summary.json cannot hold a {type(value).__name__}: {value!r}")


def _clean_float(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


def _clean(obj: Any) -> Any:
    """Replace NaN/inf by None everywhere (JSON has no NaN) and numpy scalars by Python ones."""
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return _clean_float(float(obj))
    return obj


#: Sentences of the summary written for people, with their Chinese form.
_SUMMARY_TEXT_ZH: Final[dict[str, str]] = {
    "Demand farther than travel.max_snap_m from any road cannot be reached by network; demand with no "
    "existing or candidate site within its standard stays uncovered after the plan.": (
        "距道路超过 travel.max_snap_m 的需求点无法经路网到达；标准范围内既无现有设施也无候选点的需求"
        "在规划后仍未覆盖。"
    ),
}


def _localise_texts(obj: Any, lang: Lang) -> Any:
    """Bilingual ``"中文 / English"`` strings reduced to the run's language; known sentences translated."""
    if isinstance(obj, Mapping):
        return {k: _localise_texts(v, lang) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_localise_texts(v, lang) for v in obj]
    if isinstance(obj, str):
        if lang == "zh" and obj in _SUMMARY_TEXT_ZH:
            return _SUMMARY_TEXT_ZH[obj]
        return i18n.local_text(obj, lang)
    return obj


def write_summary(summary: Mapping[str, Any], path: Path, *, lang: Lang | None = None) -> Path:
    """Write ``summary.json`` (UTF-8, Chinese kept readable, NaN written as null).

    With ``lang``, sentences meant for people (``unreachable.explanation``, bilingual reasons) are
    written in that language; keys and codes are unchanged.
    """
    data = _clean(summary)
    if lang is not None:
        data = _localise_texts(data, lang)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the contract columns {missing}; it has {list(frame.columns)}")


def proposals_frame(result: RunResult) -> pd.DataFrame:
    """The ``proposals.csv`` table: contract columns, lon/lat in WGS-84, then ``standards`` (the
    standards each site is there for, ";"-joined) when the plan says them.

    ``result.proposals`` is used as it is when it has lon/lat; a GeoDataFrame without them gets
    them from its geometry (converted from its CRS to WGS-84).
    """
    frame = result.proposals
    if ("lon" not in frame.columns or "lat" not in frame.columns) and isinstance(frame, gpd.GeoDataFrame):
        pts = frame.geometry.to_crs(WGS84)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    _require_columns(frame, PROPOSAL_COLUMNS, "RunResult.proposals")
    extra = ["standards"] if "standards" in frame.columns else []
    out = pd.DataFrame(frame.loc[:, [*PROPOSAL_COLUMNS, *extra]]).reset_index(drop=True)
    out["lon"] = out["lon"].astype(float).round(6)
    out["lat"] = out["lat"].astype(float).round(6)
    return out


def audit_frame(result: RunResult) -> pd.DataFrame:
    """The ``audit.csv`` table (before the plan), its notes in the run's language."""
    return audit_frame_of(result.audit, lang=result.language)


def audit_frame_of(audit: AuditResult, *, lang: Lang | None = None) -> pd.DataFrame:
    """The ``audit.csv`` columns of an audit: the contract columns, then those of the explanation
    columns the table has (population, existing, shortfall, note, citation, role, source).

    Codes stay codes (``role``, ``source``, ``citation``: for scripts); with ``lang`` the ``note``
    (plain text for people) is in that language.
    """
    _require_columns(audit.table, AUDIT_COLUMNS, "audit table")
    extra = [c for c in AUDIT_EXTRA_COLUMNS if c in audit.table.columns]
    out = pd.DataFrame(audit.table.loc[:, [*AUDIT_COLUMNS, *extra]]).reset_index(drop=True)
    if lang is not None and "note" in out.columns:
        out["note"] = out["note"].map(lambda t: i18n.local_note(t, lang))
    return out


def village_gaps_frame(result: RunResult, *, lang: Lang | None = None) -> pd.DataFrame:
    """The ``village_gaps.csv`` table (villages without a station before the plan).

    With ``lang``, a bilingual reason (``"中文 / English"``) keeps only that language's side.
    """
    return village_gaps_frame_of(result.audit, lang=lang)


def village_gaps_frame_of(audit: AuditResult, *, lang: Lang | None = None) -> pd.DataFrame:
    """The ``village_gaps.csv`` columns of an audit, in contract order."""
    gaps = audit.village_gaps
    if gaps.empty and not set(VILLAGE_GAP_COLUMNS) <= set(gaps.columns):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VILLAGE_GAP_COLUMNS})
    _require_columns(gaps, VILLAGE_GAP_COLUMNS, "audit village_gaps")
    extra = [c for c in ("served_by_shared", "cause") if c in gaps.columns]
    out = pd.DataFrame(gaps.loc[:, [*VILLAGE_GAP_COLUMNS, *extra]]).reset_index(drop=True)
    if lang is not None and "cause" in out.columns:
        out["reason"] = [
            i18n.gap_reason(c, float(k), float(m), lang)
            for c, k, m in zip(
                out["cause"], out["nearest_station_km"], out["nearest_station_min"], strict=True
            )
        ]
    elif lang is not None:
        out["reason"] = out["reason"].map(lambda t: i18n.local_text(t, lang))
    return out


#: CSV encoding: UTF-8 with a byte-order mark, so Excel on Chinese Windows (which reads a CSV
#: without one as GBK) shows Chinese names right; pandas, csv and R read it as plain UTF-8 with
#: ``encoding="utf-8-sig"`` and most tools skip the mark by themselves.
CSV_ENCODING: Final = "utf-8-sig"


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV with a BOM and the contract's column names."""
    frame.to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\r\n")
    return path


# ---------------------------------------------------------------------------------------------
# GeoPackage
# ---------------------------------------------------------------------------------------------

#: Layer order in results.gpkg (QGIS shows the first ones on top when it loads them all).
GPKG_LAYERS: Final = ("facilities", "villages", "demand", "gaps", "townships", "boundary")


def _to_wgs84(frame: gpd.GeoDataFrame, crs: CRS, *, simplify: bool = False) -> gpd.GeoDataFrame:
    gdf = frame.copy()
    if gdf.crs is None:
        gdf = gdf.set_crs(crs)
    if simplify:
        geom = gdf.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
        gdf = gdf.set_geometry(geom)
    return gdf.to_crs(WGS84)


def _gpkg_ready(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make columns storable: infinities to NaN, object columns of mixed types to text."""
    gdf = frame.copy()
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        series = gdf[col]
        if pd.api.types.is_float_dtype(series):
            gdf[col] = series.replace([np.inf, -np.inf], np.nan)
        elif series.dtype == object:
            kinds = {type(v) for v in series.dropna()}
            if kinds - {str}:
                gdf[col] = series.map(lambda v: None if i18n.is_missing(v) else str(v))
    return gdf


def spatial_layers(result: RunResult) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers in WGS-84, keyed by layer name (see :data:`GPKG_LAYERS`)."""
    crs = result.crs
    layers = {
        "boundary": _to_wgs84(result.boundary, crs, simplify=True),
        "townships": _to_wgs84(result.townships, crs, simplify=True),
        "demand": _to_wgs84(result.demand, crs),
        "villages": _to_wgs84(result.villages, crs),
        "facilities": _to_wgs84(result.facilities, crs),
        "gaps": _to_wgs84(result.audit.uncovered, crs, simplify=True),
    }
    return {name: _gpkg_ready(layers[name]) for name in GPKG_LAYERS}


def write_gpkg(result: RunResult, path: Path, *, lang: Lang) -> Path:
    """Write ``results.gpkg``: one layer per frame in WGS-84, with a QGIS style per layer.

    Layers: ``boundary``, ``townships``, ``demand``, ``villages`` (villages without coordinates
    are kept with an empty geometry), ``facilities`` (existing and proposed, ``status`` column)
    and ``gaps`` (uncovered population as polygons).
    """
    from planner.outputs.gpkg_styles import write_layer_styles

    layers = spatial_layers(result)
    for name, gdf in layers.items():
        pyogrio.write_dataframe(
            gdf, path, layer=name, driver="GPKG", promote_to_multi=name in ("boundary", "townships", "gaps")
        )
    write_layer_styles(path, layers, lang=lang)
    return path


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------

#: Plain tables of ``RunResult.extra_tables`` also written as CSV and XLSX sheets.
EXTRA_TABLES: Final[tuple[str, ...]] = (
    "delivery_chain",
    "density_targets",
    "budget_curve",
    "station_phasing",
)


def extra_frames(result: RunResult) -> dict[str, pd.DataFrame]:
    """The non-empty plain tables among the run's extra tables (delivery chain, density targets…)."""
    out = {}
    for key in EXTRA_TABLES:
        frame = result.extra_tables.get(key)
        if isinstance(frame, pd.DataFrame) and not isinstance(frame, gpd.GeoDataFrame) and len(frame):
            out[key] = frame.reset_index(drop=True)
    return out
