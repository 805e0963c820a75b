"""Turns byte offsets into the positions findings carry: the one place columns are converted.

Lines end at `\\n`, `\\r\\n` or a lone `\\r` (as editors and GitHub count them, and unlike tree-sitter's rows);
columns are 1-based UTF-16 code units.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from linter.model import Span

_BREAK_BYTES = b"\r\n"


class LineIndex:
    def __init__(self, source: bytes) -> None:
        self._source = source
        self._line_starts = line_starts(source)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_of(self, offset: int) -> int:
        """1-based line holding byte `offset`."""
        return bisect_right(self._line_starts, offset)

    def line_start(self, line: int) -> int:
        return self._line_starts[line - 1]

    def line_bytes(self, line: int) -> bytes:
        start = self._line_starts[line - 1]
        end = self._line_starts[line] if line < len(self._line_starts) else len(self._source)
        return self._source[start:end].rstrip(b"\r\n")

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) for a byte offset: 1-based, column in UTF-16 code units."""
        offset = max(0, min(offset, len(self._source)))
        line = self.line_of(offset)
        prefix = self._source[self._line_starts[line - 1] : offset]
        return line, utf16_length(prefix.decode("utf-8", "replace")) + 1

    def span(self, start_byte: int, end_byte: int) -> Span:
        start_line, start_column = self.position(start_byte)
        end_line, end_column = self.position(end_byte)
        return Span(start_line=start_line, start_column=start_column, end_line=end_line, end_column=end_column)


def line_starts(source: bytes) -> list[int]:
    """The offset of each line's first byte: 0, and the end of every line break (`\\n`, `\\r\\n`, a lone `\\r`:
    where `bytes.splitlines` breaks lines, without a Python step per line)."""
    starts = [0, *accumulate(map(len, source.splitlines(True)))]
    if source and source[-1] not in _BREAK_BYTES:  # the last line has no break: no line starts after it
        starts.pop()
    return starts


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
