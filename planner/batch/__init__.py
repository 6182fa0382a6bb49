"""``planner batch``: many scenarios — a province, or the whole country — in one command, on Dask.

A batch is a list of scenario files, or one template scenario applied to a list of admin units
(every county of a province or city, resolved offline through cnmaps, or an explicit list), with
per-unit input paths from patterns (:mod:`planner.batch.spec`). Each unit is a Dask task
(:mod:`planner.batch.task`) on a local cluster or an existing one (:mod:`planner.batch.runner`);
a failed unit is recorded and does not stop the others, and a re-run skips units whose scenario
hash is unchanged and whose outputs are complete. The merged summary, GeoPackage, report and map
(:mod:`planner.batch.merge`, :mod:`planner.batch.report`) rank the units by coverage gap.

Example
-------
>>> from planner.batch import plan_batch, run_batch
>>> plan = plan_batch("batches/jilin-city.yaml", out_dir="out/jilin")   # doctest: +SKIP
>>> result = run_batch(plan, n_workers=2)                               # doctest: +SKIP
>>> result.counts()                                                     # doctest: +SKIP
{'done': 8, 'skipped': 0, 'failed': 1}
"""

from __future__ import annotations

from planner.batch.merge import SUMMARY_COLUMNS, read_unit_summary, summary_rows
from planner.batch.runner import (
    BatchProgress,
    BatchResult,
    ClusterInfo,
    dask_client,
    default_workers,
    run_batch,
    run_jobs,
)
from planner.batch.spec import (
    BatchPlan,
    BatchSpecError,
    Unit,
    UnitJob,
    cnmaps_units,
    is_batch_file,
    plan_batch,
)
from planner.batch.task import DONE_MARKER, UnitOutcome, outputs_complete, run_unit

__all__ = [
    "DONE_MARKER",
    "SUMMARY_COLUMNS",
    "BatchPlan",
    "BatchProgress",
    "BatchResult",
    "BatchSpecError",
    "ClusterInfo",
    "Unit",
    "UnitJob",
    "UnitOutcome",
    "cnmaps_units",
    "dask_client",
    "default_workers",
    "is_batch_file",
    "outputs_complete",
    "plan_batch",
    "read_unit_summary",
    "run_batch",
    "run_jobs",
    "run_unit",
    "summary_rows",
]
