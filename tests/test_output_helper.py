"""The output helper process: a large run's map, GeoPackage and workbook written by a second
process give the same folder as one process writing everything, and a helper that fails changes
nothing (the caller writes its files)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from outputs_fixtures import make_run_result

from planner.outputs import helper, write_outputs


def _gpkg(path: Path) -> dict[str, object]:
    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    out: dict[str, object] = {}
    for name in layers:
        frame = pyogrio.read_dataframe(path, layer=name)
        frame = frame.drop(columns=["update_time"], errors="ignore")  # the QGIS styles' write time
        out[name] = frame.to_json() if hasattr(frame, "geometry") else frame.to_csv()
    return out


def _xlsx(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _write(tmp_path: Path, name: str, *, forced: bool, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setattr(helper, "MIN_DEMAND_POINTS", 0 if forced else 10**12)
    monkeypatch.setattr(helper.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    return write_outputs(make_run_result(), tmp_path / name, pdf=False)


def test_helper_writes_the_same_folder_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real_start = helper.Helper.start

    def spy(*args: object, **kwargs: object) -> object:
        aide = real_start(*args, **kwargs)  # type: ignore[arg-type]
        started.append(aide)
        return aide

    monkeypatch.setattr(helper.Helper, "start", spy)
    alone = _write(tmp_path, "alone", forced=False, monkeypatch=monkeypatch)
    assert started == []
    shared = _write(tmp_path, "shared", forced=True, monkeypatch=monkeypatch)
    assert len(started) == 1 and started[0] is not None  # the helper really ran
    assert [p.name for p in shared] == [p.name for p in alone]
    a, b = tmp_path / "alone", tmp_path / "shared"
    assert _gpkg(b / "results.gpkg") == _gpkg(a / "results.gpkg")
    assert _xlsx(b / "results.xlsx") == _xlsx(a / "results.xlsx")
    for name in ("proposals.csv", "audit.csv", "village_gaps.csv", "summary.json", "report.html"):
        assert (b / name).read_bytes() == (a / name).read_bytes(), name
    # the map holds the same data (folium's element ids are random per write)
    assert abs((b / "map.html").stat().st_size - (a / "map.html").stat().st_size) < 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alone", "shared"]  # no temporary folders


def test_a_failing_helper_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper.sys, "executable", sys.executable + "-missing-interpreter")
    paths = _write(tmp_path, "out", forced=True, monkeypatch=monkeypatch)
    names = {p.name for p in paths}
    assert {"results.gpkg", "results.xlsx", "map.html", "report.html", "summary.json"} <= names
    assert all(p.stat().st_size > 0 for p in paths)
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))


def test_helper_is_used_only_for_large_runs_in_a_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    result = make_run_result()
    monkeypatch.setattr(helper, "MIN_DEMAND_POINTS", 0)
    assert helper.worthwhile(result, {"map", "csv"})
    assert not helper.worthwhile(result, {"csv", "report"})  # no map: nothing worth a process
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(helper.worthwhile(result, {"map"})))
    worker.start()
    worker.join()
    assert seen == [False]  # a batch worker's thread keeps to its core
    monkeypatch.setattr(helper.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert not helper.worthwhile(result, {"map"})
    monkeypatch.setattr(helper, "MIN_DEMAND_POINTS", len(result.demand) + 1)
    monkeypatch.setattr(helper.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert not helper.worthwhile(result, {"map"})
