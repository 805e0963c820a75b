"""Upper bounds in code: comparisons that keep a number under a maximum before it is used.

A value is named by its canonical text (`limit`, `req.query.limit`; `req.query['limit']` reads the same), and
a comparison bounds it when it can only be small on one side: `limit <= 100`, `MAX < limit` (false side),
`isNaN(limit) || limit > MAX` (false side). Recognised:

- a guard before the use that exits or resets the value when it is too big
  (`if (limit > 100) limit = 100`, `if (take > MAX) return res.status(400).json(…)`, `… throw …`);
- a use inside the branch of an `if` or a ternary where the condition bounds it
  (`limit > 100 ? 100 : limit`, `if (limit <= MAX) { … }`, `PAGE_SIZES.includes(size) ? size : 25`).

`Math.min()` and schemas are read where the value is traced (the page-size flow spec, `_page_size`, and
`linter.frameworks.validation_schemas`).
"""

from __future__ import annotations

from linter.flow.spec import CONVERSIONS
from linter.js.expressions import access_path, arguments_of, callee, property_name, unwrap
from linter.js.guards import checked_at
from linter.syntax import Node, text

_UPPER_WHEN_TRUE = {"<": True, "<=": True, ">": False, ">=": False}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_MAX_CONDITION_DEPTH = 32
# Calls that end an Express handler's work: a guard that answers 400 is an exit even without `return`.


def canonical(node: Node | None) -> str | None:
    """`limit`, `req.query.limit` (also for `req.query['limit']`), through wrappers and size-keeping
    conversions (`Number(limit)` and `+limit` name `limit`); None for anything else."""
    node = _core(node)
    return access_path(node)


def _core(node: Node | None) -> Node | None:
    node = unwrap(node)
    while node is not None:
        if node.type == "unary_expression" and text(node.child_by_field_name("operator")) == "+":
            node = unwrap(node.child_by_field_name("argument"))
        elif node.type == "call_expression" and text(callee(node)) in CONVERSIONS and arguments_of(node):
            node = unwrap(arguments_of(node)[0])
        elif node.type == "await_expression" and node.named_children:
            node = unwrap(node.named_children[0])
        else:
            return node
    return None


def bounds(condition: Node | None, name: str, when_true: bool, _depth: int = 0) -> bool:
    """Whether `condition` being `when_true` keeps the value named `name` under some maximum."""
    condition = unwrap(condition)
    if condition is None or _depth > _MAX_CONDITION_DEPTH:
        return False
    if condition.type == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        return bounds(condition.child_by_field_name("argument"), name, not when_true, _depth + 1)
    if condition.type == "call_expression":
        # `PAGE_SIZES.includes(size)`, `ALLOWED.has(size)`: one of a fixed set of values when true.
        arguments = arguments_of(condition)
        return when_true and property_name(callee(condition)) in ("includes", "has") and bool(arguments) and canonical(arguments[0]) == name
    if condition.type != "binary_expression":
        return False
    operator = text(condition.child_by_field_name("operator"))
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    if operator in ("&&", "||"):
        # `a && b` true (or `a || b` false) needs both sides; the other way round needs only one of them.
        both = (operator == "&&") != when_true
        if both:
            return bounds(left, name, when_true, _depth + 1) and bounds(right, name, when_true, _depth + 1)
        return bounds(left, name, when_true, _depth + 1) or bounds(right, name, when_true, _depth + 1)
    if operator not in _UPPER_WHEN_TRUE:
        return False
    left_name, right_name = canonical(left), canonical(right)
    if left_name == name and right_name != name:
        return _UPPER_WHEN_TRUE[operator] == when_true
    if right_name == name and left_name != name:
        return _UPPER_WHEN_TRUE[_MIRRORED[operator]] == when_true
    return False


def bounded_at(use: Node) -> bool:
    """Whether the value at `use` has passed an upper-bound check: a guard before it in an enclosing block,
    or a condition around it."""
    name = canonical(use)
    return name is not None and checked_at(use, name, bounds, canonical)


def is_math_min(call: Node) -> bool:
    function = callee(call)
    return function is not None and function.type == "member_expression" and text(function) == "Math.min"

