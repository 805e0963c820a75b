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
origin having passed an allowlist test (an equality with a trusted origin counts: `if (origin !== appOrigin)
return …` before the allow). It does not report:
- allows after `!origin` (no `Origin` header: not a browser, so CORS does not apply);
- results that are themselves the test, as in `callback(null, allowed.includes(origin))`;
- allows only in development (`if (process.env.NODE_ENV !== 'production')`, or options held by a name the
  module uses only there: `isProduction ? productionCors : developmentCors`), or only when a condition about
  something else holds (`if (req.path.startsWith('/embed/'))`, a feature flag), which loadlint cannot judge;
- an origin function that allows every origin without credentials and without trying to check: that is a
  public API, like `origin: '*'`;
- a policy registered on an app that serves no routes: a queue consumer or a worker whose HTTP server only keeps
  a port open for its platform. The app must be created in the file (`express()`, `new Koa()`, `Fastify()`),
  never exported or handed to other code, and given nothing but middleware that sets headers or reads bodies
  (`express.json()`, `helmet()`, the CORS middleware), settings and `listen`; one route or router makes it a
  server again. A credentialed NestJS policy (`enableCors`, the `cors` option of `NestFactory.create`) is
  silent when no module reachable from the root module declares a controller and every module from outside
  the project is one that serves no routes (`@nestjs/config`, `@nestjs/schedule`, …). Likewise a policy
  registered on a name the file never creates, imports, receives or assigns (a snippet committed by mistake:
  loading it throws first);
- credentials allowed in an app that has none for a browser to send by itself: its package (the nearest
  `package.json`) uses no cookie, session or authentication library it depends on (Passport without a session
  keeps none) and depends on no other package of the repository, and none of its files mentions cookies, reads
  a request's session (`req.session`), names an HTTP authentication challenge or the identity headers of a
  signing-in proxy. A token the page puts in the `Authorization` header itself is not sent with a foreign
  page's requests, and neither is a CSRF library's cookie (`csurf({ cookie: … })` with `cookie-parser`) a
  credential: it holds the secret form tokens are checked against, and a foreign page cannot read the token. An authentication library the code imports only from its
  token module (`next-auth/jwt`'s `encode`/`decode`, not `getToken`, which reads the session cookie) only packs
  tokens the app hands out; and an Express app with no cookie parser reads no cookie, so its mentions of cookies
  count only where it reads the `Cookie` header itself (`req.headers.cookie`).

It also reports:
- `origin: true`, a regex every origin passes (`/.*/`), an allow-all fallback (`process.env.ORIGIN || true`) or
  a computed switch that is `true` in some deployments (`origin: publicUrl.startsWith('https://')`) next to
  `credentials: true`, unless only in development; with `@koa/cors` also `origin: '*'` or no origin at
  all, which it turns into the request's own origin when credentials are on. (`cors`, `@fastify/cors` and
  `hono/cors` send a literal `*`, and browsers refuse to pair `*` with credentials, so that combination is
  broken, not open, and is not reported.)
- `Access-Control-Allow-Origin` set by hand to the request's `Origin` header (`res.setHeader`, `res.header`,
  `headers.set` in Next.js middleware and route handlers, a headers object) in a function that also sets
  `Access-Control-Allow-Credentials: true`, unless the origin passed an allowlist test first, or the function
  is a NestJS route handler (or a method only route handlers call) that no guard covers (none on the route,
  its controller or the whole app other than a rate limiter) and that reads no user, cookie, session,
  `Authorization` header or token: its answer is the same for every visitor. Likewise a Next.js API route
  (`pages/api/**`) or route handler file (`app/**/route.ts`) that reads no cookie, session or user, calls no
  authentication helper (`auth()`, `getServerSession`, `getToken`, `cookies()`, `headers()`), hands the request
  to no function of another module, and is wrapped by nothing that may read one: a wrapper of the project that
  reads none (`export default withErrorHandler(handler)`), or the project's route builder when the route turns
  its session off (`createRoute().GET({ auth: false })`) and the builder's code reads the session only under
  that option (`if (method.auth) user = await getUser(req, res)`). A wrapper from a package, one that reads a
  credential, and middleware that reads one keep the finding.
- as a warning, an allowlist regex or string check that a foreign origin passes, naming one: `/example\.com/`
  and `/^https:\/\/.*example\.com/` accept `https://example.com.evil.io` (no `$`), `/example\.com$/` accepts
  `https://evilexample.com` (nothing before the domain), `/^https:\/\/app.example\.com$/` accepts
  `https://appxexample.com` (unescaped dot), `origin.startsWith('http://localhost')` accepts
  `http://localhost.evil.io`, and `origin.endsWith('.vercel.app')` or `/^https:\/\/[a-z0-9-]+\.netlify\.app$/`
  accept a stranger's site on a hosting domain where anyone can publish one. An unescaped dot that only lets
  in names nobody can register (`example.com` matching `examplexcom`) is not reported.

The options may also come from a delegate: a function of the request that hands them to a callback
(`cors((req, callback) => callback(null, { origin: true, credentials: true }))`, inline or declared elsewhere in
the file and passed by name; `@fastify/cors`'s delegator, which may also return them or a promise of them).
loadlint follows its paths the same way to each options object it hands out (passed to the callback, returned,
or held by a name that is) and reports an open `origin` there (`true`, the request's own `Origin` header, a regex
every origin passes) that a path reaches without the origin having passed an allowlist test, with the same
exceptions: no `Origin` header, development only, a condition about something else, no credentials to send, no
routes served. Options handed out from a function nested in the delegate (`findSite(origin).then((site) =>
callback(null, …))`) are not followed.

The origin function, the origin value or the whole options object may come from another module
(`import { corsOptions } from './config/cors'; app.use(cors(corsOptions))`, `cors({ origin: checkOrigin,
credentials: true })`, `cors({ ...sharedOptions, credentials: true })`, `app.register(cors, getCorsOptions())`,
through `module.exports`, default exports, barrel files and tsconfig aliases). loadlint follows the import and
reports in the module that holds the permissive part, with the library and the credentials of the module that
applies it, and names both modules; the SARIF output links the two (one finding, however many modules apply
it). What the defining module shows by itself is reported there once, as before. Options a module exports and
never uses itself (`exports.corsOptions = { … }`, a function that returns them, a config object holding them)
are judged only through the modules that apply them, and not at all when none does: a module that passes the
whole required module (`cors(require('./cors'))`) instead of its `corsOptions` applies nothing.

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

app.get('/api/account', (req, res) => {
  res.json(req.session.account);
});
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

app.get('/api/account', (req, res) => {
  res.json(req.session.account);
});
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

from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NESTJS, NEXTJS, NODE_HTTP
from linter.lazy_dataclasses import dataclass
from linter.rules.cors._ambient_credentials import has_ambient_credentials
from linter.rules.cors._cors_calls import (
    ALLOW_ORIGIN,
    CONTEXT_ORIGIN_FUNCTIONS,
    REFLECTS_STAR_WITH_CREDENTIALS,
    CorsConfig,
    callback_parameter,
    cors_config,
    cors_uses,
    credentials_header,
    header_assignment,
    header_name,
    is_header_bag,
    is_request_origin,
    read_options,
)
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_body, parameter_names
from linter.js.imports import string_value
from linter.rules.cors._imported_cors import (
    ORIGIN,
    ImportedPolicy,
    exported_only,
    imported_policies,
    imported_value,
    policy_objects,
    uses_of,
)
from linter.rules.cors._options_delegates import Delegate, Handout, credentials_entry, handing_out
from linter.rules.cors._origin_names import OriginNames
from linter.rules.cors._next_routes import middleware_reads_credentials, public_next_route, wrappers_read_credentials
from linter.rules.cors._public_routes import global_guard_reads_credentials, unguarded_nest_route
from linter.rules.cors._origin_paths import (
    ALWAYS,
    PathState,
    ReachedSink,
    Verdict,
    allows,
    default_leaf,
    refine,
    verdicts,
)
from linter.rules.cors._origin_allowlists import Bypass, bypass, matches_any_origin, string_check_bypass
from linter.rules.cors._nest_modules import nest_root_module, serves_no_nest_routes
from linter.rules.cors._served_routes import serves_no_routes
from linter.rules.cors._socket_credentials import socket_io_only, socket_server_reads_credentials
from linter.model import Finding, Level, Location, Precision
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of, held_finding
from linter.syntax import Node, node_at, same_node, text, walk

_CREDENTIALED_RISK = "any website can make logged-in requests to this API and read the responses"
_REGEX_FIXES = {
    "unanchored-end": "end it with `$`",
    "unanchored-start": "anchor the host (`^https:\\/\\/` or `\\.` before the domain)",
    "unescaped-dot": "escape its dots (`\\.`)",
    "shared-host": "list your own deployments instead of the whole hosting domain (anyone can publish a site there)",
}
_STRING_FIXES = {
    "unanchored-end": "compare whole origins (`===`) or the parsed `new URL(origin).hostname` instead",
    "unanchored-start": "keep the dot before the domain (`.endsWith('.example.com')`)",
    "shared-host": "compare whole origins of your own deployments (anyone can publish a site on that hosting domain)",
}
# Dev servers' own CORS settings (`server.cors` in vite.config.ts) never reach production.
_DEV_TOOL_CONFIG = lazy_re.compile(r"(^|/)((vite|vitest|webpack|rspack|rollup|storybook)\.config\.[cm]?[jt]s|\.storybook/)")
_ARRAY_SEARCHES = frozenset({"some", "find", "findIndex", "every", "filter"})
# How many functions up `_only_in_development` looks for an `if (isDev)` around a configuration.
_DEVELOPMENT_SCOPE_DEPTH = 3
# An origin function that gets the request instead of the origin (Koa's `ctx`) reads the header itself.
_CONTEXT_PARAMETERS = frozenset({"ctx", "context", "req", "request"})
_COMPARISONS = frozenset({"===", "==", "!==", "!=", "<", "<=", ">", ">="})
_BOOLEAN_METHODS = frozenset({"startsWith", "endsWith", "includes", "has", "test", "some", "every"})
_IMPORTED = "imported"  # the kind of the facts that record a CORS call configured from another module
_CREDENTIALED = "credentialed"  # the kind of the facts that hold a finding about credentials
_CORS_PACKAGES_QUERY = '"cors" "@koa/cors" "koa2-cors" "@fastify/cors" "fastify-cors" "hono/cors" "@elysiajs/cors"'


@dataclass(frozen=True)
class _Policy:
    """What a CORS configuration says besides its origin, wherever it is written."""

    library: str  # the package whose semantics apply
    credentials: Location | None  # where credentials are allowed, if they are
    applied: Location | None = None  # the CORS call in another module that applies this origin or these options

    @property
    def reflects_star(self) -> bool:
        """`origin: '*'` (or no origin) lets the request's own origin in with credentials."""
        return self.library in REFLECTS_STAR_WITH_CREDENTIALS and self.credentials is not None

    @classmethod
    def of(cls, config: CorsConfig, file: FileContext) -> "_Policy":
        credentials = config.credentials
        where = file.location(credentials, "credentials are allowed here") if credentials is not None else None
        return cls(config.library, where)

    def subject(self, local: str, noun: str, file: FileContext) -> str:
        """`local` ("This CORS origin check") for a policy of this module; for one another module applies, the
        subject naming the module that defines it ("The CORS origin check in src/config/origin.js")."""
        return local if self.applied is None else f"The {noun} in {file.path}"

    def applied_with(self) -> str:
        """How the policy is applied: ", with credentials" here, ", and src/app.js applies it with credentials"
        for one another module applies, or nothing."""
        credentials = " with credentials" if self.credentials is not None else ""
        if self.applied is None:
            return f",{credentials}" if credentials else ""
        return f", and {self.applied.path} applies it{credentials}"

    def related(self) -> list[Location]:
        found = [self.credentials] if self.credentials is not None else []
        if self.applied is not None:
            found.append(self.applied)
        return found

    def code_flow(self, sink: Location) -> list[Location]:
        return [self.applied, sink] if self.applied is not None else []


class PermissiveOrigin(Rule):
    id = "cors/permissive-origin"
    project_reports_at = frozenset({_CREDENTIALED, _IMPORTED})
    project_reports_imported_by = frozenset({_IMPORTED})  # the module its policy comes from
    # A credentialed fact holds a finding of its own file; an imported policy leads to findings in the module it
    # comes from (through that module's imports: `imported_value`), merged with those of the other policies
    # taken from there. The rule learns no other kind of fact.
    project_reads_for = {_CREDENTIALED: "reported", _IMPORTED: "importing"}
    name = "PermissiveOrigin"
    level = Level.ERROR
    other_levels = {Level.WARNING: "an allowlist that lets unknown origins in without credentials, and an origin test a look-alike origin passes"}
    precision = Precision.HIGH
    security_severity = "7.5"
    tags = ("security", "cors", "external/cwe/cwe-942", "external/cwe/cwe-346")
    frameworks = (EXPRESS, NODE_HTTP, NEXTJS, NESTJS, FASTIFY, HONO, KOA)
    needles = (b"origin", b"Origin", b"cors", b"Cors")
    query_anchors = (b"origin", b"Origin", b"credentials", b"cors", b"Cors")
    query = f"""
(pair key: (property_identifier) @key (#any-of? @key "origin" "credentials")) @entry
(method_definition name: (property_identifier) @key (#eq? @key "origin")) @entry
((shorthand_property_identifier) @entry (#eq? @entry "origin"))
(string (string_fragment) @header (#any-of? @header
  "Access-Control-Allow-Origin" "Access-Control-Allow-origin" "Access-Control-allow-Origin" "Access-Control-allow-origin"
  "Access-control-Allow-Origin" "Access-control-Allow-origin" "Access-control-allow-Origin" "Access-control-allow-origin"
  "access-Control-Allow-Origin" "access-Control-Allow-origin" "access-Control-allow-Origin" "access-Control-allow-origin"
  "access-control-Allow-Origin" "access-control-Allow-origin" "access-control-allow-Origin" "access-control-allow-origin"))
(import_statement source: (string (string_fragment) @imports (#any-of? @imports {_CORS_PACKAGES_QUERY})))
(call_expression
  function: (identifier) @require (#eq? @require "require")
  arguments: (arguments . (string (string_fragment) @imports (#any-of? @imports {_CORS_PACKAGES_QUERY}))))
(member_expression property: (property_identifier) @imports (#eq? @imports "enableCors"))
(pair key: (property_identifier) @imports (#eq? @imports "cors"))
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding | Fact]:
        if file.is_test or _DEV_TOOL_CONFIG.search(file.path):
            return
        if match.get("imports") is not None:
            yield from self._imported_policies(file)
            return
        # An origin function or regex shared by several configurations of the file is reported once.
        reported: set = file.memo("rules.cors.reported", set)
        for finding in self._findings(match, file):
            if (finding.span, finding.message) not in reported:
                reported.add((finding.span, finding.message))
                if not _needs_credentials(finding):
                    yield finding
                    continue
                public = finding.span in file.memo("rules.cors.public-routes", set)
                next_wrappers = file.memo("rules.cors.public-next-routes", dict).get(finding.span)
                root = file.memo("rules.cors.nest-root", lambda: nest_root_module(file))
                socket = file.memo("rules.cors.socket-io-only", lambda: socket_io_only(file))
                yield _held(
                    self, file.path, finding, public_route=public, next_wrappers=next_wrappers, nest_root=root,
                    socket_io=socket,
                )

    def _imported_policies(self, file: FileContext) -> Iterator[Fact]:
        """Once per file: a fact for each CORS call whose options or origin another module defines."""
        recorded = file.memo("rules.cors.imports-recorded", lambda: [False])
        if recorded[0]:
            return
        recorded[0] = True
        for anchor, policy in imported_policies(file):
            if _only_in_development(anchor, file):
                continue
            if anchor.type == "call_expression" and serves_no_routes(anchor, file):
                continue
            yield file.fact(self, _IMPORTED, anchor, **policy.to_data())

    def _findings(self, match: Match, file: FileContext) -> Iterator[Finding]:
        header = match.get("header")
        if header is not None:
            yield from self._hand_set_header(header.parent, file)
            return
        entry = match["entry"]
        if entry.parent is not None and entry.parent.type == "object":
            delegates = handing_out(entry.parent, file)
            for delegate in delegates:
                yield from file.memo(
                    ("rules.cors.delegate-findings", delegate.function.start_byte),
                    lambda: list(self._options_delegate(delegate, file)),
                )
            if delegates:
                return
        config = cors_config(entry.parent, file) if entry.parent is not None else None
        if config is None or _judged_where_applied(config, file) or _used_only_in_development(config, file):
            return
        if _only_in_development(config.object, file) or _route_free(config, file):
            return
        policy = _Policy.of(config, file)
        if text(match.get("key") or entry) == "credentials":
            if config.origin is None:
                yield from self._missing_origin(config, policy, file)
            return
        yield from self._origin(config.origin, policy, file)

    def _missing_origin(self, config: CorsConfig, policy: _Policy, file: FileContext) -> Iterator[Finding]:
        if not policy.reflects_star or config.credentials is None:
            return
        if policy.applied is None:
            what = f"{config.library} answers with the request's own origin when no `origin` is set and `credentials: true`"
        else:
            what = (
                f"{config.library} in {policy.applied.path} answers with the request's own origin, as the options in "
                f"{file.path} set `credentials: true` and no `origin`"
            )
        message = f"{what}: {_CREDENTIALED_RISK}; set `origin` to an allowlist."
        anchor = config.credentials
        related = [policy.applied] if policy.applied is not None else []
        code_flow = policy.code_flow(file.location(anchor, "no `origin` is set"))
        yield file.report(self, anchor, message, related=related, code_flow=code_flow)

    def _origin(self, origin: Node | None, policy: _Policy, file: FileContext) -> Iterator[Finding]:
        origin = _resolve(origin, file)
        if origin is None:
            return
        if origin.type in FUNCTION_TYPES:
            yield from self._origin_function(origin, policy, file)
        else:
            yield from self._origin_value(origin, policy, file)

    # --- configurations another module applies -----------------------------------------------------------------

    def may_learn_elsewhere(self, source: bytes) -> bool:
        """Every fact the rule learns is of a kind of `project_reads_for`."""
        return False

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        for fact in facts_of(project, self, _CREDENTIALED):
            finding = held_finding(fact)
            if finding is None or not has_ambient_credentials(project, fact.path):
                continue
            if fact.data.get("public_route") and not global_guard_reads_credentials(project):
                continue
            next_wrappers = fact.data.get("next_wrappers")
            if isinstance(next_wrappers, list) and not middleware_reads_credentials(project, fact.path):
                if not wrappers_read_credentials(module_graph(project), fact.path, next_wrappers):
                    continue
            if fact.data.get("nest_root") and _nest_app_serves_no_routes(project, fact):
                continue
            if fact.data.get("socket_io") and not socket_server_reads_credentials(project, fact.path):
                continue
            yield finding
        facts = list(facts_of(project, self, _IMPORTED))
        if not facts:
            return
        graph = module_graph(project)
        # One finding per place: a policy that several modules apply names the first and links the others.
        reported: dict[tuple, Finding] = {}
        for fact in facts:
            try:
                policy = ImportedPolicy.from_data(fact.data)
            except (KeyError, TypeError, ValueError):
                continue
            found = imported_value(graph, fact.path, policy.source)
            if found is None:
                continue
            target, value = found
            if target.path == fact.path or target.is_test or _DEV_TOOL_CONFIG.search(target.path):
                continue
            for finding in self._applied_elsewhere(fact, policy, target, value):
                if _needs_credentials(finding) and not has_ambient_credentials(project, fact.path):
                    continue
                key = (finding.path, finding.span, finding.level)
                first = reported.get(key)
                if first is None:
                    reported[key] = finding
                else:
                    more = tuple(r for r in finding.related if r not in first.related)
                    reported[key] = first.model_copy(update={"related": first.related + more})
        yield from reported.values()

    def _applied_elsewhere(self, fact: Fact, imported: ImportedPolicy, target: FileContext, value: Node) -> list[Finding]:
        """The findings of an origin or options object of `target` as the CORS call of `fact` applies it, less
        those `target` shows by itself (its per-file findings)."""
        what = "origin" if imported.part == ORIGIN else "options"
        applied = fact.location(f"the CORS middleware takes its {what} from {target.path} here")
        credentials = None
        if imported.credentials is not None:
            credentials = Location(path=fact.path, span=imported.credentials, message="credentials are allowed here")
        found: list[Finding] = []
        alone: list[Finding] = []
        if imported.part == ORIGIN:
            found.extend(self._origin(value, _Policy(imported.library, credentials, applied), target))
            alone.extend(self._alone_with_origin(value, target))
        else:
            for obj in policy_objects(target, value, imported.called):
                if _only_in_development(obj, target):
                    continue
                config = read_options(obj, imported.library)
                own = target.location(config.credentials, "credentials are allowed here") if config.credentials else None
                policy = _Policy(imported.library, own or credentials, applied)
                if config.origin is None:
                    found.extend(self._missing_origin(config, policy, target))
                else:
                    found.extend(self._origin(config.origin, policy, target))
                alone.extend(self._alone(cors_config(obj, target), target))
        shown = {(f.span, f.level) for f in alone} | {(f.span, Level.ERROR) for f in alone if f.level == Level.ERROR}
        return [f for f in found if (f.span, f.level) not in shown and (f.span, Level.ERROR) not in shown]

    def _alone(self, config: CorsConfig | None, file: FileContext) -> list[Finding]:
        """What the per-file check reports for `config`, read in its own module."""
        if config is None or _judged_where_applied(config, file) or _used_only_in_development(config, file):
            return []
        if _only_in_development(config.object, file) or _route_free(config, file):
            return []
        policy = _Policy.of(config, file)
        if config.origin is None:
            return list(self._missing_origin(config, policy, file))
        return list(self._origin(config.origin, policy, file))

    def _alone_with_origin(self, origin: Node, file: FileContext) -> list[Finding]:
        """What the per-file check reports for the configurations of `file` whose origin is `origin`."""
        found = []
        for node in walk(file.root):
            if node.type != "object":
                continue
            config = cors_config(node, file)
            if config is not None and _same_node(_resolve(config.origin, file), origin):
                found.extend(self._alone(config, file))
        return found

    # --- origin functions ---------------------------------------------------------------------------------------

    def _origin_function(self, fn: Node, policy: _Policy, file: FileContext) -> Iterator[Finding]:
        callback = callback_parameter(fn)
        params = parameter_names(fn)
        if policy.library in CONTEXT_ORIGIN_FUNCTIONS or (params and params[0] in _CONTEXT_PARAMETERS):
            names = OriginNames((), is_request_origin, is_header_bag)
        else:
            names = OriginNames(params[:1] if params and params[0] else (), is_request_origin, is_header_bag)
        body = function_body(fn)
        if body is None:
            return
        names.learn(body)
        leaf = _star_leaf(names) if policy.reflects_star else None
        if callback is not None:
            reached = allows(fn, names, _callback_sink(callback), leaf=leaf)
        else:
            reached = allows(fn, names, lambda node: None, returns_are_sinks=True, leaf=leaf)
        deny = "`callback(null, false)`" if callback is not None else "return `false`"
        for sink in reached:
            finding = self._unchecked_allow(sink, policy, deny, file)
            if finding is not None:
                yield finding
        yield from self._weak_allowlists(_origin_tests(body, names, file), policy, file)

    def _unchecked_allow(
        self, sink: ReachedSink, policy: _Policy, deny: str, file: FileContext, what: str = "CORS origin check"
    ) -> Finding | None:
        unchecked = [s for s in sink.states if s.unchecked]
        failed = next((s.failed for s in unchecked if s.failed is not None), None)
        if not unchecked or (policy.credentials is None and failed is None):
            return None
        anchor = sink.sink
        subject = policy.subject(f"This {what}", what, file)
        if failed is not None:
            test = _snippet(file.source[failed[0] : failed[1]])
            what = f"{subject} lets in origins that fail `{test}`{policy.applied_with()}"
            related = [file.location(_node_at(file, failed), "the allowlist test those origins fail")]
        else:
            what = f"{subject} lets every origin in{policy.applied_with()}"
            related = []
        related.extend(policy.related())
        code_flow = policy.code_flow(file.location(anchor, "the origin is let in here"))
        if policy.credentials is not None:
            message = f"{what}: {_CREDENTIALED_RISK}; deny unknown origins ({deny})."
            return file.report(self, anchor, message, related=related, code_flow=code_flow)
        message = f"{what}, so the allowlist has no effect; deny unknown origins ({deny})."
        return file.report(self, anchor, message, related=related, code_flow=code_flow, level=Level.WARNING)

    # --- options delegates: `cors((req, callback) => callback(null, { origin, credentials }))` -------------------

    def _options_delegate(self, delegate: Delegate, file: FileContext) -> Iterator[Finding]:
        """The options a delegate hands out, each read on the paths that reach it: an open `origin` is reported
        where a path gets there with an origin that passed no allowlist test (as for an origin function)."""
        applied = delegate.applied_by
        if applied and all(_only_in_development(call, file) or serves_no_routes(call, file) for call in applied):
            return
        if not applied and _only_in_development(delegate.function, file):
            return
        body = function_body(delegate.function)
        names = OriginNames((), is_request_origin, is_header_bag).learn(body)
        by_node = {_node_key(h.node): h for h in delegate.handouts}
        deny = f"`{delegate.callback}(null, {{ origin: false }})`" if delegate.callback else "return `{ origin: false }`"

        def sink_value(node: Node) -> Node | None:
            handout = by_node.get(_node_key(node))
            return handout.origin if handout is not None else None

        for sink in allows(delegate.function, names, sink_value, leaf=_handout_leaf(names)):
            handout = by_node[_node_key(sink.sink)]
            policy = _handout_policy(delegate, handout, file)
            # a name is reported where it is handed out; options written in place, at their `origin`
            anchor = sink.sink if handout.node.type == "identifier" else handout.origin
            found = self._unchecked_allow(ReachedSink(anchor, sink.states), policy, deny, file, what="CORS options function")
            if found is not None:
                yield found
        for handout in delegate.handouts:
            origin = _resolve(handout.origin, file)
            if origin is None or handout.node.type != "object":
                continue
            policy = _handout_policy(delegate, handout, file)
            if origin.type in FUNCTION_TYPES:
                yield from self._origin_function(origin, policy, file)
            else:
                yield from self._allowlist_regexes(origin, policy, file)
        yield from self._weak_allowlists(_origin_tests(body, names, file), _Policy(delegate.library, None), file)

    # --- static origin values -----------------------------------------------------------------------------------

    def _origin_value(self, value: Node, policy: _Policy, file: FileContext) -> Iterator[Finding]:
        if policy.credentials is not None and _any_origin_outside_development(value, policy):
            setting = f"`origin: {_snippet(text(value).encode())}`"
            if policy.applied is None:
                what = f"{setting} with `credentials: true`"
            elif policy.credentials is not None and policy.credentials.path == policy.applied.path:
                what = f"{setting} in {file.path}, applied with `credentials: true` by {policy.applied.path},"
            else:
                what = f"{setting} with `credentials: true` in {file.path}, applied by {policy.applied.path},"
            when = " whenever it is true" if _boolean_valued(value) else ""
            message = f"{what} lets any origin in{when}: {_CREDENTIALED_RISK}; list the allowed origins instead."
            code_flow = policy.code_flow(file.location(value, "every origin passes"))
            yield file.report(self, value, message, related=policy.related(), code_flow=code_flow)
            return
        yield from self._allowlist_regexes(value, policy, file)

    def _allowlist_regexes(self, value: Node, policy: _Policy, file: FileContext) -> Iterator[Finding]:
        regexes = []
        for item in [value] + (value.named_children if value.type == "array" else []):
            item = _resolve(unwrap(item), file)
            if item is not None and item.type == "regex":
                regexes.append(item)
            elif item is not None and item.type == "array":
                regexes.extend(r for r in map(unwrap, item.named_children) if r is not None and r.type == "regex")
        yield from self._weak_allowlists([(regex, _regex_bypass(regex)) for regex in regexes], policy, file)

    def _weak_allowlists(
        self, checks: list[tuple[Node, Bypass | None]], policy: _Policy, file: FileContext
    ) -> Iterator[Finding]:
        seen = set()
        for node, found in checks:
            if found is None or node.start_byte in seen:
                continue
            seen.add(node.start_byte)
            applied = f" ({policy.applied.path} applies it)" if policy.applied is not None else ""
            if node.type == "regex":
                subject = policy.subject("This origin allowlist regex", "origin allowlist regex", file)
                fix = f"{_REGEX_FIXES[found.mistake]} so only your own sites pass"
                message = f"{subject}{applied} also accepts `{found.origin}`; {fix}."
            else:
                subject = policy.subject("This origin check", "origin check", file)
                message = f"{subject}{applied} also accepts `{found.origin}`; {_STRING_FIXES[found.mistake]}."
            related = [policy.applied] if policy.applied is not None else []
            code_flow = policy.code_flow(file.location(node, f"`{found.origin}` passes"))
            yield file.report(self, node, message, related=related, code_flow=code_flow, level=Level.WARNING)

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
        reached = allows(fn, names, lambda node: value if same_node(node, site) else None)
        if any(s.unchecked for r in reached for s in r.states):
            message = (
                "`Access-Control-Allow-Origin` echoes the request's Origin header while "
                f"`Access-Control-Allow-Credentials: true` is set: {_CREDENTIALED_RISK}; "
                "echo only origins from an allowlist."
            )
            finding = file.report(self, site, message, related=[file.location(credentials, "credentials are allowed here")])
            if unguarded_nest_route(fn, file.source):
                file.memo("rules.cors.public-routes", set).add(finding.span)
            next_wrappers = public_next_route(file)
            if next_wrappers is not None:
                file.memo("rules.cors.public-next-routes", dict)[finding.span] = next_wrappers
            yield finding


def _nest_app_serves_no_routes(project: ProjectIndex, fact: Fact) -> bool:
    try:
        root = Callee.from_data(fact.data["nest_root"])
    except (TypeError, ValueError):
        return False
    return serves_no_nest_routes(project, fact.path, root)


def _needs_credentials(finding: Finding) -> bool:
    """The findings that are errors are those about credentials: they stand only in an app that has some."""
    return finding.level == Level.ERROR


def _held(
    rule: Rule, path: str, finding: Finding, public_route: bool = False, next_wrappers: list | None = None,
    nest_root: Callee | None = None, socket_io: bool = False,
) -> Fact:  # fmt: skip
    """A finding about credentials, kept until the project phase knows whether the app has any (and, for a
    route that reads none itself, whether a global guard does, or for a Next.js route, its middleware or the
    wrappers and builders it imports; for a NestJS bootstrap, whether its modules declare any controller; for a
    socket.io server, whether its connections read any)."""
    data: dict = {"finding": finding.model_dump(mode="json")}
    if public_route:
        data["public_route"] = True
    if next_wrappers is not None:
        data["next_wrappers"] = next_wrappers
    if nest_root is not None:
        data["nest_root"] = nest_root.to_data()
    if socket_io:
        data["socket_io"] = True
    return Fact(rule_id=rule.id, kind=_CREDENTIALED, path=path, span=finding.span, data=data)


def _judged_where_applied(config: CorsConfig, file: FileContext) -> bool:
    """Options this module exports and never uses itself: they configure nothing until another module's CORS
    call applies them, so they are judged there, in the project phase, and not at all when none does."""
    return config.object.start_byte in exported_only(file)


def _used_only_in_development(config: CorsConfig, file: FileContext) -> bool:
    """Options held by a name that this module uses only in development (`isProduction ? productionCors :
    developmentCors`). Another module that imports them is judged on its own, in the project phase."""
    declarator = config.object.parent
    if declarator is None or declarator.type != "variable_declarator":
        return False
    if not _same_node(unwrap(declarator.child_by_field_name("value")), config.object):
        return False
    name = declarator.child_by_field_name("name")
    uses = uses_of(file, text(name)) if name is not None and name.type == "identifier" else ()
    return bool(uses) and all(_only_in_development(use, file) for use in uses)


def _route_free(config: CorsConfig, file: FileContext) -> bool:
    """Every CORS call of this file that applies `config` registers it on an app that serves no routes."""

    def compute() -> bool:
        uses = cors_uses(config.object, file) or _call_taking(config.object)
        return bool(uses) and all(serves_no_routes(use, file) for use in uses)

    return file.memo(("rules.cors.route-free", config.object.start_byte), compute)


def _call_taking(obj: Node) -> list[Node]:
    """The call `obj` is an argument of, when no known CORS call is (`cors` itself unbound in a snippet)."""
    holder = outermost(obj).parent
    call = holder.parent if holder is not None and holder.type == "arguments" else None
    return [call] if call is not None and call.type == "call_expression" else []


def _same_node(node: Node | None, other: Node) -> bool:
    return node is not None and same_node(node, other)


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


def _handout_leaf(names: OriginNames):
    """An options delegate's `origin`: `true`, the request's origin (`{ origin }` too) and a regex every origin
    passes let any origin in."""
    base = default_leaf(names)

    def leaf(value: Node) -> Verdict | None:
        if value.type == "shorthand_property_identifier":
            return Verdict.ALLOW if text(value) in names.aliases else None
        if value.type == "regex" and matches_any_origin(*_regex_parts(value)):
            return Verdict.ALLOW
        return base(value)

    return leaf


def _handout_policy(delegate: Delegate, handout: Handout, file: FileContext) -> _Policy:
    """The library and the `credentials: true` of the options of one handout."""
    credentials = next((c for c in (credentials_entry(o, delegate.library) for o in handout.options) if c), None)
    where = file.location(credentials, "credentials are allowed here") if credentials is not None else None
    return _Policy(delegate.library, where)


def _node_key(node: Node) -> tuple[int, int, str]:
    return node.start_byte, node.end_byte, node.type


def _star_leaf(names: OriginNames):
    """With `@koa/cors` and credentials, a returned `'*'` is the request's own origin."""
    base = default_leaf(names)
    return lambda value: Verdict.ALLOW if string_value(value) == "*" else base(value)


def _any_origin_outside_development(value: Node, policy: _Policy) -> bool:
    """`origin: true`, `/.*/`, `process.env.ORIGIN || true` (and `'*'` where it reflects), other than only in
    development. Other conditions count: a switch that can turn on any origin with credentials is a finding."""
    names = OriginNames(())

    def leaf(node: Node) -> Verdict | None:
        if node.type == "true" or (policy.reflects_star and string_value(node) == "*"):
            return Verdict.ALLOW
        if node.type == "regex" and matches_any_origin(*_regex_parts(node)):
            return Verdict.ALLOW
        return None

    if _boolean_valued(value):  # `true` lets every origin in, so a switch does whenever it is on
        when_on, _ = refine(value, {PathState()}, names)
        return any(not s.development for s in when_on)
    return any(v == Verdict.ALLOW and not s.development for s, v in verdicts(value, PathState(), names, leaf))


def _boolean_valued(value: Node | None) -> bool:
    """A computed boolean: `url.startsWith('https://')`, `env.CORS === 'open'`, `!isProduction`, `a ?? false`."""
    value = unwrap(value)
    if value is None:
        return False
    if value.type == "unary_expression":
        return text(value.child_by_field_name("operator")) == "!"
    if value.type == "binary_expression":
        operator = text(value.child_by_field_name("operator"))
        if operator in _COMPARISONS:
            return True
        sides = [unwrap(value.child_by_field_name(side)) for side in ("left", "right")]
        return operator in ("&&", "||", "??") and all(
            side is not None and (side.type in ("true", "false") or _boolean_valued(side)) for side in sides
        )
    if value.type == "call_expression":
        function = callee(value)
        return property_name(function) in _BOOLEAN_METHODS or text(function) == "Boolean"
    return False


def _only_in_development(node: Node, file: FileContext) -> bool:
    """`node` runs only in development: `if (isDev) return { origin: true, ... }`, or inside a middleware that is
    registered only there (`if (process.env.NODE_ENV !== 'production') app.use((req, res, next) => ...)`)."""
    current = node
    for _ in range(_DEVELOPMENT_SCOPE_DEPTH):
        scope = enclosing_function(current) or file.root
        target = current
        reached = allows(scope, OriginNames(()), lambda n: ALWAYS if same_node(n, target) else None)
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



def _node_at(file: FileContext, span: tuple[int, int]) -> Node:
    return node_at(file.root, span[0], span[1]) or file.root


def _snippet(source: bytes, limit: int = 60) -> str:
    snippet = " ".join(source.decode("utf-8", "replace").split())
    return snippet if len(snippet) <= limit else snippet[: limit - 1] + "…"
