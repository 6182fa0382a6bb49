"""A second process that writes part of a large run's output folder while this one writes the rest.

Writing a prefecture's outputs is two long, independent jobs: the report (a map per township, then
Chromium printing it) and the interactive map with the GeoPackage and the workbook. On a machine
with two or more cores :func:`planner.outputs.writer.write_outputs` hands the second job to a
helper: ``python -m planner.outputs.helper`` started with :mod:`subprocess` (not
:mod:`multiprocessing`, which would import the caller's ``__main__`` again: a user's script without
an ``if __name__ == "__main__"`` guard would run twice). The run is passed as a pickle in a private
temporary folder; the helper writes its files into the output folder being built and prints the
log records it raised as JSON lines, which the caller logs as its own. If the helper cannot start
or fails, the caller writes those files itself, so a helper problem never changes the output.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Final

from planner.outputs.i18n import Lang
from planner.types import RunResult

log = logging.getLogger(__name__)

#: The formats the helper can write (the rest are written by the caller).
HELPER_FORMATS: Final[tuple[str, ...]] = ("gpkg", "xlsx", "map")

#: Runs with fewer demand points than this write everything in one process: starting the helper
#: (~2 s of imports) would cost more than it saves (the demo's map takes well under a second).
MIN_DEMAND_POINTS: Final[int] = 5000


def worthwhile(result: RunResult, formats: Collection[str]) -> bool:
    """Whether a helper would speed this write up.

    Yes when the map is wanted, the run is large (:data:`MIN_DEMAND_POINTS`), two or more cores are
    free to this process, and the caller is a program's main thread (a batch worker runs in a
    thread beside others and keeps to its one core).
    """
    if "map" not in formats or len(result.demand) < MIN_DEMAND_POINTS:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores >= 2 and threading.current_thread() is threading.main_thread()


class Helper:
    """A running helper; :meth:`finish` waits for it and says which files it wrote."""

    def __init__(self, proc: subprocess.Popen[str], scratch: Path, names: list[str]) -> None:
        self._proc = proc
        self._scratch = scratch
        self.names = names

    @classmethod
    def start(cls, result: RunResult, tmp: Path, *, lang: Lang, formats: Collection[str]) -> Helper | None:
        """Start writing the :data:`HELPER_FORMATS` among ``formats`` into ``tmp``; ``None`` if it
        cannot start (the caller then writes them)."""
        names = [f for f in HELPER_FORMATS if f in formats]
        scratch = Path(tempfile.mkdtemp(prefix="planner-helper-"))
        try:
            blob = scratch / "run.pickle"
            with open(blob, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            env = dict(os.environ)
            package_root = str(Path(__file__).resolve().parents[2])  # planner importable as here
            env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
            cmd = [sys.executable, "-m", "planner.outputs.helper", str(blob), str(tmp), lang, ",".join(names)]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        except Exception as exc:  # pickling or starting failed: write everything here instead
            log.debug("output helper not started: %s", exc)
            shutil.rmtree(scratch, ignore_errors=True)
            return None
        return cls(proc, scratch, names)

    def finish(self) -> list[str]:
        """Wait for the helper; the formats it wrote (empty if it failed: write them here)."""
        try:
            out, err = self._proc.communicate()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        if self._proc.returncode != 0:
            tail = " | ".join(err.strip().splitlines()[-3:])
            log.debug("output helper failed (exit %s): %s", self._proc.returncode, tail)
            return []
        for line in out.splitlines():
            try:
                name, level, message = json.loads(line)
            except ValueError:
                continue
            logging.getLogger(name).log(level, "%s", message)
        return self.names

    def stop(self) -> None:
        """Kill the helper (the caller failed or was interrupted) and remove its scratch folder."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()
        shutil.rmtree(self._scratch, ignore_errors=True)


def write_part(result: RunResult, tmp: Path, *, lang: Lang, formats: Collection[str]) -> list[str]:
    """Write the :data:`HELPER_FORMATS` among ``formats`` (in this process); their file names."""
    from planner.outputs import files, xlsx

    names = []
    if "gpkg" in formats:
        files.write_gpkg(result, tmp / "results.gpkg", lang=lang)
        names.append("results.gpkg")
    if "xlsx" in formats:
        xlsx.write_xlsx(result, tmp / "results.xlsx", lang=lang)
        names.append("results.xlsx")
    if "map" in formats:
        from planner.outputs.mapview import write_map

        write_map(result, tmp / "map.html", lang=lang)
        names.append("map.html")
    return names


class _Records(logging.Handler):
    """Keeps the helper's log records to hand back to the caller."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def main(argv: Sequence[str]) -> int:
    """``python -m planner.outputs.helper RUN.pickle TMP LANG FORMATS``: write, print the records."""
    blob, tmp, lang, formats = argv
    handler = _Records()
    root = logging.getLogger("planner")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    with open(blob, "rb") as fh:  # our own pickle, written a moment ago by our caller
        result = pickle.load(fh)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_part(result, Path(tmp), lang=lang, formats=formats.split(","))  # type: ignore[arg-type]
    for w in caught:
        handler.records.append(("py.warnings", logging.WARNING, f"{w.category.__name__}: {w.message}"))
    for rec in handler.records:
        print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
