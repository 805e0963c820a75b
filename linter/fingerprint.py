"""GitHub code scanning's `primaryLocationLineHash`, computed exactly as github/codeql-action does.

A port of `hash()` in codeql-action `src/fingerprints.ts`: a rolling hash (base 37, signed 64-bit wrap-around,
as the `long` package computes it) over a window of the next 100 characters from the start of each line,
skipping spaces and tabs. `\\r\\n` and lone `\\r` count as one `\\n`. Characters are UTF-16 code units, because
the original iterates with `charCodeAt`. After the text comes an end-of-file marker (65535) and then zeros, so
the last lines still see a full window; a text ending in a newline therefore has one more hash than lines.
A hash seen before gets its occurrence number as suffix: `"<hex>:1"`, `"<hex>:2"`, ….
"""

from __future__ import annotations

import sys

from array import array
from functools import lru_cache
from itertools import accumulate

_BLOCK_SIZE = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, _BLOCK_SIZE, 1 << 64)
_LF = ord("\n")
_EOF = 65535


def line_hashes(text: str, lines: int | None = None) -> list[str]:
    """Return the `primaryLocationLineHash` of every line of `text`; index i holds line i + 1. With `lines`, of
    its first `lines` lines only (each hash depends on the text from its line on for 100 units, and on the lines
    above): a report needs them up to its last finding in the file.

    A text ending in a line break yields one extra entry for the empty last line, as GitHub's does.
    """
    return list(_cached_line_hashes(text, lines))


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
def _cached_line_hashes(text: str, lines: int | None = None) -> tuple[str, ...]:
    hashed = _hashed_text(text)
    cut = _end_of_window(hashed, lines) if lines is not None else None
    units = _code_units(hashed[:cut] if cut is not None else hashed)
    # Every line's hash is that of the window of the 100 units from its first one: with the hash of each prefix
    # of the units (the end-of-file marker and the zeros after it included), a window's hash is the difference
    # of two of them, so the per-unit work is one multiply-add in `accumulate`. Cut short, the units go on
    # at least 100 past the start of the last line wanted: no window reaches the end of the text.
    padded = units + [_EOF] + [0] * _BLOCK_SIZE if cut is None else units
    prefix = list(accumulate(padded, lambda value, unit: (value * _MOD + unit) & _MASK, initial=0))
    starts = [0]
    starts += [index + 1 for index, unit in enumerate(units) if unit == _LF]
    if lines is not None:
        del starts[max(lines, 0) :]
    seen: dict[str, int] = {}
    hashes = []
    for start in starts:
        value = format((prefix[start + _BLOCK_SIZE] - prefix[start] * _FIRST_MOD) & _MASK, "x")
        seen[value] = seen.get(value, 0) + 1
        hashes.append(f"{value}:{seen[value]}")
    return tuple(hashes)


def _end_of_window(hashed: str, lines: int) -> int | None:
    """Where the window of the last of the first `lines` lines of `hashed` (`_hashed_text`) surely ends, as an
    index into it (each character is one or two units); None when that is the end of the text."""
    start = 0
    for _ in range(lines - 1):
        start = hashed.find("\n", start) + 1
        if start == 0:
            return None
    end = start + _BLOCK_SIZE
    return end if end < len(hashed) else None


def _hashed_text(text: str) -> str:
    """The text the hash rolls over: spaces and tabs left out, `\\r\\n` and a lone `\\r` read as `\\n` (a space or
    tab between `\\r` and `\\n` leaves two line breaks)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace(" ", "").replace("\t", "")


def _code_units(text: str) -> list[int]:
    """The UTF-16 code units of `text`."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    units = array("H", encoded)
    if sys.byteorder == "big":
        units.byteswap()
    return units.tolist()
