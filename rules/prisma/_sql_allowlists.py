"""Checks in code that leave a value no room to carry SQL: it is one of a fixed set, or a number.

A value is named by its text (`sort`, `req.query.sort`; `req.query['sort']` reads the same), and a condition
pins it when, on one of its sides, the value can only be:

- one of a fixed set: `ALLOWED.includes(sort)`, `COLUMNS.has(sort)`, `sort in COLUMNS`,
  `Object.keys(COLUMNS).includes(sort)`, `Object.hasOwn(COLUMNS, sort)`, `COLUMNS.hasOwnProperty(sort)`,
  `sort === 'name'` (and `||` of such tests);
- of a shape that holds no quote or keyword: a regular expression test (`/^[a-z_]+$/.test(sort)`), a
  validator (`isUUID(id)`, `validator.isInt(id)`, `Number.isInteger(id)`), `typeof id === 'number'`, or a
  number (`!isNaN(id)`).

Recognised where the value is used: inside the branch of an `if` or a ternary whose condition pins it
(`ALLOWED.includes(sort) ? sort : 'createdAt'`), or after a guard that leaves when it is not pinned
(`if (!ALLOWED.includes(sort)) return res.status(400)…`, `… throw …`).
"""

from __future__ import annotations

from linter.js.expressions import access_path, arguments_of, callee, member_object, property_name, unwrap
from linter.js.guards import checked_at
from linter.syntax import Node, text

_MEMBERSHIP_METHODS = frozenset({"includes", "has", "hasOwnProperty", "test"})
# Validators whose pass leaves a value without quotes, spaces or keywords (validator.js, class-validator's
# functions, Number's checks).
_SHAPE_VALIDATORS = frozenset(
    {"isUUID", "isInt", "isNumeric", "isAlphanumeric", "isAlpha", "isHexadecimal", "isMongoId", "isInteger",
     "isSafeInteger", "isFinite", "isUuid", "isValidUUID", "isValidUuid", "isCuid", "isDate", "isISO8601",
     "isNumber", "isBoolean"}
)  # fmt: skip
_MAX_CONDITION_DEPTH = 32


def value_name(node: Node | None) -> str | None:
    """`sort`, `req.query.sort` (also for `req.query['sort']`), through wrappers, `String(…)` and `.toString()`;
    None for anything else."""
    node = unwrap(node)
    while node is not None and node.type == "call_expression":
        function, arguments = callee(node), arguments_of(node)
        if text(function) == "String" and len(arguments) == 1:
            node = unwrap(arguments[0])
        elif function is not None and function.type == "member_expression" and property_name(function) == "toString" and not arguments:
            node = member_object(function)
        else:
            return None
    return access_path(node)


def pins(condition: Node | None, name: str, when_true: bool, _depth: int = 0) -> bool:
    """Whether `condition` being `when_true` leaves the value named `name` one of a fixed set, or of a shape
    that holds no SQL."""
    condition = unwrap(condition)
    if condition is None or _depth > _MAX_CONDITION_DEPTH:
        return False
    kind = condition.type
    if kind == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        return pins(condition.child_by_field_name("argument"), name, not when_true, _depth + 1)
    if kind == "call_expression":
        return _call_pins(condition, name, when_true)
    if kind != "binary_expression":
        return False
    operator = text(condition.child_by_field_name("operator"))
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    if operator in ("&&", "||"):
        # `a && b` true (or `a || b` false) holds both sides, so one that pins is enough; the other way round
        # only one side holds, so both must pin (`sort === 'name' || sort === 'email'`).
        one_holds = (operator == "&&") != when_true
        if one_holds:
            return pins(left, name, when_true, _depth + 1) and pins(right, name, when_true, _depth + 1)
        return pins(left, name, when_true, _depth + 1) or pins(right, name, when_true, _depth + 1)
    if operator == "in":
        return when_true and value_name(left) == name
    if operator in ("===", "==", "!==", "!="):
        equal = operator in ("===", "==")
        if _is_constant(right) and _names(left, name) or _is_constant(left) and _names(right, name):
            return equal == when_true
        if _typeof_number(left, right, name) or _typeof_number(right, left, name):
            return equal == when_true
    return False


def _call_pins(call: Node, name: str, when_true: bool) -> bool:
    function = callee(call)
    arguments = arguments_of(call)
    method = property_name(function) if function is not None and function.type == "member_expression" else text(function)
    if method == "isNaN" and arguments:  # `!isNaN(id)`: a number
        return not when_true and value_name(arguments[0]) == name
    if not when_true or not arguments:
        return False
    if text(function) == "Object.hasOwn" and len(arguments) == 2:
        return value_name(arguments[1]) == name
    if method in _MEMBERSHIP_METHODS or method in _SHAPE_VALIDATORS:
        return value_name(arguments[0]) == name
    return False


def _names(node: Node | None, name: str) -> bool:
    return value_name(node) == name


def _is_constant(node: Node | None) -> bool:
    node = unwrap(node)
    return node is not None and (node.type in ("string", "number", "true", "false", "null") or
                                 node.type == "template_string" and not any(c.type == "template_substitution" for c in node.named_children))


def _typeof_number(side: Node | None, other: Node | None, name: str) -> bool:
    """`typeof id === 'number'` (or 'boolean', 'bigint')."""
    side, other = unwrap(side), unwrap(other)
    if side is None or other is None or side.type != "unary_expression":
        return False
    if text(side.child_by_field_name("operator")) != "typeof" or value_name(side.child_by_field_name("argument")) != name:
        return False
    return text(other)[1:-1] in ("number", "boolean", "bigint")


def pinned_at(use: Node) -> bool:
    """Whether the value at `use` has passed a check that pins it: a condition around it, or a guard before
    it in a block around it."""
    name = value_name(use)
    return name is not None and checked_at(use, name, pins, value_name)
