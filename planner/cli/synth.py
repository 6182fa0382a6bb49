"""``planner synth``: a synthetic county and a ready scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from planner.cli.console import fail, out_console
from planner.errors import PlannerError

__all__ = ["synth"]


def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic county into.")],
    *,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same county.")] = 7,
    villages: Annotated[int | None, typer.Option(help="Number of administrative villages.")] = None,
    townships: Annotated[
        int | None,
        typer.Option(help="Number of towns and townships (镇/乡), any number (see --townships-per-county)."),
    ] = None,
    townships_per_county: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=100,
            help="At most this many townships per county code (default 100, the room of the NBS 镇 codes); "
            "more townships make several synthetic counties with consecutive codes.",
        ),
    ] = None,
    population: Annotated[
        int | None,
        typer.Option(
            min=1, help="Total people of the area: every settlement, the raster and households scaled to it."
        ),
    ] = None,
    extent_km: Annotated[float | None, typer.Option(help="Approximate width of the county in km.")] = None,
    benchmark: Annotated[
        bool,
        typer.Option("--benchmark", help="Benchmark size (~100k road nodes, ~20k demand, ~2k candidates)."),
    ] = False,
) -> None:
    """Generate a synthetic Chinese county (boundary, townships, population raster, roads, villages,
    facilities, candidates). Deterministic by seed; the demo under data/ was made with the defaults."""
    import dataclasses

    from planner.synth import SynthParams, synthesize_county, write_scenario

    params = SynthParams.benchmark(seed=seed) if benchmark else SynthParams(seed=seed)
    given = {
        "n_villages": villages,
        "n_townships": townships,
        "townships_per_county": townships_per_county,
        "total_population": population,
        "extent_km": extent_km,
    }
    updates: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    try:
        params = dataclasses.replace(params, **updates)
        written = synthesize_county(params, out)
        scenario_path = write_scenario(out, params)
    except PlannerError as exc:
        raise fail(exc) from exc
    counts = ", ".join(f"{k} {v:,}" for k, v in written.counts.items())
    out_console.print(f"synthetic county written to [bold]{escape(str(out))}[/]: {counts}")
    out_console.print(f"run it with: planner run {escape(str(scenario_path))}")
