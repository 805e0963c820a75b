"""Deletes a Prisma client turns into updates itself (soft delete), and deletes written in raw SQL, read from the
code of a module: `prisma.user.delete()` through such a client sets `deletedAt` and never removes a row, so the
database does not look for the children of the row.

A client soft-deletes a model's rows when the code shows it, for `delete` and `deleteMany` each:
- a query extension (`$extends` or `Prisma.defineExtension`) whose method for the operation (`delete`,
  `deleteMany`, or `$allOperations` behind an `operation === 'delete'` test) returns an `update` /
  `updateMany` call on every path that reaches it. Any path that runs `query(args)` for the operation deletes
  for real; so does an early `return query(args)` behind a condition the code does not explain, but one behind a
  check that the model has a field (`if (!hasDeletedAt) return query(args)`, the field named in a string of the
  condition or of the variable it tests) limits the extension to the models with that field;
- middleware (`$use`) that sets `params.action = 'update'` (or `'updateMany'`) behind a test of the action,
  and of the model when it names one.

The models covered: those an extension names (`user: { delete … }`) or a middleware tests (`params.model ===
'User'`), else (`$allModels`, or no model test) every model with the soft-delete field: the field the checks
name, else the one field the update writes.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, key_text, object_keys, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import string_value
from linter.syntax import Node, text, walk

DELETE_OPERATIONS = ("delete", "deleteMany")
_SOFT_ACTIONS = {"delete": ("update",), "deleteMany": ("updateMany", "update")}
_UPDATE_CALLS = frozenset({"update", "updateMany"})
_EXTENSION_CALLS = frozenset({"$extends", "defineExtension"})
_OPERATION_SUBJECTS = frozenset({"operation", "action"})
_MODEL_SUBJECTS = frozenset({"model"})
_ALL_MODELS = "$allModels"
_ALL_OPERATIONS = "$allOperations"
_MAX_DEPTH = 16
_FIELD_NAME = lazy_re.compile(r"^[A-Za-z_]\w*$")
# `DELETE FROM "Track" WHERE "albumId" IN (…)` (a schema-qualified table too), with the column its WHERE starts
# by comparing; without a WHERE it empties the table, a reset.
_RAW_DELETE = lazy_re.compile(
    r"\bdelete\s+from\s+(?:[`\"]?\w+[`\"]?\s*\.\s*)?[`\"]?(\w+)[`\"]?\s+where\b"
    r"(?:\s+[`\"]?(\w+)[`\"]?\s*(?:=|in\b))?",
    re.IGNORECASE,
)
RAW_CALLS = frozenset({"$executeRaw", "$executeRawUnsafe"})

SoftDelete = dict  # {"operation": "delete", "models": ["user"] | None, "field": "deletedAt" | None}


def soft_deletes(root: Node) -> list[SoftDelete]:
    """The soft deletes the client hooks of a module set up."""
    found: list[SoftDelete] = []
    for node in walk(root):
        if node.type != "call_expression":
            continue
        function = callee(node)
        hook = property_name(function) if function is not None and function.type == "member_expression" else None
        if hook is None and function is not None and function.type == "identifier":
            hook = text(function)
        if hook in _EXTENSION_CALLS:
            for argument in arguments_of(node):
                argument = unwrap(argument)
                if argument is not None and argument.type == "object":
                    found.extend(_extension(argument))
        elif hook == "$use":
            for argument in arguments_of(node):
                argument = unwrap(argument)
                if argument is not None and argument.type in FUNCTION_TYPES:
                    found.extend(_middleware(argument))
    return found


def covers(soft: list[SoftDelete], operation: str, accessor: str, fields: set[str]) -> bool:
    """Whether a `operation` on the model (its client accessor, its field names) only updates rows."""
    for entry in soft:
        if entry.get("operation") != operation:
            continue
        models, field = entry.get("models"), entry.get("field")
        if models is not None and accessor not in models:
            continue
        if field is not None and field not in fields:
            continue
        if models is None and field is None:
            continue
        return True
    return False


def raw_deletes(root: Node) -> list[tuple[int, int, str, str | None]]:
    """(start, end, table, column) of each `$executeRaw` whose SQL text deletes some rows of a table, with the
    column its WHERE compares first (None when it starts otherwise)."""
    found = []
    for node in walk(root):
        if node.type != "call_expression":
            continue
        function = callee(node)
        if function is None or property_name(function) not in RAW_CALLS:
            continue
        arguments = node.child_by_field_name("arguments")
        for match in _RAW_DELETE.finditer(text(arguments) if arguments is not None else ""):
            found.append((node.start_byte, node.end_byte, match.group(1), match.group(2)))
    return found


# --- query extensions ---


def _extension(options: Node) -> list[SoftDelete]:
    query = unwrap(object_keys(options).get("query"))
    if query is None or query.type != "object":
        return []
    found = []
    for model_key, methods in object_keys(query).items():
        methods = unwrap(methods)
        if methods is None or methods.type != "object":
            continue
        models = None if model_key == _ALL_MODELS else [model_key[:1].lower() + model_key[1:]]
        for name, function in _methods(methods):
            for operation in DELETE_OPERATIONS:
                if name != operation and name != _ALL_OPERATIONS:
                    continue
                outcome = _function_outcome(function, operation)
                if outcome is not None:
                    found.append({"operation": operation, "models": models, "field": outcome or None})
    return found


def _methods(methods: Node) -> list[tuple[str, Node]]:
    found = []
    for child in methods.named_children:
        if child.type == "method_definition":
            found.append((key_text(child.child_by_field_name("name")), child))
        elif child.type == "pair":
            value = unwrap(child.child_by_field_name("value"))
            if value is not None and value.type in FUNCTION_TYPES:
                found.append((key_text(child.child_by_field_name("key")), value))
    return found


class _Hard(Exception):
    """A path runs the real delete, or one the code does not explain."""


def _function_outcome(function: Node, operation: str) -> str | None:
    """The soft-delete field when every path of the extension method for `operation` returns an update ("" when
    no field is named), None when some path may delete for real."""
    body = function.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return None
    guards: list[str] = []
    try:
        written = _statements_outcome(_statements(body), operation, body, guards, 0)
    except _Hard:
        return None
    if written is None:
        return None  # fell off the end, or an early return that is neither an update nor the real query
    return guards[0] if guards else written


def _statements(block: Node) -> list[Node]:
    if block.type == "statement_block":
        return [c for c in block.named_children if c.type != "comment"]
    return [block]


def _statements_outcome(statements: list[Node], operation: str, body: Node, guards: list[str], depth: int) -> str | None:
    """The field an update written (or "") once the statements return an update for `operation`; None when
    they fall through. Raises _Hard when the real query may run."""
    if depth > _MAX_DEPTH:
        raise _Hard
    for statement in statements:
        if statement.type == "if_statement":
            outcome = _if_outcome(statement, operation, body, guards, depth)
            if outcome is not None:
                return outcome
            continue
        if _passes_through(statement):
            raise _Hard
        if statement.type == "return_statement":
            update = _update_call(statement)
            if update is None:
                raise _Hard
            return _written_field(update)
    return None


def _if_outcome(statement: Node, operation: str, body: Node, guards: list[str], depth: int) -> str | None:
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    alternative = statement.child_by_field_name("alternative")
    alternative = next((c for c in alternative.named_children if c.type != "comment"), None) if alternative else None
    tested = _compared_strings(condition, _OPERATION_SUBJECTS)
    if tested is not None:
        branch = consequence if operation in tested else alternative
        if branch is None:
            return None
        return _statements_outcome(_statements(branch), operation, body, guards, depth + 1)
    if consequence is not None and _passes_through(consequence):
        field = _guard_field(condition, body)
        if field is None or alternative is not None or not _always_returns(consequence):
            raise _Hard
        guards.append(field)
        return None
    if alternative is not None and _passes_through(alternative):
        raise _Hard
    return None


def _passes_through(node: Node) -> bool:
    """Runs the operation as asked: `query(args)` (the extension's `query` argument)."""
    for inner in walk(node):
        if inner.type == "call_expression":
            function = callee(inner)
            if function is not None and function.type == "identifier" and text(function) == "query":
                return True
            if function is not None and property_name(function) == "query":
                return True
    return False


def _always_returns(branch: Node) -> bool:
    statements = _statements(branch)
    return bool(statements) and statements[-1].type == "return_statement"


def _update_call(statement: Node) -> Node | None:
    value = next((c for c in statement.named_children if c.type != "comment"), None)
    value = unwrap(value)
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None or value.type != "call_expression":
        return None
    function = callee(value)
    return value if function is not None and property_name(function) in _UPDATE_CALLS else None


def _written_field(update: Node) -> str:
    """`{ deletedAt: new Date() }` in the update's `data`: the one field it writes, else ""."""
    options = unwrap(arguments_of(update)[0]) if arguments_of(update) else None
    data = unwrap(object_keys(options).get("data")) if options is not None and options.type == "object" else None
    keys = list(object_keys(data)) if data is not None and data.type == "object" else []
    return keys[0] if len(keys) == 1 else ""


def _guard_field(condition: Node | None, body: Node) -> str | None:
    """The field a model check names: `!hasDeletedAt` with `const hasDeletedAt = … field.name === 'deletedAt'`
    in the method, or the string in the condition itself."""
    if condition is None:
        return None
    strings = _strings(condition)
    for node in walk(condition):
        if node.type == "identifier":
            for declarator in _declarators(body, text(node)):
                strings |= _strings(declarator)
    names = {value for value in strings if _FIELD_NAME.match(value)}
    return names.pop() if len(names) == 1 else None


def _strings(node: Node) -> set[str]:
    return {value for inner in walk(node) if inner.type == "string" and (value := string_value(inner))}


def _declarators(body: Node, name: str) -> list[Node]:
    found = []
    for node in walk(body):
        if node.type == "variable_declarator":
            declared = node.child_by_field_name("name")
            if declared is not None and declared.type == "identifier" and text(declared) == name:
                found.append(node)
    return found


def _compared_strings(condition: Node | None, subjects: frozenset[str], depth: int = 0) -> set[str] | None:
    """`operation === 'delete'` → {delete}; `a === 'x' || a === 'y'` → both; None when the condition is no such
    test (of a name in `subjects`: `operation`, `params.action`)."""
    condition = unwrap(condition)
    if condition is None or condition.type != "binary_expression" or depth > _MAX_DEPTH:
        return None
    operator = text(condition.child_by_field_name("operator"))
    if operator == "||":
        left = _compared_strings(condition.child_by_field_name("left"), subjects, depth + 1)
        right = _compared_strings(condition.child_by_field_name("right"), subjects, depth + 1)
        return left | right if left is not None and right is not None else None
    if operator not in ("===", "=="):
        return None
    sides = [unwrap(condition.child_by_field_name(side)) for side in ("left", "right")]
    value = next((string_value(side) for side in sides if side is not None and side.type == "string"), None)
    subject = next((side for side in sides if side is not None and side.type in ("identifier", "member_expression")), None)
    if value is None or subject is None:
        return None
    name = text(subject) if subject.type == "identifier" else property_name(subject)
    return {value} if name in subjects else None


# --- middleware ---


def _middleware(function: Node) -> list[SoftDelete]:
    found = []
    for node in walk(function):
        if node.type != "assignment_expression":
            continue
        left = unwrap(node.child_by_field_name("left"))
        action = string_value(unwrap(node.child_by_field_name("right")))
        if left is None or property_name(left) != "action" or action not in _UPDATE_CALLS:
            continue
        conditions = _enclosing_conditions(node, function)
        if conditions is None:
            continue
        operations, models = conditions
        for operation in DELETE_OPERATIONS:
            if operation in operations and action in _SOFT_ACTIONS[operation]:
                found.append({"operation": operation, "models": models, "field": _middleware_field(node)})
    return found


def _enclosing_conditions(node: Node, function: Node) -> tuple[set[str], list[str] | None] | None:
    """The actions and models the `if` tests around `node` allow; None when some test is of anything else, or
    `node` is in an `else`."""
    operations: set[str] | None = None
    models: list[str] | None = None
    current, depth = node, 0
    while current is not None and current != function and depth < _MAX_DEPTH:
        parent = current.parent
        if parent is None:
            return None
        if parent.type == "if_statement":
            if current != parent.child_by_field_name("consequence"):
                return None
            condition = parent.child_by_field_name("condition")
            tested_operations = _compared_strings(condition, _OPERATION_SUBJECTS)
            tested_models = _compared_strings(condition, _MODEL_SUBJECTS)
            if tested_operations is not None:
                operations = tested_operations if operations is None else operations & tested_operations
            elif tested_models is not None:
                names = [name[:1].lower() + name[1:] for name in sorted(tested_models)]
                models = names if models is None else [name for name in models if name in names]
            else:
                return None
        current = parent
        depth += 1
    return (operations, models) if operations else None


def _middleware_field(assignment: Node) -> str | None:
    """The one field the rewritten arguments write in the same block: `params.args.data = { deleted: true }`
    or `params.args['data'] = { deletedAt: new Date() }`."""
    block = assignment.parent.parent if assignment.parent is not None else None
    if block is None:
        return None
    for node in walk(block):
        if node.type != "assignment_expression":
            continue
        left = unwrap(node.child_by_field_name("left"))
        right = unwrap(node.child_by_field_name("right"))
        if left is not None and property_name(left) == "data" and right is not None and right.type == "object":
            keys = [key for key in object_keys(right)]
            if len(keys) == 1:
                return keys[0]
    return None
