"""The planner's errors.

One root, :class:`PlannerError`; every child also inherits the matching builtin so that callers
who catch ``ValueError`` or ``FileNotFoundError`` keep working. Messages name the file, the field
or row, and the fix. :class:`Problem` lets a stage gather every problem of an input and raise once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    message
        What is wrong and what is expected, in one sentence.
    file
        The file the problem is in, if any.
    location
        Where in the file: a field path (``inputs.roads.path``), a row (``row 12``) or a column.
    line
        1-based line number in ``file`` when known (YAML and CSV inputs).
    fix
        How to fix it, when that is not obvious from the message.
    """

    message: str
    file: Path | None = None
    location: str | None = None
    line: int | None = None
    fix: str | None = None

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, with_file: bool = True) -> str:
        """The problem in one line: where (file, line, location), what, and the fix.

        ``with_file=False`` leaves the file out (for lists already grouped by file) but keeps the line.
        """
        where = ""
        if self.file is not None and with_file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
        elif self.line is not None and f"line {self.line}" not in (self.location or ""):
            where = f"line {self.line}"
        if self.location:
            where = f"{where} [{self.location}]" if where else f"[{self.location}]"
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


def group_by_file(problems: Sequence[Problem]) -> dict[Path | None, list[Problem]]:
    """The problems grouped by file, files in the order they first appear (``None``: no file)."""
    groups: dict[Path | None, list[Problem]] = {}
    for problem in problems:
        groups.setdefault(problem.file, []).append(problem)
    return groups


def grouped_text(problems: Sequence[Problem]) -> str:
    """Every problem, grouped under the file it is in (indented lines, no trailing newline)."""
    lines: list[str] = []
    for file, group in group_by_file(problems).items():
        lines.append(f"{file if file is not None else '(no file)'}: {len(group)} problem(s)")
        lines += [f"  - {p.describe(with_file=False)}" for p in group]
    return "\n".join(lines)


class PlannerError(Exception):
    """Root of every error the planner raises on purpose.

    ``problems`` holds every problem found, so one run can report them all together.
    """

    exit_code: int = 1

    def __init__(self, message: str | None = None, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = list(problems or [])
        if message is None:
            message = "\n".join(f"- {p}" for p in self.problems) or self.__class__.__name__
        elif self.problems:
            message = message + "\n" + "\n".join(f"- {p}" for p in self.problems)
        super().__init__(message)


class ScenarioError(PlannerError, ValueError):
    """The scenario file is invalid: unknown keys, wrong types, missing files. Exit code 2."""

    exit_code = 2


class InputDataError(PlannerError, ValueError):
    """An input data file (raster, villages, roads, facilities, candidates) is unusable. Exit code 2."""

    exit_code = 2


class InputFileNotFoundError(InputDataError, FileNotFoundError):
    """An input file named by the scenario does not exist. Exit code 2."""


class CRSError(InputDataError):
    """A layer has no CRS, or a CRS that cannot be used for distance work. Exit code 2."""


class StandardsError(PlannerError, ValueError):
    """A policy profile lacks a number a check needs, or is malformed. Exit code 2."""

    exit_code = 2


class NetworkError(PlannerError, ValueError):
    """The road network has no usable roads for a travel mode, or points cannot be snapped."""

    exit_code = 2


class SolverError(PlannerError, RuntimeError):
    """The solver failed in a way that yields no plan (not a time limit: that returns the incumbent)."""


class InfeasibleError(SolverError):
    """The model has no feasible plan; the message explains which demand or budget is short."""


class OutputDirError(PlannerError, FileExistsError):
    """The output folder cannot be written or replaced (exists as a file, or holds foreign files). Exit 2."""

    exit_code = 2


class FetchError(PlannerError, ConnectionError):
    """A download failed: no network, an HTTP error status, or a server answer that cannot be used."""


class BatchSpecError(ScenarioError):
    """The batch file is invalid (unknown keys, a unit list that resolves to nothing, bad placeholders)."""


class BudgetError(PlannerError, ValueError):
    """The budgets cannot pay for what the standards in ``plan.meet`` need; says short by how much. Exit 2."""

    exit_code = 2


class CheckError(PlannerError, ValueError):
    """The checks made before any work (``planner validate``, and the start of ``audit`` and ``run``)
    found problems: in the scenario, the profile, the input files or the output folder. The message
    lists every problem of every file, grouped by file. Exit code 2."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem], *, seconds: float | None = None) -> None:
        files = group_by_file(problems)
        took = f" (checked in {seconds:.1f} s)" if seconds is not None else ""
        head = f"{len(problems)} problem(s) in {len(files)} file(s){took}; nothing was computed or written"
        super().__init__(head, problems=list(problems))
        self.args = (head + "\n" + grouped_text(problems),)

    def __str__(self) -> str:
        return str(self.args[0])


class EditError(PlannerError, ValueError):
    """An edit the plan being edited cannot take (``planner serve``): an unknown site id, a point outside
    the study area or off the roads, a type the scenario does not place. ``status`` is the HTTP status
    the server answers with (404 unknown id, 409 conflicts with the plan, 422 a bad value). Exit 2."""

    exit_code = 2

    def __init__(self, message: str, *, status: int = 422, problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems)
        self.status = status
