"""Tables as a Chinese bureau saves them (GBK/GB18030, UTF-8 with BOM, UTF-16, XLSX), "lng,lat" location
columns, and free-text numbers of OSM tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.errors import InputDataError, Problem
from planner.inputs.tables import parse_free_number, parse_free_numbers, read_points, read_table

ROWS = [["652828100006", "光明中心社区", "特吾里克镇"], ["652828101200", "古努恩布呼村", "塔哈其镇"]]
TEXT = "code,name,乡镇\n" + "\n".join(",".join(r) for r in ROWS) + "\n"


@pytest.mark.parametrize(
    ("encoding", "suffix", "payload"),
    [
        ("gbk", ".csv", TEXT.encode("gbk")),
        ("gb18030", ".csv", TEXT.encode("gb18030")),
        ("utf-8", ".csv", TEXT.encode("utf-8")),
        ("utf-8-sig", ".csv", TEXT.encode("utf-8-sig")),
        ("utf-16 (Excel unicode text)", ".txt", TEXT.replace(",", "\t").encode("utf-16")),
    ],
)
def test_every_encoding_reads_the_same_cells(
    tmp_path: Path, encoding: str, suffix: str, payload: bytes
) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_bytes(payload)
    table = read_table(path, what="test")
    assert list(table.frame.columns) == ["code", "name", "乡镇"]
    assert table.frame.values.tolist() == ROWS
    assert table.locations == ["line 2", "line 3"]


def test_xlsx_keeps_codes_as_text_and_xls_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame(ROWS, columns=["code", "name", "乡镇"])
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    assert read_table(tmp_path / "t.xlsx", what="test").frame.values.tolist() == ROWS
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputDataError, match=r"old Excel \.xls") as err:
        read_table(tmp_path / "old.xls", what="census")
    assert "save it as .xlsx" in str(err.value)


def test_location_column_gives_lon_lat(tmp_path: Path) -> None:
    path = tmp_path / "poi.csv"
    path.write_text('name,location\n甲,"86.857300,42.258570"\n乙, 87.1 ， 42.0 \n丙,\n', encoding="utf-8")
    problems: list[Problem] = []
    lon, lat = read_points(read_table(path, what="POI"), problems, required=False)
    assert problems == []
    np.testing.assert_array_equal(lon[:2], [86.8573, 87.1])
    np.testing.assert_array_equal(lat[:2], [42.25857, 42.0])
    assert np.isnan(lon[2]) and np.isnan(lat[2])


def test_bad_location_names_file_row_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "poi.csv"
    path.write_text(
        'name,location\n甲,"86.8573,42.2585"\n乙,86.8573 42.2585\n丙,"42.2585;86.8573"\n', encoding="utf-8"
    )
    problems: list[Problem] = []
    read_points(read_table(path, what="POI"), problems)
    assert [p.line for p in problems] == [3, 4]
    text = str(problems[0])
    assert str(path) in text and "column 'location'" in text and 'is not "lng,lat"' in text
    assert "Fix:" in text and "longitude first" in text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2000", 2000.0),
        ("约2000", 2000.0),
        ("大约 2,000 人", 2000.0),
        ("1 200", 1200.0),
        ("1'200", 1200.0),
        ("ca. 500", 500.0),
        ("~2000", 2000.0),
        ("about 1500 inhabitants", 1500.0),
        ("5 000 habitants", 5000.0),
        ("1.5万", 15000.0),
        ("3k", 3000.0),
        ("１２００", 1200.0),  # full-width digits (NFKC)
        ("12.5", 12.5),
    ],
)
def test_unambiguous_free_text_numbers(text: str, value: float) -> None:
    assert parse_free_number(text) == (value, "")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1000 à 3000", "range"),
        ("1000-3000", "range"),
        ("1000~3000", "range"),
        ("2000 (2010)", "several numbers"),
        (">2000", "bound"),
        ("2000+", "bound"),
        ("超过2000", "bound"),
        ("1.200", "thousands separator or decimal point"),
        ("many", "no number"),
    ],
)
def test_ambiguous_free_text_numbers_are_refused(text: str, reason: str) -> None:
    value, why = parse_free_number(text)
    assert value is None and reason in why


def test_refused_cells_become_warnings_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text("name,population\nA,1000 à 3000\nB,约2000\nC,\n", encoding="utf-8")
    table = read_table(path, what="places")
    dropped: list[Problem] = []
    values = parse_free_numbers(table, "population", dropped)
    assert np.isnan(values[0]) and values[1] == 2000.0 and np.isnan(values[2])
    assert len(dropped) == 1 and dropped[0].line == 2 and "'1000 à 3000'" in dropped[0].message
