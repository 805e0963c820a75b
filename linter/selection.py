"""Which files a run reads, and which it reports.

A run always reads the whole repository (from the root): a file's findings can depend on any other file (the
module that calls it, the schema its query reads), so linting one file, a folder or the root gives that file
the same findings. It reports only the files under the given paths. The results and listing caches make a
run on a few files cheap once a first run has seen the rest.

What each file's config decides is applied here, with the config of the file's own folder: `exclude`, the
build output folders (`output-dirs`) and `max-file-size`. A file named on the command line goes through the
same checks as a file found in the walk, so that naming it changes nothing but what is reported.
"""

from __future__ import annotations

import os
import posixpath
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from linter.config import Config
from linter.config_tree import ConfigTree
from linter.deadline import OutOfTime
from linter.discovery import (
    MANIFEST_NAMES,
    Discovered,
    discover,
    display_path,
    file_problem,
    is_source,
    path_order,
    too_large,
)
from linter.files.kinds import project_file_kind
from linter.lazy_dataclasses import dataclass
from linter.listing_cache import discover_cached
from linter.model import Level, Notice

if TYPE_CHECKING:  # imported where a config has `exclude` globs
    import pathspec

_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")


@dataclass
class Selection:
    found: Discovered
    reported: set[str]  # paths relative to the root


def select_files(
    root: Path,
    targets: list[Path],
    configs: ConfigTree,
    cache_folder: Path | None,
    given: dict[Path, int] | None = None,
) -> Selection:
    """Walk the root, add the files named on the command line, and keep what each file's config lets through.

    `given` holds the files whose text the run was given (stdin, an editor's buffers), with the size of that
    text: each stands in for its file, whatever is on disk there, and is kept or dropped by that size. A named
    one is linted even when no file is there yet.
    """
    given = given or {}
    # The given folders first, so that a folder linked from one is listed under the path given.
    walk = [*(t for t in targets if t.is_dir() and t != root and t not in given), root]
    if cache_folder is not None:
        found = discover_cached(root, walk, None, cache_folder)
    else:
        found = discover(root, walk, None)
    found.sizes.update((path, size) for path, size in given.items() if path in found.sizes)
    configs.use_listing(found.listed_folders, found.config_folders)
    named = [t for t in targets if t in given or not t.is_dir()]
    _add_named_files(found, named, root, configs, given)
    _Filter(root, configs, found, set(named)).apply()
    # Rules also report into the non-JavaScript files they read (a schema, a Dockerfile, package.json scripts).
    readable = [*found.sources, *found.project_files, *found.manifests]
    if root in targets:  # the whole repository: every file read lies under it
        reported = {rel_path(path, root) for path in readable}
    elif any(t.is_dir() for t in targets):
        reported = {rel_path(path, root) for path in readable if in_targets(path, targets)}
    else:  # files alone (a hook's): nothing else lies under them
        named_files = set(targets)
        reported = {rel_path(path, root) for path in readable if path in named_files}
    return Selection(found, reported)


def _add_named_files(
    found: Discovered, files: list[Path], root: Path, configs: ConfigTree, given: dict[Path, int]
) -> None:
    named_sources, named_project_files, named_manifests = [], [], []
    for file in files:
        if file.name.endswith(_DECLARATION_SUFFIXES):
            continue  # type declarations hold no code to lint: a hook may pass them, and they are no mistake
        manifest = file.name in MANIFEST_NAMES
        wanted = is_source(file) or manifest or project_file_kind(file.name) is not None
        if not wanted:
            where = display_path(file, root)
            found.notices.append(Notice(message="skipped: not a file loadlint reads", path=where))
            continue
        if file in given:
            found.sizes[file] = given[file]  # the text given, not what is on disk at its path
        else:
            # A named file gets the same checks as a found one: a FIFO named `x.js` must not be opened.
            problem = file_problem(file, root, None)
            if problem is not None:
                found.notices.append(problem)
                continue
            found.sizes[file] = file.stat().st_size
        (named_sources if is_source(file) else named_manifests if manifest else named_project_files).append(file)
    # Discovery's lists are sorted and without repeats: only named files can change that.
    found.sources = _merged(found.sources, named_sources)
    found.project_files = _merged(found.project_files, named_project_files)
    found.manifests = _merged(found.manifests, named_manifests)


def _merged(found: list[Path], named: list[Path]) -> list[Path]:
    new = [path for path in named if not _holds(found, path)]  # a hook's files were found: sorting again costs
    return sorted({*found, *new}, key=path_order) if new else found


def _holds(paths: list[Path], path: Path) -> bool:
    """Whether `paths`, sorted by `path_order` without repeats, hold `path`."""
    index = bisect_left(paths, path_order(path), key=path_order)
    return index < len(paths) and paths[index] == path


class _Filter:
    """Drops what the config of each file's folder excludes: its `exclude` globs, build output folders, files
    over its `max-file-size`."""

    def __init__(self, root: Path, configs: ConfigTree, found: Discovered, named: set[Path]) -> None:
        self.root = root
        self.configs = configs
        self.found = found
        self.named = named
        # Where build output folders are looked for: the root and every folder with a manifest or tsconfig.
        self.project_folders = {""} | {
            posixpath.dirname(rel_path(path, root)) for path in (*found.manifests, *found.tsconfigs)
        }
        self._output_folder_of: dict[str, str | None] = {}
        self._config_of: dict[str, Config] = {}  # by folder
        self._excludes: dict[int, pathspec.PathSpec | None] = {}
        self.skipped_output: set[str] = set()

    def apply(self) -> None:
        found = self.found
        found.sources = self._kept(found.sources, excludable=True)
        found.project_files = self._kept(found.project_files, excludable=True)
        found.manifests = self._kept(found.manifests, excludable=False)
        found.tsconfigs = self._kept(found.tsconfigs, excludable=False)
        for folder in sorted(self.skipped_output):
            found.notices.append(Notice(message=_output_skipped(folder), path=folder, level=Level.NOTE))

    def _kept(self, paths: list[Path], excludable: bool) -> list[Path]:
        """`paths` without those the config of their folder drops. On strings, with what each folder decides
        worked out once: this runs over every file of the repository."""
        kept = []
        prefix = _prefix(str(self.root))
        sizes = self.found.sizes
        rules_of_folder: dict[str, tuple[str | None, Config, bool]] = {}
        for path in paths:
            text = str(path)
            rel = text[len(prefix) :].replace(os.sep, "/") if text.startswith(prefix) else rel_path(path, self.root)
            folder = rel.rpartition("/")[0]  # its dirname: `rel` is a normalised relative path
            rules = rules_of_folder.get(folder)
            if rules is None:
                config = self._config_of.get(folder)
                if config is None:
                    config = self._config_of[folder] = self.configs.for_folder(folder)
                output = self._output_folder(folder) if excludable else None
                rules = rules_of_folder[folder] = (output, config, excludable and bool(config.exclude))
            output, config, may_exclude = rules
            if output is not None:
                self.skipped_output.add(output)
                if path in self.named:  # the folder's notice is not under the paths given: say it of the file
                    self.found.notices.append(Notice(message=_output_skipped(output), path=rel, level=Level.NOTE))
                continue
            if may_exclude and self._excluded(rel, config):
                continue
            size = sizes.get(path)
            if size is not None and size > config.max_file_size:
                self.found.notices.append(too_large(display_path(path, self.root), size, config.max_file_size))
                continue
            kept.append(path)
        return kept

    def _output_folder(self, folder: str) -> str | None:
        """The build output folder `folder` is in (or is), or None."""
        if not folder:
            return None
        if folder in self._output_folder_of:
            return self._output_folder_of[folder]
        parent, name = posixpath.dirname(folder), posixpath.basename(folder)
        found = self._output_folder(parent)
        if found is None and folder not in self.project_folders and parent in self.project_folders:
            if name in self.configs.for_folder(parent).output_dirs:
                found = folder
        self._output_folder_of[folder] = found
        return found

    def _excluded(self, rel: str, config: Config) -> bool:
        if not config.exclude:
            return False
        spec = self._excludes.get(id(config))
        if spec is None:
            spec = self._excludes[id(config)] = exclude_spec(config, self.root)
        try:
            return spec.match_file(rel)
        except OutOfTime:
            raise OutOfTime("matching the paths against `exclude`") from None


def _output_skipped(folder: str) -> str:
    name = posixpath.basename(folder)
    return (
        f"skipped: `{name}` at the top of a package is taken for build output; to lint it, leave \"{name}\" out "
        f"of `output-dirs` in the config"
    )


def exclude_spec(config: Config, root: Path) -> pathspec.PathSpec:
    import pathspec

    prefix = config_prefix(config, root)
    patterns = [f"{prefix}/{p.lstrip('/')}" if prefix else p for p in config.exclude]
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def config_prefix(config: Config, root: Path) -> str:
    """Where the config's globs are anchored, relative to the root: its folder, or the root itself when the
    file lies outside it (`--config ../shared.toml`)."""
    base = config.base_dir.resolve() if config.base_dir else root
    return rel_path(base, root) if base == root or root in base.parents else ""


def in_targets(path: Path, targets: list[Path]) -> bool:
    # On strings: `Path.parents` costs more than the rest of discovery on a large repository.
    text = str(path)
    return any(text == target or text.startswith(folder) for target, folder in _target_strings(tuple(targets)))


_TARGET_STRINGS: dict[tuple[Path, ...], tuple[tuple[str, str], ...]] = {}


def _target_strings(targets: tuple[Path, ...]) -> tuple[tuple[str, str], ...]:
    strings = _TARGET_STRINGS.get(targets)
    if strings is None:
        if len(_TARGET_STRINGS) > 8:
            _TARGET_STRINGS.clear()
        strings = _TARGET_STRINGS[targets] = tuple((str(t), os.path.join(t, "")) for t in targets)
    return strings


def rel_path(path: Path, root: Path) -> str:
    text, prefix = str(path), _prefix(str(root))  # by its text: comparing paths costs more than the rest
    if text.startswith(prefix):  # on strings: pathlib's relative_to costs much on a large repository
        return text[len(prefix) :].replace(os.sep, "/")
    rel = path.relative_to(root).as_posix()
    return "" if rel == "." else rel


@lru_cache(maxsize=8)
def _prefix(root: str) -> str:
    return os.path.join(root, "")
