"""``planner run``, ``planner audit`` and ``planner validate``: the commands on one scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from planner.cli.console import console, fail, out_console, progress, setup_logging
from planner.errors import PlannerError

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
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the plan editable (planner serve OUT) until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port of --serve (0: any free one).")] = 8765,
) -> None:
    """Run a scenario end to end: audit, plan (integer program), map, report and files.

    Writes summary.json, audit.csv, village_gaps.csv, proposals.csv, results.gpkg, results.xlsx,
    map.html and report.html into the output folder, atomically (a failed run leaves nothing behind).
    """
    from planner.run import run_scenario
    from planner.scenario import load_scenario

    setup_logging(verbose, quiet)
    try:
        sc = load_scenario(scenario)
        if lang is not None:
            if lang not in ("zh", "en"):
                raise typer.BadParameter("--lang must be zh or en")
            sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"language": lang})})
        target = out or sc.outputs.folder or Path("out") / sc.name
        with progress(quiet) as stage:
            result = run_scenario(sc, out_dir=target, stage=stage, use_cache=not no_cache)
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
    if serve:
        from planner.cli.serve import serve_folder

        serve_folder(target, port=port, lang=sc.outputs.language, quiet=quiet)


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
    from planner.scenario import load_scenario

    setup_logging(verbose, quiet)
    try:
        sc = load_scenario(scenario)
        with progress(quiet) as stage:
            result, _summary = audit_scenario(sc, stage=stage)
    except PlannerError as exc:
        raise fail(exc) from exc
    table = result.table
    failed = table[table["passed"].astype("boolean").eq(False).fillna(False).to_numpy(dtype=bool)]
    if out is not None:
        from planner.outputs import write_audit_tables

        write_audit_tables(result, out)
        out_console.print(f"audit written to [bold]{out}[/]")
    if not quiet:
        out_console.print(
            f"{len(table)} checks, {len(failed)} failed ({', '.join(sorted(set(failed['standard_id'])))})"
            if len(failed)
            else f"{len(table)} checks, all passed"
        )


def validate(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file to check.")],
) -> None:
    """Check a scenario file and report every problem at once (file, line, field, what is expected).

    Exits 0 when the scenario is valid and 2 when it has problems.
    """
    from planner.scenario import validate_scenario

    problems = validate_scenario(scenario)
    if not problems:
        out_console.print(f"[green]ok[/]: {scenario} is a valid scenario")
        return
    console.print(f"[bold red]{len(problems)} problem(s)[/] in {scenario}:")
    for problem in problems:
        console.print("  - " + escape(str(problem)), highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)
