"""The project index: packages (nearest `package.json`), tsconfig path aliases, the import graph, rule facts.

It is built once, from discovery and the per-file results, before any project-level rule runs.
Nothing here reads a file that discovery did not find, and nothing resolves outside the root.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping, Set
from dataclasses import field
from pathlib import Path

from linter import lazy_re
from linter.config import DEFAULT_MAX_FILE_SIZE
from linter.context import FileContext
from linter.files.kinds import project_file_kind
from linter.lazy_dataclasses import dataclass
from linter.model import Level, Location, Notice
from linter.positions import LineIndex
from linter.rule import Fact
from linter.safe_read import ReadRefused, read_repository_file
from linter.syntax import LANGUAGE_BY_SUFFIX, parse

# What the index computes from its files' imports (`imports`, `importers_of`, `graph_memo`), forgotten when one is added.
_FROM_IMPORT_GRAPH = ("_imports", "_importers", "_graph_memos")
RESOLVE_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
# The source bytes of the dropped parses `parsed_file` holds on to (a tree takes about 25 times its source):
# a file read for its export table alone is often read whole soon after.
RECENT_PARSES_BYTES = 512 * 1024
DEPENDENCY_KEYS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


@dataclass(frozen=True)
class Package:
    dir: str  # POSIX, relative to the root; "" for the root itself
    name: str | None
    dependencies: frozenset[str]
    manifest: str | None
    settings: dict | None = None  # the manifest's "loadlint" key, if any
    scripts: tuple[tuple[str, str], ...] = ()  # the manifest's "scripts": (name, command) pairs
    main: str | None = None  # the manifest's "main" entry, as written
    command: bool = False  # the manifest installs a command (`"bin"`): a command-line tool
    private: bool = False  # `"private": true`: never published
    exports: bool = False  # the manifest has an `"exports"` map (or string)

    def depends_on(self, names: tuple[str, ...] | frozenset[str]) -> bool:
        return not self.dependencies.isdisjoint(names)


@dataclass(frozen=True)
class PathAliases:
    """`compilerOptions.paths` of one tsconfig/jsconfig, with targets made root-relative."""

    dir: str
    patterns: tuple[tuple[str, tuple[str, ...]], ...]
    base_url: str | None


@dataclass
class ProjectIndex:
    root: Path
    files: list[str] = field(default_factory=list)
    packages: dict[str, Package] = field(default_factory=dict)
    aliases: list[PathAliases] = field(default_factory=list)
    # path -> the specifiers it imports, in the order files were added; resolved by `imports` when first needed
    specifiers: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    reported_paths: frozenset[str] = frozenset()
    # Non-JavaScript files rules read whole (Prisma schemas, Dockerfiles, ...): path -> kind (linter.files.kinds).
    other_files: dict[str, str] = field(default_factory=dict)
    # Problems met reading files: `build` makes this the run's own notice list.
    notices: list[Notice] = field(default_factory=list)
    # The flow summaries each analysed file left, by (spec name, rule instance) and path (`linter.flow`).
    _flow_summaries: dict = field(default_factory=lambda: defaultdict(dict))
    # The instance of the rule whose project-wide check runs (`Rule.instance`; the engine sets it): it sees
    # the flow summaries of that instance, and memos of its own.
    instance: str = ""

    # The most a file read here may hold (max-file-size): discovery checked it, a read checks it again.
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # The text the run was given for a file, read instead of the file (`RunOptions.buffers`, stdin), by path.
    given: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def build(
        cls, root: Path, found, reported: set[str], notices: list[Notice], max_file_size: int = DEFAULT_MAX_FILE_SIZE
    ) -> "ProjectIndex":
        """The index before any file is analysed: files, packages, path aliases (`found` is discovery's result)."""
        prefix = os.path.join(root, "")  # on strings: pathlib's relative_to costs much on a large repository

        def relative(path: Path) -> str:
            text = str(path)
            if text.startswith(prefix):
                return text[len(prefix) :].replace(os.sep, "/")
            return path.relative_to(root).as_posix()

        project = cls(root=root, files=[relative(p) for p in found.sources], max_file_size=max_file_size)
        for manifest in found.manifests:
            package = load_package(manifest, root, notices, max_file_size)
            project.packages[package.dir] = package
        for tsconfig in found.tsconfigs:
            aliases = load_aliases(tsconfig, root, notices, max_file_size)
            if aliases is not None:
                project.aliases.append(aliases)
        project.reported_paths = frozenset(reported)
        for path in getattr(found, "project_files", ()):
            project.other_files[path.relative_to(root).as_posix()] = project_file_kind(path.name) or ""
        project.notices = notices
        return project

    def project_files(self, *kinds: str) -> list[str]:
        """The paths of the non-JavaScript files of these kinds (every kind when none is given), sorted."""
        return sorted(path for path, kind in self.other_files.items() if not kinds or kind in kinds)

    def read_source(self, path: str) -> bytes | None:
        """The text of a project file or a package manifest as UTF-8 bytes (BOM removed), read once; None, with
        a notice, when it cannot be read or is not text. Only files discovery found are read."""
        cache = self.__dict__.setdefault("_sources", {})
        if path not in cache:
            cache[path] = self._read_source(path)
        return cache[path]

    def _read_source(self, path: str) -> bytes | None:
        from linter.analysis import decode_source

        manifests = {p.manifest for p in self.packages.values()}
        if path not in self.other_files and path not in manifests:
            return None
        try:
            given = self.given.get(path)
            raw = given if given is not None else read_repository_file(self.root / path, self.root, self.max_file_size)
        except ReadRefused as error:
            self.notices.append(Notice(message=str(error), path=path))
            return None
        source, problem = decode_source(raw)
        if source is None:
            self.notices.append(Notice(message=problem or "skipped: not text", path=path, level=Level.NOTE))
        return source

    def sources_read(self) -> dict[str, bytes | None]:
        """What `read_source` has read so far, by path (None: could not be read)."""
        return dict(self.__dict__.get("_sources", {}))

    def add_sources_read(self, sources: dict[str, bytes | None]) -> None:
        """Take the reads of another process's copy of the index (`linter.project_split`) as this index's own."""
        cache = self.__dict__.setdefault("_sources", {})
        for path, source in sources.items():
            cache.setdefault(path, source)

    def read_paths(self) -> set[str]:
        """The project files and manifests `read_source` has read, and could."""
        return {path for path, source in self.__dict__.get("_sources", {}).items() if source is not None}

    def read_js_source(self, path: str, keep: bool = True) -> bytes | None:
        """A JavaScript or TypeScript file discovery found, read again (the project phase of the flow engine
        looks into the few files on a path to a sink), once per index; None when it cannot be read or is not
        text. With `keep` false, a text not read yet is not kept: for a pass over every file of the project."""
        if path not in self._known:
            return None
        if path in self.given:
            return _js_text(self.given[path])
        read = self.__dict__.setdefault("_js_sources", {})
        if path in read:
            return read[path]
        try:
            raw = read_repository_file(os.path.join(self.root, path), self.root, self.max_file_size)
            source = _js_text(raw)
        except (OSError, ReadRefused):
            source = None  # its analysis already said so
        if keep:
            read[path] = source
        return source

    def location(self, path: str, start_byte: int, end_byte: int, message: str | None = None) -> Location:
        """A location in a file read with `read_source`, from byte offsets into its text."""
        lines = self.__dict__.setdefault("_line_indexes", {})
        if path not in lines:
            lines[path] = LineIndex(self.read_source(path) or b"")
        return Location(path=path, span=lines[path].span(start_byte, end_byte), message=message)

    def parsed_file(self, path: str, keep: bool = True) -> FileContext | None:
        """The source file at `path` (root-relative), read and parsed; None when it is not JavaScript or
        TypeScript or cannot be read. With `keep` false the caller reads what it needs of the tree and drops it
        (`RecordingIndex` keeps only the other parses for the next checks)."""
        recent: dict[str, FileContext] = self.__dict__.setdefault("_dropped_parses", {})
        if path in recent:  # parsed lately by a caller that dropped it: the parse serves again
            file = recent.pop(path)
        else:
            language = LANGUAGE_BY_SUFFIX.get(posixpath.splitext(path)[1])
            source = self.read_js_source(path) if language is not None else None
            if source is None:
                return None
            file = FileContext(path, source, language, parse(source, language), self.packages_around(path))
        if not keep:
            recent[path] = file
            while sum(len(f.source) for f in recent.values()) > RECENT_PARSES_BYTES:
                recent.pop(next(iter(recent)))
        return file

    def memo(self, key: object, compute):
        """`compute()` once per run and key: where helpers keep what they build from the whole project."""
        cache = self.__dict__.setdefault("_memo", {})
        key = (self.instance, key) if self.instance else key
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def add_file(self, path: str, references, facts: list[Fact], flows=()) -> None:
        """Record one analysed file: its imports, its rules' facts and its flow summaries."""
        self.specifiers[path] = [r.specifier for r in references]
        for derived in _FROM_IMPORT_GRAPH:
            self.__dict__.pop(derived, None)
        for fact in facts:
            self.facts[fact.rule_id].append(fact)
        for summary in flows:
            self._flow_summaries[(summary.spec, summary.instance)][path] = summary

    def flow_summaries(self, spec: str) -> dict:
        """path → the flow summary (`linter.flow.summary.FlowSummary`) each file left for `spec`, for the
        rule instance whose check runs."""
        return self._flow_summaries.get((spec, self.instance), {})

    @property
    def imports(self) -> dict[str, list[tuple[str, str | None]]]:
        """path -> [(specifier, the indexed file it names or None)] for every analysed file. Resolved on first
        use: most runs ask for few or none (a pre-commit run reads thousands of files' imports from the cache)."""
        if "_imports" not in self.__dict__:
            self._known  # noqa: B018 (forgets the answers when files were added, as `_resolve_from` expects)
            imports = {}
            for path, specifiers in self.specifiers.items():
                folder, aliases = posixpath.dirname(path), self._aliases_for(path)
                imports[path] = [(specifier, self._resolve_from(folder, aliases, specifier)) for specifier in specifiers]
            self.__dict__["_imports"] = imports
        return self.__dict__["_imports"]

    def lasting(self, path: str, text: bytes, key: object, compute):
        """`compute()` once per key and text of the file at `path` (`text`, as read in this run): for what
        depends on that text alone (a parsed project file). The editor's server keeps it for its next project
        phases, as long as the text stays the same (`linter.server.session`)."""
        store = self.__dict__.setdefault("_lasting", {})
        if (path, key) not in store:
            store[(path, key)] = compute()
        return store[(path, key)]

    def graph_memo(self, key: str) -> dict:
        """A dict that lives as long as the import graph does: for what helpers compute from it alone."""
        return self.__dict__.setdefault("_graph_memos", {}).setdefault(key, {})

    def share_import_graph(self, other: "ProjectIndex") -> None:
        """Take `other`'s import graph and what was computed from it (`graph_memo`), once every file is added.
        Only for an index of the same files, each with the same imports (the editor's server, after an edit
        that changed no import)."""
        other.importers_of("")  # the graph and its reverse computed now, so that both indexes keep them
        other.__dict__.setdefault("_graph_memos", {})
        for derived in _FROM_IMPORT_GRAPH:
            self.__dict__[derived] = other.__dict__[derived]

    def share_resolution(self, other: "ProjectIndex") -> None:
        """Resolve module specifiers with `other`'s answers, and share the answers found from now on. Only for
        an index of the same files, packages and path aliases: the editor's server builds one per project
        phase from the same discovery (`linter.server.session`)."""
        self.__dict__["_known_files"] = other._known
        self.__dict__["_resolved"] = other.__dict__["_resolved"]

    def package_of(self, path: str) -> Package | None:
        around = self._packages_of_folder(posixpath.dirname(path))
        return around[0] if around else None

    def packages_around(self, path: str) -> list[Package]:
        """The file's package and every enclosing one (a monorepo root's dependencies count for its apps)."""
        return list(self._packages_of_folder(posixpath.dirname(path)))

    def _packages_of_folder(self, folder: str) -> list[Package]:
        """The packages of `folder` and of every folder above it, nearest first: the list kept for the folder."""
        known, by_folder = self.__dict__.get("_packages_by_folder", (None, {}))
        if known != len(self.packages):  # first use, or packages were added since
            by_folder = {}
            self.__dict__["_packages_by_folder"] = (len(self.packages), by_folder)
        found = by_folder.get(folder)
        if found is None:
            parent = posixpath.dirname(folder)
            above = self._packages_of_folder(parent) if folder and parent != folder else []
            package = self.packages.get(folder)
            found = by_folder[folder] = [package, *above] if package is not None else list(above)
        return found

    def depends_on(self, path: str, names: tuple[str, ...]) -> bool:
        packages = self.packages_around(path)
        return not packages or any(p.depends_on(names) for p in packages)

    def importers_of(self, path: str) -> list[str]:
        """The analysed files that import `path`, sorted."""
        if "_importers" not in self.__dict__:
            importers: dict[str, set[str]] = defaultdict(set)
            for source, edges in self.imports.items():
                for _, target in edges:
                    if target is not None:
                        importers[target].add(source)
            self.__dict__["_importers"] = {target: sorted(sources) for target, sources in importers.items()}
        return list(self.__dict__["_importers"].get(path, ()))

    def resolve(self, from_path: str, specifier: str) -> str | None:
        """The indexed file `specifier` names when imported from `from_path`, or None (external or unknown)."""
        self._known  # noqa: B018 (forgets the answers when files were added)
        answers = self.__dict__["_resolved"]
        key = ("from", from_path, specifier)  # the project phase asks again for every call of an imported name
        if key not in answers:
            answers[key] = self._resolve_from(posixpath.dirname(from_path), self._aliases_for(from_path), specifier)
        return answers[key]

    def _resolve_from(self, folder: str, aliases: PathAliases | None, specifier: str) -> str | None:
        """`resolve` for a file in `folder` under `aliases`, once `_known` was asked for (it forgets the answers
        kept here when files were added)."""
        # The answer depends on the folder (a relative specifier) or on the aliases (any other): files of a
        # project import the same few specifiers, so each is resolved once per run.
        if specifier.startswith("."):
            key = (folder, specifier)
        else:
            key = (id(aliases), specifier)  # the index holds its aliases for its whole life
        resolved = self.__dict__["_resolved"]
        if key not in resolved:
            known = self.__dict__["_known_files"]
            if specifier.startswith("."):
                found = self._resolve(folder, specifier, known)
            else:
                found = self._resolve(aliases, specifier, known) if aliases is not None else None
                found = found or self._resolve_workspace_package(specifier, known)
            resolved[key] = found
        return resolved[key]

    def _resolve_workspace_package(self, specifier: str, known: frozenset[str]) -> str | None:
        """A package of this monorepo imported by its name (`@repo/db`, `@repo/db/client`): its `main` entry
        or `index` (also under `src/`), or the subpath inside it."""
        by_name = self.__dict__.get("_packages_by_name")
        if by_name is None or by_name[0] != len(self.packages):
            by_name = (len(self.packages), {p.name: p for p in self.packages.values() if p.name})
            self.__dict__["_packages_by_name"] = by_name
        parts = specifier.split("/")
        length = 2 if specifier.startswith("@") else 1
        package = by_name[1].get("/".join(parts[:length]))
        if package is None:
            return None
        subpath = "/".join(parts[length:])
        base = package.dir
        if subpath:
            candidates = [posixpath.join(base, subpath), posixpath.join(base, "src", subpath)]
        else:
            candidates = []
            if package.main:
                main = posixpath.normpath(posixpath.join(base, package.main))
                candidates.append(main)
                for built in ("dist/", "build/", "lib/"):  # a workspace is used from source: the build may not exist
                    inside = posixpath.join(base, built)
                    if main.startswith(inside):
                        candidates.append(posixpath.join(base, "src", main[len(inside) :]))
            candidates.extend([posixpath.join(base, "index"), posixpath.join(base, "src", "index")])
        candidates = [c.lstrip("/") if base == "" else c for c in candidates]
        return _resolve_candidates(candidates, known)

    @staticmethod
    def _resolve(folder_or_aliases, specifier: str, known: frozenset[str]) -> str | None:
        if specifier.startswith("."):
            base = posixpath.normpath(posixpath.join(folder_or_aliases, specifier))
            return _resolve_candidates([base], known)
        aliases = folder_or_aliases
        candidates = []
        for pattern, targets in aliases.patterns:
            star = _alias_match(pattern, specifier)
            if star is not None:
                candidates.extend(t.replace("*", star, 1) for t in targets)
        if aliases.base_url is not None and not candidates:
            candidates.append(posixpath.normpath(posixpath.join(aliases.base_url, specifier)))
        return _resolve_candidates(candidates, known)

    @property
    def _known(self) -> frozenset[str]:
        cached = self.__dict__.get("_known_files")
        if cached is None or len(cached) != len(self.files):
            cached = frozenset(self.files)
            self.__dict__["_known_files"] = cached
            self.__dict__["_resolved"] = {}
        return cached

    def _aliases_for(self, path: str) -> PathAliases | None:
        """The aliases of the nearest tsconfig/jsconfig above `path` (the same for every file of a folder)."""
        folder = posixpath.dirname(path)
        by_folder = self.__dict__.setdefault("_aliases_by_folder", {})
        if folder not in by_folder:
            best = None
            for aliases in self.aliases:
                inside = not aliases.dir or path.startswith(aliases.dir + "/")
                if inside and (best is None or len(aliases.dir) > len(best.dir)):
                    best = aliases
            by_folder[folder] = best
        return by_folder[folder]


def _js_text(raw: bytes) -> bytes | None:
    from linter.analysis import decode_source, looks_minified

    source, _ = decode_source(raw)
    return source if source is not None and not looks_minified(source) else None


def _alias_match(pattern: str, specifier: str) -> str | None:
    if "*" not in pattern:
        return "" if pattern == specifier else None
    prefix, suffix = pattern.split("*", 1)
    if specifier.startswith(prefix) and specifier.endswith(suffix) and len(specifier) >= len(prefix) + len(suffix):
        return specifier[len(prefix) : len(specifier) - len(suffix)]
    return None


def _resolve_candidates(candidates: list[str], known: frozenset[str]) -> str | None:
    for base in candidates:
        base = base[2:] if base.startswith("./") else base
        if base in known:
            return base
        stem, dot, ext = base.rpartition(".")
        if dot and "." + ext in (".js", ".jsx", ".mjs", ".cjs"):
            for suffix in (".ts", ".tsx", ".mts", ".cts"):
                if stem + suffix in known:
                    return stem + suffix
        for suffix in RESOLVE_SUFFIXES:
            if base + suffix in known:
                return base + suffix
        for suffix in RESOLVE_SUFFIXES:
            if f"{base}/index{suffix}" in known:
                return f"{base}/index{suffix}"
    return None


def load_package(manifest: Path, root: Path, notices: list[Notice], limit: int = DEFAULT_MAX_FILE_SIZE) -> Package:
    rel_dir = manifest.parent.relative_to(root).as_posix()
    rel_dir = "" if rel_dir == "." else rel_dir
    rel_manifest = manifest.relative_to(root).as_posix()
    data = _read_json(manifest, root, rel_manifest, notices, comments=False, limit=limit)
    if not isinstance(data, dict):
        return Package(dir=rel_dir, name=None, dependencies=frozenset(), manifest=rel_manifest)
    dependencies: set[str] = set()
    for key in DEPENDENCY_KEYS:
        section = data.get(key)
        if isinstance(section, dict):
            dependencies.update(str(name) for name in section)
    name = data.get("name") if isinstance(data.get("name"), str) else None
    settings = data.get("loadlint")
    return Package(
        dir=rel_dir,
        name=name,
        dependencies=frozenset(dependencies),
        manifest=rel_manifest,
        settings=settings if "loadlint" in data else None,
        scripts=_scripts(data.get("scripts")),
        main=data.get("main") if isinstance(data.get("main"), str) else None,
        command=bool(data.get("bin")) and isinstance(data.get("bin"), (str, dict)),
        private=data.get("private") is True,
        exports=bool(data.get("exports")) and isinstance(data.get("exports"), (str, dict)),
    )


def _scripts(section: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(section, dict):
        return ()
    return tuple((str(name), command) for name, command in section.items() if isinstance(command, str))


def load_aliases(tsconfig: Path, root: Path, notices: list[Notice], limit: int = DEFAULT_MAX_FILE_SIZE) -> PathAliases | None:
    """Path aliases of a tsconfig/jsconfig, following `extends` to relative files inside the root."""
    options: dict = {}
    options_dir: Path | None = None
    current, depth = tsconfig, 0
    while current is not None and depth < 5:
        rel = current.relative_to(root).as_posix()
        data = _read_json(current, root, rel, notices, comments=True, limit=limit)
        if not isinstance(data, dict):
            break
        compiler = data.get("compilerOptions")
        if isinstance(compiler, dict):
            for key in ("paths", "baseUrl"):
                if key in compiler and key not in options:
                    options[key] = compiler[key]
                    options_dir = options_dir or current.parent
        current = _extended(current, data.get("extends"), root)
        depth += 1
    if not options or options_dir is None:
        return None
    base_dir = options_dir
    if isinstance(options.get("baseUrl"), str):
        base_dir = (options_dir / options["baseUrl"]).resolve()
    if not (base_dir == root or root in base_dir.parents):
        return None
    base_rel = base_dir.relative_to(root).as_posix()
    base_rel = "" if base_rel == "." else base_rel
    patterns = []
    paths = options.get("paths")
    if isinstance(paths, dict):
        for pattern, targets in paths.items():
            if isinstance(targets, list):
                resolved = tuple(
                    posixpath.normpath(posixpath.join(base_rel, t)) for t in targets if isinstance(t, str)
                )
                patterns.append((str(pattern), resolved))
    config_dir = tsconfig.parent.relative_to(root).as_posix()
    return PathAliases(
        dir="" if config_dir == "." else config_dir,
        patterns=tuple(patterns),
        base_url=base_rel if "baseUrl" in options else None,
    )


def _extended(current: Path, extends: object, root: Path) -> Path | None:
    if not isinstance(extends, str) or not extends.startswith("."):
        return None
    target = (current.parent / extends).resolve()
    if target.suffix != ".json":
        target = target.with_name(target.name + ".json")
    if not (root in target.parents) or not target.is_file():
        return None
    return target


_JSONC_TOKENS = lazy_re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = lazy_re.compile(r",(\s*[}\]])")


def _strip_jsonc(raw: str) -> str:
    without_comments = _JSONC_TOKENS.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", raw)
    return _TRAILING_COMMA.sub(r"\1", without_comments)


def _read_json(path: Path, root: Path, rel: str, notices: list[Notice], comments: bool, limit: int) -> object:
    try:
        raw = read_repository_file(path, root, limit).decode("utf-8-sig")
    except ReadRefused as error:
        notices.append(Notice(message=str(error), path=rel))
        return None
    except UnicodeDecodeError as error:
        notices.append(Notice(message=f"cannot read: {error}", path=rel))
        return None
    try:
        return json.loads(_strip_jsonc(raw) if comments else raw)
    except ValueError as error:
        notices.append(Notice(message=f"not valid JSON ({error}); its settings are ignored", path=rel))
    except RecursionError:
        notices.append(Notice(message="not valid JSON (nested too deeply); its settings are ignored", path=rel))
    return None


class RecordingIndex(ProjectIndex):
    """A project index that records the files each project-wide check reads on demand, and what it asks of the
    reported paths, and gives each check a memo of its own (parses are shared): the run's, when its checks'
    outcomes are cached (`linter.project_cache`), and the editor server's (`linter.server.session`)."""

    @property
    def reported_paths(self) -> frozenset[str]:
        """The paths the run reports; while a check runs, a set that records what the check asks of it."""
        reported = self.__dict__.get("_reported", frozenset())
        reader = self.__dict__.get("_reader")
        if reader is None:
            return reported
        return AskedPaths(reported, self.__dict__.setdefault("_asked_by", {}).setdefault(reader, {}))  # type: ignore[return-value]

    @reported_paths.setter
    def reported_paths(self, paths) -> None:
        self.__dict__["_reported"] = frozenset(paths)

    def reading_for(self, rule: str | None) -> None:
        self.__dict__["_memo"] = {}
        self.__dict__["_reader"] = rule

    def read_js_source(self, path: str, keep: bool = True) -> bytes | None:
        self._note_read(path)
        return super().read_js_source(path, keep)

    def read_source(self, path: str) -> bytes | None:
        self._note_read(path)
        return super().read_source(path)

    def parsed_file(self, path: str, keep: bool = True):
        parsed = self.__dict__.setdefault("_parsed", {})
        if path in parsed:
            self._note_read(path)
            return parsed[path]
        file = super().parsed_file(path, keep)
        if keep:
            parsed[path] = file
        return file

    def _note_read(self, path: str) -> None:
        self.__dict__.setdefault("_read_by", defaultdict(set))[self.__dict__.get("_reader")].add(path)

    def files_read_by(self, rule: str | None) -> frozenset[str]:
        return frozenset(self.__dict__.get("_read_by", {}).get(rule, ()))

    def reported_asked_by(self, rule: str | None) -> dict:
        """What the check of `rule` asked of the reported paths: path -> whether it is reported, and the key
        None (true) when it read the set whole (iterated, measured or hashed it)."""
        return dict(self.__dict__.get("_asked_by", {}).get(rule, {}))


class AskedPaths(Set):
    """The reported paths as a check sees them: each question asked of them is recorded in `asked` (path ->
    the answer), and a read of the whole set as `asked[None] = True`. A check's outcome depends on the reported
    paths only through these answers."""

    __slots__ = ("_paths", "_asked")

    def __init__(self, paths: frozenset[str], asked: dict) -> None:
        self._paths = paths
        self._asked = asked

    def __contains__(self, path: object) -> bool:
        answer = path in self._paths
        if type(path) is str:
            self._asked[path] = answer
        else:
            self._asked[None] = True
        return answer

    def __iter__(self):
        self._asked[None] = True
        return iter(self._paths)

    def __len__(self) -> int:
        self._asked[None] = True
        return len(self._paths)

    def __hash__(self) -> int:
        self._asked[None] = True
        return hash(self._paths)

    @classmethod
    def _from_iterable(cls, values):
        return frozenset(values)

    def __repr__(self) -> str:
        return f"AskedPaths({sorted(self._paths)!r})"



class DemandIndex(ProjectIndex):
    """The index of a run without a results cache. The files the run reports are added as they are analysed;
    any other file is analysed only when a project-wide check first asks for what it holds, by `supplier`
    (`linter.on_demand.OnDemand`): the import graph (most files' imports read from their bytes), one rule's facts
    (that rule run on the files it runs on), one flow spec's summaries (its rules run on theirs). A check reads
    what the index of every file would hold, in the same order.

    A file may be analysed several times with some of the rules (`add_result` with `ran`): its facts of a rule
    and its summaries of a flow spec are taken from an analysis that ran that rule, or the spec's rules."""

    def supply(self, supplier) -> None:
        self.__dict__["_supplier"] = supplier
        # path -> [(the ids of the rules that ran, None for every rule; the names of their flow specs; the result)]
        self.__dict__["_analyses"] = defaultdict(list)

    def add_file(self, path: str, references, facts: list[Fact], flows=()) -> None:
        self.add_result(_Added(path, list(references), list(facts), list(flows)))

    def add_result(self, result, ran: frozenset[str] | None = None, specs: frozenset[str] = frozenset()) -> None:
        """Record one analysed file (a `linter.analysis.FileResult`): with all rules (`ran` None), or those of
        `ran`, whose flow specs are `specs`."""
        analyses = self.__dict__["_analyses"][result.path]
        if ran is None:
            analyses.insert(0, (ran, specs, result))  # it holds everything: the first looked at
        else:
            analyses.append((ran, specs, result))
        if "_specifiers" in self.__dict__:  # an import graph made before: the analysed imports are its own
            specifiers = [r.specifier for r in result.references]
            if self.__dict__["_specifiers"].get(result.path) != specifiers:
                self.__dict__["_specifiers"][result.path] = specifiers
                for derived in _FROM_IMPORT_GRAPH:
                    self.__dict__.pop(derived, None)

    def analysed(self, path: str) -> bool:
        return bool(self.__dict__["_analyses"].get(path))

    @property
    def specifiers(self) -> dict[str, list[str]]:
        if "_specifiers" not in self.__dict__:
            scanned = self.__dict__["_supplier"].imports()  # analyses the files whose imports need a parse
            analyses = self.__dict__["_analyses"]
            specifiers = {}
            for path in self.files:
                done = analyses.get(path)
                specifiers[path] = [r.specifier for r in done[0][2].references] if done else scanned[path]
            self.__dict__["_specifiers"] = specifiers
        return self.__dict__["_specifiers"]

    @specifiers.setter
    def specifiers(self, value) -> None:  # the dataclass sets it empty
        pass

    @property
    def facts(self) -> "_DemandedFacts":
        return self.__dict__.setdefault("_facts", _DemandedFacts(self))

    @facts.setter
    def facts(self, value) -> None:  # the dataclass sets it empty
        pass

    def rule_facts(self, rule_id: str) -> list[Fact]:
        """The facts of every file for the rule `rule_id`, in file order, once the files it runs on are analysed
        (those of the kinds of `Rule.project_reads_for` of the files around the reported ones it names only)."""
        return self.__dict__["_supplier"].facts_for_check(rule_id)

    def around_reported(self, direction: str) -> frozenset[str]:
        """The reported files (of the index: "reported"), and those they import, directly or not ("imported"),
        or those importing them ("importing")."""
        if direction == "reported":
            return frozenset(path for path in self.files if path in self.reported_paths)
        known = self.graph_memo("demand.around-reported")
        if direction not in known:
            if direction == "imported":
                imports = self.imports
                step = lambda path: [target for _, target in imports.get(path, ()) if target is not None]  # noqa: E731
            else:
                step = self.importers_of
            reported = self.reported_paths
            found = {path for path in self.files if path in reported}
            frontier = list(found)
            while frontier:
                following = []
                for path in frontier:
                    for other in step(path):
                        if other not in found:
                            found.add(other)
                            following.append(other)
                frontier = following
            known = self.graph_memo("demand.around-reported")  # the graph is made by the first step
            known[direction] = frozenset(found)
        return known[direction]

    def facts_in(self, paths, rule_id: str) -> list[Fact]:
        """The facts for the rule `rule_id` of the files of `paths` analysed with it so far, in that order."""
        analyses = self.__dict__["_analyses"]
        found = []
        for path in paths:
            for ran, _, result in analyses.get(path, ()):
                if ran is None or rule_id in ran:
                    found.extend(fact for fact in result.facts if fact.rule_id == rule_id)
                    break
        return found

    def flow_summaries(self, spec: str) -> "_DemandedSummaries":
        return _DemandedSummaries(self, spec, self.instance)

    def summary_of(self, path: str, spec: str, instance: str):
        """The flow summary the file at `path` leaves for `spec` and the rule instance `instance`, or None, from
        an analysis that ran the spec's rules (run now when none did)."""
        analyses = self.__dict__["_analyses"]
        if not any(ran is None or spec in specs for ran, specs, _ in analyses.get(path, ())):
            self.__dict__["_supplier"].analyse_for_flow_spec(spec, {path})
        for ran, specs, result in analyses.get(path, ()):
            if ran is None or spec in specs:
                found = None
                for summary in result.flows:
                    if summary.spec == spec and summary.instance == instance:
                        found = summary
                return found
        return None

    def demanded_incomplete(self) -> bool:
        """Whether a file analysed for the project phase was not analysed to the end."""
        return any(result.incomplete for analyses in self.__dict__["_analyses"].values() for _, _, result in analyses)


class _DemandedSummaries(Mapping):
    """path -> the flow summary of one spec and rule instance (`ProjectIndex.flow_summaries`), the files
    analysed for it as they are asked for: one file's, or every file's to go through them all."""

    def __init__(self, index: DemandIndex, spec: str, instance: str) -> None:
        self._index = index
        self._spec = spec
        self._instance = instance
        self._every: dict | None = None

    def __getitem__(self, path: str):
        summary = self._index.summary_of(path, self._spec, self._instance) if path in self._index._known else None
        if summary is None:
            raise KeyError(path)
        return summary

    def _all(self) -> dict:
        if self._every is None:
            self._index.__dict__["_supplier"].analyse_for_flow_spec(self._spec)
            found = {}
            for path in self._index.files:
                summary = self._index.summary_of(path, self._spec, self._instance)
                if summary is not None:
                    found[path] = summary
            self._every = found
        return self._every

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@dataclass
class _Added:
    """A file added to a `DemandIndex` as `ProjectIndex.add_file` takes it."""

    path: str
    references: list
    facts: list[Fact]
    flows: list
    incomplete: bool = False


class _DemandedFacts(dict):
    """rule id -> the facts of every file, gathered when a check first asks for a rule's (`DemandIndex`)."""

    def __init__(self, index: DemandIndex) -> None:
        super().__init__()
        self._index = index

    def __getitem__(self, rule_id: str) -> list[Fact]:
        if not dict.__contains__(self, rule_id):
            dict.__setitem__(self, rule_id, self._index.rule_facts(rule_id))
        return dict.__getitem__(self, rule_id)

    def get(self, rule_id: str, default=None):
        facts = self[rule_id]
        return facts if facts else default

    def __contains__(self, rule_id: object) -> bool:
        return isinstance(rule_id, str) and bool(self[rule_id])

    def _every_rule(self) -> None:
        for rule_id in self._index.__dict__["_supplier"].learning_rule_ids():
            self[rule_id]  # noqa: B018

    def __iter__(self):
        self._every_rule()
        return iter([rule_id for rule_id, facts in dict.items(self) if facts])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def keys(self):
        return list(iter(self))

    def items(self):
        return [(rule_id, dict.__getitem__(self, rule_id)) for rule_id in self]

    def values(self):
        return [facts for _, facts in self.items()]
