"""The terminal of ``planner run``: warnings said once in the run's language, progress with counts,
and a real run of the demo county that is quiet (no solver banner) and ends with the paths of the
report and map.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from planner.cli.console import WarningGroups, progress

ROOT = Path(__file__).resolve().parents[1]
SNAP = "%s: %d of %d points unreachable by network (%d without coordinates, %d beyond %g m of a %s road)"


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("planner.network.snap", logging.WARNING, __file__, 1, msg, args, None)


def test_warnings_are_grouped_once() -> None:
    groups = WarningGroups()
    for mode in ("walk", "car", "tricycle", "car"):  # the same points snapped to each network
        groups.emit(_record(SNAP, "points", 10, 2481, 0, 10, 1000.0, mode))
    groups.emit(_record(SNAP, "points", 2, 159, 0, 2, 1000.0, "tricycle"))
    for _ in range(3):
        groups.emit(_record("removed %s, left behind by an interrupted run", "/tmp/x.tmp"))
    assert groups.lines("en") == [
        "10 of 2,481 points unreachable by network (0 without coordinates, 10 beyond 1000 m of a "
        "walk, car, tricycle road)",
        "2 of 159 points unreachable by network (0 without coordinates, 2 beyond 1000 m of a tricycle road)",
        "removed /tmp/x.tmp, left behind by an interrupted run (3 times)",
    ]
    zh = groups.lines("zh")
    assert (
        zh[0] == "2,481 个点中有 10 个无法经路网到达（0 个无坐标，10 个距步行、车行、三轮车道路超过 1000 米）"
    )
    assert zh[2] == "已删除上次中断运行留下的 /tmp/x.tmp（共 3 次）"
    out = Console(record=True, width=200)
    groups.flush_to(out, "zh")
    assert out.export_text().count("注意") == 3 and not groups.groups


def test_progress_counts_stages_and_models_solved() -> None:
    err = Console(record=True, width=120, force_terminal=False)
    import planner.cli.console as cli_console

    saved = cli_console.console
    cli_console.console = err
    logging.getLogger().setLevel(logging.INFO)
    try:
        with progress(False, lang="en", stages=("audit", "optimise")) as stage:
            with stage("audit"):
                pass
            with stage("optimise"):
                for _ in range(3):
                    logging.getLogger("planner.plan.pickup").info("pickup plan: solved")
                logging.getLogger("planner.audit").info("not a model")
    finally:
        cli_console.console = saved
    text = err.export_text()
    assert "2/2" in text and "done" in text


def test_planner_run_is_quiet_and_names_its_files(tmp_path: Path) -> None:
    """The demo run: no HiGHS banner, each warning once, the headline table, the paths at the end."""
    out = tmp_path / "demo"
    env = {**os.environ, "COLUMNS": "160"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "run",
            str(ROOT / "scenarios" / "demo.yaml"),
            "-o",
            str(out),
            "--no-pdf",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    both = proc.stdout + proc.stderr
    assert "Running HiGHS" not in both and "Copyright" not in both
    assert "INFO" not in both  # quiet by default
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("注意")]
    assert warnings and len(warnings) == len(set(warnings))
    assert all("points" not in w for w in warnings)  # in the run's language
    assert "主要指标" in proc.stdout and "规划后仍未达标" in proc.stdout
    last = proc.stdout.strip().splitlines()[-3:]
    assert last[0] == f"报告：{(out / 'report.html').resolve()}"
    assert last[1] == f"地图：{(out / 'map.html').resolve()}"
    assert not (out / "report.pdf").exists()  # --no-pdf


def test_models_solved_are_counted_from_the_plan_loggers() -> None:
    from planner.cli.console import _SolveCounter

    seen: list[int] = []
    counter = _SolveCounter(seen.append)
    for name, level in (
        ("planner.plan.pickup", logging.INFO),
        ("planner.optimize.cover", logging.INFO),
        ("planner.audit", logging.INFO),  # not a model
        ("planner.plan.stations", logging.DEBUG),  # not a solve line
    ):
        counter.handle(logging.LogRecord(name, level, __file__, 1, "x", (), None))
    assert seen == [1, 2] and counter.count == 2
