"""NestJS's `ValidationPipe`, and whether it strips what a DTO class does not declare (`whitelist: true`).

Without `whitelist`, class-validator checks the properties a DTO declares and leaves the others in the object
the handler receives; with it, they are removed (or refused, with `forbidNonWhitelisted`). A pipe applies
to a handler when it is given to the parameter (`@Body(new ValidationPipe({ whitelist: true }))`), to the
method or the controller class (`@UsePipes(…)`), or to the whole app (`app.useGlobalPipes(…)`, or a provider
`{ provide: APP_PIPE, useValue: … }`).
"""

from __future__ import annotations

from linter.frameworks.nestjs import decorated_parameter, handler_decorators
from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, member_chain, object_keys, property_name, unwrap
from linter.syntax import Node, text, walk

from ._request_bags import resolve_local

PIPE = "ValidationPipe"
_MAX_CLIMB = 8


def whitelists(new_pipe: Node) -> bool:
    """`new ValidationPipe({ whitelist: true, … })`, the options written in the call or in a `const` of the file."""
    if new_pipe.type != "new_expression" or text(callee(new_pipe)) != PIPE:
        return False
    arguments = arguments_of(new_pipe)
    options = resolve_local(arguments[0]) if arguments else None
    if options is None or options.type != "object":
        return False
    entries = object_keys(options)
    return text(entries.get("whitelist")) == "true"


def is_global(new_pipe: Node) -> bool:
    """The pipe is given to `app.useGlobalPipes(…)` or provided as `APP_PIPE`."""
    node = new_pipe
    for _ in range(_MAX_CLIMB):
        node = node.parent
        if node is None:
            return False
        if node.type == "call_expression" and property_name(callee(node)) == "useGlobalPipes":
            return True
        if node.type == "object" and text(object_keys(node).get("provide")) == "APP_PIPE":
            return True
    return False


def handler_whitelists(param: Node) -> bool:
    """A whitelisting pipe on the parameter, on its method or on the method's class."""
    return any(node.type == "new_expression" and whitelists(node) for decorator in handler_decorators(param) for node in walk(decorator))


def dto_parameter(node: Node | None) -> Node | None:
    """The NestJS handler parameter a value is, when it is a bag checked by a DTO class (`@Body() dto:
    CreateUserDto`): the value itself, a property read from it, or a spread of it."""
    node = unwrap(node)
    if node is not None and node.type == "spread_element" and node.named_children:
        node = unwrap(node.named_children[0])
    root, _ = member_chain(node)
    if root is None or root.type != "identifier":
        return None
    binding = declaration_of(root)
    if binding is None or binding.kind != "param" or binding.declarator is None:
        return None
    decorated = decorated_parameter(binding.declarator)
    return binding.declarator if decorated is not None and decorated.dto is not None else None
