"""A Stripe webhook handler acts on an event whose signature it does not verify, or cannot verify.

## Why is this bad?
A webhook endpoint is public: anyone who finds `/api/webhooks/stripe` can post
`{"type": "checkout.session.completed", …}` to it. Only the `Stripe-Signature` header, checked by
`stripe.webhooks.constructEvent(rawBody, signature, endpointSecret)`, proves that Stripe sent the event; a handler
that skips it hands out paid plans, credits or shipped orders to whoever asks.

The check signs the exact bytes Stripe sent, so it needs the raw body. A body that was parsed first
(`express.json()` registered before the webhook route, `await request.json()` in a Next.js route handler, a
Next.js API route that keeps its body parser, a NestJS `@Body()`) and turned back into text with
`JSON.stringify` never matches: every real event fails, and the usual "fix" is to drop the check.

The rule reports:
- a handler that reads the event type from the request body (`switch (event.type)` with Stripe event types such
  as `checkout.session.completed`, `invoice.paid`, `customer.subscription.*`) or the event's `data.object`, and
  verifies nothing: no `constructEvent(Async)`, no `stripe.events.retrieve`, no helper or middleware that checks
  the signature;
- a handler that reads the `stripe-signature` header, uses the body, and never passes the signature on;
- `constructEvent` given a parsed body: `JSON.stringify(…)`, `await request.json()`, `JSON.parse(…)`, a NestJS
  `@Body()`, `req.body` of a Next.js API route without `export const config = { api: { bodyParser: false } }`, or
  `req.body` of an Express route that a JSON parser reaches first. The order is read as Express runs it: the
  app's middleware before the router is mounted, the mount's, the router's, then the route's, across the modules
  that mount the router (`app.use('/webhooks', webhookRouter)` after `app.use(express.json())`), register the
  handler, or set the route up (`registerStripeWebhook(app)`);
- a handler that carries on with the unverified body when the check fails (a `catch` that falls back to
  `JSON.parse(body)`) or is skipped (`let event = req.body; if (secret) { event = constructEvent(…) }`).

It is quiet for `express.raw({ type: 'application/json' })` on the route (or its mount) when no JSON parser runs
before it, for `await request.text()`, `await request.arrayBuffer()` and raw-body helpers, for `req.rawBody`
kept by a parser's `verify` hook, and for events a handler receives from code that verified them. There is no
automatic fix: reading the raw body changes how the whole handler reads the request.

## Example
```js
const express = require('express');
const Stripe = require('stripe');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);
const app = express();
app.use(express.json());

app.post('/webhooks/stripe', (req, res) => {
  const signature = req.headers['stripe-signature'];
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  res.json({ received: true, type: event.type });
});
```

## Use instead
```js
const express = require('express');
const Stripe = require('stripe');

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY);
const app = express();

// Registered before the JSON parser, with the raw body Stripe signed.
app.post('/webhooks/stripe', express.raw({ type: 'application/json' }), (req, res) => {
  const signature = req.headers['stripe-signature'];
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, signature, process.env.STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  res.json({ received: true, type: event.type });
});

app.use(express.json());
```

## References
- [Stripe: Verify webhook signatures with official libraries](https://docs.stripe.com/webhooks#verify-official-libraries)
- [Stripe: Resolve webhook signature verification errors](https://docs.stripe.com/webhooks/signature)
- [Next.js: API routes, custom config (`bodyParser`)](https://nextjs.org/docs/pages/building-your-application/routing/api-routes#custom-config)
- [CWE-345: Insufficient Verification of Data Authenticity](https://cwe.mitre.org/data/definitions/345.html)
"""

from __future__ import annotations

from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.flow.file_flow import file_flow
from linter.flow.project import cross_file_reaches, hop_locations
from linter.frameworks import EXPRESS, NESTJS, NEXTJS
from linter.frameworks.nextjs import is_next_routed, is_pages_api
from linter.frameworks.origins import REQUEST_BODY
from linter.frameworks.request_inputs import PARAMS
from linter.js.exports import function_key
from linter.js.expressions import arguments_of, callee, member_object, property_name
from linter.js.functions import enclosing_function, function_chain
from linter.model import Finding, Level, Location, Precision
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node, text

from ._body_parsers import Parsed, Pending, handler_outcomes, resolve_pending, verdict
from ._events import STRIPE_EVENT_QUERY_PATTERN, compared_expressions
from ._fallbacks import unverified_fallback
from ._handlers import registered_behind_middleware, registrations_elsewhere, request_handler
from ._webhook_flow import (
    PARSED_BY_JSON,
    PARSED_BY_JSON_PARSE,
    PARSED_BY_NEST,
    PAYLOAD,
    UNVERIFIED_EVENT,
    handler_verifies,
    request_reads_body,
    signature_reads,
    stringified,
)

PENDING_PARSER, HANDLER_ELSEWHERE = "pending-parser", "handler-elsewhere"
_BODY_PARSER_OFF = lazy_re.compile(rb"bodyParser\s*:\s*false")
_RAW_BODY_ADVICE = "pass the raw body Stripe signed"
_UNVERIFIED = (
    "acts on the request body as a Stripe event without verifying its signature, so anyone can post a forged "
    "`checkout.session.completed`; verify it with `stripe.webhooks.constructEvent(rawBody, signature, secret)` "
    "and use the event it returns."
)
_PARSED_MESSAGES = {
    PARSED_BY_JSON: "`.json()` has already parsed the body that `constructEvent` is given; read it with "
    "`await request.text()` instead, the raw text Stripe signed.",
    PARSED_BY_JSON_PARSE: "`constructEvent` is given a body parsed with `JSON.parse`, not the raw text Stripe "
    "signed, so every real event fails verification; pass the raw text.",
    PARSED_BY_NEST: "`@Body()` is the body NestJS parsed, not the raw bytes Stripe signed, so every real event "
    "fails verification; create the app with `rawBody: true` and pass `req.rawBody`.",
}


class WebhookUnverified(Rule):
    id = "stripe/webhook-unverified"
    project_reports_at = frozenset({PENDING_PARSER, HANDLER_ELSEWHERE, "sink"})
    name = "WebhookUnverified"
    level = Level.ERROR
    frameworks = (EXPRESS, NEXTJS, NESTJS)
    precision = Precision.HIGH
    security_severity = "8.1"
    tags = ("security", "stripe", "webhooks", "external/cwe/cwe-345")
    requires = ("stripe",)
    needles = (
        b"constructEvent", b"tripe-", b"checkout.session.", b"customer.subscription.", b"invoice.", b"invoiceitem.",
        b"payment_intent.", b"charge.", b"setup_intent.", b"payment_method.", b"subscription_schedule.",
        b"billing_portal.session.", b"customer.source.", b"data.object", b"data?.object",
    )  # fmt: skip
    # The method's name, an event type's prefix, the signature header's, the `object` of `event.data.object`.
    query_anchors = (
        b"constructEvent", b"tripe-", b"checkout.session.", b"customer.subscription.", b"invoice.", b"invoiceitem.",
        b"payment_intent.", b"charge.", b"setup_intent.", b"payment_method.", b"subscription_schedule.",
        b"billing_portal.session.", b"customer.source.", b"object",
    )  # fmt: skip
    flow_spec = UNVERIFIED_EVENT
    query = f"""
(call_expression
  function: (member_expression property: (property_identifier) @method (#match? @method "^constructEvent(Async)?$"))) @construct
((string_fragment) @event (#match? @event "{STRIPE_EVENT_QUERY_PATTERN}"))
((string_fragment) @signature (#match? @signature "^[Ss]tripe-[Ss]ignature$"))
(member_expression
  object: (member_expression property: (property_identifier) @data (#eq? @data "data"))
  property: (property_identifier) @object (#eq? @object "object")) @data_object
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding | Fact]:
        if file.is_test:
            return
        if match.get("construct") is not None:
            yield from self._verification(match["construct"], file)
        elif match.get("event") is not None:
            yield from self._unverified_events(compared_expressions(match["event"]), file)
        elif match.get("data_object") is not None:
            # `event.data.object`: the shape of a Stripe event, whatever its type
            yield from self._unverified_events([member_object(match["data_object"])], file)
        elif match.get("signature") is not None:
            yield from self._signature_only(match["signature"], file)

    # constructEvent ------------------------------------------------------------------------------------

    def _verification(self, call: Node, file: FileContext) -> Iterator[Finding | Fact]:
        arguments = arguments_of(call)
        if len(arguments) < 3 or not _stripe_webhooks(call):
            return  # other providers' `constructEvent(payload, signature)` (ComplyCube, Mangopay) take two
        payload = arguments[0]
        encoded = stringified(payload)
        if encoded is not None:
            yield file.report(
                self,
                payload,
                "`constructEvent` is given `JSON.stringify(…)` of a parsed body, not the raw bytes Stripe signed, so "
                f"every real event fails verification (and invites skipping it); {_RAW_BODY_ADVICE}.",
                related=[file.location(encoded, "the body is serialized again here")],
            )
            return
        trace = file_flow(file, PAYLOAD).trace
        flow = trace(payload)
        if flow is not None and flow.symbol is None and flow.input is not None:
            if flow.input.kind == PARAMS and flow.input.origin == REQUEST_BODY:
                step = next((s for s in reversed(flow.steps) if s.note in _PARSED_MESSAGES), None)
                if step is not None:
                    yield file.report(self, payload, _PARSED_MESSAGES[step.note], related=[file.location(step.node, step.note)])
                    return
                yield from self._request_body(call, payload, file)
        fallback = unverified_fallback(call, lambda value: _is_request_body(trace(value)))
        if fallback is not None:
            yield file.report(
                self,
                callee(call) or call,
                "When the signature check fails or is skipped, the handler carries on with the unverified request "
                "body; respond with a 400 and stop instead.",
                related=[file.location(fallback, "the unverified body is used here")],
            )

    def _request_body(self, call: Node, payload: Node, file: FileContext) -> Iterator[Finding | Fact]:
        """`req.body` as the payload: what it holds depends on the framework's body parsing."""
        if is_pages_api(file.path):
            if _BODY_PARSER_OFF.search(file.source) is None:
                yield file.report(
                    self,
                    payload,
                    "Next.js parses the body of this API route (there is no `export const config = { api: { bodyParser: "
                    "false } }`), so `req.body` is an object, not the raw bytes Stripe signed; turn the body parser off "
                    "and read the raw body.",
                )
            return
        if is_next_routed(file.path) or not file.depends_on(("express",)):
            return
        handler = request_handler(call, file)
        if handler is None:
            return
        outcomes = handler_outcomes(handler, file)
        pending = [outcome.data() | {"path": outcome.path} for outcome in outcomes if isinstance(outcome, Pending)]
        if pending:  # the rest of the answer is in other modules
            local = [o.parser.model_dump(mode="json") if isinstance(o, Parsed) else o for o in outcomes if not isinstance(o, Pending)]
            yield file.fact(self, PENDING_PARSER, payload, pending=pending, local=local)
            return
        parsed = verdict(outcomes)
        if parsed is not None:
            yield self._parsed_finding(file.location(payload), parsed.parser)

    def _parsed_finding(self, payload: Location, parser: Location) -> Finding:
        where = f" ({parser.path}:{parser.span.start_line})" if parser.path != payload.path else f" (line {parser.span.start_line})"
        message = (
            f"A JSON body parser{where} runs before this webhook route, so `req.body` is an object, not the raw bytes "
            "Stripe signed, and every real event fails verification; register the route with "
            "`express.raw({ type: 'application/json' })` before the JSON parser."
        )
        related = [parser.model_copy(update={"message": "parses the body first"})]
        return self.finding(payload, message, related=related)

    # event types ---------------------------------------------------------------------------------------

    def _unverified_events(self, expressions: list[Node], file: FileContext) -> Iterator[Finding | Fact]:
        """`expressions` read a Stripe event (its type, its `data`): reported when the event is the request
        body that nothing verified."""
        flows = file_flow(file, UNVERIFIED_EVENT)
        reported = file.memo("stripe.reported-handlers", set)
        for expression in expressions:
            if expression is None:
                continue
            owner = _outermost_function(expression)
            if owner in reported:
                continue
            flow = flows.reach(expression)
            if flow is None:
                continue
            if flow.symbol is not None or flow.checks:
                flows.keep(flow, expression, "the event")
                continue
            reported.add(owner)
            if flow.handler is not None:  # registered by another module: its registrations may verify
                yield file.fact(self, HANDLER_ELSEWHERE, expression, key=function_key(flow.handler))
                continue
            source = flow.steps[0].node if flow.steps else expression
            yield file.report(
                self,
                expression,
                f"This webhook handler {_UNVERIFIED}",
                related=[file.location(source, "the event comes from the request body")],
                code_flow=[file.location(step.node, step.note) for step in flow.steps],
            )

    def _signature_only(self, fragment: Node, file: FileContext) -> Iterator[Finding]:
        handler = request_handler(fragment, file)
        if handler is None or handler_verifies(handler) or not request_reads_body(handler):
            return
        if registered_behind_middleware(handler, file):
            return
        reported = file.memo("stripe.reported-handlers", set)
        owner = _outermost_function(fragment)
        if owner in reported:
            return
        reads = [read for read in signature_reads(handler) if read.start_byte <= fragment.start_byte < read.end_byte]
        if not reads:
            return
        reported.add(owner)
        yield file.report(
            self,
            reads[0],
            "The handler reads the `stripe-signature` header but never verifies it, and uses the request body; pass the "
            "raw body, the signature and the endpoint secret to `stripe.webhooks.constructEvent()`.",
        )

    # the project phase ---------------------------------------------------------------------------------

    def check_project(self, project) -> Iterator[Finding]:
        for fact in facts_of(project, self, PENDING_PARSER):
            if fact.path not in project.reported_paths:
                continue
            outcomes = [Parsed(Location.model_validate(o)) if isinstance(o, dict) else o for o in fact.data["local"]]
            for pending in fact.data["pending"]:
                outcomes.extend(resolve_pending(project, Pending.of(pending["path"], pending)))
            parsed = verdict(outcomes)
            if parsed is not None:
                yield self._parsed_finding(fact.location(), parsed.parser)
        for fact in facts_of(project, self, HANDLER_ELSEWHERE):
            if fact.path not in project.reported_paths or fact.data.get("key") is None:
                continue
            registrations = registrations_elsewhere(project, fact.path, fact.data["key"])
            if any(guarded for _, guarded in registrations):
                continue
            related = [location for location, _ in registrations]
            yield self.finding(fact.location(), f"This webhook handler {_UNVERIFIED}", related=related)
        seen = set()
        for reach in cross_file_reaches(project, UNVERIFIED_EVENT):
            if reach.sink_path not in project.reported_paths or (reach.source_path, reach.sink_path) in seen:
                continue
            seen.add((reach.source_path, reach.sink_path))
            code_flow = hop_locations(reach.hops)
            first = code_flow[0] if code_flow else Location(path=reach.source_path, span=reach.sink.anchor)
            message = f"The webhook handler in {reach.source_path} passes the request body here, and this code {_UNVERIFIED}"
            related = [first.model_copy(update={"message": "the unverified body comes from the request here"})]
            yield self.finding(Location(path=reach.sink_path, span=reach.sink.anchor), message, related=related, code_flow=code_flow)


def _stripe_webhooks(call: Node) -> bool:
    """`stripe.webhooks.constructEvent(…)`, `this.stripe.webhooks…`, `Stripe.webhooks…`, a destructured `webhooks`."""
    function = callee(call)
    receiver = member_object(function) if function is not None and function.type == "member_expression" else None
    return receiver is not None and (property_name(receiver) == "webhooks" or text(receiver) == "webhooks")


def _is_request_body(flow) -> bool:
    return flow is not None and flow.symbol is None and flow.input is not None and flow.input.origin == REQUEST_BODY


def _outermost_function(node: Node) -> tuple[int, int]:
    fn = enclosing_function(node)
    chain = function_chain(fn) if fn is not None else []
    top = chain[-1] if chain else None
    return (top.start_byte, top.end_byte) if top is not None else (0, 0)
