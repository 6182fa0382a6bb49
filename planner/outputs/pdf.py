"""``report.pdf``: the report printed to A4 by headless Chromium.

The report's print styles (``@page`` A4 with the page number at the foot, rows and figures kept
whole, table headers repeated on each page) do the layout; Chromium's ``--print-to-pdf`` prints it
with no header or footer of its own. Chromium is found as ``$PLANNER_CHROMIUM``, then ``chromium``,
``chromium-browser``, ``google-chrome`` on the ``PATH``; each print starts it with a fresh profile
in a temporary folder and no network. When none is found, :func:`find_chromium` returns ``None`` and
the caller says so in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

#: Names of the Chromium executable tried in order.
CHROMIUM_NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a print may take before it is abandoned.
TIMEOUT_S: Final = 180.0


class PdfError(RuntimeError):
    """Chromium ran but wrote no PDF."""


def find_chromium() -> str | None:
    """The Chromium executable to print with, or ``None`` when there is none."""
    given = os.environ.get("PLANNER_CHROMIUM")
    if given:
        return given if Path(given).is_file() else shutil.which(given)
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def print_pdf(html: Path, pdf: Path, *, chromium: str | None = None, timeout_s: float = TIMEOUT_S) -> Path:
    """Print a local HTML file to ``pdf`` with headless Chromium.

    Parameters
    ----------
    html
        The page (its own ``@page`` rules set the paper and margins).
    pdf
        Where to write the PDF.
    chromium
        The executable; :func:`find_chromium` when not given.
    timeout_s
        Seconds before the print is abandoned.

    Raises
    ------
    PdfError
        When no Chromium is found, it fails, or it writes no PDF.
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise PdfError("no Chromium found to print report.pdf")
    with tempfile.TemporaryDirectory(prefix="planner-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            Path(html).absolute().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"Chromium could not print report.pdf: {exc}") from exc
    if not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium wrote no PDF (exit {done.returncode}): {' | '.join(tail)}")
    return pdf
