"""Static maps for the printed report, drawn with matplotlib and embedded as PNG data.

The county map shows the townships, the roads (when the run carries them), the demand points by
coverage before/after the plan (covered before, covered by the plan, still uncovered) and the
proposed sites by type, with several units at one site drawn once with their count. A township
map is the same drawing cut to one township, the others greyed. Labels use the Noto Sans CJK font
of :mod:`planner.outputs.fonts`, so a fresh machine draws Chinese, not boxes. Colours are those of
:mod:`planner.outputs.palette` (the interactive map's).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from planner.outputs import fonts, i18n, palette
from planner.outputs.i18n import Lang
from planner.types import RunResult

#: A drawing window (xmin, ymin, xmax, ymax) in the work CRS; ``None`` draws everything.
Window = tuple[float, float, float, float] | None

#: Marker of each proposed facility type (matplotlib marker codes).
MARKERS: Final[dict[str, str]] = {
    "outlet": "s",
    "locker": "^",
    "village_station": "D",
    "delivery_centre": "p",
    "park": "*",
    "sorting_centre": "h",
}
_T: Final[dict[str, tuple[str, str]]] = {
    "covered": ("规划前已覆盖", "covered before"),
    "gained": ("规划新增覆盖", "covered by the plan"),
    "uncovered": ("规划后仍未覆盖", "still uncovered"),
    "existing": ("现有取件设施", "existing pickup sites"),
    "new": ("新增{t}", "new {t}"),
    "road": ("道路", "roads"),
    "km": ("公里", "km"),
}


def _t(key: str, lang: Lang) -> str:
    return i18n.pick(_T[key], lang)


def _rc() -> Any:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": fonts.font_family(),
        "font.size": 8,
        "axes.unicode_minus": False,
    }


def png_data_uri(fig: Any, *, dpi: int, tight: bool = True) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (the figure is closed).

    ``tight`` crops to the drawn content (one more drawing pass); a figure whose axes fill it needs none.
    """
    buf = io.BytesIO()
    crop: dict[str, Any] = {"bbox_inches": "tight", "pad_inches": 0.05} if tight else {}
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, **crop)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _inside(xs: np.ndarray, ys: np.ndarray, window: Window) -> np.ndarray:
    if window is None:
        return np.ones(len(xs), dtype=bool)
    x0, y0, x1, y1 = window
    return (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)


@dataclass(frozen=True)
class RoadLines:
    """One road class's lines as flat arrays, read once for every map of a run.

    ``xy`` holds the vertices of every line, ``line`` the line each vertex belongs to and ``bbox``
    each line's ``(xmin, ymin, xmax, ymax)``: a map cuts its window out with array masks and draws
    the lines as one path broken by NaN rows (one matplotlib artist instead of tens of thousands of
    segments, whose per-segment checks took most of a prefecture's 99 township maps).
    """

    xy: np.ndarray
    line: np.ndarray
    bbox: np.ndarray

    @classmethod
    def of(cls, geoms: gpd.GeoSeries) -> RoadLines:
        lines = geoms[geoms.notna() & (geoms.geom_type == "LineString")].to_numpy()
        xy, line = shapely.get_coordinates(lines, return_index=True)
        bbox = shapely.bounds(lines).reshape(-1, 4)
        return cls(xy, line, bbox)

    def path(self, window: Window) -> np.ndarray:
        """The vertices of the lines meeting ``window`` (by bounding box), lines separated by NaN."""
        if window is None:
            keep = np.ones(len(self.bbox), dtype=bool)
        else:
            x0, y0, x1, y1 = window
            b = self.bbox
            keep = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        sel = keep[self.line]
        xy, line = self.xy[sel], self.line[sel]
        if not len(xy):
            return xy
        breaks = np.flatnonzero(np.diff(line)) + 1
        return np.insert(xy, breaks, np.nan, axis=0)


def road_lines(result: RunResult) -> dict[str, RoadLines]:
    """The run's road layer (``extra_tables["roads"]``) by class, in the work CRS; empty without one."""
    roads = result.extra_tables.get("roads")
    if not isinstance(roads, gpd.GeoDataFrame) or roads.empty or "road_class" not in roads.columns:
        return {}
    rd = roads.to_crs(result.crs) if roads.crs is not None else roads
    return {
        cls: RoadLines.of(rd.geometry[(rd["road_class"] == cls).to_numpy()])
        for cls in ("minor", "secondary", "major")
    }


@dataclass(frozen=True)
class MapData:
    """What every static map of a run draws, read out of the run's frames once.

    ``demand``: x, y, population, before, after (covered before/after the plan); ``existing``: x, y
    of the existing pickup sites and village stations; ``proposed``: x, y, type of the plan's sites.
    A report draws a map per township: reading these per map cost more than drawing it.
    """

    roads: dict[str, RoadLines]
    demand: pd.DataFrame
    existing: np.ndarray
    proposed: pd.DataFrame

    @classmethod
    def of(cls, result: RunResult) -> MapData:
        d = result.demand
        if d.empty or "covered_before" not in d.columns:
            demand = pd.DataFrame({k: [] for k in ("x", "y", "population", "before", "after")})
        else:
            before = d["covered_before"].fillna(False).astype(bool).to_numpy()
            demand = pd.DataFrame(
                {
                    "x": d.geometry.x.to_numpy(),
                    "y": d.geometry.y.to_numpy(),
                    "population": d["population"].astype(float).to_numpy(),
                    "before": before,
                    "after": d["covered_after"].fillna(False).astype(bool).to_numpy()
                    if "covered_after" in d.columns
                    else before,
                }
            )
        fac = result.facilities
        status = fac["status"] if "status" in fac.columns else pd.Series("existing", index=fac.index)
        old = fac[(status == "existing") & fac["type"].isin(EXISTING_DRAWN) & fac.geometry.notna()]
        return cls(
            roads=road_lines(result),
            demand=demand,
            existing=np.column_stack([old.geometry.x.to_numpy(), old.geometry.y.to_numpy()]),
            proposed=_proposed_frame(result),
        )


def _proposed_frame(result: RunResult) -> pd.DataFrame:
    """The plan's located sites: x, y (work CRS) and type."""
    fac = result.facilities
    if "status" not in fac.columns:
        return pd.DataFrame({"x": [], "y": [], "type": []})
    new = fac[(fac["status"] == "proposed") & fac.geometry.notna()]
    return pd.DataFrame(
        {
            "x": new.geometry.x.to_numpy(),
            "y": new.geometry.y.to_numpy(),
            "type": new["type"].astype(str).to_numpy(),
        }
    )


#: Existing facility types drawn (grey dots) on the static maps.
EXISTING_DRAWN: Final[tuple[str, ...]] = ("outlet", "locker", "village_station")


def _grouped(
    new: pd.DataFrame, cell_m: float, window: Window, cell_factor: dict[str, float] | None
) -> pd.DataFrame:
    """Proposed sites (x, y, type) grouped by type within square cells (see :func:`sites`)."""
    empty = pd.DataFrame({"x": [], "y": [], "type": [], "units": []})
    if window is not None and not new.empty:
        new = new[_inside(new["x"].to_numpy(), new["y"].to_numpy(), window)]
    if new.empty:
        return empty
    frame = new[["x", "y", "type"]].copy()
    cell = cell_m * frame["type"].map(cell_factor or {}).fillna(1.0).to_numpy(dtype=float)
    frame["cx"] = np.floor(frame["x"] / cell)
    frame["cy"] = np.floor(frame["y"] / cell)
    grouped = frame.groupby(["type", "cx", "cy"], as_index=False, sort=False).agg(
        x=("x", "mean"), y=("y", "mean"), units=("x", "size")
    )
    return grouped[["x", "y", "type", "units"]]


def sites(
    result: RunResult,
    *,
    cell_m: float = 1.0,
    window: Window = None,
    cell_factor: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Proposed facilities grouped by type within square cells of ``cell_m`` metres.

    Returns x, y (the mean position of the group, work CRS), type and units (how many proposed
    facilities the group holds). With the default 1 m cell, units at one site are one group; the
    maps use cells of about 1/45 of their width so that nearby sites merge into one counted symbol.
    ``cell_factor`` widens the cells of some types (lockers, which come by the hundred in towns);
    ``window`` keeps the facilities inside it.
    """
    if "status" not in result.facilities.columns:
        return pd.DataFrame({"x": [], "y": [], "type": [], "units": []})
    return _grouped(_proposed_frame(result), cell_m, window, cell_factor)


def _draw_base(ax: Any, result: RunResult, focus: str | None, window: Window, data: MapData) -> None:
    towns = result.townships
    if window is not None:
        towns = towns.cx[window[0] : window[2], window[1] : window[3]]
    if focus is None:
        towns.plot(ax=ax, facecolor="#f8f9fa", edgecolor="#868e96", linewidth=0.6)
    else:
        inside = towns["township_code"].astype(str) == focus
        towns[~inside].plot(ax=ax, facecolor="#e9ecef", edgecolor="#adb5bd", linewidth=0.5)
        towns[inside].plot(ax=ax, facecolor="#ffffff", edgecolor="#343a40", linewidth=1.2)
    for cls, lines in data.roads.items():
        xy = lines.path(window)
        if len(xy):
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=palette.ROAD_COLOURS[cls],
                linewidth=palette.ROAD_WIDTHS[cls] * 0.3,
                solid_capstyle="butt",
                solid_joinstyle="round",
                zorder=1,
            )
    edge = result.boundary.boundary
    if window is not None:
        edge = edge.clip_by_rect(*window)
        edge = edge[~edge.is_empty]
    if not edge.empty:
        edge.plot(ax=ax, color=palette.BOUNDARY_COLOUR, linewidth=1.0, zorder=2)


def _draw_demand(ax: Any, data: MapData, size: float, window: Window) -> None:
    d = data.demand
    if d.empty:
        return
    xs, ys = d["x"].to_numpy(), d["y"].to_numpy()
    pop, before, after = (d[k].to_numpy() for k in ("population", "before", "after"))
    inside = _inside(xs, ys, window)
    if not inside.any():
        return
    # symbol sizes scale with the largest cell on this map
    s = size * np.clip(np.sqrt(np.maximum(pop, 0) / max(np.nanmax(pop[inside]), 1.0)), 0.15, 1.0)
    for key, mask, z in (
        ("covered", before & (pop > 0), 3),
        ("gained", ~before & after & (pop > 0), 4),
        ("uncovered", ~after & (pop > 0), 5),
    ):
        m = mask & inside
        ax.scatter(xs[m], ys[m], s=s[m], c=palette.COVER_COLOURS[key], linewidths=0, zorder=z)


def _draw_sites(ax: Any, data: MapData, scale: float, cell_m: float, window: Window) -> list[str]:
    old = data.existing
    if len(old):
        old = old[_inside(old[:, 0], old[:, 1], window)]
    if len(old):
        ax.scatter(old[:, 0], old[:, 1], s=6 * scale, c="#495057", marker="o", linewidths=0, zorder=6)
    shown = []
    # lockers come by the hundred in towns: grouped in cells three times as large
    groups = _grouped(data.proposed, cell_m, window, {"locker": 3.0})
    for ftype in sorted(set(data.proposed["type"]), key=_type_order):
        grp = groups[groups["type"] == ftype]
        colour = palette.facility_colour(ftype)
        marker = MARKERS.get(ftype, "o")
        size = (110 if ftype == "park" else 30 if ftype == "locker" else 26) * scale
        ax.scatter(
            grp["x"],
            grp["y"],
            s=size,
            marker=marker,
            c="#ffffff",
            edgecolors=colour,
            linewidths=1.4,
            zorder=8,
        )
        for _, r in grp[grp["units"] > 1].iterrows():
            ax.annotate(
                str(int(r["units"])),
                (r["x"], r["y"]),
                xytext=(4, 2),
                textcoords="offset points",
                fontsize=6.5,
                color=colour,
                zorder=9,
                bbox={"boxstyle": "round,pad=0.1", "fc": "#ffffffd0", "ec": "none"},
            )
        shown.append(str(ftype))
    return shown


def _type_order(ftype: str) -> int:
    order = list(i18n.FACILITY_LABELS)
    return order.index(ftype) if ftype in order else len(order)


def _labels(ax: Any, result: RunResult, focus: str | None) -> None:
    towns = result.townships
    if focus is not None:
        towns = towns[towns["township_code"].astype(str) == focus]
    for _, t in towns.iterrows():
        if not isinstance(t.geometry, shapely.Geometry) or t.geometry.is_empty:  # named, no area
            continue
        p = t.geometry.representative_point()
        ax.text(
            p.x,
            p.y,
            str(t["township_name"]),
            ha="center",
            va="center",
            fontsize=7 if focus is None else 9,
            color="#212529",
            zorder=10,
            bbox={"boxstyle": "round,pad=0.15", "fc": "#ffffffcc", "ec": "none"},
        )


def _scale_bar(ax: Any, lang: Lang) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = (x1 - x0) / 5
    nice = max(v for v in (500, 1000, 2000, 5000, 10_000, 20_000, 50_000) if v <= max(span, 500))
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + nice], [by, by], color="#212529", linewidth=2, zorder=11)
    ax.text(
        bx + nice / 2,
        by + (y1 - y0) * 0.012,
        f"{nice / 1000:g} {_t('km', lang)}",
        ha="center",
        va="bottom",
        fontsize=6.5,
        zorder=11,
    )


def _legend(ax: Any, lang: Lang, types: list[str], *, roads: bool, ncol: int) -> None:
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=5,
            markerfacecolor=palette.COVER_COLOURS[k],
            markeredgewidth=0,
            label=_t(k, lang),
        )
        for k in ("covered", "gained", "uncovered")
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=3.5,
            markerfacecolor="#495057",
            markeredgewidth=0,
            label=_t("existing", lang),
        )
    )
    for t in types:
        handles.append(
            Line2D(
                [],
                [],
                marker=MARKERS.get(t, "o"),
                linestyle="",
                markersize=6,
                markerfacecolor="#ffffff",
                markeredgecolor=palette.facility_colour(t),
                markeredgewidth=1.4,
                label=_t("new", lang).format(t=i18n.facility_label(t, lang)),
            )
        )
    if roads:
        handles.append(
            Line2D([], [], color=palette.ROAD_COLOURS["major"], linewidth=1.2, label=_t("road", lang))
        )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=ncol,
        frameon=False,
        fontsize=7,
        handletextpad=0.3,
        columnspacing=1.0,
    )


def county_map(result: RunResult, lang: Lang, *, width_in: float = 6.6, dpi: int = 150) -> str | None:
    """The county map (before/after coverage and proposed sites) as a PNG data URI."""
    if result.townships.empty and result.boundary.empty:
        return None
    xmin, ymin, xmax, ymax = result.boundary.total_bounds
    aspect = (ymax - ymin) / max(xmax - xmin, 1.0)
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(width_in, min(width_in * aspect, 5.2) + 0.6))
        ax = fig.subplots()
        data = MapData.of(result)
        _draw_base(ax, result, None, None, data)
        _draw_demand(ax, data, size=10, window=None)
        types = _draw_sites(ax, data, scale=1.0, cell_m=(xmax - xmin) / 45, window=None)
        _labels(ax, result, None)
        ax.set_aspect("equal")
        ax.set_axis_off()
        _scale_bar(ax, lang)
        roads = isinstance(result.extra_tables.get("roads"), gpd.GeoDataFrame)
        _legend(ax, lang, types, roads=roads, ncol=4)
        return png_data_uri(fig, dpi=dpi)


def township_map(
    result: RunResult,
    code: str,
    lang: Lang,
    *,
    width_in: float = 3.3,
    dpi: int = 140,
    data: MapData | None = None,
) -> str | None:
    """One township's map (the others greyed) as a PNG data URI; ``None`` for an unknown code or a
    township without an area (a register township the scenario gives no polygon for).

    ``data`` is :meth:`MapData.of` the run, read once by a caller drawing every township.
    """
    towns = result.townships
    sel = towns[towns["township_code"].astype(str) == code]
    xmin, ymin, xmax, ymax = sel.total_bounds if not sel.empty else (np.nan,) * 4
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return None
    # a square window around the township (the figure is square): equal axes need no adjusting
    half = max(xmax - xmin, ymax - ymin) * 0.56
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(width_in, width_in))
        ax = fig.subplots()
        window = (cx - half, cy - half, cx + half, cy + half)
        data = data if data is not None else MapData.of(result)
        _draw_base(ax, result, code, window, data)
        _draw_demand(ax, data, size=22, window=window)
        _draw_sites(ax, data, scale=1.6, cell_m=max(xmax - xmin, ymax - ymin) / 30, window=window)
        _labels(ax, result, code)
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy - half, cy + half)
        ax.set_aspect("equal", adjustable="box")
        ax.set_axis_off()
        ax.set_position((0.01, 0.01, 0.98, 0.98))  # the square window fills the square figure
        _scale_bar(ax, lang)
        return png_data_uri(fig, dpi=dpi, tight=False)
