"""Is this `new X()` / `f()` the creation of a pooled database or cache client? Resolved through the file's imports.

Known shapes (a creation opens a connection or a pool of them):
ioredis `new Redis()`, redis `createClient()` / `createCluster()`, pg `new Pool()` / `new Client()`,
mysql / mysql2 `createPool()` / `createPoolCluster()`, mongoose `connect()` / `createConnection()`,
knex `knex({...})`, mongodb `new MongoClient()` / `MongoClient.connect()`.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.context import FileContext
from linter.frameworks.prisma import module_object_source
from linter.js.functions import EXPRESSION_WRAPPERS
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

# Module objects that are themselves the constructor or factory (`const Redis = require('ioredis')`).
CALLABLE_MODULE = "<module>"


@dataclass(frozen=True)
class ClientShape:
    modules: tuple[str, ...]
    name: str  # exported name of the constructor or factory, or CALLABLE_MODULE
    via: str  # "new" or "call"
    label: str  # how messages show it
    needs_connect: bool = False  # only a problem when connected in the same function (pg.Client)
    static_of: str | None = None  # `MongoClient.connect()`: a static method of this export


SHAPES = (
    ClientShape(("ioredis",), CALLABLE_MODULE, "new", "`new Redis()` (ioredis)"),
    ClientShape(("ioredis",), "Redis", "new", "`new Redis()` (ioredis)"),
    ClientShape(("ioredis",), "Cluster", "new", "`new Redis.Cluster()` (ioredis)"),
    ClientShape(("redis",), "createClient", "call", "`createClient()` (redis)"),
    ClientShape(("redis",), "createCluster", "call", "`createCluster()` (redis)"),
    ClientShape(("pg",), "Pool", "new", "`new Pool()` (pg)"),
    ClientShape(("pg",), "Client", "new", "`new Client()` + `connect()` (pg)", needs_connect=True),
    ClientShape(("mysql", "mysql2", "mysql2/promise"), "createPool", "call", "`createPool()` (mysql)"),
    ClientShape(("mysql", "mysql2", "mysql2/promise"), "createPoolCluster", "call", "`createPoolCluster()` (mysql)"),
    ClientShape(("mongoose",), "connect", "call", "`mongoose.connect()`"),
    ClientShape(("mongoose",), "createConnection", "call", "`mongoose.createConnection()`"),
    ClientShape(("knex",), CALLABLE_MODULE, "call", "`knex()`"),
    ClientShape(("knex",), "knex", "call", "`knex()`"),
    ClientShape(("mongodb",), "MongoClient", "new", "`new MongoClient()` (mongodb)"),
    ClientShape(("mongodb",), "connect", "call", "`MongoClient.connect()` (mongodb)", static_of="MongoClient"),
)
CLIENT_MODULES = frozenset(m for shape in SHAPES for m in shape.modules)
# A client module as a plain string literal: how every import, `require()` and `import()` names it.
_QUOTED_CLIENT_MODULE = lazy_re.compile(
    rb"['\"`](?:" + b"|".join(re.escape(m.encode()) for m in sorted(CLIENT_MODULES, key=len, reverse=True)) + rb")['\"`]"
)


def names_a_client_module(source: bytes) -> bool:
    """Whether a file names a client module (`import Redis from 'ioredis'`, `require('pg')`): without one,
    `pooled_client_creation` finds nothing in it."""
    return _QUOTED_CLIENT_MODULE.search(source) is not None


def pooled_client_creation(node: Node, file: FileContext) -> ClientShape | None:
    """The client shape `node` (a `new_expression` or `call_expression`) creates, or None."""
    if node.type == "new_expression":
        via, callee = "new", node.child_by_field_name("constructor")
    elif node.type == "call_expression":
        via, callee = "call", node.child_by_field_name("function")
    else:
        return None
    while callee is not None and callee.type in EXPRESSION_WRAPPERS and callee.named_children:
        callee = callee.named_children[0]
    if callee is None:
        return None
    module, name, static_of = _resolve(callee, file)
    if module is None:
        return None
    for shape in SHAPES:
        if shape.via == via and module in shape.modules and shape.name == name and shape.static_of == static_of:
            return shape
    return None


def _resolve(callee: Node, file: FileContext) -> tuple[str | None, str | None, str | None]:
    """(module, exported name or CALLABLE_MODULE, static owner) of a callee."""
    if callee.type == "identifier":
        binding = file.binding(text(callee))
        if binding is None:
            return None, None, None
        if binding.imported in ("*", "default"):
            return binding.module, CALLABLE_MODULE, None
        return binding.module, binding.imported, None
    if callee.type == "call_expression":  # `require('knex')(config)`
        return module_object_source(callee, file), CALLABLE_MODULE, None
    if callee.type != "member_expression":
        return None, None, None
    prop = text(callee.child_by_field_name("property"))
    owner = callee.child_by_field_name("object")
    module = module_object_source(owner, file)
    if module is not None:
        return module, prop, None
    if owner is not None and owner.type == "identifier":
        binding = file.binding(text(owner))
        if binding is not None and binding.imported not in ("*", "default"):
            return binding.module, prop, binding.imported  # `MongoClient.connect(url)`
    return None, None, None


def connects_in(function: Node | None) -> bool:
    """True when `function` calls some `.connect()` (a pg `Client` is only opened by `connect()`)."""
    if function is None:
        return False
    stack = [function]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "member_expression":
                if text(callee.child_by_field_name("property")) == "connect":
                    return True
        stack.extend(node.named_children)
    return False
