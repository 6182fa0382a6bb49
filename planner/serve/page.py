"""The page of ``planner serve``: one HTML document with Leaflet, the style and the script inline.

Leaflet comes from the copy the map already ships (``planner/outputs/templates``, BSD-2-Clause), the
page's own script and style from ``planner/serve/static``; nothing is loaded from the network, so
the page works offline like the run's map.
"""

from __future__ import annotations

import html
from importlib import resources

from planner.outputs import palette

__all__ = ["page_html"]


def _read(package: str, *parts: str) -> str:
    node = resources.files(package)
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def _colours() -> str:
    import json

    colours = {
        "types": palette.FACILITY_COLOURS,
        "fallback": palette.FALLBACK_FACILITY,
        "uncovered": palette.NOT_COVERED,
        "plan": palette.PLAN_ADDS,
        "boundary": palette.BOUNDARY_COLOUR,
        "township": palette.TOWNSHIP_COLOUR,
        "roads": palette.ROAD_COLOURS,
        "village": palette.VILLAGE_COLOURS,
    }
    return json.dumps(colours)


def page_html(*, lang: str = "zh") -> str:
    """The page (UTF-8 HTML, self-contained). ``lang`` is the language it opens in (zh or en)."""
    lang = "en" if lang == "en" else "zh"
    body = _read("planner.serve", "static", "serve.html")
    return (
        body.replace("{{lang}}", html.escape(lang))
        .replace("{{html_lang}}", "zh-CN" if lang == "zh" else "en")
        .replace("{{leaflet_css}}", _read("planner.outputs", "templates", "leaflet.css"))
        .replace("{{serve_css}}", _read("planner.serve", "static", "serve.css"))
        .replace("{{leaflet_js}}", _read("planner.outputs", "templates", "leaflet.js"))
        .replace("{{colours}}", _colours())
        .replace("{{serve_js}}", _read("planner.serve", "static", "serve.js"))
    )
