"""Which package export an expression names: `jwt.sign`, `sign`, `jsonwebtoken.default.sign` and
`require('jsonwebtoken').sign` all resolve to `ImportedName('jsonwebtoken', ('sign',))`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.expressions import member_chain, unwrap
from linter.js.imports import require_specifier
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext


@dataclass(frozen=True)
class ImportedName:
    module: str  # `node:crypto` is reported as `crypto`
    path: tuple[str, ...]  # () for the module object (or its default export), ("sign",) for `jwt.sign`

    def is_from(self, module: str) -> bool:
        """True for `module` itself and its subpaths (`next-auth/jwt` is from `next-auth`)."""
        return self.module == module or self.module.startswith(module + "/")


def resolve_imported(node: Node | None, file: "FileContext") -> ImportedName | None:
    """The package export `node` refers to, through the file's imports, or None."""
    node, properties = member_chain(unwrap(node))
    if node is None:
        return None
    if node.type == "identifier":
        binding = file.binding(text(node))
        if binding is None:
            return None
        module = binding.module
        path = [] if binding.imported in ("*", "default") else [binding.imported]
    else:
        module = require_specifier(node)
        if module is None:
            return None
        path = []
    path.extend(properties)
    # CommonJS packages reached through ESM interop add a `default` hop: `jsonwebtoken.default.sign`.
    while path and path[0] == "default":
        path.pop(0)
    return ImportedName(module.removeprefix("node:"), tuple(path))


def imports_module(file: "FileContext", module: str) -> bool:
    """Whether the file binds anything from `module` or one of its subpaths."""
    return any(b.module == module or b.module.startswith(module + "/") for b in file.import_bindings)
