"""A rate limiter keeps its counts in one process's memory, or is built on a Redis client that is not connected yet.

## Why is this bad?
express-rate-limit, express-slow-down and rate-limiter-flexible's `RateLimiterMemory` count requests in the
memory of the process that serves them unless they are given a shared store. Behind a load balancer with
several instances each one allows the full limit, so the effective limit is the limit times the number of
instances, and every deploy or restart resets the counts: a brute-force or scraping client just spreads its
requests. When the app already runs Redis, a `RedisStore` (rate-limit-redis) or `RateLimiterRedis` costs one
line.

The rule reports, in a package that depends on or imports `redis`, `ioredis`, `@upstash/redis` or
`@redis/client`:
- a limiter without a `store` (or with `store: undefined`, or `new MemoryStore()`), and `new RateLimiterMemory()`
  (except as the `insuranceLimiter` of a Redis limiter);
- a store set only when Redis is there (`store: redisClient ? new RedisStore(...) : undefined`, or a limiter
  with a store in one branch of `if (redis)` and one without in the other): when Redis is not configured the
  limits silently become per instance. A branch on something else (`NODE_ENV`, a deployment mode) is a
  deliberate choice and is left alone;
- as an error, a `RedisStore` on a node-redis client (`createClient()`) built before `connect()` is called on
  it: rate-limit-redis sends its scripts to Redis as soon as the limiter is created and node-redis rejects
  commands until `connect()` has been called (ClientClosedError; before rate-limit-redis 5 that rejection is
  unhandled and stops the process). The rule follows the program from its entry modules, through imports in
  order and into the functions they call (`start()` → `await initializeRedis()`), so a limiter created when
  its module is imported is reported when the client is connected only later. ioredis clients connect by
  themselves and queue commands, and a `sendCommand` that awaits a lazy getter connects on first use: both
  are fine;
- one store instance passed to two limiters: both count under the same keys, so every request is counted
  twice (express-rate-limit 7.3+ logs ERR_ERL_STORE_REUSE).

The limiter is also reported where the app does not use Redis at all when the option `require-shared-store`
is set (for apps that run several instances):
```toml
[rules."ratelimit/memory-store"]
require-shared-store = true
```

## Example
```js
const express = require('express');
const rateLimit = require('express-rate-limit');
const { createClient } = require('redis');

const app = express();
const redisClient = createClient({ url: process.env.REDIS_URL });

app.use(rateLimit({ windowMs: 15 * 60 * 1000, limit: 300 }));

async function start() {
  await redisClient.connect();
  app.listen(3000);
}

start();
```

## Use instead
```js
const express = require('express');
const rateLimit = require('express-rate-limit');
const { RedisStore } = require('rate-limit-redis');
const { createClient } = require('redis');

const app = express();
const redisClient = createClient({ url: process.env.REDIS_URL });

async function start() {
  await redisClient.connect();
  app.use(
    rateLimit({
      windowMs: 15 * 60 * 1000,
      limit: 300,
      store: new RedisStore({ sendCommand: (...args) => redisClient.sendCommand(args) }),
    })
  );
  app.listen(3000);
}

start();
```

## References
- express-rate-limit: Data Stores — https://express-rate-limit.mintlify.app/reference/stores
- rate-limit-redis: usage with node-redis (connect before creating the limiter) — https://github.com/express-rate-limit/rate-limit-redis#readme
- express-rate-limit: ERR_ERL_STORE_REUSE — https://express-rate-limit.mintlify.app/reference/error-codes#err-erl-store-reuse
- rate-limiter-flexible: RateLimiterRedis — https://github.com/animir/node-rate-limiter-flexible/wiki/Redis
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterator

from pydantic import StrictBool

from linter.context import FileContext
from linter.rules.ratelimit._rate_limiters import (
    LIMITER_PACKAGES,
    REDIS_STORE_PACKAGES,
    LimiterSite,
    limiter_construction,
    other_branch_store,
    redis_store_client,
    store_choice,
)
from linter.rules.ratelimit._redis_clients import NODE_REDIS, REDIS_PACKAGES, value_reference
from linter.rules.ratelimit._redis_readiness import LateConnect, ModuleRedis, Readiness
from linter.js.references import imports_module, resolve_imported
from linter.js.expressions import callee, unwrap
from linter.rules.ratelimit._startup_order import ModuleOutliner, resolve_export
from linter.model import Finding, Level, Location, Precision
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, RuleOptions, facts_of
from linter.syntax import Node, text

LIMITER_MARKER = "limiter:"
# A test that says whether Redis is there: the store then silently depends on configuration.
_MENTIONS_REDIS = re.compile(r"redis|valkey", re.I)
_STORE_CLASS = re.compile(r"Store$")


class MemoryStoreOptions(RuleOptions):
    # Report limiters without a shared store even where the app does not use Redis (several instances, no Redis).
    require_shared_store: StrictBool = False


class MemoryStore(Rule):
    id = "ratelimit/memory-store"
    name = "MemoryStore"
    level = Level.WARNING
    other_levels = {Level.ERROR: "a `RedisStore` built on a node-redis client before `connect()`, which fails"}
    precision = Precision.HIGH
    security_severity = "5.3"
    tags = ("reliability", "security", "external/cwe/cwe-770")
    requires = LIMITER_PACKAGES
    query = "(program) @program"
    Options = MemoryStoreOptions

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test:
            return
        redis = ModuleRedis(file)
        limiters: list[LimiterSite] = []
        mentions_limiter = any(package.encode() in file.source for package in LIMITER_PACKAGES)

        def mark(node: Node) -> str | None:
            site = limiter_construction(node, file) if mentions_limiter else None
            if site is not None:
                limiters.append(site)
                return f"{LIMITER_MARKER}{len(limiters) - 1}"
            return redis.mark(node)

        outliner = ModuleOutliner(file, mark)
        outline = outliner.outline()
        yield file.fact(
            self,
            "module",
            match["program"],
            outline=outline,
            stores=_store_instances(file) if mentions_limiter or b"Store" in file.source else {},
            redis_imports=[m for m in REDIS_PACKAGES if imports_module(file, m)],
            **redis.facts(outliner.functions),
        )
        for index, site in enumerate(limiters):
            yield file.fact(self, "limiter", site.node, marker=f"{LIMITER_MARKER}{index}", **_limiter_data(site, file))

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        modules = {fact.path: fact.data for fact in facts_of(project, self, "module")}
        limiters = sorted(facts_of(project, self, "limiter"), key=lambda f: (f.path, f.span.start_line, f.span.start_column))
        readiness = Readiness(project, modules)
        for fact in limiters:
            finding = self._judge(fact, project, modules, readiness)
            if finding is not None:
                yield finding
        yield from self._shared_stores(limiters, project, modules, readiness)

    def _judge(self, fact: Fact, project: ProjectIndex, modules: dict, readiness: Readiness) -> Finding | None:
        data = fact.data
        kind = data["store"]
        if kind == "shared":
            return self._before_connect(fact, project, modules, readiness)
        if kind == "conditional" and not data["condition_mentions_redis"]:
            return None  # a store picked by environment or mode: a deliberate choice
        if data["mode_switch"] is not None:
            if not data["mode_switch_mentions_redis"]:
                return None
            kind = "conditional"
        if kind not in ("default", "undefined", "memory", "conditional"):
            return None
        redis = _redis_evidence(project, modules, fact.path)
        if redis is None and not self.options.require_shared_store:
            return None
        message = _memory_message(data, kind)
        late = readiness.connect_after(fact.path, data["marker"]) if redis is not None else None
        if late is not None and late.occurrence.stack:  # connected by a startup step (`await initRedis()`)
            message += f" Redis is only connected later, {_where(late)}: create the limiter after that, with a Redis store."
            return self.finding(fact.location(), message, related=_late_locations(late))
        if kind == "conditional":
            return self.finding(fact.location(), message)
        if redis is not None:
            store = "`RateLimiterRedis`" if data["in_memory_class"] else "a Redis store"
            return self.finding(fact.location(), f"{message} Use {store}: the package already has Redis ({redis}).")
        return self.finding(fact.location(), f"{message} Use a shared store (required here by `require-shared-store`).")

    def _before_connect(self, fact: Fact, project: ProjectIndex, modules: dict, readiness: Readiness) -> Finding | None:
        data = fact.data
        reference, path, lazy = data["client"], fact.path, data["client_lazy"]
        if not data["redis_store"]:
            store = _store_identity(fact, project, modules, readiness)
            if store is None:
                return None
            path, key = store
            reference, lazy = modules[path]["stores"][key]["client"], modules[path]["stores"][key]["lazy"]
        if reference is None or lazy:
            return None
        client = readiness.client(path, reference)
        if client is None or client.kind != NODE_REDIS or client.lazy:
            return None
        late = readiness.connect_after(fact.path, data["marker"], client)
        if late is None:
            return None
        name = client.name
        message = (
            f"{data['label']} gets a `RedisStore` on the node-redis client `{name}` before `{name}.connect()` is "
            f"called (later, {_where(late)}): rate-limit-redis loads its scripts when the limiter is created and "
            f"node-redis rejects commands before `connect()` (ClientClosedError, which stops the process before "
            f"rate-limit-redis 5); create the limiter after `await {name}.connect()`."
        )
        return self.finding(fact.location(), message, related=_late_locations(late), level=Level.ERROR)

    def _shared_stores(
        self, limiters: list[Fact], project: ProjectIndex, modules: dict, readiness: Readiness
    ) -> Iterator[Finding]:
        by_store: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in limiters:
            store = _store_identity(fact, project, modules, readiness)
            if store is not None:
                by_store[store].append(fact)
        for (_, key), facts in by_store.items():
            if len(facts) < 2:
                continue
            first = facts[0]
            for fact in facts[1:]:
                yield self.finding(
                    fact.location(),
                    f"{fact.data['label']} uses the same store instance `{key}` as {first.data['label']} at "
                    f"{first.path}:{first.span.start_line}: both count under the same keys, so each request is "
                    f"counted twice and their windows collide; give every limiter its own store (with its own "
                    f"`prefix`).",
                    related=[first.location("the other limiter on this store")],
                )


def _limiter_data(site: LimiterSite, file: FileContext) -> dict:
    choice = store_choice(site, file)
    switch = other_branch_store(site, file) if choice.kind in ("default", "undefined", "memory") else None
    store_client = redis_store_client(choice.store_new, file) if choice.kind == "shared" else None
    value = unwrap(choice.value)
    store_ref = None
    if choice.kind == "shared" and value is not None and value.type in ("identifier", "shorthand_property_identifier"):
        store_ref = value_reference(value, file)
    return {
        "label": site.label,
        "library": site.library,
        "in_memory_class": site.in_memory_class,
        "store": choice.kind,
        "condition": _snippet(choice.condition),
        "condition_mentions_redis": bool(_MENTIONS_REDIS.search(text(choice.condition))),
        "mode_switch": _snippet(switch),
        "mode_switch_mentions_redis": bool(_MENTIONS_REDIS.search(text(switch))),
        "redis_store": store_client is not None,
        "client": store_client.reference if store_client is not None else None,
        "client_lazy": store_client.lazy if store_client is not None else False,
        "store_ref": store_ref,
    }


def _store_instances(file: FileContext) -> dict[str, dict]:
    """Module-level `const store = new RedisStore(...)` bindings, for the shared-instance check and for the client
    a store imported by a limiter's module sends its commands through."""
    found = {}
    for statement in file.root.named_children:
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
        if declaration is None or declaration.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for declarator in declaration.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            value = unwrap(declarator.child_by_field_name("value")) if name is not None else None
            if value is None or value.type != "new_expression" or name.type != "identifier":
                continue
            constructor = callee(value)
            imported = resolve_imported(constructor, file)
            from_store_package = imported is not None and imported.module in REDIS_STORE_PACKAGES
            if from_store_package or _STORE_CLASS.search(text(constructor)):
                client = redis_store_client(value, file)
                found[text(name)] = {
                    "client": client.reference if client is not None else None,
                    "lazy": client.lazy if client is not None else False,
                }
    return found


def _store_identity(fact: Fact, project: ProjectIndex, modules: dict, readiness: Readiness) -> tuple[str, str] | None:
    """(module, name) of the module-level store instance the limiter's `store` names, if it names one."""
    reference = fact.data.get("store_ref")
    if reference is None:
        return None
    if "local" in reference:
        path, key = fact.path, reference["local"]
    elif "import" in reference:
        module = project.resolve(fact.path, reference["import"])
        found = resolve_export(project, readiness.outlines, module, reference["name"]) if module else None
        if found is None:
            return None
        path, key = found
    else:
        return None
    data = modules.get(path)
    return (path, key) if data is not None and key in data["stores"] else None


def _redis_evidence(project: ProjectIndex, modules: dict, path: str) -> str | None:
    """How the limiter's package shows it uses Redis (`ioredis` in its package.json, or a module importing a
    Redis client), or None."""
    package = project.package_of(path)
    if package is not None:
        declared = sorted(name for name in REDIS_PACKAGES if name in package.dependencies)
        if declared:
            return f"`{declared[0]}` in {package.manifest}"
    if modules[path]["redis_imports"]:
        return f"`{modules[path]['redis_imports'][0]}` is imported here"
    for other, data in sorted(modules.items()):
        if data["redis_imports"] and project.package_of(other) == package:
            return f"`{data['redis_imports'][0]}` is imported in {other}"
    return None


def _memory_message(data: dict, kind: str) -> str:
    label = data["label"]
    effect = "each instance enforces the limit on its own and a restart resets it"
    if data["in_memory_class"]:
        return f"{label} keeps its counts in this process's memory: {effect}."
    if kind == "conditional":
        condition = data["condition"] or data["mode_switch"]
        return (
            f"{label} falls back to this process's memory when Redis is not set up (it depends on `{condition}`): "
            f"{effect}, silently; fail at startup when Redis is missing instead."
        )
    how = {"default": "has no `store`", "undefined": "has `store: undefined`", "memory": "uses a `MemoryStore`"}[kind]
    return f"{label} {how}, so its counts live in this process's memory: {effect}."


def _where(late: LateConnect) -> str:
    """How the late `connect()` is reached, told from its innermost step (`by initRedis() in start() (x.js:9)`)."""
    stack = late.occurrence.stack
    if not stack:
        return f"at {late.occurrence.path}:{late.span.start_line}"
    site = stack[-1]
    where = f"{site.path}:{site.span.start_line}"
    if site.callback:
        return f"in the callback of `{site.label}` at {where}"
    if site.caller is None:
        return f"by `{site.label}` at {where}"
    caller = site.caller if site.caller.startswith("the ") else f"`{site.caller.removeprefix('exports.')}()`"
    return f"by `{site.label}` in {caller} ({where})"


def _late_locations(late: LateConnect) -> list[Location]:
    locations = [Location(path=late.occurrence.path, span=late.span, message="Redis is connected here")]
    if late.occurrence.stack:
        site = late.occurrence.stack[-1]
        what = "the callback of this call runs" if site.callback else "this call runs"
        locations.append(Location(path=site.path, span=site.span, message=f"{what} after the limiter is built"))
    return locations


def _snippet(node: Node | None) -> str | None:
    if node is None:
        return None
    source = " ".join(text(unwrap(node)).split())
    return source if len(source) <= 60 else source[:57] + "…"
