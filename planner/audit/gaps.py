"""Gap lists: uncovered population as polygons and the facilities each failing unit lacks."""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner.audit._common import as_code
from planner.errors import InputDataError, Problem

#: Columns of ``AuditResult.township_gaps``.
TOWNSHIP_GAP_COLUMNS: Final = (
    "standard_id",
    "unit_level",
    "unit_code",
    "unit_name",
    "facility_type",
    "existing",
    "value",
    "target",
    "needed",
    "note",
)
#: Columns of ``AuditResult.uncovered`` (besides geometry).
UNCOVERED_COLUMNS: Final = ("area_class", "township_code", "population", "cells")

#: Which facility type closes the gap of each facility-count check, and at which unit levels.
_GAP_CHECKS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "R-RURAL": ("outlet", ("township",)),
    "D-OUTLET": ("outlet", ("township", "community")),
    "D-OUTLET-N": ("outlet", ("county",)),
    "D-LOCKER": ("locker", ("community",)),
    "D-LOCKER-N": ("locker", ("county",)),
    "D-CENTRE": ("delivery_centre", ("community",)),
    "P-COUNTY": ("park", ("county",)),
}


def infer_cell_size(demand: gpd.GeoDataFrame) -> float:
    """Demand resolution in metres: the median distance from each demand point to its nearest neighbour."""
    xy = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
    if len(xy) < 2:
        raise InputDataError(
            problems=[
                Problem(
                    "cannot infer the demand cell size from fewer than two demand points",
                    location="cell_size_m",
                    fix="pass cell_size_m (the scenario's demand resolution) to run_audit",
                )
            ]
        )
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(dist[:, 1]))


def uncovered_polygons(demand: gpd.GeoDataFrame, covered_col: str, *, cell_size_m: float) -> gpd.GeoDataFrame:
    """Uncovered demand cells as squares of side ``cell_size_m``, dissolved per township and class.

    Returns a GeoDataFrame (demand's CRS) with columns area_class, township_code, population (sum of
    the cells), cells (number of cells) and the merged polygon; only cells with people.
    """
    unc = demand[~demand[covered_col].fillna(False).astype(bool) & (demand["population"].astype(float) > 0)]
    if len(unc) == 0:
        return gpd.GeoDataFrame({c: [] for c in UNCOVERED_COLUMNS}, geometry=[], crs=demand.crs)
    h = cell_size_m / 2.0
    x = unc.geometry.x.to_numpy()
    y = unc.geometry.y.to_numpy()
    squares = shapely.set_precision(shapely.box(x - h, y - h, x + h, y + h), grid_size=cell_size_m / 1000.0)
    cells = gpd.GeoDataFrame(
        {
            "area_class": unc["area_class"].astype(str).to_numpy(),
            "township_code": as_code(unc["township_code"]).to_numpy(),
            "population": unc["population"].astype(float).to_numpy(),
            "cells": np.ones(len(unc), dtype=int),
        },
        geometry=squares,
        crs=demand.crs,
    )
    merged = cells.dissolve(by=["township_code", "area_class"], aggfunc={"population": "sum", "cells": "sum"})
    merged = merged.reset_index()
    merged["geometry"] = merged.geometry.simplify(0)  # drop the collinear vertices of the merged squares
    return (
        merged[[*UNCOVERED_COLUMNS, "geometry"]]
        .sort_values(["population"], ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def township_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """Failing units of the facility-count checks and how many facilities each lacks.

    R-RURAL townships without enough outlets, D-OUTLET / D-LOCKER townships and communities below
    the density target (``needed`` = ⌈target × amount / per⌉ − existing), D-CENTRE communities
    without a qualifying centre and P-COUNTY counties without a qualifying park.
    """
    parts = []
    for sid, (ftype, levels) in _GAP_CHECKS.items():
        sel = table[
            (table["standard_id"] == sid)
            & table["unit_level"].isin(levels)
            & (table["role"] == "standard")
            & (table["passed"] == False)  # noqa: E712  (nullable boolean: NA stays out)
        ]
        if len(sel):
            parts.append(
                pd.DataFrame(
                    {
                        "standard_id": sid,
                        "unit_level": sel["unit_level"].to_numpy(),
                        "unit_code": sel["unit_code"].to_numpy(),
                        "unit_name": sel["unit_name"].to_numpy(),
                        "facility_type": ftype,
                        "existing": sel["existing"].to_numpy(),
                        "value": sel["value"].to_numpy(),
                        "target": sel["target"].to_numpy(),
                        "needed": sel["shortfall"].to_numpy(),
                        "note": sel["note"].to_numpy(),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=list(TOWNSHIP_GAP_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(TOWNSHIP_GAP_COLUMNS)]
