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
process that starts it).

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

from pydantic import field_validator

from linter.frameworks import EXPRESS, NESTJS
from linter.context import FileContext
from linter.js.static_values import const_initializer, constant_value
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.functions import enclosing_function
from linter.js.imports import string_value
from linter.js.object_literals import option, options_object
from linter.js.references import resolve_imported
from linter.js.units import byte_count, describe_bytes
from linter.model import Finding, Level, Precision
from linter.paths import is_test_support_path
from linter.rule import Match, Rule, RuleOptions
from linter.syntax import Node, text, walk
from linter.frameworks.routes import HTTP_VERB_METHODS

PARSERS = frozenset({"json", "urlencoded", "text"})
PARSER_MODULES = frozenset({"express", "body-parser"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FREE_PORT_MODULES = frozenset({"get-port", "portfinder"})
_PARSER_NAMES = {"json": "JSON body parser", "urlencoded": "form body parser", "text": "text body parser"}


class JsonBodyLimitOptions(RuleOptions):
    max_body_size: str | int = "1mb"

    @field_validator("max_body_size", mode="before")
    @classmethod
    def _whole_bytes(cls, value: object) -> object:
        if isinstance(value, (bool, float)):  # `true` would pass as one byte
            raise ValueError("must be a size such as '512kb' or '2mb', or a whole number of bytes")
        return value

    @field_validator("max_body_size")
    @classmethod
    def _readable(cls, value: str | int) -> str | int:
        count = byte_count(value)
        if count is None or count <= 0:
            raise ValueError(f"{value!r} is not a size such as '512kb' or '2mb'")
        return value

    @property
    def max_bytes(self) -> float:
        return byte_count(self.max_body_size) or 0.0


class JsonBodyLimit(Rule):
    id = "express/json-body-limit"
    name = "JsonBodyLimit"
    level = Level.NOTE
    precision = Precision.HIGH
    tags = ("express", "reliability", "performance", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NESTJS)
    requires = ("express", "body-parser", "@nestjs/platform-express")
    needles = (b"limit",)
    query = """
(call_expression
  function: [(identifier) (member_expression)] @function
  (#match? @function "(^|\\\\.)(json|urlencoded|text|useBodyParser)$")) @call
"""
    Options = JsonBodyLimitOptions

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
        maximum = self.options.max_bytes
        if size is None or size <= maximum or _route_scoped(call, file) or _serves_this_machine_only(call, file):
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
