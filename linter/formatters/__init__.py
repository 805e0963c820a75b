"""Output formats: one module per format, each exposing `render(report, out, options)`.

The human-readable ones (`text`, `concise`, `github`, and `--statistics`) show every string from the scanned
repository through `terminal_text.printable`; the machine-readable ones (`json`, `sarif`, `gitlab`, `junit`)
are valid JSON or XML whatever the repository holds.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, TextIO

from linter.lazy_dataclasses import dataclass

if TYPE_CHECKING:  # the command line reads FORMATS before it knows it will lint: keep this module light
    from linter.model import Report

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit")
STATISTICS_FORMATS = ("text", "concise", "json")  # the formats --statistics can print in
COLOR_FORMATS = ("text", "concise")
FINGERPRINT_FORMATS = ("json", "sarif", "gitlab")  # the formats that show each finding's line hash
DEFAULT_WIDTH = 80

# Imported when used: rich and sarif-om take longer to import than a pre-commit run takes to lint.
_MODULES: dict[str, str] = {
    "text": "linter.formatters.text",
    "concise": "linter.formatters.concise",
    "json": "linter.formatters.json_format",
    "sarif": "linter.formatters.sarif",
    "github": "linter.formatters.github",
    "gitlab": "linter.formatters.gitlab",
    "junit": "linter.formatters.junit",
}


@dataclass(frozen=True)
class RenderOptions:
    """How to render: `color` (text and concise only); `include_suppressed` adds suppressed findings, marked,
    to the formats that can carry them (never GitHub annotations or GitLab issues); `quiet` leaves out all but
    the findings (notices, counts, the summary) in text, concise and github; `width`, the column the text
    format wraps messages at."""

    color: bool = False
    include_suppressed: bool = False
    quiet: bool = False
    width: int = DEFAULT_WIDTH


def render(
    report: "Report",
    fmt: str,
    out: TextIO,
    *,
    color: bool = False,
    include_suppressed: bool = False,
    quiet: bool = False,
    width: int = DEFAULT_WIDTH,
    statistics: bool = False,
) -> None:
    """Write `report` to `out` in format `fmt` (one of FORMATS); with `statistics`, the counts per rule instead
    of the findings (in one of STATISTICS_FORMATS). Raises ValueError for an unknown format or combination."""
    if fmt not in _MODULES:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    options = RenderOptions(color=color, include_suppressed=include_suppressed, quiet=quiet, width=width)
    if statistics:
        if fmt not in STATISTICS_FORMATS:
            raise ValueError(f"--statistics prints in {', '.join(STATISTICS_FORMATS)}, not {fmt}")
        from linter.formatters.statistics import render as render_statistics

        render_statistics(report, out, options, as_json=fmt == "json")
        return
    import_module(_MODULES[fmt]).render(report, out, options)
