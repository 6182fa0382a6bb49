"""Census population per township (e.g. the 7th census, 第七次全国人口普查, 常住人口 by 乡镇街道).

The file is a table (CSV in UTF-8 with or without BOM, GBK/GB18030 or UTF-16; XLSX) with one row
per township: a 9-digit ``township_code`` and/or a ``township_name``, and ``population``. Rows are
joined to the study's townships (the register's and the polygons'):

- by code when the row has one (it must be a known township's code);
- else by name: the cleaned name (:func:`planner.inputs.names.clean_name`) first, then the name
  without 镇/乡/街道/街道办事处 (:func:`~planner.inputs.names.township_key`); a name several
  townships share is refused as ambiguous.

A row whose name is a total (合计, 总计, 全县, 总人口, total, or the county's name) is not a township:
it is kept aside and compared with the sum of the township rows. Every other row that names no
known township is an error naming the file, the row and the known names; so are duplicate
townships and populations that are blank, not numbers or negative.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import Problem
from planner.inputs.names import clean_name, township_key
from planner.inputs.tables import Table, parse_numbers, raise_if, read_table, resolve_columns

__all__ = ["CensusTotals", "read_census"]

logger = logging.getLogger(__name__)

_ALIASES: dict[str, tuple[str, ...]] = {
    "township_code": ("code", "乡镇代码", "乡镇街道代码", "区划代码", "统计用区划代码", "代码", "adcode"),
    "township_name": ("name", "乡镇", "乡镇街道", "乡镇名称", "乡镇街道名称", "名称", "地区", "地名", "单位"),
    "population": ("pop", "常住人口", "人口", "总人口", "人口数", "人数", "合计", "population_total"),
}
_TOTAL_NAMES = ("合计", "总计", "全县", "全市", "全区", "总人口", "总数", "total", "sum")


@dataclass(frozen=True)
class CensusTotals:
    """Census people per township, joined to the study's township codes.

    Attributes
    ----------
    path
        The file.
    frame
        Columns ``township_code``, ``township_name`` (the study's name), ``population``, ``row``
        (where it is in the file), ``matched_by`` (``code``/``name``/``name without suffix``).
    total_rows
        ``(row, label, population)`` of rows read as totals (not townships).
    notes
        Remarks (a total row that disagrees with the sum of the townships).
    """

    path: Path
    frame: pd.DataFrame
    total_rows: tuple[tuple[str, str, float], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        """The sum of the township rows."""
        return float(self.frame["population"].sum())


def _population_column(table: Table, found: str | None) -> str | None:
    if found is not None:
        return found
    hits = [c for c in table.frame.columns if "人口" in str(c) or "population" in str(c)]
    return hits[0] if len(hits) == 1 else None


def _match_name(name: str, names: dict[str, str]) -> tuple[list[str], str]:
    """Township codes whose name matches ``name``, and how (cleaned name first, then without suffix)."""
    cleaned = clean_name(name)
    exact = [code for code, n in names.items() if clean_name(n) == cleaned]
    if exact:
        return exact, "name"
    key = township_key(name)
    return [code for code, n in names.items() if township_key(n) == key], "name without suffix"


def read_census(path: Path | str, *, townships: pd.DataFrame, county_name: str = "") -> CensusTotals:
    """Read census totals per township and join them to the study's townships.

    Parameters
    ----------
    path
        CSV/XLSX with ``township_code`` (also ``code``, ``乡镇代码``, ``区划代码``) and/or
        ``township_name`` (also ``name``, ``乡镇``, ``乡镇街道``, ``名称``), and ``population``
        (also ``常住人口``, ``人口``, ``总人口``; else the one column whose name holds 人口).
    townships
        The study's townships: ``township_code`` and ``township_name`` (the register's and the
        polygons'), one row per code.
    county_name
        The county's name: a row with it is read as the total.

    Returns
    -------
    CensusTotals

    Raises
    ------
    InputDataError
        Every problem at once: no code/name or population column, rows naming a township the study
        lacks (with the known names), ambiguous names, duplicate townships, bad populations.
    """
    table = read_table(path, what="census")
    problems: list[Problem] = []
    cols = resolve_columns(table, _ALIASES, required=(), problems=problems)
    code_col, name_col = cols["township_code"], cols["township_name"]
    pop_col = _population_column(table, cols["population"])
    problems += _column_problems(table, code_col, name_col, pop_col)
    raise_if(problems, what="census", path=table.path)
    assert pop_col is not None
    names = dict(
        zip(townships["township_code"].astype(str), townships["township_name"].astype(str), strict=True)
    )
    matcher = _Matcher(table, names, county_name, code_col, name_col)
    pops = parse_numbers(table, pop_col, problems, minimum=0.0, what="a number of people")
    rows: list[dict[str, object]] = []
    totals: list[tuple[str, str, float]] = []
    seen: dict[str, int] = {}
    for i in range(len(table.frame)):
        found = matcher.match(i)
        if isinstance(found, Problem):
            problems.append(found)
        elif isinstance(found, str):  # a county total row
            if not np.isnan(pops[i]):
                totals.append((table.locations[i], matcher.label(i), float(pops[i])))
        else:
            problem = _keep_row(table, i, found, pops, pop_col, seen, rows, names)
            if problem is not None:
                problems.append(problem)
    raise_if(problems, what="census", path=table.path)
    out = pd.DataFrame(rows, columns=["township_code", "township_name", "population", "row", "matched_by"])
    notes = _total_notes(totals, out)
    for note in notes:
        logger.warning("census %s: %s", table.path.name, note)
    logger.info(
        "census: %d townships, %s people (%s)", len(out), f"{out['population'].sum():,.0f}", table.path.name
    )
    return CensusTotals(table.path, out, tuple(totals), tuple(notes))


def _column_problems(
    table: Table, code_col: str | None, name_col: str | None, pop_col: str | None
) -> list[Problem]:
    problems = []
    if code_col is None and name_col is None:
        problems.append(
            Problem(
                "the census table has neither a township code nor a township name column; the file has: "
                + ", ".join(map(str, table.frame.columns)),
                file=table.path,
                location="column township_code/township_name",
                fix="add a township_code (9 digits) or township_name (乡镇) column",
            )
        )
    if pop_col is None:
        problems.append(
            Problem(
                "the census table has no population column (accepted: population, 常住人口, 人口, 总人口)",
                file=table.path,
                location="column population",
                fix="name the column of resident people 'population'",
            )
        )
    return problems


@dataclass(frozen=True)
class _Matcher:
    """Matches a census row to one of the study's townships by code, else by name (or a total row)."""

    table: Table
    names: dict[str, str]
    county_name: str
    code_col: str | None
    name_col: str | None

    def code(self, i: int) -> str:
        return str(self.table.frame[self.code_col].iat[i]) if self.code_col else ""

    def label(self, i: int) -> str:
        return str(self.table.frame[self.name_col].iat[i]) if self.name_col else ""

    @property
    def known(self) -> str:
        return ", ".join(f"{n} ({c})" for c, n in self.names.items()) or "none"

    def match(self, i: int) -> tuple[str, str] | str | Problem:
        """``(township code, "code"|"name")``, ``"total"`` for a county total row, or the problem."""
        code, name = self.code(i), self.label(i)
        if code:
            if re.fullmatch(r"\d{9}", code) and code in self.names:
                return code, "code"
            return self.table.problem(
                i,
                f"township code {code!r} is not one of the study's townships",
                column=self.code_col,
                fix=f"use one of: {self.known}",
            )
        matched, how = _match_name(name, self.names) if name else ([], "")
        if not matched and (
            clean_name(name).lower() in _TOTAL_NAMES
            or (self.county_name and clean_name(name) == clean_name(self.county_name))
        ):
            return "total"
        if len(matched) == 1:
            return matched[0], how
        if matched:
            what = f"township name {name!r} matches several townships ({', '.join(matched)})"
        elif name:
            what = f"township {name!r} is not in the register or the township polygons"
        else:
            what = "the row has neither a township code nor a name"
        return self.table.problem(i, what, column=self.name_col, fix=f"use a code or a name of: {self.known}")


def _keep_row(
    table: Table,
    i: int,
    found: tuple[str, str],
    pops: np.ndarray,
    pop_col: str,
    seen: dict[str, int],
    rows: list[dict[str, object]],
    names: dict[str, str],
) -> Problem | None:
    """Add a matched row (or say why not: a blank population, a township given twice)."""
    code, how = found
    if np.isnan(pops[i]):
        blank = table.frame[pop_col].iat[i] == ""
        return (
            table.problem(
                i, "the population is blank", column=pop_col, fix="give the census figure or remove the row"
            )
            if blank
            else None
        )
    if code in seen:
        return table.problem(
            i,
            f"township {names[code]} ({code}) appears twice ({table.locations[seen[code]]})",
            column=pop_col,
            fix="give each township once",
        )
    seen[code] = i
    rows.append(
        {
            "township_code": code,
            "township_name": names[code],
            "population": float(pops[i]),
            "row": table.locations[i],
            "matched_by": how,
        }
    )
    return None


def _total_notes(totals: list[tuple[str, str, float]], out: pd.DataFrame) -> list[str]:
    """A note for each county total row that disagrees with the townships' sum."""
    notes = []
    for where, label, value in totals:
        if abs(value - out["population"].sum()) > max(1.0, 0.01 * value):
            notes.append(
                f"the total row {label!r} ({where}) says {value:,.0f} but the townships sum to "
                f"{out['population'].sum():,.0f}; the township rows were used"
            )
    return notes
