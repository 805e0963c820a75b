"""Indexes the repository's SQL files create outside the Prisma schema: hand-written migrations
(`prisma/migrations/*/migration.sql`) and the database dumps local containers start from.

The files are scanned as bytes for `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY]
[schema.]table [USING method] (column, ...)`, in path order (the order migrations run), and a later
`DROP INDEX name` forgets the index of that name. An index is kept with its leading plain columns (an expression
ends the list: `lower(email)` serves no lookup by the column); a partial index (`WHERE ...`) is left out, since it
holds only some of the rows. Nothing is executed. Names compare without case: PostgreSQL folds unquoted names to
lower case, and a schema rarely has two tables whose names differ only in case.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.files.kinds import SQL
from linter.project import ProjectIndex
from linter.rules.prisma._schema_parser import Block

# Enough for every migration a project keeps; a repository beyond it is read up to it.
MAX_SQL_BYTES = 64 * 1024 * 1024
_IDENT = rb'(?:"[^"\n]{1,128}"|`[^`\n]{1,128}`|\[[^\]\n]{1,128}\]|[A-Za-z_][\w$]{0,127})'
_QUALIFIED = rb"(?:" + _IDENT + rb"\s*\.\s*){0,2}" + _IDENT
_CREATE = lazy_re.compile(
    rb"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:(?P<name>"
    + _QUALIFIED
    + rb")\s+)?ON\s+(?:ONLY\s+)?(?P<table>"
    + _QUALIFIED
    + rb")\s*(?:USING\s+\w+\s*)?\(",
    re.I,
)
_DROP = lazy_re.compile(
    rb"\bDROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<names>"
    + _QUALIFIED
    + rb"(?:\s*,\s*"
    + _QUALIFIED
    + rb")*)",
    re.I,
)
_PART = lazy_re.compile(_IDENT)
_QUALIFIED_NAME = lazy_re.compile(_QUALIFIED)
# `"userId"`, `user_id DESC NULLS LAST`, `name text_pattern_ops`: a column; anything else is an expression.
_PLAIN_COLUMN = lazy_re.compile(
    rb"\s*(" + _IDENT + rb")(?:\s+(?:ASC|DESC|NULLS\s+(?:FIRST|LAST)|COLLATE\s+\S+|[a-z_]{1,64}_ops))*\s*$", re.I
)
_PARTIAL = lazy_re.compile(rb"\s*(?:INCLUDE\s*\([^)]*\)\s*)?(?:WITH\s*\([^)]*\)\s*)?(?:TABLESPACE\s+\S+\s*)?WHERE\b", re.I)
_LIST_TOKEN = lazy_re.compile(rb"[(),]")
_MAX_COLUMN_LIST = 2000
# Parentheses and commas read in column lists per run: real migrations spend a few per index.
_MAX_LIST_TOKENS = 2_000_000


def sql_indexes(project: ProjectIndex) -> dict[str, list[tuple[str, ...]]]:
    """Lower-cased table name -> the lower-cased leading columns of each index the SQL files create."""
    return project.memo("prisma.sql-indexes", lambda: _scan(project))


def _scan(project: ProjectIndex) -> dict[str, list[tuple[str, ...]]]:
    by_name: dict[str, tuple[str, tuple[str, ...]]] = {}
    unnamed: list[tuple[str, tuple[str, ...]]] = []
    budget = MAX_SQL_BYTES
    tokens = [_MAX_LIST_TOKENS]
    for path in project.project_files(SQL):
        source = project.read_source(path)
        if source is None:
            continue
        budget -= len(source)
        if budget < 0:
            break
        if b"INDEX" not in source and b"index" not in source and b"Index" not in source:
            continue
        for kind, name, table, columns in _statements(source, tokens):
            if kind == "drop":
                by_name.pop(name, None)
            elif name:
                by_name[name] = (table, columns)
            else:
                unnamed.append((table, columns))
    found: dict[str, list[tuple[str, ...]]] = {}
    for table, columns in [*by_name.values(), *unnamed]:
        found.setdefault(table, []).append(columns)
    return found


def _statements(source: bytes, budget: list[int] | None = None):
    """("create", name, table, columns) and ("drop", name, "", ()) in the order they appear. `budget` holds the
    parentheses and commas the column lists may still cost (shared by the files of a run): a file of nothing
    but `CREATE INDEX … ((((` stops there."""
    budget = budget if budget is not None else [_MAX_LIST_TOKENS]
    events = []
    position = 0
    while budget[0] > 0:
        match = _CREATE.search(source, position)
        if match is None:
            break
        columns, position = _leading_columns(source, match.end(), budget)
        if columns:
            name = _last_part(match.group("name")) if match.group("name") else ""
            events.append((match.start(), "create", name, _last_part(match.group("table")), columns))
    if b"DROP" in source or b"drop" in source:
        for match in _DROP.finditer(source):
            for name in _QUALIFIED_NAME.finditer(match.group("names")):
                events.append((match.start(), "drop", _last_part(name.group()), "", ()))
    events.sort(key=lambda event: event[0])
    return [event[1:] for event in events]


def _leading_columns(source: bytes, start: int, budget: list[int]) -> tuple[tuple[str, ...], int]:
    """The plain columns that open the column list starting at `start` (after its `(`), and where the list
    ends; () for a partial index or an index on an expression first."""
    depth, end = 1, start
    parts, part_start = [], start
    for token in _LIST_TOKEN.finditer(source, start, min(len(source), start + _MAX_COLUMN_LIST)):
        budget[0] -= 1
        char = token.group()
        if char == b"(":
            depth += 1
        elif char == b")":
            depth -= 1
        elif depth == 1:
            parts.append(source[part_start : token.start()])
            part_start = token.end()
        end = token.end()
        if depth == 0 or budget[0] <= 0:
            break
    if depth:
        return (), max(end, start)
    parts.append(source[part_start : end - 1])
    if _PARTIAL.match(source, end):
        return (), end
    columns = []
    for part in parts:
        plain = _PLAIN_COLUMN.match(part)
        if plain is None:
            break
        columns.append(_unquote(plain.group(1)))
    return tuple(columns), end


def _last_part(qualified: bytes) -> str:
    parts = _PART.findall(qualified)
    return _unquote(parts[-1]) if parts else ""


def _unquote(identifier: bytes) -> str:
    if identifier[:1] in (b'"', b"`", b"["):
        identifier = identifier[1:-1]
    return identifier.decode("utf-8", "replace").lower()


def table_name(model: Block) -> str:
    """The table a model is stored in: its `@@map` name, else the model's name."""
    return _mapped(model.attribute("map"), model.name)


def column_names(model: Block) -> dict[str, str]:
    """Lower-cased column name -> field name, for the model's scalar fields (`@map` names the column)."""
    return {_mapped(f.attribute("map"), f.name): f.name for f in model.fields}


def _mapped(attribute, default: str) -> str:
    value = attribute.argument("name", 0) if attribute is not None else None
    name = value.text if value is not None and value.kind == "string" and value.text else default
    return name.lower()
