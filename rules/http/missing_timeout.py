"""Outbound HTTP from server code with no timeout: a slow upstream holds every request that waits on it.

## Why is this bad?
axios and got wait forever by default, node-fetch too, and Node's own `fetch` (undici) waits up to five minutes
for the response headers and five more for the body. When a payment provider, a CRM or an AI API slows down or
stops answering, each incoming request that calls it stays open: its socket, its memory, a database connection
it may hold, and the client that waits on it. Under load they pile up until the process runs out of sockets or
memory, or the platform's proxy times out every request, healthy ones included. A timeout turns a hung upstream
into one failed call that the code can retry, degrade or report.

The rule reports, in server code:
- axios requests (`axios.get(url)`, `axios.post(url, data)`, `axios(config)`) without `timeout` (or a `signal`)
  and `axios.create(…)` instances without `timeout` (calls made through an instance are covered by it), when no
  module of the package sets `axios.defaults.timeout` (an instance copies the defaults when it is created);
- got requests and `got.extend(…)` instances without `timeout`;
- `fetch` (the global one, node-fetch, undici's) to another host without a `signal`
  (`AbortSignal.timeout(ms)`), and `fetch(url, { timeout })`, an option the standard `fetch` ignores;
- undici's `request()` without `headersTimeout`/`bodyTimeout` (or a `signal`).

It is quiet for options it cannot see (`axios.get(url, config)` with a config built elsewhere, `axios(config)`, a
spread), for requests to relative URLs (`fetch('/api/me')`: browser code) and to this machine or a service of the
local network (`localhost`, `http://api:3000`), for `fetch` to a URL the code does not fix (an environment
variable, a parameter), for SDKs with their own default timeouts (Stripe, OpenAI, the AWS SDK), and for code that
does not run on the server: browser code (`'use client'` files, components and hooks, browser-only packages, the
pages router's pages outside `getServerSideProps`), tests, one-off scripts and command-line tools (a package with a
`bin`). A module of a Next.js app that is not a route, an action or a server component by its conventions
(`lib/github.ts`) counts as server code when every module that imports it does. Nor is it reported in code nothing
calls: a private method (TypeScript `private`, `#name`) whose class never writes its name, a static method
whose name no file of the project writes, or a function that a module of an application (not a package published
for others, whose callers live elsewhere, nor a Next.js app, which reaches exports by convention) exports by name
while no other file writes that name, though other modules import the module.
A URL that starts with a constant another module exports (`` `${API_BASE}/v1/charges` ``, `siblingHost + port`) is
read where that module writes it.

`loadlint check --fix --unsafe-fixes` adds `timeout: 10_000` (axios), `timeout: { request: 10_000 }` (got),
`signal: AbortSignal.timeout(10_000)` (fetch) or `headersTimeout`/`bodyTimeout` (undici); the fix is unsafe,
since a request that used to succeed after more than ten seconds now fails.

## Example
```js
const express = require('express');
const axios = require('axios');

const router = express.Router();

router.get('/weather/:city', async (req, res) => {
  const { data } = await axios.get(`https://api.weather.example.com/v1/current/${req.params.city}`);
  res.json(data);
});

module.exports = router;
```

## Use instead
```js
const express = require('express');
const axios = require('axios');

const router = express.Router();

router.get('/weather/:city', async (req, res) => {
  const { data } = await axios.get(`https://api.weather.example.com/v1/current/${req.params.city}`, {
    timeout: 5_000,
  });
  res.json(data);
});

module.exports = router;
```

## References
- [axios: request config, `timeout` (default `0`, no timeout)](https://axios-http.com/docs/req_config)
- [got: `timeout` options](https://github.com/sindresorhus/got/blob/main/documentation/6-timeout.md)
- [MDN: `AbortSignal.timeout()`](https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal/timeout_static)
- [undici: `headersTimeout` and `bodyTimeout`](https://undici.nodejs.org/#/docs/api/Dispatcher?id=parameter-requestoptions)
- [CWE-1088: Synchronous Access of Remote Resource without Timeout](https://cwe.mitre.org/data/definitions/1088.html)
"""

from __future__ import annotations

from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.fixes import edit, source_digest
from linter.flow.callees import Callee
from linter.flow.modules import module_graph, unmentioned
from linter.frameworks import ANY_FRAMEWORK, NEXTJS, SERVER_ACTIONS
from linter.frameworks.nextjs import is_next_routed
from linter.js.exports import local_value
from linter.js.expressions import arguments_of, member_chain, unwrap
from linter.js.object_literals import entry
from linter.js.references import resolve_imported
from linter.model import Finding, Fix, Level, Precision
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node, text

from ._clients import (
    AXIOS,
    AXIOS_INSTANCE,
    FETCH,
    GOT,
    GOT_INSTANCE,
    NODE_FETCH,
    ABSENT,
    UNDICI,
    Outbound,
    deadline,
    ignored_timeout,
    outbound_call,
)
from ._server_code import AMBIGUOUS, SERVER, call_side, side_of_importers
from ._unused_members import exported_function_name, in_uncalled_private_member, library_package, static_member_name
from ._urls import EXTERNAL, LOCAL, RELATIVE, destination, imported_head

REQUEST, AXIOS_DEFAULTS = "request", "axios-defaults"
_NEXT = ("next",)
# `fetch(`, axios, `'got'`, undici: the words by plain byte searches, and the two patterns only where their word is
# (a regular expression over every file costs more).
_FETCH_CALL = lazy_re.compile(rb"\bfetch\s*\(")
_GOT_MODULE = lazy_re.compile(rb"['\"]got['\"]")
# An instance's timeout set after it is created: `api.defaults.timeout = …`, `config.timeout = …` in an interceptor.
_TIMEOUT_ASSIGNED = lazy_re.compile(rb"\.timeout\s*=[^=]")
_OPTION_TEXT = {
    AXIOS: "timeout: 10_000",
    AXIOS_INSTANCE: "timeout: 10_000",
    GOT: "timeout: { request: 10_000 }",
    GOT_INSTANCE: "timeout: { request: 10_000 }",
    FETCH: "signal: AbortSignal.timeout(10_000)",
    NODE_FETCH: "signal: AbortSignal.timeout(10_000)",
    UNDICI: "headersTimeout: 10_000, bodyTimeout: 10_000",
}
_ADVICE = {
    AXIOS: "set `timeout` (e.g. `timeout: 10_000`), or `axios.defaults.timeout` once at startup",
    AXIOS_INSTANCE: "set `timeout` when creating it",
    GOT: "set `timeout: { request: 10_000 }`",
    GOT_INSTANCE: "set `timeout: { request: 10_000 }` when creating it",
    FETCH: "pass `signal: AbortSignal.timeout(10_000)`",
    NODE_FETCH: "pass `signal: AbortSignal.timeout(10_000)`",
    UNDICI: "set `headersTimeout` and `bodyTimeout`",
}


class MissingTimeout(Rule):
    id = "http/missing-timeout"
    project_reports_at = frozenset({REQUEST})
    name = "MissingTimeout"
    level = Level.WARNING
    frameworks = (ANY_FRAMEWORK, NEXTJS, SERVER_ACTIONS)
    precision = Precision.HIGH
    tags = ("http", "reliability", "performance", "external/cwe/cwe-1088")
    needles = (b"fetch", b"axios", b"got", b"undici")
    # How each pattern's name is spelled: the called name ends with one of the first four, in any case; the
    # method is one of the listed ones (`postForm` holds `post`); the property is `timeout`.
    query_anchors = (
        b"fetch", b"axios", b"got", b"request", b"get", b"post", b"put", b"patch", b"delete", b"head", b"options",
        b"create", b"extend", b"stream", b"timeout",
    )  # fmt: skip
    query_anchors_ignore_case = True
    query = r"""
(call_expression function: (identifier) @function (#match? @function "(?i)^\w*(fetch|axios|got|request)$")) @call
(call_expression
  function: (member_expression
    property: (property_identifier) @method
    (#any-of? @method "get" "post" "put" "patch" "delete" "head" "options" "request" "postForm" "putForm"
                      "patchForm" "create" "extend" "stream" "fetch"))) @call
(assignment_expression
  left: (member_expression property: (property_identifier) @property (#eq? @property "timeout"))) @timeout_assignment
"""

    def may_report_in(self, source: bytes) -> bool:
        return (
            b"axios" in source
            or b"undici" in source
            or (b"fetch" in source and _FETCH_CALL.search(source) is not None)
            or (b"got" in source and _GOT_MODULE.search(source) is not None)
        )

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if match.get("timeout_assignment") is not None:
            if _sets_axios_default(match["timeout_assignment"], file):
                yield file.fact(self, AXIOS_DEFAULTS, match["timeout_assignment"])
            return
        outbound = outbound_call(match["call"], file)
        if outbound is None:
            return
        side = call_side(outbound.call, file)
        if side not in (SERVER, AMBIGUOUS) or in_uncalled_private_member(outbound.call, file.source):
            return
        state, options = deadline(outbound, file)
        ignored = ignored_timeout(outbound, options)
        if state != ABSENT:
            return
        url = _url_of(outbound, options)
        url_import = _imported_url(url, file) if destination(url) is None else None
        if not self._unbounded(outbound, url, file, imported=url_import is not None):
            return
        message = _message(outbound, options, ignored, file)
        fix = _fix(outbound, options, ignored, file)
        yield file.fact(
            self,
            REQUEST,
            outbound.call.child_by_field_name("function") or outbound.call,
            message=message,
            fixes=[fix.model_dump(mode="json")] if fix is not None else [],
            side=side,
            axios_default=outbound.client in (AXIOS, AXIOS_INSTANCE),
            fetch=outbound.client in (FETCH, NODE_FETCH),
            url_import=url_import.to_data() if url_import is not None else None,
            static_member=static_member_name(outbound.call),
            exported_function=exported_function_name(outbound.call),
        )

    def _unbounded(self, outbound: Outbound, url: Node | None, file: FileContext, imported: bool) -> bool:
        """Whether the request can wait on another host with nothing to stop it (see the docs); for a URL that
        starts with an imported name, whether it can, where that name leads being left to the project phase."""
        client = outbound.client
        where = destination(url)
        if where is not None and where[0] in (RELATIVE, LOCAL):
            return False
        if client in (FETCH, NODE_FETCH):
            return imported or (where is not None and where[0] == EXTERNAL)
        if client in (AXIOS_INSTANCE, GOT_INSTANCE):
            return _TIMEOUT_ASSIGNED.search(file.source) is None
        return True

    def check_project(self, project) -> Iterator[Finding]:
        with_defaults = {_package_key(project, fact.path) for fact in facts_of(project, self, AXIOS_DEFAULTS)}
        requests = [fact for fact in facts_of(project, self, REQUEST) if fact.path in project.reported_paths]
        uncalled = unmentioned(
            project,
            {(f.path, f.data["static_member"]) for f in requests if f.data.get("static_member")}
            | {(f.path, f.data["exported_function"]) for f in requests if _exported_in_an_application(project, f)},
        )
        for fact in requests:
            if (fact.path, fact.data.get("static_member")) in uncalled or (fact.path, fact.data.get("exported_function")) in uncalled:
                continue
            if fact.data.get("axios_default") and _package_key(project, fact.path) in with_defaults:
                continue
            if fact.data.get("side") == AMBIGUOUS and side_of_importers(project, fact.path) != SERVER:
                continue
            if fact.data.get("url_import") is not None and not _imported_url_unbounded(project, fact):
                continue
            fixes = [Fix.model_validate(data) for data in fact.data.get("fixes", [])]
            yield self.finding(fact.location(), fact.data["message"], fixes=fixes)


def _exported_in_an_application(project, fact: Fact) -> bool:
    """A request in a function exported by name from a module of an application that its other modules import:
    only those modules could call it. Not in a Next.js app, which reaches exports by convention rather than by
    name (route handlers, and every export of a `'use server'` module is an endpoint)."""
    if not fact.data.get("exported_function") or is_next_routed(fact.path) or not project.importers_of(fact.path):
        return False
    package = project.package_of(fact.path)
    return not library_package(package) and not package.depends_on(_NEXT)


def _url_of(outbound: Outbound, options: Node | None) -> Node | None:
    """The URL argument, or the `url` (`baseURL` for an instance, `prefixUrl` for got) of the options literal."""
    if outbound.url is not None:
        return outbound.url
    if options is None:
        return None
    key = {AXIOS_INSTANCE: "baseURL", GOT_INSTANCE: "prefixUrl"}.get(outbound.client, "url")
    found = entry(options, key)
    return found.node if found.state == "value" else None


def _imported_url(url: Node | None, file: FileContext) -> Callee | None:
    """The import a URL starts with (`` `${API_BASE}/v1` `` with `API_BASE` imported), to read in its module."""
    head = imported_head(url)
    binding = file.binding(text(head)) if head is not None else None
    return Callee(binding.module, binding.imported) if binding is not None else None


def _imported_url_unbounded(project, fact: Fact) -> bool:
    """Where a URL that starts with an imported constant goes, read in the module that exports it: another
    host keeps the finding, this machine or a path drops it, and a value the code does not fix keeps an axios or
    got finding only (a `fetch` is reported when its host is known to be another one)."""
    graph = module_graph(project)
    target = graph.resolve(fact.path, Callee.from_data(fact.data["url_import"]))
    module = graph.file(target[0]) if target is not None else None
    found = local_value(module.root, target[1]) if module is not None else None
    where = destination(found[0]) if found is not None and not found[1] else None
    if where is not None:
        return where[0] == EXTERNAL
    return not fact.data.get("fetch")


def _sets_axios_default(assignment: Node, file: FileContext) -> bool:
    """`axios.defaults.timeout = …` on the axios module (not an instance's defaults)."""
    root, path = member_chain(assignment.child_by_field_name("left"))
    if root is None or path[-2:] != ["defaults", "timeout"]:
        return False
    imported = resolve_imported(root, file)
    return imported is not None and imported.module == "axios" and imported.path == () and len(path) == 2


def _package_key(project, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _message(outbound: Outbound, options: Node | None, ignored: Node | None, file: FileContext) -> str:
    client = outbound.client
    if ignored is not None:
        return (
            "`timeout` is not an option of the standard `fetch` and is ignored, so this request has no timeout "
            "(Node's fetch waits up to 5 minutes for the headers); pass `signal: AbortSignal.timeout(…)` instead."
        )
    where = destination(_url_of(outbound, options))
    target = f"`{where[1]}`" if where is not None and where[1] else "the remote server"
    advice = _ADVICE[client]
    if client == AXIOS:
        return f"This axios request to {target} has no timeout (axios waits forever by default), so a slow or stuck upstream holds the request that waits on it; {advice}."
    if client in (AXIOS_INSTANCE, GOT_INSTANCE):
        name = "axios" if client == AXIOS_INSTANCE else "got"
        return f"This {name} instance has no timeout ({name} waits forever by default), so every request made with it can hang; {advice}."
    if client == GOT:
        return f"This got request to {target} has no timeout (got waits forever by default), so a slow or stuck upstream holds the request that waits on it; {advice}."
    if client == NODE_FETCH:
        return f"This node-fetch request to {target} has no timeout (node-fetch waits forever by default); {advice}."
    if client == UNDICI:
        return f"This undici request to {target} waits up to 5 minutes for the headers and 5 more for the body (undici's defaults); {advice}."
    return f"This `fetch` to {target} has no timeout: Node's fetch waits up to 5 minutes for the headers and 5 more for the body, holding whatever waits on it; {advice}."


def _fix(outbound: Outbound, options: Node | None, ignored: Node | None, file: FileContext) -> Fix | None:
    """Add the option that bounds the wait (see the docs): unsafe, a slow request that succeeded now fails."""
    option = _OPTION_TEXT[outbound.client]
    if ignored is not None:
        value = ignored.child_by_field_name("value") if ignored.type == "pair" else ignored
        edits = (edit(file, ignored.start_byte, ignored.end_byte, f"signal: AbortSignal.timeout({text(value)})"),)
        description = "Replace the ignored `timeout` with `signal: AbortSignal.timeout(…)`"
    elif options is not None:
        edits = (_into_object(options, option, file),)
        description = f"Add `{option}`"
    else:
        added = _as_argument(outbound, option, file)
        if added is None:
            return None
        edits = (added,)
        description = f"Add `{option}`"
    return Fix(description=description, edits=edits, safe=False, source_digest=source_digest(file.source))


def _into_object(obj: Node, option: str, file: FileContext):
    entries = [c for c in obj.named_children if c.type != "comment"]
    if not entries:
        return edit(file, obj.start_byte, obj.end_byte, "{ " + option + " }")
    first = entries[0]
    on_own_line = file.lines.line_of(first.start_byte) != file.lines.line_of(obj.start_byte)
    if on_own_line:
        line_start = file.source.rfind(b"\n", 0, first.start_byte) + 1
        indent = file.source[line_start : first.start_byte].decode("utf-8", "replace")
        newline = "\r\n" if file.source[line_start - 2 : line_start] == b"\r\n" else "\n"
        return edit(file, first.start_byte, first.start_byte, f"{option},{newline}{indent}")
    return edit(file, first.start_byte, first.start_byte, f"{option}, ")


def _as_argument(outbound: Outbound, option: str, file: FileContext):
    arguments = arguments_of(outbound.call)
    holder = outbound.call.child_by_field_name("arguments")
    if holder is None or holder.type != "arguments":
        return None  # a tagged template
    literal = "{ " + option + " }"
    position = outbound.position
    if position < len(arguments):
        given = unwrap(arguments[position])
        return edit(file, given.start_byte, given.end_byte, literal) if text(given) == "undefined" else None
    padding = ["undefined"] * (position - len(arguments))
    added = ", ".join(padding + [literal])
    if not arguments:
        return edit(file, holder.start_byte + 1, holder.start_byte + 1, added)
    last = arguments[-1]
    return edit(file, last.end_byte, last.end_byte, ", " + added)
