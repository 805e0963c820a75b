"""tRPC: procedures, their input and the schema that checks it.

- v10/v11: `publicProcedure.input(schema).query(({ input, ctx }) => …)` (also `.mutation`, `.subscription`, any
  procedure builder: `protectedProcedure`, `t.procedure`, `adminProcedure.use(…)`); the resolver's first
  parameter holds `input`, what the client sent, checked by the schema(s) given to `.input()`.
- v9: `createRouter().query('name', { input: schema, resolve({ input, ctx }) { … } })`.

`ctx.prisma` / `ctx.db` are the app's Prisma client: the rules' Prisma sinks are recognised by their method
names, so they need nothing here.
"""

from __future__ import annotations

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, passed_to, property_name, unwrap
from linter.syntax import Node, text

_RESOLVER_METHODS = frozenset({"query", "mutation", "subscription"})
_BUILDER_NAME = lazy_re.compile(r"(?i)procedure$")
_MAX_CHAIN = 32


def procedure_schemas(fn: Node) -> tuple[Node, ...] | None:
    """The schemas checking the input of the procedure whose resolver is `fn`, in the order they are given
    (chained `.input()`s merge; empty when the procedure takes none), or None when `fn` is not a tRPC resolver."""
    call = _registration(fn)
    if call is not None:
        return _chain_inputs(call)
    return _v9_schemas(fn)


def _registration(fn: Node) -> Node | None:
    """`X.query(fn)` where X is a procedure builder chain."""
    passed = passed_to(fn)
    if passed is None:
        return None
    call = passed[0]
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) not in _RESOLVER_METHODS:
        return None
    return call if _is_procedure_chain(member_object(function)) else None


def _is_procedure_chain(node: Node | None) -> bool:
    """A chain through `.input(…)`, or rooted at a name that ends in `procedure`."""
    for _ in range(_MAX_CHAIN):
        node = unwrap(node)
        if node is None:
            return False
        if node.type == "call_expression":
            function = callee(node)
            if property_name(function) == "input":
                return True
            node = member_object(function) if function is not None and function.type == "member_expression" else function
        elif node.type == "member_expression":
            if _BUILDER_NAME.search(property_name(node) or ""):
                return True
            node = member_object(node)
        else:
            return node.type == "identifier" and _BUILDER_NAME.search(text(node)) is not None
    return False


def _chain_inputs(call: Node) -> tuple[Node, ...]:
    schemas = []
    node = member_object(callee(call))
    for _ in range(_MAX_CHAIN):
        node = unwrap(node)
        if node is None or node.type not in ("call_expression", "member_expression"):
            break
        function = callee(node) if node.type == "call_expression" else node
        if node.type == "call_expression" and property_name(function) == "input" and arguments_of(node):
            schemas.append(arguments_of(node)[0])
        node = member_object(function) if function is not None and function.type == "member_expression" else None
    return tuple(reversed(schemas))


def _v9_schemas(fn: Node) -> tuple[Node, ...] | None:
    """`{ input: schema, resolve(…) {…} }` passed to `.query('name', …)` / `.mutation('name', …)`."""
    holder = fn.parent if fn.type == "method_definition" else (fn.parent.parent if fn.parent is not None and fn.parent.type == "pair" else None)
    if holder is None or holder.type != "object":
        return None
    key = key_text(fn.child_by_field_name("name")) if fn.type == "method_definition" else key_text(fn.parent.child_by_field_name("key"))
    if key != "resolve" or holder.parent is None or holder.parent.type != "arguments":
        return None
    call = holder.parent.parent
    if call is None or property_name(callee(call)) not in _RESOLVER_METHODS:
        return None
    first = arguments_of(call)[0] if arguments_of(call) else None
    if first is None or first.type not in ("string", "template_string"):
        return None
    schema = object_keys(holder).get("input")
    return (schema,) if schema is not None else ()
