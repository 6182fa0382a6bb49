"""The ``planner`` command line (typer): run, audit, validate, synth, fetch, batch."""

from planner.cli.app import app, entrypoint

__all__ = ["app", "entrypoint"]
