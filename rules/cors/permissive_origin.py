r"""A CORS policy that lets other websites in: unknown origins allowed, any origin with credentials, or a leaky allowlist.

## Why is this bad?
A browser sends cookies and other credentials with a cross-site request only when the API's CORS policy
names the calling site and allows credentials. When the policy lets every origin in with credentials, any
page a logged-in user visits can call the API as that user and read the answers: their data, their tokens,
everything the API returns.

The usual way this happens is an origin callback that checks an allowlist and then allows the request anyway:
it logs the unknown origin "for now" and calls `callback(null, true)`, or allows it in the `else` branch.
loadlint follows the paths through the origin function (`cors({ origin })`, NestJS `enableCors`, socket.io,
`@fastify/cors`, `@koa/cors`, `hono/cors`; an arrow, a method, or a function defined elsewhere in the file) and
reports the `callback(null, true)`, `callback(null, origin)` or returned origin that a path reaches without the
origin having passed an allowlist test. It does not report:
- allows after `!origin` (no `Origin` header: not a browser, so CORS does not apply);
- results that are themselves the test, as in `callback(null, allowed.includes(origin))`;
- allows only in development (`if (process.env.NODE_ENV !== 'production')`), or only when a condition about
  something else holds (`if (req.path.startsWith('/embed/'))`, a feature flag), which loadlint cannot judge;
- an origin function that allows every origin without credentials and without trying to check: that is a
  public API, like `origin: '*'`.

It also reports:
- `origin: true`, a regex every origin passes (`/.*/`) or an allow-all fallback (`process.env.ORIGIN || true`)
  next to `credentials: true`, unless only in development; with `@koa/cors` also `origin: '*'` or no origin at
  all, which it turns into the request's own origin when credentials are on. (`cors`, `@fastify/cors` and
  `hono/cors` send a literal `*`, and browsers refuse to pair `*` with credentials, so that combination is
  broken, not open, and is not reported.)
- `Access-Control-Allow-Origin` set by hand to the request's `Origin` header (`res.setHeader`, `res.header`,
  `headers.set` in Next.js middleware and route handlers, a headers object) in a function that also sets
  `Access-Control-Allow-Credentials: true`, unless the origin passed an allowlist test first.
- as a warning, an allowlist regex or string check that a foreign origin passes, naming one: `/example\.com/`
  and `/^https:\/\/.*example\.com/` accept `https://example.com.evil.io` (no `$`), `/example\.com$/` accepts
  `https://evilexample.com` (nothing before the domain), `/^https:\/\/app.example\.com$/` accepts
  `https://appxexample.com` (unescaped dot), `origin.startsWith('http://localhost')` accepts
  `http://localhost.evil.io`. An unescaped dot that only lets in names nobody can register (`example.com`
  matching `examplexcom`) is not reported.

A finding is an error when credentials are allowed and a warning otherwise (an origin callback whose
allowlist has no effect, a leaky allowlist). Test files and dev-server configs (`vite.config.ts`,
`webpack.config.js`) are skipped.

## Example
```js
const express = require('express');
const cors = require('cors');

const app = express();
const allowedOrigins = (process.env.CORS_ORIGINS || '').split(',');

app.use(
  cors({
    origin(origin, callback) {
      if (!origin || allowedOrigins.includes(origin)) {
        return callback(null, true);
      }
      console.warn(`CORS: unknown origin ${origin}`);
      return callback(null, true);
    },
    credentials: true,
  })
);
```

## Use instead
```js
const express = require('express');
const cors = require('cors');

const app = express();
const allowedOrigins = (process.env.CORS_ORIGINS || '').split(',');

app.use(
  cors({
    origin(origin, callback) {
      if (!origin || allowedOrigins.includes(origin)) {
        return callback(null, true);
      }
      console.warn(`CORS: blocked origin ${origin}`);
      return callback(null, false);
    },
    credentials: true,
  })
);
```
A regex allowlist needs both anchors and escaped dots: `/^https:\/\/([a-z0-9-]+\.)?example\.com$/`.

## References
- [CWE-942: Permissive Cross-domain Policy with Untrusted Domains](https://cwe.mitre.org/data/definitions/942.html)
- [CWE-346: Origin Validation Error](https://cwe.mitre.org/data/definitions/346.html)
- [MDN: Cross-Origin Resource Sharing (CORS), requests with credentials](https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS#requests_with_credentials)
- [expressjs/cors: configuring the origin](https://github.com/expressjs/cors#configuration-options)
- [PortSwigger: CORS vulnerabilities, errors parsing Origin headers](https://portswigger.net/web-security/cors)
"""

from __future__ import annotations

import re
from typing import Iterator

from linter.context import FileContext
from linter.rules.cors._cors_calls import (
    ALLOW_ORIGIN,
    CONTEXT_ORIGIN_FUNCTIONS,
    CorsConfig,
    callback_parameter,
    cors_config,
    credentials_header,
    header_assignment,
    header_name,
    is_header_bag,
    is_request_origin,
)
from linter.js.expressions import arguments_of, callee, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_body, parameter_names
from linter.js.imports import string_value
from linter.rules.cors._origin_names import OriginNames
from linter.rules.cors._origin_paths import ALWAYS, PathState, ReachedSink, Verdict, allows, default_leaf, verdicts
from linter.rules.cors._origin_allowlists import Bypass, bypass, matches_any_origin, string_check_bypass
from linter.model import Finding, Level, Precision
from linter.rule import Match, Rule
from linter.syntax import Node, node_at, text, walk

_CREDENTIALED_RISK = "any website can make logged-in requests to this API and read the responses"
_REGEX_FIXES = {
    "unanchored-end": "end it with `$`",
    "unanchored-start": "anchor the host (`^https:\\/\\/` or `\\.` before the domain)",
    "unescaped-dot": "escape its dots (`\\.`)",
}
_STRING_FIXES = {
    "unanchored-end": "compare whole origins (`===`) or the parsed `new URL(origin).hostname` instead",
    "unanchored-start": "keep the dot before the domain (`.endsWith('.example.com')`)",
}
# Dev servers' own CORS settings (`server.cors` in vite.config.ts) never reach production.
_DEV_TOOL_CONFIG = re.compile(r"(^|/)((vite|vitest|webpack|rspack|rollup|storybook)\.config\.[cm]?[jt]s|\.storybook/)")
_ARRAY_SEARCHES = frozenset({"some", "find", "findIndex", "every", "filter"})
# How many functions up `_only_in_development` looks for an `if (isDev)` around a configuration.
_DEVELOPMENT_SCOPE_DEPTH = 3
# An origin function that gets the request instead of the origin (Koa's `ctx`) reads the header itself.
_CONTEXT_PARAMETERS = frozenset({"ctx", "context", "req", "request"})


class PermissiveOrigin(Rule):
    id = "cors/permissive-origin"
    name = "PermissiveOrigin"
    level = Level.ERROR
    precision = Precision.HIGH
    security_severity = "7.5"
    tags = ("security", "cors", "external/cwe/cwe-942", "external/cwe/cwe-346")
    needles = (b"origin", b"Origin")
    query = """
(pair key: (property_identifier) @key (#any-of? @key "origin" "credentials")) @entry
(method_definition name: (property_identifier) @key (#eq? @key "origin")) @entry
((shorthand_property_identifier) @entry (#eq? @entry "origin"))
(string (string_fragment) @header (#any-of? @header
  "Access-Control-Allow-Origin" "Access-Control-Allow-origin" "Access-Control-allow-Origin" "Access-Control-allow-origin"
  "Access-control-Allow-Origin" "Access-control-Allow-origin" "Access-control-allow-Origin" "Access-control-allow-origin"
  "access-Control-Allow-Origin" "access-Control-Allow-origin" "access-Control-allow-Origin" "access-Control-allow-origin"
  "access-control-Allow-Origin" "access-control-Allow-origin" "access-control-allow-Origin" "access-control-allow-origin"))
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if file.is_test or _DEV_TOOL_CONFIG.search(file.path):
            return
        # An origin function or regex shared by several configurations of the file is reported once.
        reported: set = file.memo("rules.cors.reported", set)
        for finding in self._findings(match, file):
            if (finding.span, finding.message) not in reported:
                reported.add((finding.span, finding.message))
                yield finding

    def _findings(self, match: Match, file: FileContext) -> Iterator[Finding]:
        header = match.get("header")
        if header is not None:
            yield from self._hand_set_header(header.parent, file)
            return
        entry = match["entry"]
        config = cors_config(entry.parent, file) if entry.parent is not None else None
        if config is None or _only_in_development(config.object, file):
            return
        if text(match.get("key") or entry) == "credentials":
            if config.origin is None and config.reflects_star:
                message = (
                    f"{config.library} answers with the request's own origin when no `origin` is set and "
                    f"`credentials: true`: {_CREDENTIALED_RISK}; set `origin` to an allowlist."
                )
                yield file.report(self, entry, message)
            return
        origin = _resolve(entry if entry.type == "method_definition" else config.origin, file)
        if origin is None:
            return
        if origin.type in FUNCTION_TYPES:
            yield from self._origin_function(origin, config, file)
        else:
            yield from self._origin_value(origin, config, file)

    # --- origin functions ---------------------------------------------------------------------------------------

    def _origin_function(self, fn: Node, config: CorsConfig, file: FileContext) -> Iterator[Finding]:
        callback = callback_parameter(fn)
        params = parameter_names(fn)
        if config.library in CONTEXT_ORIGIN_FUNCTIONS or (params and params[0] in _CONTEXT_PARAMETERS):
            names = OriginNames((), is_request_origin, is_header_bag)
        else:
            names = OriginNames(params[:1] if params and params[0] else (), is_request_origin, is_header_bag)
        body = function_body(fn)
        if body is None:
            return
        names.learn(body)
        leaf = _star_leaf(names) if config.reflects_star else None
        if callback is not None:
            reached = allows(fn, names, _callback_sink(callback), leaf=leaf)
        else:
            reached = allows(fn, names, lambda node: None, returns_are_sinks=True, leaf=leaf)
        deny = "`callback(null, false)`" if callback is not None else "return `false`"
        for sink in reached:
            finding = self._unchecked_allow(sink, config, deny, file)
            if finding is not None:
                yield finding
        yield from self._weak_allowlists(_origin_tests(body, names, file), file)

    def _unchecked_allow(self, sink: ReachedSink, config: CorsConfig, deny: str, file: FileContext) -> Finding | None:
        unchecked = [s for s in sink.states if s.unchecked]
        failed = next((s.failed for s in unchecked if s.failed is not None), None)
        if not unchecked or (config.credentials is None and failed is None):
            return None
        anchor = sink.sink
        if failed is not None:
            test = _snippet(file.source[failed[0] : failed[1]])
            what = f"This CORS origin check lets in origins that fail `{test}`"
            related = [file.location(_node_at(file, failed), "the allowlist test those origins fail")]
        else:
            what = "This CORS origin check lets every origin in"
            related = []
        if config.credentials is not None:
            related.append(file.location(config.credentials, "credentials are allowed here"))
            message = f"{what}, with credentials: {_CREDENTIALED_RISK}; deny unknown origins ({deny})."
            return file.report(self, anchor, message, related=related)
        message = f"{what}, so the allowlist has no effect; deny unknown origins ({deny})."
        return file.report(self, anchor, message, related=related, level=Level.WARNING)

    # --- static origin values -----------------------------------------------------------------------------------

    def _origin_value(self, value: Node, config: CorsConfig, file: FileContext) -> Iterator[Finding]:
        if config.credentials is not None and _any_origin_outside_development(value, config):
            message = (
                f"`origin: {_snippet(text(value).encode())}` with `credentials: true` lets any origin in: "
                f"{_CREDENTIALED_RISK}; list the allowed origins instead."
            )
            related = [file.location(config.credentials, "credentials are allowed here")]
            yield file.report(self, value, message, related=related)
            return
        regexes = []
        for item in [value] + (value.named_children if value.type == "array" else []):
            item = _resolve(unwrap(item), file)
            if item is not None and item.type == "regex":
                regexes.append(item)
            elif item is not None and item.type == "array":
                regexes.extend(r for r in map(unwrap, item.named_children) if r is not None and r.type == "regex")
        yield from self._weak_allowlists([(regex, _regex_bypass(regex)) for regex in regexes], file)

    def _weak_allowlists(self, checks: list[tuple[Node, Bypass | None]], file: FileContext) -> Iterator[Finding]:
        seen = set()
        for node, found in checks:
            if found is None or node.start_byte in seen:
                continue
            seen.add(node.start_byte)
            if node.type == "regex":
                fix = f"{_REGEX_FIXES[found.mistake]} so only your own sites pass"
                message = f"This origin allowlist regex also accepts `{found.origin}`; {fix}."
            else:
                message = f"This origin check also accepts `{found.origin}`; {_STRING_FIXES[found.mistake]}."
            yield file.report(self, node, message, level=Level.WARNING)

    # --- Access-Control-Allow-Origin set by hand ----------------------------------------------------------------

    def _hand_set_header(self, name: Node, file: FileContext) -> Iterator[Finding]:
        if header_name(name) != ALLOW_ORIGIN:
            return
        assignment = header_assignment(name)
        fn = enclosing_function(name)
        if assignment is None or fn is None:
            return
        site, value = assignment
        body = function_body(fn)
        names = OriginNames((), is_request_origin, is_header_bag).learn(body) if body is not None else None
        if names is None or not names.mentions(value):
            return
        credentials = credentials_header(fn)
        if credentials is None or _only_in_development(fn, file):
            return
        reached = allows(fn, names, lambda node: value if _same(node, site) else None)
        if any(s.unchecked for r in reached for s in r.states):
            message = (
                "`Access-Control-Allow-Origin` echoes the request's Origin header while "
                f"`Access-Control-Allow-Credentials: true` is set: {_CREDENTIALED_RISK}; "
                "echo only origins from an allowlist."
            )
            yield file.report(self, site, message, related=[file.location(credentials, "credentials are allowed here")])


def _callback_sink(callback: str):
    """`callback(null, value)` → value; `callback(err)` and `callback(null)` deny, so they are no sinks."""

    def sink_value(node: Node) -> Node | None:
        if node.type != "call_expression":
            return None
        function = unwrap(node.child_by_field_name("function"))
        if function is None or function.type != "identifier" or text(function) != callback:
            return None
        arguments = arguments_of(node)
        if len(arguments) < 2 or unwrap(arguments[0]).type not in ("null", "undefined"):
            return None
        return arguments[1]

    return sink_value


def _star_leaf(names: OriginNames):
    """With `@koa/cors` and credentials, a returned `'*'` is the request's own origin."""
    base = default_leaf(names)
    return lambda value: Verdict.ALLOW if string_value(value) == "*" else base(value)


def _any_origin_outside_development(value: Node, config: CorsConfig) -> bool:
    """`origin: true`, `/.*/`, `process.env.ORIGIN || true` (and `'*'` where it reflects), other than only in
    development. Other conditions count: a switch that can turn on any origin with credentials is a finding."""
    names = OriginNames(())

    def leaf(node: Node) -> Verdict | None:
        if node.type == "true" or (config.reflects_star and string_value(node) == "*"):
            return Verdict.ALLOW
        if node.type == "regex" and matches_any_origin(*_regex_parts(node)):
            return Verdict.ALLOW
        return None

    return any(v == Verdict.ALLOW and not s.development for s, v in verdicts(value, PathState(), names, leaf))


def _only_in_development(node: Node, file: FileContext) -> bool:
    """`node` runs only in development: `if (isDev) return { origin: true, ... }`, or inside a middleware that is
    registered only there (`if (process.env.NODE_ENV !== 'production') app.use((req, res, next) => ...)`)."""
    current = node
    for _ in range(_DEVELOPMENT_SCOPE_DEPTH):
        scope = enclosing_function(current) or file.root
        target = current
        reached = allows(scope, OriginNames(()), lambda n: ALWAYS if _same(n, target) else None)
        if reached and all(s.development for r in reached for s in r.states):
            return True
        if scope.type == "program":
            return False
        current = scope
    return False


def _origin_tests(body: Node, names: OriginNames, file: FileContext) -> list[tuple[Node, Bypass | None]]:
    """The regex and string tests an origin function runs on the origin, each with an origin outside the
    intended site that passes it: `RE.test(origin)`, `origin.match(RE)`, `PATTERNS.some((re) => re.test(origin))`
    (`RE` and `PATTERNS` defined in the file), `origin.startsWith('http://localhost')`, `origin.includes(...)`."""
    found: list[tuple[Node, Bypass | None]] = []
    for node in walk(body):
        if node.type != "call_expression":
            continue
        function = callee(node)
        method = property_name(function)
        arguments = arguments_of(node)
        if not arguments:
            continue
        if method in ("test", "exec") and names.mentions(arguments[0]):
            found.extend((regex, _regex_bypass(regex)) for regex in _regexes_of(member_object(function), file))
        elif method in ("match", "search") and names.mentions(member_object(function)):
            found.extend((regex, _regex_bypass(regex)) for regex in _regexes_of(arguments[0], file))
        elif method in ("startsWith", "includes", "endsWith") and names.is_origin(member_object(function)):
            value = string_value(unwrap(arguments[0]))
            if value is not None:
                found.append((node, string_check_bypass(method, value)))
    return found


def _regex_bypass(regex: Node) -> Bypass | None:
    return bypass(*_regex_parts(regex))


def _regex_parts(regex: Node) -> tuple[str, str]:
    return text(regex.child_by_field_name("pattern")), text(regex.child_by_field_name("flags"))


def _regexes_of(node: Node | None, file: FileContext) -> list[Node]:
    node = _resolve(unwrap(node), file)
    if node is None:
        return []
    if node.type == "regex":
        return [node]
    if node.type == "array":
        return [r for r in map(unwrap, node.named_children) if r is not None and r.type == "regex"]
    if node.type == "identifier":  # `list.some((re) => re.test(origin))`: the array `re` comes from
        owner = _searched_array(node)
        return _regexes_of(owner, file) if owner is not None else []
    return []


def _searched_array(parameter_use: Node) -> Node | None:
    """`PATTERNS` for the `re` in `PATTERNS.some((re) => re.test(origin))`."""
    fn = enclosing_function(parameter_use)
    if fn is None or text(parameter_use) not in parameter_names(fn)[:1]:
        return None
    holder = fn.parent
    if holder is None or holder.type != "arguments" or holder.parent is None:
        return None
    function = callee(holder.parent)
    return member_object(function) if property_name(function) in _ARRAY_SEARCHES else None


def _resolve(node: Node | None, file: FileContext) -> Node | None:
    """The function or value a same-file name stands for (`origin: checkOrigin`, `{ origin }`), else `node`."""
    if node is None or node.type not in ("identifier", "shorthand_property_identifier"):
        return node
    definitions = _definitions(file).get(text(node))
    return definitions[0] if definitions is not None and len(definitions) == 1 else node


def _definitions(file: FileContext) -> dict[str, list[Node]]:
    """Name → the functions and `const` values declared under it anywhere in the file."""

    def collect() -> dict[str, list[Node]]:
        found: dict[str, list[Node]] = {}
        for node in walk(file.root):
            if node.type in ("function_declaration", "generator_function_declaration"):
                name = node.child_by_field_name("name")
                found.setdefault(text(name), []).append(node)
            elif node.type == "variable_declarator":
                name, value = node.child_by_field_name("name"), unwrap(node.child_by_field_name("value"))
                if name is not None and name.type == "identifier" and value is not None:
                    found.setdefault(text(name), []).append(value)
        return found

    return file.memo("rules.cors.definitions", collect)


def _same(node: Node, other: Node) -> bool:
    return node.start_byte == other.start_byte and node.end_byte == other.end_byte and node.type == other.type


def _node_at(file: FileContext, span: tuple[int, int]) -> Node:
    return node_at(file.root, span[0], span[1]) or file.root


def _snippet(source: bytes, limit: int = 60) -> str:
    snippet = " ".join(source.decode("utf-8", "replace").split())
    return snippet if len(snippet) <= limit else snippet[: limit - 1] + "…"
