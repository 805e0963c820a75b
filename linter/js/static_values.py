"""The value of an expression when the code alone fixes it: literals, arithmetic on them (`60 * 60 * 24`),
templates of constants, and `const` bindings of the same file (`const TTL = '7d'`, `config.jwt.expiresIn` in
`const config = { jwt: { expiresIn: '7d' } }`).

Anything that depends on the run is unknown (None): environment reads, fallbacks (`process.env.X || '7d'`),
parameters, `let`/`var` bindings, imports, calls.
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.expressions import member_chain, object_keys, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, text

Value = int | float | str
MAX_DEPTH = 8
_SCOPES = frozenset({"statement_block", "program", "switch_body", "class_body"})
_FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
     "generator_function_declaration", "generator_function"}
)  # fmt: skip
_JS_NUMBER = lazy_re.compile(r"^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")


def constant_value(node: Node | None, depth: int = 0) -> Value | None:
    """The number or string `node` always evaluates to, or None when the code alone does not fix it."""
    node = unwrap(node)
    if node is None or depth > MAX_DEPTH:
        return None
    kind = node.type
    if kind == "number":
        return _number(text(node))
    if kind == "string":
        return string_value(node)
    if kind == "template_string":
        return _template(node, depth)
    if kind == "unary_expression":
        operand = constant_value(node.child_by_field_name("argument"), depth + 1)
        operator = text(node.child_by_field_name("operator"))
        if isinstance(operand, (int, float)) and operator in ("-", "+"):
            return -operand if operator == "-" else operand
        return None
    if kind == "binary_expression":
        return _arithmetic(node, depth)
    if kind == "identifier":
        return constant_value(const_initializer(node), depth + 1)
    if kind in ("member_expression", "subscript_expression"):
        return constant_value(member_initializer(node), depth + 1)
    return None


def _number(literal: str) -> int | float | None:
    literal = literal.replace("_", "")
    if not _JS_NUMBER.match(literal):
        return None  # bigint (`10n`) and anything unexpected
    if literal[:2].lower() in ("0x", "0o", "0b"):
        return int(literal, 0)
    value = float(literal)
    return int(value) if value.is_integer() and "e" not in literal.lower() and "." not in literal else value


def _template(node: Node, depth: int) -> str | None:
    parts = []
    for child in node.named_children:
        if child.type in ("string_fragment", "escape_sequence"):
            parts.append(text(child))
        elif child.type == "template_substitution":
            inner = [c for c in child.named_children if c.type != "comment"]
            value = constant_value(inner[0], depth + 1) if len(inner) == 1 else None
            if value is None:
                return None
            parts.append(f"{value:g}" if isinstance(value, float) else str(value))
    return "".join(parts)


def _arithmetic(node: Node, depth: int) -> Value | None:
    operator = text(node.child_by_field_name("operator"))
    if operator not in ("+", "-", "*", "/", "%", "**"):
        return None
    left = constant_value(node.child_by_field_name("left"), depth + 1)
    right = constant_value(node.child_by_field_name("right"), depth + 1)
    if isinstance(left, str) and isinstance(right, str) and operator == "+":
        return left + right
    if not isinstance(left, (int, float)) or not isinstance(right, (int, float)):
        return None
    try:
        if operator == "+":
            return left + right
        if operator == "-":
            return left - right
        if operator == "*":
            return left * right
        if operator == "/":
            return left / right
        if operator == "%":
            return left % right
        return left**right if abs(right) < 64 else None
    except (ZeroDivisionError, OverflowError):
        return None


def const_initializer(identifier: Node) -> Node | None:
    """The initializer of the `const` that `identifier` refers to, found in the blocks around it, innermost
    first. None when the nearest declaration of the name is not a plain `const` (a parameter, `let`, `var`,
    a destructuring, an import) or there is none."""
    name = text(identifier)
    scope = identifier.parent
    while scope is not None:
        if scope.type in _FUNCTIONS and _declares_parameter(scope, name):
            return None
        if scope.type in _SCOPES:
            found, value = _declared_in(scope, name)
            if found:
                return value
        scope = scope.parent
    return None


def member_initializer(node: Node) -> Node | None:
    """The value `a.b.c` has in `const a = { b: { c: … } }` (same file, a `const` object literal)."""
    node, path = member_chain(node)
    if node is None or node.type != "identifier":
        return None
    value = const_initializer(node)
    for key in path:
        value = unwrap(value)
        if value is not None and value.type == "identifier":
            value = unwrap(const_initializer(value))
        if value is None or value.type != "object":
            return None
        value = object_keys(value).get(key)
    return value


def _declared_in(scope: Node, name: str) -> tuple[bool, Node | None]:
    """(whether `scope` declares `name` itself, the `const` initializer if that declaration is a plain const)."""
    for statement in scope.named_children:
        if statement.type == "export_statement":
            statement = statement.child_by_field_name("declaration") or statement
        if statement.type not in ("lexical_declaration", "variable_declaration"):
            continue
        is_const = statement.children and text(statement.children[0]) == "const"
        for declarator in statement.named_children:
            if declarator.type != "variable_declarator":
                continue
            target = declarator.child_by_field_name("name")
            if target is None:
                continue
            if target.type == "identifier" and text(target) == name:
                return True, declarator.child_by_field_name("value") if is_const else None
            if target.type != "identifier" and re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text(target)):
                return True, None
    return False, None


def _declares_parameter(fn: Node, name: str) -> bool:
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    return params is not None and re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text(params)) is not None
