"""Request data is written into the text of a raw SQL query, so a client can rewrite the query.

## Why is this bad?
`prisma.$queryRawUnsafe(`SELECT * FROM "User" WHERE email = '${email}'`)` sends the database whatever the
client put in `email`: `' OR '1'='1` returns every user, and `'; DROP TABLE "User"; --` may run a second
statement. Prisma's `$queryRaw` tagged template, `Prisma.sql` and the placeholders of every driver send values
as parameters, which the database never reads as SQL; the `Unsafe` methods, `Prisma.raw()`, a driver's
`query()` given a built string, `knex.raw()` and `sequelize.query()` do not.

The rule follows a request input (`req.query.q`, `req.body.email`, `req.params.id`, a header,
`request.nextUrl.searchParams.get('q')`, `await request.json()`, a server action's argument, a tRPC
`input`, a next-safe-action `parsedInput`, NestJS `@Query()`/`@Body()`/`@Param()`, Fastify and Hono requests) through assignments, templates,
`+` and `+=`, string and array methods that keep its characters (`trim()`, `split()`, `join()`), helpers
of the same file, and across modules (a controller passing `req.query.q` to a repository of another file that
builds the SQL, or a string built by a function of one module and run in another), to the SQL text of:
Prisma `$queryRawUnsafe()`, `$executeRawUnsafe()` and `Prisma.raw()`; node-postgres or mysql `query()` on a
pool, client or connection; `knex.raw()` and knex's `whereRaw()`, `orderByRaw()` and the like; and
`sequelize.query()`.

It is quiet for the tagged templates (`$queryRaw`, `$executeRaw` and `Prisma.sql` written before a template
literal, with `Prisma.join()`), for SQL with placeholders whose values are passed beside it (`$queryRawUnsafe(sql, id)`,
`pool.query(sql, [id])`), and for a value that cannot carry SQL: made a number (`parseInt`, `Number`,
`Math.*`, arithmetic), escaped or rewritten with `.replace()` (not a replace of plain text with no quote or
backslash on either side, such as `.replace(';', '')`: the quotes and the statement stay) or a driver's escaping
function, chosen from an
allowlist (`ALLOWED_SORT.includes(sort) ? sort : 'createdAt'`, `COLUMNS[sort]`, a guard that rejects anything
else), checked for its shape (`/^[a-z_]+$/.test(x)`, `isUUID(id)`), or a schema field that only takes numbers,
booleans, dates, ids or a fixed set (zod `.int()`/`.uuid()`/`.enum()`, class-validator `@IsInt()`/`@IsIn()`).
A whole statement the client writes (a SQL console) is quiet once a SQL parser (node-sql-parser,
pgsql-ast-parser, sql-parser-cst) lets only reads through: its statement type tested against `select` before the
query leaves (`if (tree.type !== 'select') return …`), `whiteListCheck()` with a list of reads only, or a
function of this module or another that does so, called by the guard (`if (!isSingleSelect(sql)) throw …`). A
parse alone, a denylist of statement types or a list that names writes still lets the statement do anything.

`loadlint check --fix --unsafe-fixes` rewrites a template written in the call into the tagged template (or
placeholders with the values in an array) when every `${…}` in it is a value; a column or table name cannot
be a parameter, so it must come from an allowlist instead. The fix is unsafe: the database receives typed
parameters where it used to read literals.

## Example
```ts
import express from 'express';
import { prisma } from '../lib/prisma';

const router = express.Router();

router.get('/users/search', async (req, res) => {
  const email = String(req.query.email);
  const users = await prisma.$queryRawUnsafe(`SELECT id, email FROM "User" WHERE email = '${email}'`);
  res.json(users);
});

export default router;
```

## Use instead
```ts
import express from 'express';
import { prisma } from '../lib/prisma';

const router = express.Router();

router.get('/users/search', async (req, res) => {
  const email = String(req.query.email);
  const users = await prisma.$queryRaw`SELECT id, email FROM "User" WHERE email = ${email}`;
  res.json(users);
});

export default router;
```

## References
- [CWE-89: Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')](https://cwe.mitre.org/data/definitions/89.html)
- [Prisma docs: Raw queries and SQL injection](https://www.prisma.io/docs/orm/prisma-client/using-raw-sql/raw-queries#sql-injection-prevention)
- [node-postgres: Parameterized query](https://node-postgres.com/features/queries#parameterized-query)
- [OWASP SQL Injection Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html)
"""

from __future__ import annotations

from typing import Iterator

from linter.context import FileContext
from linter.flow.file_flow import file_flow
from linter.flow.modules import module_graph
from linter.flow.project import Reach, cross_file_reaches, hop_locations
from linter.flow.tracer import Flow
from linter.frameworks import EXPRESS, FASTIFY, GRAPHQL, HONO, KOA, NESTJS, NEXTJS, SERVER_ACTIONS, TRPC
from linter.js.expressions import arguments_of, callee
from linter.model import Finding, Level, Location, Precision
from linter.rule import Match, Rule

from ._member_names import member_name_pattern
from ._spans import node_at, span_key
from ._sql_fixes import sql_fix
from ._sql_sinks import SINK_METHODS, SqlSink, advice, advice_for_label, sql_sink
from ._sql_text import SQL_TEXT, sql_parts

_SINK_CALL = member_name_pattern(SINK_METHODS)
_IDENTIFIERS = "a column or table name must come from an allowlist"


class RawQueryInjection(Rule):
    id = "prisma/raw-query-injection"
    project_reports_at = frozenset({"sink"})
    name = "RawQueryInjection"
    level = Level.ERROR
    precision = Precision.HIGH
    security_severity = "9.8"
    tags = ("security", "prisma", "sql", "external/cwe/cwe-89")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, TRPC, NESTJS, FASTIFY, HONO, KOA, GRAPHQL)
    needles = (b"RawUnsafe", b"raw", b"Raw", b"query")
    query_anchors = (b"raw", b"Raw", b"query")
    flow_spec = SQL_TEXT
    # One node a pattern: the method name; `sql_sink` climbs to its call.
    query = "((property_identifier) @method (#any-of? @method " + " ".join(f'"{m}"' for m in sorted(SINK_METHODS)) + "))"

    def may_report_in(self, source: bytes) -> bool:
        return _SINK_CALL.search(source) is not None

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if file.is_test:
            return
        sink = sql_sink(match["method"], file)
        if sink is None:
            return
        flows = file_flow(file, SQL_TEXT)
        beyond: list[Flow] = []
        for part in sql_parts(sink.sql):
            flow = flows.reach(part)
            if flow is None:
                continue
            if flow.is_local:
                yield self._report(file, sink, flow)
                return
            beyond.append(flow)
        fixes = sql_fix(sink, file) if beyond else ()
        for flow in beyond:
            flows.keep(flow, sink.anchor, sink.label, fixes)

    def check_project(self, project) -> Iterator[Finding]:
        reported: set[tuple] = set()
        for reach in cross_file_reaches(project, SQL_TEXT):
            key = (reach.sink_path, span_key(reach.sink.anchor))
            if reach.sink_path not in project.reported_paths or key in reported or _through_another_sink(project, reach):
                continue
            reported.add(key)  # one finding a sink: its fix and its advice are the same whoever feeds it
            yield self._report_reach(reach)

    def _report(self, file: FileContext, sink: SqlSink, flow: Flow) -> Finding:
        param, origin = flow.input.param, flow.input.origin
        message = (
            f"`{param}` from {origin} is written into the SQL text of {sink.label}, so a client can rewrite the "
            f"query (SQL injection); {advice(sink.kind, sink.label)}; {_IDENTIFIERS}."
        )
        code_flow = [file.location(step.node, step.note) for step in flow.steps]
        code_flow.append(file.location(sink.anchor, f"runs as SQL in {sink.label}"))
        source = flow.steps[0].node if flow.steps else sink.sql
        related = [file.location(source, f"`{param}` comes from {origin} here")]
        return file.report(self, sink.anchor, message, related=related, code_flow=code_flow, fixes=sql_fix(sink, file))

    def _report_reach(self, reach: Reach) -> Finding:
        param, origin = reach.source.param, reach.source.origin
        where = f" in {reach.source_path}" if reach.source_path != reach.sink_path else ""
        label = reach.sink.label
        message = (
            f"`{param}` from {origin}{where} is written into the SQL text of {label}, so a client can rewrite "
            f"the query (SQL injection); {advice_for_label(label)}; {_IDENTIFIERS}."
        )
        code_flow = hop_locations(reach.hops)
        code_flow.append(Location(path=reach.sink_path, span=reach.sink.anchor, message=f"runs as SQL in {label}"))
        first = code_flow[0]
        related = [Location(path=first.path, span=first.span, message=f"`{param}` comes from {origin} here")]
        location = Location(path=reach.sink_path, span=reach.sink.anchor)
        return self.finding(location, message, related=related, code_flow=code_flow, fixes=reach.sink.fixes)


def _through_another_sink(project, reach: Reach) -> bool:
    """The flow passes the SQL text of another sink on its way (a query helper that hands its `text` to
    `pool.query()`, called with a built string): that sink has the finding, this one would repeat it."""
    graph = module_graph(project)
    for hop in reach.hops:
        file = graph.file(hop.path)
        for step in hop.steps if file is not None else ():
            node = node_at(file, step.span)
            holder = node.parent if node is not None else None
            call = holder.parent if holder is not None and holder.type == "arguments" else None
            if call is None or call.type != "call_expression" or arguments_of(call)[:1] != [node]:
                continue
            function = callee(call)
            method = function.child_by_field_name("property") if function is not None and function.type == "member_expression" else None
            if method is None or (hop.path == reach.sink_path and file.lines.span(method.start_byte, method.end_byte) == reach.sink.anchor):
                continue
            if sql_sink(method, file) is not None:
                return True
    return False
