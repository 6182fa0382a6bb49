"""Road networks per travel mode: travel modes, the sparse travel graphs, snapping, the on-disk store.

A road graph (osmnx-style) becomes a :class:`ModeNetwork` per travel mode (walk, tricycle, car):
the largest strongly connected part, simplified exactly, as sparse distance and time graphs
(:mod:`~planner.network.graph`); points snap to its edges with their access legs
(:mod:`~planner.network.snap`); networks are cached by content (:mod:`~planner.network.store`).
"""

from planner.network.graph import ModeNetwork, build_mode_network
from planner.network.modes import DEFAULT_MODES, ModeSpec, mode_from_overrides, parse_maxspeed
from planner.network.snap import Snap, snap_points

__all__ = [
    "DEFAULT_MODES",
    "ModeNetwork",
    "ModeSpec",
    "Snap",
    "build_mode_network",
    "mode_from_overrides",
    "parse_maxspeed",
    "snap_points",
]
