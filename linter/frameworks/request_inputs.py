"""What a client controls in a request handler: the request object and the parameter bags hanging off it.

An `Input` is one step of that vocabulary. A handler's request parameter (`req`, `request`, `ctx`, `context`,
any parameter typed as a `Request` or `Context`, or the first parameter of a function registered as a route
such as Hono's `app.get('/', (c) => …)`) is a `REQUEST`; from there:

- `req.query`, `req.body`, `req.params`, Koa `ctx.query` / `ctx.request.body`, `await request.json()`,
  Hono `c.req.query()`: a `PARAMS` bag, whose every property is a client-chosen `VALUE`;
- `request.nextUrl`, `new URL(request.url)`: a `URL`, whose `searchParams` are `SEARCH_PARAMS`
  (`searchParams.get('limit')` is a `VALUE`; `Object.fromEntries(searchParams)` a `PARAMS` bag);
- a Next.js page's props (`{ searchParams }`, `props.searchParams`) and a route handler's second argument
  (`{ params }`): `PAGE_PROPS`;
- NestJS parameters: `@Query('limit') limit` is a `VALUE`, `@Query() query: ListDto` a `PARAMS` bag checked
  by the DTO class.

The functions here answer one step at a time; the flow engine (`linter.flow.tracer`) chains them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linter.frameworks.nextjs import is_app_rendered, is_app_route
from linter.js.bindings import Binding
from linter.js.functions import exported_name
from linter.js.expressions import callee, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.js.invocation import handler_kind
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

QUERY_STRING = "the query string"
REQUEST_BODY = "the request body"
ROUTE_PARAMETERS = "the route parameters"

REQUEST_PARAMETER_NAMES = frozenset({"req", "request", "_req", "_request", "ctx", "context"})
_REQUEST_TYPE = re.compile(r"\b(\w*Request|Context|ParameterizedContext|GetServerSidePropsContext)\b")
_PAGE_PROPS_FUNCTIONS = frozenset({"generateMetadata"})
# Entry points whose first parameter is the request (`linter.js.invocation.handler_kind`).
_REQUEST_HANDLER_KINDS = frozenset({"request-handler", "middleware", "pages-api", "route-handler", "next-middleware"})
_NEST_DECORATORS = {"Query": QUERY_STRING, "Body": REQUEST_BODY, "Param": ROUTE_PARAMETERS}
_VALIDATING_NAME = re.compile(r"valid|celebrate|schema|zod|joi|yup|sanitiz", re.IGNORECASE)
_EXPRESS_VALIDATOR_CHAINS = frozenset({"query", "body", "param", "check", "checkSchema", "checkQuery", "oneOf"})
_ROUTER_METHODS = frozenset({"get", "post", "put", "patch", "delete", "all", "route", "use"})

_REQUEST_PROPERTIES = {
    "query": (PARAMS, QUERY_STRING),
    "body": (PARAMS, REQUEST_BODY),
    "params": (PARAMS, ROUTE_PARAMETERS),
    "request": (REQUEST, None),
    "req": (REQUEST, None),
    "nextUrl": (URL, None),
    "url": (URL_STRING, None),
    "searchParams": (SEARCH_PARAMS, QUERY_STRING),
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


def parameter_input(binding: Binding, file: "FileContext") -> Input | None:
    """What the function parameter `binding` holds, before its destructuring path: a request, page props, or
    nothing the client controls."""
    fn, param = binding.function, binding.declarator
    if fn is None or param is None:
        return None
    decorated = _nest_parameter(param)
    if decorated is not None:
        return decorated
    if binding.index == 0 and _is_page_component(fn, file):
        return Input(PAGE_PROPS)
    if binding.index == 1 and is_app_route(file.path) and exported_name(fn, file.root) is not None:
        return Input(PAGE_PROPS)  # `GET(request, { params })`
    if binding.index != 0:
        return None
    if binding.path == () and _looks_like_request(param):
        return Input(REQUEST)
    if handler_kind(fn, file.path, file.root) in _REQUEST_HANDLER_KINDS:
        return Input(REQUEST)  # `app.get('/', (c) => …)`, `router.get('/', async ({ query }, res) => …)`
    return None


def _nest_parameter(param: Node) -> Input | None:
    """NestJS `@Query('limit') limit` (a value) and `@Query() query: ListDto` (a bag; see `dto_class`)."""
    for child in param.children:
        if child.type != "decorator" or not child.named_children:
            continue
        call = child.named_children[0]
        if call.type != "call_expression":
            continue
        origin = _NEST_DECORATORS.get(text(call.child_by_field_name("function")))
        if origin is None:
            continue
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        key = string_value(arguments[0]) if arguments else None
        return Input(VALUE, origin, key) if key is not None else Input(PARAMS, origin)
    return None


def dto_type_name(param: Node) -> str | None:
    """`ListDto` for `@Query() query: ListDto`: the class a NestJS pipe validates the bag with."""
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    named = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    return text(named) if named is not None and named.type == "type_identifier" else None


def _looks_like_request(param: Node) -> bool:
    name = param.child_by_field_name("pattern") if param.type in ("required_parameter", "optional_parameter") else param
    if name is not None and name.type == "identifier" and text(name) in REQUEST_PARAMETER_NAMES:
        return True
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    return annotation is not None and _REQUEST_TYPE.search(text(annotation)) is not None


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
    if current.kind == PARAMS:
        return Input(VALUE, current.origin, prop)
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
    if current.kind == PARAMS and method == "get" and first is not None:  # a `Map`-like bag
        return Input(VALUE, current.origin, first)
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
    """`Object.fromEntries(searchParams)` (or of `searchParams.entries()`) is a bag of the query string."""
    if argument is not None and argument.kind == SEARCH_PARAMS:
        return Input(PARAMS, QUERY_STRING)
    return None


def validated_by_route(fn: Node | None) -> bool:
    """`router.get('/', validate(listSchema), handler)`, `celebrate(...)`, `query('limit').isInt({ max: 100 })`,
    Fastify `{ schema: ... }`: the handler's input was checked by middleware this file may not show."""
    current = fn
    for _ in range(4):  # through wrappers such as `asyncHandler(async (req, res) => ...)`
        if current is None or current.parent is None:
            return False
        parent = current.parent
        if parent.type == "parenthesized_expression":
            current = parent
            continue
        if parent.type != "arguments" or parent.parent is None:
            return False
        registration = callee(parent.parent)
        if registration is None or property_name(registration) not in _ROUTER_METHODS:
            current = parent.parent
            continue
        return any(other != current and _validates(other) for other in parent.named_children)
    return False


def _validates(middleware: Node) -> bool:
    """`validate(schema)`, `celebrate({...})`, `zValidator('query', s)`, `listValidator`, express-validator's
    `query('limit').isInt({ max: 100 })`, a Fastify `{ schema: ... }`, or an array of them."""
    node = unwrap(middleware)
    if node is None:
        return False
    if node.type == "array":
        return any(_validates(item) for item in node.named_children)
    if node.type == "identifier":
        return _VALIDATING_NAME.search(text(node)) is not None
    if node.type == "object":
        return "schema" in object_keys(node)
    if node.type != "call_expression":
        return False
    if _VALIDATING_NAME.search(text(callee(node))):
        return True  # `validate(schema)`, `validator.validateQuery(schema)`
    root: Node | None = node
    while root is not None and root.type == "call_expression":
        function = callee(root)
        if function is None or function.type != "member_expression":
            return text(function) in _EXPRESS_VALIDATOR_CHAINS or _VALIDATING_NAME.search(text(function)) is not None
        root = unwrap(member_object(function))
    return False
