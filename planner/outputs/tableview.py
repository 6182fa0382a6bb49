"""The report's tables as the template shows them: cells with their text, raw value and class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.outputs import i18n

__all__ = ["Cell", "TableView"]


@dataclass
class Cell:
    """One table cell: the text shown, the raw value and its key for machines, a CSS class."""

    text: str
    value: Any = None
    key: str | None = None
    cls: str = ""

    @property
    def data_value(self) -> str | None:
        """The raw value as text for ``data-value`` (``None`` leaves the attribute out)."""
        if self.value is None or i18n.is_missing(self.value):
            return None
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return repr(float(self.value)) if isinstance(self.value, int | float) else str(self.value)


@dataclass
class TableView:
    """A table ready for the template."""

    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    id: str = ""
    foot: list[Cell] | None = None
