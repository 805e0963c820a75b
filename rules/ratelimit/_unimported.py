"""Whether a hand-written limiter's module is dead: written to be imported, and imported by nothing.

The limiter's function is exported and its module never calls it; no file of the project imports the module
(`ModuleGraph.importers`, through barrels), nor has an import left unresolved whose last part is the module's
name (an alias the index cannot follow); the module is not one a framework or a script loads by its path (a
Next.js route, page or middleware, a package's `main` or a file its scripts run) and does not run on its own
(`#!`, `require.main`, `process.argv`, a serverless `handler`). Its counts then never run.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.modules import module_graph
from linter.frameworks.nextjs import command_script_files, is_next_routed, server_entry_files
from linter.js.imports import package_name
from linter.paths import is_test_path
from linter.syntax import text, walk

if TYPE_CHECKING:
    from linter.project import ProjectIndex

_RUNS_ON_ITS_OWN = (b"require.main", b"import.meta.main", b"process.argv", b"parentPort", b"workerData")
_HANDLER_EXPORT = lazy_re.compile(rb"exports\.handler\s*=|export\s+(?:const|let|async\s+function|function)\s+handler\b")
_SOURCE_SUFFIX = lazy_re.compile(r"\.(?:[cm]?[jt]sx?)$")


def unimported_limiter(project: "ProjectIndex", path: str, function: str | None) -> bool:
    if not function or is_test_path(path) or is_next_routed(path):
        return False
    graph = module_graph(project)
    if graph.importers(path):
        return False
    package = project.package_of(path)
    if package is not None and path in server_entry_files(package.dir, package.scripts, package.main) | command_script_files(
        package.dir, package.scripts, package.main
    ):
        return False
    stem = _stem(path)
    names = _unresolved_names(project)
    if stem in names or (stem == "index" and _stem(posixpath.dirname(path)) in names):
        return False
    source = graph.source(path)
    if source is None or source.startswith(b"#!") or any(m in source for m in _RUNS_ON_ITS_OWN) or _HANDLER_EXPORT.search(source):
        return False
    table = graph.exports(path)
    if table is None or function not in table.names.values():
        return False
    file = graph.file(path)
    return file is not None and not any(_calls(node, function) for node in walk(file.root))


def _calls(node, function: str) -> bool:
    if node.type not in ("call_expression", "new_expression"):
        return False
    target = node.child_by_field_name("function") or node.child_by_field_name("constructor")
    return target is not None and text(target).rpartition(".")[2] == function


def _stem(path: str) -> str:
    return _SOURCE_SUFFIX.sub("", posixpath.basename(path))


def _unresolved_names(project: "ProjectIndex") -> frozenset[str]:
    """The last parts of the import specifiers the index could not resolve to a file, less those of the
    packages the project depends on (`@upstash/ratelimit`) and of Node's own modules, once per run."""

    def compute() -> frozenset[str]:
        dependencies = {name for package in project.packages.values() for name in package.dependencies}
        return frozenset(
            _stem(specifier.rstrip("/"))
            for edges in project.imports.values()
            for specifier, target in edges
            if target is None and not specifier.startswith("node:") and package_name(specifier) not in dependencies
        )

    return project.memo("ratelimit.unresolved-import-names", compute)

