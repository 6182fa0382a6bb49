"""Policy profiles: the numbers of the service standards as one document words them, with the clause.

A profile is a YAML file under ``scenarios/standards/`` (see ``national-default.yaml``). It sets the
standards of *its* document only; every standard is optional. ``extends: <profile>`` adds another
profile's standards as a baseline: the profile's own standards win, inherited ones keep their own
source (document and clause) and are marked inherited. Standard ids follow ``STANDARDS.md``.

A year target is written as a number (``0.85``: at least 85 %) or with its comparison exactly as the
clause words it (``"> 0.85"`` for "超过85%", ``">= 1.0"``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.errors import Problem, StandardsError

TravelModeName = Literal["walk", "tricycle", "car"]
Comparison = Literal[">=", ">"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Frozen):
    """Where a number comes from: a document id (``JL-C``) and its clause (``专栏2``)."""

    doc: str
    clause: str
    note: str | None = None

    def cite(self, documents: dict[str, Document] | None = None) -> str:
        """A short citation such as ``吉市政办发〔2021〕30号 专栏2``."""
        doc = documents.get(self.doc) if documents else None
        if doc is None:
            return f"{self.doc} {self.clause}".strip()
        name = doc.number or f"《{doc.title_zh}》（{doc.date.isoformat()}）"
        return f"{name} {self.clause}".strip()

    def cite_full(self, documents: dict[str, Document], lang: str = "zh") -> str:
        """Issuer, full title, number and clause: ``晋江市人民政府办公室《…》晋政办〔2020〕24号 三（四）``."""
        doc = documents.get(self.doc)
        if doc is None:
            return self.cite(documents)
        if lang == "en":
            title = doc.title_en or doc.title_zh
            issuer = doc.issuer_en or doc.issuer_zh
            number = doc.number or doc.date.isoformat()
            return f"{issuer}, “{title}” ({number}), clause {self.clause}"
        number = doc.number or f"（{doc.date.year}年{doc.date.month}月{doc.date.day}日印发）"
        return f"{doc.issuer_zh}《{doc.title_zh}》{number} {self.clause}".strip()


class Document(_Frozen):
    """A policy document a profile cites."""

    issuer_zh: str
    issuer_en: str | None = None
    title_zh: str
    title_en: str | None = None
    number: str | None = None
    date: dt.date
    level: Literal["province", "prefecture", "county", "national"] = "county"
    seed: str | None = None


class _Standard(_Frozen):
    source: Source


class YearTarget(_Frozen):
    """A share to reach by the end of a year, with the clause's comparison (``>`` for "超过")."""

    share: float = Field(gt=0, le=1)
    comparison: Comparison = ">="

    def met(self, count: int, total: int) -> bool:
        """Whether ``count`` of ``total`` meets the target (the same test as :meth:`required`)."""
        return count >= self.required(total) and (self.comparison == ">=" or self.share < 1 or total == 0)

    def required(self, total: int) -> int:
        """The least count of ``total`` that meets the target (``total`` when none can: "> 100%")."""
        if total <= 0:
            return 0
        exact = self.share * total
        need = math.floor(exact + 1e-9) + 1 if self.comparison == ">" else math.ceil(exact - 1e-9)
        return int(min(total, max(need, 0)))

    def text(self) -> str:
        """``≥ 85%`` or ``> 85%``."""
        return f"{'≥' if self.comparison == '>=' else '>'} {self.share * 100:g}%"


def _year_targets(value: Any) -> Any:
    """``{2024: "> 0.85", 2025: 1.0}`` → ``{2024: {"share": .85, "comparison": ">"}, ...}``."""
    if not isinstance(value, dict):
        return value
    out = {}
    for year, target in value.items():
        if isinstance(target, str):
            m = re.fullmatch(r"\s*(>=|≥|>)?\s*([0-9.]+)\s*(%?)\s*", target)
            if not m:
                raise ValueError(
                    f"target {target!r} for {year}: write a share such as 0.85, '> 0.85' or '>= 1.0'"
                )
            share = float(m.group(2)) / (100 if m.group(3) else 1)
            comparison = ">" if m.group(1) == ">" else ">="
            out[year] = {"share": share, "comparison": comparison}
        elif isinstance(target, int | float):
            out[year] = {"share": float(target), "comparison": ">="}
        else:
            out[year] = target
    return out


class RadiusStandard(_Standard):
    """A pickup point within ``distance_km`` OR ``time_min`` by ``mode`` (R-URBAN, R-TOWN)."""

    distance_km: float = Field(gt=0)
    time_min: float = Field(gt=0)
    time_min_strict: float | None = Field(default=None, gt=0)
    mode: TravelModeName


class OutletPerTownship(_Standard):
    """R-RURAL: at least ``outlets_per_township`` outlets in every township (乡、镇: "一乡一所")."""

    outlets_per_township: int = Field(ge=1)


class OutletDensity(_Standard):
    """D-OUTLET: at least ``per_10k_min`` terminal outlets per 10,000 residents of each ``unit``."""

    per_10k_min: float = Field(gt=0)
    per_10k_max: float | None = Field(default=None, gt=0)
    unit: Literal["community", "township"] = "community"


class FacilityCount(_Standard):
    """A count of facilities the study area must have by ``by_year`` (D-OUTLET-N, D-LOCKER-N).

    ``baseline``/``baseline_year`` record the document's starting figure; ``share_in_dense`` is a
    further target the document sets that needs delivery data the planner does not read.
    """

    count: int = Field(ge=1)
    by_year: int | None = None
    baseline: int | None = Field(default=None, ge=0)
    baseline_year: int | None = None
    share_in_dense: float | None = Field(default=None, gt=0, le=1)


class LockerDensity(_Standard):
    """D-LOCKER: at least one locker group per ``households_per_group`` households of each community."""

    households_per_group: float = Field(gt=0)


class DeliveryCentre(_Standard):
    """D-CENTRE: a residential project of ``min_population`` people gets a centre of ``min_floor_m2``."""

    min_population: float = Field(gt=0)
    min_floor_m2: float = Field(gt=0)


class BaselineDensity(_Standard):
    """D-BASE: baseline densities a report compares against (per 10,000 people and per 100 km²)."""

    outlets_per_10k: float = Field(gt=0)
    outlets_per_100km2: float = Field(gt=0)


class VillageShares(_Standard):
    """V-ALL / V-STATION: the share of administrative villages to reach, by year.

    ``counts``: ``own`` counts a village only when a station stands in it; ``own_or_shared`` also
    counts a village a station within the V-SHARE reach serves.
    """

    targets: dict[int, YearTarget]
    counts: Literal["own", "own_or_shared"]

    @field_validator("targets", mode="before")
    @classmethod
    def _parse_targets(cls, value: Any) -> Any:
        return _year_targets(value)

    def target_for(self, year: int) -> tuple[int, YearTarget] | None:
        """The target that applies in ``year``: the latest target year ≤ ``year`` (None before the first)."""
        due = [y for y in self.targets if y <= year]
        return (max(due), self.targets[max(due)]) if due else None

    def next_target(self, year: int) -> tuple[int, YearTarget] | None:
        """The first target year after ``year`` (None when none is left)."""
        later = [y for y in self.targets if y > year]
        return (min(later), self.targets[min(later)]) if later else None


class FiveHave(_Standard):
    """V-5HAVE: a village station has staff, premises, shelves, equipment and signage (五有).

    ``columns`` maps each item to the facility-file column that records it (yes/no).
    """

    columns: dict[str, str] = Field(
        default_factory=lambda: {
            "staff": "has_staff",
            "premises": "has_premises",
            "shelves": "has_shelves",
            "equipment": "has_equipment",
            "signage": "has_signage",
        }
    )


class VillageShare(_Standard):
    """V-SHARE: a station may serve neighbouring villages within ``max_km`` or ``max_min`` by ``mode``."""

    max_km: float = Field(ge=0)
    max_min: float | None = Field(default=None, ge=0)
    mode: TravelModeName = "tricycle"


class CountyPark(_Standard):
    """P-COUNTY: at least ``min_parks`` parks per county hosting ``min_carriers`` carriers."""

    min_parks: int = Field(ge=1)
    min_carriers: int = Field(ge=1)
    by_year: int | None = None


class EcommercePark(_Standard):
    """P-EPARK: e-commerce parks reserve room for postal and ``min_carriers`` express brands."""

    min_carriers: int = Field(ge=1)


class Hub(_Standard):
    """P-HUB: sorting centres fully automated with ``daily_items`` transfer capacity; cluster parks."""

    daily_items: float = Field(gt=0)
    automated: bool = True
    cluster_parks: int = Field(default=1, ge=0)
    by_year: int | None = None


class HouseholdSize(_Frozen):
    """Persons per household used where villages give no household count."""

    persons: float = Field(gt=0)
    source: Source


class Standards(_Frozen):
    """The standards a profile sets; each is ``None`` when the profile does not set it."""

    r_urban: RadiusStandard | None = Field(default=None, alias="R-URBAN")
    r_town: RadiusStandard | None = Field(default=None, alias="R-TOWN")
    r_rural: OutletPerTownship | None = Field(default=None, alias="R-RURAL")
    d_outlet: OutletDensity | None = Field(default=None, alias="D-OUTLET")
    d_outlet_n: FacilityCount | None = Field(default=None, alias="D-OUTLET-N")
    d_locker: LockerDensity | None = Field(default=None, alias="D-LOCKER")
    d_locker_n: FacilityCount | None = Field(default=None, alias="D-LOCKER-N")
    d_centre: DeliveryCentre | None = Field(default=None, alias="D-CENTRE")
    d_base: BaselineDensity | None = Field(default=None, alias="D-BASE")
    v_all: VillageShares | None = Field(default=None, alias="V-ALL")
    v_station: VillageShares | None = Field(default=None, alias="V-STATION")
    v_5have: FiveHave | None = Field(default=None, alias="V-5HAVE")
    v_share: VillageShare | None = Field(default=None, alias="V-SHARE")
    p_county: CountyPark | None = Field(default=None, alias="P-COUNTY")
    p_epark: EcommercePark | None = Field(default=None, alias="P-EPARK")
    p_hub: Hub | None = Field(default=None, alias="P-HUB")


STANDARD_IDS: dict[str, str] = {field.alias or name: name for name, field in Standards.model_fields.items()}
"""Map from a standard id (``R-URBAN``) to its attribute on :class:`Standards` (``r_urban``)."""


class CountTarget(_Frozen):
    """Another countable target of a document: ``count`` facilities of ``facility_type`` by ``by_year``.

    ``flag`` names a facility-file column that marks the facilities that count (e.g. ``model_outlet``);
    ``new_since`` counts only facilities opened in or after that year (column ``opened_year``; proposed
    sites count as new); ``baseline`` marks a figure the document reports rather than a target.
    """

    title_zh: str
    title_en: str
    count: int = Field(ge=0)
    facility_type: str
    flag: str | None = None
    new_since: int | None = None
    by_year: int | None = None
    baseline: bool = False
    scope: Literal["study_area", "province", "prefecture"] = "study_area"
    source: Source


class Profile(_Frozen):
    """A policy profile: which documents, which standards, with sources."""

    profile: str
    title_zh: str
    title_en: str
    extends: str | None = None
    documents: dict[str, Document]
    household_size: HouseholdSize
    standards: Standards
    counts: dict[str, CountTarget] = Field(default_factory=dict)
    inherited: dict[str, str] = Field(default_factory=dict, description="standard id → profile it came from")
    path: Path | None = Field(default=None, exclude=True)

    def get(self, standard_id: str) -> Any:
        """The standard ``standard_id`` or ``None`` when the profile does not set it."""
        attr = STANDARD_IDS.get(standard_id)
        if attr is None:
            raise StandardsError(f"unknown standard id {standard_id!r}; known: {', '.join(STANDARD_IDS)}")
        return getattr(self.standards, attr)

    def sets(self, standard_id: str) -> bool:
        """Whether the profile (or a profile it extends) sets ``standard_id``."""
        return standard_id in STANDARD_IDS and self.get(standard_id) is not None

    def require(self, standard_id: str) -> Any:
        """Return the standard ``standard_id`` or raise a :class:`StandardsError` naming what is missing."""
        value = self.get(standard_id)
        if value is None:
            where = str(self.path) if self.path else self.profile
            raise StandardsError(
                problems=[
                    Problem(
                        f"profile {self.profile!r} sets no {standard_id}, which this check needs",
                        file=self.path,
                        location=f"standards.{standard_id}",
                        fix=f"add a {standard_id} block to {where}, add 'extends: national-default', "
                        "or choose a profile that has one (e.g. national-default)",
                    )
                ]
            )
        return value

    def cite(self, standard_id: str) -> str:
        """The short citation of a standard (document number and clause)."""
        return str(self.require(standard_id).source.cite(self.documents))

    def cite_full(self, standard_id: str, lang: str = "zh") -> str:
        """Issuer, full document title, number and clause of a standard."""
        return str(self.require(standard_id).source.cite_full(self.documents, lang))

    def title(self, lang: str = "zh") -> str:
        """The profile's full title."""
        return self.title_en if lang == "en" else self.title_zh


def resolve_profile_path(standards: str, base_dir: Path) -> Path:
    """Find a policy profile by path or by name.

    A value ending in ``.yaml``/``.yml`` (or holding a ``/``) is a path relative to ``base_dir``. A bare
    name is looked up as ``<base_dir>/standards/<name>.yaml``, then in the source tree's
    ``scenarios/standards/``, then in the installed copies under ``<prefix>/share/planner/standards/``.
    """
    if standards.endswith((".yaml", ".yml")) or "/" in standards:
        return (base_dir / standards).resolve()
    candidates = [
        base_dir / "standards" / f"{standards}.yaml",
        Path(__file__).resolve().parents[2] / "scenarios" / "standards" / f"{standards}.yaml",
        Path(sys.prefix) / "share" / "planner" / "standards" / f"{standards}.yaml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return candidates[0].resolve()


_YAML_FIX = "check the indentation, the colons and the closing brackets at or before the line shown"
_KEYS_FIX = (
    "see scenarios/standards/national-default.yaml for each key and its form (or 'extends: national-default' "
    "to inherit what is not set)"
)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StandardsError(
            problems=[
                Problem("policy profile file not found", file=path, fix="check the path or profile name")
            ]
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StandardsError(
            problems=[
                Problem(
                    f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=path, fix="save it as UTF-8"
                )
            ]
        ) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StandardsError(problems=[Problem(f"not valid YAML: {exc}", file=path, fix=_YAML_FIX)]) from exc
    if not isinstance(raw, dict):
        raise StandardsError(
            problems=[
                Problem(
                    "a profile must be a mapping of keys",
                    file=path,
                    fix="start from scenarios/standards/national-default.yaml",
                )
            ]
        )
    return raw


def _merge_base(raw: dict[str, Any], path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The raw profile with the standards, counts and documents of the profile it ``extends``."""
    base_name = raw.get("extends")
    if not base_name:
        return raw
    base_path = resolve_profile_path(str(base_name), path.parent)
    if base_path in seen:
        chain = " → ".join(p.name for p in (*seen, base_path))
        raise StandardsError(
            problems=[
                Problem(
                    f"profiles extend each other in a loop: {chain}",
                    file=path,
                    fix="let one of them extend national-default instead",
                )
            ]
        )
    base = load_profile(base_path, _seen=(*seen, base_path))
    merged = dict(raw)
    own = dict(raw.get("standards") or {})
    inherited = dict(base.inherited)
    base_standards = base.standards.model_dump(by_alias=True, exclude_none=True, mode="json")
    for sid, block in base_standards.items():
        if sid not in own:
            own[sid] = block
            inherited.setdefault(sid, base.profile)
    merged["standards"] = own
    merged["documents"] = {
        **{k: v.model_dump(mode="json") for k, v in base.documents.items()},
        **(raw.get("documents") or {}),
    }
    counts = {k: v.model_dump(mode="json") for k, v in base.counts.items()}
    counts.update(raw.get("counts") or {})
    merged["counts"] = counts
    merged["inherited"] = {
        **inherited,
        **{k: base.profile for k in base.counts if k not in (raw.get("counts") or {})},
    }
    merged.setdefault("household_size", base.household_size.model_dump(mode="json"))
    return merged


def load_profile(path: str | Path, *, _seen: tuple[Path, ...] = ()) -> Profile:
    """Read a policy profile YAML file (and the profile it extends).

    Raises
    ------
    StandardsError
        With every problem of the file (field path and what is expected).
    """
    path = Path(path).resolve()
    raw = _merge_base(_read(path), path, (*_seen, path))
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(err["msg"], file=path, location=".".join(str(p) for p in err["loc"]), fix=_KEYS_FIX)
            for err in exc.errors()
        ]
        raise StandardsError(problems=problems) from exc
    sources = [
        (f"standards.{sid}", std.source.doc)
        for sid, attr in STANDARD_IDS.items()
        if (std := getattr(profile.standards, attr)) is not None
    ]
    sources += [(f"counts.{cid}", c.source.doc) for cid, c in profile.counts.items()]
    unknown = [(where, doc) for where, doc in sources if doc not in profile.documents]
    if unknown:
        raise StandardsError(
            problems=[
                Problem(
                    f"source document {doc!r} is not listed under documents",
                    file=path,
                    location=f"{where}.source.doc",
                    fix="add the document to the profile's documents block",
                )
                for where, doc in unknown
            ]
        )
    return profile.model_copy(update={"path": path})
