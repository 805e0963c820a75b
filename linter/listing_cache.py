"""Discovery's result kept between runs, so that a re-run (a pre-commit hook on a large package, say) need not
walk thousands of folders again: the check git's untracked cache makes.

A kept listing is used only when nothing it was made from has changed: every folder it listed or looked in for
a .gitignore has the modification and change times it had (adding, removing or renaming an entry, or a chmod,
changes them), every .gitignore consulted is as it was (or still absent), and every file it considered still
gets the same verdict (a regular file under the size limit, or the same notice). A walk that met a symbolic link
or something it could not read is not kept, nor one whose folders changed too shortly before it (a change in
the same clock tick could go unseen). Like the results cache, it is only ever an optimisation: a listing that
cannot be read, written or understood is ignored, never fatal. Plain JSON, never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path

import linter
from linter import __version__, cache
from linter.discovery import Discovered, Trace, discover, file_problem
from linter.model import Notice

FORMAT = 1
KEPT_PER_ROOT = 8  # listings kept per root (one per set of start folders); the least recently written go first


def discover_cached(root: Path, start_dirs: list[Path], max_file_size: int) -> Discovered:
    """What `discover` finds, from the kept listing when it still holds, else by walking (and keeping that)."""
    try:
        path = _listing_path(root, start_dirs, max_file_size)
    except Exception:  # a root whose name is not UTF-8
        path = None
    try:
        kept = _load(path, root) if path is not None else None
    except Exception:  # missing, unreadable, not ours: walk
        kept = None
    if kept is not None:
        return kept
    trace = Trace()
    started = time.time_ns()
    found = discover(root, start_dirs, max_file_size, trace)
    try:
        if path is not None:
            _save(path, found, trace, max_file_size, started)
    except Exception:  # a read-only home, a full disk: the run does not depend on it
        pass
    return found


def _listing_path(root: Path, start_dirs: list[Path], max_file_size: int) -> Path:
    code = cache.code_digest((Path(linter.__file__).resolve().parent,)).hex()
    key = json.dumps([FORMAT, __version__, code, str(root), sorted(map(str, start_dirs)), max_file_size])
    root_name = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    return cache.cache_dir() / f"listing-{root_name}-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.json"


def _stat_key(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino]


def _save(path: Path, found: Discovered, trace: Trace, max_file_size: int, started: int) -> None:
    if trace.links or trace.unreadable:
        return
    folders = {folder: _stat_key(folder) for folder in sorted(trace.folders)}
    ignore_files = {folder: _stat_key(os.path.join(folder, ".gitignore")) for folder in folders}
    if None in folders.values():
        return  # a folder went away during the walk
    # A change during the walk, or too shortly before it for the clock to tell it from a later one, might not
    # show in the listing: keep only a listing of folders that had settled when the walk began.
    settled_before = started - cache.SETTLED_NS
    if any(max(s[0], s[1]) >= settled_before for s in (*folders.values(), *ignore_files.values()) if s is not None):
        return
    data = {
        "format": FORMAT,
        "folders": folders,
        "ignore_files": ignore_files,
        "files": [[str(p), None if n is None else n.model_dump(mode="json")] for p, n in trace.files],
        "found": {
            "sources": [str(p) for p in found.sources],
            "manifests": [str(p) for p in found.manifests],
            "tsconfigs": [str(p) for p in found.tsconfigs],
            "project_files": [str(p) for p in found.project_files],
            "notices": [n.model_dump(mode="json") for n in found.notices],
        },
        "max_file_size": max_file_size,
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".listing-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)
    _forget_other_listings(path)


def _load(path: Path, root: Path) -> Discovered | None:
    data = json.loads(path.read_bytes())
    if data.get("format") != FORMAT:
        return None
    for folder, stamp in data["folders"].items():
        if _stat_key(folder) != stamp:
            return None
    for folder, stamp in data["ignore_files"].items():
        if _stat_key(os.path.join(folder, ".gitignore")) != stamp:
            return None
    max_file_size = data["max_file_size"]
    for file, notice in data["files"]:
        if notice is None:  # its name passed: only what a stat tells can have changed
            try:
                info = os.stat(file)
            except OSError:
                return None
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_file_size:
                return None
        else:
            problem = file_problem(Path(file), root, max_file_size)
            if problem is None or problem.model_dump(mode="json") != notice:
                return None
    found = data["found"]
    paths = _PathMaker()
    return Discovered(
        sources=[paths(p) for p in found["sources"]],
        manifests=[paths(p) for p in found["manifests"]],
        tsconfigs=[paths(p) for p in found["tsconfigs"]],
        project_files=[paths(p) for p in found["project_files"]],
        notices=[Notice.model_validate(n) for n in found["notices"]],
    )


class _PathMaker:
    """`Path(text)` for many files of few folders, each folder's path parsed once."""

    def __init__(self) -> None:
        self._folders: dict[str, Path] = {}

    def __call__(self, text: str) -> Path:
        folder, _, name = text.rpartition("/")
        if folder not in self._folders:
            self._folders[folder] = Path(folder or "/")
        return self._folders[folder] / name


def _forget_other_listings(path: Path) -> None:
    root_prefix = path.name.rsplit("-", 1)[0] + "-"
    siblings = [p for p in path.parent.glob(root_prefix + "*.json") if p != path]
    siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in siblings[KEPT_PER_ROOT - 1 :]:
        stale.unlink(missing_ok=True)
