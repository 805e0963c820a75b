"""The locals of one function that hold a request's origin, or a value computed from it.

`OriginNames` starts from what is known to be the origin (an origin callback's first parameter, or expressions
such as `req.headers.origin` that a predicate recognises) and learns the function's locals: aliases (`const o =
origin.toLowerCase()`, `const { origin } = req.headers`) and derived values (`new URL(origin).hostname`, `const ok
= allowed.includes(origin)`). `linter.rules.cors._origin_paths` reads conditions and values with it.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from linter.js.expressions import unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import destructured_names
from linter.syntax import Node, text, walk

NULLISH = frozenset({"null", "undefined"})
# String methods that give back the same origin, normalized: `origin.toLowerCase()`, `origin.replace(/\/$/, '')`.
_NORMALIZERS = frozenset(
    {"toLowerCase", "toLocaleLowerCase", "trim", "trimEnd", "trimStart", "replace", "toString", "normalize"}
)


class OriginNames:
    """The locals of one function that hold the request origin (`aliases`: the parameter, `const o =
    origin.toLowerCase()`, `const origin = req.headers.origin`) or a value computed from it (`derived`:
    `new URL(origin).hostname`, `const ok = allowed.includes(origin)`)."""

    def __init__(
        self,
        aliases: Iterable[str],
        is_request_origin: Callable[[Node], bool] = lambda node: False,
        is_header_bag: Callable[[Node], bool] = lambda node: False,
    ) -> None:
        self.aliases = set(aliases)
        self.derived: set[str] = set()
        self._is_request_origin = is_request_origin  # `req.headers.origin`, `request.headers.get('origin')`
        self._is_header_bag = is_header_bag  # `req.headers`, for `const { origin } = req.headers`

    def is_origin(self, node: Node | None) -> bool:
        """`node` evaluates to the origin itself (or nothing, when there is none)."""
        node = unwrap(node)
        if node is None:
            return False
        if node.type == "identifier":
            return text(node) in self.aliases
        if node.type == "call_expression":
            function = unwrap(node.child_by_field_name("function"))
            arguments = node.child_by_field_name("arguments")
            if function is not None and function.type == "member_expression":
                if text(function.child_by_field_name("property")) in _NORMALIZERS:
                    return self.is_origin(function.child_by_field_name("object"))
            if text(function) == "String" and arguments is not None and arguments.named_child_count == 1:
                return self.is_origin(arguments.named_children[0])
        if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in ("||", "??"):
            return self.is_origin(node.child_by_field_name("left"))  # `origin || ''`
        if node.type == "ternary_expression":  # `origin ? origin.toLowerCase() : origin`, not `ok ? origin : null`
            condition = unwrap(node.child_by_field_name("condition"))
            while condition is not None and condition.type == "unary_expression":
                condition = unwrap(condition.child_by_field_name("argument"))
            if not self.is_origin(condition):
                return False
            branches = [unwrap(node.child_by_field_name(f)) for f in ("consequence", "alternative")]
            origin_or_nothing = all(b is not None and (b.type in NULLISH or self.is_origin(b)) for b in branches)
            return origin_or_nothing and any(self.is_origin(b) for b in branches)
        return self._is_request_origin(node)

    def mentions(self, node: Node | None) -> bool:
        """`node` reads the origin or a value computed from it (nested callbacks included:
        `list.some((o) => origin.endsWith(o))`)."""
        if node is None:
            return False
        for current in walk(node):
            kind = current.type
            if kind == "identifier" and (text(current) in self.aliases or text(current) in self.derived):
                return True
            if kind in ("member_expression", "call_expression", "subscript_expression") and self._is_request_origin(
                current
            ):
                return True
        return False

    def learn(self, body: Node) -> "OriginNames":
        """Add the locals of `body` set from the origin. A name is an alias when every value it is given is the
        origin, derived when one of them mentions it (two passes reach `a = f(origin); b = g(a)`)."""
        given: dict[str, list[Node | None]] = {}  # name → the values it is given; None for the origin itself
        for node in walk_own(body):
            if node.type == "variable_declarator":
                target, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            elif node.type == "assignment_expression":
                target, value = node.child_by_field_name("left"), node.child_by_field_name("right")
            else:
                continue
            if target is None or value is None:
                continue
            if target.type == "identifier":
                given.setdefault(text(target), []).append(value)
            elif target.type == "object_pattern" and self._is_header_bag(unwrap(value)):
                for local, key in destructured_names(target):
                    given.setdefault(local, []).append(None if key.lower() == "origin" else value)
            else:
                for name in walk(target):
                    if name.type in ("identifier", "shorthand_property_identifier_pattern"):
                        given.setdefault(text(name), []).append(value)
        for _ in range(2):
            for name, values in given.items():
                if all(v is None or self.is_origin(v) for v in values):
                    self.aliases.add(name)
                elif name in self.aliases or any(v is None or self.mentions(v) for v in values):
                    # `if (!allowed.includes(origin)) origin = allowed[0]`: no longer the request's origin
                    self.aliases.discard(name)
                    self.derived.add(name)
        return self


def walk_own(node: Node) -> Iterator[Node]:
    """`walk`, without entering the functions nested in `node`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and current.type in FUNCTION_TYPES:
            continue
        stack.extend(reversed(current.children))
