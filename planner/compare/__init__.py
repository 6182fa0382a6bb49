"""``planner compare``: two plans side by side.

- :mod:`~planner.compare.load`: a run's output folder read back (summary, after-plan audit, layers);
- :mod:`~planner.compare.diff`: sites only in A / only in B / in both, standards met in each, cost
  and coverage per township, villages whose status changes;
- :mod:`~planner.compare.report`: ``compare.html``, ``compare_map.html``, ``compare.json`` and CSVs.
"""

from planner.compare.diff import Comparison, compare_runs
from planner.compare.load import RunFiles, read_run
from planner.compare.run import compare_paths

__all__ = ["Comparison", "RunFiles", "compare_paths", "compare_runs", "read_run"]
