"""The module graph of the project phase: what an imported name is, who imports a module, and the files
behind them, read on demand.

`module_graph(project)` is one per run. Rules of every family use it in `check_project` to follow a name
across modules (the `Callee` of `linter.flow.callees`: a module specifier, the imported name, the members
read from it):

- `resolve(from_path, callee)`: the file and local key it names (see `linter.js.exports`), through the
  project's module resolution (relative paths, tsconfig aliases, workspace packages), export tables,
  re-exports and barrel files;
- `importers(path)`: the files that import `path`, directly or through files that re-export it;
- `file(path)`: a `FileContext` of a JavaScript or TypeScript file discovery found, parsed when first asked
  for (at most `MAX_FILES` per run), so that a rule can look at a function or value of another module;
- `exports(path)`: its export table.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from linter.context import FileContext
from linter.flow.callees import Callee
from linter.js.exports import MODULE_OBJECT, ExportTable, export_table
from linter.syntax import LANGUAGE_BY_SUFFIX, parse

if TYPE_CHECKING:
    from linter.project import ProjectIndex

MAX_RE_EXPORTS = 5  # re-export hops followed from an import to the module that defines the name
MAX_FILES = 2_000  # files parsed in the project phase


def module_graph(project: "ProjectIndex") -> "ModuleGraph":
    return project.memo("flow.module-graph", lambda: ModuleGraph(project))


class ModuleGraph:
    def __init__(self, project: "ProjectIndex") -> None:
        self.project = project
        self._files: dict[str, FileContext | None] = {}

    # files ---------------------------------------------------------------------------------------------

    def file(self, path: str) -> FileContext | None:
        """The file at `path` (root-relative), parsed; None when it is not a source file discovery found, cannot
        be read, or the run already parsed `MAX_FILES` files in this phase."""
        if path not in self._files:
            self._files[path] = self._open(path) if len(self._files) < MAX_FILES else None
        return self._files[path]

    def exports(self, path: str) -> ExportTable | None:
        file = self.file(path)
        return file.memo("flow.exports", lambda: export_table(file.root)) if file is not None else None

    def _open(self, path: str) -> FileContext | None:
        language = LANGUAGE_BY_SUFFIX.get(posixpath.splitext(path)[1])
        source = self.project.read_js_source(path) if language is not None else None
        if source is None:
            return None
        return FileContext(path, source, language, parse(source, language), self.project.packages_around(path))

    # names ---------------------------------------------------------------------------------------------

    def resolve(self, from_path: str, callee: Callee, leading_to: str | None = None) -> tuple[str, str] | None:
        """(file, local key) of what `callee`, written in `from_path`, names; None when it is not in the project.
        With `leading_to`, a cheap test comes first: the imported module must be that file or lead to it
        through its imports (a barrel), else the answer is None without reading any export table."""
        if not callee.module:  # a function of the same module
            return from_path, _joined(callee.name, callee.members)
        target = self.project.resolve(from_path, callee.module)
        if target is None:
            return None
        if leading_to is not None and not self._leads_to(target, leading_to):
            return None
        return self._in_module(target, callee.name, callee.members, 0)

    def _in_module(self, path: str, name: str, members: tuple[str, ...], depth: int) -> tuple[str, str] | None:
        table = self.exports(path)
        if table is None or depth > MAX_RE_EXPORTS:
            return None
        if name == MODULE_OBJECT or (name == "default" and "default" not in table.names):
            if table.module_object is not None:
                return path, _local_key(table, table.module_object, members)
            if not members:
                return None
            return self._in_module(path, members[0], members[1:], depth)
        local = table.names.get(name)
        if local is not None:
            return path, _local_key(table, local, members)
        for re_export in table.re_exports:
            if re_export.name not in (name, MODULE_OBJECT):
                continue
            target = self.project.resolve(path, re_export.module)
            if target is None:
                continue
            if re_export.name == name:
                found = self._in_module(target, re_export.imported, members, depth + 1)
            else:
                found = self._in_module(target, name, members, depth + 1)
            if found is not None:
                return found
        return None

    def _leads_to(self, module: str, target: str) -> bool:
        frontier, seen = [module], {module}
        for _ in range(MAX_RE_EXPORTS + 1):
            if target in frontier:
                return True
            following = []
            for path in frontier:
                for _, imported in self.project.imports.get(path, ()):
                    if imported is not None and imported not in seen:
                        seen.add(imported)
                        following.append(imported)
            frontier = following
        return False

    def importers(self, path: str) -> set[str]:
        """The files that import `path`, directly or through files that re-export it (barrels)."""
        found: set[str] = set()
        frontier = [path]
        for _ in range(MAX_RE_EXPORTS):
            following = []
            for target in frontier:
                for importer in self.project.importers_of(target):
                    if importer in found:
                        continue
                    found.add(importer)
                    table = self.exports(importer)
                    if table is not None and table.re_exports:
                        following.append(importer)
            if not following:
                break
            frontier = following
        return found


def _local_key(table: ExportTable, local: str, members: tuple[str, ...]) -> str:
    """The key of `local.members`: a member read from an instance is its class's (`leads.list` is
    `LeadService.list`); a name alone is the binding itself."""
    return table.local_of(_joined(local, members)) if members else local


def _joined(local: str, members: tuple[str, ...]) -> str:
    return ".".join((local, *members))
