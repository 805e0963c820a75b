"""A relation's foreign key has no index, or a list query filters on it and sorts by a field no index covers.

## Why is this bad?
PostgreSQL, SQLite, SQL Server and CockroachDB do not index a foreign key by themselves, and Prisma does not
add one: `userId` in `user User @relation(fields: [userId], references: [id])` is a plain column. Every
`findMany({ where: { userId } })`, every `include` of the relation from the other side and every cascading
delete of a user then reads the whole table. It is fast while the table is small and gets slower with every
row, until the busiest list endpoint times out. MySQL indexes foreign keys itself, but not with
`relationMode = "prisma"` (PlanetScale), where Prisma emulates relations without foreign keys.

The rule reports, at its line, a relation scalar field that is not the first field of an `@@index`,
`@@unique`, `@@id`, `@id` or `@unique` of its model (for a composite key, the fields must lead an index
together). It reads every `.prisma` file: single-file schemas and multi-file schemas (`prisma/schema/*.prisma`)
alike, taking the provider from the `datasource` block.

As a note, it also reports a list query of the code that filters on a foreign key and sorts by another field,
`findMany({ where: { userId }, orderBy: { createdAt: 'desc' } })`, when no index of the model starts with
the filtered fields followed by the sorted one (`@@index([userId, createdAt])`): with only `@@index([userId])`
the database still reads all of the user's rows and sorts them on every request.

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

## References
- Prisma docs: Relation mode, indexes — https://www.prisma.io/docs/orm/prisma-schema/data-model/relations/relation-mode#indexes
- Prisma docs: Indexes — https://www.prisma.io/docs/orm/prisma-schema/data-model/indexes
- PostgreSQL docs: Foreign keys ("a declaration of a foreign key constraint does not automatically create an index on the referencing columns") — https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

import pathspec

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
from linter.model import Finding, Level, Precision
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of

# Databases that index a foreign key only when told to (MySQL does it itself unless relations are emulated).
UNINDEXED_FOREIGN_KEY_PROVIDERS = frozenset({"postgresql", "postgres", "sqlite", "sqlserver", "cockroachdb"})
SQL_PROVIDERS = UNINDEXED_FOREIGN_KEY_PROVIDERS | {"mysql"}
# Seeds, migrations and scripts run once: their queries are not the hot paths an index is for.
_ONE_SHOT_PATHS = pathspec.GitIgnoreSpec.from_lines(
    ["**/scripts/**", "**/script/**", "**/seed.*", "**/seeds/**", "**/seed/**", "**/*.seed.*", "**/migrations/**"]
)
DATABASE_NAMES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "sqlite": "SQLite",
    "sqlserver": "SQL Server",
    "cockroachdb": "CockroachDB",
    "mysql": "MySQL",
}


class MissingRelationIndex(Rule):
    id = "prisma/missing-relation-index"
    name = "MissingRelationIndex"
    level = Level.WARNING
    other_levels = {Level.NOTE: "a list query that filters on a foreign key and sorts by a field no index covers"}
    precision = Precision.HIGH
    tags = ("prisma", "performance", "database")
    needles = (b"findMany",)
    query = """
(call_expression
  function: (member_expression property: (property_identifier) @method (#eq? @method "findMany"))) @call
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test or _ONE_SHOT_PATHS.match_file(file.path):
            return
        shape = list_query(match["call"])
        # A paged list is one expected to outgrow sorting in memory; an unpaged one returns every row anyway.
        if shape is None or shape.open_where or not shape.paginated:
            return
        yield file.fact(
            self,
            "list-query",
            match["call"],
            model=shape.model,
            equal=list(shape.equal_fields),
            null=list(shape.null_fields),
            order=shape.order_field,
        )

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        schemas = project_schemas(project)
        for schema in schemas:
            if _foreign_keys_unindexed(schema):
                yield from self._unindexed_foreign_keys(project, schema)
        yield from self._unserved_list_queries(project, schemas)

    def _unindexed_foreign_keys(self, project: ProjectIndex, schema: PrismaSchema) -> Iterator[Finding]:
        database = DATABASE_NAMES.get(schema.datasource.provider or "", "This database")
        if schema.datasource.provider == "mysql":
            database = 'MySQL with `relationMode = "prisma"`'
        for model in schema.models():
            if is_ignored(model.block):
                continue
            indexes = key_field_lists(model.block)
            # Relations whose keys start with the same field share one finding: one index serves them all.
            by_first_field: dict[str, list[tuple[Field, tuple[str, ...]]]] = defaultdict(list)
            for relation, scalars in relation_fields(model.block):
                if not _leads_an_index(scalars, indexes):
                    by_first_field[scalars[0]].append((relation, scalars))
            for first, relations in by_first_field.items():
                yield self._unindexed(project, model, first, relations, database)

    def _unindexed(
        self,
        project: ProjectIndex,
        model: Model,
        first: str,
        relations: list[tuple[Field, tuple[str, ...]]],
        database: str,
    ) -> Finding:
        widest = max((scalars for _, scalars in relations), key=len)
        names = " and ".join(f"`{relation.name}`" for relation, _ in relations)
        plural = "s" if len(relations) > 1 else ""
        key = f"`{model.name}.{first}`" + (f" (with {', '.join(f'`{s}`' for s in widest[1:])})" if widest[1:] else "")
        message = (
            f"{key} is the foreign key of relation{plural} {names} but no index starts with it, and {database} "
            f"does not index foreign keys by itself: every lookup and cascade through it reads the whole table; "
            f"add `@@index([{', '.join(widest)}])` to `{model.name}`."
        )
        relation = relations[0][0]
        anchor = model.block.field(first) or relation
        related = [
            project.location(model.path, r.start, r.end, f"relation `{r.name}`")
            for r, _ in relations
            if r is not anchor
        ]
        return self.finding(project.location(model.path, anchor.start, anchor.end), message, related=related)

    def _unserved_list_queries(self, project: ProjectIndex, schemas: list[PrismaSchema]) -> Iterator[Finding]:
        models_by_accessor: dict[str, list[tuple[PrismaSchema, Model]]] = defaultdict(list)
        for schema in schemas:
            if schema.datasource.provider not in SQL_PROVIDERS:
                continue
            for model in schema.models():
                models_by_accessor[model.name[:1].lower() + model.name[1:]].append((schema, model))
        for fact in facts_of(project, self, "list-query"):
            found = _model_for(project, fact.path, models_by_accessor.get(fact.data["model"], []))
            if found is None:
                continue
            schema, model = found
            missing = _missing_sort_index(schema, model, fact.data["equal"], fact.data["null"], fact.data["order"])
            if missing is None:
                continue
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


def _foreign_keys_unindexed(schema: PrismaSchema) -> bool:
    provider = schema.datasource.provider
    if provider in UNINDEXED_FOREIGN_KEY_PROVIDERS:
        return True
    return provider == "mysql" and schema.datasource.relation_mode == "prisma"


def _leads_an_index(scalars: tuple[str, ...], indexes: list[tuple[str, ...]]) -> bool:
    """The foreign key fields are the first fields of some index, in any order among themselves."""
    wanted = set(scalars)
    return any(len(index) >= len(scalars) and set(index[: len(scalars)]) == wanted for index in indexes)


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
    schema: PrismaSchema, model: Model, equal: list[str], null: list[str], order: str
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
    for index in key_field_lists(block):
        if order not in index[1:]:
            continue
        leading = index[: index.index(order, 1)]
        if set(leading) <= set(equal_fields):
            return None
    if schema.datasource.provider == "mysql" and _is_primary_key(block, order):
        # InnoDB secondary indexes end with the primary key: an index on the filter also sorts by `id`.
        if any(index[0] in equal_fields for index in key_field_lists(block)):
            return None
    # `deletedAt: null` filters as the index is read; it need not lead it.
    return (*(name for name in equal_fields if name not in null), order)


def _is_primary_key(block: Block, name: str) -> bool:
    field = block.field(name)
    return field is not None and field.attribute("id") is not None
