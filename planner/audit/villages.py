"""Village checks (V-ALL, V-STATION) and the village gap list.

Both count administrative villages (``kind == "village"``, 行政村/建制村) that have coordinates
(``mappable``); villages the register cannot place are counted apart and named in the note, never
silently unserved. What a village needs to count is the standard's own reading (the profile's
``counts``): ``own`` — a station stands in the village (``own_station``); ``own_or_shared`` — also a
station of another village within the V-SHARE reach (``has_station``). The county is the unit the
standard is measured over; township rows are a breakdown. The target is the one for the audit year
(the latest target year ≤ year; before the first, the first, marked "not yet due"), compared
exactly as the clause words it (``>`` for "超过").
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from planner.audit._common import Meta, Units, as_code, row
from planner.standards import VillageShares, YearTarget
from planner.types import VILLAGE_GAP_COLUMNS

Rows = list[dict[str, Any]]

#: Causes of a village gap (``village_gaps.csv`` → ``cause``).
GAP_CAUSES: Final = ("no_coordinates", "shared_station", "station_beyond_reach", "none_reachable")


def target_for_year(std: VillageShares, year: int) -> tuple[int, YearTarget, bool]:
    """The target that applies in ``year`` and whether it is already due (``False`` before the first)."""
    due = std.target_for(year)
    if due is not None:
        return due[0], due[1], True
    first = min(std.targets)
    return first, std.targets[first], False


def village_table(villages: pd.DataFrame) -> pd.DataFrame:
    """Administrative villages with ``located``, ``own`` and ``served`` flags (one row per village)."""
    adm = villages[villages["kind"].astype(str) == "village"]
    served = (
        adm["has_station"].fillna(False).astype(bool)
        if "has_station" in adm
        else pd.Series(False, index=adm.index)
    )
    own = adm["own_station"].fillna(False).astype(bool) if "own_station" in adm else served
    located = (
        adm["mappable"].fillna(True).astype(bool) if "mappable" in adm else pd.Series(True, index=adm.index)
    )
    return pd.DataFrame(
        {
            "code": as_code(adm["village_code"]).to_numpy(),
            "township": as_code(adm["township_code"]).to_numpy(),
            "population": pd.to_numeric(adm["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "located": located.to_numpy(),
            "own": own.to_numpy(),
            "served": served.to_numpy(),
        }
    )


def share_requirement(
    std: VillageShares, villages: pd.DataFrame, year: int
) -> tuple[int, int, int, YearTarget]:
    """``(counted, located villages, required count, target)`` of a share standard in ``year``.

    The plan asks its station model for the required count; the audit compares the same numbers.
    """
    table = village_table(villages)
    located = table[table["located"]]
    flag = "own" if std.counts == "own" else "served"
    _, target, _ = target_for_year(std, year)
    return int(located[flag].sum()), len(located), target.required(len(located)), target


def _share_row(
    sid: str,
    level: str,
    code: str,
    name: str,
    sub: pd.DataFrame,
    flag: str,
    target: YearTarget,
    *,
    note: str,
    role: str,
    meta: Meta,
) -> dict[str, Any]:
    located = sub[sub["located"]]
    n, k = len(located), int(located[flag].sum())
    need = target.required(n)
    unlocated = int((~sub["located"]).sum())
    if unlocated:
        note += f"; {unlocated} village(s) without coordinates not counted"
    return row(
        sid,
        level,
        code,
        name,
        value=k / n if n else float("nan"),
        target=target.share,
        population=float(located["population"].sum()),
        existing=k,
        shortfall=max(0, need - k),
        note=f"{target.text()}; {note}",
        passed=(k >= need) if n else None,
        role=role,
        **meta,
    )


def village_share_rows(
    villages: pd.DataFrame,
    units: Units,
    *,
    standard_id: str,
    std: VillageShares,
    year: int,
    meta: Meta,
) -> Rows:
    """Share of located administrative villages served as the standard reads it, per county.

    Rows ``standard_id`` per county (the standard) and township (a breakdown) use the target for
    ``year``; rows ``{standard_id}-{target year}`` per county report every target year.
    """
    table = village_table(villages)
    table["county"] = units.county_of(pd.Series(table["township"], dtype=object)).to_numpy()
    flag = "own" if std.counts == "own" else "served"
    reading = "station in the village" if flag == "own" else "own or shared station"
    ty, target, due = target_for_year(std, year)
    note = f"{reading}; target for end of {ty}" + ("" if due else f" (not yet due in {year})")
    rows: Rows = []
    for code, name in sorted(units.counties.items()):
        sub = table[table["county"] == code]
        if len(sub):
            rows.append(
                _share_row(
                    standard_id,
                    "county",
                    code,
                    name,
                    sub,
                    flag,
                    target,
                    note=note,
                    role="standard",
                    meta=meta,
                )
            )
            for y, t in sorted(std.targets.items()):
                rows.append(
                    _share_row(
                        f"{standard_id}-{y}",
                        "county",
                        code,
                        name,
                        sub,
                        flag,
                        t,
                        note=f"{reading}; target for end of {y}",
                        role="year",
                        meta=meta,
                    )
                )
    for tcode in sorted(set(table["township"]) - {""}):
        sub = table[table["township"] == tcode]
        rows.append(
            _share_row(
                standard_id,
                "township",
                tcode,
                units.townships.get(tcode, tcode),
                sub,
                flag,
                target,
                note=note + "; breakdown (the standard applies to the county)",
                role="breakdown",
                meta=meta,
            )
        )
    return rows


def _gap_cause(located: bool, shared: bool, km: float) -> str:
    if not located:
        return "no_coordinates"
    if shared:
        return "shared_station"
    return "station_beyond_reach" if np.isfinite(km) else "none_reachable"


def village_gaps(villages: pd.DataFrame) -> pd.DataFrame:
    """Administrative villages without a station of their own, most populous first (``village_gaps.csv``).

    ``served_by_shared`` says whether a station of another village within the V-SHARE reach serves it;
    ``cause`` is one of :data:`GAP_CAUSES`; ``reason`` says it in words (Chinese; the outputs write
    the run's language from ``cause``). Distances are empty (NA) where no station is reachable.
    """
    adm = villages[villages["kind"].astype(str) == "village"]
    own = (
        adm["own_station"]
        if "own_station" in adm
        else adm.get("has_station", pd.Series(False, index=adm.index))
    )
    adm = adm[~own.fillna(False).astype(bool)]
    nan = pd.Series(np.nan, index=adm.index)
    km = pd.to_numeric(adm.get("nearest_station_km", nan), errors="coerce")
    mins = pd.to_numeric(adm.get("nearest_station_min", nan), errors="coerce")
    located = (
        adm["mappable"].fillna(True).astype(bool) if "mappable" in adm else pd.Series(True, index=adm.index)
    )
    shared = adm.get("has_station", pd.Series(False, index=adm.index)).fillna(False).astype(bool)
    causes = [_gap_cause(ok, sh, k) for ok, sh, k in zip(located, shared, km, strict=True)]
    reasons = [_reason(c, k, m) for c, k, m in zip(causes, km, mins, strict=True)]
    gaps = pd.DataFrame(
        {
            "village_code": as_code(adm["village_code"]).to_numpy(),
            "village_name": adm["village_name"].astype(str).to_numpy(),
            "township_name": adm["township_name"].astype(str).to_numpy() if "township_name" in adm else "",
            "population": pd.to_numeric(adm["population"], errors="coerce").to_numpy(dtype=float),
            "nearest_station_km": km.where(np.isfinite(km)).to_numpy(dtype=float),
            "nearest_station_min": mins.where(np.isfinite(mins)).to_numpy(dtype=float),
            "reason": reasons,
            "served_by_shared": shared.to_numpy(),
            "cause": causes,
        },
        columns=[*VILLAGE_GAP_COLUMNS, "served_by_shared", "cause"],
    )
    return gaps.sort_values(
        ["population", "village_code"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _reason(cause: str, km: float, minutes: float) -> str:
    if cause == "no_coordinates":
        return "村庄无坐标，无法计算最近站点"
    if cause == "none_reachable":
        return "无村级寄递物流综合服务站，道路可达范围内无站点"
    near = f"最近站点 {km:.1f} 公里" + (f"（{minutes:.0f} 分钟）" if np.isfinite(minutes) else "")
    if cause == "shared_station":
        return f"本村无站点，由共享站点服务（{near}）"
    return f"无村级寄递物流综合服务站，{near}"
