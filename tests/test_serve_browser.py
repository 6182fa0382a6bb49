"""``planner serve`` in headless Chromium: a real server process, a real page, real clicks.

The test starts ``python -m planner serve`` on a free port, opens the page with every other host
unreachable, adds an outlet by clicking the map in a community the demo's plan leaves one outlet
short, and checks the standards table against a hand count of outlets over the register's
population (the run's own files); removes it through its popup and sees the run's table again;
undoes the removal, saves the scenario from the page and checks that ``planner run`` on it gives the
table the page shows; stops the server. Skipped without chromium, chromedriver or selenium.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from serve_fixtures import ROOT, SHORT_COMMUNITY, cell_lonlat, demo_output, judged, same_passed, same_values

from planner.run import run_scenario
from planner.scenario import load_scenario

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
KEY = ["standard_id", "unit_level", "unit_code"]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    out = demo_output()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "serve", str(out), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    url = None
    lines = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        url = found.group(0) if found else None
    if url is None:
        proc.kill()
        pytest.fail("the server printed no address:\n" + "".join(lines))
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


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
        "--window-size=1500,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no network but this machine
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


def _wait(drv: Any, script: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = drv.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}\n{drv.find_element('id', 'message').text}")


def _version(drv: Any) -> int:
    return int(drv.execute_script("return document.body.getAttribute('data-version')"))


def _wait_update(drv: Any, before: int) -> None:
    _wait(drv, f"return Number(document.body.getAttribute('data-version')) > {before}")
    error = drv.find_element("id", "message").get_attribute("class")
    assert error != "error", drv.find_element("id", "message").text


def _table(drv: Any) -> pd.DataFrame:
    """The standards table as the page shows it, every level (the level select walked through)."""
    from selenium.webdriver.support.ui import Select

    rows = []
    for level in ("county", "township", "community"):
        Select(drv.find_element("id", "level")).select_by_value(level)
        rows += drv.execute_script(
            "return Array.from(document.querySelectorAll('#standards tbody tr')).map(tr => "
            "[tr.dataset.sid, tr.dataset.level, tr.dataset.code, tr.dataset.value, tr.dataset.passed])"
        )
    frame = pd.DataFrame(rows, columns=[*KEY, "value", "passed"])
    frame["value"] = pd.to_numeric(frame["value"].replace("", None), errors="coerce")
    frame["passed"] = frame["passed"].map({"true": True, "false": False, "": None})
    return frame.set_index(KEY).sort_index()


def _click_map(drv: Any, lon: float, lat: float) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    drv.execute_script(f"plannerServe.map().setView([{lat}, {lon}], 16, {{animate: false}})")
    time.sleep(0.3)
    x, y = drv.execute_script(
        f"var p = plannerServe.map().latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y];"
    )
    element = drv.find_element("id", "map")
    w, h = element.size["width"], element.size["height"]
    ActionChains(drv).move_to_element_with_offset(element, int(x - w / 2), int(y - h / 2)).click().perform()


def _expected_after_one_outlet(before: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """D-OUTLET after one more outlet in SHORT_COMMUNITY, from the run's files and the register."""
    register = pd.read_csv(
        ROOT / "data" / "villages" / "villages.csv", dtype={"village_code": str, "township_code": str}
    )
    people = float(register.set_index("village_code").loc[SHORT_COMMUNITY, "population"])
    sites = gpd.read_file(demo_output() / "results.gpkg", layer="facilities")
    n = int(((sites["type"] == "outlet") & (sites["village_code"].astype(str) == SHORT_COMMUNITY)).sum())
    town = str(register.set_index("village_code").loc[SHORT_COMMUNITY, "township_code"])
    communities = register[
        (register["village_code"].str[-3:].astype(int) < 200) & (register["population"] > 0)
    ]
    k_town = int((communities["township_code"] == town).sum())
    assert before.loc[("D-OUTLET", "community", SHORT_COMMUNITY), "value"] == pytest.approx(n / people * 1e4)
    return {
        ("D-OUTLET", "community", SHORT_COMMUNITY): (n + 1) / people * 1e4,
        ("D-OUTLET", "township", town): before.loc[("D-OUTLET", "township", town), "value"] + 1 / k_town,
        ("D-OUTLET", "county", "379901"): before.loc[("D-OUTLET", "county", "379901"), "value"]
        + 1 / len(communities),
    }


def test_edit_remove_save_and_run_again(server: tuple[str, Any], driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    url, _proc = server
    driver.get(url)
    _wait(driver, "return window.plannerServe && window.plannerServe.ready")
    before = _table(driver)
    assert len(before) > 50 and before.loc[("D-OUTLET", "community", SHORT_COMMUNITY), "passed"] is False

    # add an outlet at a clicked point in the community
    session_demand = gpd.read_file(demo_output() / "results.gpkg", layer="demand")
    lon, lat = cell_lonlat(session_demand, SHORT_COMMUNITY)
    Select(driver.find_element("id", "add-type")).select_by_value("outlet")
    driver.find_element("id", "btn-add-mode").click()
    v = _version(driver)
    _click_map(driver, lon, lat)
    _wait_update(driver, v)
    driver.find_element("id", "btn-add-mode").click()  # leave add mode
    after = _table(driver)
    expected = _expected_after_one_outlet(before)
    changed = [k for k in after.index if not same_values(after.loc[[k], "value"], before.loc[[k], "value"])]
    assert sorted(changed) == sorted(expected)
    for key, value in expected.items():
        assert after.loc[key, "value"] == pytest.approx(value, rel=1e-12)
    assert after.loc[("D-OUTLET", "community", SHORT_COMMUNITY), "passed"] is True
    assert same_passed(after.drop(index=changed)["passed"], before.drop(index=changed)["passed"])
    latency = float(re.findall(r"[\d.]+", driver.find_element("id", "message").text)[0])
    assert latency < 5.0  # the page's own report of the update (the 1 s target is measured in benchmarks/)

    # remove it from its popup (opened from the edit list): the run's table again
    driver.find_element("css selector", "#edits a.site[data-site='U1']").click()
    _wait(driver, "return document.querySelector('.leaflet-popup button.act-remove')")
    v = _version(driver)
    driver.find_element("css selector", ".leaflet-popup button.act-remove").click()
    _wait_update(driver, v)
    restored = _table(driver)
    assert same_values(restored["value"], before["value"]) and same_passed(
        restored["passed"], before["passed"]
    )

    # undo the removal, save from the page, run the saved scenario
    v = _version(driver)
    driver.find_element("id", "btn-undo").click()
    _wait_update(driver, v)
    shown = _table(driver)
    assert same_values(shown["value"], after["value"])
    target = tmp_path / "edited.yaml"
    field = driver.find_element("id", "save-path")
    field.clear()
    field.send_keys(str(target))
    driver.find_element("id", "btn-save").click()
    _wait(driver, "return document.body.getAttribute('data-saved')")
    assert target.is_file()
    result = run_scenario(load_scenario(target), write=False)
    theirs = judged(result.audit_after.table)
    assert sorted(theirs.index) == sorted(shown.index)
    assert same_values(shown["value"], theirs.loc[shown.index, "value"])
    assert same_passed(shown["passed"], theirs.loc[shown.index, "passed"])

    # English, and nothing but this machine was asked for anything
    driver.find_element("id", "btn-lang").click()
    assert driver.find_element("css selector", "[data-t='standards']").text == "Standards"
    hosts = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(h.startswith(url) or h.startswith("data:") for h in hosts), hosts
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe


def test_the_server_stops(server: tuple[str, Any]) -> None:
    import urllib.request

    url, proc = server
    with urllib.request.urlopen(url + "api/state", timeout=30) as response:
        assert response.status == 200
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) is not None
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "api/state", timeout=5)
