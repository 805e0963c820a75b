"""Next.js middleware `matcher`s: which paths the middleware runs on.

`matcher_patterns(middleware)` reads `export const config = { matcher }` (a string, an array of strings or of
`{ source }` objects); `matches(pattern, url)` says whether one covers a route's URL. Patterns are
path-to-regexp: literal segments, `:name` parameters with `*`, `+` or `?`, and the common
`/((?!api|_next/static|favicon.ico).*)` group. Anything else is not read, and counts as matching: the scanned
repository writes these patterns, and a regular expression of its own could backtrack for ever.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.expressions import object_keys, unwrap
from linter.js.imports import string_value
from linter.syntax import text

if TYPE_CHECKING:
    from linter.context import FileContext

_SAMPLE_SEGMENT = "x1"  # the value a dynamic segment (`[id]`) is given


def matcher_patterns(middleware: "FileContext") -> list[str] | None:
    """The `matcher` strings of `export const config = { matcher }`; None when there is none or it cannot be read."""
    for statement in middleware.root.named_children:
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else None
        if declaration is None or declaration.type != "lexical_declaration":
            continue
        for declarator in declaration.named_children:
            if declarator.type != "variable_declarator" or text(declarator.child_by_field_name("name")) != "config":
                continue
            value = unwrap(declarator.child_by_field_name("value"))
            matcher = unwrap(object_keys(value).get("matcher")) if value is not None and value.type == "object" else None
            if matcher is None:
                return None
            items = matcher.named_children if matcher.type == "array" else [matcher]
            patterns = []
            for item in items:
                item = unwrap(item)
                if item is not None and item.type == "object":
                    item = unwrap(object_keys(item).get("source"))
                pattern = string_value(item)
                if pattern is None:
                    return None
                patterns.append(pattern)
            return patterns
    return None


_PARAMETER = lazy_re.compile(r"(/)?:(\w+)([*+?])?")
# What this reads of a matcher: literal path characters, `:name` parameters (with `*`, `+`, `?`) and the common
# `((?!api|_next/static|favicon.ico).*)` group; anything else is not read (the scanned repository writes it, and
# a regular expression of its own could backtrack for ever).
_EXCLUDING_GROUP = lazy_re.compile(r"\(\(\?![\w\-./~@%|]*\)\.\*\)")
_LITERAL_PATH = lazy_re.compile(r"[\w\-./~@%]*")
_MAX_MATCHER = 300


def matches(pattern: str, url: str) -> bool:
    """Whether a Next.js `matcher` (path-to-regexp syntax) matches `url`, its dynamic segments given a sample
    value. A pattern this cannot read matches."""
    sample = "/".join(_SAMPLE_SEGMENT if part.startswith("[") else part for part in url.split("/"))
    rest = _EXCLUDING_GROUP.sub("", _PARAMETER.sub("", pattern))
    if len(pattern) > _MAX_MATCHER or len(sample) > _MAX_MATCHER or not _LITERAL_PATH.fullmatch(rest):
        return True
    if any(found.group(3) in ("*", "+") and not found.group(1) for found in _PARAMETER.finditer(pattern)):
        return True  # repeated parameters not split by `/` could backtrack for ever
    out, at = [], 0
    for found in _PARAMETER.finditer(pattern):
        out.append(pattern[at : found.start()])
        slash, _, modifier = found.groups()
        body = "[^/]+"
        prefix = "/" if slash else ""
        if modifier == "*":
            out.append(f"(?:{prefix}(?:{body}))*")
        elif modifier == "+":
            out.append(f"(?:{prefix}{body})+")
        elif modifier == "?":
            out.append(f"(?:{prefix}{body})?")
        else:
            out.append(f"{prefix}(?:{body})")
        at = found.end()
    out.append(pattern[at:])
    regex = "".join(out)
    try:
        return re.fullmatch(regex, sample) is not None or re.fullmatch(regex, sample + "/") is not None
    except re.error:
        return True
