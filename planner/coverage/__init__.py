"""Coverage: which site serves which demand within which standard, by network or straight line.

- :mod:`~planner.coverage.engine`: bounded multi-source shortest paths → sparse coverage matrices,
  origin–destination pairs and nearest-facility distances/times;
- :mod:`~planner.coverage.straight`: the straight-line (buffer) reading;
- :mod:`~planner.coverage.areas`: service areas (isochrones) for the map;
- :mod:`~planner.coverage.snaps`: snapped points and coverage matrices computed once per content;
- :mod:`~planner.coverage.rules`: the service rule of each area class and the coverage columns the
  audit reads.
"""

from planner.coverage.areas import service_area_layer, service_areas
from planner.coverage.engine import Nearest, coverage_matrix, nearest_facility, od_pairs
from planner.coverage.rules import (
    ServiceRule,
    assess,
    demand_site_coverage,
    evaluate_demand,
    service_rules,
    village_station_status,
)
from planner.coverage.snaps import SnapCache, cached_coverage
from planner.coverage.straight import buffer_coverage, nearest_straight

__all__ = [
    "Nearest",
    "ServiceRule",
    "SnapCache",
    "assess",
    "buffer_coverage",
    "cached_coverage",
    "coverage_matrix",
    "demand_site_coverage",
    "evaluate_demand",
    "nearest_facility",
    "nearest_straight",
    "od_pairs",
    "service_area_layer",
    "service_areas",
    "service_rules",
    "village_station_status",
]
