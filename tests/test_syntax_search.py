"""`descendants_of_types` (a native query) yields what `walk` filtered by type yields, in the same order."""

from __future__ import annotations

import random

import pytest

from linter.syntax import LANGUAGE_BY_SUFFIX, descendants_of_types, parse, walk
from tests.fixture_cases import FIXTURE_SOURCES, FIXTURES

TYPE_SETS = [
    ("call_expression",),
    ("identifier", "property_identifier", "shorthand_property_identifier"),
    ("assignment_expression", "call_expression", "new_expression", "await_expression"),
    ("string", "template_string"),  # "string" is also an anonymous keyword: `x: string`
    ("import",),  # a named node and a keyword on the same bytes
    ("return_statement", "comment"),
    ("no_such_type",),
]


@pytest.mark.parametrize("path", FIXTURE_SOURCES[::3], ids=lambda p: str(p.relative_to(FIXTURES)))
def test_same_nodes_as_a_walk_from_the_root_and_from_inner_nodes(path):
    tree = parse(path.read_bytes(), LANGUAGE_BY_SUFFIX[path.suffix])
    nodes = list(walk(tree.root_node))
    starts = [tree.root_node, *random.Random(path.name).sample(nodes, min(15, len(nodes)))]
    for start in starts:
        for types in TYPE_SETS:
            expected = [n.id for n in walk(start) if n.type in types]
            assert [n.id for n in descendants_of_types(start, types)] == expected, (start.type, types)


def test_a_tree_it_did_not_parse_is_searched_too():
    import tree_sitter as ts

    from linter.syntax import language

    tree = ts.Parser(language("javascript")).parse(b"f(g(1));")
    assert [n.type for n in descendants_of_types(tree.root_node, ("call_expression",))] == ["call_expression"] * 2


def test_the_grammar_of_a_tree_parsed_long_ago_is_known_by_its_root():
    # The project phase keeps hundreds of trees: each is searched with a query of its own grammar (a query of
    # another one would silently find nothing), however many files were parsed since.
    from linter.syntax import _RECENT_TREES, _language_of

    sources = {"javascript": b"const a = <A/>; f(1)", "typescript": b"const a = <T>b; f(1)", "tsx": b"const a: T = <A/>; f(1)"}
    trees = {name: parse(source, name) for name, source in sources.items()}
    for _ in range(_RECENT_TREES):
        parse(b"g()", "javascript")
    for name, tree in trees.items():
        assert _language_of(tree.root_node.named_children[0]) == name
        for types in TYPE_SETS:
            expected = [n.id for n in walk(tree.root_node) if n.type in types]
            assert [n.id for n in descendants_of_types(tree.root_node, types)] == expected, (name, types)


def test_two_nodes_on_the_same_bytes_come_in_walk_order():
    # The query happens to yield the keyword `import` of `import('./page')` before the node that holds it.
    source = b"import { lazy } from 'react'\nconst Page = lazy(() => import('./page').then((m) => m))\n"
    tree = parse(source, "tsx")
    expected = [n.id for n in walk(tree.root_node) if n.type == "import"]
    assert len(expected) == 3
    assert [n.id for n in descendants_of_types(tree.root_node, ("import",))] == expected


def test_the_root_of_a_file_is_searched_once_per_type(monkeypatch):
    import linter.syntax as syntax

    runs = []
    compiled = syntax._types_query

    class Counting:
        def __init__(self, cursor):
            self.cursor = cursor

        def captures(self, node):
            runs.append(node.type)
            return self.cursor.captures(node)

    monkeypatch.setattr(syntax, "_types_query", lambda types, name: Counting(compiled(types, name)))
    monkeypatch.setattr(syntax, "WALK_BUDGET_NODES", 0)
    source = b"const a = f(new B(g()));\nfunction h() { return new C(i()); }\n"
    tree = parse(source, "javascript")
    root = tree.root_node

    def expected(types):
        return [n.id for n in walk(root) if n.type in types]

    for types in [("call_expression",), ("call_expression",), ("new_expression", "call_expression"), ("new_expression",)]:
        assert [n.id for n in descendants_of_types(tree.root_node, types)] == expected(types)
    assert runs == ["program", "program"]  # calls, then news: each type found once
    body = root.named_children[1].child_by_field_name("body")
    assert [n.type for n in descendants_of_types(body, ("call_expression",))] == ["call_expression"]
    assert runs == ["program", "program", "statement_block"]  # inner nodes are searched each time
    parse(source, "javascript")  # the next file: what was found in this one is forgotten
    assert [n.id for n in descendants_of_types(tree.root_node, ("call_expression",))] == expected(("call_expression",))
    assert len(runs) == 4


def test_a_root_only_query_matches_the_root_without_compiling_a_query(monkeypatch):
    import tree_sitter

    from linter import syntax

    def no_query(*args):
        raise AssertionError("compiled a tree-sitter query")

    monkeypatch.setattr(tree_sitter, "Query", no_query)
    tree = syntax.parse(b"const a = 1;\n", "typescript")
    query = syntax.CompiledQuery(" (program) @file ", "typescript")
    assert query.matches(tree.root_node) == [(0, {"file": [tree.root_node]})]
    assert query.matches(tree.root_node, (3, 5)) == [(0, {"file": [tree.root_node]})]
    assert query.captures(tree.root_node) == {"file": [tree.root_node]}
    assert query.matches(tree.root_node.children[0]) == []


def test_a_small_tree_is_walked_rather_than_a_query_compiled_until_the_walks_cost_as_much(monkeypatch):
    import linter.syntax as syntax

    compiled = []
    monkeypatch.setattr(syntax, "_walked_nodes", {})
    monkeypatch.setattr(syntax, "_compiled_types", set())
    monkeypatch.setattr(syntax, "_types_query", lambda types, name: compiled.append(types) or None)
    source = b"const a = f(new B(g()));\nfunction h() { return new C(i()); }\n"
    tree = parse(source, "javascript")
    monkeypatch.setattr(syntax, "WALK_BUDGET_NODES", 2 * tree.root_node.descendant_count)
    body = tree.root_node.named_children[1].child_by_field_name("body")
    for start in [tree.root_node, body, tree.root_node, body]:
        for types in [("call_expression",), ("new_expression", "call_expression"), ("no_such_type",)]:
            assert [n.id for n in descendants_of_types(start, types)] == [n.id for n in walk(start) if n.type in types]
    assert compiled == []  # the root walked once per file, the body three times
    parse(source, "javascript")
    descendants_of_types(tree.root_node, ("call_expression",))
    assert compiled == [("call_expression",)]  # a second file as large: the walks would cost more than the query
