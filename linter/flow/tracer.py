"""Follow an expression back to what the client sent: the engine's walk inside one file.

`Tracer(file, spec).trace(expr)` returns a `Flow` when `expr` may hold a client-chosen value (or the request
object, or a bag of its parameters) that nothing stopped on the way, else None. A flow either starts at a
request input the file shows (`input`) or at a source of the spec's own (`FlowSpec.value`), or at a `Symbol`
the file cannot see past: a parameter of a function other modules call, the result of a call into another
module, or (for a spec that `follows_imports`) a name imported from another module. Properties read after a
symbol extend its `path`; the project phase (`linter.flow.project`) finds what the symbol stands for. Followed:

- local names (`linter.js.bindings`): `const`/`let`, reassignments, destructuring with defaults and renames,
  parameters' defaults;
- the request vocabulary of `linter.frameworks.request_inputs` (`req.query.limit`, `searchParams.get('limit')`);
- what the spec keeps (`FlowSpec.keeps_call`: `parseInt`, `Number`, …), unary `+`, casts and `!`, defaults
  `x || 50` and `x ?? 50`, ternaries, template literals, arithmetic;
- object literals, the properties set on one (`opts.secretOrKey = …`) and property reads (nested ones too:
  `config.jwt.secret`), spreads, class members (`this.secret`, `Config.secret`: fields, the constructor's
  assignments, getters), and helpers of the same file: a call's returned values with its arguments bound, and a
  function's parameters through its callers in the file;
- bags checked by a schema (`linter.frameworks.validation_schemas`): a field passes when the spec says so
  (`FlowSpec.field_passes`); a schema imported from another module becomes a `SchemaCheck` the project
  phase answers.

It stops at constants, at globals, at whatever the spec stops (`FlowSpec.call`, `guarded`, `branch_bounded`),
and at a handler registered behind validation middleware (`validated_by_route`).
"""

from __future__ import annotations

from dataclasses import field, replace
from typing import TYPE_CHECKING

from linter.flow.callees import Callee, callee_of
from linter.flow.spec import ARITHMETIC, STRING_METHODS, TRUNCATING, FlowSpec
from linter.frameworks.nestjs import declares_type_only
from linter.frameworks.nextjs import is_next_routed
from linter.frameworks.routes import OPTIONAL_PART, UNREAD_SCHEMA, registered_here, validated_by_route
from linter.frameworks.request_inputs import (
    ARGUMENT,
    CHECKED,
    PARAMS,
    REQUEST,
    SEARCH_PARAMS,
    VALUE,
    Input,
    constructed_input,
    entries_input,
    member_input,
    method_input,
    parameter_source,
)
from linter.frameworks.validation_schemas import BOUNDED, PARSE_METHODS, RESULT_PROPERTIES, UNBOUNDED, schema_field, schema_part
from linter.js.bindings import (
    Binding,
    class_around,
    class_named,
    declaration_of,
    definitions_before,
    function_declared_as,
    member_values,
    property_writes,
    returned_values,
)
from linter.js.exports import function_key
from linter.js.expressions import arguments_of, callee, member_chain, member_object, object_keys, property_name, unwrap
from linter.js.functions import function_name
from linter.js.imports import string_value
from linter.js.invocation import call_sites
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

VALIDATED = "validated"
MAX_DEPTH = 40
MAX_CALLERS = 8
# Helpers that return a part of the object they are given (lodash's `pick`, and the projects' own copies).
SUBSET_CALLS = frozenset({"pick", "pickBy", "omit"})
METHOD_MARK = "()"  # a path element for a method call: `()get=limit` is `.get('limit')`, `()json` is `.json()`


def method_element(method: str, first: str | None) -> str:
    return f"{METHOD_MARK}{method}" + (f"={first}" if first is not None else "")


def read_element(element: str) -> tuple[str, str | None, bool]:
    """(name, first string argument, is a method call) of a path element."""
    if not element.startswith(METHOD_MARK):
        return element, None, False
    name, _, first = element[len(METHOD_MARK) :].partition("=")
    return name, first if _ else None, True


@dataclass(frozen=True)
class Step:
    node: Node
    note: str


@dataclass(frozen=True)
class SchemaCheck:
    """A field the value must pass in a schema of another module: `module`'s export `name`, field `field`. With
    `guard`, a function of another module (its export `name`, then the members `path`) that a check on the way
    called with the value: the spec judges it (`FlowSpec.checks_value`)."""

    module: str
    name: str
    field: str
    path: tuple[str, ...] = ()  # properties of the export that hold the schema (a route schema's `querystring`)
    guard: bool = False


@dataclass(frozen=True)
class Symbol:
    """What the file cannot see past: parameter `index` of `function` (`kind` "param"), the result of
    `call` into another module (`kind` "call"), or the value of a name imported from another module
    (`kind` "import": `callee` says which); then `path` read from it."""

    kind: str
    path: tuple[str, ...] = ()
    function: Node | None = None
    index: int = -1
    callee: Callee | None = None
    call: Node | None = None
    arguments: tuple["Flow | None", ...] = ()

    def then(self, element: str) -> "Symbol":
        return replace(self, path=self.path + (element,))


@dataclass(frozen=True)
class Flow:
    input: Input | None = None
    steps: tuple[Step, ...] = ()
    schema: Node | SchemaCheck | None = None  # for VALIDATED bags: the schema (imported: its module and name)
    # Schemas a route or procedure checks parts of the request with, by origin (`Source.schemas`).
    schemas: tuple[tuple[str, Node | SchemaCheck], ...] = ()
    # A handler other modules register: what their registrations check is known in the project phase.
    handler: Node | None = None
    symbol: Symbol | None = None
    checks: tuple[SchemaCheck, ...] = ()  # imported schema fields the value passed through

    @property
    def is_value(self) -> bool:
        """A value the client chose, or possibly one (what a symbol stands for is known later)."""
        return self.symbol is not None or (self.input is not None and self.input.kind in (VALUE, ARGUMENT))

    @property
    def is_local(self) -> bool:
        """The file shows the whole flow: a request input, with no schema of another module on the way."""
        return self.symbol is None and not self.checks and self.handler is None

    def then(self, node: Node, note: str | None, **changes) -> "Flow":
        steps = self.steps
        if note is not None and not (steps and _same_span(steps[-1].node, node)):
            steps = steps + (Step(node, note),)
        return replace(self, steps=steps, **changes)


def _guarded_by(flow: Flow | None, guards: tuple[SchemaCheck, ...]) -> Flow | None:
    return replace(flow, checks=flow.checks + guards) if flow is not None and guards else flow


def _same_span(a: Node, b: Node) -> bool:
    return a.start_byte == b.start_byte and a.end_byte == b.end_byte


@dataclass(frozen=True)
class _Frame:
    """A call of a same-file helper being followed: its parameters stand for these arguments."""

    function: Node
    arguments: tuple[Node, ...]
    caller: "_Frame | None" = None


@dataclass
class Tracer:
    file: "FileContext"
    spec: FlowSpec
    _active: set = field(default_factory=set)
    # Results outside helper calls, by node: a value used twice (`Math.min(a, a)`) is traced once.
    _known: dict = field(default_factory=dict)
    _cycles: int = 0

    def trace(self, node: Node) -> Flow | None:
        """The flow from the client (or a symbol) to `node`, or None when it is stopped, constant or not the client's."""
        return self._trace(node, None, 0)

    def trace_in(self, node: Node | None, frame, depth: int) -> Flow | None:
        """`trace` from inside a spec's hook, keeping the helper frame being followed."""
        return self._trace(node, frame, depth)

    def trace_path(self, node: Node, path: tuple[str, ...]) -> Flow | None:
        """The flow of `node.path[0].path[1]…`: the properties `path` read from the value `node` names (the
        project phase asks this of the value a module exports)."""
        if not path:
            return self._trace(node, None, 0)
        holder = node
        for index, prop in enumerate(path[:-1]):
            literal = object_literal(unwrap(holder)) if unwrap(holder) is not None else None
            entry = object_keys(literal).get(prop) if literal is not None else None
            if entry is None:
                flow = self._member_of(holder, prop, holder, None, 0)
                return self._path(flow, path[index + 1 :], holder)
            holder = entry
        return self._member_of(holder, path[-1], holder, None, 0)

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
        decided = self.spec.value(node, self, frame, depth)
        if decided is not NotImplemented:
            return decided
        kind = node.type
        guards: tuple[SchemaCheck, ...] = ()
        if kind in ("identifier", "shorthand_property_identifier", "member_expression", "subscript_expression"):
            if self.spec.guarded(node):
                return None
            guards = self._guards_at(node)
        if kind in ("identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"):
            return _guarded_by(self._identifier(node, frame, depth), guards)
        if kind in ("member_expression", "subscript_expression"):
            return _guarded_by(self._member_of(member_object(node), property_name(node), node, frame, depth), guards)
        if kind == "call_expression":
            return self._call(node, frame, depth)
        if kind == "new_expression":
            arguments = arguments_of(node)
            first = self._trace(arguments[0], frame, depth) if arguments else None
            if first is None or first.input is None:
                return None
            constructed = constructed_input(text(callee(node)), first.input)
            return replace(first, input=constructed) if constructed else None
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

    def _guards_at(self, node: Node) -> tuple[SchemaCheck, ...]:
        """The functions of other modules that checks on the way to `node` call with the value (the spec's
        `guard_calls`), as checks the project phase answers."""
        found = []
        for call in self.spec.guard_calls(node):
            reference = callee_of(callee(call), self.file)
            if reference is not None and reference.module:
                found.append(SchemaCheck(reference.module, reference.name, "", reference.members, guard=True))
        return tuple(found)

    # names ---------------------------------------------------------------------------------------------

    def _identifier(self, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        binding = declaration_of(node)
        if self.spec.follows_imports and (binding is None or binding.kind == "opaque" or binding.function is None):
            imported = self._import_of(node, binding)
            if imported is not None:
                note = f"`{text(node)}` is imported from '{imported.module}'"
                return Flow(symbol=Symbol("import", callee=Callee(imported.module, imported.imported)), steps=(Step(node, note),))
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
                if flow is None and definition.default is not None:
                    flow = self._default(definition.default, binding.name, frame, depth)
            else:
                flow = self._trace(definition.value, frame, depth)
            if flow is not None:
                if definition.anchor.type == "rest_pattern":  # `const { id, ...rest } = req.body`
                    return flow.then(definition.anchor, f"`{binding.name}` holds the other properties")
                if definition.path or not flow.is_value:
                    return flow
                return flow.then(definition.anchor, f"assigned to `{binding.name}`")
        return None

    def _parameter(self, binding: Binding, frame: _Frame | None, depth: int) -> Flow | None:
        fn = binding.function
        if frame is not None and fn is not None and frame.function == fn:
            if binding.index >= len(frame.arguments):
                return self._default(binding.default, binding.name, frame, depth)
            return self._argument(frame.arguments[binding.index], binding, frame.caller, depth)
        source = parameter_source(binding, self.file)
        if source is not None:
            start = source.input
            if start.kind != VALUE and validated_by_route(fn):
                return None
            if any(origin == UNREAD_SCHEMA for origin, _, _ in source.schemas):
                return None  # checked by a route schema this module cannot read: trusted, as validation middleware is
            flow = Flow(
                start,
                schemas=tuple(
                    (origin, schema)
                    for origin, node, path in source.schemas
                    if (schema := self._schema_at(node, path)) is not None
                ),
                handler=fn if start.kind == REQUEST and self._registered_elsewhere(fn, source) else None,
            )
            if self._validating_dto(source.dto, bool(source.schemas)):
                # NestJS validates the bag with this class: read its decorators
                flow = Flow(Input(VALIDATED, start.origin), schema=self._schema_named(source.dto))
            elif start.kind == VALUE:
                flow = Flow(start, (Step(binding.pattern or binding.declarator, f"`{start.param}` comes from {start.origin}"),))
            return self._path(flow, binding.path, binding.pattern)
        sites = call_sites(fn, self.file.root) if fn is not None else None
        for site in (sites or ())[:MAX_CALLERS]:
            arguments = arguments_of(site)
            if binding.index < len(arguments):
                flow = self._argument(arguments[binding.index], binding, None, depth)
                if flow is not None:
                    return flow.then(arguments[binding.index], f"passed to `{function_name(fn)}()`")
        default = self._default(binding.default, binding.name, None, depth)
        if default is not None:
            return default
        if fn is not None and sites is None and function_key(fn) is not None and binding.index >= 0:
            note = f"`{binding.name}` is a parameter of `{function_name(fn) or function_key(fn)}()`"
            flow = Flow(symbol=Symbol("param", function=fn, index=binding.index), steps=(Step(binding.pattern or binding.declarator, note),))
            return self._path(flow, binding.path, binding.pattern)
        return None

    def _argument(self, argument: Node, binding: Binding, frame: _Frame | None, depth: int) -> Flow | None:
        """What a call passes into the parameter `binding`, read along its destructuring path: an object
        literal's entry (`load({ pageSize })` into `function load({ pageSize })`), or the traced argument."""
        if binding.path:
            flow = self._member_of(argument, binding.path[0], binding.pattern or argument, frame, depth)
            return self._path(flow, binding.path[1:], binding.pattern) if flow is not None else None
        return self._trace(argument, frame, depth)

    def _registered_elsewhere(self, fn: Node, source) -> bool:
        """A request handler another module registers (`router.get('/', validate(s), leads.list)`): what that
        registration checks is read in the project phase."""
        if source.schemas or function_key(fn) is None or is_next_routed(self.file.path):
            return False
        return call_sites(fn, self.file.root) is None and not registered_here(fn)

    def _default(self, default: Node | None, name: str, frame: _Frame | None, depth: int) -> Flow | None:
        """The flow of a destructuring or parameter default: a value the name holds when it is given none."""
        flow = self._trace(default, frame, depth) if default is not None else None
        return flow.then(default, f"the default of `{name}`") if flow is not None and flow.is_value else flow

    def _validating_dto(self, name: str | None, piped: bool) -> bool:
        """Whether the type `name` a whole `@Query()`/`@Body()` is declared with is the class NestJS validates it
        with. An interface or a type alias checks nothing; with a schema pipe (`@Body(new ZodValidationPipe(s))`)
        the schema decides, unless the type is a class of this file. An imported type-only name is told apart in
        the project phase."""
        if name is None or declares_type_only(self.file.root, name):
            return False
        return not piped or _class_named(name, self.file.root) is not None

    def _schema_named(self, name: str) -> Node | SchemaCheck | None:
        """The class (or schema) `name` of this file, or the import it names."""
        declaration = _class_named(name, self.file.root)
        if declaration is not None:
            return declaration
        imported = self.file.binding(name)
        return SchemaCheck(imported.module, imported.imported, "") if imported is not None else None

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
        klass = _class_of(obj)
        if klass is not None or obj.type == "this":
            for value in member_values(klass, prop) if klass is not None else ():
                flow = self._trace(value, None, depth + 1)
                if flow is not None:
                    return flow.then(node, f"read as `{_short(node)}`") if flow.is_value else flow
            return None
        literal = object_literal(obj)
        if literal is not None:
            binding = declaration_of(obj) if obj.type == "identifier" else None
            for written in property_writes(binding, prop, node) if binding is not None else ():
                flow = self._trace(written, frame, depth + 1)
                if flow is not None:
                    return flow.then(written.parent, f"set as `{_short(written.parent.child_by_field_name('left'))}`") if flow.is_value else flow
            entries = object_keys(literal)
            if prop in entries:
                return self._trace(entries[prop], frame, depth + 1)
            for spread in reversed([c for c in literal.named_children if c.type == "spread_element"]):
                flow = self._member_of(spread.named_children[0] if spread.named_children else None, prop, node, frame, depth + 1)
                if flow is not None:
                    return flow
            return None
        if obj.type == "call_expression":
            parsed = self._parsed_literal_field(obj, prop, node, frame, depth)
            if parsed is not NotImplemented:
                return parsed
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

    def _parsed_literal_field(self, call: Node, prop: str, node: Node, frame, depth: int):
        """`schema.parse({ limit: url.searchParams.get('limit'), … }).limit`: the literal's field, if the schema
        lets it through; NotImplemented when `call` is not a schema parsing an object literal."""
        function = callee(call)
        arguments = arguments_of(call)
        if function is None or function.type != "member_expression" or property_name(function) not in PARSE_METHODS:
            return NotImplemented
        literal = unwrap(arguments[0]) if arguments else None
        if literal is None or literal.type != "object" or prop not in object_keys(literal):
            return NotImplemented
        schema = self._schema_of(member_object(function))
        flow = self._trace(object_keys(literal)[prop], frame, depth + 1)
        if flow is None:
            return None
        if isinstance(schema, SchemaCheck):
            return replace(flow, checks=flow.checks + (replace(schema, field=prop),))
        return flow if self.spec.field_passes(schema_field(schema, prop, self.file)) else None

    def _member(self, flow: Flow, prop: str | None, node: Node) -> Flow | None:
        if prop is None:
            return None
        if flow.schema is not None:
            return self._validated_member(flow, prop, node)
        if flow.symbol is not None:
            return replace(flow, symbol=flow.symbol.then(prop))
        step = member_input(flow.input, prop)
        if step is None:
            return None
        note = f"`{prop}` comes from {step.origin}" if step.kind == VALUE else None
        return self._checked(flow.then(node, note, input=step))

    def _checked(self, flow: Flow) -> Flow | None:
        """`flow` after a step into a part of the request a route or procedure checks with a schema: a bag
        becomes a checked bag, a value must pass its field."""
        value = flow.input
        if value is None or value.origin is None or not flow.schemas:
            return None if value is not None and value.kind == CHECKED else flow
        schema = dict(flow.schemas).get(value.origin)
        if value.kind == CHECKED:
            return replace(flow, input=Input(VALIDATED, value.origin), schema=schema) if schema is not None else None
        if schema is None:
            return flow
        if value.kind == PARAMS:
            return replace(flow, input=Input(VALIDATED, value.origin), schema=schema)
        if value.kind != VALUE or value.param is None:
            return flow
        if isinstance(schema, SchemaCheck):
            return replace(flow, checks=flow.checks + (replace(schema, field=value.param),))
        check = schema_field(schema, value.param, self.file)
        return flow if self.spec.field_passes(check) else None

    def _validated_member(self, flow: Flow, prop: str, node: Node) -> Flow | None:
        if isinstance(flow.schema, SchemaCheck):
            if prop in RESULT_PROPERTIES:
                return flow
            check = replace(flow.schema, field=prop)
            flow = replace(flow, schema=None, checks=flow.checks + (check,))
            return self._unchecked_member(flow, prop, node)
        check = schema_field(flow.schema, prop, self.file)
        if prop in RESULT_PROPERTIES and check.state != UNBOUNDED and check.state != BOUNDED:
            return flow  # `safeParse(...).data`
        if not self.spec.field_passes(check):
            return None
        flow = self._unchecked_member(replace(flow, schema=None), prop, node)
        if flow is not None and check.node is not None:
            flow = flow.then(check.node, self.spec.accepts_note.format(field=prop))
        return flow

    def _unchecked_member(self, flow: Flow, prop: str, node: Node) -> Flow | None:
        """A field of a bag after its schema let it through."""
        if flow.symbol is not None:
            return replace(flow, symbol=flow.symbol.then(prop))
        value = Input(VALUE, flow.input.origin if flow.input is not None else None, prop)
        origin = value.origin or "the request"
        return flow.then(node, f"`{prop}` comes from {origin}", input=value)

    # calls ---------------------------------------------------------------------------------------------

    def _call(self, node: Node, frame: _Frame | None, depth: int) -> Flow | None:
        function = callee(node)
        arguments = arguments_of(node)
        if function is None:
            return None
        name = text(function)
        decided = self.spec.call(node, name, arguments, self, frame, depth)
        if decided is not NotImplemented:
            return decided
        if self.spec.keeps_call(name):
            return self._first_value(node, arguments, frame, depth, f"`{name}()` {self.spec.keeps_note}")
        if name.rsplit(".", 1)[-1] in SUBSET_CALLS and arguments:  # `pick(req.query, ['limit', 'page'])`
            inner = self._trace(arguments[0], frame, depth)
            return inner if inner is not None and not inner.is_value else None
        if name == "Object.fromEntries" and arguments:
            inner = self._trace(arguments[0], frame, depth)
            made = entries_input(inner.input if inner is not None else None)
            return replace(inner, input=made) if inner is not None and made is not None else None
        if function.type == "member_expression":
            flow = self._method(node, function, arguments, frame, depth)
            if flow is not None:
                return flow
        elif function.type == "identifier":
            target = function_declared_as(function)
            if target is not None:
                return self._helper(node, function, target, arguments, frame, depth)
        return self._imported_call(node, function, arguments, frame, depth)

    def first_value(self, node, arguments, frame, depth, note) -> Flow | None:
        """The first argument that carries a client value, as the call's value (`Math.max(1, limit)`)."""
        return self._first_value(node, arguments, frame, depth, note)

    def _first_value(self, node, arguments, frame, depth, note) -> Flow | None:
        for argument in arguments:
            flow = self._trace(argument, frame, depth)
            if flow is not None and flow.is_value:
                return flow.then(node, note)
        return None

    def _method(self, node, function, arguments, frame, depth) -> Flow | None:
        method = property_name(function) or ""
        receiver = member_object(function)
        inner = self._trace(receiver, frame, depth)
        if inner is not None:
            if inner.is_value and inner.symbol is None and method in STRING_METHODS:
                return inner
            if inner.symbol is not None and inner.schema is None:
                if method in STRING_METHODS:
                    return inner
                first = string_value(arguments[0]) if arguments else None
                return replace(inner, symbol=inner.symbol.then(method_element(method, first)))
            if inner.input is not None and inner.input.kind == SEARCH_PARAMS and method == "entries":
                return inner
            if inner.input is None:
                return None
            first = string_value(arguments[0]) if arguments else None
            step = method_input(inner.input, method, first, len(arguments))
            if step is None:
                return None
            note = f"`{step.param}` comes from {step.origin}" if step.kind == VALUE else None
            return self._checked(inner.then(node, note, input=step))
        if method in PARSE_METHODS and arguments:
            bag = self._trace(arguments[0], frame, depth)
            if bag is not None and ((bag.input is not None and bag.input.kind == PARAMS) or bag.symbol is not None):
                schema = self._schema_of(receiver)
                origin = bag.input.origin if bag.input is not None else None
                validated = Flow(Input(VALIDATED, origin) if bag.input is not None else None, bag.steps, schema=schema, symbol=bag.symbol, checks=bag.checks)
                where = origin or "the value"
                return validated.then(node, f"{where} is checked by `{_short(receiver)}`")
        return None

    def _schema_of(self, receiver: Node | None) -> Node | SchemaCheck | None:
        """The schema a `.parse()` is called on: an expression of this file, or the import it is named by."""
        root = unwrap(receiver)
        binding = self._import_of(root) if root is not None and root.type == "identifier" else None
        if binding is not None:
            return SchemaCheck(binding.module, binding.imported, "")
        return receiver

    def _schema_at(self, node: Node, path: tuple[str, ...]) -> Node | SchemaCheck | None:
        """The schema `path` reads from `node`: a node of this file, or a check of an import."""
        schema = self._schema_of(node)
        if isinstance(schema, SchemaCheck):
            return replace(schema, path=path)
        for prop in path:
            optional = prop.startswith(OPTIONAL_PART)
            part = schema_part(schema, prop.removeprefix(OPTIONAL_PART), self.file) if schema is not None else None
            if part is None and optional:
                continue  # `validate(schema)` given the request part itself
            schema = part
        return schema

    def _import_of(self, name: Node, declaration: Binding | None = None):
        """The import binding a name refers to, unless a local declaration shadows it (`declaration`: the
        one `declaration_of(name)` finds, when the caller has it)."""
        binding = self.file.binding(text(name))
        if binding is None:
            return None
        declaration = declaration or declaration_of(name)
        if declaration is None or declaration.kind == "opaque" or declaration.function is None:
            return binding
        return None

    def _helper(self, node, function, target, arguments, frame, depth) -> Flow | None:
        """A call of a function declared in this file: what it returns, its parameters bound to `arguments`."""
        inner_frame = _Frame(target, tuple(arguments), frame)
        for returned in returned_values(target):
            flow = self._trace(returned, inner_frame, depth)
            if flow is not None:
                return flow.then(node, f"returned by `{text(function)}()`") if flow.is_value else flow
        return None

    def _imported_call(self, node, function, arguments, frame, depth) -> Flow | None:
        """A call into another module: its result is a symbol, with the arguments that carry client values
        (what the callee returns of them is known in the project phase)."""
        target = callee_of(function, self.file)
        if target is None:
            return None
        traced = tuple(self._trace(argument, frame, depth) for argument in arguments)
        if not any(flow is not None for flow in traced):
            return None
        symbol = Symbol("call", callee=target, call=node, arguments=traced)
        return Flow(symbol=symbol, steps=(Step(node, f"returned by `{_short(function)}()`"),))

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
        if operator in ARITHMETIC:
            for side in (left, right):
                flow = self._trace(side, frame, depth)
                if flow is not None and flow.is_value:
                    return flow.then(node, "arithmetic keeps its size") if operator != "+" or _numeric(node) else flow
            return None
        if operator in TRUNCATING:
            flow = self._trace(left, frame, depth)
            return flow if flow is not None and flow.is_value else None
        return None

    def _ternary(self, node, frame, depth) -> Flow | None:
        condition = node.child_by_field_name("condition")
        for branch, when_true in ((node.child_by_field_name("consequence"), True), (node.child_by_field_name("alternative"), False)):
            flow = self._trace(branch, frame, depth)
            if flow is None:
                continue
            if branch is not None and self.spec.branch_bounded(condition, branch, when_true):
                continue
            return flow
        return None


def _class_of(node: Node) -> Node | None:
    """The class of this file whose members `node.x` reads: `this` in a method, a class's name, the class."""
    if node.type == "this":
        return class_around(node)
    if node.type == "identifier":
        return class_named(node)
    return node if node.type in ("class_declaration", "abstract_class_declaration", "class") else None


def _numeric(node: Node) -> bool:
    """`limit + 1` rather than `'LIMIT ' + limit`."""
    return not any(unwrap(side).type in ("string", "template_string") for side in (node.child_by_field_name("left"), node.child_by_field_name("right")) if side is not None)


def _short(node: Node | None) -> str:
    source = text(node)
    return source if len(source) <= 24 else source[:21] + "..."


def object_literal(node: Node) -> Node | None:
    """`{ … }` itself, the literal a `const` was declared with and never reassigned, or one held by a key of
    such a literal (`config.jwt` in `const config = { jwt: { … } }`)."""
    if node.type == "object":
        return node
    if node.type in ("member_expression", "subscript_expression"):
        root, path = member_chain(node)
        literal = object_literal(root) if root is not None and root.type in ("object", "identifier") else None
        for prop in path:
            entry = unwrap(object_keys(literal).get(prop)) if literal is not None else None
            literal = object_literal(entry) if entry is not None and entry.type in ("object", "identifier") else None
        return literal
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
