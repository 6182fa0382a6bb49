"""A run: the stages wired together (``planner run``, ``planner audit``) and the run's figures."""

from planner.run.pipeline import audit_scenario, run_scenario
from planner.run.prepare import Prepared, load_study_data, prepare

__all__ = ["Prepared", "audit_scenario", "load_study_data", "prepare", "run_scenario"]
