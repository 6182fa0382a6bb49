"""HTTP and the on-disk cache of ``planner fetch``: clear errors for offline use and failed requests.

Every download goes through a :class:`requests.Session` (osmnx uses ``requests`` itself); a refused
connection or a DNS failure becomes :class:`FetchError` with the "no network" fix, an HTTP error
status becomes :class:`FetchError` naming the URL and the status. Finished downloads are stored
under :class:`FetchCache`, one folder per query keyed by a hash of the query, written atomically
(a folder counts as cached only once its ``meta.json`` exists).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from planner.atomic import atomic_dir, atomic_file
from planner.errors import FetchError, Problem
from planner.store import default_cache_root

logger = logging.getLogger(__name__)

#: Default cache folder (relative to the working directory, like the planner's other caches).
#: Bump when the layout or meaning of a cached entry changes.
FETCH_CACHE_FORMAT = 1
USER_AGENT = "planner-fetch (express-delivery coverage planner; https://www.openstreetmap.org/copyright)"

NO_NETWORK_FIX = "no network: run fetch on a machine with internet, or give local files (see README)"


def default_fetch_cache() -> Path:
    """The download cache: ``fetch/`` in the cache folder (:func:`~planner.store.default_cache_root`)."""
    return default_cache_root() / "fetch"


def no_network(url: str, exc: BaseException) -> FetchError:
    """The error for a request that could not reach its server."""
    return FetchError(
        problems=[Problem(f"cannot reach {url} ({type(exc).__name__}: {exc})", fix=NO_NETWORK_FIX)]
    )


def http_error(url: str, status: int, reason: str = "", body: str = "") -> FetchError:
    """The error for an HTTP error status."""
    detail = f": {body.strip()[:200]}" if body.strip() else ""
    fix = (
        "the server is busy or down: try again later"
        if status in (429, 502, 503, 504)
        else "check the URL and the query parameters (ISO3 code, year)"
    )
    return FetchError(problems=[Problem(f"HTTP {status} {reason} from {url}{detail}", fix=fix)])


def make_session(user_agent: str = USER_AGENT) -> requests.Session:
    """A session with the planner's User-Agent (OSM and WorldPop ask clients to identify themselves)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    return session


def get_json(session: requests.Session, url: str, *, params: Mapping[str, Any], timeout_s: float) -> Any:
    """GET a JSON document; network and HTTP failures become :class:`FetchError`."""
    try:
        response = session.get(url, params=dict(params), timeout=timeout_s)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise no_network(url, exc) from exc
    if not response.ok:
        raise http_error(response.url, response.status_code, response.reason, response.text)
    try:
        return response.json()
    except ValueError as exc:
        raise FetchError(
            problems=[
                Problem(
                    f"{response.url} did not answer JSON (got {response.text[:120]!r})",
                    fix="the service may have changed or be down: try again later",
                )
            ]
        ) from exc


def download_file(session: requests.Session, url: str, dest: Path, *, timeout_s: float) -> int:
    """Stream ``url`` to ``dest`` (atomically: a partial download never appears at ``dest``).

    Returns
    -------
    int
        Bytes written.
    """
    size = 0
    with atomic_file(dest) as fh:
        try:
            with session.get(url, stream=True, timeout=timeout_s) as response:
                if not response.ok:
                    raise http_error(url, response.status_code, response.reason)
                total = int(response.headers.get("Content-Length") or 0)
                logger.info("downloading %s (%s)", url, f"{total / 1e6:,.1f} MB" if total else "size unknown")
                for block in response.iter_content(chunk_size=1 << 20):
                    fh.write(block)
                    size += len(block)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise no_network(url, exc) from exc
        if total and size != total:
            raise FetchError(
                problems=[
                    Problem(
                        f"download of {url} stopped at {size:,} of {total:,} bytes", fix="run fetch again"
                    )
                ]
            )
    return size


def check_reachable(session: requests.Session, url: str, *, timeout_s: float = 15.0) -> None:
    """Raise the "no network" :class:`FetchError` when ``url``'s server cannot be reached at all.

    Any HTTP answer (even an error status) counts as reachable: this only tells "offline" apart.
    """
    try:
        session.get(url, timeout=timeout_s).close()
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise no_network(url, exc) from exc


def query_key(kind: str, query: Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of a query (kind, parameters, cache format)."""
    blob = json.dumps(
        {"kind": kind, "format": FETCH_CACHE_FORMAT, "query": query}, sort_keys=True, default=str
    ).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


class FetchCache:
    """Downloads on disk: ``<root>/<kind>/<key>/`` holding the files and a ``meta.json``.

    Parameters
    ----------
    root
        The cache folder.
    refresh
        Ignore existing entries (download again and replace them).
    """

    def __init__(self, root: Path | str, *, refresh: bool = False) -> None:
        self.root = Path(root)
        self.refresh = refresh

    def folder(self, kind: str, query: Mapping[str, Any]) -> Path:
        """The folder of a query's entry (it may not exist yet)."""
        return self.root / kind / query_key(kind, query)

    def lookup(self, kind: str, query: Mapping[str, Any]) -> tuple[Path, dict[str, Any]] | None:
        """The folder and metadata of a finished entry, or None (also None when refreshing)."""
        folder = self.folder(kind, query)
        meta_path = folder / "meta.json"
        if self.refresh or not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("cache entry %s is unreadable; fetching again", folder)
            return None
        return folder, meta

    @contextlib.contextmanager
    def writing(self, kind: str, query: Mapping[str, Any]) -> Iterator[Path]:
        """A staging folder for a new entry; on success it replaces the entry (call :meth:`seal` inside)."""
        with atomic_dir(self.folder(kind, query)) as staging:
            yield staging
            if not (staging / "meta.json").is_file():
                raise FetchError("cache entry written without meta.json (a bug: report it)")

    @staticmethod
    def seal(staging: Path, query: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        """Write ``meta.json`` (the query and what was stored) last, marking the entry complete."""
        payload = {"query": dict(query), **dict(meta)}
        (staging / "meta.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
