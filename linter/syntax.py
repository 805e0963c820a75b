"""Every call into the tree-sitter binding lives here (its API changed a lot across versions).

Languages are picked by file extension: `.js .jsx .mjs .cjs` → javascript (its grammar parses JSX),
`.ts .mts .cts` → typescript, `.tsx` → tsx.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from functools import cached_property, lru_cache
from typing import Callable, Iterable, Iterator

import tree_sitter as ts

from linter import lazy_re

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


def has_node_type(language_name: str, kind: str) -> bool:
    """Whether the grammar has named nodes of type `kind` (a query naming one it lacks does not compile)."""
    return language(language_name).id_for_node_kind(kind, True) is not None


@lru_cache(maxsize=None)
def _parser(name: str) -> ts.Parser:
    return ts.Parser(language(name))


# A node does not say which grammar made it, and a query compiled for another language silently matches
# nothing. So `parse` remembers the language of the trees it made lately, holding them so that no other tree
# can take their root's id; `descendants_of_types` falls back to a walk for any other tree.
_RECENT_TREES = 8
_recent_trees: OrderedDict[int, tuple[ts.Tree, str]] = OrderedDict()


# What helpers learn of a node once (the names a scope declares), for the file being analysed now: forgotten
# when the next file is parsed, so that no entry outlives its tree.
_node_facts: dict[tuple[int, str], tuple[ts.Node, object]] = {}


def node_fact(node: ts.Node, key: str, compute):
    """`compute(node)`, once per node and key while its file is the one being analysed."""
    entry = _node_facts.get((node.id, key))
    if entry is not None and entry[0] == node:
        return entry[1]
    value = compute(node)
    _node_facts[(node.id, key)] = (node, value)
    return value


class ParseCancelled(Exception):
    """`should_stop` asked `parse` to stop."""


_READ_CHUNK = 1 << 16


def parse(source: bytes, language_name: str, should_stop: Callable[[], bool] | None = None) -> ts.Tree:
    """The syntax tree of `source`. `should_stop`, called every few hundred parser steps, cancels the parse by
    returning True (ParseCancelled).

    NUL bytes end comments and strings in tree-sitter's lexers, so the parser reads them as spaces (one byte
    for one: every offset holds). The tree is then parsed again from `source` itself with the first as the old
    tree and no edit declared, which reuses it whole (a fraction of a millisecond) and gives nodes whose text
    is `source`'s bytes. Cancelling needs the text read through a callback, and a tree parsed that way reads
    each node's text through it: such a tree is parsed again from `source` the same way.
    """
    parser = _parser(language_name)
    _node_facts.clear()
    text = source.replace(b"\0", b" ") if b"\0" in source else source
    if should_stop is None:
        tree = parser.parse(text)
    else:
        try:
            tree = parser.parse(
                lambda offset, point: text[offset : offset + _READ_CHUNK],
                progress_callback=lambda offset, has_error: should_stop(),
            )
        except BaseException as error:
            parser.reset()  # else the next parse would resume this one
            if isinstance(error, ValueError) and should_stop():
                raise ParseCancelled from None
            raise
    if text is not source or should_stop is not None:
        tree = parser.parse(source, tree)
    _recent_trees[tree.root_node.id] = (tree, language_name)
    while len(_recent_trees) > _RECENT_TREES:
        _recent_trees.popitem(last=False)
    return tree


# Query matching runs in native code that nothing can interrupt (`linter.deadline`), and its work grows with
# the number of nodes times the depth they sit at: a pattern begun in an ancestor is visited again at every
# node below it (20,000 nested parentheses: minutes). A tree whose node count times depth is over this budget
# is not queried. Real files stay far below it (31,000 files of 40 open-source apps: at most 1.1e7, a 520 kB
# bundle 73 levels deep), 5,000 levels of nesting are within it, and no built-in query takes more than a few
# seconds on a tree at the budget.
QUERY_BUDGET = 1_000_000_000
# tree-sitter's query cursor keeps depths in 16 bits: it does not see nodes deeper than this (the root is at
# depth 0). The budget alone keeps every queried tree far shallower (depth <= sqrt(QUERY_BUDGET), since a
# tree has more nodes than levels).
QUERY_MAX_DEPTH = 65_535
assert QUERY_BUDGET < (QUERY_MAX_DEPTH + 1) ** 2


def too_deep(root: ts.Node) -> int | None:
    """None when queries can match the tree under `root` in bounded time; else the depth limit it goes past
    (which depends on its size). Visits only subtrees big enough to reach below the limit: for most files,
    none."""
    limit = min(QUERY_MAX_DEPTH, QUERY_BUDGET // max(root.descendant_count, 1))
    cursor = root.walk()
    depth = 0
    while True:
        if depth > limit:
            return limit
        # A subtree of n nodes (itself included) reaches at most n - 1 levels below its root.
        if depth + cursor.node.descendant_count - 1 > limit and cursor.goto_first_child():
            depth += 1
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return None
            depth -= 1


_ROOT_ONLY = lazy_re.compile(r"\s*\(program\)\s*@([\w.-]+)\s*")


def is_root_only(source: str) -> bool:
    """Whether the query is `(program) @p`, answered without compiling it."""
    return _ROOT_ONLY.fullmatch(source) is not None


class CompiledQuery:
    """One tree-sitter query compiled for one language, with a reusable cursor. `(program) @p`, which matches
    the root and nothing else, is answered without one: compiling a query costs milliseconds, and running it
    tens of microseconds per file."""

    def __init__(self, source: str, language_name: str, shared: tuple[ts.Query, str, range] | None = None) -> None:
        """`shared`: a query compiled from `source` and others (`compile_together`), its text, and the indexes
        of the patterns that are `source`'s."""
        self.source = source
        self.language_name = language_name
        root_only = _ROOT_ONLY.fullmatch(source)
        self._root_capture = root_only.group(1) if root_only else None
        self._patterns: range | None = None
        if shared is not None:
            self._cursor_query, self._query_text, self._patterns = shared
            self._cursor = ts.QueryCursor(self._cursor_query)
        elif self._root_capture is None:
            self._cursor_query, self._query_text = ts.Query(language(language_name), source), source
            self._cursor = ts.QueryCursor(self._cursor_query)

    def matches(
        self, node: ts.Node, byte_range: tuple[int, int] | None = None
    ) -> list[tuple[int, dict[str, list[ts.Node]]]]:
        """The matches under `node`; with `byte_range` (start, end), only those with a node that overlaps those
        bytes, found visiting only the nodes that do."""
        if self._root_capture is not None:
            return [(0, captures)] if (captures := self._root_captures(node, byte_range)) else []
        self._cursor.set_byte_range(*(byte_range or _WHOLE_RANGE))
        if self._patterns is None:
            return self._cursor.matches(node)
        first, own = self._patterns.start, self._patterns
        return [(index - first, captures) for index, captures in self._cursor.matches(node) if index in own]

    def matches_in_ranges(
        self, node: ts.Node, ranges: list[tuple[int, int]]
    ) -> list[tuple[int, dict[str, list[ts.Node]]]]:
        """The matches under `node` with a node that overlaps one of `ranges` (sorted, apart), as `matches` gives
        them for one range from the first of `ranges` to the end of the last, provided that every match there
        overlaps one of `ranges`. Each range is visited alone; a range with no match tells that none of the
        bytes it covers is needed, so that only the stretch from the first range with a match to the last is
        visited again, and only when two ranges had matches whose order the cursor alone knows."""
        found = [(at, matched) for at in ranges if (matched := self.matches(node, at))]
        if len(found) <= 1:
            return found[0][1] if found else []
        if self._last_captures is not None:
            merged = _in_cursor_order([match for _, matched in found for match in matched], self._last_captures)
            if merged is not None:
                return merged
        return self.matches(node, (found[0][0][0], found[-1][0][1]))

    @cached_property
    def _last_captures(self) -> tuple[str, ...] | None:
        """The capture of the last node of each pattern, or None when some pattern has none, repeats a node
        (`*`, `+`, `?`) or negates a field. The cursor gives a match of such a pattern as it enters that node
        (patterns that repeat nodes wait to see whether a longer match follows), so in the order of those
        nodes in the document, outer first."""
        if self._root_capture is not None:
            return None
        query, source = self._cursor_query, self._query_text.encode()
        captures = []
        for index in self._patterns if self._patterns is not None else range(query.pattern_count):
            pattern = source[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)].decode()
            bare = _PATTERN_NOISE.sub("", _QUERY_STRING.sub('""', pattern))
            last = _LAST_NODE_CAPTURED.search(bare)
            if last is None or any(sign in bare for sign in "*+?!"):
                return None
            captures.append(last.group(1))
        return tuple(captures)

    def captures(self, node: ts.Node) -> dict[str, list[ts.Node]]:
        if self._root_capture is not None:
            return self._root_captures(node, None)
        if self._patterns is not None:  # the others' captures would be mixed in
            return compile_query(self.source, self.language_name).captures(node)
        self._cursor.set_byte_range(*_WHOLE_RANGE)
        return self._cursor.captures(node)

    def _root_captures(self, node: ts.Node, byte_range: tuple[int, int] | None) -> dict[str, list[ts.Node]]:
        if node.type != "program":
            return {}
        if byte_range is not None and not (node.end_byte > byte_range[0] and node.start_byte < byte_range[1]):
            return {}
        return {self._root_capture: [node]}


_WHOLE_RANGE = (0, 0xFFFFFFFF)  # a query cursor's byte range until one is set
_QUERY_STRING = lazy_re.compile(r'"(?:[^"\\]|\\.)*"')
# What a pattern holds besides its nodes, fields and captures, once its strings are emptied: predicates,
# comments, spaces.
_PATTERN_NOISE = lazy_re.compile(r"\(#[^()]*\)|;[^\n]*|\s+")
# The end of a pattern whose last node (or each of the last alternatives) has no children and is captured:
# `(property_identifier) @name))`, `[(identifier) (member_expression)] @callee) @call`.
_NODE = r"\((?:_|[A-Za-z]\w*)\)"
_LAST_NODE_CAPTURED = lazy_re.compile(rf"(?:{_NODE}|\[(?:{_NODE})+\])@([\w.-]+)(?:@[\w.-]+)*(?:\)(?:@[\w.-]+)*)*$")


def _in_cursor_order(
    matches: list[tuple[int, dict[str, list[ts.Node]]]], last_captures: tuple[str, ...]
) -> list[tuple[int, dict[str, list[ts.Node]]]] | None:
    """Matches found in several runs of a cursor, each once, in the order one run gives them: that of the last
    node of each (`CompiledQuery._last_captures`) in the document, outer first. None when two matches end on
    nodes that span the same bytes: which comes first is the cursor's to say."""
    keyed = {}
    for index, captures in matches:
        last = captures[last_captures[index]][0]
        identity = tuple(sorted((name, tuple(n.id for n in nodes)) for name, nodes in captures.items()))
        keyed[(last.start_byte, -last.end_byte, index, identity)] = (index, captures)
    keys = sorted(keyed)
    if any(a[:2] == b[:2] for a, b in zip(keys, keys[1:])):
        return None
    return [keyed[key] for key in keys]


# What this process compiled, by (source, language): alone, and together with others (`compile_together`).
_compiled_alone: set[tuple[str, str]] = set()
_compiled_together: dict[tuple[str, str], CompiledQuery] = {}


@lru_cache(maxsize=256)
def compile_query(source: str, language_name: str) -> CompiledQuery:
    """Compile `source` for one language, once per process; raises QueryError (a ValueError) on a bad pattern."""
    compiled = CompiledQuery(source, language_name)
    _compiled_alone.add((source, language_name))
    return compiled


def compiled_together(source: str, language_name: str) -> CompiledQuery | None:
    """`source` as this process compiled it together with others, or None."""
    return _compiled_together.get((source, language_name))


def compiled_before(source: str, language_name: str) -> bool:
    """Whether this process compiled `source` already, alone or with others."""
    return (source, language_name) in _compiled_alone or (source, language_name) in _compiled_together


def compile_together(sources: list[str], language_name: str) -> dict[str, CompiledQuery]:
    """Each of `sources` (none of them `(program) @p` alone) compiled as one query, where a run compiles only a
    few: compiling a TypeScript query costs 2 to 3 ms however small, and more for each parent node its patterns
    name (work its patterns share). Each gives the matches of its own patterns alone, numbered as compiling it
    alone numbers them (and is kept for `compiled_together`). Raises QueryError when one of them is bad."""
    text = "\n".join(sources)
    query = ts.Query(language(language_name), text)
    starts, offset = [], 0
    for source in sources:
        starts.append(offset)
        offset += len(source.encode()) + 1
    owner = [bisect_right(starts, query.start_byte_for_pattern(index)) - 1 for index in range(query.pattern_count)]
    compiled = {}
    for at, source in enumerate(sources):
        own = [index for index, of in enumerate(owner) if of == at]
        patterns = range(own[0], own[-1] + 1) if own else range(0)
        compiled[source] = _compiled_together[(source, language_name)] = CompiledQuery(
            source, language_name, (query, text, patterns)
        )
    return compiled


def walk(node: ts.Node) -> Iterator[ts.Node]:
    """Every node below (and including) `node`, in document order, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def descendants_of_types(node: ts.Node, types: Iterable[str]) -> list[ts.Node]:
    """The nodes under (and including) `node` whose type is one of `types`, in document order, like
    `walk` filtered by type. In a tree from `parse` the search runs in native code (a query), which is
    many times faster than visiting every node in Python; at the root of such a tree, the nodes of each type
    are found once per file, for every helper and rule that asks."""
    wanted = tuple(sorted(set(types)))
    language_name = _language_of(node)
    if language_name is None:
        return [n for n in walk(node) if n.type in wanted]
    if node.parent is None:
        found = _root_index(node, language_name, wanted)
        nodes = [n for kind in wanted for n in found.get(kind, ())]
    elif _walk_instead_of_compiling(wanted, language_name, node):
        return [n for n in walk(node) if n.type in wanted]
    else:
        query = _types_query(wanted, language_name)
        nodes = query.captures(node).get("node", []) if query is not None else []
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))  # outer before inner, as `walk` yields
    if any(a.byte_range == b.byte_range for a, b in zip(nodes, nodes[1:])):
        return [n for n in walk(node) if n.type in wanted]  # which of two nodes on the same bytes comes first
    return nodes


def _root_index(root: ts.Node, language_name: str, wanted: tuple[str, ...]) -> dict[str, list[ts.Node]]:
    """The nodes of the tree under `root` by type, for (at least) the types in `wanted`: the types not asked
    for before in this file are found in one run of a query, or every type in one walk."""
    found: _TypeIndex = node_fact(root, "nodes by type", lambda _: _TypeIndex())
    missing = tuple(kind for kind in wanted if kind not in found)
    if missing and not found.complete and _walk_instead_of_compiling(missing, language_name, root):
        found.clear()
        for n in walk(root):
            found.setdefault(n.type, []).append(n)
        found.complete = True
    elif missing and not found.complete:
        query = _types_query(missing, language_name)
        for kind in missing:
            found[kind] = []
        for n in query.captures(root).get("node", []) if query is not None else ():
            found[n.type].append(n)
    return found


def _language_of(node: ts.Node) -> str | None:
    """The grammar of a node in one of the trees `parse` made lately, or of a tree whose root is a `program`
    (its symbol differs in each grammar: the trees the project phase parses and keeps), else None."""
    root = node
    while (parent := root.parent) is not None:
        root = parent
    remembered = _recent_trees.get(root.id)
    if remembered is not None:
        return remembered[1]
    return _language_of_program().get(root.kind_id) if root.type == "program" else None


@lru_cache(maxsize=None)
def _language_of_program() -> dict[int, str]:
    found = {language(name).id_for_node_kind("program", True): name for name in LANGUAGES}
    assert len(found) == len(LANGUAGES)  # one symbol per grammar
    return found


class _TypeIndex(dict):
    """The nodes of a tree by type; `complete` once every node is in it (a type absent then has none)."""

    complete = False


# Compiling a query of node types costs about as much as visiting 2,000 nodes in Python (1.7 ms), the first
# time in a process: until the walks a set of types would have saved add up to that, the tree is walked
# instead (a pre-commit run parses a few files, and asks for dozens of sets of types in each).
WALK_BUDGET_NODES = 2_000
_walked_nodes: dict[tuple[tuple[str, ...], str], int] = {}  # the nodes walked instead of compiling each query


def _walk_instead_of_compiling(types: tuple[str, ...], language_name: str, node: ts.Node) -> bool:
    key = (types, language_name)
    if key in _compiled_types:
        return False
    walked = _walked_nodes.get(key, 0) + node.descendant_count
    if walked > WALK_BUDGET_NODES:
        return False
    _walked_nodes[key] = walked
    return True


_compiled_types: set[tuple[tuple[str, ...], str]] = set()


@lru_cache(maxsize=128)
def _types_query(types: tuple[str, ...], language_name: str) -> ts.QueryCursor | None:
    _compiled_types.add((types, language_name))
    grammar = language(language_name)
    # `walk` also yields anonymous nodes: the keyword `string` in `x: string` has the type "string" too.
    alternatives = [f"({kind})" for kind in types if grammar.id_for_node_kind(kind, True) is not None]
    alternatives += [_quoted(kind) for kind in types if grammar.id_for_node_kind(kind, False) is not None]
    if not alternatives:
        return None
    return ts.QueryCursor(ts.Query(grammar, f"[{' '.join(alternatives)}] @node"))


def _quoted(kind: str) -> str:
    return '"' + kind.replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_at(root: ts.Node, start_byte: int, end_byte: int) -> ts.Node | None:
    """The smallest node under `root` that spans the bytes `start_byte`..`end_byte`."""
    return root.descendant_for_byte_range(start_byte, end_byte)


def first_error(root: ts.Node) -> ts.Node | None:
    """The first node the parser could not read (an ERROR, or a token it assumed MISSING), in document order;
    only the subtrees that hold an error are visited."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        stack.extend(reversed([child for child in node.children if child.has_error or child.is_missing]))
    return None


def same_node(node: ts.Node | None, other: ts.Node | None) -> bool:
    """The same node of one tree, found twice (by span and type: two lookups may give two Python objects)."""
    return (
        node is not None
        and other is not None
        and (node.start_byte, node.end_byte, node.type) == (other.start_byte, other.end_byte, other.type)
    )


def text(node: ts.Node | None) -> str:
    if node is None:
        return ""
    return node.text.decode("utf-8", "replace")
