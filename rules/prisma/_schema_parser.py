"""A small parser for Prisma schema files: blocks, fields, attributes with their arguments, comments.

There is no tree-sitter grammar for the schema language on PyPI, and rules need little of it: which models
have which fields, relations and indexes, and what the datasource says. The parser never raises on bad input:
it skips to the end of a line it cannot read, records a problem, and goes on (a schema being edited is often
invalid). Positions are byte offsets into the file, for `LineIndex`.

    datasource db { provider = "postgresql"  url = env("DATABASE_URL") }
    model Lead {
      id     String @id @default(cuid())
      user   User   @relation(fields: [userId], references: [id])
      userId String
      @@index([userId, createdAt(sort: Desc)])
    }
"""

from __future__ import annotations

import re
from dataclasses import field

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

BLOCK_KEYWORDS = frozenset({"model", "view", "type", "enum", "datasource", "generator"})
MAX_NESTING = 16

_TOKEN = lazy_re.compile(
    rb"(?P<newline>\r\n|\r|\n)"
    rb"|(?P<space>[ \t\f\v]+)"
    rb"|(?P<comment>//[^\r\n]*|/\*.*?(?:\*/|$))"
    rb'|(?P<string>"(?:\\.|[^"\\\r\n])*"?)'
    rb"|(?P<number>-?\d+(?:\.\d+)?)"
    rb"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    rb"|(?P<punct>@@|[@{}()\[\],:=?.!])"
    rb"|(?P<other>.)",
    re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str  # newline, comment, string, number, name, punct, other, end
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Comment:
    text: str  # with its leading slashes
    start: int
    end: int


@dataclass(frozen=True)
class Value:
    """An expression: a string, a number, a name (`Cascade`, `db.VarChar`), a call (`env("X")`,
    `createdAt(sort: Desc)`) or an array."""

    kind: str  # string, number, name, call, array
    text: str  # the string's content, the number, or the (dotted) name of a name or call
    start: int
    end: int
    items: tuple["Value", ...] = ()
    arguments: tuple["Argument", ...] = ()

    def names(self) -> tuple[str, ...]:
        """The field names an attribute argument lists: `[a, b(sort: Desc)]` → (a, b); `a` → (a,)."""
        if self.kind == "array":
            return tuple(item.text for item in self.items if item.kind in ("name", "call"))
        if self.kind in ("name", "call"):
            return (self.text,)
        return ()

    def argument(self, name: str | None, position: int | None = None) -> "Value | None":
        return _find_argument(self.arguments, name, position)


@dataclass(frozen=True)
class Argument:
    name: str | None  # None for a positional argument
    value: Value


@dataclass(frozen=True)
class Attribute:
    """`@id`, `@db.VarChar(255)`, `@relation(...)` on a field, or `@@index(...)` on a block (`name` without `@`)."""

    name: str
    arguments: tuple[Argument, ...]
    start: int
    end: int

    def argument(self, name: str | None, position: int | None = None) -> Value | None:
        """The argument called `name`, else the positional one at `position` (Prisma allows either form)."""
        return _find_argument(self.arguments, name, position)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    optional: bool
    is_list: bool
    attributes: tuple[Attribute, ...]
    start: int  # the field's name
    end: int  # its last token

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class Property:
    """`key = value` in a datasource or generator block."""

    key: str
    value: Value
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    kind: str  # model, view, type, enum, datasource, generator
    name: str
    start: int
    end: int
    name_start: int
    name_end: int
    fields: tuple[Field, ...] = ()  # models, views, composite types; enum values have type ""
    attributes: tuple[Attribute, ...] = ()  # `@@...` block attributes
    properties: tuple[Property, ...] = ()  # datasource and generator settings

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def property(self, key: str) -> Value | None:
        return next((p.value for p in self.properties if p.key == key), None)


@dataclass
class SchemaFile:
    path: str
    blocks: list[Block] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (byte offset, what is wrong)

    def blocks_of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]


def parse_schema(path: str, source: bytes) -> SchemaFile:
    """Parse one `.prisma` file; never raises on bad input (see `SchemaFile.problems`)."""
    schema = SchemaFile(path=path)
    tokens = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        token = Token(kind, match.group().decode("utf-8", "replace"), match.start(), match.end())
        if kind == "comment":
            schema.comments.append(Comment(token.text, token.start, token.end))
            continue
        tokens.append(token)
    tokens.append(Token("end", "", len(source), len(source)))
    _Parser(tokens, schema).parse()
    return schema


class _ParseError(Exception):
    def __init__(self, token: Token, message: str) -> None:
        super().__init__(message)
        self.token = token


class _Parser:
    def __init__(self, tokens: list[Token], schema: SchemaFile) -> None:
        self.tokens = tokens
        self.index = 0
        self.schema = schema

    # -- token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, text: str) -> bool:
        token = self.current
        return token.kind in ("punct", "name") and token.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise _ParseError(self.current, f"expected `{text}`")
        return self.advance()

    def expect_name(self) -> Token:
        if self.current.kind != "name":
            raise _ParseError(self.current, "expected a name")
        return self.advance()

    def skip_newlines(self) -> None:
        while self.current.kind == "newline":
            self.advance()

    def skip_line(self) -> None:
        while self.current.kind not in ("newline", "end") and not self.at("}"):
            self.advance()

    def problem(self, error: _ParseError) -> None:
        self.schema.problems.append((error.token.start, str(error)))

    # -- grammar
    def parse(self) -> None:
        while True:
            self.skip_newlines()
            token = self.current
            if token.kind == "end":
                return
            if token.kind == "name" and token.text in BLOCK_KEYWORDS:
                self.block()
                continue
            self.problem(_ParseError(token, f"unexpected `{token.text}` outside a block"))
            self.advance()
            self.skip_line()

    def block(self) -> None:
        keyword = self.advance()
        try:
            name = self.expect_name()
            self.skip_newlines()
            self.expect("{")
        except _ParseError as error:
            self.problem(error)
            self.skip_line()
            return
        fields: list[Field] = []
        attributes: list[Attribute] = []
        properties: list[Property] = []
        while True:
            self.skip_newlines()
            token = self.current
            if token.kind == "end":
                self.problem(_ParseError(token, f"`{keyword.text} {name.text}` is not closed"))
                end = token.start
                break
            if self.at("}"):
                end = self.advance().end
                break
            try:
                if keyword.text in ("datasource", "generator"):
                    item, into = self.property(), properties
                elif self.at("@@"):
                    item, into = self.attribute(), attributes
                else:
                    item, into = self.field(enum=keyword.text == "enum"), fields
                if self.current.kind not in ("newline", "end") and not self.at("}"):
                    raise _ParseError(self.current, f"unexpected `{self.current.text}`")
                into.append(item)
            except _ParseError as error:
                self.problem(error)
                self.skip_line()
        self.schema.blocks.append(
            Block(
                kind=keyword.text,
                name=name.text,
                start=keyword.start,
                end=end,
                name_start=name.start,
                name_end=name.end,
                fields=tuple(fields),
                attributes=tuple(attributes),
                properties=tuple(properties),
            )
        )

    def property(self) -> Property:
        key = self.expect_name()
        self.expect("=")
        value = self.value(0)
        return Property(key.text, value, key.start, value.end)

    def field(self, enum: bool) -> Field:
        name = self.expect_name()
        type_name, optional, is_list, end = "", False, False, name.end
        if not enum:
            type_token = self.expect_name()
            type_name, end = type_token.text, type_token.end
            if self.at("("):  # Unsupported("tsvector")
                _, end = self.arguments(0)
            if self.at("["):
                self.advance()
                end = self.expect("]").end
                is_list = True
            if self.at("?") or self.at("!"):
                optional = self.current.text == "?"
                end = self.advance().end
        attributes = []
        while self.at("@"):
            attribute = self.attribute()
            attributes.append(attribute)
            end = attribute.end
        return Field(name.text, type_name, optional, is_list, tuple(attributes), name.start, end)

    def attribute(self) -> Attribute:
        marker = self.advance()  # `@` or `@@`
        name, end = self.dotted_name()
        arguments: tuple[Argument, ...] = ()
        if self.at("("):
            arguments, end = self.arguments(0)
        return Attribute(name, arguments, marker.start, end)

    def dotted_name(self) -> tuple[str, int]:
        first = self.expect_name()
        parts, end = [first.text], first.end
        while self.at(".") and self.tokens[self.index + 1].kind == "name":
            self.advance()
            token = self.advance()
            parts.append(token.text)
            end = token.end
        return ".".join(parts), end

    def arguments(self, depth: int) -> tuple[tuple[Argument, ...], int]:
        self.expect("(")
        arguments = []
        while True:
            self.skip_newlines()
            if self.at(")"):
                return tuple(arguments), self.advance().end
            name = None
            if self.current.kind == "name" and self.tokens[self.index + 1].text == ":":
                name = self.advance().text
                self.advance()
            arguments.append(Argument(name, self.value(depth + 1)))
            self.skip_newlines()
            if self.at(","):
                self.advance()
            elif not self.at(")"):
                raise _ParseError(self.current, "expected `,` or `)`")

    def value(self, depth: int) -> Value:
        if depth > MAX_NESTING:
            raise _ParseError(self.current, "nested too deeply")
        token = self.current
        if token.kind == "string":
            self.advance()
            if len(token.text) < 2 or not token.text.endswith('"'):
                raise _ParseError(token, "unterminated string")
            return Value("string", _unquote(token.text), token.start, token.end)
        if token.kind == "number":
            self.advance()
            return Value("number", token.text, token.start, token.end)
        if token.kind == "name":
            name, end = self.dotted_name()
            if self.at("("):
                arguments, end = self.arguments(depth)
                return Value("call", name, token.start, end, arguments=arguments)
            return Value("name", name, token.start, end)
        if self.at("["):
            return self.array(depth)
        raise _ParseError(token, f"unexpected `{token.text}`")

    def array(self, depth: int) -> Value:
        start = self.expect("[").start
        items = []
        while True:
            self.skip_newlines()
            if self.at("]"):
                return Value("array", "", start, self.advance().end, items=tuple(items))
            items.append(self.value(depth + 1))
            self.skip_newlines()
            if self.at(","):
                self.advance()
            elif not self.at("]"):
                raise _ParseError(self.current, "expected `,` or `]`")


def _find_argument(arguments: tuple[Argument, ...], name: str | None, position: int | None) -> Value | None:
    for argument in arguments:
        if name is not None and argument.name == name:
            return argument.value
    if position is not None:
        positional = [a.value for a in arguments if a.name is None]
        if position < len(positional):
            return positional[position]
    return None


_ESCAPE = lazy_re.compile(r"\\(.)")


def _unquote(literal: str) -> str:
    return _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), literal[1:-1])
