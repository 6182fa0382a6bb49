"""Road classes of centreline layers: Chinese administrative and urban classes, their variants, OSM tags.

A county bureau's road layer (from the transport or natural-resources department) names each road's
class in Chinese: the administrative class of a highway (国道, 省道, 县道, 乡道, 村道, 专用公路; JTG
B01-2014 and the route numbering of GB/T 917-2017), its technical grade (高速公路, 一级 … 四级公路,
等外公路), or the class of an urban street (快速路, 主干路, 次干路, 支路; CJJ 37-2012). Layers derived
from OpenStreetMap carry OSM ``highway`` tags (Geofabrik's shapefiles name the column ``fclass``).

:func:`normalise_class` maps a value to one *class*: a key of the speed tables of the travel modes
(:mod:`planner.network.modes`). The rule, in order:

1. a value in the caller's own map (``aliases``: the scenario's ``inputs.roads.classes``);
2. a built-in class or variant (:data:`CLASS_VARIANTS`), compared after trimming, folding full-width
   characters and case, and dropping spaces, ``-`` and ``_``;
3. an OSM ``highway`` tag (:data:`OSM_CLASSES`) or a name of one (:data:`OSM_VARIANTS`: Geofabrik's
   ``track_grade1``…``5`` are ``track``, its ``unknown`` is ``road``; 匝道, 步行街, 人行道, 机耕路 …);
4. a value that contains one Chinese class name (``"国道G312"``, ``"县道（X012）"``, ``"城市主干路"``);
5. a route number (GB/T 917-2017): ``G``/``S``/``X``/``Y``/``C``/``Z`` and digits (``"G312"``, ``"X012"``).

Anything else is *unknown* and refused with the value, its rows and the accepted classes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "CHINESE_CLASSES",
    "CLASS_VARIANTS",
    "OSM_CLASSES",
    "OSM_VARIANTS",
    "accepted_classes",
    "normalise_class",
]

#: The Chinese road classes the speed tables know (:data:`planner.network.modes.DEFAULT_MODES`).
CHINESE_CLASSES: tuple[str, ...] = (
    "高速公路",
    "一级公路",
    "二级公路",
    "三级公路",
    "四级公路",
    "等外公路",
    "国道",
    "省道",
    "县道",
    "乡道",
    "村道",
    "专用公路",
    "城市快速路",
    "主干路",
    "次干路",
    "支路",
)

#: OSM ``highway`` values accepted as classes (the OSM speed table, plus values left to the default).
OSM_CLASSES: frozenset[str] = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
        "secondary_link", "tertiary", "tertiary_link", "unclassified", "road", "residential", "service",
        "living_street", "track", "cycleway", "path", "bridleway", "footway", "pedestrian", "steps",
        "corridor", "platform", "elevator", "busway", "bus_guideway", "escape", "raceway",
    }
)  # fmt: skip

#: Variants (Chinese, English, abbreviations) of each Chinese class.
CLASS_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "高速公路": ("高速", "高速路", "高速公路主线", "expressway", "freeway"),
    "一级公路": ("一级", "一级路", "1级公路", "gradei", "class1highway"),
    "二级公路": ("二级", "二级路", "2级公路", "gradeii", "class2highway"),
    "三级公路": ("三级", "三级路", "3级公路", "gradeiii", "class3highway"),
    "四级公路": ("四级", "四级路", "4级公路", "gradeiv", "class4highway"),
    "等外公路": ("等外", "等外路", "等外级公路", "substandardroad"),
    "国道": ("国道公路", "国家级公路", "国家公路", "nationalroad", "nationalhighway"),
    "省道": ("省道公路", "省级公路", "provincialroad", "provincialhighway"),
    "县道": ("县道公路", "县级公路", "countyroad", "countyhighway"),
    "乡道": ("乡道公路", "乡级公路", "乡镇道路", "乡镇公路", "townshiproad"),
    "村道": ("村道公路", "村级公路", "村级道路", "村组道路", "通村公路", "村路", "villageroad"),
    "专用公路": ("专用道路", "专用路", "specialroad", "dedicatedroad"),
    "城市快速路": ("快速路", "快速道路", "城市快速道路", "urbanexpressway", "cityexpressway"),
    "主干路": ("主干道", "城市主干路", "城市主干道", "主干", "arterial", "arterialroad", "mainroad"),
    "次干路": ("次干道", "城市次干路", "城市次干道", "次干", "collector", "collectorroad", "subarterial"),
    "支路": ("城市支路", "街巷", "街坊路", "branchroad", "localroad", "localstreet"),
}

#: Values read as OSM classes (exact matches only): Geofabrik's, and Chinese names of OSM's minor classes.
OSM_VARIANTS: Mapping[str, str] = {f"track_grade{i}": "track" for i in range(1, 6)} | {
    "unknown": "road",
    "匝道": "motorway_link",
    "内部道路": "service",
    "小区道路": "service",
    "步行街": "pedestrian",
    "人行道": "footway",
    "步道": "footway",
    "台阶": "steps",
    "自行车道": "cycleway",
    "非机动车道": "cycleway",
    "机耕路": "track",
    "机耕道": "track",
    "田间道路": "track",
    "小路": "path",
}
_ROUTE_PREFIX = {"G": "国道", "S": "省道", "X": "县道", "Y": "乡道", "C": "村道", "Z": "专用公路"}
_ROUTE_RE = re.compile(r"^([GSXYCZ])\d{1,4}")


def _fold(value: str) -> str:
    """Trimmed, full-width folded (NFKC), lower-case, without spaces, ``-`` and ``_``."""
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return re.sub(r"[\s\-_]+", "", text)


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _build_lookup() -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    contains: list[tuple[str, str]] = []
    for cls in CHINESE_CLASSES:
        for variant in (cls, *CLASS_VARIANTS.get(cls, ())):
            exact[_fold(variant)] = cls
            if _cjk(variant) and len(variant) >= 2 and variant not in ("主干", "次干", "高速", "等外"):
                contains.append((_fold(variant), cls))
    for tag in OSM_CLASSES:
        exact[_fold(tag)] = tag
    for variant, tag in OSM_VARIANTS.items():
        exact[_fold(variant)] = tag
    contains.sort(key=lambda p: -len(p[0]))  # longest first: 城市快速路 before 快速路
    return exact, contains


_EXACT, _CONTAINS = _build_lookup()


def normalise_class(
    value: object, *, aliases: Mapping[str, str] | None = None, known: Iterable[str] = ()
) -> str | None:
    """The class of a road-class value, or ``None`` when it is unknown (see the module notes).

    Parameters
    ----------
    value
        The value of the class column (text or a number).
    aliases
        The caller's own map of values to classes; checked first, compared as the built-ins are.
    known
        Further class names accepted as they are (classes the scenario gives speeds for).
    """
    if value is None:
        return None
    text = str(value)
    folded = _fold(text)
    if not folded or folded in ("nan", "none", "null"):
        return None
    if aliases:
        for key, cls in aliases.items():
            if _fold(str(key)) == folded:
                return str(cls)
    for name in known:
        if _fold(name) == folded:
            return name
    if folded in _EXACT:
        return _EXACT[folded]
    for variant, cls in _CONTAINS:
        if variant in folded:
            return cls
    m = _ROUTE_RE.match(unicodedata.normalize("NFKC", text).strip().upper())
    if m:
        return _ROUTE_PREFIX[m.group(1)]
    return None


def accepted_classes() -> list[str]:
    """The built-in classes, for messages: the Chinese classes, then the OSM tags."""
    return [*CHINESE_CLASSES, *sorted(OSM_CLASSES)]
