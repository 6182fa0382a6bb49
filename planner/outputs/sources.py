"""The policy profile and its documents as people read them: full titles and full citations.

A run names its profile (``summary["profile"]``, a slug such as ``national-default``) and cites each
standard by document number and clause (``RunResult.citations``: ``晋政办〔2020〕24号 三（四）``).
A reader needs more: who issued the document and its title, so that "晋政办〔2020〕24号" is read as
Jinjiang's (晋江市人民政府办公室), not Shanxi's. This module finds the documents:

1. ``summary["documents"]`` when the run carries it: ``{doc_id: {issuer_zh, title_zh, title_en,
   number, ...}}``;
2. otherwise the profile YAML named by ``summary["profile"]`` (found as the scenario loader finds it);
3. otherwise every bundled profile, so that a document number cited by any of them is known.

``summary["profile_title"] = {"zh": ..., "en": ...}`` names the profile when present; otherwise the
profile YAML's ``title_zh``/``title_en``; otherwise the slug.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner.outputs.i18n import Lang


@dataclass(frozen=True)
class DocumentInfo:
    """A policy document: issuer, title (zh, en) and number (文号)."""

    issuer_zh: str
    title_zh: str
    title_en: str
    number: str
    date: str = ""
    numbered: bool = True
    issuer_en: str = ""

    def full(self, lang: Lang) -> str:
        """``吉林市人民政府办公室《吉林市快递业发展"十四五"规划》（吉市政办发〔2021〕30号）``; a document
        without a number (文号) is named by its date."""
        if lang == "zh":
            if not self.numbered:
                return f"{self.issuer_zh}《{self.title_zh}》（{_date_zh(self.date)}印发）"
            return f"{self.issuer_zh}《{self.title_zh}》（{self.number}）"
        title = self.title_en or self.title_zh
        issuer = self.issuer_en or self.issuer_zh
        return f"{title} ({issuer}, {self.number if self.numbered else self.date})"


def _date_zh(date: str) -> str:
    parts = date.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    return date


def _profile_dirs() -> list[Path]:
    import sys

    root = Path(__file__).resolve().parents[2]
    return [root / "scenarios" / "standards", Path(sys.prefix) / "share" / "planner" / "standards"]


@functools.lru_cache(maxsize=32)
def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _profile_yaml(name: str) -> dict[str, Any]:
    for folder in _profile_dirs():
        path = folder / f"{name}.yaml"
        if path.is_file():
            return _read_yaml(path)
    return {}


def _docs_of(raw: Mapping[str, Any]) -> dict[str, DocumentInfo]:
    out = {}
    for doc_id, doc in (raw.get("documents") or {}).items():
        if not isinstance(doc, Mapping):
            continue
        title_zh = str(doc.get("title_zh") or "")
        date = str(doc.get("date") or "")
        # a document without a number is cited by its title and date (Source.cite)
        number = doc.get("number") or (f"《{title_zh}》（{date}）" if title_zh and date else str(doc_id))
        out[str(doc_id)] = DocumentInfo(
            issuer_zh=str(doc.get("issuer_zh") or ""),
            title_zh=title_zh,
            title_en=str(doc.get("title_en") or ""),
            number=str(number),
            date=date,
            numbered=bool(doc.get("number")),
            issuer_en=str(doc.get("issuer_en") or ""),
        )
    return out


def documents(summary: Mapping[str, Any]) -> dict[str, DocumentInfo]:
    """The documents a run may cite, keyed by document number (文号) and by document id."""
    found: dict[str, DocumentInfo] = {}
    if isinstance(summary.get("documents"), Mapping):
        found.update(_docs_of(summary))
    else:
        found.update(_docs_of(_profile_yaml(str(summary.get("profile") or ""))))
        for folder in _profile_dirs():
            if folder.is_dir():
                for path in sorted(folder.glob("*.yaml")):
                    for key, doc in _docs_of(_read_yaml(path)).items():
                        found.setdefault(key, doc)
    by_number = {doc.number: doc for doc in found.values()}
    return {**found, **by_number}


def split_citation(cite: str, docs: Mapping[str, DocumentInfo]) -> tuple[DocumentInfo | None, str]:
    """Split ``"吉市政办发〔2021〕30号 专栏2"`` into the document it names and the clause."""
    text = cite.strip()
    for number in sorted(docs, key=len, reverse=True):
        if number and text.startswith(number):
            return docs[number], text[len(number) :].strip()
    return None, text


def full_citation(cite: Any, docs: Mapping[str, DocumentInfo], lang: Lang) -> str:
    """Issuer, full document title, number and clause of a citation (the citation as given when
    its document is unknown)."""
    if not isinstance(cite, str) or not cite.strip():
        return "—"
    doc, clause = split_citation(cite, docs)
    if doc is None:
        return cite
    if lang == "zh":
        return f"{doc.full('zh')}{clause}"
    return f"{doc.full('en')}, clause {clause}" if clause else doc.full("en")


def profile_title(summary: Mapping[str, Any], lang: Lang) -> str:
    """The profile's full title in ``lang`` (its slug when no title is known)."""
    given = summary.get("profile_title")
    if isinstance(given, Mapping) and given.get(lang):
        return str(given[lang])
    slug = str(summary.get("profile") or "")
    raw = _profile_yaml(slug) if slug else {}
    title = raw.get("title_zh" if lang == "zh" else "title_en")
    return str(title) if title else slug


@functools.lru_cache(maxsize=16)
def _load(name: str) -> Any:
    """The profile named ``name`` as the scenario loader finds it (``None`` when it cannot be read)."""
    from planner.errors import PlannerError
    from planner.standards import load_profile, resolve_profile_path

    if not name:
        return None
    try:
        return load_profile(resolve_profile_path(name, Path.cwd()))
    except (PlannerError, OSError):
        return None


def source_title(source: Any, summary: Mapping[str, Any], lang: Lang) -> str:
    """The title of the profile a standard comes from (``role``/``source`` of the audit): the run's
    own profile by :func:`profile_title`, a profile it extends by that profile's title."""
    name = str(source or "")
    if not name or name == str(summary.get("profile") or ""):
        return profile_title(summary, lang)
    profile = _load(name)
    return str(profile.title(lang)) if profile is not None else name


def is_inherited(source: Any, summary: Mapping[str, Any]) -> bool:
    """True when an audit row's ``source`` is a profile the run's profile extends."""
    name = str(source or "")
    return bool(name) and name != str(summary.get("profile") or "")


def count_title(standard_id: str, summary: Mapping[str, Any], lang: Lang) -> str:
    """The title of a countable target (``C-…``) of the run's profile ("" when unknown)."""
    profile = _load(str(summary.get("profile") or ""))
    target = profile.counts.get(standard_id) if profile is not None else None
    if target is None:
        return ""
    return str(target.title_zh if lang == "zh" else target.title_en)
