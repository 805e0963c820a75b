"""What a module exports, as plain data: the one export table every cross-module question goes through.

Each exported name maps to a *local key*, the name its value has inside the module, so that facts and
summaries kept per local key can be found from another module's import:

- `export function list() {}`, `export const list = …`, `export class Leads {}`, `export { list }`,
  `export { list as findLeads }`: the top-level name (`list`, `Leads`);
- `export default function handler() {}` / `export default class Leads {}`: that name; an anonymous default
  (`export default async (req) => …`, `export default { list }`) has the key `<default>`;
- CommonJS: `module.exports = { list, get: getOne }` maps `list` → `list` and `get` → `getOne`, an inline
  value (`module.exports = { list() {} }`, `exports.list = () => …`) has the key `<exports>.list`;
  `module.exports = leadService` makes the module object (`*` and `default`) the local `leadService`,
  `module.exports = new LeadService()` its class, any other value `<exports>`; `module.exports = require('./leads')`
  re-exports that module;
- re-exports: `export { list } from './leads'`, `export * from './leads'`, `export * as leads from './leads'`
  name another module; `ExportTable.resolve` in the project phase follows them (`linter.flow.project`).

Functions get the same keys (`linter.flow.functions.function_key`): a class method is `Leads.list`, an object
method `leadService.list` or `<exports>.list`, so `import svc from './leads'; svc.list()` resolves to the key
of the function that runs.
"""

from __future__ import annotations

from dataclasses import field

from linter.js.expressions import key_text, unwrap
from linter.js.imports import require_specifier, string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

DEFAULT_KEY = "<default>"
EXPORTS_KEY = "<exports>"
MODULE_OBJECT = "*"  # the name of the whole module object (a namespace import, a plain `require`)


@dataclass(frozen=True)
class ReExport:
    """`export { imported as name } from 'module'` (`imported` is `*` for `export * as name from`), or, with
    `name` `*`, `export * from 'module'`."""

    name: str
    module: str
    imported: str


@dataclass
class ExportTable:
    """Exported name → local key; re-exports; the local key of the CommonJS module object, if one is assigned."""

    names: dict[str, str] = field(default_factory=dict)
    re_exports: list[ReExport] = field(default_factory=list)
    module_object: str | None = None
    # Top-level bindings that hold an instance of a class of the module (`const leads = new LeadService()`):
    # binding → class, so that `leads.list()` reaches `LeadService.list`.
    instances: dict[str, str] = field(default_factory=dict)
    # Entries of top-level object literals that name a top-level function: `const helpers = { paginate }`
    # makes `helpers.paginate` the function `paginate`.
    members: dict[str, str] = field(default_factory=dict)

    def local_of(self, key: str) -> str:
        """`key` with an instance binding replaced by its class, and an object's entry by the function it names."""
        if key in self.members:
            return self.members[key]
        head, dot, rest = key.partition(".")
        return self.instances.get(head, head) + dot + rest

    def to_data(self) -> list:
        return [
            sorted(self.names.items()),
            [[r.name, r.module, r.imported] for r in self.re_exports],
            self.module_object,
            sorted(self.instances.items()),
            sorted(self.members.items()),
        ]

    @classmethod
    def from_data(cls, data: list) -> "ExportTable":
        names, re_exports, module_object, instances, members = data
        if not all(type(v) is str for pair in [*names, *instances, *members] for v in pair):
            raise TypeError("bad export table")
        if not all(type(v) is str for r in re_exports for v in r) or not (module_object is None or type(module_object) is str):
            raise TypeError("bad export table")
        return cls(
            names=dict(names),
            re_exports=[ReExport(n, m, i) for n, m, i in re_exports],
            module_object=module_object,
            instances=dict(instances),
            members=dict(members),
        )


def export_table(root: Node) -> ExportTable:
    """The export table of the module whose program node is `root`."""
    table = ExportTable()
    for statement in root.named_children:
        _instances(statement, table)
        if statement.type == "export_statement":
            _export_statement(statement, table)
        elif statement.type == "expression_statement" and statement.named_children:
            expression = statement.named_children[0]
            if expression.type == "assignment_expression":
                _commonjs_assignment(expression, table)
    return table


def _export_statement(statement: Node, table: ExportTable) -> None:
    source = string_value(statement.child_by_field_name("source"))
    is_default = any(child.type == "default" for child in statement.children)
    clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
    if source is not None:
        if clause is not None:
            for name, local in _clause_names(clause):
                table.re_exports.append(ReExport(name, source, local))
            return
        namespace = next((c for c in statement.named_children if c.type == "namespace_export"), None)
        if namespace is not None and namespace.named_children:
            table.re_exports.append(ReExport(key_text(namespace.named_children[-1]), source, MODULE_OBJECT))
        else:
            table.re_exports.append(ReExport(MODULE_OBJECT, source, MODULE_OBJECT))
        return
    if clause is not None:
        for name, local in _clause_names(clause):
            table.names[name] = local
        return
    declaration = statement.child_by_field_name("declaration")
    if declaration is not None:
        for name in _declared_names(declaration):
            table.names["default" if is_default else name] = name
        return
    value = unwrap(statement.child_by_field_name("value"))
    if is_default and value is not None:
        table.names["default"] = _named(value) or DEFAULT_KEY


def _instances(statement: Node, table: ExportTable) -> None:
    declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
    if declaration is None or declaration.type not in ("lexical_declaration", "variable_declaration"):
        return
    for declarator in declaration.named_children:
        name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
        value = unwrap(declarator.child_by_field_name("value")) if name is not None else None
        if value is not None and value.type == "new_expression" and name.type == "identifier":
            constructor = value.child_by_field_name("constructor")
            if constructor is not None and constructor.type == "identifier":
                table.instances[text(name)] = text(constructor)
        elif value is not None and value.type == "object" and name.type == "identifier":
            for entry in value.named_children:
                if entry.type == "shorthand_property_identifier":
                    table.members[f"{text(name)}.{text(entry)}"] = text(entry)
                elif entry.type == "pair" and unwrap(entry.child_by_field_name("value")).type == "identifier":
                    key = key_text(entry.child_by_field_name("key"))
                    table.members[f"{text(name)}.{key}"] = text(unwrap(entry.child_by_field_name("value")))


def _clause_names(clause: Node) -> list[tuple[str, str]]:
    """(exported name, local name) pairs of `{ a, b as c }`."""
    pairs = []
    for specifier in clause.named_children:
        if specifier.type != "export_specifier":
            continue
        name = specifier.child_by_field_name("name")
        alias = specifier.child_by_field_name("alias")
        local = key_text(name)
        pairs.append((key_text(alias) if alias is not None else local, local))
    return pairs


def _declared_names(declaration: Node) -> list[str]:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for declarator in declaration.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if name is not None and name.type == "identifier":
                names.append(text(name))
        return names
    name = declaration.child_by_field_name("name")
    return [text(name)] if name is not None else [DEFAULT_KEY]


def _named(value: Node) -> str | None:
    """The local name an `export default` value has: an identifier, or a named function or class."""
    if value.type == "identifier":
        return text(value)
    if value.type in ("function_expression", "function", "class", "generator_function"):
        name = value.child_by_field_name("name")
        return text(name) if name is not None else None
    if value.type == "new_expression":  # `export default new LeadService()`: its methods are the class's
        constructor = value.child_by_field_name("constructor")
        return text(constructor) if constructor is not None and constructor.type == "identifier" else None
    return None


def _commonjs_assignment(expression: Node, table: ExportTable) -> None:
    left = text(expression.child_by_field_name("left"))
    right = unwrap(expression.child_by_field_name("right"))
    if right is None:
        return
    if left in ("module.exports", "exports"):
        if right.type == "identifier":
            table.module_object = text(right)
        elif right.type == "object":
            for entry in right.named_children:
                if entry.type == "shorthand_property_identifier":
                    table.names[text(entry)] = text(entry)
                elif entry.type == "pair":
                    name = key_text(entry.child_by_field_name("key"))
                    value = unwrap(entry.child_by_field_name("value"))
                    if name and value is not None:
                        table.names[name] = text(value) if value.type == "identifier" else f"{EXPORTS_KEY}.{name}"
                elif entry.type == "method_definition":
                    name = key_text(entry.child_by_field_name("name"))
                    table.names[name] = f"{EXPORTS_KEY}.{name}"
        elif require_specifier(right) is not None:  # `module.exports = require('./leads')`
            table.re_exports.append(ReExport(MODULE_OBJECT, require_specifier(right), MODULE_OBJECT))
        else:  # a function, a class, an instance (`new LeadService()`: its class), any other value
            table.module_object = _named(right) or EXPORTS_KEY
        return
    for prefix in ("module.exports.", "exports."):
        if left.startswith(prefix) and "." not in left[len(prefix) :]:
            name = left[len(prefix) :]
            table.names[name] = text(right) if right.type == "identifier" else f"{EXPORTS_KEY}.{name}"
            return


_CLASS_TYPES = frozenset({"class_declaration", "abstract_class_declaration", "class"})


def function_key(fn: Node) -> str | None:
    """The key other modules reach `fn` by (see the module docstring), or None for a function that only its
    own module can reach (nested in another function, a callback)."""
    parent = fn.parent
    if parent is None:
        return None
    if fn.type == "method_definition":
        if parent.type == "object":
            owner = _object_key(parent)
        elif parent.type == "class_body" and parent.parent is not None:
            owner = _class_key(parent.parent)
        else:
            return None
        name = key_text(fn.child_by_field_name("name"))
        return f"{owner}.{name}" if owner is not None and name else None
    if fn.type in ("function_declaration", "generator_function_declaration"):
        if parent.type == "program" or _is_export(parent):
            name = fn.child_by_field_name("name")
            return text(name) if name is not None else DEFAULT_KEY
        return None
    return _value_key(fn)


def _value_key(value: Node) -> str | None:
    """The key of a function or class used as a value: held by a top-level `const`, an export, an object
    literal's entry, a class field, or a CommonJS export assignment (through wrapper calls such as
    `withAuth(async (req) => …)`)."""
    current = value
    while current.parent is not None:
        parent = current.parent
        if parent.type in ("parenthesized_expression", "as_expression", "satisfies_expression", "await_expression"):
            current = parent
        elif parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
            current = parent.parent
        else:
            break
    parent = current.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == current:
        declaration = parent.parent
        holder = declaration.parent if declaration is not None else None
        if holder is not None and (holder.type == "program" or _is_export(holder)):
            return text(parent.child_by_field_name("name"))
        return None
    if parent.type == "export_statement":
        return DEFAULT_KEY
    if parent.type == "pair" and parent.child_by_field_name("value") == current:
        owner = _object_key(parent.parent) if parent.parent is not None else None
        name = key_text(parent.child_by_field_name("key"))
        return f"{owner}.{name}" if owner is not None and name else None
    if parent.type in ("public_field_definition", "field_definition"):
        body = parent.parent
        owner = _class_key(body.parent) if body is not None and body.parent is not None else None
        name = key_text(parent.child_by_field_name("name") or parent.child_by_field_name("property"))
        return f"{owner}.{name}" if owner is not None and name else None
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == current:
        left = text(parent.child_by_field_name("left"))
        if left in ("module.exports", "exports"):
            return _named(value) or EXPORTS_KEY
        for prefix in ("module.exports.", "exports."):
            if left.startswith(prefix) and "." not in left[len(prefix) :]:
                return f"{EXPORTS_KEY}.{left[len(prefix):]}"
    return None


def _class_key(node: Node) -> str | None:
    if node.type not in _CLASS_TYPES:
        return None
    name = node.child_by_field_name("name")
    if node.type != "class":
        if name is None:
            return None
        if node.parent is not None and (node.parent.type == "program" or _is_export(node.parent)):
            return text(name)
        return None
    return _value_key(node)


def _object_key(node: Node | None) -> str | None:
    """The key of an object literal that holds methods: `const leadService = { … }`, `export default { … }`,
    `module.exports = { … }`."""
    if node is None or node.type != "object":
        return None
    parent = node.parent
    while parent is not None and parent.type in ("parenthesized_expression", "as_expression", "satisfies_expression"):
        node, parent = parent, parent.parent
    if parent is None:
        return None
    if parent.type == "assignment_expression" and text(parent.child_by_field_name("left")) in ("module.exports", "exports"):
        return EXPORTS_KEY
    if parent.type == "export_statement":
        return DEFAULT_KEY
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
        declaration = parent.parent
        holder = declaration.parent if declaration is not None else None
        if holder is not None and (holder.type == "program" or _is_export(holder)):
            return text(parent.child_by_field_name("name"))
    return None


def _is_export(node: Node) -> bool:
    return node.type == "export_statement"


def local_value(root: Node, key: str) -> tuple[Node, tuple[str, ...]] | None:
    """Where the value a local key names is written in its module, and the properties the rest of the key
    reads from it: `config.jwt.secret` gives the name `config` of a top-level `const config = …` (or its
    class, or function) and `("jwt", "secret")`; `<default>.x` the value of `export default …` and `("x",)`;
    `<exports>.x` the value of `exports.x = …`, else property `x` of what `module.exports` is set to. None when
    the module has no such top-level value."""
    head, *rest = key.split(".")
    path = tuple(rest)
    if head == EXPORTS_KEY:
        return _commonjs_value(root, path)
    for statement in root.named_children:
        if head == DEFAULT_KEY:
            if statement.type == "export_statement" and any(c.type == "default" for c in statement.children):
                value = statement.child_by_field_name("declaration") or statement.child_by_field_name("value")
                if value is not None:
                    return value, path
            continue
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
        if declaration is None:
            continue
        if declaration.type in ("lexical_declaration", "variable_declaration"):
            for declarator in declaration.named_children:
                pattern = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
                for name in _pattern_names(pattern) if pattern is not None else ():
                    if text(name) == head:
                        return name, path
        elif declaration.type in _CLASS_TYPES or declaration.type in ("function_declaration", "generator_function_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None and text(name) == head:
                return declaration, path
    return None


def _commonjs_value(root: Node, path: tuple[str, ...]) -> tuple[Node, tuple[str, ...]] | None:
    whole = None
    for statement in root.named_children:
        expression = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children else None
        if expression is None or expression.type != "assignment_expression":
            continue
        left = text(expression.child_by_field_name("left"))
        right = expression.child_by_field_name("right")
        if right is None:
            continue
        if left in ("module.exports", "exports"):
            whole = right
        elif path and left in (f"module.exports.{path[0]}", f"exports.{path[0]}"):
            return right, path[1:]
    return (whole, path) if whole is not None else None


def _pattern_names(pattern: Node) -> list[Node]:
    """The identifiers a declaration's name pattern binds (`a`, `{ a, b: c, d = 1 }`, `[a, b]`)."""
    if pattern.type == "identifier":
        return [pattern]
    names = []
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            names.append(node)
        elif node.type == "pair_pattern":
            stack.extend(n for n in (node.child_by_field_name("value"),) if n is not None)
        elif node.type in ("object_assignment_pattern", "assignment_pattern"):
            stack.extend(n for n in (node.child_by_field_name("left"),) if n is not None)
        elif node.type in ("object_pattern", "array_pattern", "rest_pattern"):
            stack.extend(node.named_children)
    return names
