"""Follow an expression back to what the client sent, inside one file: the value flow of a request parameter.

`ClientValues(file).trace(expr)` returns a `Flow` when `expr` may hold a client-chosen value (or the request
object, or a bag of its parameters) with nothing bounding its size on the way, else None. The flow keeps the
steps from the source to `expr` (for SARIF code flows). Followed:

- local names (`linter.js.bindings`): `const`/`let`, reassignments, destructuring with defaults;
- the request vocabulary of `linter.frameworks.request_inputs` (`req.query.limit`, `searchParams.get('limit')`, ...);
- conversions that keep the size: `parseInt`, `Number`, `parseFloat`, `String`, unary `+`, `Math.floor`,
  `as` casts and `!`; defaults `x || 50`, `x ?? 50`; ternaries; template literals; arithmetic such as `x + 1`;
  `Math.max` (a lower bound only);
- helpers of the same file: a call's returned values with its arguments bound, and a function's parameters
  through its callers in the file;
- bags validated by a schema of the same file (`linter.frameworks.validation_schemas`).

Stops (returns None) at constants, at anything from another module, at `Math.min` with a bound, `% n`, and at
a value checked against a maximum first (`linter.js.limit_caps`). A handler registered with a validation
middleware (`router.get('/', validate(schema), handler)`, express-validator, celebrate) is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from linter.js.bindings import Binding, declaration_of, definitions_before, function_declared_as, returned_values
from linter.js.expressions import arguments_of, callee, member_object, object_keys, property_name, unwrap
from linter.js.functions import function_name
from linter.js.limit_caps import SIZE_KEEPING_CALLS, bounded_at, bounds, canonical, is_math_min
from linter.frameworks.request_inputs import (
    PARAMS,
    SEARCH_PARAMS,
    VALUE,
    Input,
    constructed_input,
    dto_type_name,
    entries_input,
    member_input,
    method_input,
    parameter_input,
    validated_by_route,
)
from linter.js.invocation import call_sites
from linter.frameworks.validation_schemas import (
    BOUNDED,
    PARSE_METHODS,
    RESULT_PROPERTIES,
    UNBOUNDED,
    schema_field,
)
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

VALIDATED = "validated"
MAX_DEPTH = 40
MAX_CALLERS = 8
_STRING_METHODS = frozenset({"toString", "trim", "valueOf", "toLowerCase", "toUpperCase"})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "**"})
_TRUNCATING = frozenset({"|", ">>", ">>>", "<<"})


@dataclass(frozen=True)
class Step:
    node: Node
    note: str


@dataclass(frozen=True)
class Flow:
    input: Input
    steps: tuple[Step, ...] = ()
    schema: Node | None = None  # for VALIDATED bags: the schema expression

    @property
    def is_value(self) -> bool:
        return self.input.kind == VALUE

    def then(self, node: Node, note: str | None, **changes) -> "Flow":
        steps = self.steps
        if note is not None and not (steps and _same_span(steps[-1].node, node)):
            steps = steps + (Step(node, note),)
        return replace(self, steps=steps, **changes)


def _same_span(a: Node, b: Node) -> bool:
    return a.start_byte == b.start_byte and a.end_byte == b.end_byte


@dataclass(frozen=True)
class _Frame:
    """A call of a same-file helper being followed: its parameters stand for these arguments."""

    function: Node
    arguments: tuple[Node, ...]
    caller: "_Frame | None" = None


@dataclass
class ClientValues:
    file: "FileContext"
    _active: set = field(default_factory=set)
    # Results outside helper calls, by node: a value used twice (`Math.min(a, a)`) is traced once.
    _known: dict = field(default_factory=dict)
    _cycles: int = 0

    def trace(self, node: Node) -> Flow | None:
        """The flow from the client to `node`, or None when it is bounded, constant or not the client's."""
        return self._trace(node, None, 0)

    def _trace(self, node: Node | None, frame: _Frame | None, depth: int) -> Flow | None:
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return None
        key = (node.start_byte, node.end_byte, node.type, id(frame))
        if frame is None and key in self._known:
            return self._known[key]
        if key in self._active:
            self._cycles += 1
            return None
        self._active.add(key)
        cycles = self._cycles
        try:
            flow = self._dispatch(node, frame, depth + 1)
        finally:
            self._active.discard(key)
        if frame is None and (flow is not None or cycles == self._cycles):
            self._known[key] = flow  # a None cut short by a cycle may differ elsewhere: not kept
        return flow

    def _dispatch(self, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        kind = node.type
        if kind in ("identifier", "shorthand_property_identifier", "member_expression", "subscript_expression"):
            if bounded_at(node):
                return None
        if kind in ("identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"):
            return self._identifier(node, frame, depth)
        if kind in ("member_expression", "subscript_expression"):
            return self._member_of(member_object(node), property_name(node), node, frame, depth)
        if kind == "call_expression":
            return self._call(node, frame, depth)
        if kind == "new_expression":
            arguments = arguments_of(node)
            first = self._trace(arguments[0], frame, depth) if arguments else None
            constructed = constructed_input(text(callee(node)), first.input if first else None)
            return replace(first, input=constructed) if first and constructed else None
        if kind == "await_expression":
            return self._trace(node.named_children[0] if node.named_children else None, frame, depth)
        if kind == "binary_expression":
            return self._binary(node, frame, depth)
        if kind == "unary_expression":
            operator = text(node.child_by_field_name("operator"))
            if operator in ("+", "-", "~"):
                return self._trace(node.child_by_field_name("argument"), frame, depth)
            return None
        if kind == "ternary_expression":
            return self._ternary(node, frame, depth)
        if kind == "template_string":
            for part in node.named_children:
                if part.type == "template_substitution" and part.named_children:
                    flow = self._trace(part.named_children[0], frame, depth)
                    if flow is not None and flow.is_value:
                        return flow
            return None
        if kind in ("assignment_expression", "augmented_assignment_expression"):
            return self._trace(node.child_by_field_name("right"), frame, depth)
        if kind == "sequence_expression" and node.named_children:
            return self._trace(node.named_children[-1], frame, depth)
        return None

    # names ---------------------------------------------------------------------------------------------

    def _identifier(self, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        binding = declaration_of(node)
        if binding is None:
            return None
        if binding.kind == "param":
            return self._parameter(binding, frame, depth)
        if binding.kind != "variable":
            return None
        for definition in definitions_before(binding, node):
            if definition.path:
                first, rest = definition.path[0], definition.path[1:]
                flow = self._member_of(definition.value, first, definition.anchor, frame, depth)
                flow = self._path(flow, rest, definition.anchor)
            else:
                flow = self._trace(definition.value, frame, depth)
            if flow is not None:
                if definition.path or not flow.is_value:
                    return flow
                return flow.then(definition.anchor, f"assigned to `{binding.name}`")
        return None

    def _parameter(self, binding: Binding, frame: _Frame | None, depth: int) -> Flow | None:
        fn = binding.function
        if frame is not None and fn is not None and frame.function == fn:
            if binding.index >= len(frame.arguments):
                return None
            flow = self._trace(frame.arguments[binding.index], frame.caller, depth)
            return self._path(flow, binding.path, binding.pattern) if flow is not None else None
        start = parameter_input(binding, self.file)
        if start is not None:
            if start.kind != VALUE and validated_by_route(fn):
                return None
            flow = Flow(start)
            dto = dto_type_name(binding.declarator) if start.kind == PARAMS else None
            if dto is not None:  # NestJS validates the bag with this class: read its decorators
                flow = Flow(Input(VALIDATED, start.origin), schema=_class_named(dto, self.file.root))
            elif start.kind == VALUE:
                flow = Flow(start, (Step(binding.pattern or binding.declarator, f"`{start.param}` comes from {start.origin}"),))
            return self._path(flow, binding.path, binding.pattern)
        sites = call_sites(fn, self.file.root) if fn is not None else None
        for site in (sites or ())[:MAX_CALLERS]:
            arguments = arguments_of(site)
            if binding.index < len(arguments):
                flow = self._trace(arguments[binding.index], None, depth)
                if flow is not None:
                    flow = flow.then(arguments[binding.index], f"passed to `{function_name(fn)}()`")
                    flow = self._path(flow, binding.path, binding.pattern)
                    if flow is not None:
                        return flow
        return None

    def _path(self, flow: Flow | None, path: tuple[str, ...], anchor: Node | None) -> Flow | None:
        for prop in path:
            if flow is None or anchor is None:
                return None
            flow = self._member(flow, prop, anchor)
        return flow

    def _member_of(self, obj: Node | None, prop: str | None, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        """`obj.prop` (or `const { prop } = obj`): a key of an object literal or of what a same-file helper
        returns, else a step from the traced `obj`."""
        obj = unwrap(obj)
        if obj is None or prop is None or depth > MAX_DEPTH:
            return None
        if obj.type == "await_expression" and obj.named_children:
            return self._member_of(obj.named_children[0], prop, node, frame, depth + 1)
        literal = object_literal(obj)
        if literal is not None:
            entries = object_keys(literal)
            if prop in entries:
                return self._trace(entries[prop], frame, depth + 1)
            for spread in reversed([c for c in literal.named_children if c.type == "spread_element"]):
                flow = self._member_of(spread.named_children[0] if spread.named_children else None, prop, node, frame, depth + 1)
                if flow is not None:
                    return flow
            return None
        if obj.type == "call_expression":
            function = callee(obj)
            target = function_declared_as(function) if function is not None and function.type == "identifier" else None
            if target is not None:
                inner_frame = _Frame(target, tuple(arguments_of(obj)), frame)
                for returned in returned_values(target):
                    flow = self._member_of(returned, prop, node, inner_frame, depth + 1)
                    if flow is not None and flow.is_value:
                        return flow.then(obj, f"returned by `{text(function)}()`")
                return None
        inner = self._trace(obj, frame, depth + 1)
        return self._member(inner, prop, node) if inner is not None else None

    def _member(self, flow: Flow, prop: str | None, node: Node) -> Flow | None:
        if prop is None:
            return None
        if flow.input.kind == VALIDATED:
            return self._validated_member(flow, prop, node)
        step = member_input(flow.input, prop)
        if step is None:
            return None
        note = f"`{prop}` comes from {step.origin}" if step.kind == VALUE else None
        return flow.then(node, note, input=step)

    def _validated_member(self, flow: Flow, prop: str, node: Node) -> Flow | None:
        check = schema_field(flow.schema, prop, self.file)
        if prop in RESULT_PROPERTIES and check.state != UNBOUNDED and check.state != BOUNDED:
            return flow  # `safeParse(...).data`
        if check.state != UNBOUNDED:
            return None
        value = Input(VALUE, flow.input.origin, prop)
        flow = flow.then(node, f"`{prop}` comes from {flow.input.origin}", input=value)
        return flow.then(check.node, f"the schema accepts any size of `{prop}`") if check.node is not None else flow

    # calls ---------------------------------------------------------------------------------------------

    def _call(self, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        function = callee(node)
        arguments = arguments_of(node)
        if function is None:
            return None
        name = text(function)
        if name in SIZE_KEEPING_CALLS or name == "Math.max":
            return self._first_value(node, arguments, frame, depth, f"`{name}()` keeps any size")
        if is_math_min(node):
            flows = [self._trace(a, frame, depth) for a in arguments]
            if flows and all(f is not None and f.is_value for f in flows):
                return flows[0]
            return None
        if name == "Object.fromEntries" and arguments:
            inner = self._trace(arguments[0], frame, depth)
            made = entries_input(inner.input if inner else None)
            return replace(inner, input=made) if inner and made else None
        if function.type == "member_expression":
            return self._method(node, function, arguments, frame, depth)
        if function.type == "identifier":
            return self._helper(node, function, arguments, frame, depth)
        return None

    def _first_value(self, node, arguments, frame, depth, note) -> Flow | None:
        for argument in arguments:
            flow = self._trace(argument, frame, depth)
            if flow is not None and flow.is_value:
                return flow.then(node, note)
        return None

    def _method(self, node, function, arguments, frame, depth) -> Flow | None:
        method = property_name(function)
        receiver = member_object(function)
        inner = self._trace(receiver, frame, depth)
        if inner is not None:
            if inner.is_value and method in _STRING_METHODS:
                return inner
            if inner.input.kind == SEARCH_PARAMS and method == "entries":
                return inner
            step = method_input(inner.input, method or "", arguments)
            if step is None:
                return None
            note = f"`{step.param}` comes from {step.origin}" if step.kind == VALUE else None
            return inner.then(node, note, input=step)
        if method in PARSE_METHODS and arguments:
            bag = self._trace(arguments[0], frame, depth)
            if bag is not None and bag.input.kind == PARAMS:
                validated = Flow(Input(VALIDATED, bag.input.origin), bag.steps, schema=receiver)
                return validated.then(node, f"{bag.input.origin} is checked by `{_short(receiver)}`")
        return None

    def _helper(self, node, function, arguments, frame, depth) -> Flow | None:
        """A call of a function declared in this file: what it returns, its parameters bound to `arguments`."""
        target = function_declared_as(function)
        if target is None:
            return None
        inner_frame = _Frame(target, tuple(arguments), frame)
        for returned in returned_values(target):
            flow = self._trace(returned, inner_frame, depth)
            if flow is not None:
                return flow.then(node, f"returned by `{text(function)}()`") if flow.is_value else flow
        return None

    # operators -----------------------------------------------------------------------------------------

    def _binary(self, node, frame, depth) -> Flow | None:
        operator = text(node.child_by_field_name("operator"))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if operator in ("||", "??"):
            flow = self._trace(left, frame, depth)
            if flow is not None:
                return flow.then(node, f"`{operator} {_short(right)}` is only a default") if flow.is_value else flow
            return self._trace(right, frame, depth)
        if operator == "&&":
            return self._trace(right, frame, depth)
        if operator in _ARITHMETIC:
            for side in (left, right):
                flow = self._trace(side, frame, depth)
                if flow is not None and flow.is_value:
                    return flow.then(node, "arithmetic keeps its size") if operator != "+" or _numeric(node) else flow
            return None
        if operator in _TRUNCATING:
            flow = self._trace(left, frame, depth)
            return flow if flow is not None and flow.is_value else None
        return None

    def _ternary(self, node, frame, depth) -> Flow | None:
        condition = node.child_by_field_name("condition")
        for branch, when_true in ((node.child_by_field_name("consequence"), True), (node.child_by_field_name("alternative"), False)):
            flow = self._trace(branch, frame, depth)
            if flow is None:
                continue
            name = canonical(branch)
            if name is not None and bounds(condition, name, when_true):
                continue
            return flow
        return None


def _numeric(node: Node) -> bool:
    """`limit + 1` rather than `'LIMIT ' + limit`."""
    return not any(unwrap(side).type in ("string", "template_string") for side in (node.child_by_field_name("left"), node.child_by_field_name("right")) if side is not None)


def _short(node: Node | None) -> str:
    source = text(node)
    return source if len(source) <= 24 else source[:21] + "..."


def object_literal(node: Node) -> Node | None:
    """`{ … }` itself, or the literal a `const` was declared with and never reassigned."""
    if node.type == "object":
        return node
    if node.type != "identifier":
        return None
    binding = declaration_of(node)
    if binding is None or binding.kind != "variable" or binding.path:
        return None
    definitions = definitions_before(binding, node)
    value = unwrap(definitions[0].value) if len(definitions) == 1 else None
    return value if value is not None and value.type == "object" else None


def _class_named(name: str, root: Node) -> Node | None:
    for statement in root.named_children:
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
        if declaration is not None and declaration.type in ("class_declaration", "abstract_class_declaration"):
            if text(declaration.child_by_field_name("name")) == name:
                return declaration
    return None
