"""Where a database query gets its page size: the sinks of pagination rules.

A `LimitSink` is the expression that sets how many rows one query returns:

- Prisma `take` in the arguments of `findMany`/`findFirst`/`groupBy`/`aggregate`/`count` (also nested in an
  `include`), TypeORM `take` in `find`/`findAndCount`, Sequelize `limit` in `findAll`/`findAndCountAll`,
  mongoose/MongoDB/MikroORM `limit` in the options of `find`; written in the call or in an arguments object
  built before it (`const args = { take }; prisma.lead.findMany(args)`, `{ ...pagination }`, a same-file
  helper that returns the object);
- a query builder's `.limit(n)` / `.take(n)` (knex, objection, mongoose, drizzle, TypeORM, kysely);
- `LIMIT`, `TOP`, `FETCH FIRST` followed by a `${…}` in SQL built with a template (tagged with `sql`,
  `Prisma.sql`, `$queryRaw`, or plain) or by `+`, or by a placeholder whose value is passed beside the query
  (`$queryRawUnsafe('… LIMIT $1', limit)`, `pool.query('… LIMIT $2', [id, limit])`).
"""

from __future__ import annotations

from linter import lazy_re
from linter.js.bindings import declaration_of, function_declared_as
from linter.js.expressions import callee, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.invocation import call_sites
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, text, walk

PRISMA_TAKE_METHODS = frozenset(
    {"findMany", "findFirst", "findFirstOrThrow", "findUnique", "findUniqueOrThrow", "groupBy", "aggregate", "count"}
)
TYPEORM_TAKE_METHODS = frozenset({"find", "findAndCount"})
LIMIT_OPTION_METHODS = frozenset({"findAll", "findAndCountAll", "find", "findAndCount", "paginate"})
# Methods that make a chain a database query (knex, objection, mongoose, drizzle, TypeORM, kysely, supabase).
QUERY_CHAIN_METHODS = frozenset(
    {
        "select", "selectFrom", "selectAll", "selectDistinct", "from", "where", "andWhere", "orWhere", "whereIn",
        "whereNotIn", "whereRaw", "whereNull", "orderBy", "orderByRaw", "order", "sort", "offset", "skip", "find",
        "findAll", "query", "table", "createQueryBuilder", "innerJoin", "leftJoin", "join", "groupBy", "having",
        "distinct", "lean", "populate", "aggregate", "collection", "returning", "modify", "withGraphFetched",
        "eq", "neq", "ilike", "range", "columns", "getRepository", "$dynamic", "search",
    }
)  # fmt: skip
# Names that hold a query builder or a knex instance by convention: `qb`, `query`, `knex('t')`, `db('t')`, `trx`.
_QUERY_ROOT = lazy_re.compile(r"^(qb|\w*[qQ]uery(Builder)?|\w*[bB]uilder|knex|db|trx|kx)$")
# Argument types that name a query's options: `Prisma.LeadFindManyArgs`, TypeORM `FindManyOptions`.
_ARGS_TYPE = lazy_re.compile(r"(FindMany|FindFirst|GroupBy|Aggregate)Args|Find(Many)?Options|FindOptions")
_SQL_KEYWORD = lazy_re.compile(r"(?i)\b(limit|top|fetch\s+(first|next))\s*$")
_SQL_TEXT = lazy_re.compile(r"(?i)\b(select|from|where|order\s+by)\b")
_SQL_PLACEHOLDER = lazy_re.compile(r"(?i)\b(limit|top|fetch\s+(first|next))\s+(\$[1-9][0-9]*|\?)")
_SQL_TAGS = lazy_re.compile(r"(^|\.)(sql|raw|\$queryRaw|\$queryRawUnsafe|\$executeRaw|query|unsafe)$")
_MAX_HOPS = 5


@dataclass(frozen=True)
class LimitSink:
    value: Node  # the expression that sets the page size
    anchor: Node  # where a finding goes
    label: str  # how messages name it: "Prisma `take`"


def option_sink(entry: Node) -> LimitSink | None:
    """`take: x` / `limit: x` (or the shorthand `take`) in an object that reaches a query call."""
    if entry.type == "pair":
        key, value = text(entry.child_by_field_name("key")), entry.child_by_field_name("value")
    else:
        key, value = text(entry), entry
    obj = entry.parent
    if value is None or obj is None or obj.type != "object":
        return None
    label = _query_of(obj, key, 0)
    return LimitSink(value, entry, label) if label is not None else None


def _query_of(node: Node, key: str, hops: int) -> str | None:
    """How the query that the object `node` ends up in names `key`, or None when it reaches none."""
    if hops > _MAX_HOPS:
        return None
    node = outermost(node)
    parent = node.parent
    if parent is None:
        return None
    kind = parent.type
    if kind == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
        position = parent.named_children.index(node) if node in parent.named_children else 0
        label = _call_label(parent.parent, key, position)
        return label if label is not None else _through_helper(parent.parent, position, key, hops)
    if kind in ("pair", "spread_element", "array"):
        holder = parent.parent if kind != "array" else parent
        return _query_of(holder, key, hops + 1) if holder is not None else None
    if kind in ("ternary_expression", "binary_expression", "await_expression"):
        return _query_of(parent, key, hops + 1)
    if kind == "variable_declarator" and parent.child_by_field_name("value") == node:
        name = parent.child_by_field_name("name")
        annotation = parent.child_by_field_name("type")
        if annotation is not None and _ARGS_TYPE.search(text(annotation)):
            return f"Prisma `{key}`" if "Prisma." in text(annotation) else f"`{key}`"
        return _through_uses(name, parent, key, hops) if name is not None and name.type == "identifier" else None
    if kind == "return_statement" or (kind in FUNCTION_TYPES and parent.child_by_field_name("body") == node):
        fn = parent if kind in FUNCTION_TYPES else enclosing_function(parent)
        for site in (call_sites(fn, _program(fn)) or ()) if fn is not None else ():
            label = _query_of(site, key, hops + 1)
            if label is not None:
                return label
    return None


def _through_uses(name: Node, declarator: Node, key: str, hops: int) -> str | None:
    """The query an object held in a `const` reaches through the uses of that name in its scope."""
    scope = declarator.parent
    while scope is not None and scope.type not in ("statement_block", "program") and scope.type not in FUNCTION_TYPES:
        scope = scope.parent
    if scope is None:
        return None
    for node in descendants_of_types(scope, ("identifier", "shorthand_property_identifier")):
        if text(node) != text(name) or node == name:
            continue
        if node.start_byte < declarator.end_byte:
            continue
        binding = declaration_of(node) if node.type == "identifier" else None
        if node.type == "identifier" and (binding is None or binding.declarator != declarator):
            continue
        label = _query_of(node, key, hops + 1)
        if label is not None:
            return label
    return None


def _through_helper(call: Node, position: int, key: str, hops: int) -> str | None:
    """`listLeads({ take })` where this file declares `listLeads(args)` and passes `args` to a query."""
    function = callee(call)
    target = function_declared_as(function) if function is not None and function.type == "identifier" else None
    params = target.child_by_field_name("parameters") if target is not None else None
    names = [p for p in params.named_children if p.type != "comment"] if params is not None else []
    if position >= len(names):
        return None
    param = names[position].child_by_field_name("pattern") or names[position]
    if param.type != "identifier":
        return None
    for node in walk(target.child_by_field_name("body") or target):
        if node.type == "identifier" and text(node) == text(param):
            binding = declaration_of(node)
            if binding is not None and binding.kind == "param" and binding.function == target:
                label = _query_of(node, key, hops + 1)
                if label is not None:
                    return label
    return None


def _program(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def _call_label(call: Node, key: str, position: int) -> str | None:
    method = property_name(callee(call))
    if method is None:
        return None
    if key == "take" and method in PRISMA_TAKE_METHODS and position == 0:
        return f"Prisma `take` in `{method}()`"
    if key == "take" and method in TYPEORM_TAKE_METHODS and position == 0:
        return f"`take` in `{method}()`"
    if key == "limit" and method in LIMIT_OPTION_METHODS:
        return f"`limit` in `{method}()`"
    return None


def builder_sink(call: Node) -> LimitSink | None:
    """`query.limit(n)` / `qb.take(n)` on a query builder (one argument, called on a chain or a name)."""
    function = callee(call)
    arguments = call.child_by_field_name("arguments")
    if function is None or function.type != "member_expression" or arguments is None:
        return None
    values = [c for c in arguments.named_children if c.type != "comment"]
    receiver = unwrap(function.child_by_field_name("object"))
    if len(values) != 1 or receiver is None or receiver.type not in ("call_expression", "identifier", "member_expression"):
        return None
    if not _builds_query(receiver, 0):
        return None
    method = function.child_by_field_name("property")
    return LimitSink(values[0], method, f"`.{text(method)}()` of the query")


def _builds_query(node: Node | None, hops: int) -> bool:
    """The receiver of `.limit()` is a query: a chain through a query method (`where`, `select`, `find`,
    `createQueryBuilder`...), a `knex('table')`-style call, or a name declared as one. Rate limiters
    (`ratelimit.limit(key)`) and other `.limit()`s are not."""
    node = unwrap(node)
    while node is not None and node.type in ("call_expression", "member_expression"):
        if node.type == "call_expression":
            function = callee(node)
            if function is not None and function.type == "identifier":
                return _QUERY_ROOT.search(text(function)) is not None
            if property_name(function) in QUERY_CHAIN_METHODS:
                return True
            node = unwrap(function.child_by_field_name("object")) if function is not None and function.type == "member_expression" else None
        else:
            node = unwrap(node.child_by_field_name("object"))
    if node is None or node.type not in ("identifier", "this") or hops > 1:
        return False
    if node.type == "identifier" and _QUERY_ROOT.search(text(node)):
        return True
    binding = declaration_of(node) if node.type == "identifier" else None
    if binding is None or binding.kind != "variable" or binding.declarator is None or binding.path:
        return False
    return _builds_query(binding.declarator.child_by_field_name("value"), hops + 1)


def sql_template_sink(fragment: Node, substitution: Node) -> LimitSink | None:
    """`${x}` right after `LIMIT` in a template that is SQL (tagged `sql`/`$queryRaw`, or reads like a query)."""
    template = fragment.parent
    if template is None or not _SQL_KEYWORD.search(text(fragment)) or not substitution.named_children:
        return None
    tag = _template_tag(template)
    if not (tag is not None and _SQL_TAGS.search(tag)) and not _reads_like_sql(template, fragment):
        return None
    return LimitSink(substitution.named_children[0], substitution, "`LIMIT` of a raw SQL query")


def _template_tag(template: Node) -> str | None:
    parent = template.parent
    if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("arguments") == template:
        return text(callee(parent))
    if parent is not None and parent.type == "arguments" and parent.parent is not None:
        return text(callee(parent.parent))  # `$queryRawUnsafe(`…`)`
    return None


def _reads_like_sql(template: Node, fragment: Node) -> bool:
    keyword = _SQL_KEYWORD.search(text(fragment))
    if keyword is not None and keyword.group(1).isupper():
        return True
    return _SQL_TEXT.search(text(template)) is not None


def concat_after(literal: Node) -> Node | None:
    """The `… + x` whose left operand ends with `literal` (`'… LIMIT ' + x`, `a + '… LIMIT ' + x`), if any.

    Climbing from the literal costs its depth; a query pattern on the concatenation whose predicate reads the
    left operand's text costs that text's length at every `+` of a chain: squared in the chain's length."""
    node = outermost(literal)
    while (parent := node.parent) is not None and parent.type == "binary_expression":
        left = parent.child_by_field_name("left")
        if left == node:
            operator = parent.child_by_field_name("operator")
            return parent if text(operator) == "+" and left.end_byte == literal.end_byte else None
        node = outermost(parent)
    return None


def sql_concat_sink(concat: Node) -> LimitSink | None:
    """`'… LIMIT ' + x`: the value right after a string that ends with `LIMIT`."""
    left, right = concat.child_by_field_name("left"), concat.child_by_field_name("right")
    piece = unwrap(left)
    while piece is not None and piece.type == "binary_expression":
        piece = unwrap(piece.child_by_field_name("right"))
    if piece is None or right is None or piece.type not in ("string", "template_string"):
        return None
    literal = text(piece)[1:-1]
    keyword = _SQL_KEYWORD.search(literal)
    if keyword is None or not (keyword.group(1).isupper() or _SQL_TEXT.search(text(left))):
        return None
    return LimitSink(right, right, "`LIMIT` of a raw SQL query")


def sql_placeholder_sink(call: Node, sql: Node) -> LimitSink | None:
    """`LIMIT $2` / `LIMIT ?` in a query string whose values are passed beside it:
    `prisma.$queryRawUnsafe(sql, a, limit)`, `pool.query(sql, [a, limit])`."""
    literal = text(sql)[1:-1]
    placeholder = _SQL_PLACEHOLDER.search(literal)
    if placeholder is None or not (placeholder.group(1).isupper() or _SQL_TEXT.search(literal)):
        return None
    marker = placeholder.group(3)
    index = int(marker[1:]) - 1 if marker.startswith("$") else literal[: placeholder.start(3)].count("?")
    arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
    values = arguments[1:]
    if len(values) == 1 and unwrap(values[0]).type == "array":
        values = [v for v in unwrap(values[0]).named_children if v.type != "comment"]
    if index < 0 or index >= len(values) or values[index].type == "spread_element":
        return None
    return LimitSink(values[index], values[index], "`LIMIT` of a raw SQL query")
