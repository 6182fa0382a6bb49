"""Demand: population cells classed urban / township / rural, tied to villages and townships,
optionally calibrated to census totals per township."""

from planner.demand.calibrate import calibrate_to_census
from planner.demand.classify import DensityRule, assign_villages, classify_demand, classify_villages
from planner.demand.townships import (
    register_townships,
    townships_from_villages,
    with_register_townships,
    with_township,
    with_village,
)

__all__ = [
    "DensityRule",
    "assign_villages",
    "calibrate_to_census",
    "classify_demand",
    "classify_villages",
    "register_townships",
    "townships_from_villages",
    "with_register_townships",
    "with_township",
    "with_village",
]
