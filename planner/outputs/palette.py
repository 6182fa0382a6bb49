"""The colours shared by the map, the report's charts and the GeoPackage styles.

One palette keeps a facility type or a coverage status the same colour wherever a planner meets it.
Colours are hex strings; :func:`rgba_csv` gives the ``"r,g,b,a"`` form QGIS styles use.
"""

from __future__ import annotations

from typing import Final

FACILITY_COLOURS: Final[dict[str, str]] = {
    "outlet": "#1f5fbf",  # blue
    "locker": "#7b3fb0",  # purple
    "village_station": "#1a8a4a",  # green
    "delivery_centre": "#0f8a8a",  # teal
    "park": "#b5651d",  # brown
    "sorting_centre": "#a3291f",  # dark red
}
FALLBACK_FACILITY: Final = "#555555"

AREA_COLOURS: Final[dict[str, str]] = {
    "urban": "#d95f02",
    "township": "#e6ab02",
    "rural": "#66a61e",
}

#: Demand points: covered before the plan, newly covered by the plan, still uncovered.
COVER_COLOURS: Final[dict[str, str]] = {
    "covered": "#2b8a3e",
    "gained": "#1c7ed6",
    "uncovered": "#e03131",
}

#: Villages: station before the plan, station added by the plan, still without one.
VILLAGE_COLOURS: Final[dict[str, str]] = {
    "station": "#2b8a3e",
    "gained": "#1c7ed6",
    "none": "#e03131",
}

GAP_COLOUR: Final = "#e03131"
BOUNDARY_COLOUR: Final = "#222222"
TOWNSHIP_COLOUR: Final = "#5c5f66"
BUFFER_COLOURS: Final[dict[str, str]] = {"existing": "#4c6ef5", "proposed": "#f08c00"}

#: Graded population classes (light to dark), ColorBrewer YlOrRd.
POPULATION_RAMP: Final[tuple[str, ...]] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

BEFORE_COLOUR: Final = "#adb5bd"
AFTER_COLOUR: Final = "#1c7ed6"


def facility_colour(ftype: str) -> str:
    """The colour of a facility type."""
    return FACILITY_COLOURS.get(ftype, FALLBACK_FACILITY)


def rgba_csv(hex_colour: str, alpha: int = 255) -> str:
    """``"#1f5fbf"`` -> ``"31,95,191,255"`` (QGIS colour strings)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"
