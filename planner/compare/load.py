"""One side of a comparison: a run's output folder read back (summary, after-plan audit, layers).

A comparison reads what every run writes: ``summary.json``, ``audit_after.csv`` (the after-plan
audit) and ``results.gpkg`` (facilities with their status and cost, villages with their station
status before/after, demand cells with their coverage before/after, townships, boundary; WGS-84).
A missing file is an :class:`~planner.errors.OutputDirError` naming the file and the format that
writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import OutputDirError, Problem
from planner.standards.catalogue import CATALOGUE

__all__ = ["RunFiles", "is_judged", "read_run"]

_NEEDED = {
    "summary.json": "json",
    "audit_after.csv": "csv",
    "results.gpkg": "gpkg",
}
_LAYERS = ("facilities", "villages", "demand", "townships", "boundary")


@dataclass(frozen=True)
class RunFiles:
    """A run read back from its output folder (layers in WGS-84)."""

    folder: Path
    summary: dict[str, Any]
    audit: pd.DataFrame
    facilities: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame

    @property
    def name(self) -> str:
        return str(self.summary.get("scenario", self.folder.name))

    def title(self, lang: str) -> str:
        key = "title_en" if lang == "en" else "title"
        return str(self.summary.get(key) or self.summary.get("title") or self.name)


def is_judged(frame: pd.DataFrame) -> pd.Series:
    """Rows of an audit CSV that judge a standard: its ``role`` is standard or summary when the CSV has
    the column; else a pass/fail value of a catalogued standard that is not information (R-TOWN-15,
    D-BASE …), other target years (``V-ALL-2021``) left out."""
    if "role" in frame.columns:
        return (frame["role"].isin(["standard", "summary"]) & frame["passed"].notna()).astype(bool)
    kinds = frame["standard_id"].astype(str).map(lambda s: CATALOGUE[s].kind if s in CATALOGUE else None)
    return (frame["passed"].notna() & kinds.notna() & (kinds != "info")).astype(bool)


def _passed(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.strip().str.lower()
    return text.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")


def read_run(folder: Path) -> RunFiles:
    """Read a run's output folder; every missing file is named at once."""
    folder = Path(folder)
    missing = [name for name in _NEEDED if not (folder / name).is_file()]
    if missing:
        raise OutputDirError(
            f"{folder} cannot be compared",
            problems=[
                Problem(
                    f"{name} is missing",
                    file=folder,
                    fix=f"run with outputs.formats including {_NEEDED[name]} (or give the scenario instead)",
                )
                for name in missing
            ],
        )
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    audit = pd.read_csv(
        folder / "audit_after.csv", encoding="utf-8-sig", dtype={"unit_code": str, "passed": str}
    )
    audit["unit_code"] = audit["unit_code"].fillna("").astype(str)
    audit["passed"] = _passed(audit["passed"])
    gpkg = folder / "results.gpkg"
    layers = {name: gpd.read_file(gpkg, layer=name).to_crs(4326) for name in _LAYERS}
    for name in ("facilities", "villages", "demand", "townships"):
        frame = layers[name]
        for col in ("village_code", "township_code", "facility_id"):
            if col in frame.columns:
                frame[col] = frame[col].fillna("").astype(str)
    return RunFiles(folder, summary, audit, **layers)
