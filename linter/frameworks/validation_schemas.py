"""What a validation schema of the same file lets through for one field: zod, Joi, yup (and valibot checks).

`schema_field(schema, "limit", file)` follows the schema to its object shape (`z.object({...})`,
`Joi.object().keys({...})`, `yup.object().shape({...})`, through `.extend()`, `.merge()`, `.strict()`, ...) and
reads the field: `BOUNDED` when it has a maximum (`.max(100)`, `.lte()`, `.lt()`, `.less()`, `.lessThan()`,
`maxValue()`, a `Math.min` or `<=` in a transform or refinement, or a closed set such as `z.enum()`),
`UNBOUNDED` when it has none, `ABSENT` when the shape has no such field (zod and Joi drop or refuse it), and
`UNKNOWN` when the schema or the field comes from another module. A class-validator DTO class of the same file
is read the same way: `@Max(100)` (or `@IsIn`, `@IsEnum`) on the field bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

BOUNDED = "bounded"
UNBOUNDED = "unbounded"
ABSENT = "absent"
UNKNOWN = "unknown"

# `schema.parse(input)` and friends: the result is the input as the schema accepted it.
PARSE_METHODS = frozenset(
    {"parse", "parseAsync", "safeParse", "safeParseAsync", "validate", "validateAsync", "validateSync", "cast"}
)
# `safeParse(x).data`, Joi's `{ value } = schema.validate(x)`: the accepted input under another name.
RESULT_PROPERTIES = frozenset({"data", "value"})
SCHEMA_MODULES = frozenset(
    {"zod", "joi", "yup", "valibot", "@hapi/joi", "zod/v4", "zod/v3", "zod/mini", "@sinclair/typebox", "typebox",
     "@fastify/type-provider-typebox", "@hono/zod-openapi"}
)
_SHAPE_METHODS = frozenset({"object", "strictObject", "looseObject", "shape", "keys", "extend", "append", "Object"})
# JSON Schema (Fastify route schemas, TypeBox options): keywords that put a ceiling on a value.
_JSON_SCHEMA_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "enum", "const"})
_BOUND_METHODS = frozenset(
    {"max", "lte", "lt", "less", "lessThan", "maxValue", "enum", "nativeEnum", "literal", "valid", "oneOf", "picklist"}
)
_MAX_DEPTH = 4
_DTO_BOUNDS = frozenset({"Max", "IsIn", "IsEnum", "MaxLength", "Length"})


@dataclass(frozen=True)
class FieldCheck:
    state: str
    node: Node | None = None  # the field's schema, when there is one in this file


def schema_field(schema: Node | None, key: str, file: "FileContext", _depth: int = 0) -> FieldCheck:
    """How the schema expression `schema` constrains its field `key`."""
    node = _resolve(schema, _depth)
    if node is None or _depth > _MAX_DEPTH:
        return FieldCheck(UNKNOWN)
    if node.type in ("class_declaration", "abstract_class_declaration"):
        return _dto_field(node, key)
    if node.type == "object":
        return _json_schema_field(node, key, file, _depth)
    shaped, complete = False, True
    while node is not None and node.type == "call_expression":
        function = callee(node)
        method = property_name(function) if function is not None and function.type == "member_expression" else text(function)
        arguments = arguments_of(node)
        first = unwrap(arguments[0]) if arguments else None
        if method in _SHAPE_METHODS and first is not None and first.type == "object":
            shaped = True
            entries = object_keys(first)
            if key in entries:
                return _field(entries[key], file, _depth)
            complete = complete and not any(c.type == "spread_element" for c in first.named_children)
        elif method in ("merge", "concat") and first is not None:
            merged = schema_field(first, key, file, _depth + 1)
            if merged.state != ABSENT:
                return merged
        node = member_object(function) if function is not None and function.type == "member_expression" else None
    if shaped and complete and _from_schema_library(node, file):
        return FieldCheck(ABSENT)
    return FieldCheck(UNKNOWN)


def _resolve(node: Node | None, depth: int) -> Node | None:
    """The expression a local name was declared with (one file, a few hops)."""
    node = unwrap(node)
    for _ in range(_MAX_DEPTH - depth + 1):
        if node is None or node.type not in ("identifier", "shorthand_property_identifier"):
            return node
        binding = declaration_of(node)
        if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
            return None
        node = unwrap(binding.declarator.child_by_field_name("value"))
    return node


def _from_schema_library(root: Node | None, file: "FileContext") -> bool:
    """The chain starts at `z`, `Joi`, `yup`... imported from a schema library."""
    if root is None or root.type != "identifier" or file is None:
        return False
    binding = file.binding(text(root))
    return binding is not None and binding.module in SCHEMA_MODULES


def _field(value: Node, file: "FileContext", depth: int) -> FieldCheck:
    node = _resolve(value, depth)
    if node is None:
        return FieldCheck(UNKNOWN)
    for part in walk(node):
        if part.type == "call_expression":
            function = callee(part)
            if function is not None and text(function) == "Math.min":
                return FieldCheck(BOUNDED, node)
            if property_name(function) in _BOUND_METHODS or (
                function is not None and function.type == "identifier" and text(function) in _BOUND_METHODS
            ):
                return FieldCheck(BOUNDED, node)
        if part.type == "binary_expression" and text(part.child_by_field_name("operator")) in ("<", "<=", ">", ">="):
            return FieldCheck(BOUNDED, node)  # a refinement or transform that compares: trust it
        if part.type == "pair" and key_text(part.child_by_field_name("key")) in _JSON_SCHEMA_BOUNDS:
            return FieldCheck(BOUNDED, node)  # TypeBox `Type.Integer({ maximum: 100 })`
    root = node
    while root is not None and root.type in ("call_expression", "member_expression"):
        inner = callee(root) if root.type == "call_expression" else member_object(root)
        root = unwrap(inner)
    if root is not None and root.type == "identifier" and not _from_schema_library(root, file):
        nested = _resolve(root, depth + 1)
        if nested is None or nested is root:
            return FieldCheck(UNKNOWN)
        return _field(nested, file, depth + 1)
    return FieldCheck(UNBOUNDED, node)


def _json_schema_field(schema: Node, key: str, file: "FileContext", depth: int) -> FieldCheck:
    """A JSON Schema object (a Fastify route's `querystring`): `properties.<key>` with a `maximum` (or an
    `enum`) is bounded; a property without one is not; a key it does not list is absent when
    `additionalProperties` is false (Fastify removes or refuses it), else unknown."""
    entries = object_keys(schema)
    properties = _resolve(entries.get("properties"), depth + 1)
    if properties is None or properties.type != "object":
        return FieldCheck(UNKNOWN)
    fields = object_keys(properties)
    if key not in fields:
        closed = text(entries.get("additionalProperties")) == "false"
        return FieldCheck(ABSENT if closed else UNKNOWN)
    field = _resolve(fields[key], depth + 1)
    if field is None:
        return FieldCheck(UNKNOWN)
    if field.type != "object":
        return _field(field, file, depth + 1) if field.type == "call_expression" else FieldCheck(UNKNOWN)
    if _JSON_SCHEMA_BOUNDS & set(object_keys(field)):
        return FieldCheck(BOUNDED, field)
    return FieldCheck(UNBOUNDED, field)


def _dto_field(declaration: Node, key: str) -> FieldCheck:
    """A class-validator DTO: `@Max(100) limit: number` is bounded; a field without `@Max` is not. Fields it
    does not declare are left to the app's `ValidationPipe` settings (unknown)."""
    body = declaration.child_by_field_name("body")
    for member in body.named_children if body is not None else ():
        if member.type != "public_field_definition" or text(member.child_by_field_name("name")) != key:
            continue
        decorators = {text(callee(d.named_children[0])) for d in member.children if d.type == "decorator" and d.named_children and d.named_children[0].type == "call_expression"}
        if decorators & _DTO_BOUNDS:
            return FieldCheck(BOUNDED, member)
        return FieldCheck(UNBOUNDED, member)
    return FieldCheck(UNKNOWN)


def schema_part(schema: Node | None, prop: str, file: "FileContext") -> Node | None:
    """The schema of field `prop` of `schema` (an object literal, a schema shape or a DTO class of this file),
    or None."""
    node = _resolve(schema, 0)
    if node is None:
        return None
    if node.type == "object":
        return object_keys(node).get(prop)
    return schema_field(node, prop, file).node
