"""How often a piece of code runs: at module load, once behind a lazy-singleton guard, or on every call.

Rules that care whether something is created per request (a database client, a rate limiter, a cache) ask
`invocation(node, file)`. It looks at the functions around `node`:

- no function around it: module level, runs once per process;
- a function that runs only once: an IIFE, or a factory (or class) whose every caller in the file runs once,
  such as `const prismaClientSingleton = () => new PrismaClient()` used as `globalThis.prisma ?? prismaClientSingleton()`;
- a lazy singleton accessor, an init function or a plugin hook (see `linter.js.singletons`);
- otherwise it runs on every call, and the kind says of what: an Express handler or middleware (by its
  `(req, res, next)` parameters or its place in `router.get(...)`), a Next.js API route, route handler,
  server action, middleware or server component (by file conventions), a constructor, or a plain function.

Everything here is syntactic and per file; callers in other modules are not followed (an exported function
has unknown callers and counts as running on every call).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.frameworks.routes import MIDDLEWARE_METHODS, ROUTE_METHODS
from linter.frameworks.nextjs import (
    HTTP_METHODS,
    PER_REQUEST_PAGE_FUNCTIONS,
    has_use_server,
    is_app_rendered,
    is_app_route,
    is_next_middleware,
    is_pages_api,
    is_pages_file,
)
from linter.js.functions import (
    CLASS_FIELD_TYPES,
    REFERENCE_TYPES,
    class_of,
    enclosing_function,
    exported_name,
    exports_mention,
    function_body,
    function_chain,
    function_name,
    in_type_context,
    is_exported,
    parameter_names,
    value_holder,
)
from linter.js.singletons import init_target, is_plugin_function, lazy_singleton_target, registers_on_app
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, node_fact, text

REQUEST_NAMES = frozenset({"req", "request", "_req", "_request"})
RESPONSE_NAMES = frozenset({"res", "response", "_res", "_response", "reply"})
NEXT_NAMES = frozenset({"next", "_next"})
ERROR_NAMES = frozenset({"err", "error", "e", "_err", "_error"})

# Kinds of per-call code that run once per incoming request.
REQUEST_KINDS = frozenset(
    {
        "request-handler",
        "middleware",
        "pages-api",
        "route-handler",
        "server-action",
        "next-middleware",
        "server-render",
    }
)
MAX_CALLER_DEPTH = 4
MEMOIZER_NAME = lazy_re.compile(r"^(remember|memo|memoize|memoized|once|lazy|singleton|cached|getOrCreate|globalSingleton)$", re.I)
MAX_REFERENCES = 25

_KIND_PHRASES = {
    "request-handler": "on every request in this Express request handler",
    "middleware": "on every request in this Express middleware",
    "pages-api": "on every request to this Next.js API route",
    "route-handler": "on every request to this Next.js route handler",
    "server-action": "on every call of this server action",
    "next-middleware": "on every request in this Next.js middleware",
    "server-render": "on every request this page renders",
    "constructor": "for every instance of this class",
    "function": "on every call of this function",
}


@dataclass(frozen=True)
class Invocation:
    """How often the code at a node runs. `runs` is "once" (module level, or only called from there), "lazy"
    (cached in a module-level or global binding: a lazy accessor or an init function such as `connectDb()`),
    "setup" (a plugin hook that hands the value to the app: `server.decorate('prisma', prisma)`) or "per-call"."""

    runs: str
    kind: str | None = None  # for per-call: a key of _KIND_PHRASES
    function: Node | None = None  # the function that runs per call, or the lazy accessor
    anchor: Node | None = None  # for once: the module-level node the value is created under
    target: Node | None = None  # for lazy: the binding the value is cached in
    registered: bool = False  # for setup: the value is handed to the app (`server.decorate('prisma', prisma)`)

    @property
    def per_request(self) -> bool:
        return self.runs == "per-call" and self.kind in REQUEST_KINDS

    def phrase(self) -> str:
        """'on every request in this Express middleware', for messages."""
        return _KIND_PHRASES.get(self.kind or "function", _KIND_PHRASES["function"])


def invocation(node: Node, path: str, root: Node, _depth: int = 0) -> Invocation:
    """How often `node` (an expression) runs; `path` is the file's repository-relative path."""
    fn = enclosing_function(node)
    if fn is None:
        return Invocation("once", anchor=node)
    target = lazy_singleton_target(node, fn, root)
    if target is not None:
        return Invocation("lazy", function=fn, target=target)
    for outer in function_chain(fn):
        kind = handler_kind(outer, path, root)
        if kind is not None:
            return Invocation("per-call", kind=kind, function=outer)
    call = iife_call(fn)
    if call is not None and _depth < MAX_CALLER_DEPTH:
        return invocation(call, path, root, _depth + 1)
    memoizer = memoizer_call(fn)
    if memoizer is not None and _depth < MAX_CALLER_DEPTH and invocation(memoizer, path, root, _depth + 1).runs == "once":
        return Invocation("lazy", function=fn, target=memoizer)
    callers = call_sites(fn, root)
    if callers and _depth < MAX_CALLER_DEPTH:
        outcomes = [invocation(c, path, root, _depth + 1) for c in callers]
        per_call = [o for o in outcomes if o.runs == "per-call"]
        if per_call:
            return per_call[0]
        return next((o for o in outcomes if o.runs == "once"), outcomes[0])
    if not callers:
        # Unknown callers (an exported function, a plugin hook): judge by where the value goes.
        target = init_target(node, fn, root)
        if target is not None:
            return Invocation("lazy", function=fn, target=target)
        registered = registers_on_app(node, fn)
        if registered or is_plugin_function(fn):
            return Invocation("setup", function=fn, registered=registered)
    return Invocation("per-call", kind=_plain_kind(fn), function=fn)


def _plain_kind(fn: Node) -> str:
    if fn.type in CLASS_FIELD_TYPES:
        return "constructor"
    if fn.type == "method_definition" and function_name(fn) == "constructor":
        return "constructor"
    return "function"


def handler_kind(fn: Node, path: str, root: Node) -> str | None:
    """What kind of per-request entry point `fn` is, or None when it is not one."""
    if fn.type in CLASS_FIELD_TYPES:
        return None
    exported = exported_name(fn, root)
    if exported is not None:
        if is_app_route(path) and exported in HTTP_METHODS:
            return "route-handler"
        if is_pages_api(path) and exported == "default":
            return "pages-api"
        if is_next_middleware(path) and exported in ("middleware", "proxy", "default"):
            return "next-middleware"
        if has_use_server(root):
            return "server-action"
        if is_app_rendered(path) and exported == "default":
            return "server-render"
        if is_pages_file(path) and exported in PER_REQUEST_PAGE_FUNCTIONS:
            return "server-render"
    if has_use_server(function_body(fn)):
        return "server-action"
    kind = _express_kind_by_parameters(parameter_names(fn))
    if kind is not None:
        return "pages-api" if is_pages_api(path) else kind
    return _express_kind_by_registration(fn)


def _express_kind_by_parameters(names: list[str]) -> str | None:
    if len(names) >= 4 and names[0] in ERROR_NAMES and names[1] in REQUEST_NAMES and names[2] in RESPONSE_NAMES:
        return "middleware"
    if len(names) >= 2 and names[0] in REQUEST_NAMES and names[1] in RESPONSE_NAMES:
        return "middleware" if len(names) >= 3 and names[2] in NEXT_NAMES else "request-handler"
    return None


def _express_kind_by_registration(fn: Node) -> str | None:
    """`router.get('/x', async function () {...})`, `app.use(fn)`: a function passed to a router method."""
    parent = fn.parent
    if parent is None or parent.type != "arguments" or parent.parent is None:
        return None
    call = parent.parent
    callee = call.child_by_field_name("function")
    if call.type != "call_expression" or callee is None or callee.type != "member_expression":
        return None
    method = text(callee.child_by_field_name("property"))
    if method not in ROUTE_METHODS | MIDDLEWARE_METHODS:
        return None
    first = parent.named_children[0] if parent.named_children else None
    if method in MIDDLEWARE_METHODS:
        return "middleware"
    if method == "openapi":  # Hono's `app.openapi(route, handler)`
        return "request-handler"
    if first is not None and first.type in ("string", "template_string") and first != fn:
        return "request-handler"
    return None


def iife_call(fn: Node) -> Node | None:
    """The call that invokes `fn` right where it is defined: `(() => {...})()`, `(async function () {})()`."""
    current = fn
    while current.parent is not None and current.parent.type == "parenthesized_expression":
        current = current.parent
    parent = current.parent
    if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == current:
        return parent
    return None


def memoizer_call(fn: Node) -> Node | None:
    """The call of a memoizing helper that `fn` is the factory of: `remember('prisma', () => new PrismaClient())`,
    `once(() => ...)`, `lazy(() => ...)`. The helper's name says it caches; a factory takes no arguments."""
    parent = fn.parent
    if fn.type not in ("arrow_function", "function_expression", "function") or parameter_names(fn):
        return None
    if parent is None or parent.type != "arguments" or parent.parent is None:
        return None
    call = parent.parent
    callee = call.child_by_field_name("function")
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    if call.type != "call_expression" or callee is None or not MEMOIZER_NAME.match(text(callee)):
        return None
    return call


def call_sites(fn: Node, root: Node) -> list[Node] | None:
    """The calls of `fn` in its file (or `new C()` of its class for constructors and fields).

    None when they cannot all be known: the function is exported, used as a value, a method, or unnamed.
    """
    owner = fn
    if fn.type in CLASS_FIELD_TYPES or (fn.type == "method_definition" and function_name(fn) == "constructor"):
        owner = class_of(fn)
        if owner is None:
            return None
        name_node = owner.child_by_field_name("name")
        name = text(name_node) if name_node is not None else _declared_name(owner)
        if name is None or owner.parent is not None and owner.parent.type == "export_statement":
            return None
        if exports_mention(root, {name}, called_ok=True):
            return None
    elif fn.type == "method_definition" or (fn.parent is not None and fn.parent.type == "pair"):
        return None  # a method: called through its object, which this file may hand to anyone
    else:
        name = function_name(fn)
        if name is None or is_exported(fn, root):
            return None
    sites = []
    for node in node_fact(root, "references-by-name", _references_by_name).get(name, ()):
        parent = node.parent
        if parent is None or in_type_context(node) or _is_declaration_name(node, owner):
            continue
        if owner.start_byte <= node.start_byte < owner.end_byte:
            continue  # recursion or the declaration itself
        if parent.type == "call_expression" and parent.child_by_field_name("function") == node:
            sites.append(parent)
        elif parent.type == "new_expression" and parent.child_by_field_name("constructor") == node:
            sites.append(parent)
        else:
            return None
        if len(sites) > MAX_REFERENCES:
            return None
    return sites


def _references_by_name(root: Node) -> dict[str, list[Node]]:
    """The references under `root` by the name they read, each list in document order."""
    by_name: dict[str, list[Node]] = {}
    for node in descendants_of_types(root, REFERENCE_TYPES):
        by_name.setdefault(text(node), []).append(node)
    return by_name


def _declared_name(node: Node) -> str | None:
    holder = value_holder(node)
    if holder is not None and holder.type == "variable_declarator":
        return text(holder.child_by_field_name("name")) or None
    return None


def _is_declaration_name(node: Node, owner: Node) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("name") == node
