"""next-safe-action: server actions built by an action client, and the schema that parses their input.

`actionClient.inputSchema(schema).action(async ({ parsedInput, ctx }) => …)` (`.schema()` before v8, also
`.stateAction()`, and a callback wrapped once: `.action(withLogging('x', async ({ parsedInput }) => …))`): the
callback's first parameter holds `parsedInput`, what the client sent after the schema parsed it, and
`clientInput`, what the client sent before.
"""

from __future__ import annotations

from linter.js.expressions import arguments_of, callee, member_object, passed_to, property_name, unwrap
from linter.syntax import Node, text

_ACTION_METHODS = frozenset({"action", "stateAction"})
_SCHEMA_METHODS = frozenset({"inputSchema", "schema"})
_MAX_CHAIN = 32


def action_schemas(fn: Node) -> tuple[Node, ...] | None:
    """The schemas given to the action client chain whose `.action()` takes `fn`, in order (empty when the
    chain names none), or None when `fn` is not such a callback."""
    call = _action_call(fn)
    if call is None:
        return None
    schemas: list[Node] = []
    node = member_object(callee(call))
    for _ in range(_MAX_CHAIN):
        node = unwrap(node)
        if node is None or node.type not in ("call_expression", "member_expression"):
            break
        function = callee(node) if node.type == "call_expression" else node
        if node.type == "call_expression" and property_name(function) in _SCHEMA_METHODS and arguments_of(node):
            schemas.append(arguments_of(node)[0])
        node = member_object(function) if function is not None and function.type == "member_expression" else None
    if not schemas and not _named_like_a_client(node):
        return None
    return tuple(reversed(schemas))


def _action_call(fn: Node) -> Node | None:
    """`X.action(fn)`, or `X.action(wrapper(…, fn))`."""
    for _ in range(2):
        passed = passed_to(fn)
        if passed is None:
            return None
        call, fn = passed
        function = callee(call)
        if function is not None and function.type == "member_expression" and property_name(function) in _ACTION_METHODS:
            return call if arguments_of(call)[:1] == [fn] else None
        if arguments_of(call)[-1:] != [fn]:
            return None
        fn = call
    return None


def _named_like_a_client(root: Node | None) -> bool:
    """A chain with no schema counts when it starts at an action client: `actionClient`, `authActionClient`."""
    return root is not None and root.type == "identifier" and text(root).lower().endswith("actionclient")
