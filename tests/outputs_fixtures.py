"""A tiny, self-consistent RunResult for the outputs tests (built in code, no files).

The county is a 10 km square in UTM 50N (near 117°E, 36°N) split into two townships. Demand
points sit on a 6 × 5 grid; coverage, the summary, the audit and the township table are all
*computed* from the demand and village frames here, so a test can compare the written files with
sums it does itself.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from shapely.geometry import Point, box

from planner.types import AuditResult, RunResult

WORK_CRS = CRS.from_epsg(32650)
X0, Y0 = 500_000.0, 4_000_000.0
TOWNSHIPS = (("371502001", "东城街道"), ("371502101", "柳林镇"))
COUNTY = ("371502", "示例县")


def _townships() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"township_code": [t[0] for t in TOWNSHIPS], "township_name": [t[1] for t in TOWNSHIPS]},
        geometry=[box(X0, Y0, X0 + 5000, Y0 + 10_000), box(X0 + 5000, Y0, X0 + 10_000, Y0 + 10_000)],
        crs=WORK_CRS,
    )


def _demand(n_x: int = 6, n_y: int = 5) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for j in range(n_y):
        for i in range(n_x):
            x = X0 + 800 + i * 1700
            y = Y0 + 900 + j * 2000
            west = x < X0 + 5000
            if west and j >= 2 and i <= 1:
                area = "urban"
            elif (not west and j == 2) or (west and j == 1):
                area = "township"
            else:
                area = "rural"
            pop = float(rng.integers(3000, 9000) if area == "urban" else rng.integers(200, 1500))
            rows.append((x, y, pop, area, TOWNSHIPS[0][0] if west else TOWNSHIPS[1][0]))
    frame = pd.DataFrame(rows, columns=["x", "y", "population", "area_class", "township_code"])
    frame["demand_id"] = np.arange(len(frame))
    frame["households"] = (frame["population"] / 2.62).round(1)
    frame["village_code"] = ""
    # coverage: urban mostly covered, township half, rural little; the plan fixes some
    idx = frame.index.to_numpy()
    frame["covered_before"] = (
        ((frame["area_class"] == "urban") & (idx % 4 != 1))
        | ((frame["area_class"] == "township") & (idx % 2 == 0))
        | ((frame["area_class"] == "rural") & (idx % 5 == 0))
    )
    frame["covered_after"] = frame["covered_before"] | (frame["area_class"] != "rural") | (idx % 3 == 0)
    frame["covered"] = frame["covered_before"]
    frame["nearest_km"] = np.where(frame["covered_before"], 0.6, 4.2) + idx * 0.01
    frame["nearest_min"] = frame["nearest_km"] / 4.5 * 60
    frame["nearest_min"] = frame["nearest_min"].where(idx != 29, np.inf)  # one unreachable point
    frame["reachable"] = idx != 29
    geom = [Point(x, y) for x, y in zip(frame.pop("x"), frame.pop("y"), strict=True)]
    return gpd.GeoDataFrame(frame, geometry=geom, crs=WORK_CRS)


def _villages() -> gpd.GeoDataFrame:
    data = [
        ("371502001001", "东关社区", 0, 111, "community", 4200.0, True, True, (1500, 6500)),
        ("371502001201", "王庄村", 0, 220, "village", 860.0, True, True, (900, 1200)),
        ("371502001202", "李家村", 0, 220, "village", 640.0, False, True, (3900, 8800)),
        ("371502101201", "柳林村", 1, 121, "village", 1320.0, True, True, (7200, 5000)),
        ("371502101202", "张家洼村", 1, 220, "village", 410.0, False, False, (9300, 9200)),
        ("371502101203", "北沟村", 1, 220, "village", 290.0, False, False, None),  # no coordinates
    ]
    cls = {111: "urban", 121: "township", 220: "rural"}
    frame = pd.DataFrame(
        {
            "village_code": [d[0] for d in data],
            "village_name": [d[1] for d in data],
            "township_code": [TOWNSHIPS[d[2]][0] for d in data],
            "township_name": [TOWNSHIPS[d[2]][1] for d in data],
            "urban_rural_code": [d[3] for d in data],
            "kind": [d[4] for d in data],
            "population": [d[5] for d in data],
            "households": [round(d[5] / 2.62, 1) for d in data],
            "area_class": [cls[d[3]] for d in data],
            "has_station_before": [d[6] for d in data],
            "has_station_after": [d[7] for d in data],
            "nearest_station_km": [0.0, 0.0, 5.8, 0.0, 7.9, np.inf],
            "nearest_station_min": [0.0, 0.0, 9.5, 0.0, 14.2, np.inf],
            "mappable": [d[8] is not None for d in data],
        }
    )
    geom = [Point(X0 + d[8][0], Y0 + d[8][1]) if d[8] else None for d in data]
    return gpd.GeoDataFrame(frame, geometry=geom, crs=WORK_CRS)


def _facilities() -> gpd.GeoDataFrame:
    rows = [
        (
            "F001",
            "outlet",
            "东关快递服务站",
            "中国邮政;中通",
            "existing",
            "371502001",
            1200,
            6300,
            np.nan,
            np.nan,
        ),
        (
            "F002",
            "outlet",
            "柳林镇快递超市",
            "圆通;韵达",
            "existing",
            "371502101",
            7300,
            5100,
            np.nan,
            np.nan,
        ),
        ("F003", "locker", "东关小区快递柜", "丰巢", "existing", "371502001", 1700, 7200, np.nan, np.nan),
        (
            "F004",
            "village_station",
            "王庄村邮站",
            "中国邮政",
            "existing",
            "371502001",
            950,
            1250,
            np.nan,
            np.nan,
        ),
        (
            "F005",
            "village_station",
            "柳林村服务站",
            "中通;申通",
            "existing",
            "371502101",
            7150,
            4950,
            np.nan,
            np.nan,
        ),
        (
            "F006",
            "sorting_centre",
            "县分拨中心",
            "中国邮政;中通;圆通;韵达",
            "existing",
            "371502101",
            6000,
            2500,
            np.nan,
            np.nan,
        ),
        ("P001", "outlet", "", "", "proposed", "371502001", 2500, 2900, 180_000.0, 2331.0),
        ("P002", "locker", "", "", "proposed", "371502001", 900, 8900, 25_000.0, 5120.0),
        ("P003", "village_station", "", "", "proposed", "371502001", 3950, 8750, 60_000.0, 640.0),
        ("P004", "outlet", "", "", "proposed", "371502101", 8600, 4900, 150_000.0, 1879.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "facility_id",
            "type",
            "name",
            "brands",
            "status",
            "township_code",
            "x",
            "y",
            "cost",
            "population_gained",
        ],
    )
    frame["capacity"] = np.nan
    frame["floor_area_m2"] = np.nan
    frame["village_code"] = ""
    geom = [Point(X0 + x, Y0 + y) for x, y in zip(frame.pop("x"), frame.pop("y"), strict=True)]
    return gpd.GeoDataFrame(frame, geometry=geom, crs=WORK_CRS)


def coverage_share(demand: pd.DataFrame, area: str, column: str) -> float:
    """Population-weighted share of ``area`` demand with ``column`` true (the summary's definition)."""
    sel = demand[demand["area_class"] == area]
    return float(sel.loc[sel[column], "population"].sum() / sel["population"].sum())


def make_run_result(
    *, language: str = "zh", with_budget_curve: bool = True, with_service_areas: bool = False
) -> RunResult:
    """Build the tiny county's RunResult (every table consistent with the demand and villages)."""
    townships = _townships()
    demand = _demand()
    villages = _villages()
    facilities = _facilities()
    boundary = gpd.GeoDataFrame(
        {"county_code": [COUNTY[0]], "county_name": [COUNTY[1]]},
        geometry=[box(X0, Y0, X0 + 10_000, Y0 + 10_000)],
        crs=WORK_CRS,
    )
    to_wgs = Transformer.from_crs(WORK_CRS, 4326, always_xy=True)
    proposed = facilities[facilities["status"] == "proposed"]
    lon, lat = to_wgs.transform(proposed.geometry.x.to_numpy(), proposed.geometry.y.to_numpy())
    names = dict(TOWNSHIPS)
    proposals = pd.DataFrame(
        {
            "id": proposed["facility_id"].to_numpy(),
            "type": proposed["type"].to_numpy(),
            "lon": lon,
            "lat": lat,
            "township_code": proposed["township_code"].to_numpy(),
            "township_name": [names[c] for c in proposed["township_code"]],
            "cost": proposed["cost"].to_numpy(),
            "population_gained": proposed["population_gained"].to_numpy(),
        }
    )

    cov = {
        a: {
            "before": coverage_share(demand, a, "covered_before"),
            "after": coverage_share(demand, a, "covered_after"),
        }
        for a in ("urban", "township", "rural")
    }
    admin = villages[villages["kind"] == "village"]
    audit_rows: list[tuple[Any, ...]] = [
        (
            "R-URBAN",
            "county",
            COUNTY[0],
            COUNTY[1],
            cov["urban"]["before"],
            1.0,
            cov["urban"]["before"] >= 1.0,
        ),
        (
            "R-TOWN",
            "county",
            COUNTY[0],
            COUNTY[1],
            cov["township"]["before"],
            1.0,
            cov["township"]["before"] >= 1.0,
        ),
        ("R-RURAL", "county", COUNTY[0], COUNTY[1], 2.0, 2.0, True),
        ("D-OUTLET", "county", COUNTY[0], COUNTY[1], 2 / demand["population"].sum() * 10_000, 4.0, False),
        ("V-ALL", "county", COUNTY[0], COUNTY[1], float(admin["has_station_before"].mean()), 1.0, False),
        ("P-COUNTY", "county", COUNTY[0], COUNTY[1], 1.0, 1.0, True),
    ]
    for code, name in TOWNSHIPS:
        sub = demand[demand["township_code"] == code]
        for sid, area in (("R-URBAN", "urban"), ("R-TOWN", "township")):
            part = sub[sub["area_class"] == area]
            if part.empty:
                continue
            share = float(part.loc[part["covered_before"], "population"].sum() / part["population"].sum())
            audit_rows.append((sid, "township", code, name, share, 1.0, share >= 1.0))
        audit_rows.append(("R-RURAL", "township", code, name, 1.0, 1.0, True))
    audit_table = pd.DataFrame(
        audit_rows,
        columns=["standard_id", "unit_level", "unit_code", "unit_name", "value", "target", "passed"],
    )
    gaps_src = villages[~villages["has_station_before"] & (villages["kind"] == "village")]
    village_gaps = pd.DataFrame(
        {
            "village_code": gaps_src["village_code"].to_numpy(),
            "village_name": gaps_src["village_name"].to_numpy(),
            "township_name": gaps_src["township_name"].to_numpy(),
            "population": gaps_src["population"].to_numpy(),
            "nearest_station_km": gaps_src["nearest_station_km"].to_numpy(),
            "nearest_station_min": gaps_src["nearest_station_min"].to_numpy(),
            "reason": ["无村级站点，最近站点超出共享范围"] * (len(gaps_src) - 1) + ["无坐标，无法计算距离"],
        }
    )
    unc = demand[~demand["covered_before"]].copy()
    unc["geometry"] = unc.geometry.buffer(500, cap_style="square")
    uncovered = (
        gpd.GeoDataFrame(unc[["area_class", "township_code", "population", "geometry"]], crs=WORK_CRS)
        .dissolve(by=["area_class", "township_code"], aggfunc={"population": "sum"})
        .reset_index()
    )
    township_gaps = pd.DataFrame(
        {
            "standard_id": ["D-OUTLET", "D-OUTLET", "D-OUTLET"],
            "unit_level": ["township", "township", "community"],
            "unit_code": ["371502001", "371502101", "371502001001"],
            "unit_name": ["东城街道", "柳林镇", "东关社区"],
            "facility_type": ["outlet", "outlet", "outlet"],
            "existing": [1, 1, 1],
            "value": [0.24, 0.76, 2.38],
            "target": [4.0, 4.0, 4.0],
            "needed": [16, 5, 1],
            "note": ["range 4–5 per 10,000"] * 3,
        }
    )
    audit = AuditResult(
        table=audit_table, village_gaps=village_gaps, uncovered=uncovered, township_gaps=township_gaps
    )

    trows = []
    for code, name in TOWNSHIPS:
        sub = demand[demand["township_code"] == code]
        vsub = admin[admin["township_code"] == code]
        pop = float(sub["population"].sum())
        trows.append(
            {
                "township_code": code,
                "township_name": name,
                "population": pop,
                "coverage_before": float(sub.loc[sub["covered_before"], "population"].sum() / pop),
                "coverage_after": float(sub.loc[sub["covered_after"], "population"].sum() / pop),
                "villages": len(vsub),
                "with_station_before": int(vsub["has_station_before"].sum()),
                "with_station_after": int(vsub["has_station_after"].sum()),
            }
        )
    township_table = pd.DataFrame(trows)
    counts = proposals["type"].value_counts()
    summary: dict[str, Any] = {
        "scenario": "tiny-test",
        "planner_version": "0.1.0",
        "scenario_hash": "abc123def4567890",
        "population_total": float(demand["population"].sum()),
        "coverage": cov,
        "villages": {
            "total": len(admin),
            "with_station_before": int(admin["has_station_before"].sum()),
            "with_station_after": int(admin["has_station_after"].sum()),
        },
        "proposals": {str(k): int(v) for k, v in counts.items()},
        "solver": {
            "name": "highs",
            "status": "optimal",
            "objective": float(proposals["cost"].sum()),
            "mip_gap": 0.0,
            "seconds": 0.42,
        },
        "timings": {"inputs": 1.2, "network": 3.4, "coverage": 0.8, "audit": 0.1, "optimize": 0.5},
    }
    extra: dict[str, pd.DataFrame] = {}
    if with_budget_curve:
        extra["budget_curve"] = pd.DataFrame(
            {"budget": [0.0, 100_000.0, 200_000.0, 415_000.0], "covered_share": [0.62, 0.78, 0.86, 0.93]}
        )
    if with_service_areas:
        pickup = facilities[facilities["type"].isin(["outlet", "locker", "village_station"])]
        extra["service_areas"] = gpd.GeoDataFrame(
            {"facility_id": pickup["facility_id"].to_numpy(), "status": pickup["status"].to_numpy()},
            geometry=pickup.geometry.buffer(1200).to_numpy(),
            crs=WORK_CRS,
        )
    citations = {
        "R-URBAN": "吉市政办发〔2021〕30号 专栏2",
        "R-TOWN": "吉市政办发〔2021〕30号 专栏2",
        "R-RURAL": "吉市政办发〔2021〕30号 专栏2",
        "D-OUTLET": "和硕县实施方案 2.",
        "V-ALL": "吉政办发〔2021〕25号 五",
        "P-COUNTY": "聊政办字〔2024〕9号 二(一)2",
    }
    return RunResult(
        scenario_name="tiny-test",
        scenario_hash="abc123def4567890",
        planner_version="0.1.0",
        language=language,  # type: ignore[arg-type]
        crs=WORK_CRS,
        title="示例县快递服务设施规划",
        boundary=boundary,
        townships=townships,
        demand=demand,
        villages=villages,
        facilities=facilities,
        proposals=proposals,
        audit=audit,
        township_table=township_table,
        summary=summary,
        extra_tables=extra,
        citations=citations,
    )


class DataCells:
    """Collects ``data-key``/``data-value`` attributes and the text of those elements from HTML."""

    def __init__(self, text: str) -> None:
        from html.parser import HTMLParser

        cells: dict[str, tuple[str | None, str]] = {}
        stack: list[tuple[str, str | None, str | None, list[str]]] = []

        class _P(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                a = dict(attrs)
                stack.append((tag, a.get("data-key"), a.get("data-value"), []))

            def handle_endtag(self, tag: str) -> None:
                while stack:
                    t, key, value, parts = stack.pop()
                    content = "".join(parts)
                    if stack:
                        stack[-1][3].append(content)
                    if key:
                        cells[key] = (value, content.strip())
                    if t == tag:
                        break

            def handle_data(self, data: str) -> None:
                if stack:
                    stack[-1][3].append(data)

        _P().feed(text)
        self.cells = cells

    def value(self, key: str) -> str:
        """The raw ``data-value`` of the element with ``data-key=key`` (it must have one)."""
        value = self.cells[key][0]
        assert value is not None, f"{key} has no data-value"
        return value

    def text(self, key: str) -> str:
        """The visible text of the element with ``data-key=key``."""
        return self.cells[key][1]
