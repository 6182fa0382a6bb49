"""What the outputs must say about the inputs, as plain data: :func:`input_summary`.

The lead's ``summary.json`` merges the three blocks of :func:`input_summary` under these keys:

``villages``
    merged into ``summary["villages"]``: ``located`` and ``without_coordinates`` (administrative
    villages, 村委会 — the units V-STATION counts), the same for communities, the register
    population of the villages without coordinates, how the located ones were located, the list of
    register units without coordinates with the reason (``unmatched``) and the village points that
    located nothing (``points_unmatched``).
``population_calibration``
    ``None`` when the scenario does not calibrate; else the census file, per township the census
    figure, the raster's people before and after and how (scaled / spread evenly / no area / not in
    census), and the totals before and after.
``inputs``
    ``straight_line_only`` (no road network used: every distance is a straight line),
    ``provenance`` per input (real / synthetic / generated / unstated / none, file, source), the
    population raster's facts with the coarse-cell warning, the townships' source and the people
    outside every township polygon, the facility file's rows kept and dropped (POI exports), the
    area classification (method, thresholds, people per ``"code:urban"`` / ``"density:rural"`` …)
    and the free-text values dropped.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from planner.types import StudyData

__all__ = ["input_summary"]


def _finite(value: Any) -> Any:
    """A JSON-safe scalar: NaN and infinities become None, numpy numbers plain Python ones."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame | None, columns: list[str]) -> list[dict[str, Any]]:
    if frame is None or len(frame) == 0:
        return []
    return [
        {c: _finite(v) for c, v in zip(columns, row, strict=True)}
        for row in frame[columns].itertuples(index=False)
    ]


def _villages_block(study: StudyData) -> dict[str, Any]:
    villages = study.villages
    has = villages.geometry.notna().to_numpy() & ~villages.geometry.is_empty.to_numpy()
    kind = villages["kind"].astype(str).to_numpy()
    pop = pd.to_numeric(villages["population"], errors="coerce").to_numpy(dtype=float)
    missing_pop = pop[~has]
    table = study.village_locations
    located_by: dict[str, int] = {}
    unmatched: list[dict[str, Any]] = []
    if table is not None and len(table):
        located_by = {str(k): int(v) for k, v in table.loc[table["located"], "source"].value_counts().items()}
        cols = ["village_code", "village_name", "township_code", "township_name", "kind", "reason"]
        unmatched = _records(table[~table["located"].astype(bool)], cols)
    points = study.village_points_unmatched
    return {
        "located": int((has & (kind == "village")).sum()),
        "without_coordinates": int((~has & (kind == "village")).sum()),
        "communities_located": int((has & (kind == "community")).sum()),
        "communities_without_coordinates": int((~has & (kind == "community")).sum()),
        "population_without_coordinates": (
            round(float(missing_pop[~pd.isna(missing_pop)].sum()), 1)
            if len(missing_pop) and not pd.isna(missing_pop).all()
            else None
        ),
        "located_by": located_by,
        "unmatched": unmatched,
        "points_unmatched": _records(points, list(points.columns)) if points is not None else [],
    }


def _calibration_block(study: StudyData) -> dict[str, Any] | None:
    cal = study.population_calibration
    if cal is None:
        return None
    rows = [
        {
            "township_code": r["township_code"],
            "township_name": r["township_name"],
            "census": _finite(r["census"]),
            "before": round(float(r["before"]), 1),
            "after": round(float(r["after"]), 1),
            "factor": round(float(r["factor"]), 6) if r["factor"] is not None else None,
            "method": r["method"],
        }
        for r in cal["townships"]
    ]
    return {**cal, "townships": rows}


def input_summary(study: StudyData) -> dict[str, Any]:
    """The facts about the inputs that ``summary.json`` and the report must state (JSON-safe).

    Parameters
    ----------
    study
        The inputs as read by :func:`planner.run.prepare.load_study_data`.

    Returns
    -------
    dict
        ``{"villages": {...}, "population_calibration": {...} or None, "inputs": {...}}``; see the
        module docstring for each block's keys. Numbers are finite or None (never NaN/inf).
    """
    report = study.input_report
    return {
        "villages": _villages_block(study),
        "population_calibration": _calibration_block(study),
        "inputs": {
            "straight_line_only": bool(study.straight_line_only),
            "provenance": study.provenance,
            "population": report.get("population"),
            "townships": report.get("townships"),
            "facilities": report.get("facilities"),
            "area_classification": report.get("area_classification"),
            "dropped_values": report.get("dropped_values", []),
        },
    }
