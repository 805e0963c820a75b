"""Endpoints strangers cannot call at will, left alone by ratelimit/unlimited-expensive-endpoint."""

from __future__ import annotations

import re

from linter import lazy_re
from linter.frameworks.admin_gates import PRIVILEGED, route_segments
from linter.js.expressions import arguments_of, callee, unwrap
from linter.syntax import Node, text

from ._endpoints import Endpoint, class_decorators, method_decorators

_NOT_PUBLIC_SEGMENT = lazy_re.compile(r"^(admin|crons?|callbacks?|debug)$|webhook", re.I)
# A check that only the app's own jobs pass: a queue's signature (QStash), a cron or internal secret.
_JOB_CHECK = lazy_re.compile(r"verify_?signature|qstash|cron_?secret|internal_?api_?key|internal_?secret|webhook_?secret", re.I)


def not_public(endpoint: Endpoint) -> bool:
    """An endpoint strangers cannot call at will: one only administrators reach (an `admin` path segment, or
    middleware, guards or decorators named for admins, staff or roles: `requireAdmin`, `@Roles('admin')`,
    `AdminGuard`), a scheduled job's (`/api/cron/...`), a webhook's (whose sender signs its calls), an OAuth
    callback's (which needs the provider's code) or a development aid's (`/debug/...`)."""
    if endpoint.route is not None and any(_NOT_PUBLIC_SEGMENT.search(part) for part in route_segments(endpoint.route)):
        return True
    if _called_by_jobs(endpoint):
        return True
    if endpoint.framework == "express":
        arguments = arguments_of(endpoint.registration)
        if arguments and unwrap(arguments[0]) is not None and unwrap(arguments[0]).type in ("string", "template_string"):
            arguments = arguments[1:]
        return any(PRIVILEGED.search(text(a)) for a in arguments[:-1])
    if endpoint.framework == "nest" and endpoint.handler is not None:
        klass = endpoint.handler.parent.parent if endpoint.handler.parent is not None else None
        decorators = method_decorators(endpoint.handler) + (class_decorators(klass) if klass is not None else [])
        return any(PRIVILEGED.search(text(expression)) for _, expression in decorators)
    return False


def not_public_prefix(prefix: str) -> bool:
    """A `use` path only administrators, jobs or webhooks are served under (`/api/admin`, `/hooks/webhook`)."""
    return any(_NOT_PUBLIC_SEGMENT.search(part) for part in route_segments(prefix))


def _called_by_jobs(endpoint: Endpoint) -> bool:
    """A queue's or a scheduler's endpoint: its handler, its wrappers or its middleware check a signature or a
    secret only the app's own jobs have (`withQstashOrInternal(...)`, `hasCronSecret(req)`)."""
    parts: list[Node] = []
    if endpoint.registration is not None:
        parts.extend(arguments_of(endpoint.registration)[1:])
    current = endpoint.handler
    while current is not None and current.parent is not None:
        parent = current.parent
        if parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
            parts.append(callee(parent.parent) or parent.parent)
            current = parent.parent
        elif parent.type in ("parenthesized_expression", "as_expression", "satisfies_expression"):
            current = parent
        else:
            break
    if endpoint.handler is not None:
        parts.append(endpoint.handler)
    return any(part is not None and _JOB_CHECK.search(text(part)) for part in parts)
