"""Matching Chinese place names across sources (register, POI exports, census tables).

The same village is written 新塔热村 in the NBS register, 新塔热村委会 or 新塔热村民委员会 in a map
export, "新塔热村 " with a stray space in a spreadsheet. Names are compared in two steps:

1. :func:`clean_name`: Unicode NFKC (full-width letters and digits become ASCII), every whitespace
   removed, a trailing bracketed note dropped (``新塔热村委会(和硕县)`` → ``新塔热村委会``).
2. :func:`village_key` / :func:`township_key`: the cleaned name without its trailing organisational
   suffixes, removed repeatedly (``新塔热村村民委员会`` → ``新塔热``). Village suffixes:
   :data:`VILLAGE_SUFFIXES`; township suffixes: :data:`TOWNSHIP_SUFFIXES`.

A match on the cleaned name is preferred to a match on the key; callers refuse a key that several
register entries share (ambiguous) and list it. :func:`kind_hint` tells a village (村) from a
community (社区/居委会) by its suffix, which separates 红星村 from 红星社区.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TOWNSHIP_SUFFIXES",
    "VILLAGE_SUFFIXES",
    "clean_name",
    "kind_hint",
    "township_key",
    "village_key",
]

#: Trailing suffixes stripped from village/community names, longest first (applied repeatedly).
VILLAGE_SUFFIXES: tuple[str, ...] = (
    "党群服务中心",
    "便民服务中心",
    "综合服务中心",
    "社区服务中心",
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "服务中心",
    "村委会",
    "居委会",
    "村委",
    "社区",
    "村",
)
#: Trailing suffixes stripped from township names (乡镇/街道), longest first.
TOWNSHIP_SUFFIXES: tuple[str, ...] = ("街道办事处", "人民政府", "办事处", "街道", "民族乡", "镇", "乡")

_BRACKETS = re.compile(r"[(\[【（][^()\[\]【】（）]*[)\]】）]$")


def clean_name(name: object) -> str:
    """NFKC-normalised name without whitespace and without a trailing bracketed note."""
    text = unicodedata.normalize("NFKC", str(name if name is not None else ""))
    text = re.sub(r"\s+", "", text)
    while True:
        stripped = _BRACKETS.sub("", text)
        if stripped == text or not stripped:
            return text
        text = stripped


def _strip(text: str, suffixes: tuple[str, ...]) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
                break
    return text


def village_key(name: object) -> str:
    """The cleaned name without village/community suffixes (村, 村委会, 社区, 居委会 …)."""
    return _strip(clean_name(name), VILLAGE_SUFFIXES)


def township_key(name: object) -> str:
    """The cleaned name without township suffixes (镇, 乡, 街道, 街道办事处 …)."""
    return _strip(clean_name(name), TOWNSHIP_SUFFIXES)


def kind_hint(name: object) -> str:
    """``"community"`` for 社区/居委会 names, ``"village"`` for 村 names, ``""`` if the name does not say."""
    text = clean_name(name)
    for suffix in ("党群服务中心", "便民服务中心", "综合服务中心", "服务中心"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    if re.search(r"(社区|居委会|居民委员会|社区居委会)$", text):
        return "community"
    if re.search(r"(村|村委会|村民委员会|村委)$", text):
        return "village"
    return ""
