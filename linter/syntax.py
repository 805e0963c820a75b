"""Every call into the tree-sitter binding lives here (its API changed a lot across versions).

Languages are picked by file extension: `.js .jsx .mjs .cjs` → javascript (its grammar parses JSX),
`.ts .mts .cts` → typescript, `.tsx` → tsx.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import tree_sitter as ts

Node = ts.Node
Tree = ts.Tree
QueryError = ts.QueryError

LANGUAGE_BY_SUFFIX = {
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}
LANGUAGES = ("javascript", "typescript", "tsx")


@lru_cache(maxsize=None)
def language(name: str) -> ts.Language:
    if name == "javascript":
        import tree_sitter_javascript

        return ts.Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    if name == "typescript":
        return ts.Language(tree_sitter_typescript.language_typescript())
    if name == "tsx":
        return ts.Language(tree_sitter_typescript.language_tsx())
    raise ValueError(f"unknown language {name!r}")


@lru_cache(maxsize=None)
def _parser(name: str) -> ts.Parser:
    return ts.Parser(language(name))


def parse(source: bytes, language_name: str) -> ts.Tree:
    return _parser(language_name).parse(source)


class CompiledQuery:
    """One tree-sitter query compiled for one language, with a reusable cursor."""

    def __init__(self, source: str, language_name: str) -> None:
        self.source = source
        self._query = ts.Query(language(language_name), source)
        self._cursor = ts.QueryCursor(self._query)

    @property
    def pattern_count(self) -> int:
        return self._query.pattern_count

    def start_byte_for_pattern(self, pattern_index: int) -> int:
        """Where pattern `pattern_index` starts in the query source, in bytes."""
        return self._query.start_byte_for_pattern(pattern_index)

    def matches(self, node: ts.Node) -> list[tuple[int, dict[str, list[ts.Node]]]]:
        return self._cursor.matches(node)


@lru_cache(maxsize=256)
def compile_query(source: str, language_name: str) -> CompiledQuery:
    """Compile `source` for one language, once per process; raises QueryError (a ValueError) on a bad pattern."""
    return CompiledQuery(source, language_name)


def walk(node: ts.Node) -> Iterator[ts.Node]:
    """Every node below (and including) `node`, in document order, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def node_at(root: ts.Node, start_byte: int, end_byte: int) -> ts.Node | None:
    """The smallest node under `root` that spans the bytes `start_byte`..`end_byte`."""
    return root.descendant_for_byte_range(start_byte, end_byte)


def text(node: ts.Node | None) -> str:
    if node is None:
        return ""
    return node.text.decode("utf-8", "replace")
