"""What a call names in another module, as plain data the project phase resolves through export tables.

`import { list } from './leads'; list()` names `Callee('./leads', 'list', ())`; `leadService.list()` after
`const leadService = require('./leads')` names `Callee('./leads', '*', ('list',))`; a NestJS controller's
`this.leadsService.list()`, with `constructor(private readonly leadsService: LeadsService)` and `LeadsService`
imported, names `Callee('./leads.service', 'LeadsService', ('list',))`, as do `LeadsService.list()` (a static
method) and a field set with `new LeadsService()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.expressions import callee as callee_node
from linter.js.expressions import member_chain, unwrap
from linter.js.functions import CLASS_FIELD_TYPES, FUNCTION_TYPES
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext


@dataclass(frozen=True)
class Callee:
    module: str  # the specifier as written; "" for a function of the calling module
    name: str  # the imported name: `default`, `*` (the module object) or an export
    members: tuple[str, ...] = ()  # properties read from it before the call

    def to_data(self) -> list:
        return [self.module, self.name, list(self.members)]

    @classmethod
    def from_data(cls, data: list) -> "Callee":
        module, name, members = data
        return cls(str(module), str(name), tuple(str(m) for m in members))


def may_name(callee: Callee, names: frozenset[str] | None) -> bool:
    """Whether `callee` may resolve to a function whose `ModuleGraph.call_names` are `names` (None: any may):
    one of them is its imported name or one of its members."""
    return names is None or callee.name in names or not names.isdisjoint(callee.members)


def callee_of(function: Node | None, file: "FileContext") -> Callee | None:
    """The import a call's function expression names, or None (a local function, a global, unknown)."""
    function = unwrap(function)
    root, members = member_chain(function)
    if root is None:
        return None
    if root.type == "identifier":
        binding = file.binding(text(root))
        if binding is not None:
            return Callee(binding.module, binding.imported, tuple(members))
        constructed = _local_instance(root) if members else None  # `const presenter = new ListPresenter()`
        binding = file.binding(constructed) if constructed is not None else None
        return Callee(binding.module, binding.imported, tuple(members)) if binding is not None else None
    if root.type == "this" and len(members) >= 2:
        type_name = _field_type(root, members[0], file)
        binding = file.binding(type_name) if type_name is not None else None
        if binding is not None:
            return Callee(binding.module, binding.imported, tuple(members[1:]))
    if root.type == "new_expression" and members:
        constructor = callee_node(root)
        binding = file.binding(text(constructor)) if constructor is not None and constructor.type == "identifier" else None
        if binding is not None:
            return Callee(binding.module, binding.imported, tuple(members))
    return None


def _local_instance(name: Node) -> str | None:
    """The class a local `const` holds an instance of: `X` for `const x = new X()`."""
    declaration = declaration_of(name)
    if declaration is None or declaration.kind != "variable" or declaration.path or declaration.declarator is None:
        return None
    return _constructed(declaration.declarator.child_by_field_name("value"))


def _field_type(this: Node, field: str, file: "FileContext") -> str | None:
    """The class name of `this.field`: a typed constructor parameter property, a typed or `new`-initialised
    field, or `this.field = new X()` in the constructor."""
    body = _class_body(this)
    if body is None:
        return None
    memo = file.memo(("flow.field-types", body.start_byte), lambda: _field_types(body))
    return memo.get(field)


def _class_body(node: Node) -> Node | None:
    current = node.parent
    while current is not None:
        if current.type == "class_body":
            return current
        if current.type in FUNCTION_TYPES and current.type != "method_definition" and current.type != "arrow_function":
            return None
        current = current.parent
    return None


def _field_types(body: Node) -> dict[str, str]:
    types: dict[str, str] = {}
    for member in body.named_children:
        if member.type in CLASS_FIELD_TYPES:
            name = member.child_by_field_name("name") or member.child_by_field_name("property")
            found = _type_name(member.child_by_field_name("type")) or _constructed(member.child_by_field_name("value"))
            if name is not None and found is not None:
                types[text(name)] = found
        elif member.type == "method_definition" and text(member.child_by_field_name("name")) == "constructor":
            _constructor_fields(member, types)
    return types


def _constructor_fields(constructor: Node, types: dict[str, str]) -> None:
    parameters = constructor.child_by_field_name("parameters")
    for param in parameters.named_children if parameters is not None else ():
        if param.type not in ("required_parameter", "optional_parameter"):
            continue
        if not any(child.type == "accessibility_modifier" or child.type == "readonly" for child in param.children):
            continue  # a plain parameter: only parameter properties become fields
        pattern = param.child_by_field_name("pattern")
        found = _type_name(param.child_by_field_name("type"))
        if pattern is not None and pattern.type == "identifier" and found is not None:
            types[text(pattern)] = found
    body = constructor.child_by_field_name("body")
    for statement in body.named_children if body is not None else ():
        expression = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children else None
        if expression is None or expression.type != "assignment_expression":
            continue
        left = expression.child_by_field_name("left")
        if left is None or left.type != "member_expression" or text(left.child_by_field_name("object")) != "this":
            continue
        found = _constructed(expression.child_by_field_name("right"))
        if found is not None:
            types[text(left.child_by_field_name("property"))] = found


def _type_name(annotation: Node | None) -> str | None:
    if annotation is None:
        return None
    node = annotation.named_children[0] if annotation.type == "type_annotation" and annotation.named_children else annotation
    return text(node) if node.type == "type_identifier" else None


def _constructed(value: Node | None) -> str | None:
    value = unwrap(value)
    if value is None or value.type != "new_expression":
        return None
    constructor = callee_node(value)
    return text(constructor) if constructor is not None and constructor.type == "identifier" else None


def import_of(name: Node | None, file: "FileContext"):
    """The import binding an identifier refers to, unless a local declaration shadows it."""
    if name is None or name.type != "identifier":
        return None
    binding = file.binding(text(name))
    if binding is None:
        return None
    declaration = declaration_of(name)
    if declaration is None or declaration.kind == "opaque" or declaration.function is None:
        return binding
    return None


def local_reference(name: Node | None) -> Callee | None:
    """`Callee` of a name that refers to a function declared at the top of its own module."""
    if name is None or name.type != "identifier":
        return None
    declaration = declaration_of(name)
    if declaration is None or declaration.function is not None:
        return None
    return Callee("", text(name))
