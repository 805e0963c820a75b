"""Import bindings and module references: what they hold, and that looking only where the words `import`,
`export` and `require` occur finds exactly what a search of the whole tree finds."""

from __future__ import annotations

import pytest

from linter.js.imports import _module_nodes, collect_bindings, collect_references
from linter.syntax import LANGUAGE_BY_SUFFIX, compile_query, parse
from tests.fixture_cases import FIXTURE_SOURCES


def _references(source: str, language: str = "typescript") -> list[tuple[str, str]]:
    tree = parse(source.encode(), language)
    return [(r.specifier, r.kind) for r in collect_references(tree.root_node, source.encode())]


def _bindings(source: str, language: str = "typescript") -> list[tuple[str, str, str]]:
    tree = parse(source.encode(), language)
    return [(b.local, b.module, b.imported) for b in collect_bindings(tree.root_node, source.encode())]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import a from './a';\nexport { b } from './b';\nexport * from './c';\n",
         [("./a", "import"), ("./b", "export"), ("./c", "export")]),
        ("import type { T } from './types';\nimport './side-effect';\n", [("./types", "import"), ("./side-effect", "import")]),
        # dynamic imports and require calls anywhere, also inside a top-level export
        ("export const load = () => import('./lazy');\n", [("./lazy", "dynamic")]),
        ("import a from './a';\nfunction f() { return require('./b'); }\n", [("./a", "import"), ("./b", "require")]),
        ("const page = dynamic(() => import('./page'));\n", [("./page", "dynamic")]),
        # an import statement the grammar accepts inside a block, and in an ambient module
        ("function f() {\n  import x from './nested';\n}\n", [("./nested", "import")]),
        ("declare module 'm' {\n  export * from './inner';\n}\n", [("./inner", "export")]),
        ("import x = require('./legacy');\n", [("./legacy", "require")]),
        # the words alone are no reference
        ("// import a from './commented';\nconst important = 'export';\n", []),
        ("export default function handler() {}\n", []),
    ],
)  # fmt: skip
def test_references(source, expected):
    assert _references(source) == expected


def test_bindings_of_imports_and_requires():
    source = (
        "import a, { b as c, 'd' as e } from './m';\nimport * as ns from 'ns';\n"
        "const { f, g: h } = require('r');\nconst i = require('s').j;\nimport k = require('t');\n"
    )
    assert _bindings(source) == [
        ("a", "./m", "default"), ("c", "./m", "b"), ("e", "./m", "d"), ("ns", "ns", "*"),
        ("f", "r", "f"), ("h", "r", "g"), ("i", "s", "j"), ("k", "t", "*"),
    ]  # fmt: skip


def test_bindings_inside_a_block_are_found():
    assert _bindings("function f() {\n  import x from './nested';\n}\n") == [("x", "./nested", "default")]


# What the module nodes are, as one query over the whole tree.
_MODULE_NODES = """
(import_statement) @node
(export_statement source: (_)) @node
(call_expression function: (identifier) @function (#eq? @function "require")) @node
(call_expression function: (import)) @node
"""


@pytest.mark.parametrize(
    "source",
    [
        "const a = require('a'), b = (await require('b')).c;\nfoo.require('x'); require.resolve('y');\n",
        "// require('commented')\nconst s = 'import x from \"y\"';\nconst t = `export * from '${z}'`;\n",
        "export const load = () => import('./lazy');\nconst m = import.meta.url;\nimportant(exporter);\n",
        "function f() {\n  import x from './nested';\n  export * from './again';\n}\n",
        "import {\n  a,\n} from 'a'\nexport { b } from 'b'\nexport default function () { return require('c') }\n",
        "import x = require('legacy');\nexport import y = require('other');\n",
        "import from 'broken' from\nrequire(\nexport *\n",  # syntax errors
    ],
)
def test_the_word_search_finds_what_a_whole_tree_search_finds(source):
    raw = source.encode()
    root = parse(raw, "typescript").root_node
    searched = compile_query(_MODULE_NODES, "typescript").captures(root).get("node", [])
    expected = sorted({n.id: n for n in searched}.values(), key=lambda n: (n.start_byte, -n.end_byte))
    assert [n.id for n in _module_nodes(root, raw)] == [n.id for n in expected]


def test_the_word_search_agrees_with_a_whole_tree_search_on_every_fixture():
    for path in FIXTURE_SOURCES:
        raw = path.read_bytes()
        language = LANGUAGE_BY_SUFFIX[path.suffix]
        root = parse(raw, language).root_node
        searched = compile_query(_MODULE_NODES, language).captures(root).get("node", [])
        expected = sorted({n.id: n for n in searched}.values(), key=lambda n: (n.start_byte, -n.end_byte))
        assert [n.id for n in _module_nodes(root, raw)] == [n.id for n in expected], path


def test_a_file_is_searched_for_module_nodes_once_for_its_references_and_bindings(monkeypatch):
    import linter.js.imports as imports

    looked_at = []
    real = imports._module_node_at
    monkeypatch.setattr(imports, "_module_node_at", lambda leaf, at, word: looked_at.append(at) or real(leaf, at, word))
    first = b"import a from './a';\nconst b = require('./b');\n"
    root = parse(first, "typescript").root_node
    assert [r.specifier for r in collect_references(root, first)] == ["./a", "./b"]
    assert [(b.local, b.module) for b in collect_bindings(root, first)] == [("a", "./a"), ("b", "./b")]
    assert len(looked_at) == 2  # each word looked at once, for both
    # The next file parsed has its own (nodes found in one file never stand for another's).
    second = b"import c from './c';\n"
    root = parse(second, "typescript").root_node
    assert [(b.local, b.module) for b in collect_bindings(root, second)] == [("c", "./c")]
    assert [r.specifier for r in collect_references(root, second)] == ["./c"]
    assert len(looked_at) == 3


@pytest.mark.parametrize(
    "literal, value",
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("''", ""),
        ("'it\\'s'", "it\\'s"),  # escapes are kept as written
        ("'tab\\tin'", "tab\\tin"),
        ("`template`", "template"),
        ("`with ${x}`", None),
    ],
)
def test_string_value(literal, value):
    from linter.js.imports import string_value

    tree = parse(f"f({literal});".encode(), "javascript")
    argument = tree.root_node.named_children[0].named_children[0].child_by_field_name("arguments").named_children[0]
    assert string_value(argument) == value


def test_string_value_of_a_jsx_attribute_leaves_out_character_references():
    from linter.js.imports import string_value
    from linter.syntax import descendants_of_types

    tree = parse(b'const a = <a title="x&amp;y" />;', "javascript")
    (attribute,) = [n for n in descendants_of_types(tree.root_node, ("string",)) if n.is_named]
    assert string_value(attribute) == "xy"
