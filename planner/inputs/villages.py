"""Village/community registers (村委会/居委会) with NBS 12-digit codes, with or without coordinates.

Decisions (documented for the audit):

- ``village_code`` must be 12 digits and unique; ``township_code`` is the code's first 9 digits
  (NBS rule) when the file has none, and must equal them when it has one.
- ``kind``: from a ``kind`` column when given (``village``/``community``/``other`` or 村/社区/居委会/
  村委会), else from the code's last three digits: 001–199 community (居委会), 200–599 village
  (村委会). A blank ``kind`` cell falls back to the code rule. ``other`` (e.g. 虚拟生活区) is kept.
- ``urban_rural_code``: blank or absent → 0 (unknown) and ``area_class`` ``""``, for the density
  rule to fill; present values must be one of 111/112/121/122/123/210/220.
- ``population``/``households``: either may be missing; the other is derived with
  ``household_size``. When both are missing (an NBS code list) they stay NaN: the register still
  feeds the code-based checks (which villages lack a station), but not population figures.
- Rows without coordinates keep geometry None (``mappable`` is False for them).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import CRS

from planner.errors import InputDataError, Problem
from planner.inputs.coords import CoordinateSystem
from planner.inputs.plausible import household_findings, size_findings
from planner.inputs.tables import (
    WGS84,
    Table,
    check_inside,
    parse_free_numbers,
    parse_numbers,
    raise_if,
    read_points,
    read_table,
    resolve_columns,
)
from planner.types import URBAN_RURAL_CLASS, VILLAGE_COLUMNS

logger = logging.getLogger(__name__)

_ALIASES: dict[str, tuple[str, ...]] = {
    "village_code": ("code", "villagecode", "村代码", "村级代码", "统计用区划代码", "区划代码"),
    "village_name": ("name", "villagename", "村名称", "村名", "名称"),
    "township_code": ("streetcode", "street_code", "town_code", "乡镇代码", "乡级代码"),
    "township_name": ("streetname", "street_name", "town_name", "乡镇名称", "乡镇", "乡镇街道"),
    "urban_rural_code": ("urban_rural", "ur_code", "城乡分类代码", "城乡划分代码", "城乡代码"),
    "households": ("hh", "户数", "总户数"),
    "population": ("pop", "人口", "常住人口", "户籍人口", "人口数"),
    "kind": ("type", "类型"),
}
_KIND_VALUES = {
    "village": "village",
    "村": "village",
    "村委会": "village",
    "行政村": "village",
    "建制村": "village",
    "村民委员会": "village",
    "community": "community",
    "社区": "community",
    "居委会": "community",
    "居民委员会": "community",
    "other": "other",
    "其他": "other",
}


def kind_from_code(code: str) -> str | None:
    """The NBS kind from a 12-digit code's last three digits (None when outside 001–599).

    Parameters
    ----------
    code
        A 12-digit village/community code.

    Returns
    -------
    str or None
        ``"community"`` for 001–199 (居委会), ``"village"`` for 200–599 (村委会), else None.
    """
    n = int(code[-3:])
    if 1 <= n <= 199:
        return "community"
    if 200 <= n <= 599:
        return "village"
    return None


def _implausible(
    table: Table,
    cols: dict[str, str | None],
    population: np.ndarray,
    households: np.ndarray,
    household_size: float,
) -> list[Problem]:
    """Villages too large to be real, and people per household outside the plausible band
    (:mod:`planner.inputs.plausible`)."""
    column = cols["population"]
    out = [table.problem(f.row, f.message, column=column, fix=f.fix) for f in size_findings(population)]
    if cols["population"] is None:  # people derived from households: their size is judged instead
        out += [
            table.problem(f.row, f.message, column=cols["households"], fix=f.fix)
            for f in size_findings(households * household_size)
        ]
    out += [
        table.problem(f.row, f.message, column=cols["households"], fix=f.fix)
        for f in household_findings(population, households, household_size=household_size)
    ]
    return out


def _check_codes(table: Table, codes: list[str], code_col: str, problems: list[Problem]) -> list[bool]:
    """Which codes are 12 digits; problems for the others and for every duplicated code (all rows)."""
    first_row: dict[str, int] = {}
    dup_rows: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        if not re.fullmatch(r"\d{12}", code):
            problems.append(
                table.problem(
                    i,
                    f"village code {code!r} is not 12 digits",
                    column=code_col,
                    fix="use the NBS 12-digit 统计用区划代码 (township code + 3 digits), as text",
                )
            )
        elif code in first_row:
            dup_rows.setdefault(code, [first_row[code]]).append(i)
        else:
            first_row[code] = i
    for code, rows in dup_rows.items():
        problems.append(
            table.problem(
                rows[1],
                f"village code {code} is duplicated in " + ", ".join(table.locations[r] for r in rows),
                column=code_col,
                fix="each village/community must appear once",
            )
        )
    return [bool(re.fullmatch(r"\d{12}", c)) for c in codes]


def _township_codes(
    table: Table, tcol: str | None, codes: list[str], good_code: list[bool], problems: list[Problem]
) -> list[str]:
    """Township codes from the village codes; a given column must agree with them."""
    township = [c[:9] if ok else "" for c, ok in zip(codes, good_code, strict=True)]
    if tcol is None:
        return township
    for i, given in enumerate(table.frame[tcol]):
        if given == "":
            continue
        if not re.fullmatch(r"\d{9}", given):
            problems.append(
                table.problem(
                    i,
                    f"township code {given!r} is not 9 digits",
                    column=tcol,
                    fix="use the NBS 9-digit 乡级 code, or leave it blank (read from the village code)",
                )
            )
        elif good_code[i] and given != codes[i][:9]:
            problems.append(
                table.problem(
                    i,
                    f"township code {given} does not match the village code {codes[i]} "
                    f"(its first 9 digits are {codes[i][:9]})",
                    column=tcol,
                    fix="correct one of the two codes",
                )
            )
    return township


def _kinds(
    table: Table,
    kcol: str | None,
    codes: list[str],
    good_code: list[bool],
    code_col: str,
    problems: list[Problem],
) -> list[str]:
    """Village or community per row: the kind column when given, else the NBS code range."""
    kind: list[str] = []
    for i, code in enumerate(codes):
        given = str(table.frame[kcol].iat[i]).lower() if kcol else ""
        from_code = kind_from_code(code) if good_code[i] else None
        if given:
            value = _KIND_VALUES.get(given)
            if value is None:
                problems.append(
                    table.problem(
                        i,
                        f"kind {given!r} is not village or community",
                        column=kcol,
                        fix="use village (村委会), community (居委会) or other",
                    )
                )
                value = ""
            kind.append(value)
        elif from_code is None:
            if good_code[i]:
                problems.append(
                    table.problem(
                        i,
                        f"village code {code} ends in {code[-3:]}, outside the NBS ranges "
                        "001–199 (居委会) and 200–599 (村委会)",
                        column=code_col,
                        fix="correct the code or give a kind column",
                    )
                )
            kind.append("")
        else:
            kind.append(from_code)
    return kind


def _urban_rural(table: Table, ucol: str | None, problems: list[Problem]) -> np.ndarray:
    """The NBS urban-rural code per row (0 where blank)."""
    ur = np.zeros(len(table.frame), dtype=np.int64)
    if ucol is None:
        return ur
    for i, val in enumerate(table.frame[ucol]):
        if val == "":
            continue
        try:
            num = int(float(val))
        except ValueError:
            num = -1
        if num not in URBAN_RURAL_CLASS:
            problems.append(
                table.problem(
                    i,
                    f"urban-rural code {val!r} is not one of {', '.join(map(str, URBAN_RURAL_CLASS))}",
                    column=ucol,
                    fix="use the NBS 统计用城乡划分代码 or leave it blank",
                )
            )
        else:
            ur[i] = num
    return ur


def read_villages(
    path: Path | str,
    *,
    crs: CRS,
    coordinate_system: CoordinateSystem = "wgs84",
    boundary: gpd.GeoDataFrame | None = None,
    household_size: float = 2.62,
    tolerance_m: float = 500.0,
) -> gpd.GeoDataFrame:
    """Read a village/community register into the work CRS.

    Parameters
    ----------
    path
        CSV (UTF-8 or GBK), XLSX or a point vector file. Columns ``village_code`` (also ``code``,
        ``统计用区划代码``), ``village_name`` (``name``), optional ``township_code``
        (``streetCode``), ``township_name`` (``streetName``), ``urban_rural_code``
        (``城乡分类代码``), ``households`` (``户数``), ``population`` (``人口``), ``kind``,
        ``lon``/``lat`` (or point geometry).
    crs
        The work CRS.
    coordinate_system
        The system of the coordinates (GCJ-02/BD-09 are converted to WGS-84 first).
    boundary
        The study area in WGS-84; coordinates farther than ``tolerance_m`` outside it are errors.
    household_size
        Persons per household, to derive the missing one of population/households.
    tolerance_m
        How far outside the boundary a village point may lie (digitising slack).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`planner.types.VILLAGE_COLUMNS` plus ``mappable`` (bool), geometry (points or
        None), in ``crs``.

    Raises
    ------
    InputDataError
        Every problem at once: missing columns, bad or duplicate codes (with the rows), codes of
        another township, unknown urban-rural codes, non-numeric population, points outside.
    """
    table = read_table(path, what="villages")
    problems: list[Problem] = []
    cols = resolve_columns(table, _ALIASES, required=("village_code", "village_name"), problems=problems)
    raise_if(problems, what="villages", path=table.path)
    frame = table.frame
    n = len(frame)
    code_col = cols["village_code"]
    assert code_col is not None
    codes = frame[code_col].tolist()
    good_code = _check_codes(table, codes, code_col, problems)
    township = _township_codes(table, cols["township_code"], codes, good_code, problems)
    township_name = frame[cols["township_name"]].tolist() if cols["township_name"] else [""] * n
    kind = _kinds(table, cols["kind"], codes, good_code, code_col, problems)
    ur = _urban_rural(table, cols["urban_rural_code"], problems)
    area_class = [URBAN_RURAL_CLASS.get(int(u), "") for u in ur]

    population = parse_numbers(table, cols["population"], problems, minimum=0.0, what="a number of people")
    households = parse_numbers(
        table, cols["households"], problems, minimum=0.0, what="a number of households"
    )
    problems += _implausible(table, cols, population, households, household_size)
    population = np.where(np.isnan(population), households * household_size, population)
    households = np.where(np.isnan(households), population / household_size, households)

    lon, lat = read_points(table, problems, coordinate_system=coordinate_system, required=False)
    if boundary is not None:
        check_inside(table, lon, lat, boundary, problems, crs=crs, tolerance_m=tolerance_m, what="village")
    raise_if(problems, what="villages", path=table.path)

    has = ~(np.isnan(lon) | np.isnan(lat))
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(crs)
    geometry = [g if ok else None for g, ok in zip(pts, has, strict=True)]
    out = gpd.GeoDataFrame(
        {
            "village_code": codes,
            "village_name": frame[cols["village_name"]].tolist(),
            "township_code": township,
            "township_name": township_name,
            "urban_rural_code": ur,
            "kind": kind,
            "households": households.astype(float),
            "population": population.astype(float),
            "area_class": area_class,
            "mappable": has,
        },
        geometry=geometry,
        crs=crs,
    )
    out = out[[*VILLAGE_COLUMNS, "mappable", "geometry"]]
    logger.info(
        "villages: %d (%d villages, %d communities), %d with coordinates, population %s",
        len(out),
        int((out["kind"] == "village").sum()),
        int((out["kind"] == "community").sum()),
        int(has.sum()),
        "unknown" if np.isnan(population).all() else f"{np.nansum(population):,.0f}",
    )
    return out


#: OSM ``place`` values read as villages (村) and as communities (urban neighbourhoods/towns).
OSM_VILLAGE_PLACES = ("village", "hamlet", "isolated_dwelling", "farm", "locality")
OSM_COMMUNITY_PLACES = ("city", "town", "suburb", "quarter", "neighbourhood")


def villages_from_osm_places(
    path: Path | str,
    *,
    crs: CRS,
    county_code: str = "000000",
    boundary: gpd.GeoDataFrame | None = None,
    household_size: float = 2.62,
    coordinate_system: CoordinateSystem = "wgs84",
) -> gpd.GeoDataFrame:
    """Read OSM place nodes (``place,name,lon,lat[,population]``) as a register with placeholder codes.

    Outside China (or before a real register is at hand) OSM ``place=village/hamlet`` nodes are the
    best list of settlements. They get placeholder codes in NBS form so that every code-based
    check works: ``county_code`` + township ``9xx`` + ``200–599`` for villages, ``001–199`` for
    towns/neighbourhoods (communities). The codes are not NBS codes; say so in reports.

    Parameters
    ----------
    path
        CSV/XLSX/GeoJSON with ``place`` (the OSM tag value), ``name``, coordinates, optional
        ``population``. Populations are OSM free text: a value that is not one unambiguous number
        (``1000 à 3000``, ``2000+``) is dropped with a warning, the row kept
        (:func:`~planner.inputs.tables.parse_free_number`); ``约2000`` and ``1 200`` are read.
        The warnings are in ``out.attrs["dropped_values"]``.
    crs
        The work CRS.
    county_code
        Six digits used as the codes' prefix.
    boundary
        The study area in WGS-84: places outside it are dropped (not errors: an OSM extract
        usually reaches beyond the area).
    household_size
        Persons per household, for ``households``.
    coordinate_system
        The system of the coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`planner.types.VILLAGE_COLUMNS` plus ``mappable`` and ``osm_place``, in ``crs``;
        ``urban_rural_code`` 0 and ``area_class`` ``""`` (unknown).

    Raises
    ------
    InputDataError
        Missing ``place``/``name`` columns, bad coordinates, a bad ``county_code``.
    """
    if not re.fullmatch(r"\d{6}", county_code):
        raise InputDataError(
            problems=[
                Problem(
                    f"county_code must be 6 digits, not {county_code!r}",
                    location="study_area.county_code",
                    fix="give the county's 6-digit NBS code",
                )
            ]
        )
    table = read_table(path, what="places")
    problems: list[Problem] = []
    cols = resolve_columns(
        table,
        {"place": ("osm_place", "type"), "name": ("名称",), "population": ("pop", "人口")},
        required=("place", "name"),
        problems=problems,
    )
    raise_if(problems, what="places", path=table.path)
    place_col, name_col = cols["place"], cols["name"]
    assert place_col is not None and name_col is not None
    dropped: list[Problem] = []
    population = parse_free_numbers(table, cols["population"], dropped, what="a number of people")
    for f in size_findings(population):
        problems.append(table.problem(f.row, f.message, column=cols["population"], fix=f.fix))
    for problem in dropped:
        logger.warning("places: %s", problem)
    lon, lat = read_points(table, problems, coordinate_system=coordinate_system, required=True)
    raise_if(problems, what="places", path=table.path)
    places = table.frame[place_col].str.lower().to_numpy()
    keep = np.isin(places, (*OSM_VILLAGE_PLACES, *OSM_COMMUNITY_PLACES))
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84)
    if boundary is not None:
        area = boundary.to_crs(WGS84).geometry.union_all()
        keep &= np.asarray(pts.within(area))
    idx = np.flatnonzero(keep)
    codes: list[str] = []
    kinds: list[str] = []
    n_village = n_community = 0
    for i in idx:
        if places[i] in OSM_COMMUNITY_PLACES:
            town, num = 900 + n_community // 199, 1 + n_community % 199
            n_community += 1
            kinds.append("community")
        else:
            town, num = 950 + n_village // 400, 200 + n_village % 400
            n_village += 1
            kinds.append("village")
        codes.append(f"{county_code}{town:03d}{num:03d}")
    pop = population[idx]
    out = gpd.GeoDataFrame(
        {
            "village_code": codes,
            "village_name": table.frame[name_col].to_numpy()[idx].tolist(),
            "township_code": [c[:9] for c in codes],
            "township_name": [""] * len(idx),
            "urban_rural_code": np.zeros(len(idx), dtype=np.int64),
            "kind": kinds,
            "households": pop / household_size,
            "population": pop,
            "area_class": [""] * len(idx),
            "mappable": np.ones(len(idx), dtype=bool),
            "osm_place": places[idx].tolist(),
        },
        geometry=list(pts.iloc[idx]),
        crs=WGS84,
    ).to_crs(crs)
    logger.info("places: %d of %d kept as villages/communities (placeholder codes)", len(out), len(places))
    out = out[[*VILLAGE_COLUMNS, "mappable", "osm_place", "geometry"]]
    out.attrs["dropped_values"] = [str(p) for p in dropped]
    return out
