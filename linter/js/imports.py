"""What each local name of a file was imported as: ESM `import`, CommonJS `require`, TS `import x = require()`.

`imported` is the exported name, `"default"` for a default import, or `"*"` for the module object
(a namespace import or a plain `require`). CommonJS packages are reached both ways, so sinks should
accept `"*"` and `"default"` alike for a package's module object.
"""

from __future__ import annotations

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, node_fact, text


@dataclass(frozen=True)
class ImportBinding:
    local: str
    module: str
    imported: str


@dataclass(frozen=True)
class ModuleReference:
    """A module this file reaches: `import`/`export … from`, `require()`, `import()`."""

    specifier: str
    kind: str  # "import", "export", "require", "dynamic"
    start_byte: int
    end_byte: int


_NOT_PLAIN = lazy_re.compile(rb"[\\&\n\r]")  # an escape, a JSX character reference, a string broken across lines


def string_value(node: Node | None) -> str | None:
    """The value of a plain string literal (or a template literal without substitutions), else None."""
    if node is None:
        return None
    if node.type == "string":
        raw = node.text
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in b"'\"" and not _NOT_PLAIN.search(raw):
            return raw[1:-1].decode("utf-8", "replace")  # quoted text alone, the common case: no need to visit its parts
        return "".join(text(c) for c in node.named_children if c.type in ("string_fragment", "escape_sequence"))
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
        return "".join(text(c) for c in node.named_children if c.type in ("string_fragment", "escape_sequence"))
    return None


def package_name(specifier: str) -> str:
    """The package a bare specifier names: `@prisma/client/edge` → `@prisma/client`; `pg/lib/x` → `pg`."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def require_specifier(node: Node | None) -> str | None:
    """'m' for `require('m')`, else None."""
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type != "identifier" or text(function) != "require":
        return None
    arguments = node.child_by_field_name("arguments")
    if arguments is None or arguments.named_child_count != 1:
        return None
    return string_value(arguments.named_children[0])


def collect_references(root: Node, source: bytes) -> list[ModuleReference]:
    """Every module the file reaches, in document order."""
    references: list[ModuleReference] = []
    for node in _module_nodes(root, source):
        kind = node.type
        if kind == "import_statement":
            _import_reference(node, references)
        elif kind == "export_statement":
            specifier = string_value(node.child_by_field_name("source"))
            if specifier is not None:
                references.append(ModuleReference(specifier, "export", node.start_byte, node.end_byte))
        else:
            _call(node, references)
    return references


def collect_bindings(root: Node, source: bytes) -> list[ImportBinding]:
    """Every import binding in the file, in document order."""
    bindings: list[ImportBinding] = []
    declarators: dict[int, Node] = {}
    nodes = []
    for node in _module_nodes(root, source):
        if node.type == "import_statement":
            nodes.append(node)
        elif node.type == "call_expression":
            declarator = _declarator_around(node)
            if declarator is not None and declarator.id not in declarators:
                declarators[declarator.id] = declarator
                nodes.append(declarator)
    for node in sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte)):
        if node.type == "import_statement":
            _import_statement(node, bindings)
        else:
            _require_declarator(node, bindings)
    return bindings


# The words a module reference starts with: an `import`/`export … from` statement, `require(…)`, `import(…)`.
_KEYWORDS = (b"import", b"export", b"require")


def _module_nodes(root: Node, source: bytes) -> list[Node]:
    """The import statements, re-exports, `require()` and `import()` calls of the file, in document order,
    found once per file for both `collect_references` and `collect_bindings`.

    Each starts with one of `_KEYWORDS`, so only the places where those words occur in the text are looked at
    (most files hold a few), not the whole tree."""
    return node_fact(root, "module nodes", lambda _: _find_module_nodes(root, source))


def _find_module_nodes(root: Node, source: bytes) -> list[Node]:
    found: dict[int, Node] = {}
    for word in _KEYWORDS:
        at = source.find(word)
        while at != -1:
            node = _module_node_at(root.descendant_for_byte_range(at, at + len(word)), at, word)
            if node is not None:
                found[node.id] = node
            at = source.find(word, at + 1)
    return sorted(found.values(), key=lambda n: (n.start_byte, -n.end_byte))


def _module_node_at(leaf: Node | None, at: int, word: bytes) -> Node | None:
    """The statement or call that the keyword token `leaf` (the word at byte `at`) begins, if it reaches a module."""
    if leaf is None or leaf.start_byte != at or leaf.end_byte != at + len(word):
        return None  # part of a longer name, a string or a comment
    parent = leaf.parent
    if parent is None:
        return None
    if word == b"export":
        return parent if parent.type == "export_statement" and parent.child_by_field_name("source") is not None else None
    if word == b"require":
        if leaf.type == "identifier" and parent.type == "call_expression" and parent.child_by_field_name("function") == leaf:
            return parent
        return None
    if parent.type == "import_statement":
        return parent
    function = leaf if leaf.is_named else parent  # `import(…)`: the keyword, inside a named `import` node
    call = function.parent
    if function.type == "import" and call is not None and call.type == "call_expression":
        return call if call.child_by_field_name("function") == function else None
    return None


def _declarator_around(call: Node) -> Node | None:
    """The variable declarator whose value `call` (a `require()`) may be: `x = require(…)`, `x = await
    require(…)`, `x = require(…).y`; `_require_declarator` checks which."""
    node = call
    for _ in range(16):
        parent = node.parent
        if parent is None:
            return None
        if parent.type == "variable_declarator":
            return parent
        if parent.type not in ("member_expression", "parenthesized_expression", "await_expression"):
            return None
        node = parent
    return None


def _import_reference(node: Node, references: list[ModuleReference]) -> None:
    for child in node.named_children:
        if child.type == "import_require_clause":
            module = string_value(child.child_by_field_name("source"))
            if module is not None and child.named_children:
                references.append(ModuleReference(module, "require", node.start_byte, node.end_byte))
            return
    source = string_value(node.child_by_field_name("source"))
    if source is not None:
        references.append(ModuleReference(source, "import", node.start_byte, node.end_byte))


def _import_statement(node: Node, bindings: list[ImportBinding]) -> None:
    clause = None
    for child in node.named_children:
        kind = child.type
        if kind == "import_require_clause":
            module = string_value(child.child_by_field_name("source"))
            name = child.named_children[0] if child.named_children else None
            if module is not None and name is not None:
                bindings.append(ImportBinding(text(name), module, "*"))
            return
        if kind == "import_clause" and clause is None:
            clause = child
    if clause is None:
        return
    source = string_value(node.child_by_field_name("source"))
    if source is None:
        return
    for part in clause.named_children:
        kind = part.type
        if kind == "identifier":
            bindings.append(ImportBinding(text(part), source, "default"))
        elif kind == "namespace_import":
            names = part.named_children
            if names:
                bindings.append(ImportBinding(text(names[0]), source, "*"))
        elif kind == "named_imports":
            for specifier in part.named_children:
                if specifier.type != "import_specifier":
                    continue
                name = specifier.child_by_field_name("name")
                alias = specifier.child_by_field_name("alias") or name
                imported = string_value(name) if name is not None and name.type == "string" else text(name)
                bindings.append(ImportBinding(text(alias), source, imported))


def _call(node: Node, references: list[ModuleReference]) -> None:
    function = node.child_by_field_name("function")
    if function is None:
        return
    specifier = require_specifier(node)
    if specifier is not None:
        references.append(ModuleReference(specifier, "require", node.start_byte, node.end_byte))
    elif function.type == "import":
        arguments = node.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        specifier = string_value(first)
        if specifier is not None:
            references.append(ModuleReference(specifier, "dynamic", node.start_byte, node.end_byte))


def _require_declarator(node: Node, bindings: list[ImportBinding]) -> None:
    name = node.child_by_field_name("name")
    value = node.child_by_field_name("value")
    if name is None or value is None:
        return
    while value.type in ("await_expression", "parenthesized_expression") and value.named_children:
        value = value.named_children[-1]
    module = require_specifier(value)
    if module is not None:
        if name.type == "identifier":
            bindings.append(ImportBinding(text(name), module, "*"))
        elif name.type == "object_pattern":
            for local, imported in destructured_names(name):
                bindings.append(ImportBinding(local, module, imported))
        return
    if value.type == "member_expression" and name.type == "identifier":
        module = require_specifier(value.child_by_field_name("object"))
        prop = value.child_by_field_name("property")
        if module is not None and prop is not None:
            bindings.append(ImportBinding(text(name), module, text(prop)))


def destructured_names(pattern: Node) -> list[tuple[str, str]]:
    """(local, property) pairs of an object pattern's first level: `{ a, b: c, d = 1 }`."""
    pairs = []
    for part in pattern.named_children:
        if part.type == "shorthand_property_identifier_pattern":
            pairs.append((text(part), text(part)))
        elif part.type == "object_assignment_pattern":
            left = part.child_by_field_name("left")
            if left is not None and left.type == "shorthand_property_identifier_pattern":
                pairs.append((text(left), text(left)))
        elif part.type == "pair_pattern":
            key = part.child_by_field_name("key")
            value = part.child_by_field_name("value")
            if value is not None and value.type == "assignment_pattern":
                value = value.child_by_field_name("left")
            if key is not None and value is not None and value.type == "identifier":
                pairs.append((text(value), string_value(key) or text(key)))
    return pairs
