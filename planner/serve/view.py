"""What the page shows, as JSON: the map's fixed layers once, then the figures after every edit.

:func:`layers` is sent once (boundary, townships, roads, candidates, villages, labels in Chinese and
English); :func:`figures` after every edit: the headline (coverage, villages with a station, the
plan's sites and cost, access), the standards table per county, township and community with the
run's value beside the current one, the gap lists, the sites, each village's station status and
the uncovered areas. Numbers that are not finite become ``null``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.audit import JUDGED_ROLES, failing
from planner.coverage import service_rules
from planner.coverage.access import access_figures
from planner.outputs import i18n
from planner.outputs.roads import road_lines_from_network
from planner.run.prepare import VEHICLE_MODE
from planner.run.summary import coverage_block
from planner.serve.state import Evaluation, PlanState, Session
from planner.types import AREA_CLASSES, FACILITY_TYPES

__all__ = ["TABLE_FIELDS", "figures", "layers"]

#: Fields of a standards-table row (the page receives rows as lists in this order).
TABLE_FIELDS = (
    "standard_id",
    "unit_level",
    "unit_code",
    "unit_name",
    "value",
    "target",
    "passed",
    "role",
    "run_value",
    "run_passed",
    "changed",
    "kind",
)


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf → None, numpy scalars → Python, pandas NA → None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _wgs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(4326) if len(frame) else frame.set_crs(4326, allow_override=True)


def _geojson(frame: gpd.GeoDataFrame, props: list[str], *, simplify_m: float = 0.0) -> dict[str, Any]:
    """A FeatureCollection in WGS-84 with ``props`` (coordinates rounded to 6 decimals)."""
    if simplify_m and len(frame):
        frame = frame.assign(geometry=frame.geometry.simplify(simplify_m))
    wgs = _wgs(frame)
    features = []
    for (_, row), geom in zip(wgs.iterrows(), wgs.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        rounded = shapely.set_precision(geom, 1e-6)
        features.append(
            {
                "type": "Feature",
                "properties": {p: clean(row[p]) for p in props if p in row.index},
                "geometry": shapely.geometry.mapping(rounded),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _type_labels(ftype: str) -> dict[str, str]:
    return {
        "zh": i18n.facility_label(ftype, "zh"),
        "en": i18n.facility_label(ftype, "en"),
        "sym_zh": i18n.facility_symbol(ftype, "zh"),
        "sym_en": i18n.facility_symbol(ftype, "en"),
    }


def _pair(pair: tuple[str, str]) -> dict[str, str]:
    return {"zh": pair[0], "en": pair[1]}


def _labels(run: Evaluation) -> dict[str, Any]:
    sids = sorted(set(run.audit.table["standard_id"].astype(str)))
    return {
        "standards": {
            s: {"zh": i18n.standard_label(s, "zh"), "en": i18n.standard_label(s, "en")} for s in sids
        },
        "kinds": {s: i18n.standard_kind(s) for s in sids},
        "levels": {k: _pair(v) for k, v in i18n.UNIT_LEVEL_LABELS.items()},
        "types": {t: _type_labels(t) for t in FACILITY_TYPES},
        "areas": {c: _pair(i18n.AREA_LABELS[c]) for c in AREA_CLASSES},
        "causes": {k: _pair(v) for k, v in i18n.GAP_REASONS.items()},
    }


def _lonlat(geom: Any) -> tuple[float | None, float | None]:
    if geom is None or geom.is_empty:
        return None, None
    return round(float(geom.x), 6), round(float(geom.y), 6)


def _candidates(cands: gpd.GeoDataFrame, units: pd.Series) -> list[dict[str, Any]]:
    out = []
    for c, t, cost, g in zip(
        cands["candidate_id"], cands["type"], cands["cost"], cands.geometry, strict=True
    ):
        lon, lat = _lonlat(g)
        out.append(
            {
                "id": str(c),
                "type": str(t),
                "lon": lon,
                "lat": lat,
                "cost": cost,
                "units": int(units.get(str(c), 1)),
            }
        )
    return out


def _villages(villages: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    out = []
    cols = ("village_code", "village_name", "kind", "township_code")
    for (code, name, kind, town), g in zip(
        villages[list(cols)].itertuples(index=False), villages.geometry, strict=True
    ):
        lon, lat = _lonlat(g)
        out.append(
            {
                "code": str(code),
                "name": str(name),
                "kind": str(kind),
                "township": str(town),
                "lon": lon,
                "lat": lat,
            }
        )
    return out


def layers(session: Session, run: Evaluation) -> dict[str, Any]:
    """The map's fixed layers and the page's labels (sent once)."""
    study = session.prepared.study
    towns = study.townships
    roads = None
    net = session.prepared.networks.get(VEHICLE_MODE)
    if net is not None:
        lines = road_lines_from_network(net, simplify_m=20.0)
        roads = _geojson(lines[lines["road_class"] != "minor"], ["road_class"])
    cands = _wgs(session.prepared.study.candidates)
    units = session.candidates["candidate_id"].astype(str).str.split("#").str[0].value_counts()
    villages = _wgs(study.villages)
    summary = session.summary
    return clean(
        {
            "title": {"zh": summary.get("title"), "en": summary.get("title_en")},
            "scenario": session.scenario.name,
            "scenario_hash": summary.get("scenario_hash"),
            "out_dir": str(session.out_dir),
            "bounds": list(_wgs(study.boundary).total_bounds),
            "boundary": _geojson(study.boundary, ["county_name"], simplify_m=20.0),
            "townships": _geojson(towns, ["township_code", "township_name"], simplify_m=20.0),
            "roads": roads,
            "candidates": _candidates(cands, units),
            "villages": _villages(villages),
            "placeable": [{"type": t, "cost": session.cost(t)} for t in session.placeable],
            "labels": _labels(run),
            "table_fields": list(TABLE_FIELDS),
        }
    )


# ---------------------------------------------------------------------------------------------
# Figures after an edit
# ---------------------------------------------------------------------------------------------


def headline(session: Session, ev: Evaluation) -> dict[str, Any]:
    """Coverage per class, villages served, the plan's sites and cost, the failing rows and access."""
    villages = ev.villages
    admin = (villages["kind"].astype(str) == "village").to_numpy()
    own = villages["own_station"].fillna(False).astype(bool).to_numpy() & admin
    served = villages["has_station"].fillna(False).astype(bool).to_numpy() & admin
    proposed = ev.facilities[ev.facilities["status"] == "proposed"]
    access = access_figures(ev.demand, rules=service_rules(session.prepared.profile))
    return {
        "coverage": coverage_block(ev.demand, "covered"),
        "villages": {"total": int(admin.sum()), "own": int(own.sum()), "served": int(served.sum())},
        "proposed": dict(Counter(proposed["type"].astype(str))),
        "cost": float(pd.to_numeric(proposed["cost"], errors="coerce").fillna(0).sum()),
        "existing": int((ev.facilities["status"] == "existing").sum()),
        "failing": int(failing(ev.audit.table).sum()),
        "access": {k: access[k] for k in ("measure", "unit", "county", "by_class", "equity")},
    }


def _judged(table: pd.DataFrame) -> pd.DataFrame:
    rows = table[table["role"].isin(JUDGED_ROLES)]
    return rows[["standard_id", "unit_level", "unit_code", "unit_name", "value", "target", "passed", "role"]]


def _same(a: Any, b: Any) -> bool:
    na, nb = a is None or a is pd.NA or a != a, b is None or b is pd.NA or b != b
    return bool(na and nb) or (not na and not nb and bool(a) == bool(b))


def standards_rows(table: pd.DataFrame, run_table: pd.DataFrame) -> list[list[Any]]:
    """The judged rows (standard and summary roles) with the run's value and whether it changed."""
    now = _judged(table)
    run = _judged(run_table)
    key = ["standard_id", "unit_level", "unit_code", "role"]
    merged = now.merge(
        run[[*key, "value", "passed"]].rename(columns={"value": "run_value", "passed": "run_passed"}),
        on=key,
        how="left",
    )
    a = pd.to_numeric(merged["value"], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(merged["run_value"], errors="coerce").to_numpy(dtype=float)
    same_value = np.isclose(a, b, rtol=0, atol=1e-9) | (np.isnan(a) & np.isnan(b))
    same_pass = np.array([_same(x, y) for x, y in zip(merged["passed"], merged["run_passed"], strict=True)])
    merged["changed"] = ~(same_value & same_pass)
    merged["kind"] = [
        "pct" if role == "summary" else i18n.standard_kind(str(s), str(level))
        for s, level, role in zip(merged["standard_id"], merged["unit_level"], merged["role"], strict=True)
    ]
    return [[clean(v) for v in row] for row in merged[list(TABLE_FIELDS)].itertuples(index=False)]


def _gaps(ev: Evaluation) -> dict[str, Any]:
    vg = ev.audit.village_gaps
    cols = [
        "village_code",
        "village_name",
        "township_name",
        "population",
        "nearest_station_km",
        "nearest_station_min",
        "cause",
    ]
    tg = ev.audit.township_gaps
    tcols = ["standard_id", "unit_level", "unit_code", "unit_name", "facility_type", "existing", "needed"]
    return {
        "villages": [[clean(v) for v in r] for r in vg.reindex(columns=cols).itertuples(index=False)],
        "village_fields": cols,
        "units": [[clean(v) for v in r] for r in tg.reindex(columns=tcols).itertuples(index=False)],
        "unit_fields": tcols,
    }


def _sites(state: PlanState) -> list[dict[str, Any]]:
    f = state.facilities
    wgs = _wgs(f).geometry
    names = (
        f["name"].astype(object).where(f["name"].notna(), "") if "name" in f else pd.Series("", index=f.index)
    )
    costs = pd.to_numeric(f["cost"], errors="coerce") if "cost" in f else pd.Series(np.nan, index=f.index)
    columns = zip(
        f["facility_id"].astype(str),
        f["type"].astype(str),
        f["status"].astype(str),
        f["origin"].astype(str),
        names.astype(str),
        costs.to_numpy(dtype=float),
        f["village_code"].astype(object).where(f["village_code"].notna(), "").astype(str),
        f["township_code"].astype(object).where(f["township_code"].notna(), "").astype(str),
        np.round(wgs.x.to_numpy(), 6),
        np.round(wgs.y.to_numpy(), 6),
        strict=True,
    )
    keys = ("id", "type", "status", "origin", "name", "cost", "village_code", "township_code", "lon", "lat")
    return [dict(zip(keys, row, strict=True)) for row in columns]


def figures(
    session: Session,
    state: PlanState,
    ev: Evaluation,
    run: Evaluation,
    *,
    seconds: float,
    run_headline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the page redraws after an edit (``run_headline``: the run's, when already known)."""
    villages = ev.villages
    return clean(
        {
            "headline": {"now": headline(session, ev), "run": run_headline or headline(session, run)},
            "table": standards_rows(ev.audit.table, run.audit.table),
            "gaps": _gaps(ev),
            "sites": _sites(state),
            "village_status": {
                "own": villages["own_station"].fillna(False).astype(bool).tolist(),
                "served": villages["has_station"].fillna(False).astype(bool).tolist(),
            },
            "uncovered": _geojson(ev.audit.uncovered, ["area_class", "population"], simplify_m=10.0),
            "edits": list(state.edits),
            "optimised": state.optimised is not None,
            "can_undo": False,
            "seconds": {"update": round(seconds, 4), "evaluate": round(ev.seconds, 4)},
        }
    )
