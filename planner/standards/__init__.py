"""Policy profiles and the catalogue of standards.

- :mod:`~planner.standards.profile`: the profile YAML files (one per document, ``extends`` for a
  baseline), typed, each number with its document and clause;
- :mod:`~planner.standards.catalogue`: the one definition of each standard (unit, base, kind, what can
  meet it) that the audit, the plan and the outputs read.
"""

from planner.standards.catalogue import CATALOGUE, PLANNABLE, StandardDef, definition
from planner.standards.profile import (
    STANDARD_IDS,
    CountTarget,
    Document,
    Profile,
    Source,
    Standards,
    VillageShares,
    YearTarget,
    load_profile,
    resolve_profile_path,
)

__all__ = [
    "CATALOGUE",
    "PLANNABLE",
    "STANDARD_IDS",
    "CountTarget",
    "Document",
    "Profile",
    "Source",
    "StandardDef",
    "Standards",
    "VillageShares",
    "YearTarget",
    "definition",
    "load_profile",
    "resolve_profile_path",
]
