"""One language per run, and files that open right in Chinese Excel.

The demo county is planned once; its outputs are written in Chinese and in English and every text a
person reads is scanned for the other language: CSV cells of free text, every workbook cell, the
report's visible text, the map's layer names, legend, popups and labels, and summary.json's sentences.
Names (townships, villages, facilities, carriers), codes and the clauses quoted from the Chinese
documents are allowed in an English run; identifiers (standard ids, facility ids, EPSG, file names)
in a Chinese one.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from planner.outputs import sources
from planner.outputs import write_outputs as _write_outputs
from planner.types import RunResult

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"
write_outputs = functools.partial(_write_outputs, pdf=False)

BOM = b"\xef\xbb\xbf"
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef“”《》、（）]+")
WORD = re.compile(r"[A-Za-z]{3,}")
#: Identifiers a Chinese run may show: standard ids, units, software and file names.
ALLOWED_WORDS = {
    "URBAN", "TOWN", "RURAL", "OUTLET", "LOCKER", "CENTRE", "BASE", "AREA", "ALL", "STATION",
    "COUNTY", "SHARE", "HAVE", "EPARK", "HUB", "EPSG", "UTC", "WGS", "MIP", "planner", "highs",
    "HiGHS", "OpenStreetMap", "Leaflet", "GeoPackage", "CSV", "csv", "xlsx", "json", "gpkg", "html",
    "pdf", "results", "summary", "report", "audit", "travel", "max_snap_m", "snap", "max",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_result() -> RunResult:
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    return run_scenario(load_scenario(DEMO), write=False)


@pytest.fixture(scope="module")
def outputs(demo_result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"lang-{lang}") / "out"
        write_outputs(demo_result, folder, lang=lang)
        out[lang] = folder
    return out


# ---------------------------------------------------------------------------------------------
# What a person reads in each file
# ---------------------------------------------------------------------------------------------


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "title", "aria-label") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def html_texts(text: str) -> list[str]:
    parser = _Visible()
    parser.feed(text)
    # chart labels live in inline SVG <text> elements, which the parser reports as data too
    return parser.texts


def map_texts(text: str) -> list[str]:
    """Layer names, legend, title, popup fields and values, tooltips and labels of map.html."""
    body = text[text.index("<body>") :]
    found = html_texts(body)
    for spec in re.findall(r"plannerLayer\((\{.*?\})\);\n", body):
        data = json.loads(spec)
        found += [str(f) for f in data.get("fields", [])]
        for feat in data.get("features", []):
            found.append(str(feat.get("t", "")))
            found += [str(v) for v in feat.get("v", [])]
        found += [str(lab[2]) for lab in data.get("labels", [])]
    for shared in re.findall(r"var planner_demand = (\[.*?\]);\n", body):
        for feat in json.loads(shared):
            found.append(str(feat.get("t", "")))
            found += [str(v) for v in feat.get("v", [])]
    overlays = re.search(r"overlays :\s*\{(.*?)\}", body, flags=re.S)
    assert overlays is not None
    found += [json.loads(f'"{k}"') for k in re.findall(r'"((?:[^"\\]|\\.)*)" :', overlays.group(1))]
    return [html.unescape(t) for t in found if t]


#: Columns of the CSVs that hold sentences for people (the others hold codes and numbers).
CSV_TEXT_COLUMNS = ("reason", "note", "explanation")


def excel_read(path: Path) -> str:
    """A CSV as Excel on Chinese Windows reads it: UTF-8 after a BOM, else the GBK code page."""
    raw = path.read_bytes()
    return raw[len(BOM) :].decode("utf-8") if raw.startswith(BOM) else raw.decode("gbk", errors="replace")


def people_texts(folder: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for every text of the folder meant for a person."""
    for csv_path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str)
        for col in CSV_TEXT_COLUMNS:
            if col in frame.columns:
                yield from ((f"{csv_path.name}:{col}", v) for v in frame[col].dropna())
    wb = openpyxl.load_workbook(folder / "results.xlsx", read_only=True)
    for ws in wb.worksheets:
        yield "results.xlsx sheet name", ws.title
        for row in ws.iter_rows(values_only=True):
            yield from ((f"results.xlsx:{ws.title}", v) for v in row if isinstance(v, str))
    wb.close()
    for text in html_texts((folder / "report.html").read_text(encoding="utf-8")):
        yield "report.html", text
    for text in map_texts((folder / "map.html").read_text(encoding="utf-8")):
        yield "map.html", text
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    yield "summary.json:unreachable", str((summary.get("unreachable") or {}).get("explanation", ""))


def _names(result: RunResult) -> set[str]:
    """Names and quoted clauses an English run shows in Chinese."""
    names: set[str] = {result.title}
    for frame, cols in (
        (result.townships, ("township_name",)),
        (result.villages, ("village_name", "township_name")),
        (result.facilities, ("name", "brands")),
        (result.boundary, ("county_name",)),
        (result.audit.table, ("unit_name",)),
    ):
        for col in cols:
            if col in frame.columns:
                names |= {str(v) for v in frame[col].dropna()}
    for frame in (result.audit.township_gaps, result.extra_tables.get("density_targets")):
        if isinstance(frame, pd.DataFrame):
            for col in ("unit_name", "name"):
                if col in frame.columns:
                    names |= {str(v) for v in frame[col].dropna()}
    names |= {str(c) for c in result.citations.values()}
    for doc in sources.documents(result.summary).values():
        names |= {doc.issuer_zh, doc.title_zh, doc.number}
    if isinstance(result.audit_after, object) and result.audit_after is not None:
        t = result.audit_after.table
        if "citation" in t.columns:
            names |= {str(v) for v in t["citation"].dropna()}
    return {n for n in names if n}


def _in_names(run: str, names: set[str]) -> bool:
    bare = run.strip("（）()、，。：；“”《》 \u3000")
    return not bare or any(bare in n for n in names)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_every_csv_opens_right_in_chinese_excel(outputs: dict[str, Path], demo_result: RunResult) -> None:
    """Each CSV starts with a BOM, so Excel reads UTF-8 and shows the Chinese names (not GBK mojibake)."""
    for lang, folder in outputs.items():
        csvs = sorted(folder.glob("*.csv"))
        assert {"proposals.csv", "audit.csv", "village_gaps.csv", "audit_after.csv"} <= {p.name for p in csvs}
        for path in csvs:
            assert path.read_bytes().startswith(BOM), f"{lang}/{path.name} has no BOM"
            text = excel_read(path)
            assert "\ufffd" not in text
        towns = excel_read(folder / "proposals.csv")
        assert set(demo_result.proposals["township_name"]) <= set(re.findall(r"[\u4e00-\u9fff]+", towns))
        gaps = excel_read(folder / "village_gaps.csv")
        assert demo_result.audit.village_gaps["village_name"].iloc[0] in gaps
        # the gap reason is in the run's language only
        reasons = pd.read_csv(folder / "village_gaps.csv", encoding="utf-8-sig")["reason"]
        assert all((" / " not in r) for r in reasons)
        assert all(bool(CJK_RUN.search(r)) == (lang == "zh") for r in reasons)


def test_workbook_headers_are_in_the_run_language(outputs: dict[str, Path]) -> None:
    for lang, folder in outputs.items():
        wb = openpyxl.load_workbook(folder / "results.xlsx", read_only=True)
        for ws in wb.worksheets:
            header = next(ws.iter_rows(max_row=1, values_only=True))
            for cell in header:
                if cell is None:
                    continue
                if lang == "zh":
                    assert CJK_RUN.search(str(cell)), (ws.title, cell)
                else:
                    assert not CJK_RUN.search(str(cell)) and "_" not in str(cell), (ws.title, cell)
        wb.close()


def _identifiers(result: RunResult) -> set[str]:
    """Words of the run's codes: facility and candidate ids, the scenario name, document codes."""
    ids = set(result.facilities["facility_id"].astype(str)) | {result.scenario_name}
    ids |= {str(v) for v in result.proposals["id"]}
    for frame in result.extra_tables.values():
        if isinstance(frame, pd.DataFrame):
            for col in ("station_id", "outlet_id", "park_id"):
                if col in frame.columns:
                    ids |= {str(v) for v in frame[col].dropna()}
    ids |= {doc.number for doc in sources.documents(result.summary).values()}
    provenance = result.summary.get("inputs", {}).get("provenance", {})
    ids |= {str(p["file"]) for p in provenance.values() if p.get("file")}  # the input files' names
    return {w for i in ids | _facility_fields() for w in WORD.findall(i)}


def _facility_fields() -> set[str]:
    """Column names and type codes of the facilities file, which a note asking for them must quote."""
    from planner.standards import load_profile
    from planner.types import FACILITY_COLUMNS, FACILITY_TYPES

    profile = load_profile(ROOT / "scenarios" / "standards" / "national-default.yaml")
    five = profile.standards.v_5have
    assert five is not None
    return {*FACILITY_COLUMNS, *FACILITY_TYPES, *five.columns.values(), "ecommerce_park"}


def test_a_chinese_run_has_no_english_text(outputs: dict[str, Path], demo_result: RunResult) -> None:
    allowed = ALLOWED_WORDS | _identifiers(demo_result)
    problems = []
    for where, text in people_texts(outputs["zh"]):
        # the scenario hash's letters are no English ("1fffabfb" in the map's footer)
        digest = str(demo_result.summary.get("scenario_hash", "")) or "-"
        text = text.replace(digest, " ").replace(digest[:8], " ")
        words = [w for w in WORD.findall(text) if w not in allowed]
        if words:
            problems.append((where, text[:120], words[:5]))
    uniq = sorted({(w, t) for w, t, _ in problems})
    assert not problems, f"{len(problems)} texts with English words: {uniq[:40]}"


def test_an_english_run_has_no_chinese_text_outside_names(
    outputs: dict[str, Path], demo_result: RunResult
) -> None:
    names = _names(demo_result)
    problems = []
    for where, text in people_texts(outputs["en"]):
        runs = [r for r in CJK_RUN.findall(text) if not _in_names(r, names)]
        if runs:
            problems.append((where, text[:120], runs[:5]))
    assert not problems, f"{len(problems)} texts with Chinese outside names, e.g. {problems[:8]}"


def test_summary_json_keeps_chinese_readable(outputs: dict[str, Path]) -> None:
    raw = (outputs["zh"] / "summary.json").read_text(encoding="utf-8")
    assert "\\u" not in raw
    data: dict[str, Any] = json.loads(raw)
    assert data["title"] in raw and CJK_RUN.search(data["title"])
