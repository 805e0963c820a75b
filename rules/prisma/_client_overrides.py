"""Fields a Prisma client writes into every write's `data` itself, after what the caller passed: a tenant-scoped
client whose query extension or middleware stamps the tenant on each create. Whatever the body holds for such a
field never reaches the database, so a client cannot set it.

Read in the code that makes the client a write goes through (`db.contact.create(…)`): the function that returns
it (`const db = forTenant(id)`, of this module or another), the module a client is imported from, or this module
for a client made here. The overrides are:

- a query extension, `$extends({ query: { $allModels | <model>: { create({ args, query }) { args.data = {
  ...args.data, tenantId }; … } } } })` (the operation by the method's name, `$allOperations` for any);
- middleware, `$use(async (params, next) => { if (params.action === 'create') params.args.data = {
  ...params.args.data, tenantId }; … })` (the operation by the `action` tests around the assignment, any when
  none);
- `args.data.tenantId = …`, and `.map((row) => ({ ...row, tenantId }))` for `createMany`.

Only keys written after the caller's data is spread count: `{ tenantId, ...args.data }` lets the caller's value
win.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of, function_declared_as
from linter.js.expressions import arguments_of, callee, key_text, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import string_value
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

ANY_OPERATION = "*"
_CLIENT_HOOKS = frozenset({"$extends", "$use"})
_ALL_OPERATIONS = frozenset({"$allOperations"})
_MAX_IF_DEPTH = 16

Overrides = dict[str, set[str]]  # operation (or ANY_OPERATION) → fields written after the caller's data


def client_source(client: Node | None, file: "FileContext") -> tuple[Node | None, tuple[str, str, tuple[str, ...]] | None]:
    """Where the client `client` (the `db` of `db.contact.create()`) is made: a node of this file to read for
    overrides, or an import (module, name, members) the project phase reads. (None, None) when unknown."""
    client = unwrap(client)
    if client is None or client.type != "identifier":
        return None, None
    imported = file.binding(text(client))
    if imported is not None:
        return None, (imported.module, imported.imported, ())
    binding = declaration_of(client)
    if binding is None or binding.kind != "variable" or binding.declarator is None or binding.path:
        return None, None
    value = unwrap(binding.declarator.child_by_field_name("value"))
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None:
        return None, None
    if value.type == "call_expression":
        function = callee(value)
        if function is not None and function.type == "member_expression" and property_name(function) in _CLIENT_HOOKS:
            return value, None
        if function is not None and function.type == "identifier":
            local = function_declared_as(function)
            if local is not None:
                return local, None
            made_by = file.binding(text(function))
            if made_by is not None:
                return None, (made_by.module, made_by.imported, ())
        return None, None
    return file.root, None  # a client made in this module (`new PrismaClient()`): its hooks are here


def overridden_fields(scope: Node, operation: str) -> set[str]:
    """The fields every `operation` write through the client made in `scope` gets from the client itself."""
    overrides = scope_overrides(scope)
    return overrides.get(operation, set()) | overrides.get(ANY_OPERATION, set())


def scope_overrides(scope: Node) -> Overrides:
    found: Overrides = {}
    for node in walk(scope):
        if node.type != "call_expression":
            continue
        function = callee(node)
        hook = property_name(function) if function is not None and function.type == "member_expression" else None
        if hook not in _CLIENT_HOOKS:
            continue
        for argument in arguments_of(node):
            for assignment in walk(argument):
                if assignment.type != "assignment_expression":
                    continue
                fields = _fields_written(assignment)
                if fields:
                    for operation in _operations(assignment, node):
                        found.setdefault(operation, set()).update(fields)
    return found


def _fields_written(assignment: Node) -> set[str]:
    """`args.data = { ...args.data, tenantId }` → {tenantId}; `args.data.tenantId = t` → {tenantId};
    `args.data = rows.map((row) => ({ ...row, tenantId }))` → {tenantId}."""
    left, right = unwrap(assignment.child_by_field_name("left")), unwrap(assignment.child_by_field_name("right"))
    if left is None or left.type != "member_expression":
        return set()
    holder = unwrap(member_object(left))
    if property_name(left) == "data" and _is_args(holder):
        return _keys_after_spread(right)
    if holder is not None and holder.type == "member_expression" and property_name(holder) == "data" and _is_args(unwrap(member_object(holder))):
        name = property_name(left)
        return {name} if name else set()
    return set()


def _is_args(node: Node | None) -> bool:
    """`args`, `params.args`, `(params.args as any)`: the arguments of the operation being run."""
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "identifier":
        return text(node) == "args"
    return node.type == "member_expression" and property_name(node) == "args"


def _keys_after_spread(value: Node | None) -> set[str]:
    value = unwrap(value)
    if value is not None and value.type == "call_expression":
        function = callee(value)
        mapper = arguments_of(value)[0] if arguments_of(value) else None
        mapper = unwrap(mapper)
        if function is None or property_name(function) != "map" or mapper is None or mapper.type not in FUNCTION_TYPES:
            return set()
        value = unwrap(mapper.child_by_field_name("body"))
    if value is None or value.type != "object":
        return set()
    keys: set[str] = set()
    spread = False
    for child in value.named_children:
        if child.type == "spread_element":
            spread, keys = True, set()  # what comes before a spread is overwritten by it
        elif child.type == "pair":
            keys.add(key_text(child.child_by_field_name("key")))
        elif child.type == "shorthand_property_identifier":
            keys.add(text(child))
    return keys if spread else set()


def _operations(assignment: Node, hook_call: Node) -> set[str]:
    """The operations the assignment runs for: the extension method it is in (`create`), narrowed by the
    `if (params.action === 'create')` tests around it; any when nothing says."""
    operations: set[str] | None = None
    current = assignment
    depth = 0
    while current is not None and current != hook_call and depth < _MAX_IF_DEPTH:
        parent = current.parent
        if parent is None:
            break
        if parent.type == "if_statement" and current == parent.child_by_field_name("consequence"):
            tested = _tested_operations(parent.child_by_field_name("condition"))
            if tested:
                operations = tested if operations is None else operations & tested
        if parent.type == "method_definition" or (parent.type == "pair" and unwrap(parent.child_by_field_name("value")) is current and current.type in FUNCTION_TYPES):
            name = key_text(parent.child_by_field_name("name") if parent.type == "method_definition" else parent.child_by_field_name("key"))
            if name and name not in _ALL_OPERATIONS and not name.startswith("$") and operations is None:
                operations = {name}
            elif name and name not in _ALL_OPERATIONS and not name.startswith("$"):
                operations &= {name}
        current = parent
        depth += 1
    return operations if operations is not None else {ANY_OPERATION}


def _tested_operations(condition: Node | None, depth: int = 0) -> set[str]:
    """`params.action === 'create'` → {create}; `a === 'create' || a === 'createMany'` → both."""
    condition = unwrap(condition)
    if condition is None or condition.type != "binary_expression" or depth > _MAX_IF_DEPTH:
        return set()
    operator = text(condition.child_by_field_name("operator"))
    if operator == "||":
        left = _tested_operations(condition.child_by_field_name("left"), depth + 1)
        right = _tested_operations(condition.child_by_field_name("right"), depth + 1)
        return left | right if left and right else set()
    if operator not in ("===", "=="):
        return set()
    for side in (condition.child_by_field_name("left"), condition.child_by_field_name("right")):
        side = unwrap(side)
        if side is not None and side.type == "string":
            return {string_value(side) or ""}
    return set()
