"""Discovery's result kept between runs, so that a re-run (a pre-commit hook on a large package, say) need not
walk thousands of folders again: the check git's untracked cache makes.

A kept listing is used only when nothing it was made from has changed: every folder it listed or looked in for
a .gitignore has the modification and change times it had (adding, removing or renaming an entry, or a chmod,
changes them), every .gitignore consulted is as it was (one that was absent still is: adding it changes its
folder), and every file it considered still gets the same verdict (a regular file under the size limit, each
checked with one stat that the results cache takes too, or the same notice). A walk that met a symbolic link
or something it could not read is not kept, nor one whose folders changed too shortly before it (a change in
the same clock tick could go unseen). Like the results cache, it is only ever an optimisation: a listing that
cannot be read, written or understood is ignored, never fatal. Plain JSON, never pickle.

A listing tells the run which files to read and `--fix` which files it may write, so it is trusted as the
results cache is (see `linter.cache`: only from a private folder of the user, checked by the caller) and is
bound to the root and the key it was made for, both stored in it. Paths are kept relative to the root, and a
listing is used only when every one of them lies inside it: no absolute path, no `..`, every folder and every
folder above it up to the root a real folder (never a link), every file readable as found a regular file (never
a link) in a listed folder, and every file it hands on one it checked.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import linter
from linter import __version__, cache
from linter.digests import blake2b
from linter.discovery import Discovered, Trace, discover, file_problem
from linter.model import Notice

FORMAT = 5
KEPT_PER_ROOT = 8  # listings kept per root (one per set of start folders); the least recently written go first


def discover_cached(root: Path, start_dirs: list[Path], max_file_size: int | None, folder: Path) -> Discovered:
    """What `discover` finds, from the listing kept in the cache folder `folder` (see
    `cache.usable_cache_dir`) when it still holds, else by walking (and keeping that)."""
    try:
        key = _listing_key(root, start_dirs, max_file_size, folder)
        root_name = blake2b(str(root).encode(), digest_size=8).hexdigest()
        path = folder / f"listing-{root_name}-{key[:16]}.json"
    except Exception:  # a root whose name is not UTF-8
        path = None
    try:
        kept = _load(path, root, key) if path is not None else None
    except Exception:  # missing, unreadable, not ours: walk
        kept = None
    if kept is not None:
        return kept
    trace = Trace()
    started = time.time_ns()
    found = discover(root, start_dirs, max_file_size, trace)
    try:
        if path is not None:
            _save(path, root, key, found, trace, max_file_size, started)
    except Exception:  # a read-only home, a full disk: the run does not depend on it
        pass
    return found


def _listing_key(root: Path, start_dirs: list[Path], max_file_size: int | None, folder: Path) -> str:
    code = cache.code_digest((Path(linter.__file__).resolve().parent,), folder).hex()
    key = json.dumps([FORMAT, __version__, code, str(root), list(map(str, start_dirs)), max_file_size])
    return blake2b(key.encode(), digest_size=16).hexdigest()


def _stat_key(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino]


def _folder_key(path: str) -> list[int] | None:
    """The stamp of a real folder (not a link to one); None for anything else."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino]


def _save(
    path: Path, root: Path, key: str, found: Discovered, trace: Trace, max_file_size: int | None, started: int
) -> None:
    if trace.links or trace.unreadable:
        return
    base = os.path.join(root, "")
    folders = {folder: _folder_key(folder) for folder in sorted(trace.folders)}
    ignore_files = {folder: _stat_key(os.path.join(folder, ".gitignore")) for folder in folders}
    if None in folders.values():
        return  # a folder went away during the walk
    # A change during the walk, or too shortly before it for the clock to tell it from a later one, might not
    # show in the listing: keep only a listing of folders that had settled when the walk began.
    settled_before = started - cache.SETTLED_NS
    if any(max(s[0], s[1]) >= settled_before for s in (*folders.values(), *ignore_files.values()) if s is not None):
        return
    problems = [[_relative(str(p), base), n.model_dump(mode="json")] for p, n in trace.files if n is not None]
    data = {
        "format": FORMAT,
        "root": str(root),
        "key": key,
        "folders": {_relative(folder, base): stamp for folder, stamp in folders.items()},
        # A folder's stamp holds while no entry is added to it, removed or renamed: of its .gitignore, only
        # the stat of one that exists must be checked again.
        "ignore_files": {_relative(folder, base): stamp for folder, stamp in ignore_files.items() if stamp is not None},
        "problems": problems,  # the files the walk considered and left out, with their notices
        "found": {
            "sources": [_relative(str(p), base) for p in found.sources],
            "manifests": [_relative(str(p), base) for p in found.manifests],
            "tsconfigs": [_relative(str(p), base) for p in found.tsconfigs],
            "project_files": [_relative(str(p), base) for p in found.project_files],
            "notices": [n.model_dump(mode="json") for n in found.notices],
            "listed_folders": sorted(found.listed_folders),
            "config_folders": sorted(found.config_folders),
        },
        "max_file_size": max_file_size,
    }
    cache.write_in_cache_folder(path, json.dumps(data, separators=(",", ":"), allow_nan=False), ".listing-")
    _forget_other_listings(path)


def _relative(path: str, base: str) -> str:
    """`path` relative to the root (`base` ends in a separator); "" for the root itself."""
    if path == base[:-1]:
        return ""
    if not path.startswith(base):
        raise ValueError(f"{path} is outside the root")
    return path[len(base) :].replace(os.sep, "/")


def _confined(rel: str) -> bool:
    """Whether `rel` names a place inside the root as `_relative` writes one: no absolute path, no `..`."""
    if type(rel) is not str:
        return False
    wrapped = f"/{rel}/"  # every part between slashes, the first and last included
    return rel == "" or "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped


def _load(path: Path, root: Path, key: str) -> Discovered | None:
    """The kept listing, when it was made for this root and key and nothing it was made from has changed.
    Every path in it must lie inside the root, under real folders (no link to elsewhere), or it is not used."""
    data = json.loads(cache.read_private(path))
    if data.get("format") != FORMAT or data.get("root") != str(root) or data.get("key") != key:
        return None
    base = os.path.join(root, "")
    folders = set()
    for folder, stamp in data["folders"].items():
        if not _confined(folder) or stamp is None or _folder_key(base + folder) != stamp:
            return None
        folders.add(folder)
    if not _under_real_folders(folders, base):
        return None
    for folder, stamp in data["ignore_files"].items():
        if folder not in folders or stamp is None or _stat_key(os.path.join(base + folder, ".gitignore")) != stamp:
            return None
    max_file_size = data["max_file_size"]
    if max_file_size is not None and type(max_file_size) is not int:
        return None
    for file, notice in data["problems"]:
        if not _confined(file) or file == "" or file.rpartition("/")[0] not in folders:
            return None
        problem = file_problem(Path(base + file), root, max_file_size)
        if problem is None or problem.model_dump(mode="json") != notice:
            return None
    found = data["found"]
    parents: dict[str, Path] = {}  # the path of each folder that holds files, made once for all of them
    listed, sizes, stats = {}, {}, {}
    lstat, is_regular = os.lstat, stat.S_ISREG
    for kind in ("sources", "manifests", "tsconfigs", "project_files"):
        listed[kind] = made = []
        for file in found[kind]:
            # A file by its name in a folder stamped above; its name passed: only what a stat tells can have changed.
            folder, _, name = file.rpartition("/")
            parent = parents.get(folder)
            if parent is None:
                if folder not in folders:
                    return None
                parent = parents[folder] = root / folder if folder else root
            if name in ("", ".", ".."):
                return None
            text = base + file
            try:
                info = lstat(text)
            except OSError:
                return None
            if not is_regular(info.st_mode) or max_file_size is not None and info.st_size > max_file_size:
                return None
            path = _child(parent, name, text)
            made.append(path)
            sizes[path] = info.st_size
            if kind == "sources":
                stats[path] = info
    notices = [Notice.model_validate(n) for n in found["notices"]]
    if not all(n.path is None or _confined(n.path) for n in notices):
        return None
    # Stamped above: an entry added, removed or renamed in one of them (a config file) makes the walk run again.
    listed_folders, config_folders = set(found["listed_folders"]), set(found["config_folders"])
    if not listed_folders <= folders or not config_folders <= listed_folders:
        return None
    return Discovered(
        **listed,
        notices=notices,
        sizes=sizes,
        stats=stats,
        listed_folders=listed_folders,
        config_folders=config_folders,
    )


def _under_real_folders(folders: set[str], base: str) -> bool:
    """Whether every folder above the listed ones, up to the root, is a real folder too (the listed ones were
    checked as they were stamped): then no listed path leads out of the root through a link."""
    real = {"", *folders}
    for folder in folders:
        above = []
        parent = folder.rpartition("/")[0]
        while parent not in real:
            above.append(parent)
            parent = parent.rpartition("/")[0]
        for unchecked in reversed(above):
            if _folder_key(base + unchecked) is None:
                return False
            real.add(unchecked)
    return True


def _slow_child(parent: Path, name: str, text: str) -> Path:
    return parent / name


def _fast_child(parent: Path, name: str, text: str) -> Path:
    """`parent / name`, whose text is `text`, made as pathlib makes it without parsing `name` again (and with
    its text and hash, which every run takes): 10 ms of a warm run on 4,000 files. `name` is a file's name in the
    folder `parent`: no separator, not `.` or `..`."""
    child = object.__new__(type(parent))
    child._drv, child._root, child._str = parent._drv, parent._root, text
    child._parts = child._cached_cparts = parts = [*parent._parts, name]  # POSIX paths compare as they are
    child._hash = hash(tuple(parts))
    return child


def _fast_child_works() -> bool:
    """Whether `_fast_child` makes what pathlib does, in this Python (its internals change between versions)."""
    try:
        parent = Path("/a/b")
        child, made = _fast_child(parent, "c.js", "/a/b/c.js"), parent / "c.js"
        same = child == made and hash(child) == hash(made) and child.parts == made.parts and child.parent == parent
        return same and str(child) == str(made) and child.name == made.name and type(child) is type(made)
    except Exception:
        return False


_child = _fast_child if os.name == "posix" and sys.version_info[:2] == (3, 11) and _fast_child_works() else _slow_child


def _forget_other_listings(path: Path) -> None:
    root_prefix = path.name.rsplit("-", 1)[0] + "-"
    siblings = [p for p in path.parent.glob(root_prefix + "*.json") if p != path]
    siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in siblings[KEPT_PER_ROOT - 1 :]:
        stale.unlink(missing_ok=True)
