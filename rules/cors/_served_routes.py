"""Apps that serve no HTTP routes, where a CORS policy exposes nothing.

A queue consumer or a background worker sometimes starts an HTTP server only so that its platform sees an open
port, with the API's middleware copied onto it. Every request it gets is answered with a 404, so its CORS
policy lets no website read anything.

`serves_no_routes(call, file)` says whether the app a CORS middleware is registered on (`app.use(cors(…))`,
`app.use(path, cors(…))`, `app.register(cors, …)`) is such an app, or none at all (a name the file never
binds, as in a snippet kept in notes: loading it throws): created in this file by a server framework
(`express()`, `new Koa()`, `Fastify()`), and used only to register middleware that sets headers or reads bodies
(`express.json()`, `helmet()`, `compression()`, the CORS middleware), to change settings, and to `listen`, or
handed to `http.createServer`. A route (`app.get`, `app.route`), a router, a handler or a plugin that is not
on that list, or any other use of the app (exported, passed to a function, its property read) means it may
serve routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.imports import string_value
from linter.js.references import resolve_imported
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

# (package, export path) of the calls that create an app or a router.
_SERVER_FACTORIES = frozenset(
    {("express", ()), ("express", ("Router",)), ("koa", ()), ("fastify", ()), ("fastify", ("fastify",)),
     ("@koa/router", ()), ("koa-router", ())}
)  # fmt: skip
# Middleware that only sets headers, parses bodies, logs, limits or compresses: package → the export paths
# (None: any export of the package, as `bodyParser.json()`).
_PLAIN_MIDDLEWARE: dict[str, frozenset[tuple[str, ...]] | None] = {
    "express": frozenset({("json",), ("urlencoded",), ("raw",), ("text",)}),
    "body-parser": None,
    "cookie-parser": None,
    "cors": None,
    "@koa/cors": None,
    "koa2-cors": None,
    "@fastify/cors": None,
    "fastify-cors": None,
    "helmet": None,
    "@fastify/helmet": None,
    "koa-helmet": None,
    "compression": None,
    "@fastify/compress": None,
    "koa-compress": None,
    "koa-bodyparser": None,
    "@koa/bodyparser": None,
    "@fastify/cookie": None,
    "@fastify/formbody": None,
    "morgan": None,
    "pino-http": None,
    "koa-logger": None,
    "express-rate-limit": None,
    "@fastify/rate-limit": None,
    "hpp": None,
    "express-mongo-sanitize": None,
    "response-time": None,
}
# Methods of an app that register nothing that answers a request.
_SETTINGS_METHODS = frozenset({"listen", "set", "enable", "disable", "on", "once", "close", "ready"})
_SERVER_MODULES = frozenset({"http", "https", "http2"})


def serves_no_routes(call: Node, file: "FileContext") -> bool:
    """The CORS middleware `call` configures is registered on an app that serves no routes (see the module)."""
    registration = _registration(call)
    app = member_object(callee(registration)) if registration is not None else None
    app = unwrap(app)
    if app is None or app.type != "identifier":
        return False
    if _never_bound(app, file):
        return True
    binding = declaration_of(app)
    if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
        return False
    if not _creates_server(binding.declarator, file):
        return False
    name = text(app)
    for node in walk(file.root):
        if node.type not in ("identifier", "shorthand_property_identifier") or text(node) != name:
            continue
        if node != binding.pattern and not _harmless_use(node, file):
            return False
    return True


def _never_bound(app: Node, file: "FileContext") -> bool:
    """`app` is never created, imported, received or assigned in the file (a snippet kept in notes): loading the
    module throws before the middleware is registered anywhere."""
    name = text(app)
    if declaration_of(app) is not None or file.binding(name) is not None:
        return False
    for node in walk(file.root):
        if node.type in ("assignment_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier" and text(left) == name:
                return False
    return True


def _registration(call: Node) -> Node | None:
    """The `app.use(…)` / `app.register(…)` call that registers the CORS middleware `call` builds (`call` itself
    for `app.register(cors, options)`)."""
    if property_name(callee(call)) in ("use", "register") and member_object(callee(call)) is not None:
        return call
    holder = outermost(call).parent
    outer = holder.parent if holder is not None and holder.type == "arguments" else None
    if outer is not None and outer.type == "call_expression" and property_name(callee(outer)) == "use":
        return outer
    return None


def _creates_server(declarator: Node, file: "FileContext") -> bool:
    """`const app = express()`, `new Koa()`, `Fastify({ logger: true })`, `express.Router()`, not exported."""
    value = unwrap(declarator.child_by_field_name("value"))
    if value is None or value.type not in ("call_expression", "new_expression"):
        return False
    declaration = declarator.parent
    if declaration is not None and declaration.parent is not None and declaration.parent.type == "export_statement":
        return False
    made = resolve_imported(callee(value), file)
    return made is not None and (made.module, made.path) in _SERVER_FACTORIES


def _harmless_use(name: Node, file: "FileContext") -> bool:
    """`app.use(express.json())`, `app.listen(port)`, `http.createServer(app)`: a use that adds no route."""
    parent = name.parent
    if parent is None:
        return False
    if parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
        made = resolve_imported(callee(parent.parent), file)
        return made is not None and made.module in _SERVER_MODULES and made.path == ("createServer",)
    if parent.type != "member_expression" or parent.child_by_field_name("object") != name:
        return False
    call = parent.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != parent:
        return False
    method = property_name(parent)
    if method in _SETTINGS_METHODS:
        return True
    if method == "use":
        return all(_plain_middleware(argument, file) for argument in arguments_of(call))
    if method == "register":
        arguments = arguments_of(call)
        return bool(arguments) and _plain_middleware(arguments[0], file, called=False)
    return False


def _plain_middleware(argument: Node, file: "FileContext", called: bool = True) -> bool:
    """A path string, or middleware of `_PLAIN_MIDDLEWARE`: `helmet()`, `express.json()`, a local `const
    limiter = rateLimit(…)`; with `called=False` the plugin itself (`app.register(helmet)`)."""
    argument = unwrap(argument)
    if argument is None:
        return False
    if string_value(argument) is not None:
        return True
    if called and argument.type == "identifier":
        binding = declaration_of(argument)
        if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
            return False
        argument = unwrap(binding.declarator.child_by_field_name("value"))
        if argument is None:
            return False
    if called:
        if argument.type != "call_expression":
            return False
        argument = callee(argument)
    made = resolve_imported(argument, file)
    if made is None or made.module not in _PLAIN_MIDDLEWARE:
        return False
    exports = _PLAIN_MIDDLEWARE[made.module]
    return exports is None or made.path in exports
