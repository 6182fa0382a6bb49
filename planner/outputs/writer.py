"""``write_outputs``: the whole output folder of a run, written atomically.

Files (the output contract of issue 2, extended by issue 6):

=================== ======== ===========================================================
file                format   content
=================== ======== ===========================================================
summary.json        always   headline figures (contract keys), always written
proposals.csv       csv      the plan: id, type, lon, lat, township_code, township_name, cost,
                             population_gained (WGS-84)
audit.csv           csv      standard_id, unit_level, unit_code, unit_name, value, target, passed,
                             population, existing, shortfall, note, citation, role, source
village_gaps.csv    csv      villages without a station before the plan, with the reason
results.gpkg        gpkg     layers boundary, townships, demand, villages, facilities, gaps
                             (EPSG:4326) and a QGIS style per layer in ``layer_styles``
results.xlsx        xlsx     one sheet per table, Chinese headers when the language is zh
map.html            map      the interactive map (self-contained, works offline)
report.html         report   the printable report (self-contained)
report.pdf          report   the report printed to A4 by headless Chromium (``pdf=True`` and a
                             Chromium found; otherwise one warning line says why it is missing)
audit_after.csv     csv      the audit after the plan (audit.csv columns), when the run has one
=================== ======== ===========================================================
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Final

from planner.outputs import files
from planner.outputs.i18n import Lang
from planner.types import AuditResult, RunResult

log = logging.getLogger(__name__)

#: Format names accepted by ``write_outputs(formats=...)``; ``summary.json`` ("json") is always written.
ALL_FORMATS: Final[frozenset[str]] = frozenset({"json", "csv", "gpkg", "xlsx", "map", "report"})


def write_outputs(
    result: RunResult,
    out_dir: Path,
    *,
    lang: Lang | None = None,
    formats: Collection[str] = ALL_FORMATS,
    pdf: bool = True,
) -> list[Path]:
    """Write a run's output folder atomically and return the paths of the files written.

    Everything is written into a temporary sibling folder first; only when every file is complete
    does it replace ``out_dir`` (an existing earlier output is swapped out and removed). On any
    error the temporary folder is removed and ``out_dir`` is left as it was.

    Parameters
    ----------
    result
        The run to write.
    out_dir
        The output folder. It must not exist, be empty, or be an earlier planner output
        (holding ``summary.json``); anything else raises :class:`~planner.outputs.OutputDirError`.
    lang
        ``"zh"`` or ``"en"`` for the map, report and spreadsheet; defaults to ``result.language``.
        CSV and JSON keep the contract's English names in either language.
    formats
        Which of :data:`ALL_FORMATS` to write; ``summary.json`` is always written.
    pdf
        With ``"report"`` in ``formats``, also print ``report.pdf`` (A4) with headless Chromium when
        one is found (:func:`planner.outputs.pdf.find_chromium`); without one, a warning says so
        and the run goes on. ``False`` skips it (the CLI's ``--no-pdf``).

    Returns
    -------
    list[Path]
        The files in their final place, in the order of the table above (the extra CSVs, such as
        ``budget_curve.csv``, after ``audit_after.csv``).
    """
    unknown = set(formats) - ALL_FORMATS
    if unknown:
        raise ValueError(f"unknown output formats {sorted(unknown)}; choose from {sorted(ALL_FORMATS)}")
    language: Lang = lang or result.language
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', not {language!r}")
    out_dir = Path(out_dir).absolute()
    started = time.perf_counter()
    with files.atomic_dir(out_dir) as tmp:
        names = _write_all(result, tmp, language, set(formats), pdf=pdf)
    paths = [out_dir / n for n in names]
    size = sum(p.stat().st_size for p in paths)
    log.info(
        "outputs: %d files, %.1f MB in %s (%.1f s)",
        len(paths),
        size / 1e6,
        out_dir,
        time.perf_counter() - started,
    )
    return paths


def _write_all(result: RunResult, tmp: Path, language: Lang, formats: set[str], *, pdf: bool) -> list[str]:
    """Every file of the folder into ``tmp``; the names in the output contract's order.

    A large run on two or more cores hands the map, GeoPackage and workbook to a helper process
    (:mod:`planner.outputs.helper`) while this one writes the CSVs and the report, and Chromium
    prints the PDF beside both: a prefecture's outputs in about half the time.
    """
    from planner.outputs import helper

    written: set[str] = set()
    part = [f for f in helper.HELPER_FORMATS if f in formats]
    aide = (
        helper.Helper.start(result, tmp, lang=language, formats=part)
        if helper.worthwhile(result, formats)
        else None
    )
    try:
        if "csv" in formats:
            written |= _write_csvs(result, tmp, language)
        if "report" in formats:
            from planner.outputs.report import write_report

            write_report(result, tmp / "report.html", lang=language)
            written.add("report.html")
        printing = _PdfPrint.start(tmp) if "report" in formats and pdf else None
        done = aide.finish() if aide is not None else []
        aide = None
        written |= set(
            helper.write_part(result, tmp, lang=language, formats=[f for f in part if f not in done])
        )
        written |= {_FORMAT_FILES[f] for f in done}
        if printing is not None and printing.join():
            written.add("report.pdf")
        # last, so a folder holding summary.json is always a complete output
        files.write_summary(result.summary, tmp / "summary.json", lang=language)
        written.add("summary.json")
    finally:
        if aide is not None:
            aide.stop()
    extra = sorted(n for n in written if n not in _ORDER)  # the extra CSVs, after the audit's
    return [n for n in _ORDER[:4] if n in written] + extra + [n for n in _ORDER[4:] if n in written]


#: The file each helper format writes.
_FORMAT_FILES: Final[dict[str, str]] = {"gpkg": "results.gpkg", "xlsx": "results.xlsx", "map": "map.html"}

#: The order files are listed in (the module's table); the extra CSVs come after the audit's.
_ORDER: Final[tuple[str, ...]] = (
    "proposals.csv",
    "audit.csv",
    "village_gaps.csv",
    "audit_after.csv",
    "results.gpkg",
    "results.xlsx",
    "map.html",
    "report.html",
    "report.pdf",
    "summary.json",
)


def _write_csvs(result: RunResult, tmp: Path, language: Lang) -> set[str]:
    files.write_csv(files.proposals_frame(result), tmp / "proposals.csv")
    files.write_csv(files.audit_frame_of(result.audit, lang=language), tmp / "audit.csv")
    files.write_csv(files.village_gaps_frame(result, lang=language), tmp / "village_gaps.csv")
    names = {"proposals.csv", "audit.csv", "village_gaps.csv"}
    if result.audit_after is not None and len(result.audit_after.table):
        files.write_csv(files.audit_frame_of(result.audit_after, lang=language), tmp / "audit_after.csv")
        names.add("audit_after.csv")
    for key, frame in files.extra_frames(result).items():
        files.write_csv(frame, tmp / f"{key}.csv")
        names.add(f"{key}.csv")
    return names


class _PdfPrint:
    """``report.pdf`` printed by Chromium in a thread, while this process writes the other files."""

    def __init__(self, tmp: Path) -> None:
        self._ok = False
        self._thread = threading.Thread(target=self._run, args=(tmp,), name="planner-pdf", daemon=True)

    @classmethod
    def start(cls, tmp: Path) -> _PdfPrint:
        printing = cls(tmp)
        printing._thread.start()
        return printing

    def _run(self, tmp: Path) -> None:
        self._ok = _print_pdf(tmp / "report.html", tmp / "report.pdf")

    def join(self) -> bool:
        """Wait for the print; whether ``report.pdf`` was written."""
        self._thread.join()
        return self._ok


def _print_pdf(html: Path, target: Path) -> bool:
    """Print the report to PDF; a missing or failing Chromium is one warning, not an error."""
    from planner.outputs import pdf

    chromium = pdf.find_chromium()
    if chromium is None:
        log.warning(
            "report.pdf not written: no Chromium found (install chromium, set PLANNER_CHROMIUM, "
            "or skip the PDF with --no-pdf)"
        )
        return False
    try:
        pdf.print_pdf(html, target, chromium=chromium)
    except pdf.PdfError as exc:
        log.warning("report.pdf not written: %s", exc)
        return False
    return True


def write_audit_tables(audit: AuditResult, out_dir: Path, *, lang: Lang | None = None) -> list[Path]:
    """Write ``audit.csv`` and ``village_gaps.csv`` of an audit (``planner audit --out``).

    The folder is created if needed; each file is written to a temporary name beside it and renamed
    into place, so a reader never sees half a file. Other files in the folder are left alone.

    Parameters
    ----------
    audit
        The audit (before any plan).
    out_dir
        The folder to write into.

    Returns
    -------
    list[Path]
        ``[audit.csv, village_gaps.csv]``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise files.OutputDirError(
            problems=[files.Problem("the output path exists and is not a folder", file=out_dir)]
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "audit.csv": files.audit_frame_of(audit, lang=lang),
        "village_gaps.csv": files.village_gaps_frame_of(audit, lang=lang),
    }
    paths = []
    for name, frame in tables.items():
        final = out_dir / name
        tmp = out_dir / f".{name}.tmp"
        try:
            files.write_csv(frame, tmp)
            tmp.replace(final)
        finally:
            tmp.unlink(missing_ok=True)
        paths.append(final)
    return paths
