"""The policy profiles under scenarios/standards/ against STANDARDS.md and the typed model."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from planner.errors import StandardsError
from planner.standards import STANDARD_IDS, Profile, load_profile

ROOT = Path(__file__).resolve().parents[1]
STANDARDS_DIR = ROOT / "scenarios" / "standards"
STANDARDS_MD = Path(os.environ.get("PLANNER_STANDARDS_MD", ROOT.parent / "shared" / "STANDARDS.md"))
DOC_PROFILES = {
    "JL-P": "jilin-province-2021",
    "JL-C": "jilin-city-2021",
    "LC": "liaocheng-2024",
    "HS": "hoxud-2021",
    "JJ": "jinjiang-2020",
}
ALL_PROFILES = [*DOC_PROFILES.values(), "national-default"]
#: Ids that carry no number in the documents (V-SHARE, V-5HAVE).
NO_NUMBER = {"V-SHARE", "V-5HAVE"}
#: Ids whose numbers STANDARDS.md states in another standard's row ("Hoxud must build 15" under D-OUTLET).
ROW_OF = {"D-OUTLET-N": "D-OUTLET"}
#: The standards every document shares; national-default leaves the place-specific ones to their profiles.
PLACE_SPECIFIC = {"D-OUTLET-N", "D-LOCKER-N", "P-HUB"}


def load(name: str) -> Profile:
    return load_profile(STANDARDS_DIR / f"{name}.yaml")


def standards_rows() -> dict[str, str]:
    """Map standard id -> the text of its STANDARDS.md table row (skips the test when the file is absent)."""
    if not STANDARDS_MD.is_file():
        pytest.skip(f"{STANDARDS_MD} not found (set PLANNER_STANDARDS_MD)")
    rows: dict[str, str] = {}
    for line in STANDARDS_MD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([A-Z]-[A-Z0-9-]+)\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def number_in(text: str, value: float) -> bool:
    """``value`` written in ``text`` as a whole number (3, 3.3, 3,000, 10 million), not as part of another."""
    forms = {f"{value:g}", f"{value:,g}", f"{value:,.0f}"}
    if value >= 1e6 and value % 1e6 == 0:
        forms.add(f"{value / 1e6:g} million")
    return any(re.search(rf"(?<![\d.,]){re.escape(f)}(?!\d|[.,]\d)", text) for f in forms)


def share_in(text: str, share: float) -> bool:
    """A share written as a percentage, or 1.0 as "every"/"all"."""
    if share == 1.0 and re.search(r"\b(every|all)\b|100%", text):
        return True
    return number_in(text, share * 100) and f"{share * 100:g}%" in text


def numbers_of(sid: str, std: Any) -> list[tuple[str, str, float]]:
    """(field, kind, value) of every number of a standard; kind is "num", "share" or "year"."""
    out: list[tuple[str, str, float]] = []
    for name, value in std.model_dump(exclude={"source"}).items():
        if value is None or isinstance(value, str | bool) or name == "columns":
            continue
        if isinstance(value, dict):
            for year, target in value.items():
                share = target["share"] if isinstance(target, dict) else target
                out += [(f"{name}.{year}", "year", float(year)), (f"{name}[{year}]", "share", float(share))]
        elif "share" in name:
            out.append((name, "share", float(value)))
        elif name.endswith("year"):
            out.append((name, "year", float(value)))
        elif name == "cluster_parks" and value == 1:
            out.append((name, "one", 1.0))
        else:
            out.append((name, "num", float(value)))
    return out


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_profile_numbers_match_standards_md(name: str) -> None:
    rows = standards_rows()
    profile = load(name)
    problems = []
    for sid, attr in STANDARD_IDS.items():
        std = getattr(profile.standards, attr)
        if std is None:
            continue
        src = std.source
        if src.doc == "PLANNER":
            assert sid in NO_NUMBER, f"{name}: {sid} uses a planner default for a number the documents set"
            assert src.note and "not from the documents" in src.note
            continue
        row = rows[ROW_OF.get(sid, sid)]
        if not re.search(rf"\b{re.escape(src.doc)}\b", row):
            problems.append(f"{sid}: source {src.doc} is not cited by STANDARDS.md ({row.strip()})")
        mode = getattr(std, "mode", None)
        if (
            mode is not None
            and {"walk": "on foot", "car": "by vehicle", "tricycle": "tricycle"}[mode] not in row
        ):
            problems.append(f"{sid}: mode {mode} not in STANDARDS.md")
        for field, kind, value in numbers_of(sid, std):
            if kind == "share":
                ok = share_in(row, value)
            elif kind == "one" or (value == 1 and field in ("outlets_per_township", "min_parks")):
                ok = bool(re.search(r"\b(one|1)\b", row))
            else:
                ok = number_in(row, value)
            if not ok:
                problems.append(f"{sid}.{field} = {value:g} not found in STANDARDS.md ({row.strip()})")
    assert not problems, "\n".join(problems)


def test_household_size_matches_standards_md() -> None:
    if not STANDARDS_MD.is_file():
        pytest.skip("STANDARDS.md not found")
    text = STANDARDS_MD.read_text(encoding="utf-8")
    for name in ALL_PROFILES:
        size = load(name).household_size.persons
        assert size == 2.62 and number_in(text, size)


@pytest.mark.parametrize(("doc", "name"), sorted(DOC_PROFILES.items()))
def test_document_profile_sets_every_numbered_standard_of_its_document(doc: str, name: str) -> None:
    rows = standards_rows()
    expected = {
        sid
        for sid in STANDARD_IDS
        if sid not in NO_NUMBER and sid in rows and re.search(rf"\b{re.escape(doc)}\b", rows[sid])
    }
    profile = load(name)
    got = {
        ROW_OF.get(sid, sid)
        for sid, attr in STANDARD_IDS.items()
        if getattr(profile.standards, attr) is not None and sid not in NO_NUMBER
    }
    assert got == expected - NO_NUMBER
    for sid in got:
        assert getattr(profile.standards, STANDARD_IDS[sid]).source.doc == doc
    # every document that allows shared stations gets the sharing reach, marked as a planner default
    share = profile.get("V-SHARE")
    assert share is None or (share.source.doc == "PLANNER" and "not from the documents" in share.source.note)


def test_national_default_sets_every_standard_but_the_place_specific_counts() -> None:
    profile = load("national-default")
    for sid in STANDARD_IDS:
        assert profile.sets(sid) == (sid not in PLACE_SPECIFIC), sid
    share = profile.require("V-SHARE")
    assert share.max_km == 2 and share.mode == "tricycle"
    assert share.source.doc == "PLANNER" and "default" in (share.source.note or "")


def test_hand_written_values() -> None:
    """Spot values typed from the seed documents (independent of STANDARDS.md)."""
    nd = load("national-default")
    assert (nd.require("R-URBAN").distance_km, nd.require("R-URBAN").time_min) == (1, 10)
    r_town = nd.require("R-TOWN")
    assert (r_town.distance_km, r_town.time_min, r_town.time_min_strict) == (3, 30, 15)
    station = nd.require("V-STATION")
    assert {y: (t.share, t.comparison) for y, t in station.targets.items()} == {
        2024: (0.85, ">"),
        2025: (1.0, ">="),
    }
    assert station.counts == "own"  # LC: a station in the village
    v_all = nd.require("V-ALL")
    assert {y: t.share for y, t in v_all.targets.items()} == {2021: 0.95, 2022: 1.0}
    assert v_all.counts == "own_or_shared"  # 村村通快递: express service reaches the village
    assert nd.require("D-OUTLET").unit == "community"  # "各社区内每1万人"
    assert load("hoxud-2021").require("D-OUTLET-N").count == 15
    assert load("jilin-city-2021").require("D-LOCKER-N").count == 700
    assert load("jinjiang-2020").require("P-HUB").daily_items == 10_000_000
    assert (nd.require("D-BASE").outlets_per_10k, nd.require("D-BASE").outlets_per_100km2) == (3.3, 4.92)
    assert (nd.require("D-CENTRE").min_population, nd.require("D-CENTRE").min_floor_m2) == (3000, 30)
    assert nd.require("P-COUNTY").min_carriers == 3
    assert nd.cite("R-URBAN") == "吉市政办发〔2021〕30号 专栏2"
    assert nd.cite("V-STATION") == "聊政办字〔2024〕9号 二（一）3"
    assert nd.cite("D-LOCKER") == "晋政办〔2020〕24号 三（四）"


@pytest.mark.parametrize("name", ALL_PROFILES)
def test_every_standard_has_a_clause(name: str) -> None:
    profile = load(name)
    for sid, attr in STANDARD_IDS.items():
        std = getattr(profile.standards, attr)
        if std is not None:
            assert std.source.clause.strip(), f"{name} {sid} has no clause"
            assert std.source.doc in profile.documents


def test_lacking_standard_names_number_and_profile() -> None:
    with pytest.raises(StandardsError) as err:
        load("jinjiang-2020").require("R-URBAN")
    text = str(err.value)
    assert "R-URBAN" in text and "jinjiang-2020" in text and "national-default" in text
