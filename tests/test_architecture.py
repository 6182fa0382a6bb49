"""The shape of the package: stages form layers, no import cycles, an offline run never loads fetch/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    """``lint-imports`` (import-linter, contracts in pyproject.toml): layers and acyclic siblings."""
    pytest.importorskip("importlinter")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; c()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout


def test_an_offline_run_imports_nothing_of_fetch() -> None:
    """The modules of ``planner run``/``audit``/``validate`` (and the CLI app) never load planner.fetch."""
    code = (
        "import sys\n"
        "import planner.cli, planner.run, planner.outputs, planner.scenario\n"
        "from planner.cli.run import run, audit, validate\n"
        "bad = sorted(m for m in sys.modules if m.startswith('planner.fetch'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
