"""The merged results of a batch: summary table (CSV + JSON) and one GeoPackage for every unit.

Every figure of the summary is read back from the unit's own ``summary.json`` on disk (for units
that ran now or were skipped as up to date); a failed unit gets a row with its status and error and
no figures. The *gap* that ranks units is the share of the population not covered under its
class's standard before the plan (urban, township and rural demand together); ties go to the unit
with more villages still without a station.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from planner.batch.spec import BatchPlan
from planner.batch.task import UnitOutcome
from planner.types import AREA_CLASSES, FACILITY_TYPES

log = logging.getLogger(__name__)

#: Columns of ``batch_summary.csv``, in order.
SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "gap_rank",
    "unit",
    "unit_name",
    "county_code",
    "status",
    "error",
    "seconds",
    "population",
    *(f"coverage_{when}_{c}" for c in AREA_CLASSES for when in ("before", "after")),
    "uncovered_before",
    "uncovered_after",
    "gap_before",
    "gap_after",
    "villages",
    "villages_with_station_before",
    "villages_with_station_after",
    *(f"proposed_{t}" for t in FACILITY_TYPES),
    "proposed_total",
    "cost_total",
    "solver_status",
    "solver_gap",
    "scenario_hash",
    "output_dir",
)


def read_unit_summary(out_dir: Path) -> dict[str, Any] | None:
    """A unit's ``summary.json`` read back from disk (None when missing or unreadable)."""
    try:
        data = json.loads((Path(out_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _uncovered(summary: Mapping[str, Any], when: str) -> float | None:
    """Population not covered under its class's standard (sum over the classes with a coverage)."""
    pops = summary.get("population_by_class") or {}
    cov = summary.get("coverage") or {}
    total = 0.0
    seen = False
    for c in AREA_CLASSES:
        pop = _num(pops.get(c))
        share = _num((cov.get(c) or {}).get(when))
        if pop is not None and share is not None:
            total += pop * (1.0 - share)
            seen = True
    return round(total, 1) if seen else None


def unit_row(outcome: UnitOutcome, summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """One row of the batch summary: the unit's outcome and the figures of its ``summary.json``."""
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(
        unit=outcome.unit_id,
        unit_name=outcome.unit_name,
        county_code=outcome.code,
        status=outcome.status,
        error=outcome.error,
        seconds=outcome.seconds,
        scenario_hash=outcome.scenario_hash,
        output_dir=outcome.out_dir,
    )
    if summary is None:
        return row
    population = _num(summary.get("population_total"))
    row["population"] = population
    for c in AREA_CLASSES:
        block = (summary.get("coverage") or {}).get(c) or {}
        row[f"coverage_before_{c}"] = _num(block.get("before"))
        row[f"coverage_after_{c}"] = _num(block.get("after"))
    row["uncovered_before"] = _uncovered(summary, "before")
    row["uncovered_after"] = _uncovered(summary, "after")
    for when in ("before", "after"):
        unc = row[f"uncovered_{when}"]
        row[f"gap_{when}"] = round(unc / population, 6) if unc is not None and population else None
    villages = summary.get("villages") or {}
    row["villages"] = villages.get("total")
    row["villages_with_station_before"] = villages.get("with_station_before")
    row["villages_with_station_after"] = villages.get("with_station_after")
    proposals = summary.get("proposals") or {}
    for t in FACILITY_TYPES:
        row[f"proposed_{t}"] = int(proposals.get(t, 0) or 0)
    row["proposed_total"] = int(sum(int(v or 0) for v in proposals.values()))
    row["cost_total"] = _num(summary.get("cost_total"))
    solver = summary.get("solver") or {}
    row["solver_status"] = solver.get("status")
    row["solver_gap"] = _num(solver.get("mip_gap"))
    row["scenario_hash"] = summary.get("scenario_hash") or outcome.scenario_hash
    return row


def _rank(rows: list[dict[str, Any]]) -> None:
    """Number the units with figures by gap (largest first); failed units get no rank."""
    ranked = [r for r in rows if r["gap_before"] is not None]
    no_station = {id(r): (r["villages"] or 0) - (r["villages_with_station_before"] or 0) for r in ranked}
    ranked.sort(key=lambda r: (-r["gap_before"], -no_station[id(r)], r["unit"]))
    for i, r in enumerate(ranked, start=1):
        r["gap_rank"] = i


def summary_rows(plan: BatchPlan, outcomes: Sequence[UnitOutcome]) -> list[dict[str, Any]]:
    """The batch summary: one row per unit in plan order, figures read from each unit's summary.json."""
    rows = []
    for outcome in outcomes:
        summary = read_unit_summary(Path(outcome.out_dir)) if outcome.status != "failed" else None
        if outcome.status != "failed" and summary is None:  # outputs vanished between the run and the merge
            outcome = UnitOutcome(
                **{
                    **outcome.to_dict(),
                    "status": "failed",
                    "error": f"unit {outcome.unit_id}: summary.json missing in {outcome.out_dir}",
                    "error_type": "MissingOutput",
                }
            )
        rows.append(unit_row(outcome, summary))
    _rank(rows)
    return rows


def summary_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows as a frame with :data:`SUMMARY_COLUMNS` (nullable integer columns stay integers)."""
    frame = pd.DataFrame(list(rows), columns=list(SUMMARY_COLUMNS))
    ints = [
        "gap_rank",
        "villages",
        "villages_with_station_before",
        "villages_with_station_after",
        "proposed_total",
        *(f"proposed_{t}" for t in FACILITY_TYPES),
    ]
    for col in ints:
        frame[col] = frame[col].astype("Int64")
    return frame


def totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Batch totals over the units with figures."""
    ok = [r for r in rows if r["population"] is not None]

    def total(key: str) -> float:
        return round(float(sum(r[key] or 0 for r in ok)), 2)

    population = total("population")
    out: dict[str, Any] = {
        "units": len(rows),
        "units_done": sum(r["status"] == "done" for r in rows),
        "units_skipped": sum(r["status"] == "skipped" for r in rows),
        "units_failed": sum(r["status"] == "failed" for r in rows),
        "population": population,
        "uncovered_before": total("uncovered_before"),
        "uncovered_after": total("uncovered_after"),
        "villages": int(total("villages")),
        "villages_with_station_before": int(total("villages_with_station_before")),
        "villages_with_station_after": int(total("villages_with_station_after")),
        "proposed": {t: int(total(f"proposed_{t}")) for t in FACILITY_TYPES},
        "cost_total": total("cost_total"),
    }
    out["gap_before"] = round(out["uncovered_before"] / population, 6) if population else None
    out["gap_after"] = round(out["uncovered_after"] / population, 6) if population else None
    return out


def write_summary_tables(
    plan: BatchPlan, rows: Sequence[Mapping[str, Any]], *, seconds: float
) -> dict[str, Path]:
    """Write ``batch_summary.csv`` (one row per unit) and ``batch_summary.json`` (rows + totals)."""
    from planner import __version__

    plan.out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = plan.out_dir / "batch_summary.csv"
    json_path = plan.out_dir / "batch_summary.json"
    tmp = csv_path.with_name(f".{csv_path.name}.tmp")
    summary_frame(rows).to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(csv_path)
    doc = {
        "batch": plan.name,
        "title": plan.title,
        "planner_version": __version__,
        "source": str(plan.source) if plan.source else None,
        "seconds": seconds,
        "totals": totals(rows),
        "units": [dict(r) for r in rows],
    }
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(json_path)
    return {"summary_csv": csv_path, "summary_json": json_path}


def merge_gpkg(plan: BatchPlan, rows: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """One GeoPackage with every unit's ``results.gpkg`` layers, each feature tagged with ``unit``.

    Also a ``units`` layer: one (multi)polygon per unit from its boundary, with the summary figures.
    Layers are merged one at a time, so memory holds one layer of all units, not every layer.
    """
    import pyogrio

    sources = [(r, Path(r["output_dir"]) / "results.gpkg") for r in rows if r["status"] != "failed"]
    sources = [(r, p) for r, p in sources if p.is_file()]
    if not sources:
        return None
    layer_names: list[str] = []
    for _, p in sources:
        for name, geom_type in pyogrio.list_layers(p):
            if geom_type is not None and name not in layer_names:
                layer_names.append(str(name))
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    tmp.unlink(missing_ok=True)
    for layer in layer_names:
        merged = _merged_layer(sources, layer)
        if merged is None:
            continue
        pyogrio.write_dataframe(
            merged,
            tmp,
            layer=layer,
            driver="GPKG",
            promote_to_multi=layer in ("boundary", "townships", "gaps"),
        )
    units = unit_polygons(rows)
    if units is not None:
        pyogrio.write_dataframe(units, tmp, layer="units", driver="GPKG", promote_to_multi=True)
    if not tmp.exists():
        return None
    tmp.replace(path)
    return path


def _merged_layer(sources: Sequence[tuple[Mapping[str, Any], Path]], layer: str) -> Any:
    """``layer`` of every unit's GeoPackage that has it, rows tagged with the unit (None when all empty)."""
    import geopandas as gpd
    import pyogrio

    frames = []
    for row, p in sources:
        if layer not in {str(n) for n, _ in pyogrio.list_layers(p)}:
            continue
        gdf = pyogrio.read_dataframe(p, layer=layer)
        gdf.insert(0, "unit", row["unit"])
        gdf.insert(1, "unit_name", row["unit_name"])
        frames.append(gdf)
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    return _uniform_columns(merged)


def _uniform_columns(gdf: Any) -> Any:
    """Object columns holding more than one kind of value (a column empty in one unit, numbers in
    another) become text, so every unit's rows fit one GeoPackage field type."""
    for col in gdf.columns:
        if col == gdf.geometry.name or gdf[col].dtype != object:
            continue
        kinds = {type(v) for v in gdf[col].dropna()}
        if len(kinds) > 1:
            gdf[col] = gdf[col].map(lambda v: None if v is None or v != v else str(v))
    return gdf


def unit_polygons(rows: Sequence[Mapping[str, Any]]) -> Any:
    """A GeoDataFrame (WGS-84) of one polygon per unit (its boundary) with the summary figures."""
    import geopandas as gpd
    import pyogrio

    frames = []
    for row in rows:
        p = Path(str(row["output_dir"])) / "results.gpkg"
        if row["status"] == "failed" or not p.is_file():
            continue
        b = pyogrio.read_dataframe(p, layer="boundary")
        if b.empty:
            continue
        frames.append(
            gpd.GeoDataFrame({"unit": [row["unit"]]}, geometry=[b.to_crs(4326).union_all()], crs=4326)
        )
    if not frames:
        return None
    poly = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    figures = summary_frame(rows).drop(columns=["error", "output_dir"])
    return poly.merge(figures, on="unit", how="left")
