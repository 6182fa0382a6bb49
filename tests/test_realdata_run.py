"""`planner run` end to end on real data: Cox's Bazar (real OSM roads, WorldPop 100 m, OSM places).

Skipped when the workplace's shared data folder is absent (a user's clone has none).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.mask import mask

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "real" / "coxsbazar_BD"
SCENARIO = ROOT / "scenarios" / "examples" / "coxsbazar.yaml"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/real/coxsbazar_BD is absent"),
]


def test_coxsbazar_runs_end_to_end(tmp_path: Path) -> None:
    import geopandas as gpd

    from planner.run import run_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(SCENARIO).model_copy(update={"cache_dir": tmp_path / "cache"})
    result = run_scenario(scenario, out_dir=tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    # the people counted equal the raster's people whose cell centre lies in the area of interest
    aoi = gpd.read_file(SHARED / "aoi_worldpop_clip_bbox.geojson")
    with rasterio.open(SHARED / "worldpop_coxsbazar.tif") as src:
        data, _ = mask(src, aoi.to_crs(src.crs).geometry, crop=True, filled=False, all_touched=False)
    assert summary["population_total"] == pytest.approx(float(np.ma.sum(data)), rel=1e-3)
    # two real post offices are the only existing outlets; the city is far from covered before the plan
    audit = pd.read_csv(tmp_path / "out" / "audit.csv", dtype={"unit_code": str})
    urban = audit[(audit["standard_id"] == "R-URBAN") & (audit["unit_level"] == "county")].iloc[0]
    assert float(urban["value"]) < 0.5
    for area_class in ("urban", "township"):
        cov = summary["coverage"][area_class]
        assert cov["before"] <= cov["after"]
        assert cov["after"] >= cov["coverable"] - 1e-9
    assert len(result.proposals) > 0
    assert set(result.proposals["type"]) <= {"outlet", "locker", "village_station"}
