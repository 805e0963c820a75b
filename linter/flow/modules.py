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
- `exports(path)`: its export table, plain data kept for the run: a file read for it alone is parsed once and
  not kept parsed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from linter import lazy_re
from linter.context import FileContext
from linter.flow.callees import Callee
from linter.js.exports import MODULE_OBJECT, ExportTable, export_table

if TYPE_CHECKING:
    from linter.project import ProjectIndex

MAX_RE_EXPORTS = 5  # re-export hops followed from an import to the module that defines the name
MAX_FILES = 2_000  # files parsed in the project phase
_EXPORTS = "flow.export-table"  # the key of a file's export table (`ProjectIndex.lasting`)
# What a module that re-exports another shows in its bytes: `export {…} from`, `export * from`,
# `module.exports = require(…)`, the word `export` or `exports` standing alone before it. A file without it
# is not parsed to learn that it re-exports nothing.
_MAY_RE_EXPORT = lazy_re.compile(rb"export(?:\s*(?:type\s*)?[*{]|s\s*=[^;]{0,200}?\brequire\b)")
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def module_graph(project: "ProjectIndex") -> "ModuleGraph":
    return project.memo("flow.module-graph", lambda: ModuleGraph(project))


class ModuleGraph:
    def __init__(self, project: "ProjectIndex") -> None:
        self.project = project
        self._files: dict[str, FileContext | None] = {}
        # Export tables of files no one asked this graph to parse: their trees were dropped once read (`exports`).
        self._tables: dict[str, ExportTable | None] = {}
        self._opened: set[str] = set()  # the files parsed or tabled here, at most MAX_FILES
        # target -> the modules that lead to it (`leads_to`); it depends on the import graph alone
        self._reaching: dict[str, frozenset[str]] = project.graph_memo("flow.modules-reaching")
        self._may_re_export: dict[str, bool] = {}
        self._mentions: dict[tuple[str, str], bool] = {}
        self._importers: dict[str, frozenset[str]] = {}
        self._resolved: dict[tuple[str, Callee, str | None], tuple[str, str] | None] = {}
        self._call_names: dict[tuple[str, str], frozenset[str] | None] = {}

    # files ---------------------------------------------------------------------------------------------

    def file(self, path: str) -> FileContext | None:
        """The file at `path` (root-relative), parsed; None when it is not a source file discovery found, cannot
        be read, or the run already parsed `MAX_FILES` files in this phase."""
        if path not in self._files:
            self._files[path] = self._open(path) if self._admits(path) else None
        return self._files[path]

    def _admits(self, path: str) -> bool:
        if path not in self._opened and len(self._opened) >= MAX_FILES:
            return False
        self._opened.add(path)
        return True

    def source(self, path: str) -> bytes | None:
        """The bytes of the file at `path`, read again when it was not parsed (a test before parsing it)."""
        parsed = self._files.get(path)
        return parsed.source if parsed is not None else self.project.read_js_source(path)

    def exports(self, path: str) -> ExportTable | None:
        """The export table of the file at `path` (None as `file` would be). Plain data, kept for the run while
        the file's text is the same: a file read for its table alone is parsed once and its tree dropped."""
        if path in self._files:
            file = self._files[path]
            return self.project.lasting(path, file.source, _EXPORTS, lambda: export_table(file.root)) if file is not None else None
        if path not in self._tables:
            source = self.project.read_js_source(path) if self._admits(path) else None
            self._tables[path] = None if source is None else self.project.lasting(path, source, _EXPORTS, lambda: self._table_once(path))
        return self._tables[path]

    def _table_once(self, path: str) -> ExportTable | None:
        file = self.project.parsed_file(path, keep=False)
        return export_table(file.root) if file is not None else None

    def _open(self, path: str) -> FileContext | None:
        return self.project.parsed_file(path)

    # names ---------------------------------------------------------------------------------------------

    def resolve(self, from_path: str, callee: Callee, leading_to: str | None = None) -> tuple[str, str] | None:
        """(file, local key) of what `callee`, written in `from_path`, names; None when it is not in the project.
        With `leading_to`, a cheap test comes first: the imported module must be that file or lead to it
        through its imports (a barrel), else the answer is None without reading any export table."""
        if not callee.module:  # a function of the same module
            return from_path, _joined(callee.name, callee.members)
        key = (from_path, callee, leading_to)  # asked again for every call of a file, for each function looked for
        if key not in self._resolved:
            self._resolved[key] = self._resolve(from_path, callee, leading_to)
        return self._resolved[key]

    def may_resolve_into(self, from_path: str, callee: Callee, target: str) -> bool:
        """Whether what `callee`, written in `from_path`, names may be in the module `target` (`resolve`): the
        module it imports is `target`, or leads to it and may re-export (an answer leaves the imported module
        only through its re-exports). No export table is read."""
        if not callee.module:
            return from_path == target
        module = self.project.resolve(from_path, callee.module)
        if module is None:
            return False
        return module == target or (self.leads_to(module, target) and self._may_re_export_from(module))

    def _resolve(self, from_path: str, callee: Callee, leading_to: str | None) -> tuple[str, str] | None:
        target = self.project.resolve(from_path, callee.module)
        if target is None:
            return None
        if leading_to is not None and not self.leads_to(target, leading_to):
            return None
        return self._in_module(target, callee.name, callee.members, 0)

    def _in_module(self, path: str, name: str, members: tuple[str, ...], depth: int) -> tuple[str, str] | None:
        if name not in ("default", MODULE_OBJECT) and not self._may_export(path, name):
            return None
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

    def leads_to(self, module: str, target: str) -> bool:
        """Whether `module` is `target` or imports it through at most MAX_RE_EXPORTS other modules: else no name
        imported from `module` resolves to `target` (`resolve`)."""
        reaching = self._reaching.get(target)
        if reaching is None:
            reaching = self._reaching[target] = self._modules_reaching(target)
        return module in reaching

    def _modules_reaching(self, target: str) -> frozenset[str]:
        # Asked for thousands of (module, target) pairs and few targets: one walk back from each target over
        # its importers answers for every module at once.
        found, frontier = {target}, [target]
        for _ in range(MAX_RE_EXPORTS):
            following = []
            for path in frontier:
                for importer in self.project.importers_of(path):
                    if importer not in found:
                        found.add(importer)
                        following.append(importer)
            frontier = following
        return frozenset(found)

    def importers(self, path: str) -> set[str]:
        """The files that import `path`, directly or through files that re-export it (barrels)."""
        if path not in self._importers:
            self._importers[path] = frozenset(self._find_importers(path))
        return set(self._importers[path])

    def _find_importers(self, path: str) -> set[str]:
        found: set[str] = set()
        frontier = [path]
        for _ in range(MAX_RE_EXPORTS):
            following = []
            for target in frontier:
                for importer in self.project.importers_of(target):
                    if importer in found:
                        continue
                    found.add(importer)
                    table = self.exports(importer) if self._may_re_export_from(importer) else None
                    if table is not None and table.re_exports:
                        following.append(importer)
            if not following:
                break
            frontier = following
        return found

    def _may_re_export_from(self, path: str) -> bool:
        if path not in self._may_re_export:
            source = self.source(path)
            self._may_re_export[path] = source is not None and self.project.lasting(
                path, source, "flow.may-re-export", lambda: may_re_export(source)
            )
        return self._may_re_export[path]

    def _may_export(self, path: str, name: str) -> bool:
        """Whether the module at `path` may export `name`, by its bytes: it writes the name, or re-exports."""
        if path in self._files or path in self._tables:
            return True
        key = (path, name)
        if key not in self._mentions:
            source = self.source(path)
            self._mentions[key] = source is not None and (name.encode() in source or self._may_re_export_from(path))
        return self._mentions[key]

    def may_call(self, path: str, keys: Iterable[str]) -> list[str]:
        """`path` and the files that import it (`importers`), sorted, less those that write none of the words a
        call of the functions `keys` of `path` needs (`call_words`): they cannot call them, and are not parsed."""
        words: set[bytes] = set()
        for key in keys:
            needed = self.call_words(path, key)
            if needed is None:
                return sorted(self.importers(path) | {path})
            words |= needed
        return [m for m in sorted(self.importers(path) | {path}) if m == path or mentions_any(self.source(m), words)]

    def call_words(self, path: str, key: str) -> frozenset[bytes] | None:
        """Words one of which every other module that calls the function `key` of `path` writes: the
        function's or method's name, the names `path` exports it as or holds it in (an object's entry), and
        the names barrels re-export those as. None when a call need not write any (a default export, a
        module object)."""
        names = self.call_names(path, key)
        return frozenset(name.encode() for name in names) if names is not None else None

    def call_names(self, path: str, key: str) -> frozenset[str] | None:
        """`call_words` as names: a `Callee` that resolves to the function names one of them, as its imported
        name or as one of its members (`may_name`)."""
        memo = (path, key)
        if memo not in self._call_names:
            self._call_names[memo] = self._find_call_names(path, key)
        return self._call_names[memo]

    def _find_call_names(self, path: str, key: str) -> frozenset[str] | None:
        table = self.exports(path)
        if table is None or table.module_object == key:
            return None
        words = {key.rpartition(".")[2]}
        words.update(name for name, local in table.names.items() if local == key)
        words.update(entry.rpartition(".")[2] for entry, function in table.members.items() if function == key)
        barrels = [self.exports(p) for p in sorted(self.importers(path)) if self._may_re_export_from(p)]
        growing = True
        while growing and "default" not in words:
            growing = False
            for barrel in barrels:
                for re_export in barrel.re_exports if barrel is not None else ():
                    if re_export.imported in words and re_export.name != MODULE_OBJECT and re_export.name not in words:
                        words.add(re_export.name)
                        growing = True
        if "default" in words or MODULE_OBJECT in words:
            return None
        return frozenset(words)


def may_re_export(source: bytes) -> bool:
    """Whether `source` writes `_MAY_RE_EXPORT` after no word character (a pattern that starts with a word
    boundary is tried at every byte; one that starts with `export` is looked for as that word)."""
    at = 0
    while (found := _MAY_RE_EXPORT.search(source, at)) is not None:
        start = found.start()
        if start == 0 or source[start - 1] not in _WORD_BYTES:
            return True
        at = start + 1
    return False


def mentions_any(source: bytes | None, words: Iterable[bytes]) -> bool:
    """Whether `source` writes one of `words` (`ModuleGraph.call_words`): a test before parsing a file."""
    return source is not None and any(word in source for word in words)


def _local_key(table: ExportTable, local: str, members: tuple[str, ...]) -> str:
    """The key of `local.members`: a member read from an instance is its class's (`leads.list` is
    `LeadService.list`); a name alone is the binding itself."""
    return table.local_of(_joined(local, members)) if members else local


def _joined(local: str, members: tuple[str, ...]) -> str:
    return ".".join((local, *members))


def unmentioned(project: "ProjectIndex", wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (module path, name) pairs of `wanted` whose name no other file of the project writes as a word, and
    their own module only once (where it declares it): nothing can read or call what the name holds. One pass
    over the project's files for all the names."""
    if not wanted:
        return set()
    names = sorted({name for _, name in wanted})
    encoded = [name.encode() for name in names]
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(name) for name in encoded) + rb")\b")
    mentioned: set[tuple[str, str]] = set()
    wanted_modules = {module for module, _ in wanted}
    # The modules themselves first: a module that writes a name twice often settles it, and the pass ends as
    # soon as every pair is mentioned.
    in_order = [p for p in project.files if p in wanted_modules] + [p for p in project.files if p not in wanted_modules]
    for path in in_order:
        source = project.read_js_source(path, keep=False)
        if source is None or not any(name in source for name in encoded):  # most files write none of them
            continue
        counts: dict[str, int] = {}
        for found in pattern.finditer(source):
            name = found.group(1).decode()
            counts[name] = counts.get(name, 0) + 1
        for name, count in counts.items():
            for module, wanted_name in wanted:
                if wanted_name == name and (module != path or count > 1):
                    mentioned.add((module, name))
        if len(mentioned) == len(wanted):
            break
    return wanted - mentioned
