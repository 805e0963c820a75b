"""Options objects as the code writes them: which object literal an argument stands for, and what one of its
keys holds, with "cannot tell" kept apart from "not there".

`options_object(node)` follows a `const` of the same file (`const options = { expiresIn: '1h' }`) unless the
file later writes into it (`options.expiresIn = …`, `Object.assign(options, …)`). `option(obj, 'a.b')` is
ABSENT only when every entry of the literal is a plain key: a spread (`...defaults`) or a computed key may
hold anything.
"""

from __future__ import annotations

from functools import lru_cache

from linter import lazy_re
from linter.js.static_values import const_initializer
from linter.js.expressions import key_text, unwrap
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

_OPAQUE_ENTRIES = frozenset({"spread_element", "computed_property_name"})


@dataclass(frozen=True)
class Lookup:
    """What the code says about a value: `state` is "object"/"value" (found: `node`), "absent" or "unknown"."""

    state: str
    node: Node | None = None

    @property
    def absent(self) -> bool:
        return self.state == "absent"

    @property
    def unknown(self) -> bool:
        return self.state == "unknown"


ABSENT = Lookup("absent")
UNKNOWN = Lookup("unknown")


def options_object(node: Node | None, source: bytes) -> Lookup:
    """The object literal an argument is: ABSENT for no argument (or `undefined`), UNKNOWN when it is not a
    literal or a `const` of this file that nothing writes into. `source` is the file's bytes."""
    node = unwrap(node)
    if node is None or (node.type in ("undefined", "identifier") and text(node) == "undefined"):
        return ABSENT
    if node.type == "object":
        return Lookup("object", node)
    if node.type != "identifier":
        return UNKNOWN
    value = unwrap(const_initializer(node))
    if value is None or value.type != "object" or _written_into(text(node), source):
        return UNKNOWN
    return Lookup("object", value)


def option(obj: Node, dotted: str) -> Lookup:
    """The value at `dotted` (`'signOptions.expiresIn'`) in the object literal `obj`."""
    current = obj
    for key in dotted.split("."):
        current = unwrap(current)
        if current is None or current.type != "object":
            return UNKNOWN
        found = entry(current, key)
        if found.state != "value":
            return found
        current = found.node
    return Lookup("value", current)


def entry(obj: Node, key: str) -> Lookup:
    """`obj[key]` for an object literal: the value (a shorthand `{ key }` is its own value), ABSENT or UNKNOWN."""
    opaque = False
    for child in obj.named_children:
        if child.type == "pair":
            key_node = child.child_by_field_name("key")
            if key_node is not None and key_node.type in _OPAQUE_ENTRIES:
                opaque = True
            elif key_text(key_node) == key:
                return Lookup("value", child.child_by_field_name("value"))
        elif child.type == "shorthand_property_identifier" and text(child) == key:
            return Lookup("value", child)
        elif child.type in _OPAQUE_ENTRIES:
            opaque = True
    return UNKNOWN if opaque else ABSENT


def _written_into(name: str, source: bytes) -> bool:
    """Whether the file assigns a property of `name` or hands it to `Object.assign` as the target."""
    return name.encode() in _written_names(source)


_MEMBER_WRITE = lazy_re.compile(rb"(?<![\w$.])([\w$]+)\s*(?:\??\.\s*[\w$]+|\[[^\]]*\])\s*(?:=(?!=)|\?\?=|\|\|=)")
_ASSIGN_TARGET = lazy_re.compile(rb"Object\.assign\(\s*([\w$]+)\b")


@lru_cache(maxsize=8)
def _written_names(source: bytes) -> frozenset[bytes]:
    """Every name the file assigns a property of, or hands to `Object.assign` as the target: one pass over the
    text, whatever the number of names looked up."""
    return frozenset(m.group(1) for pattern in (_MEMBER_WRITE, _ASSIGN_TARGET) for m in pattern.finditer(source))
