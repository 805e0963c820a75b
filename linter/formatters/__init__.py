"""Output formats: one module per format, each exposing `render(report, out, *, color, include_suppressed)`."""

from __future__ import annotations

from types import ModuleType
from typing import TextIO

from linter.formatters import github, json_format, sarif, text
from linter.model import Report

FORMATS = ("text", "json", "sarif", "github")

_MODULES: dict[str, ModuleType] = {
    "text": text,
    "json": json_format,
    "sarif": sarif,
    "github": github,
}


def render(
    report: Report, fmt: str, out: TextIO, *, color: bool = False, include_suppressed: bool = False
) -> None:
    """Write `report` to `out` in format `fmt` (one of FORMATS).

    `color` only affects `text`; `include_suppressed` adds suppressed findings, marked as such, to the formats
    that can carry them (`text`, `json`, `sarif`; GitHub annotations never show suppressed findings).
    Raises ValueError for an unknown format.
    """
    module = _MODULES.get(fmt)
    if module is None:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    module.render(report, out, color=color, include_suppressed=include_suppressed)
