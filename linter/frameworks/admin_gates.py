"""Routes only administrators reach because of where they are registered: Express-style routers (Express, and the
routers of Fastify, Koa and Hono that mount the same way) and the gates in front of what they serve.

- `admin_gate(argument)`: middleware that only administrators pass, by its name (`requireAdmin`,
  `checkRole('admin')`, `isStaff`); a router a call mounts is no gate, whatever its name (`adminRouter`);
- `admin_prefix(prefix)`: a path only administrators are served under (`/api/admin`);
- `RouterMounts(project, graph)`: where a router is mounted (`mounts`: `X.use(prefix?, …, router)` in its module or
  in the modules that import it), and whether a registration is behind a gate (`registration_gated`): a route's
  own middleware, a gate applied to its router with `use` before it (`router.use(requireAdmin)`), or, on every
  mount of the router, a gate among the mount's middleware (`app.use('/manage', signedIn, checkRole('owner'),
  router)`) or a gated path (`app.use('/api/admin', router)`). Which paths count as gated is the caller's
  (`prefix_gates`: the rate-limit rule also counts job and webhook paths). `handler_gated` asks it of every
  route that registers a request handler: where it is written, or by reference in its module or one that
  imports it.
- `nest_policy_gated(method)`: a NestJS route whose policy guard (CASL) requires what only administrators hold:
  `manage` (CASL's "any action") or a write on every subject (`'all'`), read from the policy decorator's
  arguments (`@Policy({ action: Action.Manage, subject: 'User' })`, `@CheckPolicies((ability) =>
  ability.can(Action.Manage, 'all'))`); `handler_gated` counts it for a handler written in a controller.

Used by `ratelimit/unlimited-expensive-endpoint` (admin-only endpoints are not public) and
`prisma/mass-assignment` (administrators may set any field).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Iterator

from linter import lazy_re
from linter.flow.callees import callee_of
from linter.flow.project import handler_registrations
from linter.frameworks.nestjs import class_decorators, method_decorators
from linter.frameworks.routes import registration_call
from linter.js.bindings import declaration_of
from linter.js.exports import function_key
from linter.js.expressions import arguments_of, callee, member_chain, object_keys, property_name, unwrap
from linter.js.functions import enclosing_function
from linter.js.imports import require_specifier, string_value
from linter.js.references import resolve_imported
from linter.syntax import Node, descendants_of_types, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph
    from linter.project import ProjectIndex

PRIVILEGED = lazy_re.compile(r"admin|superuser|staff|moderator|roles?\b|permission", re.I)
_ROUTER_NAME = lazy_re.compile(r"rout", re.I)  # `adminRouter`, `adminRoutes`: what is mounted, not a gate
_ADMIN_SEGMENT = lazy_re.compile(r"^admin$", re.I)
MAX_MOUNT_DEPTH = 4
USE_METHODS = frozenset({"use", "register"})
APP_PACKAGES = frozenset({"express", "fastify", "koa", "hono"})


def admin_gate(argument: Node) -> bool:
    """Middleware a `use` call or a route puts in front of what follows that only administrators pass
    (`requireAdmin`, `checkRole('admin')`); a router that the call mounts is no gate, whatever its name."""
    written = text(argument)
    return bool(PRIVILEGED.search(written)) and not _ROUTER_NAME.search(written)


def admin_prefix(prefix: str) -> bool:
    """A `use` path (or a route) only administrators are served under (`/api/admin`)."""
    return any(_ADMIN_SEGMENT.search(part) for part in route_segments(prefix))


def route_segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def path_argument(call: Node) -> tuple[bool, str | None]:
    """(has a path argument, its literal value or None) for `app.use('/api', …)` style calls."""
    arguments = call.child_by_field_name("arguments")
    first = next((c for c in arguments.named_children if c.type != "comment"), None) if arguments is not None else None
    if first is None:
        return False, None
    if first.type in ("string", "template_string"):
        return True, string_value(first)
    if first.type in ("array", "regex"):
        return True, None
    return False, None


class RouterMounts:
    def __init__(self, project: "ProjectIndex", graph: "ModuleGraph") -> None:
        self.project = project
        self.graph = graph

    def registration_gated(self, file: "FileContext", call: Node, route: str | None,
                           prefix_gates: Callable[[str], bool] = admin_prefix) -> bool:  # fmt: skip
        """Whether the route `call` of `file` registers is served only behind a gate: its own middleware, an
        earlier `use` on its router, or on every mount of the router a gate or a gated path."""
        arguments = arguments_of(call)
        has_path, _ = path_argument(call)
        if any(admin_gate(argument) for argument in arguments[int(has_path) : -1]):
            return True
        if route is not None and prefix_gates(route):
            return True
        function = callee(call)
        owner = function.child_by_field_name("object") if function is not None else None
        if owner is not None and owner.type == "call_expression":  # `router.route('/x').post(...)`
            function = callee(owner)
        return self.behind_gate(file, call, function, route, 0, prefix_gates)

    def handler_gated(self, file: "FileContext", node: Node, prefix_gates: Callable[[str], bool] = admin_prefix) -> bool:
        """Whether the request handler around `node` is served only behind a gate: it is registered, and every
        route that registers it is gated."""
        function = enclosing_function(node)
        if function is not None and function.type == "method_definition" and nest_policy_gated(function):
            return True
        while function is not None:
            call = registration_call(function)
            if call is not None:
                return self.registration_gated(file, call, path_argument(call)[1], prefix_gates)
            key = function_key(function)
            registrations = handler_registrations(self.graph, file.path, key) if key is not None else []
            if registrations:
                calls = [(other, _route_call(reference)) for other, reference in registrations]
                return all(call is not None and self.registration_gated(other, call, path_argument(call)[1], prefix_gates)
                           for other, call in calls)  # fmt: skip
            function = enclosing_function(function)
        return False

    def behind_gate(self, file: "FileContext", at: Node, function: Node | None, route: str | None, depth: int,
                    prefix_gates: Callable[[str], bool] = admin_prefix) -> bool:  # fmt: skip
        receiver = unwrap(function.child_by_field_name("object")) if function is not None and function.type == "member_expression" else None
        root, _ = member_chain(receiver)
        if root is None or root.type != "identifier":
            return False
        if _earlier_use_gates(file, at, text(root), route):
            return True
        if is_app(root, file) or depth >= MAX_MOUNT_DEPTH:
            return False
        mounts = list(self.mounts(file, root))
        for mount_file, mount in mounts:
            has_path, prefix = path_argument(mount)
            if prefix is not None and prefix_gates(prefix):
                continue
            if any(admin_gate(argument) for argument in arguments_of(mount)[int(has_path) : -1]):
                continue
            full = joined(prefix, route) if has_path else route
            if not self.behind_gate(mount_file, mount, callee(mount), full, depth + 1, prefix_gates):
                return False
        return bool(mounts)

    def mounts(self, file: "FileContext", receiver: Node | None) -> Iterator[tuple["FileContext", Node]]:
        """`X.use(prefix?, …, router)` calls that mount the router `receiver` of `file`: in `file` itself (by
        name), and in the modules that import `file` (by anything resolving to it)."""
        name = text(receiver) if receiver is not None and receiver.type == "identifier" else None
        if name is not None:
            for call in use_calls(file):
                if any(text(unwrap(a)) == name for a in arguments_of(call)):
                    yield file, call
        for importer in sorted(self.graph.importers(file.path)):
            other = self.graph.file(importer)
            if other is None:
                continue
            for call in use_calls(other):
                if any(self._names_module(other, argument, file.path) for argument in arguments_of(call)):
                    yield other, call

    def _names_module(self, file: "FileContext", argument: Node, target: str) -> bool:
        node = unwrap(argument)
        if node is None:
            return False
        if node.type == "call_expression":  # `app.use('/ai', require('./routes/ai'))`, `app.use(aiRoutes(deps))`
            specifier = require_specifier(node)
            if specifier is not None:
                return self.project.resolve(file.path, specifier) == target
            node = callee(node)
        if node is None or node.type not in ("identifier", "member_expression"):
            return False
        reference = callee_of(node, file)
        if reference is None or not self.graph.may_resolve_into(file.path, reference, target):
            return False
        resolved = self.graph.resolve(file.path, reference, leading_to=target)
        return resolved is not None and resolved[0] == target


def _route_call(reference: Node) -> Node | None:
    """The route call a handler reference is an argument of (or the `handler` of an options object of)."""
    current = reference
    for _ in range(3):
        parent = current.parent
        if parent is None:
            return None
        if parent.type == "arguments":
            return parent.parent
        current = parent
    return None


def use_calls(file: "FileContext") -> list[Node]:
    """The `X.use(…)` and `X.register(…)` calls of a module, in source order."""

    def collect() -> list[Node]:
        found = []
        for call in descendants_of_types(file.root, ("call_expression",)):
            function = callee(call)
            if function is not None and function.type == "member_expression" and property_name(function) in USE_METHODS:
                found.append(call)
        return found

    return file.lasting("frameworks.use-calls", collect)


def _earlier_use_gates(file: "FileContext", at: Node, receiver: str, route: str | None) -> bool:
    """`router.use(requireAdmin)` (or with a path the route is under) on the same router, before `at`."""
    for call in use_calls(file):
        if call.start_byte >= at.start_byte:
            break
        function = callee(call)
        root, _ = member_chain(unwrap(function.child_by_field_name("object")))
        if root is None or text(root) != receiver:
            continue
        has_path, prefix = path_argument(call)
        if has_path and (prefix is None or (route is not None and not under_prefix(route, prefix))):
            continue
        if any(admin_gate(argument) for argument in arguments_of(call)[int(has_path) :]):
            return True
    return False


def declared_value(identifier: Node) -> Node | None:
    declaration = declaration_of(identifier)
    if declaration is None or declaration.kind != "variable" or declaration.declarator is None:
        return None
    return unwrap(declaration.declarator.child_by_field_name("value"))


def is_app(identifier: Node, file: "FileContext") -> bool:
    """`const app = express()` (also Fastify, Koa, Hono), made in this module."""
    value = declared_value(identifier)
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None or value.type not in ("call_expression", "new_expression"):
        return False
    made_by = resolve_imported(callee(value), file)
    return made_by is not None and made_by.module in APP_PACKAGES and not any(p.lower() == "router" for p in made_by.path)


def joined(prefix: str | None, route: str | None) -> str | None:
    if prefix is None or route is None:
        return None
    return "/" + "/".join(part for part in (prefix.strip("/"), route.strip("/")) if part)


def under_prefix(route: str, prefix: str) -> bool:
    """Whether `route` is under the `use` path `prefix`; parameters (`:id`) and wildcards match any segment."""
    wanted = route_segments(prefix)
    actual = route_segments(route)
    if len(actual) < len(wanted):
        return False
    for want, have in zip(wanted, actual):
        if want.startswith(":") or "*" in want or have.startswith(":") or "*" in have:
            continue
        if want != have:
            return False
    return True


# --- NestJS routes behind a CASL policy -----------------------------------------------------------------------

_POLICY_DECORATOR = lazy_re.compile(r"polic|abilit|casl|permission", re.I)
_WRITES = frozenset({"create", "update", "delete"})
_ACTION_KEYS = ("action", "actions")
_SUBJECT_KEYS = ("subject", "model", "resource")


def nest_policy_gated(method: Node) -> bool:
    """A method of a NestJS controller behind a guard (`@UseGuards(…)` on it or on its class) whose policy,
    written on the method (else on the class, as a guard reading it with `getAllAndOverride` finds it), requires
    `manage` or a write on `'all'`: only administrators hold such an ability. A policy to read, or to update
    one subject (whose conditions may be the user's own rows), is no gate."""
    body = method.parent
    klass = body.parent if body is not None else None
    if klass is None or klass.type not in ("class_declaration", "class"):
        return False
    on_class = [d for d in (_named(e) for e in class_decorators(klass)) if d is not None]
    if not any(name == "Controller" for name, _ in on_class):
        return False
    on_method = method_decorators(method)
    if not any(name == "UseGuards" for name, _ in on_method + on_class):
        return False
    for decorators in (on_method, on_class):
        policies = [call for name, call in decorators if _POLICY_DECORATOR.search(name) and call.type == "call_expression"]
        if policies:
            return any(_requires_admin(arguments_of(call)) for call in policies)
    return False


def _named(expression: Node) -> tuple[str, Node] | None:
    function = expression.child_by_field_name("function") if expression.type == "call_expression" else expression
    return (text(function), expression) if function is not None else None


def _requires_admin(arguments: list[Node]) -> bool:
    """The arguments of a policy decorator: `(Action.Manage, 'User')`, or rules and handlers that must all pass
    (one that only administrators pass is enough)."""
    first = unwrap(arguments[0]) if arguments else None
    if first is not None and first.type in ("string", "member_expression"):
        return _admin_ability(first, arguments[1] if len(arguments) > 1 else None)
    return any(_admin_rule(argument, 0) for argument in arguments)


def _admin_rule(node: Node | None, depth: int) -> bool:
    """`{ action: Action.Manage, subject: … }`, `[Action.Manage, 'all']`, `(ability) => ability.can(…)`."""
    node = unwrap(node)
    if node is None or depth > MAX_MOUNT_DEPTH:
        return False
    if node.type == "identifier":
        return _admin_rule(declared_value(node), depth + 1)
    if node.type == "object":
        entries = object_keys(node)
        action = next((entries[k] for k in _ACTION_KEYS if k in entries), None)
        subject = next((entries[k] for k in _SUBJECT_KEYS if k in entries), None)
        return action is not None and _admin_ability(action, subject)
    if node.type == "array":
        items = [unwrap(item) for item in node.named_children if item.type != "comment"]
        if items and items[0] is not None and items[0].type in ("string", "member_expression"):
            return _admin_ability(items[0], items[1] if len(items) > 1 else None)
        return any(_admin_rule(item, depth + 1) for item in items)
    if node.type in ("arrow_function", "function_expression", "function"):
        body = node.child_by_field_name("body")
        if body is not None and body.type == "statement_block":
            returns = [s for s in body.named_children if s.type == "return_statement"]
            body = returns[0].named_children[0] if len(returns) == 1 and returns[0].named_children else None
        return _admin_check(body, depth + 1)
    return False


def _admin_check(expression: Node | None, depth: int) -> bool:
    """`ability.can(Action.Manage, 'User')`, and `&&` (either side) / `||` (both sides) of such checks."""
    node = unwrap(expression)
    if node is None or depth > MAX_MOUNT_DEPTH * 2:
        return False
    if node.type == "binary_expression":
        operator = text(node.child_by_field_name("operator"))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator == "&&":
            return _admin_check(left, depth + 1) or _admin_check(right, depth + 1)
        if operator == "||":
            return _admin_check(left, depth + 1) and _admin_check(right, depth + 1)
        return False
    if node.type == "call_expression" and property_name(callee(node)) == "can":
        arguments = arguments_of(node)
        return bool(arguments) and _admin_ability(arguments[0], arguments[1] if len(arguments) > 1 else None)
    return False


def _admin_ability(action: Node | None, subject: Node | None) -> bool:
    """CASL's `manage` (any action), or a write (`update`, `create`, `delete`) on every subject (`'all'`); of a
    list of actions that must all be allowed (`actions: [Action.Read, Action.Manage]`), any one."""
    listed = unwrap(action)
    if listed is not None and listed.type == "array":
        return any(_admin_ability(item, subject) for item in listed.named_children)
    verb = _word(action)
    if verb in ("manage", "manageall", "updateall"):
        return True
    return verb in _WRITES and _word(subject) == "all"


def _word(node: Node | None) -> str:
    """`manage` for `'manage'`, `Action.Manage`, `Actions.MANAGE`."""
    node = unwrap(node)
    if node is None:
        return ""
    if node.type == "string":
        return (string_value(node) or "").lower()
    if node.type == "member_expression":
        return (property_name(node) or "").lower()
    return ""
