"""A paginated request handler runs a Prisma `findMany()` with no `take`, so every page returns every row.

## Why is this bad?
Without `take`, `findMany()` returns every row that matches. In a handler that reads `page`, `cursor`,
`offset` or `skip`, the query is meant to return one page, but it returns the whole table (from the
offset on): the response grows with the data, and a large table makes the endpoint slow and memory-hungry for
everyone. Skipping rows with `skip: (page - 1) * 20` does not limit how many come back.

The rule reports a `findMany()` on a model (`prisma.lead.findMany(...)`) whose arguments have no `take`,
inside a request handler (Express, a Next.js route handler, API route or page, or a function of the same file
they call) that reads a page-like parameter (`page`, `cursor`, `offset`, `skip`) from the request: a
`findMany()` that pages with `skip` or `cursor` and no `take`, or, when nothing in the handler sets a page size
at all, its `findMany()` calls. A `findMany()` in a function of another module (a repository's `list(page)`)
that pages with `skip` or `cursor` and no `take` is reported when a handler passes it the page from the request,
through as many modules as it takes (the flow engine, `linter.flow`).

It is a note, and deliberately narrow, because most `findMany()` calls without `take` read small, bounded
sets (a user's settings, the tags of a post), and reporting them all would bury the few that matter. So
handlers that do not paginate are left alone, and so are a `where` that pins a unique key (`id`, `uuid`,
`slug`, `email`, `username`) or a list of values (`id: { in: ids }`), lookups next to a list query that has a
`take`, lookups inside callbacks (`items.map(...)`), arguments built in another module
(`findMany(buildArgs(req))`), and a full read whose rows feed an aggregate computed in memory
(`rows.reduce(…)`, `sumBy(rows, …)`, `calculateTotals(rows)`, a loop adding them up): it is not a page, and a
`take` would make its totals wrong (an `aggregate()` or `groupBy()` in the database would do it cheaper).

## Example
```js
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();

router.get('/leads', async (req, res) => {
  const page = Number(req.query.page) || 1;
  const leads = await prisma.lead.findMany({
    where: { ownerId: req.user.id },
    skip: (page - 1) * 20,
  });
  res.json({ leads, page });
});

module.exports = router;
```

## Use instead
```js
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();
const PAGE_SIZE = 20;

router.get('/leads', async (req, res) => {
  const page = Number(req.query.page) || 1;
  const leads = await prisma.lead.findMany({
    where: { ownerId: req.user.id },
    skip: (page - 1) * PAGE_SIZE,
    take: PAGE_SIZE,
  });
  res.json({ leads, page });
});

module.exports = router;
```

## References
- [Prisma docs: Pagination](https://www.prisma.io/docs/orm/prisma-client/queries/pagination)
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
"""

from __future__ import annotations

import re
from typing import Iterator

from linter import lazy_re
from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NEXTJS, SERVER_ACTIONS
from linter.context import FileContext
from linter.flow.file_flow import file_flow
from linter.flow.project import cross_file_reaches, hop_locations
from linter.flow.spec import RequestValueSpec
from linter.flow.tracer import object_literal
from linter.js.expressions import arguments_of, callee, member_object, object_keys, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_body
from linter.js.invocation import invocation
from linter.model import Finding, Level, Location, Precision
from linter.rule import Match, Rule
from linter.syntax import Node, descendants_of_types, text

class PageRequestSpec(RequestValueSpec):
    """Any value the client sent, for the page a `findMany()` skips to."""

    name = "page-request"

PAGE_REQUESTS = PageRequestSpec()

PAGE_PARAMETER = lazy_re.compile(r"^(page(Number|No|Num|Index)?|cursor|offset|skip)$", re.IGNORECASE)
_PAGING_WORDS = (b"page", b"cursor", b"offset", b"skip")
# What Python's case-insensitive matching takes for an ASCII letter (`ſkip` matches `skip`), in UTF-8.
_FOLDED_TO_ASCII = tuple(character.encode() for character in "\u0130\u0131\u017f\u212a")
UNIQUE_KEYS = frozenset({"id", "_id", "uuid", "slug", "email", "username"})
SIZE_OPTIONS = frozenset({"take", "limit"})
AGGREGATE_METHODS = frozenset({"reduce", "reduceRight"})
# Helpers named for an aggregate: `sumBy(rows, …)`, `calculateTotals(rows)`, `countBy(rows, …)`.
AGGREGATE_CALLEE = lazy_re.compile(r"sum|total|count|average|avg|aggregate|tally", re.I)


class UnboundedFindMany(Rule):
    id = "prisma/unbounded-find-many"
    project_reports_at = frozenset({"sink"})
    name = "UnboundedFindMany"
    level = Level.NOTE
    precision = Precision.MEDIUM
    tags = ("prisma", "performance", "reliability", "pagination", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, FASTIFY, HONO, KOA)
    needles = (b"findMany",)
    query_anchors = (b"findMany",)
    flow_spec = PAGE_REQUESTS
    query = """
(call_expression
  function: (member_expression property: (property_identifier) @method (#eq? @method "findMany"))) @call
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if file.is_test or not file.memo("prisma.mentions-paging", lambda: _mentions_paging(file.source)):
            return  # every finding, here or in the project phase, needs a page parameter or a `skip` / `cursor`
        call = match["call"]
        model = member_object(callee(call))
        if model is None or model.type not in ("member_expression", "subscript_expression"):
            return  # `repository.findMany()`: a wrapper of the project's own, with its own defaults
        arguments = arguments_of(call)
        if len(arguments) > 1:
            return
        options = object_literal(unwrap(arguments[0])) if arguments else None
        if arguments and options is None:
            return
        if options is not None and not _unbounded(options):
            return
        run = invocation(call, file.path, file.root)
        if not run.per_request or run.function is None:
            self._keep_for_callers(call, options, file)
            return
        pages = options is not None and ("skip" in object_keys(options) or "cursor" in object_keys(options))
        if not pages and (_sizes_a_query(run.function) or enclosing_function(call) != run.function):
            return  # a lookup next to the handler's sized list query, or inside a callback of it
        page = _page_parameter_read(run.function, file_flow(file, PAGE_REQUESTS))
        if page is None:
            return
        if _feeds_an_aggregate(call, run.function):
            return  # a full read for totals computed in memory: a page size would make them wrong
        node, flow = page
        param = flow.input.param
        message = (
            f"`findMany()` has no `take` in a handler that pages with `{param}`, so every page returns all "
            f"the remaining rows; add a `take` (a fixed page size, or a capped one from the request)."
        )
        related = [file.location(node, f"`{param}` comes from {flow.input.origin}")]
        yield file.report(self, callee(call), message, related=related)


    def _keep_for_callers(self, call: Node, options: Node | None, file: FileContext) -> None:
        """A `findMany()` that pages with `skip` or `cursor` in a function other modules call (a repository's
        `list(page)`): the project phase finds the callers that pass a page from the request."""
        entries = object_keys(options) if options is not None else {}
        value = entries.get("skip") or entries.get("cursor")
        function = enclosing_function(call)
        if value is None or function is None or _feeds_an_aggregate(call, function):
            return
        flows = file_flow(file, PAGE_REQUESTS)
        flow = flows.reach(value)
        if flow is not None and not flow.is_local:
            flows.keep(flow, callee(call), "`findMany()` with no `take`")

    def check_project(self, project) -> Iterator[Finding]:
        for reach in cross_file_reaches(project, PAGE_REQUESTS):
            param = reach.source.param or ""
            if reach.sink_path not in project.reported_paths or not PAGE_PARAMETER.match(param):
                continue
            where = f" in {reach.source_path}" if reach.source_path != reach.sink_path else ""
            message = (
                f"`findMany()` has no `take`, and its `skip` (or `cursor`) comes from `{param}`, {reach.source.origin}"
                f"{where}: every page returns all the remaining rows; add a `take` (a fixed page size, or a "
                f"capped one from the request)."
            )
            code_flow = hop_locations(reach.hops)
            code_flow.append(Location(path=reach.sink_path, span=reach.sink.anchor, message="`findMany()` has no `take`"))
            related = [Location(path=code_flow[0].path, span=code_flow[0].span, message=f"`{param}` comes from {reach.source.origin} here")]
            yield self.finding(Location(path=reach.sink_path, span=reach.sink.anchor), message, related=related, code_flow=code_flow)


def _mentions_paging(source: bytes) -> bool:
    """Whether a name `PAGE_PARAMETER` matches can be in the file: one of its words, in any case."""
    lowered = source.lower()
    return any(word in lowered for word in _PAGING_WORDS) or any(char in source for char in _FOLDED_TO_ASCII)


def _feeds_an_aggregate(call: Node, handler: Node) -> bool:
    """The rows are summed or reduced in memory (`rows.reduce(…)`, `sumBy(rows, …)`, `calculateTotals(rows)`,
    `for (const row of rows) total += row.amount`), inline or through the `const` that holds them. (`rows.length`
    is not one: it is as often an emptiness test as a count.)"""
    node = outermost(call)
    while node.parent is not None and node.parent.type in ("await_expression", "parenthesized_expression"):
        node = outermost(node.parent)
    uses = [node]
    parent = node.parent
    if parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        if name is not None and name.type == "identifier":
            uses = [n for n in descendants_of_types(handler, ("identifier", "shorthand_property_identifier"))
                    if text(n) == text(name) and n != name]  # fmt: skip
    return any(_aggregated(use) for use in uses)


def _aggregated(use: Node) -> bool:
    node = use
    while node.parent is not None:
        parent = node.parent
        if parent.type == "member_expression" and parent.child_by_field_name("object") == node:
            method = property_name(parent)
            if method in AGGREGATE_METHODS:
                return True
            node = parent
        elif parent.type == "call_expression" and parent.child_by_field_name("function") == node:
            node = parent  # `rows.map(…)` … `.reduce(…)`
        elif parent.type in ("parenthesized_expression", "await_expression", "non_null_expression"):
            node = parent
        else:
            break
    parent = node.parent
    if parent is not None and parent.type == "arguments":
        function = callee(parent.parent)
        name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
        if name and AGGREGATE_CALLEE.search(name):
            return True
        if property_name(function) == "forEach":
            return False
    if parent is not None and parent.type == "for_in_statement" and parent.child_by_field_name("right") == node:
        body = parent.child_by_field_name("body")
        return body is not None and any(
            n.type == "augmented_assignment_expression" for n in descendants_of_types(body, ("augmented_assignment_expression",))
        )
    if parent is not None and parent.type == "member_expression" and property_name(parent) == "forEach":
        call = parent.parent
        return call is not None and bool(descendants_of_types(call, ("augmented_assignment_expression",)))
    return False


def _unbounded(options: Node) -> bool:
    """No `take` (and no spread that may bring one), and no `where` on a unique key or a list of values."""
    if any(child.type == "spread_element" for child in options.named_children):
        return False
    entries = object_keys(options)
    if "take" in entries:
        return False
    where = object_literal(unwrap(entries["where"])) if "where" in entries else None
    if where is None:
        return True
    conditions = object_keys(where)
    if UNIQUE_KEYS & set(conditions):
        return False
    # `{ id: { in: ids } }`: as many rows as the list has values.
    return not any(unwrap(v).type == "object" and "in" in object_keys(unwrap(v)) for v in conditions.values())


def _sizes_a_query(handler: Node) -> bool:
    """The handler gives some query a page size: a `take`/`limit` option or a `.limit()`/`.take()` call."""
    for node in descendants_of_types(handler, ("pair", "shorthand_property_identifier", "call_expression")):
        if node.type == "pair" and text(node.child_by_field_name("key")) in SIZE_OPTIONS:
            return True
        if node.type == "shorthand_property_identifier" and text(node) in SIZE_OPTIONS:
            return True
        if node.type == "call_expression" and property_name(callee(node)) in SIZE_OPTIONS:
            return True
    return False


def _page_parameter_read(handler: Node, tracer):
    """The first read of a page-like request parameter in `handler` (outside nested functions)."""
    stack = [function_body(handler)]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        name = _read_name(node)
        if name is not None and PAGE_PARAMETER.match(name):
            read = node.child_by_field_name("value") if node.type == "pair_pattern" else node
            flow = tracer.trace(read) if read is not None else None
            if flow is not None and flow.is_local and flow.is_value and PAGE_PARAMETER.match(flow.input.param or ""):
                return node, flow
        if node.type not in FUNCTION_TYPES:
            stack.extend(reversed(node.named_children))
    return None


def _read_name(node: Node) -> str | None:
    if node.type in ("member_expression", "subscript_expression"):
        return property_name(node)
    if node.type == "shorthand_property_identifier_pattern":
        return text(node)
    if node.type == "pair_pattern":
        key = node.child_by_field_name("key")
        return text(key) if key is not None and key.type == "property_identifier" else None
    if node.type == "call_expression":
        function = callee(node)
        arguments = arguments_of(node)
        if property_name(function) == "get" and arguments and arguments[0].type == "string":
            return text(arguments[0])[1:-1]
    return None
