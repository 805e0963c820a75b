"""Output formats: one module per format, each exposing `render(report, out, *, color, include_suppressed)`."""

from __future__ import annotations

from importlib import import_module
from typing import TextIO

from linter.model import Report

FORMATS = ("text", "json", "sarif", "github")

# Imported when used: rich and sarif-om take longer to import than a pre-commit run takes to lint.
_MODULES: dict[str, str] = {
    "text": "linter.formatters.text",
    "json": "linter.formatters.json_format",
    "sarif": "linter.formatters.sarif",
    "github": "linter.formatters.github",
}


def render(
    report: Report, fmt: str, out: TextIO, *, color: bool = False, include_suppressed: bool = False
) -> None:
    """Write `report` to `out` in format `fmt` (one of FORMATS).

    `color` only affects `text`; `include_suppressed` adds suppressed findings, marked as such, to the formats
    that can carry them (`text`, `json`, `sarif`; GitHub annotations never show suppressed findings).
    Raises ValueError for an unknown format.
    """
    if fmt not in _MODULES:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    import_module(_MODULES[fmt]).render(report, out, color=color, include_suppressed=include_suppressed)
