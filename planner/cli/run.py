"""``planner run``, ``planner audit`` and ``planner validate``: the commands on one scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from planner.cli.console import AUDIT_STAGES, console, fail, out_console, progress, setup_logging
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
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Show INFO lines (-vv: DEBUG lines too).")
    ] = 0,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rebuild road networks and coverage instead of reusing the cache."),
    ] = False,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Do not print report.pdf (faster).")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the plan editable (planner serve OUT) until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port of --serve (0: any free one).")] = 8765,
) -> None:
    """Run a scenario end to end: audit, plan (integer program), map, report and files.

    Writes summary.json, audit.csv, village_gaps.csv, proposals.csv, results.gpkg, results.xlsx,
    map.html, report.html and report.pdf (with Chromium; --no-pdf to skip) into the output folder,
    atomically (a failed run leaves nothing behind). Quiet by default: a progress bar, the warnings
    once, the headline table and the paths of the report and map; -v shows the INFO lines.
    """
    from planner.run.checks import check_scenario
    from planner.scenario import language_of

    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    warnings = setup_logging(verbose, quiet, group=True)
    run_lang = sc_lang = language_of(scenario)
    if lang is not None:
        run_lang = "en" if lang == "en" else "zh"
    try:
        with progress(quiet, lang=run_lang) as stage:
            with stage("inputs"):  # the checks read every input: nothing is computed when one fails
                checked = check_scenario(scenario, out=out, command="run")
            checked.raise_if_failed()
            assert checked.scenario is not None and checked.out_dir is not None
            sc, target = checked.scenario, checked.out_dir
            if run_lang != sc_lang:
                sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"language": run_lang})})
            result = _run(sc, target, stage=stage, use_cache=not no_cache, pdf=not no_pdf, checked=checked)
    except PlannerError as exc:
        raise fail(exc) from exc
    finally:
        if warnings is not None:
            warnings.flush_to(console, run_lang)
    if not quiet:
        from planner.outputs import headline_table

        out_console.print(headline_table(result.summary, lang=run_lang))
        _print_cache(result.summary.get("cache") or {}, run_lang)
    _print_paths(target, run_lang)
    if serve:
        from planner.cli.serve import serve_folder

        serve_folder(target, port=port, lang=run_lang, quiet=quiet)


def _run(sc: Any, target: Path, *, stage: Any, use_cache: bool, pdf: bool, checked: Any) -> Any:
    """The pipeline, writing the outputs; without the PDF the CLI writes them (``pdf=False``)."""
    from planner.run import run_scenario

    if pdf:
        return run_scenario(sc, out_dir=target, stage=stage, use_cache=use_cache, checked=checked)
    from planner.outputs import write_outputs

    result = run_scenario(sc, stage=stage, use_cache=use_cache, write=False, checked=checked)
    with stage("outputs"):
        write_outputs(result, target, lang=sc.outputs.language, formats=sc.outputs.formats, pdf=False)
    return result


def _print_cache(cache: dict[str, Any], lang: str) -> None:
    networks, matrices = bool(cache.get("networks_reused")), int(cache.get("coverage_matrices_reused") or 0)
    if not (networks or matrices):
        return
    if lang == "zh":
        parts = ["路网"] * networks + [f"{matrices} 个覆盖矩阵"] * bool(matrices)
        out_console.print(f"已使用缓存：{'、'.join(parts)}（--no-cache 可重新计算）", highlight=False)
    else:
        parts = ["road networks"] * networks + [f"{matrices} coverage matrices"] * bool(matrices)
        out_console.print(
            f"Reused from the cache: {', '.join(parts)} (--no-cache to rebuild)", highlight=False
        )


def _print_paths(target: Path, lang: str) -> None:
    """The last lines: where the report, its printable copy and the map are (the files written)."""
    names = {
        "report.html": ("报告", "Report"),
        "report.pdf": ("打印版", "Printable report"),
        "map.html": ("地图", "Map"),
    }
    for name, (zh, en) in names.items():
        path = target / name
        if path.is_file():
            label = zh if lang == "zh" else en
            out_console.print(
                f"{label}{'：' if lang == 'zh' else ': '}[bold]{escape(str(path.resolve()))}[/]"
            )
    label = "全部输出" if lang == "zh" else "All outputs"
    out_console.print(
        f"{label}{'：' if lang == 'zh' else ': '}{escape(str(target.resolve()))}", highlight=False
    )


def audit(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    *,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write audit.csv and village_gaps.csv here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Show INFO lines (-vv: DEBUG lines too).")
    ] = 0,
) -> None:
    """Audit the existing network against the standards, fast, without optimisation."""
    from planner.run import audit_scenario
    from planner.run.checks import check_scenario
    from planner.scenario import language_of

    warnings = setup_logging(verbose, quiet, group=True)
    run_lang = language_of(scenario)
    try:
        with progress(quiet, lang=run_lang, stages=AUDIT_STAGES) as stage:
            with stage("inputs"):  # the checks read every input: nothing is computed when one fails
                checked = check_scenario(scenario, out=out, command="audit")
            checked.raise_if_failed()
            assert checked.scenario is not None
            result, _summary = audit_scenario(checked.scenario, stage=stage, checked=checked)
    except PlannerError as exc:
        raise fail(exc) from exc
    finally:
        if warnings is not None:
            warnings.flush_to(console, run_lang)
    from planner.audit import failing

    table = result.table
    failed = table[failing(table)]  # the judged rows (a standard's units and totals) that fail
    if out is not None:
        from planner.outputs import write_audit_tables

        try:
            write_audit_tables(result, out, lang=run_lang)
        except PlannerError as exc:
            raise fail(exc) from exc
        out_console.print(
            ("核查结果已写入 " if run_lang == "zh" else "audit written to ") + f"[bold]{out}[/]"
        )
    if not quiet:
        ids = sorted(set(failed["standard_id"].astype(str)))
        if run_lang == "zh":
            text = f"核查 {len(table)} 行；" + (
                f"{len(failed)} 行未达标，涉及标准：{'、'.join(ids)}" if ids else "各项标准均达标"
            )
        else:
            text = f"{len(table)} rows checked; " + (
                f"{len(failed)} failing, standards: {', '.join(ids)}" if ids else "every standard met"
            )
        out_console.print(text, highlight=False)


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
    grouped by file (line, field, what is expected, the fix), and what it repaired or will assume.

    Exits 0 when the scenario can run and 2 when it has problems.
    """
    import logging

    from planner.errors import CheckError
    from planner.run.checks import check_scenario

    logging.disable(logging.WARNING)  # what the readers log is in the notes and problems below
    try:
        checked = check_scenario(scenario, out=out, command="validate")
    finally:
        logging.disable(logging.NOTSET)
    for note in checked.notes:
        console.print("[yellow]note[/]: " + escape(str(note)), highlight=False, soft_wrap=True)
    if checked.ok:
        out_console.print(
            f"[green]ok[/]: {escape(str(scenario))} is valid and every input file reads "
            f"(checked in {checked.seconds:.1f} s)"
        )
        return
    error = CheckError(checked.problems, seconds=checked.seconds)
    console.print("[bold red]error[/]: " + escape(str(error)), highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)
