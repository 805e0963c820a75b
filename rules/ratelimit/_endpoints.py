"""The endpoints a request handler serves, and what they put in front of it.

An `Endpoint` is where a function becomes reachable by a client:

- an Express-style route registration (Express, Fastify, Hono, Koa router): `router.post('/chat', mw, fn)`,
  `router.route('/chat').post(fn)`, `fastify.post('/chat', { handler: fn })`, with the function inline (through
  wrappers such as `asyncHandler(...)`) or passed by reference from another module (`registrations_of`);
- a Next.js route handler (`export async function POST` in `app/**/route.ts`, also through wrappers) or API
  route (the default export of `pages/api/**`);
- a NestJS controller method decorated with `@Post()`, `@Get()`, ….
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.callees import callee_of, local_reference
from linter.frameworks.nestjs import method_decorators, named_decorator
from linter.frameworks.nextjs import HTTP_METHODS, is_app_route, is_pages_api
from linter.frameworks.routes import HTTP_VERB_METHODS, route_handler_references
from linter.js.expressions import arguments_of, callee, key_text, member_object, property_name, unwrap
from linter.js.functions import exported_name, function_name
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph

    from ._name_sites import SiteTest

_WRAPPER_DEPTH = 4
NEST_ROUTE_DECORATORS = frozenset({"Get", "Post", "Put", "Patch", "Delete", "All", "Options", "Head", "Search", "Sse"})
_ROUTE_VERBS = HTTP_VERB_METHODS - {"head", "options"}


@dataclass(frozen=True)
class Endpoint:
    path: str  # the file holding the registration, export or controller
    anchor: Node  # where a finding goes
    framework: str  # "express", "next" or "nest"
    label: str  # "`POST /chat`"
    registration: Node | None = None  # the registering call (Express-style)
    handler: Node | None = None  # the handler function, when it is defined there
    route: str | None = None  # the route path as written, or a Next.js URL path

    @property
    def key(self) -> tuple[str, int]:
        return self.path, self.anchor.start_byte


def endpoint_here(fn: Node, file: "FileContext") -> Endpoint | None:
    """The endpoint `fn` is the handler of where it is defined, if any."""
    return _inline_registration(fn, file) or _next_handler(fn, file) or _nest_route(fn, file)


def _inline_registration(fn: Node, file: "FileContext") -> Endpoint | None:
    current = fn
    for _ in range(_WRAPPER_DEPTH):
        parent = current.parent
        while parent is not None and parent.type == "parenthesized_expression":
            current, parent = parent, parent.parent
        if parent is None:
            return None
        if parent.type == "pair" and key_text(parent.child_by_field_name("key")) == "handler":
            options = parent.parent
            arguments = options.parent if options is not None else None
            if arguments is None or arguments.type != "arguments" or arguments.parent is None:
                return None
            return route_endpoint(arguments.parent, file)
        if parent.type != "arguments" or parent.parent is None:
            return None
        call = parent.parent
        found = route_endpoint(call, file)
        if found is not None:
            return found
        current = call
    return None


def route_endpoint(call: Node, file: "FileContext") -> Endpoint | None:
    """The endpoint a route registration call makes: `router.post('/x', …)`, `router.route('/x').post(…)`."""
    if call.type != "call_expression":
        return None
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) not in _ROUTE_VERBS:
        return None
    arguments = arguments_of(call)
    first = unwrap(arguments[0]) if arguments else None
    if first is None:
        return None
    if first.type in ("string", "template_string"):
        if len(arguments) < 2:
            return None  # `cache.get('key')`: not a route
        route = string_value(first)
    else:
        owner = member_object(function)
        if owner is None or owner.type != "call_expression" or property_name(callee(owner)) != "route":
            return None
        route = string_value(arguments_of(owner)[0]) if arguments_of(owner) else None
    verb = property_name(function).upper()
    shown = f"`{verb} {route}`" if route is not None else f"`{_short(text(function))}()`"
    return Endpoint(file.path, function, "express", shown, registration=call, route=route)


def _next_handler(fn: Node, file: "FileContext") -> Endpoint | None:
    path = file.path
    if not (is_app_route(path) or is_pages_api(path)):
        return None
    name = exported_name(fn, file.root)
    if name is None:
        return None
    url = next_url(path)
    if is_app_route(path) and name in HTTP_METHODS:
        return Endpoint(path, _export_anchor(fn), "next", f"`{name} {url}`", handler=fn, route=url)
    if is_pages_api(path) and name == "default":
        return Endpoint(path, _export_anchor(fn), "next", f"`{url}`", handler=fn, route=url)
    return None


def _export_anchor(fn: Node) -> Node:
    """The name of the exported function or binding (`POST`, `handler`), else the function."""
    name = fn.child_by_field_name("name")
    if name is not None:
        return name
    current = fn
    while current.parent is not None and current.parent.type not in ("variable_declarator", "export_statement", "program"):
        current = current.parent
    holder = current.parent
    if holder is not None and holder.type == "variable_declarator":
        return holder.child_by_field_name("name") or fn
    return fn


_GROUP = lazy_re.compile(r"^\(.*\)$|^@")


def next_url(path: str) -> str:
    """`/api/chat/[id]` for `src/app/api/chat/[id]/route.ts` or `pages/api/chat/[id].ts`."""
    parts = path.split("/")
    if is_pages_api(path):
        index = max(i for i, part in enumerate(parts) if part == "pages")
        segments = parts[index + 1 :]
        segments[-1] = posixpath.splitext(segments[-1])[0]
        if segments[-1] == "index":
            segments.pop()
    else:
        index = max(i for i, part in enumerate(parts) if part == "app")
        segments = parts[index + 1 : -1]
    return "/" + "/".join(s for s in segments if not _GROUP.match(s))


def next_app_root(path: str) -> str:
    """The folder of a Next.js app (where its middleware sits), from a route file's path."""
    parts = path.split("/")
    marker = "pages" if is_pages_api(path) else "app"
    index = max(i for i, part in enumerate(parts) if part == marker)
    root = parts[:index]
    if root and root[-1] == "src":
        root = root[:-1]
    return "/".join(root)


def _nest_route(fn: Node, file: "FileContext") -> Endpoint | None:
    if fn.type != "method_definition":
        return None
    decorators = method_decorators(fn)
    verb = next((name for name, _ in decorators if name in NEST_ROUTE_DECORATORS), None)
    if verb is None:
        return None
    klass = fn.parent.parent if fn.parent is not None else None
    if klass is None or not any(name == "Controller" for name, _ in class_decorators(klass)):
        return None
    name = fn.child_by_field_name("name") or fn
    return Endpoint(file.path, name, "nest", f"`@{verb}()` `{function_name(fn)}()`", handler=fn)


def class_decorators(klass: Node) -> list[tuple[str, Node]]:
    holders = [klass]
    if klass.parent is not None and klass.parent.type == "export_statement":
        holders.append(klass.parent)
    found = [named_decorator(c) for holder in holders for c in holder.children if c.type == "decorator"]
    return [d for d in found if d is not None]


def registrations_of(
    graph: "ModuleGraph", path: str, key: str, importers: list[str], may_refer: "SiteTest"
) -> list[tuple["FileContext", Endpoint]]:
    """The route registrations, in `path` and `importers` (the modules that import it), that pass the function
    `key` of `path` by reference: `router.post('/chat', auth, chat.create)`. An importer is parsed only when its
    bytes may hold one: a reference to the function (`may_refer`, `_name_sites`) and a route registration."""
    found = []
    for caller in importers:
        source = graph.source(caller)
        if source is None or (caller != path and not may_refer(source)):
            continue
        if not _may_register_in(graph, caller, source):
            continue
        file = graph.file(caller)
        if file is None:
            continue
        for reference in _handler_references(file):
            target = callee_of(reference, file) or local_reference(reference)
            if target is None or graph.resolve(caller, target, leading_to=path) != (path, key):
                continue
            call = _registering_call(reference)
            endpoint = route_endpoint(call, file) if call is not None else None
            if endpoint is not None:
                found.append((file, endpoint))
    return found


_REGISTRATION_BYTES = lazy_re.compile(rb"\.(?:get|post|put|patch|delete|all|route)\s*\(|handler")


def _may_register(source: bytes | None) -> bool:
    return source is not None and _REGISTRATION_BYTES.search(source) is not None


def _may_register_in(graph: "ModuleGraph", path: str, source: bytes) -> bool:
    return graph.project.lasting(path, source, "ratelimit.may-register", lambda: _may_register(source))


def _handler_references(file: "FileContext") -> list[Node]:
    def collect() -> list[Node]:
        return route_handler_references(file) if _may_register(file.source) else []

    return file.lasting("ratelimit.handler-references", collect)


def _registering_call(reference: Node) -> Node | None:
    parent = reference.parent
    if parent is not None and parent.type == "pair":
        parent = parent.parent.parent if parent.parent is not None else None
    if parent is None or parent.type != "arguments":
        return None
    return parent.parent


def _short(source: str) -> str:
    source = " ".join(source.split())
    return source if len(source) <= 40 else source[:37] + "…"
