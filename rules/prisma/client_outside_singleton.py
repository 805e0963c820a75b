"""A `PrismaClient` created per request, per call, or in more than one module instead of one shared singleton.

## Why is this bad?
Every `new PrismaClient()` opens its own connection pool (by default `num_cpus * 2 + 1` connections).
Created inside a request handler, a middleware or any function that runs more than once, a new pool is opened
on every call: under load the database runs out of connections (Postgres allows about 100) long before the app
runs out of CPU, and requests fail with "too many clients". Twenty route files that each create their own
client at module level hold twenty pools at once. In a Next.js app, every hot reload in development re-runs
the module and opens yet another pool unless the client is cached on `globalThis`.

The rule reports:
- a client created inside a request handler, middleware, Next.js API route, route handler, server action, or
  any function or constructor, unless the function is a lazy singleton accessor
  (`if (!client) client = new PrismaClient()`, `globalThis.prisma ??= new PrismaClient()`);
- every module-level client of a package except the shared one (the module that exports its client and is
  imported elsewhere, or caches it on `globalThis`), naming that module;
- as a warning, the only client of a Next.js app when it is not cached on `globalThis`.

Tests, seed files, `scripts/` and other one-shot entry points are left alone (option `one-shot-paths`,
gitignore-style globs; `extend-one-shot-paths` adds to the defaults).

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

import re
from collections import defaultdict
from functools import lru_cache
from typing import Iterator

import pathspec
from pydantic import BaseModel, ConfigDict, field_validator

from linter.context import FileContext
from linter.frameworks.nextjs import ISOLATE_RUNTIME_PACKAGES, command_script_files, is_next_routed
from linter.frameworks.prisma import prisma_client_source
from linter.js.functions import function_name, is_exported
from linter.js.invocation import invocation
from linter.js.singletons import (
    bound_names,
    cached_on_global,
    exports_any,
    global_cache_objects,
    is_global_member,
)
from linter.model import Finding, Level, Precision
from linter.paths import check_glob
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import text

DEFAULT_ONE_SHOT_PATHS = (
    "**/scripts/**",
    "**/script/**",
    "**/bin/**",
    "**/seed.*",
    "**/seeds/**",
    "**/seeders/**",
    "**/*.seed.*",
    "**/prisma/seed/**",
    "**/migrations/**",
    "**/*test-environment.*",
    "**/jest.setup.*",
    "**/vitest.setup.*",
    "**/setupTests.*",
)
# Markers of a file run as a command (`node sync-stripe.js`) rather than imported by the app.
ENTRY_POINT_MARKERS = (b"require.main === module", b"require.main == module", b"import.meta.main", b"process.argv")
NEXT_PACKAGES = ("next",)
# A serverless function entry (AWS Lambda, Netlify): each is deployed and run on its own.
LAMBDA_HANDLER_EXPORT = re.compile(
    rb"(?:module\.)?exports\.handler\s*=|export\s+(?:const|let|async\s+function|function)\s+handler\b"
)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class ClientOutsideSingletonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True)

    one_shot_paths: list[str] = list(DEFAULT_ONE_SHOT_PATHS)
    extend_one_shot_paths: list[str] = []

    @field_validator("one_shot_paths", "extend_one_shot_paths")
    @classmethod
    def _valid_globs(cls, value: list[str]) -> list[str]:
        for pattern in value:
            check_glob(pattern)
        return value


@lru_cache(maxsize=32)
def _path_spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class ClientOutsideSingleton(Rule):
    id = "prisma/client-outside-singleton"
    name = "ClientOutsideSingleton"
    level = Level.ERROR
    precision = Precision.HIGH
    tags = ("prisma", "performance", "reliability")
    needles = (b"PrismaClient",)
    query = "(new_expression constructor: (_) @ctor) @new"
    Options = ClientOutsideSingletonOptions

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test or self._one_shot(file.path):
            return
        new = match["new"]
        source = prisma_client_source(match["ctor"], file)
        if source is None:
            return
        run = invocation(new, file.path, file.root)
        if run.runs == "per-call":
            name = function_name(run.function) if run.function is not None else None
            yield file.fact(self, "per-call", new, phrase=run.phrase(), handler=run.kind, function=name)
            return
        if run.runs == "setup":
            # A plugin that runs once at startup: a module-level client in all but name.
            global_cached = False
            exported = run.registered
        elif run.runs == "lazy":
            target = run.target
            global_cached = is_global_member(target, global_cache_objects(file.root))
            exported = is_exported(run.function, file.root) or exports_any(file.root, target, {text(target)})
        else:
            anchor = run.anchor
            global_cached = cached_on_global(new, None, file.root) or cached_on_global(anchor, None, file.root)
            exported = exports_any(file.root, anchor, bound_names(anchor) | bound_names(new))
        entry_point = (
            file.source.startswith(b"#!")
            or any(m in file.source for m in ENTRY_POINT_MARKERS)
            or LAMBDA_HANDLER_EXPORT.search(file.source) is not None
        )
        yield file.fact(
            self,
            "module",
            new,
            lazy=run.runs == "lazy",
            global_cached=global_cached,
            exported=exported,
            entry_point=entry_point,
        )

    def _one_shot(self, path: str) -> bool:
        patterns = tuple(self.options.one_shot_paths) + tuple(self.options.extend_one_shot_paths)
        return bool(patterns) and _path_spec(patterns).match_file(path)

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        module_sites: dict[str, dict[str, list[Fact]]] = defaultdict(lambda: defaultdict(list))
        per_call: list[Fact] = []
        for fact in facts_of(project, self):
            if fact.kind == "per-call":
                per_call.append(fact)
            else:
                module_sites[_package_key(project, fact.path)][fact.path].append(fact)
        shared_by_package: dict[str, str | None] = {}
        for package_key, by_module in module_sites.items():
            shared, findings = self._check_package(project, by_module)
            shared_by_package[package_key] = shared
            yield from findings
        for fact in per_call:
            if project.depends_on(fact.path, ISOLATE_RUNTIME_PACKAGES) and project.packages_around(fact.path):
                continue  # Workers cannot share I/O objects across requests: per-request clients are the way
            shared = shared_by_package.get(_package_key(project, fact.path))
            if shared is not None:
                advice = f"import the shared client from {shared} instead"
            else:
                advice = "create one client in a module of its own (such as lib/prisma) and import it everywhere"
            phrase = fact.data.get("phrase", "on every call of this function")
            yield self.finding(
                fact.location(),
                f"`new PrismaClient()` runs {phrase} and every client opens its own connection pool; {advice}.",
            )

    def _check_package(self, project: ProjectIndex, by_module: dict[str, list[Fact]]) -> tuple[str | None, list[Finding]]:
        """The module every other one should import (or None), and the findings of one package."""
        modules = sorted(m for m in by_module if not _one_shot_entry(project, m, by_module[m]))
        if not modules:
            return None, []
        findings: list[Finding] = []
        shared = _shared_module(project, modules, by_module)
        kept = shared or modules[0]
        if len(modules) > 1:
            kept_site = by_module[kept][0]
            for module in modules:
                if module == kept:
                    continue
                for fact in by_module[module]:
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
                    related = [kept_site.location(note)]
                    findings.append(self.finding(fact.location(), message, related=related))
        sites = by_module[kept]
        if _is_next_package(project, kept) and not any(f.data.get("global_cached") for f in sites):
            findings.append(
                self.finding(
                    sites[0].location(),
                    "In a Next.js app every hot reload in development re-runs this module and opens a new "
                    "connection pool; cache the client on `globalThis` (`globalForPrisma.prisma ??= new "
                    "PrismaClient()`).",
                    level=Level.WARNING,
                )
            )
        return shared, findings


def _package_key(project: ProjectIndex, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _one_shot_entry(project: ProjectIndex, module: str, facts: list[Fact]) -> bool:
    """An entry point that no module imports and that runs on its own: a command (`#!/usr/bin/env node`,
    `process.argv`, `require.main === module`, or a file a package script runs: `"sync": "node sync.js"`) or a
    serverless function (`export const handler`). Its client is not a second pool of the server."""
    if project.importers_of(module) or is_next_routed(module):
        return False
    if any(f.data.get("entry_point") for f in facts):
        return True
    package = project.package_of(module)
    if package is None:
        return False
    return module in command_script_files(package.dir, package.scripts, package.main)


def _shared_module(project: ProjectIndex, modules: list[str], by_module: dict[str, list[Fact]]) -> str | None:
    """The singleton module: it exports its client and other modules import it, or it caches it on globalThis."""
    candidates = []
    for module in modules:
        facts = by_module[module]
        exported = any(f.data.get("exported") for f in facts)
        global_cached = any(f.data.get("global_cached") for f in facts)
        importers = len(project.importers_of(module)) if exported else 0
        if importers or global_cached:
            candidates.append((not (exported and global_cached), -importers, not global_cached, module))
    return min(candidates)[-1] if candidates else None


def _is_next_package(project: ProjectIndex, path: str) -> bool:
    """The module's own package (nearest package.json) is a Next.js app; a monorepo root's `next` (for a docs
    site, say) does not make its Express or Fastify apps Next.js apps."""
    package = project.package_of(path)
    return package is not None and package.depends_on(NEXT_PACKAGES)
