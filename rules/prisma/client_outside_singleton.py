"""A `PrismaClient` created per request, per call, or in more than one module instead of one shared singleton.

## Why is this bad?
Every `new PrismaClient()` opens its own connection pool (by default `num_cpus * 2 + 1` connections).
Created inside a request handler, a middleware or any function that runs more than once, a new pool is opened
on every call: under load the database runs out of connections (Postgres allows about 100) long before the app
runs out of CPU, and requests fail with "too many clients". Twenty route files that each create their own
client at module level hold twenty pools at once. In a Next.js app, every hot reload in development re-runs
the module and opens yet another pool unless the client is cached on `globalThis`.

The rule reports:
- a client created inside a request handler, middleware, Next.js API route, route handler, server action,
  NestJS route, or a constructor or function that runs on every call, unless the function is a lazy singleton
  accessor (`if (!client) client = new PrismaClient()`, `globalThis.prisma ??= new PrismaClient()`);
- a factory that returns a new client on every call (`export function createClient()`), judged by its callers
  in every module, through functions that pass its client on (`getRepository()` calling `createClient()`):
  reported at its `new PrismaClient()` when some caller runs it per request, with those calls as related
  locations (one finding per factory: the defect and its fix are in the factory, whichever handlers call it);
  silent when every caller runs once (module level) or keeps its client (`globalThis.prisma ??
  createClient()`, a lazy accessor, a memoizer such as `singleton('replica', () => createClient())`), or when
  only tests and scripts call it. A call in a callback is judged where the callback runs: handed to a function
  of the project that calls it before returning (`choose(url, { makeWriter: (u) => createClient(u) })`), it
  runs as often as that call does. A factory whose callers cannot be found is reported as any function that
  makes a client per call;
- every module-level client of a package except the shared one (the module that exports its client and is
  imported elsewhere, or caches it on `globalThis`), naming that module; a factory's call at module level in
  another module counts as a client of that module;
- a module-level client in a package whose other modules import the client of another workspace package
  (`import { prisma } from '@acme/database'`): both pools open in the same process;
- NestJS: a client class (`class PrismaService extends PrismaClient`, or an `@Injectable()` service that creates
  a `PrismaClient` in a field or its constructor) listed in the `providers` of more than one `@Module()`, since
  Nest builds one instance, with its own pool, per module that lists it (`{ provide: PrismaService, useClass }`
  and `useFactory` count; `useExisting` and `useValue` build nothing): reported at every listing but the one of
  the module that exports it (a `@Global()` PrismaModule); a `new PrismaService()` written by hand in the app
  that Nest already provides it to; and a client of a request-scoped or transient provider. A service provided
  once and imported elsewhere is the singleton Nest is meant to give, and so is the client of a factory
  provider (`useFactory: () => new PrismaService()`);
- as a warning, the only client of a Next.js app when it is not cached on `globalThis` and Next.js bundles it
  (a page, route handler, API route or middleware imports it); a Fastify plugin or a test harness beside the
  app is not reloaded by `next dev`.

Not a second pool of the server, so left alone: a read replica handed to `readReplicas()`; a client over an
HTTP driver adapter (`PrismaPlanetScale`, `PrismaNeonHTTP`, `PrismaD1`) or extended with Accelerate; a client
its function disconnects and hands to nobody (a startup connection probe, a one-off job) unless that function
runs per request; the entry file of a worker thread (it imports `parentPort` or `workerData`; a thread has
module instances of its own); and code that runs apart from the server: tests, one-shot paths (option
`one-shot-paths`, gitignore-style globs, by default `scripts/`, `*-scripts/`, `bin/`, seed files and
`seed/`, `seeds/`, `prisma/seed*`, `migrations/`, test-runner setup; `extend-one-shot-paths` adds to them),
commands that no module imports (`#!/usr/bin/env node`, `process.argv`, a file a package script runs),
serverless function entries, and modules that only such code imports. Also a module nothing imports when the
package's server starts from known files (its `main`, the file its `start`/`dev` script runs) whose imports
all resolve: the server leaves it out (a router it no longer mounts); and a file nothing imports that imports
no module of the project and exports nothing (a scratch script run by hand). Neither when the package loads
modules by a computed path (`require(path.join(dir, file))`, a folder autoloader) that may name the module.

## Example
```js
const express = require('express');
const { PrismaClient } = require('@prisma/client');

const router = express.Router();

router.get('/leads', async (req, res) => {
  const prisma = new PrismaClient();
  res.json(await prisma.lead.findMany({ take: 50 }));
});

module.exports = router;
```

## Use instead
```js
// lib/prisma.js holds the only client:
//   const { PrismaClient } = require('@prisma/client');
//   module.exports = { prisma: new PrismaClient() };
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();

router.get('/leads', async (req, res) => {
  res.json(await prisma.lead.findMany({ take: 50 }));
});

module.exports = router;
```
In a Next.js app, cache the client on `globalThis` so hot reloads reuse it:
```ts
import { PrismaClient } from '@prisma/client';

const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient };
export const prisma = globalForPrisma.prisma ?? new PrismaClient();
if (process.env.NODE_ENV !== 'production') globalForPrisma.prisma = prisma;
```

## References
- Prisma docs: Instantiating Prisma Client — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/instantiate-prisma-client
- Prisma docs: Best practice for instantiating Prisma Client with Next.js — https://www.prisma.io/docs/orm/more/help-and-troubleshooting/nextjs-help
- Prisma docs: Connection pool — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/connection-pool
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

import posixpath

from linter import lazy_re
from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NESTJS, NEXTJS, SERVER_ACTIONS
from linter.context import FileContext
from linter.flow.modules import MAX_RE_EXPORTS, module_graph
from linter.frameworks.nextjs import (
    ISOLATE_RUNTIME_PACKAGES,
    command_script_files,
    is_next_routed,
    server_entry_files,
)
from linter.frameworks.nestjs import CLASS_TYPES, provider_factory
from linter.frameworks.prisma import extends_prisma_client, is_prisma_module, prisma_client_source
from linter.js.expressions import unwrap
from linter.js.invocation import invocation
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Location, Precision
from linter.paths import is_test_path
from linter.project import ProjectIndex

if TYPE_CHECKING:
    import pathspec
from linter.rule import Fact, LazyOptions, Match, Rule, facts_of
from linter.syntax import Node, descendants_of_types, node_at, text

from ._client_factories import FactoryCallers, FactoryUses
from ._nest_clients import (
    CLIENT_CLASS,
    IMPORTED_NEW,
    PROVIDER,
    PROVIDER_FACTORY,
    imported_class,
    nest_built_class,
    nest_clients,
    provider_facts,
    scope_phrase,
)
from ._client_sites import (
    NEST_ROUTE_PHRASE,
    PROBE,
    FactoryClient,
    ModuleClient,
    PerCallClient,
    factory_keys,
    function_label,
    is_nest_route,
    module_client,
    poolless_reason,
)

DEFAULT_ONE_SHOT_PATHS = (
    "**/scripts/**",
    "**/script/**",
    "**/*-scripts/**",
    "**/bin/**",
    "**/seed.*",
    "**/seed/**",
    "**/seeds/**",
    "**/seeders/**",
    "**/*.seed.*",
    "**/prisma/seed*",
    "**/migrations/**",
    "**/*test-environment.*",
    "**/jest.setup.*",
    "**/vitest.setup.*",
    "**/setupTests.*",
)
# The paths those globs match, in one expression (the union of the expressions `pathspec` makes of them), so
# that a run with the default options does not import `pathspec`: a folder of one-shot code, or a file (or
# folder) whose name starts as a seed or a test setup does.
DEFAULT_ONE_SHOT_PATH = lazy_re.compile(
    r"^(?:.+/)?(?:(?:scripts|script|[^/]*-scripts|bin|seed|seeds|seeders|migrations)/"
    r"|(?:seed\.|[^/]*\.seed\.|prisma/seed|[^/]*test-environment\.|jest\.setup\.|vitest\.setup\.|setupTests\.)[^/]*(?:/|$))"
)
# Markers of a file run as a command (`node sync-stripe.js`) rather than imported by the app.
ENTRY_POINT_MARKERS = (b"require.main === module", b"require.main == module", b"import.meta.main", b"process.argv")
# A serverless function entry (AWS Lambda, Netlify): each is deployed and run on its own.
LAMBDA_HANDLER_EXPORT = lazy_re.compile(
    rb"(?:module\.)?exports\.handler\s*=|export\s+(?:const|let|async\s+function|function)\s+handler\b"
)
# What only the entry file of a worker thread (`new Worker(file)`) reads from `worker_threads`: its channel to the
# parent and the data it was started with.
WORKER_ENTRY_NAMES = frozenset({"parentPort", "workerData"})
WORKER_MODULES = frozenset({"worker_threads", "node:worker_threads"})
NEXT_PACKAGES = ("next",)
# Packages that load every module of a folder at startup: nothing imports those modules by name.
FOLDER_LOADERS = ("@fastify/autoload", "fastify-autoload", "consign", "express-load", "require-all", "require-directory")
# `import(x)` or `require(x)` with a computed argument: the file loads whatever the running code names.
COMPUTED_LOAD = lazy_re.compile(rb"(?<![\w$.])(?:import|require)\s*\(\s*(?![\s'\")])")
# A file name a loader writes out (`path.resolve(dir, id, 'routes', 'index.js')`): the only files it loads.
WRITTEN_FILE_NAME = lazy_re.compile(rb"""['"`]([\w.-]*[\w-]\.[cm]?[jt]sx?)['"`]""")
# A script file a module names (`spawn(node, ['worker.ts'])`, `new Worker('./jobs/sync.js')`): it may start it.
NAMED_SCRIPT = lazy_re.compile(rb"""['"`]((?:\.{1,2}/)*[\w.-]+(?:/[\w.-]+)*\.[cm]?[jt]sx?)['"`]""")
# Modules that start a script file in a process or thread of its own.
PROCESS_MODULES = frozenset(
    {"child_process", "node:child_process", "worker_threads", "node:worker_threads", "cluster", "node:cluster"}
)
# The module gives something to others: an ES export or a CommonJS one.
EXPORTS = lazy_re.compile(rb"(?m)^\s*export\b|\bmodule\.exports\b|(?<![\w$.])exports\.[\w$]")
MODULE, PER_CALL, FACTORY = "module", "per-call", "factory"
MAX_RELATED = 5
MAX_BUNDLE_WALK = 2_000  # files visited looking for the Next.js route that bundles a module
MAX_IMPORT_DEPTH = 40  # importers of importers followed to learn that only one-shot code loads a module


@lru_cache(maxsize=32)
def _path_spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    import pathspec  # here: a run whose options name no path patterns does not import it

    return pathspec.GitIgnoreSpec.from_lines(patterns)


@dataclass(frozen=True)
class Site:
    """A client created once per module load: a `new PrismaClient()`, or a call of a factory of another module."""

    location: Location
    client: ModuleClient

    @property
    def path(self) -> str:
        return self.location.path


class ClientOutsideSingleton(Rule):
    id = "prisma/client-outside-singleton"
    # Its findings stand at a client (a module-level, per-call or factory client, a `new` of an imported class)
    # or a NestJS providers listing, and at a call that runs once per module load of a factory: a module that
    # imports the factory's (through barrels too: `FactoryCallers`). A factory is a FACTORY fact, or a `new` of
    # an imported class that is a client class (`nest_clients`), whose module the factory's imports lead to.
    project_reports_at = frozenset({MODULE, PER_CALL, FACTORY, PROVIDER, IMPORTED_NEW})
    project_reports_importing = frozenset({FACTORY, CLIENT_CLASS})
    name = "ClientOutsideSingleton"
    level = Level.ERROR
    other_levels = {Level.WARNING: "a Next.js client not cached on `globalThis` (a new pool on each hot reload in development)"}
    precision = Precision.HIGH
    tags = ("prisma", "performance", "reliability")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, NESTJS, FASTIFY, HONO, KOA)
    needles = (b"Prisma", b"@Module")
    query = """
(new_expression constructor: (_) @ctor) @new
(program) @program
"""
    Options = LazyOptions("._client_outside_singleton_options", "ClientOutsideSingletonOptions")

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if self._skipped(file.path):
            return
        program = match.get("program")
        if program is not None:
            yield from self._class_facts(file)
            return
        new, constructor = match["new"], match["ctor"]
        if prisma_client_source(constructor, file) is None:
            built = imported_class(unwrap(constructor) or constructor, file)
            if built is not None and not is_prisma_module(built.module):
                kind, node, data = self._client_fact(new, file, imported=True)
                yield file.fact(self, IMPORTED_NEW, node, callee=built.to_data(), builds=kind, data=data)
            return
        kind, node, data = self._client_fact(new, file, imported=False)
        yield file.fact(self, kind, node, **data)

    def _client_fact(self, new: Node, file: FileContext, imported: bool) -> tuple[str, Node, dict]:
        """(kind, node, data) of the fact kept for a client built at `new`: of a `PrismaClient`, or of a class
        of another module that may extend it (`imported`)."""
        if provider_factory(new):
            return (PROVIDER_FACTORY if imported else MODULE), new, ModuleClient(poolless=poolless_reason(new, file)).data()
        nest = nest_built_class(new, file)
        if nest is not None:
            cls, scope = nest
            phrase = scope_phrase(scope)
            if phrase is not None:
                return PER_CALL, new, PerCallClient(phrase).data()
            if not imported:  # a wrapper service: judged by the modules that list it
                name = cls.child_by_field_name("name")
                anchor = name if name is not None else new
                return CLIENT_CLASS, anchor, {"name": text(anchor) if name is not None else "", "wraps": True}
        run = invocation(new, file.path, file.root)
        if run.runs != "per-call" or nest is not None:
            return MODULE, new, module_client(new, run, file, poolless_reason(new, file)).data()
        keys = factory_keys(run.function, file) if run.kind == "function" and run.function is not None else ()
        if run.function is not None and is_nest_route(run.function, file):
            return PER_CALL, new, PerCallClient(NEST_ROUTE_PHRASE).data()
        if keys:
            factory = FactoryClient(keys, function_label(run.function), poolless_reason(new, file))
            return FACTORY, new, factory.data()
        return PER_CALL, new, PerCallClient(run.phrase()).data()

    def _class_facts(self, file: FileContext) -> Iterator[Fact]:
        """The classes of the file that extend PrismaClient, and the providers its Nest modules list."""
        if b"extends" in file.source:
            for cls in descendants_of_types(file.root, CLASS_TYPES):
                name = cls.child_by_field_name("name")
                if name is not None and extends_prisma_client(cls, file):
                    yield file.fact(self, CLIENT_CLASS, name, name=text(name), wraps=False)
        if b"@Module" in file.source:
            yield from provider_facts(self, file)

    def _skipped(self, path: str) -> bool:
        """Tests and one-shot code (scripts, seeds, migrations): neither a server's client nor its caller."""
        if self.default_options:  # without building the options (a pydantic model)
            return is_test_path(path) or DEFAULT_ONE_SHOT_PATH.match(path) is not None
        patterns = tuple(self.options.one_shot_paths) + tuple(self.options.extend_one_shot_paths)
        return is_test_path(path) or (bool(patterns) and _path_spec(patterns).match_file(path))

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        by_kind: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts_of(project, self):
            by_kind[fact.kind].append(fact)
        apart = _ApartCode(project, self._skipped)
        nest = nest_clients(
            project, self, by_kind, lambda path: apart.runs_apart(path), lambda path: _package_key(project, path)
        )
        for fact in nest.promoted:
            by_kind[fact.kind].append(fact)
        yield from nest.findings
        sites = [Site(fact.location(), ModuleClient.of(fact)) for fact in by_kind[MODULE]]
        callers = FactoryCallers(project, lambda path: self._skipped(path) or apart.runs_apart(path))
        factories: list[tuple[Fact, FactoryClient, FactoryUses]] = []
        for fact in by_kind[FACTORY]:
            if apart.imported_only_apart(fact.path):
                continue
            factory = FactoryClient.of(fact)
            uses = callers.uses(fact.path, factory.keys, factory.name, factory.poolless)
            factories.append((fact, factory, uses))
            sites.extend(Site(call.location, call.client) for call in uses.once)
        shared_by_package, findings = _PackageCheck(project, self, apart, sites).run()
        yield from findings

        def advice(path: str) -> str:
            shared = shared_by_package.get(_package_key(project, path))
            if shared is not None:
                return f"import the shared client from {shared} instead"
            return "create one client in a module of its own (such as lib/prisma) and import it everywhere"

        for fact in by_kind[PER_CALL]:
            if _isolate_runtime(project, fact.path) or apart.imported_only_apart(fact.path):
                continue
            phrase = PerCallClient.of(fact).phrase
            yield self.finding(
                fact.location(),
                f"`new PrismaClient()` runs {phrase} and every client opens its own connection pool; "
                f"{advice(fact.path)}.",
            )
        for fact, factory, uses in factories:
            finding = self._factory_finding(project, fact, factory, uses, advice(fact.path))
            if finding is not None:
                yield finding

    def _factory_finding(
        self, project: ProjectIndex, fact: Fact, factory: FactoryClient, uses: FactoryUses, advice: str
    ) -> Finding | None:
        calls = [c for c in uses.per_request if not _isolate_runtime(project, c.location.path)]
        if not calls:
            if not uses.unknown or factory.poolless == PROBE or _isolate_runtime(project, fact.path):
                return None  # every caller runs once or caches the client; or the factory closes its client
            return self.finding(
                fact.location(),
                f"`new PrismaClient()` runs on every call of `{factory.name}()` and every client opens its own "
                f"connection pool; {advice}.",
            )
        first = calls[0]
        files = sorted({c.location.path for c in calls})
        where = first.location.path if first.location.path != fact.path else "this module"
        through = f" through `{first.callee}()`" if first.through else ""
        more = ""
        if len(calls) > 1:
            more = f"; {len(calls) - 1} more call{'s' if len(calls) > 2 else ''} per request"
            if len(files) > 1:
                more += f" in {len(files)} files in all"
        related = []
        for call in calls[:MAX_RELATED]:
            note = f"calls `{call.callee}()` {call.phrase}"
            related.append(call.location.model_copy(update={"message": note}))
            for hop in call.through:
                related.append(hop.location.model_copy(update={"message": f"calls `{hop.callee}()`"}))
        return self.finding(
            fact.location(),
            f"`{factory.name}()` creates a new PrismaClient, with its own connection pool, on every call, and "
            f"{where} calls it{through} {_elsewhere(first.phrase)}{more}; create the client once (a module-level "
            f"singleton, cached on `globalThis` in a Next.js app) and import it there instead.",
            related=related,
        )


class _PackageCheck:
    """The module-level clients of each package: every module but the shared one is a second pool; a Next.js
    app's only client must be cached on `globalThis`; a package that imports another package's client must not
    make its own."""

    def __init__(
        self, project: ProjectIndex, rule: ClientOutsideSingleton, apart: "_ApartCode", sites: list[Site]
    ) -> None:
        self.project = project
        self.rule = rule
        self.apart = apart
        self.by_package: dict[str, dict[str, list[Site]]] = defaultdict(lambda: defaultdict(list))
        for site in sites:
            if not site.client.poolless:
                self.by_package[_package_key(project, site.path)][site.path].append(site)

    def run(self) -> tuple[dict[str, str | None], list[Finding]]:
        shared_by_package: dict[str, str | None] = {}
        findings: list[Finding] = []
        kept_modules = {
            key: sorted(m for m in modules if not self.apart.runs_apart(m))
            for key, modules in self.by_package.items()
        }
        for key, modules in sorted(kept_modules.items()):
            by_module = self.by_package[key]
            foreign = self._foreign_client(key, kept_modules)
            loaded = [m for m in modules if self.project.importers_of(m) or is_next_routed(m)]
            if foreign is not None and loaded:
                shared_by_package[key] = foreign[0]
                findings.extend(self._foreign_findings(loaded, by_module, foreign))
                continue
            shared, found = self._check_package(modules, by_module)
            shared_by_package[key] = shared
            findings.extend(found)
        return shared_by_package, findings

    def _check_package(self, modules: list[str], by_module: dict[str, list[Site]]) -> tuple[str | None, list[Finding]]:
        """The module every other one should import (or None), and the findings of one package."""
        if not modules:
            return None, []
        findings: list[Finding] = []
        shared = self._shared_module(modules, by_module)
        kept = shared or modules[0]
        if len(modules) > 1:
            kept_site = by_module[kept][0]
            for module in modules:
                if module == kept:
                    continue
                for site in by_module[module]:
                    if shared is not None:
                        message = (
                            f"This module creates its own PrismaClient ({len(modules)} modules of this package do, "
                            f"each with its own connection pool); import the shared client from {shared} instead."
                        )
                    else:
                        message = (
                            f"{len(modules)} modules of this package each create their own PrismaClient and "
                            f"connection pool and none is a shared singleton (one that exports its client and is "
                            f"imported elsewhere), so all but the first in path order ({kept}) are reported; create "
                            f"the client once in a module of its own, export it and import it here instead."
                        )
                    note = "the shared client" if shared is not None else "the first module-level client in path order"
                    related = [kept_site.location.model_copy(update={"message": note})]
                    findings.append(self.rule.finding(site.location, message, related=related))
        sites = by_module[kept]
        if not any(s.client.global_cached for s in sites) and self._bundled_by_next(kept):
            findings.append(
                self.rule.finding(
                    sites[0].location,
                    "In a Next.js app every hot reload in development re-runs this module and opens a new "
                    "connection pool; cache the client on `globalThis` (`globalForPrisma.prisma ??= new "
                    "PrismaClient()`).",
                    level=Level.WARNING,
                )
            )
        return shared, findings

    def _shared_module(self, modules: list[str], by_module: dict[str, list[Site]]) -> str | None:
        """The singleton module: it exports its client and other modules import it, or it caches it on globalThis."""
        candidates = []
        for module in modules:
            sites = by_module[module]
            exported = any(s.client.exported for s in sites)
            global_cached = any(s.client.global_cached for s in sites)
            importers = len(self.project.importers_of(module)) if exported else 0
            if importers or global_cached:
                candidates.append((not (exported and global_cached), -importers, not global_cached, module))
        return min(candidates)[-1] if candidates else None

    def _bundled_by_next(self, module: str) -> bool:
        """Next.js bundles the module: its package is a Next.js app (a monorepo root's `next` for a docs site does
        not make its Express or Fastify apps Next.js apps) and a page, route or middleware imports it, directly or
        through other modules. A Fastify plugin or a test helper beside a Next.js app is not reloaded by it."""
        package = self.project.package_of(module)
        if package is None or not package.depends_on(NEXT_PACKAGES):
            return False
        frontier, seen = [module], {module}
        while frontier and len(seen) < MAX_BUNDLE_WALK:
            following = []
            for path in frontier:
                if is_next_routed(path):
                    return True
                for importer in self.project.importers_of(path):
                    if importer not in seen and not self.apart.skipped(importer):
                        seen.add(importer)
                        following.append(importer)
            frontier = following
        return False

    def _foreign_client(self, key: str, kept_modules: dict[str, list[str]]) -> tuple[str, Location] | None:
        """(client module, where it is imported): a module-level client of another package that a module of this
        package imports for its value. Importing it opens that pool in this package's process."""
        for other, modules in sorted(kept_modules.items()):
            if other == key:
                continue
            for module in modules:
                if any(s.client.lazy for s in self.by_package[other][module]):
                    continue  # created only when its accessor is called
                for importer, target in self._importers(module).items():
                    if _package_key(self.project, importer) != key or self.apart.skipped(importer):
                        continue
                    where = self._value_import(importer, target)
                    if where is not None:
                        return module, where
        return None

    def _importers(self, module: str) -> dict[str, str]:
        """importer → the file it imports: `module`, or a file of its own package that re-exports it
        (`packages/db/src/index.ts` re-exporting `./client`)."""
        graph = module_graph(self.project)
        package = _package_key(self.project, module)
        found: dict[str, str] = {}
        frontier, seen = [module], {module}
        for _ in range(MAX_RE_EXPORTS):
            following = []
            for target in frontier:
                for importer in self.project.importers_of(target):
                    if importer in seen:
                        continue
                    seen.add(importer)
                    found[importer] = target
                    if _package_key(self.project, importer) == package:
                        table = graph.exports(importer)
                        if table is not None and table.re_exports:
                            following.append(importer)
            frontier = following
        return found

    def _value_import(self, importer: str, module: str) -> Location | None:
        """Where `importer` imports `module` for a value, not only for types (`import type { User } from
        '@repo/db'`); None when it does not."""
        file = module_graph(self.project).file(importer)
        if file is None:
            return None
        for reference in file.module_references:
            if self.project.resolve(importer, reference.specifier) != module:
                continue
            node = node_at(file.root, reference.start_byte, reference.end_byte)
            while node is not None and node.parent is not None and node.parent.type != "program":
                node = node.parent
            if node is None:
                continue
            if node.type == "import_statement" and any(child.type == "type" for child in node.children[:2]):
                continue
            return file.location(node)
        return None

    def _foreign_findings(
        self, modules: list[str], by_module: dict[str, list[Site]], foreign: tuple[str, Location]
    ) -> list[Finding]:
        client_module, imported_at = foreign
        shared = self.by_package[_package_key(self.project, client_module)].get(client_module, [])
        findings = []
        for module in modules:
            for site in by_module[module]:
                related = [imported_at.model_copy(update={"message": f"imports the client of {client_module}"})]
                if shared:
                    related.insert(0, shared[0].location.model_copy(update={"message": "the shared client"}))
                findings.append(
                    self.rule.finding(
                        site.location,
                        f"This module creates its own PrismaClient while {imported_at.path} in the same package "
                        f"imports the client of {client_module}: two connection pools in one process; import that "
                        f"client here instead.",
                        related=related,
                    )
                )
        return findings


class _ApartCode:
    """Code that does not run in the server's process: tests and one-shot paths (`skipped`), a file that runs on
    its own and that no module imports (a command, a serverless function, a worker thread's entry), and a module
    that only such code imports (a helper of a command-line tool, a test fixture package)."""

    def __init__(self, project: ProjectIndex, skipped) -> None:
        self.project = project
        self.skipped = skipped
        self._apart: dict[str, bool] = {}

    def runs_apart(self, path: str, depth: int = 0) -> bool:
        if path not in self._apart:
            if depth > MAX_IMPORT_DEPTH:
                return False  # not known to be apart
            self._apart[path] = False  # an import cycle: not known to be apart
            importers = self.project.importers_of(path)
            if importers:
                verdict = all(self.skipped(i) or self.runs_apart(i, depth + 1) for i in importers)
            else:
                verdict = not is_next_routed(path) and (self._runs_on_its_own(path) or self._left_out(path))
            self._apart[path] = verdict
        return self._apart[path]

    def imported_only_apart(self, path: str) -> bool:
        """Some code imports the module, and all of it runs apart from the server."""
        return bool(self.project.importers_of(path)) and self.runs_apart(path)

    def _runs_on_its_own(self, path: str) -> bool:
        package = self.project.package_of(path)
        if package is not None and path in command_script_files(package.dir, package.scripts, package.main):
            return True
        source = self.project.read_js_source(path) or b""
        if source.startswith(b"#!") or any(m in source for m in ENTRY_POINT_MARKERS):
            return True
        return bool(LAMBDA_HANDLER_EXPORT.search(source)) or (b"worker_threads" in source and self._worker_entry(path))

    def _left_out(self, path: str) -> bool:
        """Nothing imports the module and its package's server cannot load it: a package whose server starts
        from known files (its `main`, the file its `start`/`dev` script runs) and imports every module it needs
        leaves this one out (a router the app no longer mounts); a module that imports no other module of the
        project and exports nothing is a script of its own (a scratch file run by hand). Not when the package
        loads modules by a computed path that may name this one (a folder autoloader, `require(dir + file)`)."""
        package = self.project.package_of(path)
        if package is None or package.depends_on(FOLDER_LOADERS):
            return False
        entries = self._server_entries(package.dir)
        if entries:
            if path in entries:
                return False
        elif any(target is not None for _, target in self.project.imports.get(path, ())):
            return False
        elif EXPORTS.search(self.project.read_js_source(path) or b""):
            return False
        loaded_names = self._computed_loads(package.dir)
        return loaded_names is not None and posixpath.basename(path) not in loaded_names

    def _package_files(self, package_dir: str) -> list[str]:
        return self.project.memo(
            ("prisma.singleton.package-files", package_dir),
            lambda: [
                f for f in self.project.files
                if (package := self.project.package_of(f)) is not None and package.dir == package_dir
            ],
        )

    def _computed_loads(self, package_dir: str) -> frozenset[str] | None:
        """The file names the package's computed loads write out; None when one of them names no file (it may
        load any module)."""

        def compute() -> frozenset[str] | None:
            names: set[str] = set()
            for path in self._package_files(package_dir):
                source = self.project.read_js_source(path) or b""
                if (b"import" in source or b"require" in source) and COMPUTED_LOAD.search(source):
                    written = {m.group(1).decode() for m in WRITTEN_FILE_NAME.finditer(source)}
                    if not written:
                        return None
                    names |= written
            return frozenset(names)

        return self.project.memo(("prisma.singleton.computed-loads", package_dir), compute)

    def _server_entries(self, package_dir: str) -> frozenset[str]:
        """The package's server entry files present in the tree, and the script files they start (a spawned
        child, a worker thread), when everything they import, directly or through other modules, is a file of
        the tree; else none (the server loads code the index lacks, such as a build folder)."""

        def compute() -> frozenset[str]:
            package = self.project.packages.get(package_dir)
            if package is None:
                return frozenset()
            known = set(self.project.files)
            entries = {f for f in server_entry_files(package.dir, package.scripts, package.main) if f in known}
            seen, stack = set(), list(entries)
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                for specifier, target in self.project.imports.get(current, ()):
                    if target is None and specifier.startswith("."):
                        return frozenset()
                    if target is not None:
                        stack.append(target)
                for started in self._named_scripts(current, package_dir, known):
                    entries.add(started)
                    stack.append(started)
            return frozenset(entries)

        return self.project.memo(("prisma.singleton.server-entries", package_dir), compute)

    def _named_scripts(self, path: str, package_dir: str, known: set[str]) -> list[str]:
        """The files of the tree that `path`, a module that starts processes or threads, names by a written-out
        file name, from its folder or the package's."""
        if not any(specifier in PROCESS_MODULES for specifier, _ in self.project.imports.get(path, ())):
            return []
        source = self.project.read_js_source(path) or b""
        found = []
        for match in NAMED_SCRIPT.finditer(source):
            name = match.group(1).decode()
            for folder in (posixpath.dirname(path), package_dir):
                candidate = posixpath.normpath(posixpath.join(folder, name)) if folder else posixpath.normpath(name)
                if candidate in known:
                    found.append(candidate)
                    break
        return found

    def _worker_entry(self, path: str) -> bool:
        """The entry file of a worker thread: it imports `parentPort` or `workerData` from `worker_threads`."""
        file = module_graph(self.project).file(path)
        return file is not None and any(
            b.module in WORKER_MODULES and b.imported in WORKER_ENTRY_NAMES for b in file.import_bindings
        )


def _elsewhere(phrase: str) -> str:
    """'on every request in this Express middleware', said of code in another place: '... in an Express middleware'."""
    before, this, after = phrase.partition(" this ")
    if not this:
        return phrase
    return f"{before} {'an' if after[:1].lower() in 'aeiou' else 'a'} {after}"


def _package_key(project: ProjectIndex, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _isolate_runtime(project: ProjectIndex, path: str) -> bool:
    """Cloudflare Workers cannot share I/O objects across requests: a client per request is their way."""
    return project.depends_on(path, ISOLATE_RUNTIME_PACKAGES) and bool(project.packages_around(path))
