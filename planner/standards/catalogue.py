"""The catalogue of standards: for each id, the one definition every stage reads.

Each :class:`StandardDef` says what a standard measures, over which unit, on which base, which
facility types can meet it and whether the plan can place for it. The audit rows, the plan's
constraints, the after-plan audit, the explanations and the headline all read these definitions
(:mod:`planner.audit.requirements` turns them into per-unit requirements): there is no second
reading of a standard anywhere.

Unit levels: ``cell`` (every person of the area class, reported per village/community, township and
county), ``community`` (居委会/社区), ``village`` (村委会, administrative village), ``township`` (乡镇,
街道 where the standard says so), ``county`` (the study area's county), ``facility`` (each facility).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["radius", "count", "share", "park", "attribute", "info"]
Level = Literal["cell", "community", "village", "township", "county", "facility"]


@dataclass(frozen=True)
class StandardDef:
    """One standard: what it measures, over which unit, on which base, and what can meet it."""

    id: str
    title_zh: str
    title_en: str
    kind: Kind
    unit: Level
    base_zh: str
    base_en: str
    serves: tuple[str, ...] = ()
    plannable: bool = False

    def title(self, lang: str = "zh") -> str:
        """The standard's name in ``lang``."""
        return self.title_en if lang == "en" else self.title_zh


CATALOGUE: Final[dict[str, StandardDef]] = {
    d.id: d
    for d in (
        StandardDef(
            "R-URBAN",
            "城区服务半径",
            "urban service radius",
            "radius",
            "cell",
            "城区人口",
            "people in urban areas",
            ("outlet", "locker", "delivery_centre"),
            True,
        ),
        StandardDef(
            "R-TOWN",
            "镇区服务半径",
            "township service radius",
            "radius",
            "cell",
            "镇区人口",
            "people in township areas",
            ("outlet", "locker", "delivery_centre"),
            True,
        ),
        StandardDef(
            "R-TOWN-15",
            "镇区服务半径（严格读法）",
            "township radius, strict reading",
            "info",
            "cell",
            "镇区人口",
            "people in township areas",
        ),
        StandardDef(
            "R-RURAL",
            "一乡一所",
            "one outlet per township",
            "count",
            "township",
            "乡、镇",
            "townships (乡, 镇)",
            ("outlet",),
            True,
        ),
        StandardDef(
            "D-OUTLET",
            "末端网点密度",
            "outlet density",
            "count",
            "community",
            "社区常住人口（登记数优先）",
            "residents of each community (register first)",
            ("outlet",),
            True,
        ),
        StandardDef(
            "D-OUTLET-N",
            "末端网点建设数量",
            "number of outlets",
            "count",
            "county",
            "全县末端网点",
            "outlets in the county",
            ("outlet",),
            True,
        ),
        StandardDef(
            "D-LOCKER",
            "智能快件箱密度",
            "locker density",
            "count",
            "community",
            "社区户数（登记数优先）",
            "households of each community (register first)",
            ("locker",),
            True,
        ),
        StandardDef(
            "D-LOCKER-N",
            "智能快件箱组数",
            "number of locker groups",
            "count",
            "county",
            "全域智能快件箱组",
            "locker groups in the area",
            ("locker",),
            True,
        ),
        StandardDef(
            "D-CENTRE",
            "公共快递配送中心",
            "public delivery centre",
            "count",
            "community",
            "人口≥3000人的居住项目（社区）",
            "residential projects (communities) of ≥3,000 people",
            ("delivery_centre",),
            True,
        ),
        StandardDef(
            "D-BASE",
            "网点密度基线（每万人）",
            "baseline density per 10,000 people",
            "info",
            "county",
            "常住人口",
            "residents",
        ),
        StandardDef(
            "D-BASE-AREA",
            "网点密度基线（每百平方公里）",
            "baseline density per 100 km²",
            "info",
            "county",
            "面积",
            "area",
        ),
        StandardDef(
            "V-ALL",
            "村村通快递",
            "express service in every village",
            "share",
            "county",
            "有坐标的行政村",
            "administrative villages with coordinates",
            ("village_station",),
            True,
        ),
        StandardDef(
            "V-STATION",
            "村级寄递物流综合服务站覆盖率",
            "village station coverage",
            "share",
            "county",
            "有坐标的行政村",
            "administrative villages with coordinates",
            ("village_station",),
            True,
        ),
        StandardDef(
            "V-5HAVE",
            "村级站点“五有”",
            'village station "five haves"',
            "attribute",
            "facility",
            "村级寄递物流综合服务站",
            "village stations",
        ),
        StandardDef(
            "V-SHARE",
            "站点共享服务半径",
            "shared-station reach",
            "info",
            "village",
            "行政村",
            "administrative villages",
        ),
        StandardDef(
            "P-COUNTY",
            "县级快递园区",
            "county express park",
            "park",
            "county",
            "县（市、区）",
            "county",
            ("park",),
            True,
        ),
        StandardDef(
            "P-EPARK",
            "电商园区邮政快递用地",
            "postal/express space in e-commerce parks",
            "attribute",
            "facility",
            "电商园区",
            "e-commerce parks",
        ),
        StandardDef(
            "P-HUB",
            "分拨中心能力",
            "sorting-centre capacity",
            "attribute",
            "county",
            "分拨中心",
            "sorting centres",
        ),
    )
}

#: Standards a plan can be asked to meet (``plan.meet``).
PLANNABLE: Final[tuple[str, ...]] = tuple(sid for sid, d in CATALOGUE.items() if d.plannable)


def definition(standard_id: str) -> StandardDef:
    """The definition of ``standard_id`` (year rows such as ``V-ALL-2022`` read their parent's)."""
    if standard_id in CATALOGUE:
        return CATALOGUE[standard_id]
    parent = standard_id.rsplit("-", 1)[0]
    if parent in CATALOGUE:
        return CATALOGUE[parent]
    return StandardDef(standard_id, standard_id, standard_id, "count", "county", "", "")
