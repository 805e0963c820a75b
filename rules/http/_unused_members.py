"""Class members nothing calls, so a request written in one never runs.

- A private method or field (TypeScript `private`, or a `#name`) can only be called from its own class: when the
  class body writes its name nowhere but where it declares it, nothing calls it (decided in the file phase).
  A decorated member is the exception: a framework calls it through its decorator (`@Cron()`, `@OnEvent()`).
- A static method is called through its class's name (`Vercel.getDomain()`): when no file of the project writes
  its name as a word, and its own file only once, nothing calls it (the project phase asks
  `linter.flow.modules.unmentioned`).
- A top-level function a module exports by name (`export async function getIpLocation`) is called through that
  name: the same holds in an application whose other modules import the module, but not in a library, whose
  callers live in other repositories (`library_package`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from linter.frameworks.nestjs import method_decorators
from linter.syntax import Node

if TYPE_CHECKING:
    from linter.project import Package

_MEMBERS = frozenset({"method_definition", "public_field_definition", "field_definition"})
_NAMES = frozenset({"property_identifier", "private_property_identifier"})
_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function"})
# Static members a framework calls by its own convention, not through a name the project writes.
_CALLED_BY_FRAMEWORK = frozenset({"getInitialProps"})
# Scripts that run an application (a server, a worker): `start`, `dev`, `start:prod`, ...
_APP_SCRIPTS = frozenset({"start", "dev", "serve", "prod"})


def in_uncalled_private_member(node: Node, source: bytes) -> bool:
    """`node` sits in a private member (or a function inside one) that its class never calls."""
    for member in _enclosing_members(node):
        name = _name(member)
        if name is None or not _private(member, name) or method_decorators(member):
            continue
        body = member.parent
        rest = source[body.start_byte : member.start_byte] + b" " + source[member.end_byte : body.end_byte]
        if re.search(rb"(?<![\w$])" + re.escape(name.encode()) + rb"(?![\w$])", rest) is None:
            return True
    return False


def static_member_name(node: Node) -> str | None:
    """The name of the static method (or static field holding a function) `node` sits in, innermost first."""
    for member in _enclosing_members(node):
        name = _name(member)
        if name is None or name.startswith("#") or name in _CALLED_BY_FRAMEWORK or method_decorators(member):
            continue
        if _static(member) and _function_member(member):
            return name
    return None


def exported_function_name(node: Node) -> str | None:
    """The name under which the module exports the top-level function `node` sits in: `export function f`,
    `export const f = () => …` (not a default export, and not code that runs when the module loads)."""
    statement = node
    while statement.parent is not None and statement.parent.type != "program":
        statement = statement.parent
    if statement.type != "export_statement" or any(child.type == "default" for child in statement.children):
        return None
    declaration = statement.child_by_field_name("declaration")
    if declaration is None:
        return None
    if declaration.type in ("function_declaration", "generator_function_declaration"):
        return _text(declaration.child_by_field_name("name"))
    if declaration.type != "lexical_declaration":
        return None
    for declarator in declaration.named_children:
        value = declarator.child_by_field_name("value") if declarator.type == "variable_declarator" else None
        name = declarator.child_by_field_name("name") if value is not None else None
        if value is not None and value.type in _FUNCTION_VALUES and name is not None and name.type == "identifier":
            if value.start_byte <= node.start_byte and node.end_byte <= value.end_byte:
                return _text(name)
    return None


def library_package(package: "Package | None") -> bool:
    """A package written to be installed by others: it names what it exports (`main`, `exports`) and has no
    script that starts it, or it sits under a workspace's `packages/` and is not private. Unknown (no manifest):
    taken as one."""
    if package is None or package.manifest is None:
        return True
    if (package.main or package.exports) and not _starts_an_app(package):
        return True
    return "packages" in package.dir.split("/")[:-1] and not package.private


def _starts_an_app(package: "Package") -> bool:
    return any(name.split(":", 1)[0] in _APP_SCRIPTS for name, _ in package.scripts)


def _text(node: Node | None) -> str | None:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else None


def _enclosing_members(node: Node) -> Iterator[Node]:
    current = node.parent
    while current is not None:
        if current.type in _MEMBERS and current.parent is not None and current.parent.type == "class_body":
            yield current
        current = current.parent


def _name(member: Node) -> str | None:
    name = member.child_by_field_name("name") or member.child_by_field_name("property")
    if name is None or name.type not in _NAMES or name.text is None:
        return None
    return name.text.decode("utf-8", "replace")


def _private(member: Node, name: str) -> bool:
    if name.startswith("#"):
        return True
    return any(c.type == "accessibility_modifier" and c.text == b"private" for c in member.children)


def _static(member: Node) -> bool:
    return any(c.type == "static" for c in member.children)


def _function_member(member: Node) -> bool:
    """A method (not a getter or setter), or a field whose value is a function."""
    if member.type == "method_definition":
        return not any(c.type in ("get", "set") for c in member.children)
    value = member.child_by_field_name("value")
    return value is not None and value.type in _FUNCTION_VALUES
