"""Village checks (V-ALL, V-STATION) and the village gap list.

Both checks count administrative villages (``kind == "village"``, 行政村/建制村) with a station
(``has_station``, which the pipeline sets for an own station or a shared one within V-SHARE).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from planner.audit._common import EPS, Units, as_code, row
from planner.types import VILLAGE_GAP_COLUMNS

Rows = list[dict[str, Any]]


def target_for_year(targets: dict[int, float], year: int) -> tuple[int, float]:
    """The target that applies in ``year``: the latest target year ≤ ``year``, else the earliest.

    >>> target_for_year({2024: 0.85, 2025: 1.0}, 2024)
    (2024, 0.85)
    >>> target_for_year({2024: 0.85, 2025: 1.0}, 2023)
    (2024, 0.85)
    """
    if not targets:
        raise ValueError("no year targets")
    past = [y for y in targets if y <= year]
    chosen = max(past) if past else min(targets)
    return chosen, float(targets[chosen])


def _admin_villages(villages: pd.DataFrame) -> pd.DataFrame:
    adm = villages[villages["kind"].astype(str) == "village"]
    return pd.DataFrame(
        {
            "code": as_code(adm["village_code"]).to_numpy(),
            "name": adm["village_name"].astype(str).to_numpy(),
            "township": as_code(adm["township_code"]).to_numpy(),
            "population": pd.to_numeric(adm["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float),
            "has": adm["has_station"].fillna(False).astype(bool).to_numpy(),
        }
    )


def village_share_rows(
    villages: pd.DataFrame,
    units: Units,
    *,
    standard_id: str,
    targets: dict[int, float],
    year: int,
    citation: str,
) -> Rows:
    """Share of administrative villages with a station against year targets.

    Rows ``standard_id`` per county and township use the target for ``year``
    (:func:`target_for_year`); rows ``{standard_id}-{target year}`` per county report every target
    year. value = villages with a station / villages (0..1); ``existing`` = villages with a station;
    ``shortfall`` = ⌈target × villages⌉ − existing; ``population`` = residents of the villages.
    """
    adm = _admin_villages(villages)
    adm["county"] = units.county_of(pd.Series(adm["township"], dtype=object)).to_numpy()
    ty, target = target_for_year(targets, year)
    note = f"target for end of {ty} (audit year {year})"
    rows: Rows = []

    def one(sid: str, level: str, code: str, name: str, sub: pd.DataFrame, tgt: float, nt: str) -> None:
        n = len(sub)
        if n == 0:
            return
        k = int(sub["has"].sum())
        rows.append(
            row(
                sid,
                level,
                code,
                name,
                value=k / n,
                target=tgt,
                population=float(sub["population"].sum()),
                existing=k,
                shortfall=max(0, math.ceil(tgt * n - EPS) - k),
                note=nt,
                citation=citation,
            )
        )

    for code, name in sorted(units.counties.items()):
        sub = adm[adm["county"] == code]
        one(standard_id, "county", code, name, sub, target, note)
        for y in sorted(targets):
            one(
                f"{standard_id}-{y}",
                "county",
                code,
                name,
                sub,
                float(targets[y]),
                f"target for end of {y} (audit year {year})",
            )
    for tcode in sorted(set(adm["township"]) - {""}):
        sub = adm[adm["township"] == tcode]
        one(standard_id, "township", tcode, units.townships.get(tcode, tcode), sub, target, note)
    return rows


def village_gaps(villages: pd.DataFrame) -> pd.DataFrame:
    """Administrative villages without a station, most populous first (``village_gaps.csv``).

    ``reason`` is bilingual, e.g. "无村级寄递物流综合服务站，最近站点 4.2 公里（12 分钟） / no village
    station; nearest 4.2 km (12 min)".
    """
    adm = villages[
        (villages["kind"].astype(str) == "village") & ~villages["has_station"].fillna(False).astype(bool)
    ]
    km = pd.to_numeric(adm.get("nearest_station_km", pd.Series(np.nan, index=adm.index)), errors="coerce")
    mins = pd.to_numeric(adm.get("nearest_station_min", pd.Series(np.nan, index=adm.index)), errors="coerce")
    mappable = (
        adm["mappable"].fillna(True).astype(bool)
        if "mappable" in adm.columns
        else pd.Series(True, index=adm.index)
    )
    reasons = []
    for k, m, ok in zip(km, mins, mappable, strict=True):
        if not ok:
            reasons.append(
                "无村级寄递物流综合服务站；村庄无坐标，无法计算最近站点 / no village station; "
                "no coordinates, nearest station unknown"
            )
        elif np.isfinite(k):
            tm = f"（{m:.0f} 分钟）" if np.isfinite(m) else ""
            te = f" ({m:.0f} min)" if np.isfinite(m) else ""
            reasons.append(
                f"无村级寄递物流综合服务站，最近站点 {k:.1f} 公里{tm} / "
                f"no village station; nearest {k:.1f} km{te}"
            )
        else:
            reasons.append(
                "无村级寄递物流综合服务站，道路可达范围内无站点 / no village station; none reachable by road"
            )
    gaps = pd.DataFrame(
        {
            "village_code": as_code(adm["village_code"]).to_numpy(),
            "village_name": adm["village_name"].astype(str).to_numpy(),
            "township_name": adm["township_name"].astype(str).to_numpy()
            if "township_name" in adm.columns
            else "",
            "population": pd.to_numeric(adm["population"], errors="coerce").to_numpy(dtype=float),
            "nearest_station_km": km.to_numpy(dtype=float),
            "nearest_station_min": mins.to_numpy(dtype=float),
            "reason": reasons,
        },
        columns=list(VILLAGE_GAP_COLUMNS),
    )
    return gaps.sort_values(
        ["population", "village_code"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
