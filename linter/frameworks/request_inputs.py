"""What a client controls: the request object, the parameter bags hanging off it, and the inputs the
framework models hand a handler (`linter.frameworks.nestjs`, `.trpc`, `.graphql`, `.routes`, `.nextjs`).

An `Input` is one step of that vocabulary. A handler's request parameter (`req`, `request`, `ctx`, `context`,
any parameter typed as a `Request` or `Context`, or the first parameter of a function registered as a route
such as Hono's `app.get('/', (c) => …)`) is a `REQUEST`; from there:

- `req.query`, `req.body`, `req.params`, Koa `ctx.query` / `ctx.request.body`, `await request.json()`,
  Hono `c.req.query()`, Fastify `request.query`: a `PARAMS` bag, whose every property is a client-chosen `VALUE`;
- `request.nextUrl`, `new URL(request.url)`: a `URL`, whose `searchParams` are `SEARCH_PARAMS`
  (`searchParams.get('limit')` is a `VALUE`; `Object.fromEntries(searchParams)` a `PARAMS` bag);
  `await request.formData()` is a `FORM` (`formData.get('limit')`; `Object.fromEntries(formData)` a `PARAMS` bag);
- Hono `c.req.valid('query')`: `CHECKED`, the part of the request the route's validator checked;
- a Next.js page's props (`{ searchParams }`, `props.searchParams`, awaited or not) and a route handler's second
  argument (`{ params }`): `PAGE_PROPS`;
- a Next.js server action's arguments (a function of a `'use server'` module or with that directive): an
  `ARGUMENT` (a value, or a bag of values: a TypeScript type checks nothing at run time), or a `FORM` for a
  `FormData`;
- a tRPC resolver's first parameter: `PROCEDURE`, whose `input` is checked by the procedure's `.input()` schema;
- a next-safe-action callback's first parameter: `SAFE_ACTION`, whose `parsedInput` is checked by the action
  client's `.inputSchema()` (and whose `clientInput` is what the client sent);
- a GraphQL resolver's arguments: a `PARAMS` bag;
- NestJS parameters: `@Query('limit') limit` is a `VALUE`, `@Query() query: ListDto` a `PARAMS` bag checked
  by the DTO class or by a validation pipe's schema.

A `Source` also carries the schemas that check parts of the request (a Fastify route schema, a Hono validator,
a tRPC `.input()`, a NestJS pipe), by origin: the flow engine applies them where that part is read.
The functions here answer one step at a time; the flow engine (`linter.flow.tracer`) chains them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter import lazy_re
from linter.frameworks import graphql, nestjs, safe_actions, trpc
from linter.frameworks.nextjs import has_use_server, is_app_rendered, is_app_route
from linter.frameworks.origins import (
    ACTION_ARGUMENTS,
    ACTION_INPUT,
    GRAPHQL_ARGUMENTS,
    PROCEDURE_INPUT,
    QUERY_STRING,
    REQUEST_BODY,
    REQUEST_HEADERS,
    ROUTE_PARAMETERS,
)
from linter.frameworks.routes import registration_schemas
from linter.js.bindings import Binding
from linter.js.functions import exported_name
from linter.js.invocation import handler_kind
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

REQUEST = "request"
URL_STRING = "url-string"
URL = "url"
SEARCH_PARAMS = "search-params"
PARAMS = "params"
PAGE_PROPS = "page-props"
VALUE = "value"
FORM = "form"  # a FormData: `.get('name')` is a value
CHECKED = "checked"  # the part of the request a route's validator checked (Hono `c.req.valid('query')`)
PROCEDURE = "procedure"  # a tRPC resolver's options: `input` is the client's
SAFE_ACTION = "safe-action"  # a next-safe-action callback's options: `parsedInput` is the client's, parsed
ARGUMENT = "argument"  # a server action's argument: a value, or a bag of values

REQUEST_PARAMETER_NAMES = frozenset({"req", "request", "_req", "_request", "ctx", "context"})
_REQUEST_TYPE = lazy_re.compile(r"\b(\w*Request|Context|ParameterizedContext|GetServerSidePropsContext)\b")
_PAGE_PROPS_FUNCTIONS = frozenset({"generateMetadata"})
# Entry points whose first parameter is the request (`linter.js.invocation.handler_kind`).
_REQUEST_HANDLER_KINDS = frozenset({"request-handler", "middleware", "pages-api", "route-handler", "next-middleware"})
_VALIDATED_TARGETS = {"query": QUERY_STRING, "json": REQUEST_BODY, "form": REQUEST_BODY, "param": ROUTE_PARAMETERS}
_FORM_TYPES = lazy_re.compile(r"\bFormData\b")
# What a request carries, not the request: a parameter named for a payload (`data: UpdateUserRequest`), or a
# type named for an operation (`CreateUserRequest`, `IUpdateProductRequest`): a body interface, not a `Request`.
_PAYLOAD_NAMES = frozenset({"data", "body", "dto", "payload", "input", "values", "fields", "changes", "attributes"})
_PAYLOAD_TYPE = lazy_re.compile(r"^I?(Create|Update|Patch|Upsert|Edit|New|Add|Delete|Remove|Set)[A-Z]\w*Request$")

_REQUEST_PROPERTIES = {
    "query": (PARAMS, QUERY_STRING),
    "body": (PARAMS, REQUEST_BODY),
    "params": (PARAMS, ROUTE_PARAMETERS),
    "request": (REQUEST, None),
    "req": (REQUEST, None),
    "nextUrl": (URL, None),
    "url": (URL_STRING, None),
    "searchParams": (SEARCH_PARAMS, QUERY_STRING),
    "headers": (PARAMS, REQUEST_HEADERS),
}
_URL_PROPERTIES = {"searchParams": (SEARCH_PARAMS, QUERY_STRING), "query": (PARAMS, QUERY_STRING)}
_PAGE_PROPERTIES = {
    "searchParams": (PARAMS, QUERY_STRING),
    "query": (PARAMS, QUERY_STRING),
    "params": (PARAMS, ROUTE_PARAMETERS),
}


@dataclass(frozen=True)
class Input:
    kind: str
    origin: str | None = None  # for bags and values: QUERY_STRING, REQUEST_BODY, ROUTE_PARAMETERS
    param: str | None = None  # for values: the parameter's name


@dataclass(frozen=True)
class Source:
    """What a handler's parameter holds, and the schemas that check parts of the request: (origin, schema)."""

    input: Input
    schemas: tuple[tuple[str, Node, tuple[str, ...]], ...] = ()  # (origin, schema, path; see `routes.RouteSchema`)
    dto: str | None = None  # the DTO class a NestJS bag is checked with, by name (found by the engine)


def parameter_source(binding: Binding, file: "FileContext") -> Source | None:
    """What the function parameter `binding` holds, before its destructuring path: a request, page props, a
    procedure's options, a server action's argument, GraphQL arguments… or nothing the client controls."""
    fn, param = binding.function, binding.declarator
    if fn is None or param is None:
        return None
    decorated = nestjs.decorated_parameter(param)
    if decorated is not None:
        if decorated.key is not None:
            return Source(Input(VALUE, decorated.origin, decorated.key))
        schemas = ((decorated.origin, decorated.schema, ()),) if decorated.schema is not None else ()
        return Source(Input(PARAMS, decorated.origin), schemas, decorated.dto)
    if binding.index == 0:
        schemas = trpc.procedure_schemas(fn)
        if schemas is not None:
            return Source(Input(PROCEDURE), tuple((PROCEDURE_INPUT, schema, ()) for schema in schemas[-1:]))
        schemas = safe_actions.action_schemas(fn)
        if schemas is not None:
            return Source(Input(SAFE_ACTION), tuple((ACTION_INPUT, schema, ()) for schema in schemas[-1:]))
    position = graphql.arguments_position(fn)
    if position is not None:
        return Source(Input(PARAMS, GRAPHQL_ARGUMENTS)) if binding.index == position else None
    if binding.index == 0 and _is_page_component(fn, file):
        return Source(Input(PAGE_PROPS))
    if binding.index == 1 and is_app_route(file.path) and exported_name(fn, file.root) is not None:
        return Source(Input(PAGE_PROPS))  # `GET(request, { params })`
    if _is_server_action(fn, file):
        return Source(_action_argument(binding, param))
    if binding.index != 0:
        return None
    if (binding.path == () and _looks_like_request(param)) or handler_kind(fn, file.path, file.root) in _REQUEST_HANDLER_KINDS:
        # `app.get('/', (c) => …)`, `router.get('/', async ({ query }, res) => …)`
        return Source(Input(REQUEST), registration_schemas(fn))
    return None


def _is_server_action(fn: Node, file: "FileContext") -> bool:
    """A function the browser can call: exported from a `'use server'` module, or with the directive itself."""
    if has_use_server(fn.child_by_field_name("body")):
        return True
    return has_use_server(file.root) and exported_name(fn, file.root) is not None


def _action_argument(binding: Binding, param: Node) -> Input:
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    if annotation is not None and _FORM_TYPES.search(text(annotation)):
        return Input(FORM, REQUEST_BODY)
    name = param.child_by_field_name("pattern") if param.type in ("required_parameter", "optional_parameter") else param
    return Input(ARGUMENT, ACTION_ARGUMENTS, text(name) if name is not None and name.type == "identifier" else None)


def _looks_like_request(param: Node) -> bool:
    name = param.child_by_field_name("pattern") if param.type in ("required_parameter", "optional_parameter") else param
    if name is not None and name.type == "identifier" and text(name) in REQUEST_PARAMETER_NAMES:
        return True
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    found = _REQUEST_TYPE.search(text(annotation)) if annotation is not None else None
    if found is None:
        return False
    named = text(name) if name is not None and name.type == "identifier" else ""
    return named not in _PAYLOAD_NAMES and _PAYLOAD_TYPE.match(found.group(1)) is None


def _is_page_component(fn: Node, file: "FileContext") -> bool:
    exported = exported_name(fn, file.root)
    if exported is None or not is_app_rendered(file.path):
        return False
    return exported == "default" or exported in _PAGE_PROPS_FUNCTIONS


def member_input(current: Input, prop: str) -> Input | None:
    """`current.prop`: the next step, or None when it leaves what the client controls."""
    table = {REQUEST: _REQUEST_PROPERTIES, URL: _URL_PROPERTIES, PAGE_PROPS: _PAGE_PROPERTIES}.get(current.kind)
    if table is not None:
        step = table.get(prop)
        return Input(step[0], step[1]) if step is not None else None
    if current.kind in (PARAMS, ARGUMENT):
        return Input(VALUE, current.origin, prop)
    if current.kind == PROCEDURE:
        return Input(PARAMS, PROCEDURE_INPUT) if prop == "input" else None
    if current.kind == SAFE_ACTION:
        return {"parsedInput": Input(PARAMS, ACTION_INPUT), "clientInput": Input(ARGUMENT, ACTION_ARGUMENTS, "clientInput")}.get(prop)
    return None


def method_input(current: Input, method: str, first: str | None, count: int) -> Input | None:
    """`current.method(…)` with `count` arguments, the first a string `first` (or None): the next step, or None."""
    if current.kind == SEARCH_PARAMS and method == "get" and first is not None:
        return Input(VALUE, QUERY_STRING, first)
    if current.kind == REQUEST:
        if method == "query":  # Hono: `c.req.query('limit')`, `c.req.query()`
            return Input(VALUE, QUERY_STRING, first) if first is not None else Input(PARAMS, QUERY_STRING)
        if method == "param" and first is not None:
            return Input(VALUE, ROUTE_PARAMETERS, first)
        if method == "json" and count == 0:
            return Input(PARAMS, REQUEST_BODY)
        if method == "formData" and count == 0:
            return Input(FORM, REQUEST_BODY)
        if method == "valid" and first in _VALIDATED_TARGETS:  # Hono: what the route's validator checked
            return Input(CHECKED, _VALIDATED_TARGETS[first])
    if current.kind in (PARAMS, FORM, ARGUMENT) and method == "get" and first is not None:  # `Map`, FormData
        return Input(VALUE, current.origin if current.kind != ARGUMENT else ACTION_ARGUMENTS, first)
    return None


def constructed_input(constructor: str, first: Input | None) -> Input | None:
    """`new URL(request.url)` is a URL; `new URLSearchParams(searchParams)` stays search params."""
    if first is None:
        return None
    if constructor == "URL" and first.kind == URL_STRING:
        return Input(URL)
    if constructor == "URLSearchParams" and first.kind in (SEARCH_PARAMS, PARAMS):
        return Input(SEARCH_PARAMS, QUERY_STRING)
    return None


def entries_input(argument: Input | None) -> Input | None:
    """`Object.fromEntries(searchParams)` (or of `searchParams.entries()`) is a bag of the query string;
    `Object.fromEntries(formData)` a bag of the form's fields."""
    if argument is not None and argument.kind == SEARCH_PARAMS:
        return Input(PARAMS, QUERY_STRING)
    if argument is not None and argument.kind == FORM:
        return Input(PARAMS, argument.origin or REQUEST_BODY)
    return None


