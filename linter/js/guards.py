"""Whether a value has passed a check before it is used: a condition around the use, or an `if` before it in an
enclosing block that leaves (returns, throws, answers the request) or reassigns the value when the check fails.
What counts as the check is the caller's: an upper bound (pagination caps), an allowlist (raw SQL)."""

from __future__ import annotations

from typing import Callable, Iterator

from linter.js.expressions import callee, property_name
from linter.js.functions import FUNCTION_TYPES
from linter.syntax import Node, text

# `holds(condition, name, when_true)`: the condition checks `name` when it is true (or false).
Check = Callable[[Node | None, str, bool], bool]

_BLOCKS = frozenset({"statement_block", "program", "switch_case", "switch_default"})
_RESPONSE_METHODS = frozenset({"status", "json", "send", "end", "sendStatus", "redirect", "badRequest", "throw"})
_LEAVING_CALLS = frozenset({"next", "notFound", "redirect"})  # Express's next(); Next.js's, which throw


def checked_at(use: Node, name: str, holds: Check, name_of: Callable[[Node | None], str | None]) -> bool:
    """Whether `name` (the value at `use`) has passed `holds` on the way to `use` within its function."""
    return next(checks_on_the_way(use, name, holds, name_of), None) is not None


def checks_on_the_way(use: Node, name: str, holds: Check, name_of: Callable[[Node | None], str | None]) -> Iterator[tuple[Node, bool]]:
    """The checks `name` has passed on the way to `use` within its function, innermost first, as (condition,
    the value it had there): an `if` around `use` (true in its consequence), a guard before it (false)."""
    current = use
    while current.parent is not None and current.type not in FUNCTION_TYPES:
        parent = current.parent
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            if current == parent.child_by_field_name("consequence") and holds(condition, name, True):
                yield condition, True
            if current == parent.child_by_field_name("alternative") and holds(condition, name, False):
                yield condition, False
        if parent.type in _BLOCKS:
            for statement in parent.named_children:
                if statement.start_byte >= current.start_byte:
                    break
                if statement.type == "if_statement" and _is_guard(statement, name, holds, name_of):
                    yield statement.child_by_field_name("condition"), False
        current = parent


def _is_guard(statement: Node, name: str, holds: Check, name_of: Callable[[Node | None], str | None]) -> bool:
    """`if (<check fails>) { return … | throw … | res.status(400)… | next(…) | <name> = … }`."""
    if not holds(statement.child_by_field_name("condition"), name, False):
        return False
    consequence = statement.child_by_field_name("consequence")
    stack = [consequence] if consequence is not None else []
    while stack:
        node = stack.pop()
        if node.type in ("return_statement", "throw_statement", "break_statement", "continue_statement"):
            return True
        if node.type == "assignment_expression" and name_of(node.child_by_field_name("left")) == name:
            return True
        if node.type == "call_expression" and property_name(callee(node)) in _RESPONSE_METHODS:
            return True
        if node.type == "call_expression" and text(callee(node)) in _LEAVING_CALLS:
            return True
        if node.type not in FUNCTION_TYPES:
            stack.extend(node.named_children)
    return False
