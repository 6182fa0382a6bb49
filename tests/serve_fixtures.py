"""The demo county run once per test process (json, csv, gpkg), for the serve and compare tests.

The run is cached with :func:`functools.cache`, so every test module of one pytest process shares it
(about ten seconds); each test builds its own editor on it.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.run import run_scenario
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.yaml"
#: A community of the demo that the run's plan leaves one outlet short of D-OUTLET (no candidate there).
SHORT_COMMUNITY = "379901001001"
FORMATS = ("json", "csv", "gpkg")


def run_into(scenario_path: Path, out: Path) -> Path:
    """Run a scenario into ``out`` with the files the server and the comparison read."""
    scenario = load_scenario(scenario_path)
    scenario = scenario.model_copy(
        update={"outputs": scenario.outputs.model_copy(update={"formats": FORMATS})}
    )
    run_scenario(scenario, out_dir=out)
    return out


@functools.cache
def demo_output() -> Path:
    """The demo run's output folder (made once per process)."""
    return run_into(DEMO, Path(tempfile.mkdtemp(prefix="planner-serve-")) / "demo")


def read_audit(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, encoding="utf-8-sig", dtype={"unit_code": str, "passed": str})
    table["passed"] = table["passed"].map({"True": True, "False": False})
    return table


def cell_lonlat(demand: gpd.GeoDataFrame, village_code: str) -> tuple[float, float]:
    """The WGS-84 centre of the most populous demand cell of a village or community."""
    cells = demand[demand["village_code"].astype(str) == village_code]
    best = cells.loc[cells["population"].idxmax()]
    point = gpd.GeoSeries([best.geometry], crs=demand.crs).to_crs(4326).iloc[0]
    return float(point.x), float(point.y)


def judged(table: pd.DataFrame) -> pd.DataFrame:
    """Judged rows keyed by (standard, level, code) with value and passed."""
    rows = table[table["role"].isin(["standard", "summary"])]
    return rows.set_index(["standard_id", "unit_level", "unit_code"])[["value", "passed"]].sort_index()


def same_values(a: pd.Series, b: pd.Series) -> bool:
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    return bool(
        np.array_equal(np.isnan(x), np.isnan(y))
        and np.allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=0, atol=1e-12)
    )


def same_passed(a: pd.Series, b: pd.Series) -> bool:
    """Equal pass/fail columns, missing (None/NaN/NA) equal to missing."""
    x = [None if v is None or v is pd.NA or v != v else bool(v) for v in a]
    y = [None if v is None or v is pd.NA or v != v else bool(v) for v in b]
    return x == y


def chrome(profile: Path) -> Any:
    """Headless Chromium that reaches no host but this machine, or ``None`` when it is not installed."""
    import shutil

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
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
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    drv.set_page_load_timeout(60)
    return drv
