"""One unit of a batch, as a Dask task: run its scenario, or skip it when its outputs are up to date.

:func:`run_unit` never raises for a problem of the unit itself: a bad scenario, unreadable inputs or
a crash in a stage come back as a :class:`UnitOutcome` with ``status="failed"`` and the error, so
one unit cannot stop the others. After a unit's outputs are written, a done-marker
(:data:`DONE_MARKER`) records the scenario hash (settings + input bytes + profile, see
:func:`planner.scenario.scenario_hash`), the output formats and every file with its size; a later
batch skips the unit while the hash is the same and every file is still there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from planner.batch.spec import UnitJob
from planner.errors import PlannerError

log = logging.getLogger(__name__)

#: The done-marker written into a unit's output folder once its outputs are complete.
DONE_MARKER = ".planner-batch-done.json"

Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class UnitOutcome:
    """What happened to one unit.

    ``status`` is ``done`` (ran now), ``skipped`` (outputs up to date) or ``failed`` (``error`` says
    why; ``error_type`` is the exception class). ``cpu_seconds`` is the CPU time the unit used
    (``time.process_time``; less than ``seconds`` when the machine is shared). ``peak_rss_mb`` is the
    peak resident memory of the worker process so far (Linux/macOS ``getrusage``), ``worker`` the
    Dask worker's address.
    """

    unit_id: str
    unit_name: str
    code: str | None
    status: Status
    out_dir: str
    seconds: float = 0.0
    scenario_hash: str | None = None
    error: str | None = None
    error_type: str | None = None
    worker: str | None = None
    pid: int | None = None
    peak_rss_mb: float | None = None
    cpu_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MB (None where the OS does not tell)."""
    try:
        import resource

        peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
    except (ImportError, OSError):  # Windows: no resource module
        try:
            import psutil

            info = psutil.Process().memory_info()
            return round(float(getattr(info, "peak_wset", info.rss)) / 2**20, 1)
        except Exception:
            return None


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):  # not running inside a Dask worker
        return None


def read_marker(out_dir: Path) -> dict[str, Any] | None:
    """The done-marker of a unit's output folder, or None when absent or unreadable."""
    try:
        data = json.loads((Path(out_dir) / DONE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def outputs_complete(out_dir: Path, digest: str, formats: tuple[str, ...]) -> bool:
    """Whether ``out_dir`` holds the complete outputs of a run with this hash and these formats."""
    marker = read_marker(out_dir)
    if marker is None or marker.get("scenario_hash") != digest:
        return False
    if sorted(marker.get("formats", [])) != sorted(formats):
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or "summary.json" not in files:
        return False
    for name, size in files.items():
        path = Path(out_dir) / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def write_marker(
    out_dir: Path, *, digest: str, formats: tuple[str, ...], unit_id: str, seconds: float
) -> Path:
    """Write the done-marker of a complete output folder (atomically, last)."""
    from planner import __version__

    out_dir = Path(out_dir)
    files = {
        p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file() and p.name != DONE_MARKER
    }
    marker = {
        "unit": unit_id,
        "scenario_hash": digest,
        "formats": list(formats),
        "files": files,
        "seconds": round(seconds, 3),
        "planner_version": __version__,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = out_dir / f"{DONE_MARKER}.tmp"
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(out_dir / DONE_MARKER)
    return out_dir / DONE_MARKER


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, PlannerError):
        return str(exc)
    tail = traceback.format_exception(type(exc), exc, exc.__traceback__)[-4:]
    return f"{type(exc).__name__}: {exc}\n" + "".join(tail).rstrip()


@contextlib.contextmanager
def _unit_log(job: UnitJob) -> Iterator[None]:
    """Send the planner's log records of this unit to ``job.log_file`` (not to the worker's stderr).

    A worker runs one unit at a time (one thread), so the ``planner`` logger can be redirected for
    the task's duration; its level and propagation are restored afterwards.
    """
    if job.log_file is None:
        yield
        return
    logger = logging.getLogger("planner")
    Path(job.log_file).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(job.log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(level)
        logger.propagate = propagate


def run_unit(job: UnitJob) -> UnitOutcome:
    """Run one unit (the Dask task). Never raises for the unit's own problems.

    Parameters
    ----------
    job
        The unit, its scenario file and its output folder.

    Returns
    -------
    UnitOutcome
        ``skipped`` when the done-marker's hash equals the scenario's and the files are all there
        (unless ``job.force``), ``done`` after a successful run, ``failed`` with the error otherwise.
        The unit's log goes to ``job.log_file`` when set.
    """
    from planner.run import run_scenario
    from planner.scenario import load_scenario, scenario_hash

    start, cpu_start = time.perf_counter(), time.process_time()
    unit = job.unit
    worker, pid = _worker_address(), os.getpid()
    digest: str | None = None

    def outcome(status: Status, **extra: Any) -> UnitOutcome:
        return UnitOutcome(
            unit_id=unit.id,
            unit_name=unit.name,
            code=unit.code,
            status=status,
            out_dir=str(job.out_dir),
            seconds=round(time.perf_counter() - start, 3),
            scenario_hash=digest,
            worker=worker,
            pid=pid,
            peak_rss_mb=peak_rss_mb(),
            cpu_seconds=round(time.process_time() - cpu_start, 3),
            **extra,
        )

    with _unit_log(job):
        try:
            scenario = load_scenario(job.scenario_path)
            digest = scenario_hash(scenario)
            formats = tuple(scenario.outputs.formats)
            if not job.force and outputs_complete(job.out_dir, digest, formats):
                log.info("batch: %s unchanged (%s), skipped", unit.id, digest)
                return outcome("skipped")
            log.info("batch: running %s (%s) from %s", unit.id, unit.name, job.scenario_path)
            run_scenario(scenario, out_dir=Path(job.out_dir), write=True)
            write_marker(
                Path(job.out_dir),
                digest=digest,
                formats=formats,
                unit_id=unit.id,
                seconds=time.perf_counter() - start,
            )
            return outcome("done")
        except Exception as exc:  # a unit's failure is recorded, never raised (isolation)
            log.error("batch: unit %s failed: %s", unit.id, _error_text(exc))
            error = f"unit {unit.id} ({unit.name}), scenario {job.scenario_path}:\n{_error_text(exc)}"
            if job.hint and isinstance(exc, PlannerError):
                error += f"\nNote: {job.hint}"
            if job.log_file is not None:
                error += f"\nLog: {job.log_file}"
            return outcome("failed", error=error, error_type=type(exc).__name__)
