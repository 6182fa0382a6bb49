"""The batch file: which units to run, and how each unit's scenario is made.

A batch is either a list of scenario files, or one *template* scenario applied to a list of admin
units. A batch YAML file (paths relative to it)::

    name: jilin-city                     # a slug, used in file names
    title: 吉林市各县（市、区）快递服务设施规划
    template: ../scenarios/county.yaml   # the scenario every unit starts from
    units:                               # every county of a city/province, resolved offline (cnmaps) ...
      province: 吉林省
      city: 吉林市                        # optional
      level: county
    # units:                             # ... or an explicit list
    #   - {code: "220202", name: 昌邑区}
    #   - {code: "220203", name: 龙潭区, admin_name: 吉林省/吉林市/龙潭区}
    paths:                               # per-unit input files; placeholders below
      study_area.townships: counties/{code}/townships.geojson
      inputs.roads.path: counties/{code}/roads.graphml
    overrides:                           # any other scenario field, per unit (strings are formatted)
      title: "{name}快递服务设施规划"
    outputs: {folder: ../out/jilin-city, language: zh}

or, for a list of ready scenarios, ``scenarios: [a.yaml, counties/*.yaml]`` instead of
``template``/``units``/``paths``.

Placeholders: ``{code}`` (6-digit admin code), ``{name}`` (unit name), ``{id}`` (the unit's folder
name), ``{province}``, ``{city}``, ``{district}`` (cnmaps units) and any key of an explicit unit's
``fields``. Units resolved through cnmaps get ``study_area.admin_name`` = ``省/市/区县`` (their
boundary, offline) unless ``paths`` names a ``study_area.boundary``.

:func:`plan_batch` turns the batch into :class:`UnitJob` s: for template batches it writes each unit's
own scenario file to ``<out>/scenarios/<id>.yaml`` (absolute paths), so a unit can be rerun alone
with ``planner run`` and its problems are reported against a file that exists.
"""

from __future__ import annotations

import glob
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner.errors import BatchSpecError, Problem
from planner.scenario import FILE_FIELDS, resolve_profile_path

Lang = Literal["zh", "en"]

#: Scenario fields that hold input file paths (relative to the scenario file unless absolute).
PATH_FIELDS: tuple[str, ...] = tuple(".".join(loc) for loc in FILE_FIELDS)
_SLUG = r"^[A-Za-z0-9_.\-]+$"
_LEVELS = {"county": "区县", "区县": "区县", "区/县": "区县", "district": "区县"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CnmapsUnits(_Strict):
    """Every county-level unit (区/县/县级市) of a province or city, from cnmaps' offline index."""

    province: str = Field(description="full name, e.g. 吉林省")
    city: str | None = Field(default=None, description="full name, e.g. 吉林市")
    level: Literal["county", "区县", "区/县", "district"] = "county"
    include: list[str] | None = Field(default=None, description="keep only these names or codes")
    exclude: list[str] = Field(default_factory=list, description="drop these names or codes")


class UnitEntry(_Strict):
    """One unit of an explicit list."""

    code: str = Field(pattern=_SLUG, description="admin code (6 digits for a county) or another slug")
    name: str | None = None
    admin_name: str | None = Field(default=None, description="省/市/区县, resolved offline by cnmaps")
    fields: dict[str, str] = Field(default_factory=dict, description="extra placeholders for paths")


class BatchOutputs(_Strict):
    """Where the batch writes and in which language its report and map are."""

    folder: Path | None = None
    language: Lang = "zh"


class BatchFile(_Strict):
    """A parsed batch YAML file (paths still as written)."""

    name: str = Field(pattern=_SLUG)
    title: str | None = None
    title_en: str | None = None
    template: Path | None = None
    units: CnmapsUnits | list[UnitEntry] | None = None
    paths: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    scenarios: list[str] | None = None
    outputs: BatchOutputs = BatchOutputs()

    @model_validator(mode="after")
    def _one_kind(self) -> BatchFile:
        if (self.scenarios is None) == (self.template is None):
            raise ValueError("give either 'scenarios' (a list of scenario files) or 'template' with 'units'")
        if self.template is not None and self.units is None:
            raise ValueError("a template batch needs 'units' (a cnmaps province/city or a list of units)")
        if self.scenarios is not None and (self.units is not None or self.paths or self.overrides):
            raise ValueError("'units', 'paths' and 'overrides' go with 'template', not with 'scenarios'")
        unknown = sorted(set(self.paths) - set(PATH_FIELDS))
        if unknown:
            raise ValueError(f"paths: unknown field(s) {unknown}; known: {list(PATH_FIELDS)}")
        return self


@dataclass(frozen=True)
class Unit:
    """One admin unit (or one scenario file) of a batch.

    ``id`` names the unit's folder and Dask key; ``placeholders`` fill the ``paths`` patterns.
    """

    id: str
    name: str
    code: str | None = None
    admin_name: str | None = None
    placeholders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitJob:
    """What a worker needs to run one unit: its scenario file and its output folder (picklable)."""

    unit: Unit
    scenario_path: Path
    out_dir: Path
    force: bool = False
    input_bytes: int = 0
    hint: str | None = None
    log_file: Path | None = None


@dataclass(frozen=True)
class BatchPlan:
    """A batch ready to run: its jobs, where it writes and how it is titled."""

    name: str
    title: str
    out_dir: Path
    language: Lang
    jobs: tuple[UnitJob, ...]
    source: Path | None = None

    def unit_dir(self, unit_id: str) -> Path:
        """The output folder of a unit."""
        return self.out_dir / "units" / unit_id


# ------------------------------------------------------------------------------------------------
# Reading the batch file
# ------------------------------------------------------------------------------------------------


def _line_index(node: yaml.Node, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield from _line_index(value_node, (*path, str(key_node.value)))
            yield (*path, str(key_node.value)), key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _line_index(item, (*path, str(i)))


def _line(lines: dict[tuple[str, ...], int], loc: Sequence[Any]) -> int | None:
    parts = tuple(str(p) for p in loc)
    for n in range(len(parts), -1, -1):
        if parts[:n] in lines:
            return lines[parts[:n]]
    return None


def is_batch_file(path: Path) -> bool:
    """Whether a YAML file is a batch file (has ``template`` or ``scenarios``) rather than a scenario."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and ("template" in data or "scenarios" in data)


def load_batch_file(path: str | Path) -> BatchFile:
    """Read and validate a batch YAML file; raise :class:`BatchSpecError` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise BatchSpecError(problems=[Problem("batch file not found", file=path, fix="check the path")])
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BatchSpecError(
            problems=[
                Problem(
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    file=path,
                    line=mark.line + 1 if mark is not None else None,
                )
            ]
        ) from exc
    if not isinstance(data, dict):
        raise BatchSpecError(
            problems=[Problem("a batch file must be a mapping (name, template, units …)", file=path)]
        )
    lines = dict(_line_index(node)) if node is not None else {}
    try:
        return BatchFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [
                p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
            ]
            message = f"unknown key {loc[-1]!r}" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(
                Problem(
                    message,
                    file=path,
                    location=".".join(str(p) for p in loc) or "(top level)",
                    line=_line(lines, loc),
                    fix="see the batch file format in planner/batch/spec.py or the README",
                )
            )
        raise BatchSpecError(
            f"{path}: {len(problems)} problem(s) in the batch file", problems=problems
        ) from exc


# ------------------------------------------------------------------------------------------------
# Units
# ------------------------------------------------------------------------------------------------


def cnmaps_units(spec: CnmapsUnits, *, source: Path | None = None) -> list[Unit]:
    """The county-level units of a province (or city), from cnmaps' offline index, with NBS codes.

    cnmaps stores one file per unit named by its 6-digit administrative code (= the NBS code's
    county part); the names come from :func:`cnmaps.get_adm_maps`.
    """
    import sqlite3

    import cnmaps

    level = _LEVELS[spec.level]
    db = cnmaps.get_data_provider().get_index_db()
    query = (
        "SELECT province, city, district, path FROM ADMINISTRATIVE "
        "WHERE level = ? AND province = ? AND kind = '陆地'"
    )
    args: list[str] = [level, spec.province]
    if spec.city is not None:
        query += " AND city = ?"
        args.append(spec.city)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(query + " ORDER BY path", args).fetchall()
    where = f"{spec.province}{'/' + spec.city if spec.city else ''}"
    if not rows:
        provinces = cnmaps.get_adm_names(level="省")
        hint = (
            f"province must be a full name such as {', '.join(provinces[:4])} …"
            if spec.province not in provinces
            else "check the city's full name (e.g. 吉林市, not 吉林)"
        )
        raise BatchSpecError(
            problems=[
                Problem(
                    f"cnmaps has no county-level units in {where}", file=source, location="units", fix=hint
                )
            ]
        )
    units = []
    for province, city, district, file in rows:
        code = Path(file).stem
        if not re.fullmatch(r"\d{6}", code):
            raise BatchSpecError(
                problems=[
                    Problem(
                        f"cnmaps gives no 6-digit code for {district} ({file})",
                        file=source,
                        location="units",
                        fix="list the units explicitly with their codes",
                    )
                ]
            )
        names = [p for p in (province, city, district) if p]
        units.append(
            Unit(
                id=code,
                name=district,
                code=code,
                admin_name="/".join(dict.fromkeys(names)),
                placeholders={
                    "code": code,
                    "name": district,
                    "id": code,
                    "province": province,
                    "city": city or province,
                    "district": district,
                },
            )
        )
    keep = set(spec.include) if spec.include is not None else None
    drop = set(spec.exclude)
    units = [u for u in units if (keep is None or {u.code, u.name} & keep) and not {u.code, u.name} & drop]
    if not units:
        raise BatchSpecError(
            problems=[
                Problem(
                    f"include/exclude leave no unit of {where}",
                    file=source,
                    location="units",
                    fix="check the names or codes",
                )
            ]
        )
    return units


def listed_units(entries: Sequence[UnitEntry]) -> list[Unit]:
    """Units from an explicit list."""
    out = []
    for e in entries:
        name = e.name or e.code
        code = e.code if re.fullmatch(r"\d{6}", e.code) else None
        holders = {"code": e.code, "name": name, "id": e.code, **e.fields}
        out.append(Unit(id=e.code, name=name, code=code, admin_name=e.admin_name, placeholders=holders))
    return out


def _check_unique(units: Sequence[Unit], source: Path | None) -> None:
    seen: dict[str, int] = {}
    for u in units:
        seen[u.id] = seen.get(u.id, 0) + 1
    dupes = sorted(k for k, n in seen.items() if n > 1)
    if dupes:
        raise BatchSpecError(
            problems=[
                Problem(
                    f"units appear more than once: {dupes}",
                    file=source,
                    location="units",
                    fix="each unit (scenario name or code) once",
                )
            ]
        )


# ------------------------------------------------------------------------------------------------
# Template → unit scenarios
# ------------------------------------------------------------------------------------------------


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def _fill(pattern: str, unit: Unit, *, source: Path | None, location: str) -> str:
    names = {f for _, f, _, _ in string.Formatter().parse(pattern) if f}
    missing = sorted(names - set(unit.placeholders))
    if missing:
        raise BatchSpecError(
            problems=[
                Problem(
                    f"unit {unit.id} ({unit.name}) has no placeholder {missing} for {pattern!r}",
                    file=source,
                    location=location,
                    fix=f"use one of {sorted(unit.placeholders)}",
                )
            ]
        )
    return pattern.format_map(dict(unit.placeholders))


def _absolute(value: Any, base: Path) -> Any:
    return str((base / value).resolve()) if isinstance(value, str) else value


def _absolute_paths(data: dict[str, Any], base: Path) -> None:
    """Make the input paths a scenario names absolute (in place); absent fields stay absent."""
    for dotted in PATH_FIELDS:
        value = _get(data, dotted)
        if value is not None:
            _set(data, dotted, _absolute(value, base))


def unit_scenario(
    template: dict[str, Any],
    unit: Unit,
    *,
    template_path: Path,
    batch: BatchFile,
    batch_path: Path,
    out_dir: Path,
) -> dict[str, Any]:
    """The scenario of one unit: the template with absolute paths and the unit's paths and overrides.

    Parameters
    ----------
    template
        The template scenario as read from YAML (not modified).
    unit
        The unit.
    template_path
        The template file; its relative paths (and a bare ``standards`` name) are resolved against it.
    batch, batch_path
        The batch file as parsed and its path (``paths`` patterns are relative to its folder).
    out_dir
        The unit's output folder (written as ``outputs.folder``).
    """
    import copy

    data = copy.deepcopy(template)
    base = template_path.parent.resolve()
    _absolute_paths(data, base)
    if isinstance(data.get("standards"), str):
        data["standards"] = str(resolve_profile_path(data["standards"], base))
    if isinstance(data.get("cache_dir"), str):
        data["cache_dir"] = str((base / data["cache_dir"]).resolve())
    for dotted, pattern in batch.paths.items():
        filled = _fill(pattern, unit, source=batch_path, location=f"paths.{dotted}")
        _set(data, dotted, str((batch_path.parent / filled).resolve()))
    area = data.get("study_area")
    if not isinstance(area, dict):
        area = {}
        data["study_area"] = area
    if unit.admin_name is not None and "study_area.boundary" not in batch.paths:
        area.pop("boundary", None)
        area["admin_name"] = unit.admin_name
    if unit.code is not None:
        area["county_code"] = unit.code
    area["county_name"] = unit.name
    base_name = str(data.get("name") or batch.name)
    data["name"] = f"{base_name}-{unit.id}"
    if data.get("title"):
        data["title"] = f"{unit.name} · {data['title']}"
    else:
        data["title"] = unit.name
    if data.get("title_en"):
        data["title_en"] = f"{unit.id} · {data['title_en']}"
    for dotted, value in batch.overrides.items():
        filled = (
            _fill(value, unit, source=batch_path, location=f"overrides.{dotted}")
            if isinstance(value, str)
            else value
        )
        _set(data, dotted, filled)
    outputs = data.get("outputs")
    data["outputs"] = {**(outputs if isinstance(outputs, dict) else {}), "folder": str(out_dir)}
    return data


def _input_bytes(data: dict[str, Any]) -> int:
    total = 0
    for dotted in PATH_FIELDS:
        value = _get(data, dotted)
        if isinstance(value, str):
            p = Path(value)
            total += p.stat().st_size if p.is_file() else 0
    return total


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _scenario_units(batch: BatchFile, batch_dir: Path, source: Path | None) -> list[tuple[Unit, Path]]:
    files: list[Path] = []
    problems = []
    for i, pattern in enumerate(batch.scenarios or []):
        matches = sorted(glob.glob(str(batch_dir / pattern)))
        if not matches:
            problems.append(
                Problem(
                    f"no scenario file matches {pattern!r}",
                    file=source,
                    location=f"scenarios.{i}",
                    fix="paths are relative to the batch file",
                )
            )
        files.extend(Path(m).resolve() for m in matches)
    if problems:
        raise BatchSpecError(problems=problems)
    return scenario_file_units(files)


def scenario_file_units(files: Sequence[Path]) -> list[tuple[Unit, Path]]:
    """A unit per scenario file: id = the scenario's ``name`` (file stem if unreadable)."""
    out = []
    for file in files:
        file = Path(file).resolve()
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            data = None
        data = data if isinstance(data, dict) else {}
        name = data.get("name")
        uid = (
            name
            if isinstance(name, str) and re.fullmatch(_SLUG, name)
            else re.sub(r"[^A-Za-z0-9_.\-]", "_", file.stem)
        )
        found = data.get("study_area")
        area: dict[str, Any] = found if isinstance(found, dict) else {}
        code = str(area.get("county_code")) if area.get("county_code") else None
        label = str(area.get("county_name") or data.get("title") or uid)
        out.append((Unit(id=uid, name=label, code=code, placeholders={"id": uid, "name": label}), file))
    return out


def plan_batch(
    source: str | Path | Sequence[str | Path],
    *,
    out_dir: str | Path | None = None,
    language: Lang | None = None,
    force: bool = False,
) -> BatchPlan:
    """Resolve a batch into jobs: a batch YAML file, or a list of scenario files.

    Parameters
    ----------
    source
        A batch file (see the module docstring), or one or more scenario files.
    out_dir
        The batch's output folder; default: the batch file's ``outputs.folder``, else ``out/<name>``.
    language
        Language of the batch report and map; default: the batch file's, else Chinese.
    force
        Run every unit even when its outputs are up to date.

    Returns
    -------
    BatchPlan
        The jobs, one per unit, in order. Template batches get their unit scenarios written to
        ``<out_dir>/scenarios/<id>.yaml``.
    """
    sources = [Path(source)] if isinstance(source, str | Path) else [Path(s) for s in source]
    if not sources:
        raise BatchSpecError(problems=[Problem("no scenario or batch file given", fix="planner batch FILE…")])
    if len(sources) == 1 and is_batch_file(sources[0]):
        path = sources[0].resolve()
        batch = load_batch_file(path)
        batch_dir = path.parent
        default_out = batch.outputs.folder and (batch_dir / batch.outputs.folder).resolve()
        target = (
            Path(out_dir).resolve()
            if out_dir is not None
            else (default_out or Path("out", batch.name).resolve())
        )
        lang: Lang = language or batch.outputs.language
        title = (batch.title_en if lang == "en" and batch.title_en else batch.title) or batch.name
        if batch.scenarios is not None:
            pairs = _scenario_units(batch, batch_dir, path)
            _check_unique([u for u, _ in pairs], path)
            jobs = tuple(_file_job(u, f, target, force) for u, f in pairs)
        else:
            jobs = _template_jobs(batch, path, target, force)
        return BatchPlan(name=batch.name, title=title, out_dir=target, language=lang, jobs=jobs, source=path)
    missing = [s for s in sources if not s.is_file()]
    if missing:
        raise BatchSpecError(
            problems=[Problem("scenario file not found", file=m, fix="check the path") for m in missing]
        )
    pairs = scenario_file_units(sources)
    _check_unique([u for u, _ in pairs], None)
    target = Path(out_dir).resolve() if out_dir is not None else Path("out", "batch").resolve()
    jobs = tuple(_file_job(u, f, target, force) for u, f in pairs)
    return BatchPlan(
        name=target.name, title=target.name, out_dir=target, language=language or "zh", jobs=jobs
    )


def _file_job(unit: Unit, scenario_file: Path, target: Path, force: bool) -> UnitJob:
    return UnitJob(
        unit,
        scenario_file,
        target / "units" / unit.id,
        force,
        _file_bytes(scenario_file),
        log_file=target / "logs" / f"{unit.id}.log",
    )


def _file_bytes(scenario_file: Path) -> int:
    try:
        data = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return 0
    if not isinstance(data, dict):
        return 0
    base = scenario_file.parent
    _absolute_paths(data, base)
    return _input_bytes(data)


def _template_jobs(batch: BatchFile, path: Path, target: Path, force: bool) -> tuple[UnitJob, ...]:
    assert batch.template is not None and batch.units is not None
    template_path = (path.parent / batch.template).resolve()
    if not template_path.is_file():
        raise BatchSpecError(
            problems=[
                Problem(
                    f"template scenario not found: {template_path}",
                    file=path,
                    location="template",
                    fix="paths are relative to the batch file",
                )
            ]
        )
    template = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    if not isinstance(template, dict):
        raise BatchSpecError(problems=[Problem("the template is not a scenario mapping", file=template_path)])
    units = (
        cnmaps_units(batch.units, source=path)
        if isinstance(batch.units, CnmapsUnits)
        else listed_units(batch.units)
    )
    _check_unique(units, path)
    jobs = []
    for unit in units:
        unit_out = target / "units" / unit.id
        data = unit_scenario(
            template, unit, template_path=template_path, batch=batch, batch_path=path, out_dir=unit_out
        )
        header = (
            f"# Scenario of unit {unit.id} ({unit.name}) made by `planner batch` from\n"
            f"# template {template_path} and batch file {path}. Edit those, not this file.\n"
        )
        scenario_file = target / "scenarios" / f"{unit.id}.yaml"
        _write_if_changed(scenario_file, header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        hint = (
            f"this unit's scenario was made by planner batch from {path} (template {template_path}): "
            "fix the template or the batch file's `paths` / the unit's input files, not the made scenario"
        )
        log_file = target / "logs" / f"{unit.id}.log"
        jobs.append(UnitJob(unit, scenario_file, unit_out, force, _input_bytes(data), hint, log_file))
    return tuple(jobs)
