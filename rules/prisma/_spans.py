"""Finding a node of another module again from the span a flow step recorded (the project phase reads files
by path and knows steps by their 1-based lines and UTF-16 columns)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.model import Span
from linter.syntax import Node

if TYPE_CHECKING:
    from linter.context import FileContext


def span_data(file: "FileContext", node: Node) -> list[int]:
    span = file.lines.span(node.start_byte, node.end_byte)
    return [span.start_line, span.start_column, span.end_line, span.end_column]


def span_of(data: list) -> Span:
    start_line, start_column, end_line, end_column = data
    return Span(start_line=start_line, start_column=start_column, end_line=end_line, end_column=end_column)


def span_key(span: Span) -> tuple[int, int, int, int]:
    return (span.start_line, span.start_column, span.end_line, span.end_column)


def node_at(file: "FileContext", span: Span) -> Node | None:
    """The smallest node of `file` that spans `span`."""
    start, end = _offset(file, span.start_line, span.start_column), _offset(file, span.end_line, span.end_column)
    if start is None or end is None:
        return None
    return file.root.descendant_for_byte_range(start, end)


def _offset(file: "FileContext", line: int, column: int) -> int | None:
    """The byte offset of a 1-based line and UTF-16 column (the inverse of `LineIndex.position`)."""
    if line < 1 or line > file.lines.line_count:
        return None
    text = file.lines.line_bytes(line).decode("utf-8", "replace")
    units, index = 0, 0
    while index < len(text) and units < column - 1:
        units += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return file.lines.line_start(line) + len(text[:index].encode("utf-8"))
