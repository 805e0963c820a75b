"""Where a string becomes SQL text that a database runs as written: the sinks of SQL injection.

- Prisma: the first argument of `$queryRawUnsafe()` and `$executeRawUnsafe()` (on any client or
  transaction), and of `Prisma.raw()`;
- node-postgres and mysql/mysql2: the first argument of `query()` on a pool, a client or a connection
  (`pool.query(…)`, `client.query(…)`, `db.query(…)`), in a package that depends on the driver;
- knex: the first argument of `knex.raw()` (on knex or a transaction) and of the builders' `whereRaw()`,
  `orWhereRaw()`, `havingRaw()`, `orderByRaw()`, `groupByRaw()`, `joinRaw()`;
- Sequelize: the first argument of `sequelize.query()`.

The tagged templates (`prisma.$queryRaw` and `Prisma.sql` written before a template literal) are not sinks:
their `${…}` values are sent as parameters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.frameworks.prisma import is_prisma_module
from linter.js.bindings import declaration_of, initial_value
from linter.js.expressions import arguments_of, callee, member_chain, member_object, outermost, property_name, unwrap
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

PRISMA_UNSAFE_METHODS = frozenset({"$queryRawUnsafe", "$executeRawUnsafe"})
KNEX_RAW_METHODS = frozenset({"whereRaw", "orWhereRaw", "andWhereRaw", "havingRaw", "orHavingRaw", "orderByRaw", "groupByRaw", "joinRaw"})
SINK_METHODS = PRISMA_UNSAFE_METHODS | KNEX_RAW_METHODS | {"raw", "query"}
POSTGRES_DRIVERS = ("pg", "pg-pool", "@neondatabase/serverless", "@vercel/postgres")
MYSQL_DRIVERS = ("mysql", "mysql2")
KNEX_PACKAGES = ("knex", "objection")
SEQUELIZE_PACKAGES = ("sequelize", "sequelize-typescript")
# The names a pool, a client or a connection of a SQL driver goes by.
_DRIVER_HANDLE = lazy_re.compile(r"^(pool|client|db|pg|pgPool|pgClient|dbPool|dbClient|conn|connection|database|tx|trx|\w*(Pool|Client|Connection|Db|DB))$")
_KNEX_HANDLE = lazy_re.compile(r"^(knex|db|trx|tx|kx|database|connection|pg|\w*(Knex|Db|DB|Trx))$")
# What a driver's pool or client is made with, and what hands out a connection.
_DRIVER_FACTORIES = frozenset({"Pool", "Client", "createPool", "createConnection", "createPoolCluster", "neon"})
_CONNECTION_METHODS = frozenset({"connect", "getConnection", "acquire"})


@dataclass(frozen=True)
class SqlSink:
    call: Node
    sql: Node  # the argument that is SQL text
    anchor: Node  # the method name, where a finding goes
    label: str  # how messages name it: "`$queryRawUnsafe()`"
    kind: str  # prisma-unsafe, prisma-raw, pg, mysql, knex, sequelize


def sql_sink(method: Node, file: "FileContext") -> SqlSink | None:
    """The sink whose method name is `method` (a `property_identifier`), if its call is one."""
    member = method.parent
    if member is None or member.type != "member_expression" or member.child_by_field_name("property") != method:
        return None
    call = outermost(member).parent
    if call is not None and call.type == "await_expression" and call.parent is not None:
        call = call.parent  # `await db.$queryRawUnsafe<T>(sql)`: the TypeScript grammar's call of `(await …)`
    if call is None or call.type != "call_expression" or callee(call) != member:
        return None
    arguments = arguments_of(call)
    if not arguments or unwrap(arguments[0]) is None or unwrap(arguments[0]).type in ("spread_element", "object"):
        return None
    name = text(method)
    receiver = member_object(member)
    kind = _kind(name, receiver, file)
    if kind is None:
        return None
    return SqlSink(call, arguments[0], method, _label(kind, name), kind)


def _kind(name: str, receiver: Node | None, file: "FileContext") -> str | None:
    if name in PRISMA_UNSAFE_METHODS:
        return "prisma-unsafe"
    if name in KNEX_RAW_METHODS:
        return "knex" if file.depends_on(KNEX_PACKAGES) else None
    if receiver is None:
        return None
    if name == "raw":
        if _is_prisma_namespace(receiver, file):
            return "prisma-raw"
        return "knex" if file.depends_on(KNEX_PACKAGES) and _handle_name(receiver, _KNEX_HANDLE) else None
    if name != "query":
        return None
    if _is_sequelize(receiver, file):
        return "sequelize"
    # The package test first: `query` is a common name, and most files that call one use no SQL driver.
    driver = "pg" if file.depends_on(POSTGRES_DRIVERS) else "mysql" if file.depends_on(MYSQL_DRIVERS) else None
    if driver is None or not _is_driver_handle(receiver, file):
        return None
    return driver


def _is_prisma_namespace(receiver: Node, file: "FileContext") -> bool:
    if receiver.type != "identifier":
        return False
    binding = file.binding(text(receiver))
    if binding is None:
        return text(receiver) == "Prisma" and declaration_of(receiver) is None
    return binding.imported == "Prisma" and is_prisma_module(binding.module)


def _is_sequelize(receiver: Node, file: "FileContext") -> bool:
    """`sequelize.query`, `db.sequelize.query`, `this.sequelize.query`, or a name bound to `new Sequelize(…)`."""
    if not file.depends_on(SEQUELIZE_PACKAGES):
        return False
    last = property_name(receiver) if receiver.type == "member_expression" else text(receiver)
    if last is not None and last.lower() == "sequelize":
        return True
    return _constructed_with(receiver, frozenset({"Sequelize"}))


def _is_driver_handle(receiver: Node, file: "FileContext") -> bool:
    """A pool, client or connection: a name as such handles go by (`pool`, `client`, `db`, `this.pool`), or
    one bound to `new Pool(…)`, `mysql.createPool(…)`, `await pool.connect()`."""
    if _constructed_with(receiver, _DRIVER_FACTORIES):
        return True
    return _handle_name(receiver, _DRIVER_HANDLE)


def _handle_name(receiver: Node, pattern: re.Pattern) -> bool:
    root, members = member_chain(receiver)
    if root is None:
        return False
    last = members[-1] if members else text(root)
    if root.type not in ("identifier", "this"):
        return False
    return pattern.match(last) is not None and last not in ("req", "request")


def _constructed_with(receiver: Node, factories: frozenset[str]) -> bool:
    value = initial_value(receiver) if receiver.type == "identifier" else None
    if value is None or value.type not in ("new_expression", "call_expression"):
        return False
    function = callee(value)
    name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
    return name in factories or (value.type == "call_expression" and name in _CONNECTION_METHODS)


def _label(kind: str, name: str) -> str:
    if kind == "prisma-unsafe":
        return f"`{name}()`"
    if kind == "prisma-raw":
        return "`Prisma.raw()`"
    if kind == "knex":
        return "`knex.raw()`" if name == "raw" else f"knex's `.{name}()`"
    if kind == "sequelize":
        return "`sequelize.query()`"
    return f"{'node-postgres' if kind == 'pg' else 'mysql'} `query()`"


_KIND_BY_LABEL_START = (
    ("`$queryRawUnsafe", "prisma-unsafe"),
    ("`$executeRawUnsafe", "prisma-unsafe"),
    ("`Prisma.raw", "prisma-raw"),
    ("node-postgres", "pg"),
    ("mysql", "mysql"),
    ("`knex", "knex"),
    ("knex's", "knex"),
    ("`sequelize", "sequelize"),
)


def advice_for_label(label: str) -> str:
    """`advice` for a sink known by its label (a sink another module's flow reaches)."""
    kind = next((kind for start, kind in _KIND_BY_LABEL_START if label.startswith(start)), "pg")
    return advice(kind, label)


def advice(kind: str, label: str) -> str:
    """How to pass the value as a parameter instead, for the sink's library."""
    if kind == "prisma-unsafe":
        tagged = "$executeRaw" if "$executeRawUnsafe" in label else "$queryRaw"
        return (f"use the `{tagged}` tagged template, which sends each `${{…}}` as a parameter, or `$1` "
                f"placeholders with the values as further arguments")
    if kind == "prisma-raw":
        return "build the fragment with `Prisma.sql`, which sends each `${…}` as a parameter"
    if kind == "pg":
        return "use `$1` placeholders and pass the values in an array: `query(text, [value])`"
    if kind == "mysql":
        return "use `?` placeholders and pass the values in an array: `query(sql, [value])`"
    if kind == "knex":
        return "use `?` bindings (`??` for a column name) and pass the values in an array"
    return "use `?` or `:name` placeholders with `replacements` (or `$1` with `bind`)"
