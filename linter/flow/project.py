"""The engine's project half: joins the files' flow summaries along the import graph.

`cross_file_reaches(project, spec)` follows, to a bounded depth:

- a client value passed to another module's function (a `CallEdge`) into the parameter that reaches one of
  the rule's sinks there (a `SinkRecord` whose origin is that parameter), through as many functions as pass
  the parameter on (a service handing its argument to a repository);
- a sink fed by the result of a call into another module, through what that function returns of its
  arguments (`ReturnRecord`) back to the client values the caller passed;
- every schema of another module the value went through (`SchemaRef`): the field must let it through, as
  the spec says (`FlowSpec.field_state_passes`).

Each `Reach` names its source, its sink and the steps in every file between them. Calls are resolved
through the export tables (`linter.js.exports`), re-exports and barrel files included, and through the
project index's module resolution (relative paths, tsconfig aliases, workspace packages).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linter.context import FileContext
from linter.flow.callees import Callee
from linter.flow.file_flow import FileFlow
from linter.flow.spec import FlowSpec
from linter.flow.summary import CallEdge, FlowStep, FlowSummary, Origin, SchemaRef, SinkRecord
from linter.flow.tracer import read_element
from linter.frameworks.request_inputs import VALUE, Input, member_input, method_input
from linter.js.exports import MODULE_OBJECT, ExportTable
from linter.syntax import LANGUAGE_BY_SUFFIX, parse

if TYPE_CHECKING:
    from linter.project import ProjectIndex

MAX_HOPS = 6  # calls followed from a sink back to its source
MAX_RE_EXPORTS = 5
MAX_PENDING = 20_000  # work items per run: a bound for pathological projects
MAX_DEMAND_FILES = 2_000  # files parsed again to follow calls and returns


@dataclass(frozen=True)
class Hop:
    """The steps a flow takes in one file."""

    path: str
    steps: tuple[FlowStep, ...]


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
    return project.memo(("flow.reaches", spec.name), lambda: _Join(project, spec).run())


class _Join:
    def __init__(self, project: "ProjectIndex", spec: FlowSpec) -> None:
        self.project = project
        self.spec = spec
        self.summaries: dict[str, FlowSummary] = project.flow_summaries(spec.name)
        self._edges: dict[tuple[str, str], dict[int, list[tuple[str, CallEdge]]]] = {}
        self.demand = _Demand(project, spec)

    def run(self) -> list[Reach]:
        reaches: dict[tuple, Reach] = {}
        queue: deque[tuple[tuple[str, str, int], _Pending, int]] = deque()
        seen: set = set()

        def pend(target: tuple[str, str, int], pending: _Pending, depth: int) -> None:
            key = (target, pending.path, pending.sink_path, pending.sink.anchor)
            if key not in seen and depth <= MAX_HOPS and len(seen) < MAX_PENDING:
                seen.add(key)
                queue.append((target, pending, depth))

        for path, summary in sorted(self.summaries.items()):
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
                    self._arrive(path, origin.input, (), checks, (hop,), path, sink, reaches)
        while queue:
            target, pending, depth = queue.popleft()
            for caller_path, edge in self._edges_into(*target):
                rest = _after_key(pending.path, edge.key)
                if rest is None:
                    continue
                origin = edge.origin
                checks = pending.checks + tuple((caller_path, c) for c in origin.checks)
                hops = (Hop(caller_path, origin.steps + (edge.at,)), *pending.hops)
                if origin.input is not None:
                    self._arrive(caller_path, origin.input, rest, checks, hops, pending.sink_path, pending.sink, reaches)
                elif origin.param is not None:
                    pend((caller_path, *origin.param), _Pending(origin.path + rest, checks, hops, pending.sink_path, pending.sink), depth + 1)
        return sorted(reaches.values(), key=lambda r: (r.sink_path, r.sink.anchor.start_line, r.source_path))

    def _edges_into(self, path: str, key: str, index: int) -> list[tuple[str, CallEdge]]:
        """The calls that pass argument `index` to the function `key` of `path`, from every file that may
        make them (its importers, through re-exporting files, and the file itself)."""
        if (path, key) not in self._edges:
            found: dict[int, list[tuple[str, CallEdge]]] = defaultdict(list)
            for caller in sorted(self._importers(path) | {path}):
                flows = self.demand.file_flow(caller)
                if flows is None:
                    continue
                def calls_it(callee: Callee, caller: str = caller) -> bool:
                    return self._may_reach(caller, callee, path) and self.resolve_callee(caller, callee) == (path, key)

                for edge in flows.call_edges(calls_it):
                    found[edge.index].append((caller, edge))
            self._edges[(path, key)] = found
        return self._edges[(path, key)].get(index, [])

    def _may_reach(self, from_path: str, callee: Callee, target: str) -> bool:
        """A cheap test before resolving `callee` through export tables: its module is `target`, or imports
        it (a barrel may re-export it)."""
        if not callee.module:
            return from_path == target
        module = self.project.resolve(from_path, callee.module)
        if module is None:
            return False
        frontier, seen = [module], {module}
        for _ in range(MAX_RE_EXPORTS + 1):
            if target in frontier:
                return True
            following = []
            for path in frontier:
                for _, imported in self.project.imports.get(path, ()):
                    if imported is not None and imported not in seen:
                        seen.add(imported)
                        following.append(imported)
            frontier = following
        return False

    def _importers(self, path: str) -> set[str]:
        """The files that import `path`, directly or through files that re-export it (barrels)."""
        found: set[str] = set()
        frontier = [path]
        for _ in range(MAX_RE_EXPORTS):
            following = []
            for target in frontier:
                for importer in self.project.importers_of(target):
                    if importer in found:
                        continue
                    found.add(importer)
                    table = self.demand.exports(importer)
                    if table is not None and table.re_exports:
                        following.append(importer)
            if not following:
                break
            frontier = following
        return found

    def _through_returns(self, path, origin: Origin, rest, checks, hops, sink_path, sink, reaches):
        """A sink fed by `origin.call`: what the callee returns of its arguments (or of the client)."""
        target = self.resolve_callee(path, origin.call)
        if target is None:
            return
        callee_path, key = target
        wanted = origin.path + rest
        flows = self.demand.file_flow(callee_path)
        for record in flows.returns(key) if flows is not None else ():
            after = _after_key(wanted, record.key)
            if after is None:
                continue
            inner = record.origin
            inner_checks = checks + tuple((callee_path, c) for c in inner.checks)
            inner_hops = (Hop(callee_path, inner.steps), *hops)
            if inner.input is not None:
                self._arrive(callee_path, inner.input, after, inner_checks, inner_hops, sink_path, sink, reaches)
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
                self._arrive(path, argument.input, read, argument_checks, argument_hops, sink_path, sink, reaches)
            elif argument.param is not None:
                yield (path, *argument.param), _Pending(argument.path + read, argument_checks, argument_hops, sink_path, sink)

    def _arrive(self, source_path, start: Input, path, checks, hops, sink_path, sink, reaches) -> None:
        value = _read(start, path)
        if value is None or value.kind != VALUE:
            return
        if not all(self._passes(where, check, value) for where, check in checks):
            return
        reach = Reach(source_path, value, sink_path, sink, tuple(hops))
        reaches.setdefault((source_path, value, sink_path, sink.anchor, sink.label), reach)

    def _passes(self, where: str, check: SchemaRef, value: Input) -> bool:
        """The schema another module defines lets the field through (a field it does not know: no)."""
        field = check.field or value.param or ""
        target = self.resolve_export(where, Callee(check.module, check.name))
        flows = self.demand.file_flow(target[0]) if target is not None else None
        record = flows.schema(target[1]) if flows is not None else None
        found = record.state(field) if record is not None else None
        return found is not None and self.spec.field_state_passes(found[0])

    # resolution through export tables ----------------------------------------------------------------

    def resolve_callee(self, from_path: str, callee: Callee) -> tuple[str, str] | None:
        """(file, function key) of what `callee`, written in `from_path`, calls."""
        return self.resolve_export(from_path, callee)

    def resolve_export(self, from_path: str, callee: Callee) -> tuple[str, str] | None:
        if not callee.module:  # a function of the same module
            return from_path, _joined(callee.name, callee.members)
        target = self.project.resolve(from_path, callee.module)
        if target is None:
            return None
        return self._in_module(target, callee.name, callee.members, 0)

    def _in_module(self, path: str, name: str, members: tuple[str, ...], depth: int) -> tuple[str, str] | None:
        table = self.demand.exports(path)
        if table is None or depth > MAX_RE_EXPORTS:
            return None
        if name == MODULE_OBJECT or (name == "default" and "default" not in table.names):
            if table.module_object is not None:
                return path, _joined(table.local_of(table.module_object), members)
            if not members:
                return None
            return self._in_module(path, members[0], members[1:], depth)
        local = table.names.get(name)
        if local is not None:
            return path, _joined(table.local_of(local), members)
        for re_export in table.re_exports:
            if re_export.name not in (name, MODULE_OBJECT):
                continue
            target = self.project.resolve(path, re_export.module)
            if target is None:
                continue
            if re_export.name == name:
                found = self._in_module(target, re_export.imported, members, depth + 1)
            else:
                found = self._in_module(target, name, members, depth + 1)
            if found is not None:
                return found
        return None


class _Demand:
    """The files the join looks into: parsed when first asked for, at most `MAX_DEMAND_FILES` of them."""

    def __init__(self, project: "ProjectIndex", spec: FlowSpec) -> None:
        self.project = project
        self.spec = spec
        self._flows: dict[str, FileFlow | None] = {}

    def file_flow(self, path: str) -> "FileFlow | None":
        if path not in self._flows:
            self._flows[path] = self._open(path) if len(self._flows) < MAX_DEMAND_FILES else None
        return self._flows[path]

    def exports(self, path: str) -> ExportTable | None:
        flows = self.file_flow(path)
        return flows.exports() if flows is not None else None

    def _open(self, path: str) -> "FileFlow | None":
        language = LANGUAGE_BY_SUFFIX.get(posixpath.splitext(path)[1])
        source = self.project.read_js_source(path) if language is not None else None
        if source is None:
            return None
        file = FileContext(path, source, language, parse(source, language), self.project.packages_around(path))
        return FileFlow(file, self.spec)


def _joined(local: str, members: tuple[str, ...]) -> str:
    return ".".join((local, *members))


def _after_key(path: tuple[str, ...], key: str | None) -> tuple[str, ...] | None:
    """What is left of `path` once property `key` is read (`key` None: all of it); None when the path reads
    another property."""
    if key is None:
        return path
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
