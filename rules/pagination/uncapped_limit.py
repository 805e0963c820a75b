"""A page size from the request reaches a database query with no upper bound.

## Why is this bad?
`GET /leads?limit=1000000` is one request, but the query behind it reads, serializes and sends a whole table.
A default (`parseInt(req.query.limit) || 100`, `?? 50`) only applies when the parameter is missing; any
client, or any scraper, can still ask for every row. A handful of such requests holds database connections,
memory and event-loop time that every other user needs.

The rule follows a request parameter (`req.query.limit`, `req.body.take`, destructuring such as
`const { limit = 50 } = req.query`, `request.nextUrl.searchParams.get('limit')`, `new URL(request.url)`,
a page's `searchParams`, Koa's `ctx.query`, NestJS `@Query('limit')`) through assignments, conversions
(`parseInt`, `Number`, unary `+`, casts), defaults, ternaries, template literals, arithmetic such as
`limit + 1`, and helpers of the same file, to a query's page size: Prisma `take`, TypeORM `take`, Sequelize or
mongoose `limit`, a builder's `.limit()` or `.take()` (knex, objection, mongoose, drizzle, TypeORM), or a raw
SQL `LIMIT` (`LIMIT ${…}`, `LIMIT $1`). It is quiet once the value is capped: `Math.min(value, 100)`, a guard
that resets or rejects a value over a maximum (`if (limit > 100) limit = 100`), a ternary that picks the
maximum, an allowlist (`PAGE_SIZES.includes(size)`), a same-file helper that does one of these, or a zod,
Joi, yup or class-validator schema of the same file with a maximum on the field (`.max(100)`, `@Max(100)`).
A handler registered behind a validation middleware (`validate(schema)`, express-validator, celebrate) is
trusted, and so is a schema or DTO imported from another module.

Values are followed across modules too: a controller that passes `req.query.limit` (or an options object
`{ page, limit }`, or the whole `req.query`) to a service of another file, which hands it on to the repository
that runs the query, is reported at the query, with the source named in the message and every step in the
SARIF code flow; a cap anywhere on the way (in the caller, the service, or a helper of another module) keeps it
quiet, and a query reached by a capped and an uncapped caller is reported for the uncapped one. A zod, Joi or
yup schema or a class-validator DTO imported from another module is read: a field without a maximum lets the
value through. A NestJS `@Query()` or `@Body()` typed by an interface or a type alias is not validated (only a
class carries class-validator decorators) and is followed like any request object. Middleware is trusted by
what it checks, not by who may call: `[validApiKey]` before a handler (an array of handlers counts as its
items) is no validation.

`loadlint check --fix` wraps the value in `Math.min(value, 100)` (option `max-page-size`); the fix is unsafe,
and needs `--unsafe-fixes`, unless the value is a number anyway, since `Math.min(undefined, 100)` is `NaN`.

## Example
```js
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();

router.get('/leads', async (req, res) => {
  const limit = parseInt(req.query.limit) || 100;
  const leads = await prisma.lead.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
  res.json({ leads });
});

module.exports = router;
```

## Use instead
```js
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();
const MAX_PAGE_SIZE = 100;

router.get('/leads', async (req, res) => {
  const limit = Math.min(parseInt(req.query.limit) || 50, MAX_PAGE_SIZE);
  const leads = await prisma.lead.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
  res.json({ leads });
});

module.exports = router;
```

## References
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
- [OWASP API Security Top 10 2023, API4: Unrestricted Resource Consumption](https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/)
- [Prisma docs: Pagination](https://www.prisma.io/docs/orm/prisma-client/queries/pagination)
"""

from __future__ import annotations

from typing import Iterator

from linter.frameworks import EXPRESS, FASTIFY, GRAPHQL, HONO, KOA, NESTJS, NEXTJS, SERVER_ACTIONS, TRPC
from linter.context import FileContext
from linter.fixes import always_a_number, replace_node
from linter.flow.file_flow import file_flow
from linter.flow.project import Reach, cross_file_reaches, hop_locations
from linter.flow.tracer import Flow
from linter.model import Finding, Fix, Level, Location, Precision
from linter.rule import LazyOptions, Match, Rule
from linter.syntax import Node

from ._limit_sinks import (
    LimitSink,
    builder_sink,
    concat_after,
    option_sink,
    sql_concat_sink,
    sql_placeholder_sink,
    sql_template_sink,
)
from ._page_size import PAGE_SIZE


# The cap the fix writes unless `max-page-size` says otherwise (read without building the options, a pydantic model).
DEFAULT_MAX_PAGE_SIZE = 100


class UncappedLimit(Rule):
    id = "pagination/uncapped-limit"
    project_reports_at = frozenset({"sink"})
    name = "UncappedLimit"
    level = Level.WARNING
    precision = Precision.HIGH
    security_severity = "5.3"
    tags = ("security", "performance", "reliability", "pagination", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, TRPC, NESTJS, FASTIFY, HONO, KOA, GRAPHQL)
    needles = (b"take", b"limit", b"LIMIT", b"Limit", b"TOP", b"FETCH")
    query_anchors = (b"take", b"limit", b"top", b"fetch")
    query_anchors_ignore_case = True
    Options = LazyOptions("._uncapped_limit_options", "UncappedLimitOptions")
    flow_spec = PAGE_SIZE
    # Patterns on the node that matters, not on its parent: tree-sitter keeps a parent's pattern pending in
    # every subtree the parent holds, which costs the nesting depth squared (`linter.syntax.QUERY_BUDGET`).
    query = r"""
(pair key: (property_identifier) @key (#any-of? @key "take" "limit")) @option
((shorthand_property_identifier) @option (#any-of? @option "take" "limit"))
(call_expression
  function: (member_expression property: (property_identifier) @method (#any-of? @method "limit" "take"))) @builder
((string_fragment) @fragment (#match? @fragment "(?i)(limit|top|fetch\\s+(first|next))\\s*$"))
(call_expression
  arguments: (arguments . [(string) (template_string)] @sql
  (#match? @sql "(?i)(limit|top|fetch\\s+(first|next))\\s+(\\$[1-9]|\\?)"))) @placeholder
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if file.is_test:
            return
        sink = _sink(match)
        if sink is None:
            return
        flows = file_flow(file, PAGE_SIZE)
        flow = flows.reach(sink.value)
        if flow is None:
            return
        if flow.is_local:
            yield self._report(file, sink, flow)
        else:
            flows.keep(flow, sink.anchor, sink.label, self._fixes(file, sink))

    def check_project(self, project) -> Iterator[Finding]:
        for reach in cross_file_reaches(project, PAGE_SIZE):
            if reach.sink_path in project.reported_paths:
                yield self._report_reach(reach)

    def _report_reach(self, reach: Reach) -> Finding:
        param, origin = reach.source.param, reach.source.origin
        where = f" in {reach.source_path}" if reach.source_path != reach.sink_path else ""
        message = (
            f"`{param}` from {origin}{where} sets {reach.sink.label} with no upper bound, so one request can "
            f"read the whole table; cap it, e.g. `Math.min(parsed, 100)`."
        )
        code_flow = hop_locations(reach.hops)
        code_flow.append(Location(path=reach.sink_path, span=reach.sink.anchor, message=f"sets {reach.sink.label}"))
        first = code_flow[0]
        related = [Location(path=first.path, span=first.span, message=f"`{param}` comes from {origin} here")]
        location = Location(path=reach.sink_path, span=reach.sink.anchor)
        return self.finding(location, message, related=related, code_flow=code_flow, fixes=reach.sink.fixes)

    def _report(self, file: FileContext, sink: LimitSink, flow: Flow) -> Finding:
        param, origin = flow.input.param, flow.input.origin
        source = flow.steps[0].node if flow.steps else sink.value
        message = (
            f"`{param}` from {origin} sets {sink.label} with no upper bound, so one request can read the whole "
            f"table; cap it, e.g. `Math.min(parsed, 100)`."
        )
        code_flow = [file.location(step.node, step.note) for step in flow.steps]
        code_flow.append(file.location(sink.anchor, f"sets {sink.label}"))
        related = [file.location(source, f"`{param}` comes from {origin} here")]
        return file.report(self, sink.anchor, message, related=related, code_flow=code_flow, fixes=self._fixes(file, sink))

    def _fixes(self, file: FileContext, sink: LimitSink) -> tuple[Fix, ...]:
        """`Math.min(value, N)`: safe when the value is a number anyway, so only values above N change."""
        value = sink.value
        cap = DEFAULT_MAX_PAGE_SIZE if self.default_options else self.options.max_page_size
        if value.type == "shorthand_property_identifier":
            replacement = f"{value.text.decode()}: Math.min({value.text.decode()}, {cap})"
        elif value.type in ("spread_element", "sequence_expression"):
            return ()
        else:
            replacement = f"Math.min({value.text.decode()}, {cap})"
        description = f"Cap the page size at {cap} with `Math.min`"
        return (Fix(description=description, edits=(replace_node(file, value, replacement),), safe=always_a_number(value, file)),)


def _sql_sink(fragment: Node) -> LimitSink | None:
    """The value after a piece of a string or template that ends with `LIMIT`: `${x}` right after it in the
    template, or `+ x` after the literal it ends."""
    literal, following = fragment.parent, fragment.next_named_sibling
    if following is None:  # the closing quote is next
        concat = concat_after(literal) if literal is not None else None
        return sql_concat_sink(concat) if concat is not None else None
    if literal.type == "template_string" and following.type == "template_substitution":
        return sql_template_sink(fragment, following)
    return None


def _sink(match: Match) -> LimitSink | None:
    if match.get("option") is not None:
        return option_sink(match["option"])
    if match.get("builder") is not None:
        return builder_sink(match["builder"])
    if match.get("fragment") is not None:
        return _sql_sink(match["fragment"])
    if match.get("placeholder") is not None:
        return sql_placeholder_sink(match["placeholder"], match["sql"])
    return None
