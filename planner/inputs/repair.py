"""Repairs of invalid polygons (a boundary that crosses itself), each one told with what it changed.

A polygon whose outline crosses itself has no single meaning: GEOS's default repair ("linework",
what QGIS's *Fix geometries* does) reads it by crossings and leaves out the parts the outline loops
over twice, while the "structure" repair keeps every part the outline encloses. The planner keeps
them ("structure": no person silently leaves the study area) and reports, for each repaired
feature, where the outline crosses itself and the area (and, once the population is read, the
people) of the parts the two readings disagree on: :class:`Repair`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from planner.errors import Problem

__all__ = ["Repair", "polygonal", "repair_polygons"]

_GEOD = Geod(ellps="WGS84")


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a repaired geometry (make_valid may add stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


def _km2(geom: BaseGeometry) -> float:
    """Geodesic area (km²) of a WGS-84 geometry."""
    if geom.is_empty:
        return 0.0
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area)) / 1e6


@dataclass(frozen=True)
class Repair:
    """One polygon repaired.

    Attributes
    ----------
    what, file, feature
        The layer ("boundary", "townships"), its file and the 1-based feature number.
    reason
        Why it was invalid (GEOS: "Self-intersection", "Ring Self-intersection", ...) and where.
    area_km2
        The repaired feature's area.
    looped_km2
        Area of the parts the outline loops over (kept here, dropped by a repair by crossings).
    looped
        Those parts (WGS-84), to count their people.
    people, people_total
        People in ``looped`` and in the whole study area, once the population is read (else None).
    """

    what: str
    file: Path | None
    feature: int
    reason: str
    area_km2: float
    looped_km2: float
    looped: BaseGeometry
    people: float | None = None
    people_total: float | None = None

    def note(self) -> Problem:
        """The repair told as a problem-shaped note (file, feature, what changed, what to do)."""
        share = f" ({self.looped_km2 / self.area_km2:.1%} of it)" if self.area_km2 > 0 else ""
        people = ""
        if self.people is not None:
            of_all = f" ({self.people / self.people_total:.1%} of all)" if self.people_total else ""
            people = f" holding {self.people:,.0f} people{of_all}"
        changed = (
            f"the parts its outline loops over, {self.looped_km2:,.2f} km²{share}{people}, are kept "
            "(a repair by crossings, as QGIS's Fix geometries does, would leave them out)"
            if self.looped_km2 > 1e-9
            else "no area or people changed (every part the outline encloses is kept)"
        )
        return Problem(
            f"the {self.what} is not a valid polygon ({self.reason}); repaired to {self.area_km2:,.2f} km²: "
            f"{changed}",
            file=self.file,
            location=f"feature {self.feature}",
            fix="correct the outline where it crosses itself if the repaired area is not the intended one",
        )


def _reason(geom: BaseGeometry) -> str:
    """GEOS's reason with its point as "lon …, lat …"."""
    text = str(shapely.is_valid_reason(geom))
    match = re.match(r"^(.*)\[([-\d.eE+]+) ([-\d.eE+]+)\]$", text)
    if match is None:
        return text
    return f"{match.group(1)} at lon {float(match.group(2)):.5f}, lat {float(match.group(3)):.5f}"


def repair_polygons(
    geoms: list[BaseGeometry], *, what: str, file: Path | None
) -> tuple[list[BaseGeometry], list[Repair]]:
    """Valid polygons for WGS-84 geometries, and a :class:`Repair` for each one that was invalid.

    Valid geometries are returned as they are; an invalid one is repaired with
    ``shapely.make_valid(method="structure")`` (its polygonal part).
    """
    out: list[BaseGeometry] = []
    repairs: list[Repair] = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty or shapely.is_valid(geom):
            out.append(geom)
            continue
        kept = polygonal(shapely.make_valid(geom, method="structure"))
        by_crossings = polygonal(shapely.make_valid(geom))
        looped = shapely.symmetric_difference(kept, by_crossings)
        repairs.append(Repair(what, file, i + 1, _reason(geom), _km2(kept), _km2(looped), looped))
        out.append(kept)
    return out, repairs
