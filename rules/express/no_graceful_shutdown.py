"""A server is started with `listen()` but nothing in its package closes it when the process is told to stop.

## Why is this bad?
Every deploy, scale-down and restart stops the old process: Railway, Render, Heroku, Fly, Docker and Kubernetes
send `SIGTERM`, wait a few seconds, then `SIGKILL`. Node's default reaction to `SIGTERM` is to die on the spot,
so every request in flight at that moment fails (a checkout half-written, an upload lost), open keep-alive
connections are reset, and database connections are dropped without being returned, which under frequent deploys
leaves the database holding dead connections until they time out. A `SIGTERM` handler that stops accepting new
connections (`server.close()`), lets running requests finish, disconnects Prisma and then exits turns every
deploy into a non-event.

The rule reports each `listen()` of an Express app, a Node `http`/`https` server, a Koa or Fastify app, or a
NestJS app (the app may be created in another module and imported, by a factory, or by a class that keeps it in
`this.app`), and each Hono app started on Node by `serve()` of `@hono/node-server`, when nothing in its package
handles `SIGTERM`, or when the only `SIGTERM` handler logs and exits. A file that starts several servers (an API
and its metrics listener) is one process: it gets one finding, at its first server, naming the others.
It counts as handled: `process.on('SIGTERM', …)` / `once` / a loop over `['SIGINT', 'SIGTERM']` anywhere in the
package or in a module it imports; a graceful-shutdown library (`@godaddy/terminus`, `http-terminator`,
`stoppable`, `lightship`, `close-with-grace`, `http-graceful-shutdown`, `exit-hook`, …); a call of an imported
helper named for it (`gracefulShutdown(server)`, `registerShutdownHooks(app)`); NestJS
`app.enableShutdownHooks()`; and a server the same file closes itself (a CLI's one-off login callback). A close
that only a crash handler makes (`process.on('unhandledRejection', …)`), or one inside a function nothing in the
file calls (a `stop()` exported for tests), does not count: a deploy's SIGTERM still kills the server.

It stays quiet for Next.js apps run by `next start` (Next.js handles `SIGTERM` itself), packages deployed as
serverless functions (`serverless-http`, `@vendia/serverless-express`, `@vercel/node`, …), a `listen()` that
only runs in development (`if (process.env.NODE_ENV !== 'production') app.listen(…)`), servers with nothing to
drain (no database, cache, queue, session or socket dependency and no route that changes anything: a
health-check sidecar, a docs server, a server-side rendering front end), test code and test-support packages,
and teaching code told apart by the repository's layout: a server in one of three or more numbered sibling
folders that each hold an app of their own (`demo03/`, `lesson-2/`, `week3/`, `01-intro/`; not release folders
such as `v2/`) with no manifest above them and no deployment file outside the other lessons, and a server of a
collection of three or more such independent apps that are only ever started under a file watcher, where
nothing (no script, image, Compose service or platform file) runs a server as a deployment would (course
follow-alongs).
An app of a monorepo is judged by its own `package.json` and the modules its files import, not by the root
package's dependencies, which belong to the other apps; when several apps share one `package.json` (an Nx
workspace's `apps/api` and `apps/admin`, or its `packages/*`), each is judged by the files its entry loads:
another app's `enableShutdownHooks()` or `SIGTERM` handler runs in another process.

A NestJS app also counts as holding state when a provider has shutdown work, which Nest runs on `SIGTERM` only
after `app.enableShutdownHooks()`: a hook (`onModuleDestroy()`, `beforeApplicationShutdown()`,
`onApplicationShutdown()`), a `$disconnect()` or a class that extends `PrismaClient`; the finding names them.

## Example
```js
const express = require('express');

const app = express();
app.get('/health', (req, res) => res.json({ ok: true }));

app.listen(process.env.PORT || 4000);
```

## Use instead
```js
const express = require('express');
const { prisma } = require('./lib/prisma');

const app = express();
app.get('/health', (req, res) => res.json({ ok: true }));

const server = app.listen(process.env.PORT || 4000);

process.on('SIGTERM', () => {
  server.close(async () => {
    await prisma.$disconnect();
    process.exit(0);
  });
  // Do not wait forever for keep-alive connections.
  setTimeout(() => process.exit(1), 10_000).unref();
});
```

## References
- [Express: Health checks and graceful shutdown](https://expressjs.com/en/advanced/healthcheck-graceful-shutdown.html)
- [Node.js: `server.close()`](https://nodejs.org/api/http.html#serverclosecallback)
- [Kubernetes: Termination of pods](https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination)
- [Prisma: `$disconnect()`](https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/connection-management)
- [NestJS: Lifecycle events, application shutdown](https://docs.nestjs.com/fundamentals/lifecycle-events#application-shutdown)
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterator

from linter import lazy_re
from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NESTJS, NEXTJS, NODE_HTTP
from linter.context import FileContext
from linter.entries import app_folder, entries_of, loaded_by
from linter.frameworks.nestjs import CLASS_TYPES, built_class_scope, shutdown_hook
from linter.frameworks.prisma import extends_prisma_client
from linter.js.deployment_checks import development_when_true
from linter.js.expressions import arguments_of, callee, member_object, object_keys, unwrap
from linter.js.functions import enclosing_function, function_name
from linter.js.imports import package_name, string_value
from linter.js.references import resolve_imported
from linter.rules.express._servers import (
    MAX_PLACES,
    Imported,
    creation_kind,
    creation_places,
    first_creation,
    first_mutating_route,
    imported_shutdown_call,
    is_mutating_route,
    is_stateful_package,
    may_create_server,
    may_name_creation,
    may_name_mutating_route,
    may_name_shutdown_helper,
    route_places,
    serverless_adapter,
    server_kind,
    shutdown_library,
    sigterm_handler,
)
from linter.rules.express._teaching_code import teaching_layout
from linter.model import Finding, Level, Location, Precision
from linter.paths import is_test_support_path
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node, descendants_of_types, text

_NEST_MUTATING_ROUTE = lazy_re.compile(rb"@(Post|Put|Patch|Delete|All)\(")
_NEXT_START = lazy_re.compile(r"(^|[\s;&|])next\s+start\b")
_CLOSE_ADVICE = {
    "fastify": "on SIGTERM call `await app.close()` (or use close-with-grace)",
    "nest": (
        "call `app.enableShutdownHooks()` before `listen()` so that Nest closes the server and runs its shutdown "
        "hooks on SIGTERM"
    ),
    "hono": (
        "keep the server `serve()` returns and on SIGTERM call `server.close()`, let running requests finish"
        "{prisma} and then exit"
    ),
}
HONO_NODE_SERVER = "@hono/node-server"
_DEFAULT_ADVICE = "on SIGTERM call `server.close()`, let running requests finish{prisma} and then exit"
_CRASH_EVENTS = ("unhandledRejection", "uncaughtException")
# Facts that show a package takes care of SIGTERM.
_HANDLING = ("sigterm", "library", "helper", "nest-hooks")


class NoGracefulShutdown(Rule):
    id = "express/no-graceful-shutdown"
    project_reports_at = frozenset({"listen"})
    name = "NoGracefulShutdown"
    level = Level.WARNING
    precision = Precision.HIGH
    tags = ("express", "reliability", "deployment")
    frameworks = (EXPRESS, NODE_HTTP, NEXTJS, NESTJS, FASTIFY, HONO, KOA)
    needles = (
        b"listen", b"SIGTERM", b"express", b"createServer", b"astify", b"koa", b"Koa", b"NestFactory",
        b"enableShutdownHooks", b"shutdown", b"Shutdown", b"grace", b"Grace", b"terminus", b"terminator",
        b"stoppable", b"lightship", b"exit-hook", b"signal-exit", b"serverless", b"/functions", b"-functions",
        b"@vercel/node", b"drainHttpServer", b"@hono/node-server", b"onModuleDestroy", b"ApplicationShutdown",
        b"extends PrismaClient", b"$disconnect",
    )  # fmt: skip
    query = """
(call_expression
  function: (member_expression property: (property_identifier) @method)
  (#any-of? @method
    "listen" "on" "once" "addListener" "prependListener" "prependOnceListener" "enableShutdownHooks")) @call
(program) @program
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if is_test_support_path(file.path):
            return
        program = match.get("program")
        if program is not None:
            yield from self._file_facts(program, file)
            return
        call, method = match["call"], text(match["method"])
        if method == "listen":
            fact = self._listen_fact(call, file)
            if fact is not None:
                yield fact
        elif method == "enableShutdownHooks":
            yield file.fact(self, "nest-hooks", call)
        else:
            handler = sigterm_handler(call, file)
            if handler is not None:
                yield file.fact(self, "sigterm", call, exit_only=handler.exit_only)

    def _listen_fact(self, call: Node, file: FileContext) -> Fact | None:
        receiver = member_object(callee(call))
        kind = server_kind(receiver, file)
        if kind is None or _only_in_development(call) or _ephemeral_port(call):
            return None
        if _closed_in_file(call, receiver, file):
            return None
        if isinstance(kind, Imported):
            return file.fact(self, "listen", call, server=None, imported=kind.specifier)
        return file.fact(self, "listen", call, server=kind, imported=None)

    def _hono_serve_fact(self, call: Node, file: FileContext) -> Fact | None:
        """`serve({ fetch: app.fetch, port })` of `@hono/node-server`: a Hono app started on Node."""
        imported = resolve_imported(callee(call), file)
        if imported is None or imported.module != HONO_NODE_SERVER or imported.path != ("serve",):
            return None
        if _only_in_development(call) or _ephemeral_port(call) or _closed_in_file(call, None, file):
            return None
        return file.fact(self, "listen", call, server="hono", imported=None)

    def _file_facts(self, program: Node, file: FileContext) -> Iterator[Fact]:
        library = shutdown_library(file)
        if library is not None:
            yield file.fact(self, "library", program, name=library)
        adapter = serverless_adapter(file)
        if adapter is not None:
            yield file.fact(self, "serverless", program, name=adapter)
        # The walk over every call looks only for what the file's bytes allow (most files allow none of it).
        hono = b"@hono/node-server" in file.source
        find_server = may_create_server(file) and may_name_creation(file)
        find_helper = may_name_shutdown_helper(file)
        mutating = False
        servers, routes = creation_places(file) if find_server else [], route_places(file)
        if hono or find_helper or len(servers) + len(routes) > MAX_PLACES:
            find_route = may_name_mutating_route(file)
            for node in descendants_of_types(program, ("call_expression", "new_expression")):
                if hono and node.type == "call_expression":
                    fact = self._hono_serve_fact(node, file)
                    if fact is not None:
                        yield fact
                if find_server:
                    created = creation_kind(node, file)
                    if created is not None:
                        find_server = False
                        yield file.fact(self, "server", node, server=created)
                if node.type != "call_expression":
                    continue
                if find_route and is_mutating_route(node):
                    find_route, mutating = False, True
                    yield file.fact(self, "mutating-route", node)
                helper = imported_shutdown_call(node, file) if find_helper else None
                if helper is not None:
                    yield file.fact(self, "helper", node, name=helper)
        else:
            # The facts left to find, each from the places where the file names what it needs, in the walk's order.
            creation = first_creation(file, servers) if find_server else None
            route = first_mutating_route(file, routes)
            mutating = route is not None
            facts = []
            if creation is not None:
                facts.append((creation[0], file.fact(self, "server", creation[0], server=creation[1])))
            if route is not None:
                facts.append((route, file.fact(self, "mutating-route", route)))
            for _, fact in sorted(facts, key=lambda pair: (pair[0].start_byte, -pair[0].end_byte)):
                yield fact
        if not mutating and _NEST_MUTATING_ROUTE.search(file.source):
            yield file.fact(self, "mutating-route", program)
        if b"@nestjs/" in file.source:
            yield from self._nest_state_facts(file)

    def _nest_state_facts(self, file: FileContext) -> Iterator[Fact]:
        """Providers whose shutdown work Nest runs on SIGTERM only after `enableShutdownHooks()`: a shutdown hook
        (`onModuleDestroy()`), a Prisma client class or a `$disconnect()` in a class Nest builds."""
        for cls in descendants_of_types(file.root, CLASS_TYPES):
            if built_class_scope(cls, file) is None:
                continue
            name = cls.child_by_field_name("name")
            label = text(name) if name is not None else "a provider"
            hook = shutdown_hook(cls)
            if hook is not None:
                yield file.fact(self, "nest-state", hook, what=f"`{label}.{text(hook)}()`")
            elif extends_prisma_client(cls, file) or b"$disconnect" in cls.text:
                yield file.fact(self, "nest-state", name if name is not None else cls, what=f"`{label}`")

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        by_kind: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts_of(project, self):
            by_kind[fact.kind].append(fact)
        servers = {fact.path: fact.data["server"] for fact in by_kind["server"]}
        handled_files: dict[str, list[Fact]] = defaultdict(list)
        for kind in _HANDLING:
            for fact in by_kind[kind]:
                handled_files[fact.path].append(fact)
        serverless_packages = {_package_key(project, f.path) for f in by_kind["serverless"]}
        mutating_files = {f.path for f in by_kind["mutating-route"]}
        nest_state: dict[str, list[Fact]] = defaultdict(list)
        for fact in by_kind["nest-state"]:
            nest_state[fact.path].append(fact)
        listens: list[tuple[Fact, str]] = []
        for listen in by_kind["listen"]:
            kind = listen.data["server"]
            if kind is None:
                target = project.resolve(listen.path, listen.data["imported"])
                kind = servers.get(target) if target is not None else None
                if kind is None:
                    continue
            listens.append((listen, kind))
        app_folders = defaultdict(set)
        for listen, _ in listens:
            package_key = _package_key(project, listen.path)
            app_folders[package_key].add(_app_folder(package_key, listen.path))
        reachable: dict[str, set[str]] = {}
        reported: set[str] = set()
        server_packages = frozenset(_package_key(project, listen.path) for listen, _ in listens)
        listens.sort(key=lambda pair: (pair[0].path, pair[0].span.start_line, pair[0].span.start_column))
        for listen, kind in listens:
            package_key = _package_key(project, listen.path)
            if package_key in serverless_packages or _runs_next_start(project, listen.path):
                continue
            if teaching_layout(project, package_key, server_packages) is not None:
                continue  # a lesson or a course follow-along: nothing ever stops it but Ctrl-C
            if _app_folder(package_key, listen.path) is not None and len(app_folders[package_key] - {None}) > 1:
                # Several apps share one package (an Nx workspace): each is judged by what its entry loads.
                files, package_state = set(loaded_by(project, entries_of(project, listen.path))), False
            else:
                if package_key not in reachable:
                    reachable[package_key] = _reachable_files(project, package_key)
                files, package_state = reachable[package_key], True
            state = [f for path in sorted(files) for f in nest_state.get(path, ())] if kind == "nest" else []
            if not state and not (files & mutating_files) and not _has_state(project, listen.path, files, package_state):
                continue  # A server with nothing to lose (a health-check sidecar, a docs server) may just die
            handlers = [f for path in sorted(files) for f in handled_files.get(path, ())]
            if any(not (f.kind == "sigterm" and f.data["exit_only"]) for f in handlers):
                continue
            where = "this package" if package_state else "the files this app loads"
            if listen.path in reported:
                continue  # the same process: the handler asked for at its first server closes this one too
            reported.add(listen.path)
            others = [other for other, _ in listens if other.path == listen.path and other is not listen]
            yield self._finding(project, listen, kind, handlers, state, where, others)

    def _finding(
        self,
        project: ProjectIndex,
        listen: Fact,
        kind: str,
        exit_only: list[Fact],
        nest_state: list[Fact],
        where: str,
        other_servers: list[Fact],
    ) -> Finding:
        prisma = ", disconnect Prisma" if project.depends_on(listen.path, ("@prisma/client",)) else ""
        advice = _CLOSE_ADVICE.get(kind, _DEFAULT_ADVICE).format(prisma=prisma)
        hooks = ""
        if nest_state:
            names = ", ".join(f.data["what"] for f in nest_state[:3]) + (", …" if len(nest_state) > 3 else "")
            hooks = f", and Nest never runs the shutdown work of {names}"
        if exit_only:
            message = (
                "The SIGTERM handler only logs and exits, so a deploy or restart still cuts off the requests this "
                f"server is handling{hooks}; {advice}."
            )
            related = [f.location("the SIGTERM handler") for f in exit_only]
        else:
            message = (
                f"Nothing in {where} handles SIGTERM for this server, so every deploy, restart or scale-down "
                f"kills it mid-request and drops its database connections{hooks}; {advice}."
            )
            related: list[Location] = []
        related += [f.location("Nest runs this on shutdown only after `enableShutdownHooks()`") for f in nest_state[:5]]
        related += [f.location("this process also starts this server: close it in the same handler") for f in other_servers]
        return self.finding(listen.location(), message, related=related)


def _app_folder(package_key: str, path: str) -> str | None:
    """The folder of one app among several sharing a package.json: `apps/<name>`, `services/<name>`, and an Nx
    workspace's `packages/<name>` (its apps have a project.json and no manifest of their own)."""
    folder = app_folder(package_key, path)
    if folder is not None:
        return folder
    relative = path[len(package_key) + 1 :] if package_key and path.startswith(package_key + "/") else path
    parts = relative.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 and parts[0] == "packages" else None


def _package_key(project: ProjectIndex, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _reachable_files(project: ProjectIndex, package_key: str) -> set[str]:
    """The files of a package and the files they import (a shutdown helper may live in a shared module)."""
    own = {path for path in project.files if _package_key(project, path) == package_key}
    imported = {target for path in own for _, target in project.imports.get(path, ()) if target is not None}
    return own | imported


def _has_state(project: ProjectIndex, path: str, files: set[str], package_wide: bool = True) -> bool:
    """The server's own package (an app of a monorepo by its own package.json: the root's dependencies belong to
    the other apps) depends on a database, cache, queue, session store or sockets, or the files the server loads
    import one; a lone file, with no package, counts as stateful. `package_wide` False: the package holds several
    apps, so its dependencies say nothing of this one's."""
    package = project.package_of(path)
    if package is None:
        return True
    if package_wide and any(is_stateful_package(name) for name in package.dependencies):
        return True
    return any(
        is_stateful_package(package_name(specifier))
        for file in files
        for specifier in project.specifiers.get(file, ())
        if not specifier.startswith((".", "/", "#", "~", "@/", "node:"))
    )



def _runs_next_start(project: ProjectIndex, path: str) -> bool:
    """The package is a Next.js app started by `next start`, which closes its server on SIGTERM itself."""
    package = project.package_of(path)
    if package is None or not package.depends_on(("next",)):
        return False
    return any(name == "start" and _NEXT_START.search(command) for name, command in package.scripts)


def _only_in_development(call: Node) -> bool:
    """Inside `if (<development only>)` or the `else` of `if (<production only>)`."""
    node = call
    while node.parent is not None:
        parent = node.parent
        if parent.type == "if_statement":
            development = development_when_true(parent.child_by_field_name("condition"))
            if development is not None:
                in_alternative = parent.child_by_field_name("alternative") == node
                if development != in_alternative:
                    return True
        node = parent
    return False


def _ephemeral_port(call: Node) -> bool:
    """`listen(0)` / `listen({ port: 0 })`: a port the OS picks, for an in-process helper or a test server that
    nothing outside reaches by a fixed address."""
    arguments = arguments_of(call)
    first = unwrap(arguments[0]) if arguments else None
    if first is not None and first.type == "object":
        first = unwrap(object_keys(first).get("port"))
    return first is not None and first.type == "number" and text(first) == "0"


def _closed_in_file(call: Node, receiver: Node | None, file: FileContext) -> bool:
    """The file closes this server itself (`server.close()` on the app or on what `listen()` returned), or
    `unref()`s it so that it never keeps the process alive: a server it runs for a while, such as a CLI's login
    callback or an in-process proxy, or one it already shuts down."""
    names = set()
    receiver = unwrap(receiver)
    if receiver is not None and receiver.type in ("identifier", "member_expression"):
        names.add(text(receiver))
    holder = call
    while holder.parent is not None and holder.parent.type in ("await_expression", "parenthesized_expression"):
        holder = holder.parent
    parent = holder.parent
    if parent is not None and parent.type == "variable_declarator":
        names.add(text(parent.child_by_field_name("name")))
    elif parent is not None and parent.type == "assignment_expression":
        names.add(text(parent.child_by_field_name("left")))
    for name in names:
        if not name:
            continue
        pattern = rb"(?<![\w$.])" + re.escape(name.encode()) + rb"\s*\??\.\s*(?:close|unref)\s*\("
        for found in re.finditer(pattern, file.source):
            node = file.root.descendant_for_byte_range(found.start(), found.start())
            if node is not None and _runs_in_this_process(node, file):
                return True
    return False


def _runs_in_this_process(node: Node, file: FileContext) -> bool:
    """A close the process itself gets to: not one only a crash handler makes (`process.on('uncaughtException')`),
    and not one inside a function nothing in the file calls (a `stop()` exported for tests: whoever calls it
    on SIGTERM is seen there)."""
    function = enclosing_function(node)
    while function is not None:
        holder = function.parent.parent if function.parent is not None else None
        if holder is not None and holder.type == "call_expression" and _crash_event(holder):
            return False
        name = _declared_name(function)
        if name is not None and not _used_in_file(name, function, file):
            return False
        function = enclosing_function(function)
    return True


def _crash_event(call: Node) -> bool:
    """`process.on('unhandledRejection' | 'uncaughtException', …)`."""
    function = callee(call)
    if function is None or function.type != "member_expression" or text(member_object(function)) != "process":
        return False
    arguments = arguments_of(call)
    event = string_value(unwrap(arguments[0])) if arguments else None
    return event in _CRASH_EVENTS


def _used_in_file(name: str, function: Node, file: FileContext) -> bool:
    """`name` is called or handed on somewhere in the file, besides its declaration and export lists."""
    declared = function.child_by_field_name("name")
    for identifier in descendants_of_types(file.root, ("identifier",)):
        if text(identifier) != name or identifier == declared or _declares(identifier, function):
            continue
        parent = identifier.parent
        if parent is not None and parent.type == "export_specifier":
            continue
        if parent is not None and parent.type == "pair" and _module_exports(parent):
            continue
        return True
    return False


def _declared_name(function: Node) -> str | None:
    """The name a function declaration or `const name = () => …` gives it (not an object's method)."""
    if function.type in ("function_declaration", "generator_function_declaration"):
        return function_name(function)
    holder = function.parent
    if holder is not None and holder.type == "variable_declarator":
        return function_name(function)
    return None


def _declares(identifier: Node, function: Node) -> bool:
    """`const stop = async () => …`: the declarator's name."""
    holder = function.parent
    return holder is not None and holder.type == "variable_declarator" and holder.child_by_field_name("name") == identifier


def _module_exports(pair: Node) -> bool:
    """A property of `module.exports = { … }`."""
    node = pair.parent
    holder = node.parent if node is not None else None
    return (
        holder is not None
        and holder.type == "assignment_expression"
        and text(holder.child_by_field_name("left")) in ("module.exports", "exports")
    )
