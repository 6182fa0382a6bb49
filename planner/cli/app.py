"""The ``planner`` command line: the typer app and its commands.

The package :mod:`planner.cli` is the only part of the planner that reads argv, configures logging and
prints; each command lives in a module of its own and is registered here.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from planner import __version__
from planner.cli.compare import compare
from planner.cli.console import out_console
from planner.cli.fetch import fetch
from planner.cli.run import audit, run, validate
from planner.cli.serve import serve
from planner.cli.synth import synth

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


for _command in (run, audit, validate, synth, fetch, serve, compare):
    app.command()(_command)


def _register_batch() -> None:
    """``planner batch`` (needs dask.distributed; absent from the app when it is not installed)."""
    try:
        from planner.cli.batch import batch
    except ImportError:  # the batch command needs dask.distributed
        return
    app.command()(batch)


_register_batch()


def entrypoint() -> None:  # pragma: no cover - console script shim
    """Run the app (used by ``python -m planner``)."""
    app(prog_name="planner")
    sys.exit(0)
