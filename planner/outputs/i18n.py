"""Labels and number formats for the outputs, in Chinese (default) and English.

Chinese readers get thousands separators with the unit after a space-free join (``12,345 人``),
percentages with one decimal (``85.0%``) and money in 万元 once it reaches ten thousand yuan.
Every formatter returns ``"—"`` for a missing value (``None``/NaN) so a table never shows ``nan``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

import pandas as pd

from planner.audit.explain import note_zh

Lang = Literal["zh", "en"]
MISSING: Final = "—"

#: Facility types: (zh, en, one-character map symbol zh, symbol en).
FACILITY_LABELS: Final[dict[str, tuple[str, str, str, str]]] = {
    "outlet": ("快递末端网点", "Terminal outlet", "网", "O"),
    "locker": ("智能快件箱", "Smart locker group", "柜", "L"),
    "village_station": ("村级寄递物流服务站", "Village station", "站", "V"),
    "delivery_centre": ("公共快递配送中心", "Public delivery centre", "配", "D"),
    "park": ("县级快递园区", "County express park", "园", "P"),
    "sorting_centre": ("分拨中心", "Sorting centre", "分", "S"),
}

AREA_LABELS: Final[dict[str, tuple[str, str]]] = {
    "urban": ("城区", "Urban"),
    "township": ("镇区", "Township"),
    "rural": ("农村", "Rural"),
}

#: Short names of the standards (STANDARDS.md ids).
STANDARD_LABELS: Final[dict[str, tuple[str, str]]] = {
    "R-URBAN": ("城区服务半径（1 公里或步行 10 分钟）", "Urban service radius (1 km or 10 min walk)"),
    "R-TOWN": (
        "镇区服务半径（3 公里或车程 15–30 分钟）",
        "Township service radius (3 km or 15–30 min drive)",
    ),
    "R-TOWN-STRICT": ("镇区服务半径（车程 15 分钟）", "Township service radius (15 min drive)"),
    "R-TOWN-15": ("镇区服务半径（严格口径：车程 15 分钟）", "Township service radius (strict: 15 min drive)"),
    "D-BASE-AREA": ("每百平方公里网点数（基线）", "Outlets per 100 km² (baseline)"),
    "V-ALL-2021": ("村村通快递（2021 年目标 95%）", "Express service in every village (2021: 95%)"),
    "V-ALL-2022": ("村村通快递（2022 年目标 100%）", "Express service in every village (2022: 100%)"),
    "V-STATION-2024": ("村级站点覆盖率（2024 年底 >85%）", "Village station coverage (end 2024: >85%)"),
    "V-STATION-2025": ("村级站点覆盖率（2025 年底 100%）", "Village station coverage (end 2025: 100%)"),
    "R-RURAL": ("一乡一所", "One outlet per township"),
    "D-OUTLET": ("每万人末端网点数", "Outlets per 10,000 residents"),
    "D-LOCKER": ("每百户智能快件箱组数", "Locker groups per 100 households"),
    "D-CENTRE": ("大型住宅项目配送中心", "Delivery centre per large residential project"),
    "D-BASE": ("网点密度基线", "Baseline outlet density"),
    "D-LOCKER-N": ("智能快件箱组总量", "Locker groups in total"),
    "D-OUTLET-N": ("末端网点总量", "Outlets in total"),
    "P-HUB-AUTO": ("分拨中心智能化分拣", "Automated sorting centres"),
    "V-ALL": ("村村通快递", "Express service in every village"),
    "V-STATION": ("村级寄递物流站点覆盖率", "Village station coverage"),
    "V-5HAVE": ("村级站点“五有”", "Village station 'five haves'"),
    "V-SHARE": ("站点共建共享", "Shared stations"),
    "P-COUNTY": ("县级快递园区（入驻≥3 家）", "County express park (≥3 carriers)"),
    "P-EPARK": ("电商园区预留快递用地", "E-commerce park land for express"),
    "P-HUB": ("分拨中心处理能力", "Sorting hub capacity"),
}

#: Standards whose county row is a share although their unit rows are counts (the audit's convention).
COUNTY_SHARE_STANDARDS: Final = frozenset({"R-RURAL", "D-CENTRE"})

#: How a standard's value reads: "pct" (a share 0..1), "count", "rate" (a number with decimals).
#: Ids with a suffix (``V-ALL-2021``, ``R-TOWN-15``) read like their base id unless listed here.
STANDARD_KINDS: Final[dict[str, str]] = {
    "D-BASE-AREA": "rate",
    "R-URBAN": "pct",
    "R-TOWN": "pct",
    "R-TOWN-STRICT": "pct",
    "V-ALL": "pct",
    "V-STATION": "pct",
    "D-OUTLET": "rate",
    "D-LOCKER": "rate",
    "D-BASE": "rate",
    "R-RURAL": "count",
    "P-COUNTY": "count",
    "D-LOCKER-N": "count",
    "D-OUTLET-N": "count",
    "P-HUB-AUTO": "pct",
    "P-HUB": "count",
    "C": "count",
    "D-CENTRE": "count",
}

UNIT_LEVEL_LABELS: Final[dict[str, tuple[str, str]]] = {
    "county": ("县", "County"),
    "township": ("乡镇", "Township"),
    "village": ("村", "Village"),
    "community": ("社区", "Community"),
}

#: Column headers for the tables (XLSX sheets, report tables). Unknown columns keep their name.
COLUMN_LABELS: Final[dict[str, tuple[str, str]]] = {
    "standard_id": ("标准编号", "Standard"),
    "units": ("数量（组/个）", "Units"),
    "short_by": ("仍缺数", "Still short by"),
    "planned_required": ("规划目标数", "Planned to reach"),
    "candidates": ("候选点数", "Candidate sites"),
    "standard_requires": ("标准要求数", "Standard requires"),
    "chain_min": ("寄递链时间（分钟）", "Chain time (min)"),
    "park_id": ("县级园区/分拨中心", "County park / sorting centre"),
    "outlet_id": ("乡镇网点", "Township outlet"),
    "station_id": ("村级站点", "Village station"),
    "unit_level": ("单元层级", "Unit level"),
    "unit_code": ("单元代码", "Unit code"),
    "unit_name": ("单元名称", "Unit name"),
    "value": ("现状值", "Value"),
    "target": ("目标值", "Target"),
    "passed": ("是否达标", "Passed"),
    "village_code": ("村（社区）代码", "Village code"),
    "village_name": ("村（社区）名称", "Village"),
    "township_code": ("乡镇代码", "Township code"),
    "township_name": ("乡镇名称", "Township"),
    "population": ("人口（人）", "Population"),
    "households": ("户数（户）", "Households"),
    "nearest_station_km": ("最近站点距离（公里）", "Nearest station (km)"),
    "nearest_station_min": ("最近站点时间（分钟）", "Nearest station (min)"),
    "reason": ("缺口原因", "Reason"),
    "id": ("编号", "ID"),
    "type": ("设施类型", "Facility type"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "cost": ("建设费用（元）", "Cost (yuan)"),
    "population_gained": ("新增覆盖人口（人）", "Population gained"),
    "area_class": ("地区类型", "Area class"),
    "key": ("项目", "Item"),
    "item": ("项目", "Item"),
    "covered_before": ("规划前覆盖人口", "Covered before"),
    "covered_after": ("规划后覆盖人口", "Covered after"),
    "coverage_before": ("规划前覆盖率", "Coverage before"),
    "coverage_after": ("规划后覆盖率", "Coverage after"),
    "villages": ("行政村数", "Villages"),
    "villages_total": ("行政村数", "Villages"),
    "with_station_before": ("规划前有站村数", "With station before"),
    "with_station_after": ("规划后有站村数", "With station after"),
    "outlets": ("末端网点数", "Outlets"),
    "lockers": ("智能快件箱数", "Lockers"),
    "stations": ("村级站点数", "Village stations"),
    "proposed": ("规划新增设施数", "Proposed facilities"),
    "uncovered_population": ("未覆盖人口（人）", "Uncovered population"),
    "facility_type": ("设施类型", "Facility type"),
    "existing": ("现有数量", "Existing"),
    "needed": ("需新增数量", "Needed"),
    "note": ("说明", "Note"),
    "villages_with_station_before": ("规划前有站村数", "Villages with station before"),
    "villages_own_station_before": ("规划前本村有站村数", "Villages with own station before"),
    "villages_own_station_after": ("规划后本村有站村数", "Villages with own station after"),
    "base": ("基数（人/户）", "Base (people/households)"),
    "served_by_shared": ("由共享站点服务", "Served by a shared station"),
    "role": ("行类型", "Row type"),
    "source": ("所据文件", "Profile"),
    "villages_with_station_after": ("规划后有站村数", "Villages with station after"),
    "proposed_outlets": ("新增网点", "New outlets"),
    "proposed_lockers": ("新增快件箱", "New lockers"),
    "proposed_village_stations": ("新增村级站点", "New village stations"),
    "proposed_delivery_centres": ("新增配送中心", "New delivery centres"),
    "proposed_cost": ("新增投资", "Cost of new facilities"),
    "shortfall": ("缺口", "Shortfall"),
    "citation": ("依据条款", "Source clause"),
    "unit": ("单元", "Unit"),
    "kind": ("设施类型", "Facility type"),
    "code": ("单元代码", "Unit code"),
    "name": ("单元名称", "Unit name"),
    "budget": ("投资上限（元）", "Budget (yuan)"),
    "new_sites": ("新增设施数", "New sites"),
    "cost_new": ("新增投资（元）", "Cost of new sites (yuan)"),
    "covered_weight": ("覆盖人口（人）", "People covered"),
    "covered_share": ("覆盖率", "Coverage"),
    "gain": ("比上一档新增覆盖人口", "Gain over the previous step"),
    "status": ("求解状态", "Solver status"),
    "mip_gap": ("MIP 间隙", "MIP gap"),
    "seconds": ("用时（秒）", "Time (s)"),
    "standards": ("对应标准", "For standards"),
    "standard": ("标准", "Standard"),
    "cause": ("原因", "Cause"),
    "year": ("年份", "Year"),
    "share": ("目标覆盖率", "Target share"),
    "explanation": ("说明", "Explanation"),
    "before": ("规划前", "Before"),
    "after": ("规划后", "After"),
    "unit_of": ("单位", "Unit"),
    "sites": ("站点数", "Sites"),
    "own_station_before": ("规划前自有站点村数", "Own station before"),
    "own_station_after": ("规划后自有站点村数", "Own station after"),
    "shared_station_before": ("规划前共享站点村数", "Shared station before"),
    "shared_station_after": ("规划后共享站点村数", "Shared station after"),
}

#: Words used across the outputs: key -> (zh, en).
WORDS: Final[dict[str, tuple[str, str]]] = {
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "existing": ("现有", "existing"),
    "proposed": ("规划新增", "proposed"),
    "before": ("规划前", "before"),
    "after": ("规划后", "after"),
    "people": ("人", "people"),
    "village_kind": ("行政村", "village"),
    "community_kind": ("社区", "community"),
    "total": ("合计", "Total"),
}

#: Solver statuses (budget curve, solver summary).
STATUS_LABELS: Final[dict[str, tuple[str, str]]] = {
    "optimal": ("最优", "optimal"),
    "trivial": ("无需求解", "trivial"),
    "gap_limit": ("达到间隙上限", "gap limit reached"),
    "time_limit": ("达到时间上限", "time limit reached"),
    "infeasible": ("无可行解", "infeasible"),
    "feasible": ("可行解", "feasible"),
}

#: Why a unit still fails a standard after the plan (``summary["unmet"][i]["cause"]``).
CAUSE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "no_candidate": ("可达范围内无候选点", "no candidate site within reach"),
    "budget": ("预算不足", "budget too small"),
    "no_coordinates": ("缺少坐标，无法计算", "no coordinates to measure"),
    "unreachable": ("道路不可达", "not reachable by road"),
    "not_placeable": ("该类设施未纳入规划", "this facility type is not planned"),
    "solver_limit": ("求解时间上限内未完成", "solver time limit reached"),
    "unexplained": ("原因不明（请报告此问题）", "unexplained (please report this)"),
}

#: Village gap causes (``village_gaps.csv`` → ``cause``) in a few words (a table cell).
GAP_CAUSE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "shared_station": ("由共享站点服务", "served by a shared station"),
    "none_reachable": ("道路可达范围内无站点", "no station reachable by road"),
    "station_beyond_reach": ("最近站点超出共享范围", "nearest station beyond the sharing reach"),
    "no_coordinates": ("缺少坐标", "no coordinates"),
}

#: What an audit row is (``role``): see :data:`planner.audit.ROLES`.
ROLE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "standard": ("考核单元", "standard"),
    "summary": ("汇总", "summary"),
    "breakdown": ("分项", "breakdown"),
    "year": ("分年目标", "year target"),
    "info": ("参考指标", "for information"),
    "not_set": ("本文件未规定", "not set by this document"),
}

#: Village gap causes (``village_gaps.csv`` → ``cause``) in words.
GAP_REASONS: Final[dict[str, tuple[str, str]]] = {
    "no_coordinates": (
        "村庄无坐标，无法计算最近站点",
        "no coordinates: the nearest station cannot be measured",
    ),
    "none_reachable": (
        "无村级寄递物流综合服务站，道路可达范围内无站点",
        "no village station; none reachable by road",
    ),
    "shared_station": (
        "本村无站点，由共享站点服务（{near}）",
        "no station of its own; served by a shared one ({near})",
    ),
    "station_beyond_reach": ("无村级寄递物流综合服务站，{near}", "no village station; {near}"),
}


def gap_reason(cause: Any, km: float, minutes: float, lang: Lang) -> str:
    """A village gap's reason in the run's language, from its cause and the nearest station."""
    template = pick(GAP_REASONS.get(str(cause), ("", "")), lang)
    if lang == "zh":
        near = f"最近站点 {km:.1f} 公里" + (f"（{minutes:.0f} 分钟）" if minutes == minutes else "")
    else:
        near = f"nearest {km:.1f} km" + (f" ({minutes:.0f} min)" if minutes == minutes else "")
    return template.format(near=near)


_UNIT_ZH: Final = {"people": "人", "households": "户", "km": "公里", "min": "分钟", "count": "个"}
_UNIT_EN: Final = {"people": "", "households": "", "km": "km", "min": "min", "count": ""}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Chinese or English member of a ``(zh, en)`` label pair."""
    return pair[0] if lang == "zh" else pair[1]


def word(key: str, lang: Lang) -> str:
    """A common word (``yes``, ``pass``, ``before`` ...) in the output language."""
    return pick(WORDS[key], lang)


def facility_label(ftype: str, lang: Lang) -> str:
    """The name of a facility type; unknown types keep their code."""
    pair = FACILITY_LABELS.get(ftype)
    return pick((pair[0], pair[1]), lang) if pair else str(ftype)


def facility_symbol(ftype: str, lang: Lang) -> str:
    """One character drawn inside a facility's map symbol."""
    pair = FACILITY_LABELS.get(ftype)
    if pair is None:
        return "?"
    return pair[2] if lang == "zh" else pair[3]


def area_label(area: str, lang: Lang) -> str:
    """The name of an area class (城区/镇区/农村)."""
    pair = AREA_LABELS.get(area)
    return pick(pair, lang) if pair else str(area)


def _base_ids(standard_id: str) -> list[str]:
    """``V-ALL-2021`` -> [``V-ALL-2021``, ``V-ALL``, ``V``]: the id and its shorter prefixes."""
    parts = standard_id.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def base_standard(standard_id: str, table: Mapping[str, Any]) -> str | None:
    """The longest prefix of ``standard_id`` that ``table`` knows (``V-ALL-2021`` -> ``V-ALL``)."""
    return next((b for b in _base_ids(standard_id) if b in table), None)


def standard_label(standard_id: str, lang: Lang) -> str:
    """The short name of a standard (or of its base id); unknown ids give an empty string."""
    base = base_standard(standard_id, STANDARD_LABELS)
    return pick(STANDARD_LABELS[base], lang) if base else ""


def standard_kind(standard_id: str, unit_level: str | None = None, role: Any = None) -> str:
    """How a standard's value reads at a unit level: ``pct``, ``count`` or ``rate``; a ``summary``
    row (the share of its units that pass) reads as a share."""
    base = base_standard(standard_id, STANDARD_KINDS)
    if str(role) == "summary":
        return "pct"
    if unit_level == "county" and (base or standard_id) in COUNTY_SHARE_STANDARDS:
        return "pct"
    return STANDARD_KINDS[base] if base else "rate"


def column_label(column: str, lang: Lang) -> str:
    """A table header; unknown columns keep their name."""
    pair = COLUMN_LABELS.get(column)
    return pick(pair, lang) if pair else column


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``pd.NaT``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(value != value)  # NaN compares unequal to itself
    except (TypeError, ValueError):
        return False


def fmt_number(value: Any, lang: Lang, *, decimals: int = 0) -> str:
    """A number with thousands separators (``12,345``, ``3.30``); ``∞`` for infinity."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if math.isinf(number):
        return "∞"
    if decimals == 0:
        return f"{round(number):,}"
    return f"{number:,.{decimals}f}"


def fmt_count(value: Any, lang: Lang, unit: str = "people") -> str:
    """A whole count with its unit: ``12,345 人`` / ``12,345`` (``unit`` in people, households, count)."""
    text = fmt_number(value, lang)
    if text in (MISSING, "∞"):
        return text
    suffix = _UNIT_ZH.get(unit, unit) if lang == "zh" else _UNIT_EN.get(unit, unit)
    return f"{text} {suffix}".rstrip()


def fmt_pct(value: Any, lang: Lang, *, decimals: int = 1) -> str:
    """A share 0..1 as a percentage: ``0.85`` -> ``85.0%``."""
    if is_missing(value):
        return MISSING
    return f"{float(value) * 100:.{decimals}f}%"


def _unreachable(value: Any, lang: Lang) -> str | None:
    if not is_missing(value) and math.isinf(float(value)):
        return "不可达" if lang == "zh" else "unreachable"
    return None


def fmt_km(value: Any, lang: Lang) -> str:
    """A distance in km with one decimal and the unit (``2.4 公里`` / ``2.4 km``); inf reads 不可达."""
    if (text := _unreachable(value, lang)) is not None:
        return text
    text = fmt_number(value, lang, decimals=1)
    if text == MISSING:
        return text
    return f"{text} {_UNIT_ZH['km'] if lang == 'zh' else 'km'}"


def fmt_min(value: Any, lang: Lang) -> str:
    """A travel time in minutes with one decimal (``12.5 分钟`` / ``12.5 min``); inf reads 不可达."""
    if (text := _unreachable(value, lang)) is not None:
        return text
    text = fmt_number(value, lang, decimals=1)
    if text == MISSING:
        return text
    return f"{text} {_UNIT_ZH['min'] if lang == 'zh' else 'min'}"


def fmt_yuan(value: Any, lang: Lang) -> str:
    """Money: ``12.5 万元`` from ten thousand yuan up (``8,000 元`` below); ``¥125,000`` in English."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if lang == "en":
        return f"¥{number:,.0f}"
    if abs(number) >= 10_000:
        return f"{number / 10_000:,.1f} 万元"
    return f"{number:,.0f} 元"


def fmt_bool(value: Any, lang: Lang) -> str:
    """``是``/``否`` (``yes``/``no``)."""
    if is_missing(value):
        return MISSING
    return word("yes" if bool(value) else "no", lang)


def fmt_standard_value(
    standard_id: str, value: Any, lang: Lang, unit_level: str | None = None, role: Any = None
) -> str:
    """A standard's value or target in the way that standard reads (share, count or rate)."""
    kind = standard_kind(standard_id, unit_level, role)
    if kind == "pct":
        return fmt_pct(value, lang)
    if kind == "count":
        if not is_missing(value) and float(value) != round(float(value)):
            return fmt_number(value, lang, decimals=2)
        return fmt_number(value, lang)
    return fmt_number(value, lang, decimals=2)


def fmt_column_value(column: str, value: Any, lang: Lang) -> str:
    """Format a table cell by what its column name says it holds.

    ``coverage_*``/``*_share``/``*_rate`` are shares (percent); ``population``/``households``/
    ``covered_*``/``*_gained`` are counts of people; ``*_km`` and ``*_min`` are distances and times;
    ``cost``/``budget`` are money; booleans read 是/否; other numbers get separators.
    """
    if is_missing(value):
        return MISSING
    name = column.lower()
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return fmt_bool(value, lang)
    if isinstance(value, str):
        return value
    if name.startswith("coverage") or name.endswith(("_share", "_rate", "share", "_pct")):
        return fmt_pct(value, lang)
    if name.endswith("_km"):
        return fmt_km(value, lang)
    if name.endswith("_min"):
        return fmt_min(value, lang)
    if name in ("cost", "budget") or name.endswith(("_cost", "_yuan")):
        return fmt_yuan(value, lang)
    if name.startswith(("population", "covered_", "uncovered")) or name.endswith("_gained"):
        return fmt_count(value, lang, "people")
    if name.startswith("households"):
        return fmt_count(value, lang, "households")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number == round(number) or math.isinf(number):
        return fmt_number(number, lang)
    return fmt_number(number, lang, decimals=2)


def run_title(title: str, summary: Mapping[str, Any], lang: Lang) -> str:
    """The run's title in the output language: ``summary["title_en"]`` for English when the run has
    one (the scenario's ``title_en``), else the title as given."""
    if lang == "en":
        english = summary.get("title_en")
        if isinstance(english, str) and english.strip():
            return english
    return title


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    """True when ``text`` holds a Chinese character."""
    return bool(_CJK.search(text))


def local_text(text: Any, lang: Lang) -> Any:
    """The run's language side of a bilingual ``"中文 / English"`` text; other values as they are.

    Some stages write a sentence in both languages joined by ``" / "`` (a village's gap reason);
    the outputs show one language per run, so the side in ``lang`` is kept.
    """
    if not isinstance(text, str) or " / " not in text:
        return text
    left, _, right = text.partition(" / ")
    if has_cjk(left) and not has_cjk(right):
        return left if lang == "zh" else right
    return text


def status_label(status: Any, lang: Lang) -> str:
    """A solver status in words (``optimal`` -> 最优)."""
    pair = STATUS_LABELS.get(str(status))
    return pick(pair, lang) if pair else str(status)


def cause_label(cause: Any, lang: Lang) -> str:
    """Why a unit stays short after the plan, or why a village has no station, in words
    (``budget`` -> 预算不足, ``shared_station`` -> 由共享站点服务); empty for a missing cause."""
    if is_missing(cause) or str(cause) == "":
        return ""
    pair = CAUSE_LABELS.get(str(cause)) or GAP_CAUSE_LABELS.get(str(cause))
    return pick(pair, lang) if pair else str(cause)


def role_label(role: Any, lang: Lang) -> str:
    """What an audit row is (``summary`` -> 汇总); empty for a missing role."""
    if is_missing(role) or str(role) == "":
        return ""
    pair = ROLE_LABELS.get(str(role))
    return pick(pair, lang) if pair else str(role)


def standards_text(ids: Any, lang: Lang) -> str:
    """A proposal's ``standards`` (``;``-joined ids) for people: ids joined by 、 (``, ``);
    ``max_coverage`` (the budget plan) in words."""
    if is_missing(ids) or not str(ids).strip():
        return MISSING
    words = {"max_coverage": ("投资约束下覆盖最多人口", "most people served within the budget")}
    parts = [pick(words[p], lang) if p in words else p for p in str(ids).split(";") if p]
    return ("、" if lang == "zh" else ", ").join(parts)


def local_note(text: Any, lang: Lang) -> Any:
    """A note of the audit in the run's language: bilingual notes split, the English parts (joined by
    "; ") translated to Chinese in a zh run; an unknown part is kept as it is (the language test
    catches it)."""
    text = local_text(text, lang)
    if lang != "zh" or not isinstance(text, str) or (has_cjk(text) and "; " not in text):
        return text
    return note_zh(text)
