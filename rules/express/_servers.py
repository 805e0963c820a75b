"""HTTP servers as the code starts and stops them.

- Creation: Express `express()`, Node `http.createServer()` / `https` / `http2`, Koa `new Koa()`, Fastify
  `fastify()`, NestJS `NestFactory.create()`. `server_kind(node, file)` says which one an expression is: the
  creation itself, a `const`/`let`/`this.x` assigned one in this file, the result of a same-file factory that
  creates one, a parameter typed as one, or (`Imported`) a name imported from a local module, which the project
  index resolves.
- Shutdown: `process.on('SIGTERM', handler)` (also `once`, `addListener`, and a loop over a list of signals
  that names SIGTERM), with a judgement of the handler (`exit_only`: it only logs and exits, so in-flight
  requests are cut off), and the libraries that do it for you (terminus, http-terminator, stoppable, lightship,
  close-with-grace, …), and NestJS `app.enableShutdownHooks()`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.static_values import const_initializer
from linter.js.expressions import WRAPPERS, arguments_of, callee, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_body
from linter.js.imports import string_value
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

# (module, export path, via) → server kind.
_CREATIONS: dict[tuple[str, tuple[str, ...], str], str] = {
    ("express", (), "call"): "express",
    ("http", ("createServer",), "call"): "http",
    ("https", ("createServer",), "call"): "http",
    ("http2", ("createServer",), "call"): "http",
    ("http2", ("createSecureServer",), "call"): "http",
    ("http", ("Server",), "new"): "http",
    ("https", ("Server",), "new"): "http",
    ("koa", (), "new"): "koa",
    ("fastify", (), "call"): "fastify",
    ("fastify", ("fastify",), "call"): "fastify",
    ("@nestjs/core", ("NestFactory", "create"), "call"): "nest",
}
_CREATION_MODULES = frozenset(module for module, _, _ in _CREATIONS)
SERVER_PACKAGES = frozenset({"express", "koa", "fastify", "@nestjs/core"})
# Parameter types that say "an app or server" (`function start(app: Express)`).
_SERVER_TYPES = lazy_re.compile(
    r"^(?:express\.)?(?:Express|Application)$|^(?:http\.|https\.)?Server$|^Koa$|^FastifyInstance\b|"
    r"^(?:INestApplication|NestExpressApplication|NestFastifyApplication)$"
)
LOCAL_MODULE = lazy_re.compile(r"^(\.|@/|~/|#|src/)")

SHUTDOWN_LIBRARIES = frozenset(
    {
        "@godaddy/terminus", "http-terminator", "stoppable", "lightship", "close-with-grace", "http-graceful-shutdown",
        "@moebius/http-graceful-shutdown", "node-graceful-shutdown", "node-graceful", "graceful-shutdown-express",
        "express-graceful-exit", "express-graceful-shutdown", "exit-hook", "async-exit-hook", "signal-exit",
        "fastify-graceful-shutdown", "death",
        # Apollo Server 4 stops on SIGTERM; with this plugin it also drains the HTTP server.
        "@apollo/server/plugin/drainHttpServer",
    }
)  # fmt: skip
SERVERLESS_ADAPTERS = frozenset(
    {
        "serverless-http", "@vendia/serverless-express", "@codegenie/serverless-express", "aws-serverless-express",
        "@fastify/aws-lambda", "aws-lambda-fastify", "@netlify/functions", "firebase-functions",
        "@google-cloud/functions-framework", "@azure/functions", "@vercel/node",
    }
)  # fmt: skip
# Words in a dependency's name that say it keeps state worth draining on shutdown: database, cache, queue and
# session clients, sockets (`@prisma/client`, `ioredis`, `express-session`, `socket.io`, `@org/lib-mongodb`).
_STATEFUL_WORDS = frozenset(
    {
        "prisma", "pg", "postgres", "postgresql", "mysql", "mysql2", "mongodb", "mongoose", "mongo", "redis",
        "ioredis", "valkey", "knex", "sequelize", "typeorm", "drizzle", "orm", "kysely", "sqlite", "sqlite3",
        "objection", "bull", "bullmq", "queue", "kafkajs", "amqplib", "nats", "socket", "ws", "supabase", "firebase",
        "neondatabase", "planetscale", "libsql", "upstash", "session", "db", "database", "dynamodb", "cassandra",
    }
)  # fmt: skip


def is_stateful_package(name: str) -> bool:
    """Whether a dependency keeps connections or state a server should close before it exits."""
    return any(word in _STATEFUL_WORDS for word in re.split(r"[/@.\-_]+", name.lower()))


MUTATING_METHODS = frozenset({"post", "put", "patch", "delete", "all"})
SIGNAL_METHODS = frozenset({"on", "once", "addListener", "prependListener", "prependOnceListener"})
# A call a handler may make without doing any shutdown work: logging and leaving.
_LOGGING = lazy_re.compile(
    r"^(console|logger|log|_logger|this\.logger|this\.log|pino|winston|debug)\b"
    r"|\.(info|warn|error|debug|log|trace|fatal)$"
)
_EXITING = lazy_re.compile(r"^process\.(exit|kill|abort)$")
# Functions whose names say they shut the app down (`gracefulShutdown()`, `registerShutdownHooks()`).
SHUTDOWN_NAME = lazy_re.compile(
    r"shutdown|graceful|terminat|onexit|exithook|onsignal|handlesignal|teardown|closeserver", re.I
)
# Methods that set shutdown handling up rather than shut something down now.
_SHUTDOWN_SETUP_NAME = lazy_re.compile(
    r"graceful|(on|register|handle|setup|install|add)_?shutdown|shutdown_?hook|terminus", re.I
)
MAX_FOLLOW = 3


@dataclass(frozen=True)
class Imported:
    """A server named by an import from a local module: `import app from './app'` (`specifier` './app')."""

    specifier: str


def server_kind(node: Node | None, file: "FileContext", _depth: int = 0) -> str | Imported | None:
    """Which server `node` is ("express", "http", "koa", "fastify", "nest"), an `Imported` name to resolve in
    the project, or None."""
    node = unwrap(node)
    if node is None or _depth > MAX_FOLLOW:
        return None
    if node.type == "await_expression" and node.named_children:
        return server_kind(node.named_children[-1], file, _depth + 1)
    if node.type in ("call_expression", "new_expression"):
        return _created_kind(node, file, _depth)
    if node.type == "identifier":
        binding = file.binding(text(node))
        if binding is not None:
            return Imported(binding.module) if LOCAL_MODULE.match(binding.module) else None
        return _bound_kind(text(node), node, file, _depth)
    if node.type == "member_expression" and text(member_object(node)) == "this":
        return _bound_kind(f"this.{property_name(node)}", node, file, _depth)
    return None


def may_create_server(file: "FileContext") -> bool:
    """Whether `creation_kind` can find anything in the file: it imports a server's module, or may `require` one."""
    if b"require" in file.source:
        return True
    return any(binding.module.removeprefix("node:") in _CREATION_MODULES for binding in file.import_bindings)


def may_name_creation(file: "FileContext") -> bool:
    """Whether `creation_kind` can find anything in the file: a call's callee resolves only through an import
    binding or a `require('m')` call, and each of those is among the file's bindings or module references."""
    return any(binding.module.removeprefix("node:") in _CREATION_MODULES for binding in file.import_bindings) or any(
        reference.specifier.removeprefix("node:") in _CREATION_MODULES for reference in file.module_references
    )


# Between the name a creation's callee starts with and the call or `new`: `express()`, `http.createServer()`,
# `(fastify as any)()`, `await NestFactory.create<App>()`, `new Koa()`.
_CREATION_CALLEE_HOLDERS = WRAPPERS | {"member_expression", "subscript_expression", "await_expression"}


# Beyond this many places, one walk over the file's calls costs less than finding each place in the tree (each
# search descends from the root: a deep tree, such as a long chain `a.all.all.all`, makes them slow).
MAX_PLACES = 64


def creation_places(file: "FileContext") -> list[tuple[int, bool]]:
    """Where the file names a server's module: a name it imports from one, a `require()` of one (True)."""
    source = file.source
    places = []
    for local in {b.local for b in file.import_bindings if b.module.removeprefix("node:") in _CREATION_MODULES}:
        word = local.encode()
        at = source.find(word)
        while at != -1:
            end = at + len(word)
            if (at == 0 or source[at - 1] not in _NAME_BYTES) and (end == len(source) or source[end] not in _NAME_BYTES):
                places.append((at, False))
            at = source.find(word, at + 1)
    for reference in file.module_references:
        if reference.kind == "require" and reference.specifier.removeprefix("node:") in _CREATION_MODULES:
            places.append((reference.start_byte, True))
    return places


def first_creation(file: "FileContext", places: list[tuple[int, bool]]) -> tuple[Node, str] | None:
    """The first call or `new` of the file, in document order, that `creation_kind` holds for, and its kind,
    found from the `creation_places` of the file rather than by visiting every call."""
    source, root = file.source, file.root
    starts: list[Node] = []
    for at, required in places:
        end = at + 1
        while end < len(source) and source[end] in _NAME_BYTES:
            end += 1
        node = root.descendant_for_byte_range(at, end)
        if node is None or node.type != "identifier":
            continue
        if required:
            node = node.parent  # `require('express')()`: the chain starts at the require call
        starts.append(node)
    creations: dict[int, tuple[Node, str]] = {}
    for start in starts:
        node = start.parent
        while node is not None and node.type in _CREATION_CALLEE_HOLDERS and _holds_callee_part(node, start):
            start, node = node, node.parent
        if node is not None and node.type in ("call_expression", "new_expression"):
            kind = creation_kind(node, file)
            if kind is not None:
                creations[node.id] = (node, kind)
    return min(creations.values(), key=lambda found: (found[0].start_byte, -found[0].end_byte), default=None)


def _holds_callee_part(node: Node, child: Node) -> bool:
    """`child` is what a member access reads from (`a` of `a.b`), not its key (`b` of `a[b]`): a name is climbed
    from only along the chain it starts, so a long chain `a[e][e][e]` is not climbed again from each `e`."""
    return node.type not in ("member_expression", "subscript_expression") or node.child_by_field_name("object") == child


def creation_kind(node: Node, file: "FileContext") -> str | None:
    """The server a `call_expression` / `new_expression` creates by itself (`express()`, `http.createServer()`)."""
    if node.type not in ("call_expression", "new_expression"):
        return None
    via = "new" if node.type == "new_expression" else "call"
    imported = resolve_imported(callee(node), file)
    if imported is None:
        return None
    return _CREATIONS.get((imported.module, imported.path, via))


def _created_kind(node: Node, file: "FileContext", depth: int) -> str | Imported | None:
    kind = creation_kind(node, file)
    if kind is not None:
        return kind
    function = callee(node)
    if node.type == "call_expression" and function is not None and function.type == "identifier":
        # `const app = createApp()`: a factory of this file that creates the app, or one imported from a local module.
        binding = file.binding(text(function))
        if binding is not None:
            return Imported(binding.module) if LOCAL_MODULE.match(binding.module) else None
        factory = _function_named(text(function), file)
        if factory is not None:
            return _factory_kind(factory, file, depth)
    return None


def _factory_kind(factory: Node, file: "FileContext", depth: int) -> str | None:
    """The server the function `factory` creates, if any. Kept per function and depth: a bundle calls the same
    function from thousands of places."""
    kinds = file.memo("js.servers.factory_kinds", dict)
    key = (factory.id, depth)
    if key not in kinds:
        kinds[key] = None
        body = function_body(factory)
        for inner in walk(body) if body is not None else ():
            if inner.type in ("call_expression", "new_expression"):
                kind = _created_kind(inner, file, depth + 1) if depth < MAX_FOLLOW else None
                if isinstance(kind, str):
                    kinds[key] = kind
                    break
    return kinds[key]


def _bound_kind(name: str, use: Node, file: "FileContext", depth: int) -> str | Imported | None:
    """The server a name of this file holds: `const app = express()`, `app = express()`, `this.app = express()`,
    or a parameter typed `Express`."""
    if "." not in name:
        initializer = const_initializer(use)
        if initializer is not None:
            return server_kind(initializer, file, depth + 1)
        parameter_type = _parameter_type(name, use)
        if parameter_type is not None:
            return "typed" if _SERVER_TYPES.search(parameter_type) else None
    return _assigned_kind(name, file, depth)


def _assigned_kind(name: str, file: "FileContext", depth: int) -> str | Imported | None:
    """The server of the first value assigned to `name` that is one. Kept per name and depth: in a bundle a
    one-letter name is assigned thousands of times, and each value may lead to other names."""
    kinds = file.memo("js.servers.assigned_kinds", dict)
    key = (name, depth)
    if key not in kinds:
        kinds[key] = None
        for value in _assigned_values(name, file):
            kind = server_kind(value, file, depth + 1)
            if kind is not None:
                kinds[key] = kind
                break
    return kinds[key]


def _assigned_values(name: str, file: "FileContext") -> list[Node]:
    """Values assigned to `name` (`let app; app = express()`, `this.app = express()`) anywhere in the file."""
    assignments = file.memo("js.servers.assignments", lambda: _collect_assignments(file.root))
    return assignments.get(name, [])


def _collect_assignments(root: Node) -> dict[str, list[Node]]:
    found: dict[str, list[Node]] = {}
    for node in descendants_of_types(root, ("assignment_expression", "variable_declarator")):
        if node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            key = _name_key(left)
            if key is not None and right is not None:
                found.setdefault(key, []).append(right)
        elif node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is not None and name.type == "identifier" and value is not None:
                found.setdefault(text(name), []).append(value)
    return found


def _name_key(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "identifier":
        return text(node)
    if node.type == "member_expression" and text(member_object(node)) == "this":
        return f"this.{property_name(node)}"
    return None


def _parameter_type(name: str, use: Node) -> str | None:
    """The type annotation of the parameter `name` of a function around `use`, if it is one."""
    fn = enclosing_function(use)
    while fn is not None:
        params = fn.child_by_field_name("parameters")
        for param in params.named_children if params is not None else ():
            pattern = param.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier" and text(pattern) == name:
                annotation = param.child_by_field_name("type")
                return text(annotation).lstrip(":").strip() if annotation is not None else ""
        fn = enclosing_function(fn)
    return None


def _function_named(name: str, file: "FileContext") -> Node | None:
    functions = file.memo("js.servers.functions", lambda: _collect_functions(file.root))
    return functions.get(name)


def _collect_functions(root: Node) -> dict[str, Node]:
    """Functions of the file by name: declarations and `const name = () => …` (the first of each name)."""
    found: dict[str, Node] = {}
    for node in descendants_of_types(root, ("function_declaration", "generator_function_declaration", "variable_declarator")):
        if node.type in ("function_declaration", "generator_function_declaration"):
            name = node.child_by_field_name("name")
            if name is not None:
                found.setdefault(text(name), node)
        elif node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), unwrap(node.child_by_field_name("value"))
            if name is not None and name.type == "identifier" and value is not None and value.type in FUNCTION_TYPES:
                found.setdefault(text(name), value)
    return found


# --- shutdown ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalHandler:
    node: Node  # the `process.on(…)` call
    exit_only: bool  # the handler only logs and exits (or does nothing)


def sigterm_handler(call: Node, file: "FileContext") -> SignalHandler | None:
    """`process.on('SIGTERM', handler)`, or `process.on(signal, handler)` inside a loop over signals when the
    file names SIGTERM."""
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) not in SIGNAL_METHODS:
        return None
    owner = member_object(function)
    if owner is None or text(owner) not in ("process", "globalThis.process"):
        return None
    arguments = arguments_of(call)
    if len(arguments) < 2:
        return None
    event = string_value(unwrap(arguments[0]))
    if event is None:
        if b"SIGTERM" not in file.source:
            return None
    elif event != "SIGTERM":
        return None
    return SignalHandler(call, _exit_only(arguments[1], file, 0))


def _exit_only(handler: Node | None, file: "FileContext", depth: int) -> bool:
    """Whether a handler does nothing but log and `process.exit()`; unknown handlers count as doing more."""
    handler = unwrap(handler)
    if handler is None or depth > MAX_FOLLOW:
        return False
    if handler.type == "identifier":
        if file.binding(text(handler)) is not None:
            return False
        target = _function_named(text(handler), file)
        return target is not None and _exit_only(target, file, depth + 1)
    if handler.type not in FUNCTION_TYPES:
        return False
    body = function_body(handler)
    shown = ("call_expression", "new_expression", "await_expression", "assignment_expression")
    for node in descendants_of_types(body, shown) if body is not None else ():
        if node.type != "call_expression":
            if node.type == "assignment_expression":
                return False  # sets a flag or state the rest of the app reads
            continue
        name = text(callee(node))
        if _LOGGING.search(name) or _EXITING.match(name):
            continue
        function = callee(node)
        if function is not None and function.type == "identifier" and file.binding(name) is None:
            target = _function_named(name, file)
            if target is not None and _exit_only(target, file, depth + 1):
                continue
        return False
    return True


def shutdown_library(file: "FileContext") -> str | None:
    """A graceful-shutdown library this file imports, if any."""
    for binding in file.import_bindings:
        if binding.module in SHUTDOWN_LIBRARIES:
            return binding.module
    for reference in file.module_references:
        if reference.specifier in SHUTDOWN_LIBRARIES:
            return reference.specifier
    return None


def serverless_adapter(file: "FileContext") -> str | None:
    """A serverless adapter this file imports (the app is run per invocation, not by `listen`)."""
    for reference in file.module_references:
        if reference.specifier in SERVERLESS_ADAPTERS:
            return reference.specifier
    return None


# A route method as a whole word of the file's bytes: a property's name or a string's text is its raw bytes
# (escapes stay escaped), so a file without one has no mutating route. (The word's start is tested apart: a
# look-behind at every byte costs three times as much.)
_MUTATING_METHOD_WORD = lazy_re.compile(rb"(?:p(?:ost|ut|atch)|delete|all)(?![A-Za-z0-9_$])")
_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$")


def may_name_mutating_route(file: "FileContext") -> bool:
    """Whether `is_mutating_route` can hold for a call of the file."""
    return bool(route_places(file))


# Between a route method's name and the call it names: `app['post'](…)`, `(app.post as Handler)(…)`, and
# `await app.post<T>(…)` (which the TypeScript grammar reads as a call of the awaited member).
_ROUTE_NAME_HOLDERS = WRAPPERS | {"property_identifier", "string_fragment", "string", "template_string"}
_ROUTE_CALLEE_HOLDERS = WRAPPERS | {"await_expression"}


def route_places(file: "FileContext") -> list[tuple[int, int]]:
    """Where the file names a route method as a whole word."""
    source = file.source
    return [
        found.span()
        for found in _MUTATING_METHOD_WORD.finditer(source)
        if found.start() == 0 or source[found.start() - 1] not in _NAME_BYTES
    ]


def first_mutating_route(file: "FileContext", places: list[tuple[int, int]]) -> Node | None:
    """The first call of the file, in document order, that `is_mutating_route` holds for, found from the
    `route_places` of the file rather than by visiting every call."""
    root = file.root
    routes: dict[int, Node] = {}
    for at, end in places:
        node = root.descendant_for_byte_range(at, end)
        while node is not None and node.type in _ROUTE_NAME_HOLDERS:
            node = node.parent
        if node is None or node.type not in ("member_expression", "subscript_expression"):
            continue
        node = node.parent  # one step only: a long chain `a.all.all.all` is not climbed from each of its names
        while node is not None and node.type in _ROUTE_CALLEE_HOLDERS:
            node = node.parent
        if node is not None and node.type == "call_expression" and is_mutating_route(node):
            routes[node.id] = node
    return min(routes.values(), key=lambda call: (call.start_byte, -call.end_byte), default=None)


def is_mutating_route(call: Node) -> bool:
    """`app.post('/x', …)`, `router.delete('/x/:id', …)`: a route that changes something."""
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) not in MUTATING_METHODS:
        return False
    arguments = arguments_of(call)
    return len(arguments) > 1 and string_value(unwrap(arguments[0])) is not None


# The words that `SHUTDOWN_NAME` and `_SHUTDOWN_SETUP_NAME` match, in lower case.
_SHUTDOWN_WORDS = (
    b"shutdown", b"graceful", b"terminat", b"terminus", b"onexit", b"exithook", b"onsignal", b"handlesignal",
    b"teardown", b"closeserver",
)  # fmt: skip
# The letters beyond ASCII that a case-insensitive `str` pattern matches to ASCII ones (İ ı ſ K), in UTF-8.
_FOLDED_TO_ASCII = ("\u0130".encode(), "\u0131".encode(), "\u017f".encode(), "\u212a".encode())


def may_name_shutdown_helper(file: "FileContext") -> bool:
    """Whether `imported_shutdown_call` can hold for a call of the file: the name it tests is raw text of the
    file (an identifier, a property or a string's raw text), so the file names one of the words its patterns
    match, in some case."""
    if not file.import_bindings:
        return False
    source = file.source
    if not source.isascii() and any(letter in source for letter in _FOLDED_TO_ASCII):
        return True
    lowered = source.lower()
    return any(word in lowered for word in _SHUTDOWN_WORDS)


def imported_shutdown_call(call: Node, file: "FileContext") -> str | None:
    """`gracefulShutdown(server)`, `lifecycle.registerShutdownHooks(app)`: an imported helper that, by its name,
    takes care of shutting down. A bare `shutdown()` method of an imported client (`posthog.shutdown()`) is not one."""
    function = callee(call)
    if function is None:
        return None
    if function.type == "identifier":
        name, pattern = text(function), SHUTDOWN_NAME
    elif function.type == "member_expression":
        name, pattern = property_name(function) or "", _SHUTDOWN_SETUP_NAME
    else:
        return None
    if not pattern.search(name):
        return None
    root = function
    while root is not None and root.type == "member_expression":
        root = member_object(root)
    if root is None or root.type != "identifier" or file.binding(text(root)) is None:
        return None
    return name
