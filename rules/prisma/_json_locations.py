"""Where the values of a JSON document are: byte offsets of every string value by its key path, for findings
that point into `package.json` scripts or `railway.json` commands. `json` itself keeps no positions.

    {"scripts": {"build": "prisma db push && next build"}}
    → JsonString(path=("scripts", "build"), value="prisma db push && next build", start=22, end=52)

The scanner is iterative and forgiving: it stops at the first thing that is not JSON and returns what it read.
"""

from __future__ import annotations

import json

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

_STRING = lazy_re.compile(rb'"(?:\\.|[^"\\])*"')
_SCALAR = lazy_re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_SPACE = lazy_re.compile(rb"[ \t\r\n]*")


@dataclass(frozen=True)
class JsonString:
    path: tuple[str | int, ...]  # object keys and array indexes from the top
    value: str
    start: int  # the opening quote
    end: int  # after the closing quote
    escaped: bool = False  # the literal has escapes: its characters do not map one to one to the file's

    def offset_of(self, index: int) -> int | None:
        """The byte offset of character `index` of the value, when the literal has no escapes."""
        if self.escaped:
            return None
        return self.start + 1 + len(self.value[:index].encode("utf-8"))


def json_strings(source: bytes) -> list[JsonString]:
    """Every string value (not key) of the document, in document order."""
    found: list[JsonString] = []
    # Each frame: [kind ("object"/"array"), path, next array index, pending key]
    stack: list[list] = []
    position = _SPACE.match(source, 0).end()
    expect_value = True
    while position < len(source):
        char = source[position : position + 1]
        frame = stack[-1] if stack else None
        if char in (b"}", b"]"):
            if not stack:
                break
            stack.pop()
            position += 1
            expect_value = False
        elif char == b",":
            position += 1
            expect_value = frame is not None and frame[0] == "array"
        elif frame is not None and frame[0] == "object" and frame[3] is None:
            key = _STRING.match(source, position)
            if key is None:
                break
            colon = _SPACE.match(source, key.end()).end()
            if source[colon : colon + 1] != b":":
                break
            frame[3] = _decode(key.group())
            position = colon + 1
            expect_value = True
        elif expect_value:
            path = _value_path(frame)
            if char in (b"{", b"["):
                stack.append(["object" if char == b"{" else "array", path, 0, None])
                position += 1
                expect_value = char == b"["
            elif char == b'"':
                literal = _STRING.match(source, position)
                if literal is None:
                    break
                raw = literal.group()
                found.append(JsonString(path, _decode(raw), literal.start(), literal.end(), b"\\" in raw))
                position = literal.end()
                expect_value = False
            else:
                scalar = _SCALAR.match(source, position)
                if scalar is None:
                    break
                position = scalar.end()
                expect_value = False
        else:
            break
        position = _SPACE.match(source, position).end()
    return found


def _value_path(frame: list | None) -> tuple[str | int, ...]:
    if frame is None:
        return ()
    if frame[0] == "object":
        key, frame[3] = frame[3], None
        return (*frame[1], key)
    index = frame[2]
    frame[2] += 1
    return (*frame[1], index)


def _decode(literal: bytes) -> str:
    try:
        return json.loads(literal)
    except ValueError:
        return literal[1:-1].decode("utf-8", "replace")
