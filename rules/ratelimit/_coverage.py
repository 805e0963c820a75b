"""Whether a rate limiter covers an endpoint (`_endpoints.Endpoint`).

- Express-style routes: a limiter among the route's middleware (or wrapping its handler), Fastify's
  `config: { rateLimit }` route option; a limiter applied
  with `use` (or Fastify's `register`) earlier in the same module, with no path or a path the route is under;
  else the same questions, with the route's full path, where the module's router is mounted (`app.use('/api',
  limiter, aiRouter)`, in this module or one that imports it), on every mount. When no mount can be found,
  a limiter applied to a whole app anywhere in the package counts, since the order cannot be told.
- Next.js: a limiter wrapping the exported handler (`withRateLimit(handler)`, or a wrapper of the project
  whose code checks a limit), or the app's middleware (`middleware.ts` / `proxy.ts`) checking a limit with a
  `matcher` that covers the route's path (no `matcher`: every path).
- NestJS: `@UseGuards(ThrottlerGuard)` (or any guard named for throttling) or `@Throttle()` on the method or
  its controller, or a global throttler guard (`{ provide: APP_GUARD, useClass: ThrottlerGuard }`,
  `app.useGlobalGuards(...)`) anywhere in the project, or limiter middleware applied to the app (`app.use(
  rateLimit(...))` in `main.ts`, `consumer.apply(...)`); `@SkipThrottle()` on the method or controller uncovers.

A limiter the handler or the functions it calls check themselves is `_endpoint_reach`'s.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from linter.flow.callees import callee_of
from linter.frameworks.admin_gates import RouterMounts, declared_value, is_app, joined, path_argument, under_prefix, use_calls
from linter.js.exports import local_value
from linter.js.expressions import arguments_of, callee, member_chain, object_keys, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.references import resolve_imported
from linter.syntax import Node, text

from ._endpoints import Endpoint, class_decorators, method_decorators, next_app_root
from ._limit_evidence import is_limiter, limits_itself
from ._next_matchers import matcher_patterns, matches
from ._public_endpoints import not_public_prefix

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph
    from linter.project import ProjectIndex

MAX_MOUNT_DEPTH = 4
_USE_METHODS = frozenset({"use", "register"})
_APP_PACKAGES = frozenset({"express", "fastify", "koa", "hono"})
_MIDDLEWARE_NAMES = ("middleware", "proxy")
_SCRIPT_SUFFIXES = (".ts", ".js", ".mjs", ".tsx", ".jsx")


class Coverage:
    def __init__(self, project: "ProjectIndex", graph: "ModuleGraph", app_uses: list, global_guards: list) -> None:
        self.project = project
        self.graph = graph
        self.app_uses = app_uses  # facts: limiters applied with `use` to something other than a local router
        self.global_guards = global_guards
        self.routers = RouterMounts(project, graph)

    def covered(self, endpoint: Endpoint) -> bool:
        file = self.graph.file(endpoint.path)
        if file is None:
            return True
        if endpoint.framework == "express":
            return self._express(endpoint, file)
        if endpoint.framework == "next":
            return self._next(endpoint, file)
        return self._nest(endpoint, file)

    # Express, Fastify, Hono, Koa router ---------------------------------------------------------------------

    def _express(self, endpoint: Endpoint, file: "FileContext") -> bool:
        call = endpoint.registration
        if any(self._limits(argument, file) for argument in arguments_of(call)):
            return True
        function = callee(call)
        owner = function.child_by_field_name("object") if function is not None else None
        if owner is not None and owner.type == "call_expression":  # `router.route('/x').post(...)`
            function = callee(owner)
        return self._under(file, call, function, endpoint.route, 0, {file.path})

    def _under(self, file: "FileContext", at: Node, function: Node | None, route: str | None, depth: int, chain: set) -> bool:
        """Whether what `at` registers (a route or a mounted router, on the receiver of `function`) is behind a
        limiter: earlier in `file`, or where the receiver is mounted."""
        if _earlier_use_covers(file, at, route):
            return True
        receiver = unwrap(function.child_by_field_name("object")) if function is not None and function.type == "member_expression" else None
        root, _ = member_chain(receiver)
        if root is not None and root.type == "identifier" and is_app(root, file):
            return self._app_elsewhere(file, route, chain)
        if depth >= MAX_MOUNT_DEPTH:
            return True
        mounts = list(self.routers.mounts(file, root))
        if not mounts:
            return self._app_elsewhere(file, route, chain)
        for mount_file, mount in mounts:
            arguments = arguments_of(mount)
            if any(self._limits(argument, mount_file) for argument in arguments):
                continue
            has_path, prefix = path_argument(mount)
            full = joined(prefix, route) if has_path else route
            if has_path and prefix is None:
                full = None
            if not self._under(mount_file, mount, callee(mount), full, depth + 1, chain | {mount_file.path}):
                return False
        return True

    def gated(self, endpoint: Endpoint) -> bool:
        """Whether an Express-style route is served only to administrators, jobs or webhooks because of where
        its router is used (`linter.frameworks.admin_gates`; here job and webhook paths count as gated too)."""
        file = self.graph.file(endpoint.path)
        if endpoint.framework != "express" or file is None:
            return False
        return self.routers.registration_gated(file, endpoint.registration, endpoint.route, not_public_prefix)

    def _limits(self, argument: Node, file: "FileContext") -> bool:
        """A route's or a mount's argument that limits: a limiter, Fastify's option, or middleware of another
        module of the project that is one or checks one (`import { protect } from '../middleware/security'`)."""
        if is_limiter(argument, file) or _route_rate_limit_option(argument):
            return True
        node = unwrap(argument)
        if node is not None and node.type == "call_expression":
            node = callee(node)
        return node is not None and node.type in ("identifier", "member_expression") and self._project_function_limits(file, node)

    def _app_elsewhere(self, file: "FileContext", route: str | None, chain: set) -> bool:
        """A limiter applied to an app by a module of the package other than the ones whose order was read."""
        package = self.project.package_of(file.path)
        for fact in self.app_uses:
            if fact.path in chain or self.project.package_of(fact.path) != package:
                continue
            prefix = fact.data["prefix"]
            if not fact.data["has_path"] or prefix is None or route is None or under_prefix(route, prefix):
                return True
        return False

    # Next.js ------------------------------------------------------------------------------------------------

    def _next(self, endpoint: Endpoint, file: "FileContext") -> bool:
        if self._wrapped_by_limiter(endpoint.handler, file):
            return True
        root = next_app_root(endpoint.path)
        for folder in ("", "src/"):
            for name in _MIDDLEWARE_NAMES:
                for suffix in _SCRIPT_SUFFIXES:
                    path = posixpath.join(root, f"{folder}{name}{suffix}") if root else f"{folder}{name}{suffix}"
                    middleware = self.graph.file(path)
                    if middleware is not None and self._middleware_covers(middleware, endpoint.route or "/"):
                        return True
        return False

    def _wrapped_by_limiter(self, fn: Node | None, file: "FileContext") -> bool:
        """`export const POST = withRateLimit(async (req) => …)`, or a wrapper of the project that checks one."""
        wrappers = []
        current = fn
        while current is not None and current.parent is not None:
            parent = current.parent
            if parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
                wrappers.append(parent.parent)
                current = parent.parent
            elif parent.type in ("parenthesized_expression", "as_expression", "satisfies_expression", "await_expression"):
                current = parent
            else:
                break
        name = fn.child_by_field_name("name") if fn is not None else None
        if name is not None:  # `export default withRateLimit(handler)` further down
            for statement in file.root.named_children:
                value = statement.child_by_field_name("value") if statement.type == "export_statement" else None
                value = unwrap(value)
                if value is not None and value.type == "call_expression" and any(text(unwrap(a)) == text(name) for a in arguments_of(value)):
                    wrappers.append(value)
        for call in wrappers:
            function = callee(call)
            if function is None:
                continue
            if is_limiter(function, file) or any(is_limiter(a, file) for a in arguments_of(call)):
                return True
            if self._project_function_limits(file, function):
                return True
        return False

    def _project_function_limits(self, file: "FileContext", function: Node) -> bool:
        """Whether the function or value `function` names in another module of the project limits requests: a
        function that checks a limit, or a value a limiter package makes."""
        reference = callee_of(function, file)
        target = self.graph.resolve(file.path, reference) if reference is not None else None
        other = self.graph.file(target[0]) if target is not None else None
        if other is None:
            return False
        found = local_value(other.root, target[1])
        if found is None or found[1]:
            return False
        node = found[0]
        if node.type == "identifier" and node.parent is not None and node.parent.type == "variable_declarator":
            node = node.parent.child_by_field_name("value")
        node = unwrap(node)
        if node is None:
            return False
        if node.type in FUNCTION_TYPES:
            return limits_itself(node, other)
        return node.type in ("call_expression", "new_expression") and is_limiter(node, other)

    def _middleware_covers(self, middleware: "FileContext", url: str) -> bool:
        if not limits_itself(middleware.root, middleware):
            return False
        patterns = matcher_patterns(middleware)
        if patterns is None:
            return True  # no matcher (every path), or one this module cannot read
        sample = url
        return any(matches(pattern, sample) for pattern in patterns)

    # NestJS -------------------------------------------------------------------------------------------------

    def _nest(self, endpoint: Endpoint, file: "FileContext") -> bool:
        method = endpoint.handler
        klass = method.parent.parent if method is not None and method.parent is not None else None
        decorators = method_decorators(method) + (class_decorators(klass) if klass is not None else [])
        for name, expression in decorators:
            if name == "SkipThrottle" and not _skip_disabled(expression):
                return False
        for name, expression in decorators:
            if name == "Throttle":
                return True
            if name == "UseGuards" and expression.type == "call_expression":
                if any(is_limiter(argument, file) for argument in arguments_of(expression)):
                    return True
        # A throttler guard for the whole app, or middleware applied to it (`app.use(rateLimit(...))` in main.ts).
        return bool(self.global_guards) or self._app_elsewhere(file, None, set())


def _route_rate_limit_option(argument: Node) -> bool:
    """Fastify's per-route limit: `{ config: { rateLimit: { max: 5, timeWindow: '1 minute' } } }`."""
    node = unwrap(argument)
    if node is None or node.type != "object":
        return False
    config = unwrap(object_keys(node).get("config"))
    if config is None or config.type != "object":
        return False
    limit = unwrap(object_keys(config).get("rateLimit"))
    return limit is not None and text(limit) != "false"


def _skip_disabled(expression: Node) -> bool:
    """`@SkipThrottle({ default: false })`: throttling stays on."""
    arguments = arguments_of(expression) if expression.type == "call_expression" else []
    first = unwrap(arguments[0]) if arguments else None
    if first is None or first.type != "object":
        return False
    return all(text(unwrap(value)) == "false" for value in object_keys(first).values())


def _earlier_use_covers(file: "FileContext", at: Node, route: str | None) -> bool:
    for call in use_calls(file):
        if call.start_byte >= at.start_byte:
            break
        if not applies_limiter(call, file):
            continue
        has_path, prefix = path_argument(call)
        if has_path and prefix is not None and route is not None and not under_prefix(route, prefix):
            continue
        return True
    return False


def applies_limiter(call: Node, file: "FileContext") -> bool:
    """`app.use(limiter)`, `router.use('/ai', rateLimit({...}))`, `fastify.register(rateLimit, { ... })` (not
    with `global: false`)."""
    arguments = arguments_of(call)
    if not any(is_limiter(argument, file) for argument in arguments):
        return False
    if property_name(callee(call)) == "register" and len(arguments) > 1:
        options = unwrap(arguments[1])
        if options is not None and options.type == "object" and text(unwrap(object_keys(options).get("global"))) == "false":
            return False
    return True


def is_local_router(call: Node, file: "FileContext") -> bool:
    """Whether `call` applies middleware to a router made in this module (`express.Router()`), not an app."""
    function = callee(call)
    receiver = unwrap(function.child_by_field_name("object")) if function is not None and function.type == "member_expression" else None
    if receiver is None or receiver.type != "identifier":
        return False
    value = declared_value(receiver)
    if value is None or value.type not in ("call_expression", "new_expression"):
        return False
    made_by = resolve_imported(callee(value), file)
    return made_by is not None and any(part.lower() == "router" for part in made_by.path) or (
        made_by is not None and made_by.module in ("@koa/router", "koa-router")
    )
