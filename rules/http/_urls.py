"""Where a request goes, as far as the code fixes it.

`destination(node)` reads a URL expression: a string or template (`'https://api.github.com/…'`,
`` `${API_BASE}/v1/charges` ``), a `const` of the same file, `new URL(path, base)`, `url.toString()`,
`url.href`, and string concatenation. It says:

- EXTERNAL, with the host when the code names one: an absolute `http(s)://` URL to another host (an `https://`
  URL whose host is computed counts too);
- LOCAL: an absolute URL to this machine or to a service of the same network (`localhost`, `127.0.0.1`, a host
  name without a dot such as `http://api:3000`);
- RELATIVE: a path (`/api/users`), which only a browser (or a client with a base URL) can request;
- None: anything the code does not fix (an environment variable, a parameter).

`imported_head(node)` is the name a URL starts with when that name is not written in this file
(`` `${GOOGLE_FAVICON_URL}${domain}` ``, `localhostUri + port`): the project phase reads it where it is
exported (`destination` of that value).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, member_object, property_name, unwrap
from linter.js.imports import string_value
from linter.js.static_values import const_initializer
from linter.syntax import Node, text

EXTERNAL, LOCAL, RELATIVE = "external", "local", "relative"
_ABSOLUTE = lazy_re.compile(r"^(https?)://([^/:?#]*)", re.IGNORECASE)
_LOCAL_HOST = lazy_re.compile(
    r"^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|[^.]+|.*\.(local|internal|localhost))$",
    re.IGNORECASE,
)
_MAX_DEPTH = 4


def destination(node: Node | None, depth: int = 0) -> tuple[str, str | None] | None:
    """(EXTERNAL | LOCAL | RELATIVE, the host if the code names it), or None when the code does not fix it."""
    node = unwrap(node)
    if node is None or depth > _MAX_DEPTH:
        return None
    kind = node.type
    if kind == "string":
        return _of_text(string_value(node) or "", computed_host=False)
    if kind == "template_string":
        return _template(node, depth)
    if kind == "identifier":
        return destination(const_initializer(node), depth + 1)
    if kind == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
        return destination(node.child_by_field_name("left"), depth + 1)
    if kind == "new_expression" and text(callee(node)) == "URL":
        arguments = arguments_of(node)
        if len(arguments) >= 2:
            own = destination(arguments[0], depth + 1)
            return own if own is not None and own[0] != RELATIVE else destination(arguments[1], depth + 1)
        return destination(arguments[0], depth + 1) if arguments else None
    if kind == "call_expression":
        function = callee(node)
        if function is not None and function.type == "member_expression" and property_name(function) in ("toString", "concat"):
            return destination(member_object(function), depth + 1)
        if text(function) == "String" and arguments_of(node):
            return destination(arguments_of(node)[0], depth + 1)
        return None
    if kind == "member_expression" and property_name(node) == "href":
        return destination(member_object(node), depth + 1)
    return None


def imported_head(node: Node | None, depth: int = 0) -> Node | None:
    """The identifier the URL `node` starts with, when this file does not give it a value (see the module)."""
    node = unwrap(node)
    if node is None or depth > _MAX_DEPTH:
        return None
    if node.type == "identifier":
        value = const_initializer(node)
        return node if value is None else imported_head(value, depth + 1)
    if node.type == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
        return imported_head(node.child_by_field_name("left"), depth + 1)
    if node.type == "template_string":
        parts = [c for c in node.named_children if c.type != "comment"]
        if parts and parts[0].type == "template_substitution":
            inner = [c for c in parts[0].named_children if c.type != "comment"]
            return imported_head(inner[0], depth + 1) if len(inner) == 1 else None
    return None


def _template(node: Node, depth: int) -> tuple[str, str | None] | None:
    parts = [c for c in node.named_children if c.type != "comment"]
    if not parts:
        return None
    head = parts[0]
    if head.type == "template_substitution":
        inner = [c for c in head.named_children if c.type != "comment"]
        return destination(inner[0], depth + 1) if len(inner) == 1 else None
    prefix = ""
    for part in parts:
        if part.type not in ("string_fragment", "escape_sequence"):
            break
        prefix += text(part)
    computed = len(prefix) < len(text(node)) - 2  # a substitution follows the literal start
    return _of_text(prefix, computed_host=computed)


def _of_text(value: str, computed_host: bool) -> tuple[str, str | None] | None:
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        return RELATIVE, None
    match = _ABSOLUTE.match(value)
    if match is None:
        return None
    scheme, host = match.group(1).lower(), match.group(2)
    if not host or (computed_host and value[match.end(2) : match.end(2) + 1] in ("", "$")):
        # `https://${host}/…`: an HTTPS URL to a host the code computes
        return (EXTERNAL, None) if scheme == "https" else None
    return (LOCAL, host) if _LOCAL_HOST.match(host) else (EXTERNAL, host)
