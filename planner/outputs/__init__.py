"""Outputs: write a :class:`~planner.types.RunResult` to files people and scripts use.

:func:`write_outputs` writes the whole output folder atomically; :func:`headline_table` gives the
terminal's table of headline figures. See :mod:`planner.outputs.writer` for the file list.
"""

from __future__ import annotations

from planner.outputs.console import headline_table
from planner.outputs.files import OutputDirError
from planner.outputs.writer import ALL_FORMATS, write_audit_tables, write_outputs

__all__ = ["ALL_FORMATS", "OutputDirError", "headline_table", "write_audit_tables", "write_outputs"]
