"""The example `DATABASE_URL` of a Prisma server points at PostgreSQL with no `connection_limit` or `pool_timeout`.

## Why is this bad?
Prisma Client opens a pool of `num_cpus * 2 + 1` connections per instance unless the connection URL sets
`connection_limit`. The number follows the machine, not the database: a few replicas on large hosts, plus a
worker and a cron job, open more connections than PostgreSQL allows (about 100 by default, fewer on small
managed plans), and requests start failing with "too many clients already" exactly when traffic grows. Without
`pool_timeout`, a request waits 10 seconds for a free connection before failing. The URL in `.env.example`
(or in a Compose file) is the one every deployment copies, so it is where the pool gets sized.

The rule reads `.env.example`, `.env.sample`, `.env.template` (and `.env.*.example`...) and Compose files
(`docker-compose.yml`, `compose.yaml`; not `docker-compose.dev.yml` or one that runs `npm run dev`). It reports a
PostgreSQL URL (`postgres://`, `postgresql://`) set for the variable the Prisma datasource reads
(`url = env("DATABASE_URL")`; `DATABASE_URL` when no schema is found) that has neither parameter, when a
package at or below the file's folder uses Prisma Client in a server (Express, Fastify, NestJS, Next.js...).
The `directUrl` variable (migrations only) and Prisma Accelerate URLs are left alone, and so are packages that
use a driver adapter (`@prisma/adapter-pg`...), whose pool the adapter configures.

## Example
```dotenv
PORT=4000
DATABASE_URL="postgresql://postgres:postgres@localhost:5432/leadsite?schema=public"
```

## Use instead
```dotenv
PORT=4000
# Pool per instance: max_connections / instances, minus headroom for migrations and admin tools.
DATABASE_URL="postgresql://postgres:postgres@localhost:5432/leadsite?schema=public&connection_limit=20&pool_timeout=30"
```

## References
- Prisma docs: Connection pool — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/connection-pool
- Prisma docs: Connection management — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections
- PostgreSQL docs: `max_connections` — https://www.postgresql.org/docs/current/runtime-config-connection.html
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

import linter.files.kinds as kinds
from linter.rules.prisma._deploy_files import DEVELOPMENT_NAME
from linter.rules.prisma._env_entries import env_entries
from linter.rules.prisma._project_schemas import project_schemas
from linter.model import Finding, Level, Precision
from linter.project import Package, ProjectIndex
from linter.rule import Rule

PRISMA_CLIENT_PACKAGES = ("@prisma/client", "prisma")
SERVER_PACKAGES = (
    "express",
    "fastify",
    "koa",
    "@hapi/hapi",
    "@nestjs/core",
    "next",
    "nuxt",
    "@remix-run/node",
    "@remix-run/serve",
    "@sveltejs/kit",
    "hono",
    "@trpc/server",
    "@apollo/server",
    "apollo-server",
    "apollo-server-express",
    "graphql-yoga",
    "restify",
    "h3",
    "elysia",
    "@adonisjs/core",
    "sails",
    "@feathersjs/feathers",
)
POSTGRES_URL = re.compile(r"^postgres(?:ql)?://", re.I)
POOL_PARAMETERS = re.compile(r"[?&](connection_limit|pool_timeout)=", re.I)
DEFAULT_URL_VARIABLE = "DATABASE_URL"
DRIVER_ADAPTER_PREFIX = "@prisma/adapter-"
# A Compose file that runs the app in development: `npm run dev`, a `Dockerfile.dev`, a `dev` build target.
DEVELOPMENT_RUN = re.compile(
    rb"\b(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?dev\b|Dockerfile\.dev\b|\btarget:\s*[\"']?dev(?:elopment)?\b"
    rb"|NODE_ENV[\"']?\s*[:=]\s*[\"']?development\b"
)
TEST_NAME = re.compile(r"[.\-_](test|testing|e2e|ci)([.\-_]|$)", re.I)
POSTGRES_PROVIDERS = frozenset({"postgresql", "postgres", "cockroachdb"})


class NoConnectionLimit(Rule):
    id = "prisma/no-connection-limit"
    name = "NoConnectionLimit"
    level = Level.NOTE
    precision = Precision.HIGH
    tags = ("prisma", "performance", "reliability", "database")

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        variables = _url_variables(project)
        if not variables:
            return
        for path in project.project_files(kinds.ENV_EXAMPLE, kinds.COMPOSE):
            kind = project.other_files[path]
            if _for_development(path, kind):
                continue
            source = project.read_source(path)
            if source is None or not _serves_with_prisma(project, path):
                continue
            if kind == kinds.COMPOSE and DEVELOPMENT_RUN.search(source):
                continue
            for entry in env_entries(kind, source):
                if entry.name not in variables or not POSTGRES_URL.match(entry.value):
                    continue
                if POOL_PARAMETERS.search(entry.value):
                    continue
                yield self.finding(
                    project.location(path, entry.start, entry.end),
                    f"`{entry.name}` sets no `connection_limit` or `pool_timeout`, so each server instance "
                    f"opens Prisma's default pool of `num_cpus * 2 + 1` connections and the instances together "
                    f"can exhaust PostgreSQL's connection limit; add `connection_limit=<max_connections / "
                    f"instances>&pool_timeout=<seconds>` to the example URL.",
                )


def _for_development(path: str, kind: str) -> bool:
    """`docker-compose.dev.yml`, `compose-test.yaml`, `.env.test.example`, anything under `testing/` or
    `.devcontainer/`: not what deployments copy."""
    folders = path.split("/")[:-1]
    if any(DEVELOPMENT_NAME.fullmatch(f) or f == ".devcontainer" for f in folders):
        return True
    name = posixpath.basename(path)
    if kind == kinds.COMPOSE:
        return bool(DEVELOPMENT_NAME.search(re.sub(r"\.ya?ml$", "", name)))
    return bool(TEST_NAME.search(name))


def _url_variables(project: ProjectIndex) -> frozenset[str]:
    """The variables Prisma datasources read their PostgreSQL URL from (not `directUrl`, used by migrations)."""
    schemas = project_schemas(project)
    if not schemas:
        return frozenset({DEFAULT_URL_VARIABLE})
    return frozenset(
        schema.datasource.url_env or DEFAULT_URL_VARIABLE
        for schema in schemas
        if schema.datasource.provider in POSTGRES_PROVIDERS
    )


def _serves_with_prisma(project: ProjectIndex, path: str) -> bool:
    """A package at or below the file's folder (or the file's own package) runs Prisma Client in a server, and
    none of them uses a driver adapter; true when the project has no package.json at all."""
    if not project.packages:
        return True
    folder = posixpath.dirname(path)
    candidates: list[Package] = [
        p for p in project.packages.values() if not folder or p.dir == folder or p.dir.startswith(folder + "/")
    ]
    own = project.package_of(path)
    if own is not None and own not in candidates:
        candidates.append(own)
    if any(name.startswith(DRIVER_ADAPTER_PREFIX) for p in candidates for name in p.dependencies):
        return False  # the client is built on a driver adapter (often in a shared `db` package): no URL pool
    return any(p.depends_on(PRISMA_CLIENT_PACKAGES) and p.depends_on(SERVER_PACKAGES) for p in candidates)
