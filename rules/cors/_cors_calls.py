"""CORS configuration: which object literals configure a CORS library (`cors`, `@koa/cors`, `@fastify/cors`,
`hono/cors`, NestJS `enableCors`, the `cors` option of socket.io and `NestFactory.create`), what their `origin`
and `credentials` say, where a request's `Origin` header is read, and where `Access-Control-Allow-*` headers
are set by hand.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_name, parameter_names
from linter.js.imports import string_value
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

# Package → the export that is the CORS middleware (() for the module's default export).
CORS_PACKAGES: dict[str, tuple[str, ...]] = {
    "cors": (),
    "@koa/cors": (),
    "koa2-cors": (),
    "@fastify/cors": (),
    "fastify-cors": (),
    "hono/cors": ("cors",),
    "@elysiajs/cors": ("cors",),
}
# Libraries that answer a credentialed request for `origin: '*'` (or no origin at all) with the request's own
# origin; the others send a literal `*`, which browsers refuse to pair with credentials.
REFLECTS_STAR_WITH_CREDENTIALS = frozenset({"@koa/cors"})
# Libraries whose origin function gets the request context and returns the origin to allow.
CONTEXT_ORIGIN_FUNCTIONS = frozenset({"@koa/cors", "koa2-cors"})
# Keys only a CORS configuration has next to `origin`.
_CORS_KEYS = frozenset(
    {"credentials", "methods", "allowedHeaders", "exposedHeaders", "allowMethods", "allowHeaders", "exposeHeaders",
     "maxAge", "preflightContinue", "optionsSuccessStatus"}
)  # fmt: skip
_CORS_NAME = lazy_re.compile(r"cors", re.I)
ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"
_HEADER_SETTERS = frozenset({"setHeader", "header", "set", "append", "appendHeader"})
_HEADER_GETTERS = frozenset({"get", "header", "getHeader"})
_HEADER_BAGS = frozenset({"headers", "header"})


@dataclass(frozen=True)
class CorsConfig:
    object: Node  # the object literal
    library: str  # the package whose semantics apply ("cors" when only the shape says it is CORS)
    origin: Node | None  # the `origin` value: an expression, a method, or a shorthand identifier
    credentials: Node | None  # the `credentials: true` entry, when credentials are allowed

    @property
    def reflects_star(self) -> bool:
        """`origin: '*'` (or no origin) lets the request's own origin in with credentials."""
        return self.library in REFLECTS_STAR_WITH_CREDENTIALS and self.credentials is not None


def cors_config(obj: Node, file: "FileContext") -> CorsConfig | None:
    """The CORS configuration `obj` (an object literal) is, or None when it is something else."""
    if obj.type != "object":
        return None
    entries = _entries(obj)
    library = _library_by_use(obj, file)
    if library is None:
        looks_like_cors = bool(_CORS_KEYS & entries.keys()) and "origin" in entries
        if not looks_like_cors and not _named_cors(obj) and not _callback_origin(entries.get("origin")):
            return None
        library = imported_cors_package(file) or "cors"
    return read_options(obj, library)


def read_options(obj: Node, library: str) -> CorsConfig:
    """The CORS configuration the object literal `obj` is, for `library`."""
    entries = _entries(obj)
    credentials = entries.get("credentials")
    credentials_on = credentials is not None and _pair_value(credentials).type == "true"
    origin = entries.get("origin")
    if origin is not None and origin.type == "pair":
        origin = origin.child_by_field_name("value")
    return CorsConfig(obj, library, origin, credentials if credentials_on else None)


def _pair_value(entry: Node) -> Node:
    """The value of a `key: value` entry, unwrapped; the entry itself for a method or shorthand."""
    value = unwrap(entry.child_by_field_name("value")) if entry.type == "pair" else None
    return value if value is not None else entry


def imported_cors_package(file: "FileContext") -> str | None:
    return next((b.module for b in file.import_bindings if b.module in CORS_PACKAGES), None)


def _entries(obj: Node) -> dict[str, Node]:
    """Key → the pair (or method, or shorthand identifier) for the entries of an object literal."""
    entries: dict[str, Node] = {}
    for child in obj.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            name = string_value(key) if key is not None and key.type == "string" else text(key)
            entries[name] = child
        elif child.type == "method_definition":
            entries[text(child.child_by_field_name("name"))] = child
        elif child.type == "shorthand_property_identifier":
            entries[text(child)] = child
    return entries


def _library_by_use(obj: Node, file: "FileContext") -> str | None:
    """The CORS library `obj` is handed to: `cors({...})`, `app.register(cors, {...})`, `app.enableCors({...})`,
    `{ cors: {...} }`, or through a same-file variable `cors(corsOptions)`."""
    holder = outermost(obj).parent
    if holder is None:
        return None
    call = holder.parent
    if holder.type == "arguments" and call is not None and call.type in ("call_expression", "new_expression"):
        return cors_call_library(call, file)
    if holder.type == "pair" and _key(holder) == "cors":
        return "cors"
    if holder.type == "variable_declarator":
        name = holder.child_by_field_name("name")
        if name is not None and name.type == "identifier":
            calls = _cors_arguments(file).get(text(name))
            return cors_call_library(calls[0], file) if calls else None
    return None


def cors_uses(obj: Node, file: "FileContext") -> list[Node]:
    """The CORS calls of this file that take the object literal `obj` as their options: `cors({...})`, or
    `cors(corsOptions)` after `const corsOptions = {...}`. Empty when it is used some other way."""
    holder = outermost(obj).parent
    if holder is None:
        return []
    call = holder.parent
    if holder.type == "arguments" and call is not None and call.type == "call_expression":
        found = cors_options(call, file)
        return [call] if found is not None and found[1] == obj else []
    if holder.type == "variable_declarator":
        name = holder.child_by_field_name("name")
        if name is not None and name.type == "identifier":
            return list(_cors_arguments(file).get(text(name), ()))
    return []


def cors_call_library(call: Node, file: "FileContext") -> str | None:
    """The CORS library a call configures, or None."""
    found = _cors_call(call, file)
    return found[0] if found is not None else None


def cors_options(call: Node, file: "FileContext") -> tuple[str, Node | None] | None:
    """(the library, the options argument or None) of a call that configures CORS: `cors(options)`,
    `app.enableCors(options)`, `app.register(cors, options)`; None for any other call."""
    found = _cors_call(call, file)
    if found is None:
        return None
    library, index = found
    arguments = arguments_of(call)
    return library, (unwrap(arguments[index]) if len(arguments) > index else None)


def _cors_call(call: Node, file: "FileContext") -> tuple[str, int] | None:
    """(the library, the position of the options argument) of a call that configures CORS."""
    function = callee(call)
    imported = resolve_imported(function, file)
    if imported is not None and CORS_PACKAGES.get(imported.module) == imported.path:
        return imported.module, 0
    if property_name(function) == "enableCors":  # NestJS, on top of `cors`
        return "cors", 0
    if property_name(function) in ("register", "use"):
        arguments = arguments_of(call)
        plugin = resolve_imported(arguments[0], file) if arguments else None
        if plugin is not None and plugin.module in CORS_PACKAGES and plugin.path == ():
            return plugin.module, 1
    return None


def cors_calls_taking(name: str, file: "FileContext") -> tuple[Node, ...]:
    """The CORS calls of this file that take the local `name` as an argument: `app.use(cors(corsDelegate))`."""
    return tuple(_cors_arguments(file).get(name, ()))


def _cors_arguments(file: "FileContext") -> dict[str, list[Node]]:
    """Local names handed to a CORS call in this file (`app.use(cors(corsOptions))`) → those calls."""

    def collect() -> dict[str, list[Node]]:
        names: dict[str, list[Node]] = {}
        for node in walk(file.root):
            if node.type != "call_expression":
                continue
            passed = [a for a in map(unwrap, arguments_of(node)) if a is not None and a.type == "identifier"]
            if passed and _cors_call(node, file) is not None:
                for argument in passed:
                    names.setdefault(text(argument), []).append(node)
        return names

    return file.memo("js.cors.arguments", collect)


def _named_cors(obj: Node) -> bool:
    """`const corsOptions = {...}`, `cors: {...}`, `function getCorsConfig() { return {...} }`."""
    holder = outermost(obj).parent
    if holder is None:
        return False
    if holder.type == "variable_declarator":
        return bool(_CORS_NAME.search(text(holder.child_by_field_name("name"))))
    if holder.type in ("return_statement", "arrow_function"):
        fn = enclosing_function(obj) if holder.type == "return_statement" else holder
        name = function_name(fn) if fn is not None else None
        return bool(name and _CORS_NAME.search(name))
    return False


def _callback_origin(entry: Node | None) -> bool:
    """`origin(origin, callback) { … callback(null, …) }`: a shape only CORS origin functions have."""
    if entry is None:
        return False
    fn = _pair_value(entry)
    if fn.type not in FUNCTION_TYPES:
        return False
    return callback_parameter(fn) is not None


def callback_parameter(fn: Node) -> str | None:
    """The second parameter of an origin function when the body calls it (`callback(null, true)`)."""
    names = parameter_names(fn)
    if len(names) < 2 or not names[1]:
        return None
    for node in walk(fn):
        if node.type == "call_expression":
            function = unwrap(node.child_by_field_name("function"))
            if function is not None and function.type == "identifier" and text(function) == names[1]:
                return names[1]
    return None


def _key(pair: Node) -> str | None:
    key = pair.child_by_field_name("key")
    if key is None:
        return None
    return string_value(key) if key.type == "string" else text(key)


# --- the request's Origin header -------------------------------------------------------------------------------


def is_request_origin(node: Node | None) -> bool:
    """`req.headers.origin`, `req.headers['origin']`, `req.header('Origin')`, `req.get('origin')`,
    `request.headers.get('origin')`, `ctx.get('Origin')`, `c.req.header('origin')`, `headers().get('origin')`."""
    node = unwrap(node)
    if node is None:
        return False
    if node.type in ("member_expression", "subscript_expression"):
        if (property_name(node) or "").lower() != "origin":
            return False
        owner = member_object(node)
        return owner is not None and property_name(owner) in _HEADER_BAGS or _is_headers_call(owner)
    if node.type == "call_expression":
        function = callee(node)
        arguments = arguments_of(node)
        if property_name(function) not in _HEADER_GETTERS or len(arguments) != 1:
            return False
        if (string_value(unwrap(arguments[0])) or "").lower() != "origin":
            return False
        owner = member_object(function)
        return owner is not None and bool(re.search(r"head|req|ctx|context|^c$", text(owner), re.I))
    return False


def is_header_bag(node: Node | None) -> bool:
    """`req.headers`, `ctx.request.header`: the object a request's headers are read from by name."""
    node = unwrap(node)
    return node is not None and node.type == "member_expression" and property_name(node) in _HEADER_BAGS


def _is_headers_call(node: Node | None) -> bool:
    """`headers()` / `await headers()` from `next/headers`."""
    node = unwrap(node)
    if node is not None and node.type == "await_expression" and node.named_children:
        node = unwrap(node.named_children[-1])
    return node is not None and node.type == "call_expression" and text(callee(node)) == "headers"


# --- headers set by hand ---------------------------------------------------------------------------------------


def header_name(node: Node) -> str | None:
    """The lower-cased header name of a string literal."""
    value = string_value(node)
    return value.lower() if value is not None else None


def header_assignment(name_node: Node) -> tuple[Node, Node] | None:
    """(the statement-level node that sets the header, the value) for a header name literal:
    `res.setHeader(name, value)`, `headers.set(name, value)`, `{ [name]: value }` (a headers object),
    `{ key: name, value }` (next.config.js `headers()`), `res.headers[name] = value`."""
    parent = outermost(name_node).parent
    if parent is None:
        return None
    if parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
        call = parent.parent
        arguments = arguments_of(call)
        setter = property_name(callee(call)) in _HEADER_SETTERS
        if setter and len(arguments) == 2 and arguments[0] == outermost(name_node):
            return call, arguments[1]
        return None
    if parent.type == "pair" and parent.child_by_field_name("key") == name_node:
        return parent, parent.child_by_field_name("value")
    if parent.type == "pair" and _key(parent) == "key" and parent.parent is not None:
        value = _entries(parent.parent).get("value")
        if value is not None and value.type == "pair":
            return parent.parent, value.child_by_field_name("value")
    assignment = parent.parent
    if parent.type == "subscript_expression" and assignment is not None and assignment.type == "assignment_expression":
        if assignment.child_by_field_name("left") == parent:
            return assignment, assignment.child_by_field_name("right")
    return None


def credentials_header(scope: Node) -> Node | None:
    """Where `scope` sets `Access-Control-Allow-Credentials: true` (the setting node), if it does."""
    for node in walk(scope):
        if node.type not in ("string", "template_string") or header_name(node) != ALLOW_CREDENTIALS:
            continue
        assignment = header_assignment(node)
        if assignment is None:
            continue
        value = unwrap(assignment[1])
        if value is not None and (value.type == "true" or string_value(value) == "true"):
            return assignment[0]
    return None
