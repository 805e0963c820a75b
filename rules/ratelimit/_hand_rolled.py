"""Rate limiters written by hand: request counts per key kept in a `Map`, an LRU cache or a plain object that
outlives the request.

A store is `new Map()`, an lru-cache / quick-lru cache, or `{}`, held by
- a module-level variable;
- a class field (`private hits = new Map()`, or `this.hits = {}` in the constructor), used as `this.hits`;
- a variable of a factory function that hands out functions using it (`function rateLimit(options) {
  const tokens = new LRUCache(...); return { check: (limit, token) => ... } }`).

It is a limiter's store when the code using it reads an entry by key (`hits.get(ip)`, `hits[ip]`), counts
with what it read (`entry.count++`, `times.push(now)`, `hits.set(ip, used + 1)`, `hits[ip] = (hits[ip] || 0) +
1`), compares what it read with a limit (`entry.count >= max`, `used <= limit`), and says it limits: the name
of the store, of a function or class using it or of the file speaks of limits, throttling, brute force or
lockouts, or a function using it answers 429 / "too many requests" or mentions rate limits. A cache of
values, a registry of limiter objects or a map of in-flight promises reads and writes by key but counts
nothing. A store read only by functions called from `catch` blocks stands in while the shared store is
down, by design, and is left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.bindings import declaration_of, returned_values
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, class_of, function_name
from linter.js.imports import string_value
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, node_fact, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

_LRU_PACKAGES = frozenset({"lru-cache", "quick-lru", "lru.min", "tiny-lru"})
# A name that says it limits (of the store, a function or class using it, or the file).
_NAME_SAYS_LIMIT = lazy_re.compile(r"limit|throttl|too.?many|brute|lock.?out", re.I)
# Code that says it limits (in a function using the store).
_CODE_SAYS_LIMIT = lazy_re.compile(rb"\b429\b|too.?many.?requests|TOO_MANY_REQUESTS|rate.?limit|throttl", re.I)
# What a file must mention to hold a hand-written limiter worth a look (the rule's byte filter, kept short: each
# needle is a pass over every file of the repository): a limit, a 429, throttling.
SAYS_IT_LIMITS = (b"imit", b"IMIT", b"429", b"hrottl")
# A window of time: a rate limit counts per period (or the cache expires its entries, `ttl`).
_TIME = lazy_re.compile(rb"Date\.now|performance\.now|\bnow\b|window|ttl|interval|expir|reset|duration|setTimeout|\bsec|minute|hour", re.I)
# A comparison with the clock (`entry.resetAt < now`): when a window ends, not how many requests it saw.
_CLOCK = lazy_re.compile(rb"Date\.now|performance\.now|\bnow\b|\btime\b|timestamp|expir|reset", re.I)
_READS = frozenset({"get", "has", "peek"})
_WRITES = frozenset({"set"})
_COMPARISONS = frozenset({">", ">=", "<", "<="})


@dataclass(frozen=True)
class HandRolled:
    name: str  # what the store is called (`hits`, `this.attempts`)
    holder: str  # "a `Map`", "an LRU cache", "an object"
    function: str | None  # the first function that reads it


def hand_rolled_limiter(node: Node, file: "FileContext") -> HandRolled | None:
    """The hand-written limiter whose store `node` (a `new …` or `{}`) creates, or None."""
    holder = _store_kind(node, file)
    if holder is None:
        return None
    place = _place(node)
    if place is None:
        return None
    name, uses = place
    reads = [read for read in (_key_read(use) for use in uses) if read is not None]
    if not reads:
        return None
    touched = _functions_of(uses)
    if not _TIME.search(node.text) and not any(_TIME.search(fn.text) for fn in touched):
        return None  # no window: a bound on how many, not on how often (a cardinality cap)
    # What each function does with what it read itself (a name in one function says nothing of another's).
    counts = {fn.start_byte: _Counts([r for r in reads if _enclosing(r) == fn], [fn]) for fn in touched}
    checking = [fn for fn in touched if counts[fn.start_byte].compared()]
    if not checking:
        return None
    counted = any(c.bumped() for c in counts.values()) or any(
        _writes_counted(use, counts[_enclosing(use).start_byte]) for use in uses if _enclosing(use) is not None
    )
    if not counted:
        return None
    if any(c.released() for c in counts.values()):
        return None  # counted down again when the work ends: in-flight work of this process, not a rate
    if not _says_it_limits(name, touched, checking, file.path):
        return None
    readers = _functions_of(reads)
    if readers and _only_called_on_failure(readers, _root(node)):
        return None  # the stand-in while the shared store is down: a deliberate degradation
    return HandRolled(name, holder, _named_function(readers[0]) if readers else None)


class _Counts:
    """The values read from the store by key, and the variables that hold them (`const entry = hits.get(ip)`,
    `const used = (tokens.get(t) || 0) + 1`), in the functions that use the store."""

    def __init__(self, reads: list[Node], functions: list[Node]) -> None:
        self.reads = reads
        self.functions = functions
        self.names: set[str] = set()
        declarators = [n for fn in functions for n in walk(fn) if n.type == "variable_declarator"]
        for _ in range(3):  # a value derived from a derived value
            for declarator in declarators:
                target, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if value is not None and target is not None and self.mentions(value):
                    self.names.update(text(n) for n in walk(target) if n.type in ("identifier", "shorthand_property_identifier_pattern"))

    def mentions(self, node: Node | None) -> bool:
        """Whether `node` holds a value read from the store, or a variable holding one."""
        if node is None:
            return False
        if any(node.start_byte <= read.start_byte and read.end_byte <= node.end_byte for read in self.reads):
            return True
        return any(n.type == "identifier" and text(n) in self.names for n in walk(node))

    def compared(self) -> bool:
        """A count compared with a limit: `entry.count >= max`, `used <= limit`, `times.length > 10` (not a time
        compared with the clock: `entry.resetAt < now`)."""
        for fn in self.functions:
            for node in walk(fn):
                if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in _COMPARISONS:
                    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                    if _CLOCK.search(node.text):
                        continue
                    if self.mentions(left) or self.mentions(right):
                        return True
        return False

    def released(self) -> bool:
        """A count taken down again when the work ends (in a `finally` block): `entry.active--`, `active -= 1`,
        `store.set(key, current - 1)`. A refund of one request (`skipSuccessfulRequests`) is no release."""
        for fn in self.functions:
            for node in walk(fn):
                if not _inside(node, "finally_clause"):
                    continue
                if node.type == "update_expression" and "--" in text(node) and self.mentions(node):
                    return True
                if node.type == "augmented_assignment_expression" and text(node.child_by_field_name("operator")) == "-=":
                    if self.mentions(node.child_by_field_name("left")):
                        return True
                if node.type == "binary_expression" and text(node.child_by_field_name("operator")) == "-":
                    right = unwrap(node.child_by_field_name("right"))
                    if right is not None and text(right) == "1" and self.mentions(node.child_by_field_name("left")):
                        return True
        return False

    def bumped(self) -> bool:
        """A count raised in place: `entry.count++`, `entry.count += 1`, `times.push(now)`."""
        for fn in self.functions:
            for node in walk(fn):
                if node.type == "update_expression" and self.mentions(node.named_children[0] if node.named_children else None):
                    return True
                if node.type == "augmented_assignment_expression" and self.mentions(node.child_by_field_name("left")):
                    return True
                if node.type == "call_expression" and property_name(callee(node)) == "push" and self.mentions(member_object(callee(node))):
                    return True
        return False


def _says_it_limits(name: str, touched: list[Node], checking: list[Node], path: str) -> bool:
    """A name (of the store, a function or class using it, the file) speaks of limits, or a function comparing
    a count answers 429 or mentions rate limits."""
    names = [name, path]
    for fn in touched:
        current: Node | None = fn
        while current is not None:  # the function and the functions and class around it
            if current.type in FUNCTION_TYPES:
                names.append(function_name(current) or "")
                names.append(_class_name(current))
            current = current.parent
    if any(_NAME_SAYS_LIMIT.search(n) for n in names if n):
        return True
    return any(_CODE_SAYS_LIMIT.search(fn.text) for fn in checking)


def _named_function(fn: Node) -> str | None:
    """The name of `fn`, or of the nearest named function around it."""
    current: Node | None = fn
    while current is not None:
        if current.type in FUNCTION_TYPES and function_name(current):
            return function_name(current)
        current = current.parent
    return None


def _store_kind(node: Node, file: "FileContext") -> str | None:
    if node.type == "object":
        return "an object" if not node.named_children else None
    if node.type != "new_expression":
        return None
    constructor = callee(node)
    if constructor is not None and constructor.type == "identifier" and text(constructor) == "Map":
        return "a `Map`" if file.binding("Map") is None else None
    imported = resolve_imported(constructor, file)
    return "an LRU cache" if imported is not None and imported.module in _LRU_PACKAGES else None


def _place(node: Node) -> tuple[str, list[Node]] | None:
    """The store's name and the places that use it, when it lives longer than one request."""
    outer = outermost(node)
    parent = outer.parent
    if parent is None:
        return None
    if parent.type in ("public_field_definition", "field_definition"):
        field = parent.child_by_field_name("name") or parent.child_by_field_name("property")
        return _field_uses(field, parent)
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == outer:
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "member_expression" and text(member_object(left)) == "this":
            return _field_uses(left.child_by_field_name("property"), parent)
        return None
    if parent.type != "variable_declarator" or parent.child_by_field_name("value") != outer:
        return None
    name = parent.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return None
    binding = declaration_of(name)
    if binding is None or binding.kind != "variable":
        return None
    scope = binding.function
    if scope is not None and not node_fact(scope, "ratelimit.hands-out-functions", _hands_out_functions):
        return None  # a variable of one call: made again for every request
    named = text(name)
    uses = [
        use for use in descendants_of_types(scope if scope is not None else _root(node), ("identifier",))
        if use != name and text(use) == named and _same_binding(declaration_of(use), binding)
    ]
    return named, uses


def _same_binding(found, binding) -> bool:
    return found is not None and found.declarator == binding.declarator


def _field_uses(field: Node | None, member: Node) -> tuple[str, list[Node]] | None:
    """`this.<field>` in the methods of the class holding `member`."""
    body = member.parent
    while body is not None and body.type != "class_body":
        body = body.parent
    if field is None or body is None:
        return None
    wanted = text(field)
    uses = [
        use for use in walk(body)
        if use.type == "member_expression" and property_name(use) == wanted and text(member_object(use)) == "this"
        and use.parent is not None and not _is_assigned(use)
    ]
    return f"this.{wanted}", uses


def _is_assigned(use: Node) -> bool:
    parent = use.parent
    return parent.type == "assignment_expression" and parent.child_by_field_name("left") == use


def _hands_out_functions(fn: Node) -> bool:
    """A factory: `fn` returns a function, or an object holding functions."""
    for value in returned_values(fn):
        value = unwrap(value)
        if value is None:
            continue
        if value.type in FUNCTION_TYPES:
            return True
        if value.type == "object" and any(
            child.type == "method_definition" or (child.type == "pair" and unwrap(child.child_by_field_name("value")).type in FUNCTION_TYPES)
            for child in value.named_children
        ):
            return True
    return False


def _key_read(use: Node) -> Node | None:
    """`store.get(key)`, `store.has(key)`, `store[key]` (a key that is not a fixed string): the read."""
    parent = use.parent
    if parent is None:
        return None
    if parent.type == "member_expression" and parent.child_by_field_name("object") == use:
        call = parent.parent
        if property_name(parent) in _READS and call is not None and call.type == "call_expression" and arguments_of(call):
            return call
        return None
    if parent.type == "subscript_expression" and parent.child_by_field_name("object") == use:
        index = unwrap(parent.child_by_field_name("index"))
        return parent if index is not None and index.type != "number" and string_value(index) is None else None
    return None


def _writes_counted(use: Node, counts: _Counts) -> bool:
    """A count stored back by key: `store.set(key, used)`, `store[key] = (store[key] || 0) + 1`, `store[key]++`."""
    parent = use.parent
    if parent is None:
        return False
    if parent.type == "member_expression" and parent.child_by_field_name("object") == use:
        call = parent.parent
        if property_name(parent) not in _WRITES or call is None or call.type != "call_expression":
            return False
        arguments = arguments_of(call)
        return len(arguments) >= 2 and _counted_value(arguments[1], counts)
    if parent.type == "subscript_expression" and parent.child_by_field_name("object") == use:
        above = parent.parent
        if above is None:
            return False
        if above.type == "update_expression" or above.type == "augmented_assignment_expression":
            return True
        if above.type == "assignment_expression" and above.child_by_field_name("left") == parent:
            return _counted_value(above.child_by_field_name("right"), counts)
    return False


def _counted_value(value: Node | None, counts: _Counts) -> bool:
    """A value that counts: it derives from what was read, or adds one (`(hits[ip] || 0) + 1`)."""
    if value is None:
        return False
    if counts.mentions(value):
        return True
    return any(
        n.type == "binary_expression" and text(n.child_by_field_name("operator")) == "+"
        and text(unwrap(n.child_by_field_name("right"))) == "1"
        for n in walk(value)
    )


def _only_called_on_failure(readers: list[Node], root: Node) -> bool:
    """Every call of the functions reading the store sits in a `catch` block: the store stands in while the
    shared one fails."""
    names = {name for name in (function_name(fn) for fn in readers) if name}
    if not names or len(names) != len(readers):
        return False
    calls = [
        n for n in walk(root)
        if n.type == "call_expression" and (text(callee(n)) in names or property_name(callee(n)) in names)
    ]
    return bool(calls) and all(_inside(call, "catch_clause") for call in calls)


def _inside(node: Node, kind: str) -> bool:
    current = node.parent
    while current is not None:
        if current.type == kind:
            return True
        current = current.parent
    return False


def _functions_of(uses) -> list[Node]:
    """The outermost functions holding `uses` (below a factory that holds the store), in source order."""
    found: dict[int, Node] = {}
    for use in uses:
        fn = _enclosing(use)
        if fn is not None:
            found.setdefault(fn.start_byte, fn)
    return [found[start] for start in sorted(found)]


def _enclosing(node: Node) -> Node | None:
    current = node.parent
    while current is not None:
        if current.type in FUNCTION_TYPES:
            return current
        current = current.parent
    return None


def _class_name(fn: Node) -> str:
    cls = class_of(fn)
    name = cls.child_by_field_name("name") if cls is not None else None
    return text(name) if name is not None else ""


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node
