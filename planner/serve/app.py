"""The web app of ``planner serve``: a FastAPI app over one :class:`Editor`, served by uvicorn on 127.0.0.1.

Routes (JSON in and out; errors are ``{"error": message}`` with a 4xx status, and leave the plan as
it was):

==========================  ===================================================================
``GET  /``                  the page (Leaflet and the page's script inline: works offline)
``GET  /api/layers``        the map's fixed layers and labels
``GET  /api/state``         the figures of the plan being edited
``POST /api/edit``          one edit: ``{"op": "add", "candidate": id}``, ``{"op": "add_point",
                            "lon", "lat", "type"}``, ``{"op": "remove", "id"}``, ``{"op": "close",
                            "id"}`` (close or reopen an existing facility), ``{"op": "retype", "id",
                            "type"}``
``POST /api/undo``          back one step; ``POST /api/reset``: back to the run's plan
``POST /api/optimise``      re-optimise with the sites added forced in and the ones removed out
``POST /api/save``          ``{"path": "….yaml"}``: save as a scenario (relative to the output folder)
==========================  ===================================================================
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from planner.errors import EditError, PlannerError
from planner.serve import state as st
from planner.serve.page import page_html
from planner.serve.plans import reoptimise, save_scenario
from planner.serve.view import figures, headline, layers

__all__ = ["Editor", "bind", "create_app", "serve"]

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddCandidate(_Strict):
    op: Literal["add"]
    candidate: str = Field(min_length=1)


class AddPoint(_Strict):
    op: Literal["add_point"]
    lon: float
    lat: float
    type: str


class Remove(_Strict):
    op: Literal["remove"]
    id: str = Field(min_length=1)


class Close(_Strict):
    op: Literal["close"]
    id: str = Field(min_length=1)


class Retype(_Strict):
    op: Literal["retype"]
    id: str = Field(min_length=1)
    type: str


Edit = Annotated[AddCandidate | AddPoint | Remove | Close | Retype, Field(discriminator="op")]


class SaveRequest(_Strict):
    path: str = Field(min_length=1)


class Editor:
    """The plan being edited, one edit at a time (a lock), with undo.

    Each edit builds a new :class:`~planner.serve.state.PlanState`, measures it and only then makes
    it current: a refused edit (an :class:`~planner.errors.EditError`) changes nothing.
    """

    def __init__(self, session: st.Session) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.run = st.evaluate(session, session.baseline)
        self.state = session.baseline
        self.current = self.run
        self.history: list[tuple[st.PlanState, st.Evaluation]] = []
        self.layers = layers(session, self.run)
        self.run_headline = headline(session, self.run)

    def view(self, seconds: float = 0.0) -> dict[str, Any]:
        out = figures(
            self.session, self.state, self.current, self.run, seconds=seconds, run_headline=self.run_headline
        )
        out["can_undo"] = bool(self.history)
        return out

    def _commit(self, state: st.PlanState, start: float) -> dict[str, Any]:
        evaluation = st.evaluate(self.session, state)
        self.history.append((self.state, self.current))
        self.state, self.current = state, evaluation
        return self.view(time.perf_counter() - start)

    def apply(self, change: Callable[[st.PlanState], st.PlanState]) -> dict[str, Any]:
        """Apply an edit and measure the result; the plan is unchanged when the edit raises."""
        with self.lock:
            start = time.perf_counter()
            return self._commit(change(self.state), start)

    def edit(self, body: AddCandidate | AddPoint | Remove | Close | Retype) -> dict[str, Any]:
        s = self.session
        if isinstance(body, AddCandidate):
            return self.apply(lambda state: st.add_candidate(s, state, body.candidate))
        if isinstance(body, AddPoint):
            return self.apply(lambda state: st.add_point(s, state, body.lon, body.lat, body.type))
        if isinstance(body, Remove):
            return self.apply(lambda state: st.remove(s, state, body.id))
        if isinstance(body, Close):
            return self.apply(lambda state: st.toggle_closed(s, state, body.id))
        return self.apply(lambda state: st.retype(s, state, body.id, body.type))

    def undo(self) -> dict[str, Any]:
        with self.lock:
            if not self.history:
                raise EditError("nothing to undo", status=409)
            self.state, self.current = self.history.pop()
            return self.view()

    def reset(self) -> dict[str, Any]:
        with self.lock:
            start = time.perf_counter()
            if self.state is self.session.baseline:
                return self.view()
            self.history.append((self.state, self.current))
            self.state, self.current = self.session.baseline, self.run
            return self.view(time.perf_counter() - start)

    def optimise(self) -> dict[str, Any]:
        with self.lock:
            start = time.perf_counter()
            state, notes = reoptimise(self.session, self.state)
            out = self._commit(state, start)
            out["notes"] = notes
            return out

    def save(self, path: str) -> dict[str, Any]:
        target = Path(path).expanduser()
        if not target.is_absolute():
            target = self.session.out_dir / target
        with self.lock:
            saved = save_scenario(self.session, self.state, target)
            return saved.as_dict()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def create_app(editor: Editor, *, lang: str = "zh") -> FastAPI:
    """The FastAPI app of one editor (no docs routes; every error a JSON message with a 4xx status)."""
    app = FastAPI(title="planner serve", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(EditError)
    async def _edit_error(request: Request, exc: EditError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(PlannerError)
    async def _planner_error(request: Request, exc: PlannerError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed JSON in the request body")
        parts = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}" for e in errors
        ]
        return _error(422, "bad request: " + "; ".join(parts))

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page_html(lang=lang))

    @app.get("/api/layers")
    def get_layers() -> dict[str, Any]:
        return editor.layers

    @app.get("/api/state")
    def get_state() -> dict[str, Any]:
        with editor.lock:
            return editor.view()

    @app.post("/api/edit")
    def post_edit(body: Annotated[Edit, Body()]) -> dict[str, Any]:
        return editor.edit(body)

    @app.post("/api/undo")
    def post_undo() -> dict[str, Any]:
        return editor.undo()

    @app.post("/api/reset")
    def post_reset() -> dict[str, Any]:
        return editor.reset()

    @app.post("/api/optimise")
    def post_optimise() -> dict[str, Any]:
        return editor.optimise()

    @app.post("/api/save")
    def post_save(body: SaveRequest) -> dict[str, Any]:
        return editor.save(body.path)

    return app


def bind(port: int = 0, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free port), for :func:`serve`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(app: FastAPI, sock: socket.socket, *, log_level: str = "warning") -> None:
    """Serve ``app`` on ``sock`` until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
