"""``planner serve``: the run's map with the plan editable, re-audited after every edit.

- :mod:`~planner.serve.state`: the run rebuilt from its output folder, the plan being edited
  (immutable states) and the figures of a facility set (the run's own coverage and audit);
- :mod:`~planner.serve.snaps`: snaps kept per point, so an edit snaps only the new points;
- :mod:`~planner.serve.plans`: re-optimise with the user's choices fixed, save as a scenario;
- :mod:`~planner.serve.view`: what the page shows, as JSON;
- :mod:`~planner.serve.app`: the FastAPI app and the uvicorn server (127.0.0.1 only);
- :mod:`~planner.serve.page`: the page (Leaflet and its script inline, works offline).
"""

from planner.serve.app import Editor, bind, create_app, serve
from planner.serve.state import PlanState, Session, evaluate, load_session

__all__ = ["Editor", "PlanState", "Session", "bind", "create_app", "evaluate", "load_session", "serve"]
