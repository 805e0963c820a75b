"""Finds the files to lint under the given paths: JS/TS sources, package manifests, tsconfig files, and the
non-JavaScript project files some rules read (Prisma schemas, Dockerfiles, ...: `linter.files.kinds`).

Honours `.gitignore` files (nested ones too), always skips dependency and tool folders (`node_modules`, `.next`,
...), never follows a symlink out of the root and never walks a folder twice (symlink loops). It opens no file:
what is not a regular file (a FIFO would block the read), is over the size limit (when one is given) or has a
name that is not UTF-8 is left out with a notice. Output is sorted and de-duplicated. What depends on the
config of each folder (build output folders, `exclude`, `max-file-size`) is left to the engine, which knows
the configs only once the walk has found them.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from linter.config import CONFIG_FILE_NAMES
from linter.deadline import OutOfTime
from linter.files.kinds import project_file_kind
from linter.lazy_dataclasses import dataclass
from linter.model import Level, Notice
from linter.safe_read import ReadRefused, read_repository_file
from linter.syntax import LANGUAGE_BY_SUFFIX

if TYPE_CHECKING:  # imported where a walk reads a .gitignore: a run from a kept listing reads none
    import pathspec

# Never source, at any depth: dependencies, git's own folder, tools' caches and output.
ALWAYS_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".next", ".turbo"})
MAX_GITIGNORE_BYTES = 2_000_000
MANIFEST_NAMES = frozenset({"package.json"})
TSCONFIG_NAMES = frozenset({"tsconfig.json", "jsconfig.json"})
# The names a folder's config can have (`linter.config.config_file_in`): a walk notes the folders that hold one.
CONFIG_NAMES = frozenset({*CONFIG_FILE_NAMES, *MANIFEST_NAMES})


@dataclass
class Discovered:
    sources: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    tsconfigs: list[Path] = field(default_factory=list)
    project_files: list[Path] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    sizes: dict[Path, int] = field(default_factory=dict)  # the size of each file found, when it was found
    # The stat of each file a kept listing was checked with (`linter.listing_cache`): a regular file's, taken
    # as this run began; the results cache takes it instead of a second one (`ResultCache.file_key`).
    stats: dict[Path, os.stat_result] = field(default_factory=dict)
    # The folders the walk listed (relative to the root, "" for it) and those of them holding an entry with a
    # config's name (ignored or not): a listed folder without one has no config (`linter.config_tree`).
    listed_folders: set[str] = field(default_factory=set)
    config_folders: set[str] = field(default_factory=set)


def path_order(path: Path) -> tuple[str, ...]:
    """The order of `sorted(paths)`, computed once per path instead of at each comparison."""
    return path.parts


@dataclass
class Trace:
    """What a walk read, for `linter.listing_cache` to tell later whether the walk would still find the same:
    the folders it listed or looked in for a .gitignore, and every file it considered (with its notice)."""

    folders: set[str] = field(default_factory=set)
    files: list[tuple[Path, Notice | None]] = field(default_factory=list)
    links: bool = False  # it followed a symbolic link (to a folder or a file it reads): where one leads can change unseen
    unreadable: bool = False  # it could not read something


def is_source(path: Path) -> bool:
    return is_source_name(path.name)


def is_source_name(name: str) -> bool:
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""  # as `Path.suffix`
    return suffix in LANGUAGE_BY_SUFFIX and not name.endswith((".d.ts", ".d.mts", ".d.cts"))


class _GitIgnores:
    """The .gitignore files met on the way down, each matching paths relative to its own folder.
    On path strings: pathlib costs more than the matching itself on a large repository."""

    def __init__(
        self, root: Path, trace: Trace | None = None, notices: list[Notice] | None = None, max_file_size: int = MAX_GITIGNORE_BYTES
    ) -> None:
        self.root = str(root)
        self._root_path = root
        self._chains: dict[str, list[tuple[str, _IgnoreFile]]] = {}
        self._trace = trace
        self._notices = notices if notices is not None else []
        self._max_file_size = max_file_size

    def _spec_for(self, folder: str) -> _IgnoreFile | None:
        if self._trace is not None:
            self._trace.folders.add(folder)
        ignore_file = os.path.join(folder, ".gitignore")
        try:
            # As git: never through a symbolic link (`.gitignore -> /proc/kmsg` would block the run).
            raw = read_repository_file(ignore_file, self._root_path, self._max_file_size, follow_links=False)
        except ReadRefused as error:
            if not error.missing:  # its patterns are lost: files it ignores may be linted
                where = display_path(Path(ignore_file), self._root_path)
                self._notices.append(Notice(message=f"{error}; its patterns are not applied", path=where))
                if self._trace is not None:
                    self._trace.unreadable = True
            return None
        text = raw.decode("utf-8", errors="replace")
        return _IgnoreFile(self._spec_of(text.splitlines(), ignore_file))

    def _spec_of(self, lines: list[str], ignore_file: str) -> pathspec.PathSpec:
        import pathspec

        try:
            return pathspec.GitIgnoreSpec.from_lines(lines)
        except (ValueError, re.error):  # as git does, skip the patterns that are not valid
            valid = [line for line in lines if _valid_pattern(line)]
            message = f"patterns that are not valid globs skipped: {len(lines) - len(valid)}"
            self._notices.append(Notice(message=message, path=display_path(Path(ignore_file), Path(self.root))))
            return pathspec.GitIgnoreSpec.from_lines(valid)

    def specs_above(self, folder: str) -> list[tuple[str, _IgnoreFile]]:
        """The specs that apply in `folder`, nearest first: its own, then each parent's up to the root.
        Kept per folder, since every file of a folder asks the same."""
        pending = []
        current = folder
        while (chain := self._chains.get(current)) is None:
            pending.append(current)
            if current == self.root or not current.startswith(os.path.join(self.root, "")):
                chain = []
                break
            current = os.path.dirname(current)
        for pending_folder in reversed(pending):
            spec = self._spec_for(pending_folder)
            chain = [(os.path.join(pending_folder, ""), spec), *chain] if spec is not None else chain
            self._chains[pending_folder] = chain
        return chain

    def ignored(self, chain: list[tuple[str, _IgnoreFile]], path: str, is_dir: bool) -> bool:
        """Whether `path` is ignored; `chain` is `specs_above` its folder."""
        # As git does: the nearest .gitignore with a pattern for the path decides (`!keep.js` in a subfolder
        # re-includes what `*.js` above excludes).
        for prefix, spec in chain:
            relative = path[len(prefix) :].replace(os.sep, "/") + ("/" if is_dir else "")
            try:
                decision = spec.decision(relative)
            except OutOfTime:  # a pattern such as `**/a*/**/a*/…/z` backtracks for minutes
                root = Path(self.root)
                where = display_path(Path(prefix, ".gitignore"), root)
                raise OutOfTime(f"matching {display_path(Path(path), root)} against the patterns of {where}") from None
            if decision is not None:
                return decision
        return False


class _IgnoreFile:
    """One .gitignore. Most paths match none of its patterns: one regex made of them all says so in a single
    search, and only a path that matches some pattern is asked of pathspec, which knows their order and
    negations."""

    def __init__(self, spec: pathspec.PathSpec) -> None:
        self.spec = spec
        regexes = [p.regex for p in spec.patterns if getattr(p, "include", None) is not None and getattr(p, "regex", None) is not None]
        self._any: re.Pattern | None = None
        if regexes and len({r.flags for r in regexes}) == 1:
            try:
                self._any = re.compile("|".join(f"(?:{_unnamed(r.pattern)})" for r in regexes), regexes[0].flags)
            except (re.error, TypeError):
                self._any = None

    def decision(self, relative: str) -> bool | None:
        """True when the file's last matching pattern ignores `relative`, False when it re-includes it (`!…`),
        None when no pattern matches."""
        if self._any is not None and self._any.search(relative) is None:
            return None
        return self.spec.check_file(relative).include


def _valid_pattern(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (ValueError, re.error):
        return False
    return True


def _unnamed(pattern: str) -> str:
    # Each pattern names its groups alike; joined, the names would clash.
    return re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(?:", pattern)


def discover(root: Path, start_dirs: list[Path], max_file_size: int | None, trace: Trace | None = None) -> Discovered:
    """Walk `start_dirs` (absolute, inside `root`), in their order, and collect what loadlint reads; files over
    `max_file_size` are left out with a notice (None: the caller checks the sizes). A folder reached twice
    (through a symbolic link) is listed under the path it was first reached by."""
    found = Discovered()
    ignores = _GitIgnores(root, trace, found.notices, min(max_file_size or MAX_GITIGNORE_BYTES, MAX_GITIGNORE_BYTES))
    seen_dirs: set[object] = set()
    stack = list(reversed(dict.fromkeys(start_dirs)))
    while stack:
        folder = stack.pop()
        identity = _folder_identity(folder)
        if identity in seen_dirs:
            continue
        seen_dirs.add(identity)
        rel_folder = _rel(folder, root)
        if not _is_utf8(rel_folder):
            found.notices.append(_name_not_utf8(display_path(folder, root)))
            continue
        if trace is not None:
            trace.folders.add(str(folder))
        try:
            entries = sorted(os.scandir(folder), key=_entry_name)
        except OSError as error:
            found.notices.append(Notice(message=f"cannot read folder: {error.strerror or error}", path=_rel(folder, root)))
            if trace is not None:
                trace.unreadable = True
            continue
        rel_folder = "" if rel_folder == "." else rel_folder
        found.listed_folders.add(rel_folder)
        walk = _FolderWalk(folder, rel_folder, root, ignores, found, trace)
        subfolders = []
        for entry in entries:
            if entry.name.lower() in CONFIG_NAMES:  # as a case-insensitive file system finds it
                found.config_folders.add(rel_folder)
            try:
                is_dir = entry.is_dir()
            except OSError as error:  # a link to itself: ELOOP
                where = display_path(Path(entry.path), root)
                found.notices.append(Notice(message=f"cannot read: {error.strerror or error}", path=where))
                if trace is not None:
                    trace.unreadable = True
                continue
            if is_dir:
                if entry.name in ALWAYS_SKIPPED_DIRS or walk.ignored(entry, True):
                    continue
                path = folder / entry.name
                if trace is not None and entry.is_symlink():
                    trace.links = True
                problem = _link_problem(path, entry, root)
                if problem is not None:
                    found.notices.append(problem)
                    continue
                subfolders.append(path)
            else:
                walk.consider_file(entry, max_file_size)
        stack.extend(reversed(subfolders))
    for paths in (found.sources, found.manifests, found.tsconfigs, found.project_files):
        paths.sort(key=path_order)
    return found


def _folder_identity(folder: Path) -> object:
    """The same for every path that reaches one folder (through symbolic links too)."""
    try:
        info = os.stat(folder)
    except OSError:  # reported when the folder is read
        return folder
    return info.st_dev, info.st_ino


class _FolderWalk:
    """What the walk decides for the entries of one folder: whether .gitignore files ignore them (the chain of
    those that apply read when an entry first asks), and which files it keeps."""

    def __init__(
        self, folder: Path, rel_folder: str, root: Path, ignores: _GitIgnores, found: Discovered, trace: Trace | None
    ) -> None:
        self.folder = folder
        self.prefix = rel_folder + "/" if rel_folder else ""
        self.root = root
        self.ignores = ignores
        self.found = found
        self.trace = trace
        self._chain: list | None = None

    def ignored(self, entry: os.DirEntry, is_dir: bool) -> bool:
        if self._chain is None:
            self._chain = self.ignores.specs_above(os.path.dirname(entry.path))
        return bool(self._chain) and self.ignores.ignored(self._chain, entry.path, is_dir)

    def consider_file(self, entry: os.DirEntry, max_file_size: int | None) -> None:
        name = entry.name
        source = is_source_name(name)
        project_file = not source and project_file_kind(name) is not None
        wanted = source or name in MANIFEST_NAMES or name in TSCONFIG_NAMES or project_file
        if not wanted or self.ignored(entry, False):
            return
        found, trace = self.found, self.trace
        path = self.folder / name  # cheaper than parsing entry.path again
        problem = _link_problem(path, entry, self.root) or _file_problem(
            path, name, self.prefix + name, self.root, max_file_size, entry.stat
        )
        if trace is not None:
            trace.files.append((path, problem))
            trace.links |= entry.is_symlink()
        if problem is not None:
            found.notices.append(problem)
            return
        found.sizes[path] = entry.stat().st_size  # os.DirEntry keeps the stat _file_problem took
        if source:
            found.sources.append(path)
        elif name in MANIFEST_NAMES:
            found.manifests.append(path)
        elif name in TSCONFIG_NAMES:
            found.tsconfigs.append(path)
        else:
            found.project_files.append(path)


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name


def file_problem(
    path: Path, root: Path, max_file_size: int | None, stat_of: Callable[[], os.stat_result] | None = None
) -> Notice | None:
    """Why loadlint must not read the file at `path`, as a notice; None when it may (`max_file_size` None: at
    any size). Never opens the file: opening a FIFO blocks until something writes to it, and a device can be
    endless."""
    return _file_problem(path, path.name, _rel(path, root), root, max_file_size, stat_of or path.stat)


def _file_problem(
    path: Path, name: str, rel: str, root: Path, max_file_size: int | None, stat_of: Callable[[], os.stat_result]
) -> Notice | None:
    """`file_problem` of the file at `path`, whose `name` and path relative to the root (`rel`) are known."""
    if not _is_utf8(rel):
        return _name_not_utf8(display_path(path, root))
    if ".min." in name and is_source_name(name):
        return Notice(message="skipped: minified file", path=display_path(path, root), level=Level.NOTE)
    try:
        info = stat_of()
    except OSError as error:
        return Notice(message=f"cannot read file: {error.strerror or error}", path=display_path(path, root))
    if not stat.S_ISREG(info.st_mode):
        return Notice(message="skipped: not a regular file", path=display_path(path, root), level=Level.NOTE)
    if max_file_size is not None and info.st_size > max_file_size:
        return too_large(display_path(path, root), info.st_size, max_file_size)
    return None


def too_large(where: str, size: int, max_file_size: int) -> Notice:
    message = f"skipped: {size:,} bytes is over the {max_file_size:,}-byte limit (max-file-size)"
    return Notice(message=message, path=where, level=Level.NOTE)


def _link_problem(path: Path, entry: os.DirEntry, root: Path) -> Notice | None:
    """Why a symbolic link met in the walk is not followed: it leads out of the root, or into a loop."""
    if not entry.is_symlink():
        return None
    target = Path(os.path.realpath(path))
    if not _inside(target, root):
        message = "skipped: a symbolic link to outside the root"
    elif _inside(Path(os.path.realpath(path.parent)), target):
        message = "skipped: a symbolic link loop (it points to a folder that holds it)"
    else:
        return None
    return Notice(message=message, path=display_path(path, root), level=Level.NOTE)


def display_path(path: Path, root: Path) -> str:
    """`path` relative to `root` (else as given), POSIX, with bytes that are not UTF-8 shown as U+FFFD."""
    return _rel(path, root).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _name_not_utf8(where: str) -> Notice:
    return Notice(message="skipped: the name is not valid UTF-8", path=where, level=Level.NOTE)


def _is_utf8(name: str) -> bool:
    # Reports name files in UTF-8 text (JSON, SARIF URIs), which cannot hold such a name.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode keeps undecodable bytes as lone surrogates
        return False
    return True


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rel(path: Path, root: Path) -> str:
    # On strings first: pathlib's relative_to is a good part of a warm run's time on a large repository.
    text, prefix = str(path), os.path.join(root, "")
    if text.startswith(prefix):
        return text[len(prefix) :].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
