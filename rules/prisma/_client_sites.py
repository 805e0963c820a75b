"""Where a Prisma client is created, as the plain facts `client-outside-singleton` keeps per file.

A `new PrismaClient()` (or, in the project phase, a call of a factory that returns one) is one of:

- a `ModuleClient`: created once per module load (module level, a lazy accessor, an init function or a plugin
  hook), with what the package check needs: is it cached on `globalThis`, exported, and does it hold a pool of
  the server's at all (a read replica, an HTTP driver and a probe that closes its client are no second pool);
- a `PerCallClient`: created on every request or every call, reported where it stands;
- a `FactoryClient`: created on every call of a function other code can call (`createClient()`), which the
  project phase judges by its callers in every module (`_client_factories`).
"""

from __future__ import annotations

import re
from dataclasses import asdict

from linter import lazy_re
from linter.context import FileContext
from linter.js.exports import DEFAULT_KEY, EXPORTS_KEY, export_table, function_key
from linter.js.expressions import key_text, unwrap
from linter.js.functions import (
    EXPRESSION_WRAPPERS,
    REFERENCE_TYPES,
    enclosing_function,
    function_body,
    function_name,
    is_commonjs_export,
    is_exported,
    module_statement,
    walk_outside_functions,
)
from linter.js.invocation import Invocation, call_sites, invocation
from linter.js.singletons import GLOBAL_OBJECTS, bound_names, value_root
from linter.lazy_dataclasses import dataclass
from linter.rule import Fact
from linter.syntax import Node, descendants_of_types, text, walk

# Driver adapters that talk HTTP (or a platform binding) to the database: the client keeps no TCP pool.
HTTP_DRIVER_ADAPTERS = {
    "@prisma/adapter-planetscale": frozenset({"PrismaPlanetScale"}),
    "@prisma/adapter-neon": frozenset({"PrismaNeonHTTP", "PrismaNeonHttp"}),
    "@prisma/adapter-d1": frozenset({"PrismaD1", "PrismaD1HTTP"}),
}
ACCELERATE_MODULE = "@prisma/extension-accelerate"
READ_REPLICAS_MODULE = "@prisma/extension-read-replicas"
NEST_ROUTE_DECORATORS = {
    "@nestjs/common": frozenset({"Get", "Post", "Put", "Patch", "Delete", "All", "Options", "Head", "Search", "Sse"}),
    "@nestjs/graphql": frozenset({"Query", "Mutation", "Subscription", "ResolveField"}),
}
NEST_ROUTE_PHRASE = "on every request to this NestJS route"
_PLAIN_NAME = lazy_re.compile(r"[\w$]+")
_MAX_FACTORY_DEPTH = 3

# Why a client holds no connection pool of the server's own.
REPLICA = "a read replica"
HTTP_DRIVER = "an HTTP driver"
PROBE = "a connection probe"


@dataclass(frozen=True)
class ModuleClient:
    lazy: bool = False
    global_cached: bool = False
    exported: bool = False
    poolless: str = ""  # REPLICA, HTTP_DRIVER or PROBE: not a second pool of the server; "" otherwise

    def data(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, fact: Fact) -> "ModuleClient":
        return cls(**fact.data)


@dataclass(frozen=True)
class PerCallClient:
    phrase: str  # "on every request in this Express middleware"

    def data(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, fact: Fact) -> "PerCallClient":
        return cls(**fact.data)


@dataclass(frozen=True)
class FactoryClient:
    keys: tuple[str, ...]  # the local keys other modules reach the function by (`linter.js.exports`)
    name: str  # `createClient`, for messages
    poolless: str = ""  # the clients it makes hold no pool of the server's (HTTP_DRIVER) or are closed (PROBE)

    def data(self) -> dict:
        return {"keys": list(self.keys), "name": self.name, "poolless": self.poolless}

    @classmethod
    def of(cls, fact: Fact) -> "FactoryClient":
        return cls(tuple(fact.data["keys"]), fact.data["name"], fact.data["poolless"])


# --- how often -------------------------------------------------------------------------------------------


def request_phrase(run: Invocation, file: FileContext) -> str | None:
    """How the code at `run` runs once per request ('on every request in this Express middleware'), or None."""
    if run.per_request:
        return run.phrase()
    if run.runs == "per-call" and run.function is not None and is_nest_route(run.function, file):
        return NEST_ROUTE_PHRASE
    return None


def is_nest_route(fn: Node, file: FileContext) -> bool:
    """A NestJS controller or resolver method bound to a route: `@Get(':id') findOne(...)`."""
    if fn.type != "method_definition" or fn.parent is None:
        return False
    sibling = fn.prev_named_sibling
    while sibling is not None and sibling.type == "decorator":
        expression = sibling.named_children[0] if sibling.named_children else None
        if expression is not None and expression.type == "call_expression":
            expression = expression.child_by_field_name("function")
        binding = file.binding(text(expression)) if expression is not None and expression.type == "identifier" else None
        if binding is not None and binding.imported in NEST_ROUTE_DECORATORS.get(binding.module, ()):
            return True
        sibling = sibling.prev_named_sibling
    return False


def factory_keys(fn: Node, file: FileContext) -> tuple[str, ...]:
    """The keys other modules reach `fn` by: its own (`createClient`, `Db.create`) and those of the exported
    objects that hold it (`export default { checkConnection }` reaches it as `<default>.checkConnection`)."""
    key = function_key(fn)
    if key is None:
        return ()
    keys = [key]
    if "." not in key:
        for statement in file.root.named_children:
            owner, value = _object_export(statement)
            if value is None or value.type != "object":
                continue
            for entry in value.named_children:
                if entry.type == "shorthand_property_identifier" and text(entry) == key:
                    keys.append(f"{owner}.{key}")
                elif entry.type == "pair" and text(unwrap(entry.child_by_field_name("value"))) == key:
                    keys.append(f"{owner}.{key_text(entry.child_by_field_name('key'))}")
    return tuple(keys)


def _object_export(statement: Node) -> tuple[str, Node | None]:
    """(key, value) of `export default {…}`, `module.exports = {…}` and a top-level `const x = {…}`."""
    if statement.type == "export_statement":
        value = unwrap(statement.child_by_field_name("value"))
        if value is not None:
            return DEFAULT_KEY, value
        statement = statement.child_by_field_name("declaration") or statement
    if statement.type in ("lexical_declaration", "variable_declaration"):
        for declarator in statement.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            value = unwrap(declarator.child_by_field_name("value")) if name is not None else None
            if value is not None and value.type == "object" and name.type == "identifier":
                return text(name), value
    if statement.type == "expression_statement" and statement.named_children:
        expression = statement.named_children[0]
        left = text(expression.child_by_field_name("left"))
        if expression.type == "assignment_expression" and left in ("module.exports", "exports"):
            return EXPORTS_KEY, unwrap(expression.child_by_field_name("right"))
    return "", None


# --- once per module: cached, exported, where --------------------------------------------------------------


def module_client(node: Node, run: Invocation, file: FileContext, poolless: str = "") -> ModuleClient:
    """The facts of a client created at `node` (a `new` or a call of a factory) that runs once per module load."""
    if run.runs == "setup":
        global_cached, exported = False, run.registered
    elif run.runs == "lazy":
        target = run.target
        global_names = global_cache_objects(file.root)
        global_cached = is_global_member(target, global_names) or mirrored_on_global(
            target, run.function, global_names
        )
        exported = (run.function is not None and is_exported(run.function, file.root)) or exports_client(
            file, [target], {text(target)}
        )
    else:
        points = creation_points(node, run, file)
        global_cached = any(cached_on_global(point, None, file.root) for point in points)
        exported = exports_client(file, points, set().union(*(bound_names(point) for point in points)))
    return ModuleClient(
        lazy=run.runs == "lazy",
        global_cached=global_cached,
        exported=exported,
        poolless=poolless,
    )


def creation_points(node: Node, run: Invocation, file: FileContext, depth: int = 0) -> list[Node]:
    """Where the value created at `node` comes into being at module level: the node itself and, when it sits in
    a factory of the file, every call of the factory that runs once. `let db; if (prod) db = create(); else {
    globalThis.db ??= create(); db = globalThis.db }` has two, and the second caches the client."""
    points = [node] + ([run.anchor] if run.anchor is not None and run.anchor != node else [])
    fn = enclosing_function(node)
    if fn is None or depth >= _MAX_FACTORY_DEPTH:
        return points
    for call in call_sites(fn, file.root) or ():
        outer = invocation(call, file.path, file.root)
        if outer.runs == "once":
            points += creation_points(call, outer, file, depth + 1)
    return points


def exports_client(file: FileContext, points: list[Node], names: set[str]) -> bool:
    """True when the module exports the client created at `points` and held under `names` (module-level
    bindings such as `prisma`, or global members such as `global.prisma`), as the module's export table
    (`linter.js.exports`) says, or through an inline export value (`export default global.prisma`,
    `module.exports = { db: prisma }`, `exports.prisma = new PrismaClient()`)."""
    if any(_in_export(point) for point in points):
        return True
    plain = {n for n in names if _PLAIN_NAME.fullmatch(n)}
    held = plain | _aliases(file.root, plain)
    table = file.memo("prisma.export-table", lambda: export_table(file.root))
    exported = {table.local_of(local).partition(".")[0] for local in table.names.values()}
    if table.module_object is not None:
        exported.add(table.module_object)
    if held & exported:
        return True
    members = {_compact(n) for n in names if n not in plain}
    return any(_reads_client(value, held, members) for value in _inline_export_values(file.root))


def _in_export(node: Node) -> bool:
    if module_statement(node).type == "export_statement":
        return True
    current = node
    while current.parent is not None:
        current = current.parent
        if current.type == "assignment_expression" and is_commonjs_export(current.child_by_field_name("left")):
            return True
    return False


def _aliases(root: Node, names: set[str]) -> set[str]:
    """Module-level bindings whose value reads one of `names`: `const prisma = primary.$extends(...)`."""
    aliases: set[str] = set()
    if not names:
        return aliases
    for statement in root.named_children:
        if statement.type == "export_statement":
            statement = statement.child_by_field_name("declaration") or statement
        if statement.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for declarator in statement.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            value = declarator.child_by_field_name("value") if name is not None else None
            if value is not None and name.type == "identifier" and _reads_client(value, names, set()):
                aliases.add(text(name))
    return aliases


def _inline_export_values(root: Node):
    """The values of `export default <expression>` and of CommonJS export assignments."""
    for statement in root.named_children:
        if statement.type == "export_statement" and statement.child_by_field_name("value") is not None:
            yield statement.child_by_field_name("value")
        elif statement.type == "expression_statement" and statement.named_children:
            expression = statement.named_children[0]
            target = expression.child_by_field_name("left")
            if expression.type == "assignment_expression" and is_commonjs_export(target):
                yield expression.child_by_field_name("right")


def _reads_client(value: Node, names: set[str], members: set[str]) -> bool:
    for node in walk_outside_functions(value):
        if node.type in REFERENCE_TYPES and text(node) in names:
            return True
        if node.type == "member_expression" and members and _compact(text(node)) in members:
            return True
    return False


# --- globalThis caches -------------------------------------------------------------------------------------


def global_cache_objects(root: Node) -> set[str]:
    """Names that stand for the global object: `global`, `globalThis`, and module-level aliases such as
    `const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient }`."""
    names = set(GLOBAL_OBJECTS)
    for statement in root.named_children:
        declaration = statement
        if statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration") or statement
        if declaration.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for declarator in declaration.named_children:
            if declarator.type != "variable_declarator":
                continue
            name = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            while value is not None and value.type in EXPRESSION_WRAPPERS and value.named_children:
                value = value.named_children[0]
            if name is not None and value is not None and value.type == "identifier" and text(value) in names:
                names.add(text(name))
    return names


def is_global_member(node: Node | None, global_names: set[str]) -> bool:
    """`globalThis.prisma`, `global.prisma`, `globalForPrisma.prisma`, `global['prisma']`."""
    if node is None or node.type not in ("member_expression", "subscript_expression"):
        return False
    base = node.child_by_field_name("object")
    while base is not None and base.type in EXPRESSION_WRAPPERS and base.named_children:
        base = base.named_children[0]
    return base is not None and base.type == "identifier" and text(base) in global_names


def mirrored_on_global(target: Node | None, fn: Node | None, global_names: set[str]) -> bool:
    """True when the accessor `fn` also copies its cache `target` to the global object
    (`Db.client = new PrismaClient(); globalThis.db = Db.client`), where a reloaded module finds it again."""
    if target is None or fn is None:
        return False
    for assignment in descendants_of_types(fn, ("assignment_expression",)):
        right = unwrap(assignment.child_by_field_name("right"))
        left = assignment.child_by_field_name("left")
        if right is not None and text(right) == text(target) and is_global_member(left, global_names):
            return True
    return False


def cached_on_global(node: Node, stop: Node | None, root: Node) -> bool:
    """True when the value created at `node` is kept on the global object (up to `stop`, or the program):
    `globalThis.prisma ?? create()`, `global.prisma = create()`, `if (!global.prisma) ...`, `x ??= ...`."""
    global_names = global_cache_objects(root)
    current = node
    while current.parent is not None and current != stop:
        parent = current.parent
        if parent.type in ("assignment_expression", "augmented_assignment_expression"):
            if is_global_member(parent.child_by_field_name("left"), global_names):
                return True
        elif parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) in ("??", "||"):
            if is_global_member(parent.child_by_field_name("left"), global_names):
                return True
        elif parent.type in ("if_statement", "ternary_expression"):
            condition = parent.child_by_field_name("condition")
            if condition is not None and any(is_global_member(n, global_names) for n in walk(condition)):
                return True
        current = parent
    return False


def _compact(source: str) -> str:
    return re.sub(r"\s+", "", source)


# --- clients that are no second pool of the server --------------------------------------------------------


def poolless_reason(new: Node, file: FileContext) -> str:
    """REPLICA, HTTP_DRIVER, PROBE or "" for the client created at `new`."""
    if _is_replica(new, file):
        return REPLICA
    if _uses_http_driver(new, file):
        return HTTP_DRIVER
    if closes_its_client(new):
        return PROBE
    return ""


def _is_replica(new: Node, file: FileContext) -> bool:
    """Handed to `readReplicas({ replicas: [...] })` of `@prisma/extension-read-replicas`: the second pool is the
    point of a read replica."""
    if not any(b.module == READ_REPLICAS_MODULE for b in file.import_bindings):
        return False
    names = {n for n in bound_names(value_root(new)) if _PLAIN_NAME.fullmatch(n)}
    for call in descendants_of_types(file.root, ("call_expression",)):
        function = call.child_by_field_name("function")
        binding = file.binding(text(function)) if function is not None and function.type == "identifier" else None
        if binding is None or binding.module != READ_REPLICAS_MODULE:
            continue
        arguments = call.child_by_field_name("arguments")
        if arguments is None:
            continue
        if arguments.start_byte <= new.start_byte < arguments.end_byte:
            return True
        if any(n.type in REFERENCE_TYPES and text(n) in names for n in walk(arguments)):
            return True
    return False


def _uses_http_driver(new: Node, file: FileContext) -> bool:
    """`new PrismaClient({ adapter: new PrismaPlanetScale(...) })` (or an adapter held in a module-level const),
    or a client extended `withAccelerate()`: queries go over HTTP and the client keeps no TCP pool."""
    extended = value_root(new)
    if extended != new and any(_imported_from(n, file, ACCELERATE_MODULE) for n in walk(extended)):
        return True
    arguments = new.child_by_field_name("arguments")
    options = unwrap(arguments.named_children[0]) if arguments is not None and arguments.named_children else None
    if options is None or options.type != "object":
        return False
    adapter = None
    for entry in options.named_children:
        if entry.type == "shorthand_property_identifier" and text(entry) == "adapter":
            adapter = entry
        elif entry.type == "pair" and key_text(entry.child_by_field_name("key")) == "adapter":
            adapter = unwrap(entry.child_by_field_name("value"))
    if adapter is not None and adapter.type in ("identifier", "shorthand_property_identifier"):
        adapter = _module_level_value(file.root, text(adapter))
    if adapter is None or adapter.type != "new_expression":
        return False
    constructor = adapter.child_by_field_name("constructor")
    binding = file.binding(text(constructor)) if constructor is not None and constructor.type == "identifier" else None
    return binding is not None and binding.imported in HTTP_DRIVER_ADAPTERS.get(binding.module, ())


def _imported_from(node: Node, file: FileContext, module: str) -> bool:
    if node.type != "identifier":
        return False
    binding = file.binding(text(node))
    return binding is not None and binding.module == module


def _module_level_value(root: Node, name: str) -> Node | None:
    for statement in root.named_children:
        if statement.type == "export_statement":
            statement = statement.child_by_field_name("declaration") or statement
        if statement.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for declarator in statement.named_children:
            declared = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if declared is not None and declared.type == "identifier" and text(declared) == name:
                return unwrap(declarator.child_by_field_name("value"))
    return None


def closes_its_client(new: Node) -> bool:
    """The function around `new` disconnects the client it created and hands it to nobody: a connection probe
    or a one-off job (`const prisma = new PrismaClient(); try { ... } finally { await prisma.$disconnect() }`).
    The client's name is only ever the object of a member access, and `$disconnect()` runs in the function
    itself or in a callback that settles its promise (`.finally(() => prisma.$disconnect())`), not in a signal
    handler that closes a client the function keeps serving with."""
    fn = enclosing_function(new)
    body = function_body(fn) if fn is not None else None
    if body is None:
        return False
    names = {n for n in bound_names(value_root(new), stop=fn) if _PLAIN_NAME.fullmatch(n)}
    if len(names) != 1:
        return False
    (name,) = names
    disconnected = False
    for node in walk(body):
        if node.type not in REFERENCE_TYPES or text(node) != name or node == new:
            continue
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("name") == node:
            continue
        if parent is None or parent.type != "member_expression" or parent.child_by_field_name("object") != node:
            return False  # handed on, returned or stored
        if text(parent.child_by_field_name("property")) == "$disconnect" and _settles_in(node, fn):
            disconnected = True
    return disconnected


_SETTLING_METHODS = frozenset({"then", "catch", "finally"})


def _settles_in(node: Node, fn: Node) -> bool:
    """`node` runs in `fn` itself or in callbacks of `.then/.catch/.finally` calls made there."""
    current = enclosing_function(node)
    while current is not None and current != fn:
        holder = current.parent
        call = holder.parent if holder is not None and holder.type == "arguments" else None
        function = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
        if function is None or function.type != "member_expression":
            return False
        if text(function.child_by_field_name("property")) not in _SETTLING_METHODS:
            return False
        current = enclosing_function(current)
    return current == fn


def function_label(fn: Node) -> str:
    return function_name(fn) or function_key(fn) or "this function"
