"""Which Express body parser reads a route's body first: the one that decides what `req.body` is.

body-parser's parsers skip a request whose body an earlier parser has read, so the first one that accepts the
request's content type (`application/json` for Stripe) wins. For a route, in the order Express runs them:

1. the app's (and each enclosing router's) `use()` middleware registered before the route's router is mounted,
   whose path covers the route (`app.use(express.json())`, `app.use('/api', express.json())`);
2. the middleware of the mount itself (`app.use('/webhooks', express.raw({ type: 'application/json' }), router)`);
3. the router's own `use()` middleware registered before the route;
4. the route's middleware (`router.post('/stripe', express.raw({ type: 'application/json' }), handler)`).

A JSON parser first means `req.body` is an object (`Parsed`); a raw parser (or a text one) that accepts JSON
first means it is the bytes Stripe signed. `express.raw()` with its default type (`application/octet-stream`)
does not accept Stripe's requests. A parser the code may or may not run for the route (an unknown mount path,
middleware from another module) leaves the question open, and so does an app or router this module does not
create (an imported app).

Registrations are read in source order within one function (or the module's top level). Where the answer
lies in another module it is `Pending`: the handler is registered elsewhere (`router.post('/', webhook)` in
a routes file), the router is exported and mounted elsewhere (`app.use('/webhooks', webhookRouter)`), or the
app is a parameter of an exported function (`setupStripeWebhook(app)` called from the main file). The
project phase (`resolve_pending`) looks in the importers, through a few modules at most.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from linter.flow.callees import callee_of, local_reference
from linter.flow.modules import module_graph
from linter.frameworks.routes import HTTP_VERB_METHODS, route_handler_references
from linter.js.bindings import Binding, declaration_of
from linter.js.exports import export_table, function_key
from linter.js.expressions import arguments_of, callee, member_object, property_name, unwrap
from linter.js.functions import enclosing_function
from linter.js.imports import require_specifier, string_value
from linter.js.invocation import call_sites
from linter.js.object_literals import entry, options_object
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.model import Location
from linter.syntax import Node, descendants_of_types, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

JSON, RAW = "json", "raw"
YES, NO, MAYBE = "yes", "no", "maybe"
MAX_DEPTH = 6  # mounts and modules followed from a route to its app
_PARSER_MODULES = frozenset({"express", "body-parser"})
_WRAPPER_DEPTH = 4
_ROOT_PATHS = frozenset({"", "/", "*", "/*"})

Path = tuple[str, ...] | None  # the route's path below a router, in segments; None when the code does not fix it


@dataclass(frozen=True)
class Parsed:
    """A JSON parser (at `parser`) runs before the route and makes `req.body` an object."""

    parser: Location


RAW_FIRST = "raw"  # a raw parser reads the body first: `req.body` is the bytes Stripe signed
# What runs first on a request's way to a route: `Parsed`, RAW_FIRST, None (no body parser at all), or a
# `Pending` question for another module.
Outcome = "Parsed | Pending | str | None"


@dataclass(frozen=True)
class Pending:
    """The answer is in the modules that import `path`: where they register handler `key`, mount router
    `key`, or call function `key` with an app as argument `index`. `then` is what decides when nothing on their
    side parses the body: the first parser between there and the route (`Parsed`, RAW_FIRST or None)."""

    kind: str  # "handler", "router" or "param"
    path: str
    key: str
    index: int = -1
    route: Path = ()
    then: "Parsed | str | None" = None

    def followed_by(self, inner: "Parsed | str | None") -> "Pending":
        return self if self.then is not None or inner is None else replace(self, then=inner)

    def data(self) -> dict:
        then = self.then.parser.model_dump(mode="json") if isinstance(self.then, Parsed) else self.then
        route = list(self.route) if self.route is not None else None
        return {"kind": self.kind, "key": self.key, "index": self.index, "route": route, "then": then}

    @classmethod
    def of(cls, path: str, data: dict) -> "Pending":
        route, then = data.get("route"), data.get("then")
        decided = Parsed(Location.model_validate(then)) if isinstance(then, dict) else (RAW_FIRST if then == RAW_FIRST else None)
        steps = tuple(str(s) for s in route) if isinstance(route, list) else None
        return cls(str(data["kind"]), path, str(data["key"]), int(data["index"]), steps, decided)


def handler_outcomes(handler: Node, file: "FileContext") -> list:
    """What reads the body first before the Express handler `handler` (a function of `file`) runs: one outcome
    per registration."""
    registrations = registrations_of(handler, file)
    if registrations:
        return [o for call, index in registrations for o in route_outcomes(call, index, file, 0)]
    key = function_key(handler)
    return [Pending("handler", file.path, key)] if key is not None else []


def registrations_of(handler: Node, file: "FileContext") -> list[tuple[Node, int]]:
    """(registering call, position of the handler among its arguments): where it is written, or where this
    file passes it by name."""
    current = handler
    for _ in range(_WRAPPER_DEPTH):  # `catchAsync(async (req, res) => …)`
        holder = current
        while holder.parent is not None and holder.parent.type == "parenthesized_expression":
            holder = holder.parent
        parent = holder.parent
        if parent is None or parent.type != "arguments" or parent.parent is None or parent.parent.type != "call_expression":
            break
        call = parent.parent
        if registration_method(call) is not None:
            return [(call, _position(parent, holder))]
        current = call
    name = _handler_name(handler)
    if name is None:
        return []
    found = []
    for reference in route_handler_references(file):
        parent = reference.parent
        if text(reference) == name and parent is not None and parent.type == "arguments" and registration_method(parent.parent) is not None:
            found.append((parent.parent, _position(parent, reference)))
    return found


def _handler_name(handler: Node) -> str | None:
    key = function_key(handler)
    if key is None and handler.type == "function_declaration":
        key = text(handler.child_by_field_name("name")) or None
    return key if key is not None and "." not in key and not key.startswith("<") else None


def _position(arguments: Node, node: Node) -> int:
    values = [c for c in arguments.named_children if c.type != "comment"]
    return values.index(node) if node in values else len(values)


def registration_method(call: Node | None) -> str | None:
    function = callee(call) if call is not None and call.type == "call_expression" else None
    if function is None or function.type != "member_expression":
        return None
    method = property_name(function)
    return method if method in HTTP_VERB_METHODS or method == "use" else None


def route_outcomes(call: Node, index: int, file: "FileContext", depth: int) -> list:
    """What reads the body first before argument `index` of the registration `call` runs."""
    arguments = arguments_of(call)
    route, start = route_path(arguments, registration_method(call))
    inner = _first_parser(arguments[start:index], file)
    return _chain(_reaching(member_object(callee(call)), call, route, file, depth), inner)


def mount_outcomes(mount: Node, position: int, route: Path, file: "FileContext", depth: int) -> list:
    """What reads the body first of a request for `route` below the router that argument `position` of
    `mount` (`app.use('/webhooks', …, router)`) mounts."""
    arguments = arguments_of(mount)
    prefix, start = route_path(arguments, "use")
    inner = _first_parser(arguments[start:position], file)
    joined = prefix + route if prefix is not None and route is not None else None
    return _chain(_reaching(member_object(callee(mount)), mount, joined, file, depth), inner)


def _chain(outers: list | None, inner: "Parsed | str | None") -> list:
    """The outcomes of the parsers on the way (`outers`, one per way in; None: cannot tell) followed by `inner`."""
    if outers is None:
        return [inner] if isinstance(inner, Parsed) else []  # a JSON parser on the route itself parses anyway
    chained = []
    for outer in outers:
        if outer is None:
            chained.append(inner)
        elif isinstance(outer, Pending):
            chained.append(outer.followed_by(inner))
        else:
            chained.append(outer)
    return chained


def _first_parser(middleware: list[Node], file: "FileContext") -> "Parsed | str | None":
    for argument in middleware:
        kind, parser = parser_of(argument, file)
        if kind == RAW:
            return RAW_FIRST
        if kind == JSON:
            return Parsed(file.location(parser))
    return None


def route_path(arguments: list[Node], method: str | None) -> tuple[Path, int]:
    """The path a registration serves (segments; None when unknown) and where its middleware starts."""
    first = unwrap(arguments[0]) if arguments else None
    if method == "use" and (first is None or first.type not in ("string", "template_string", "array", "regex")):
        return (), 0
    value = string_value(first)
    return (_segments(value) if value is not None else None), 1


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _reaching(router: Node | None, at: Node, route: Path, file: "FileContext", depth: int) -> list | None:
    """What reads the body first of a request on its way to `at`, a registration on `router` for `route`:
    one outcome per way in, or None when the code does not say (an app this module does not create)."""
    if router is None or router.type != "identifier" or depth > MAX_DEPTH:
        return None
    binding = declaration_of(router)
    if binding is None:
        return None
    if binding.kind == "param":
        return _through_callers(binding, route, file, depth)
    if binding.kind != "variable" or binding.path or binding.declarator is None:
        return None
    made = _made_by(binding.declarator, file)
    if made is None:
        return None
    own = None
    for use in _uses_before(binding, at):
        own = _use_verdict(use, route, file)
        if own is not None:
            break
    if made == "app":
        return [own]
    outers: list = []
    for mount, position in _mounts_of(binding, file):
        outers.extend(mount_outcomes(mount, position, route, file, depth + 1))
    if not outers and _exported(binding, file):
        outers.append(Pending("router", file.path, binding.name, route=route))
    return _chain(outers, own) if outers else ([own] if isinstance(own, Parsed) else None)


def _through_callers(binding: Binding, route: Path, file: "FileContext", depth: int) -> list | None:
    """The app is a parameter (`function registerWebhooks(app) {…}`): what its callers pass, as of the call."""
    fn = binding.function
    if fn is None or binding.path:
        return None
    sites = call_sites(fn, file.root)
    if sites is None:
        key = function_key(fn)
        return [Pending("param", file.path, key, binding.index, route)] if key is not None else None
    outcomes: list = []
    for site in sites:
        arguments = arguments_of(site)
        if binding.index < len(arguments):
            outcomes.extend(_reaching(unwrap(arguments[binding.index]), site, route, file, depth + 1) or [])
    return outcomes or None


def _made_by(declarator: Node, file: "FileContext") -> str | None:
    """"app" for `express()`, "router" for `express.Router()` / `Router()`; None for anything else."""
    value = unwrap(declarator.child_by_field_name("value"))
    if value is None or value.type not in ("call_expression", "new_expression"):
        return None
    made = resolve_imported(callee(value), file)
    if made is None or made.module != "express":
        return None
    if made.path == ():
        return "app"
    return "router" if made.path == ("Router",) else None


def _calls_on(binding: Binding, method: str) -> list[Node]:
    """`name.method(…)` calls on the variable `binding`, in source order."""
    scope = binding.function or _program(binding.declarator)
    calls = []
    for call in descendants_of_types(scope, ("call_expression",)):
        function = callee(call)
        if function is None or function.type != "member_expression" or property_name(function) != method:
            continue
        receiver = member_object(function)
        if receiver is None or receiver.type != "identifier" or text(receiver) != binding.name:
            continue
        found = declaration_of(receiver)
        if found is not None and found.declarator == binding.declarator:
            calls.append(call)
    return calls


def _uses_before(binding: Binding, at: Node) -> list[Node]:
    """The `use()` registrations on the app or router before `at`, in the same function (or at top level)."""
    where = enclosing_function(at)
    return [
        call for call in _calls_on(binding, "use") if call.start_byte < at.start_byte and enclosing_function(call) == where
    ]


def _use_verdict(use: Node, route: Path, file: "FileContext") -> "Parsed | str | None":
    """`Parsed` when the registration puts a JSON parser before the route, RAW_FIRST when a raw one (or a
    parser that may or may not serve the route: the question stays open), None when it has no parser for it."""
    arguments = arguments_of(use)
    prefix, start = route_path(arguments, "use")
    for argument in arguments[start:]:
        kind, parser = parser_of(argument, file)
        if kind is None:
            continue
        covered = _covers(arguments[0] if start else None, route)
        if covered == NO:
            return None
        if covered == MAYBE or kind == RAW:
            return RAW_FIRST  # a parser that may serve the route leaves the question open: read as raw
        return Parsed(file.location(parser))
    return None


def _covers(path_argument: Node | None, route: Path) -> str:
    """Whether middleware mounted at `path_argument` (None: no path) runs for requests to `route`."""
    if path_argument is None:
        return YES
    node = unwrap(path_argument)
    paths = [unwrap(n) for n in node.named_children] if node is not None and node.type == "array" else [node]
    verdicts = []
    for path in paths:
        value = string_value(path)
        if value is None:
            verdicts.append(MAYBE)
        elif value in _ROOT_PATHS:
            verdicts.append(YES)
        elif route is None:
            verdicts.append(MAYBE)
        else:
            segments = _segments(value)
            verdicts.append(YES if route[: len(segments)] == segments else NO)
    return YES if YES in verdicts else (MAYBE if MAYBE in verdicts else NO)


def _mounts_of(binding: Binding, file: "FileContext") -> list[tuple[Node, int]]:
    """`x.use(…, router)` calls of the file that mount the router `binding` holds."""
    found = []
    for call in descendants_of_types(file.root, ("call_expression",)):
        if registration_method(call) != "use":
            continue
        for position, argument in enumerate(arguments_of(call)):
            node = unwrap(argument)
            if node is not None and node.type == "identifier" and text(node) == binding.name:
                other = declaration_of(node)
                if other is not None and other.declarator == binding.declarator:
                    found.append((call, position))
    return found


def _exported(binding: Binding, file: "FileContext") -> bool:
    table = file.memo("stripe.exports", lambda: export_table(file.root))
    return binding.function is None and (binding.name in table.names.values() or table.module_object == binding.name)


def parser_of(argument: Node, file: "FileContext", depth: int = 0) -> tuple[str | None, Node]:
    """(JSON, the parser) for middleware that parses JSON bodies, (RAW, it) for one that keeps them raw, (None,
    argument) otherwise: `express.json()`, `bodyParser.json()`, `express.raw({ type: 'application/json' })`,
    an array of middleware, or a `const` of the file holding one."""
    node = unwrap(argument)
    if node is None or depth > 2:
        return None, argument
    if node.type == "array":
        for item in node.named_children:
            kind, parser = parser_of(item, file, depth + 1)
            if kind is not None:
                return kind, parser
        return None, argument
    if node.type == "identifier":
        binding = declaration_of(node)
        if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
            return None, argument
        return parser_of(binding.declarator.child_by_field_name("value"), file, depth + 1)
    if node.type != "call_expression":
        return None, argument
    made = resolve_imported(callee(node), file)
    if made is None or made.module not in _PARSER_MODULES:
        return None, argument
    accepts = _accepts_json(arguments_of(node), file)
    if made.path == () and made.module == "body-parser":
        return JSON, node  # the deprecated all-in-one `bodyParser()`
    if made.path == ("json",):
        return (JSON if accepts is not False else None), node
    if made.path in (("raw",), ("text",)):
        return (RAW if accepts else None), node
    return None, argument


def _accepts_json(arguments: list[Node], file: "FileContext") -> bool | None:
    """Whether a parser's `type` option takes `application/json`: None when it has no `type` (each parser
    has its default), True when it cannot tell (a function, a name)."""
    options = options_object(arguments[0] if arguments else None, file.source)
    if options.state != "object":
        return None if options.absent else True
    found = entry(options.node, "type")
    if found.state != "value":
        return None if found.absent else True
    value = unwrap(found.node)
    values = [unwrap(v) for v in value.named_children] if value is not None and value.type == "array" else [value]
    for item in values:
        text_value = string_value(item)
        if text_value is None or "json" in text_value or text_value in ("*/*", "application/*"):
            return True
    return False


def _program(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


# The project phase ---------------------------------------------------------------------------------------


def resolve_pending(project: "ProjectIndex", pending: Pending) -> list:
    """What reads the body first on each way to the route, found in the modules that register, mount or set
    it up (a few modules away at most): `Parsed` and RAW_FIRST outcomes; a way whose modules cannot be read or
    where nothing parses the body ends as what `pending` waits behind."""
    queue = [(pending, 0)]
    seen = set()
    found: list = []
    while queue:
        current, depth = queue.pop(0)
        if current in seen or depth > MAX_DEPTH:
            continue
        seen.add(current)
        for outcome in _outcomes_elsewhere(project, current, depth):
            if outcome is None:
                outcome = current.then
            elif isinstance(outcome, Pending):
                queue.append((outcome.followed_by(current.then), depth + 1))
                continue
            if outcome is not None:
                found.append(outcome)
    return found


def verdict(outcomes: list) -> Parsed | None:
    """The JSON parser to report: every way into the route that the code shows parses the body first. A way in
    that reads it raw (the same router also mounted before the JSON parser) is the one that answers."""
    if any(outcome == RAW_FIRST for outcome in outcomes):
        return None
    return next((outcome for outcome in outcomes if isinstance(outcome, Parsed)), None)


def _outcomes_elsewhere(project: "ProjectIndex", pending: Pending, depth: int) -> list:
    modules = module_graph(project)
    outcomes: list = []
    callers = modules.importers(pending.path) | ({pending.path} if pending.kind == "handler" else set())
    for caller in sorted(callers):
        file = modules.file(caller)
        if file is None:
            continue

        def names_it(node: Node, file=file, caller=caller) -> bool:
            reference = callee_of(node, file) or local_reference(node)
            if reference is not None and modules.resolve(caller, reference, leading_to=pending.path) == (pending.path, pending.key):
                return True
            return _required_module_object(node, file, project, pending)

        if pending.kind == "handler":
            for reference in route_handler_references(file):
                parent = reference.parent
                if parent is not None and parent.type == "arguments" and registration_method(parent.parent) and names_it(reference):
                    outcomes.extend(route_outcomes(parent.parent, _position(parent, reference), file, depth))
        elif pending.kind == "router":
            for call in descendants_of_types(file.root, ("call_expression",)):
                if registration_method(call) != "use":
                    continue
                for position, argument in enumerate(arguments_of(call)):
                    node = unwrap(argument)
                    if node is not None and node.type in ("identifier", "member_expression", "call_expression") and names_it(node):
                        outcomes.extend(mount_outcomes(call, position, pending.route, file, depth))
        else:
            for call in descendants_of_types(file.root, ("call_expression",)):
                function = callee(call)
                arguments = arguments_of(call)
                if function is None or pending.index >= len(arguments) or not names_it(function):
                    continue
                outcomes.extend(_reaching(unwrap(arguments[pending.index]), call, pending.route, file, depth) or [])
    return outcomes


def _required_module_object(node: Node, file: "FileContext", project: "ProjectIndex", pending: Pending) -> bool:
    """`app.use('/webhooks', require('./routes/webhooks'))`: the module object of the pending module."""
    specifier = require_specifier(unwrap(node))
    if specifier is None or project.resolve(file.path, specifier) != pending.path:
        return False
    target = module_graph(project).exports(pending.path)
    return target is not None and (target.module_object == pending.key or target.names.get("default") == pending.key)
