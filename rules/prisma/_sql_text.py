"""The flow spec of SQL text: a client value keeps its power to rewrite a query through string conversions,
concatenation, templates and the string and array methods that keep its characters (`trim()`, `join()`,
`slice()`, …); it loses it when it becomes a number (`parseInt`, `Number`, `Math.*`, arithmetic, unary `+`),
when it is escaped or replaced (`.replace()`, an escaping function of a driver), when an allowlist or a shape
check pins it (`_sql_allowlists`), and when a schema field only accepts numbers, booleans, dates, ids or a
fixed set (zod `.int()`/`.number()`/`.uuid()`/`.enum()`, Joi, yup, class-validator's `@IsInt()`/`@IsUUID()`/
`@IsIn()`, a JSON Schema `type: 'integer'` or `enum`), and when a SQL parser's check lets only reads through
(`_sql_statement_checks`: the statement of a SQL console, checked in this module or by a function of another)."""

from __future__ import annotations

from linter.flow.spec import RequestValueSpec
from linter.frameworks.validation_schemas import BOUNDED, UNBOUNDED, FieldCheck
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, text, walk

from ._sql_allowlists import pinned_at, pins, value_name
from ._sql_statement_checks import checks_statements, guard_calls, statement_checked_at

# Calls whose result is a number or a boolean, whatever the client sent.
NUMBER_CALLS = frozenset({"parseInt", "parseFloat", "Number", "BigInt", "Boolean", "isNaN", "isFinite"})
_NUMBER_NAMESPACES = ("Math.", "Number.")
# Operators whose result is a number or a boolean (`+` may concatenate, so it keeps the text).
_NUMERIC_OPERATORS = frozenset(
    {"-", "*", "/", "%", "**", "|", "&", "^", "<<", ">>", ">>>", "<", "<=", ">", ">=", "==", "===", "!=", "!==",
     "instanceof", "in"}
)  # fmt: skip
_NUMERIC_UNARY = frozenset({"+", "-", "~", "!", "typeof", "void", "delete"})
# Methods of a string or an array that return the client's characters (or an array of them).
TEXT_METHODS = frozenset(
    {"toString", "trim", "trimStart", "trimEnd", "toLowerCase", "toUpperCase", "toLocaleLowerCase",
     "toLocaleUpperCase", "valueOf", "join", "concat", "slice", "substring", "substr", "split", "padStart", "padEnd",
     "at", "flat", "filter", "normalize", "repeat"}
)  # fmt: skip
_NUMBER_CONVERTERS = NUMBER_CALLS | {"Number.parseInt", "Number.parseFloat", "Math.floor", "Math.round", "Math.trunc"}
# Schema checks that leave a field without quotes or keywords: numbers, booleans, dates, ids, fixed sets.
_SAFE_SCHEMA_METHODS = frozenset(
    {"number", "int", "integer", "bigint", "boolean", "bool", "date", "datetime", "isoDate", "uuid", "guid", "cuid",
     "cuid2", "ulid", "nanoid", "enum", "nativeEnum", "literal", "valid", "oneOf", "picklist", "regex", "pattern",
     "matches", "hex", "alphanum", "base64", "ip", "objectId"}
)  # fmt: skip
_SAFE_DTO_DECORATORS = frozenset(
    {"IsInt", "IsNumber", "IsNumberString", "IsUUID", "IsEnum", "IsIn", "IsBoolean", "IsBooleanString", "IsDate",
     "IsDateString", "IsISO8601", "Matches", "IsMongoId", "IsAlphanumeric", "IsAlpha", "IsHexadecimal",
     "IsPositive", "IsNegative", "Min", "Max", "IsLatLong"}
)  # fmt: skip
_SAFE_JSON_TYPES = frozenset({"integer", "number", "boolean"})
_SAFE_JSON_FORMATS = frozenset({"uuid", "date", "date-time", "time", "ipv4", "ipv6"})


class SqlTextSpec(RequestValueSpec):
    name = "sql-text"
    keeps_note = "keeps the text"
    accepts_note = "the schema accepts any text in `{field}`"

    def value(self, node: Node, tracer, frame, depth: int):
        kind = node.type
        if kind == "binary_expression" and text(node.child_by_field_name("operator")) in _NUMERIC_OPERATORS:
            return None
        if kind == "unary_expression" and text(node.child_by_field_name("operator")) in _NUMERIC_UNARY:
            return None
        if kind == "array":  # `[`name = '${q}'`, …].join(' AND ')`
            for element in node.named_children:
                flow = tracer.trace_in(element.named_children[0] if element.type == "spread_element" and element.named_children else element, frame, depth)
                if flow is not None and flow.is_value:
                    return flow
            return None
        return NotImplemented

    def keeps_call(self, name: str) -> bool:
        return name == "String"

    def call(self, call: Node, name: str, arguments: list[Node], tracer, frame, depth: int):
        if name in NUMBER_CALLS or name.startswith(_NUMBER_NAMESPACES):
            return None
        function = callee(call)
        if function is None or function.type != "member_expression":
            return NotImplemented
        method = property_name(function) or ""
        if method in ("replace", "replaceAll") and not _replaces_plain_text(arguments):
            return None  # an escape (`.replace(/'/g, "''")`) or a rewrite: not followed
        if method not in TEXT_METHODS and method not in ("map", "replace", "replaceAll"):
            return NotImplemented
        flow = tracer.trace_in(member_object(function), frame, depth)
        if method == "concat" and (flow is None or not flow.is_value):
            flow = tracer.first_value(call, arguments, frame, depth, "`.concat()` keeps the text")
        if flow is None or not flow.is_value:
            return NotImplemented if method in ("toString", "trim", "valueOf", "toLowerCase", "toUpperCase") else None
        if method == "map" and (not arguments or _converts_to_numbers(arguments[0])):
            return None
        return flow.then(call, f"`.{method}()` keeps the text")

    def guarded(self, use: Node) -> bool:
        return pinned_at(use) or statement_checked_at(use)

    def guard_calls(self, use: Node) -> list[Node]:
        return guard_calls(use)

    def checks_value(self, function: Node, file) -> bool:
        return checks_statements(function)

    def branch_bounded(self, condition: Node | None, branch: Node, when_true: bool) -> bool:
        name = value_name(branch)
        return name is not None and pins(condition, name, when_true)

    def field_passes(self, check: FieldCheck) -> bool:
        if check.state not in (UNBOUNDED, BOUNDED):
            return False
        return check.node is None or not safe_field(check.node)

def _replaces_plain_text(arguments: list[Node]) -> bool:
    """`.replace(';', '')`: a string pattern with no quote or backslash in it, replaced by one with none either.
    Whatever it takes out, the quotes that end a literal and the rest of a statement stay."""
    if len(arguments) < 2:
        return False
    pattern, replacement = (string_value(unwrap(argument)) for argument in arguments[:2])
    return pattern is not None and replacement is not None and not any(
        mark in pattern + replacement for mark in ("'", '"', "`", "\\")
    )


def _converts_to_numbers(mapper: Node) -> bool:
    """`.map(Number)`, `.map((id) => parseInt(id, 10))`, `.map((n) => +n)`."""
    mapper = unwrap(mapper)
    if mapper is None:
        return False
    if mapper.type in ("identifier", "member_expression"):
        return text(mapper) in _NUMBER_CONVERTERS
    body = mapper.child_by_field_name("body") if mapper.type in ("arrow_function", "function_expression") else None
    body = unwrap(body)
    if body is None:
        return False
    if body.type == "call_expression":
        return text(callee(body)) in _NUMBER_CONVERTERS
    return body.type == "unary_expression" and text(body.child_by_field_name("operator")) == "+"


def safe_field(node: Node) -> bool:
    """A schema field that only accepts values without quotes or keywords: a zod/Joi/yup/valibot chain with a
    number, boolean, date, id or fixed-set check, a class-validator field with such a decorator, or a JSON
    Schema property of such a type, format or enum."""
    if node.type == "public_field_definition":
        for decorator in (c for c in node.children if c.type == "decorator"):
            call = decorator.named_children[0] if decorator.named_children else None
            name = text(callee(call)) if call is not None and call.type == "call_expression" else text(call)
            if name in _SAFE_DTO_DECORATORS:
                return True
        return False
    if node.type == "object":
        entries = object_keys(node)
        if "enum" in entries or "const" in entries or "pattern" in entries:
            return True
        kind, form = unwrap(entries.get("type")), unwrap(entries.get("format"))
        return (kind is not None and key_text(kind) in _SAFE_JSON_TYPES) or (form is not None and key_text(form) in _SAFE_JSON_FORMATS)
    for part in walk(node):
        if part.type == "call_expression":
            function = callee(part)
            name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
            if name in _SAFE_SCHEMA_METHODS or name in NUMBER_CALLS:
                return True  # a check, or a transform that makes a number (`.transform((v) => parseInt(v))`)
            if name == "transform" and any(text(a) in NUMBER_CALLS for a in arguments_of(part)):
                return True
        if part.type == "member_expression" and property_name(part) in ("number", "boolean", "bigint", "date"):
            return True  # `z.coerce.number()`
    return False


SQL_TEXT = SqlTextSpec()


def sql_parts(value: Node) -> list[Node]:
    """The pieces of SQL text a client value may be in: the `${…}` of a template, the operands of a `+`
    chain that are not written in the code, or the value itself."""
    value = unwrap(value)
    if value is None:
        return []
    if value.type == "template_string":
        return [part.named_children[0] for part in value.named_children if part.type == "template_substitution" and part.named_children]
    if value.type == "binary_expression" and text(value.child_by_field_name("operator")) == "+":
        parts: list[Node] = []
        stack = [value]
        while stack:
            node = unwrap(stack.pop())
            if node is None:
                continue
            if node.type == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
                stack.append(node.child_by_field_name("right"))
                stack.append(node.child_by_field_name("left"))
            elif node.type == "template_string":
                parts.extend(sql_parts(node))
            elif node.type != "string":
                parts.append(node)
        return parts
    return [value]
