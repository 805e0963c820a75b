"""The `github` format: GitHub Actions workflow commands, which GitHub turns into annotations on the diff.

`::error file=src/a.ts,line=3,col=5,endLine=3,endColumn=9,title=prisma/x::message`, escaped as the
actions toolkit does (`@actions/core` `toCommandValue`/`escapeData`/`escapeProperty`), after every control
character from the repository but line breaks is made visible (`printable`): the runner's log is a terminal
too. Line breaks are escaped as the toolkit does, so that they stay inside the one command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from linter.model import Finding, Notice, Report
from linter.terminal_text import printable

if TYPE_CHECKING:
    from linter.formatters import RenderOptions


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write one workflow command per unsuppressed finding, then one per notice (none with `options.quiet`).

    Suppressed findings are never annotated, whatever `options.include_suppressed` says.
    """
    for finding in sorted(report.active_findings, key=lambda f: f.sort_key):
        out.write(finding_command(finding) + "\n")
    if options.quiet:
        return
    for notice in sorted(report.notices, key=lambda n: n.sort_key):
        out.write(notice_command(notice) + "\n")


def finding_command(finding: Finding) -> str:
    """Return the workflow command that annotates `finding`."""
    span = finding.span
    properties = {
        "file": finding.path,
        "line": str(span.start_line),
        "col": str(span.start_column),
        "endLine": str(span.end_line),
        "endColumn": str(span.end_column),
        "title": finding.rule_id,
    }
    return _command(finding.level.github_command, properties, finding.message)


def notice_command(notice: Notice) -> str:
    """Return the workflow command that reports `notice`, tied to its file when it has one."""
    properties = {"file": notice.path} if notice.path else {}
    if notice.path and notice.span is not None:
        properties.update(line=str(notice.span.start_line), col=str(notice.span.start_column))
    return _command(notice.level.github_command, properties, notice.message)


def escape_data(value: str) -> str:
    """Escape a command's message as GitHub's runner expects."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a command property value: as data, plus `:` and `,`, which delimit properties."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, properties: dict[str, str], message: str) -> str:
    rendered = ",".join(f"{key}={escape_property(_visible(value))}" for key, value in properties.items())
    separator = " " if rendered else ""
    return f"::{name}{separator}{rendered}::{escape_data(_visible(message))}"


def _visible(text: str) -> str:
    return printable(text, keep_line_breaks=True)  # the escaping above then keeps line breaks inside the command
