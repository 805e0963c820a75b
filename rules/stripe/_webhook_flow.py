"""How a Stripe webhook's request body moves: the flow specs of the `stripe` rules, and what verifies an event.

Both specs follow the request body (`req.body`, `await request.json()`, `JSON.parse(await request.text())`) and
mark how it was read, in the steps of the flow: parsed by `.json()` or `JSON.parse`, handed over parsed by a
NestJS `@Body()`, or read raw (`await request.text()`, `arrayBuffer()`). What Stripe returns from a check is
not the client's: `constructEvent(Async)`, `verifyHeader` and `stripe.events.retrieve` stop a flow.

- `PAYLOAD` follows what a handler hands `constructEvent` as the payload;
- `UNVERIFIED_EVENT` follows an event whose type a handler reads back to the request; it also stops at the
  request of a handler that verifies (`handler_verifies`): one that calls something verifying the event (the
  calls above, a helper whose name says it verifies, an HMAC) or passes the `stripe-signature` header on.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.flow.spec import RequestValueSpec
from linter.flow.tracer import Flow, Step
from linter.frameworks.nestjs import decorated_parameter
from linter.frameworks.origins import REQUEST_BODY
from linter.frameworks.request_inputs import PARAMS, REQUEST, VALUE, Input
from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, member_chain, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, function_body
from linter.syntax import Node, descendants_of_types, node_fact, text

from ._handlers import registered_behind_middleware

PARSED_BY_JSON = "parsed by `.json()`"
PARSED_BY_JSON_PARSE = "parsed by `JSON.parse()`"
PARSED_BY_NEST = "parsed by NestJS (`@Body()`)"
READ_RAW = "read raw"
RAW_BODY = "raw body"

VERIFYING_METHODS = frozenset({"constructEvent", "constructEventAsync", "verifyHeader", "verifyHeaderAsync"})
# Helpers of the project that verify a webhook, by their name: `verifyStripeWebhook(req)`, `getVerifiedEvent(…)`.
_VERIFYING_NAME = lazy_re.compile(r"verif|signature|constructevent|validate\w*webhook|webhook\w*valid|createhmac", re.I)
_RAW_METHODS = frozenset({"text", "arrayBuffer", "blob", "bytes"})
_LOGGING_ROOTS = frozenset({"console", "logger", "log", "Sentry", "debug"})
_SIGNATURE_HEADER = "stripe-signature"


class _WebhookBodySpec(RequestValueSpec):
    """The request body of a webhook, and how the handler read it."""

    def call(self, call: Node, name: str, arguments: list[Node], tracer, frame, depth: int):
        method = name.rsplit(".", 1)[-1]
        if method in VERIFYING_METHODS or name.endswith("events.retrieve"):
            return None  # what Stripe verified, or fetched itself
        if name == "JSON.parse" and arguments:
            inner = tracer.trace_in(arguments[0], frame, depth)
            if inner is None or inner.input is None or inner.input.origin != REQUEST_BODY:
                return None
            return inner.then(call, PARSED_BY_JSON_PARSE, input=Input(PARAMS, REQUEST_BODY))
        if (method in _RAW_METHODS or method == "json") and not arguments:
            function = callee(call)
            if function is None or function.type != "member_expression":
                return NotImplemented
            inner = tracer.trace_in(member_object(function), frame, depth)
            if inner is None or inner.input is None or inner.input.kind != REQUEST:
                return NotImplemented
            if method == "json":
                return inner.then(call, PARSED_BY_JSON, input=Input(PARAMS, REQUEST_BODY))
            return inner.then(call, READ_RAW, input=Input(VALUE, REQUEST_BODY, RAW_BODY))
        return NotImplemented

    def value(self, node: Node, tracer, frame, depth: int):
        binding = declaration_of(node) if node.type == "identifier" else None
        if binding is None or binding.kind != "param" or binding.declarator is None:
            return NotImplemented
        decorated = decorated_parameter(binding.declarator)
        if decorated is not None and decorated.origin == REQUEST_BODY and decorated.key is None and not binding.path:
            return Flow(Input(PARAMS, REQUEST_BODY), (Step(node, PARSED_BY_NEST),))
        return NotImplemented


class PayloadSpec(_WebhookBodySpec):
    name = "stripe-payload"


class UnverifiedEventSpec(_WebhookBodySpec):
    name = "stripe-unverified-event"

    def value(self, node: Node, tracer, frame, depth: int):
        binding = declaration_of(node) if node.type == "identifier" else None
        if binding is not None and binding.kind == "param" and binding.function is not None:
            if handler_verifies(binding.function) or _behind_middleware(binding.function, tracer.file):
                return None
        return super().value(node, tracer, frame, depth)


PAYLOAD = PayloadSpec()
UNVERIFIED_EVENT = UnverifiedEventSpec()


def _behind_middleware(fn: Node, file) -> bool:
    return node_fact(fn, "stripe.behind-middleware", lambda f: registered_behind_middleware(f, file))


def handler_verifies(fn: Node) -> bool:
    """`fn` verifies the webhook it handles, or hands that to code it calls (see the module)."""
    return node_fact(fn, "stripe.verifies", _verifies)


def _verifies(fn: Node) -> bool:
    body = function_body(fn)
    if body is None:
        return False
    for call in descendants_of_types(body, ("call_expression",)):
        function = callee(call)
        name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
        if name in VERIFYING_METHODS or text(function).endswith("events.retrieve"):
            return True
        if name and _VERIFYING_NAME.search(name):
            return True
    return any(_passed_on(read, fn) for read in signature_reads(body))


def signature_reads(scope: Node) -> list[Node]:
    """The expressions under `scope` that read the `stripe-signature` header: `req.headers['stripe-signature']`,
    `request.headers.get('Stripe-Signature')`, `req.header('stripe-signature')`."""
    reads = []
    for fragment in descendants_of_types(scope, ("string_fragment",)):
        if text(fragment).lower() != _SIGNATURE_HEADER:
            continue
        literal = outermost(fragment.parent) if fragment.parent is not None else None
        parent = literal.parent if literal is not None else None
        if parent is None:
            continue
        if parent.type == "subscript_expression":
            reads.append(outermost(parent))
        elif parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
            reads.append(outermost(parent.parent))
    return reads


def _passed_on(read: Node, fn: Node) -> bool:
    """The signature `read` (or the name it is stored in) is an argument of a call other than logging."""
    holder = read.parent
    if holder is not None and holder.type == "await_expression":
        read = outermost(holder)
        holder = read.parent
    if _argument_of_call(read, fn):
        return True
    if holder is None or holder.type != "variable_declarator" or holder.child_by_field_name("value") != read:
        return False
    name = holder.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return _argument_of_call(holder, fn)
    body = function_body(fn)
    for use in descendants_of_types(body, ("identifier", "shorthand_property_identifier")) if body is not None else ():
        if use == name or text(use) != text(name):
            continue
        binding = declaration_of(use) if use.type == "identifier" else None
        if use.type == "identifier" and (binding is None or binding.declarator != holder):
            continue
        if _argument_of_call(use, fn):
            return True
    return False


def _argument_of_call(node: Node, fn: Node) -> bool:
    current = node
    while current.parent is not None and current != fn:
        parent = current.parent
        if parent.type in FUNCTION_TYPES:
            return False
        if parent.type == "arguments" and parent.parent is not None and parent.parent.type in ("call_expression", "new_expression"):
            root, _ = member_chain(callee(parent.parent))
            if root is None or text(root) not in _LOGGING_ROOTS:
                return True
        if parent.type in ("expression_statement", "statement_block", "if_statement", "return_statement"):
            return False
        current = parent
    return False


def request_reads_body(fn: Node) -> bool:
    """`fn` reads the request body: `req.body`, `request.json()`, `request.text()`, `request.arrayBuffer()`."""
    body = function_body(fn)
    if body is None:
        return False
    for node in descendants_of_types(body, ("member_expression",)):
        name = property_name(node)
        if name == "body":
            return True
        if name in _RAW_METHODS or name == "json":
            call = node.parent
            if call is not None and call.type == "call_expression" and not arguments_of(call):
                return True
    return False


def stringified(argument: Node) -> Node | None:
    """The `JSON.stringify(…)` a payload is (directly, through `Buffer.from` or `String`, or a `const` of it)."""
    node = unwrap(argument)
    for _ in range(4):
        if node is None:
            return None
        if node.type == "identifier":
            binding = declaration_of(node)
            if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
                return None
            node = unwrap(binding.declarator.child_by_field_name("value"))
            continue
        if node.type != "call_expression":
            return None
        name = text(callee(node))
        if name == "JSON.stringify":
            return node
        if name not in ("Buffer.from", "String") or not arguments_of(node):
            return None
        node = unwrap(arguments_of(node)[0])
    return None
