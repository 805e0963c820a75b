"""The flow spec of request bags: an object whose keys the client chose (the request body, the query string,
a server action's argument, a nested object of the body) keeps every key through assignments, spreads
(`{ ...req.body, ownerId }`), `Object.assign`, clones, `omit()` and rest destructuring; it loses the keys it was
not picked for when fields are picked explicitly (`{ name: body.name }`, lodash `pick`) and when a schema that
drops unknown keys parses it (zod and valibot objects, Joi, which refuses them, a JSON Schema with
`additionalProperties: false`).

What stays of a bag on the way is read from the flow's steps (`protections`): the keys written after the
spread (they override what the client sent), the keys a rest pattern or `omit()` took out.
"""

from __future__ import annotations

from dataclasses import field

from linter.flow.spec import RequestValueSpec
from linter.flow.tracer import VALIDATED, Flow
from linter.frameworks.origins import ACTION_ARGUMENTS, ACTION_INPUT, PROCEDURE_INPUT, QUERY_STRING, REQUEST_BODY
from linter.frameworks.request_inputs import ARGUMENT, PARAMS, VALUE, Input
from linter.frameworks.validation_schemas import FieldCheck
from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

CLIENT_ORIGINS = frozenset({REQUEST_BODY, QUERY_STRING, ACTION_ARGUMENTS})
CHECKED_ORIGINS = CLIENT_ORIGINS | {PROCEDURE_INPUT, ACTION_INPUT}
_CLONES = frozenset({"structuredClone", "cloneDeep", "clone", "_.cloneDeep", "_.clone", "lodash.cloneDeep"})
_PICKS = frozenset({"pick", "pickBy"})
_OMITS = frozenset({"omit", "omitBy"})
_TRANSFORMERS = frozenset({"plainToInstance", "plainToClass"})  # class-transformer keeps every property
# Schema builders whose result keeps keys the schema does not name.
_OPEN_METHODS = frozenset({"passthrough", "catchall", "nonstrict", "looseObject", "record", "any", "unknown", "custom", "json"})
_CLOSED_METHODS = frozenset({"strict", "strictObject", "noUnknown"})
_SHAPE_METHODS = frozenset({"object", "shape", "keys", "Object"})
_MAX_RESOLVE = 4


def is_client_object(value: Input | None) -> bool:
    """A bag of the client's keys, or a value of one that may itself be an object (`req.body.user`)."""
    if value is None:
        return False
    if value.kind == ARGUMENT:
        return True
    if value.kind in (PARAMS, VALUE):
        return value.origin in CLIENT_ORIGINS or (value.kind == PARAMS and value.origin in (PROCEDURE_INPUT, ACTION_INPUT))
    return False


def may_carry_keys(flow: Flow | None) -> bool:
    """A flow worth following into a spread: a client object, a checked bag, or what the file cannot see."""
    if flow is None:
        return False
    if flow.symbol is not None:
        return True
    value = flow.input
    return is_client_object(value) or (value is not None and value.kind == VALIDATED and value.origin in CHECKED_ORIGINS)


class RequestBagSpec(RequestValueSpec):
    name = "request-bag"
    keeps_note = "keeps every property"
    accepts_note = "the schema accepts any keys in `{field}`"

    def value(self, node: Node, tracer, frame, depth: int):
        if node.type != "object":
            return NotImplemented
        spreads = [child for child in node.named_children if child.type == "spread_element" and child.named_children]
        for spread in reversed(spreads):  # the last one wins a key the others share
            flow = tracer.trace_in(spread.named_children[0], frame, depth)
            if may_carry_keys(flow):
                return flow.then(spread, "spread into the object")
        return None  # fields picked one by one

    def keeps_call(self, name: str) -> bool:
        return False

    def call(self, call: Node, name: str, arguments: list[Node], tracer, frame, depth: int):
        last = name.rsplit(".", 1)[-1]
        if last in _PICKS:
            return None
        if name in _CLONES or last in _OMITS or last in _TRANSFORMERS:
            position = 1 if last in _TRANSFORMERS else 0
            flow = tracer.trace_in(arguments[position], frame, depth) if len(arguments) > position else None
            if not may_carry_keys(flow):
                return None
            note = "`omit()` leaves out the listed keys" if last in _OMITS else f"`{last}()` {self.keeps_note}"
            return flow.then(call, note)
        if name == "Object.assign":
            for argument in reversed(arguments):
                flow = tracer.trace_in(argument, frame, depth)
                if may_carry_keys(flow):
                    return flow.then(argument, "copied by `Object.assign()`")
            return None
        if name == "JSON.parse" and arguments:
            inner = unwrap(arguments[0])
            if inner is not None and inner.type == "call_expression" and text(callee(inner)) == "JSON.stringify":
                flow = tracer.trace_in(arguments_of(inner)[0] if arguments_of(inner) else None, frame, depth)
                return flow.then(call, "copied through JSON") if may_carry_keys(flow) else None
        return NotImplemented

    def field_passes(self, check: FieldCheck) -> bool:
        return check.node is not None and keeps_unknown_keys(check.node)

    def bag_passes(self, schema: Node, file) -> bool:
        return keeps_unknown_keys(schema, file)

    def arrives(self, value: Input) -> bool:
        return is_client_object(value)


REQUEST_BAG = RequestBagSpec()


def keeps_unknown_keys(schema: Node | None, file=None) -> bool:
    """Whether parsing with `schema` leaves keys it does not name in the result: a class-validator DTO (unless
    a `ValidationPipe` whitelists, which the rule checks), a zod object with `.passthrough()`/`.catchall()`,
    `z.looseObject()`, `z.record()`/`z.any()`, a Joi object with `.unknown()`, a yup object without
    `.noUnknown()`, a TypeBox or JSON Schema object without `additionalProperties: false`."""
    node = resolve_local(schema)
    if node is None:
        return False
    if node.type in ("class_declaration", "abstract_class_declaration"):
        return True
    if node.type == "object":
        entries = object_keys(node)
        if text(entries.get("additionalProperties")) == "false":
            return False
        return "properties" in entries or key_text(unwrap(entries.get("type"))) == "object"
    methods: list[str] = []
    shape_arguments: list[Node] = []
    current = node
    while current is not None and current.type in ("call_expression", "member_expression"):
        if current.type == "call_expression":
            function = callee(current)
            name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
            methods.append(name or "")
            if name in _SHAPE_METHODS:
                shape_arguments.extend(arguments_of(current))
            current = member_object(function) if function is not None and function.type == "member_expression" else None
        else:
            current = member_object(current)
    if _CLOSED_METHODS & set(methods):
        return False
    if _OPEN_METHODS & set(methods):
        return True
    library = _library(current, file)
    if library in ("yup",):
        return "object" in methods or "shape" in methods
    if library in ("typebox",) and "Object" in methods:
        return not any(text(object_keys(unwrap(a)).get("additionalProperties")) == "false" for a in shape_arguments if unwrap(a) is not None and unwrap(a).type == "object")
    return False


def resolve_local(node: Node | None) -> Node | None:
    """The expression a local name was declared with, a few `const`s deep."""
    node = unwrap(node)
    for _ in range(_MAX_RESOLVE):
        if node is None or node.type != "identifier":
            return node
        binding = declaration_of(node)
        if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
            return node
        node = unwrap(binding.declarator.child_by_field_name("value"))
    return node


def _library(root: Node | None, file) -> str | None:
    if root is None or root.type != "identifier" or file is None:
        return None
    binding = file.binding(text(root))
    module = binding.module if binding is not None else ""
    if module == "yup":
        return "yup"
    if "typebox" in module:
        return "typebox"
    return None


@dataclass
class Protections:
    """Keys a bag no longer carries from the client on its way to the sink."""

    overridden: set[str] = field(default_factory=set)  # written after the spread
    removed: set[str] = field(default_factory=set)  # taken out by a rest pattern or `omit()`

    def add(self, other: "Protections") -> None:
        self.overridden |= other.overridden
        self.removed |= other.removed

    @property
    def keys(self) -> set[str]:
        return self.overridden | self.removed


def protections_at(node: Node) -> Protections:
    """What a step of a bag's flow takes from the client: the keys after a spread or an `Object.assign`
    source, the keys beside a rest pattern, the keys an `omit()` lists."""
    found = Protections()
    parent = node.parent
    if parent is not None and parent.type == "spread_element":  # the spread's value, as a call passes it on
        node, parent = parent, parent.parent
    if node.type == "spread_element" and parent is not None and parent.type == "object":
        found.overridden |= _keys_after(parent, node)
    elif node.type == "rest_pattern" and parent is not None and parent.type == "object_pattern":
        found.removed |= _pattern_keys(parent)
    elif node.type == "call_expression" and text(callee(node)).rsplit(".", 1)[-1] in _OMITS:
        arguments = arguments_of(node)
        if len(arguments) > 1:
            found.removed |= _listed_strings(arguments[1:])
    elif parent is not None and parent.type == "arguments" and parent.parent is not None and text(callee(parent.parent)) == "Object.assign":
        later = [a for a in arguments_of(parent.parent) if a.start_byte > node.start_byte]
        for argument in later:
            literal = unwrap(argument)
            if literal is not None and literal.type == "object":
                found.overridden |= _keys_after(literal, None)
    return found


def deleted_before(value: Node) -> set[str]:
    """The keys its function deletes from the bag `value` names before `value` is written:
    `delete data.createdBy; prisma.survey.update({ data })`."""
    value = unwrap(value)
    if value is None or value.type not in ("identifier", "shorthand_property_identifier"):
        return set()
    name = text(value)
    scope = enclosing_function(value)
    body = scope.child_by_field_name("body") if scope is not None else None
    found: set[str] = set()
    stack = [body] if body is not None else []
    while stack:
        node = stack.pop()
        if node.start_byte >= value.start_byte:
            continue
        if node.type == "unary_expression" and text(node.child_by_field_name("operator")) == "delete":
            target = unwrap(node.child_by_field_name("argument"))
            if target is not None and target.type in ("member_expression", "subscript_expression") and text(member_object(target)) == name:
                key = property_name(target)
                if key:
                    found.add(key)
        elif node.type not in FUNCTION_TYPES:
            stack.extend(node.named_children)
    return found


def _keys_after(obj: Node, after: Node | None) -> set[str]:
    keys = set()
    for child in obj.named_children:
        if after is not None and child.start_byte <= after.start_byte:
            continue
        if child.type == "pair":
            name = key_text(child.child_by_field_name("key"))
            if name:
                keys.add(name)
        elif child.type == "shorthand_property_identifier":
            keys.add(text(child))
        elif child.type == "method_definition":
            keys.add(text(child.child_by_field_name("name")))
    return keys


def _pattern_keys(pattern: Node) -> set[str]:
    keys = set()
    for child in pattern.named_children:
        if child.type == "shorthand_property_identifier_pattern":
            keys.add(text(child))
        elif child.type == "pair_pattern":
            name = key_text(child.child_by_field_name("key"))
            if name:
                keys.add(name)
        elif child.type == "object_assignment_pattern":
            left = child.child_by_field_name("left")
            if left is not None:
                keys.add(text(left))
    return keys


def _listed_strings(arguments: list[Node]) -> set[str]:
    found = set()
    for argument in arguments:
        node = unwrap(argument)
        items = node.named_children if node is not None and node.type == "array" else [node]
        for item in items:
            value = string_value(item) if item is not None else None
            if value:
                found.add(value)
    return found
