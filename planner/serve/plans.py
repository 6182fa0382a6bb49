"""Re-optimise with the user's choices fixed, and save the edited plan as a scenario.

Both go through the run's own plan (:func:`planner.plan.solve.make_plan`) with the scenario keys a
user can write: ``plan.force`` (candidate ids the plan must build) and ``plan.exclude`` (ids it must
not build). Sites added at a point become candidates; closed or retyped existing facilities a new
facilities table. :func:`save_scenario` writes those files beside the YAML, and the YAML says
``force``/``exclude`` so that ``planner run`` on it builds the plan being edited:

- when the plan is the optimiser's (the run's, or after "re-optimise"), its ``force``/``exclude``;
- when it was edited by hand since, every proposed site is forced and every other candidate
  excluded, so the optimiser has no choice left (it would otherwise, e.g., drop a proposal that a
  site added by hand makes redundant).

The save is checked: the saved scenario is validated, and the plan it gives is solved in memory and
compared with the plan being edited; a difference is reported, never hidden.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml

from planner.atomic import atomic_file
from planner.errors import EditError, PlannerError
from planner.plan.solve import Plan, make_plan
from planner.run.pipeline import assess_facilities, plan_context, solver_settings
from planner.scenario import load_scenario
from planner.serve.state import PlanState, Session, sites_frame
from planner.types import FACILITY_COLUMNS

__all__ = ["Saved", "reoptimise", "save_scenario"]


def _base(site_id: str) -> str:
    return str(site_id).split("#", 1)[0]


def _existing(state: PlanState) -> gpd.GeoDataFrame:
    """Existing facilities in service, with their edited types, as the inputs give them."""
    rows = state.facilities[state.facilities["status"] == "existing"]
    return gpd.GeoDataFrame(rows[[*FACILITY_COLUMNS, "geometry"]], geometry="geometry", crs=rows.crs)


def _fixed(session: Session, state: PlanState) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """``force``/``exclude`` for "re-optimise with these fixed": the scenario's, the sites added and
    the optimiser's proposals removed (a unit of a site that keeps others cannot be excluded: noted)."""
    plan = session.scenario.plan
    force = tuple(dict.fromkeys([*plan.force, *state.added]))
    kept = {_base(i) for i in state.facilities["facility_id"].astype(str)} | {_base(f) for f in force}
    notes, excluded = [], []
    for site in state.removed:
        if _base(site) in kept:
            notes.append(f"{site}: one unit of a site that keeps others cannot be excluded")
        else:
            excluded.append(_base(site))
    exclude = tuple(
        e for e in dict.fromkeys([*plan.exclude, *excluded]) if e not in {_base(f) for f in force}
    )
    return force, exclude, notes


def plan_for(session: Session, state: PlanState, force: tuple[str, ...], exclude: tuple[str, ...]) -> Plan:
    """The run's plan for the edited inputs (existing facilities, added points) and ``force``/``exclude``."""
    prepared = session.prepared
    existing = _existing(state)
    candidates = pd.concat([prepared.study.candidates, state.points], ignore_index=True)
    study = dataclasses.replace(
        prepared.study,
        facilities=existing,
        candidates=gpd.GeoDataFrame(candidates, geometry="geometry", crs=prepared.study.crs),
    )
    scenario = prepared.scenario
    scenario = scenario.model_copy(
        update={"plan": scenario.plan.model_copy(update={"force": force, "exclude": exclude})}
    )
    edited = dataclasses.replace(prepared, scenario=scenario, study=study)
    demand, villages = assess_facilities(edited, existing)
    return make_plan(plan_context(edited), demand, villages, solver_settings(scenario))


def reoptimise(session: Session, state: PlanState) -> tuple[PlanState, list[str]]:
    """Solve the plan again with the sites the user added forced in and the ones removed forced out.

    Returns the new state (the optimiser's plan; closed and retyped existing facilities kept) and notes.
    """
    force, exclude, notes = _fixed(session, state)
    plan = plan_for(session, state, force, exclude)
    origin = dict(zip(state.facilities["facility_id"].astype(str), state.facilities["origin"], strict=True))
    proposed = plan.facilities[plan.facilities["status"] == "proposed"]
    ids = proposed["facility_id"].astype(str)
    proposed = proposed.assign(
        origin=[origin[i] if i in state.added and i in origin else "plan" for i in ids]
    )
    kept = state.facilities[state.facilities["status"] != "proposed"]
    facilities = sites_frame([kept, proposed], state.facilities.crs)
    present = set(ids)
    new_state = dataclasses.replace(
        state,
        facilities=facilities,
        removed=tuple(r for r in state.removed if r not in present),
        optimised=(force, exclude),
        edits=(*state.edits, {"op": "optimise", "force": list(force), "exclude": list(exclude)}),
    )
    return new_state, notes


# ---------------------------------------------------------------------------------------------
# Save as scenario
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """A saved scenario: its files, its ``force``/``exclude``, and what ``planner run`` would differ in."""

    path: Path
    files: tuple[Path, ...]
    force: tuple[str, ...]
    exclude: tuple[str, ...]
    frozen: bool
    differences: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "files": [str(f) for f in self.files],
            "force": list(self.force),
            "exclude": len(self.exclude),
            "frozen": self.frozen,
            "differences": list(self.differences),
        }


def _wgs_table(frame: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    wgs = frame.to_crs(4326)
    table = pd.DataFrame({c: frame[c].to_numpy() if c in frame.columns else "" for c in columns})
    table["lon"] = wgs.geometry.x.to_numpy()
    table["lat"] = wgs.geometry.y.to_numpy()
    return table


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_file(path, "w", encoding="utf-8", newline="") as fh:
        table.to_csv(fh, index=False, float_format="%.17g")


def _force_exclude(session: Session, state: PlanState) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    if state.optimised is not None:
        return state.optimised[0], state.optimised[1], False
    force = tuple(state.proposed["facility_id"].astype(str))
    kept = {_base(f) for f in force}
    every = [*session.prepared.study.candidates["candidate_id"].astype(str), *state.points["candidate_id"]]
    return force, tuple(c for c in dict.fromkeys(every) if c not in kept), True


def _slug(path: Path, default: str) -> str:
    stem = path.stem
    return stem if re.fullmatch(r"[A-Za-z0-9_.\-]+", stem) else default


def _header(session: Session, state: PlanState, frozen: bool) -> str:
    lines = [
        f"# Edited in `planner serve` from the run in {session.out_dir.resolve()}",
        f"# (scenario {session.scenario.path}, hash {session.summary.get('scenario_hash')}).",
        "# Edits:",
    ]
    for edit in state.edits:
        what = ", ".join(f"{k}={v}" for k, v in edit.items() if k not in ("op", "force", "exclude"))
        lines.append(f"#   {edit['op']} {what}".rstrip())
    if not state.edits:
        lines.append("#   none")
    if frozen:
        lines += [
            "# plan.force holds every site of the edited plan and plan.exclude every other candidate,",
            "# so that `planner run` builds exactly this plan. To let the optimiser complete the plan",
            "# around your choices instead, keep in force only the sites you added and in exclude only",
            "# those you removed.",
        ]
    else:
        lines.append("# plan.force / plan.exclude are the choices the optimiser was given for this plan.")
    return "\n".join(lines) + "\n"


def _scenario_data(
    session: Session, path: Path, force: tuple[str, ...], exclude: tuple[str, ...], files: dict[str, Path]
) -> dict[str, Any]:
    scenario = session.scenario
    data: dict[str, Any] = scenario.model_dump(mode="json", exclude_none=True)
    data["name"] = _slug(path, f"{scenario.name}-edited")
    data["standards"] = str(scenario.profile_path())
    data["plan"]["force"] = list(force)
    data["plan"]["exclude"] = list(exclude)
    if "candidates" in files:
        data["inputs"]["candidates"] = {"path": str(files["candidates"]), "coordinate_system": "wgs84"}
    if "facilities" in files:
        data["inputs"]["facilities"] = {"path": str(files["facilities"]), "coordinate_system": "wgs84"}
    data.setdefault("outputs", {})["folder"] = str(path.with_name(f"{path.stem}-out"))
    return data


def save_scenario(session: Session, state: PlanState, path: Path, *, check: bool = True) -> Saved:
    """Write the edited plan as a scenario YAML (and its candidates/facilities tables when edited).

    Parameters
    ----------
    path
        The YAML file to write (``.yaml``/``.yml``); the tables go beside it as ``<stem>.candidates.csv``
        and ``<stem>.facilities.csv``. Paths in the file are absolute.
    check
        Validate the written scenario and solve its plan in memory; differences from the plan being
        edited are returned in ``Saved.differences``.
    """
    path = Path(path).expanduser().absolute()
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise EditError(f"a scenario file ends in .yaml or .yml, not {path.name!r}")
    force, exclude, frozen = _force_exclude(session, state)
    files: dict[str, Path] = {}
    if len(state.points):
        cols = ["candidate_id", "type", "cost", "capacity", "village_code"]
        both = pd.concat([session.prepared.study.candidates, state.points], ignore_index=True)
        table = _wgs_table(gpd.GeoDataFrame(both, geometry="geometry", crs=state.points.crs), cols)
        files["candidates"] = path.with_name(f"{path.stem}.candidates.csv")
        _write_csv(table, files["candidates"])
    if state.closed or state.retyped:
        cols = [c for c in FACILITY_COLUMNS if c != "township_code"]
        files["facilities"] = path.with_name(f"{path.stem}.facilities.csv")
        _write_csv(_wgs_table(_existing(state), cols), files["facilities"])
    data = _scenario_data(session, path, force, exclude, files)
    text = _header(session, state, frozen) + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with atomic_file(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    differences: tuple[str, ...] = ()
    if check:
        load_scenario(path)  # the file is a valid scenario (paths, keys, values)
        differences = tuple(_differences(session, state, force, exclude))
    return Saved(path, (path, *files.values()), force, exclude, frozen, differences)


def _differences(
    session: Session, state: PlanState, force: tuple[str, ...], exclude: tuple[str, ...]
) -> list[str]:
    """What ``planner run`` on the saved scenario would build differently from the plan being edited."""
    try:
        plan = plan_for(session, state, force, exclude)
    except PlannerError as exc:
        return [f"planner run would stop: {str(exc).splitlines()[0]}"]
    ran = plan.facilities.loc[plan.facilities["status"] == "proposed", "facility_id"].astype(str)
    here = state.proposed["facility_id"].astype(str)
    extra = sorted(set(ran) - set(here))
    missing = sorted(set(here) - set(ran))
    out = []
    if extra:
        out.append(f"planner run would also build {len(extra)} site(s): {', '.join(extra[:10])}")
    if missing:
        out.append(f"planner run would not build {len(missing)} site(s): {', '.join(missing[:10])}")
    return out
