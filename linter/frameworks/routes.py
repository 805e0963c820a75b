"""Route registrations of the Express-style routers (Express, Fastify, Hono, Koa router): the schemas a
registration checks a handler's input with.

- Fastify: `fastify.get(path, { schema: { querystring, body, params } }, handler)`, `fastify.get(path, { schema,
  handler })`, `fastify.route({ method, url, schema, handler })`; the schemas are JSON Schema, TypeBox or zod
  (with a type provider);
- Hono: `app.get(path, zValidator('query', schema), handler)` (also `'json'`, `'form'`, `'param'`, and
  `@hono/zod-openapi`'s `app.openapi(createRoute({ request: { query, params, body } }), handler)`).

`registration_schemas(fn)` gives, for a handler `fn`, the schema checking each part of the request, by the
origin the request inputs name it with (`linter.frameworks.request_inputs`).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.frameworks.origins import QUERY_STRING, REQUEST_BODY, ROUTE_PARAMETERS
from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, descendants_of_types, text

# The methods that register a route handler on an Express, Fastify, Hono or Koa router (`router.get(path, …)`),
# defined once for every rule; `use` registers middleware, `route`/`on`/`openapi` take the route as an object.
HTTP_VERB_METHODS = frozenset({"get", "post", "put", "patch", "delete", "all", "head", "options"})
ROUTE_METHODS = HTTP_VERB_METHODS | {"route", "on", "openapi"}
MIDDLEWARE_METHODS = frozenset({"use"})
_FASTIFY_PARTS = {"querystring": QUERY_STRING, "query": QUERY_STRING, "body": REQUEST_BODY, "params": ROUTE_PARAMETERS}
_HONO_TARGETS = {"query": QUERY_STRING, "json": REQUEST_BODY, "form": REQUEST_BODY, "param": ROUTE_PARAMETERS}
_OPENAPI_PARTS = {"query": QUERY_STRING, "params": ROUTE_PARAMETERS, "body": REQUEST_BODY}
ROUTE_VALIDATORS = frozenset({"zValidator", "validator", "tbValidator", "vValidator", "arktypeValidator", "typiaValidator"})
_WRAPPER_DEPTH = 4
UNREAD_SCHEMA = "*"  # the origin of a route schema this module cannot read (imported, built elsewhere)
# Names of middleware that check the request's input; `validApiKey` or `validSession` checks who calls, not what
# they send, so a bare `valid` is not enough.
_VALIDATING_NAME = lazy_re.compile(r"validat|celebrate|schema|zod|joi|yup|sanitiz", re.IGNORECASE)
_EXPRESS_VALIDATOR_CHAINS = frozenset({"query", "body", "param", "check", "checkSchema", "checkQuery", "oneOf"})


RouteSchema = tuple[str, Node, tuple[str, ...]]  # (origin, expression, properties of it that hold the schema)


def registration_schemas(fn: Node) -> tuple[RouteSchema, ...]:
    """What the route registration of handler `fn` checks its request with: (origin, schema, path) triples. The
    path is empty unless the route schema is defined elsewhere (`{ schema: listSchema }` imported): then the
    part of it that checks the origin is read there (`('querystring',)`)."""
    call, options = _registration(fn)
    if call is None:
        return ()
    found: list[RouteSchema] = []
    if options is not None:
        found.extend(_fastify_schemas(options))
    for argument in arguments_of(call):
        found.extend(_hono_validator(argument))
        found.extend(_middleware_schemas(argument))
    if property_name(callee(call)) == "openapi" and arguments_of(call):
        found.extend(_openapi_schemas(arguments_of(call)[0]))
    return tuple(found)


def _registration(fn: Node) -> tuple[Node | None, Node | None]:
    """The registering call of handler `fn`, and the options object that holds it or sits beside it."""
    current = fn
    for _ in range(_WRAPPER_DEPTH):  # `asyncHandler(async (req, res) => …)`
        parent = current.parent
        while parent is not None and (parent.type == "parenthesized_expression" or _in_handler_array(current)):
            current, parent = parent, parent.parent
        if parent is None:
            return None, None
        if parent.type == "pair" and key_text(parent.child_by_field_name("key")) == "handler" and parent.parent is not None:
            options = parent.parent
            call = options.parent.parent if options.parent is not None and options.parent.type == "arguments" else None
            return (call, options) if call is not None and _is_route_call(call) else (None, None)
        if parent.type != "arguments" or parent.parent is None:
            return None, None
        call = parent.parent
        if _is_route_call(call):
            options = next((unwrap(a) for a in arguments_of(call) if unwrap(a) is not None and unwrap(a).type == "object"), None)
            return call, options
        current = call
    return None, None


def route_handler_references(file) -> list[Node]:
    """The handlers a module registers by reference: names and member chains passed to a router method
    (`router.get('/', validate(s), leads.list)`, `fastify.get('/', { schema }, getItems)`, `{ handler: list }`)."""
    references = []
    for call in descendants_of_types(file.root, ("call_expression",)):
        if not _is_route_call(call) and property_name(callee(call)) not in MIDDLEWARE_METHODS:
            continue
        for argument in arguments_of(call):
            node = unwrap(argument)
            if node is not None and node.type == "object":
                node = unwrap(object_keys(node).get("handler"))
            handlers = [unwrap(item) for item in node.named_children] if node is not None and node.type == "array" else [node]
            references.extend(h for h in handlers if h is not None and h.type in ("identifier", "member_expression"))
    return references


def registration_call(fn: Node) -> Node | None:
    """The route call that registers handler `fn` where it is written (`router.post('/', async (req, res) => …)`)."""
    return _registration(fn)[0]


def registered_here(fn: Node) -> bool:
    """Whether the module registers handler `fn` where it defines it (passed to a router method)."""
    return _registration(fn)[0] is not None or validated_by_route(fn)


def _is_route_call(call: Node) -> bool:
    function = callee(call)
    return function is not None and function.type == "member_expression" and property_name(function) in ROUTE_METHODS


def _fastify_schemas(options: Node) -> list[RouteSchema]:
    schema = _value(object_keys(options).get("schema"))
    if schema is None:
        return []
    if schema.type == "identifier":  # defined in another module: each part is read there
        return [(origin, schema, (part,)) for part, origin in _FASTIFY_PARTS.items()]
    if schema.type != "object":  # built by a call: this module cannot tell what it checks
        return [(UNREAD_SCHEMA, schema, ())]
    return [(_FASTIFY_PARTS[key], value, ()) for key, value in object_keys(schema).items() if key in _FASTIFY_PARTS]


_PART_ORIGINS = {"query": QUERY_STRING, "body": REQUEST_BODY, "params": ROUTE_PARAMETERS}
OPTIONAL_PART = "?"  # a path step read when the schema has that field, else skipped (`validate(schema)`)


def _middleware_schemas(argument: Node) -> list[RouteSchema]:
    """Express validation middleware that names its schema: `validate({ query: S })`, `validate(S, 'query')`,
    or `validate(S)` where S checks `{ query, body, params }` (or the request part it is given, when it has no
    such fields)."""
    node = unwrap(argument)
    if node is None or node.type != "call_expression" or text(callee(node)) in ROUTE_VALIDATORS:
        return []
    if not _VALIDATING_NAME.search(text(callee(node))):
        return []
    arguments = arguments_of(node)
    first = unwrap(arguments[0]) if arguments else None
    if first is None or first.type in ("string", "template_string"):
        return []
    if first.type == "object":
        parts = object_keys(first)
        if parts and set(parts) <= set(_PART_ORIGINS):
            return [(_PART_ORIGINS[key], value, ()) for key, value in parts.items()]
        return []
    target = string_value(arguments[1]) if len(arguments) > 1 else None
    if target in _PART_ORIGINS:
        return [(_PART_ORIGINS[target], first, ())]
    return [(origin, first, (OPTIONAL_PART + part,)) for part, origin in _PART_ORIGINS.items()]


def _hono_validator(argument: Node) -> list[RouteSchema]:
    node = unwrap(argument)
    if node is None or node.type != "call_expression" or text(callee(node)) not in ROUTE_VALIDATORS:
        return []
    arguments = arguments_of(node)
    target = string_value(arguments[0]) if arguments else None
    if target not in _HONO_TARGETS or len(arguments) < 2:
        return []
    return [(_HONO_TARGETS[target], arguments[1], ())]


def _openapi_schemas(route: Node) -> list[RouteSchema]:
    """`createRoute({ request: { query: Q, params: P, body: { content: { 'application/json': { schema: B } } } } })`."""
    created = _value(route)
    if created is None or created.type != "call_expression" or not arguments_of(created):
        return []
    definition = _value(arguments_of(created)[0])
    request = _value(object_keys(definition).get("request")) if definition is not None and definition.type == "object" else None
    if request is None or request.type != "object":
        return []
    found = []
    for key, value in object_keys(request).items():
        if key not in _OPENAPI_PARTS:
            continue
        if key == "body":
            body = _value(value)
            content = _value(object_keys(body).get("content")) if body is not None and body.type == "object" else None
            for media in object_keys(content).values() if content is not None and content.type == "object" else ():
                media = _value(media)
                schema = object_keys(media).get("schema") if media is not None and media.type == "object" else None
                if schema is not None:
                    found.append((REQUEST_BODY, schema, ()))
        else:
            found.append((_OPENAPI_PARTS[key], value, ()))
    return found


def _value(node: Node | None) -> Node | None:
    """An expression, or what a `const` of the same file holds (a route defined above its registration)."""
    node = unwrap(node)
    if node is not None and node.type == "identifier":
        binding = declaration_of(node)
        if binding is not None and binding.kind == "variable" and not binding.path and binding.declarator is not None:
            return unwrap(binding.declarator.child_by_field_name("value")) or node
    return node


def validated_by_route(fn: Node | None) -> bool:
    """`router.get('/', validate(listSchema), handler)`, `celebrate(...)`, `query('limit').isInt({ max: 100 })`:
    the handler's input was checked by middleware this module may not show. `fn` is the handler, or a reference
    to it passed to the registering call."""
    current, element = fn, None
    for _ in range(4):  # through wrappers such as `asyncHandler(async (req, res) => ...)`
        if current is None or current.parent is None:
            return False
        parent = current.parent
        if parent.type == "parenthesized_expression" or _in_handler_array(current):
            current, element = parent, (current if parent.type == "array" else element)
            continue
        if parent.type != "arguments" or parent.parent is None:
            return False
        registration = callee(parent.parent)
        if registration is None or property_name(registration) not in ROUTE_METHODS | MIDDLEWARE_METHODS:
            current = parent.parent
            continue
        others = [other for other in parent.named_children if other != current]
        if element is not None and current.type == "array":  # the handler's neighbours in `[validate(s), handler]`
            others.extend(other for other in current.named_children if other != element)
        return any(_validates(other) and not _middleware_schemas(other) for other in others)
    return False


def _in_handler_array(node: Node) -> bool:
    """`router.get(path, [auth, handler])`: Express flattens an array of handlers into the argument list."""
    array = node.parent
    return array is not None and array.type == "array" and array.parent is not None and array.parent.type == "arguments"


def _validates(middleware: Node) -> bool:
    """`celebrate({...})`, `listValidator`, express-validator's `query('limit').isInt({ max: 100 })`, or an array
    of them: middleware whose schema this file may not show (one that names its schema is read instead)."""
    node = unwrap(middleware)
    if node is None:
        return False
    if node.type == "array":
        return any(_validates(item) for item in node.named_children)
    if node.type == "identifier":
        return _VALIDATING_NAME.search(text(node)) is not None
    if node.type != "call_expression" or text(callee(node)) in ROUTE_VALIDATORS:
        return False  # a Fastify `{ schema }` or a Hono validator: read by `linter.frameworks.routes`
    if _VALIDATING_NAME.search(text(callee(node))):
        return True  # `validate(schema)`, `validator.validateQuery(schema)`
    root: Node | None = node
    while root is not None and root.type == "call_expression":
        function = callee(root)
        if function is None or function.type != "member_expression":
            return text(function) in _EXPRESS_VALIDATOR_CHAINS or _VALIDATING_NAME.search(text(function)) is not None
        root = unwrap(member_object(function))
    return False
