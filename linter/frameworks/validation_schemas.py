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

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
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


# --- the keys a parsed object keeps ------------------------------------------------------------------------------

# Zod methods that leave an object schema's keys as they are.
_SAME_KEYS = frozenset(
    {"strict", "strip", "partial", "deepPartial", "required", "refine", "superRefine", "check", "describe", "meta",
     "openapi", "optional", "nullable", "nullish", "default", "readonly", "brand", "catch"}
)
_KEEPS_OTHER_KEYS = frozenset({"passthrough", "catchall", "nonstrict", "loose"})
_OPEN_BUILDERS = frozenset({"looseObject", "record", "any", "unknown", "custom", "json", "map"})
_OBJECT_BUILDERS = frozenset({"object", "strictObject"})
_MERGES = frozenset({"merge", "and", "intersection"})
_MAX_KEY_DEPTH = 12


@dataclass(frozen=True)
class SchemaKeys:
    """The top-level keys an object parsed by a zod schema can carry: `keys` when the schema names them all (zod
    drops the others), None when part of the schema cannot be read here (it comes from a module the project does
    not have, or a `.transform()` computes it); `open` when unknown keys stay (`.passthrough()`, `z.record()`,
    `z.any()`); `removed`, the keys an `.omit()` took out of a schema whose other keys cannot be read."""

    keys: frozenset[str] | None
    open: bool = False
    removed: frozenset[str] = frozenset()


OPEN_KEYS = SchemaKeys(None, open=True)
UNREAD_KEYS = SchemaKeys(None)


def schema_keys(schema: Node | None, file: "FileContext", resolve_import=None, _depth: int = 0) -> SchemaKeys:
    """The keys what `schema` parses keeps (`SchemaKeys`): `z.object({ name, bio })` keeps `name` and `bio`;
    `.pick()`, `.omit()`, `.extend()`, `.merge()`, `.partial()` and the like are followed, through `const`s of the
    file and, with `resolve_import` (an identifier and its file -> the module that declares it and the declared
    value, or None), through imports of other modules of the project."""
    node, file = _schema_definition(schema, file, resolve_import)
    if node is None or _depth > _MAX_KEY_DEPTH:
        return UNREAD_KEYS
    if node.type != "call_expression":
        return UNREAD_KEYS
    function = callee(node)
    arguments = arguments_of(node)
    first = unwrap(arguments[0]) if arguments else None
    if function is None or function.type not in ("member_expression", "identifier"):
        return UNREAD_KEYS
    method = property_name(function) if function.type == "member_expression" else text(function)
    receiver = member_object(function) if function.type == "member_expression" else None
    receiver_is_library = receiver is None or (unwrap(receiver) is not None and unwrap(receiver).type == "identifier"
                                               and _defined_elsewhere(unwrap(receiver)))  # fmt: skip
    if method in _OBJECT_BUILDERS and receiver_is_library:
        return _literal_keys(first, file, resolve_import, _depth)
    if method in _OPEN_BUILDERS and receiver_is_library:
        return OPEN_KEYS
    if method in ("union", "discriminatedUnion") and receiver_is_library:
        options = arguments[-1] if arguments else None
        options = unwrap(options)
        if options is None or options.type != "array":
            return UNREAD_KEYS
        return _joined([schema_keys(o, file, resolve_import, _depth + 1) for o in options.named_children])
    if method == "intersection" and receiver_is_library:
        return _joined([schema_keys(a, file, resolve_import, _depth + 1) for a in arguments])
    if receiver is None:
        return UNREAD_KEYS
    if method in _KEEPS_OTHER_KEYS:
        return OPEN_KEYS
    base = schema_keys(receiver, file, resolve_import, _depth + 1)
    if method in _SAME_KEYS:
        return base
    if method == "pick":
        if base.open:
            return base
        picked = _listed_keys(first)
        if picked is None:
            return base if base.keys is not None else UNREAD_KEYS
        return SchemaKeys(picked if base.keys is None else picked & base.keys)
    if method == "omit":
        omitted = _listed_keys(first)
        if omitted is None:
            return base if base.keys is not None or base.open else UNREAD_KEYS
        if base.keys is not None:
            return SchemaKeys(base.keys - omitted)
        return SchemaKeys(None, base.open, base.removed | omitted)
    if method in ("extend", "augment", "setKey"):
        added = _literal_keys(first, file, resolve_import, _depth) if method != "setKey" else SchemaKeys(_listed_keys(first))
        return _joined([base, added])
    if method in _MERGES:
        return _joined([base, schema_keys(first, file, resolve_import, _depth + 1)])
    return UNREAD_KEYS  # `.transform()`, `.pipe()` and what this model does not know: the output is not read here


def _defined_elsewhere(identifier: Node) -> bool:
    """`z` in `z.object()`: a name no `const` of the file declares (an import), rather than a schema variable."""
    binding = declaration_of(identifier)
    return binding is None or binding.kind != "variable"


def _schema_definition(node: Node | None, file: "FileContext", resolve_import) -> tuple[Node | None, "FileContext"]:
    """The expression a schema name stands for: a `const` of the file, or (through `resolve_import`) of the module
    it is imported from."""
    node = unwrap(node)
    for _ in range(_MAX_DEPTH * 2):
        if node is None or node.type != "identifier":
            return node, file
        binding = declaration_of(node)
        if binding is not None and binding.kind == "variable" and not binding.path and binding.declarator is not None:
            node = unwrap(binding.declarator.child_by_field_name("value"))
            continue
        found = resolve_import(node, file) if resolve_import is not None else None
        if found is None:
            return None, file
        file, node = found[0], unwrap(found[1])
    return None, file


def _literal_keys(shape: Node | None, file: "FileContext", resolve_import, depth: int) -> SchemaKeys:
    """The keys of an object shape (`{ name: z.string(), ...Other.shape }`)."""
    shape, file = _schema_definition(shape, file, resolve_import)
    if shape is None or shape.type != "object":
        return UNREAD_KEYS
    parts = [SchemaKeys(frozenset(k for k in object_keys(shape) if k))]
    for child in shape.named_children:
        if child.type == "spread_element" and child.named_children:
            spread = unwrap(child.named_children[0])
            if spread is not None and spread.type == "member_expression" and property_name(spread) == "shape":
                parts.append(schema_keys(member_object(spread), file, resolve_import, depth + 1))
            else:
                parts.append(UNREAD_KEYS)
    return _joined(parts)


def _listed_keys(mask: Node | None) -> frozenset[str] | None:
    """`{ name: true, bio: true }` (zod's `.pick()`/`.omit()` mask) or `['name', 'bio']` (valibot, yup)."""
    mask = unwrap(mask)
    if mask is None:
        return None
    if mask.type == "object":
        if any(child.type == "spread_element" for child in mask.named_children):
            return None
        return frozenset(k for k in object_keys(mask) if k)
    if mask.type == "array":
        names = [string_value(item) if item is not None and item.type == "string" else None
                 for item in map(unwrap, mask.named_children)]  # fmt: skip
        return frozenset(n for n in names if n) if all(names) else None
    return None


def _joined(parts: list[SchemaKeys]) -> SchemaKeys:
    """The keys of schemas put together (`.extend()`, `.merge()`, a union): known when every part's are."""
    keys: frozenset[str] | None = frozenset()
    removed: frozenset[str] = frozenset()
    for part in parts:
        keys = keys | part.keys if keys is not None and part.keys is not None else None
        removed |= part.removed
    named = frozenset().union(*(p.keys for p in parts if p.keys is not None))
    return SchemaKeys(keys, any(p.open for p in parts), removed - named)
