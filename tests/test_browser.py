"""map.html and report.html rendered in headless Chromium with the network cut off.

Skipped when chromium, chromedriver or selenium is missing. Set ``PLANNER_SCREENSHOT_DIR`` to keep
the screenshots somewhere to look at (they always go to pytest's tmp folder).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outputs_fixtures import make_run_result

from planner.outputs import write_outputs

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # no network at all: every host name fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"run-{lang}") / "out"
        write_outputs(make_run_result(), folder, lang=lang, formats={"map", "report"})
        out[lang] = folder
    return out


def _errors(drv: Any) -> list[dict[str, Any]]:
    return [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]


def _keep(drv: Any, path: Path, name: str, *, full_page: bool = False) -> Path:
    if full_page:
        height = drv.execute_script("return document.documentElement.scrollHeight")
        drv.set_window_size(1200, min(int(height) + 40, 12000))
    shot = path / name
    drv.save_screenshot(str(shot))
    keep = os.environ.get("PLANNER_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)
    drv.set_window_size(1400, 1000)
    return shot


_MAP_STATS = """
const m = Object.values(window).find(v => v instanceof L.Map);
let circles = 0, markers = 0, polys = 0;
m.eachLayer(l => { if (l instanceof L.CircleMarker) circles++; else if (l instanceof L.Marker) markers++;
                   else if (l instanceof L.Polygon) polys++; });
return {circles, markers, polys, tiles: document.querySelectorAll('.leaflet-tile').length,
        resources: performance.getEntriesByType('resource').map(r => r.name)};
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_renders_offline_with_layers_legend_and_popups(
    driver: Any, written: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    result = make_run_result()
    driver.get((written[lang] / "map.html").as_uri())
    WebDriverWait(driver, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".leaflet-control-layers"))
    )
    assert _errors(driver) == []

    labels = [
        e.text.strip()
        for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
    ]
    expected = (
        [
            "现有设施",
            "现有村级站点",
            "规划新增设施",
            "行政村站点状态",
            "县界",
            "乡镇界",
            "需求点覆盖情况（全部）",
            "规划后仍未覆盖的需求点",
            "未覆盖区域（规划前）",
            "人口分布（分级）",
            "地区类型",
            "在线底图 OpenStreetMap（需联网）",
        ]
        if lang == "zh"
        else [
            "Existing facilities",
            "Existing village stations",
            "Proposed facilities",
            "Village station status",
            "County boundary",
            "Township boundaries",
            "Demand coverage (all points)",
            "Demand still uncovered after the plan",
            "Uncovered areas (before plan)",
            "Population (graded)",
            "Area classes",
        ]
    )
    for name in expected:
        assert name in labels, (name, labels)
    assert any(lab.startswith(("服务半径", "Service radius")) for lab in labels), labels

    legend = driver.find_element(By.ID, "planner-legend")
    assert legend.is_displayed()
    assert ("图例" if lang == "zh" else "Legend") in legend.text

    # what is on the map equals the data: facilities as icons, demand + mappable villages as circles
    stats = driver.execute_script(_MAP_STATS)
    fac = result.facilities
    old_stations = int(((fac["status"] == "existing") & (fac["type"] == "village_station")).sum())
    icons = driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-pane .pl-fac")
    assert len(icons) == len(fac) - old_stations  # existing village stations: own layer, off at first
    assert len(driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-pane .pl-fac-new")) == int(
        (fac["status"] == "proposed").sum()
    )
    # shown at first: demand still uncovered after the plan, and the villages with coordinates
    uncovered_after = int((~result.demand["covered_after"]).sum())
    assert stats["circles"] == uncovered_after + int(result.villages.geometry.notna().sum())

    # switching a layer on in the layer control draws its objects
    toggle = next(
        lab
        for lab in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
        if lab.text.strip() in ("现有村级站点", "Existing village stations")
    )
    toggle.find_element(By.TAG_NAME, "input").click()
    assert len(driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-pane .pl-fac")) == len(fac)
    toggle.find_element(By.TAG_NAME, "input").click()
    assert (
        len(driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-pane .pl-fac")) == len(fac) - old_stations
    )
    assert stats["tiles"] == 0  # the online base map is off by default
    assert all(r.startswith(("file:", "data:")) for r in stats["resources"]), stats["resources"]

    shot = _keep(driver, tmp_path, f"map_{lang}.png")
    assert shot.stat().st_size > 20_000

    # a proposed facility's popup gives its cost and the population it adds
    new = driver.find_element(By.CSS_SELECTOR, ".leaflet-marker-pane .pl-fac-new")
    driver.execute_script("arguments[0].click();", new)
    popup = WebDriverWait(driver, 10).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".leaflet-popup-content"))
    )
    assert ("新增覆盖人口" if lang == "zh" else "Population gained") in popup.text
    assert ("万元" if lang == "zh" else "¥") in popup.text
    WebDriverWait(driver, 5).until(
        lambda d: (
            d.execute_script("return getComputedStyle(document.querySelector('.leaflet-popup')).opacity")
            == "1"
        )
    )
    _keep(driver, tmp_path, f"map_popup_{lang}.png")
    assert _errors(driver) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_renders_with_tables_and_charts(
    driver: Any, written: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    from selenium.webdriver.common.by import By

    driver.get((written[lang] / "report.html").as_uri())
    assert _errors(driver) == []
    result = make_run_result()
    county_rows = int((result.audit.table["unit_level"] == "county").sum())
    assert len(driver.find_elements(By.CSS_SELECTOR, "#standards tbody tr")) == county_rows
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 3  # coverage, budget curve, townships
    assert all(c.size["width"] > 200 and c.size["height"] > 100 for c in charts)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#proposals tbody tr")) == len(result.proposals)
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
    assert resources == []
    shot = _keep(driver, tmp_path, f"report_{lang}.png", full_page=True)
    assert shot.stat().st_size > 20_000


_OVERFLOW = """
const out = [];
const main = document.querySelector('main').getBoundingClientRect();
document.querySelectorAll('.card, .card .main, .card .sub, .card .label, td, th, dd, .town, figure')
  .forEach(el => {
    if (el.scrollWidth > el.clientWidth + 1)
      out.push([el.tagName, el.className, el.textContent.slice(0, 40)]);
  });
document.querySelectorAll('table, img, svg.chart, .cards').forEach(el => {
  const r = el.getBoundingClientRect();
  if (r.right > main.right + 1 || r.left < main.left - 1)
    out.push([el.tagName, el.id || el.className, 'outside']);
});
return out;
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("media", ["screen", "print"])
def test_report_has_no_overflow_and_shows_maps(
    driver: Any, written: dict[str, Path], tmp_path: Path, lang: str, media: str
) -> None:
    """At 1280 px on screen, and in print at A4 width (18.8 cm ≈ 710 px), nothing spills out."""
    width = 1280 if media == "screen" else 710
    driver.set_window_size(width, 1000)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    try:
        driver.get((written[lang] / "report.html").as_uri())
        assert _errors(driver) == []
        overflow = driver.execute_script(_OVERFLOW)
        assert overflow == [], overflow[:10]
        maps = driver.execute_script(
            "return [...document.querySelectorAll('img')].filter(i => i.naturalWidth > 100).length"
        )
        assert maps >= 1 + len(make_run_result().township_table)
        _keep(driver, tmp_path, f"report_{media}_{lang}.png", full_page=media == "screen")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.set_window_size(1400, 1000)
