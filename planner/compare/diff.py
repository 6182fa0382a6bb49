"""Two runs compared: sites, standards, townships and villages, A beside B.

Sites are matched by type and place (WGS-84 coordinates to 6 decimals, about 0.1 m): a site is
*only in A*, *only in B* or *in both* (with its units, e.g. locker groups, on each side). Standards
are the judged rows of each after-plan audit (:func:`planner.compare.load.is_judged`), matched by
standard and unit. Townships get population, coverage, sites, cost, villages served and the median
time to the nearest pickup point on each side; villages whose station status or covered share of
people differs between A and B are listed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.compare.load import RunFiles, is_judged

__all__ = ["Comparison", "compare_runs"]

SITE_COLUMNS = (
    "where",
    "type",
    "lon",
    "lat",
    "township_code",
    "ids_a",
    "ids_b",
    "status_a",
    "status_b",
    "units_a",
    "units_b",
    "cost_a",
    "cost_b",
)


@dataclass(frozen=True)
class Comparison:
    """The tables of a comparison and its figures (``compare.json``)."""

    a: RunFiles
    b: RunFiles
    sites: pd.DataFrame
    standards: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    summary: dict[str, Any]


def _sites(run: RunFiles) -> pd.DataFrame:
    """Facilities in service grouped by type and place: ids, status, units, cost."""
    f = run.facilities
    frame = pd.DataFrame(
        {
            "type": f["type"].astype(str).to_numpy(),
            "lon": f.geometry.x.round(6).to_numpy(),
            "lat": f.geometry.y.round(6).to_numpy(),
            "id": f["facility_id"].astype(str).to_numpy(),
            "status": f["status"].astype(str).to_numpy() if "status" in f else "existing",
            "cost": pd.to_numeric(
                f.get("cost", pd.Series(np.nan, index=f.index)), errors="coerce"
            ).to_numpy(),
            "township_code": f["township_code"].astype(str).to_numpy(),
        }
    )
    frame = frame[frame["status"] != "closed"]
    return (
        frame.groupby(["type", "lon", "lat"], sort=True)
        .agg(
            ids=("id", ";".join),
            status=("status", lambda s: "proposed" if (s == "proposed").any() else "existing"),
            units=("id", "size"),
            cost=("cost", lambda c: float(np.nansum(c))),
            township_code=("township_code", "first"),
        )
        .reset_index()
    )


def compare_sites(a: RunFiles, b: RunFiles) -> pd.DataFrame:
    """Every site of A or B: where it is (``only_a``, ``only_b``, ``both``) and its units on each side."""
    sa, sb = _sites(a), _sites(b)
    both = sa.merge(sb, on=["type", "lon", "lat"], how="outer", suffixes=("_a", "_b"), indicator=True)
    both["where"] = both["_merge"].map({"left_only": "only_a", "right_only": "only_b", "both": "both"})
    both["township_code"] = both["township_code_a"].fillna(both["township_code_b"])
    for side in ("a", "b"):
        both[f"units_{side}"] = both[f"units_{side}"].fillna(0).astype(int)
        both[f"ids_{side}"] = both[f"ids_{side}"].fillna("")
        both[f"status_{side}"] = both[f"status_{side}"].fillna("")
    order = {"only_a": 0, "only_b": 1, "both": 2}
    both = both.sort_values(
        ["where", "type", "lon", "lat"], key=lambda s: s.map(order) if s.name == "where" else s
    )
    return both[list(SITE_COLUMNS)].reset_index(drop=True)


def compare_standards(a: RunFiles, b: RunFiles) -> pd.DataFrame:
    """The judged rows of both after-plan audits, matched by standard and unit."""
    key = ["standard_id", "unit_level", "unit_code"]
    cols = [*key, "unit_name", "value", "target", "passed"]
    ja = a.audit.loc[is_judged(a.audit), cols]
    jb = b.audit.loc[is_judged(b.audit), cols]
    m = ja.merge(jb, on=key, how="outer", suffixes=("_a", "_b"))
    m["unit_name"] = m["unit_name_a"].fillna(m["unit_name_b"])
    pa = m["passed_a"].astype("boolean")
    pb = m["passed_b"].astype("boolean")
    m["met"] = np.select(
        [pa.fillna(False) & pb.fillna(False), pa.fillna(False), pb.fillna(False), pa.notna() & pb.notna()],
        ["both", "only_a", "only_b", "neither"],
        default="one_side",
    )
    m["changed"] = m["met"].isin(["only_a", "only_b", "one_side"]) | ~np.isclose(
        pd.to_numeric(m["value_a"], errors="coerce"),
        pd.to_numeric(m["value_b"], errors="coerce"),
        rtol=0,
        atol=1e-9,
        equal_nan=True,
    )
    cols = [*key, "unit_name", "value_a", "value_b", "target_a", "target_b", "passed_a", "passed_b"]
    return m[[*cols, "met", "changed"]].reset_index(drop=True)


def _coverage_by(run: RunFiles, column: str) -> pd.DataFrame:
    d = run.demand
    covered = d["covered_after"].astype(bool) if "covered_after" in d else d["covered"].astype(bool)
    frame = pd.DataFrame(
        {
            "code": d[column].astype(str),
            "pop": d["population"].astype(float),
            "cov": d["population"] * covered,
        }
    )
    return frame.groupby("code").agg(population=("pop", "sum"), covered=("cov", "sum"))


def _served(run: RunFiles) -> pd.Series:
    v = run.villages
    column = "has_station_after" if "has_station_after" in v else "has_station"
    return v[column].fillna(False).astype(bool)


def compare_townships(a: RunFiles, b: RunFiles) -> pd.DataFrame:
    """Per township: population, coverage, proposed sites and cost, villages served, median access time."""
    names = pd.concat([a.townships, b.townships])[["township_code", "township_name"]].drop_duplicates(
        "township_code"
    )
    rows = names.set_index("township_code")
    for side, run in (("a", a), ("b", b)):
        cov = _coverage_by(run, "township_code")
        rows[f"population_{side}"] = cov["population"].reindex(rows.index).round(1)
        rows[f"coverage_{side}"] = (cov["covered"] / cov["population"]).reindex(rows.index).round(6)
        prop = run.facilities[run.facilities["status"].astype(str) == "proposed"]
        rows[f"sites_{side}"] = prop.groupby("township_code").size().reindex(rows.index).fillna(0).astype(int)
        cost = pd.to_numeric(prop["cost"], errors="coerce").groupby(prop["township_code"]).sum()
        rows[f"cost_{side}"] = cost.reindex(rows.index).fillna(0.0).round(2)
        admin = run.villages["kind"].astype(str) == "village"
        served = (_served(run) & admin).groupby(run.villages["township_code"]).sum()
        rows[f"villages_served_{side}"] = served.reindex(rows.index).fillna(0).astype(int)
        access = {
            t["township_code"]: (t.get("after") or {}).get("median")
            for t in (run.summary.get("access") or {}).get("by_township", [])
        }
        rows[f"median_time_{side}"] = [access.get(code) for code in rows.index]
    return rows.reset_index()


def compare_villages(a: RunFiles, b: RunFiles) -> pd.DataFrame:
    """Villages (and communities) whose station status or covered share of people differs."""
    cols = ["village_code", "village_name", "township_code", "kind"]
    va = a.villages[cols].assign(station_a=_served(a).to_numpy())
    vb = b.villages[["village_code"]].assign(station_b=_served(b).to_numpy())
    m = va.merge(vb, on="village_code", how="outer")
    for side, run in (("a", a), ("b", b)):
        cov = _coverage_by(run, "village_code")
        share = (cov["covered"] / cov["population"].where(cov["population"] > 0)).round(6)
        m[f"covered_share_{side}"] = m["village_code"].map(share)
    station_diff = m["station_a"].fillna(False).astype(bool) != m["station_b"].fillna(False).astype(bool)
    cov_diff = ~np.isclose(
        m["covered_share_a"].astype(float),
        m["covered_share_b"].astype(float),
        rtol=0,
        atol=1e-6,
        equal_nan=True,
    )
    m["change"] = np.where(station_diff, "station", np.where(cov_diff, "coverage", ""))
    return m[station_diff | cov_diff].reset_index(drop=True)


def _headline(run: RunFiles) -> dict[str, Any]:
    s = run.summary
    villages = s.get("villages", {})
    access = (s.get("access") or {}).get("county", {}).get("after", {})
    equity = (s.get("access") or {}).get("equity", {}).get("after", {})
    return {
        "scenario": run.name,
        "folder": str(run.folder),
        "scenario_hash": s.get("scenario_hash"),
        "cost_total": s.get("cost_total"),
        "proposals": s.get("proposals", {}),
        "coverage_after": {c: (v or {}).get("after") for c, v in (s.get("coverage") or {}).items()},
        "villages_with_station": villages.get("with_station_after"),
        "villages_own_station": villages.get("own_station_after"),
        "unmet": len(s.get("unmet", [])),
        "access_median": access.get("median"),
        "access_p90": access.get("p90"),
        "access_mean": access.get("mean"),
        "worst_decile_share": equity.get("worst_population_share"),
    }


def compare_runs(a: RunFiles, b: RunFiles) -> Comparison:
    """Compare two runs read back from their output folders."""
    sites = compare_sites(a, b)
    standards = compare_standards(a, b)
    townships = compare_townships(a, b)
    villages = compare_villages(a, b)
    where = Counter(sites["where"])
    met = Counter(standards["met"])
    summary = {
        "a": _headline(a),
        "b": _headline(b),
        "sites": {"only_a": where["only_a"], "only_b": where["only_b"], "both": where["both"]},
        "standards": {
            "rows": len(standards),
            "met_a": int(standards["passed_a"].astype("boolean").fillna(False).sum()),
            "met_b": int(standards["passed_b"].astype("boolean").fillna(False).sum()),
            "only_a": met["only_a"],
            "only_b": met["only_b"],
        },
        "villages": {
            "changed": len(villages),
            "station": int((villages["change"] == "station").sum()),
            "coverage": int((villages["change"] == "coverage").sum()),
        },
    }
    return Comparison(a, b, sites, standards, townships, villages, summary)
