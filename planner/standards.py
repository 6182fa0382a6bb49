"""Policy profiles: the numbers of the service standards, each with the clause it comes from.

A profile is a YAML file under ``scenarios/standards/`` (see ``national-default.yaml``). Every
standard is optional in a profile; a check that needs a number the profile lacks calls
:meth:`Profile.require`, which raises :class:`~planner.errors.StandardsError` naming the number and
the profile. Standard ids follow ``STANDARDS.md`` (``R-URBAN``, ``D-OUTLET``, ``V-STATION`` ...).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import Problem, StandardsError

TravelModeName = Literal["walk", "tricycle", "car"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Frozen):
    """Where a number comes from: a document id (``JL-C``) and its clause (``专栏2``)."""

    doc: str
    clause: str
    note: str | None = None

    def cite(self, documents: dict[str, Document] | None = None) -> str:
        """A citation such as ``吉市政办发〔2021〕30号 专栏2``."""
        doc = documents.get(self.doc) if documents else None
        name = doc.number if doc and doc.number else self.doc
        return f"{name} {self.clause}".strip()


class Document(_Frozen):
    """A policy document a profile cites."""

    issuer_zh: str
    title_zh: str
    title_en: str | None = None
    number: str | None = None
    date: dt.date
    level: Literal["province", "prefecture", "county", "national"] = "county"
    seed: str | None = None


class RadiusStandard(_Frozen):
    """A pickup point within ``distance_km`` OR ``time_min`` by ``mode`` (R-URBAN, R-TOWN)."""

    distance_km: float = Field(gt=0)
    time_min: float = Field(gt=0)
    time_min_strict: float | None = Field(default=None, gt=0)
    mode: TravelModeName
    source: Source


class OutletPerTownship(_Frozen):
    """R-RURAL: at least ``outlets_per_township`` outlets in every township ("一乡一所")."""

    outlets_per_township: int = Field(ge=1)
    source: Source


class OutletDensity(_Frozen):
    """D-OUTLET: terminal outlets per 10,000 residents per community/township."""

    per_10k_min: float = Field(gt=0)
    per_10k_max: float | None = Field(default=None, gt=0)
    source: Source


class LockerDensity(_Frozen):
    """D-LOCKER: at least one locker group per ``households_per_group`` households."""

    households_per_group: float = Field(gt=0)
    source: Source


class DeliveryCentre(_Frozen):
    """D-CENTRE: a residential cluster of ``min_population`` people gets a centre of ``min_floor_m2``."""

    min_population: float = Field(gt=0)
    min_floor_m2: float = Field(gt=0)
    source: Source


class BaselineDensity(_Frozen):
    """D-BASE: baseline densities a report compares against (per 10,000 people and per 100 km²)."""

    outlets_per_10k: float = Field(gt=0)
    outlets_per_100km2: float = Field(gt=0)
    source: Source


class VillageAll(_Frozen):
    """V-ALL: share of administrative villages with express service, to reach by ``by_year``."""

    share: float = Field(gt=0, le=1)
    by_year: int
    interim: dict[int, float] = Field(default_factory=dict)
    source: Source


class VillageStation(_Frozen):
    """V-STATION: share of administrative villages with a station, by year (e.g. 2024: 0.85)."""

    targets: dict[int, float]
    source: Source


class VillageShare(_Frozen):
    """V-SHARE: a station may serve neighbouring villages within ``max_km`` or ``max_min`` by ``mode``."""

    max_km: float = Field(ge=0)
    max_min: float | None = Field(default=None, ge=0)
    mode: TravelModeName = "tricycle"
    source: Source


class CountyPark(_Frozen):
    """P-COUNTY: at least ``min_parks`` parks per county hosting ``min_carriers`` carriers."""

    min_parks: int = Field(ge=1)
    min_carriers: int = Field(ge=1)
    by_year: int | None = None
    source: Source


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
    d_locker: LockerDensity | None = Field(default=None, alias="D-LOCKER")
    d_centre: DeliveryCentre | None = Field(default=None, alias="D-CENTRE")
    d_base: BaselineDensity | None = Field(default=None, alias="D-BASE")
    v_all: VillageAll | None = Field(default=None, alias="V-ALL")
    v_station: VillageStation | None = Field(default=None, alias="V-STATION")
    v_share: VillageShare | None = Field(default=None, alias="V-SHARE")
    p_county: CountyPark | None = Field(default=None, alias="P-COUNTY")


STANDARD_IDS: dict[str, str] = {field.alias or name: name for name, field in Standards.model_fields.items()}
"""Map from a standard id (``R-URBAN``) to its attribute on :class:`Standards` (``r_urban``)."""


class Profile(_Frozen):
    """A policy profile: which documents, which standards, with sources."""

    profile: str
    title_zh: str
    title_en: str
    documents: dict[str, Document]
    household_size: HouseholdSize
    standards: Standards
    path: Path | None = Field(default=None, exclude=True)

    def require(self, standard_id: str) -> Any:
        """Return the standard ``standard_id`` or raise a :class:`StandardsError` naming what is missing."""
        attr = STANDARD_IDS.get(standard_id)
        if attr is None:
            raise StandardsError(f"unknown standard id {standard_id!r}; known: {', '.join(STANDARD_IDS)}")
        value = getattr(self.standards, attr)
        if value is None:
            where = str(self.path) if self.path else self.profile
            raise StandardsError(
                problems=[
                    Problem(
                        f"profile {self.profile!r} sets no {standard_id}, which this check needs",
                        file=self.path,
                        location=f"standards.{standard_id}",
                        fix=f"add a {standard_id} block to {where} or choose a profile that has one "
                        "(e.g. national-default)",
                    )
                ]
            )
        return value

    def cite(self, standard_id: str) -> str:
        """The citation of a standard (document number and clause), e.g. for a report."""
        std = self.require(standard_id)
        return str(std.source.cite(self.documents))


def load_profile(path: str | Path) -> Profile:
    """Read a policy profile YAML file.

    Raises
    ------
    StandardsError
        With every problem of the file (field path and what is expected).
    """
    path = Path(path)
    if not path.is_file():
        raise StandardsError(
            problems=[
                Problem("policy profile file not found", file=path, fix="check the path or profile name")
            ]
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StandardsError(problems=[Problem(f"not valid YAML: {exc}", file=path)]) from exc
    if not isinstance(raw, dict):
        raise StandardsError(problems=[Problem("a profile must be a mapping of keys", file=path)])
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(err["msg"], file=path, location=".".join(str(p) for p in err["loc"]))
            for err in exc.errors()
        ]
        raise StandardsError(problems=problems) from exc
    unknown_docs = [
        (sid, std.source.doc)
        for sid, attr in STANDARD_IDS.items()
        if (std := getattr(profile.standards, attr)) is not None and std.source.doc not in profile.documents
    ]
    if unknown_docs:
        raise StandardsError(
            problems=[
                Problem(
                    f"source document {doc!r} is not listed under documents",
                    file=path,
                    location=f"standards.{sid}.source.doc",
                    fix="add the document to the profile's documents block",
                )
                for sid, doc in unknown_docs
            ]
        )
    return profile.model_copy(update={"path": path})
