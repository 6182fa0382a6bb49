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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from planner.errors import NetworkError, Problem

__all__ = ["DEFAULT_MODES", "MaxspeedRule", "ModeSpec", "mode_from_overrides", "parse_maxspeed"]

MaxspeedRule = Literal["replace", "cap", "ignore"]

#: Highway values that are never roads (planning, disused) or never usable by anyone.
_NEVER: frozenset[str] = frozenset(
    {"proposed", "planned", "construction", "abandoned", "razed", "disused", "raceway", "bus_guideway"}
)
_FERRY_CLASS = "ferry"
_UNKNOWN_CLASS = ""


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
# OSM tag parsing
# ---------------------------------------------------------------------------------------------

_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_UNIT_FACTOR = {"mph": 1.609344, "knots": 1.852}


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h.

    Accepts numbers, ``"60"``, ``"60 mph"``, ``"30 knots"``, ``"50;60"`` and lists of these (osmnx
    keeps a list when it merges ways); several values give their mean (osmnx's convention). Symbolic
    values (``"CN:urban"``, ``"none"``, ``"signals"``, ``"walk"``) give ``None``.
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else None
    parts = [p for item in (value if isinstance(value, list | tuple) else [value]) for p in _as_list(item)]
    parts = [q for p in parts for q in re.split(r"[;|]", str(p))]
    speeds: list[float] = []
    for part in parts:
        m = _SPEED_RE.match(part)
        if m:
            v = float(m.group(1)) * _UNIT_FACTOR.get((m.group(2) or "").lower(), 1.0)
            if v > 0:
                speeds.append(v)
    return sum(speeds) / len(speeds) if speeds else None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].replace("'", "").replace('"', "")
        return [t.strip() for t in text.split(",") if t.strip()]
    return [text] if text else []


def parse_oneway(value: Any) -> int:
    """+1 one-way along the edge, -1 one-way against it, 0 two-way."""
    values = value if isinstance(value, list | tuple) else [value]
    result = 0
    for v in values:
        if isinstance(v, bool | np.bool_):
            result = 1 if v else result
            continue
        text = str(v).strip().lower()
        if text in ("yes", "true", "1"):
            result = 1
        elif text == "-1" and result == 0:
            result = -1
    return result


def edge_speed_kmh(
    data: Mapping[str, Any], mode: ModeSpec, cache: dict[Any, float | None]
) -> tuple[float | None, str]:
    """Speed (km/h) of an edge for ``mode`` (``None`` when the mode may not use it) and its class label."""
    classes = _as_list(data.get("highway"))
    route = _as_list(data.get("route"))
    if not classes:  # untagged: a ferry route, or an unknown way at the default speed
        is_ferry = _FERRY_CLASS in route or bool(_as_list(data.get("ferry")))
        classes = [_FERRY_CLASS if is_ferry else _UNKNOWN_CLASS]
    label = classes[0] if len(classes) == 1 else "+".join(sorted(set(classes)))
    key = (tuple(classes), str(data.get("maxspeed")))
    if key in cache:
        return cache[key], label
    speed: float | None
    if any(c in mode.excluded for c in classes):
        speed = None
    elif classes == [_FERRY_CLASS]:
        speed = mode.ferry_kmh
    else:
        class_speeds = [mode.speeds_kmh.get(c, mode.default_kmh) for c in classes]
        speed = sum(class_speeds) / len(class_speeds)
        if mode.maxspeed != "ignore":
            tagged = parse_maxspeed(data.get("maxspeed"))
            if tagged is not None:
                speed = tagged if mode.maxspeed == "replace" else min(speed, tagged)
    if speed is not None and mode.max_kmh is not None:
        speed = min(speed, mode.max_kmh)
    cache[key] = speed
    return speed, label
