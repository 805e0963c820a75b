"""Positions in an editor's document, in the unit the client and server agreed on (LSP `positionEncoding`).

Findings carry 1-based lines and 1-based UTF-16 columns, and fixes byte offsets into the text the analysis
parsed: the document's UTF-8 bytes after a byte-order mark (`linter.analysis.decode_source`). Editors count
0-based lines and columns in UTF-16 code units unless they agreed on UTF-8 bytes or code points (Neovim and
Helix offer UTF-8 first). Lines end at `\\n`, `\\r\\n` or a lone `\\r` for both.
"""

from __future__ import annotations

from bisect import bisect_right

from linter import lazy_re
from linter.model import Span

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"

_LINE_BREAK = lazy_re.compile(rb"\r\n|\r|\n")
_BOM = "\ufeff"


def units(text: str, encoding: str) -> int:
    """The length of `text` in the code units of `encoding`."""
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == UTF32:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class DocumentText:
    """One version of a document: converts the positions of findings and fixes into the client's positions."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.encoding = encoding
        self.bom = text.startswith(_BOM)
        self.source = (text[1:] if self.bom else text).encode("utf-8", "surrogatepass")
        self._starts = [0] + [match.end() for match in _LINE_BREAK.finditer(self.source)]

    def line_text(self, line: int) -> str:
        """The text of 0-based `line`, without its line break."""
        if not 0 <= line < len(self._starts):
            return ""
        end = self._starts[line + 1] if line + 1 < len(self._starts) else len(self.source)
        return self.source[self._starts[line] : end].rstrip(b"\r\n").decode("utf-8", "replace")

    def at_byte(self, offset: int) -> tuple[int, int]:
        """The (line, character) of a byte offset into the parsed text."""
        offset = max(0, min(offset, len(self.source)))
        line = bisect_right(self._starts, offset) - 1
        prefix = self.source[self._starts[line] : offset].decode("utf-8", "replace")
        return line, self._shifted(line, units(prefix, self.encoding))

    def at(self, line: int, column: int) -> tuple[int, int]:
        """The (line, character) of a finding's 1-based line and 1-based UTF-16 column."""
        line -= 1
        if self.encoding == UTF16:
            return line, self._shifted(line, column - 1)
        text, wanted, taken = self.line_text(line), column - 1, 0
        characters = 0
        for character in text:
            if taken >= wanted:
                break
            taken += units(character, UTF16)
            characters += 1
        return line, self._shifted(line, units(text[:characters], self.encoding))

    def span(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        return self.at(span.start_line, span.start_column), self.at(span.end_line, span.end_column)

    def line_ending(self) -> str:
        match = _LINE_BREAK.search(self.source)
        return "\n" if match is None else match.group().decode()

    def _shifted(self, line: int, character: int) -> int:
        # The analysis counted from after the byte-order mark; the editor counts it on the first line.
        return character + units(_BOM, self.encoding) if self.bom and line == 0 else character
