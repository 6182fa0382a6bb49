"""The plan: the geodata adapters of the optimiser (layers in, arrays to :mod:`planner.optimize`,
chosen sites out).

- :mod:`~planner.plan.pickup`: outlets, locker groups and delivery centres for the radius and density
  standards, or the best coverage for a budget;
- :mod:`~planner.plan.stations`: village stations, optionally phased by year;
- :mod:`~planner.plan.county`: the county express park and the three-tier delivery chain;
- :mod:`~planner.plan.curve`: the budget–coverage curve;
- :mod:`~planner.plan.candidates`: candidate sites generated when the scenario gives none;
- :mod:`~planner.plan.budget`, :mod:`~planner.plan.proposals`, :mod:`~planner.plan.outcome`: budgets,
  the plan's rows and what a model chose.
"""

from planner.plan.candidates import CandidateRules, generate_candidates, pick_sites
from planner.plan.county import delivery_chain, place_parks, travel_minutes
from planner.plan.curve import coverage_curve
from planner.plan.outcome import PlacementOutcome
from planner.plan.pickup import Capacities, PickupRequest, expand_multi_unit_sites, place_pickup_points
from planner.plan.proposals import facilities_with, population_gains, proposals_table, solver_summary
from planner.plan.stations import place_village_stations, village_share_matrix

__all__ = [
    "CandidateRules",
    "Capacities",
    "PickupRequest",
    "PlacementOutcome",
    "coverage_curve",
    "delivery_chain",
    "expand_multi_unit_sites",
    "facilities_with",
    "generate_candidates",
    "pick_sites",
    "place_parks",
    "place_pickup_points",
    "place_village_stations",
    "population_gains",
    "proposals_table",
    "solver_summary",
    "travel_minutes",
    "village_share_matrix",
]
