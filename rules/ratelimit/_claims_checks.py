"""Handlers that turn away every caller but administrators and the app's own jobs before the expensive work.

The check reads what the app's authentication returned (`const claims = await auth(req, res)`, `const session =
await getServerSession(...)`: a value the handler gets from a call that is handed the request, or from one named
for authentication or sessions) and compares its `type` or `role` with a privileged kind (`'admin'`, or the
`'cron'`/`'internal'`/`'system'` kind a scheduler's secret earns). It stops the request when it is

- an `if` whose condition holds for every other caller (`claims?.type !== 'admin'`, `!claims || claims.role !=
  'admin'`) and whose branch always ends in `return` or `throw`; or
- an assertion of the comparison (`assertTrue(claims.type === 'admin', …)`, `invariant(…)`, `assert.ok(…)`),
  which throws for the others;

and it comes before the work: a statement of a block that holds the first step towards the expensive call
(the call itself, or the handler's call on the way to it), earlier than that step. A check that only logs, one
in a branch the step is outside of, one after the step, or a comparison of something the client sends
(`req.body.type`) gates nothing.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, member_chain, unwrap
from linter.js.functions import function_body, parameter_names
from linter.js.imports import string_value
from linter.syntax import Node, same_node, text, walk

_PRIVILEGED_KINDS = lazy_re.compile(r"^(admin|administrator|superadmin|super_admin|superuser|staff|cron|internal|system)$", re.I)
_KIND_FIELDS = frozenset({"type", "role", "kind"})
_ASSERTIONS = lazy_re.compile(r"^(assert\w*|invariant|ok|ensure\w*)$")
_AUTH_CALLS = lazy_re.compile(r"(?i)auth|session|claims|caller|viewer|user|principal|identity|token")
_REQUEST_NAMES = frozenset({"req", "request"})


def checked_before(handler: Node, step: Node) -> bool:
    """Whether `handler` turns away all but privileged callers before `step` (a node inside it)."""
    body = function_body(handler)
    if body is None or body.type != "statement_block":
        return False
    requests = set(_REQUEST_NAMES) | {name for name in parameter_names(handler)[:1] if name}
    block = step.parent
    while block is not None and not same_node(block, handler):
        if block.type == "statement_block":
            for statement in block.named_children:
                if statement.start_byte >= step.start_byte:
                    break
                if _stops_others(statement, handler, requests):
                    return True
        block = block.parent
    return False


def _stops_others(statement: Node, handler: Node, requests: set[str]) -> bool:
    if statement.type == "if_statement":
        if statement.child_by_field_name("alternative") is not None:
            return False
        return _denies_others(statement.child_by_field_name("condition"), handler, requests) and _always_exits(
            statement.child_by_field_name("consequence")
        )
    if statement.type == "expression_statement" and statement.named_children:
        call = unwrap(statement.named_children[0])
        if call is not None and call.type == "await_expression" and call.named_children:
            call = unwrap(call.named_children[0])
        if call is None or call.type != "call_expression":
            return False
        _, names = member_chain(callee(call))
        function = callee(call)
        last = names[-1] if names else text(function) if function is not None and function.type == "identifier" else ""
        arguments = arguments_of(call)
        return bool(_ASSERTIONS.match(last)) and bool(arguments) and _privileged_test(arguments[0], "===", handler, requests)
    return False


def _denies_others(condition: Node | None, handler: Node, requests: set[str]) -> bool:
    """A condition true for every caller but a privileged one: `c.type !== 'admin'`, or `||` with one."""
    condition = unwrap(condition)
    if condition is None or condition.type != "binary_expression":
        return False
    operator = text(condition.child_by_field_name("operator"))
    if operator == "||":
        return _denies_others(condition.child_by_field_name("left"), handler, requests) or _denies_others(
            condition.child_by_field_name("right"), handler, requests
        )
    return _privileged_test(condition, "!==", handler, requests)


def _privileged_test(node: Node | None, polarity: str, handler: Node, requests: set[str]) -> bool:
    """`claims.type === 'admin'` (polarity `===`, also `==`) or `!==` (also `!=`), the auth result on either side."""
    node = unwrap(node)
    if node is None or node.type != "binary_expression":
        return False
    operator = text(node.child_by_field_name("operator"))
    if operator not in ((polarity, polarity[:-1])):
        return False
    sides = [unwrap(node.child_by_field_name("left")), unwrap(node.child_by_field_name("right"))]
    for field, kind in (sides, sides[::-1]):
        value = string_value(kind) if kind is not None else None
        if field is None or value is None or not _PRIVILEGED_KINDS.match(value):
            continue
        root, members = member_chain(field)
        if members and members[-1] in _KIND_FIELDS and root is not None and root.type == "identifier":
            if _auth_result(text(root), handler, requests):
                return True
    return False


def _auth_result(name: str, handler: Node, requests: set[str]) -> bool:
    """`name` is declared in the handler from a call that is handed the request or is named for authentication."""
    for node in walk(handler):
        if node.type != "variable_declarator":
            continue
        target = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if target is None or value is None or text(target) != name:
            continue
        for call in walk(value):
            if call.type != "call_expression":
                continue
            function = callee(call)
            root, members = member_chain(function)
            names = ([text(root)] if root is not None and root.type == "identifier" else []) + members
            if any(_AUTH_CALLS.search(part) for part in names[-1:]):
                return True
            if any(text(unwrap(argument)) in requests for argument in arguments_of(call)):
                return True
    return False


def _always_exits(branch: Node | None) -> bool:
    """A `return` or `throw`, or a block whose last statement always exits."""
    if branch is None:
        return False
    if branch.type in ("return_statement", "throw_statement"):
        return True
    if branch.type == "statement_block":
        statements = [s for s in branch.named_children if s.type != "comment"]
        return bool(statements) and _always_exits(statements[-1])
    if branch.type == "if_statement":
        alternative = branch.child_by_field_name("alternative")
        otherwise = alternative.named_children[-1] if alternative is not None and alternative.named_children else None
        return _always_exits(branch.child_by_field_name("consequence")) and _always_exits(otherwise)
    return False

