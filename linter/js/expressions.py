"""Small questions every JavaScript helper asks about an expression: what it is under its TypeScript
wrappers, which expression it belongs to, and what a member access is called."""

from __future__ import annotations

from linter.js.imports import string_value
from linter.syntax import Node, text

# Nodes that change only the static type or the grouping of the expression inside them.
WRAPPERS = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression", "type_assertion"}
)


def unwrap(node: Node | None) -> Node | None:
    """The expression inside any parentheses, `as T`, `satisfies T`, `x!` and `<T>x` around it."""
    while node is not None and node.type in WRAPPERS:
        inner = [c for c in node.named_children if c.type != "comment"]
        if not inner:
            return node
        # `<T>x` puts the type first; the others put the expression first.
        node = inner[-1] if node.type == "type_assertion" else inner[0]
    return node


def outermost(node: Node) -> Node:
    """`node` with every wrapper that encloses it: the node whose parent tells how the value is used."""
    parent = node.parent  # once per step: tree-sitter finds a parent by descending from the root
    while parent is not None and parent.type in WRAPPERS:
        node, parent = parent, parent.parent
    return node


def property_name(node: Node | None) -> str | None:
    """`b` for `a.b`, `a?.b` and `a['b']`, else None."""
    if node is None:
        return None
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return text(prop) if prop is not None else None
    if node.type == "subscript_expression":
        return string_value(unwrap(node.child_by_field_name("index")))
    return None


def member_object(node: Node) -> Node | None:
    """`a` for `a.b` and `a['b']`, unwrapped."""
    return unwrap(node.child_by_field_name("object"))


def access_path(node: Node | None) -> str | None:
    """`limit`, `req.query.limit` (also for `req.query['limit']`, `this.limit`): the dotted name of an identifier
    or a chain of property reads on one; None for anything else (a call, a computed key)."""
    names: list[str] = []
    while node is not None and node.type in ("member_expression", "subscript_expression"):
        name = property_name(node)
        if name is None:
            return None
        names.append(name)
        node = member_object(node)
    if node is None or node.type not in ("identifier", "this", "shorthand_property_identifier"):
        return None
    return ".".join([text(node), *reversed(names)])


def callee(call: Node) -> Node | None:
    """The function of a call or the constructor of a `new`, unwrapped. The TypeScript grammar reads
    `await NestFactory.create<App>(…)` as a call of `(await NestFactory.create)`: the function is then the
    awaited expression."""
    field = "constructor" if call.type == "new_expression" else "function"
    function = unwrap(call.child_by_field_name(field))
    if (
        function is not None
        and function.type == "await_expression"
        and function.named_children
        and call.child_by_field_name("type_arguments") is not None
    ):
        return unwrap(function.named_children[-1])
    return function


def passed_to(node: Node) -> tuple[Node, Node] | None:
    """The call (or `new`) that takes `node` as one of its arguments, through parentheses, and the argument as
    written (`(fn)` for `f((fn))`); None when `node` is no argument."""
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    holder = node.parent
    if holder is None or holder.type != "arguments" or holder.parent is None:
        return None
    return holder.parent, node


def arguments_of(call: Node) -> list[Node]:
    """The argument expressions of a call or `new`, without comments."""
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [c for c in arguments.named_children if c.type != "comment"]


def key_text(key: Node | None) -> str:
    """The name a property key gives: `secret` for `secret:`, `'secret':` and `{ secret = … }`."""
    if key is not None and key.type == "string":
        return string_value(key) or ""
    return text(key)


def object_keys(obj: Node) -> dict[str, Node]:
    """Key → value node for the plain `key: value` and shorthand `key` entries of an object literal."""
    entries: dict[str, Node] = {}
    for child in obj.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            value = child.child_by_field_name("value")
            name = key_text(key)
            if name and value is not None:
                entries[name] = value
        elif child.type == "shorthand_property_identifier":
            entries[text(child)] = child
    return entries


def member_chain(node: Node | None) -> tuple[Node | None, list[str]]:
    """`a.b['c']` → (the node `a`, ["b", "c"]); (None, []) when a property is computed from a non-literal."""
    properties: list[str] = []
    while node is not None and node.type in ("member_expression", "subscript_expression"):
        name = property_name(node)
        if name is None:
            return None, []
        properties.append(name)
        node = member_object(node)
    properties.reverse()
    return node, properties
