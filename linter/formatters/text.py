"""The `text` format: for people at a terminal, in a CI log or a pre-commit run.

Findings in file order, each as a headline `path:line:col: level rule-id` (the level spelled out, so that it
reads without colour), the message below it, wrapped at the given width with an indent, a small code frame
underlining the span and the related places and steps; then notices, a count per rule and the summary
(`summary.summary_line`). Only the messages and notices wrap: a path or a line of code is never broken.
Colour only when asked; otherwise not a single ANSI code. Everything the repository wrote (paths, messages,
source lines) goes through `printable`, and nothing is read as rich markup: a file name can neither drive the
terminal nor style the report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from linter import lazy_re
from linter.analysis import decode_source
from linter.formatters.summary import LEVEL_STYLE, summary_line
from linter.model import Finding, Location, Notice, Report, Span
from linter.terminal_text import printable

if TYPE_CHECKING:
    from linter.formatters import RenderOptions

MAX_FRAME_LINES = 3
TAB_SIZE = 4
MESSAGE_INDENT = 2
LOCATION_INDENT = 4

_GUTTER_STYLE = "blue"
_LINE_BREAK = lazy_re.compile(r"\r\n|\r|\n")


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write `report` for a human; `include_suppressed` also lists suppressed findings, marked and not counted;
    `quiet`: the findings only."""
    console = plain_console(out, options.color)
    width = options.width
    sources = _SourceFiles(Path(report.root), report)
    findings = sorted(
        (f for f in report.findings if options.include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    for finding in findings:
        console.print(headline(finding))
        for line in wrapped(Text(), printable(finding.message), width, MESSAGE_INDENT, first_indent=MESSAGE_INDENT):
            console.print(line)
        for line in _code_frame(sources.lines(finding.path), finding.span, LEVEL_STYLE[finding.level]):
            console.print(line)
        for line in _location_lines(finding, width):
            console.print(line)
        console.print()
    if options.quiet:
        return
    for notice in sorted(report.notices, key=lambda n: n.sort_key):
        for line in notice_lines(notice, width):
            console.print(line)
    if report.notices:
        console.print()
    for line in _summary(report, width):
        console.print(line)


def plain_console(out: TextIO, color: bool) -> Console:
    """A console that writes exactly what it is given: no markup, no highlighting, no wrapping of its own."""
    return Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


def headline(finding: Finding) -> Text:
    """`path:line:col: level rule-id`, and the suppression when it is one."""
    span = finding.span
    line = Text.assemble(
        (f"{printable(finding.path)}:{span.start_line}:{span.start_column}:", "bold"),
        " ",
        (finding.level.value, LEVEL_STYLE[finding.level]),
        " ",
        printable(finding.rule_id),
    )
    if finding.suppressed:
        reason = f": {printable(finding.suppression_reason)}" if finding.suppression_reason else ""
        line.append(f"  (suppressed{reason})", style="dim")
    return line


def notice_lines(notice: Notice, width: int) -> list[Text]:
    """`level: path[:line:col]: message`, wrapped."""
    position = f":{notice.span.start_line}:{notice.span.start_column}" if notice.path and notice.span else ""
    where = f"{printable(notice.path)}{position}: " if notice.path else ""
    prefix = Text.assemble((notice.level.value, "bold cyan"), f": {where}")
    return wrapped(prefix, printable(notice.message), width, MESSAGE_INDENT)


def wrapped(prefix: Text, body: str, width: int, indent: int, first_indent: int = 0) -> list[Text]:
    """`prefix` then `body`, broken at spaces into lines of at most `width` cells: the first line starts with
    `first_indent` spaces and the prefix, the others with `indent` spaces. A word longer than a line (a path, a
    URL) is never split; it overflows on a line of its own."""
    lines: list[Text] = []
    current = Text.assemble(" " * first_indent, prefix)
    used = cell_len(current.plain)
    fresh = True  # nothing of the body on this line yet
    for word in body.split(" "):
        size = cell_len(word)
        if not fresh and used + 1 + size > width:
            lines.append(current)
            current, used, fresh = Text(" " * indent), indent, True
        if not fresh:
            current.append(" ")
            used += 1
        current.append(word)
        used += size
        fresh = False
    lines.append(current)
    return lines


def utf16_column_to_index(line: str, column: int) -> int:
    """Return the index into `line` of the 1-based UTF-16 `column`, clamped to the line's length."""
    units = 0
    for index, char in enumerate(line):
        if units >= column - 1:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


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


def _location_lines(finding: Finding, width: int) -> list[Text]:
    lines = [line for loc in finding.related for line in _location_line("related", loc, width)]
    for number, loc in enumerate(finding.code_flow, start=1):
        lines += _location_line(f"step {number}", loc, width)
    return lines


def _location_line(label: str, location: Location, width: int) -> list[Text]:
    span = location.span
    where = Text.assemble(
        f"{' ' * MESSAGE_INDENT}{label}: ", (f"{printable(location.path)}:{span.start_line}:{span.start_column}", "bold")
    )
    if not location.message:
        return [where]
    where.append("  ")
    return wrapped(where, printable(location.message), width, LOCATION_INDENT)


def _summary(report: Report, width: int) -> list[Text]:
    counts = Counter(f.rule_id for f in report.active_findings)
    digits = len(str(max(counts.values(), default=0)))
    lines = [
        Text.assemble(f"  {count:>{digits}}  ", (printable(rule_id), "bold"))
        for rule_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if lines:
        lines.append(Text())
    for line in wrapped(Text(), summary_line(report), width, 0):
        line.stylize("bold")
        lines.append(line)
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _display(source: str) -> str:
    return printable(source.expandtabs(TAB_SIZE))


class _SourceFiles:
    """Source lines by repository-relative path, read once; None for a file that cannot be read as UTF-8. The
    file a run read from stdin shows the text it was given."""

    def __init__(self, root: Path, report: Report) -> None:
        self.root = root
        self.cache: dict[str, list[str] | None] = {}
        if report.stdin is not None:
            self.cache[report.stdin.path] = _LINE_BREAK.split(report.stdin.text)

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
