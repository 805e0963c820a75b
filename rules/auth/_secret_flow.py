"""Hard-coded secrets on the flow engine: the spec whose flows start at a value written in the code, the records
a file keeps for the project phase, and the project phase's walk from an imported name to the value its module
writes.

`HARD_CODED_SECRETS` follows a secret's value backward from where it is used (a library's secret, or the
fallback of a secret setting) with the engine's tracer (`linter.flow.tracer`): through constants, destructuring
and parameter defaults, object literals (`config.jwt.secret`), class members (`this.secret`), helpers of the same
file, `Buffer.from(…)`, `new TextEncoder().encode(…)` and `createSecretKey(…)`. A flow starts at a hard-coded
value (`HARD_CODED`: a literal, the bytes of one, an array of them) or at an empty string (`EMPTY`), or stops at
a name imported from another module, which the project phase resolves with the module graph
(`linter.flow.modules`) and traces on in the module that defines it (`follow_import`). A branch that only runs
outside production (`NODE_ENV !== 'production' ? 'dev' : …`) is not followed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.callees import Callee
from linter.flow.file_flow import file_flow
from linter.flow.modules import module_graph
from linter.flow.project import Hop
from linter.flow.spec import FlowSpec
from linter.flow.summary import FlowStep, span_data, span_from_data, string_from_data
from linter.flow.tracer import Flow, Step, read_element
from linter.frameworks.request_inputs import VALUE, Input
from linter.js.exports import local_value
from linter.js.expressions import callee, key_text, outermost, unwrap
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.model import Fix, Span
from linter.syntax import Node, text, walk

from ._env import setting_name
from ._secrets import is_empty_string, is_encoding, is_hard_coded, literal_text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

HARD_CODED = "a value written in the code"
EMPTY = "an empty string written in the code"
MAX_MODULES = 6  # modules followed from an imported name to the value it holds
# A condition that tells development from production: the branch it guards is a development default.
_ENVIRONMENT_SWITCH = lazy_re.compile(r"NODE_ENV|\b(is_?)?(dev|prod|production|development|test|local)(_?mode)?\b", re.IGNORECASE)
_KEY_MAKERS = frozenset({("crypto", ("createSecretKey",))})


class HardCodedSecretSpec(FlowSpec):
    name = "hard-coded-secret"
    keeps_note = "keeps the value"
    follows_imports = True

    def value(self, node: Node, tracer, frame, depth: int):
        kind = node.type
        if kind in ("string", "template_string"):
            if is_empty_string(node):
                return _start(node, EMPTY, "an empty string")
            if literal_text(node) is not None:
                return _start(node, HARD_CODED, "the hard-coded value")
            return None if kind == "string" else NotImplemented
        if kind == "array":
            if is_hard_coded(node):
                return _start(node, HARD_CODED, "the hard-coded value")
            for element in node.named_children:
                flow = tracer.trace_in(element, frame, depth)
                if is_source(flow):
                    return flow
            return None
        if kind == "call_expression" and is_encoding(node) and is_hard_coded(node):
            return _start(node, HARD_CODED, "the hard-coded value")
        if kind == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
            return _joined(node, tracer, frame, depth)
        return NotImplemented

    def call(self, call: Node, name: str, arguments: list[Node], tracer, frame, depth: int):
        """`Buffer.from(x)`, `new TextEncoder().encode(x)` and `createSecretKey(x)` are the key `x` as bytes."""
        if not arguments:
            return NotImplemented
        if is_encoding(call) or _makes_a_key(call, tracer.file):
            flow = tracer.trace_in(arguments[0], frame, depth)
            return flow.then(call, "made into a key") if flow is not None and flow.is_value else flow
        return NotImplemented

    def branch_bounded(self, condition: Node | None, branch: Node, when_true: bool) -> bool:
        return condition is not None and _ENVIRONMENT_SWITCH.search(text(condition)) is not None


HARD_CODED_SECRETS = HardCodedSecretSpec()


def _start(node: Node, origin: str, note: str) -> Flow:
    return Flow(input=Input(VALUE, origin), steps=(Step(node, note),))


def _joined(node: Node, tracer, frame, depth: int):
    """`'AWS4' + secretKey`: a written prefix joined to another value is only as known as that value, so the
    other side is followed (a parameter, a setting, or a value written elsewhere); two written halves are one
    hard-coded value."""
    flows = [tracer.trace_in(node.child_by_field_name(side), frame, depth) for side in ("left", "right")]
    written = [is_source(flow) for flow in flows]
    if all(written):
        empty = all(flow.input.origin == EMPTY for flow in flows)
        return _start(node, EMPTY if empty else HARD_CODED, "the hard-coded value")
    if any(written):
        return flows[1] if written[0] else flows[0]
    return NotImplemented


def _makes_a_key(call: Node, file: "FileContext") -> bool:
    imported = resolve_imported(callee(call), file)
    return imported is not None and (imported.module, imported.path) in _KEY_MAKERS


def is_source(flow: Flow | None) -> bool:
    """The flow starts at a value written in the code (its first step is that value)."""
    return flow is not None and flow.symbol is None and flow.input is not None and flow.input.origin in (HARD_CODED, EMPTY)


def is_imported(flow: Flow | None) -> bool:
    """The flow stops at a name imported from another module."""
    return flow is not None and flow.symbol is not None and flow.symbol.kind == "import" and flow.symbol.callee is not None


def refused_when_empty(use: Node) -> bool:
    """Whether the code stops before `use` when the value there is empty: a statement before it, in a block
    around it, such as `if (!secret) throw …` or `if (secret === '') return …`."""
    name = text(outermost(use))
    current = outermost(use)
    while current.parent is not None:
        parent = current.parent
        if parent.type in ("statement_block", "program"):
            for statement in parent.named_children:
                if statement.start_byte >= current.start_byte:
                    break
                if statement.type == "if_statement" and _tests_empty(statement.child_by_field_name("condition"), name):
                    if _exits(statement.child_by_field_name("consequence")):
                        return True
        current = parent
    return False


def _tests_empty(condition: Node | None, name: str) -> bool:
    for node in walk(condition) if condition is not None else ():
        if node.type == "unary_expression" and text(node.child_by_field_name("operator")) == "!":
            if text(unwrap(node.child_by_field_name("argument"))) in (name, f"{name}.length"):
                return True
        if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in ("===", "==", "<", "<="):
            sides = {text(unwrap(node.child_by_field_name("left"))), text(unwrap(node.child_by_field_name("right")))}
            if name in sides and sides & {"''", '""', "``"} or f"{name}.length" in sides and sides & {"0", "1"}:
                return True
    return False


def _exits(consequence: Node | None) -> bool:
    """The branch leaves: it throws, returns, or ends the process."""
    for node in walk(consequence) if consequence is not None else ():
        if node.type in ("throw_statement", "return_statement"):
            return True
        if node.type == "call_expression" and text(callee(node)) == "process.exit":
            return True
    return False


def holder_name(value: Node) -> str | None:
    """The name a hard-coded value is kept under, for messages: the constant, property, field or parameter
    it is the value (or the fallback) of."""
    node = outermost(value)
    while node.parent is not None and node.parent.type in ("binary_expression", "ternary_expression", "array"):
        node = outermost(node.parent)
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
        name = parent.child_by_field_name("name")
        return text(name) if name is not None and name.type == "identifier" else None
    if parent.type == "pair":
        return key_text(parent.child_by_field_name("key")) or None
    if parent.type in ("public_field_definition", "field_definition"):
        name = parent.child_by_field_name("name") or parent.child_by_field_name("property")
        return text(name) if name is not None else None
    if parent.type in ("assignment_pattern", "object_assignment_pattern", "required_parameter", "optional_parameter"):
        name = parent.child_by_field_name("left") or parent.child_by_field_name("pattern")
        return text(name) if name is not None and name.type in ("identifier", "shorthand_property_identifier_pattern") else None
    if parent.type == "assignment_expression":
        return text(parent.child_by_field_name("left")) or None
    return None


# --- what a file keeps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretUse:
    """How a value is used as a secret: as the fallback of `setting`, or as the secret of `sink` (a library
    parameter; `empty_key` when it accepts an empty one)."""

    setting: str | None = None  # e.g. "JWT_SECRET"
    sink: str | None = None  # e.g. "jsonwebtoken sign()"
    empty_key: bool = False

    @property
    def label(self) -> str:
        return f"the fallback of {self.setting}" if self.setting is not None else f"the secret of {self.sink}"

    def to_data(self) -> list:
        return [self.setting, self.sink, self.empty_key]

    @classmethod
    def from_data(cls, data: list) -> "SecretUse":
        setting, sink, empty_key = data
        if type(empty_key) is not bool or (setting is None) == (sink is None):
            raise TypeError("bad secret use")
        return cls(None if setting is None else string_from_data(setting), None if sink is None else string_from_data(sink), empty_key)


@dataclass(frozen=True)
class UseRecord:
    """A place that uses a value as a secret, and the steps the value takes to it in that file (source or
    imported name first)."""

    span: Span
    use: SecretUse
    steps: tuple[FlowStep, ...] = ()

    def to_data(self) -> list:
        return [span_data(self.span), self.use.to_data(), [step.to_data() for step in self.steps]]

    @classmethod
    def from_data(cls, data: list) -> "UseRecord":
        span, use, steps = data
        return cls(span_from_data(span), SecretUse.from_data(use), tuple(FlowStep.from_data(s) for s in steps))


@dataclass(frozen=True)
class SourceRecord:
    """A hard-coded value other modules may read (it sits in what the module exports), with its uses in its own
    file: `direct` is the use it is itself (a fallback, a library's argument), if any."""

    empty: bool
    holder: str | None
    direct: UseRecord | None
    uses: tuple[UseRecord, ...]
    fixes: tuple[Fix, ...] = ()
    setting: str | None = None  # the setting it is the fallback of, if any

    def to_data(self) -> list:
        return [
            self.empty,
            self.holder,
            self.direct.to_data() if self.direct is not None else None,
            [use.to_data() for use in self.uses],
            [fix.model_dump(mode="json") for fix in self.fixes],
            self.setting,
        ]

    @classmethod
    def from_data(cls, data: list) -> "SourceRecord":
        empty, holder, direct, uses, fixes, setting = data
        if type(empty) is not bool:
            raise TypeError("bad source")
        return cls(
            empty,
            None if holder is None else string_from_data(holder),
            UseRecord.from_data(direct) if direct is not None else None,
            tuple(UseRecord.from_data(u) for u in uses),
            tuple(Fix.model_validate(f) for f in fixes),
            None if setting is None else string_from_data(setting),
        )


@dataclass(frozen=True)
class ImportedUse:
    """A use whose value is a name imported from another module (`callee`, with the properties read after it)."""

    use: UseRecord
    callee: Callee

    def to_data(self) -> list:
        return [self.use.to_data(), self.callee.to_data()]

    @classmethod
    def from_data(cls, data: list) -> "ImportedUse":
        use, imported = data
        return cls(UseRecord.from_data(use), Callee.from_data(imported))


def steps_of(flow: Flow, file: "FileContext") -> tuple[FlowStep, ...]:
    return tuple(FlowStep(file.lines.span(s.node.start_byte, s.node.end_byte), s.note) for s in flow.steps)


def imported_callee(flow: Flow) -> Callee | None:
    """The imported name a flow stops at, with the properties read from it; None when a method is called on it
    (`config.get('x')`: what it returns is not a value the module writes)."""
    symbol = flow.symbol
    members = []
    for element in symbol.path:
        name, _, is_method = read_element(element)
        if is_method:
            return None
        members.append(name)
    return Callee(symbol.callee.module, symbol.callee.name, tuple(members))


# --- the project phase -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedSource:
    """The hard-coded value an imported name holds, found in the module that writes it."""

    path: str
    span: Span
    empty: bool
    holder: str | None
    setting: str | None  # the setting it is the fallback of, if any
    hops: tuple[Hop, ...]  # source first; the importing file's own steps are not among them


def follow_import(project: "ProjectIndex", path: str, imported: Callee, skip=lambda file: False) -> ImportedSource | None:
    """What the name `imported`, written in `path`, holds: the module graph resolves it to a module and a
    local key, and the module's value there is traced on (through further imports, to `MAX_MODULES` modules).
    None when it is not a value written in the code, or a module on the way is one `skip` says to leave alone."""
    graph = module_graph(project)
    hops: tuple[Hop, ...] = ()
    seen: set[tuple[str, str]] = set()
    for _ in range(MAX_MODULES):
        target = graph.resolve(path, imported)
        if target is None or target in seen:
            return None
        seen.add(target)
        file = graph.file(target[0])
        found = local_value(file.root, target[1]) if file is not None and not skip(file) else None
        if found is None:
            return None
        node, properties = found
        flow = file_flow(file, HARD_CODED_SECRETS).tracer.trace_path(node, properties)
        if flow is None:
            return None
        hops = (Hop(file.path, steps_of(flow, file)), *hops)
        if is_source(flow):
            source = flow.steps[0].node
            span = file.lines.span(source.start_byte, source.end_byte)
            empty = flow.input.origin == EMPTY
            return ImportedSource(file.path, span, empty, holder_name(source), fallback_setting(source, file), hops)
        if not is_imported(flow):
            return None
        next_name = imported_callee(flow)
        if next_name is None:
            return None
        path, imported = file.path, next_name
    return None


def fallback_setting(value: Node, file: "FileContext") -> str | None:
    """The setting a value is the fallback of (`process.env.X ?? ''`)."""
    node = outermost(value)
    parent = node.parent
    if parent is None or parent.type != "binary_expression" or parent.child_by_field_name("right") != node:
        return None
    return setting_name(parent.child_by_field_name("left"), file)
