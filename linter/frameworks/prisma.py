"""Is this `new X()` a Prisma client? Resolves `X` through the file's imports.

Recognised: `import { PrismaClient } from '@prisma/client'` (aliased too), a namespace or default import
(`prismaPkg.PrismaClient`), a custom generator output (`../generated/prisma`, `@prisma/client/edge`),
`const { PrismaClient } = require('@prisma/client')`, `new (require('@prisma/client').PrismaClient)()`,
`const { PrismaClient } = pkg` after `import pkg from '@prisma/client'`, `await import('@prisma/client')`,
`PrismaClient` re-exported by a module of the project (`import { PrismaClient } from '../db'`), and a local
class that `extends PrismaClient`. Mocks (`PrismaClientMock`, `mockDeep<PrismaClient>()`) and type positions
are not instantiations and never match.
"""

from __future__ import annotations

from linter import lazy_re
from linter.context import FileContext
from linter.js.imports import destructured_names, require_specifier, string_value
from linter.js.functions import EXPRESSION_WRAPPERS
from linter.syntax import Node, descendants_of_types, text, walk

CLIENT_NAME = "PrismaClient"
_PRISMA_MODULE = lazy_re.compile(r"^(@prisma/client(/.*)?|\.prisma/client(/.*)?)$|(^|/)(generated|prisma)(/.*)?/?(client|prisma)(/\w+)?$")


def is_prisma_module(specifier: str) -> bool:
    """`@prisma/client`, `@prisma/client/edge`, `.prisma/client`, or a generator output such as `../generated/prisma`."""
    return bool(_PRISMA_MODULE.search(specifier))


def prisma_client_source(constructor: Node, file: FileContext) -> str | None:
    """The module `PrismaClient` comes from when `constructor` (the callee of a `new`) is one, else None."""
    while constructor.type in EXPRESSION_WRAPPERS and constructor.named_children:
        constructor = constructor.named_children[0]
    if constructor.type == "identifier":
        return _identifier_source(text(constructor), file, depth=0)
    if constructor.type == "member_expression":
        if text(constructor.child_by_field_name("property")) != CLIENT_NAME:
            return None
        return module_object_source(constructor.child_by_field_name("object"), file)
    return None


def module_object_source(node: Node | None, file: FileContext) -> str | None:
    """The module a module object comes from: `prismaPkg` (namespace/default import or `require`),
    `require('m')`, `(await import('m'))`."""
    while node is not None and node.type in EXPRESSION_WRAPPERS and node.named_children:
        node = node.named_children[-1]
    if node is None:
        return None
    if node.type == "identifier":
        binding = file.binding(text(node))
        if binding is not None and binding.imported in ("*", "default"):
            return binding.module
        return None
    specifier = require_specifier(node) or _dynamic_import_specifier(node)
    return specifier


def _dynamic_import_specifier(node: Node) -> str | None:
    if node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or function.type != "import" or arguments is None or not arguments.named_children:
        return None
    return string_value(arguments.named_children[0])


def _identifier_source(name: str, file: FileContext, depth: int) -> str | None:
    binding = file.binding(name)
    if binding is not None:
        if binding.imported == CLIENT_NAME:
            return binding.module
        return None
    for node in _declarations_by_name(file).get(name, ()):
        if node.type == "variable_declarator":
            source = _destructured_source(node, name, file)
            if source is not None:
                return source
        elif depth == 0:
            source = _extended_source(node, name, file)
            if source is not None:
                return source
    return None


def _declarations_by_name(file: FileContext) -> dict[str, list[Node]]:
    """The file's declarators and classes that could bind each name to a Prisma client, in document order:
    built once per file, so resolving many constructors stays linear in the file's size."""
    return file.memo(_declarations_by_name, lambda: _index_declarations(file.root))


def _index_declarations(root: Node) -> dict[str, list[Node]]:
    index: dict[str, list[Node]] = {}
    for node in descendants_of_types(root, ("variable_declarator", "class_declaration", "class")):
        for name in _declared_names(node):
            index.setdefault(name, []).append(node)
    return index


def _declared_names(node: Node) -> set[str]:
    """Every `name` for which `_destructured_source` / `_extended_source` on `node` could answer."""
    if node.type != "variable_declarator":
        class_name = node.child_by_field_name("name")
        return {text(class_name)} if class_name is not None else set()
    pattern = node.child_by_field_name("name")
    value = node.child_by_field_name("value")
    if pattern is None or value is None:
        return set()
    if pattern.type == "object_pattern":
        return {local for local, imported in destructured_names(pattern) if imported == CLIENT_NAME}
    if pattern.type == "identifier" and value.type == "member_expression":
        return {text(pattern)}
    return set()


def _destructured_source(declarator: Node, name: str, file: FileContext) -> str | None:
    """`const { PrismaClient } = pkg` / `= await import('@prisma/client')` / `const PrismaClient = pkg.PrismaClient`."""
    pattern = declarator.child_by_field_name("name")
    value = declarator.child_by_field_name("value")
    if pattern is None or value is None:
        return None
    if pattern.type == "object_pattern":
        if (name, CLIENT_NAME) not in destructured_names(pattern):
            return None
        return module_object_source(value, file)
    if pattern.type == "identifier" and text(pattern) == name and value.type == "member_expression":
        if text(value.child_by_field_name("property")) == CLIENT_NAME:
            return module_object_source(value.child_by_field_name("object"), file)
    return None


def _extended_source(declaration: Node, name: str, file: FileContext) -> str | None:
    """`class Database extends PrismaClient {}`: constructing `Database` constructs a Prisma client."""
    class_name = declaration.child_by_field_name("name")
    if class_name is None or text(class_name) != name:
        return None
    heritage = next((c for c in declaration.children if c.type == "class_heritage"), None)
    if heritage is None:
        return None
    for node in walk(heritage):
        if node.type == "identifier" and text(node) != name:
            source = _identifier_source(text(node), file, depth=1)
            if source is not None:
                return source
        if node.type == "member_expression" and text(node.child_by_field_name("property")) == CLIENT_NAME:
            return module_object_source(node.child_by_field_name("object"), file)
    return None


def extends_prisma_client(cls: Node, file: FileContext) -> bool:
    """`class PrismaService extends PrismaClient`: building the class builds a Prisma client."""
    name = cls.child_by_field_name("name")
    return name is not None and _extended_source(cls, text(name), file) is not None
