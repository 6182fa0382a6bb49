"""planner: a geospatial facility-coverage planner for China's express-delivery (快递) network.

The data flows one way through the package (see ``docs/architecture.md``)::

    scenario.yaml -> Scenario -> inputs -> demand + network -> coverage -> audit / optimise -> outputs
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("planner")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
