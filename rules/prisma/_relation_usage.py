"""Which foreign keys of a Prisma schema the code makes the database look up, read from the queries of the
project (`_query_facts.PrismaQuery`) with the schema at hand.

A relation's key is looked up when the code
- filters or sorts its model by the key (`where: { userId }`), through the relation (`where: { user: { id } }`),
  or from the other side (`where: { posts: { some: … } }`), in a query of any model that reaches it;
- reads the relation from the parent's side: `include` / `select` / `_count` of the back-relation, nested at any
  depth, the fluent `findUnique(…).posts()`, a Pothos `t.relation('posts')`, or the resolvers the
  `typegraphql-prisma` generator writes for every relation;
- writes the children through the parent (`data: { posts: { deleteMany: … } }`);
- deletes parent rows (`delete`, or `deleteMany` with a filter: emptying a whole table is the clean-up of a demo
  or a test; or a `DELETE FROM` in raw SQL), directly or through a cascade from a grandparent, or changes the
  parent's referenced key: the database then finds the children by the key to cascade, set null or refuse. A
  delete the project's client turns into an update (`_soft_deletes`) removes no row.

A filter does not count when the same condition pins a unique key of the model (`where: { id, jobId }`: the
primary key finds the row), or the fields an existing index holds before the key (`where: { emailAccountId,
integrationId }` with `@@unique([emailAccountId, integrationId])`: that index serves the lookup).
"""

from __future__ import annotations

from dataclasses import field

from linter.lazy_dataclasses import dataclass
from linter.rules.prisma._project_schemas import (
    Model,
    PrismaSchema,
    key_field_lists,
    relation_fields,
    unique_field_sets,
)
from linter.rules.prisma._query_facts import UNKNOWN, PrismaQuery, Tree
from linter.rules.prisma._schema_parser import Field
from linter.rules.prisma._soft_deletes import SoftDelete, covers

LOGICAL_KEYS = ("AND", "OR", "NOT")
RELATION_FILTERS = ("some", "every", "none", "is", "isNot")
NESTED_KEY_WRITES = frozenset({"deleteMany", "updateMany", "set", "disconnect", "delete", "update", "upsert"})
GRAPHQL_RESOLVER_GENERATORS = frozenset({"typegraphql-prisma"})
# How telling each kind of use is, most first: the evidence a finding names.
KINDS = ("filter", "read", "order", "write", "delete", "key-update", "resolvers")


@dataclass(frozen=True)
class Relation:
    """A relation seen from the model that holds its foreign key."""

    child: str
    field: Field  # `user User @relation(fields: [userId], references: [id])`
    scalars: tuple[str, ...]
    parent: str
    references: tuple[str, ...]
    back: str | None  # the parent's field listing the children (`leads Lead[]`), when there is one
    on_delete: str | None


@dataclass(frozen=True)
class Site:
    """Where a query is written (byte offsets), or a schema's generator block: made a position only when
    a finding names it."""

    path: str
    start: int
    end: int


@dataclass(frozen=True)
class Use:
    kind: str  # one of KINDS
    site: Site
    detail: str  # how it uses the key, for the message: "filters `Lead` by `userId`"


@dataclass
class SchemaRelations:
    schema: PrismaSchema
    models: dict[str, Model]
    relations: list[Relation]
    # (model, field) -> the relation, for both the field holding the key and the parent's back-relation field
    by_field: dict[tuple[str, str], Relation] = field(default_factory=dict)
    accessors: dict[str, str] = field(default_factory=dict)  # `leadItem` -> `LeadItem`
    led_by: dict[tuple[str, str], list[Relation]] = field(default_factory=dict)  # (model, first key field)
    referenced: dict[str, set[str]] = field(default_factory=dict)  # model -> its fields children reference
    indexes: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    unique_sets: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, schema: PrismaSchema) -> "SchemaRelations":
        models = {model.name: model for model in schema.models()}
        relations = []
        for model in models.values():
            for relation_field, scalars in relation_fields(model.block):
                attribute = relation_field.attribute("relation")
                parent = models.get(relation_field.type)
                if attribute is None or parent is None:
                    continue
                references = attribute.argument("references")
                on_delete = attribute.argument("onDelete")
                relations.append(
                    Relation(
                        model.name, relation_field, scalars, parent.name,
                        references.names() if references is not None else (),
                        _back_field(parent, model.name, relation_field),
                        on_delete.text if on_delete is not None else None,
                    )
                )  # fmt: skip
        found = cls(schema, models, relations)
        for relation in relations:
            found.by_field[(relation.child, relation.field.name)] = relation
            if relation.back is not None:
                found.by_field.setdefault((relation.parent, relation.back), relation)
            found.led_by.setdefault((relation.child, relation.scalars[0]), []).append(relation)
            found.referenced.setdefault(relation.parent, set()).update(relation.references)
        found.accessors = {name[:1].lower() + name[1:]: name for name in models}
        for name, model in models.items():
            found.indexes[name] = key_field_lists(model.block)
            found.unique_sets[name] = unique_field_sets(model.block)
        return found


def _relation_name(relation_field: Field) -> str | None:
    attribute = relation_field.attribute("relation")
    if attribute is None:
        return None
    value = attribute.argument("name", 0)
    return value.text if value is not None and value.kind == "string" else None


def _back_field(parent: Model, child: str, relation_field: Field) -> str | None:
    """The field of `parent` that lists (or holds) the children of this relation: same type, same relation name."""
    name = _relation_name(relation_field)
    for candidate in parent.block.fields:
        if candidate.type != child or candidate is relation_field:
            continue
        attribute = candidate.attribute("relation")
        if attribute is not None and attribute.argument("fields") is not None:
            continue  # the other end of another relation between the same models, seen from its key's side
        if _relation_name(candidate) == name:
            return candidate.name
    return None


class UsageCollector:
    """Walks the queries that reach one schema and keeps, per relation, the most telling use."""

    def __init__(self, relations: SchemaRelations) -> None:
        self.schema = relations
        self.soft_deletes: list[SoftDelete] = []  # what the project's client hooks turn into updates
        self.uses: dict[Relation, Use] = {}
        self.deleted: dict[str, Use] = {}  # model -> how its rows get deleted
        self.key_updates: dict[str, tuple[set[str], Use]] = {}  # model -> (fields updated, where)

    def add_query(self, model: str, query: PrismaQuery, site: Site) -> None:
        if query.where is not None:
            self._where(model, query.where, site, top=True)
        self._order(model, query.order_by, site)
        self._reads(model, query.reads, site)
        self._data(model, query.data, site, query.operation)
        if query.operation in ("delete", "deleteMany") and query.where and not self._soft(model, query.operation):
            self.deleted.setdefault(model, Use("delete", site, f"deletes `{model}` rows"))
        if query.operation in ("update", "updateMany", "upsert", "updateManyAndReturn"):
            self._key_update(model, query.data, site)

    def add_raw_delete(self, model: str, key: str | None, site: Site) -> None:
        """`DELETE FROM "Post" WHERE "authorId" IN (…)`: a delete of the model's rows, found by `key` when the
        WHERE starts with a field."""
        self.deleted.setdefault(model, Use("delete", site, f"deletes `{model}` rows in SQL"))
        for relation in self.schema.led_by.get((model, key), ()) if key is not None else ():
            self._use(relation, Use("filter", site, f"deletes `{model}` rows by `{key}` in SQL"))

    def _soft(self, model: str, operation: str) -> bool:
        block = self._model(model)
        if block is None or not self.soft_deletes:
            return False
        fields = {f.name for f in block.block.fields}
        return covers(self.soft_deletes, operation, model[:1].lower() + model[1:], fields)

    def add_generated_resolvers(self, site: Site, generator: str) -> None:
        for relation in self.schema.relations:
            if relation.back is not None:
                detail = (
                    f"has GraphQL resolvers, written by the `{generator}` generator, that read "
                    f"`{relation.parent}.{relation.back}`"
                )
                self._use(relation, Use("resolvers", site, detail))

    def finish(self) -> dict[Relation, Use]:
        """The uses, with deletes and key changes of parent rows (and their cascades) added."""
        deleted = dict(self.deleted)
        pending = list(deleted)
        while pending:
            parent = pending.pop()
            for relation in self.schema.relations:
                if relation.parent == parent and relation.on_delete == "Cascade" and relation.child not in deleted:
                    cause = deleted[parent]
                    detail = f"{cause.detail}, which cascades to `{relation.child}`"
                    deleted[relation.child] = Use("delete", cause.site, detail)
                    pending.append(relation.child)
        for relation in self.schema.relations:
            cause = deleted.get(relation.parent)
            if cause is not None:
                self._use(relation, cause)
            updated = self.key_updates.get(relation.parent)
            if updated is not None and updated[0] & set(relation.references):
                self._use(relation, updated[1])
        return self.uses

    # --- the parts of a query ---

    def _use(self, relation: Relation, use: Use) -> None:
        current = self.uses.get(relation)
        if current is None or _rank(use) < _rank(current):
            self.uses[relation] = use

    def _model(self, name: str) -> Model | None:
        return self.schema.models.get(name)

    def _where(self, model: str, tree: Tree, site: Site, top: bool, equal: set[str] | None = None) -> None:
        block = self._model(model)
        if block is None or not isinstance(tree, dict):
            return
        if equal is None:
            equal = _equal_fields(block, tree)
        pinned = any(unique <= equal for unique in self.schema.unique_sets[model])
        indexes = self.schema.indexes[model]
        for key, sub in tree.items():
            if key == UNKNOWN:
                continue
            if key in LOGICAL_KEYS:
                # Conditions joined by AND share the level's pins; those under OR / NOT stand alone.
                self._where(model, sub, site, top=False, equal=equal if key == "AND" else None)
                continue
            relation = self.schema.by_field.get((model, key))
            if relation is not None:
                inner = _relation_filter_body(sub)
                if not _is_back(relation, model, key):
                    if not pinned and not _served_by_pinned_index(indexes, equal, relation.scalars[0]):
                        self._use(relation, Use("filter", site, f"filters `{model}` through `{key}`"))
                    self._where(relation.parent, inner, site, top=False)
                else:
                    self._use(relation, Use("filter", site, f"filters `{model}` by its `{key}`"))
                    self._where(relation.child, inner, site, top=False)
                continue
            if pinned or _served_by_pinned_index(indexes, equal, key):
                continue
            for relation in self.schema.led_by.get((model, key), ()):
                self._use(relation, Use("filter", site, f"filters `{model}` by `{key}`"))

    def _order(self, model: str, tree: Tree, site: Site) -> None:
        if not isinstance(tree, dict):
            return
        for key, sub in tree.items():
            relation = self.schema.by_field.get((model, key))
            if relation is not None:
                if not _is_back(relation, model, key):
                    self._order(relation.parent, sub, site)
                elif "_count" in sub:
                    self._use(relation, Use("read", site, f"sorts `{model}` by its number of `{key}`"))
                continue
            for relation in self.schema.led_by.get((model, key), ()):
                self._use(relation, Use("order", site, f"sorts `{model}` by `{key}`"))

    def _reads(self, model: str, tree: Tree, site: Site) -> None:
        if not isinstance(tree, dict):
            return
        for key, sub in tree.items():
            if key == "_count":
                counted = sub.get("select", sub) if isinstance(sub, dict) else {}
                for name, inner in counted.items():
                    relation = self.schema.by_field.get((model, name))
                    if relation is not None and _is_back(relation, model, name):
                        self._use(relation, Use("read", site, f"counts the `{name}` of each `{model}`"))
                        if isinstance(inner, dict):
                            self._where(relation.child, inner.get("where", {}), site, top=False)
                continue
            relation = self.schema.by_field.get((model, key))
            if relation is None:
                continue
            if not _is_back(relation, model, key):
                target = relation.parent  # the parent, found by its primary key
            else:
                target = relation.child
                self._use(relation, Use("read", site, f"reads the `{key}` of `{model}` from its side"))
            if isinstance(sub, dict):
                self._reads(target, sub.get("include", {}), site)
                self._reads(target, sub.get("select", {}), site)
                self._where(target, sub.get("where", {}), site, top=False)
                self._order(target, sub.get("orderBy", {}), site)

    def _data(self, model: str, tree: Tree, site: Site, operation: str) -> None:
        if not isinstance(tree, dict):
            return
        for key, sub in tree.items():
            relation = self.schema.by_field.get((model, key))
            if relation is None or not _is_back(relation, model, key) or not isinstance(sub, dict):
                continue
            writes = NESTED_KEY_WRITES.intersection(sub)
            if writes:
                write = sorted(writes)[0]
                self._use(relation, Use("write", site, f"runs `{write}` on the `{key}` of `{model}`"))
                if "delete" in writes or "deleteMany" in writes:
                    self.deleted.setdefault(
                        relation.child, Use("delete", site, f"deletes `{relation.child}` rows through `{model}.{key}`")
                    )

    def _key_update(self, model: str, data: Tree, site: Site) -> None:
        if not isinstance(data, dict):
            return
        changed = self.schema.referenced.get(model, set()).intersection(data)
        if changed:
            names = ", ".join(f"`{name}`" for name in sorted(changed))
            use = Use("key-update", site, f"changes {names} of `{model}` rows, which the children reference")
            current = self.key_updates.setdefault(model, (set(), use))
            current[0].update(changed)


def _rank(use: Use) -> tuple[int, str, int]:
    """The most telling use first, then the first in the project's files."""
    return KINDS.index(use.kind), use.site.path, use.site.start


def _is_back(relation: Relation, model: str, key: str) -> bool:
    """`model.key` is the parent's side of the relation (`posts Post[]`), not the field holding the key."""
    return not (relation.child == model and relation.field.name == key)


def _relation_filter_body(tree: Tree) -> Tree:
    """`{ some: {…} }`, `{ is: {…} }` or the conditions themselves (`author: { id }`)."""
    if not isinstance(tree, dict):
        return {}
    body: Tree = {}
    for key, sub in tree.items():
        if key in RELATION_FILTERS:
            if isinstance(sub, dict):
                body.update(sub)
        else:
            body[key] = sub
    return body


def _equal_fields(model: Model, where: Tree) -> set[str]:
    """The fields the conditions joined by AND compare to one value (a compound unique input included)."""
    equal = set()
    stack = [where]
    while stack:
        level = stack.pop()
        for key, sub in level.items():
            if key == "AND" and isinstance(sub, dict):
                stack.append(sub)
            elif isinstance(sub, dict) and _is_value(sub):
                equal.add(key)
            elif isinstance(sub, dict) and key not in LOGICAL_KEYS and model.block.field(key) is None:
                # a compound unique input: `userId_teamId: { userId, teamId }`
                equal.update(k for k, v in sub.items() if isinstance(v, dict) and _is_value(v))
    return equal


def _is_value(tree: Tree) -> bool:
    """A condition comparing a field to one value: `userId`, `userId: id`, `{ equals: id }`."""
    return not tree or set(tree) <= {UNKNOWN, "equals"}


def _served_by_pinned_index(indexes: list[tuple[str, ...]], equal: set[str], key: str) -> bool:
    """Some index holds `key` after fields the condition pins (`@@unique([emailAccountId, integrationId])` for
    `where: { emailAccountId, integration: {…} }`): the database narrows by those fields through it."""
    for index in indexes:
        if key in index[1:] and set(index[: index.index(key)]) <= equal:
            return True
    return False


def generated_resolver_generators(schema: PrismaSchema) -> list[tuple[str, int, int, str]]:
    """(path, start, end, provider) of each generator of the schema that writes GraphQL resolvers for every
    relation (`typegraphql-prisma`)."""
    found = []
    for schema_file in schema.files:
        for block in schema_file.blocks_of("generator"):
            provider = block.property("provider")
            if provider is not None and provider.kind == "string" and provider.text in GRAPHQL_RESOLVER_GENERATORS:
                found.append((schema_file.path, block.name_start, block.name_end, provider.text))
    return found
