"""CORS configurations whose options, or whose `origin`, another module defines.

Per file, `imported_policies(file)` finds every CORS call (`cors(…)`, `app.enableCors(…)`, `app.register(cors,
…)`, a `cors:` entry of `NestFactory.create` or socket.io) that takes from an import either its whole options
object (`cors(corsOptions)`, `cors(config.cors)`, `cors(getCorsOptions())`, `cors({ ...sharedCors, credentials:
true })`) or its `origin` (`cors({ origin: checkOrigin, credentials: true })`), directly or through a local
`const`. Each is an `ImportedPolicy`: plain data the rule keeps as a fact.

In the project phase, `imported_value(graph, path, name)` follows the import through the module graph
(`linter.flow.modules`: module resolution, export tables, re-exports, barrels) to the module that defines it and
the node there (an object literal, a function, a value), and on through that module's own imports;
`policy_objects` lists the object literals an options value stands for.

An options object a module exports and never uses itself (`exports.corsOptions = { … }`) configures nothing
until another module applies it: `exported_only(file)` lists such objects, so that the rule judges them by the
CORS calls that import them and stays silent when none does (`cors(require('./cors'))` passing the module
object, not its `corsOptions`, applies nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from linter.flow.callees import Callee, callee_of
from linter.js.bindings import declaration_of, returned_values
from linter.js.expressions import arguments_of, callee, key_text, member_chain, unwrap
from linter.js.exports import DEFAULT_KEY, EXPORTS_KEY, MODULE_OBJECT, export_table
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.model import Span
from linter.rules.cors._cors_calls import cors_options
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph

OPTIONS = "options"  # the import is the whole options object (or what a call of it returns)
ORIGIN = "origin"  # the import is the `origin` option: a function or a value
MAX_IMPORT_HOPS = 4  # modules followed from a CORS call to the one that defines its options
_MAX_LOCAL_HOPS = 3  # `const options = base` aliases followed inside one module
_DECLARATIONS = frozenset({"variable_declarator", "function_declaration", "generator_function_declaration", "class_declaration"})
_MAX_NESTING = 3  # object literals followed under the properties of an exported one (`config.cors.api`)


@dataclass(frozen=True)
class ImportedPolicy:
    """A CORS call of this file whose options, or whose `origin`, come from another module."""

    library: str  # the package whose semantics apply (`cors`, `@koa/cors`, …)
    part: str  # OPTIONS or ORIGIN
    source: Callee  # the imported name, with the properties read from it
    called: bool  # the options are what calling the import returns: `cors(getCorsOptions())`
    credentials: Span | None  # `credentials: true` written in this file, next to the imported part

    def to_data(self) -> dict:
        return {
            "library": self.library,
            "part": self.part,
            "source": self.source.to_data(),
            "called": self.called,
            "credentials": self.credentials,
        }

    @classmethod
    def from_data(cls, data: dict) -> "ImportedPolicy":
        library, part, called, credentials = data["library"], data["part"], data["called"], data["credentials"]
        if type(library) is not str or part not in (OPTIONS, ORIGIN) or type(called) is not bool:
            raise TypeError("bad CORS import")
        if credentials is not None and not isinstance(credentials, Span):
            raise TypeError("bad CORS import")
        return cls(library, part, Callee.from_data(data["source"]), called, credentials)


# --- per file --------------------------------------------------------------------------------------------------


def imported_policies(file: "FileContext") -> list[tuple[Node, ImportedPolicy]]:
    """(the CORS call or `cors:` entry, what it imports) for every CORS configuration of the file that takes its
    options or its origin from another module."""
    found: list[tuple[Node, ImportedPolicy]] = []
    for node in walk(file.root):
        if node.type == "call_expression":
            configured = cors_options(node, file)
            if configured is not None and configured[1] is not None:
                found.extend((node, p) for p in _from_options(configured[1], configured[0], file, 0))
        elif node.type == "pair" and key_text(node.child_by_field_name("key")) == "cors":
            value = unwrap(node.child_by_field_name("value"))
            if value is not None:
                found.extend((node, p) for p in _from_options(value, "cors", file, 0))
    return found


def _from_options(options: Node, library: str, file: "FileContext", hops: int) -> Iterator[ImportedPolicy]:
    if options.type == "object":
        yield from _from_object(options, library, file)
        return
    source = _imported(options, file)
    if source is not None:
        yield ImportedPolicy(library, OPTIONS, source[0], source[1], None)
        return
    local = _local_value(options) if hops < _MAX_LOCAL_HOPS else None
    if local is not None:
        yield from _from_options(local, library, file, hops + 1)


def _from_object(options: Node, library: str, file: "FileContext") -> Iterator[ImportedPolicy]:
    """`{ origin: checkOrigin, credentials: true }` with `checkOrigin` imported; `{ ...shared, credentials: true }`
    with `shared` imported and no `origin` of its own."""
    credentials: Span | None = None
    origin: Node | None = None
    has_origin = False
    spreads: list[Node] = []
    for entry in options.named_children:
        if entry.type == "pair":
            key = key_text(entry.child_by_field_name("key"))
            value = unwrap(entry.child_by_field_name("value"))
            if key == "credentials":
                credentials = file.lines.span(entry.start_byte, entry.end_byte) if value is not None and value.type == "true" else None
            elif key == "origin":
                has_origin, origin, spreads = True, value, []
        elif entry.type == "shorthand_property_identifier" and text(entry) == "origin":
            has_origin, origin, spreads = True, entry, []
        elif entry.type == "method_definition" and key_text(entry.child_by_field_name("name")) == "origin":
            has_origin, origin, spreads = True, None, []
        elif entry.type == "spread_element" and entry.named_children:
            spreads.append(unwrap(entry.named_children[0]))
    if has_origin:
        source = _imported(origin, file) if origin is not None else None
        if source is not None and not source[1]:
            yield ImportedPolicy(library, ORIGIN, source[0], False, credentials)
        return
    for spread in reversed(spreads):  # the last spread wins
        source = _imported(spread, file) if spread is not None else None
        if source is not None:
            yield ImportedPolicy(library, OPTIONS, source[0], source[1], credentials)
            return


def _imported(node: Node | None, file: "FileContext") -> tuple[Callee, bool] | None:
    """(the import, whether it is called) for `name`, `config.cors` or `getCorsOptions()` naming an import, or
    for an inline `require('./cors')` and `require('./cors').corsOptions`."""
    node = unwrap(node)
    if node is None:
        return None
    required = _inline_require(node)
    if required is not None:
        return required, False
    called = node.type == "call_expression"
    expression = callee(node) if called else node
    required = _inline_require(expression) if called and expression is not None else None
    if required is not None:
        return required, True
    if expression is None or expression.type not in ("identifier", "member_expression", "shorthand_property_identifier"):
        return None
    if expression.type == "shorthand_property_identifier":
        binding = file.binding(text(expression))
        return (Callee(binding.module, binding.imported), False) if binding is not None else None
    found = callee_of(expression, file)
    return (found, called) if found is not None and found.module else None


def _inline_require(node: Node) -> Callee | None:
    """`require('./cors')` (the module object) and `require('./cors').corsOptions`, as imports."""
    root, members = member_chain(node)
    if root is None or root.type != "call_expression" or text(callee(root)) != "require":
        return None
    arguments = arguments_of(root)
    specifier = string_value(unwrap(arguments[0])) if len(arguments) == 1 else None
    return Callee(specifier, MODULE_OBJECT, tuple(members)) if specifier else None


def _local_value(name: Node) -> Node | None:
    """The value a local `const` holds (`const options = { … }` for `cors(options)`), if it has just one."""
    if name.type != "identifier":
        return None
    binding = declaration_of(name)
    if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
        return None
    return unwrap(binding.declarator.child_by_field_name("value"))


# --- project phase ---------------------------------------------------------------------------------------------


def imported_value(graph: "ModuleGraph", from_path: str, source: Callee) -> tuple["FileContext", Node] | None:
    """(the module, the node) that the import `source` of `from_path` names: an object literal, a function or a
    value, followed through re-exports and through that module's own imports; None when it is outside the
    project or cannot be read."""
    path = from_path
    for _ in range(MAX_IMPORT_HOPS):
        target = graph.resolve(path, source)
        if target is None and source.name in (MODULE_OBJECT, "default"):  # `module.exports = { … }`
            module = graph.project.resolve(path, source.module)
            target = (module, ".".join((EXPORTS_KEY, *source.members))) if module is not None else None
        file = graph.file(target[0]) if target is not None else None
        if file is None:
            return None
        value = module_value(file, target[1])
        if value is None:
            onward = _imported_key(file, target[1])
        elif value.type in ("identifier", "shorthand_property_identifier"):
            imported = _imported(value, file)
            onward = imported[0] if imported is not None and not imported[1] else None
        else:
            onward = None
        if onward is None:
            return (file, value) if value is not None else None
        path, source = file.path, onward
    return None


def _imported_key(file: "FileContext", key: str) -> Callee | None:
    """The import a module's local key names when the module only imports it (`import { a } from './a';
    export { a }`)."""
    head, *members = key.split(".")
    binding = file.binding(head) if _top_level(file, head) is None else None
    return Callee(binding.module, binding.imported, tuple(members)) if binding is not None else None


def module_value(file: "FileContext", key: str) -> Node | None:
    """The node a module's local key (`linter.js.exports`) names: `corsOptions` (a top-level `const` or
    function), `<default>` (an anonymous default export), `<exports>` and `<exports>.name` (CommonJS), each
    followed by properties of object literals (`config.cors`)."""
    head, *members = key.split(".")
    if head == EXPORTS_KEY and members:
        value = _commonjs_export(file, members[0])
        if value is not None:
            members = members[1:]
        else:
            value = _commonjs_exports(file)
    elif head == EXPORTS_KEY:
        value = _commonjs_exports(file)
    elif head == DEFAULT_KEY:
        value = _default_export(file)
    else:
        value = _top_level(file, head)
    for member in members:
        value = _entry(_followed(file, value), member)
    return _followed(file, value)


def policy_objects(file: "FileContext", value: Node, called: bool) -> list[Node]:
    """The options object literals `value` stands for: itself, or with `called` every object literal the
    function returns (`function corsOptions() { if (dev) return {…}; return {…}; }`)."""
    if not called:
        return [value] if value.type == "object" else []
    if value.type not in FUNCTION_TYPES:
        return []
    objects = []
    for returned in returned_values(value):
        returned = unwrap(returned)
        if returned is not None and returned.type == "identifier":
            returned = _local_value(returned)
        if returned is not None and returned.type == "object":
            objects.append(returned)
    return objects


def _followed(file: "FileContext", value: Node | None) -> Node | None:
    """`value`, or what the top-level name it is stands for (`export default corsOptions`)."""
    for _ in range(_MAX_LOCAL_HOPS):
        value = unwrap(value)
        if value is None or value.type not in ("identifier", "shorthand_property_identifier"):
            return value
        found = _top_level(file, text(value))
        if found is None:
            return value  # an import of this module, or unknown
        value = found
    return unwrap(value)


def _entry(obj: Node | None, key: str) -> Node | None:
    return entry_value(obj, key) if obj is not None and obj.type == "object" else None


def entry_value(obj: Node, key: str) -> Node | None:
    """The value of `key` in an object literal: a pair's value, a method, or a shorthand name."""
    for entry in obj.named_children:
        if entry.type == "pair" and key_text(entry.child_by_field_name("key")) == key:
            return entry.child_by_field_name("value")
        if entry.type == "method_definition" and key_text(entry.child_by_field_name("name")) == key:
            return entry
        if entry.type == "shorthand_property_identifier" and text(entry) == key:
            return entry
    return None


def _statements(file: "FileContext") -> list[Node]:
    """The module's top-level statements, with `export` unwrapped to what it declares."""
    found = []
    for statement in file.root.named_children:
        if statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration")
            found.append(declaration if declaration is not None else statement)
        else:
            found.append(statement)
    return found


def _top_level(file: "FileContext", name: str) -> Node | None:
    def collect() -> dict[str, Node]:
        table: dict[str, Node] = {}
        for statement in _statements(file):
            if statement.type in ("function_declaration", "generator_function_declaration"):
                table.setdefault(text(statement.child_by_field_name("name")), statement)
            elif statement.type in ("lexical_declaration", "variable_declaration"):
                for declarator in statement.named_children:
                    target = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
                    value = declarator.child_by_field_name("value") if target is not None else None
                    if target is not None and target.type == "identifier" and value is not None:
                        table.setdefault(text(target), value)
        return table

    return file.memo("rules.cors.top-level", collect).get(name)


def _default_export(file: "FileContext") -> Node | None:
    for statement in file.root.named_children:
        if statement.type == "export_statement" and any(c.type == "default" for c in statement.children):
            return statement.child_by_field_name("value") or statement.child_by_field_name("declaration")
    return None


def _commonjs_exports(file: "FileContext") -> Node | None:
    """The value of `module.exports = …`."""
    found = None
    for left, right in _commonjs_assignments(file):
        if left in ("module.exports", "exports"):
            found = right
    return found


def _commonjs_export(file: "FileContext", name: str) -> Node | None:
    """The value of `exports.name = …` / `module.exports.name = …`."""
    found = None
    for left, right in _commonjs_assignments(file):
        if left in (f"module.exports.{name}", f"exports.{name}"):
            found = right
    return found


def _commonjs_assignments(file: "FileContext") -> list[tuple[str, Node]]:
    pairs = []
    for statement in file.root.named_children:
        expression = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children else None
        if expression is not None and expression.type == "assignment_expression":
            right = expression.child_by_field_name("right")
            if right is not None:
                pairs.append((text(expression.child_by_field_name("left")), right))
    return pairs


# --- options a module exports for others to apply ---------------------------------------------------------------


def exported_only(file: "FileContext") -> frozenset[int]:
    """The start bytes of the object literals that this module exports and never uses itself: the value of an
    export (`export const corsOptions = {…}`, `exports.corsOptions = {…}`, `module.exports = corsOptions`,
    `export default {…}`), what an exported function returns, and the objects under their properties
    (`config.cors`), when no name on the way to them is used in the module but by its exports. An object
    under a `cors:` key is left out: that key is where a library (socket.io, `NestFactory.create`) reads it."""

    def collect() -> frozenset[int]:
        table = file.memo("flow.exports", lambda: export_table(file.root))
        keys = {*table.names.values(), EXPORTS_KEY}
        if table.module_object is not None:
            keys.add(table.module_object)
        used = _used_names(file)
        found: set[int] = set()
        for key in sorted(keys):
            head = key.split(".")[0]
            if head not in used:
                _collect_objects(file, module_value(file, key), used, found, 0)
        return frozenset(found)

    return file.memo("rules.cors.exported-only", collect)


def _collect_objects(file: "FileContext", value: Node | None, used: frozenset[str], found: set[int], depth: int) -> None:
    if value is None or depth > _MAX_NESTING:
        return
    if value.type in FUNCTION_TYPES:
        for obj in policy_objects(file, value, True):
            _collect_objects(file, obj, used, found, depth + 1)
        return
    if value.type != "object" or value.start_byte in found:
        return
    found.add(value.start_byte)
    for entry in value.named_children:
        if entry.type == "pair" and key_text(entry.child_by_field_name("key")) != "cors":
            named = unwrap(entry.child_by_field_name("value"))
        elif entry.type in ("shorthand_property_identifier", "method_definition"):
            named = entry
        else:
            continue
        if named is not None and named.type in ("identifier", "shorthand_property_identifier") and text(named) in used:
            continue
        _collect_objects(file, _followed(file, named), used, found, depth + 1)


def _used_names(file: "FileContext") -> frozenset[str]:
    """The names the module refers to anywhere but in declaring them and in exporting them (`export default a`,
    `export { a }`, `module.exports = a`, `module.exports = { a, b: c }`, `exports.x = a`)."""
    return file.memo("rules.cors.used-names", lambda: frozenset(_uses(file)))


def uses_of(file: "FileContext", name: str) -> tuple[Node, ...]:
    """The places the module refers to `name` (any binding of it), but in declaring and exporting it."""
    return _uses(file).get(name, ())


def _uses(file: "FileContext") -> dict[str, tuple[Node, ...]]:
    def collect() -> dict[str, tuple[Node, ...]]:
        uses: dict[str, list[Node]] = {}
        for node in walk(file.root):
            if node.type in ("identifier", "shorthand_property_identifier") and not _declares_or_exports(node):
                uses.setdefault(text(node), []).append(node)
        return {name: tuple(nodes) for name, nodes in uses.items()}

    return file.memo("rules.cors.uses", collect)


def _declares_or_exports(name: Node) -> bool:
    parent = name.parent
    if parent is None:
        return False
    if parent.type in _DECLARATIONS:
        return parent.child_by_field_name("name") == name
    if parent.type == "export_specifier":
        return True
    if parent.type == "export_statement":
        return parent.child_by_field_name("value") == name
    if parent.type == "pair" and parent.child_by_field_name("value") == name:
        parent = parent.parent
    elif parent.type != "object":  # `module.exports = a`, `exports.x = a`
        return _commonjs_export_of(parent, name)
    # `module.exports = { a, b: c }`
    return parent is not None and parent.parent is not None and _commonjs_export_of(parent.parent, parent)


def _commonjs_export_of(assignment: Node, value: Node) -> bool:
    """`value` is what `assignment` sets `module.exports`, `exports` or one of their properties to."""
    if assignment.type != "assignment_expression" or assignment.child_by_field_name("right") != value:
        return False
    left = text(assignment.child_by_field_name("left"))
    return left in ("module.exports", "exports") or left.startswith(("module.exports.", "exports."))
