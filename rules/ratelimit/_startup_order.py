"""In what order a program's startup code runs, across modules: the module top-level order and the import graph.

`ModuleOutliner(file, mark).outline()` lists what a module's top level does, in order: the modules it imports
(evaluated right there), the calls of its own or imported functions (their bodies run right there), the
callbacks it hands to other code (`app.listen(port, cb)`, `.then(cb)`: run later) and the markers a rule asked
for (`mark(node)` names the call or `new` nodes it cares about, such as a limiter construction or a
`client.connect()`). The same for the body of every named function, method and constructor. Function keys
follow the export table (`linter.js.exports`), so that a call of another module's export, resolved by the
module graph (`linter.flow.modules`), names the function that runs.

`Startup(project, marks, outlines_module)` works in the project phase, on demand: it outlines a module (parsed
again through the module graph) only when a replay or a question reaches it, marking the nodes whose byte
ranges the rule's per-file facts name. `run(entry)` replays the startup from an entry module, depth first:
imports evaluate a module once, calls inline the callee's body, callbacks run after the synchronous startup, in
the order they were handed over (only for APIs known to call back later: `.then`, `listen`, `on`, timers; any
other callback is taken to run in place); modules from which no marked module can be reached through imports
are skipped, as they can neither hold a marker nor run one. The result is the order in which the markers are
reached, each with the calls that led there. `async` functions are inlined at their call, as if every `await`
resolved at once, so something awaited later in an un-awaited `start()` may appear earlier than it runs: that
errs towards "already done", never towards "not yet".
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable

from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.js.exports import DEFAULT_KEY, EXPORTS_KEY, MODULE_OBJECT
from linter.js.expressions import callee as callee_of, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, function_body, is_static
from linter.js.imports import package_name, require_specifier, string_value
from linter.js.invocation import iife_call
from linter.lazy_dataclasses import dataclass
from linter.paths import is_test_path
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.model import Span
    from linter.project import ProjectIndex

# Calls that run the callback they are given later, after the synchronous startup code. A callback handed to any
# other call is taken to run in place (`forEach`, `new Promise`, a route registration): if that is wrong, it only
# makes something look done earlier than it is.
DEFERRING_CALLS = frozenset(
    {"then", "catch", "finally", "listen", "on", "once", "addListener", "prependListener", "setTimeout",
     "setImmediate", "setInterval", "nextTick", "queueMicrotask"}
)  # fmt: skip
MAX_FUNCTION_NESTING = 64
MAX_STEPS = 50_000
MAX_IMPORT_DEPTH = 400
MAX_ENTRIES = 200
_CLASS_TYPES = frozenset({"class_declaration", "class", "abstract_class_declaration"})
_EMITTING = frozenset({"call_expression", "new_expression", "export_statement"})
# Nodes with no call, `new` or function below them (or only type-level ones).
_NO_EVENTS_INSIDE = frozenset(
    {"comment", "identifier", "property_identifier", "shorthand_property_identifier", "private_property_identifier",
     "string", "number", "regex", "true", "false", "null", "undefined", "this", "super", "statement_identifier",
     "type_identifier", "type_annotation", "type_arguments", "type_parameters", "interface_declaration",
     "type_alias_declaration", "predefined_type", "ambient_declaration", "empty_statement"}
)  # fmt: skip

Outline = dict  # {"top": [event], "functions": {key: [event]}}


@dataclass(frozen=True)
class CallSite:
    """A call on the way to a marker: where it is, what it calls and from which function."""

    path: str
    span: "Span"
    label: str  # `initializeRedis()`
    caller: str | None  # the named function holding the call, or a callback description; None at module level
    callback: bool = False  # the step is a callback handed to this call (`app.listen(port, cb)`), run later


@dataclass(frozen=True)
class Occurrence:
    """A marker reached during startup, with the calls that led to it (outermost first)."""

    path: str
    marker: str
    stack: tuple[CallSite, ...]


class ModuleOutliner:
    """Builds a module's outline in one pass over its tree; `mark` sees every call and `new` of the module (in
    evaluation order within each body). Afterwards `functions` holds the named function nodes by key."""

    def __init__(self, file: "FileContext", mark: Callable[[Node], str | None]) -> None:
        self.file = file
        self.mark = mark
        self.functions: dict[str, Node] = {}
        self._pending: deque[tuple[str, Node, int]] = deque()

    def outline(self) -> Outline:
        top = self._events(list(self.file.root.named_children), None, 0)
        bodies: dict[str, list[dict]] = {}
        while self._pending:
            key, fn, depth = self._pending.popleft()
            events = self._function_events(fn, None if key.startswith("@") else key, depth)
            if not key.startswith("@"):
                bodies[key] = events
        known = set(bodies)
        for events in [top, *bodies.values()]:
            _drop_unknown_local_calls(events, known)
        return {"top": top, "functions": bodies}

    # Walking bodies ---------------------------------------------------------------------------------------------

    def _function_events(self, fn: Node, caller: str | None, depth: int) -> list[dict]:
        body = function_body(fn)
        if body is None or depth > MAX_FUNCTION_NESTING:
            return []
        nodes = list(body.named_children) if body.type == "statement_block" else [body]
        return self._events(nodes, caller, depth)

    def _events(self, nodes: list[Node], caller: str | None, depth: int) -> list[dict]:
        """Events of `nodes` in evaluation order: children before the call that uses them."""
        events: list[dict] = []
        stack: list = list(reversed(nodes))
        while stack:
            item = stack.pop()
            if type(item) is tuple:  # the children of a call, `new` or export are done: the node itself now
                self._emit(item[0], events, caller)
                continue
            kind = item.type
            if kind in _NO_EVENTS_INSIDE:
                continue
            if kind in FUNCTION_TYPES or kind == "method_definition":
                self._function_value(item, events, caller, depth)
                continue
            if kind in _CLASS_TYPES:
                self._class(item, events, caller, depth)
                continue
            if kind == "import_statement":
                self._emit(item, events, caller)
                continue
            if kind in _EMITTING:
                stack.append((item,))
            stack.extend(reversed(item.named_children))
        return events

    def _function_value(self, fn: Node, events: list[dict], caller: str | None, depth: int) -> None:
        """A function met while walking code: later when handed to an API that calls back asynchronously
        (`.then(cb)`, `server.listen(port, cb)`, `emitter.on(event, cb)`, timers), in place when handed to any
        other call or invoked right away, or when called by its name (a declaration, a variable, a method)."""
        if iife_call(fn) is not None:
            events.extend(self._function_events(fn, caller, depth + 1))
            return
        parent = fn.parent
        if parent is not None and parent.type == "arguments" and parent.parent is not None:
            call = parent.parent
            target = callee_of(call)
            name = property_name(target) if target is not None and target.type != "identifier" else text(target)
            if call.type == "call_expression" and name in DEFERRING_CALLS:
                inner = self._function_events(fn, f"the `{name}` callback", depth + 1)
                if inner:
                    span = self.file.lines.span(call.start_byte, call.end_byte)
                    events.append({"k": "defer", "events": inner, "span": span, "label": _label(call), "caller": caller})
            else:
                events.extend(self._function_events(fn, caller, depth + 1))
            return
        key = _function_key(fn)
        if key is None or key in self.functions:
            key = f"@{fn.start_byte}"  # not callable by a name we follow; still walked, for `mark`
        else:
            self.functions[key] = fn
        self._pending.append((key, fn, depth + 1))

    def _class(self, node: Node, events: list[dict], caller: str | None, depth: int) -> None:
        """Methods become functions `Class.method`; static field values run where the class is defined."""
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        owner = text(name_node) if name_node is not None else None
        if body is None:
            return
        for member in body.named_children:
            if member.type == "method_definition":
                self._function_value(member, events, caller, depth)
            elif member.type in ("field_definition", "public_field_definition"):
                value = member.child_by_field_name("value")
                if value is None:
                    continue
                inner = unwrap(value)
                if inner is not None and inner.type in FUNCTION_TYPES:
                    self._function_value(inner, events, caller, depth)
                elif is_static(member):
                    events.extend(self._events([value], caller, depth))
                else:  # per instance: not followed, but walked for `mark`
                    self._events([value], owner, depth)

    def _emit(self, node: Node, events: list[dict], caller: str | None) -> None:
        kind = node.type
        if kind in ("import_statement", "export_statement"):
            source = node.child_by_field_name("source")
            clause = next((c for c in node.named_children if c.type == "import_require_clause"), None)
            if clause is not None:  # TypeScript `import x = require('./y')`
                source = clause.child_by_field_name("source")
            specifier = string_value(source)
            if specifier is not None:
                events.append({"k": "import", "spec": specifier})
            return
        if kind not in ("call_expression", "new_expression"):
            return
        specifier = require_specifier(node) or _dynamic_import(node)
        if specifier is not None:
            events.append({"k": "import", "spec": specifier})
            return
        marker = self.mark(node)
        if marker is not None:
            events.append({"k": "mark", "id": marker})
        target = call_target(node, self.file)
        if target is not None:
            span = self.file.lines.span(node.start_byte, node.end_byte)
            events.append({"k": "call", "target": target, "span": span, "label": _label(node), "caller": caller})

def _function_key(fn: Node) -> str | None:
    """The key a function is called by: `start`, `Class.method`, `redis.connect` (a method of a module-level
    object); for what a module exports, the local keys of its export table (`linter.js.exports`):
    `<exports>.init` (a function exported by assignment), `<default>` (an anonymous default export). None when
    it has no usable name."""
    name = fn.child_by_field_name("name")
    if fn.type in ("function_declaration", "generator_function_declaration"):
        return text(name) if name is not None else None
    if fn.type == "method_definition":
        owner = _owner_name(fn.parent)
        return f"{owner}.{text(name)}" if owner is not None and name is not None else None
    parent = outermost(fn).parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return text(target) if target is not None and target.type == "identifier" else None
    if parent.type == "assignment_expression":
        left = text(parent.child_by_field_name("left"))
        if left in ("module.exports", "exports"):
            return text(name) if name is not None else EXPORTS_KEY
        if left.startswith(("module.exports.", "exports.")):
            return f"{EXPORTS_KEY}.{left.rsplit('.', 1)[1]}"
        return left if left.isidentifier() else None
    if parent.type == "pair":
        owner = _owner_name(parent.parent)
        key = parent.child_by_field_name("key")
        return f"{owner}.{string_value(key) or text(key)}" if owner is not None and key is not None else None
    if parent.type in ("field_definition", "public_field_definition"):
        owner = _owner_name(parent.parent)
        field = parent.child_by_field_name("property") or parent.child_by_field_name("name")
        return f"{owner}.{text(field)}" if owner is not None and field is not None else None
    if parent.type == "export_statement":
        return text(name) if name is not None else DEFAULT_KEY
    return None


def _owner_name(container: Node | None) -> str | None:
    """The name methods of a class body or object literal are called through: `App`, `redis`, `<exports>`."""
    if container is None:
        return None
    if container.type == "class_body":
        cls = container.parent
        name = cls.child_by_field_name("name") if cls is not None else None
        return text(name) if name is not None else None
    if container.type != "object":
        return None
    parent = outermost(container).parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return text(target) if target is not None and target.type == "identifier" else None
    if parent.type == "assignment_expression" and text(parent.child_by_field_name("left")) in ("module.exports", "exports"):
        return EXPORTS_KEY
    if parent.type == "export_statement":
        return DEFAULT_KEY
    return None


def _drop_unknown_local_calls(events: list[dict], known: set[str]) -> None:
    """Calls of local names that are not functions of the module (`parseInt()`, `res.json()`) lead nowhere."""
    events[:] = [e for e in events if e["k"] != "call" or "local" not in e["target"] or e["target"]["local"] in known]
    for event in events:
        if event["k"] == "defer":
            _drop_unknown_local_calls(event["events"], known)


def call_target(call: Node, file: "FileContext") -> dict | None:
    """What a call or `new` runs, as plain data: `{"local": key}` for a function of this file,
    `{"import": [specifier, name, members]}` (a `Callee` of `linter.flow.callees`, resolved through the module
    graph) for one of another module (npm packages and Node built-ins left out: they are not in the project)."""
    target = callee_of(call)
    if target is None:
        return None
    constructing = call.type == "new_expression"
    if target.type == "identifier":
        name = text(target)
        binding = file.binding(name)
        if binding is not None:
            if not _may_be_project_module(binding.module, file):
                return None
            # The module object called or constructed is its default export (CommonJS: `module.exports`).
            exported = "default" if binding.imported == MODULE_OBJECT else binding.imported
            members = ["constructor"] if constructing else []
            return {"import": [binding.module, exported, members]}
        return {"local": f"{name}.constructor" if constructing else name}
    if target.type != "member_expression" or constructing:
        return None
    method = property_name(target)
    owner = member_object(target)
    if method is None or owner is None:
        return None
    if owner.type == "this":
        cls = _enclosing_class_name(call)
        return {"local": f"{cls}.{method}"} if cls is not None else None
    if owner.type != "identifier":
        return None
    binding = file.binding(text(owner))
    if binding is not None:
        if not _may_be_project_module(binding.module, file):
            return None
        return {"import": [binding.module, binding.imported, [method]]}
    owner_key = EXPORTS_KEY if text(owner) == "exports" else text(owner)
    return {"local": f"{owner_key}.{method}"}


def _may_be_project_module(specifier: str, file: "FileContext") -> bool:
    """False for npm packages the file's package depends on and Node built-ins: they are not in the index."""
    if specifier.startswith("."):
        return True
    if specifier.startswith("node:"):
        return False
    package = package_name(specifier)
    if package in _NODE_BUILTINS:
        return False
    return not any(package in p.dependencies for p in file.packages)


_NODE_BUILTINS = frozenset(
    {"assert", "buffer", "child_process", "cluster", "crypto", "dns", "events", "fs", "http", "http2", "https",
     "net", "os", "path", "process", "querystring", "readline", "stream", "timers", "tls", "url", "util", "zlib",
     "worker_threads", "v8", "vm", "perf_hooks", "async_hooks", "string_decoder", "module"}
)  # fmt: skip


def _enclosing_class_name(node: Node) -> str | None:
    current = node.parent
    while current is not None:
        if current.type in _CLASS_TYPES:
            name = current.child_by_field_name("name")
            return text(name) if name is not None else None
        current = current.parent
    return None


def _dynamic_import(node: Node) -> str | None:
    function = node.child_by_field_name("function")
    if function is None or function.type != "import":
        return None
    arguments = node.child_by_field_name("arguments")
    first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    return string_value(first)


def _label(call: Node) -> str:
    target = callee_of(call)
    name = text(target) if target is not None else "…"
    if len(name) > 40:
        name = name[:37] + "…"
    return f"new {name}()" if call.type == "new_expression" else f"{name}()"


# Project side ---------------------------------------------------------------------------------------------------


class Startup:
    """The startup of the program, replayed from its entry modules over outlines made on demand.

    `marks` holds, per module, the byte ranges of the nodes a rule marks (`(start, end)` → marker id, from its
    per-file facts); `outlines_module(path)` says whether a module is one the rule looks into (its package, not
    a test). A module is outlined (parsed again, through the module graph) only when the replay or a question
    reaches it, and the replay enters only the modules from which some marked module can be reached through
    imports: the others can neither hold a marker nor run one."""

    def __init__(
        self,
        project: "ProjectIndex",
        marks: dict[str, dict[tuple[int, int], str]],
        outlines_module: Callable[[str], bool],
    ) -> None:
        self.project = project
        self.graph = module_graph(project)
        self.marks = marks
        self.outlines_module = outlines_module
        self._outlines: dict[str, Outline | None] = {}
        self._functions: dict[str, dict[str, Node]] = {}
        self._leading: set[str] | None = None
        self._runs: dict[str, list[Occurrence]] = {}

    def outline(self, path: str) -> Outline | None:
        if path not in self._outlines:
            self._outlines[path] = self._outline(path)
        return self._outlines[path]

    def _outline(self, path: str) -> Outline | None:
        if is_test_path(path) or not self.outlines_module(path):
            return None
        file = self.graph.file(path)
        if file is None:
            return None
        marks = self.marks.get(path, {})
        outliner = ModuleOutliner(file, lambda node: marks.get((node.start_byte, node.end_byte)))
        outline = outliner.outline()
        self._functions[path] = outliner.functions
        return outline

    def function(self, path: str, key: str) -> Node | None:
        """The function `key` of module `path` (a key of its outline), parsed."""
        return self._functions.get(path, {}).get(key) if self.outline(path) is not None else None

    def resolve_call(self, path: str, target: dict) -> tuple[str, str] | None:
        """(module, function key) a call event runs, or None when it is not a function of the project."""
        if "local" in target:
            outline = self.outline(path)
            return (path, target["local"]) if outline is not None and target["local"] in outline["functions"] else None
        found = self.graph.resolve(path, Callee.from_data(target["import"]))
        if found is None:
            return None
        outline = self.outline(found[0])
        return found if outline is not None and found[1] in outline["functions"] else None

    def leads_to_marks(self, path: str) -> bool:
        """Whether some marked module can be reached from `path` through imports (it is one, or imports one)."""
        if self._leading is None:
            self._leading = set()
            queue = deque(sorted(path for path, marks in self.marks.items() if marks))
            while queue:
                module = queue.popleft()
                if module not in self._leading:
                    self._leading.add(module)
                    queue.extend(self.project.importers_of(module))
        return path in self._leading

    def run(self, entry: str) -> list[Occurrence]:
        """The markers reached when the program starts at module `entry`, in the order they run."""
        if entry not in self._runs:
            self._runs[entry] = _Simulation(self).run(entry)
        return self._runs[entry]

    def entries(self, targets: set[str]) -> list[str]:
        """The modules startup can begin at (imported by no module of the project, not tests) from which one of
        `targets` is reachable through imports; a target nobody imports is its own entry."""
        entries: set[str] = set()
        seen: set[str] = set()
        queue = deque(sorted(targets))
        while queue:
            module = queue.popleft()
            if module in seen:
                continue
            seen.add(module)
            sources = {s for s in self.project.importers_of(module) if s != module and not is_test_path(s)}
            if not sources and self.outline(module) is not None:
                entries.add(module)
            queue.extend(sorted(sources - seen))
        return sorted(entries)[:MAX_ENTRIES]


class _Simulation:
    """One replay from an entry: imports evaluate a module once, calls inline the callee's body, callbacks run
    after the synchronous startup."""

    def __init__(self, startup: Startup) -> None:
        self.startup = startup
        self.project = startup.project
        self.order: list[Occurrence] = []
        self.evaluated: set[str] = set()
        self.deferred: deque = deque()
        self.steps = 0

    def run(self, entry: str) -> list[Occurrence]:
        self.evaluated.add(entry)
        outline = self.startup.outline(entry) if self.startup.leads_to_marks(entry) else None
        if outline is not None:
            self._run(outline["top"], entry, (), frozenset(), 0)
        while self.deferred and self.steps < MAX_STEPS:
            events, path, stack, active = self.deferred.popleft()
            self._run(events, path, stack, active, 0)
        return self.order

    def _run(self, events: list[dict], path: str, stack: tuple, active: frozenset, depth: int) -> None:
        if depth > MAX_IMPORT_DEPTH:
            return
        startup = self.startup
        for event in events:
            self.steps += 1
            if self.steps > MAX_STEPS:
                return
            kind = event["k"]
            if kind == "import":
                target = self.project.resolve(path, event["spec"])
                if target is not None and target not in self.evaluated and startup.leads_to_marks(target):
                    self.evaluated.add(target)
                    outline = startup.outline(target)
                    if outline is not None:
                        self._run(outline["top"], target, stack, active, depth + 1)
            elif kind == "mark":
                self.order.append(Occurrence(path, event["id"], stack))
            elif kind == "defer":
                site = CallSite(path, event["span"], event["label"], event["caller"], callback=True)
                self.deferred.append((event["events"], path, stack + (site,), active))
            elif kind == "call":
                resolved = self._callee(path, event["target"])
                if resolved is None or resolved in active:
                    continue
                where, key = resolved
                site = CallSite(path, event["span"], event["label"], event["caller"])
                body = startup.outline(where)["functions"][key]
                self._run(body, where, stack + (site,), active | {resolved}, depth + 1)

    def _callee(self, path: str, target: dict) -> tuple[str, str] | None:
        """The function a call runs, when it can lead to a marker: one of this module, or of an imported module
        from which a marked module is reachable."""
        if "import" in target:
            imported = self.project.resolve(path, target["import"][0])
            if imported is None or not self.startup.leads_to_marks(imported):
                return None
        resolved = self.startup.resolve_call(path, target)
        if resolved is not None and not self.startup.leads_to_marks(resolved[0]):
            return None
        return resolved
