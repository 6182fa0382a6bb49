"""Compare two plans given as output folders or scenario files, into one atomic output folder.

A scenario (a ``.yaml``/``.yml`` file) is run first, into ``OUT/a`` or ``OUT/b`` (with at least the
files a comparison reads: json, csv, gpkg); an output folder is read as it is. The comparison's
folder is written atomically: nothing is left behind when a run or the comparison fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from planner.atomic import atomic_dir
from planner.compare.diff import Comparison, compare_runs
from planner.compare.load import RunFiles, read_run
from planner.compare.report import write_comparison
from planner.errors import OutputDirError, Problem
from planner.outputs.i18n import Lang

__all__ = ["compare_paths"]

_NEEDED_FORMATS = ("json", "csv", "gpkg")


def _kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        return "scenario"
    raise OutputDirError(
        problems=[
            Problem(
                "neither a run's output folder nor a scenario file (.yaml)",
                file=path,
                fix="give the folder `planner run` wrote, or a scenario YAML to run",
            )
        ]
    )


def _replaceable(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir() or (any(target.iterdir()) and not (target / "compare.json").is_file()):
        raise OutputDirError(
            problems=[
                Problem(
                    "the --out folder exists and is not an earlier comparison",
                    file=target,
                    fix="choose a new or empty folder",
                )
            ]
        )


def _side(path: Path, folder: Path, stage: Callable[[str], Any] | None) -> RunFiles:
    if _kind(path) == "folder":
        return read_run(path)
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    scenario = load_scenario(path)
    formats = tuple(dict.fromkeys([*scenario.outputs.formats, *_NEEDED_FORMATS]))
    scenario = scenario.model_copy(
        update={"outputs": scenario.outputs.model_copy(update={"formats": formats})}
    )
    run_scenario(scenario, out_dir=folder, stage=stage)
    return read_run(folder)


@contextlib.contextmanager
def _no_stage(_: str) -> Iterator[None]:
    yield


def compare_paths(
    a: Path,
    b: Path,
    *,
    out_dir: Path,
    lang: Lang | None = None,
    stage: Callable[[str], Any] | None = None,
) -> Comparison:
    """Compare plan ``a`` with plan ``b`` (output folders or scenario files) into ``out_dir``.

    Returns the comparison; its folders name where each side was read from (``OUT/a`` for a
    scenario run here).
    """
    a, b = Path(a), Path(b)
    kinds = (_kind(a), _kind(b))  # both checked before any work
    out_dir = Path(out_dir).absolute()
    with atomic_dir(out_dir, check=_replaceable) as tmp:
        side_a = _side(a, tmp / "a", stage)
        side_b = _side(b, tmp / "b", stage)
        cmp = compare_runs(side_a, side_b)
        for key, kind, name in (("a", kinds[0], "a"), ("b", kinds[1], "b")):
            if kind == "scenario":
                cmp.summary[key]["folder"] = str(out_dir / name)
        with (stage or _no_stage)("compare"):
            write_comparison(cmp, tmp, lang=lang or "zh")
    return cmp
