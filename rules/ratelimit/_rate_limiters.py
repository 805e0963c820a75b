"""Rate limiter constructions and where they keep their counts.

Recognised: express-rate-limit (`rateLimit({...})`, `rateLimit.default(...)`, `new RateLimit({...})`),
express-slow-down (`slowDown({...})`) and rate-limiter-flexible's `new RateLimiterMemory(...)` (always in
memory; left out when it is the `insuranceLimiter` of another limiter, where memory is the point).

`store_choice` reads the `store` option (through an options variable and `...spread`s of same-file objects):
no `store` or `store: undefined` keeps the counts in the process (`default` / `undefined`), so does
`new MemoryStore()` (`memory`); a store set on one branch only (`redis ? new RedisStore(...) : undefined`,
`let store; if (redis) store = ...`) is `conditional`; anything else is taken to be `shared`; options it cannot
read are `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of, definitions_before
from linter.js.expressions import arguments_of, callee, key_text, member_object, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.rules.ratelimit._redis_clients import calls_connect, value_reference
from linter.js.references import resolve_imported
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

LIMITER_PACKAGES = ("express-rate-limit", "express-slow-down", "rate-limiter-flexible")
# Every package that rate limits requests, whatever it keeps its counts in.
RATE_LIMIT_PACKAGES = frozenset(
    {*LIMITER_PACKAGES, "@upstash/ratelimit", "@nestjs/throttler", "@fastify/rate-limit", "hono-rate-limiter",
     "express-brute", "koa-ratelimit", "@arcjet/next", "@arcjet/node", "next-rate-limit", "rate-limit-redis"}
)  # fmt: skip
# Packages whose stores keep counts outside the process.
REDIS_STORE_PACKAGES = ("rate-limit-redis",)
_FACTORIES = {
    "express-rate-limit": frozenset({(), ("rateLimit",)}),
    "express-slow-down": frozenset({(), ("slowDown",)}),
}
_MEMORY_LIMITERS = {"rate-limiter-flexible": frozenset({("RateLimiterMemory",)})}
_MEMORY_STORES = {"express-rate-limit": frozenset({("MemoryStore",)}), "express-slow-down": frozenset({("MemoryStore",)})}
_BRANCHING = frozenset({"if_statement", "ternary_expression"})
MAX_DEPTH = 4


@dataclass(frozen=True)
class LimiterSite:
    node: Node  # the call or `new`
    library: str  # npm package
    label: str  # "`rateLimit()`", as written
    in_memory_class: bool  # a limiter class that only ever counts in memory (`RateLimiterMemory`)


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
        return None
    label = f"`{_short(text(target))}()`"
    if name.path in _FACTORIES.get(name.module, ()):
        return LimiterSite(node, name.module, label, in_memory_class=False)
    if node.type == "new_expression" and name.path in _MEMORY_LIMITERS.get(name.module, ()):
        if is_insurance_limiter(node):
            return None
        return LimiterSite(node, name.module, f"`new {_short(text(target))}()`", in_memory_class=True)
    return None


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
    if not arguments:
        return StoreChoice("default")
    options = _object_of(arguments[0], 0)
    if options is None:
        return StoreChoice("unknown")
    found, value = _option(options, "store", 0)
    if found is None:
        return StoreChoice("unknown")
    if not found:
        return StoreChoice("default")
    return _classify(value, file, 0)


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


def _option(obj: Node, key: str, depth: int) -> tuple[bool | None, Node | None]:
    """(True, value) when `obj` sets `key`, (False, None) when it surely does not, (None, None) when a spread
    it cannot read might."""
    for child in reversed(obj.named_children):
        if child.type == "pair" and key_text(child.child_by_field_name("key")) == key:
            return True, child.child_by_field_name("value")
        if child.type == "shorthand_property_identifier" and text(child) == key:
            return True, child
        if child.type == "spread_element":
            spread = _object_of(child.named_children[0] if child.named_children else None, depth + 1)
            if spread is None:
                return None, None
            found, value = _option(spread, key, depth + 1)
            if found is not False:
                return found, value
    return False, None


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


def _short(source: str) -> str:
    source = " ".join(source.split())
    return source if len(source) <= 40 else source[:37] + "…"


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
    found, send = _option(options, "sendCommand", 0)
    if not found:
        found, send = _option(options, "sendCommandCluster", 0)
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

