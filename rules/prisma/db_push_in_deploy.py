"""`prisma db push` runs when the app is built or deployed, instead of `prisma migrate deploy`.

## Why is this bad?
`prisma db push` makes the database match the schema by whatever changes it takes, and keeps no record of
them: there is no migration history to review, to apply the same way in every environment, or to roll back.
When a change cannot be made without losing data (a column dropped or renamed, a type narrowed) it stops the
deploy, unless `--accept-data-loss` is given, in which case it drops the data without asking; `--force-reset`
drops the whole database. On every deploy, a schema edit is one push away from emptying a production table.
`prisma migrate deploy` applies only the migrations committed with the code (made with `prisma migrate dev`),
in order, and never resets anything.

The rule follows what a deployment runs: `package.json` scripts that hosts run on their own (`build`, `start`,
`postinstall`, `deploy`, `release`, their `pre`/`post` hooks, `start:prod`, `heroku-postbuild`,
`vercel-build`), Dockerfile `RUN`/`CMD`/`ENTRYPOINT` (not in `Dockerfile.dev` or a `FROM … AS dev` stage),
Procfile processes, `railway.json`/`railway.toml`, `render.yaml`, `fly.toml` and `nixpacks.toml` commands,
and from them the scripts they run (`npm run db:push`, `pnpm --filter db start`) and the shell scripts they call
(`sh ./start.sh`). It reports the `prisma db push` itself, with the way deployment reaches it. Scripts that
only developers run (`"db:push": "prisma db push"` called from nowhere, `dev`) are left alone, and so is a push
in a shell script behind an opt-in flag (`if [ "${PRISMA_DB_PUSH:-0}" = "1" ]`) or in a development-only branch
(`if [ "$NODE_ENV" != "production" ]`), and so is a push to a SQLite file the schema names itself
(`url = "file:./dev.db"`): that database is a file next to the code, as in a demo or a local tool, where a
deployment's database would come from the environment. A push kept as a fallback (`prisma migrate deploy || prisma db push`)
is reported: it runs exactly when a migration has failed.

## Example
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY . .
RUN npm ci && npx prisma generate
CMD npx prisma db push --accept-data-loss && node src/index.js
```

## Use instead
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY . .
RUN npm ci && npx prisma generate
CMD npx prisma migrate deploy && node src/index.js
```

## References
- Prisma docs: `db push` (prototyping; "not recommended for production") — https://www.prisma.io/docs/orm/prisma-migrate/workflows/prototyping-your-schema
- Prisma docs: Deploying database changes with Prisma Migrate — https://www.prisma.io/docs/orm/prisma-client/deployment/deploy-database-changes-with-prisma-migrate
- Prisma CLI reference: `db push`, `--accept-data-loss`, `--force-reset` — https://www.prisma.io/docs/orm/reference/prisma-cli-reference#db-push
"""

from __future__ import annotations

import posixpath
from typing import Iterator

from linter.rules.prisma._deploy_commands import Reached, prisma_commands_at_deploy
from linter.rules.prisma._project_schemas import PrismaSchema, project_schemas
from linter.rules.prisma._shell_commands import off_by_default
from linter.model import Finding, Level, Precision
from linter.project import ProjectIndex
from linter.rule import Rule


class DbPushInDeploy(Rule):
    id = "prisma/db-push-in-deploy"
    project_reports_at = frozenset()  # the deployment files and package.json scripts
    name = "DbPushInDeploy"
    level = Level.WARNING
    other_levels = {Level.ERROR: "`--accept-data-loss` and `--force-reset`, which drop data"}
    precision = Precision.HIGH
    tags = ("prisma", "reliability", "database", "deployment")
    frameworks = ()

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        for reached in prisma_commands_at_deploy(project):
            arguments = reached.command.arguments
            if arguments[:2] != ("db", "push") or "--help" in arguments or "-h" in arguments:
                continue
            if any(off_by_default(condition) for condition in reached.conditions):
                continue  # behind an opt-in flag or a development-only branch of a script
            if _pushes_to_a_file_in_the_repository(project, reached):
                continue
            yield self._finding(project, reached)

    def _finding(self, project: ProjectIndex, reached: Reached) -> Finding:
        arguments = reached.command.arguments
        route = " → ".join(step.origin for step in reached.chain)
        if "--force-reset" in arguments:
            what, level = "`prisma db push --force-reset` drops and recreates the whole database", Level.ERROR
        elif "--accept-data-loss" in arguments:
            what = "`prisma db push --accept-data-loss` drops whatever data a schema change does not fit"
            level = Level.ERROR
        else:
            what = "`prisma db push` changes the production schema with no migration history"
            level = None
        message = (
            f"{what} on every deploy (it runs from {route}); commit migrations made with `prisma migrate dev` "
            f"and run `prisma migrate deploy` instead."
        )
        chain = reached.chain
        related = [
            step.location(project, f"{step.origin} runs {after.origin}") for step, after in zip(chain, chain[1:])
        ]
        return self.finding(reached.location(project), message, related=related, level=level)


def _pushes_to_a_file_in_the_repository(project: ProjectIndex, reached: Reached) -> bool:
    """Every schema the push may target is SQLite at a file the schema names itself (`url = "file:./dev.db"`):
    the database is a file next to the code, as in a demo or a local tool, not one a deployment keeps (which
    would be set from the environment, `url = env("DATABASE_URL")`)."""
    schemas = _target_schemas(project, reached)
    return bool(schemas) and all(
        schema.datasource.provider == "sqlite" and (schema.datasource.url_literal or "").startswith("file:")
        for schema in schemas
    )


def _target_schemas(project: ProjectIndex, reached: Reached) -> list[PrismaSchema]:
    """The schemas of the folder the push runs in (`--schema <path>` when given, else the nearest below it)."""
    folder = reached.written_in.folder
    arguments = reached.command.arguments
    schemas = project_schemas(project)
    for flag, value in zip(arguments, arguments[1:]):
        if flag == "--schema":
            wanted = posixpath.normpath(posixpath.join(folder, value))
            return [s for s in schemas if s.root == wanted or posixpath.dirname(s.root) == wanted]
    below = [s for s in schemas if not folder or s.root.startswith(folder + "/")]
    if not below:
        return []
    nearest = min(s.root.count("/") for s in below)
    return [s for s in below if s.root.count("/") == nearest]
