"""GitHub code scanning's `primaryLocationLineHash`, computed exactly as github/codeql-action does.

A port of `hash()` in codeql-action `src/fingerprints.ts`: a rolling hash (base 37, signed 64-bit wrap-around,
as the `long` package computes it) over a window of the next 100 characters from the start of each line,
skipping spaces and tabs. `\\r\\n` and lone `\\r` count as one `\\n`. Characters are UTF-16 code units, because
the original iterates with `charCodeAt`. After the text comes an end-of-file marker (65535) and then zeros, so
the last lines still see a full window; a text ending in a newline therefore has one more hash than lines.
A hash seen before gets its occurrence number as suffix: `"<hex>:1"`, `"<hex>:2"`, ….
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

_BLOCK_SIZE = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, _BLOCK_SIZE, 1 << 64)
_TAB = ord("\t")
_SPACE = ord(" ")
_LF = ord("\n")
_CR = ord("\r")
_EOF = 65535


def line_hashes(text: str) -> list[str]:
    """Return the `primaryLocationLineHash` of every line of `text`; index i holds line i + 1.

    A text ending in a line break yields one extra entry for the empty last line, as GitHub's does.
    """
    return list(_cached_line_hashes(text))


def line_hash_for(text: str, line: int) -> str:
    """Return the `primaryLocationLineHash` of the 1-based `line` of `text`.

    Hashing a file is linear in its size; repeated calls on the same text reuse the last results.
    Raises IndexError when the line is not in the text.
    """
    hashes = _cached_line_hashes(text)
    if not 1 <= line <= len(hashes):
        raise IndexError(f"line {line} is outside the text (1..{len(hashes)})")
    return hashes[line - 1]


@lru_cache(maxsize=16)
def _cached_line_hashes(text: str) -> tuple[str, ...]:
    return tuple(_RollingHasher().run(_utf16_code_units(text)))


def _utf16_code_units(text: str) -> Iterator[int]:
    for char in text:
        code = ord(char)
        if code <= 0xFFFF:
            yield code
        else:
            code -= 0x10000
            yield 0xD800 + (code >> 10)
            yield 0xDC00 + (code & 0x3FF)


class _RollingHasher:
    def __init__(self) -> None:
        self.window = [0] * _BLOCK_SIZE
        self.line_starts = [-1] * _BLOCK_SIZE
        self.hash = 0
        self.index = 0
        self.line_number = 0
        self.at_line_start = True
        self.after_cr = False
        self.seen: dict[str, int] = {}
        self.hashes: list[str] = []

    def run(self, code_units: Iterator[int]) -> list[str]:
        for unit in code_units:
            self._process(unit)
        self._process(_EOF)
        for _ in range(_BLOCK_SIZE):
            if self.line_starts[self.index] != -1:
                self._emit()
            self._roll(0)
        return self.hashes

    def _process(self, unit: int) -> None:
        if unit in (_SPACE, _TAB) or (self.after_cr and unit == _LF):
            self.after_cr = False
            return
        self.after_cr = unit == _CR
        if unit == _CR:
            unit = _LF
        if self.line_starts[self.index] != -1:
            self._emit()
        if self.at_line_start:
            self.at_line_start = False
            self.line_number += 1
            self.line_starts[self.index] = self.line_number
        if unit == _LF:
            self.at_line_start = True
        self._roll(unit)

    def _roll(self, unit: int) -> None:
        leaving = self.window[self.index]
        self.window[self.index] = unit
        self.hash = (_MOD * self.hash + unit - _FIRST_MOD * leaving) & _MASK
        self.index = (self.index + 1) % _BLOCK_SIZE

    def _emit(self) -> None:
        # Windows complete in line order, so appending keeps hashes[i] for line i + 1.
        value = format(self.hash, "x")
        self.seen[value] = self.seen.get(value, 0) + 1
        self.hashes.append(f"{value}:{self.seen[value]}")
        self.line_starts[self.index] = -1
