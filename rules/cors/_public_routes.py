"""NestJS routes that answer every visitor alike, so a credentialed CORS response set by hand leaks nothing.

A route reads a credential through a guard (`@UseGuards(...)` on the method or its controller, or a global
guard: `APP_GUARD`, `app.useGlobalGuards(...)`) or in its code (the user, a cookie, a session, the
`Authorization` header, a token). `unguarded_nest_route` answers in the file phase for the function that sets
the headers: a route handler of a `@Controller` class, or a method of it that only route handlers call (one
level). `global_guard_reads_credentials` answers in the project phase: a rate-limit guard (`ThrottlerGuard` or a
class extending it) reads none; any other global guard, or one this cannot name, may.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.frameworks.nestjs import class_decorators, method_decorators
from linter.js.expressions import callee
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.project import ProjectIndex

_ROUTE_DECORATORS = frozenset({"Get", "Post", "Put", "Patch", "Delete", "Head", "Options", "All", "Search"})
# What code that reads a credential writes (case-insensitive; `LoginedUser`, `req.cookies`, `getSession`).
_CREDENTIAL_READ = lazy_re.compile(rb"(?i)user|cookie|session|authoriz|token|principal|passport")
_GLOBAL_GUARD = lazy_re.compile(rb"APP_GUARD|useGlobalGuards")
_APP_GUARD_PROVIDER = lazy_re.compile(rb"provide\s*:\s*APP_GUARD\b")
_APP_GUARD_CLASS = lazy_re.compile(rb"provide\s*:\s*APP_GUARD\s*,\s*useClass\s*:\s*([\w$]+)\s*[,}]")
_GLOBAL_GUARDS_CALL = lazy_re.compile(rb"useGlobalGuards\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_RATE_LIMIT_GUARD = b"ThrottlerGuard"


def unguarded_nest_route(fn: Node, source: bytes) -> bool:
    """`fn` runs only in NestJS route handlers with no guard of their own or of their controller, and neither it
    nor they read a credential."""
    body = fn.parent
    klass = body.parent if body is not None and body.type == "class_body" else None
    if fn.type != "method_definition" or klass is None:
        return False
    controller = [_name(d) for d in class_decorators(klass)]
    if "Controller" not in controller or "UseGuards" in controller:
        return False
    routes = [fn] if _is_route(fn) else _route_callers(fn, body)
    if not routes or any(name == "UseGuards" for route in routes for name, _ in method_decorators(route)):
        return False
    return not any(_CREDENTIAL_READ.search(source[n.start_byte : n.end_byte]) for n in {fn, *routes})


def global_guard_reads_credentials(project: "ProjectIndex") -> bool:
    def compute() -> bool:
        sources = [project.read_js_source(path) or b"" for path in sorted(project.files)]
        guards: list[bytes] = []
        for source in sources:
            if _GLOBAL_GUARD.search(source) is None:
                continue
            named = [m.group(1) for m in _APP_GUARD_CLASS.finditer(source)]
            if len(_APP_GUARD_PROVIDER.findall(source)) > len(named):
                return True  # a provider written another way (useExisting, useFactory)
            guards.extend(named)
            for call in _GLOBAL_GUARDS_CALL.finditer(source):
                guards.extend(re.findall(rb"new\s+([\w$]+)", call.group(1)) or [b"?"])
        limiters = {_RATE_LIMIT_GUARD} | {
            m.group(1) for source in sources for m in re.finditer(rb"class\s+([\w$]+)\s+extends\s+ThrottlerGuard\b", source)
        }
        return any(guard not in limiters for guard in guards)

    return project.memo("rules.cors.global-guard-reads-credentials", compute)


def _is_route(method: Node) -> bool:
    return any(name in _ROUTE_DECORATORS for name, _ in method_decorators(method))


def _route_callers(fn: Node, body: Node) -> list[Node]:
    """The other members of the class that write `fn`'s name, when there are some and each is a route handler;
    else none."""
    name = fn.child_by_field_name("name")
    if name is None:
        return []
    word = re.compile(rb"(?<![\w$])" + re.escape(text(name).encode()) + rb"(?![\w$])")
    members = [m for m in body.named_children if m.type not in ("decorator", "comment")]
    callers = [m for m in members if m != fn and word.search(m.text or b"")]
    return callers if callers and all(m.type == "method_definition" and _is_route(m) for m in callers) else []


def _name(expression: Node) -> str:
    function = callee(expression) if expression.type == "call_expression" else expression
    return text(function) if function is not None else ""
