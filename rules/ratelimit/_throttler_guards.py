"""The ThrottlerGuards a NestJS app applies, and what they key their counts by.

A `ThrottlerModule` only holds the limits and the storage: requests are counted by a `ThrottlerGuard` (or a
subclass, declared in any module of the app, through any number of subclasses) applied as a global guard
(`{ provide: APP_GUARD, useClass: X }`, `app.useGlobalGuards(new X())`) or on a controller or gateway
(`@UseGuards(X)`). Guards are found by class name among the app's files (its package, tests left out).

An app that applies no throttler guard counts nothing: its `ThrottlerModule` holds limits nobody enforces.

A guard whose `getTracker` keys by a socket's id (`socket.id`, `client.id`) counts per connection: one
connection lives on one instance, so counts kept in that instance's memory are exact.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.modules import module_graph
from linter.js.bindings import returned_values
from linter.js.expressions import arguments_of, key_text, object_keys, unwrap
from linter.lazy_dataclasses import dataclass
from linter.paths import is_test_path
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.project import Package, ProjectIndex

BASE_GUARD = "ThrottlerGuard"
_CLASS_TYPES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
# The receiver of a connection's id in a tracker: `socket.id`, `client.id`, `conn.id`, `ws.id`.
_CONNECTION = lazy_re.compile(r"socket|client|conn|\bws\b", re.I)
_SAYS_THROTTLE = lazy_re.compile(r"throttl|rate.?limit", re.I)
MAX_ROUNDS = 5  # subclass levels followed


@dataclass(frozen=True)
class GuardUse:
    applied: frozenset[str]  # names of the throttler guard classes applied somewhere in the app
    unknown: bool  # a global guard or `@UseGuards` argument that could not be read: it may be one
    per_connection: frozenset[str]  # the guards that key by a socket's id


def guard_use(project: "ProjectIndex", package: "Package | None") -> GuardUse:
    """What the app of `package` does with throttler guards, once per run and package."""
    cache = project.memo("ratelimit.throttler-guards", dict)
    key = package.dir if package is not None else None
    if key not in cache:
        cache[key] = _guard_use(project, package)
    return cache[key]


def _guard_use(project: "ProjectIndex", package: "Package | None") -> GuardUse:
    graph = module_graph(project)
    files = [
        path
        for path in project.files
        if not is_test_path(path) and project.package_of(path) == package and b"Guard" in (graph.source(path) or b"")
    ]
    classes: dict[str, Node] = {}
    names = {BASE_GUARD}
    for _ in range(MAX_ROUNDS):
        found = False
        for path in files:
            source = graph.source(path) or b""
            if b"extends" not in source or not any(name.encode() in source for name in names):
                continue
            file = graph.file(path)
            for node in walk(file.root) if file is not None else ():
                name, parent = _class_and_parent(node)
                if name and parent in names and name not in names:
                    names.add(name)
                    classes[name] = node
                    found = True
        if not found:
            break
    applied: set[str] = set()
    unknown = False
    for path in files:
        source = graph.source(path) or b""
        if not any(word in source for word in (b"APP_GUARD", b"UseGuards", b"useGlobalGuards")):
            continue
        file = graph.file(path)
        for node in walk(file.root) if file is not None else ():
            for guard in _applied_guards(node):
                if guard is None:
                    unknown = True
                elif guard in names:
                    applied.add(guard)
                elif _SAYS_THROTTLE.search(guard):
                    unknown = True  # a throttler guard declared outside the app (a shared workspace package)
    per_connection = frozenset(name for name in applied if name in classes and _keys_by_connection(classes[name]))
    return GuardUse(frozenset(applied), unknown, per_connection)


def _class_and_parent(node: Node) -> tuple[str | None, str | None]:
    """(`X`, `Y`) for `class X extends Y` (`Y` as its last name: `throttler.ThrottlerGuard` is `ThrottlerGuard`)."""
    if node.type not in _CLASS_TYPES:
        return None, None
    name = node.child_by_field_name("name")
    heritage = next((c for c in node.children if c.type == "class_heritage"), None)
    if name is None or heritage is None:
        return None, None
    clause = next((c for c in heritage.named_children if c.type == "extends_clause"), heritage)
    parent = clause.child_by_field_name("value") or (clause.named_children[0] if clause.named_children else None)
    if parent is None:
        return None, None
    return text(name), text(parent).rpartition(".")[2]


def _applied_guards(node: Node) -> list[str | None]:
    """The guard classes `node` applies (None for one it names in a way not read here)."""
    if node.type == "call_expression":
        function = node.child_by_field_name("function")
        called = text(function).rpartition(".")[2] if function is not None else ""
        if called == "UseGuards":  # a guard built by a call (`AuthGuard('jwt')`) is a mixin of another library
            return [_class_name(a) for a in arguments_of(node) if unwrap(a) is None or unwrap(a).type != "call_expression"]
        if called == "useGlobalGuards":
            return [_class_name(_constructed(argument)) for argument in arguments_of(node)]
        return []
    if node.type == "object":
        entries = object_keys(node)
        provide = entries.get("provide")
        if provide is None or text(unwrap(provide)).rpartition(".")[2] != "APP_GUARD":
            return []
        if "useClass" in entries:
            return [_class_name(entries["useClass"])]
        return [None]  # `useExisting`, `useFactory`, `useValue`
    return []


def _constructed(argument: Node) -> Node | None:
    argument = unwrap(argument)
    if argument is not None and argument.type == "new_expression":
        return argument.child_by_field_name("constructor")
    return None


def _class_name(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None or node.type not in ("identifier", "member_expression"):
        return None
    return text(node).rpartition(".")[2]


def _keys_by_connection(declaration: Node) -> bool:
    """Whether the class's `getTracker` keys by a connection's id: its first `return` reads `<socket>.id`."""
    body = declaration.child_by_field_name("body")
    for member in body.named_children if body is not None else ():
        if member.type != "method_definition" or key_text(member.child_by_field_name("name")) != "getTracker":
            continue
        returned = returned_values(member)
        if not returned:
            return False
        for node in walk(returned[0]):
            if node.type == "member_expression" and text(node.child_by_field_name("property")) == "id":
                owner = node.child_by_field_name("object")
                if owner is not None and _CONNECTION.search(text(owner)):
                    return True
        return False
    return False


def guards_of(module_source: bytes, use: GuardUse) -> frozenset[str]:
    """The applied guards a throttler's module names (its providers, its APP_GUARD), else every applied guard of
    the app: the module-scoped `ThrottlerModule` of a gateway goes with the guard that module provides."""
    named = frozenset(name for name in use.applied if re.search(rb"\b" + re.escape(name.encode()) + rb"\b", module_source))
    return named or use.applied
