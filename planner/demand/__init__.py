"""Demand: population cells classed urban / township / rural, tied to villages and townships."""

from planner.demand.classify import DensityRule, assign_villages, classify_demand, classify_villages
from planner.demand.townships import townships_from_villages, with_township, with_village

__all__ = [
    "DensityRule",
    "assign_villages",
    "classify_demand",
    "classify_villages",
    "townships_from_villages",
    "with_township",
    "with_village",
]
