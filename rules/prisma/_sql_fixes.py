"""The fix of a SQL injection finding: the same query with its interpolated values sent as parameters.

Offered only when the SQL is a template literal written in the call and every `${…}` in it is a value, so the
rewrite is mechanical: a `${x}` inside a quoted SQL string (`'${x}'`, `'%${x}%'`) becomes one parameter (the
quotes go; `'%${x}%'` becomes the parameter `` `%${x}%` ``), and an unquoted one after a comparison, `LIKE`,
`LIMIT` or `OFFSET` (`id = ${id}`) becomes a parameter as it is. Any other `${…}` (a column or table name, a
list for `IN (…)`, a fragment of SQL) cannot be a parameter: then there is no fix, and the message says what
to do. The fix is never safe: a value the query compared as text or number now arrives as a typed parameter,
which the database may compare differently or refuse.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.fixes import replace_node
from linter.js.expressions import arguments_of, unwrap
from linter.model import Fix
from linter.syntax import Node, text

from ._sql_sinks import SqlSink

if TYPE_CHECKING:
    from linter.context import FileContext

# What may come right before an unquoted `${…}` that is a value.
_VALUE_BEFORE = lazy_re.compile(r"(=|<|>|\b(like|ilike|limit|offset))\s*$", re.IGNORECASE)
_IN_LIST_BEFORE = lazy_re.compile(r"\bin\s*\(\s*$", re.IGNORECASE)
_TAGGED = {"$queryRawUnsafe": "$queryRaw", "$executeRawUnsafe": "$executeRaw"}


def sql_fix(sink: SqlSink, file: "FileContext") -> tuple[Fix, ...]:
    template = unwrap(sink.sql)
    if template is None or template.type != "template_string" or len(arguments_of(sink.call)) != 1:
        return ()
    if sink.call.child_by_field_name("type_arguments") is not None:
        return ()  # a tagged template with type arguments is TypeScript the grammar reads as an error
    style = "tagged" if sink.kind in ("prisma-unsafe", "prisma-raw") else "dollar" if sink.kind == "pg" else "question"
    rewritten = _parameterized(template, style)
    if rewritten is None:
        return ()
    sql, values = rewritten
    if sink.kind == "prisma-unsafe":
        receiver = sink.call.child_by_field_name("function").child_by_field_name("object")
        replacement = f"{text(receiver)}.{_TAGGED[text(sink.anchor)]}{sql}"
        description = f"Send the values as parameters with the `{_TAGGED[text(sink.anchor)]}` tagged template"
        return (Fix(description=description, edits=(replace_node(file, sink.call, replacement),), safe=False),)
    if sink.kind == "prisma-raw":
        replacement = f"{text(sink.call.child_by_field_name('function').child_by_field_name('object'))}.sql{sql}"
        return (Fix(description="Send the values as parameters with `Prisma.sql`", edits=(replace_node(file, sink.call, replacement),), safe=False),)
    listed = f"[{', '.join(values)}]"
    extra = f"{{ replacements: {listed} }}" if sink.kind == "sequelize" else listed
    description = "Send the values as parameters with placeholders"
    return (Fix(description=description, edits=(replace_node(file, sink.sql, f"{sql}, {extra}"),), safe=False),)


def _segments(template: Node) -> list[tuple[str, str | Node]] | None:
    """The template as ("text", raw text) and ("value", expression) pieces; None when an escape puts a quote
    or a backslash into the SQL."""
    pieces: list[tuple[str, str | Node]] = []
    for child in template.children:
        if child.type == "string_fragment":
            pieces.append(("text", text(child)))
        elif child.type == "escape_sequence":
            if any(mark in text(child) for mark in ("'", '"', "\\\\", "`")):
                return None
            pieces.append(("text", text(child)))
        elif child.type == "template_substitution":
            inner = child.named_children[0] if child.named_children else None
            if inner is None:
                return None
            pieces.append(("value", inner))
    return pieces


def _parameterized(template: Node, style: str) -> tuple[str, list[str]] | None:
    """The template with each `${…}` made a parameter, and the parameters' source text; None when one of them
    is not a value."""
    pieces = _segments(template)
    if pieces is None or not any(kind == "value" for kind, _ in pieces):
        return None
    out: list[str] = []  # the new SQL, raw template text
    values: list[str] = []
    quoted: list[tuple[str, str | Node]] | None = None  # the pieces of an open SQL string
    just_closed = False

    def placeholder(value: str) -> str:
        values.append(value)
        if style == "tagged":
            return "${" + value + "}"
        return f"${len(values)}" if style == "dollar" else "?"

    for kind, piece in pieces:
        if kind == "value":
            if quoted is not None:
                quoted.append((kind, piece))
                continue
            before = "".join(out)
            if not _VALUE_BEFORE.search(before) or _IN_LIST_BEFORE.search(before):
                return None
            out.append(placeholder(text(piece)))
            just_closed = False
            continue
        for char in piece:
            if quoted is None:
                if char == "'":
                    quoted = []
                    if just_closed:
                        return None  # `'it''s'`: an escaped quote next to a value is not rewritten
                else:
                    out.append(char)
                    just_closed = False
                continue
            if char != "'":
                quoted.append(("text", char))
                continue
            if not any(k == "value" for k, _ in quoted):
                out.append("'" + "".join(p for _, p in quoted) + "'")  # a string with no value: as it was
                just_closed = True
            else:
                if just_closed or "\\" in "".join(p for k, p in quoted if k == "text"):
                    return None
                out.append(placeholder(_string_value(quoted)))
                just_closed = True
            quoted = None
    if quoted is not None:
        return None
    return "`" + "".join(out) + "`", values


def _string_value(parts: list[tuple[str, str | Node]]) -> str:
    """The JavaScript value of a quoted SQL string made of text and `${…}`: the expression itself, or a
    template literal."""
    if len(parts) == 1:
        return text(parts[0][1])
    return "`" + "".join(p if kind == "text" else "${" + text(p) + "}" for kind, p in parts) + "`"
