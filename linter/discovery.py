"""Finds the files to lint under the given paths: JS/TS sources, package manifests and tsconfig files.

Honours `.gitignore` files (nested ones too), always skips dependency and build folders, never follows a
symlink out of the root and never walks a folder twice (symlink loops). Output is sorted and de-duplicated.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from linter.model import Notice
from linter.syntax import LANGUAGE_BY_SUFFIX

ALWAYS_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".next", "dist", "build", "coverage", ".turbo", "out"})
MANIFEST_NAMES = frozenset({"package.json"})
TSCONFIG_NAMES = frozenset({"tsconfig.json", "jsconfig.json"})


@dataclass
class Discovered:
    sources: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    tsconfigs: list[Path] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def is_source(path: Path) -> bool:
    return path.suffix in LANGUAGE_BY_SUFFIX and not path.name.endswith((".d.ts", ".d.mts", ".d.cts"))


class _GitIgnores:
    """The .gitignore files met on the way down, each matching paths relative to its own folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[Path, pathspec.PathSpec | None] = {}

    def _spec_for(self, folder: Path) -> pathspec.PathSpec | None:
        if folder not in self._specs:
            spec = None
            ignore_file = folder / ".gitignore"
            try:
                if ignore_file.is_file():
                    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        folder = path.parent
        while True:
            spec = self._spec_for(folder)
            if spec is not None:
                relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
                if spec.match_file(relative):
                    return True
            if folder == self.root or self.root not in folder.parents:
                return False
            folder = folder.parent


def discover(root: Path, start_dirs: list[Path], max_file_size: int) -> Discovered:
    """Walk `start_dirs` (absolute, inside `root`) and collect what prodlint reads."""
    found = Discovered()
    ignores = _GitIgnores(root)
    seen_dirs: set[Path] = set()
    stack = sorted(set(start_dirs), reverse=True)
    while stack:
        folder = stack.pop()
        real = Path(os.path.realpath(folder))
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            found.notices.append(Notice(message=f"cannot read folder: {error.strerror or error}", path=_rel(folder, root)))
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink() and not _inside(Path(os.path.realpath(path)), root):
                    continue
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if entry.name in ALWAYS_SKIPPED_DIRS or ignores.ignored(path, True):
                    continue
                subfolders.append(path)
            else:
                _consider_file(path, entry, root, ignores, max_file_size, found)
        stack.extend(reversed(subfolders))
    found.sources.sort()
    found.manifests.sort()
    found.tsconfigs.sort()
    return found


def _consider_file(
    path: Path, entry: os.DirEntry, root: Path, ignores: _GitIgnores, max_file_size: int, found: Discovered
) -> None:
    name = entry.name
    wanted = is_source(path) or name in MANIFEST_NAMES or name in TSCONFIG_NAMES
    if not wanted or ignores.ignored(path, False):
        return
    if name in MANIFEST_NAMES:
        found.manifests.append(path)
        return
    if name in TSCONFIG_NAMES:
        found.tsconfigs.append(path)
        return
    if ".min." in name:
        found.notices.append(Notice(message="skipped: minified file", path=_rel(path, root), level="note"))
        return
    try:
        info = entry.stat()
    except OSError as error:
        found.notices.append(Notice(message=f"cannot read file: {error.strerror or error}", path=_rel(path, root)))
        return
    if not stat.S_ISREG(info.st_mode):
        found.notices.append(Notice(message="skipped: not a regular file", path=_rel(path, root), level="note"))
        return
    if info.st_size > max_file_size:
        found.notices.append(
            Notice(
                message=f"skipped: {info.st_size:,} bytes is over the {max_file_size:,}-byte limit (max-file-size)",
                path=_rel(path, root),
                level="note",
            )
        )
        return
    found.sources.append(path)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
