"""What one placement model chose, in the form every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from planner.optimize import SolveResult

__all__ = ["PlacementOutcome", "Shortfall", "empty_like"]


@dataclass(frozen=True)
class Shortfall:
    """A unit a model cannot bring to its standard: by how many facilities (or villages), and why.

    ``cause``: ``no_candidate`` (too few candidate sites reach the unit), ``budget`` (the money runs
    out), ``not_placeable`` (the facility type is not placed by this scenario).
    """

    standard_id: str
    level: str
    code: str
    name: str
    short_by: int
    cause: str


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
    #: units the candidates cannot bring to their standard
    shortfalls: tuple[Shortfall, ...] = ()
    #: positions of the rows the plan serves (pickup: demand rows; stations: villages)
    served_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def empty_like(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """No chosen sites, with the candidates' columns."""
    return candidates.iloc[0:0].copy()
