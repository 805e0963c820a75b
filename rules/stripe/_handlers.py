"""Webhook handlers: the request handler around a piece of code, and the registrations that may verify for it.

A route registered with middleware other than a body parser before its handler
(`router.post('/stripe', verifyStripeSignature, handler)`) is trusted: that middleware may check the signature
and hand the handler a verified event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.modules import module_graph
from linter.flow.project import handler_registrations
from linter.js.expressions import arguments_of, unwrap
from linter.js.functions import enclosing_function, function_chain, parameter_names
from linter.js.invocation import REQUEST_KINDS, handler_kind
from linter.model import Location
from linter.syntax import Node, text

from ._body_parsers import parser_of, registration_method, registrations_of, route_path

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

_REQUEST_NAMES = frozenset({"req", "request", "_req", "_request"})
_REQUEST_TYPE = lazy_re.compile(r"\b\w*Request\b")


def request_handler(node: Node, file: "FileContext") -> Node | None:
    """The innermost function around `node` that handles a request: a route handler or middleware by the
    framework's conventions, or a function whose first parameter is the request."""
    fn = enclosing_function(node)
    for outer in function_chain(fn) if fn is not None else ():
        if handler_kind(outer, file.path, file.root) in REQUEST_KINDS or _takes_request(outer):
            return outer
    return None


def _takes_request(fn: Node) -> bool:
    names = parameter_names(fn)
    if names and names[0] in _REQUEST_NAMES:
        return True
    params = fn.child_by_field_name("parameters")
    first = next((p for p in params.named_children if p.type != "comment"), None) if params is not None else None
    annotation = first.child_by_field_name("type") if first is not None and first.type in ("required_parameter", "optional_parameter") else None
    return annotation is not None and _REQUEST_TYPE.search(text(annotation)) is not None


def registered_behind_middleware(handler: Node, file: "FileContext") -> bool:
    """The handler is registered in this file after middleware that is not a body parser."""
    return any(_guarded(call, index, file) for call, index in registrations_of(handler, file))


def _guarded(call: Node, index: int, file: "FileContext") -> bool:
    arguments = arguments_of(call)
    _, start = route_path(arguments, registration_method(call))
    return any(parser_of(argument, file)[0] is None for argument in arguments[start:index])


def registrations_elsewhere(project: "ProjectIndex", path: str, key: str) -> list[tuple[Location, bool]]:
    """Where the modules register handler `key` of `path`: the reference, and whether middleware other than a
    body parser runs before it there."""
    found = []
    for file, reference in handler_registrations(module_graph(project), path, key):
        parent = reference.parent
        if parent is None or parent.type != "arguments" or registration_method(parent.parent) is None:
            continue
        values = [unwrap(a) for a in arguments_of(parent.parent)]
        index = values.index(unwrap(reference)) if unwrap(reference) in values else len(values)
        found.append((file.location(reference, "registered here"), _guarded(parent.parent, index, file)))
    return found
