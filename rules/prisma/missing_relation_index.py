"""A foreign key the code looks up (a filter, a read from the parent's side, a parent delete) has no index, or a list query filters on it and sorts by a field no index covers.

## Why is this bad?
PostgreSQL, SQLite, SQL Server and CockroachDB do not index a foreign key by themselves, and Prisma does not
add one: `userId` in `user User @relation(fields: [userId], references: [id])` is a plain column. Every
`findMany({ where: { userId } })`, every `include` of the relation from the other side and every cascading
delete of a user then reads the whole table. It is fast while the table is small and gets slower with every
row, until the busiest list endpoint times out. MySQL indexes foreign keys itself, but not with
`relationMode = "prisma"` (PlanetScale), where Prisma emulates relations without foreign keys.

The rule reports, at its line, a relation scalar field that is not the first field of an `@@index`,
`@@unique`, `@@id`, `@id` or `@unique` of its model (for a composite key, the fields must lead an index
together, or one of them must lead an index and reference a unique parent field on its own, such as an `id`
filled with `uuid()`), nor of an index the repository's SQL files create on its table outside the schema
(`CREATE INDEX … ON "Post"("authorId")` in a hand-written migration or a database dump, `@@map` and `@map`
names followed, a later `DROP INDEX` undoing it, partial indexes left out), when the code of the project
makes the database look the key up:
- it filters or sorts by the key: `where: { userId }`, through the relation (`where: { user: { email } }`) or
  from the parent's side (`where: { posts: { some: … } }`), with the `where` written in the call, built in a
  variable of the file (`where.userId = …`, a `Prisma.PostWhereInput`) or returned by a function of the file;
- it reads the relation from the parent's side: `include` / `select` / `_count` of the back-relation, at any
  depth, the fluent `findUnique(…).posts()`, a Pothos `t.relation('posts')`, or the GraphQL resolvers the
  `typegraphql-prisma` generator writes for every relation;
- it writes the children through the parent (`data: { posts: { deleteMany: … } }`);
- it deletes parent rows (`delete`, or `deleteMany` with a filter, or a `DELETE FROM … WHERE` run with
  `$executeRaw`), directly or through an `onDelete: Cascade` from a grandparent, or changes the parent field the
  key references: each delete or change then scans the table for the children to cascade, clear or refuse.
  The cost is paid once per deleted parent, which the message says. A raw `DELETE FROM "Post" WHERE "authorId"
  IN (…)` also filters by its first column. A delete the project's client turns into an update is no delete:
  a query extension whose `delete` / `deleteMany` (or `$allOperations` for them) returns an `update` /
  `updateMany` on every path instead of `query(args)`, for the models it names or, under `$allModels`, the
  models with the field its model check names (`deletedAt`); or `$use` middleware that sets `params.action`
  to `'update'` behind tests of the action and model. A path that still runs `query(args)` for the delete,
  behind a condition other than such a field check, keeps it a delete.

The message names the first such use and points at it. A filter that also pins a unique key of the model
(`where: { id, jobId }`) or the fields an index holds before the key (`@@unique([accountId, jobId])` with
`where: { accountId, jobId }`) uses that index and does not count, and neither do queries in tests, seeds
(`seed.ts`, `*.seed.ts`, `seeds/`, and `seed-<what>.mts` scripts at the root of a package or in its `prisma/`
or `db/` folder) and migrations, nor a `deleteMany()` that empties a whole table (the reset of a demo or a
test). Schema files written from others are skipped, and findings go to the source: the copy `prisma generate`
writes into the client's output folder, a file whose header says it is generated or not to be edited (merge
tools, migration snapshots), a merged schema whose models all come from parts below it, and an unused copy: a
schema nothing points Prisma at (no `prisma.schema` key, `--schema` argument or `prisma.config` names it, it
is not at a package's default `prisma/schema.prisma`, no `migrations/` folder sits beside it) nine in ten of
whose models a schema in use defines again, such as a reference copy under `docs/`. It reads every
`.prisma` file: single-file and multi-file schemas (`prisma/schema/*.prisma`) alike, taking the provider from
the `datasource` block. When the run holds no Prisma query at all (a schema linted without the code that
uses it), it cannot tell and reports every unindexed key.

As a note, it also reports a paginated list query that filters on a foreign key and sorts by another field,
`findMany({ where: { userId }, orderBy: { createdAt: 'desc' }, take: 20 })`, when no index of the model starts
with the filtered fields followed by the sorted one (`@@index([userId, createdAt])`): when no index starts with
the filter at all, the query reads the whole table; when one does (`@@index([userId])`, or on MySQL the index
InnoDB gives each foreign key constraint, unless `relationMode = "prisma"`), the database reads
all of the user's rows and sorts them on every request, which matters only when a parent's rows grow without
bound, so the note is then given for tables that record what happens (the model's last word is `Message`,
`Event`, `Log`, `Execution`, `Run`, `Result`, `Notification`, `Activity`, `History`, …) and left out for the
few rows people create per parent (a user's accounts, a workspace's members). Queries under a `debug/`
folder (support pages) and in scripts are left alone.

A model that is small by design can keep its unindexed relation with
`/// loadlint-ignore prisma/missing-relation-index -- <reason>` on the line before the field.

## Example
```prisma
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    String @id @default(cuid())
  leads Lead[]
}

model Lead {
  id        String   @id @default(cuid())
  createdAt DateTime @default(now())
  user      User     @relation(fields: [userId], references: [id])
  userId    String
}
```

## Use instead
```prisma
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    String @id @default(cuid())
  leads Lead[]
}

model Lead {
  id        String   @id @default(cuid())
  createdAt DateTime @default(now())
  user      User     @relation(fields: [userId], references: [id])
  userId    String

  @@index([userId, createdAt])
}
```

## Options
- `for-all-relations` (default `false`): also report the unindexed foreign keys no query uses yet, as notes
  (prisma-lint's `forAllRelations`): for a schema whose code lives elsewhere, or to index ahead of the code.

```toml
[rules."prisma/missing-relation-index"]
for-all-relations = true
```

## References
- Prisma docs: Relation mode, indexes — https://www.prisma.io/docs/orm/prisma-schema/data-model/relations/relation-mode#indexes
- Prisma docs: Indexes — https://www.prisma.io/docs/orm/prisma-schema/data-model/indexes
- PostgreSQL docs: Foreign keys ("a declaration of a foreign key constraint does not automatically create an index on the referencing columns") — https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.rules.prisma._schema_parser import Block, Field
from linter.rules.prisma._project_schemas import (
    Model,
    PrismaSchema,
    is_ignored,
    key_field_lists,
    project_schemas,
    relation_fields,
    unique_field_sets,
)
from linter.rules.prisma._queries import list_query
from linter.rules.prisma._soft_deletes import raw_deletes, soft_deletes
from linter.rules.prisma._query_facts import PrismaQuery, prisma_queries, query_sites, says_nothing, typed_object
from linter.rules.prisma._relation_usage import (
    KINDS,
    Relation,
    SchemaRelations,
    Site,
    Use,
    UsageCollector,
    generated_resolver_generators,
)
from linter.model import Finding, Level, Location, Precision, Span
from linter.paths import is_test_support_path
from linter.positions import LineIndex
from linter.project import ProjectIndex
from linter.rule import Fact, LazyOptions, Match, Rule, facts_of
from linter.syntax import Node

# Databases that index a foreign key only when told to (MySQL does it itself unless relations are emulated).
UNINDEXED_FOREIGN_KEY_PROVIDERS = frozenset({"postgresql", "postgres", "sqlite", "sqlserver", "cockroachdb"})
SQL_PROVIDERS = UNINDEXED_FOREIGN_KEY_PROVIDERS | {"mysql"}
# Seeds, migrations and scripts run once: their queries are not the hot paths an index is for.
_ONE_SHOT_PATHS = lazy_re.compile(r"(^|/)(scripts?|seeds?|migrations)/|(^|/)seed\.[^/]*$|\.seed\.[^/]*$")
# Code whose queries say nothing of what production asks: seeds and migrations fill tables once.
_NOT_PRODUCTION_PATHS = lazy_re.compile(r"(^|/)(seeds?|migrations)/|(^|/)seed\.[^/]*$|\.seed\.[^/]*$")
# `seed-ai-spans.mts`, `seed_users.ts`: a seed script named after what it fills, at the root of its package or in
# its `prisma/` or `db/` folder (deeper, `seed-…` names app code: `lib/seed-phrase.ts`).
_SEED_SCRIPT_NAME = lazy_re.compile(r"^seeds?[-_][^/]*\.[cm]?[jt]s$")
_SEED_FOLDERS = frozenset({"prisma", "db", "database"})
# Debug pages for support staff: called a few times a day.
_DEBUG_PATHS = lazy_re.compile(r"(^|/)_{0,2}debug_{0,2}/")
_FILE_START = Span(start_line=1, start_column=1, end_line=1, end_column=1)
_QUERY_NAMES = (
    b"findMany", b"findFirst", b"findUnique", b"deleteMany", b"updateMany", b"Prisma.",
    b"relatedConnection", b"relationCount", b".relation(", b"$extends", b"$use(", b"defineExtension", b"$executeRaw",
)  # fmt: skip
_HOOK_NAMES = (b"$extends", b"$use(", b"defineExtension")
# `create` is left out: the rows it writes say nothing about lookups (its rare `include` is read when the file
# passes for another query).
_COMMON_CALL = lazy_re.compile(rb"\.(?:delete|update|upsert|count|aggregate|groupBy)\(\s*\{")
_COMMON_CALL_NEEDLES = (b".delete(", b".update(", b".upsert(", b".count(", b".aggregate(", b".groupBy(")
GENERATED_IDENTIFIERS = frozenset({"uuid", "cuid", "autoincrement", "nanoid", "ulid", "dbgenerated"})
# Tables whose rows record things that happen (the last word of the model's name): they grow with use, so
# sorting one parent's rows in memory gets slower every week even behind an index on the parent's key.
GROWING_TABLE_WORDS = frozenset(
    {"message", "event", "log", "execution", "run", "result", "notification", "memory", "history", "activity",
     "audit", "response", "submission", "view", "visit", "click", "impression", "display", "trace", "span",
     "metric", "ping", "delivery", "attempt", "entry", "transaction"}
)  # fmt: skip
DATABASE_NAMES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "sqlite": "SQLite",
    "sqlserver": "SQL Server",
    "cockroachdb": "CockroachDB",
    "mysql": "MySQL",
}
_CONSEQUENCES = {
    "filter": ", and each such query reads the whole `{child}` table",
    "order": ", and each such query reads the whole `{child}` table",
    "read": ", and each such read scans the `{child}` table for the parent's rows",
    "write": ", which finds the `{child}` rows by scanning the table",
    "delete": ", and each delete scans the `{child}` table for the rows that reference the parent",
    "key-update": ", and each change scans the `{child}` table for the rows that reference the parent",
    "resolvers": ", and each time a query asks for the relation the `{child}` table is scanned",
}


class MissingRelationIndex(Rule):
    id = "prisma/missing-relation-index"
    project_reports_at = frozenset({"list-query"})  # and the schemas
    name = "MissingRelationIndex"
    level = Level.WARNING
    other_levels = {Level.NOTE: "a list query that filters on a foreign key and sorts by a field no index covers"}
    precision = Precision.HIGH
    tags = ("prisma", "performance", "database")
    frameworks = ()
    # The calls are found by their names in the file's bytes (`query_sites`): much cheaper than a query
    # matching every method call of the file.
    query = "(program) @program"
    # Every file `may_report_in` takes holds one of these: the run's one pass for all needles turns most files
    # away before the tests below (each a scan of the file) are made.
    needles = (*_QUERY_NAMES, *_COMMON_CALL_NEEDLES)
    Options = LazyOptions("._missing_relation_index_options", "MissingRelationIndexOptions")

    def may_report_in(self, source: bytes) -> bool:
        # Names only Prisma uses, or a common method name called with an object literal (`.delete({ where })`).
        for name in _QUERY_NAMES:
            if name in source:
                return True
        return _COMMON_CALL.search(source) is not None

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if is_test_support_path(file.path) or _NOT_PRODUCTION_PATHS.search(file.path) or _is_seed_script(file):
            return
        list_queries = not (_ONE_SHOT_PATHS.search(file.path) or _DEBUG_PATHS.search(file.path))
        queries: list[list] = []  # [start byte, end byte, PrismaQuery data]
        seen = False
        for kind, node in query_sites(file):
            if kind == "typed":
                query = typed_object(node, file)
                if query is not None:
                    queries.append([node.start_byte, node.end_byte, query.to_data()])
                continue
            for anchor, query in prisma_queries(node, file):
                seen = True
                if not says_nothing(query):
                    queries.append([anchor.start_byte, anchor.end_byte, query.to_data()])
            if list_queries:
                yield from self._list_query(node, file)
        data: dict = {"queries": queries}
        if any(name in file.source for name in _HOOK_NAMES):
            data["soft_deletes"] = soft_deletes(file.root)
        if b"$executeRaw" in file.source:
            data["raw_deletes"] = [list(found) for found in raw_deletes(file.root)]
        if queries or seen:
            # One fact for the file (also when its queries only read by primary key: the run has seen Prisma
            # code); the queries keep byte offsets, made positions only for the few a finding names.
            yield Fact(rule_id=self.id, kind="queries", path=file.path, span=_FILE_START, data=data)
        elif data.get("soft_deletes") or data.get("raw_deletes"):
            # Client hooks or raw SQL alone do not tell whether the code queries the schema (`code_seen`).
            yield Fact(rule_id=self.id, kind="client-hooks", path=file.path, span=_FILE_START, data=data)

    def _list_query(self, call: Node, file: FileContext) -> Iterator[Fact]:
        shape = list_query(call)
        # A paged list is one expected to outgrow sorting in memory; an unpaged one returns every row anyway.
        if shape is None or shape.open_where or not shape.paginated:
            return
        yield file.fact(
            self,
            "list-query",
            call,
            model=shape.model,
            equal=list(shape.equal_fields),
            null=list(shape.null_fields),
            order=shape.order_field,
        )

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        schemas = project_schemas(project)
        usages = _usages(project, self, schemas)
        # No Prisma query anywhere in the run (a schema linted without its code): usage cannot be told.
        code_seen = any(True for _ in facts_of(project, self, "queries"))
        for schema in schemas:
            if _foreign_keys_unindexed(schema):
                yield from self._unindexed_foreign_keys(project, schema, usages[schema.root], code_seen)
        yield from self._unserved_list_queries(project, schemas, usages)

    def _unindexed_foreign_keys(
        self, project: ProjectIndex, schema: PrismaSchema, usage: "_Usage", code_seen: bool
    ) -> Iterator[Finding]:
        database = DATABASE_NAMES.get(schema.datasource.provider or "", "This database")
        if schema.datasource.provider == "mysql":
            database = 'MySQL with `relationMode = "prisma"`'
        for model in schema.source_models():
            if is_ignored(model.block):
                continue
            indexes = _indexes(project, model.block)
            # Relations whose keys start with the same field share one finding: one index serves them all.
            by_first_field: dict[str, list[tuple[Field, tuple[str, ...]]]] = defaultdict(list)
            for relation, scalars in relation_fields(model.block):
                if not _leads_an_index(scalars, indexes) and not _served_by_selective_member(
                    schema, model, relation, scalars, indexes
                ):
                    by_first_field[scalars[0]].append((relation, scalars))
            for first, relations in by_first_field.items():
                use = usage.first_use(model.name, [relation for relation, _ in relations])
                if use is None and code_seen and not self.options.for_all_relations:
                    continue
                yield self._unindexed(project, model, first, relations, database, use, code_seen)

    def _unindexed(
        self,
        project: ProjectIndex,
        model: Model,
        first: str,
        relations: list[tuple[Field, tuple[str, ...]]],
        database: str,
        use: Use | None,
        code_seen: bool,
    ) -> Finding:
        widest = max((scalars for _, scalars in relations), key=len)
        names = " and ".join(f"`{relation.name}`" for relation, _ in relations)
        plural = "s" if len(relations) > 1 else ""
        key = f"`{model.name}.{first}`" + (f" (with {', '.join(f'`{s}`' for s in widest[1:])})" if widest[1:] else "")
        index = f"`@@index([{', '.join(widest)}])`"
        relation = relations[0][0]
        anchor = model.block.field(first) or relation
        related = [
            project.location(model.path, r.start, r.end, f"relation `{r.name}`")
            for r, _ in relations
            if r is not anchor
        ]
        if use is None and not code_seen:
            message = (
                f"{key} is the foreign key of relation{plural} {names} but no index starts with it, and {database} "
                f"does not index foreign keys by itself: every lookup by it, read of the relation from the parent's "
                f"side and delete of a parent reads the whole table; add {index} to `{model.name}` (no code "
                f"querying the schema was linted, so whether a query uses the key could not be checked)."
            )
            return self.finding(project.location(model.path, anchor.start, anchor.end), message, related=related)
        if use is None:
            message = (
                f"{key} is the foreign key of relation{plural} {names} and no index starts with it ({database} "
                f"does not index foreign keys by itself); no query of the project filters or sorts by it, reads the "
                f"relation from the parent's side or deletes parent rows yet, so it costs nothing today: add "
                f"{index} to `{model.name}` before one does."
            )
            return self.finding(
                project.location(model.path, anchor.start, anchor.end), message, related=related, level=Level.NOTE
            )
        location = _site_location(project, use.site)
        where = f"{location.path}:{location.span.start_line}"
        consequence = _CONSEQUENCES[use.kind].format(child=model.name)
        message = (
            f"{key} is the foreign key of relation{plural} {names} but no index starts with it, and {database} "
            f"does not index foreign keys by itself: the code {use.detail} ({where}){consequence}; "
            f"add {index} to `{model.name}`."
        )
        related.append(location.model_copy(update={"message": "uses the key here"}))
        return self.finding(project.location(model.path, anchor.start, anchor.end), message, related=related)

    def _unserved_list_queries(
        self, project: ProjectIndex, schemas: list[PrismaSchema], usages: dict[str, "_Usage"]
    ) -> Iterator[Finding]:
        models_by_accessor: dict[str, list[tuple[PrismaSchema, Model]]] = defaultdict(list)
        for schema in schemas:
            if schema.datasource.provider not in SQL_PROVIDERS:
                continue
            for model in schema.source_models():
                models_by_accessor[model.name[:1].lower() + model.name[1:]].append((schema, model))
        for fact in facts_of(project, self, "list-query"):
            found = _model_for(project, fact.path, models_by_accessor.get(fact.data["model"], []))
            if found is None:
                continue
            schema, model = found
            indexes = _indexes(project, model.block) + _implicit_foreign_key_indexes(schema, model.block)
            missing = _missing_sort_index(
                schema, model, indexes, fact.data["equal"], fact.data["null"], fact.data["order"]
            )
            if missing is None:
                continue
            if _indexed_filter(indexes, missing[:-1]) and not _grows_with_use(model.name):
                continue  # one parent's rows, found by an index: few, unless the table logs what happens
            columns = ", ".join(missing)
            filtered = ", ".join(f"`{name}`" for name in missing[:-1])
            message = (
                f"This `findMany()` filters `{model.name}` on {filtered} and sorts by `{missing[-1]}`, but no index "
                f"starts with ({columns}), so the database reads every matching row and sorts them on each call; "
                f"add `@@index([{columns}])` to `{model.name}` in {model.path}."
            )
            block = model.block
            related = [project.location(model.path, block.name_start, block.name_end, f"model `{model.name}`")]
            yield self.finding(fact.location(), message, related=related, level=Level.NOTE)


class _Usage:
    """How the code of the project uses the foreign keys of one schema."""

    def __init__(self, schema: PrismaSchema) -> None:
        self.relations = SchemaRelations.of(schema)
        self.collector = UsageCollector(self.relations)
        self._uses: dict[Relation, Use] | None = None

    def add(self, model: str, query: PrismaQuery, site: Site) -> None:
        self.collector.add_query(model, query, site)

    def first_use(self, model: str, fields: list[Field]) -> Use | None:
        if self._uses is None:
            self._uses = self.collector.finish()
        found = [
            use for relation, use in self._uses.items()
            if relation.child == model and any(relation.field is f or relation.field.name == f.name for f in fields)
        ]  # fmt: skip
        return min(found, key=lambda use: (KINDS.index(use.kind), use.site.path, use.site.start), default=None)


def _usages(project: ProjectIndex, rule: Rule, schemas: list[PrismaSchema]) -> dict[str, _Usage]:
    from linter.rules.prisma._sql_indexes import column_names, table_name  # here: only the project check reads SQL

    usages = {schema.root: _Usage(schema) for schema in schemas}
    by_accessor: dict[str, list[PrismaSchema]] = defaultdict(list)
    by_name: dict[str, list[PrismaSchema]] = defaultdict(list)
    for schema in schemas:
        for model in schema.source_models():
            by_accessor[model.name[:1].lower() + model.name[1:]].append(schema)
            by_name[model.name].append(schema)
    facts = [*facts_of(project, rule, "queries"), *facts_of(project, rule, "client-hooks")]
    all_schemas = list({id(schema): schema for schema in schemas}.values())
    for fact in facts:
        # A client hook applies to the schemas its module would run queries against, before any query is read.
        soft = [entry for entry in fact.data.get("soft_deletes", ()) if isinstance(entry, dict)]
        if soft:
            for schema in _schemas_for(project, fact.path, all_schemas):
                usages[schema.root].collector.soft_deletes.extend(soft)
    by_table: dict[str, list[tuple[PrismaSchema, Model]]] = defaultdict(list)
    for schema in schemas:
        for model in schema.source_models():
            by_table[table_name(model.block).lower()].append((schema, model))
    for fact in facts:
        for record in fact.data.get("raw_deletes", ()):
            try:
                start, end, table, column = record
                found = by_table.get(str(table).lower(), [])
            except (TypeError, ValueError):
                continue
            for schema in _schemas_for(project, fact.path, [schema for schema, _ in found]):
                for owner, model in found:
                    if owner is schema:
                        field_name = column_names(model.block).get(column.lower()) if isinstance(column, str) else None
                        usages[schema.root].collector.add_raw_delete(model.name, field_name, Site(fact.path, start, end))
        for record in fact.data.get("queries", ()):
            try:
                start, end, data = record
                query = PrismaQuery.from_data(data)
            except (KeyError, TypeError, ValueError):
                continue
            candidates = (by_name if query.typed else by_accessor).get(query.model, [])
            for schema in _schemas_for(project, fact.path, candidates):
                usage = usages[schema.root]
                model = query.model if query.typed else usage.relations.accessors.get(query.model)
                if model is not None:
                    usage.add(model, query, Site(fact.path, start, end))
    for schema in schemas:
        for path, start, end, provider in generated_resolver_generators(schema):
            usages[schema.root].collector.add_generated_resolvers(Site(path, start, end), provider)
    return usages


def _is_seed_script(file: FileContext) -> bool:
    folder, name = posixpath.split(file.path)
    if not _SEED_SCRIPT_NAME.match(name):
        return False
    return posixpath.basename(folder) in _SEED_FOLDERS or any(package.dir == folder for package in file.packages)


def _site_location(project: ProjectIndex, site: Site) -> Location:
    """The position of a query (in a source file) or of a schema's generator block (a project file)."""
    if site.path in project.other_files:
        return project.location(site.path, site.start, site.end)
    lines = project.memo(("prisma.query-lines", site.path), lambda: LineIndex(project.read_js_source(site.path) or b""))
    return Location(path=site.path, span=lines.span(site.start, site.end))


def _schemas_for(project: ProjectIndex, path: str, candidates: list[PrismaSchema]) -> list[PrismaSchema]:
    """The schemas a query of `path` may run against: the only one with the model, else those of the query's
    package, else those nearest to it in the folder tree."""
    unique = list({id(schema): schema for schema in candidates}.values())
    if len(unique) <= 1:
        return unique
    package = project.package_of(path)
    same = [s for s in unique if package is not None and project.package_of(s.root) == package]
    if same:
        return same
    depth = {id(s): _common_depth(path, s.root) for s in unique}
    nearest = max(depth.values())
    return [s for s in unique if depth[id(s)] == nearest]


def _common_depth(a: str, b: str) -> int:
    depth = 0
    for x, y in zip(a.split("/")[:-1], b.split("/")[:-1]):
        if x != y:
            break
        depth += 1
    return depth


def _foreign_keys_unindexed(schema: PrismaSchema) -> bool:
    provider = schema.datasource.provider
    if provider in UNINDEXED_FOREIGN_KEY_PROVIDERS:
        return True
    return provider == "mysql" and schema.datasource.relation_mode == "prisma"


def _leads_an_index(scalars: tuple[str, ...], indexes: list[tuple[str, ...]]) -> bool:
    """The foreign key fields are the first fields of some index, in any order among themselves."""
    wanted = set(scalars)
    return any(len(index) >= len(scalars) and set(index[: len(scalars)]) == wanted for index in indexes)


def _served_by_selective_member(
    schema: PrismaSchema, model: Model, relation: Field, scalars: tuple[str, ...], indexes: list[tuple[str, ...]]
) -> bool:
    """A composite key one of whose fields references a unique field of the parent on its own, and some index
    starts with that field: `(accountId, userId) -> Account(id, userId)` with `@@index([accountId])`. The
    field alone finds the parent's rows, so that index serves every lookup through the key."""
    if len(scalars) < 2:
        return False
    attribute = relation.attribute("relation")
    references = attribute.argument("references") if attribute is not None else None
    parent = schema.model(relation.type)
    if references is None or parent is None or len(references.names()) != len(scalars):
        return False
    unique = unique_field_sets(parent.block)
    leading = {index[0] for index in indexes}
    return any(
        (frozenset((referenced,)) in unique or _generated_identifier(parent.block, referenced)) and scalar in leading
        for scalar, referenced in zip(scalars, references.names())
    )


def _generated_identifier(block: Block, name: str) -> bool:
    """`id String @default(uuid())`: a column filled with fresh identifiers is unique in practice, even when
    only a composite key (`@@id([id, userId])`) declares it."""
    found = block.field(name)
    default = found.attribute("default") if found is not None else None
    value = default.argument(None, 0) if default is not None else None
    return value is not None and value.kind == "call" and value.text in GENERATED_IDENTIFIERS


def _grows_with_use(model: str) -> bool:
    """`ChatMessage`, `MonitorEvent`, `datasetRuns`, `audit_log`: the model's last word names an event."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", model)
    last = words[-1].lower() if words else ""
    singular = {last, last[:-1] if last.endswith("s") else last, last[:-3] + "y" if last.endswith("ies") else last}
    return bool(GROWING_TABLE_WORDS & singular)


def _implicit_foreign_key_indexes(schema: PrismaSchema, model: Block) -> list[tuple[str, ...]]:
    """The indexes MySQL gives the model's foreign keys by itself (InnoDB needs one per constraint), unless
    Prisma emulates the relations (`relationMode = "prisma"`) and no constraint exists."""
    if schema.datasource.provider != "mysql" or _foreign_keys_unindexed(schema):
        return []
    return [scalars for _, scalars in relation_fields(model)]


def _indexed_filter(indexes: list[tuple[str, ...]], filtered: tuple[str, ...]) -> bool:
    """Some index starts with one of the filtered fields: the query reads one parent's rows, not the table."""
    return any(index[0] in filtered for index in indexes)


def _indexes(project: ProjectIndex, model: Block) -> list[tuple[str, ...]]:
    """The field lists of the model's indexes: those the schema declares, then those the repository's SQL files
    create on its table (leading columns that are fields of the model, as field names)."""
    from linter.rules.prisma._sql_indexes import column_names, sql_indexes, table_name

    lists = key_field_lists(model)
    created = sql_indexes(project).get(table_name(model))
    if created:
        columns = column_names(model)
        for index in created:
            fields = []
            for column in index:
                if column not in columns:
                    break
                fields.append(columns[column])
            if fields:
                lists.append(tuple(fields))
    return lists


def _model_for(
    project: ProjectIndex, path: str, candidates: list[tuple[PrismaSchema, Model]]
) -> tuple[PrismaSchema, Model] | None:
    """The schema model a query of `path` reads: the only one with that name, else the one of the same package."""
    if len(candidates) == 1:
        return candidates[0]
    package = project.package_of(path)
    same_package = [c for c in candidates if package is not None and project.package_of(c[0].root) == package]
    return same_package[0] if len(same_package) == 1 else None


def _missing_sort_index(
    schema: PrismaSchema, model: Model, indexes: list[tuple[str, ...]], equal: list[str], null: list[str], order: str
) -> tuple[str, ...] | None:
    """The index the query needs, (filtered fields..., sorted field), when the model has none that serves it;
    None when one does, when the filter pins one row, or when it lists no parent's children (no foreign key
    compared to a value: `programId: null` finds orphans, not children)."""
    block = model.block
    scalar_names = {f.name for f in block.fields if f.type not in schema.model_names}
    foreign_keys = {name for _, scalars in relation_fields(block) for name in scalars}
    # Foreign keys first: the index the rule suggests should also serve the relation.
    equal_fields = sorted(
        (name for name in equal if name in scalar_names and name != order), key=lambda name: name not in foreign_keys
    )
    if order not in scalar_names or not foreign_keys & (set(equal_fields) - set(null)):
        return None
    if any(unique <= set(equal_fields) for unique in unique_field_sets(block)):
        return None  # one row at most: nothing to sort
    for index in indexes:
        if order not in index[1:]:
            continue
        leading = index[: index.index(order, 1)]
        if set(leading) <= set(equal_fields):
            return None
    if schema.datasource.provider == "mysql" and _is_primary_key(block, order):
        # InnoDB secondary indexes end with the primary key: an index on the filter also sorts by `id`.
        if any(index[0] in equal_fields for index in indexes):
            return None
    # `deletedAt: null` filters as the index is read; it need not lead it.
    return (*(name for name in equal_fields if name not in null), order)


def _is_primary_key(block: Block, name: str) -> bool:
    field = block.field(name)
    return field is not None and field.attribute("id") is not None
