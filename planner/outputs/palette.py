"""The colours shared by the map, the report's charts and the GeoPackage styles.

One palette keeps a facility type or a coverage status the same colour wherever a planner meets it.
Colours are hex strings; :func:`rgba_csv` gives the ``"r,g,b,a"`` form QGIS styles use.
"""

from __future__ import annotations

from typing import Final

FACILITY_COLOURS: Final[dict[str, str]] = {
    "outlet": "#1f5fbf",  # blue
    "locker": "#ae3ec9",  # grape
    "village_station": "#0c8599",  # teal
    "delivery_centre": "#e8590c",  # orange
    "park": "#8c510a",  # brown
    "sorting_centre": "#5c940d",  # olive
}
FALLBACK_FACILITY: Final = "#555555"

#: Area classes: dense to sparse.
AREA_COLOURS: Final[dict[str, str]] = {
    "urban": "#f783ac",  # pink
    "township": "#ffc078",  # peach
    "rural": "#c0c080",  # khaki
}

#: What the plan adds is yellow everywhere; what stays uncovered is red everywhere.
PLAN_ADDS: Final = "#fcc419"
NOT_COVERED: Final = "#e03131"

#: Demand points: covered before the plan, newly covered by the plan, still uncovered.
COVER_COLOURS: Final[dict[str, str]] = {
    "covered": "#8ce99a",  # mint
    "gained": PLAN_ADDS,
    "uncovered": NOT_COVERED,
}

#: Villages: a village station (teal, as the facility), one added by the plan (teal ring), served by a
#: neighbour's shared station (pale teal), none (white).
VILLAGE_COLOURS: Final[dict[str, str]] = {
    "station": FACILITY_COLOURS["village_station"],
    "gained": FACILITY_COLOURS["village_station"],
    "shared": "#99e9f2",
    "none": "#ffffff",
}
VILLAGE_NONE_EDGE: Final = "#212529"

GAP_COLOUR: Final = NOT_COVERED
BOUNDARY_COLOUR: Final = "#222222"
TOWNSHIP_COLOUR: Final = "#5c5f66"
#: Service areas of existing facilities (pale blue) and what proposed ones add (the plan's yellow).
BUFFER_COLOURS: Final[dict[str, str]] = {"existing": "#a5d8ff", "proposed": PLAN_ADDS}

#: Graded population classes (light to dark violet).
POPULATION_RAMP: Final[tuple[str, ...]] = ("#e5dbff", "#b197fc", "#845ef7", "#6741d9", "#4c2889")

#: Roads by class (lines, drawn under everything else).
ROAD_COLOURS: Final[dict[str, str]] = {"major": "#868e96", "secondary": "#adb5bd", "minor": "#ced4da"}
ROAD_WIDTHS: Final[dict[str, float]] = {"major": 3.0, "secondary": 2.0, "minor": 1.0}

#: Bars of the report's charts: before the plan (grey) and after (blue-grey, not a legend colour).
BEFORE_COLOUR: Final = "#ced4da"
AFTER_COLOUR: Final = "#364fc7"


def facility_colour(ftype: str) -> str:
    """The colour of a facility type."""
    return FACILITY_COLOURS.get(ftype, FALLBACK_FACILITY)


def rgba_csv(hex_colour: str, alpha: int = 255) -> str:
    """``"#1f5fbf"`` -> ``"31,95,191,255"`` (QGIS colour strings)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"
