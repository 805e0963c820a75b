"""Rate limiter constructions and where they keep their counts.

Recognised: express-rate-limit (`rateLimit({...})`, `rateLimit.default(...)`, `new RateLimit({...})`),
express-slow-down (`slowDown({...})`), rate-limiter-flexible's `new RateLimiterMemory(...)` (always in
memory; left out when it is the `insuranceLimiter` of another limiter, where memory is the point),
@nestjs/throttler's `ThrottlerModule.forRoot(...)` / `forRootAsync({ useFactory })` (its `storage` option) and
@fastify/rate-limit registered with `fastify.register(rateLimit, {...})` (its `redis` or `store` option).

`store_choice` reads the store option (through an options variable, `...spread`s of same-file objects and
`...(redis && { store })`): none, or `undefined`, keeps the counts in the process (`default` / `undefined`),
so does `new MemoryStore()` (`memory`); a store set on one branch only (`redis ? new RedisStore(...) :
undefined`, `let store; if (redis) store = ...`) is `conditional`; anything else is taken to be `shared`;
options it cannot read are `unknown`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.bindings import declaration_of, definitions_before, returned_values
from linter.js.expressions import arguments_of, callee, key_text, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import require_specifier, string_value
from linter.lazy_dataclasses import dataclass
from linter.rules.ratelimit._redis_clients import calls_connect, value_reference
from linter.js.references import resolve_imported
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

LIMITER_PACKAGES = ("express-rate-limit", "express-slow-down", "rate-limiter-flexible")
NEST_THROTTLER = "@nestjs/throttler"
FASTIFY_RATE_LIMIT = ("@fastify/rate-limit", "fastify-rate-limit")
# Every package whose limiters the rule reads.
LIBRARY_PACKAGES = (*LIMITER_PACKAGES, NEST_THROTTLER, *FASTIFY_RATE_LIMIT)
# Every package that rate limits requests, whatever it keeps its counts in.
RATE_LIMIT_PACKAGES = frozenset(
    {*LIMITER_PACKAGES, "@upstash/ratelimit", NEST_THROTTLER, *FASTIFY_RATE_LIMIT, "hono-rate-limiter",
     "express-brute", "koa-ratelimit", "@arcjet/next", "@arcjet/node", "next-rate-limit", "rate-limit-redis"}
)  # fmt: skip
# Packages whose stores keep counts outside the process.
REDIS_STORE_PACKAGES = ("rate-limit-redis",)
_FACTORIES = {
    "express-rate-limit": frozenset({(), ("rateLimit",)}),
    "express-slow-down": frozenset({(), ("slowDown",)}),
}
_MEMORY_LIMITERS = {"rate-limiter-flexible": frozenset({("RateLimiterMemory",)})}
_THROTTLER_SETUPS = frozenset({("ThrottlerModule", "forRoot"), ("ThrottlerModule", "forRootAsync")})
_FASTIFY_PLUGIN_NAMES = frozenset({(), ("fastifyRateLimit",)})
_MEMORY_STORES = {"express-rate-limit": frozenset({("MemoryStore",)}), "express-slow-down": frozenset({("MemoryStore",)})}
# A test that says whether Redis is there.
MENTIONS_REDIS = lazy_re.compile(r"redis|valkey", re.I)
_BRANCHING = frozenset({"if_statement", "ternary_expression"})
MAX_DEPTH = 4


@dataclass(frozen=True)
class LimiterSite:
    node: Node  # the call or `new`
    library: str  # npm package
    label: str  # "`rateLimit()`", as written
    in_memory_class: bool  # a limiter class that only ever counts in memory (`RateLimiterMemory`)
    option: str = "store"  # the option that names a shared store: `store`, `storage` (Nest), `redis` (Fastify)


@dataclass(frozen=True)
class StoreChoice:
    kind: str  # "default", "undefined", "memory", "conditional", "shared" or "unknown"
    value: Node | None = None  # the `store` expression
    condition: Node | None = None  # for "conditional": the test that picks the store
    store_new: Node | None = None  # the `new X()` building the store, when seen


def limiter_construction(node: Node, file: "FileContext") -> LimiterSite | None:
    """The limiter `node` (a call or `new`) constructs, or None."""
    if node.type not in ("call_expression", "new_expression"):
        return None
    target = callee(node)
    name = resolve_imported(target, file)
    if name is None:
        return _fastify_registration(node, target, file)
    label = f"`{_short(text(target))}()`"
    if name.path in _FACTORIES.get(name.module, ()):
        return LimiterSite(node, name.module, label, in_memory_class=False)
    if node.type == "new_expression" and name.path in _MEMORY_LIMITERS.get(name.module, ()):
        if is_insurance_limiter(node):
            return None
        return LimiterSite(node, name.module, f"`new {_short(text(target))}()`", in_memory_class=True)
    if name.module == NEST_THROTTLER and node.type == "call_expression" and name.path in _THROTTLER_SETUPS:
        return LimiterSite(node, NEST_THROTTLER, label, in_memory_class=False, option="storage")
    return None


def _fastify_registration(node: Node, target: Node | None, file: "FileContext") -> LimiterSite | None:
    """`app.register(rateLimit, {...})` with @fastify/rate-limit as the plugin (imported, `require`d or
    `import()`ed in place)."""
    if node.type != "call_expression" or target is None or target.type != "member_expression":
        return None
    if property_name(target) != "register":
        return None
    arguments = arguments_of(node)
    plugin = unwrap(arguments[0]) if arguments else None
    if plugin is not None and plugin.type == "await_expression" and plugin.named_children:
        plugin = unwrap(plugin.named_children[0])
    if plugin is None:
        return None
    module = require_specifier(plugin) or dynamic_import_specifier(plugin)
    if module is None:
        imported = resolve_imported(plugin, file)
        module = imported.module if imported is not None and imported.path in _FASTIFY_PLUGIN_NAMES else None
    if module not in FASTIFY_RATE_LIMIT:
        return None
    owner = _short(text(member_object(target)), 20)
    shown = _short(text(plugin), 20) if plugin.type in ("identifier", "member_expression") else module
    return LimiterSite(node, module, f"`{owner}.register({shown})`", in_memory_class=False, option="redis")


def dynamic_import_specifier(node: Node | None) -> str | None:
    """'m' for `import('m')`, else None."""
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type != "import":
        return None
    arguments = arguments_of(node)
    return string_value(unwrap(arguments[0])) if len(arguments) == 1 else None


def is_insurance_limiter(node: Node) -> bool:
    """`insuranceLimiter: new RateLimiterMemory(...)`, directly or through a variable or class field that some
    `insuranceLimiter:` option of the file names (`insuranceLimiter: this.memoryFallback`)."""
    holder = outermost(node).parent
    if holder is None:
        return False
    if holder.type == "pair":
        return key_text(holder.child_by_field_name("key")) == "insuranceLimiter"
    if holder.type == "variable_declarator":
        name = holder.child_by_field_name("name")
    elif holder.type in ("field_definition", "public_field_definition"):
        name = holder.child_by_field_name("property") or holder.child_by_field_name("name")
    elif holder.type == "assignment_expression":
        name = holder.child_by_field_name("left")
        name = name.child_by_field_name("property") if name is not None and name.type == "member_expression" else name
    else:
        return False
    if name is None:
        return False
    held_as = text(name)
    for use in walk(_root(node)):
        if use.type == "pair" and key_text(use.child_by_field_name("key")) == "insuranceLimiter":
            value = unwrap(use.child_by_field_name("value"))
            if value is not None and (text(value) == held_as or property_name(value) == held_as):
                return True
        elif use.type == "shorthand_property_identifier" and text(use) == "insuranceLimiter" == held_as:
            return True
    return False


def store_choice(site: LimiterSite, file: "FileContext") -> StoreChoice:
    """Where the limiter built at `site` keeps its counts (see the module docs)."""
    if site.in_memory_class:
        return StoreChoice("memory")
    arguments = arguments_of(site.node)
    if site.library == NEST_THROTTLER:
        return _throttler_storage(site, arguments, file)
    if site.library in FASTIFY_RATE_LIMIT:
        if len(arguments) < 2:
            return StoreChoice("default")
        return _options_store(_object_of(arguments[1], 0), ("redis", "store"), file)
    if not arguments:
        return StoreChoice("default")
    return _options_store(_object_of(arguments[0], 0), ("store",), file)


def skipped_without_redis(site: LimiterSite) -> bool:
    """Whether the limiter's `skip` option stands it down whenever Redis is missing (`skip: () =>
    !redis?.isReady`): a memory store picked for that case then never counts."""
    arguments = arguments_of(site.node)
    if site.library not in LIMITER_PACKAGES or not arguments:
        return False
    options = _object_of(arguments[0], 0)
    skip = _skip_function(options) if options is not None else None
    returned = returned_values(skip) if skip is not None else []
    return bool(returned) and all(_true_without_redis(value) for value in returned)


def _skip_function(options: Node) -> Node | None:
    for child in options.named_children:
        if child.type == "pair" and key_text(child.child_by_field_name("key")) == "skip":
            value = unwrap(child.child_by_field_name("value"))
            return value if value is not None and value.type in FUNCTION_TYPES else None
        if child.type == "method_definition" and text(child.child_by_field_name("name")) == "skip":
            return child
    return None


def _true_without_redis(value: Node | None) -> bool:
    """`!redis`, `!redis?.isReady`, or an `||` with one of them on a side."""
    value = unwrap(value)
    if value is None:
        return False
    if value.type == "binary_expression" and text(value.child_by_field_name("operator")) == "||":
        return _true_without_redis(value.child_by_field_name("left")) or _true_without_redis(
            value.child_by_field_name("right")
        )
    if value.type == "unary_expression" and text(value.child_by_field_name("operator")) == "!":
        return MENTIONS_REDIS.search(text(value.child_by_field_name("argument"))) is not None
    return False


def _options_store(options: Node | None, keys: tuple[str, ...], file: "FileContext") -> StoreChoice:
    """The store an options object names under the first of `keys` it sets."""
    if options is None:
        return StoreChoice("unknown")
    for key in keys:
        found, value, condition = _option(options, key, 0)
        if found is None:
            return StoreChoice("unknown")
        if found:
            choice = _classify(value, file, 0)
            if condition is not None and choice.kind == "shared":  # `...(redis && { store })`
                return StoreChoice("conditional", value, condition, choice.store_new)
            return choice
    return StoreChoice("default")


def _throttler_storage(site: LimiterSite, arguments: list[Node], file: "FileContext") -> StoreChoice:
    """`ThrottlerModule.forRoot([...])` keeps counts in memory; `forRoot({ storage })` and the options a
    `forRootAsync({ useFactory })` factory returns name their storage."""
    if not arguments:
        return StoreChoice("default")
    if text(callee(site.node)).endswith("forRootAsync"):
        options = _object_of(arguments[0], 0)
        found, factory, _ = _option(options, "useFactory", 0) if options is not None else (None, None, None)
        factory = unwrap(factory)
        if not found or factory is None or factory.type not in FUNCTION_TYPES:
            return StoreChoice("unknown")  # `useClass`, `useExisting`, a factory defined elsewhere
        choices = [_throttler_options(value, file) for value in returned_values(factory)]
        kinds = {choice.kind for choice in choices}
        return choices[0] if len(kinds) == 1 else StoreChoice("unknown")  # none, or several that differ
    return _throttler_options(arguments[0], file)


def _throttler_options(value: Node | None, file: "FileContext") -> StoreChoice:
    value = unwrap(value)
    if value is not None and value.type == "array":  # a list of throttlers: the options take no storage
        return StoreChoice("default")
    return _options_store(_object_of(value, 0), ("storage",), file)


def _object_of(node: Node | None, depth: int) -> Node | None:
    """The object literal `node` is, or names through a same-file `const`."""
    node = unwrap(node)
    if node is None or depth > MAX_DEPTH:
        return None
    if node.type == "object":
        return node
    if node.type == "identifier":
        binding = declaration_of(node)
        if binding is None or binding.kind != "variable" or binding.path or binding.declarator is None:
            return None
        if _is_mutated(binding.name, binding.function or _root(node)):
            return None  # `options.store = new RedisStore(...)` later on
        return _object_of(binding.declarator.child_by_field_name("value"), depth + 1)
    return None


def _is_mutated(name: str, scope: Node) -> bool:
    """`name.x = …`, `name['x'] = …` or `Object.assign(name, …)` somewhere in `scope`."""
    for node in walk(scope):
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            if left is not None and left.type in ("member_expression", "subscript_expression"):
                owner = member_object(left)
                if owner is not None and owner.type == "identifier" and text(owner) == name:
                    return True
        elif node.type == "call_expression" and text(node.child_by_field_name("function")) == "Object.assign":
            arguments = arguments_of(node)
            if arguments and text(unwrap(arguments[0])) == name:
                return True
    return False


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def _option(obj: Node, key: str, depth: int) -> tuple[bool | None, Node | None, Node | None]:
    """(True, value, condition) when `obj` sets `key` (condition: the test of a `...(test && { key })` spread
    that sets it, else None), (False, None, None) when it surely does not, (None, None, None) when a spread it
    cannot read might."""
    for child in reversed(obj.named_children):
        if child.type == "pair" and key_text(child.child_by_field_name("key")) == key:
            return True, child.child_by_field_name("value"), None
        if child.type == "shorthand_property_identifier" and text(child) == key:
            return True, child, None
        if child.type == "spread_element":
            spread = unwrap(child.named_children[0] if child.named_children else None)
            guarded = _guarded_object(spread, depth)
            if guarded is not None:
                condition, inner = guarded
                found, value, _ = _option(inner, key, depth + 1)
                if found is not False:
                    return found, value, condition if found else None
                continue
            spread = _object_of(spread, depth + 1)
            if spread is None:
                return None, None, None
            found, value, condition = _option(spread, key, depth + 1)
            if found is not False:
                return found, value, condition
    return False, None, None


def _guarded_object(spread: Node | None, depth: int) -> tuple[Node, Node] | None:
    """(test, object) for `test && { ... }` and `test ? { ... } : {}`."""
    if spread is None or depth > MAX_DEPTH:
        return None
    if spread.type == "binary_expression" and text(spread.child_by_field_name("operator")) == "&&":
        inner = _object_of(spread.child_by_field_name("right"), depth + 1)
        return (spread.child_by_field_name("left"), inner) if inner is not None else None
    if spread.type == "ternary_expression":
        consequence = _object_of(spread.child_by_field_name("consequence"), depth + 1)
        alternative = _object_of(spread.child_by_field_name("alternative"), depth + 1)
        if consequence is not None and alternative is not None and not alternative.named_children:
            return spread.child_by_field_name("condition"), consequence
    return None


def _classify(value: Node | None, file: "FileContext", depth: int) -> StoreChoice:
    node = unwrap(value)
    if node is None or depth > MAX_DEPTH:
        return StoreChoice("unknown", value)
    if node.type in ("undefined", "null") or (node.type == "identifier" and text(node) == "undefined"):
        return StoreChoice("undefined", value)
    if node.type == "ternary_expression":
        return _ternary(node, file, depth)
    if node.type == "binary_expression" and text(node.child_by_field_name("operator")) == "&&":
        right = _classify(node.child_by_field_name("right"), file, depth + 1)
        if right.kind == "shared":
            return StoreChoice("conditional", value, node.child_by_field_name("left"), right.store_new)
        return StoreChoice("unknown", value)
    if node.type == "new_expression":
        name = resolve_imported(callee(node), file)
        if name is not None and name.path in _MEMORY_STORES.get(name.module, ()):
            return StoreChoice("memory", value)
        return StoreChoice("shared", value, store_new=node)
    if node.type in ("identifier", "shorthand_property_identifier"):
        return _variable(node, value, file, depth)
    return StoreChoice("shared", value)


def _ternary(node: Node, file: "FileContext", depth: int) -> StoreChoice:
    condition = node.child_by_field_name("condition")
    consequence = _classify(node.child_by_field_name("consequence"), file, depth + 1)
    alternative = _classify(node.child_by_field_name("alternative"), file, depth + 1)
    kinds = {consequence.kind, alternative.kind}
    shared = consequence if consequence.kind == "shared" else alternative
    if "shared" in kinds and kinds & {"undefined", "memory", "default"}:
        return StoreChoice("conditional", node, condition, shared.store_new)
    if kinds == {"shared"}:
        return StoreChoice("shared", node)
    if kinds <= {"undefined", "memory"}:
        return StoreChoice("memory", node)
    return StoreChoice("unknown", node)


def _variable(node: Node, value: Node | None, file: "FileContext", depth: int) -> StoreChoice:
    """`store: limiterStore`: what the variable holds when the limiter is built."""
    if file.binding(text(node)) is not None:
        return StoreChoice("shared", value)  # imported: built elsewhere
    binding = declaration_of(node)
    if binding is None or binding.kind != "variable" or binding.declarator is None or binding.path:
        return StoreChoice("unknown", value)
    definitions = definitions_before(binding, node)
    if not definitions:
        return StoreChoice("unknown", value)
    initial = binding.declarator.child_by_field_name("value")
    unset = initial is None or unwrap(initial).type in ("undefined", "null")
    choices = [(d, _classify(d.value, file, depth + 1)) for d in definitions]
    shared = [(d, c) for d, c in choices if c.kind == "shared"]
    conditions = [_branch_condition(d.anchor, binding.declarator) for d, _ in shared]
    if shared and unset and len(shared) == len(choices) - (initial is not None) and all(conditions):
        # `let store; if (redis) store = new RedisStore(...)`: unset on the other branch
        return StoreChoice("conditional", value, conditions[0], shared[0][1].store_new)
    if len(choices) == len(shared):
        single = shared[0][1] if len(shared) == 1 else StoreChoice("shared")
        return StoreChoice("shared", value, store_new=single.store_new)
    if len(choices) == 1 and choices[0][1].kind == "conditional":  # `const redis = url ? new Redis(url) : undefined`
        return choices[0][1]
    if all(c.kind in ("undefined", "memory") for _, c in choices):
        return StoreChoice("undefined" if all(c.kind == "undefined" for _, c in choices) else "memory", value)
    return StoreChoice("unknown", value)


def _branch_condition(node: Node, stop: Node) -> Node | None:
    """The test of the nearest `if` or `?:` around `node` (below the scope of `stop`)."""
    scope = stop.parent
    current = node.parent
    while current is not None and current != scope and current.type not in FUNCTION_TYPES:
        if current.type in _BRANCHING:
            return current.child_by_field_name("condition")
        current = current.parent
    return None


def other_branch_store(site: LimiterSite, file: "FileContext") -> Node | None:
    """The test of a branch point that builds this limiter without a shared store on one side and a limiter with
    one on the other (`if (mode === 'queue') rateLimit({ store }) else rateLimit({})`, or an `if` that returns
    the shared one before this), or None."""
    child, current = site.node, site.node.parent
    while current is not None and current.type not in FUNCTION_TYPES:
        if current.type in _BRANCHING:
            for other in _other_side(current, child):
                if _builds_shared_limiter(other, file):
                    return current.child_by_field_name("condition")
        if current.type == "statement_block" or current.type == "program":
            condition = _returning_branch_before(child, file)
            if condition is not None:
                return condition
        child, current = current, current.parent
    return None


def _returning_branch_before(statement: Node, file: "FileContext") -> Node | None:
    """`if (cluster) { return rateLimit({ store }) }` before `statement`: the test, else None."""
    sibling = statement.prev_named_sibling
    while sibling is not None:
        if sibling.type == "if_statement" and sibling.child_by_field_name("alternative") is None:
            consequence = sibling.child_by_field_name("consequence")
            returns = consequence is not None and any(n.type == "return_statement" for n in walk(consequence))
            if returns and _builds_shared_limiter(consequence, file):
                return sibling.child_by_field_name("condition")
        sibling = sibling.prev_named_sibling
    return None


def _other_side(branch: Node, child: Node) -> list[Node]:
    consequence = branch.child_by_field_name("consequence")
    alternative = branch.child_by_field_name("alternative")
    if child == consequence:
        if alternative is not None:
            return [alternative]
        # `if (!redis) return rateLimit({...});` then the shared one: the rest of the block is the other side.
        siblings = []
        sibling = branch.next_named_sibling
        while sibling is not None:
            siblings.append(sibling)
            sibling = sibling.next_named_sibling
        return siblings
    if child == alternative:
        return [consequence] if consequence is not None else []
    return []


def _builds_shared_limiter(node: Node, file: "FileContext") -> bool:
    for inner in walk(node):
        if inner.type in ("call_expression", "new_expression"):
            site = limiter_construction(inner, file)
            if site is not None and store_choice(site, file).kind == "shared":
                return True
    return False


def _short(source: str, limit: int = 40) -> str:
    source = " ".join(source.split())
    return source if len(source) <= limit else source[: limit - 3] + "…"


@dataclass(frozen=True)
class RedisStoreClient:
    """The client a rate-limit-redis `RedisStore` sends its commands through."""

    reference: dict | None  # see `linter.rules.ratelimit._redis_clients.value_reference`; None when it cannot be told
    lazy: bool  # `sendCommand` awaits something first (a lazy `getClient()`, `await connectRedis()`)


_SEND_METHODS = frozenset({"sendCommand", "call", "send_command"})


def redis_store_client(store_new: Node | None, file: "FileContext") -> RedisStoreClient | None:
    """For `new RedisStore({ sendCommand: (...args) => client.sendCommand(args) })` (rate-limit-redis): the
    client its `sendCommand` uses. None for any other store."""
    if store_new is None:
        return None
    name = resolve_imported(callee(store_new), file)
    if name is None or name.module not in REDIS_STORE_PACKAGES:
        return None
    arguments = arguments_of(store_new)
    options = _object_of(arguments[0], 0) if arguments else None
    if options is None:
        return RedisStoreClient(None, lazy=False)
    found, send, _ = _option(options, "sendCommand", 0)
    if not found:
        found, send, _ = _option(options, "sendCommandCluster", 0)
    send = unwrap(send)
    if not found or send is None or send.type not in FUNCTION_TYPES:
        return RedisStoreClient(None, lazy=False)
    sends = [n for n in walk(send) if n.type == "call_expression" and _is_send(n)]
    if not sends:
        return RedisStoreClient(None, lazy=False)
    receiver = unwrap(member_object(callee(sends[0])))
    # Something awaited before the command (`await connectRedis()`) may connect the client first.
    awaited = [unwrap(n.named_children[0]) for n in walk(send) if n.type == "await_expression" and n.named_children]
    lazy = calls_connect(send) or any(
        a is not None and a.type == "call_expression" and not _is_send(a) and not _contains(a, receiver) and not _contains(receiver, a)
        for a in awaited
    )
    return RedisStoreClient(value_reference(receiver, file), lazy)


def _is_send(call: Node) -> bool:
    target = callee(call)
    return target is not None and target.type == "member_expression" and property_name(target) in _SEND_METHODS


def _contains(outer: Node | None, inner: Node | None) -> bool:
    return outer is not None and inner is not None and outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte

