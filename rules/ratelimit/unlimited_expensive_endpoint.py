"""A request handler calls a paid or abusable service (an AI model, email, SMS, uploads) with no rate limiter in front of it.

## Why is this bad?
A route that calls OpenAI or Anthropic, sends an email or an SMS, or accepts file uploads does something that
costs money or harms someone else on every request. Without a per-client limit one script in a loop runs up
the model bill or exhausts the API quota for every user, sends thousands of emails through the app's domain
(spam that ruins its sender reputation), pumps SMS to premium numbers (billed to the app), or fills the disk.
Such routes are best given limits of their own (say 20 AI calls a minute, 50 emails an hour per client),
tighter than an app-wide one; the rule asks only that some limiter stands in front.

The rule follows each call of such a service to the endpoints that run it, through the functions and modules
in between (a controller calling a service module that calls the SDK), and reports the endpoint when no
limiter covers it. The services are recognised by the package the client comes from: the `openai` client
(`chat.completions.create`, `responses.create`, `images.generate`, …), the `@anthropic-ai/sdk` client's
`messages.create`, the AI SDK's (`ai`) `generateText`, `streamText`, `generateObject` and `streamObject`,
nodemailer's `sendMail`, Resend's `emails.send`, `@sendgrid/mail`, Mailgun's and Twilio's `messages.create`,
Postmark's `sendEmail`, busboy, and multer middleware on a route; a client made in another module
(`import { openai } from '@/lib/openai'`) is read there.

A limiter covers the endpoint when it is:
- among the route's middleware (`router.post('/chat', aiLimiter, handler)`), wraps its handler, or is Fastify's
  `config: { rateLimit }` route option;
- applied with `use` before the route, with no path or a path the route is under, in the route's module or
  where its router is mounted (`app.use('/api', limiter)` then `app.use('/api/ai', aiRouter)`); a limiter
  applied with `use` after the route does not cover it;
- checked by the handler or a function it calls (`const { success } = await ratelimit.limit(ip)`, a 429), also
  by hand against stored records: a cooldown that refuses when the last one is too recent (`Date.now() -
  last.sentAt < 60_000`), or a stored count under a stored maximum that the handler bumps (`member.asked <
  member.quota`, then `asked: { increment: 1 }`);
- in Next.js middleware that checks a limit, with a `matcher` that covers the route's path;
- for NestJS, `@UseGuards(ThrottlerGuard)` or `@Throttle()` on the method or controller, a global throttler
  guard (`APP_GUARD`) or limiter middleware applied to the app; `@SkipThrottle()` uncovers a route.

Anything named like a limiter (`rateLimit`, `limiter`, `throttle`) counts, and so does a limiter applied to an
app in a module whose order the rule cannot read. Queue workers, scripts and code that runs once at startup
are not endpoints, and endpoints strangers cannot call at will are left alone: admin-only ones (an `admin`
path segment, middleware or guards named for admins or roles), scheduled jobs (`/api/cron/…`), webhooks, OAuth
callbacks, development aids (`/debug/…`), endpoints only the app's own queues and schedulers pass (a
QStash signature, a cron or internal secret checked by the handler or its wrapper), and handlers that turn
away every other caller before the work by the kind the app's authentication returned (`const claims = await
auth(req, res); if (claims?.type !== 'admin') throw …`, or `assertTrue(claims.type === 'admin', …)`; also a
`'cron'` kind or a session's `role`); a check that only logs, or stands after the work or in a branch the work
is outside of, gates nothing. For Express-style routers
the path and the gate may also stand where the router is used: `router.use(requireAdmin)` before the route, or
on every mount of the router an admin gate among the mount's middleware (`app.use('/manage', signedIn,
checkRole('owner'), router)`) or a not-public path (`app.use('/api/admin', router)`,
`app.use('/api/webhook', router)`). There is no automatic fix:
a limit changes who gets served.

## Example
```js
const express = require('express');
const OpenAI = require('openai');

const app = express();
const openai = new OpenAI();

app.use(express.json());

app.post('/api/summarize', async (req, res) => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `Summarize: ${req.body.text}` }],
  });
  res.json({ summary: completion.choices[0].message.content });
});

app.listen(3000);
```

## Use instead
```js
const express = require('express');
const rateLimit = require('express-rate-limit');
const OpenAI = require('openai');

const app = express();
const openai = new OpenAI();
const aiLimiter = rateLimit({ windowMs: 60 * 1000, limit: 20 });

app.use(express.json());

app.post('/api/summarize', aiLimiter, async (req, res) => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `Summarize: ${req.body.text}` }],
  });
  res.json({ summary: completion.choices[0].message.content });
});

app.listen(3000);
```

## References
- [OWASP API Security Top 10 2023, API4: Unrestricted Resource Consumption](https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/)
- [OWASP API Security Top 10 2023, API6: Unrestricted Access to Sensitive Business Flows](https://owasp.org/API-Security/editions/2023/en/0xa6-unrestricted-access-to-sensitive-business-flows/)
- express-rate-limit — https://express-rate-limit.mintlify.app/overview
- Upstash: rate limiting Next.js routes — https://upstash.com/docs/redis/sdks/ratelimit-ts/overview
- NestJS: Rate limiting — https://docs.nestjs.com/security/rate-limiting
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
"""

from __future__ import annotations

from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.frameworks import EXPRESS, FASTIFY, HONO, NESTJS, NEXTJS
from linter.frameworks.nextjs import is_app_route, is_pages_api
from linter.js.expressions import arguments_of, callee, object_keys, outermost, unwrap
from linter.js.imports import string_value
from linter.model import Finding, Level, Location, Precision
from linter.needles import NeedleSet
from linter.paths import is_test_path
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node, descendants_of_types, text

from ._claims_checks import checked_before
from ._coverage import Coverage, applies_limiter, is_local_router
from ._endpoint_reach import EndpointPath, reach_of
from ._endpoints import Endpoint, endpoint_here, route_endpoint
from ._expensive_calls import AI, EMAIL, SMS, UPLOAD, ExpensiveCall, confirm_import, expensive_calls, upload_of
from ._limit_evidence import is_limiter, may_name_limiter
from ._public_endpoints import not_public

_WHY = {
    AI: "every request is paid for in model tokens, so one client in a loop runs up the bill or uses up the API quota",
    EMAIL: "anyone can make it send mail in bulk (spam from the app's domain, a burned sender reputation)",
    SMS: "every message is billed, and SMS pumping sends thousands to premium numbers",
    UPLOAD: "every request can push large files into memory, disk and storage",
}
_FIX = {
    "express": "add a limiter to the route (`rateLimit({ windowMs: 60_000, limit: 20 })` before the handler)",
    "next": "check a per-client limit in the handler (`@upstash/ratelimit`, answer 429) or in middleware whose matcher covers this path",
    "nest": "add `@UseGuards(ThrottlerGuard)` with `@Throttle()` to the route, or a global throttler `APP_GUARD`",
}
_SDK_NEEDLES = (
    b"openai", b"anthropic", b"'ai'", b'"ai"', b"nodemailer", b"resend", b"sendgrid", b"mailgun", b"postmark",
    b"twilio", b"multer", b"busboy", b"sendMail", b"completions", b"messages.create", b"emails.send", b"sendEmail",
    b"pload",
)  # fmt: skip
_LIMITER_NEEDLES = (b"imit", b"hrottl", b"APP_GUARD", b"useGlobalGuards")
_SDK_NEEDLE_SET = NeedleSet(_SDK_NEEDLES)  # one pass, where most files hold none of them


class UnlimitedExpensiveEndpoint(Rule):
    id = "ratelimit/unlimited-expensive-endpoint"
    project_reports_at = frozenset()
    project_reports_importing = frozenset({"call"})  # the endpoints above the call
    # A call leads to nothing but the endpoints above it, in the modules importing its own (`EndpointReach`;
    # and to the run's bound on the functions climbed, `MAX_FUNCTIONS`, far off in real code: 119 on dub).
    project_reads_for = {"call": "imported"}
    name = "UnlimitedExpensiveEndpoint"
    level = Level.WARNING
    precision = Precision.HIGH
    security_severity = "5.3"
    tags = ("security", "reliability", "cost", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NEXTJS, NESTJS, FASTIFY, HONO)
    needles = _SDK_NEEDLES + _LIMITER_NEEDLES
    query = "(program) @program"

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test:
            return
        source = file.source
        if _SDK_NEEDLE_SET.any_in(source):
            for call in expensive_calls(file):
                yield self._call_fact(file, call)
            for upload in _route_uploads(file):
                yield self._call_fact(file, upload)
        if _may_hold_limiter(source):
            yield from self._limiter_facts(file)

    def may_report_at(self, file: FileContext) -> bool:
        """Where an endpoint may be (`_endpoints`): a route registration, a Next.js route file, a NestJS controller."""
        if is_test_path(file.path):
            return False
        if is_app_route(file.path) or is_pages_api(file.path):
            return True
        if any(route_endpoint(call, file) is not None for call in descendants_of_types(file.root, ("call_expression",))):
            return True
        methods = descendants_of_types(file.root, ("method_definition",)) if b"Controller" in file.source else ()
        return any(endpoint_here(method, file) is not None for method in methods)

    def may_learn_elsewhere(self, source: bytes) -> bool:
        """Where a limiter applied to an app or a global guard may be (`check`)."""
        return _may_hold_limiter(source)

    def _call_fact(self, file: FileContext, call: ExpensiveCall) -> Fact:
        return file.fact(
            self,
            "call",
            call.node,
            start=call.node.start_byte,
            end=call.node.end_byte,
            service=call.kind,
            label=call.label,
            pending=call.pending.to_data() if call.pending is not None else None,
            methods=list(call.methods),
        )

    def _limiter_facts(self, file: FileContext) -> Iterator[Fact]:
        for call, method in _method_calls(file):
            if method in ("use", "register", "apply") and applies_limiter(call, file) and not is_local_router(call, file):
                arguments = arguments_of(call)
                first = unwrap(arguments[0]) if arguments else None
                has_path = first is not None and first.type in ("string", "template_string", "array", "regex")
                prefix = None
                if first is not None and first.type in ("string", "template_string"):
                    prefix = string_value(first)
                yield file.fact(self, "app-use", call, has_path=has_path, prefix=prefix)
            elif method == "useGlobalGuards" and any(is_limiter(a, file) for a in arguments_of(call)):
                yield file.fact(self, "global-guard", call)
        if b"APP_GUARD" in file.source:
            for obj in descendants_of_types(file.root, ("object",)):
                entries = object_keys(obj)
                if text(unwrap(entries.get("provide"))) != "APP_GUARD":
                    continue
                guard = entries.get("useClass") or entries.get("useExisting")
                if guard is not None and is_limiter(guard, file):
                    yield file.fact(self, "global-guard", obj)

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        calls = sorted(facts_of(project, self, "call"), key=lambda f: (f.path, f.data["start"]))
        if not calls:
            return
        graph = module_graph(project)
        reach = reach_of(project)
        coverage = Coverage(project, graph, list(facts_of(project, self, "app-use")), list(facts_of(project, self, "global-guard")))
        reported: set[tuple[str, int]] = set()
        for fact in calls:
            service = self._service(graph, fact)
            if service is None:
                continue
            kind, label = service
            file = graph.file(fact.path)
            node = _node_at(file, fact.data["start"], fact.data["end"]) if file is not None else None
            if node is None:
                continue
            for path in self._paths(reach, file, node, kind):
                endpoint = path.endpoint
                if path.limited or endpoint.key in reported or endpoint.path not in project.reported_paths:
                    continue
                if is_test_path(endpoint.path) or not_public(endpoint) or coverage.gated(endpoint) or coverage.covered(endpoint):
                    continue
                if _privileged_only(graph, endpoint, path, fact.path, node):
                    continue
                reported.add(endpoint.key)
                yield self._finding(graph, endpoint, path, fact, kind, label)

    def _service(self, graph, fact: Fact) -> tuple[str, str] | None:
        data = fact.data
        if data["pending"] is None:
            return data["service"], data["label"]
        confirmed = confirm_import(graph, fact.path, Callee.from_data(data["pending"]), tuple(data["methods"]))
        if confirmed is None:
            return None
        kind, name = confirmed
        label = data["label"] if data["label"].startswith(name) else f"{name} `{data['label']}`"
        return kind, label

    def _paths(self, reach, file: FileContext, node: Node, kind: str) -> list[EndpointPath]:
        if kind == UPLOAD and node.parent is not None and node.parent.type == "arguments":
            endpoint = route_endpoint(node.parent.parent, file)
            return [EndpointPath(endpoint, (), False)] if endpoint is not None else []
        return reach.paths(file.path, node)

    def _finding(self, graph, endpoint: Endpoint, path: EndpointPath, fact: Fact, kind: str, label: str) -> Finding:
        where = f" (in {fact.path})" if fact.path != endpoint.path else ""
        verb = "takes uploads with" if kind == UPLOAD else "calls"
        message = (
            f"{endpoint.label} {verb} {label}{where} with no rate limiter in front of it: {_WHY[kind]}; "
            f"{_FIX[endpoint.framework]}."
        )
        file = graph.file(endpoint.path)
        location = file.location(endpoint.anchor)
        call_location = fact.location(f"{label} runs here on every request")
        code_flow: list[Location] = []
        if path.hops:
            code_flow = [location, *path.hops, call_location]
        return self.finding(location, message, related=[call_location], code_flow=code_flow)


def _may_hold_limiter(source: bytes) -> bool:
    """Whether a file's bytes may hold a limiter applied to an app or a global guard (the facts besides calls)."""
    return any(needle in source for needle in _LIMITER_NEEDLES) and may_name_limiter(source)


def _privileged_only(graph, endpoint: Endpoint, path: EndpointPath, call_path: str, call: Node) -> bool:
    """The handler turns away all but administrators and the app's jobs before the first step towards the
    expensive call (`_claims_checks`): the call itself, or the handler's call on the way to it."""
    handler = endpoint.handler
    if handler is None:
        return False
    if not path.hops:
        return call_path == endpoint.path and checked_before(handler, call)
    hop = path.hops[0]
    file = graph.file(endpoint.path)
    if hop.path != endpoint.path or file is None:
        return False
    step = next((c for c in descendants_of_types(handler, ("call_expression",))
                 if file.lines.span(c.start_byte, c.end_byte) == hop.span), None)  # fmt: skip
    return step is not None and checked_before(handler, step)


def _route_uploads(file: FileContext) -> Iterator[ExpensiveCall]:
    """multer middleware among the arguments of a route registration."""
    if b"multer" not in file.source and b"pload" not in file.source:  # `upload.single('file')`, `imageUpload.array(…)`
        return
    for call in descendants_of_types(file.root, ("call_expression",)):
        if route_endpoint(call, file) is None:
            continue
        for argument in arguments_of(call)[1:]:
            upload = upload_of(argument, file)
            if upload is not None:
                yield upload
                break


_LIMITER_METHOD = lazy_re.compile(rb"(?<![\w$])(?:use|register|apply|useGlobalGuards)(?![\w$])")


def _method_calls(file: FileContext) -> list[tuple[Node, str]]:
    """The calls of a method `_limiter_facts` reads (`app.use(…)`, `fastify.register(…)`, `app.apply(…)`,
    `app.useGlobalGuards(…)`) with its name, in document order: found by the name in the bytes, then in the tree,
    where reading every call of the file costs more."""
    root, calls = file.root, {}
    for hit in _LIMITER_METHOD.finditer(file.source):
        name = root.named_descendant_for_byte_range(hit.start(), hit.end())
        if name is None or name.type != "property_identifier" or name.byte_range != hit.span():
            continue
        member = name.parent
        parent = outermost(member).parent if member is not None and member.type == "member_expression" else None
        if parent is not None and parent.type == "await_expression":  # `await app.register<T>(…)` in TypeScript
            parent = outermost(parent).parent
        if parent is not None and parent.type == "call_expression" and callee(parent) == member:
            calls[parent.byte_range] = (parent, text(name))
    return [calls[span] for span in sorted(calls, key=lambda span: (span[0], -span[1]))]


def _node_at(file: FileContext, start: int, end: int) -> Node | None:
    node = file.root.descendant_for_byte_range(start, end)
    while node is not None and (node.start_byte != start or node.end_byte != end):
        node = node.parent
    return node
