"""Writing the output folder: the atomic folder swap, ``summary.json``, the CSVs, GeoPackage and XLSX.

Every output is written into a temporary sibling folder (``.<name>.tmp-XXXX`` next to the target);
only when every file is complete is the old folder (if any) moved aside and the new one renamed into
place, so a failed run leaves the previous output untouched and nothing half-written. A folder that
exists but does not look like an earlier output of the planner (not empty, no ``summary.json``) is
never replaced: the planner refuses rather than delete someone's files.

Tables for scripts (CSV) keep the contract's English column names and are plain UTF-8; tables for
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
from planner.types import AUDIT_COLUMNS, PROPOSAL_COLUMNS, VILLAGE_GAP_COLUMNS, AuditResult, RunResult

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


def write_summary(summary: Mapping[str, Any], path: Path) -> Path:
    """Write ``summary.json`` (UTF-8, Chinese kept readable, NaN written as null)."""
    text = json.dumps(_clean(summary), ensure_ascii=False, indent=2, default=_json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the contract columns {missing}; it has {list(frame.columns)}")


def proposals_frame(result: RunResult) -> pd.DataFrame:
    """The ``proposals.csv`` table: contract columns, lon/lat in WGS-84.

    ``result.proposals`` is used as it is when it has lon/lat; a GeoDataFrame without them gets
    them from its geometry (converted from its CRS to WGS-84).
    """
    frame = result.proposals
    if ("lon" not in frame.columns or "lat" not in frame.columns) and isinstance(frame, gpd.GeoDataFrame):
        pts = frame.geometry.to_crs(WGS84)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    _require_columns(frame, PROPOSAL_COLUMNS, "RunResult.proposals")
    out = pd.DataFrame(frame.loc[:, list(PROPOSAL_COLUMNS)]).reset_index(drop=True)
    out["lon"] = out["lon"].astype(float).round(6)
    out["lat"] = out["lat"].astype(float).round(6)
    return out


def audit_frame(result: RunResult) -> pd.DataFrame:
    """The ``audit.csv`` table (before the plan)."""
    return audit_frame_of(result.audit)


def audit_frame_of(audit: AuditResult) -> pd.DataFrame:
    """The ``audit.csv`` columns of an audit, in contract order."""
    _require_columns(audit.table, AUDIT_COLUMNS, "audit table")
    return pd.DataFrame(audit.table.loc[:, list(AUDIT_COLUMNS)]).reset_index(drop=True)


def village_gaps_frame(result: RunResult) -> pd.DataFrame:
    """The ``village_gaps.csv`` table (villages without a station before the plan)."""
    return village_gaps_frame_of(result.audit)


def village_gaps_frame_of(audit: AuditResult) -> pd.DataFrame:
    """The ``village_gaps.csv`` columns of an audit, in contract order."""
    gaps = audit.village_gaps
    if gaps.empty and not set(VILLAGE_GAP_COLUMNS) <= set(gaps.columns):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VILLAGE_GAP_COLUMNS})
    _require_columns(gaps, VILLAGE_GAP_COLUMNS, "audit village_gaps")
    return pd.DataFrame(gaps.loc[:, list(VILLAGE_GAP_COLUMNS)]).reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as plain UTF-8 CSV with the contract's column names (for scripts)."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
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

SHEETS: Final[dict[str, tuple[str, str]]] = {
    "summary": ("摘要", "summary"),
    "audit": ("标准审计", "audit"),
    "townships": ("乡镇", "townships"),
    "proposals": ("规划方案", "proposals"),
    "village_gaps": ("村级缺口", "village_gaps"),
    "facility_gaps": ("设施缺口", "facility_gaps"),
    "audit_after": ("规划后审计", "audit_after"),
    "delivery_chain": ("三级寄递链", "delivery_chain"),
    "density_targets": ("密度目标", "density_targets"),
    "budget_curve": ("投资覆盖曲线", "budget_curve"),
    "station_phasing": ("村站分年建设", "station_phasing"),
}

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


def summary_rows(summary: Mapping[str, Any], lang: Lang) -> pd.DataFrame:
    """``summary.json`` flattened to two columns (item, value) for a spreadsheet."""
    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, Mapping):
            for key, val in obj.items():
                walk(f"{prefix}.{key}" if prefix else str(key), val)
        elif isinstance(obj, list | tuple):
            rows.append((prefix, "; ".join(str(v) for v in obj)))
        else:
            rows.append((prefix, obj))

    walk("", _clean(summary))
    if lang == "zh":
        rows = [
            (" · ".join(SUMMARY_KEYS_ZH.get(part, part) for part in key.split(".")), val) for key, val in rows
        ]
    return pd.DataFrame(rows, columns=[i18n.column_label("item", lang), i18n.column_label("value", lang)])


#: Chinese names of the parts of summary.json keys (``coverage.urban.before`` -> 覆盖率 · 城区 · 规划前).
SUMMARY_KEYS_ZH: Final[dict[str, str]] = {
    "scenario": "方案",
    "title": "标题",
    "planner_version": "软件版本",
    "scenario_hash": "方案指纹",
    "crs": "计算坐标系",
    "reading": "服务半径口径",
    "year": "规划年份",
    "profile": "标准配置",
    "population_total": "总人口",
    "population_by_class": "分类人口",
    "coverage": "覆盖率",
    "coverage_by_reading": "分口径覆盖率",
    "network": "路网",
    "buffer": "直线距离",
    "urban": "城区",
    "township": "镇区",
    "rural": "农村",
    "before": "规划前",
    "after": "规划后",
    "villages": "行政村",
    "total": "总数",
    "with_station_before": "规划前有站",
    "with_station_after": "规划后有站",
    "unmappable": "无坐标",
    "proposals": "新增设施数",
    "cost_total": "总投资（元）",
    "outlet": "快递末端网点",
    "locker": "智能快件箱",
    "village_station": "村级站点",
    "delivery_centre": "公共配送中心",
    "park": "县级园区",
    "solver": "求解器",
    "name": "名称",
    "status": "状态",
    "objective": "目标值",
    "mip_gap": "MIP 间隙",
    "seconds": "用时（秒）",
    "timings": "耗时（秒）",
    "unreachable": "不可达",
    "notes": "说明",
    "population_off_network": "路网外人口",
    "population_no_site_within_standard": "标准范围内无选址点的人口",
    "villages_no_candidate_within_reach": "无可达候选点的行政村",
    "explanation": "解释",
}


def _localise(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    out = frame.copy()
    if lang == "zh":
        for col in out.columns:
            if pd.api.types.is_bool_dtype(out[col]):
                out[col] = out[col].map(lambda v: i18n.fmt_bool(v, lang))
        for col in ("type", "facility_type"):
            if col in out.columns:
                out[col] = out[col].map(lambda t: i18n.facility_label(str(t), lang))
        if "unit_level" in out.columns:
            out["unit_level"] = out["unit_level"].map(
                lambda t: i18n.pick(i18n.UNIT_LEVEL_LABELS.get(str(t), (str(t), str(t))), lang)
            )
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    out.columns = [i18n.column_label(str(c), lang) for c in out.columns]
    return out


def number_format(column: str) -> str | None:
    """The Excel number format of a column, by what its (contract) name says it holds."""
    name = column.lower()
    if name.startswith("coverage") or name.endswith(("_share", "_rate")):
        return "0.0%"
    if name.endswith(("_km", "_min")):
        return "0.0"
    if name in ("cost", "population_gained", "population", "households") or name.endswith("_cost"):
        return "#,##0"
    return None


def xlsx_tables(result: RunResult, lang: Lang) -> dict[str, pd.DataFrame]:
    """The tables of ``results.xlsx`` keyed by sheet name (in the output language).

    Each frame carries its contract column names in ``frame.attrs["source_columns"]`` (for the
    number formats).
    """
    township = result.township_table
    if isinstance(township, gpd.GeoDataFrame):
        township = pd.DataFrame(township.drop(columns=township.geometry.name))
    sources = {
        "audit": audit_frame(result),
        "townships": township,
        "proposals": proposals_frame(result),
        "village_gaps": village_gaps_frame(result),
    }
    gaps = result.audit.township_gaps
    if gaps is not None and len(gaps):
        sources["facility_gaps"] = pd.DataFrame(gaps).reset_index(drop=True)
    if result.audit_after is not None and len(result.audit_after.table):
        sources["audit_after"] = pd.DataFrame(result.audit_after.table).reset_index(drop=True)
    sources.update(extra_frames(result))
    tables = {"summary": summary_rows(result.summary, lang)}
    for key, frame in sources.items():
        local = _localise(frame, lang)
        local.attrs["source_columns"] = [str(c) for c in frame.columns]
        tables[key] = local
    return {i18n.pick(SHEETS[key], lang): frame for key, frame in tables.items()}


def write_xlsx(result: RunResult, path: Path, *, lang: Lang) -> Path:
    """Write ``results.xlsx``: one sheet per table, bold frozen header, filters, fitted widths."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    tables = xlsx_tables(result, lang)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in tables.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            if frame.shape[1]:
                ws.auto_filter.ref = ws.dimensions
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDE6F0")
            sources = frame.attrs.get("source_columns") or [None] * frame.shape[1]
            for idx, (col, source) in enumerate(zip(frame.columns, sources, strict=True), start=1):
                fmt = number_format(source) if source else None
                if fmt:
                    for (cell,) in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell.number_format = fmt
                texts = [str(col)] + [str(v) for v in frame[col].head(500)]
                width = max(_display_width(t) for t in texts)
                ws.column_dimensions[get_column_letter(idx)].width = min(60, max(8, width + 2))
    return path


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
