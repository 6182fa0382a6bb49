"""``planner batch``: the command (registered in :mod:`planner.cli.app` with ``app.command()(batch)``).

Kept apart from ``cli.py`` so the batch machinery (Dask) is imported only when the command runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from planner.batch import BatchProgress, BatchResult, ClusterInfo
    from planner.batch.spec import Lang


def batch(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="A batch YAML file (template + units, or a list of scenarios), or scenario files."
        ),
    ],
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Batch output folder (default: the batch file's outputs.folder)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, help="Local worker processes (default: one per core)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    memory_limit: Annotated[
        str, typer.Option("--memory-limit", help="Per local worker, e.g. 4GB (default: memory / workers).")
    ] = "auto",
    force: Annotated[
        bool, typer.Option("--force", help="Run every unit, even those whose outputs are up to date.")
    ] = False,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Batch report and map language: zh or en.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the units and their scenario files, run nothing.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no table: for scripts.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Run many scenarios — every county of a province, or a list of scenario files — on Dask.

    Each unit runs as a Dask task on a local cluster (one worker process per core) or on the
    cluster at --scheduler. A failed unit is recorded with its error and does not stop the others;
    a re-run skips units whose inputs and settings are unchanged and whose outputs are complete.
    Writes batch_summary.csv/.json, batch_results.gpkg, batch_report.html and batch_map.html next
    to units/<unit>/ (each unit's own outputs). Exits 1 when any unit failed, 2 for a bad batch file.
    """
    from planner.batch import plan_batch, run_batch
    from planner.cli.console import console, fail, out_console, setup_logging
    from planner.errors import PlannerError

    setup_logging(verbose, quiet)
    import distributed  # noqa: F401 - imported first: its import resets the levels of its loggers

    for name in ("distributed", "tornado", "bokeh"):  # the cluster's own chatter; units log to <out>/logs/
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.ERROR)
    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    try:
        language: Lang | None = "en" if lang == "en" else "zh" if lang == "zh" else None
        plan = plan_batch(files, out_dir=out, language=language, force=force)
    except PlannerError as exc:
        raise fail(exc) from exc
    if dry_run:
        for job in plan.jobs:
            out_console.print(f"{job.unit.id}\t{job.unit.name}\t{job.scenario_path}\t{job.out_dir}")
        out_console.print(f"{len(plan.jobs)} units → {plan.out_dir}")
        return
    with _BatchProgress(console, total=len(plan.jobs), quiet=quiet) as progress:
        result = run_batch(
            plan,
            scheduler=scheduler,
            n_workers=workers,
            memory_limit=memory_limit,
            on_start=progress.started,
            on_progress=progress.update,
        )
    if not quiet:
        out_console.print(_result_table(result))
        for kind, path in result.files.items():
            out_console.print(f"{kind}: [bold]{path}[/]")
    if result.counts()["failed"]:
        raise typer.Exit(code=1)


class _BatchProgress:
    """A rich progress bar over the units: done / skipped / failed / running, failures as they come."""

    def __init__(self, console: Any, *, total: int, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.quiet = quiet
        self.progress = Progress(
            TextColumn("[bold]batch 批量[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        )
        self.task = self.progress.add_task("starting the cluster …", total=total)

    def __enter__(self) -> _BatchProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def started(self, info: ClusterInfo) -> None:
        """Print the cluster and its dashboard address."""
        if self.quiet:
            return
        kind = "local cluster" if info.local else "cluster"
        self.console.print(f"Dask {kind} {info.scheduler}: {info.workers} workers")
        dash = info.dashboard or "not available (pip install bokeh for the Dask dashboard)"
        self.console.print(f"dashboard 监控面板: {dash}")
        self.progress.update(self.task, description="running …")

    def update(self, state: BatchProgress) -> None:
        """Advance the bar; print a failed unit's first error line."""
        text = (
            f"[green]{state.done} done[/] · {state.skipped} unchanged · "
            f"[red]{state.failed} failed[/] · {state.running} running"
        )
        self.progress.update(self.task, completed=state.finished, description=text)
        last = state.last
        if last is not None and last.status == "failed" and not self.quiet:
            lines = (last.error or "").splitlines()[1:] or [""]
            line = next((x[2:] for x in lines if x.startswith("- ")), lines[0])  # the first problem
            from rich.markup import escape

            self.progress.console.print(
                f"[red]failed[/] {escape(f'{last.unit_id} {last.unit_name}: {line}')}", highlight=False
            )


def _result_table(result: BatchResult) -> Any:
    from rich.table import Table

    from planner.outputs import i18n

    lang = result.plan.language
    table = Table(title=f"{result.plan.title}: {result.counts()}", show_lines=False)
    for col in (
        "#",
        "unit",
        "name",
        "population",
        "gap before",
        "gap after",
        "proposed",
        "cost",
        "status",
        "s",
    ):
        table.add_column(col, justify="right" if col not in ("unit", "name", "status") else "left")
    rows = sorted(result.rows, key=lambda r: (r["gap_rank"] is None, r["gap_rank"] or 0))
    for r in rows:
        table.add_row(
            "" if r["gap_rank"] is None else str(r["gap_rank"]),
            str(r["unit"]),
            str(r["unit_name"]),
            i18n.fmt_number(r["population"], lang),
            i18n.fmt_pct(r["gap_before"], lang),
            i18n.fmt_pct(r["gap_after"], lang),
            "" if r["proposed_total"] is None else str(r["proposed_total"]),
            i18n.fmt_yuan(r["cost_total"], lang),
            {"done": "[green]done[/]", "skipped": "unchanged", "failed": "[red]failed[/]"}[r["status"]],
            f"{r['seconds']:.1f}",
        )
    return table
