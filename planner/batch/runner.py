"""Running a batch's units as Dask tasks (``dask.distributed``) and merging what they wrote.

By default a :class:`distributed.LocalCluster` sized to the machine: one worker *process* per core
with one thread each. The stages are Python-heavy (GIL-bound), so processes give real parallelism,
and a unit that crashes or runs out of memory takes down only its own worker, which the nanny
restarts. ``scheduler="tcp://host:8786"`` uses an existing cluster instead (``dask scheduler`` /
``dask worker``, dask-jobqueue, dask-kubernetes): the workers need the planner installed and must see
the batch's input and output folders at the same paths (a shared file system).

Units are submitted largest input first (longest-processing-time-first keeps both workers busy
to the end); each task returns a :class:`~planner.batch.task.UnitOutcome`, never an exception.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.batch.spec import BatchPlan, UnitJob
from planner.batch.task import UnitOutcome, run_unit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterInfo:
    """The cluster a batch runs on: scheduler address, dashboard link and worker count."""

    scheduler: str
    dashboard: str | None
    workers: int
    threads_per_worker: int | None
    local: bool


@dataclass(frozen=True)
class BatchProgress:
    """Counts across the batch, sent to the progress callback after every change.

    ``last`` is the unit that has just finished (None when only the running count changed).
    """

    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    running: int = 0
    last: UnitOutcome | None = None

    @property
    def finished(self) -> int:
        """Units finished in any way."""
        return self.done + self.skipped + self.failed


@dataclass(frozen=True)
class BatchResult:
    """What a batch produced: one outcome per unit, the merged summary rows and the files written."""

    plan: BatchPlan
    outcomes: tuple[UnitOutcome, ...]
    rows: list[dict[str, Any]]
    files: dict[str, Path] = field(default_factory=dict)
    cluster: ClusterInfo | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """Units per status."""
        out = {"done": 0, "skipped": 0, "failed": 0}
        for o in self.outcomes:
            out[o.status] += 1
        return out


ProgressCallback = Callable[[BatchProgress], None]
StartCallback = Callable[[ClusterInfo], None]


def default_workers() -> int:
    """Worker processes for a local cluster: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _dashboard_link(client: Any) -> str | None:
    import importlib.util

    if importlib.util.find_spec("bokeh") is None:  # distributed serves no dashboard without bokeh
        return None
    with contextlib.suppress(Exception):
        return str(client.dashboard_link)
    return None


def client_info(client: Any, *, address: str, local: bool) -> ClusterInfo:
    """What a client's cluster looks like now (workers, threads per worker, dashboard)."""
    workers = client.scheduler_info().get("workers", {})
    threads = {w.get("nthreads") for w in workers.values()}
    return ClusterInfo(
        scheduler=address,
        dashboard=_dashboard_link(client),
        workers=len(workers),
        threads_per_worker=threads.pop() if len(threads) == 1 else None,
        local=local,
    )


@contextlib.contextmanager
def dask_client(
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    memory_limit: str | float = "auto",
    dashboard_address: str | None = ":8787",
) -> Iterator[tuple[Any, ClusterInfo]]:
    """A Dask client: to ``scheduler`` if given, else to a new local cluster closed on exit.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); the caller's cluster is left running.
    n_workers
        Local cluster size; default :func:`default_workers`.
    processes
        Local workers as processes (default, real parallelism) or threads in this process.
    memory_limit
        Per-worker memory limit of the local cluster (``"auto"``: the machine's memory / workers).
    dashboard_address
        Where the local dashboard listens (``":8787"``, another free port when taken); None for none.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = Client(scheduler, timeout="30s")
        try:
            yield client, client_info(client, address=scheduler, local=False)
        finally:
            client.close()
        return
    n = n_workers or default_workers()
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        memory_limit=memory_limit,
        dashboard_address=dashboard_address,
        silence_logs=logging.WARNING,
    )
    try:
        client = Client(cluster)
        try:
            yield (
                client,
                ClusterInfo(
                    scheduler=str(cluster.scheduler_address),
                    dashboard=_dashboard_link(client),
                    workers=n,
                    threads_per_worker=1,
                    local=True,
                ),
            )
        finally:
            client.close()
    finally:
        cluster.close()


def _lost(job: UnitJob, exc: BaseException) -> UnitOutcome:
    """The outcome of a task that did not return (its worker died, or it was cancelled)."""
    name = type(exc).__name__
    fix = (
        "the worker process died while running this unit, most often from running out of memory; "
        "run it alone (planner run) or give workers more memory (--memory-limit, fewer --workers)"
    )
    return UnitOutcome(
        unit_id=job.unit.id,
        unit_name=job.unit.name,
        code=job.unit.code,
        status="failed",
        out_dir=str(job.out_dir),
        error=f"unit {job.unit.id} ({job.unit.name}): {name}: {exc}. {fix}",
        error_type=name,
    )


def run_jobs(
    client: Any, jobs: Sequence[UnitJob], *, on_progress: ProgressCallback | None = None, poll_s: float = 0.5
) -> list[UnitOutcome]:
    """Run ``jobs`` on ``client``'s cluster and return their outcomes in the order of ``jobs``.

    Parameters
    ----------
    client
        A :class:`distributed.Client`.
    jobs
        The units; they are submitted largest input first (Dask ``priority``).
    on_progress
        Called with the counts after every finished unit and whenever the running count changes.
    poll_s
        How often the running count is refreshed.
    """
    from distributed import wait

    token = uuid.uuid4().hex[:8]  # keys unique per call: two batches may share a cluster
    futures = {}
    for job in jobs:
        future = client.submit(
            run_unit,
            job,
            key=f"planner-unit-{job.unit.id}-{token}",
            pure=False,
            priority=int(job.input_bytes // 1024),
            retries=0,
        )
        futures[future] = job
    results: dict[str, UnitOutcome] = {}
    counts = {"done": 0, "skipped": 0, "failed": 0}
    pending = set(futures)
    running = -1
    while pending:
        try:
            finished, pending = wait(list(pending), timeout=poll_s, return_when="FIRST_COMPLETED")
        except TimeoutError:  # nothing finished within poll_s: refresh the running count only
            finished = set()
        now_running = _running(client, {f.key for f in pending})
        for future in finished:
            job = futures[future]
            try:
                outcome = future.result() if future.status == "finished" else _lost(job, future.exception())
            except Exception as exc:
                outcome = _lost(job, exc)
            results[job.unit.id] = outcome
            counts[outcome.status] += 1
            if on_progress is not None:  # once per finished unit, so none is missed
                on_progress(_progress(len(jobs), counts, now_running, outcome))
        if on_progress is not None and not finished and now_running != running:
            on_progress(_progress(len(jobs), counts, now_running, None))
        running = now_running
    return [results[j.unit.id] for j in jobs]


def _progress(total: int, counts: dict[str, int], running: int, last: UnitOutcome | None) -> BatchProgress:
    return BatchProgress(
        total=total,
        done=counts["done"],
        skipped=counts["skipped"],
        failed=counts["failed"],
        running=running,
        last=last,
    )


def _running(client: Any, keys: set[str]) -> int:
    """How many of ``keys`` are being processed by a worker now."""
    if not keys:
        return 0
    try:
        processing = client.processing()
    except Exception:
        return 0
    return sum(1 for tasks in processing.values() for k in tasks if k in keys)


def run_batch(
    plan: BatchPlan,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    processes: bool = True,
    memory_limit: str | float = "auto",
    on_start: StartCallback | None = None,
    on_progress: ProgressCallback | None = None,
    merge: bool = True,
    client: Any = None,
) -> BatchResult:
    """Run every unit of ``plan`` on Dask, then write the merged summary, GeoPackage, report and map.

    Parameters
    ----------
    plan
        From :func:`planner.batch.plan_batch`.
    scheduler, n_workers, processes, memory_limit
        See :func:`dask_client`.
    on_start
        Called once the cluster is up (with its scheduler and dashboard addresses).
    on_progress
        Called as units finish (see :func:`run_jobs`).
    client
        An existing :class:`distributed.Client` to run on (the caller keeps it open); when given,
        ``scheduler``, ``n_workers``, ``processes`` and ``memory_limit`` are not used.
    merge
        Write the merged outputs (``batch_summary.csv/json``, ``batch_results.gpkg``,
        ``batch_report.html``, ``batch_map.html``) into ``plan.out_dir``.

    Returns
    -------
    BatchResult
        The outcome of every unit; a failed unit is recorded there and in the summary, never raised.
    """
    from planner.batch.merge import summary_rows

    started = time.perf_counter()
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if client is None:
            client, info = stack.enter_context(
                dask_client(
                    scheduler=scheduler, n_workers=n_workers, processes=processes, memory_limit=memory_limit
                )
            )
        else:
            info = client_info(client, address=str(client.scheduler.address), local=False)
        log.info(
            "batch: %d units on %s (%d workers), dashboard %s",
            len(plan.jobs),
            info.scheduler,
            info.workers,
            info.dashboard,
        )
        if on_start is not None:
            on_start(info)
        outcomes = run_jobs(client, plan.jobs, on_progress=on_progress)
    rows = summary_rows(plan, outcomes)
    seconds = round(time.perf_counter() - started, 3)
    files = write_merged(plan, rows, seconds=seconds) if merge else {}
    result = BatchResult(
        plan=plan, outcomes=tuple(outcomes), rows=rows, files=files, cluster=info, seconds=seconds
    )
    log.info("batch: %s in %.1f s", result.counts(), seconds)
    return result


def write_merged(plan: BatchPlan, rows: Sequence[Mapping[str, Any]], *, seconds: float) -> dict[str, Path]:
    """Write every merged output of the batch; returns ``{kind: path}``."""
    from planner.batch.merge import merge_gpkg, write_summary_tables
    from planner.batch.report import write_batch_map, write_batch_report

    files = write_summary_tables(plan, rows, seconds=seconds)
    gpkg = merge_gpkg(plan, rows, plan.out_dir / "batch_results.gpkg")
    if gpkg is not None:
        files["gpkg"] = gpkg
    files["report"] = write_batch_report(plan, rows, plan.out_dir / "batch_report.html", seconds=seconds)
    files["map"] = write_batch_map(plan, rows, plan.out_dir / "batch_map.html")
    log.info("batch: merged outputs in %s", plan.out_dir)
    return files
