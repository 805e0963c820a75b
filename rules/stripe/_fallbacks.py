"""A webhook that carries on when its signature check fails or is skipped.

`let event = req.body; if (secret) { event = stripe.webhooks.constructEvent(…) }` uses the unverified body
whenever the secret is missing; `try { event = constructEvent(…) } catch (err) { event = JSON.parse(body) }`
does so whenever the check fails. `unverified_fallback(call, trace)` finds the value of the request body that
reaches the code after the check: the variable's initial value when the check may not run or its failure is
swallowed (a `catch` that does not return or throw), or a value assigned in that `catch` or after the check.
A `catch` that only logs leaves the variable empty, which fails later rather than trusting the body.
"""

from __future__ import annotations

from typing import Callable

from linter.js.bindings import SCOPE_BLOCKS, declaration_of
from linter.js.expressions import outermost
from linter.js.functions import FUNCTION_TYPES
from linter.syntax import Node, descendants_of_types, text

_CONDITIONAL = frozenset({"if_statement", "else_clause", "switch_case", "ternary_expression", "binary_expression"})
_EXITS = frozenset({"return_statement", "throw_statement"})


def unverified_fallback(call: Node, from_request: Callable[[Node], bool]) -> Node | None:
    """The value (an expression) of the request body the event variable holds when `call` (a `constructEvent`)
    did not verify it, if any; `from_request(expression)` says whether an expression is the request body."""
    holder = outermost(call)
    if holder.parent is not None and holder.parent.type == "await_expression":
        holder = outermost(holder.parent)
    assignment = holder.parent
    if assignment is None or assignment.type != "assignment_expression" or assignment.child_by_field_name("right") != holder:
        return None
    target = assignment.child_by_field_name("left")
    binding = declaration_of(target) if target is not None and target.type == "identifier" else None
    if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
        return None
    catch = _catch_around(assignment)
    swallowed = catch is not None and _completes(catch.child_by_field_name("body"))
    initial = binding.declarator.child_by_field_name("value")
    if initial is not None and (swallowed or _conditional(assignment, binding.declarator)) and from_request(initial):
        return initial
    scope = binding.declarator.parent
    while scope is not None and scope.type not in SCOPE_BLOCKS and scope.type not in FUNCTION_TYPES:
        scope = scope.parent
    for other in descendants_of_types(scope, ("assignment_expression",)) if scope is not None else ():
        left = other.child_by_field_name("left")
        value = other.child_by_field_name("right")
        if other == assignment or left is None or text(left) != binding.name or value is None:
            continue
        if declaration_of(left) != binding or other.start_byte < assignment.start_byte:
            continue
        inside_catch = catch is not None and catch.start_byte <= other.start_byte < catch.end_byte
        if (inside_catch and swallowed or not inside_catch) and from_request(value):
            return value
    return None


def _catch_around(assignment: Node) -> Node | None:
    """The `catch` clause of the `try` whose block holds `assignment` (inside the same function)."""
    current = assignment
    while current.parent is not None and current.type not in FUNCTION_TYPES:
        parent = current.parent
        if parent.type == "try_statement" and parent.child_by_field_name("body") == current:
            return parent.child_by_field_name("handler")
        current = parent
    return None


def _conditional(assignment: Node, declarator: Node) -> bool:
    """The assignment runs only on some paths from the declaration: under an `if`, a `case`, a ternary, `&&`."""
    current = assignment.parent
    while current is not None and not (current.start_byte <= declarator.start_byte and declarator.end_byte <= current.end_byte):
        if current.type in _CONDITIONAL:
            return True
        current = current.parent
    return False


def _completes(block: Node | None) -> bool:
    """Whether running `block` may go on to the statement after it (it does not always return or throw)."""
    if block is None:
        return True
    for statement in block.named_children:
        if not _statement_completes(statement):
            return False
    return True


def _statement_completes(statement: Node | None) -> bool:
    if statement is None:
        return True
    if statement.type in _EXITS:
        return False
    if statement.type == "statement_block":
        return _completes(statement)
    if statement.type == "if_statement":
        consequence = statement.child_by_field_name("consequence")
        alternative = statement.child_by_field_name("alternative")
        if alternative is None:
            return True
        branch = alternative.named_children[-1] if alternative.named_children else None
        return _statement_completes(consequence) or branch is None or _statement_completes(branch)
    return True
