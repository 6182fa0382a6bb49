"""The checks made before any work: ``planner validate``, and the first step of ``audit`` and ``run``.

One pass finds every problem of every file, so a user fixes them all in one round:

- the scenario file (YAML, keys, types, files named, the profile, ``plan.meet``, ``budget.per_year``);
- every input file's contents, read by the same readers the run uses
  (:func:`planner.run.prepare.read_study_data`; the roads by :func:`planner.inputs.read_roads`),
  including the plausibility checks of :mod:`planner.inputs.plausible`; when some sections of the
  scenario are invalid, the input files are still read with the sections that are valid
  (:func:`planner.scenario.readable_sections`);
- the output folder: not a file, an earlier output or empty (``run``), its nearest existing folder
  writable, not an input file's folder nor holding an input file.

Problems stop the command (exit 2, nothing computed, nothing written); notes are told and do not
stop it: repairs (a boundary that crosses itself), which year targets apply, folders to be created.
Nothing here writes a file: the output folder's parent is probed with a temporary folder that is
removed at once.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from planner.errors import CheckError, PlannerError, Problem, StandardsError
from planner.geo import points_xy
from planner.inputs.roadtable import RoadTable
from planner.run.prepare import read_scenario_roads, read_study_data
from planner.scenario import Scenario, read_scenario, readable_sections
from planner.standards import STANDARD_IDS, Profile, load_profile, resolve_profile_path
from planner.types import StudyData

__all__ = ["Checked", "Command", "check_loaded", "check_scenario", "output_problems"]

log = logging.getLogger(__name__)

#: What the checks are for: ``run`` replaces the output folder, ``audit`` writes two tables into it.
Command = Literal["validate", "audit", "run"]

#: The file every planner output folder holds (the outputs stage writes it last).
_MARKER = "summary.json"


@dataclass(frozen=True)
class Checked:
    """What the checks found.

    Attributes
    ----------
    scenario
        The scenario (None when the file does not validate).
    problems
        Every problem of every file (each names its file); any stops the command.
    notes
        What the user is told without stopping: repairs, which year targets apply, folders created.
    study
        The inputs as read (with the road graph), for the run to start from; None on problems.
    out_dir
        The output folder checked (None: none).
    seconds
        How long the checks took.
    """

    scenario: Scenario | None
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...]
    study: StudyData | None
    out_dir: Path | None
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether the command may go on."""
        return not self.problems and self.scenario is not None and self.study is not None

    def raise_if_failed(self) -> None:
        """Raise :class:`~planner.errors.CheckError` with every problem when there is any."""
        if not self.ok:
            raise CheckError(
                self.problems or [Problem("the scenario cannot be read", fix="run planner validate on it")],
                seconds=self.seconds,
            )


def check_scenario(path: str | Path, *, out: Path | None = None, command: Command = "validate") -> Checked:
    """Check a scenario file, its profile, every input file and the output folder, in one pass.

    Parameters
    ----------
    path
        The scenario YAML file.
    out
        The output folder the command would write (default: the scenario's ``outputs.folder``, else
        ``out/<name>``; for ``audit`` only when given).
    command
        What the checks are for (the output folder is checked as that command writes it).

    Returns
    -------
    Checked
    """
    started = time.perf_counter()
    path = Path(path).resolve()  # every problem of the scenario file under one name
    scenario, problems = read_scenario(path)
    reading = scenario if scenario is not None else readable_sections(path)
    if reading is None:
        return Checked(None, tuple(problems), (), None, None, time.perf_counter() - started)
    skip = _reported_files(reading, problems)
    target = _target(reading, out, command) if scenario is not None else out
    return _check(reading, problems, out=target, command=command, skip=skip, started=started, whole=scenario)


def check_loaded(scenario: Scenario, *, out: Path | None = None, command: Command = "run") -> Checked:
    """:func:`check_scenario` for a scenario already loaded (the library's ``run_scenario``); the output
    folder is checked only when ``out`` is given."""
    started = time.perf_counter()
    return _check(scenario, [], out=out, command=command, skip=frozenset(), started=started, whole=scenario)


def _check(
    scenario: Scenario,
    problems: list[Problem],
    *,
    out: Path | None,
    command: Command,
    skip: frozenset[Path],
    started: float,
    whole: Scenario | None,
) -> Checked:
    problems = list(problems)
    folder_notes: list[Problem] = []
    if out is not None:
        found, folder_notes = output_problems(out, scenario, replace=command != "audit")
        problems += found
    profile = _profile(scenario)
    read = read_study_data(scenario, profile, skip=skip)
    problems += read.problems
    study = read.study
    roads = _roads(scenario, read.boundary, problems, skip)
    if study is not None and roads is not None:
        problems += _reach_problems(scenario, study, roads)
        study = replace(study, roads=roads)
    years = year_notes(scenario, profile)
    for note in [*folder_notes, *years]:  # logged for audit and run (the repairs: by their reader)
        log.info("%s", note)
    notes = (*folder_notes, *read.notes, *years)
    return Checked(whole, tuple(problems), notes, study, out, round(time.perf_counter() - started, 2))


def _target(scenario: Scenario, out: Path | None, command: Command) -> Path | None:
    if out is not None or command == "audit":
        return out
    return scenario.outputs.folder or Path("out") / scenario.name


def _reported_files(scenario: Scenario, problems: list[Problem]) -> frozenset[Path]:
    """Input files whose problems the scenario check already reported (missing, unreadable, no CRS)."""
    files = scenario.input_files()
    return frozenset(Path(files[p.location]) for p in problems if p.location in files)


def _profile(scenario: Scenario) -> Profile:
    """The scenario's profile; the national default when it cannot be read (its problems are reported
    by the scenario check), so the input files are still read with a household size."""
    try:
        return scenario.load_profile()
    except (StandardsError, OSError):
        return load_profile(resolve_profile_path("national-default", scenario.base_dir))


def _roads(
    scenario: Scenario, boundary: gpd.GeoDataFrame | None, problems: list[Problem], skip: frozenset[Path]
) -> RoadTable | None:
    """The roads read as the run reads them (:func:`planner.run.prepare.read_scenario_roads`, clipped to
    the area); None without roads or on a problem (added to ``problems``). Without a usable boundary
    only a GraphML file is read (an OSM extract or a line layer is clipped while it is read)."""
    layer = scenario.inputs.roads
    if layer is None or Path(layer.path) in skip:
        return None
    if boundary is None and not layer.path.name.lower().endswith(".graphml"):
        return None
    try:
        return read_scenario_roads(scenario, boundary)
    except PlannerError as exc:
        problems += [p if p.file is not None else replace(p, file=layer.path) for p in exc.problems]
        return None


def _reach_problems(scenario: Scenario, study: StudyData, roads: RoadTable) -> list[Problem]:
    """A problem when the roads reach none of the people: no demand point lies within
    ``travel.max_snap_m`` of any road (the edges' drawn lines, or straight between their nodes). A
    network reaching some of them is not a problem: the run reports the rest."""
    if scenario.travel.reading != "network" or scenario.inputs.roads is None or len(study.demand) == 0:
        return []
    if roads.n_edges:
        drawn = roads.geometries()
        ends = np.stack(
            [
                np.column_stack([roads.x[roads.u], roads.y[roads.u]]),
                np.column_stack([roads.x[roads.v], roads.y[roads.v]]),
            ],
            axis=1,
        )
        straight = shapely.linestrings(ends)
        lines = np.where([g is None for g in drawn], straight, drawn)
        to_work = Transformer.from_crs(roads.crs, study.crs, always_xy=True)
        lines = shapely.transform(lines, lambda xy: np.column_stack(to_work.transform(xy[:, 0], xy[:, 1])))
        near, _ = shapely.STRtree(lines).query(
            shapely.points(points_xy(study.demand)), predicate="dwithin", distance=scenario.travel.max_snap_m
        )
        if len(near):
            return []
    return [
        Problem(
            f"the roads reach none of the people: no populated cell lies within travel.max_snap_m "
            f"({scenario.travel.max_snap_m:g} m) of a road of this file",
            file=scenario.inputs.roads.path,
            fix="use a road file of the study area (check its extent and CRS), raise travel.max_snap_m, "
            "or set travel.reading: buffer for straight-line distances",
        )
    ]


def output_problems(
    target: Path, scenario: Scenario, *, replace: bool
) -> tuple[list[Problem], list[Problem]]:
    """Problems of an output folder, and notes (folders that will be created).

    Parameters
    ----------
    target
        The output folder.
    scenario
        The scenario (its input files and profile must not be inside the folder).
    replace
        Whether the command replaces the folder (``run``): it must then be empty or an earlier output.

    Returns
    -------
    tuple of lists
        The problems and the notes.
    """
    target = Path(os.path.abspath(target))
    fix = "choose another folder with --out (or outputs.folder in the scenario)"
    problems: list[Problem] = []
    if target.exists() and not target.is_dir():
        problems.append(Problem("the output path exists and is not a folder", file=target, fix=fix))
    elif replace and target.is_dir():
        entries = [p for p in target.iterdir() if p.name != ".DS_Store"]
        if entries and not (target / _MARKER).is_file():
            problems.append(
                Problem(
                    f"the output folder exists, is not empty and is not an earlier planner output (no "
                    f"{_MARKER}); a run replaces the whole folder, so it refuses to",
                    file=target,
                    fix=fix + ", or empty this one yourself",
                )
            )
    problems += _input_folder_problems(target, scenario)
    ancestor, missing = _nearest_existing(target)
    if not ancestor.is_dir():
        problems.append(
            Problem(f"{ancestor} is a file, so the output folder cannot be made in it", file=target, fix=fix)
        )
    elif not _writable(ancestor):
        problems.append(
            Problem(
                f"cannot write in {ancestor} (permission denied or a read-only file system)",
                file=target,
                fix=fix,
            )
        )
    notes = []
    if missing and not problems:
        notes.append(
            Problem(
                f"the folder{'s' if len(missing) > 1 else ''} {', '.join(str(m) for m in reversed(missing))} "
                "will be created",
                file=target,
            )
        )
    return problems, notes


def _nearest_existing(target: Path) -> tuple[Path, list[Path]]:
    """The nearest existing ancestor of ``target`` (itself excluded) and the missing folders between."""
    missing: list[Path] = []
    ancestor = target.parent
    if not target.exists():
        missing.append(target)
    while not ancestor.exists() and ancestor != ancestor.parent:
        missing.append(ancestor)
        ancestor = ancestor.parent
    return ancestor, missing


def _writable(folder: Path) -> bool:
    """Whether a folder can be made in ``folder`` (probed: permission bits do not bind root, and a
    read-only mount or /proc refuses what ``os.access`` allows)."""
    try:
        probe = tempfile.mkdtemp(prefix=".planner-write-check-", dir=folder)
    except OSError:
        return False
    os.rmdir(probe)
    return True


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _input_folder_problems(target: Path, scenario: Scenario) -> list[Problem]:
    """The output folder holding an input (it would be replaced) or lying inside an input file's folder
    (other than the scenario's own)."""
    real = Path(os.path.realpath(target))
    home = Path(os.path.realpath(scenario.base_dir))
    files = {**scenario.input_files()}
    if scenario.path is not None:
        files["scenario"] = scenario.path
    problems = []
    for field, file in files.items():
        file = Path(os.path.realpath(file))
        if _inside(file, real):
            problems.append(
                Problem(
                    f"the output folder holds the input {file} ({field}); writing it would replace the input",
                    file=target,
                    fix="write the outputs to a folder of their own, e.g. out/<scenario name>",
                )
            )
        elif file.parent != home and _inside(real, file.parent):
            problems.append(
                Problem(
                    f"the output folder is inside the input folder {file.parent} ({field})",
                    file=target,
                    fix="keep outputs apart from the inputs, e.g. out/<scenario name> beside the scenario",
                )
            )
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if p.message not in seen:
            seen.add(p.message)
            out.append(p)
    return out


def year_notes(scenario: Scenario, profile: Profile) -> list[Problem]:
    """Which year target applies when ``plan.year`` lies outside a standard's table of target years.

    Before a standard's first target year the audit applies that first target, marked "not yet due";
    after the last one, the last target. Before a ``by_year`` target the standard is "not yet due".
    """
    year = scenario.plan.year
    texts = []
    for sid in STANDARD_IDS:
        std = profile.get(sid)
        targets = getattr(std, "targets", None)
        if targets:
            first, last = min(targets), max(targets)
            if year < first:
                texts.append(
                    f"plan.year {year} is before the first target year of {sid} ({first}): the audit "
                    f"applies the {first} target ({targets[first].text()}), marked not yet due"
                )
            elif year > last:
                texts.append(
                    f"plan.year {year} is after the last target year of {sid} ({last}): its {last} target "
                    f"({targets[last].text()}) applies; the profile sets none later"
                )
        due = getattr(std, "by_year", None)
        if due is not None and year < due:
            texts.append(f"{sid} is due by the end of {due}: in {year} it is reported as not yet due")
    for name, count in profile.counts.items():
        if count.by_year is not None and year < count.by_year and not count.baseline:
            texts.append(
                f"{name} is due by the end of {count.by_year}: in {year} it is reported as not yet due"
            )
    return [Problem(text, file=scenario.path, location="plan.year") for text in texts]
