"""``planner serve``: the run's map with the plan editable, in a local web server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from planner.cli.console import console, fail, out_console, progress, setup_logging
from planner.errors import PlannerError

__all__ = ["serve", "serve_folder"]


def serve_folder(
    out_dir: Path,
    *,
    port: int = 8765,
    lang: str | None = None,
    quiet: bool = False,
    open_browser: bool = False,
) -> None:
    """Load the run of ``out_dir``, bind 127.0.0.1:``port``, print the address and serve until Ctrl-C."""
    from planner.serve import Editor, bind, create_app, load_session
    from planner.serve import serve as run_server

    try:
        with progress(quiet) as stage:
            from planner.run.timer import StageTimer

            session = load_session(out_dir, timer=StageTimer(stage))
            editor = Editor(session)
    except PlannerError as exc:
        raise fail(exc) from exc
    try:
        sock = bind(port)
    except OSError as exc:
        console.print(f"[bold red]error[/]: cannot listen on 127.0.0.1:{port}: {escape(str(exc))}")
        raise typer.Exit(code=2) from exc
    host, bound = sock.getsockname()[:2]
    url = f"http://{host}:{bound}/"
    language = lang or session.scenario.outputs.language
    line = f"planner serve: {escape(str(out_dir))} at {url}  (Ctrl-C to stop)"
    out_console.print(line, highlight=False, soft_wrap=True)
    out_console.file.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    run_server(create_app(editor, lang=language), sock, log_level="warning" if not quiet else "error")


def serve(
    out_dir: Annotated[Path, typer.Argument(help="The output folder of a run (holds summary.json).")],
    *,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port (0: any free one).")
    ] = 8765,
    lang: Annotated[str | None, typer.Option("--lang", help="Page language: zh (default) or en.")] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Serve the run's map with the plan editable on http://127.0.0.1:PORT/ (this machine only).

    Add a site at a candidate or a clicked point, remove a proposal, close an existing facility,
    change a site's type: the headline, the standards table and the gap lists follow each edit.
    "Re-optimise" solves the plan again with your choices fixed; "Save as scenario" writes a YAML
    that `planner run` turns into the same plan.
    """
    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    setup_logging(verbose, quiet)
    serve_folder(out_dir, port=port, lang=lang, quiet=quiet, open_browser=open_browser)
