"""Chinese place, road and facility names for the synthetic county (:mod:`planner.synth`).

Every generator takes a :class:`numpy.random.Generator` so the names are deterministic by seed.
The pools follow common North China Plain naming patterns: surname + 家庄/庄/屯/集/楼, a position
prefix + surname (前李, 东刘), landscape names (柳树沟, 杏花湾), and planned-city street names
(经一路, 纬二路) once the pools of named streets run out.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    """Split a space-separated pool of names."""
    return tuple(text.split())


SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_POSITIONS = _words("前 后 东 西 南 北 大 小 上 下 中 新 老")
_SURNAME_SUFFIX = _words("庄 屯 集 楼 寨 营 店 桥 口 堤 圈 坊 洼 庙 铺 官 湖")
_FAMILY_SUFFIX = _words("家庄 家村 家屯 家楼 家洼 家寨 家营 家店 家桥 家口")
_NATURE = _words(
    "柳树 杏花 枣林 梨园 桑园 槐树 杨柳 榆林 苇子 荷花 芦苇 桃园 "
    "松林 石桥 沙河 黄河 清水 白马 青龙 卧龙 凤凰 金沙 银河 双井 "
    "三里 五里 七里 十里 高台 土山 孤堆 南湖 北湖 古城 新城 双庙 "
    "王府 官道"
)
_NATURE_SUFFIX = _words("沟 湾 洼 坡 岗 台 屯 庄 铺 寨 堡 园 河 村")
_SIMPLE = _words("河 街 关 湖 庄 坊 营 寨")

_TOWN_STEMS = _words(
    "马集 刘桥 杨店 孙庄 李官 高唐 柳林 石桥 张营 赵寨 范楼 胡屯 "
    "周店 郭集 韩庄 白马 双庙 朱集 徐寨 董堤 沙河 清水 梁堤 黄屯 "
    "曹楼 许营 魏庄 蒋集 冯店 潘桥 吕集 丁寨 崔庄 田楼 苏集 姜屯 "
    "贾寨 阎庄 侯集 孟店 秦桥 邵庄"
)
_SUBDISTRICTS = _words("城东 城西 城南 城北 文昌 凤凰 开发区 新城")
_COMMUNITIES = _words(
    "东关 西关 南关 北关 人民路 文化路 新华 幸福 和平 育才 阳光 "
    "锦绣 滨河 府前 站前 建设 光明 振兴 花园 民主 胜利 青年 富民 "
    "康居 翠苑 书院 鼓楼 汇文 怡园 金桥 长青 明珠 朝阳 龙泉 紫荆 "
    "银杏 华府 泰和 永安 兴隆"
)
#: East-west streets (路) and north-south streets (街) of the county seat.
EW_STREETS = _words(
    "建设路 文化路 解放路 新华路 胜利路 和平路 振兴路 光明路 民主路 "
    "育才路 富民路 青年路 黄河路 泰山路 长江路 运河路 滨河路 迎宾路 "
    "发展路 创业路"
)
NS_STREETS = _words(
    "府前街 中心街 东关街 西关街 兴华街 工业街 学府街 朝阳街 古城街 "
    "鼓楼街 书院街 银河街 幸福街 健康街 商业街 花园街 永安街 兴隆街 "
    "文昌街 龙泉街"
)
TOWN_STREETS = _words("中心街 府前街 商业街 新华街 文化路 建设路 站前路 工业路 兴业路 民生路")
#: Carriers as written in Chinese facility registers.
CARRIERS = _words("中国邮政 中通 圆通 申通 韵达 极兔 顺丰 京东")
_OUTLET_BRANDS = _words("菜鸟驿站 兔喜生活 妈妈驿站 快递超市 邮政快递驿站 中通快递 韵达快递 京东快递")
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Write ``1 <= n <= 99`` in Chinese numerals (一, 十二, 二十, 九十九)."""
    if not 1 <= n <= 99:
        raise ValueError(f"chinese_number takes 1..99, got {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def _village_base(rng: np.random.Generator) -> str:
    pattern = rng.random()
    s = SURNAMES[rng.integers(len(SURNAMES))]
    if pattern < 0.28:
        return s + _FAMILY_SUFFIX[rng.integers(len(_FAMILY_SUFFIX))]
    if pattern < 0.50:
        return s + _SURNAME_SUFFIX[rng.integers(len(_SURNAME_SUFFIX))]
    if pattern < 0.72:
        pos = _POSITIONS[rng.integers(len(_POSITIONS))]
        tail = "" if rng.random() < 0.5 else _SURNAME_SUFFIX[rng.integers(len(_SURNAME_SUFFIX))]
        return pos + s + tail
    if pattern < 0.92:
        return _NATURE[rng.integers(len(_NATURE))] + _NATURE_SUFFIX[rng.integers(len(_NATURE_SUFFIX))]
    return _POSITIONS[rng.integers(7)] + _SIMPLE[rng.integers(len(_SIMPLE))]


def village_names(n: int, rng: np.random.Generator, *, taken: Iterable[str] = ()) -> list[str]:
    """``n`` distinct administrative-village names ending in 村 (王家庄村, 前李村, 柳树沟村).

    Names in ``taken`` are avoided. Once the pattern pool is nearly used up (very large benchmark
    townships) a position prefix is added, e.g. 东王家庄村.
    """
    used = set(taken)
    out: list[str] = []
    tries = 0
    while len(out) < n:
        base = _village_base(rng)
        tries += 1
        if tries > 40 * (n + 10):
            base = _POSITIONS[rng.integers(len(_POSITIONS))] + base
        name = base if base.endswith("村") else base + "村"
        if name not in used:
            used.add(name)
            out.append(name)
    return out


def township_stems(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct township stems (马集, 刘桥); 镇/乡 is appended by the caller.

    Two characters while the pool of surname + suffix stems lasts (about 1,700), then a position
    prefix is added (东马集), which gives room for more than 20,000.
    """
    pool = list(_TOWN_STEMS)
    order = rng.permutation(len(pool))
    out = [pool[i] for i in order[: min(n, len(pool))]]
    used = set(out)
    tries = 0
    while len(out) < n:
        stem = SURNAMES[rng.integers(len(SURNAMES))] + _SURNAME_SUFFIX[rng.integers(len(_SURNAME_SUFFIX))]
        tries += 1
        if tries > 40 * (n + 10):
            stem = _POSITIONS[rng.integers(len(_POSITIONS))] + stem
        if stem not in used:
            used.add(stem)
            out.append(stem)
    return out


def numbered_county(name: str, k: int) -> str:
    """The name of the ``k``-th synthetic county after ``name``: ``name`` itself for 1, then the number
    before a final 县 (示范县 → 示范二县) or after the name (示范 → 示范二)."""
    if k == 1:
        return name
    number = chinese_number(k)
    return f"{name[:-1]}{number}县" if name.endswith("县") and len(name) > 1 else f"{name}{number}"


def subdistrict_names(n: int) -> list[str]:
    """``n`` sub-district (街道) names: 城东街道, 城西街道, ..."""
    names = [f"{s}街道" for s in _SUBDISTRICTS[:n]]
    names += [f"第{chinese_number(i + 1)}街道" for i in range(len(names), n)]
    return names


def community_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct county-seat community (社区居委会) names: 东关社区, 育才社区, ..."""
    order = rng.permutation(len(_COMMUNITIES))
    out = [f"{_COMMUNITIES[i]}社区" for i in order[: min(n, len(_COMMUNITIES))]]
    out += [f"第{chinese_number(i % 99 + 1)}社区" for i in range(len(out), n)]
    return out


def seat_street_name(index: int, *, east_west: bool) -> str:
    """Name of the ``index``-th seat street: a named street, else 纬N路 (east-west) / 经N路 (north-south)."""
    pool = EW_STREETS if east_west else NS_STREETS
    if index < len(pool):
        return pool[index]
    k = (index - len(pool)) % 99 + 1
    return f"{'纬' if east_west else '经'}{chinese_number(k)}路"


def carriers_subset(rng: np.random.Generator, *, k_min: int, k_max: int, with_post: bool = False) -> str:
    """A ";"-joined subset of :data:`CARRIERS` with ``k_min..k_max`` members (in canonical order)."""
    k = int(rng.integers(k_min, k_max + 1))
    chosen = set(rng.choice(len(CARRIERS), size=k, replace=False).tolist())
    if with_post:
        chosen.add(0)
    return ";".join(CARRIERS[i] for i in sorted(chosen))


def outlet_brand(rng: np.random.Generator) -> str:
    """A terminal-outlet brand such as 菜鸟驿站 or 兔喜生活."""
    return _OUTLET_BRANDS[rng.integers(len(_OUTLET_BRANDS))]
