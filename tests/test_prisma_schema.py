"""The Prisma schema parser: blocks, fields, attributes and their arguments, comments, recovery from bad input."""

from __future__ import annotations

from linter.rules.prisma._schema_parser import parse_schema
from linter.rules.prisma._project_schemas import key_field_lists, relation_fields, unique_field_sets
from linter.positions import LineIndex

SCHEMA = b'''// The app's schema
datasource db {
  provider     = "postgresql"
  url          = env("DATABASE_URL")
  relationMode = "prisma"
}

generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["fullTextSearch", "views"]
}

/// A lead, imported by a user
model Lead {
  id        String    @id @default(cuid())
  email     String    @db.VarChar(320) // trailing comment
  tags      String[]
  score     Decimal?  @db.Decimal(10, 2)
  search    Unsupported("tsvector")?
  user      User      @relation("Owner", fields: [userId], references: [id], onDelete: Cascade)
  userId    String
  createdAt DateTime  @default(now()) @map("created_at")

  @@unique([email, userId], name: "email_per_user")
  @@index(fields: [userId, createdAt(sort: Desc)], map: "lead_user_created")
  @@index(score)
  @@map("leads")
}

enum Status {
  NEW      @map("new")
  WON
  @@map("status")
}

/* a block
   comment */
view Summary {
  userId String @unique
}
'''


def _block(schema, name):
    return next(b for b in schema.blocks if b.name == name)


def test_blocks_properties_fields_and_attributes():
    schema = parse_schema("schema.prisma", SCHEMA)
    assert schema.problems == []
    assert [(b.kind, b.name) for b in schema.blocks] == [
        ("datasource", "db"),
        ("generator", "client"),
        ("model", "Lead"),
        ("enum", "Status"),
        ("view", "Summary"),
    ]
    datasource = _block(schema, "db")
    assert datasource.property("provider").text == "postgresql"
    url = datasource.property("url")
    assert (url.kind, url.text, url.argument(None, 0).text) == ("call", "env", "DATABASE_URL")
    features = _block(schema, "client").property("previewFeatures")
    assert [item.text for item in features.items] == ["fullTextSearch", "views"]

    lead = _block(schema, "Lead")
    fields = {f.name: f for f in lead.fields}
    assert (fields["tags"].type, fields["tags"].is_list, fields["tags"].optional) == ("String", True, False)
    assert (fields["score"].type, fields["score"].optional) == ("Decimal", True)
    assert fields["search"].type == "Unsupported" and fields["search"].optional
    assert [a.name for a in fields["email"].attributes] == ["db.VarChar"]
    assert fields["score"].attribute("db.Decimal").arguments[1].value.text == "2"
    relation = fields["user"].attribute("relation")
    assert relation.argument("name", 0).text == "Owner"
    assert relation.argument("fields").names() == ("userId",)
    assert relation.argument("onDelete").text == "Cascade"
    assert [a.name for a in lead.attributes] == ["unique", "index", "index", "map"]
    assert [f.name for f in _block(schema, "Status").fields] == ["NEW", "WON"]
    assert [c.text.split()[0] for c in schema.comments] == ["//", "///", "//", "/*"]


def test_index_helpers_read_every_form():
    lead = _block(parse_schema("schema.prisma", SCHEMA), "Lead")
    assert key_field_lists(lead) == [("id",), ("email", "userId"), ("userId", "createdAt"), ("score",)]
    assert unique_field_sets(lead) == [frozenset({"id"}), frozenset({"email", "userId"})]
    assert [(f.name, scalars) for f, scalars in relation_fields(lead)] == [("user", ("userId",))]


def test_positions_are_byte_offsets_of_the_field():
    source = 'model Lead {\n  note String @default("naïve")\n  /* é */ userId String @unique\n}\n'.encode("utf-8")
    schema = parse_schema("s.prisma", source)
    field = schema.blocks[0].fields[1]
    span = LineIndex(source).span(field.start, field.end)
    assert (span.start_line, span.start_column, span.end_column) == (3, 11, 32)


def test_bad_lines_are_skipped_and_reported_and_the_rest_is_read():
    source = b'''model A {
  id String @id
  this is = not a field ]]
  b  String @default("unterminated)
  userId String
}
garbage outside
model B {
  id Int @id
'''
    schema = parse_schema("bad.prisma", source)
    assert [b.name for b in schema.blocks] == ["A", "B"]
    assert [f.name for f in schema.blocks[0].fields] == ["id", "userId"]
    assert len(schema.problems) >= 3
    assert any("not closed" in message for _, message in schema.problems)


def test_deep_nesting_is_a_problem_not_a_crash():
    source = b"model A {\n  id String @default(" + b"[" * 5000 + b"]" * 5000 + b")\n}\n"
    schema = parse_schema("deep.prisma", source)
    assert schema.blocks[0].name == "A" and schema.problems


def test_empty_and_binary_input():
    assert parse_schema("e.prisma", b"").blocks == []
    assert parse_schema("b.prisma", b"\xff\xfe{{{").blocks == []
