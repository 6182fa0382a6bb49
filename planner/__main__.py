"""``python -m planner`` runs the command line."""

from planner.cli.app import app

app(prog_name="planner")
