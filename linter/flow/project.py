"""The engine's project half: joins the files' flow summaries along the import graph.

`cross_file_reaches(project, spec)` follows, to a bounded depth:

- a client value passed to another module's function (a `CallEdge`) into the parameter that reaches one of
  the rule's sinks there (a `SinkRecord` whose origin is that parameter), through as many functions as pass
  the parameter on (a service handing its argument to a repository);
- a sink fed by the result of a call into another module, through what that function returns of its
  arguments (`ReturnRecord`) back to the client values the caller passed;
- every schema of another module the value went through (`SchemaRef`): the field must let it through, as
  the spec says (`FlowSpec.field_passes`, `bag_passes`).

Each `Reach` names its source, its sink and the steps in every file between them. Calls are resolved by the
module graph (`linter.flow.modules`); the files the join looks into are parsed on demand.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING

from linter.flow.callees import Callee, callee_of, import_of, local_reference, may_name
from linter.flow.file_flow import file_flow, function_with_key, top_level_value
from linter.flow.modules import module_graph
from linter.flow.spec import FlowSpec
from linter.flow.summary import CallEdge, FlowStep, FlowSummary, Origin, SchemaRef, SinkRecord
from linter.flow.tracer import read_element
from linter.frameworks.nestjs import declares_type_only
from linter.frameworks.request_inputs import VALUE, Input, member_input, method_input
from linter.frameworks.routes import OPTIONAL_PART, UNREAD_SCHEMA, registration_schemas, route_handler_references, validated_by_route
from linter.frameworks.validation_schemas import schema_field, schema_part
from linter.js.expressions import unwrap
from linter.lazy_dataclasses import dataclass
from linter.model import Location
from linter.syntax import text

if TYPE_CHECKING:
    from linter.flow.modules import ModuleGraph
    from linter.project import ProjectIndex

MAX_HOPS = 6  # calls followed from a sink back to its source
MAX_SCHEMA_HOPS = 6  # imports and bindings followed to find a schema
MAX_PENDING = 20_000  # work items per run: a bound for pathological projects


@dataclass(frozen=True)
class Hop:
    """The steps a flow takes in one file."""

    path: str
    steps: tuple[FlowStep, ...]


def hop_locations(hops: tuple[Hop, ...]) -> list[Location]:
    """The steps of a flow through files, source first, as the locations of a finding's code flow."""
    return [Location(path=hop.path, span=step.span, message=step.note) for hop in hops for step in hop.steps]


@dataclass(frozen=True)
class Reach:
    """A client value that reaches a sink in another file (or through one)."""

    source_path: str
    source: Input  # the value as it reaches the sink: its parameter name and where it comes from
    sink_path: str
    sink: SinkRecord
    hops: tuple[Hop, ...]  # source first, sink last


@dataclass(frozen=True)
class _Pending:
    """A parameter known to reach a sink: read `path` from it (through `checks`), and `hops` lead to it."""

    path: tuple[str, ...]
    checks: tuple[tuple[str, SchemaRef], ...]  # (the file that named the schema, the field reference)
    hops: tuple[Hop, ...]
    sink_path: str
    sink: SinkRecord


def cross_file_reaches(project: "ProjectIndex", spec: FlowSpec) -> list[Reach]:
    """The flows across modules that end at a sink of a file the run reports (the others are never read)."""
    return project.memo(("flow.reaches", spec.name), lambda: _Join(project, spec).run())


class _Join:
    def __init__(self, project: "ProjectIndex", spec: FlowSpec) -> None:
        self.project = project
        self.spec = spec
        self.summaries: dict[str, FlowSummary] = project.flow_summaries(spec.name)
        self._edges: dict[tuple[str, str], dict[int, list[tuple[str, CallEdge]]]] = {}
        self.modules = module_graph(project)

    def run(self) -> list[Reach]:
        reaches: dict[tuple, Reach] = {}
        queue: deque[tuple[tuple[str, str, int], _Pending, int]] = deque()
        seen: set = set()

        def pend(target: tuple[str, str, int], pending: _Pending, depth: int) -> None:
            key = (target, pending.path, pending.sink_path, pending.sink.anchor)
            if key not in seen and depth <= MAX_HOPS and len(seen) < MAX_PENDING:
                seen.add(key)
                queue.append((target, pending, depth))

        # A run reads the whole repository, and reports a few files of it: only their summaries are read.
        for path in sorted(self.project.reported_paths):
            summary = self.summaries.get(path)
            if summary is None:
                continue
            for sink in summary.sinks:
                origin = sink.origin
                checks = tuple((path, c) for c in origin.checks)
                hop = Hop(path, origin.steps)
                if origin.param is not None:
                    pend((path, *origin.param), _Pending(origin.path, checks, (hop,), path, sink), 0)
                elif origin.call is not None:
                    for target, pending in self._through_returns(path, origin, (), checks, (hop,), path, sink, reaches):
                        pend(target, pending, 1)
                elif origin.input is not None:
                    self._arrive(path, origin.input, (), checks, (hop,), path, sink, reaches, origin.handler)
        while queue:
            target, pending, depth = queue.popleft()
            for caller_path, edge in self._edges_into(*target):
                rest = _after_key(pending.path, edge.key, edge.overridden)
                if rest is None:
                    continue
                origin = edge.origin
                checks = pending.checks + tuple((caller_path, c) for c in origin.checks)
                hops = (Hop(caller_path, origin.steps + (edge.at,)), *pending.hops)
                if origin.input is not None:
                    self._arrive(caller_path, origin.input, rest, checks, hops, pending.sink_path, pending.sink, reaches, origin.handler)
                elif origin.param is not None:
                    pend((caller_path, *origin.param), _Pending(origin.path + rest, checks, hops, pending.sink_path, pending.sink), depth + 1)
        return sorted(reaches.values(), key=lambda r: (r.sink_path, r.sink.anchor.start_line, r.source_path))

    def _edges_into(self, path: str, key: str, index: int) -> list[tuple[str, CallEdge]]:
        """The calls that pass argument `index` to the function `key` of `path`, from every file that may
        make them (its importers, through re-exporting files, and the file itself)."""
        if (path, key) not in self._edges:
            found: dict[int, list[tuple[str, CallEdge]]] = defaultdict(list)
            names = self.modules.call_names(path, key)
            for caller in self.modules.may_call(path, (key,)):
                file = self.modules.file(caller)
                if file is None:
                    continue

                def calls_it(callee: Callee, caller: str = caller) -> bool:
                    return may_name(callee, names) and self.modules.resolve(caller, callee, leading_to=path) == (path, key)

                for edge in file_flow(file, self.spec).call_edges(calls_it, names):
                    found[edge.index].append((caller, edge))
            self._edges[(path, key)] = found
        return self._edges[(path, key)].get(index, [])

    def _through_returns(self, path, origin: Origin, rest, checks, hops, sink_path, sink, reaches):
        """A sink fed by `origin.call`: what the callee returns of its arguments (or of the client)."""
        target = self.modules.resolve(path, origin.call)
        file = self.modules.file(target[0]) if target is not None else None
        if file is None:
            return
        callee_path, key = target
        wanted = origin.path + rest
        for record in file_flow(file, self.spec).returns(key):
            after = _after_key(wanted, record.key, record.overridden)
            if after is None:
                continue
            inner = record.origin
            inner_checks = checks + tuple((callee_path, c) for c in inner.checks)
            inner_hops = (Hop(callee_path, inner.steps), *hops)
            if inner.input is not None:
                self._arrive(callee_path, inner.input, after, inner_checks, inner_hops, sink_path, sink, reaches, inner.handler)
                continue
            if inner.param is None or inner.param[0] != key:
                continue
            argument = dict(origin.arguments).get(inner.param[1])
            if argument is None:
                continue
            read = inner.path + after
            argument_checks = inner_checks + tuple((path, c) for c in argument.checks)
            argument_hops = (Hop(path, argument.steps), *inner_hops)
            if argument.input is not None:
                self._arrive(path, argument.input, read, argument_checks, argument_hops, sink_path, sink, reaches, argument.handler)
            elif argument.param is not None:
                yield (path, *argument.param), _Pending(argument.path + read, argument_checks, argument_hops, sink_path, sink)

    def _arrive(self, source_path, start: Input, path, checks, hops, sink_path, sink, reaches, handler=None) -> None:
        value = _read(start, path)
        if value is None or not self.spec.arrives(value):
            return
        if not all(self._passes(where, check, value) for where, check in checks):
            return
        if handler is not None and not self._registrations_let_through(source_path, handler, value):
            return
        reach = Reach(source_path, value, sink_path, sink, tuple(hops))
        key = (source_path, value, sink_path, sink.anchor, sink.label)
        if value.param is None and hops and hops[0].steps:
            key += (hops[0].steps[0].span,)  # a bag has no name: its sources are told apart by where they are read
        reaches.setdefault(key, reach)

    def _registrations_let_through(self, path: str, handler: str, value: Input) -> bool:
        """Whether a route registration of the handler `handler` of `path` lets the value through: one with no
        check on that part of the request, or whose schema has no maximum on the field. A handler no module is
        seen registering counts as unchecked; one behind validation middleware or a schema this project does
        not show is trusted."""
        registrations = self.project.memo(("flow.registrations", path, handler), lambda: self._registrations(path, handler))
        if not registrations:
            return True
        for file, reference in registrations:
            schemas = registration_schemas(reference)
            if validated_by_route(reference) or any(origin == UNREAD_SCHEMA for origin, _, _ in schemas):
                continue
            checks = [(node, parts) for origin, node, parts in schemas if origin == value.origin]
            if not checks or any(self._lets_through(file, node, parts, value.param or "") for node, parts in checks):
                return True
        return False

    def _registrations(self, path: str, handler: str) -> list:
        return handler_registrations(self.modules, path, handler)

    def _passes(self, where: str, check: SchemaRef, value: Input) -> bool:
        """The schema another module defines lets the field through (a field it does not know: no); a function
        a check called with the value lets it through unless the spec says the function stops it."""
        if check.guard:
            return not self._guard_stops(where, check)
        field = check.field or value.param or ""
        target = self.modules.resolve(where, Callee(check.module, check.name))
        if target is None:
            return False
        file = self.modules.file(target[0])
        if file is not None and not check.path and declares_type_only(file.root, target[1]):
            return True  # a NestJS DTO that is an interface or a type alias: nothing checks it
        definition = top_level_value(file, target[1]) if file is not None else None
        return definition is not None and self._lets_through(file, definition, check.path, field)

    def _guard_stops(self, where: str, check: SchemaRef) -> bool:
        target = self.modules.resolve(where, Callee(check.module, check.name, check.path))
        file = self.modules.file(target[0]) if target is not None else None
        function = function_with_key(file, target[1]) if file is not None else None
        return function is not None and self.spec.checks_value(function, file)

    def _lets_through(self, file, node, path: tuple[str, ...], field: str, depth: int = 0) -> bool:
        """Whether the schema `path` reads from `node` (an expression of `file`) lets `field` through; through
        imports and top-level bindings of other modules, a few hops deep."""
        if depth > MAX_SCHEMA_HOPS:
            return False
        node = unwrap(node)
        imported = import_of(node, file)
        if imported is not None:
            return self._passes(file.path, SchemaRef(imported.module, imported.imported, field, path), Input(VALUE, None, field))
        if path:
            step = path[0].removeprefix(OPTIONAL_PART)
            local = top_level_value(file, text(node)) if node is not None and node.type == "identifier" else None
            part = schema_part(local if local is not None else node, step, file)
            if part is None and path[0].startswith(OPTIONAL_PART):
                return self._lets_through(file, node, path[1:], field, depth + 1)
            return part is not None and self._lets_through(file, part, path[1:], field, depth + 1)
        if node is not None and node.type == "identifier":
            local = top_level_value(file, text(node))
            if local is not None and local != node:
                return self._lets_through(file, local, (), field, depth + 1)
        if node is not None and not field:
            return self.spec.bag_passes(node, file)
        return node is not None and self.spec.field_passes(schema_field(node, field, file))


def handler_registrations(modules: "ModuleGraph", path: str, handler: str) -> list:
    """(file, reference) for every handler argument of a route registration that names `handler` (a function
    key) of `path`, in `path` and the modules that import it."""
    found = []
    for caller in sorted(modules.importers(path) | {path}):
        file = modules.file(caller)
        if file is None:
            continue
        for reference in route_handler_references(file):
            callee = callee_of(reference, file) or local_reference(reference)
            if callee is not None and modules.resolve(caller, callee, leading_to=path) == (path, handler):
                found.append((file, reference))
    return found


def _after_key(path: tuple[str, ...], key: str | None, overridden: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
    """What is left of `path` once property `key` is read (`key` None: all of it, unless its first property is
    one of the keys `overridden` that an object literal writes after spreading the value); None when the path
    reads another property."""
    if key is None:
        return None if path and path[0] in overridden else path
    if path and path[0] == key:
        return path[1:]
    return None


def _read(start: Input, path: tuple[str, ...]) -> Input | None:
    value: Input | None = start
    for element in path:
        if value is None:
            return None
        name, first, is_method = read_element(element)
        if is_method:
            value = method_input(value, name, first, 1 if first is not None else 0)
        elif value.kind == VALUE:
            return None  # a property of a client value (`limit.length`) is not the value
        else:
            value = member_input(value, name)
    return value
