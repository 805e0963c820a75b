"""Which files run together: the entry files that load a module (directly or through other modules) and the
files an entry loads. Two apps of one package (an Nx workspace's `apps/api` and `apps/admin`) run in separate
processes; a module both of their entries load runs in each.

Both answers follow the project's resolved imports (`ProjectIndex.imports`, `importers_of`), bounded by
`MAX_WALK` files per question, and are kept per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linter.project import ProjectIndex

MAX_WALK = 5_000  # files visited per question
APP_FOLDERS = frozenset({"apps", "services"})  # where a workspace keeps its apps, one folder each


def entries_of(project: "ProjectIndex", path: str) -> frozenset[str]:
    """The files that load `path` and that no file imports: `path` itself when nothing imports it."""
    cache = project.memo("entries.entries-of", dict)
    if path not in cache:
        entries, frontier, seen = set(), [path], {path}
        while frontier and len(seen) < MAX_WALK:
            current = frontier.pop()
            importers = project.importers_of(current)
            if not importers:
                entries.add(current)
            for importer in importers:
                if importer not in seen:
                    seen.add(importer)
                    frontier.append(importer)
        cache[path] = frozenset(entries)
    return cache[path]


def loaded_by(project: "ProjectIndex", entries: frozenset[str]) -> frozenset[str]:
    """The files the `entries` load: themselves and every file they import, directly or not."""
    cache = project.memo("entries.loaded-by", dict)
    if entries not in cache:
        loaded, frontier = set(entries), list(entries)
        while frontier and len(loaded) < MAX_WALK:
            current = frontier.pop()
            for _, target in project.imports.get(current, ()):
                if target is not None and target not in loaded:
                    loaded.add(target)
                    frontier.append(target)
        cache[entries] = frozenset(loaded)
    return cache[entries]


def app_folder(package_dir: str, path: str) -> str | None:
    """`apps/admin` for `apps/admin/src/main.ts` of a package at the repository root (also `services/…`): the
    folder of one app of a workspace whose apps share its package.json; None outside such a folder."""
    relative = path[len(package_dir) + 1 :] if package_dir and path.startswith(package_dir + "/") else path
    parts = relative.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 and parts[0] in APP_FOLDERS else None
