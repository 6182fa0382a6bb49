"""The terminal of the CLI: the consoles, logging set-up, stage progress and the error exit.

Shared by every command module of :mod:`planner.cli`; the library itself never prints.

``planner run`` and ``planner audit`` are quiet by default: a progress bar over the stages (with
the number of models solved while the plan is optimised), then the warnings, each said once — the
same warning repeated, or the same points unreachable on several travel networks, becomes one line
— in the run's language. ``-v`` adds the INFO lines as they come, ``-vv`` the DEBUG ones.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from planner.errors import PlannerError

__all__ = ["WarningGroups", "console", "fail", "out_console", "progress", "setup_logging"]

console = Console(stderr=True)
out_console = Console()

#: Stage names as the progress bar shows them: (Chinese, English).
STAGE_NAMES: Final[dict[str, tuple[str, str]]] = {
    "inputs": ("读取数据", "reading inputs"),
    "classify": ("划分城乡", "classing demand"),
    "network": ("构建路网", "building road networks"),
    "coverage": ("计算覆盖", "measuring coverage"),
    "audit": ("标准核查", "auditing standards"),
    "optimise": ("优化选址", "optimising the plan"),
    "coverage_after": ("评估方案", "measuring the plan"),
    "outputs": ("输出结果", "writing outputs"),
}
RUN_STAGES: Final = tuple(STAGE_NAMES)
AUDIT_STAGES: Final = ("inputs", "classify", "network", "coverage", "audit")

#: Loggers whose INFO lines each report one model solved (counted on the progress bar).
_SOLVE_LOGGERS: Final = ("planner.plan", "planner.optimize")
_NOISY: Final = ("matplotlib", "fiona", "rasterio", "pyogrio", "urllib3", "PIL", "distributed", "numexpr")
_MODES: Final[dict[str, tuple[str, str]]] = {
    "walk": ("步行", "walk"),
    "car": ("车行", "car"),
    "tricycle": ("三轮车", "tricycle"),
}
#: The point-snapping warning of :mod:`planner.network.snap` (grouped over travel modes).
_SNAP: Final = "unreachable by network"


@dataclass
class _Group:
    text: tuple[Any, ...]
    count: int = 0
    modes: list[str] = field(default_factory=list)


class WarningGroups(logging.Handler):
    """Collect the run's warnings and say each once, in the run's language, when asked.

    A warning repeated word for word is one line; the warning that points lie too far from the
    roads, logged once per travel network, is one line naming the networks.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.groups: dict[tuple[Any, ...], _Group] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if _SNAP in str(record.msg) and len(args) == 7:
            label, bad, total, nocoord, far, snap_m, mode = args
            key: tuple[Any, ...] = ("snap", label, bad, total, nocoord, far, snap_m)
            group = self.groups.setdefault(key, _Group(key))
            if str(mode) not in group.modes:
                group.modes.append(str(mode))
            group.count += 1
            return
        key = ("text", record.getMessage())
        self.groups.setdefault(key, _Group(key)).count += 1

    def lines(self, lang: str) -> list[str]:
        """One line per group, in ``lang`` (``zh`` or ``en``)."""
        return [_line(g, lang) for g in self.groups.values()]

    def flush_to(self, target: Console, lang: str) -> None:
        """Print the grouped warnings (then forget them)."""
        title = "注意" if lang == "zh" else "Warning"
        for line in self.lines(lang):
            target.print(f"[yellow]{title}[/]: " + escape(line), highlight=False, soft_wrap=True)
        self.groups.clear()


def _line(group: _Group, lang: str) -> str:
    zh = lang == "zh"
    if group.text[0] == "snap":
        _, _label, bad, total, nocoord, far, snap_m = group.text
        sep = "、" if zh else ", "
        modes = sep.join(_MODES.get(m, (m, m))[0 if zh else 1] for m in group.modes)
        if zh:
            return (
                f"{total:,} 个点中有 {bad:,} 个无法经路网到达（{nocoord} 个无坐标，{far} 个距{modes}道路超过 "
                f"{snap_m:g} 米）"
            )
        return (
            f"{bad:,} of {total:,} points unreachable by network ({nocoord} without coordinates, "
            f"{far} beyond {snap_m:g} m of a {modes} road)"
        )
    text = str(group.text[1])
    if zh:
        text = _zh_warning(text)
    if group.count > 1:
        text += f"（共 {group.count} 次）" if zh else f" ({group.count} times)"
    return text


#: Warnings of the planner in Chinese (regular expression, template).
_ZH: Final = (
    (
        r"^report\.pdf not written: no Chromium found.*$",
        "未生成 report.pdf：未找到 Chromium（请安装 chromium 或设置 PLANNER_CHROMIUM；"
        "--no-pdf 可跳过打印版）",
    ),
    (r"^report\.pdf not written: (.*)$", r"未生成 report.pdf：\1"),
    (r"^removed (.*), left behind by an interrupted run$", r"已删除上次中断运行留下的 \1"),
)


def _zh_warning(text: str) -> str:
    for pattern, template in _ZH:
        if re.match(pattern, text):
            return re.sub(pattern, template, text)
    return text


class _Below(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


def setup_logging(verbose: int | bool, quiet: bool, *, group: bool = False) -> WarningGroups | None:
    """Log through rich on stderr.

    With ``group`` (``planner run``/``audit``): warnings are collected in the returned
    :class:`WarningGroups` (print them with :meth:`WarningGroups.flush_to`), INFO lines show with
    ``-v`` and DEBUG lines with ``-vv``. Without it (the other commands): warnings and up when quiet,
    INFO by default, DEBUG with ``-v``.
    """
    rich = RichHandler(console=console, show_path=False, show_time=False)
    level = int(verbose)
    if not group:
        rich.setLevel(logging.DEBUG if level else logging.WARNING if quiet else logging.INFO)
        logging.basicConfig(level=rich.level, format="%(message)s", handlers=[rich], force=True)
        grouped = None
    else:
        grouped = WarningGroups()
        rich.setLevel(logging.DEBUG if level > 1 else logging.INFO if level == 1 else logging.CRITICAL + 1)
        rich.addFilter(_Below(logging.WARNING))
        handlers: list[logging.Handler] = [rich, grouped]
        logging.basicConfig(
            level=min(rich.level, logging.INFO), format="%(message)s", handlers=handlers, force=True
        )
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return grouped


class _SolveCounter(logging.Handler):
    """Counts the INFO lines of the plan and optimisation loggers: one per model solved."""

    def __init__(self, on_count: Any) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self.on_count = on_count

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.INFO and record.name.startswith(_SOLVE_LOGGERS):
            self.count += 1
            self.on_count(self.count)


@contextlib.contextmanager
def progress(quiet: bool, *, lang: str = "zh", stages: tuple[str, ...] = RUN_STAGES) -> Iterator[Any]:
    """A stage callback: one bar over the run's stages (done / all, elapsed time), naming the stage
    under way and, while the plan is optimised, the models solved so far. Nothing when quiet."""
    if quiet:

        @contextlib.contextmanager
        def silent(_: str) -> Iterator[None]:
            yield

        yield silent
        return
    zh = lang == "zh"
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=len(stages))
        names = {k: v[0 if zh else 1] for k, v in STAGE_NAMES.items()}

        def solved(n: int, name: str) -> None:
            count = f"（已求解 {n} 个模型）" if zh else f" ({n} models solved)"
            bar.update(task, description=names.get(name, name) + count)

        @contextlib.contextmanager
        def stage(name: str) -> Iterator[None]:
            bar.update(task, description=names.get(name, name))
            counter = _SolveCounter(lambda n: solved(n, name))
            root = logging.getLogger()
            root.addHandler(counter)
            try:
                yield
            finally:
                root.removeHandler(counter)
                bar.advance(task)

        yield stage
        done = "完成" if zh else "done"
        bar.update(task, description=done, completed=len(stages))


def fail(exc: PlannerError) -> typer.Exit:
    """Print a planner error and return the exit to raise (exit code 2 for bad input)."""
    console.print("[bold red]error[/]: " + escape(str(exc)), highlight=False, soft_wrap=True)
    return typer.Exit(code=exc.exit_code)
