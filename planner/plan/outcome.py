"""What one placement model chose, in the form every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from planner.optimize import SolveResult

__all__ = ["PlacementOutcome", "empty_like"]


@dataclass(frozen=True)
class PlacementOutcome:
    """What one placement model chose."""

    name: str
    chosen: gpd.GeoDataFrame  # the chosen candidate rows
    result: SolveResult | None
    rows_total: int  # demand rows (or villages) the model had to serve
    rows_unreachable: int  # of those, rows no candidate nor existing site can serve
    population_unreachable: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: positions (in the demand or village frame) of the rows no site can serve within standard
    uncoverable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: the covering instance (coverage, demand weight, site cost, fixed sites) for a budget curve
    instance: tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray] | None = None


def empty_like(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """No chosen sites, with the candidates' columns."""
    return candidates.iloc[0:0].copy()
