"""Every scenario key the planner accepts is named in the README (a new key must be documented)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from planner.scenario import Scenario

README = Path(__file__).resolve().parents[1] / "README.md"
#: What a dict's key stands for in the README's key paths.
PLACEHOLDER = {"facilities": "<type>", "modes": "<mode>", "provenance": "<input>"}


def _models(annotation: object) -> Iterator[tuple[bool, type[BaseModel]]]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models(arg)
    elif origin is dict:
        value = typing.get_args(annotation)[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            yield True, value
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield False, annotation


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every leaf key path of a scenario model (a dict of models by its placeholder)."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        subs = list(_models(field.annotation))
        if not subs:
            yield path
        for keyed, sub in subs:
            yield from keys(sub, f"{path}.{PLACEHOLDER.get(name, '<key>')}." if keyed else f"{path}.")


def test_every_scenario_key_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9_<>.]+)`", text))
    missing = sorted(k for k in keys(Scenario) if k not in named)
    assert not missing, f"scenario keys the README does not name: {missing}"


def test_the_key_walk_finds_nested_keys() -> None:
    found = set(keys(Scenario))
    assert {"plan.budget.total", "plan.facilities.<type>.capacity", "travel.modes.<mode>.speeds_kmh"} <= found
    assert "study_area.coordinate_system" in found and "inputs.population.calibrate_to" in found
