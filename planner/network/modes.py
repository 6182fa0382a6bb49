"""Travel modes read from OSM tags: which ways a mode may use and how fast it goes on each.

A :class:`ModeSpec` holds a speed per ``highway`` class, the rule for a tagged ``maxspeed``, whether
one-way streets bind the mode, the classes it may not use and the ferry speed. :data:`DEFAULT_MODES`
gives documented defaults for walking, the courier's e-tricycle and a van/car; scenario or profile
speed tables override them through :func:`mode_from_overrides`. Tag values are parsed defensively:
``highway`` and ``maxspeed`` may be lists (osmnx merges ways) or stringified lists (GraphML),
``maxspeed`` may carry units or be symbolic, ways without ``highway`` are ferries or unknown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from planner.errors import NetworkError, Problem
from planner.inputs.roadtable import (
    FERRY_CLASS,
    RoadTable,
    edge_classes,
    parse_maxspeed,
    parse_oneway,
)

__all__ = [
    "DEFAULT_MODES",
    "MaxspeedRule",
    "ModeSpec",
    "edge_speed_kmh",
    "mode_from_overrides",
    "mode_speeds",
    "parse_maxspeed",
    "parse_oneway",
]

MaxspeedRule = Literal["replace", "cap", "ignore"]

#: Highway values that are never roads (planning, disused) or never usable by anyone.
_NEVER: frozenset[str] = frozenset(
    {"proposed", "planned", "construction", "abandoned", "razed", "disused", "raceway", "bus_guideway"}
)
_FERRY_CLASS = FERRY_CLASS


@dataclass(frozen=True)
class ModeSpec:
    """A travel mode read from OSM tags.

    Parameters
    ----------
    name
        ``"walk"``, ``"tricycle"``, ``"car"`` or a scenario-defined name.
    speeds_kmh
        Speed per OSM ``highway`` class, km/h.
    default_kmh
        Speed on classes missing from ``speeds_kmh`` (unknown or untagged ways).
    maxspeed
        How a tagged ``maxspeed`` is used: ``"replace"`` the class speed (cars), ``"cap"`` it (take the
        lower: e-tricycles) or ``"ignore"`` it (walking).
    respect_oneway
        One-way streets are travelled only in their direction (vehicles); walkers go both ways.
    excluded
        Highway classes the mode may not use. An edge merged from several ways (``highway`` a list) is
        excluded when any of its classes is.
    ferry_kmh
        Speed on ferry routes (``route=ferry``); ``None`` keeps ferries out of the mode.
    max_kmh
        Top speed of the vehicle; every edge speed is capped at it (``None``: no cap).
    """

    name: str
    speeds_kmh: Mapping[str, float]
    default_kmh: float
    maxspeed: MaxspeedRule = "ignore"
    respect_oneway: bool = False
    excluded: frozenset[str] = frozenset()
    ferry_kmh: float | None = None
    max_kmh: float | None = None

    def __post_init__(self) -> None:
        values = {
            **{f"speed of highway={k}": v for k, v in self.speeds_kmh.items()},
            "default_kmh": self.default_kmh,
        }
        values.update({"ferry_kmh": self.ferry_kmh or 1.0, "max_kmh": self.max_kmh or 1.0})
        problems = [
            Problem(f"mode {self.name!r}: {k} is {v}; speeds must be positive km/h.")
            for k, v in values.items()
            if not (math.isfinite(v) and v > 0)
        ]
        if self.maxspeed not in ("replace", "cap", "ignore"):
            problems.append(
                Problem(f"mode {self.name!r}: maxspeed rule {self.maxspeed!r} is not replace/cap/ignore.")
            )
        if problems:
            raise NetworkError(f"Invalid travel mode {self.name!r}", problems)
        object.__setattr__(self, "speeds_kmh", dict(self.speeds_kmh))
        object.__setattr__(self, "excluded", frozenset(self.excluded))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_json(self) -> str:
        """Stable JSON text of the mode (used in cache keys and stored networks)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(speeds_kmh=dict(sorted(self.speeds_kmh.items())), excluded=sorted(self.excluded))
        return json.dumps(d, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ModeSpec:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        d["excluded"] = frozenset(d["excluded"])
        return cls(**d)


# Default speeds, km/h, per highway class: (walk, e-tricycle, car); None = the mode may not use it.
# Walk: 4.8 km/h (≈ 80 m/min, a common planning value), slower on stairs and rough ways.
# E-tricycle / scooter, the courier's last-mile vehicle: 25 km/h is the legal top speed of e-bikes in
# China (GB 17761-2018); slower on minor and shared ways. Car / van: typical free-flow speeds on Chinese
# county roads where maxspeed is untagged; no motor vehicles on footways, paths, steps, cycleways.
# fmt: off
_SPEED_TABLE: dict[str, tuple[float | None, float | None, float | None]] = {
    "motorway":       (None, None, 100.0), "motorway_link":  (None, None, 50.0),
    "trunk":          (4.8, 25.0, 70.0),   "trunk_link":     (4.8, 20.0, 40.0),
    "primary":        (4.8, 25.0, 50.0),   "primary_link":   (4.8, 20.0, 35.0),
    "secondary":      (4.8, 25.0, 40.0),   "secondary_link": (4.8, 20.0, 30.0),
    "tertiary":       (4.8, 22.0, 35.0),   "tertiary_link":  (4.8, 20.0, 25.0),
    "unclassified":   (4.8, 20.0, 30.0),   "road":           (4.8, 20.0, 30.0),
    "residential":    (4.8, 18.0, 25.0),   "service":        (4.8, 15.0, 15.0),
    "living_street":  (4.8, 12.0, 10.0),   "track":          (4.0, 12.0, 15.0),
    "cycleway":       (4.8, 18.0, None),   "path":           (4.5, 10.0, None),
    "bridleway":      (4.0, 8.0, None),    "footway":        (4.8, 8.0, None),
    "pedestrian":     (4.8, 8.0, None),    "steps":          (2.4, None, None),
    "corridor":       (4.8, None, None),   "platform":       (4.8, None, None),
    "elevator":       (4.8, None, None),
    # Chinese classes of centreline layers (planner.inputs.roadclasses). Cars: the lower bound of the
    # design speeds of JTG B01-2014 (公路工程技术标准: 高速 80-120, 一级 60-100, 二级 60-80, 三级 30-40,
    # 四级 20-30 km/h) and CJJ 37-2012 (城市道路工程设计规范: 快速路 60-100, 主干路 40-60, 次干路
    # 30-50, 支路 20-40 km/h); administrative classes at the grade they are usually built to (国道 as
    # OSM trunk, 省道 二级, 县道 三级 upper, 乡道 三级 lower, 村道 between 四级's two speeds). No
    # pedestrians or e-bikes on expressways (道路交通安全法 §67; urban expressways' main lanes alike).
    "高速公路":       (None, None, 100.0), "城市快速路":     (None, None, 60.0),
    "一级公路":       (4.8, 25.0, 60.0),   "二级公路":       (4.8, 25.0, 60.0),
    "三级公路":       (4.8, 22.0, 30.0),   "四级公路":       (4.8, 20.0, 20.0),
    "等外公路":       (4.8, 15.0, 15.0),
    "国道":           (4.8, 25.0, 70.0),   "省道":           (4.8, 25.0, 60.0),
    "县道":           (4.8, 25.0, 40.0),   "乡道":           (4.8, 22.0, 30.0),
    "村道":           (4.8, 20.0, 25.0),   "专用公路":       (4.8, 20.0, 30.0),
    "主干路":         (4.8, 25.0, 40.0),   "次干路":         (4.8, 22.0, 30.0),
    "支路":           (4.8, 18.0, 20.0),
}
# fmt: on


def _speeds(col: int) -> dict[str, float]:
    return {k: v[col] for k, v in _SPEED_TABLE.items() if v[col] is not None}  # type: ignore[misc]


def _excluded(col: int) -> frozenset[str]:
    return _NEVER | {k for k, v in _SPEED_TABLE.items() if v[col] is None}


#: The documented default travel modes. Scenario or profile speed tables override them through
#: :func:`mode_from_overrides`.
DEFAULT_MODES: Mapping[str, ModeSpec] = {
    "walk": ModeSpec("walk", _speeds(0), 4.8, "ignore", False, _excluded(0), ferry_kmh=10.0),
    "tricycle": ModeSpec(
        "tricycle", _speeds(1), 15.0, "cap", True, _excluded(1), ferry_kmh=10.0, max_kmh=25.0
    ),
    "car": ModeSpec("car", _speeds(2), 25.0, "replace", True, _excluded(2), ferry_kmh=10.0, max_kmh=120.0),
}


def mode_from_overrides(
    base: ModeSpec,
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    default_kmh: float | None = None,
    excluded: Iterable[str] | None = None,
    ferry_kmh: float | None = None,
    name: str | None = None,
) -> ModeSpec:
    """A copy of ``base`` with a scenario's or profile's speed table merged over the defaults.

    Parameters
    ----------
    base
        The mode to start from (usually ``DEFAULT_MODES[...]``).
    speeds_kmh
        Class speeds that replace or extend ``base.speeds_kmh``.
    default_kmh, ferry_kmh, name
        Replace the base values when given.
    excluded
        Replaces the excluded classes when given.
    """
    speeds = dict(base.speeds_kmh)
    if speeds_kmh:
        speeds.update({str(k): float(v) for k, v in speeds_kmh.items()})
    return replace(
        base,
        name=name if name is not None else base.name,
        speeds_kmh=speeds,
        default_kmh=float(default_kmh) if default_kmh is not None else base.default_kmh,
        excluded=frozenset(excluded) if excluded is not None else base.excluded,
        ferry_kmh=float(ferry_kmh) if ferry_kmh is not None else base.ferry_kmh,
    )


# ---------------------------------------------------------------------------------------------
# Speeds of edges
# ---------------------------------------------------------------------------------------------


def _class_speed(classes: tuple[str, ...], mode: ModeSpec) -> tuple[float | None, bool]:
    """Speed of a class tuple before ``maxspeed`` (``None``: the mode may not use it) and whether a ferry."""
    if any(c in mode.excluded for c in classes):
        return None, False
    if classes == (_FERRY_CLASS,):
        return mode.ferry_kmh, True
    class_speeds = [mode.speeds_kmh.get(c, mode.default_kmh) for c in classes]
    return sum(class_speeds) / len(class_speeds), False


def mode_speeds(table: RoadTable, mode: ModeSpec) -> tuple[np.ndarray, dict[str, int]]:
    """Speed (km/h) of every edge of a road table for ``mode``, and the edges it may not use by class.

    Vectorised over the edges: the class speeds are looked up once per class tuple, then the tagged
    ``maxspeed`` (by the mode's rule; never on ferries) and the vehicle's top speed apply per edge.
    Equals :func:`edge_speed_kmh` edge by edge.

    Returns
    -------
    tuple
        ``(speed, excluded)``: speeds with ``nan`` where the mode may not travel, and the count of
        those edges per class label.
    """
    base = np.full(len(table.kinds), np.nan)
    ferry = np.zeros(len(table.kinds), dtype=bool)
    for i, classes in enumerate(table.kinds):
        speed, ferry[i] = _class_speed(classes, mode)
        base[i] = np.nan if speed is None else speed
    speed_e = base[table.kind]
    if mode.maxspeed != "ignore":
        tagged = table.maxspeed
        apply = ~ferry[table.kind] & np.isfinite(tagged) & np.isfinite(speed_e)
        limited = tagged if mode.maxspeed == "replace" else np.minimum(speed_e, tagged)
        speed_e = np.where(apply, limited, speed_e)
    if mode.max_kmh is not None:
        speed_e = np.minimum(speed_e, mode.max_kmh)
    closed = np.bincount(table.kind[np.isnan(speed_e)], minlength=len(table.kinds))
    labels = table.labels()
    excluded: dict[str, int] = {}
    for i in np.flatnonzero(closed).tolist():
        excluded[labels[i]] = excluded.get(labels[i], 0) + int(closed[i])
    return speed_e, excluded


def edge_speed_kmh(
    data: Mapping[str, Any], mode: ModeSpec, cache: dict[Any, float | None] | None = None
) -> tuple[float | None, str]:
    """Speed (km/h) of one edge for ``mode`` (``None`` when the mode may not use it) and its class label.

    The one-edge statement of the rule :func:`mode_speeds` applies to whole tables (kept as its
    reference). ``cache`` is accepted for compatibility and not needed.
    """
    classes = edge_classes(data)
    label = classes[0] if len(classes) == 1 else "+".join(sorted(set(classes)))
    speed, is_ferry = _class_speed(classes, mode)
    if speed is not None and not is_ferry and mode.maxspeed != "ignore":
        tagged = parse_maxspeed(data.get("maxspeed"))
        if tagged is not None:
            speed = tagged if mode.maxspeed == "replace" else min(speed, tagged)
    if speed is not None and mode.max_kmh is not None:
        speed = min(speed, mode.max_kmh)
    return speed, label
