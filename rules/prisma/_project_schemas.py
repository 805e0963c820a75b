"""The Prisma schemas of a project: which `.prisma` files form one schema, what its datasource says, and which
indexes each model has.

A schema is a file with a `datasource` block plus, for multi-file schemas (`prismaSchemaFolder`, Prisma 6.6+),
the `.prisma` files without one in its folder and the folders below it (`prisma/schema/*.prisma`). Several
datasource files in one folder are separate schemas (a repository with one schema per database); a file no
datasource folder holds is left out, since its database is unknown.

Some schema files are written from others, and a finding belongs in the source: the copy `prisma generate`
writes into the client's output folder (the folder a generator's `output` names, or one holding the generated
client), a file whose header says it is generated or not to be edited (merge tools such as prisma-multischema,
migration snapshots), and a file every model of which is defined again in two or more files without a
datasource in its folder or below (a merged schema), and an unused copy of a schema in use (`_schema_use`: a
reference copy under `docs/` that nothing generates or migrates from). They stay in their schema (their models
complete the relations) but are listed in `generated`.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import field
from functools import cached_property

from linter import lazy_re
from linter.files.kinds import PRISMA
from linter.lazy_dataclasses import dataclass
from linter.rules.prisma._schema_parser import Block, Field, SchemaFile, parse_schema
from linter.rules.prisma._schema_use import unused_copies
from linter.project import ProjectIndex

RELATIONAL_PROVIDERS = frozenset({"postgresql", "postgres", "mysql", "sqlite", "sqlserver", "cockroachdb"})
MODEL_KINDS = ("model",)
_GENERATED_HEADER = lazy_re.compile(
    r"do\s+not\s+(edit|modify)|auto-?generated|generated\s+(by|from|with)|this\s+file\s+(is|was)\s+generated", re.I
)
# Files `prisma generate` writes next to its copy of the schema in the client's output folder.
_CLIENT_FILES = ("index-browser.js", "edge.js", "wasm.js", "default.js", "client.ts", "runtime/library.js")


@dataclass(frozen=True)
class Datasource:
    provider: str | None  # as written: "postgresql", "mysql", ...; None when not a plain string
    relation_mode: str | None  # `relationMode` (or the older `referentialIntegrity`), else None
    url_env: str | None  # the variable of `url = env("DATABASE_URL")`
    direct_url_env: str | None  # the variable of `directUrl = env("DIRECT_URL")`
    url_literal: str | None = None  # `url = "file:./dev.db"`: a URL written in the schema itself


@dataclass(frozen=True)
class Model:
    path: str
    block: Block

    @property
    def name(self) -> str:
        return self.block.name


@dataclass
class PrismaSchema:
    root: str  # the file holding the datasource
    files: list[SchemaFile]
    datasource: Datasource
    generated: frozenset[str] = field(default_factory=frozenset)  # files written from other files

    def models(self) -> list[Model]:
        return [Model(f.path, b) for f in self.files for b in f.blocks if b.kind in MODEL_KINDS]

    def source_models(self) -> list[Model]:
        """The models of the files people edit (not of generated copies)."""
        return [m for m in self.models() if m.path not in self.generated]

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models() if m.name == name), None)

    @cached_property
    def model_names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.models())


def project_schemas(project: ProjectIndex) -> list[PrismaSchema]:
    """Every Prisma schema of the project with a datasource, parsed once per run."""
    return project.memo("prisma.schemas", lambda: _load(project))


def _load(project: ProjectIndex) -> list[PrismaSchema]:
    parsed = []
    for path in project.project_files(PRISMA):
        source = project.read_source(path)
        if source is not None:
            parsed.append(project.lasting(path, source, "prisma.schema-file", lambda: parse_schema(path, source)))
    generated = _generated_files(project, parsed)
    roots = {f.path: f for f in parsed if f.blocks_of("datasource")}
    schemas = {path: PrismaSchema(path, [f], _datasource(f), generated) for path, f in roots.items()}
    root_dirs: dict[str, list[str]] = {}
    for path in roots:
        root_dirs.setdefault(posixpath.dirname(path), []).append(path)
    for schema_file in parsed:
        if schema_file.path in roots:
            continue
        owner = _owning_root(posixpath.dirname(schema_file.path), root_dirs)
        if owner is not None:
            schemas[owner].files.append(schema_file)
    found = [schemas[path] for path in sorted(schemas)]
    copies = unused_copies(project, found)
    if copies:
        generated = generated | {f.path for s in found if s.root in copies for f in s.files}
        for schema in found:
            schema.generated = generated
    return found


def _generated_files(project: ProjectIndex, parsed: list[SchemaFile]) -> frozenset[str]:
    output_folders = set()
    for schema_file in parsed:
        for generator in schema_file.blocks_of("generator"):
            output = generator.property("output")
            if output is not None and output.kind == "string" and output.text:
                output_folders.add(posixpath.normpath(posixpath.join(posixpath.dirname(schema_file.path), output.text)))
    known = set(project.files) | set(project.other_files)
    # Where each model is defined by a file without a datasource (a part of a multi-file or merged schema).
    defined_in: dict[str, set[str]] = defaultdict(set)
    for schema_file in parsed:
        if schema_file.blocks_of("datasource"):
            continue
        for block in schema_file.blocks:
            if block.kind in MODEL_KINDS:
                defined_in[block.name].add(schema_file.path)
    generated = set()
    for schema_file in parsed:
        folder = posixpath.dirname(schema_file.path)
        if folder in output_folders or _has_generated_header(schema_file) or _in_client_folder(project, folder, known):
            generated.add(schema_file.path)
            continue
        names = [b.name for b in schema_file.blocks if b.kind in MODEL_KINDS]
        prefix = folder + "/" if folder else ""
        parts = {
            path for name in names for path in defined_in[name] if path != schema_file.path and path.startswith(prefix)
        }
        if names and len(parts) >= 2 and all(defined_in[name] & parts for name in names):
            generated.add(schema_file.path)  # a merge of the parts below it that define its models
    return frozenset(generated)


def _has_generated_header(schema_file: SchemaFile) -> bool:
    """A comment before the first block says the file is generated or not to be edited."""
    first = min((b.start for b in schema_file.blocks), default=None)
    return any(
        _GENERATED_HEADER.search(c.text) for c in schema_file.comments if first is None or c.start < first
    )


def _in_client_folder(project: ProjectIndex, folder: str, known: set[str]) -> bool:
    """The folder holds a generated Prisma client (its package is named `prisma-client-…`, or it has the
    client's entry files)."""
    package = project.packages.get(folder)
    if package is not None and (package.name or "").startswith(("prisma-client-", ".prisma/client")):
        return True
    prefix = folder + "/" if folder else ""
    return sum(prefix + name in known for name in _CLIENT_FILES) >= 2


def _owning_root(folder: str, root_dirs: dict[str, list[str]]) -> str | None:
    while True:
        roots = root_dirs.get(folder)
        if roots:
            return roots[0] if len(roots) == 1 else None
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _datasource(schema_file: SchemaFile) -> Datasource:
    block = schema_file.blocks_of("datasource")[0]
    return Datasource(
        provider=_string(block, "provider"),
        relation_mode=_string(block, "relationMode") or _string(block, "referentialIntegrity"),
        url_env=_env_name(block, "url"),
        direct_url_env=_env_name(block, "directUrl"),
        url_literal=_string(block, "url"),
    )


def _string(block: Block, key: str) -> str | None:
    value = block.property(key)
    return value.text if value is not None and value.kind == "string" else None


def _env_name(block: Block, key: str) -> str | None:
    value = block.property(key)
    if value is None or value.kind != "call" or value.text != "env":
        return None
    name = value.argument(None, 0)
    return name.text if name is not None and name.kind == "string" else None


def key_field_lists(model: Block) -> list[tuple[str, ...]]:
    """The field lists of every index the database keeps for the model, in order: `@id`, `@unique`,
    `@@id`, `@@unique` and `@@index` (not `@@fulltext`, which serves text search only)."""
    lists: list[tuple[str, ...]] = []
    for column in model.fields:
        if column.attribute("id") is not None or column.attribute("unique") is not None:
            lists.append((column.name,))
    for attribute in model.attributes:
        if attribute.name in ("id", "unique", "index"):
            fields = attribute.argument("fields", 0)
            if fields is not None and fields.names():
                lists.append(fields.names())
    return lists


def unique_field_sets(model: Block) -> list[frozenset[str]]:
    """The field sets that identify one row: `@id`, `@unique`, `@@id`, `@@unique`."""
    sets = [frozenset((f.name,)) for f in model.fields if f.attribute("id") or f.attribute("unique")]
    for attribute in model.attributes:
        if attribute.name in ("id", "unique"):
            fields = attribute.argument("fields", 0)
            if fields is not None and fields.names():
                sets.append(frozenset(fields.names()))
    return sets


def relation_fields(model: Block) -> list[tuple[Field, tuple[str, ...]]]:
    """The relation fields that hold the foreign key on this side, with their scalar fields:
    `user User @relation(fields: [userId], references: [id])` → (user, ("userId",))."""
    found = []
    for relation_field in model.fields:
        relation = relation_field.attribute("relation")
        if relation is None:
            continue
        scalars = relation.argument("fields")
        if scalars is not None and scalars.names():
            found.append((relation_field, scalars.names()))
    return found


def is_ignored(model: Block) -> bool:
    """`@@ignore`: the client does not use the model."""
    return model.attribute("ignore") is not None
