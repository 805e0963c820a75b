"""The records the flow engine passes between its per-file and project halves.

A file's `FlowSummary` is computed in worker processes and kept in the results cache: plain, typed data, with
`to_data`/`from_data`, and `from_data` refuses anything it did not write. The other records are made by the
project phase, on demand, from the few files on a path to a sink.

- `Origin`: where a value starts, as seen from the file: a request input the file shows (`input`), a
  parameter of one of its functions (`param`: function key and position), or the result of a call into
  another module (`call`, with the origins of its arguments); then `path` read from it, and the steps in
  this file.
- `SinkRecord`: a sink of the rule whose value has a non-local origin.
- `CallEdge`: a call into another module passing a client value or a parameter of the calling function, as
  argument `index` (or as property `key` of an object literal passed there; a value spread into the literal
  has no key, and `overridden` names the keys written after the spread, which replace what it brings).
- `ReturnRecord`: what a function other modules can call returns (property `key` of it, or the whole value;
  `overridden` as for a call's spread argument).
"""

from __future__ import annotations

from dataclasses import field

from linter.flow.callees import Callee
from linter.frameworks.request_inputs import Input
from linter.lazy_dataclasses import dataclass
from linter.model import Fix, Span


def span_from_data(data: list) -> Span:
    start_line, start_column, end_line, end_column = (int(v) for v in data)
    return Span(start_line=start_line, start_column=start_column, end_line=end_line, end_column=end_column)


def span_data(span: Span) -> list[int]:
    return [span.start_line, span.start_column, span.end_line, span.end_column]


def string_from_data(value) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _optional_text(value) -> str | None:
    return None if value is None else string_from_data(value)


@dataclass(frozen=True)
class FlowStep:
    span: Span
    note: str

    def to_data(self) -> list:
        return [span_data(self.span), self.note]

    @classmethod
    def from_data(cls, data: list) -> "FlowStep":
        span, note = data
        return cls(span_from_data(span), string_from_data(note))


@dataclass(frozen=True)
class SchemaRef:
    """Field `field` of the schema another module exports as `name` (imported from `module`); with `guard`, the
    function it exports as `name` (then the members `path`), which a check on the way called with the value."""

    module: str
    name: str
    field: str
    path: tuple[str, ...] = ()  # properties of the export that hold the schema
    guard: bool = False

    def to_data(self) -> list:
        return [self.module, self.name, self.field, list(self.path), self.guard]

    @classmethod
    def from_data(cls, data: list) -> "SchemaRef":
        module, name, field_name, path, guard = data
        if type(guard) is not bool:
            raise TypeError("bad guard flag")
        return cls(string_from_data(module), string_from_data(name), string_from_data(field_name), tuple(string_from_data(p) for p in path), guard)


@dataclass(frozen=True)
class Origin:
    input: Input | None = None
    param: tuple[str, int] | None = None
    call: Callee | None = None
    arguments: tuple[tuple[int, "Origin"], ...] = ()
    path: tuple[str, ...] = ()
    checks: tuple[SchemaRef, ...] = ()
    steps: tuple[FlowStep, ...] = ()
    handler: str | None = None  # the request handler's key, when other modules register it (their checks apply)

    def to_data(self) -> list:
        return [
            self.handler,
            [self.input.kind, self.input.origin, self.input.param] if self.input is not None else None,
            list(self.param) if self.param is not None else None,
            self.call.to_data() if self.call is not None else None,
            [[index, origin.to_data()] for index, origin in self.arguments],
            list(self.path),
            [check.to_data() for check in self.checks],
            [step.to_data() for step in self.steps],
        ]

    @classmethod
    def from_data(cls, data: list) -> "Origin":
        handler, value, param, call, arguments, path, checks, steps = data
        origin_input = None
        if value is not None:
            kind, where, name = value
            origin_input = Input(string_from_data(kind), _optional_text(where), _optional_text(name))
        if param is not None:
            key, index = param
            if type(index) is not int:
                raise TypeError("bad parameter index")
            param = (string_from_data(key), index)
        parsed_arguments = []
        for index, argument in arguments:
            if type(index) is not int:
                raise TypeError("bad argument index")
            parsed_arguments.append((index, cls.from_data(argument)))
        return cls(
            input=origin_input,
            param=param,
            call=Callee.from_data(call) if call is not None else None,
            arguments=tuple(parsed_arguments),
            path=tuple(string_from_data(p) for p in path),
            checks=tuple(SchemaRef.from_data(c) for c in checks),
            steps=tuple(FlowStep.from_data(s) for s in steps),
            handler=_optional_text(handler),
        )


@dataclass(frozen=True)
class SinkRecord:
    anchor: Span  # where the finding goes
    label: str  # how messages name the sink: "Prisma `take` in `findMany()`"
    origin: Origin
    fixes: tuple[Fix, ...] = ()

    def to_data(self) -> list:
        return [span_data(self.anchor), self.label, self.origin.to_data(), [f.model_dump(mode="json") for f in self.fixes]]

    @classmethod
    def from_data(cls, data: list) -> "SinkRecord":
        anchor, label, origin, fixes = data
        return cls(span_from_data(anchor), string_from_data(label), Origin.from_data(origin), tuple(Fix.model_validate(f) for f in fixes))


@dataclass(frozen=True)
class CallEdge:
    caller: str | None  # the calling function's key (None: module level, or a function no other module reaches)
    callee: Callee
    index: int  # the argument's position
    key: str | None  # the property of an object literal argument, or None for the argument itself
    origin: Origin
    at: FlowStep  # the argument (or property), and what the call is: "passed to `leadService.list()`"
    overridden: frozenset[str] = frozenset()  # for a spread (`key` None): the keys the literal writes after it


@dataclass(frozen=True)
class ReturnRecord:
    function: str
    key: str | None  # the property of a returned object literal, or None for the returned value itself
    origin: Origin
    overridden: frozenset[str] = frozenset()  # for a spread (`key` None): the keys the literal writes after it


@dataclass
class FlowSummary:
    """What a file keeps for one spec: its sinks whose values come from beyond it."""

    spec: str
    sinks: list[SinkRecord] = field(default_factory=list)
    instance: str = ""  # the instance of the rule that kept the sinks (`Rule.instance`)

    def is_empty(self) -> bool:
        return not self.sinks

    def to_data(self) -> list:
        return [self.spec, [r.to_data() for r in self.sinks], self.instance]

    @classmethod
    def from_data(cls, data: list) -> "FlowSummary":
        spec, sinks, instance = data
        return cls(spec=string_from_data(spec), sinks=[SinkRecord.from_data(r) for r in sinks], instance=string_from_data(instance))
