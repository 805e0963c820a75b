"""The `text` format: for people at a terminal.

Findings in file order, each as `path:line:col  rule-id  message` with a small code frame underlining the span,
then notices, a count per rule and a one-line total. Colour only when asked; otherwise not a single ANSI code.
Everything the repository wrote (paths, messages, source lines) goes through `printable`, and nothing is read as
rich markup: a file name can neither drive the terminal nor style the report.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from linter.analysis import decode_source
from linter.model import Finding, Level, Location, Report, Span
from linter.terminal_text import printable

MAX_FRAME_LINES = 3
TAB_SIZE = 4

_LEVEL_STYLE = {Level.ERROR: "bold red", Level.WARNING: "bold yellow", Level.NOTE: "bold blue"}
_GUTTER_STYLE = "blue"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def render(report: Report, out: TextIO, *, color: bool = False, include_suppressed: bool = False) -> None:
    """Write `report` for a human; `include_suppressed` also lists suppressed findings, marked and not counted."""
    console = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )
    sources = _SourceFiles(Path(report.root))
    findings = sorted(
        (f for f in report.findings if include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    for finding in findings:
        console.print(_headline(finding))
        for line in _code_frame(sources.lines(finding.path), finding.span, _LEVEL_STYLE[finding.level]):
            console.print(line)
        for line in _location_lines(finding):
            console.print(line)
        console.print()
    for notice in sorted(report.notices, key=lambda n: n.sort_key):
        position = f":{notice.span.start_line}:{notice.span.start_column}" if notice.path and notice.span else ""
        where = f"{printable(notice.path)}{position}: " if notice.path else ""
        console.print(Text.assemble(("note", "bold cyan"), f": {where}{printable(notice.message)}"))
    if report.notices:
        console.print()
    for line in _summary(report):
        console.print(line)


def summary_line(report: Report) -> str:
    """Return the closing line: "Found 3 problems (2 errors, 1 warning) in 12 files." or "No problems …"."""
    active = report.active_findings
    files = _plural(report.files_checked, "file")
    if not active:
        return f"No problems found in {files}."
    by_level = Counter(f.level for f in active)
    levels = sorted(by_level, key=lambda level: -level.rank)
    details = ", ".join(_plural(by_level[level], level.value) for level in levels)
    return f"Found {_plural(len(active), 'problem')} ({details}) in {files}."


def utf16_column_to_index(line: str, column: int) -> int:
    """Return the index into `line` of the 1-based UTF-16 `column`, clamped to the line's length."""
    units = 0
    for index, char in enumerate(line):
        if units >= column - 1:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def _headline(finding: Finding) -> Text:
    span = finding.span
    headline = Text.assemble(
        (f"{printable(finding.path)}:{span.start_line}:{span.start_column}", "bold"),
        "  ",
        (printable(finding.rule_id), _LEVEL_STYLE[finding.level]),
        "  ",
        printable(finding.message),
    )
    if finding.suppressed:
        reason = f": {printable(finding.suppression_reason)}" if finding.suppression_reason else ""
        headline.append(f"  (suppressed{reason})", style="dim")
    return headline


def _code_frame(lines: list[str] | None, span: Span, style: str) -> list[Text]:
    if lines is None or not 1 <= span.start_line <= len(lines):
        return []
    last_shown = min(span.end_line, span.start_line + MAX_FRAME_LINES - 1, len(lines))
    width = len(str(last_shown))
    blank_gutter = f"  {'':>{width}} | "
    frame: list[Text] = []
    for number in range(span.start_line, last_shown + 1):
        raw = lines[number - 1]
        begin = utf16_column_to_index(raw, span.start_column) if number == span.start_line else _indent(raw)
        end = utf16_column_to_index(raw, span.end_column) if number == span.end_line else len(raw.rstrip())
        frame.append(Text.assemble((f"  {number:>{width}} | ", _GUTTER_STYLE), _display(raw)))
        if end <= begin and not (number == span.start_line == span.end_line):
            continue
        offset = cell_len(_display(raw[:begin]))
        marks = max(1, cell_len(_display(raw[:end])) - offset)
        frame.append(Text.assemble((blank_gutter, _GUTTER_STYLE), " " * offset, ("^" * marks, style)))
    if last_shown < span.end_line:
        frame.append(Text.assemble((blank_gutter, _GUTTER_STYLE), "..."))
    return frame


def _location_lines(finding: Finding) -> list[Text]:
    lines = [_location_line("related", loc) for loc in finding.related]
    lines += [_location_line(f"step {n}", loc) for n, loc in enumerate(finding.code_flow, start=1)]
    return lines


def _location_line(label: str, location: Location) -> Text:
    span = location.span
    text = Text.assemble(f"  {label}: ", (f"{printable(location.path)}:{span.start_line}:{span.start_column}", "bold"))
    if location.message:
        text.append(f"  {printable(location.message)}")
    return text


def _summary(report: Report) -> list[Text]:
    counts = Counter(f.rule_id for f in report.active_findings)
    width = len(str(max(counts.values(), default=0)))
    lines = [
        Text.assemble(f"  {count:>{width}}  ", (printable(rule_id), "bold"))
        for rule_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if lines:
        lines.append(Text())
    lines.append(Text(summary_line(report), style="bold"))
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _display(source: str) -> str:
    return printable(source.expandtabs(TAB_SIZE))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _SourceFiles:
    """Source lines by repository-relative path, read once; None for a file that cannot be read as UTF-8."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self.cache:
            self.cache[path] = self._read(path)
        return self.cache[path]

    def _read(self, path: str) -> list[str] | None:
        try:
            raw = (self.root / path).read_bytes()
        except OSError:
            return None
        source, _ = decode_source(raw)  # as the file was linted: BOM dropped, UTF-16 converted
        if source is None:
            return None
        # Lines as findings count them: "\r\n", "\r" and "\n" all end one.
        return _LINE_BREAK.split(source.decode("utf-8"))
