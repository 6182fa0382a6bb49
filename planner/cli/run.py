"""``planner run``, ``planner audit`` and ``planner validate``: the commands on one scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from planner.cli.console import console, fail, out_console, progress, setup_logging
from planner.errors import PlannerError, Problem

__all__ = ["audit", "run", "validate"]


def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file (see scenarios/demo.yaml).")],
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: the scenario's outputs.folder)."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Report and map language: zh (default) or en.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no table: for scripts.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rebuild road networks and coverage instead of reusing the cache."),
    ] = False,
) -> None:
    """Run a scenario end to end: audit, plan (integer program), map, report and files.

    Writes summary.json, audit.csv, village_gaps.csv, proposals.csv, results.gpkg, results.xlsx,
    map.html and report.html into the output folder, atomically (a failed run leaves nothing behind).
    """
    from planner.run import run_scenario
    from planner.run.checks import check_scenario

    setup_logging(verbose, quiet)
    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    try:
        with progress(quiet) as stage:
            with stage("inputs"):
                checked = check_scenario(scenario, out=out, command="run")
            _tell(checked.notes, quiet)
            checked.raise_if_failed()
            assert checked.scenario is not None and checked.out_dir is not None
            sc, target = checked.scenario, checked.out_dir
            if lang is not None:
                sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"language": lang})})
            result = run_scenario(sc, out_dir=target, stage=stage, use_cache=not no_cache, checked=checked)
    except PlannerError as exc:
        raise fail(exc) from exc
    if not quiet:
        from planner.outputs import headline_table

        out_console.print(headline_table(result.summary, lang=sc.outputs.language))
        cache = result.summary.get("cache", {})
        if cache.get("networks_reused") or cache.get("coverage_matrices_reused"):
            out_console.print(
                "reused from the cache 使用缓存: road networks "
                f"{'yes' if cache['networks_reused'] else 'no'}, "
                f"{cache['coverage_matrices_reused']} coverage matrices ({escape(str(cache['folder']))})"
            )
        out_console.print(f"outputs written to [bold]{target}[/]")


def audit(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    *,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write audit.csv and village_gaps.csv here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Audit the existing network against the standards, fast, without optimisation."""
    from planner.run import audit_scenario
    from planner.run.checks import check_scenario

    setup_logging(verbose, quiet)
    try:
        with progress(quiet) as stage:
            with stage("inputs"):
                checked = check_scenario(scenario, out=out, command="audit")
            _tell(checked.notes, quiet)
            checked.raise_if_failed()
            assert checked.scenario is not None
            result, _summary = audit_scenario(checked.scenario, stage=stage, checked=checked)
    except PlannerError as exc:
        raise fail(exc) from exc
    table = result.table
    failed = table[table["passed"].astype("boolean").eq(False).fillna(False).to_numpy(dtype=bool)]
    if out is not None:
        from planner.outputs import write_audit_tables

        try:
            write_audit_tables(result, out)
        except PlannerError as exc:
            raise fail(exc) from exc
        out_console.print(f"audit written to [bold]{out}[/]")
    if not quiet:
        out_console.print(
            f"{len(table)} checks, {len(failed)} failed ({', '.join(sorted(set(failed['standard_id'])))})"
            if len(failed)
            else f"{len(table)} checks, all passed"
        )


def validate(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file to check.")],
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The output folder to check (default: outputs.folder)."),
    ] = None,
) -> None:
    """Check a scenario without running it: the file, its profile, every input file's contents (read
    as the run reads them) and the output folder. Reports every problem of every file at once,
    grouped by file (line, field, what is expected, the fix).

    Exits 0 when the scenario can run and 2 when it has problems.
    """
    from planner.errors import CheckError
    from planner.run.checks import check_scenario

    setup_logging(False, True)
    checked = check_scenario(scenario, out=out, command="validate")
    _tell(checked.notes, False)
    if checked.ok:
        out_console.print(
            f"[green]ok[/]: {escape(str(scenario))} is valid and every input file reads "
            f"(checked in {checked.seconds:.1f} s)"
        )
        return
    error = CheckError(checked.problems, seconds=checked.seconds)
    console.print("[bold red]error[/]: " + escape(str(error)), highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _tell(notes: tuple[Problem, ...], quiet: bool) -> None:
    """Print what the checks tell without stopping (repairs, year targets, folders to create)."""
    if quiet or not notes:
        return
    for note in notes:
        console.print("[yellow]note[/]: " + escape(str(note)), highlight=False, soft_wrap=True)
