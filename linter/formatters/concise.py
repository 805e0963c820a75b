"""The `concise` format: one line per finding, for grep, editors' problem matchers and quick looks.

`path:line:col: level rule-id message`, in file order; then one line per notice (`level: path: message`) and
the summary (`summary.summary_line`), both left out with `quiet`. Nothing wraps. Everything the repository
wrote goes through `printable`, so a line is always one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.text import Text

from linter.formatters.summary import LEVEL_STYLE, summary_line
from linter.formatters.text import plain_console
from linter.model import Finding, Notice, Report
from linter.terminal_text import printable

if TYPE_CHECKING:
    from linter.formatters import RenderOptions


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    console = plain_console(out, options.color)
    findings = sorted(
        (f for f in report.findings if options.include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    for finding in findings:
        console.print(finding_line(finding))
    if options.quiet:
        return
    for notice in sorted(report.notices, key=lambda n: n.sort_key):
        console.print(notice_line(notice))
    console.print(Text(summary_line(report), style="bold"))


def finding_line(finding: Finding) -> Text:
    span = finding.span
    line = Text.assemble(
        (f"{printable(finding.path)}:{span.start_line}:{span.start_column}:", "bold"),
        " ",
        (finding.level.value, LEVEL_STYLE[finding.level]),
        f" {printable(finding.rule_id)} {printable(finding.message)}",
    )
    if finding.suppressed:
        reason = f": {printable(finding.suppression_reason)}" if finding.suppression_reason else ""
        line.append(f" (suppressed{reason})", style="dim")
    return line


def notice_line(notice: Notice) -> Text:
    where = f"{printable(notice.path)}: " if notice.path else ""
    return Text.assemble((notice.level.value, "bold cyan"), f": {where}{printable(notice.message)}")
