"""Values created once and kept: lazy singleton accessors, init functions and plugin hooks.

- lazy accessor: the value is stored in a module-level or `globalThis` binding behind a "not yet created" guard
  (`if (!client) client = ...`, `globalThis.x ??= ...`, `global.x || (global.x = ...)`, an early
  `if (cached.client) return cached.client`), or in a module-level `Map` (`clients.set(key, ...)`);
- init function: an exported function that stores the value in a module-level binding without returning it
  (`export function connectDb() { prisma = new PrismaClient() }`, called once at startup);
- plugin hook: a function handed the app (`fastify`, `server`, `app`) or one that registers the value on it
  (`server.decorate('prisma', prisma)`, `server.app.prisma = prisma`, `app.locals.db = db`).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.functions import (
    EXPRESSION_WRAPPERS,
    FUNCTION_TYPES,
    enclosing_function,
    function_body,
    function_chain,
    is_commonjs_export,
    is_static,
    parameter_names,
)
from linter.syntax import Node, descendants_of_types, text, walk

GLOBAL_OBJECTS = frozenset({"global", "globalThis", "window", "self"})
PLUGIN_HOSTS = frozenset({"fastify", "server", "app", "instance", "router", "api"})
CONNECTION_STATE = lazy_re.compile(r"readyState|isConnected|\bconnected\b|isReady|isOpen")


def value_root(node: Node) -> Node:
    """The outermost expression that still *is* `node`'s value: through parentheses, `await`, type casts and
    chained calls (`new PrismaClient().$extends(...)`, `mongoose.connect(uri).then(...)`)."""
    current = node
    while current.parent is not None:
        parent = current.parent
        if parent.type in EXPRESSION_WRAPPERS:
            current = parent
            continue
        if (
            parent.type == "member_expression"
            and parent.child_by_field_name("object") == current
            and parent.parent is not None
            and parent.parent.type == "call_expression"
            and parent.parent.child_by_field_name("function") == parent
        ):
            current = parent.parent
            continue
        return current
    return current


def lazy_singleton_target(node: Node, fn: Node, root: Node) -> Node | None:
    """The module-level or global binding `node`'s value is cached in behind a "not yet created" guard, when
    `fn` is a lazy singleton accessor; else None."""
    value = value_root(node)
    parent = value.parent
    if parent is None:
        return None
    if parent.type == "augmented_assignment_expression" and parent.child_by_field_name("right") == value:
        operator = text(parent.child_by_field_name("operator"))
        left = parent.child_by_field_name("left")
        if operator in ("??=", "||=") and left is not None and is_persistent(left, fn, root):
            return left
        return None
    if parent.type == "binary_expression" and parent.child_by_field_name("right") == value:
        # `T = T ?? create()` / `T = T || create()`
        operator = text(parent.child_by_field_name("operator"))
        holder = value_root(parent).parent
        left = parent.child_by_field_name("left")
        if operator in ("??", "||") and holder is not None and holder.type == "assignment_expression":
            target = holder.child_by_field_name("left")
            if target is not None and left is not None and _same(target, left) and is_persistent(target, fn, root):
                return target
        return None
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == value:
        target = parent.child_by_field_name("left")
        if target is not None and is_persistent(target, fn, root) and _guarded(parent, text(target), fn):
            return target
        return None
    if parent.type == "arguments" and parent.parent is not None:
        # `cache.set(key, create())` on a module-level Map: a keyed cache
        callee = parent.parent.child_by_field_name("function")
        if callee is not None and callee.type == "member_expression":
            method = text(callee.child_by_field_name("property"))
            owner = callee.child_by_field_name("object")
            if method == "set" and owner is not None and is_persistent(owner, fn, root):
                return owner
        return None
    if parent.type == "expression_statement" and _guarded_by_connection_state(parent, fn):
        return parent
    if parent.type == "variable_declarator":
        # `const client = new X(); ...; cached.client = client;` behind `if (cached.client) return cached.client`
        for assignment in _stores_of_local(parent, fn):
            target = assignment.child_by_field_name("left")
            if target is not None and is_persistent(target, fn, root) and _guarded(assignment, text(target), fn):
                return target
    return None


def _stores_of_local(declarator: Node, fn: Node) -> list[Node]:
    """Assignments `T = name` in `fn` of the local variable that `declarator` declares."""
    name = declarator.child_by_field_name("name")
    body = function_body(fn)
    if name is None or name.type != "identifier" or body is None:
        return []
    local = text(name)
    stores = []
    for node in descendants_of_types(body, ("assignment_expression",)):
        right = node.child_by_field_name("right")
        while right is not None and right.type in EXPRESSION_WRAPPERS and right.named_children:
            right = right.named_children[0]
        if right is not None and right.type == "identifier" and text(right) == local:
            stores.append(node)
    return stores


def init_target(node: Node, fn: Node, root: Node) -> Node | None:
    """The module-level or global binding an init function stores the value in, unguarded:
    `export function connectDb() { prisma = new PrismaClient() }` (called once at startup)."""
    value = value_root(node)
    parent = value.parent
    if parent is not None and parent.type == "variable_declarator":
        stores = _stores_of_local(parent, fn)
        parent = stores[0] if len(stores) == 1 else None
    elif parent is not None and (parent.type != "assignment_expression" or parent.child_by_field_name("right") != value):
        parent = None
    if parent is None:
        return None
    target = parent.child_by_field_name("left")
    if target is None or is_commonjs_export(target) or not is_persistent(target, fn, root):
        return None
    if target.type != "identifier" and target.type not in ("member_expression", "subscript_expression"):
        return None
    base = target
    while base.type in ("member_expression", "subscript_expression"):
        base = base.child_by_field_name("object") or base
        if base.type == "this":
            return None  # `this.client = ...` in a method: per instance
    body = function_body(fn)
    if body is None or body.type != "statement_block":
        return None  # `() => (client = create())` hands out a new one per call
    for statement in descendants_of_types(body, ("return_statement",)):
        if enclosing_function(statement) == fn:
            if _mentions_text(statement, text(target)):
                return None  # a getter that re-creates on every call, not an init function
    return target


def registers_on_app(node: Node, fn: Node) -> bool:
    """True when `fn` hands the value created at `node` to the app for every request to share: a Fastify
    `server.decorate('prisma', prisma)`, a Hapi `server.app.prisma = prisma`, Express `app.locals.db = db` /
    `app.set('db', db)`, Koa `app.context.db = db` — a plugin or bootstrap hook that runs once."""
    names = {n for n in bound_names(node, stop=fn) if re.fullmatch(r"[\w$]+", n)}
    body = function_body(fn)
    if body is None:
        return False
    for candidate in descendants_of_types(body, ("call_expression", "assignment_expression")):
        if candidate.type == "call_expression":
            callee = candidate.child_by_field_name("function")
            method = text(callee.child_by_field_name("property")) if callee is not None and callee.type == "member_expression" else ""
            arguments = candidate.child_by_field_name("arguments")
            if method in ("decorate", "set", "provide") and arguments is not None and len(arguments.named_children) >= 2:
                value = arguments.named_children[1]
                if (value.type == "identifier" and text(value) in names) or _contains(value, node):
                    return method != "set" or arguments.named_children[0].type == "string"
        elif candidate.type == "assignment_expression":
            left = candidate.child_by_field_name("left")
            right = candidate.child_by_field_name("right")
            if left is None or right is None or not re.search(r"\.(app|locals|context)\.[\w$]+$", text(left)):
                continue
            if (right.type == "identifier" and text(right) in names) or _contains(right, node):
                return True
    return False


def is_plugin_function(fn: Node) -> bool:
    """A plugin or route-registration function that the app calls once at startup with itself:
    `export default async function healthRoutes(fastify: FastifyInstance)`, `register(server)`,
    `module.exports = (app) => { app.get(...) }`."""
    names = parameter_names(fn)
    return bool(names) and names[0] in PLUGIN_HOSTS


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _same(a: Node, b: Node) -> bool:
    return _compact(text(a)) == _compact(text(b))


def _compact(source: str) -> str:
    return re.sub(r"\s+", "", source)


def _mentions_text(condition: Node, target: str) -> bool:
    pattern = r"(?<![\w$.])" + re.escape(_compact(target)) + r"(?![\w$])"
    # Drop whitespace only around punctuation (`global . prisma`), never between words (`return client`).
    source = re.sub(r"\s*([^\w$\s])\s*", r"\1", text(condition))
    return re.search(pattern, source) is not None


def _guarded(assignment: Node, target: str, fn: Node) -> bool:
    """True when the assignment to `target` only runs while `target` is not yet set."""
    current = assignment
    while current is not None and current != fn:
        parent = current.parent
        if parent is None:
            return False
        if parent.type in ("if_statement", "ternary_expression"):
            condition = parent.child_by_field_name("condition")
            if condition is not None and condition != current and _mentions_text(condition, target):
                return True
        if parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) in ("||", "??"):
            left = parent.child_by_field_name("left")
            if left is not None and left != current and _compact(text(left)) == _compact(target):
                return True
        if parent.type == "statement_block" and _early_return_before(parent, current, target):
            return True
        current = parent
    return False


def _early_return_before(block: Node, statement: Node, target: str) -> bool:
    """`if (client) return client;` earlier in the same block."""
    for sibling in block.named_children:
        if sibling.start_byte >= statement.start_byte:
            return False
        if sibling.type != "if_statement":
            continue
        condition = sibling.child_by_field_name("condition")
        consequence = sibling.child_by_field_name("consequence")
        if condition is None or consequence is None or not _mentions_text(condition, target):
            continue
        if any(n.type in ("return_statement", "throw_statement") for n in walk(consequence)):
            return True
    return False


def _guarded_by_connection_state(statement: Node, fn: Node) -> bool:
    """`if (mongoose.connection.readyState === 0) await mongoose.connect(uri)`: connects only when not connected."""
    current = statement
    while current is not None and current != fn:
        parent = current.parent
        if parent is None:
            return False
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            if condition is not None and CONNECTION_STATE.search(text(condition)):
                return True
        if parent.type == "statement_block":
            for sibling in parent.named_children:
                if sibling.start_byte >= current.start_byte:
                    break
                condition = sibling.child_by_field_name("condition") if sibling.type == "if_statement" else None
                if condition is not None and CONNECTION_STATE.search(text(condition)):
                    return True
        current = parent
    return False


def is_persistent(target: Node, fn: Node, root: Node) -> bool:
    """True when `target` outlives one call of `fn`: a module-level binding, a property of `globalThis`/`global`
    or of a module-level object, or a static property (`this.x` in a static method)."""
    while target.type in EXPRESSION_WRAPPERS and target.named_children:
        target = target.named_children[0]
    if target.type == "identifier":
        return not declared_in_functions(text(target), fn)
    if target.type in ("member_expression", "subscript_expression"):
        base = target
        while base.type in ("member_expression", "subscript_expression") or base.type in EXPRESSION_WRAPPERS:
            inner = base.child_by_field_name("object") if base.type not in EXPRESSION_WRAPPERS else None
            if inner is None:
                inner = base.named_children[0] if base.named_children else None
            if inner is None:
                return False
            base = inner
        if base.type == "this":
            return fn.type == "method_definition" and is_static(fn)
        if base.type == "identifier":
            name = text(base)
            return name in GLOBAL_OBJECTS or not declared_in_functions(name, fn)
    return False


def declared_in_functions(name: str, fn: Node) -> bool:
    """True when `name` is a parameter or local variable of `fn` or of a function around it."""
    for outer in function_chain(fn):
        if name in parameter_names(outer):
            return True
        body = function_body(outer)
        if body is None:
            continue
        stack = [body]
        while stack:
            node = stack.pop()
            if node.type in FUNCTION_TYPES and node != outer:
                continue
            if node.type == "variable_declarator":
                declared = node.child_by_field_name("name")
                if declared is not None and (
                    (declared.type == "identifier" and text(declared) == name) or _pattern_binds(declared, name)
                ):
                    return True
            stack.extend(node.named_children)
    return False


def _pattern_binds(pattern: Node, name: str) -> bool:
    if pattern.type not in ("object_pattern", "array_pattern"):
        return False
    return any(
        n.type in ("identifier", "shorthand_property_identifier_pattern") and text(n) == name for n in walk(pattern)
    )


def bound_names(node: Node, stop: Node | None = None) -> set[str]:
    """The names the value created at `node` is stored under on its way up to `stop` (or the program):
    declarator names and assignment targets (`prisma`, `global.prisma`)."""
    names: set[str] = set()
    current = node
    while current.parent is not None and current != stop:
        parent = current.parent
        if parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.add(text(name))
        elif parent.type in ("assignment_expression", "augmented_assignment_expression"):
            left = parent.child_by_field_name("left")
            if left is not None:
                names.add(text(left))
                if left.type in ("member_expression", "subscript_expression"):
                    names.add(text(left.child_by_field_name("property") or left))
        current = parent
    return names
