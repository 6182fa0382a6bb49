"""The ``planner`` command line. The only module that reads argv, configures logging and prints."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from planner import __version__
from planner.errors import PlannerError

app = typer.Typer(
    name="planner",
    help=(
        "快递服务设施覆盖规划工具 — audit a county's express-delivery network against the service standards "
        "(1 km / 10 min walk in cities, 3 km / 15–30 min by vehicle in townships, one outlet per township, a "
        "station in every administrative village …) and plan new outlets, lockers and village stations with "
        "an exact integer program."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()

_STAGE_NAMES = {
    "inputs": "reading inputs 读取数据",
    "classify": "classing demand 划分城乡",
    "network": "building road networks 构建路网",
    "coverage": "measuring coverage 计算覆盖",
    "audit": "auditing standards 标准核查",
    "optimise": "optimising the plan 优化选址",
    "coverage_after": "measuring the plan 评估方案",
    "outputs": "writing outputs 输出结果",
}


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )
    for noisy in ("matplotlib", "fiona", "rasterio", "pyogrio", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A stage callback: a spinner with the elapsed time for every stage (nothing when quiet)."""
    if quiet:

        @contextlib.contextmanager
        def silent(_: str) -> Iterator[None]:
            yield

        yield silent
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:

        @contextlib.contextmanager
        def stage(name: str) -> Iterator[None]:
            task = progress.add_task(_STAGE_NAMES.get(name, name), total=1)
            try:
                yield
            finally:
                progress.update(task, completed=1)

        yield stage


def _fail(exc: PlannerError) -> typer.Exit:
    console.print("[bold red]error[/]: " + escape(str(exc)), highlight=False, soft_wrap=True)
    return typer.Exit(code=exc.exit_code)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"planner {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """快递服务设施覆盖规划工具 (planner)."""


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file (see scenarios/demo.yaml).")],
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
    from planner.pipeline import run_scenario
    from planner.scenario import load_scenario

    _setup_logging(verbose, quiet)
    try:
        sc = load_scenario(scenario)
        if lang is not None:
            if lang not in ("zh", "en"):
                raise typer.BadParameter("--lang must be zh or en")
            sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"language": lang})})
        target = out or sc.outputs.folder or Path("out") / sc.name
        with _progress(quiet) as stage:
            result = run_scenario(sc, out_dir=target, stage=stage, use_cache=not no_cache)
    except PlannerError as exc:
        raise _fail(exc) from exc
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


@app.command()
def audit(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write audit.csv and village_gaps.csv here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Audit the existing network against the standards, fast, without optimisation."""
    from planner.pipeline import audit_scenario
    from planner.scenario import load_scenario

    _setup_logging(verbose, quiet)
    try:
        sc = load_scenario(scenario)
        with _progress(quiet) as stage:
            result, _summary = audit_scenario(sc, stage=stage)
    except PlannerError as exc:
        raise _fail(exc) from exc
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


@app.command()
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


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic county into.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same county.")] = 7,
    villages: Annotated[int | None, typer.Option(help="Number of administrative villages.")] = None,
    townships: Annotated[int | None, typer.Option(help="Number of townships (乡镇).")] = None,
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
    updates: dict[str, Any] = {}
    if villages is not None:
        updates["n_villages"] = villages
    if townships is not None:
        updates["n_townships"] = townships
    if extent_km is not None:
        updates["extent_km"] = extent_km
    try:
        params = dataclasses.replace(params, **updates)
        written = synthesize_county(params, out)
        scenario_path = write_scenario(out, params)
    except PlannerError as exc:
        raise _fail(exc) from exc
    counts = ", ".join(f"{k} {v:,}" for k, v in written.counts.items())
    out_console.print(f"synthetic county written to [bold]{escape(str(out))}[/]: {counts}")
    out_console.print(f"run it with: planner run {escape(str(scenario_path))}")


def _register_optional_commands() -> None:
    """Commands that live in their own modules (``fetch``, ``batch``), registered on the app."""
    from planner.fetch_cli import fetch

    app.command()(fetch)
    try:
        from planner.batch_cli import batch
    except ImportError:  # the batch command needs dask.distributed
        return
    app.command()(batch)


_register_optional_commands()


def entrypoint() -> None:  # pragma: no cover - console script shim
    """Run the app (used by ``python -m planner``)."""
    app(prog_name="planner")
    sys.exit(0)
