"""``planner compare``: two plans side by side (two output folders, or two scenarios run first)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from planner.cli.console import fail, out_console, progress, setup_logging
from planner.errors import PlannerError

__all__ = ["compare"]


def compare(
    a: Annotated[Path, typer.Argument(help="Plan A: a run's output folder, or a scenario YAML to run.")],
    b: Annotated[Path, typer.Argument(help="Plan B: a run's output folder, or a scenario YAML to run.")],
    *,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the comparison into.")],
    lang: Annotated[str | None, typer.Option("--lang", help="Report language: zh (default) or en.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no table: for scripts.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Compare two plans: sites only in A, only in B and in both; the standards each meets; cost and
    coverage per township; the villages whose status changes.

    Writes compare.html (the report), compare_map.html (the two maps side by side), compare.json and
    the tables as CSV into --out, atomically. A scenario is run first into OUT/a and OUT/b.
    """
    from planner.compare import compare_paths

    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    setup_logging(verbose, quiet)
    try:
        with progress(quiet) as stage:
            result = compare_paths(a, b, out_dir=out, lang="en" if lang == "en" else "zh", stage=stage)
    except PlannerError as exc:
        raise fail(exc) from exc
    if not quiet:
        figures = result.summary
        sites = figures["sites"]
        out_console.print(
            f"sites: only in A {sites['only_a']}, only in B {sites['only_b']}, in both {sites['both']}; "
            f"standards met: A {figures['standards']['met_a']}, B {figures['standards']['met_b']} "
            f"of {figures['standards']['rows']}; villages changing status: {figures['villages']['changed']}",
            highlight=False,
        )
        out_console.print(f"comparison written to [bold]{escape(str(out))}[/]")
