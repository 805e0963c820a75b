"""Conditions that tell development from production: `process.env.NODE_ENV !== 'production'`, `isDev`,
`config.isProduction`, `app.get('env') === 'development'`.

Rules use them to leave alone what only runs on a developer's machine (`if (isDev) return callback(null, true)`).
Only whole conditions are read here; callers split `&&`, `||` and `!` themselves.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.expressions import property_name, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, text

# Names of settings that hold the deployment environment, compared to a string.
_ENVIRONMENT_SETTING = lazy_re.compile(r"^(node_?env|env|environment|app_?env|stage|deploy_?env|runtime_?env|mode)$", re.I)
_DEVELOPMENT_VALUES = frozenset({"development", "dev", "local", "test", "testing"})
_PRODUCTION_VALUES = frozenset({"production", "prod"})
# Boolean flags by name: `isDev`, `IS_DEVELOPMENT`, `__DEV__`, `config.isProduction`, `dev` (a Next custom server).
_DEVELOPMENT_FLAG = lazy_re.compile(r"^_*(is_?)?(dev|development|local|debug|localhost)_*$", re.I)
_PRODUCTION_FLAG = lazy_re.compile(r"^_*(is_?)?(prod|production)_*$", re.I)
_EQUALS = frozenset({"===", "=="})
_NOT_EQUALS = frozenset({"!==", "!="})


def development_when_true(condition: Node | None) -> bool | None:
    """True when `condition` holds only in development, False when it holds only in production, None when it
    says nothing about the environment."""
    condition = unwrap(condition)
    if condition is None:
        return None
    if condition.type in ("identifier", "member_expression"):
        return _flag(condition)
    if condition.type == "call_expression":  # `isDevelopment()`
        function = unwrap(condition.child_by_field_name("function"))
        return _flag(function) if function is not None else None
    if condition.type != "binary_expression":
        return None
    operator = text(condition.child_by_field_name("operator"))
    if operator not in _EQUALS and operator not in _NOT_EQUALS:
        return None
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    value = string_value(unwrap(right)) if _is_environment_setting(left) else None
    if value is None and _is_environment_setting(right):
        value = string_value(unwrap(left))
    if value is None:
        return None
    value = value.lower()
    if value in _DEVELOPMENT_VALUES:
        development = True
    elif value in _PRODUCTION_VALUES:
        development = False
    else:
        return None
    return development if operator in _EQUALS else not development


def _flag(node: Node | None) -> bool | None:
    name = _last_name(node)
    if name is None:
        return None
    if _DEVELOPMENT_FLAG.match(name):
        return True
    if _PRODUCTION_FLAG.match(name):
        return False
    return None


def _is_environment_setting(node: Node | None) -> bool:
    """`process.env.NODE_ENV`, `env.NODE_ENV`, `config.env`, a local `nodeEnv`, `app.get('env')`."""
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "call_expression":
        arguments = node.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        return property_name(unwrap(node.child_by_field_name("function"))) == "get" and string_value(first) == "env"
    name = _last_name(node)
    return name is not None and bool(_ENVIRONMENT_SETTING.match(name))


def _last_name(node: Node | None) -> str | None:
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "identifier":
        return text(node)
    if node.type in ("member_expression", "subscript_expression"):
        return property_name(node)
    return None
