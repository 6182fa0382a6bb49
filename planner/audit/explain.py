"""Plain-language explanations of the standards and of audit rows, in Chinese and English.

:func:`explain_standard` says what a standard asks, with the numbers of the profile and the cited
clause; :func:`explain_row` turns one row of the audit table (:mod:`planner.audit`) into one
sentence, e.g. "城关街道城区 12.3% 的人口（8,450 人）步行 10 分钟或 1 公里内没有快递取件点
（吉市政办发〔2021〕30号 专栏2）". The report calls these; nothing here computes a check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import pandas as pd

from planner.errors import StandardsError
from planner.standards import CATALOGUE, STANDARD_IDS, Profile

Lang = Literal["zh", "en"]

#: Short names of the standards and of the derived audit ids (from the catalogue).
NAMES: dict[str, tuple[str, str]] = {
    **{sid: (d.title_zh, d.title_en) for sid, d in CATALOGUE.items()},
    "P-HUB-AUTO": ("分拨中心智能化", "automated sorting centres"),
}

_MODE = {"walk": ("步行", "on foot"), "tricycle": ("三轮车", "by tricycle"), "car": ("车行", "by vehicle")}


def _columns_zh(columns: str) -> str:
    """Facility-file columns a check needs, as a Chinese list (column names kept: they are typed in)."""
    out = []
    for col in columns.split(", "):
        col = re.sub(r"^type = (\S+)$", r"type 为 \1 的设施", col.strip())
        out.append(col.replace(" (yes/no)", "（是/否）"))
    return "、".join(out)


#: The parts of the notes the audit writes (English, joined by "; ") and their Chinese wording:
#: (regular expression, template or function of the match). A part that matches none is kept.
NOTE_PARTS_ZH: Final[tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...]] = (
    (r"^range ([\d.]+)[–-]([\d.]+) per 10,000$", r"每万人 \1–\2 处"),
    (r"^(population|base) = households$", "以户数计"),
    (r"^base: register$", "基数：登记人口/户数"),
    (r"^base: raster$", "基数：人口栅格"),
    (r"^base: register÷size$", "基数：登记人口÷户均人口"),
    (r"^base: raster÷size$", "基数：人口栅格÷户均人口"),
    (r"^base: (document|township)$", ""),
    (r"^needs (\d+)$", r"需 \1 处"),
    (r"^(\d+) of (\d+) communities meet the standard$", r"\2 个社区中 \1 个达标"),
    (r"^(\d+) of (\d+) townships meet the standard$", r"\2 个乡镇中 \1 个达标"),
    (r"^(\d+) of (\d+) villages meet the standard$", r"\2 个行政村中 \1 个达标"),
    (
        r"^(\d+) cannot be judged \(delivery centre present but floor_area_m2 unknown\)$",
        r"\1 个无法判断（有配送中心但面积不详）",
    ),
    (r"^(\d+) cannot be judged \((.*)\)$", r"\1 个无法判断"),
    (r"^delivery centre present but floor_area_m2 unknown$", "有配送中心但面积不详"),
    (r"^no delivery centre$", "无公共快递配送中心"),
    (r"^largest centre ([\d.]+) m² < ([\d.]+) m²$", r"最大配送中心 \1 平方米，小于 \2 平方米"),
    (r"^(\d+) park\(s\)/sorting centre\(s\)$", r"县级园区/分拨中心 \1 处"),
    (r"^most carriers in one: (\d+)$", r"单处最多入驻 \1 家"),
    (r"^by end of (\d{4})$", r"\1 年底前"),
    (r"^by end of (\d{4}) \(not yet due\)$", r"\1 年底前（尚未到期）"),
    (r"^(\d+) in (\d{4})$", r"\2 年 \1 处"),
    (r"^([\d.]+) min$", r"\1 分钟"),
    (r"^network reading \(covered_network\)$", "路网口径"),
    (r"^buffer reading \(covered_buffer\)$", "直线距离口径"),
    (r"^scenario reading \(covered\)$", "方案口径"),
    (r"^strict reading: ([\d.]+) min$", r"严口径：\1 分钟"),
    (
        r"^outlets, village stations and delivery centres per 10,000 people$",
        "每万人网点、村级站点和配送中心数",
    ),
    (r"^per 100 km² \(area ([\d.,]+) km²\)$", r"每百平方公里（面积 \1 平方公里）"),
    (r"^station in the village$", "村内建站计入"),
    (r"^own or shared station$", "本村站点或共享站点均计入"),
    (r"^target for end of (\d{4})$", r"\1 年底目标"),
    (r"^target for end of (\d{4}) \(audit year (\d{4})\)$", r"\1 年底目标（审计年份 \2）"),
    (r"^target for end of (\d{4}) \(not yet due in (\d{4})\)$", r"\1 年底目标（\2 年尚未到期）"),
    (r"^breakdown \(the standard applies to the county\)$", "分项（标准按全县考核）"),
    (r"^(\d+) village\(s\) without coordinates not counted$", r"\1 个无坐标的行政村未计入"),
    (r"^(\d+) of (\d+) village stations have all five$", r"\2 个村级站点中 \1 个“五有”齐全"),
    (r"^lacks (.+)$", r"缺少：\1"),
    (
        r"^postal company (present|absent)$",
        lambda m: "有邮政企业" if m.group(1) == "present" else "无邮政企业",
    ),
    (r"^(\d+) express brand\(s\)$", r"快递品牌 \1 个"),
    (r"^(\d+) sorting centre\(s\)$", r"分拨中心 \1 个"),
    (r"^daily transfer capacity, items$", "日分拨转运能力（件）"),
    (r"^(\d+) of (\d+) sorting centres fully automated$", r"\2 个分拨中心中 \1 个实现智能化分拣"),
    (r"^a baseline the document reports, shown for comparison$", "文件所列基数，供对照"),
    (
        r"^a figure for the whole (province|prefecture), shown for comparison$",
        lambda m: "全省目标，供对照" if m.group(1) == "province" else "全市目标，供对照",
    ),
    (
        r"^cannot be audited from these data: .+ needs facility column\(s\) (.+)$",
        lambda m: f"现有数据无法核查：设施文件需有字段 {_columns_zh(m.group(1))}",
    ),
    (
        r"^not set by this document \(([^)]+)\)( \(the plan does not place for it\))?$",
        lambda m: "本文件未规定" + ("，规划不为此布点" if m.group(2) else ""),
    ),
)


def note_part_zh(part: str) -> str:
    """One part of an audit note in Chinese (the part as it is when no wording is known)."""
    for pattern, template in NOTE_PARTS_ZH:
        if re.match(pattern, part):
            return re.sub(pattern, template, part)
    return part


def note_zh(note: Any) -> str:
    """An audit note (English parts joined by ``"; "``) in Chinese, parts joined by ``"；"``."""
    if not isinstance(note, str) or not note.strip():
        return ""
    parts = [note_part_zh(p.strip()) for p in note.split("; ")]
    return "；".join(p for p in parts if p)


def _note(note: Any, lang: Lang) -> str:
    text = str(note or "") if not (isinstance(note, float) and math.isnan(note)) else ""
    return note_zh(text) if lang == "zh" else text


def base_id(standard_id: str) -> str:
    """The profile standard behind an audit id (``R-TOWN-15`` -> ``R-TOWN``, ``V-ALL-2022`` -> ``V-ALL``)."""
    sid = re.sub(r"-20\d\d$", "", standard_id) if not standard_id.startswith("C-") else standard_id
    return {"R-TOWN-15": "R-TOWN", "D-BASE-AREA": "D-BASE", "P-HUB-AUTO": "P-HUB"}.get(sid, sid)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%".replace(".0%", "%")


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _g(x: float) -> str:
    return f"{x:g}"


def _years(targets: Mapping[int, Any], lang: Lang) -> str:
    items = sorted(targets.items())
    if lang == "zh":
        return "，".join(
            f"{y} 年底{'超过' if t.comparison == '>' else '达到'} {_pct(t.share)}" for y, t in items
        )
    return ", ".join(
        f"{'over' if t.comparison == '>' else 'at least'} {_pct(t.share)} by end {y}" for y, t in items
    )


#: What each standard asks: (Chinese, English) templates filled by :func:`_standard_params`.
STANDARD_TEXT: dict[str, tuple[str, str]] = {
    "R-URBAN": (
        "城区：居民在服务半径 {d} 公里以内或{mode_zh} {times} 分钟以内应有公共快递收寄设施",
        "Urban areas: a public parcel pickup/drop-off point within a {d} km service radius "
        "or {times} minutes {mode_en}",
    ),
    "R-TOWN": (
        "乡镇：服务半径 {d} 公里以内或{mode_zh} {times} 分钟以内应有公共快递收寄设施{both_zh}",
        "Townships: a public pickup/drop-off point within a {d} km service radius "
        "or {times} minutes {mode_en}{both_en}",
    ),
    "R-RURAL": (
        "农村地区：“一乡一所”，每个乡镇至少 {n} 个快递网点",
        'Rural areas: "one outlet per township", at least {n} outlet(s) in every township',
    ),
    "D-OUTLET": (
        "社区内每 1 万人至少布局 {rng} 处快递末端网点（按下限 {lo} 处检查）",
        "At least {rng} terminal outlets per 10,000 residents in each community (checked against {lo})",
    ),
    "D-LOCKER": (
        "住宅和商务用地按每 {hh} 户至少一组智能快件（信报）箱配置",
        "At least one smart-locker group per {hh} households on residential and business land",
    ),
    "D-CENTRE": (
        "人口规模 {pop} 人及以上的住宅项目应配置不少于 {floor} 平方米的公共快递配送中心（本报告按社区检查）",
        "A residential project of {pop} people or more gets a public delivery centre "
        "of at least {floor} m² (checked per community)",
    ),
    "D-BASE": (
        "基准密度：每万人 {a} 个、每百平方公里 {b} 个快递网点或服务站点",
        "Baseline densities: {a} outlets or service stations per 10,000 people and {b} per 100 km²",
    ),
    "V-ALL": (
        "建制村“村村通快递”（{counts_zh}）：{years_zh}",
        "Express service in administrative villages ({counts_en}): {years_en}",
    ),
    "V-STATION": (
        "行政村寄递物流综合服务站覆盖率（{counts_zh}）：{years_zh}",
        "Administrative villages with a village delivery-logistics station ({counts_en}): {years_en}",
    ),
    "D-OUTLET-N": (
        "全域快递末端网点不少于 {n} 处{due_zh}",
        "At least {n} terminal outlets in the area{due_en}",
    ),
    "D-LOCKER-N": (
        "全域智能快件箱不少于 {n} 组{due_zh}",
        "At least {n} smart-locker groups in the area{due_en}",
    ),
    "V-5HAVE": (
        "村级站点做到“有人员、有场地、有货架、有设备、有标识”",
        'Village stations have staff, premises, shelves, equipment and signage ("five haves")',
    ),
    "P-EPARK": (
        "电商园区安排邮政、快递用地，满足邮政企业和 {c} 个以上品牌快递企业的仓储及处理需求",
        "E-commerce parks reserve room for the postal company and {c} or more express brands",
    ),
    "P-HUB": (
        "分拨中心全部实现智能化分拣，日分拨转运能力达到 {items} 万件{due_zh}",
        "Sorting centres fully automated with a daily transfer capacity of {items_en} items{due_en}",
    ),
    "V-SHARE": (
        "村级站点可共建共享：一个站点服务 {lim_zh} 以内的邻村{default_zh}",
        "Village stations may be shared: one station serves neighbouring villages "
        "within {lim_en}{default_en}",
    ),
    "P-COUNTY": (
        "每个县（市、区）至少建成 {n} 处入驻 {c} 家以上邮政快递企业的快递园区{due_zh}",
        "Each county has at least {n} express park(s) hosting {c} or more postal/express companies{due_en}",
    ),
}


def _standard_params(sid: str, s: Any) -> dict[str, str]:
    """Numbers of standard ``s`` as strings for :data:`STANDARD_TEXT`."""
    if sid in ("R-URBAN", "R-TOWN"):
        strict = s.time_min_strict
        return {
            "d": _g(s.distance_km),
            "times": f"{_g(strict)}–{_g(s.time_min)}" if strict else _g(s.time_min),
            "mode_zh": _MODE[s.mode][0],
            "mode_en": _MODE[s.mode][1],
            "both_zh": f"；本报告按 {_g(s.time_min)} 分钟和 {_g(strict)} 分钟两种口径检查" if strict else "",
            "both_en": f"; checked at {_g(s.time_min)} and at {_g(strict)} minutes" if strict else "",
        }
    if sid == "R-RURAL":
        return {"n": str(s.outlets_per_township)}
    if sid == "D-OUTLET":
        lo = _g(s.per_10k_min)
        return {"rng": f"{lo}–{_g(s.per_10k_max)}" if s.per_10k_max else lo, "lo": lo}
    if sid == "D-LOCKER":
        return {"hh": _g(s.households_per_group)}
    if sid == "D-CENTRE":
        return {"pop": _n(s.min_population), "floor": _g(s.min_floor_m2)}
    if sid == "D-BASE":
        return {"a": _g(s.outlets_per_10k), "b": _g(s.outlets_per_100km2)}
    if sid in ("V-ALL", "V-STATION"):
        own = s.counts == "own"
        return {
            "years_zh": _years(s.targets, "zh"),
            "years_en": _years(s.targets, "en"),
            "counts_zh": "村内建站计入" if own else "本村站点或共享站点均计入",
            "counts_en": "a station in the village counts" if own else "own or shared station counts",
        }
    if sid in ("D-OUTLET-N", "D-LOCKER-N"):
        return {"n": _n(s.count), **_due(s.by_year)}
    if sid == "V-5HAVE":
        return {}
    if sid == "P-EPARK":
        return {"c": str(s.min_carriers)}
    if sid == "P-HUB":
        return {"items": _g(s.daily_items / 1e4), "items_en": _n(s.daily_items), **_due(s.by_year)}
    if sid == "V-SHARE":
        mzh, men = _MODE[s.mode]
        has_min = s.max_min is not None
        default = s.source.doc == "PLANNER"
        return {
            "lim_zh": f"{_g(s.max_km)} 公里" + (f"或{mzh} {_g(s.max_min)} 分钟" if has_min else ""),
            "lim_en": f"{_g(s.max_km)} km" + (f" or {_g(s.max_min)} minutes {men}" if has_min else ""),
            "default_zh": "（规划工具默认值，文件未规定距离）" if default else "",
            "default_en": " (a planner default; the documents give no distance)" if default else "",
        }
    return {  # P-COUNTY
        "n": str(s.min_parks),
        "c": str(s.min_carriers),
        "due_zh": f"，{s.by_year} 年底前" if s.by_year else "",
        "due_en": f" by end {s.by_year}" if s.by_year else "",
    }


def _due(year: int | None) -> dict[str, str]:
    return {"due_zh": f"（{year} 年底前）" if year else "", "due_en": f" by end {year}" if year else ""}


def _explain_count(cid: str, profile: Profile, lang: Lang) -> str:
    t = profile.counts[cid]
    cite = t.source.cite(profile.documents)
    due = _due(t.by_year)
    if lang == "zh":
        return f"{t.title_zh}：{_n(t.count)} 个{due['due_zh']}（{cite}）。"
    return f"{t.title_en}: {_n(t.count)}{due['due_en']} ({cite})."


def explain_standard(standard_id: str, profile: Profile, lang: Lang = "zh") -> str:
    """What standard ``standard_id`` asks, with the profile's numbers and the cited clause.

    Raises
    ------
    StandardsError
        Unknown id, or the profile does not set the standard (naming the number and the profile).
    """
    sid = base_id(standard_id)
    if sid in profile.counts:
        return _explain_count(sid, profile, lang)
    if sid not in STANDARD_IDS:
        raise StandardsError(f"unknown standard id {standard_id!r}; known: {', '.join(STANDARD_IDS)}")
    std = profile.require(sid)
    zh_t, en_t = STANDARD_TEXT[sid]
    params = _standard_params(sid, std)
    cite = profile.cite(sid)
    if lang == "zh":
        return f"{zh_t.format(**params)}（{cite}）。"
    return f"{en_t.format(**params)} ({cite})."


#: One sentence per failing row: (Chinese, English) templates filled by :func:`explain_row`.
ROW_TEXT: dict[str, tuple[str, str]] = {
    "radius": (
        "{unit}{area_zh} {share} 的人口（{short} 人）{where_zh}没有快递取件点",
        "In {unit}, {share} of the {area_en} population ({short} people) "
        "has no parcel pickup point {where_en}",
    ),
    "R-RURAL-county": (
        "{unit}有 {short} 个乡镇未达到“一乡一所”",
        "{unit}: {short} township(s) lack an outlet (one outlet per township)",
    ),
    "R-RURAL": (
        "{unit}现有快递网点 {existing} 个，“一乡一所”要求至少 {target} 个，需新增 {short} 个",
        "{unit} has {existing} outlet(s); one outlet per township needs {target}: add {short}",
    ),
    "D-OUTLET": (
        "{unit}每万人仅有 {value1} 个快递末端网点（{pop} 人，{existing} 个），"
        "低于 {target} 个，需新增 {short} 个",
        "{unit} has {value1} outlets per 10,000 residents ({existing} for {pop} people), "
        "below {target}: add {short}",
    ),
    "D-LOCKER": (
        "{unit}每百户仅有 {value2} 组智能快件箱（{pop} 户，{existing} 组），"
        "低于 {target} 组，需新增 {short} 组",
        "{unit} has {value2} locker groups per 100 households ({existing} for {pop} households), "
        "below {target}: add {short}",
    ),
    "D-CENTRE-county": (
        "{unit}有 {short} 个大型社区缺少{floor_zh}公共快递配送中心",
        "{unit}: {short} large communities lack a public delivery centre{floor_en}",
    ),
    "D-CENTRE": (
        "{unit}（{pop} 人）没有{floor_zh}公共快递配送中心",
        "{unit} ({pop} people) has no public delivery centre{floor_en}",
    ),
    "D-BASE": (
        "{unit}每万人有 {value2} 个快递网点或服务站点，低于基准 {target} 个",
        "{unit} has {value2} outlets or service stations per 10,000 people, below the baseline {target}",
    ),
    "D-BASE-AREA": (
        "{unit}每百平方公里有 {value2} 个快递网点或服务站点，低于基准 {target} 个",
        "{unit} has {value2} outlets or service stations per 100 km², below the baseline {target}",
    ),
    "village": (
        "{unit}有坐标的行政村中达标的占 {share_v}，未达到{year}年底目标 {share_t}，还需 {short} 个村",
        "In {unit}, {share_v} of the located administrative villages qualify, short of the end-{year} "
        "target of {share_t}: {short} more village(s) needed",
    ),
    "P-COUNTY": (
        "{unit}没有入驻{carriers_zh}快递企业的快递园区（需 {target} 处，现有 {existing} 处）",
        "{unit} has no express park hosting {carriers_en} carriers ({existing} of {target})",
    ),
}


def _row_key(sid: str, base: str, level: str) -> str:
    if base in ("R-URBAN", "R-TOWN"):
        return "radius"
    if base in ("V-ALL", "V-STATION"):
        return "village"
    if sid in ("R-RURAL", "D-CENTRE") and level == "county":
        return f"{sid}-county"
    return sid


def explain_row(
    row: pd.Series | Mapping[str, Any], lang: Lang = "zh", *, profile: Profile | None = None
) -> str:
    """One sentence for one audit-table row (a failure, a pass or an undecided check).

    Parameters
    ----------
    row
        A row of ``AuditResult.table`` (a ``pandas.Series`` or mapping with its columns).
    lang
        ``"zh"`` or ``"en"``.
    profile
        When given, the sentence names the radius, floor-area and carrier numbers of the standard.
    """
    sid = str(row["standard_id"])
    base = base_id(sid)
    zh = lang == "zh"
    level = str(row.get("unit_level", ""))
    unit = str(row.get("unit_name", "") or row.get("unit_code", ""))
    value, target = float(row["value"]), float(row["target"])
    pop = float(row.get("population", math.nan))
    short = float(row.get("shortfall", math.nan))
    cite = str(row.get("citation", "") or "")
    std: Any = None
    if profile is not None and getattr(profile.standards, STANDARD_IDS.get(base, "_"), None) is not None:
        std = profile.require(base)
        cite = cite or profile.cite(base)
    end = (f"（{cite}）" if cite else "") if zh else (f" ({cite})" if cite else "")
    name_zh, name_en = NAMES.get(sid, NAMES.get(base, (sid, sid)))
    passed = row.get("passed")
    if passed is None or str(passed) in ("<NA>", "nan"):
        note = _note(row.get("note", ""), lang)
        if zh:
            return f"{unit}：{name_zh}无法判断（{note}）{end}"
        return f"{unit}: {name_en} cannot be decided ({note}){end}"
    if bool(passed):
        if zh:
            return f"{unit}：{name_zh}达标（{value:.3g} / 目标 {target:.3g}）{end}"
        return f"{unit}: {name_en} met ({value:.3g} against {target:.3g}){end}"
    if str(row.get("role", "")) == "summary" and base not in ("R-URBAN", "R-TOWN"):
        note = _note(row.get("note", ""), lang)
        if zh:
            return f"{unit}：{name_zh}未全部达标（{note}），还需新增 {_n(short)} 处{end}"
        return f"{unit}: {name_en} not met everywhere ({note}); {_n(short)} more needed{end}"
    params = {
        "unit": unit,
        "short": _n(short),
        "existing": _n(float(row.get("existing", math.nan))),
        "target": _g(target),
        "pop": _n(pop),
        "value1": f"{value:.1f}",
        "value2": f"{value:.2f}",
        "share": _pct(short / pop if pop > 0 else 1 - value),
        "share_v": _pct(value),
        "share_t": _pct(target),
        "year": _year_of(str(row.get("note", ""))),
        "area_zh": "城区" if base == "R-URBAN" else "乡镇地区",
        "area_en": "urban" if base == "R-URBAN" else "township",
        "where_zh": "服务半径内",
        "where_en": "within the service radius",
        "floor_zh": "符合面积要求的",
        "floor_en": "",
        "carriers_zh": "足够多",
        "carriers_en": "enough",
    }
    if std is not None and base in ("R-URBAN", "R-TOWN"):
        minutes = std.time_min_strict if sid == "R-TOWN-15" and std.time_min_strict else std.time_min
        mzh, men = _MODE[std.mode]
        params["where_zh"] = f"{mzh} {_g(minutes)} 分钟或 {_g(std.distance_km)} 公里内"
        params["where_en"] = f"within {_g(minutes)} minutes {men} or {_g(std.distance_km)} km"
    elif std is not None and base == "D-CENTRE":
        params["floor_zh"] = f"不少于 {_g(std.min_floor_m2)} 平方米的"
        params["floor_en"] = f" of at least {_g(std.min_floor_m2)} m²"
    elif std is not None and base == "P-COUNTY":
        params["carriers_zh"] = f" {std.min_carriers} 家以上"
        params["carriers_en"] = f"{std.min_carriers} or more"
    key = _row_key(sid, base, level)
    if key not in ROW_TEXT:
        return f"{unit}：{name_zh}未达标{end}" if zh else f"{unit}: {name_en} not met{end}"
    zh_t, en_t = ROW_TEXT[key]
    return (zh_t if zh else en_t).format(**params) + end


def _year_of(note: str) -> str:
    m = re.search(r"end of (\d{4})", note or "")
    return m.group(1) if m else ""
