"""A database or cache client (Redis, pg, MySQL, Mongo, knex) created inside a request handler or middleware.

## Why is this bad?
`new Redis()`, `new Pool()`, `mysql.createPool()`, `knex({...})`, `new MongoClient()` and `mongoose.createConnection()`
each open a connection, or a whole pool of them, that is meant to live as long as the process. Created inside a
request handler or middleware, a new one is opened on every request, with a TCP and TLS handshake and
authentication each time; most are never closed, so under load the server runs out of connections (Redis
`maxclients`, Postgres `max_connections`) or file descriptors and requests start failing.

Lazy singletons stay quiet: `if (!redis) redis = new Redis()` with `redis` at module level, a connection
guarded by `mongoose.connection.readyState`, or a client kept on `globalThis`.

## Example
```js
const express = require('express');
const Redis = require('ioredis');

const app = express();

app.get('/api/stats', async (req, res) => {
  const redis = new Redis(process.env.REDIS_URL);
  res.json({ visits: await redis.incr('visits') });
});
```

## Use instead
```js
const express = require('express');
const Redis = require('ioredis');

const app = express();
const redis = new Redis(process.env.REDIS_URL);

app.get('/api/stats', async (req, res) => {
  res.json({ visits: await redis.incr('visits') });
});
```

## References
- node-postgres: Pooling — https://node-postgres.com/features/pooling
- ioredis: Connect to Redis — https://github.com/redis/ioredis#connect-to-redis
- MongoDB Node.js driver: Connection pool overview — https://www.mongodb.com/docs/drivers/node/current/fundamentals/connections/connection-pools/
"""

from __future__ import annotations

from typing import Iterator

from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NEXTJS, SERVER_ACTIONS
from linter.context import FileContext
from linter.rules.db._db_clients import CLIENT_MODULES, connects_in, names_a_client_module, pooled_client_creation
from linter.js.invocation import invocation
from linter.model import Finding, Level, Precision
from linter.rule import Match, Rule


class ClientPerRequest(Rule):
    id = "db/client-per-request"
    name = "ClientPerRequest"
    level = Level.ERROR
    precision = Precision.HIGH
    tags = ("performance", "reliability", "database")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, FASTIFY, HONO, KOA)
    requires = tuple(sorted(CLIENT_MODULES))
    needles = (b"redis", b"pg", b"mysql", b"mongo", b"knex")
    query = """
    (new_expression constructor: (_) @callee) @create
    (call_expression function: (_) @callee) @create
    """

    def may_report_in(self, source: bytes) -> bool:
        return names_a_client_module(source)

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if file.is_test:
            return
        node = match["create"]
        shape = pooled_client_creation(node, file)
        if shape is None:
            return
        run = invocation(node, file.path, file.root)
        if not run.per_request:
            return
        if shape.needs_connect and not connects_in(run.function):
            return
        yield file.report(
            self,
            node,
            f"{shape.label} runs {run.phrase()}, opening new connections each time; create the client once "
            f"at module level (or in a shared module) and reuse it.",
        )
