"""Whether any code of the project decides something by a field: a free-text `role` that nothing compares grants
nothing (a job title on a staff list), so a client writing it gains no privilege.

A field named `role` counts as checked when a source file of the project (tests included, on purpose: the answer
errs towards "checked") does any of:

- compares it: `user.role === 'ADMIN'`, `role !== 'owner'`, `switch (member.role)`, `['a', 'b'].includes(role)`,
  `user.roles.includes('admin')`;
- calls something named for it: `hasRole(user, 'admin')`, `requireRole('admin')`, `@Roles('admin')`;
- filters by it (`where: { role: 'ADMIN' }`) or copies it into another object (`jwt.sign({ id, role })`, `{ role:
  user.role }`), where code out of sight may check it.

Reading it to show it (`String(row['role'])`) or filling a form with it is not a check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.expressions import arguments_of, callee, key_text, member_object, property_name, unwrap
from linter.js.imports import string_value
from linter.syntax import Node, text, walk

from ._privileged_fields import words

if TYPE_CHECKING:
    from linter.project import ProjectIndex

_COMPARISONS = frozenset({"==", "===", "!=", "!=="})
_MEMBERSHIP_METHODS = frozenset({"includes", "has", "indexOf", "some", "every", "find", "startsWith", "endsWith"})


def checked_in_code(project: "ProjectIndex", name: str) -> bool:
    """Whether a source file of the project checks the field `name` (see the module's description)."""
    return project.memo(("rules.prisma.field-checked", name), lambda: _checked(project, name))


def _checked(project: "ProjectIndex", name: str) -> bool:
    needle = name.encode()
    for path in sorted(project.files):
        source = project.read_js_source(path)
        if source is None or needle not in source:
            continue
        file = project.parsed_file(path)
        if file is None or checks_field(file.root, name):
            return True
    return False


def checks_field(root: Node, name: str) -> bool:
    word = (words(name)[:1] or (name.lower(),))[0]
    for node in walk(root):
        kind = node.type
        if kind == "binary_expression" and text(node.child_by_field_name("operator")) in _COMPARISONS:
            if _names(node.child_by_field_name("left"), name) or _names(node.child_by_field_name("right"), name):
                return True
        elif kind == "switch_statement" and _names(node.child_by_field_name("value"), name):
            return True
        elif kind == "call_expression" and _call_checks(node, name, word):
            return True
        elif kind == "pair" and key_text(node.child_by_field_name("key")) == name:
            if _names(node.child_by_field_name("value"), name) or _in_where(node):
                return True
        elif kind == "shorthand_property_identifier" and text(node) == name and node.parent is not None:
            holder = node.parent.parent  # `{ id, role }` handed to a call, or filtering a query
            if holder is not None and (holder.type == "arguments" or _in_where(node)):
                return True
    return False


def _call_checks(call: Node, name: str, word: str) -> bool:
    function = callee(call)
    if function is None:
        return False
    called = property_name(function) if function.type == "member_expression" else text(function)
    if called is not None and word in called.lower() and called != name:
        return True  # `hasRole(…)`, `Roles('admin')`
    if function.type == "member_expression" and called in _MEMBERSHIP_METHODS:
        return _names(member_object(function), name) or any(_names(argument, name) for argument in arguments_of(call))
    return False


def _names(node: Node | None, name: str) -> bool:
    """`role`, `user.role`, `user?.role`, `row['role']`."""
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "identifier":
        return text(node) == name
    if node.type == "member_expression":
        return property_name(node) == name
    if node.type == "subscript_expression":
        index = unwrap(node.child_by_field_name("index"))
        return index is not None and index.type == "string" and string_value(index) == name
    return False


def _in_where(node: Node) -> bool:
    """The key is in an object that is the value of a `where` key (or nested in one)."""
    current = node.parent
    for _ in range(8):
        if current is None:
            return False
        if current.type == "pair" and key_text(current.child_by_field_name("key")) == "where":
            return True
        current = current.parent
    return False
