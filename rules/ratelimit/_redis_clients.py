"""Redis clients: which creation makes which kind of client, where a module keeps it, and which client an
expression names.

The kinds behave differently before they are connected:
- node-redis (`redis`, `@redis/client`: `createClient()`, `createCluster()`, `createSentinel()`) must be
  `connect()`ed first: a command sent before `connect()` is called is rejected with ClientClosedError (once
  `connect()` has started, commands wait in its offline queue until the socket is ready);
- ioredis (`new Redis()`, `new Redis.Cluster()`) connects by itself and queues commands meanwhile;
- @upstash/redis (`new Redis()`, `Redis.fromEnv()`) speaks HTTP: there is no connection to open.

A client is named by a reference (plain data, resolved across modules by the project-level code):
`{"local": key}` for a binding of this module (`key` is the name at module level, `"<byte>:<name>"` for a
variable of the function starting at that byte, the key the export table gives a default export),
`{"import": specifier, "name": exported}` for an imported one, `{"call": target}` for the value a function
returns (`getRedisClient()`), with `target` as in `linter.rules.ratelimit._startup_order`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.exports import export_table
from linter.js.expressions import callee, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, function_body
from linter.js.references import resolve_imported
from linter.js.singletons import value_root
from linter.rules.ratelimit._startup_order import call_target
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

REDIS_PACKAGES = ("redis", "ioredis", "@upstash/redis", "@redis/client")
# Libraries that need a Redis server: a package declaring one has Redis in its deployment.
REDIS_BACKED_PACKAGES = (
    "bull", "bullmq", "bee-queue", "@nestjs/bull", "@nestjs/bullmq", "connect-redis", "@keyv/redis",
    "cache-manager-redis-store", "cache-manager-redis-yet", "cache-manager-ioredis", "cache-manager-ioredis-yet",
    "@socket.io/redis-adapter", "socket.io-redis", "@liaoliaots/nestjs-redis", "@nestjs-modules/ioredis",
    "@fastify/redis", "@upstash/ratelimit", "@vercel/kv", "rate-limit-redis", "@nest-lab/throttler-storage-redis",
    "nestjs-throttler-storage-redis", "graphql-redis-subscriptions", "redis-om",
)  # fmt: skip
NODE_REDIS = "node-redis"
IOREDIS = "ioredis"
UPSTASH = "upstash"

_NODE_REDIS_FACTORIES = frozenset({("createClient",), ("createCluster",), ("createSentinel",)})
_IOREDIS_CONSTRUCTORS = frozenset({(), ("Redis",), ("Cluster",), ("Redis", "Cluster")})
_UPSTASH_CREATIONS = frozenset({("Redis",), ("Redis", "fromEnv")})


def redis_client_kind(node: Node, file: "FileContext") -> str | None:
    """NODE_REDIS, IOREDIS or UPSTASH when `node` (a call or `new`) creates that kind of client, else None."""
    if node.type not in ("call_expression", "new_expression"):
        return None
    name = resolve_imported(callee(node), file)
    if name is None:
        return None
    constructing = node.type == "new_expression"
    if name.module in ("redis", "@redis/client") and not constructing and name.path in _NODE_REDIS_FACTORIES:
        return NODE_REDIS
    if name.module == "ioredis" and constructing and name.path in _IOREDIS_CONSTRUCTORS:
        return IOREDIS
    if name.module == "@upstash/redis" and name.path in _UPSTASH_CREATIONS:
        return UPSTASH
    return None


def holder_key(value: Node) -> str | None:
    """The binding key of the variable (or default export) the value of `value` is stored in, if any:
    `const client = createClient()`, `client = createClient().on('error', log)`, `export default new Redis()`
    (a default export has the local key the module's export table gives it, `linter.js.exports`)."""
    outer = value_root(value)
    parent = outer.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == outer:
        name = parent.child_by_field_name("name")
        return binding_key(name) if name is not None and name.type == "identifier" else None
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == outer:
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            return binding_key(left)
        if text(left) in ("module.exports", "exports"):
            return export_table(_root(parent)).module_object
        return None
    if parent.type == "export_statement":
        return export_table(_root(parent)).names.get("default")
    return None


def holds_default_export(value: Node) -> bool:
    """Whether `value` is stored as the module's default export (`export default …`, `module.exports = …`)."""
    parent = value_root(value).parent
    if parent is None:
        return False
    if parent.type == "assignment_expression":
        return text(parent.child_by_field_name("left")) in ("module.exports", "exports")
    return parent.type == "export_statement"


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def binding_key(identifier: Node) -> str | None:
    """The key of the variable `identifier` refers to: its name at module level, `"<byte>:<name>"` in a function."""
    binding = declaration_of(identifier)
    if binding is None or binding.kind != "variable":
        return None
    if binding.function is None:
        return binding.name
    return f"{binding.function.start_byte}:{binding.name}"


def value_reference(node: Node | None, file: "FileContext") -> dict | None:
    """Which binding `node` names (see the module docs: a client, or any value kept in a variable), or None when
    it cannot be told (a parameter, `this.x`)."""
    node = unwrap(node)
    if node is not None and node.type == "await_expression" and node.named_children:
        node = unwrap(node.named_children[-1])
    if node is None:
        return None
    if node.type in ("identifier", "shorthand_property_identifier"):
        binding = file.binding(text(node))
        if binding is not None:
            exported = "default" if binding.imported in ("*", "default") else binding.imported
            return {"import": binding.module, "name": exported}
        key = binding_key(node)
        return {"local": key} if key is not None else None
    if node.type == "member_expression":
        owner = member_object(node)
        name = property_name(node)
        if owner is not None and owner.type == "identifier" and name is not None:
            binding = file.binding(text(owner))
            if binding is not None and binding.imported in ("*", "default"):
                return {"import": binding.module, "name": name}
        return None
    if node.type == "call_expression":
        target = call_target(node, file)
        return {"call": target} if target is not None else None
    return None


def returned_binding(fn: Node) -> str | None:
    """The module-level binding a function hands out (`getRedisClient() { return client }`), if it returns one."""
    body = function_body(fn)
    if body is None:
        return None
    if body.type != "statement_block":
        candidate = unwrap(body)
        return binding_key(candidate) if candidate is not None and candidate.type == "identifier" else None
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_TYPES:
            continue
        if node.type == "return_statement" and node.named_children:
            value = unwrap(node.named_children[0])
            if value is not None and value.type == "identifier":
                key = binding_key(value)
                if key is not None and ":" not in key:
                    return key
        stack.extend(node.named_children)
    return None


def calls_connect(node: Node) -> bool:
    """True when `node` contains a `.connect()` call."""
    for inner in walk(node):
        if inner.type == "call_expression":
            target = callee(inner)
            if target is not None and target.type == "member_expression" and property_name(target) == "connect":
                return True
    return False


def connect_receiver(call: Node) -> Node | None:
    """`client` for `client.connect()`; None for any other call."""
    if call.type != "call_expression":
        return None
    target = callee(call)
    if target is None or target.type != "member_expression" or property_name(target) != "connect":
        return None
    return member_object(target)
