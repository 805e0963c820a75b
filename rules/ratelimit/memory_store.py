"""A rate limiter keeps its counts in one process's memory, or is built on a Redis client that is not connected yet.

## Why is this bad?
A rate limiter counts requests in the memory of the process that serves them unless it is given a shared
store. Behind a load balancer with several instances each one allows the full limit, so the effective limit is
the limit times the number of instances, and every deploy or restart resets the counts: a brute-force or
scraping client just spreads its requests. When the app already runs Redis, a Redis store costs one line.

The rule reports, in an app that has Redis (see below):
- a limiter without a shared store: no `store` (or `store: undefined` or `null`, or `new MemoryStore()`), a
  `ThrottlerModule` without `storage`, `@fastify/rate-limit` without `redis` (or `store`),
  `new RateLimiterMemory()` (except as the `insuranceLimiter` of a Redis limiter), or counts kept by hand in a
  `Map`, an LRU cache or an object that outlives the request. When the app connects Redis only in a later
  startup step (`await initRedis()` in `start()`), the finding says where, with a Redis store built after it
  as the fix;
- a store set only when Redis is there, on a test that names Redis or Valkey (`store: redisClient ? new
  RedisStore(...) : undefined`, `...(redis && { store })`, `let store; if (process.env.REDIS_URL) store = …`,
  a limiter with a store in one branch of `if (redis)` and one without in the other), and a hand-written
  in-memory limiter in a module that also imports a Redis client, `@upstash/ratelimit`, `@vercel/kv` or
  rate-limit-redis (the Redis limiter it stands in for): when Redis is not configured the limits silently
  become per instance. A branch on anything else (`NODE_ENV`, a deployment mode, a feature switch) is a
  deliberate choice and is left alone, and so is an in-memory stand-in whose functions are called only from
  `catch` blocks (while Redis fails), and a limiter whose `skip` option stands it down whenever Redis is
  missing (`skip: () => !redis?.isReady`): its memory store never counts.

In any app, it reports:
- as an error, a `RedisStore` (rate-limit-redis) on a node-redis client (`createClient()`) built before
  `connect()` is called on it: rate-limit-redis sends its scripts to Redis as soon as the limiter is created
  and node-redis rejects commands until `connect()` has been called (ClientClosedError; before
  rate-limit-redis 5 that rejection is unhandled and stops the process). The rule follows the program from
  its entry modules (the modules nobody imports that lead to the limiter), through imports in order and into
  the functions they call (`start()` → `await initializeRedis()`), so a limiter created when its module is
  imported is reported when the client is connected only later. ioredis clients connect by themselves and
  queue commands, Upstash clients speak HTTP, and a `sendCommand` that awaits a lazy getter connects on first
  use: all are fine;
- one module-level store instance passed to two limiters: both count under the same keys, so every request
  is counted twice (express-rate-limit 7.3+ logs ERR_ERL_STORE_REUSE).

An app has Redis when its own package.json declares a Redis client (`redis`, `ioredis`, `@upstash/redis`,
`@redis/client`), a module of its package imports one, its package declares and imports a Redis-backed library
(BullMQ or Bull, a Redis cache or session store, `@fastify/redis`, `@upstash/ratelimit`, …), or it depends on a
workspace package of the monorepo that declares a Redis client or a Redis-backed library, directly or through
other workspace packages (`"@acme/redis": "workspace:*"`). Each app is judged by its own package and the
workspace packages it depends on, not by the root package of the monorepo. Test files are not read, and
hand-written limiters are not looked for in one-off scripts (`scripts/`, `seeds/`, `migrations/`, `seed*`
files): what they count dies with them.

The limiter is also reported where the app does not use Redis at all when the option `require-shared-store`
is set (for apps that run several instances):
```toml
[rules."ratelimit/memory-store"]
require-shared-store = true
```

## Frameworks and libraries
- Express and any framework using its middleware: express-rate-limit (`rateLimit({...})`), express-slow-down
  (`slowDown({...})`), with rate-limit-redis stores;
- rate-limiter-flexible: `RateLimiterMemory` as a limiter of its own (as the `insuranceLimiter` of a
  `RateLimiterRedis` it is fine);
- NestJS: `ThrottlerModule.forRoot(...)` and `forRootAsync({ useFactory })` of @nestjs/throttler, read for a
  `storage` (`ThrottlerStorageRedisService` of @nest-lab/throttler-storage-redis or nestjs-throttler-storage-redis);
  options from `useClass` or `useExisting`, or from a `useFactory` defined elsewhere, are not read. A throttler
  whose guards all key by a socket's id (a `ThrottlerGuard` subclass, provided by the throttler's module, whose
  `getTracker` returns `socket.id`) counts per connection, and a connection lives on one instance: left alone,
  and so is a throttler in an app that applies no `ThrottlerGuard` (nor a subclass, declared in any module)
  as an `APP_GUARD`, with `useGlobalGuards` or with `@UseGuards`: nothing is counted;
- Fastify: `fastify.register(rateLimit, {...})` of @fastify/rate-limit (or fastify-rate-limit), imported,
  `require`d or `import()`ed in place, read for `redis` (or a custom `store`);
- limiters written by hand in any framework (Express, Fastify, Next.js route handlers, NestJS services): a
  store (`Map`, lru-cache, `{}`) held at module level, in a class field or by a factory that hands out the
  functions using it, read by key, counted up and compared with a limit by a function that reads it, within a
  window of time (the clock, a window, a TTL or an expiry is mentioned), in code that says it limits (the name
  of the store, of a function or class using it or of the file speaks of limits, throttling, brute force or
  lockouts, or the function comparing answers 429 or mentions rate limits). Caches, registries of limiter
  objects, in-flight counters released in `finally` and bounds on how many distinct keys were seen read and
  write by key too and are left alone, and so is a limiter in a module written to be imported (its function
  exported, never called there) that nothing imports, loads by its path or runs: its counts never run. Not
  recognised yet: a store class whose count only its caller compares (`const count = await store.incr(key);
  if (count > max) …`).

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
- NestJS: Rate limiting, storages — https://docs.nestjs.com/security/rate-limiting#storages
- @fastify/rate-limit: the `redis` option — https://github.com/fastify/fastify-rate-limit#options
- [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import field
from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.frameworks import EXPRESS, FASTIFY, NESTJS, NEXTJS
from linter.js.expressions import callee, outermost, unwrap
from linter.js.references import resolve_imported
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Location, Precision
from linter.paths import is_test_path
from linter.project import Package, ProjectIndex
from linter.rule import Fact, LazyOptions, Match, Rule, facts_of
from linter.rules.ratelimit._hand_rolled import SAYS_IT_LIMITS, HandRolled, hand_rolled_limiter
from linter.rules.ratelimit._rate_limiters import (
    FASTIFY_RATE_LIMIT,
    LIBRARY_PACKAGES,
    MENTIONS_REDIS,
    NEST_THROTTLER,
    REDIS_STORE_PACKAGES,
    LimiterSite,
    limiter_construction,
    other_branch_store,
    redis_store_client,
    skipped_without_redis,
    store_choice,
)
from linter.rules.ratelimit._redis_clients import NODE_REDIS, REDIS_BACKED_PACKAGES, REDIS_PACKAGES, value_reference
from linter.rules.ratelimit._redis_readiness import (
    LateConnect,
    Readiness,
    connect_call,
    created_client,
    marker_of,
    marker_range,
)
from linter.rules.ratelimit._startup_order import Startup
from linter.rules.ratelimit._throttler_guards import guard_use, guards_of
from linter.rules.ratelimit._unimported import unimported_limiter
from linter.syntax import Node, text

LIMITER_MARKER = "limiter"
_STORE_CLASS = lazy_re.compile(r"Store$")
_LIMITER_NAMES = tuple(package.encode() for package in LIBRARY_PACKAGES)
HAND_ROLLED = "hand-rolled"
_HAND_ROLLED_STORES = (b"new Map", b"LRU", b"lru", b"= {}")
# What a file that mentions Redis must hold for a fact: a client created (`createClient(`, `new Redis(`,
# `Redis.fromEnv()`), a `connect()`, a store (`new RedisStore(`).
_REDIS_SITES = (b"connect(", b"createClient", b"createCluster", b"createSentinel", b"Redis(", b"Cluster(", b"fromEnv", b"Store(")
# Scripts that run once (seeding, migrations): what they count dies with them.
_ONE_SHOT = lazy_re.compile(r"(^|/)(scripts?|seeds?|seeders?|migrations?)/|(^|/)seed[^/]*$", re.I)
# Modules that talk to Redis themselves: a hand-written limiter beside them is their fallback.
_REDIS_LIMITER_MODULES = frozenset({*REDIS_PACKAGES, "@upstash/ratelimit", "@vercel/kv", *REDIS_STORE_PACKAGES})


class MemoryStore(Rule):
    id = "ratelimit/memory-store"
    project_reports_at = frozenset({"limiter"})
    name = "MemoryStore"
    level = Level.WARNING
    other_levels = {Level.ERROR: "a `RedisStore` built on a node-redis client before `connect()`, which fails"}
    precision = Precision.HIGH
    security_severity = "5.3"
    tags = ("reliability", "security", "external/cwe/cwe-770")
    frameworks = (EXPRESS, NEXTJS, NESTJS, FASTIFY)
    # Every package: a hand-written limiter needs no library, and Redis may come from a workspace package.
    requires = ()
    # Only files that name a limiter library, Redis or rate limiting; `may_report_in` decides.
    needles = (b"slow-down", b"edis", *SAYS_IT_LIMITS)  # "imit" and "hrottl" name the other libraries
    # The calls, `new`s and empty objects of such a file: limiters, stores, Redis clients, `connect()`s. What
    # runs when (the startup order) is worked out in the project phase, only when a verdict depends on it.
    query = """
    (call_expression function: (identifier)) @site
    (call_expression
      function: (member_expression property: (property_identifier) @method)
      (#match? @method "^(connect|register|forRoot|forRootAsync|createClient|createCluster|createSentinel|rateLimit|slowDown|default|fromEnv)$")) @site
    (new_expression) @site
    ((object) @site (#eq? @site "{}"))
    """
    Options = LazyOptions("._memory_store_options", "MemoryStoreOptions")

    def may_report_in(self, source: bytes) -> bool:
        return _Mentions.of(source).anything

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test:
            return
        node = match["site"]
        seen = file.memo("ratelimit.memory-store.mentions", lambda: _Mentions.of(file.source, file))
        site = limiter_construction(node, file) if seen.limiter and node.type != "object" else None
        if site is not None:
            yield file.fact(self, "limiter", node, marker=marker_of(LIMITER_MARKER, node), **_limiter_data(site, file))
            return
        if seen.hand_rolled and node.type in ("new_expression", "object") and not _ONE_SHOT.search(file.path):
            limiter = hand_rolled_limiter(node, file)
            if limiter is not None:
                yield file.fact(self, "limiter", node, **_hand_rolled_data(limiter, file))
                return
        if not seen.library_package:
            return  # clients, connects and stores matter where a limiter library is used
        if seen.redis:
            client = created_client(node, file)
            if client is not None:
                yield file.fact(self, "client", node, **client)
                return
            connect = connect_call(node, file)
            if connect is not None:
                yield file.fact(self, "connect", node, **connect)
                return
        if node.type == "new_expression":
            store = _store_instance(node, file)
            if store is not None:
                yield file.fact(self, "store", node, **store)

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        facts = _ProjectFacts.of(project, self)
        startup = Startup(project, facts.marks, lambda path: project.depends_on(path, LIBRARY_PACKAGES))
        readiness = Readiness(project, startup, facts.clients, facts.connects)
        for fact in facts.limiters:
            finding = self._judge(fact, project, facts, readiness)
            if finding is not None:
                yield finding
        yield from self._shared_stores(facts, project)

    def _judge(self, fact: Fact, project: ProjectIndex, facts: "_ProjectFacts", readiness: Readiness) -> Finding | None:
        data = fact.data
        kind = data["store"]
        if kind == "shared":
            return self._before_connect(fact, project, facts, readiness)
        if kind == "conditional" and not data["condition_mentions_redis"]:
            return None  # a store picked by environment or mode: a deliberate choice
        if kind == "conditional" and data.get("skipped_without_redis"):
            return None  # the limiter stands down without Redis: the memory store never counts
        if data["mode_switch"] is not None:
            if not data["mode_switch_mentions_redis"]:
                return None
            kind = "conditional"
        if kind not in ("default", "undefined", "memory", "conditional"):
            return None
        redis = _redis_evidence(project, fact.path)
        if redis is None and not self.options.require_shared_store:
            return None
        if data["library"] == NEST_THROTTLER and _no_shared_counting(project, fact.path):
            return None
        if data["library"] == HAND_ROLLED and unimported_limiter(project, fact.path, data["function"]):
            return None  # a module written to be imported that nothing imports: its counts never run
        message = _memory_message(data, kind)
        late = readiness.connect_after(fact.path, data["marker"]) if redis is not None and data["marker"] else None
        if late is not None and late.occurrence.stack:  # connected by a startup step (`await initRedis()`)
            message += f" Redis is only connected later, {_where(late)}: create the limiter after that, with a Redis store."
            return self.finding(fact.location(), message, related=_late_locations(late))
        if kind == "conditional":
            return self.finding(fact.location(), message)
        if redis is not None:
            return self.finding(fact.location(), f"{message} {_remedy(data)}: the package already has Redis ({redis}).")
        return self.finding(fact.location(), f"{message} Use a shared store (required here by `require-shared-store`).")

    def _before_connect(
        self, fact: Fact, project: ProjectIndex, facts: "_ProjectFacts", readiness: Readiness
    ) -> Finding | None:
        data = fact.data
        reference, path, lazy = data["client"], fact.path, data["client_lazy"]
        if not data["redis_store"]:
            store = _store_identity(fact, project, facts)
            if store is None:
                return None
            path, key = store
            reference, lazy = facts.stores[path][key]["client"], facts.stores[path][key]["lazy"]
        if reference is None or lazy:
            return None
        client = readiness.client(path, reference)
        if client is None or client.kind != NODE_REDIS or client.lazy:
            return None
        late = readiness.connect_after(fact.path, data["marker"], client)
        if late is None:
            return None
        if client.name == "default export":
            who, connect, awaited = f"the node-redis client {client.path} exports", "its `connect()`", "its `connect()` has been awaited"
        else:
            name = client.name
            who, connect, awaited = f"the node-redis client `{name}`", f"`{name}.connect()`", f"`await {name}.connect()`"
        message = (
            f"{data['label']} gets a `RedisStore` on {who} before {connect} is called (later, {_where(late)}): "
            f"rate-limit-redis loads its scripts when the limiter is created and node-redis rejects commands before "
            f"`connect()` (ClientClosedError, which stops the process before rate-limit-redis 5); create the limiter "
            f"after {awaited}."
        )
        return self.finding(fact.location(), message, related=_late_locations(late), level=Level.ERROR)

    def _shared_stores(self, facts: "_ProjectFacts", project: ProjectIndex) -> Iterator[Finding]:
        by_store: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in facts.limiters:
            store = _store_identity(fact, project, facts)
            if store is not None:
                by_store[store].append(fact)
        for (_, key), limiters in by_store.items():
            if len(limiters) < 2:
                continue
            first = limiters[0]
            for fact in limiters[1:]:
                yield self.finding(
                    fact.location(),
                    f"{fact.data['label']} uses the same store instance `{key}` as {first.data['label']} at "
                    f"{first.path}:{first.span.start_line}: both count under the same keys, so each request is "
                    f"counted twice and their windows collide; give every limiter its own store (with its own "
                    f"`prefix`).",
                    related=[first.location("the other limiter on this store")],
                )


@dataclass(frozen=True)
class _Mentions:
    """What a file's bytes name: which kinds of sites are worth looking at."""

    limiter: bool  # names a limiter library (a store class comes from a module naming a library or Redis)
    redis: bool
    hand_rolled: bool
    library_package: bool = False  # the file's package uses a limiter library

    @property
    def anything(self) -> bool:
        return self.limiter or self.redis or self.hand_rolled

    @classmethod
    def of(cls, source: bytes, file: FileContext | None = None) -> "_Mentions":
        # Plain byte searches: a regular expression over every file of a large repository costs more.
        return cls(
            limiter=any(name in source for name in _LIMITER_NAMES),
            # A Redis client made or connected, or a store built on one (`redis`, `ioredis`, `Redis`):
            redis=b"edis" in source and any(site in source for site in _REDIS_SITES),
            hand_rolled=any(word in source for word in SAYS_IT_LIMITS) and any(store in source for store in _HAND_ROLLED_STORES),
            library_package=file is not None and file.depends_on(LIBRARY_PACKAGES),
        )


@dataclass
class _ProjectFacts:
    """The per-file facts of the rule, gathered by kind and module."""

    limiters: list[Fact] = field(default_factory=list)  # by path and position
    clients: dict[str, dict[str, dict]] = field(default_factory=dict)  # path -> binding key -> client
    connects: dict[str, dict[str, dict]] = field(default_factory=dict)  # path -> marker -> {"ref", "span"}
    stores: dict[str, dict[str, dict]] = field(default_factory=dict)  # path -> name -> {"client", "lazy"}
    marks: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # path -> byte range -> marker

    @classmethod
    def of(cls, project: ProjectIndex, rule: Rule) -> "_ProjectFacts":
        facts = cls()
        ordered = sorted(facts_of(project, rule), key=lambda f: (f.path, f.span.start_line, f.span.start_column))
        for fact in ordered:
            data = fact.data
            if fact.kind == "limiter":
                facts.limiters.append(fact)
                if data["marker"]:
                    facts.marks.setdefault(fact.path, {})[marker_range(data["marker"])] = data["marker"]
            elif fact.kind == "client":
                facts.clients.setdefault(fact.path, {}).setdefault(data["key"], data)
            elif fact.kind == "connect":
                facts.connects.setdefault(fact.path, {})[data["marker"]] = {"ref": data["ref"], "span": fact.span}
                facts.marks.setdefault(fact.path, {})[marker_range(data["marker"])] = data["marker"]
            elif fact.kind == "store":
                facts.stores.setdefault(fact.path, {}).setdefault(data["name"], data)
        return facts


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
        "option": site.option,
        "in_memory_class": site.in_memory_class,
        "store": choice.kind,
        "condition": _snippet(choice.condition),
        "condition_mentions_redis": bool(MENTIONS_REDIS.search(text(choice.condition))),
        "skipped_without_redis": choice.kind == "conditional" and skipped_without_redis(site),
        "mode_switch": _snippet(switch),
        "mode_switch_mentions_redis": bool(MENTIONS_REDIS.search(text(switch))),
        "redis_store": store_client is not None,
        "client": store_client.reference if store_client is not None else None,
        "client_lazy": store_client.lazy if store_client is not None else False,
        "store_ref": store_ref,
    }


def _hand_rolled_data(limiter: HandRolled, file: FileContext) -> dict:
    """A hand-written limiter's fact: always in memory; the fallback of a Redis limiter when its module also
    talks to Redis."""
    beside_redis = any(
        b.module in _REDIS_LIMITER_MODULES or b.module.split("/")[0] in _REDIS_LIMITER_MODULES for b in file.import_bindings
    )
    return {
        "label": f"`{limiter.name}`",
        "library": HAND_ROLLED,
        "option": "",
        "in_memory_class": False,
        "store": "conditional" if beside_redis else "memory",
        "condition": None,
        "condition_mentions_redis": True,
        "mode_switch": None,
        "mode_switch_mentions_redis": False,
        "redis_store": False,
        "client": None,
        "client_lazy": False,
        "store_ref": None,
        "marker": None,
        "holder": limiter.holder,
        "function": limiter.function,
    }


def _store_instance(value: Node, file: FileContext) -> dict | None:
    """For `const store = new RedisStore(...)` at module level: {"name", "client", "lazy"}, for the
    shared-instance check and for the client a store imported by a limiter's module sends its commands through."""
    declarator = outermost(value).parent
    if declarator is None or declarator.type != "variable_declarator" or unwrap(declarator.child_by_field_name("value")) != value:
        return None
    name = declarator.child_by_field_name("name")
    declaration = declarator.parent
    statement = declaration.parent if declaration is not None else None
    if statement is not None and statement.type == "export_statement":
        statement = statement.parent
    if name is None or name.type != "identifier" or declaration.type not in ("lexical_declaration", "variable_declaration"):
        return None
    if statement is None or statement.type != "program":
        return None
    constructor = callee(value)
    imported = resolve_imported(constructor, file)
    from_store_package = imported is not None and imported.module in REDIS_STORE_PACKAGES
    if not from_store_package and not _STORE_CLASS.search(text(constructor)):
        return None
    client = redis_store_client(value, file)
    return {
        "name": text(name),
        "client": client.reference if client is not None else None,
        "lazy": client.lazy if client is not None else False,
    }


def _store_identity(fact: Fact, project: ProjectIndex, facts: "_ProjectFacts") -> tuple[str, str] | None:
    """(module, name) of the module-level store instance the limiter's `store` names, if it names one."""
    reference = fact.data.get("store_ref")
    if reference is None:
        return None
    if "local" in reference:
        path, key = fact.path, reference["local"]
    elif "import" in reference:
        found = module_graph(project).resolve(fact.path, Callee(reference["import"], reference["name"]))
        if found is None:
            return None
        path, key = found
    else:
        return None
    return (path, key) if key in facts.stores.get(path, {}) else None


def _no_shared_counting(project: ProjectIndex, path: str) -> bool:
    """Whether the `ThrottlerModule` of module `path` counts nothing a second instance would need: the app
    applies no throttler guard at all, or every guard that counts for it keys by a socket's id."""
    use = guard_use(project, project.package_of(path))
    if use.unknown:
        return False
    if not use.applied:
        return True
    return guards_of(project.read_js_source(path) or b"", use) <= use.per_connection


def _redis_evidence(project: ProjectIndex, path: str) -> str | None:
    """How the limiter's package shows it uses Redis, or None: a Redis client in its package.json, a module of
    the package importing one, a Redis-backed library (BullMQ, a Redis cache store) in its package.json, or a
    workspace package it depends on that does (a monorepo's shared `@acme/redis`). An app is judged by its own
    package, not by the root package of its monorepo."""
    package = project.package_of(path)
    if package is not None:
        declared = sorted(name for name in REDIS_PACKAGES if name in package.dependencies)
        if declared:
            return f"`{declared[0]}` in {package.manifest}"
    here = _redis_imports(project, path)
    if here:
        return f"`{here[0]}` is imported here"
    for other in sorted(project.specifiers):
        if other != path and not is_test_path(other) and project.package_of(other) == package:
            imported = _redis_imports(project, other)
            if imported:
                return f"`{imported[0]}` is imported in {other}"
    if package is None:
        return None
    backed = _imported_backed(project, package)
    if backed is not None:
        return backed
    return _workspace_redis(project, package)


def _imported_backed(project: ProjectIndex, package: Package) -> str | None:
    """A Redis-backed library (BullMQ, a Redis cache store) the package declares and one of its modules imports:
    declared alone, it may be a leftover."""
    declared = {name for name in REDIS_BACKED_PACKAGES if name in package.dependencies}
    if not declared:
        return None
    for path in sorted(project.specifiers):
        if is_test_path(path) or project.package_of(path) != package:
            continue
        for name in sorted(declared):
            if any(s == name or s.startswith(name + "/") for s in project.specifiers[path]):
                return f"`{name}` in {package.manifest}, imported in {path}"
    return None


def _workspace_redis(project: ProjectIndex, app: Package) -> str | None:
    """A workspace package `app` depends on (directly or through other workspace packages) that declares Redis."""
    by_name = {p.name: p for p in project.packages.values() if p.name and p is not app}
    seen, queue = {app.name}, [app]
    while queue:
        current = queue.pop(0)
        for name in sorted(current.dependencies):
            dependency = by_name.get(name)
            if dependency is None or name in seen:
                continue
            seen.add(name)
            declared = sorted(n for n in (*REDIS_PACKAGES, *REDIS_BACKED_PACKAGES) if n in dependency.dependencies)
            if declared:
                return f"`{declared[0]}` in {dependency.manifest}, of the workspace package `{name}` it depends on"
            queue.append(dependency)
    return None


def _redis_imports(project: ProjectIndex, path: str) -> list[str]:
    """The Redis client packages module `path` imports (or one of their subpaths)."""
    specifiers = project.specifiers.get(path, ())
    return [m for m in REDIS_PACKAGES if any(s == m or s.startswith(m + "/") for s in specifiers)]


def _memory_message(data: dict, kind: str) -> str:
    label = data["label"]
    effect = "each instance enforces the limit on its own and a restart resets it"
    if data["library"] == HAND_ROLLED:
        where = f" (in `{data['function']}()`)" if data["function"] else ""
        counts = f"{label} keeps the counts of a hand-written limiter{where} in {data['holder']} in this process's memory"
        if kind == "conditional":
            return (
                f"{counts}, beside the Redis of this module: whenever it is used instead of Redis (Redis not set "
                f"up, or unreachable), {effect}, silently; fail at startup when Redis is missing instead."
            )
        return f"{counts}: {effect}."
    if data["in_memory_class"]:
        return f"{label} keeps its counts in this process's memory: {effect}."
    if kind == "conditional":
        condition = data["condition"] or data["mode_switch"]
        return (
            f"{label} falls back to this process's memory when Redis is not set up (it depends on `{condition}`): "
            f"{effect}, silently; fail at startup when Redis is missing instead."
        )
    option = data["option"]
    how = {"default": f"has no `{option}`", "undefined": f"has `{option}: undefined`", "memory": "uses a `MemoryStore`"}[kind]
    return f"{label} {how}, so its counts live in this process's memory: {effect}."


def _remedy(data: dict) -> str:
    """What to use instead, for the limiter's library."""
    if data["library"] == HAND_ROLLED:
        return "Count in Redis instead (`INCR` with an expiry, or a limiter library with a Redis store)"
    if data["in_memory_class"]:
        return "Use `RateLimiterRedis`"
    if data["library"] == NEST_THROTTLER:
        return "Give it a Redis `storage` (`ThrottlerStorageRedisService` of @nest-lab/throttler-storage-redis)"
    if data["library"] in FASTIFY_RATE_LIMIT:
        return "Pass the Redis client as its `redis` option"
    return "Use a Redis store"


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
