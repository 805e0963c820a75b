"""A cache of per-file results, so that a re-run analyses only the files that changed.

An entry is found by the file's path and is used only when the file's content, the packages around it and
everything that decides what the analysis yields (loadlint's code, the rule set and the rules' options) are
the same as when it was written. Project-level rules still run on every run, from the cached facts.

The cache lives outside the work tree (`$XDG_CACHE_HOME/loadlint`, else `~/.cache/loadlint`): one file per
root and rule set. It is only ever an optimisation: a cache that cannot be read, written or understood is
ignored, never fatal. Results that are incomplete (a rule failed, a file ran out of time) are not kept.

Trust. A cached result stands in for analysing a file: whoever can write the cache can hide findings, add
findings and hand `--fix` the edits to make. So the cache is trusted exactly as far as the folder is, the model
of git's `safe.directory`: the folder is used only when it is a real folder of the user running loadlint that
no one else can write to, in a parent no one else can replace it in (`usable_cache_dir`); each file read from
it must be a regular file of that user that no one else can write (`read_private`); otherwise the run goes on
without a cache, with one notice. What else is checked binds entries to what they describe, against stale or
mismatched data rather than an attacker: a file records the root and the full run key it was written for, an
entry the content digest of its file, and a decoded result names no file but its own. A secret key (an HMAC
over the entries) would add nothing: it would have to live in the same folder, where whoever can write the
entries can replace the key too. Fixes are never taken from the cache: a run that applies or prints fixes
analyses afresh every file whose cached findings carry one (`linter.engine`).

The files are plain JSON, never pickle: loading must not be able to run code, whatever a file holds. Every
record is converted to and from plain data explicitly (`_encode_result`, `_decode_result`); only the known
record types are ever built back, and an entry that does not decode is a miss. A fact's free-form `data` keeps
JSON's own types as they are and tags the few others rules use (tuples, sets, spans, dicts with non-string
keys); a result holding anything else is simply not cached.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import stat
import tempfile
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import linter
from linter import __version__
from linter.analysis import FileResult
from linter.flow.summary import FlowSummary
from linter.js.imports import ModuleReference
from linter.model import Finding, Notice, Span
from linter.rule import Fact
from linter.suppression import Directive

FORMAT = 6  # bump when the stored layout changes
KEPT_PER_ROOT = 4  # cache files (rule sets) kept per root; the least recently written go first
# Parse trees, and so every result, also depend on the grammars.
GRAMMAR_DISTRIBUTIONS = ("tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript")


SUFFIX = ".json"
LEGACY_SUFFIX = ".pickle"  # written by older releases: never read, removed with the root's other stale files

# A stored entry, as plain JSON data: [content digest (hex), packages digest (hex), with_findings, result, stat].
# `with_findings`: analysed with `report_findings=True`, so it serves runs that report the file and those that do not.
# `stat`: the file's [size, mtime, ctime, inode] when its content was digested, or null; see `file_key`.
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


def run_key(rules, known_ids) -> str:
    """What decides every per-file result besides the file itself: the code, the enabled rules and options."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FORMAT}\0{__version__}\0".encode())
    for distribution in GRAMMAR_DISTRIBUTIONS:
        try:
            digest.update(f"{distribution}={metadata.version(distribution)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{distribution}=?\0".encode())
    for rule in rules:
        options = rule.options.model_dump_json() if hasattr(rule.options, "model_dump_json") else repr(rule.options)
        digest.update(f"{rule.id}\0{options}\0".encode())
    digest.update("\0".join(sorted(known_ids)).encode())
    # The code, not just the version: rules and helpers change between releases of a checkout.
    rule_packs = {Path(inspect.getfile(type(rule))).resolve().parent.parent for rule in rules}
    digest.update(code_digest(tuple(sorted({Path(linter.__file__).resolve().parent, *rule_packs}))))
    return digest.hexdigest()


@lru_cache(maxsize=8)
def code_digest(folders: tuple[Path, ...]) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for folder in folders:
        for source in sorted(folder.rglob("*.py")):
            try:
                digest.update(source.as_posix().encode() + b"\0" + source.read_bytes())
            except OSError:
                digest.update(b"unreadable")
    return digest.digest()


def packages_digest(packages) -> bytes:
    """A stable digest of the packages around a file (their dependencies gate rules)."""
    described = [
        [p.dir, p.name, sorted(p.dependencies), p.manifest, p.settings, list(p.scripts), p.main, p.command]
        for p in packages
    ]
    return hashlib.blake2b(json.dumps(described, sort_keys=True, default=str).encode(), digest_size=16).digest()


def content_digest(source: bytes) -> bytes:
    return hashlib.blake2b(source, digest_size=16).digest()


class ResultCache:
    """The cached results of one root and rule set; `save` writes back what this run added."""

    def __init__(self, path: Path, root: Path, key: str, entries: dict[str, list]) -> None:
        self.path = path
        self._root = str(root)
        self._key = key
        self._entries = entries
        self._changed = False
        self._package_digests: dict[tuple[str, ...], bytes] = {}

    @classmethod
    def open(cls, folder: Path, root: Path, key: str) -> "ResultCache":
        """The results kept in `folder` (see `usable_cache_dir`) for `root` and the run key `key`."""
        root_name = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
        path = folder / f"results-{root_name}-{key[:16]}{SUFFIX}"
        try:
            loaded = json.loads(read_private(path))
            ours = loaded.get("format") == FORMAT and loaded.get("root") == str(root) and loaded.get("key") == key
            entries = loaded["entries"] if ours else {}
            if not isinstance(entries, dict):
                entries = {}
        except Exception:  # missing, unreadable, truncated, not JSON, not ours: start empty
            entries = {}
        return cls(path, root, key, entries)

    def file_key(self, rel_path: str, path: Path, packages, rules: str = "") -> tuple[str, str, list[int] | None]:
        """What a file's entry must match: its content, the packages around it (their dependencies gate rules)
        and `rules`, the rules its own config enables (a digest), and the file's stat to keep with it. Raises
        OSError when the file cannot be read.

        As git's index does, the content digest is taken from the entry, without reading the file, when the
        file's size, times and inode are those it had when it was digested and it had not changed for a while
        then: a write in the same clock tick as the digest could otherwise go unseen."""
        dirs = tuple(p.dir for p in packages)
        if dirs not in self._package_digests:
            self._package_digests[dirs] = packages_digest(packages).hex()
        around = f"{self._package_digests[dirs]}:{rules}"
        info = os.stat(path)
        stat = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
        entry = self._entries.get(rel_path)
        if isinstance(entry, list) and len(entry) == 5 and entry[4] == stat and type(entry[0]) is str:
            return entry[0], around, stat
        content = content_digest(path.read_bytes()).hex()
        settled = time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLED_NS
        return content, around, stat if settled else None

    def get(self, rel_path: str, key: tuple[str, str, list[int] | None], report_findings: bool):
        """The cached result of the file, or None when it must be analysed. A result for a run that does not
        report the file holds only what project-level rules read: its facts and imports."""
        entry = self._entries.get(rel_path)
        try:
            content, packages, with_findings, result, _ = entry
            if content != key[0] or packages != key[1]:
                return None
            if report_findings and with_findings is not True:
                return None
            decoded = _decode_result(result, rel_path, complete=report_findings)
        except Exception:  # absent, or not an entry this code wrote: a miss
            return None
        if key[2] is not None and entry[4] != key[2]:  # digested again, now settled: keep its stat for next time
            entry[4] = key[2]
            self._changed = True
        return decoded

    def put(self, rel_path: str, key: tuple[str, str, list[int] | None], report_findings: bool, result) -> None:
        if result.incomplete:
            return
        try:
            # Converted now, as the analysis left it: later steps of the run may mark its directives used.
            encoded = _encode_result(result)
        except (TypeError, ValueError):  # something plain data cannot hold: the file is analysed every run
            self._entries.pop(rel_path, None)
            self._changed = True
            return
        self._entries[rel_path] = [key[0], key[1], bool(report_findings), encoded, key[2]]
        self._changed = True

    def forget_missing(self, root: Path, seen: set[str]) -> None:
        """Drop the entries of files that no longer exist (entries of files outside this run are kept)."""
        for rel_path in [p for p in self._entries if p not in seen and not (root / p).is_file()]:
            del self._entries[rel_path]
            self._changed = True

    def save(self) -> None:
        """Write the cache back atomically if this run changed it; a failure leaves the old file as it was."""
        if not self._changed:
            return
        temp = None
        try:
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
            document = {"format": FORMAT, "root": self._root, "key": self._key, "entries": self._entries}
            data = json.dumps(document, separators=(",", ":"), allow_nan=False)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(temp, self.path)
            temp = None
            self._forget_other_rule_sets()
        except Exception:  # a read-only home, a full disk: the run's output does not depend on the cache
            pass
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)

    def _forget_other_rule_sets(self) -> None:
        root_prefix = self.path.name.rsplit("-", 1)[0] + "-"
        siblings = [p for p in self.path.parent.glob(root_prefix + "*" + SUFFIX) if p != self.path]
        siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in [*siblings[KEPT_PER_ROOT - 1 :], *self.path.parent.glob(root_prefix + "*" + LEGACY_SUFFIX)]:
            stale.unlink(missing_ok=True)


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


def _decode_result(data: dict, rel_path: str, complete: bool = True) -> FileResult:
    """The result stored for `rel_path`; raises on anything this code would not have written for that file,
    a record naming another file included (the run would read it for code frames and line hashes)."""
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
    return FileResult(
        path=rel_path,
        flows=[FlowSummary.from_data(summary) for summary in data["flows"]],
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
