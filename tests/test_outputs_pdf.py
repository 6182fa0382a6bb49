"""report.pdf: printed by headless Chromium, A4, numbered pages, every page with content.

Skipped when no Chromium is installed. The demo county's summary part (headline figures, standards,
what stays unmet, cost and the county map) fits in two pages: the township pages begin on page 3
at the latest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.outputs import pdf, write_outputs
from planner.types import RunResult

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
A4_PT = (595.3, 841.9)

if pdf.find_chromium() is None:
    pytest.skip("no Chromium to print with (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def demo() -> RunResult:
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    return run_scenario(load_scenario(ROOT / "scenarios" / "demo.yaml"), write=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_report_pdf(demo: RunResult, tmp_path: Path, lang: str) -> None:
    paths = write_outputs(demo, tmp_path / "o", lang=lang, formats={"report"})
    assert [p.name for p in paths] == ["report.html", "report.pdf", "summary.json"]
    reader = pypdf.PdfReader(str(tmp_path / "o" / "report.pdf"))
    pages = reader.pages
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4_PT, abs=1.5)
        text = page.extract_text() or ""
        assert len(text.strip()) > 20, f"page {number} is empty"
        # the page number printed at the foot: "n / N"
        assert f"{number} / {len(pages)}" in text, f"page {number} has no page number"
    heading = "四、乡镇分述" if lang == "zh" else "4. Township by township"
    first_town_page = next(i for i, p in enumerate(pages, start=1) if heading in (p.extract_text() or ""))
    assert first_town_page <= 3, f"the summary part takes {first_town_page - 1} pages"
    # the county map and the township maps are in the PDF as images
    images = sum(len(p.images) for p in pages)
    assert images >= 1 + len(demo.township_table)


def test_no_pdf_when_asked_or_when_no_chromium(
    demo: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    names = [p.name for p in write_outputs(demo, tmp_path / "a", formats={"report"}, pdf=False)]
    assert "report.pdf" not in names
    monkeypatch.setenv("PLANNER_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with caplog.at_level("WARNING"):
        names = [p.name for p in write_outputs(demo, tmp_path / "b", formats={"report"})]
    assert "report.pdf" not in names and "report.html" in names
    notes = [r.getMessage() for r in caplog.records if "report.pdf" in r.getMessage()]
    assert len(notes) == 1 and "no Chromium" in notes[0]
