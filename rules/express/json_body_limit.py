"""A JSON or form body parser that accepts request bodies larger than the allowed maximum (1 MB by default).

## Why is this bad?
`express.json()` reads the whole body into memory and parses it with `JSON.parse`, which blocks the event loop
until it is done: a few megabytes take tens of milliseconds, during which the process serves no one else, and
every concurrent upload holds its body in memory. A limit of `'10mb'` or `'50mb'` set once for the whole app (often
to make one upload route work) lets any client, signed in or not, send that much to every route. The default
(100 KB) is right for almost every JSON API; routes that really take large payloads should raise the limit
for themselves, or take files as multipart uploads streamed to storage.

The rule reports `express.json()`, `express.urlencoded()`, `express.text()`, the same parsers of `body-parser`
(`bodyParser.json()`, `json()` imported from it) and NestJS `app.useBodyParser('json', …)` whose `limit` is above
`max-body-size`. Limits are read as body-parser reads them: `'10mb'`, `'500kb'`, `'1.5 GB'` (powers of 1024) or
a number of bytes, worked out from arithmetic and same-file constants.

A parser that serves only some paths is left alone: handed to a route
(`router.post('/import', express.json({ limit: '20mb' }), handler)`, the way to raise the limit) or mounted on
paths (`app.use(['/posts', '/uploads'], …)`; `/` and `*` do not count). So are limits the code does not fix
(`process.env.BODY_LIMIT`), raw parsers (`express.raw()`, for webhooks and binary uploads) and test code.
So is an app that this file starts only on this machine's own interface (`listen(port, '127.0.0.1')`, also
`localhost` and `::1`) or on a port picked free at startup (`listen(0)`, a port from `get-port` or `portfinder`):
no one can route other people's requests to it (a server a desktop app embeds for its one user, a sidecar of the
process that starts it). So is an app of this file (`const app = express()`, not exported nor handed to other
code) whose routes all only read (`get`, `head`, `options`), directly or on routers of the same file mounted on
it, and whose middleware does not read `req.body`: no route takes a body (a status or metrics server). A route
of another method, a router or middleware from another module of the project, or no route at all keeps the
finding.

## Example
```js
const express = require('express');

const app = express();
app.use(express.json({ limit: '50mb' }));
app.use(express.urlencoded({ extended: true, limit: '50mb' }));
```

## Use instead
```js
const express = require('express');

const app = express();
app.use(express.json({ limit: '100kb' }));

// Only the import route takes large documents.
app.post('/api/import', express.json({ limit: '20mb' }), (req, res) => {
  res.status(202).json({ received: Array.isArray(req.body) ? req.body.length : 0 });
});
```

## Options
- `max-body-size` (default `"1mb"`): the largest app-wide body limit allowed, in the `bytes` format (`"512kb"`,
  `"2mb"`) or as a number of bytes.

```toml
[rules."express/json-body-limit"]
max-body-size = "2mb"
```

## References
- [Express: `express.json()` options](https://expressjs.com/en/api.html#express.json)
- [body-parser: `limit`](https://github.com/expressjs/body-parser#limit)
- [Node.js: Don't block the event loop (JSON DoS)](https://nodejs.org/en/learn/asynchronous-work/dont-block-the-event-loop#blocking-the-event-loop-json-dos)
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
"""

from __future__ import annotations

from typing import Iterator

from linter.frameworks import EXPRESS, NESTJS
from linter.context import FileContext
from linter.js.static_values import const_initializer, constant_value
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.imports import string_value
from linter.js.object_literals import option, options_object
from linter.js.references import resolve_imported
from linter.js.units import byte_count, describe_bytes
from linter.model import Finding, Level, Precision
from linter.paths import is_test_support_path
from linter.rule import LazyOptions, Match, Rule
from linter.syntax import Node, text, walk
from linter.frameworks.routes import HTTP_VERB_METHODS

PARSERS = frozenset({"json", "urlencoded", "text"})
PARSER_MODULES = frozenset({"express", "body-parser"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FREE_PORT_MODULES = frozenset({"get-port", "portfinder"})
_READ_ONLY_METHODS = frozenset({"get", "head", "options"})
# Calls on an app that register no route: settings, starting it, events.
_APP_SETTINGS = frozenset({"listen", "set", "enable", "disable", "engine", "on", "once", "param", "locals"})
_PARSER_NAMES = {"json": "JSON body parser", "urlencoded": "form body parser", "text": "text body parser"}


# `max-body-size` unless a config sets it (read without building the options, a pydantic model).
DEFAULT_MAX_BODY_SIZE = "1mb"


class JsonBodyLimit(Rule):
    id = "express/json-body-limit"
    name = "JsonBodyLimit"
    level = Level.NOTE
    precision = Precision.HIGH
    tags = ("express", "reliability", "performance", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NESTJS)
    requires = ("express", "body-parser", "@nestjs/platform-express")
    needles = (b"limit",)
    query_anchors = (b"json", b"urlencoded", b"text", b"useBodyParser")  # how the called name ends
    query = """
(call_expression
  function: [(identifier) (member_expression)] @function
  (#match? @function "(^|\\\\.)(json|urlencoded|text|useBodyParser)$")) @call
"""
    Options = LazyOptions("._json_body_limit_options", "JsonBodyLimitOptions")

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if is_test_support_path(file.path):
            return
        call = match["call"]
        parser = _parser_kind(call, file)
        if parser is None:
            return
        kind, options_node = parser
        options = options_object(options_node, file.source)
        if options.state != "object":
            return
        limit = option(options.node, "limit")
        if limit.state != "value":
            return
        value = constant_value(limit.node)
        size = byte_count(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
        maximum = byte_count(DEFAULT_MAX_BODY_SIZE) if self.default_options else self.options.max_bytes
        if size is None or size <= maximum or _route_scoped(call, file) or _serves_this_machine_only(call, file):
            return
        if _takes_no_body(call, file):
            return
        yield file.report(
            self,
            limit.node,
            f"The {_PARSER_NAMES[kind]} accepts bodies up to {describe_bytes(size)} (more than the "
            f"{describe_bytes(maximum)} of `max-body-size`) on every route it serves, and parsing one blocks the "
            "event loop; keep the app-wide limit small and raise it only on the routes that need it.",
        )


def _parser_kind(call: Node, file: FileContext) -> tuple[str, Node | None] | None:
    """("json" | "urlencoded" | "text", its options argument) for a body parser of express or body-parser,
    or NestJS `app.useBodyParser('json', options)`."""
    function = callee(call)
    arguments = arguments_of(call)
    if property_name(function) == "useBodyParser":
        kind = string_value(unwrap(arguments[0])) if arguments else None
        if kind in PARSERS and len(arguments) > 1:
            return kind, arguments[1]
        return None
    imported = resolve_imported(function, file)
    if imported is None or imported.module not in PARSER_MODULES or len(imported.path) != 1:
        return None
    kind = imported.path[0]
    if kind not in PARSERS:
        return None
    return kind, arguments[0] if arguments else None


def _route_scoped(call: Node, file: FileContext) -> bool:
    """The parser serves only some paths: handed to a route (`router.post('/import', parser, handler)`) or
    mounted on paths (`app.use(['/posts', '/uploads'], parser)`), directly, inside a wrapper middleware, or
    through a `const` that only such registrations use."""
    if _registered_on_paths(call):
        return True
    holder = outermost(call)
    parent = holder.parent
    if parent is None or parent.type != "variable_declarator" or parent.child_by_field_name("value") != holder:
        return False
    name = parent.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return False
    uses = [n for n in walk(file.root) if n.type == "identifier" and n != name and text(n) == text(name)]
    return bool(uses) and all(_registered_on_paths(n) for n in uses)


def _serves_this_machine_only(call: Node, file: FileContext) -> bool:
    """The app the parser is registered on (`app.use(parser)`, `app.useBodyParser(…)`) is started in the same
    function (or at the top of the file), and every start listens on a loopback host or on a port picked free at startup."""
    registration = call if property_name(callee(call)) == "useBodyParser" else _registration_of(call)
    app = member_object(callee(registration)) if registration is not None else None
    if app is None or app.type != "identifier":
        return False
    scope = enclosing_function(registration) or file.root
    starts = [n for n in walk(scope) if n.type == "call_expression" and _listens(n, text(app))]
    return bool(starts) and all(_local_listen(n, file) for n in starts)


def _takes_no_body(parser: Node, file: FileContext) -> bool:
    """The parser is registered on an app of this file (`const app = express()`, not exported) whose every
    route reads only (`get`, `head`, `options`), directly or through routers of this file mounted on it, with at
    least one route: no route takes a body. A route of another method, a middleware reading `req.body`, a
    router or function from elsewhere, or the app handed to other code keeps the finding."""
    registration = _registration_of(parser)
    app = member_object(callee(registration)) if registration is not None else None
    if app is None or app.type != "identifier":
        return False
    routes = _read_only_routes(text(app), file, set())
    return routes is not None and routes > 0


def _read_only_routes(name: str, file: FileContext, seen: set[str]) -> int | None:
    """How many read-only routes the app or router `name` of this file serves, or None when it may take a
    body or its routes cannot all be seen."""
    if name in seen or _express_binding(name, file) is None:
        return None
    seen.add(name)
    routes = 0
    for use in walk(file.root):
        if use.type != "identifier" or text(use) != name or _declares(use):
            continue
        parent = use.parent
        if parent is not None and parent.type == "arguments" and (_creates_server(parent.parent) or _mounts(parent.parent)):
            continue  # `http.createServer(app)`; a router mounted with `x.use(router)` (judged with `x`)
        if parent is None or parent.type != "member_expression" or parent.child_by_field_name("object") != use:
            return None
        method = property_name(parent)
        registration = parent.parent
        if registration is None or registration.type != "call_expression":
            return None
        if method in _READ_ONLY_METHODS:
            routes += 1
        elif method == "use":
            for argument in arguments_of(registration):
                mounted = _mounted_routes(unwrap(argument), file, seen)
                if mounted is None:
                    return None
                routes += mounted
        elif method not in _APP_SETTINGS:
            return None
    return routes


def _mounted_routes(argument: Node | None, file: FileContext, seen: set[str]) -> int | None:
    """For one argument of `app.use(…)`: the read-only routes it adds (0 for a path, a parser or a library's
    middleware, an inline middleware that does not read the body), or None."""
    if argument is None:
        return None
    if argument.type in ("string", "template_string", "array"):
        return 0
    if argument.type in FUNCTION_TYPES:
        return None if _reads_body(argument) else 0
    if argument.type == "identifier":
        return _read_only_routes(text(argument), file, seen)
    if argument.type == "call_expression":
        imported = resolve_imported(callee(argument), file)
        if imported is not None and not imported.module.startswith((".", "/", "~", "@/", "#")):
            return 0  # a library's middleware (`cors()`, `express.static(…)`, a body parser)
    return None


def _reads_body(function: Node) -> bool:
    parameters = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    first = next(iter(parameters.named_children), None) if parameters is not None and parameters.type == "formal_parameters" else parameters
    if first is None:
        return False
    if first.type != "identifier":
        first = first.child_by_field_name("pattern") or first
    if first.type != "identifier":
        return "body" in text(first)  # a destructured request (`({ body }, res) => …`)
    request = text(first)
    return any(
        n.type == "member_expression" and property_name(n) == "body" and text(n.child_by_field_name("object")) == request
        for n in walk(function)
    )


def _express_binding(name: str, file: FileContext) -> Node | None:
    """The one declaration of `name` in this file, when it holds `express()` or `express.Router()` and is
    not exported."""
    declarators = [
        n for n in walk(file.root)
        if n.type == "variable_declarator" and text(n.child_by_field_name("name")) == name
    ]  # fmt: skip
    if len(declarators) != 1:
        return None
    (declarator,) = declarators
    statement = declarator.parent.parent if declarator.parent is not None else None
    if statement is not None and statement.type == "export_statement":
        return None
    value = unwrap(declarator.child_by_field_name("value"))
    if value is None or value.type != "call_expression":
        return None
    imported = resolve_imported(callee(value), file)
    if imported is None or imported.module != "express" or imported.path not in ((), ("Router",)):
        return None
    if _exported_elsewhere(name, file):
        return None
    return declarator


def _exported_elsewhere(name: str, file: FileContext) -> bool:
    """`export { app }`, `export default app`, `module.exports = app` and the like."""
    for node in walk(file.root):
        if node.type == "export_statement" and any(
            n.type == "identifier" and text(n) == name for n in walk(node)
        ):
            return True
        if node.type == "assignment_expression" and "exports" in text(node.child_by_field_name("left")):
            right = node.child_by_field_name("right")
            if right is not None and any(n.type in ("identifier", "shorthand_property_identifier") and text(n) == name for n in walk(right)):
                return True
    return False


def _declares(identifier: Node) -> bool:
    parent = identifier.parent
    return parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("name") == identifier


def _mounts(call: Node | None) -> bool:
    return call is not None and call.type == "call_expression" and property_name(callee(call)) == "use"


def _creates_server(call: Node | None) -> bool:
    """`http.createServer(app)` (the server's `listen` then starts the app)."""
    return call is not None and call.type == "call_expression" and property_name(callee(call)) == "createServer"


def _registration_of(parser: Node) -> Node | None:
    """The `x.use(…)` call `parser` is (inside) an argument of."""
    holder = outermost(parser)
    arguments = holder.parent
    if arguments is None or arguments.type != "arguments" or arguments.parent is None:
        return None
    registration = arguments.parent
    return registration if property_name(callee(registration)) == "use" else None


def _listens(call: Node, app: str) -> bool:
    """`app.listen(…)`, or `http.createServer(app).listen(…)`."""
    function = callee(call)
    if property_name(function) != "listen":
        return False
    target = member_object(function)
    if target is not None and target.type == "call_expression":
        created = arguments_of(target)
        target = unwrap(created[0]) if created else None
    return target is not None and target.type == "identifier" and text(target) == app


def _local_listen(call: Node, file: FileContext) -> bool:
    arguments = [unwrap(a) for a in arguments_of(call)]
    if len(arguments) > 1 and string_value(arguments[1]) in LOOPBACK_HOSTS:
        return True
    port = arguments[0] if arguments else None
    if port is not None and port.type == "identifier":
        port = unwrap(const_initializer(port))
    if port is not None and port.type == "await_expression":
        port = unwrap(port.named_children[0]) if port.named_children else None
    if port is None:
        return False
    if port.type == "number":
        return text(port) == "0"
    if port.type != "call_expression":
        return False
    imported = resolve_imported(callee(port), file)
    return imported is not None and imported.module in FREE_PORT_MODULES


def _registered_on_paths(node: Node) -> bool:
    """`node` is (inside) an argument of a route or `use()` registration whose first argument is a path other
    than the root."""
    while node.parent is not None:
        parent = node.parent
        if parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
            registration = parent.parent
            method = property_name(callee(registration))
            if method in HTTP_VERB_METHODS or method == "use":
                arguments = arguments_of(registration)
                return len(arguments) > 1 and arguments[0] != node and _scoped_paths(arguments[0], method)
        if parent.type == "program":
            return False
        node = parent
    return False


def _scoped_paths(node: Node, method: str) -> bool:
    """A path (or list of paths) that narrows what a registration serves: any route path, a mount path
    other than `/` and `*`."""
    node = unwrap(node)
    paths = [unwrap(n) for n in node.named_children] if node is not None and node.type == "array" else [node]
    values = [string_value(p) for p in paths]
    if not values or any(v is None for v in values):
        return False
    return method != "use" or all(v not in ("", "/", "*", "/*") for v in values)
