"""Plain-language explanations of the standards and of audit rows (planner.audit.explain)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from planner.audit.explain import explain_row, explain_standard
from planner.errors import StandardsError
from planner.standards import STANDARD_IDS, Profile, load_profile

STANDARDS_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "standards"
JLC = "吉市政办发〔2021〕30号 专栏2"
LC3 = "聊政办字〔2024〕9号 二（一）3"


@pytest.fixture(scope="module")
def national() -> Profile:
    return load_profile(STANDARDS_DIR / "national-default.yaml")


def audit_row(**kw: object) -> pd.Series:
    base: dict[str, object] = {
        "unit_level": "township",
        "unit_code": "130101001",
        "unit_name": "城关街道",
        "note": "",
        "existing": float("nan"),
    }
    base.update(kw)
    return pd.Series(base)


def test_urban_failure_sentence(national: Profile) -> None:
    # 8,450 of 68,700 urban people uncovered: 12.299...% -> "12.3%"
    row = audit_row(
        standard_id="R-URBAN",
        value=1 - 8450 / 68700,
        target=1.0,
        passed=False,
        population=68_700.0,
        shortfall=8_450.0,
        citation=JLC,
    )
    assert explain_row(row, "zh", profile=national) == (
        "城关街道城区 12.3% 的人口（8,450 人）步行 10 分钟或 1 公里内没有快递取件点"
        "（吉市政办发〔2021〕30号 专栏2）"
    )
    assert explain_row(row, "en", profile=national) == (
        "In 城关街道, 12.3% of the urban population (8,450 people) has no parcel pickup point "
        "within 10 minutes on foot or 1 km (吉市政办发〔2021〕30号 专栏2)"
    )


def test_town_strict_sentence_uses_15_minutes(national: Profile) -> None:
    row = audit_row(
        standard_id="R-TOWN-15",
        value=0.75,
        target=1.0,
        passed=False,
        population=4000.0,
        shortfall=1000.0,
        citation=JLC,
    )
    assert "车行 15 分钟或 3 公里内" in explain_row(row, "zh", profile=national)
    row30 = row.copy()
    row30["standard_id"] = "R-TOWN"
    assert "within 30 minutes by vehicle or 3 km" in explain_row(row30, "en", profile=national)


def test_density_and_village_sentences() -> None:
    row = audit_row(
        standard_id="D-OUTLET",
        unit_name="一社区",
        value=2 / 12_000 * 1e4,
        target=4.0,
        passed=False,
        population=12_000.0,
        existing=2.0,
        shortfall=3.0,
        citation="HS 二（一）2",
    )
    assert explain_row(row, "zh") == (
        "一社区每万人仅有 1.7 个快递末端网点（12,000 人，2 个），低于 4 个，需新增 3 个（HS 二（一）2）"
    )
    row = audit_row(
        standard_id="V-STATION",
        unit_name="东镇",
        value=0.5,
        target=0.85,
        passed=False,
        population=1800.0,
        existing=2.0,
        shortfall=2.0,
        note="target for end of 2024 (audit year 2024)",
        citation=LC3,
    )
    assert explain_row(row, "zh") == (
        "东镇有坐标的行政村中达标的占 50%，未达到2024年底目标 85%，还需 2 个村"
        "（聊政办字〔2024〕9号 二（一）3）"
    )
    assert "short of the end-2024 target of 85%: 2 more village(s)" in explain_row(row, "en")


def test_undecided_and_passed_rows(national: Profile) -> None:
    row = audit_row(
        standard_id="D-CENTRE",
        unit_level="community",
        value=float("nan"),
        target=1.0,
        passed=pd.NA,
        population=3000.0,
        shortfall=float("nan"),
        note="delivery centre present but floor_area_m2 unknown",
        citation="",
    )
    text = explain_row(row, "zh", profile=national)
    # the audit's English note in Chinese words in a Chinese sentence
    assert "无法判断（有配送中心但面积不详）" in text and "晋政办〔2020〕24号 三（四）" in text
    assert "floor_area_m2 unknown" in explain_row(row, "en", profile=national)
    ok = audit_row(
        standard_id="P-COUNTY",
        value=1.0,
        target=1.0,
        passed=True,
        population=float("nan"),
        shortfall=0.0,
        citation="聊政办字〔2024〕9号 二（一）2",
    )
    assert explain_row(ok, "en").startswith("城关街道: county express park met")


def test_park_failure_names_carriers(national: Profile) -> None:
    row = audit_row(
        standard_id="P-COUNTY",
        unit_level="county",
        unit_name="测试县",
        value=0.0,
        target=1.0,
        passed=False,
        population=float("nan"),
        existing=0.0,
        shortfall=1.0,
        citation="",
    )
    assert explain_row(row, "zh", profile=national) == (
        "测试县没有入驻 3 家以上快递企业的快递园区（需 1 处，现有 0 处）（聊政办字〔2024〕9号 二（一）2）"
    )


#: A profile that sets each standard (national-default leaves the place-specific counts to their own).
SETTER = {"D-OUTLET-N": "hoxud-2021", "D-LOCKER-N": "jilin-city-2021", "P-HUB": "jinjiang-2020"}


@pytest.mark.parametrize("sid", sorted(STANDARD_IDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_standard_explained_with_clause(national: Profile, sid: str, lang: str) -> None:
    profile = load_profile(STANDARDS_DIR / f"{SETTER[sid]}.yaml") if sid in SETTER else national
    text = explain_standard(sid, profile, lang)  # type: ignore[arg-type]
    assert profile.cite(sid) in text
    assert "{" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_countable_targets_explained(lang: str) -> None:
    jj = load_profile(STANDARDS_DIR / "jinjiang-2020.yaml")
    text = explain_standard("C-MODEL-OUTLET", jj, lang)  # type: ignore[arg-type]
    assert "40" in text and "晋政办〔2020〕24号 三（四）" in text


def test_standard_texts_carry_the_numbers(national: Profile) -> None:
    assert explain_standard("V-STATION", national, "zh") == (
        "行政村寄递物流综合服务站覆盖率（村内建站计入）：2024 年底超过 85%，2025 年底达到 100%"
        "（聊政办字〔2024〕9号 二（一）3）。"
    )
    town = explain_standard("R-TOWN-15", national, "en")
    assert "3 km service radius or 15–30 minutes by vehicle" in town
    assert "planner default" in explain_standard("V-SHARE", national, "en")
    assert "95%" in explain_standard("V-ALL-2022", national, "zh")


def test_missing_standard_in_profile() -> None:
    jj = load_profile(STANDARDS_DIR / "jinjiang-2020.yaml")
    with pytest.raises(StandardsError, match="jinjiang-2020"):
        explain_standard("R-URBAN", jj, "zh")
    with pytest.raises(StandardsError, match="unknown standard id"):
        explain_standard("X-NOPE", jj, "zh")


def test_summary_row_sentence_is_in_one_language() -> None:
    """A township/county total (role ``summary``) quotes its note in the sentence's language."""
    row = audit_row(
        standard_id="R-RURAL",
        unit_level="county",
        unit_name="示范县",
        value=7 / 8,
        target=1.0,
        passed=False,
        existing=7.0,
        shortfall=1.0,
        population=8.0,
        note="7 of 8 townships meet the standard",
        role="summary",
        citation=JLC,
    )
    assert explain_row(row, "zh") == (
        "示范县：一乡一所未全部达标（8 个乡镇中 7 个达标），还需新增 1 处（吉市政办发〔2021〕30号 专栏2）"
    )
    assert "(7 of 8 townships meet the standard); 1 more needed" in explain_row(row, "en")


#: Notes the audit writes on the demo county under the six profiles (one part each), and words a
#: Chinese note may keep: the facilities-file columns and codes it asks for.
AUDIT_NOTES = (
    "0 of 19 communities meet the standard; needs 16",
    "7 of 8 townships meet the standard",
    "1 park(s)/sorting centre(s); most carriers in one: 2; by end of 2024",
    "515 in 2020; a baseline the document reports, shown for comparison",
    "≥ 95%; own or shared station; target for end of 2021",
    "> 85%; station in the village; target for end of 2024 (not yet due in 2023)",
    "base = households; base: register; range 4–5 per 10,000",
    "breakdown (the standard applies to the county)",
    "largest centre 18 m² < 30 m²",
    "30 min; network reading (covered_network)",
    "strict reading: 15 min",
    "per 100 km² (area 791.6 km²)",
    "outlets, village stations and delivery centres per 10,000 people",
    "cannot be audited from these data: automation of sorting centres needs facility column(s) "
    "automated (yes/no)",
    "cannot be audited from these data: the e-commerce parks needs facility column(s) "
    "type = ecommerce_park, brands",
    "not set by this document (hoxud-2021) (the plan does not place for it)",
    "not set by this document (national-default)",
)
FILE_WORDS = {"automated", "type", "ecommerce_park", "brands"}


@pytest.mark.parametrize("note", AUDIT_NOTES)
def test_audit_notes_read_in_chinese(note: str) -> None:
    from planner.audit.explain import note_zh

    text = note_zh(note)
    english = [w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in FILE_WORDS]
    assert text and not english, (note, text)
    assert "；" in text if "; " in note else True
