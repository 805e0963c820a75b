"""NestJS (and type-graphql, whose decorators NestJS's GraphQL module shares): what a decorated handler
parameter receives, and the schema that checks it.

- `@Query('limit') limit`, `@Param('id') id`, `@Body('size') size`, `@Headers('x-page-size') size`: one value;
  pipes such as `ParseIntPipe` keep its size;
- `@Query() query: ListDto` (also `@Body()`, `@Param()`): a bag, checked by the class-validator DTO class
  (`@Max` bounds a field) — in the controller's file or imported;
- `@Query(new ZodValidationPipe(schema)) query`: a bag checked by that schema;
- GraphQL: `@Args('take') take`, `@Arg('take') take` (one argument), `@Args() args: PaginationArgs` (an
  `@ArgsType()` class: `@Max` bounds a field).
"""

from __future__ import annotations

from dataclasses import dataclass

from linter.frameworks.origins import GRAPHQL_ARGUMENTS, QUERY_STRING, REQUEST_BODY, REQUEST_HEADERS, ROUTE_PARAMETERS
from linter.js.expressions import arguments_of, callee, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, text

_DECORATOR_ORIGINS = {
    "Query": QUERY_STRING,
    "Body": REQUEST_BODY,
    "Param": ROUTE_PARAMETERS,
    "Headers": REQUEST_HEADERS,
    "Args": GRAPHQL_ARGUMENTS,
    "Arg": GRAPHQL_ARGUMENTS,
}
_SCHEMA_PIPES = frozenset({"ZodValidationPipe", "ZodPipe", "JoiValidationPipe", "YupValidationPipe"})


@dataclass(frozen=True)
class DecoratedParameter:
    origin: str
    key: str | None  # `@Query('limit')`: one value; None: the whole bag
    schema: Node | None  # a schema a pipe checks the bag with
    dto: str | None  # the type the bag is declared with (`query: ListDto`): a DTO class when it is one


def decorated_parameter(param: Node) -> DecoratedParameter | None:
    """What a NestJS (or type-graphql) parameter decorator hands the parameter, if it has one."""
    for child in param.children:
        if child.type != "decorator" or not child.named_children:
            continue
        call = child.named_children[0]
        if call.type != "call_expression":
            continue
        origin = _DECORATOR_ORIGINS.get(text(callee(call)))
        if origin is None:
            continue
        arguments = arguments_of(call)
        key = string_value(arguments[0]) if arguments else None
        schema = next((s for a in arguments if (s := _pipe_schema(a)) is not None), None)
        return DecoratedParameter(origin, key, schema, None if key is not None else dto_type_name(param))
    return None


def _pipe_schema(argument: Node) -> Node | None:
    node = unwrap(argument)
    if node is None or node.type != "new_expression" or text(callee(node)) not in _SCHEMA_PIPES:
        return None
    arguments = arguments_of(node)
    return arguments[0] if arguments else None


def dto_type_name(param: Node) -> str | None:
    """`ListDto` for `@Query() query: ListDto`: the class a NestJS pipe validates the bag with."""
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    named = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    return text(named) if named is not None and named.type == "type_identifier" else None
