"""A cache of per-file results, so that a re-run analyses only the files that changed, and of the outcomes of
project-wide checks, so that it runs only the checks whose inputs changed (`linter.project_cache`).

An entry is found by the file's path and is used only when the file's content, the packages around it and
everything that decides what the analysis yields (loadlint's code, the rule set and the rules' options) are
the same as when it was written.

The cache lives outside the work tree (`$XDG_CACHE_HOME/loadlint`, else `~/.cache/loadlint`): one SQLite
database per root and rule set (the standard library's `sqlite3`). A run reads every entry's keys up front, with
what a report shows of the file (its findings, notices and directives: nothing, for most files), and decodes
the rest of a result (imports, facts, flow summaries) only when a project-wide check must run; it writes back,
in one transaction, only what changed. It is only ever an optimisation: a cache that cannot be read, written
or understood is ignored, never fatal. Results that are incomplete (a rule failed, a file ran out of time)
are not kept.

Trust. A cached result stands in for analysing a file: whoever can write the cache can hide findings, add
findings and hand `--fix` the edits to make. So the cache is trusted exactly as far as the folder is, the model
of git's `safe.directory`: the folder is used only when it is a real folder of the user running loadlint that
no one else can write to, in a parent no one else can replace it in (`usable_cache_dir`); the database must be
a regular file of that user that no one else can write (`_connect_private`: else it is replaced by a new one);
otherwise the run goes on without a cache, with one notice. What else is checked binds entries to what they
describe, against stale or mismatched data rather than an attacker: a database records the root and the full
run key it was written for, an entry the content digest of its file, a decoded result names no file but its
own, and a kept project-wide outcome names only files of the project. A secret key (an HMAC over the entries)
would add nothing: it would have to live in the same folder, where whoever can write the entries can replace
the key too. Fixes are never taken from the cache: a run that applies or prints fixes analyses afresh every
file whose cached findings carry one (`linter.engine`) and runs every project-wide check.

The data is plain JSON text in SQLite's plain columns, never pickle: loading must not be able to run code,
whatever a file holds. Every record is converted to and from plain data explicitly (`_encode_result`,
`_decode_result`); only the known record types are ever built back, and an entry that does not decode is a
miss. A fact's free-form `data` keeps JSON's own types as they are and tags the few others rules use (tuples,
sets, spans, dicts with non-string keys); a result holding anything else is simply not cached.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from functools import lru_cache
from pathlib import Path

import linter
from linter import __version__
from linter.analysis import FileResult
from linter.digests import blake2b
from linter.js.imports import ModuleReference
from linter.model import Finding, Notice, Span
from linter.registry import DeferredRule, pack_folder, rule_facts
from linter.rule import Fact
from linter.suppression import Directive

FORMAT = 8  # bump when the stored layout changes
KEPT_PER_ROOT = 4  # cache files (rule sets) kept per root; the least recently written go first
# Parse trees, and so every result, also depend on the grammars.
GRAMMAR_DISTRIBUTIONS = ("tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript")


SUFFIX = ".sqlite"
# Written by older releases: never read, removed with the root's other stale files.
LEGACY_SUFFIXES = (".json", ".pickle")
KEPT_OUTCOMES = 4  # sets of inputs kept per project-level check (a full run's, a pre-commit run's, ...)

# A stored entry, a row of `files`: content digest (hex), packages digest (hex), with_findings, stat, seen, parsed,
# report, result.
# `with_findings`: analysed with `report_findings=True`, so it serves runs that report the file and those that do not.
# `stat`: the file's "size:mtime:ctime:inode" when its content was digested, or null; see `file_key`.
# `seen`: what the project phase sees of the result, as digests (`seen_of`); `parsed`: the result's flag.
# `report`: the result's findings, notices and directives as JSON text, null when it has none; `result`: the rest
# (its path, imports, facts and flow summaries) as JSON text. `_split` and `_joined` go between the two and a
# whole result's plain data.
SETTLED_NS = 2_000_000_000  # a file unchanged for this long before it was digested keeps its digest while its stat holds


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "loadlint"


def usable_cache_dir() -> tuple[Path | None, str | None]:
    """The cache folder, made (private) when missing, if it can be trusted; else None and, when the folder
    exists but cannot be trusted, why (worth a notice). A folder that cannot be made (a read-only home) is
    no cache and no notice, as any other failure of a cache."""
    folder = cache_dir()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        problem = _untrusted(folder)
    except Exception:  # no home, a read-only one, a name that is not UTF-8: no cache, as when it cannot be written
        return None, None
    if problem is not None:
        return None, f"not using the cache folder {folder}: {problem}; running without a cache"
    return folder, None


def _untrusted(folder: Path) -> str | None:
    if not hasattr(os, "geteuid"):  # no owners to compare
        return None
    user = os.geteuid()
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a folder" if not stat.S_ISLNK(info.st_mode) else "it is a symbolic link"
    if info.st_uid != user:
        return f"it belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"others can write to it (`chmod go-w {folder}` makes it private)"
    parent = os.stat(folder.parent)
    if parent.st_uid not in (user, 0) or parent.st_mode & 0o002 and not parent.st_mode & stat.S_ISVTX:
        return f"others can replace it ({folder.parent} is not private to its owner)"
    return None


def read_private(path: Path) -> bytes:
    """The bytes of a file in the cache folder; OSError unless it is a regular file of this user that no one
    else can write (never a link, never a FIFO to block on)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    handle = os.open(path, flags)
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
            raise OSError(f"{path} is not private to this user")
        return stream.read()


def run_key(rules, known_ids, memo_folder: Path | None = None) -> str:
    """What decides every per-file result besides the file itself: the code, the enabled rules and options.
    `memo_folder`: the cache folder, where the digest of the code is kept (`code_digest`)."""
    digest = blake2b(digest_size=16)
    digest.update(f"{FORMAT}\0{__version__}\0".encode())
    for distribution in GRAMMAR_DISTRIBUTIONS:
        digest.update(f"{distribution}={_distribution_version(distribution)}\0".encode())
    for rule in rules:
        # The instance names the options: "" the defaults (which the code decides), else a digest of them.
        digest.update(f"{rule.id}\0{rule.instance}\0".encode())
    digest.update("\0".join(sorted(known_ids)).encode())
    # The code, not just the version: rules and helpers change between releases of a checkout.
    rule_packs = {pack_folder(rule) for rule in rules}
    digest.update(code_digest(tuple(sorted({Path(linter.__file__).resolve().parent, *rule_packs})), memo_folder))
    return digest.hexdigest()


def _distribution_version(distribution: str) -> str:
    """The installed version of a distribution, from its `.dist-info` folder's name when it has one (importing
    `importlib.metadata` costs a tenth of a warm run); `?` when it is not installed."""
    from linter.check_client import installed_version

    version = installed_version(distribution.replace("-", "_"))
    if version != "?":
        return version
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def code_digest(folders: tuple[Path, ...], memo_folder: Path | None = None) -> bytes:
    """A digest of the Python sources under `folders`; with `memo_folder` (the cache folder, see
    `usable_cache_dir`), taken from the digest kept there while no source changed (`_folder_digest`)."""
    digest = blake2b(digest_size=16)
    for folder in folders:
        digest.update(_folder_digest(folder, memo_folder))
    return digest.digest()


@lru_cache(maxsize=8)
def _folder_digest(folder: Path, memo_folder: Path | None = None) -> bytes:
    """The Python sources under `folder`, read once per process (the listing's key and the run's both hold it).

    With `memo_folder`, as git's index does for a file: the digest is kept there with the stat (path, size,
    times, inode) of every source, and taken from it, without reading them, while each has the same stat and
    had not changed for a while when the digest was taken."""
    sources = sorted(folder.rglob("*.py"))
    memo = stamp = None
    if memo_folder is not None:
        try:
            memo = memo_folder / f"code-{blake2b(str(folder).encode(), digest_size=8).hexdigest()}.json"
            stamp, settled = _sources_stamp(sources)
            kept = json.loads(read_private(memo))
            if kept["stamp"] == stamp and type(kept["digest"]) is str and len(kept["digest"]) == 32:
                return bytes.fromhex(kept["digest"])
        except Exception:  # none kept yet, a source gone, not ours: digested below
            pass
    digest = blake2b(digest_size=16)
    for source in sources:
        try:
            digest.update(source.as_posix().encode() + b"\0" + source.read_bytes())
        except OSError:
            digest.update(b"unreadable")
    if memo is not None and stamp is not None and settled:
        try:
            write_in_cache_folder(memo, json.dumps({"stamp": stamp, "digest": digest.hexdigest()}), ".code-")
        except Exception:  # a read-only home: the digest is taken again next time
            pass
    return digest.digest()


def _sources_stamp(sources: list[Path]) -> tuple[str, bool]:
    """A digest of the stat of every source file, and whether none changed shortly before now (`SETTLED_NS`)."""
    digest = blake2b(digest_size=16)
    settled_before = time.time_ns() - SETTLED_NS
    settled = True
    for source in sources:
        info = os.stat(source)
        stamp = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_dev}"
        digest.update(f"{source}\0{stamp}\0".encode())
        settled &= max(info.st_mtime_ns, info.st_ctime_ns) < settled_before
    return digest.hexdigest(), settled


def write_in_cache_folder(path: Path, text: str, prefix: str) -> None:
    """Write `text` to `path` in the cache folder: aside (a temp file named from `prefix`), then renamed over it."""
    import tempfile  # here: a run that writes nothing does not import it

    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def packages_digest(packages) -> bytes:
    """A stable digest of the packages around a file (their dependencies gate rules)."""
    described = [
        [p.dir, p.name, sorted(p.dependencies), p.manifest, p.settings, list(p.scripts), p.main, p.command, p.private, p.exports]
        for p in packages
    ]
    return blake2b(json.dumps(described, sort_keys=True, default=str).encode(), digest_size=16).digest()


def content_digest(source: bytes) -> bytes:
    return blake2b(source, digest_size=16).digest()


class Deferred:
    """A cached result whose imports, facts and flow summaries are not decoded yet: the project phase decodes
    them only when a project-level check must run (`ResultCache.resolve`). `shown` holds what the run reports of
    the file (its findings, notices, directives, whether it was parsed); None for a file the run does not report."""

    __slots__ = ("path", "shown")

    def __init__(self, path: str, shown: FileResult | None = None) -> None:
        self.path = path
        self.shown = shown


def results_kept_for(folder: Path, root: Path) -> bool:
    """Whether `folder` holds the results of some run on `root`, whatever its rules."""
    try:
        return any(folder.glob(f"results-{_root_name(root)}-*{SUFFIX}"))
    except OSError:
        return False


def _root_name(root: Path) -> str:
    return blake2b(str(root).encode(), digest_size=8).hexdigest()


class ResultCache:
    """The cached results of one root and rule set, in one SQLite database; `save` writes back what this run
    added. The run reads every entry's keys up front, and a result's data only when it uses the result."""

    def __init__(self, path: Path, root: Path, key: str, entries: dict[str, list], db=None) -> None:
        self.path = path
        self._root = str(root)
        self._key = key
        # rel path -> [content digest, packages digest, with_findings, result data or None (not read yet), stat,
        # what the project phase sees of the result (`seen_of`) as JSON text, parsed, report data or None (nothing
        # to report)]; the data as JSON text until decoded, see `_split`
        self._entries = entries
        self._db = db  # the database the entries came from, kept open to read results on demand; None: a new one
        self._dirty: set[str] = set()  # entries put by this run
        self._restamped: set[str] = set()  # entries whose stat alone changed
        self._deleted: set[str] = set()
        self._changed = False
        self._package_digests: dict[tuple[int, ...], tuple[object, str]] = {}  # ids of the packages -> them, digest
        # the packages and rules `file_key` was last given, and the part of the key they make
        self._last_around: tuple = (None, None, "")
        self._digests: dict[str, str] = {}  # rel path -> the content digest this run took (`file_key`)
        self._outcomes: dict[tuple[str, str], str] = {}  # (rule instance key, inputs digest) -> outcome, to write
        # rule id -> what a run that does not import the rule needs of it (`registry.rule_facts`), as stored
        self._rules_known: dict[str, dict] = {}
        self._rules_text: str | None = None  # as read, to tell whether it changed

    @classmethod
    def open(cls, folder: Path, root: Path, key: str) -> "ResultCache":
        """The results kept in `folder` (see `usable_cache_dir`) for `root` and the run key `key`."""
        path = folder / f"results-{_root_name(root)}-{key[:16]}{SUFFIX}"
        db = None
        entries: dict[str, list] = {}
        try:
            db = _connect_private(path)
            meta = dict(db.execute("SELECT name, value FROM meta"))
            if meta.get("format") != str(FORMAT) or meta.get("root") != str(root) or meta.get("key") != key:
                raise ValueError("not ours")
            rules_text = meta.get("rules")
            for rel, content, around, with_findings, stat_text, seen, parsed, report in db.execute(
                "SELECT path, content, around, with_findings, stat, seen, parsed, report FROM files"
            ):
                entries[rel] = [content, around, with_findings == 1, None, stat_text, seen, parsed == 1, report]
        except Exception:  # missing, unreadable, not a database, not ours: start empty (a new file on save)
            if db is not None:
                db.close()
            db, entries, rules_text = None, {}, None
        cache = cls(path, root, key, entries, db)
        cache._rules_text = rules_text
        cache._rules_known = _rules_known(rules_text)
        return cache

    def describe_rules(self, rules) -> None:
        """Tell the rules not imported yet (`registry.DeferredRule`) what the cache recorded of them."""
        for rule in rules:
            if type(rule) is DeferredRule:
                rule.known = self._rules_known.get(rule.id)

    def note_rules(self, rules) -> None:
        """Record what runs that do not import them need of the rules this run imported."""
        try:
            for rule in rules:
                facts = rule_facts(rule)
                if facts is not None:
                    self._rules_known[rule.id] = facts
            text = json.dumps(self._rules_known, separators=(",", ":"), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            return
        if text != self._rules_text:
            self._rules_text = text
            self._changed = True

    def file_key(
        self, rel_path: str, path: Path, packages, rules: str = "", info: os.stat_result | None = None
    ) -> tuple[str, str, str | None]:
        """What a file's entry must match: its content, the packages around it (their dependencies gate rules)
        and `rules`, the rules its own config enables (a digest), and the file's stat to keep with it (`info`
        when the run took it already, of the regular file at `path`). Raises OSError when the file cannot be read.

        As git's index does, the content digest is taken from the entry, without reading the file, when the
        file's size, times and inode are those it had when it was digested and it had not changed for a while
        then: a write in the same clock tick as the digest could otherwise go unseen."""
        last_packages, last_rules, around = self._last_around
        if packages is not last_packages or rules != last_rules:  # the files of a folder come one after another
            # By the packages themselves (kept alive beside their digest): a server that reads a changed manifest
            # makes new ones for the same folders.
            ids = tuple(map(id, packages))
            if ids not in self._package_digests:
                self._package_digests[ids] = (packages, packages_digest(packages).hex())
            around = f"{self._package_digests[ids][1]}:{rules}"
            self._last_around = (packages, rules, around)
        if info is None:
            info = os.stat(path)
        stat = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
        entry = self._entries.get(rel_path)
        if type(entry) is list and len(entry) == 8 and entry[4] == stat and type(entry[0]) is str:
            self._digests[rel_path] = entry[0]
            return entry[0], around, stat
        content = content_digest(path.read_bytes()).hex()
        settled = time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLED_NS
        self._digests[rel_path] = content
        return content, around, stat if settled else None

    def digest_of(self, rel_path: str) -> str | None:
        """The content digest of a file this run took (`file_key`), or None."""
        return self._digests.get(rel_path)

    def get(self, rel_path: str, key: tuple[str, str, str | None], report_findings: bool, lazy: bool = False):
        """The cached result of the file, or None when it must be analysed. A result for a run that does not
        report the file holds only what project-level rules read: its facts and imports. With `lazy`, it is a
        `Deferred`, holding what the run reports of the file, until `resolve` decodes the rest."""
        entry = self._entries.get(rel_path)
        try:
            content, packages, with_findings, _, _, _, parsed, report = entry
            if content != key[0] or packages != key[1]:
                return None
            if report_findings and with_findings is not True:
                return None
            if lazy:
                shown = _decode_shown(self._report_data(rel_path), rel_path, parsed) if report_findings else None
                decoded = Deferred(rel_path, shown)
            else:
                data = _joined(self._result_data(rel_path), parsed, self._report_data(rel_path))
                decoded = _decode_result(data, rel_path, complete=report_findings)
        except Exception:  # absent, or not an entry this code wrote: a miss
            return None
        if key[2] is not None and entry[4] != key[2]:  # digested again, now settled: keep its stat for next time
            entry[4] = key[2]
            self._restamped.add(rel_path)
            self._changed = True
        return decoded

    def resolve(self, deferred: list[Deferred], only: tuple[set, set] | None = None) -> dict[str, FileResult | None]:
        """The results `get` deferred, decoded (None: the entry does not decode, the file must be analysed); with
        `only`, their imports and only the facts and flow summaries it names (see `_decode_result`)."""
        wanted = {d.path for d in deferred}
        missing = [path for path in wanted if self._entries.get(path, [None] * 8)[3] is None]
        if missing and self._db is not None:
            try:
                for rel, result in self._db.execute("SELECT path, result FROM files"):
                    entry = self._entries.get(rel)
                    if rel in wanted and entry is not None and entry[3] is None:
                        entry[3] = result
            except Exception:  # the file went bad since it was opened: what is not read is a miss
                pass
        decoded: dict[str, FileResult | None] = {}
        for path in wanted:
            try:
                data = _joined(self._result_data(path), self._entries[path][6], None)
                decoded[path] = _decode_result(data, path, complete=False, only=only)
            except Exception:
                decoded[path] = None
        return decoded

    def _report_data(self, rel_path: str) -> dict | None:
        entry = self._entries[rel_path]
        if type(entry[7]) is str:
            entry[7] = json.loads(entry[7])
        return entry[7]

    def _result_data(self, rel_path: str) -> dict:
        entry = self._entries[rel_path]
        if entry[3] is None:
            if self._db is None:
                raise KeyError(rel_path)
            (text,) = self._db.execute("SELECT result FROM files WHERE path = ?", (rel_path,)).fetchone()
            entry[3] = text
        if type(entry[3]) is str:
            entry[3] = json.loads(entry[3])
        return entry[3]

    def seen(self, rel_path: str) -> str | None:
        """What the project phase sees of the file's cached result (`seen_of`), as stored with it."""
        entry = self._entries.get(rel_path)
        return entry[5] if entry is not None and type(entry[5]) is str else None

    def put(self, rel_path: str, key: tuple[str, str, str | None], report_findings: bool, result) -> None:
        if result.incomplete:
            return
        try:
            # Converted now, as the analysis left it: later steps of the run may mark its directives used.
            encoded = _encode_result(result)
            seen = seen_of(result, encoded)
        except (TypeError, ValueError):  # something plain data cannot hold: the file is analysed every run
            if self._entries.pop(rel_path, None) is not None:
                self._deleted.add(rel_path)
                self._changed = True
            return
        parsed, report, rest = _split(encoded)
        self._entries[rel_path] = [key[0], key[1], bool(report_findings), rest, key[2], seen, parsed, report]
        self._dirty.add(rel_path)
        self._deleted.discard(rel_path)
        self._changed = True

    def forget_missing(self, root: Path, seen: set[str]) -> None:
        """Drop the entries of files that no longer exist (entries of files outside this run are kept)."""
        for rel_path in [p for p in self._entries if p not in seen and not (root / p).is_file()]:
            del self._entries[rel_path]
            self._deleted.add(rel_path)
            self._dirty.discard(rel_path)
            self._changed = True

    def project_outcome(self, rule_key: str, inputs: str) -> str | None:
        """The outcome (JSON text, see `linter.project_cache`) a project-level check left for these inputs."""
        if (rule_key, inputs) in self._outcomes:
            return self._outcomes[(rule_key, inputs)]
        if self._db is None:
            return None
        try:
            query = "SELECT outcome FROM project WHERE rule = ? AND inputs = ?"
            row = self._db.execute(query, (rule_key, inputs)).fetchone()
        except Exception:
            return None
        return row[0] if row is not None and type(row[0]) is str else None

    def put_project_outcome(self, rule_key: str, inputs: str, outcome: str) -> None:
        self._outcomes[(rule_key, inputs)] = outcome
        self._changed = True

    def save(self) -> None:
        """Write back what this run changed: in place, in one transaction, when the database was ours; else a
        new database, written aside and renamed over the old file. A failure leaves the old file as it was."""
        if not self._changed:
            return
        try:
            if self._db is not None:
                self._update(self._db)
            else:
                self._write_new()
                self._forget_other_rule_sets()
            self._changed = False
        except Exception:  # a read-only home, a full disk, a busy database: the output does not depend on the cache
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _rows(self, paths) -> list[tuple]:
        rows = []
        for rel in paths:
            content, around, with_findings, result, stat_, seen, parsed, report = self._entries[rel]
            data = result if type(result) is str else json.dumps(result, separators=(",", ":"), allow_nan=False)
            shown = report if report is None or type(report) is str else json.dumps(report, separators=(",", ":"))
            rows.append((rel, content, around, int(with_findings), stat_, seen, int(parsed), shown, data))
        return rows

    def _update(self, db) -> None:
        rows = self._rows(sorted(self._dirty))
        now = time.time_ns()
        restamped = [(self._entries[p][4], p) for p in sorted(self._restamped - self._dirty)]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in sorted(self._deleted)])
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("UPDATE files SET stat = ? WHERE path = ?", restamped)
            if self._rules_text is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('rules', ?)", (self._rules_text,))
            self._store_outcomes(db, now)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._dirty.clear()
        self._restamped.clear()
        self._deleted.clear()

    def _write_new(self) -> None:
        # Every entry's result is in memory: there was no database to leave any in.
        import tempfile  # here: a run that writes nothing does not import it

        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
        os.close(handle)
        db = None
        try:
            db = sqlite3.connect(temp, isolation_level=None)
            db.execute("PRAGMA journal_mode = OFF")  # a file no one else sees until it is complete
            db.executescript(_SCHEMA)
            db.execute("BEGIN")
            meta = [("format", str(FORMAT)), ("root", self._root), ("key", self._key)]
            if self._rules_text is not None:
                meta.append(("rules", self._rules_text))
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
            db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._rows(sorted(self._entries)))
            self._store_outcomes(db, time.time_ns())
            db.execute("COMMIT")
            db.close()
            db = None
            os.replace(temp, self.path)
            temp = None
        finally:
            if db is not None:
                db.close()
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
        self._dirty.clear()
        self._restamped.clear()
        self._deleted.clear()

    def _store_outcomes(self, db, now: int) -> None:
        rows = [(rule, inputs, outcome, now) for (rule, inputs), outcome in sorted(self._outcomes.items())]
        db.executemany("INSERT OR REPLACE INTO project VALUES (?, ?, ?, ?)", rows)
        for rule in sorted({rule for rule, _ in self._outcomes}):  # a few sets of inputs per check: newest first
            db.execute(
                "DELETE FROM project WHERE rule = ? AND inputs NOT IN "
                "(SELECT inputs FROM project WHERE rule = ? ORDER BY written DESC LIMIT ?)",
                (rule, rule, KEPT_OUTCOMES),
            )
        self._outcomes.clear()

    def _forget_other_rule_sets(self) -> None:
        root_prefix = self.path.name.rsplit("-", 1)[0] + "-"
        siblings = [p for p in self.path.parent.glob(root_prefix + "*" + SUFFIX) if p != self.path]
        siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        legacy = [p for suffix in LEGACY_SUFFIXES for p in self.path.parent.glob(root_prefix + "*" + suffix)]
        for stale in [*siblings[KEPT_PER_ROOT - 1 :], *legacy]:
            stale.unlink(missing_ok=True)


_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY, content TEXT NOT NULL, around TEXT NOT NULL, with_findings INTEGER NOT NULL,
    stat TEXT, seen TEXT, parsed INTEGER NOT NULL, report TEXT, result TEXT NOT NULL
);
CREATE TABLE project (rule TEXT NOT NULL, inputs TEXT NOT NULL, outcome TEXT NOT NULL, written INTEGER NOT NULL,
    PRIMARY KEY (rule, inputs));
"""


def _rules_known(text: str | None) -> dict[str, dict]:
    """What the cache recorded of each rule (`ResultCache.note_rules`); nothing when it is not what that wrote."""
    try:
        known = json.loads(text) if text is not None else {}
        if not isinstance(known, dict):
            return {}
        for facts in known.values():
            if set(facts) != {"project", "flow", "info", "gate"} or type(facts["project"]) is not bool:
                return {}
            if facts["flow"] is not None and type(facts["flow"]) is not str or not isinstance(facts["info"], dict):
                return {}
            gate = facts["gate"]
            if set(gate) != {"query", "needles", "requires"} or type(gate["query"]) is not bool:
                return {}
            if not all(type(word) is str for key in ("needles", "requires") if type(gate[key]) is list for word in gate[key]):
                return {}
            if type(gate["needles"]) is not list or type(gate["requires"]) is not list:
                return {}
            if any(ord(c) > 255 for needle in gate["needles"] for c in needle):  # not bytes as `rule_facts` writes them
                return {}
        return known
    except Exception:
        return {}


def _connect_private(path: Path):
    """The database at `path`, opened for reading and writing, when it is a regular file of this user that no
    one else can write (the folder is private: see `usable_cache_dir`); else OSError."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path} is not a regular file")
    if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o022):
        path.unlink(missing_ok=True)  # not ours to read: a new database replaces it
        raise OSError(f"{path} is not private to this user")
    # The server uses the cache from its linting thread; a busy database is a miss, not a wait.
    uri = f"{path.as_uri()}?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=0.2, isolation_level=None, check_same_thread=False)


def seen_of(result: FileResult, encoded: dict | None = None) -> str:
    """What the project phase sees of a file's result, as digests (JSON text): its imports, its facts by rule
    instance and its flow summaries by spec and rule instance (`linter.project_cache`). Raises TypeError or
    ValueError when the result holds what plain data cannot."""
    encoded = encoded if encoded is not None else _encode_result(result)

    def digest(value) -> str:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)
        return blake2b(text.encode(), digest_size=12).hexdigest()

    facts: dict[str, list] = {}
    for fact in encoded["facts"]:
        facts.setdefault(f"{fact[0]}\0{fact[5]}", []).append(fact)
    flows = {f"{summary[0]}\0{summary[2]}": digest(summary) for summary in encoded["flows"]}
    imports = digest([reference[0] for reference in encoded["references"]])
    seen = {"i": imports, "f": {key: digest(found) for key, found in facts.items()}, "s": flows}
    return json.dumps(seen, separators=(",", ":"), sort_keys=True)


# Plain-data conversions. Encoding raises TypeError/ValueError on what it cannot represent; decoding raises on
# anything it does not recognise (the caller treats both as "not cached").


def _encode_result(result: FileResult) -> dict:
    return {
        "path": result.path,
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "facts": [
            [f.rule_id, f.kind, f.path, _encode_span(f.span), _encode_value(f.data), f.instance] for f in result.facts
        ],
        "references": [[r.specifier, r.kind, r.start_byte, r.end_byte] for r in result.references],
        "flows": [summary.to_data() for summary in result.flows],
        "directives": [
            [d.path, _encode_span(d.span), d.whole_file, list(d.selectors), d.reason, d.problem, d.trailing, d.used]
            for d in result.directives
        ],
        "notices": [n.model_dump(mode="json") for n in result.notices],
        "parsed": result.parsed,
        "incomplete": result.incomplete,
    }


_SHOWN = ("findings", "notices", "directives")  # what a report shows of a file's result, stored apart (`_split`)


def _split(encoded: dict) -> tuple[bool, dict | None, dict]:
    """A result's plain data (`_encode_result`, complete: a cached result never is incomplete) as it is stored:
    its `parsed` flag, what a report shows of it (None when nothing) and the rest."""
    shown = {part: encoded.get(part, []) for part in _SHOWN}
    rest = {part: value for part, value in encoded.items() if part not in _SHOWN and part not in ("parsed", "incomplete")}
    return encoded.get("parsed") is True, shown if any(shown.values()) else None, rest


def _joined(rest: dict, parsed: bool, shown: dict | None) -> dict:
    """The result's plain data from its stored parts (`_split`)."""
    return {**rest, **(shown or dict.fromkeys(_SHOWN, [])), "parsed": parsed, "incomplete": False}


def _decode_shown(shown: dict | None, rel_path: str, parsed: bool) -> FileResult:
    """What a report shows of a file's cached result (`_split`), as a result without imports, facts or flows."""
    if shown is None:  # most files
        return FileResult(path=rel_path, parsed=parsed)
    data = _joined({"path": rel_path, "facts": [], "references": [], "flows": []}, parsed, shown)
    return _decode_result(data, rel_path)


def _decode_result(data: dict, rel_path: str, complete: bool = True, only: tuple[set, set] | None = None) -> FileResult:
    """The result stored for `rel_path`; raises on anything this code would not have written for that file,
    a record naming another file included (the run would read it for code frames and line hashes). With
    `only`, (rule id, instance) pairs and (flow spec, instance) pairs: only their facts and flow summaries."""
    if data["path"] != rel_path:
        raise ValueError("entry of another file")
    references = []
    for specifier, kind, start_byte, end_byte in data["references"]:
        if type(specifier) is not str or type(kind) is not str or type(start_byte) is not int or type(end_byte) is not int:
            raise TypeError("bad module reference")
        references.append(ModuleReference(specifier, kind, start_byte, end_byte))
    directives = []
    for path, span, whole_file, selectors, reason, problem, trailing, used in data["directives"] if complete else ():
        if not all(type(s) is str for s in selectors) or problem is not None and type(problem) is not str:
            raise TypeError("bad directive")
        if type(path) is not str or type(reason) is not str or not {type(whole_file), type(trailing), type(used)} <= {bool}:
            raise TypeError("bad directive")
        if path != rel_path:
            raise ValueError("directive of another file")
        directive = Directive(path, _decode_span(span), whole_file, tuple(selectors), reason, problem, trailing)
        directive.used = used
        directives.append(directive)
    facts = []
    for rule_id, kind, path, span, fact_data, instance in data["facts"]:
        if only is not None and (rule_id, instance) not in only[0]:
            continue
        fact_data = _decode_value(fact_data)
        if not isinstance(fact_data, dict) or path != rel_path:
            raise TypeError("bad fact")
        fact = Fact(rule_id=rule_id, kind=kind, path=path, span=_decode_span(span), data=fact_data, instance=instance)
        facts.append(fact)
    parsed, incomplete = data["parsed"], data["incomplete"]
    if type(parsed) is not bool or type(incomplete) is not bool:
        raise TypeError("bad flags")
    findings = [Finding.model_validate(f) for f in data["findings"]] if complete else []
    notices = [Notice.model_validate(n) for n in data["notices"]] if complete else []
    places = [loc.path for f in findings for loc in (f, *f.related, *f.code_flow)]
    if any(path != rel_path for path in places) or any(n.path not in (None, rel_path) for n in notices):
        raise ValueError("finding or notice of another file")
    flows = [summary for summary in data["flows"] if only is None or (summary[0], summary[2]) in only[1]]
    if flows:  # imported here: a warm run decodes no flow summary, and imports no flow engine
        from linter.flow.summary import FlowSummary

        flows = [FlowSummary.from_data(summary) for summary in flows]
    return FileResult(
        path=rel_path,
        flows=flows,
        findings=findings,
        facts=facts,
        references=references,
        directives=directives,
        notices=notices,
        parsed=parsed,
        incomplete=incomplete,
    )


def _encode_span(span: Span) -> list[int]:
    return [span.start_line, span.start_column, span.end_line, span.end_column]


def _decode_span(data: list) -> Span:
    start_line, start_column, end_line, end_column = data
    return Span(start_line=start_line, start_column=start_column, end_line=end_line, end_column=end_column)


# Tags of the values JSON has no type for: a one-key object whose key starts with NUL (no rule's key does; a
# dict that has such a key is stored under "\0dict" all the same, so nothing is misread).
_TUPLE, _SET, _FROZENSET, _SPAN, _DICT = "\0tuple", "\0set", "\0frozenset", "\0span", "\0dict"
_SCALARS = (str, int, bool, type(None))


def _encode_value(value):
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    if kind is list:
        return [_encode_value(v) for v in value]
    if kind is dict:
        if all(type(k) is str and not k.startswith("\0") for k in value):
            return {k: _encode_value(v) for k, v in value.items()}
        return {_DICT: [[_encode_value(k), _encode_value(v)] for k, v in value.items()]}
    if kind is tuple:
        return {_TUPLE: [_encode_value(v) for v in value]}
    if kind is set:
        return {_SET: [_encode_value(v) for v in value]}
    if kind is frozenset:
        return {_FROZENSET: [_encode_value(v) for v in value]}
    if kind is Span:
        return {_SPAN: _encode_span(value)}
    raise TypeError(f"cannot cache a {kind.__name__}")


def _decode_value(data):
    kind = type(data)
    if kind in _SCALARS or kind is float:
        return data
    if kind is list:
        return [_decode_value(v) for v in data]
    if kind is not dict:
        raise TypeError("not JSON data")
    if len(data) == 1:
        ((tag, inner),) = data.items()
        if tag.startswith("\0"):
            if type(inner) is not list:
                raise TypeError("bad tagged value")
            if tag == _TUPLE:
                return tuple(_decode_value(v) for v in inner)
            if tag == _SET:
                return {_decode_value(v) for v in inner}
            if tag == _FROZENSET:
                return frozenset(_decode_value(v) for v in inner)
            if tag == _SPAN:
                return _decode_span(inner)
            if tag == _DICT:
                return {_decode_value(k): _decode_value(v) for k, v in inner}
            raise TypeError(f"unknown tag {tag!r}")
    return {k: _decode_value(v) for k, v in data.items()}
