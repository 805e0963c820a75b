"""A deployment's `DATABASE_URL` for Prisma points at a hosted PostgreSQL with no `connection_limit` or `pool_timeout`.

## Why is this bad?
Prisma Client opens a pool of `num_cpus * 2 + 1` connections per instance unless the connection URL sets
`connection_limit`. The number follows the machine, not the database: a few replicas on large hosts, plus a
worker and a cron job, open more connections than PostgreSQL allows (about 100 by default, often 20 to 60 on
small managed plans), and requests start failing with "too many clients already" exactly when traffic grows.
Serverless functions are worse: every warm instance keeps its own pool, which is why Prisma recommends
`connection_limit=1` there (with a pooler such as PgBouncer or Supavisor in front of the database). Without
`pool_timeout`, a request waits 10 seconds for a free connection before failing.

The rule reads the URLs a deployment uses, set for the variable the Prisma datasource reads
(`url = env("DATABASE_URL")`; `DATABASE_URL` when no schema is found), when a package at or below the file's
folder uses Prisma Client in a server (Express, Fastify, NestJS, Next.js...):
- an `.env.example`, `.env.sample`, `.env.template` or `.env.production.example` (not `.env.test.example`,
  `.env.dev.example`, `.env.local.example` or a development workspace's `.env.development.gitpod.example`: one
  developer's server) whose URL points at a hosted database: a host name with a domain
  (`db.example.supabase.co`, an RDS endpoint), not `localhost`, `127.0.0.1`, `host.docker.internal` or a one-word
  host such as a Compose service (`db`, `postgres`) or a placeholder (`HOST`); a host set by another variable of
  the same file (`@${DB_HOST}`) is read from it;
- a Compose file (`docker-compose.yml`, `compose.yaml`; not `docker-compose.dev.yml` or one that runs
  `npm run dev`) whose service runs several replicas (`deploy: replicas: 3`): the database can then be a
  Compose service too, since the instances share it.

A URL for local development, a single-instance self-hosting Compose file and a test database are not the
scaling problem: one instance's pool fits. When the package is deployed as serverless functions (`vercel`,
`serverless`, `@netlify/functions`, `serverless-http` and the like among its dependencies or deploy scripts),
the message asks for `connection_limit=1`. The `directUrl` variable (migrations only) and Prisma Accelerate
URLs are left alone, and so are packages that use a driver adapter (`@prisma/adapter-pg`...), whose pool the
adapter configures.

## Example
```dotenv
# .env.production.example
PORT=4000
DATABASE_URL="postgresql://leadsite:change-me@leadsite-db.c9akciq32.us-east-1.rds.amazonaws.com:5432/leadsite"
```

## Use instead
```dotenv
# .env.production.example
PORT=4000
# Pool per instance: max_connections / instances, minus headroom for migrations and admin tools.
DATABASE_URL="postgresql://leadsite:change-me@leadsite-db.c9akciq32.us-east-1.rds.amazonaws.com:5432/leadsite?connection_limit=20&pool_timeout=30"
```

## References
- Prisma docs: Connection pool — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections/connection-pool
- Prisma docs: Connection management (serverless: `connection_limit=1`) — https://www.prisma.io/docs/orm/prisma-client/setup-and-configuration/databases-connections
- PostgreSQL docs: `max_connections` — https://www.postgresql.org/docs/current/runtime-config-connection.html
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterator

from linter import lazy_re
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
POSTGRES_URL = lazy_re.compile(r"^postgres(?:ql)?://", re.I)
POOL_PARAMETERS = lazy_re.compile(r"[?&](connection_limit|pool_timeout)=", re.I)
DEFAULT_URL_VARIABLE = "DATABASE_URL"
DRIVER_ADAPTER_PREFIX = "@prisma/adapter-"
# A Compose file that runs the app in development: `npm run dev`, a `Dockerfile.dev`, a `dev` build target.
DEVELOPMENT_RUN = lazy_re.compile(
    rb"\b(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?dev\b|Dockerfile\.dev\b|\btarget:\s*[\"']?dev(?:elopment)?\b"
    rb"|NODE_ENV[\"']?\s*[:=]\s*[\"']?development\b"
)
POSTGRES_PROVIDERS = frozenset({"postgresql", "postgres", "cockroachdb"})
# Packages and deploy commands of code that runs as serverless functions (one pool per warm instance).
SERVERLESS_PACKAGES = (
    "serverless", "serverless-http", "@vendia/serverless-express", "@codegenie/serverless-express",
    "@netlify/functions", "@vercel/node", "vercel", "netlify-cli", "sst", "aws-lambda", "@types/aws-lambda",
    "@prisma/adapter-neon",
)  # fmt: skip
SERVERLESS_DEPLOY = lazy_re.compile(r"\b(vercel(\s+deploy)?|netlify\s+deploy|serverless\s+deploy|sls\s+deploy|sst\s+deploy)\b")
_URL_AUTHORITY = lazy_re.compile(r"^[a-z][\w+.-]*://(?P<authority>[^/?#]*)", re.I)
_VARIABLE = lazy_re.compile(r"^\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-[^}]*)?\}?$")
LOCAL_HOSTS = frozenset({"localhost", "host.docker.internal", "0.0.0.0", "::1", "[::1]", "gateway.docker.internal"})
_REPLICAS = lazy_re.compile(r"^\s*(?:replicas|scale)\s*:\s*[\"']?(?P<count>\d+)", re.M)


class NoConnectionLimit(Rule):
    id = "prisma/no-connection-limit"
    project_reports_at = frozenset()  # .env examples and Compose files
    name = "NoConnectionLimit"
    level = Level.NOTE
    precision = Precision.HIGH
    tags = ("prisma", "performance", "reliability", "database")
    frameworks = ()

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
            entries = env_entries(kind, source)
            values = {entry.name: entry.value for entry in entries}
            for entry in entries:
                if entry.name not in variables or not POSTGRES_URL.match(entry.value):
                    continue
                if POOL_PARAMETERS.search(entry.value):
                    continue
                host = _host(entry.value, values)
                if kind == kinds.COMPOSE:
                    replicas = _replicas(source, entry.start)
                    if host in LOCAL_HOSTS or replicas < 2:
                        continue  # one instance (or a database on the developer's machine): its pool fits
                    who = f"each of the service's {replicas} replicas"
                elif host is None or _is_local(host):
                    continue  # local development, a Compose service or a placeholder: not what a deployment uses
                else:
                    who = "each instance of the deployment"
                message = _message(entry.name, who, _serverless(project, path))
                yield self.finding(project.location(path, entry.start, entry.end), message)


def _message(name: str, who: str, serverless: bool) -> str:
    if serverless:
        return (
            f"`{name}` sets no `connection_limit` for a hosted database, and this package runs as serverless "
            f"functions: every warm instance opens Prisma's default pool of `num_cpus * 2 + 1` connections, so a "
            f"burst of traffic exhausts PostgreSQL's connection limit; set `connection_limit=1` (and put a pooler "
            f"such as PgBouncer in front) as Prisma recommends for serverless."
        )
    return (
        f"`{name}` sets no `connection_limit` or `pool_timeout`, so {who} opens Prisma's default pool of "
        f"`num_cpus * 2 + 1` connections and together they can exhaust PostgreSQL's connection limit; add "
        f"`connection_limit=<max_connections / instances>&pool_timeout=<seconds>` to the URL."
    )


def _host(url: str, values: dict[str, str]) -> str | None:
    """The host of a connection URL, lower-cased; a `${VAR}` host read from the same file; None when unknown."""
    match = _URL_AUTHORITY.match(url)
    if match is None:
        return None
    authority = match.group("authority").rsplit("@", 1)[-1]
    host = authority if authority.startswith("[") else authority.split(":", 1)[0]
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    variable = _VARIABLE.match(host)
    if variable is not None:
        host = values.get(variable.group("name"), "")
        if not host or "$" in host:
            return None
    return host.lower() or None


def _is_local(host: str) -> bool:
    """A database on the developer's machine or next to the app: `localhost`, `127.0.0.1`, a one-word host (a
    Compose service such as `db`, or a placeholder such as `HOST`)."""
    if host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost"):
        return True
    return "." not in host.strip("[]") and ":" not in host


def _replicas(source: bytes, offset: int) -> int:
    """The replica count of the Compose service whose block holds `offset` (1 when it sets none)."""
    lines = source.decode("utf-8", "replace").splitlines()
    at = source[:offset].count(b"\n")
    header = next((i for i, line in enumerate(lines) if re.match(r"^services\s*:", line)), None)
    if header is None or at <= header:
        return 1
    indent = next((_indent(line) for line in lines[header + 1 :] if line.strip() and not line.lstrip().startswith("#")), 0)
    service = next((i for i in range(at, header, -1) if lines[i].strip() and _indent(lines[i]) == indent), None)
    if service is None or indent == 0:
        return 1
    block = []
    for line in lines[service + 1 :]:
        if line.strip() and _indent(line) <= indent:
            break
        block.append(line)
    return max((int(m.group("count")) for m in _REPLICAS.finditer("\n".join(block))), default=1)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _serverless(project: ProjectIndex, path: str) -> bool:
    """A package at or below the file's folder (or the file's own) deploys as serverless functions."""
    folder = posixpath.dirname(path)
    packages = [p for p in project.packages.values() if not folder or p.dir == folder or p.dir.startswith(folder + "/")]
    own = project.package_of(path)
    if own is not None and own not in packages:
        packages.append(own)
    return any(
        p.depends_on(SERVERLESS_PACKAGES) or any(SERVERLESS_DEPLOY.search(command) for _, command in p.scripts)
        for p in packages
    )


def _for_development(path: str, kind: str) -> bool:
    """`docker-compose.dev.yml`, `compose-test.yaml`, `.env.test.example`, `.env.development.example`,
    `.env.local.example`, anything under `testing/` or `.devcontainer/`: not what deployments copy."""
    folders = path.split("/")[:-1]
    if any(DEVELOPMENT_NAME.fullmatch(f) or f == ".devcontainer" for f in folders):
        return True
    name = posixpath.basename(path)
    if kind == kinds.COMPOSE:
        return bool(DEVELOPMENT_NAME.search(re.sub(r"\.ya?ml$", "", name)))
    return bool(DEVELOPMENT_NAME.search(name))


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
