"""Synthetic counties: the demo data under ``data/`` and the benchmark workloads (deterministic by seed).

- :mod:`~planner.synth.params`: the parameters; :mod:`~planner.synth.settlements`: the layout, the
  settlements, their codes and people; :mod:`~planner.synth.county`: the county in memory and its files;
- :mod:`~planner.synth.roads`: the road graph; :mod:`~planner.synth.facilities`: facilities and
  candidate sites; :mod:`~planner.synth.geom` and :mod:`~planner.synth.names`: geometry and names.
"""

from planner.synth.county import (
    SynthCounty,
    SynthSummary,
    synthesize,
    synthesize_county,
    write_county,
    write_scenario,
)
from planner.synth.params import SynthParams

__all__ = [
    "SynthCounty",
    "SynthParams",
    "SynthSummary",
    "synthesize",
    "synthesize_county",
    "write_county",
    "write_scenario",
]
