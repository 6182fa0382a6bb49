"""Readers of the planner's inputs; each returns a plain GeoDataFrame (or graph) with a checked schema.

Boundary and township polygons, a population raster aggregated to demand points, census totals per
township, village registers and the point layers that locate their villages, existing facilities
(tables or map POI exports), candidate sites and road networks. Coordinates declared GCJ-02 or
BD-09 are converted to WGS-84 on load (:mod:`planner.inputs.coords`); every layer except the
boundary and the road graph (both WGS-84) comes back in the projected work CRS.
:func:`input_summary` states what the outputs must say about the inputs.
"""

from __future__ import annotations

from planner.inputs.boundary import read_boundary, read_townships, work_crs
from planner.inputs.census import CensusTotals, read_census
from planner.inputs.coords import (
    COORDINATE_SYSTEMS,
    CoordinateSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometry_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from planner.inputs.facilities import TYPE_ALIASES, parse_type, read_candidates, read_facilities
from planner.inputs.locate import (
    LOCATION_COLUMNS,
    VillageLocations,
    locate_villages,
    read_village_points,
    register_locations,
)
from planner.inputs.poi import read_poi_facilities
from planner.inputs.population import PopulationReport, read_population_demand
from planner.inputs.roads import read_roads
from planner.inputs.summary import input_summary
from planner.inputs.tables import parse_free_number
from planner.inputs.villages import kind_from_code, read_villages, villages_from_osm_places

__all__ = [
    "COORDINATE_SYSTEMS",
    "LOCATION_COLUMNS",
    "TYPE_ALIASES",
    "CensusTotals",
    "CoordinateSystem",
    "PopulationReport",
    "VillageLocations",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometry_to_wgs84",
    "input_summary",
    "kind_from_code",
    "locate_villages",
    "parse_free_number",
    "parse_type",
    "read_boundary",
    "read_candidates",
    "read_census",
    "read_facilities",
    "read_poi_facilities",
    "read_population_demand",
    "read_roads",
    "read_townships",
    "read_village_points",
    "read_villages",
    "register_locations",
    "to_wgs84",
    "villages_from_osm_places",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "work_crs",
]
