"""A cache of per-file results, so that a re-run analyses only the files that changed.

An entry is found by the file's path and is used only when the file's content, the packages around it and
everything that decides what the analysis yields (prodlint's code, the rule set and the rules' options) are
the same as when it was written. Project-level rules still run on every run, from the cached facts.

The cache lives outside the work tree (`$XDG_CACHE_HOME/prodlint`, else `~/.cache/prodlint`): one file per
root and rule set. It is only ever an optimisation: a cache that cannot be read, written or understood is
ignored, never fatal. Results that are incomplete (a rule failed, a file ran out of time) are not kept.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import tempfile
from functools import lru_cache
from importlib import metadata
from dataclasses import dataclass
from pathlib import Path

import linter
from linter import __version__

FORMAT = 1  # bump when the stored layout changes
KEPT_PER_ROOT = 4  # cache files (rule sets) kept per root; the least recently written go first
# Parse trees, and so every result, also depend on the grammars.
GRAMMAR_DISTRIBUTIONS = ("tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript")


@dataclass
class _Entry:
    content_digest: bytes
    packages_digest: bytes
    with_findings: bool  # analysed with `report_findings=True`: serves runs that report the file and those that do not
    result: object  # a linter.analysis.FileResult


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "prodlint"


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
    digest.update(_code_digest(tuple(sorted({Path(linter.__file__).resolve().parent, *rule_packs}))))
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _code_digest(folders: tuple[Path, ...]) -> bytes:
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
        [p.dir, p.name, sorted(p.dependencies), p.manifest, p.settings, list(p.scripts), p.main] for p in packages
    ]
    return hashlib.blake2b(json.dumps(described, sort_keys=True, default=str).encode(), digest_size=16).digest()


def content_digest(source: bytes) -> bytes:
    return hashlib.blake2b(source, digest_size=16).digest()


class ResultCache:
    """The cached results of one root and rule set; `save` writes back what this run added."""

    def __init__(self, path: Path, entries: dict[str, _Entry]) -> None:
        self.path = path
        self._entries = entries
        self._changed = False
        self._package_digests: dict[tuple[str, ...], bytes] = {}

    @classmethod
    def open(cls, root: Path, key: str) -> "ResultCache":
        root_name = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
        path = cache_dir() / f"results-{root_name}-{key[:16]}.pickle"
        try:
            with path.open("rb") as handle:
                loaded = pickle.load(handle)
            entries = loaded if isinstance(loaded, dict) else {}
        except Exception:  # missing, unreadable, truncated, from another Python: start empty
            entries = {}
        return cls(path, entries)

    def file_key(self, source: bytes, packages) -> tuple[bytes, bytes]:
        """What a file's entry must match: its content and the packages around it (their dependencies gate rules)."""
        dirs = tuple(p.dir for p in packages)
        if dirs not in self._package_digests:
            self._package_digests[dirs] = packages_digest(packages)
        return content_digest(source), self._package_digests[dirs]

    def get(self, rel_path: str, key: tuple[bytes, bytes], report_findings: bool):
        """The cached result of the file, or None when it must be analysed."""
        entry = self._entries.get(rel_path)
        if not isinstance(entry, _Entry) or (entry.content_digest, entry.packages_digest) != key:
            return None
        if report_findings and not entry.with_findings:
            return None
        return entry.result

    def put(self, rel_path: str, key: tuple[bytes, bytes], report_findings: bool, result) -> None:
        if result.incomplete:
            return
        self._entries[rel_path] = _Entry(key[0], key[1], report_findings, result)
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(self._entries, out, protocol=pickle.HIGHEST_PROTOCOL)
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
        siblings = [p for p in self.path.parent.glob(root_prefix + "*.pickle") if p != self.path]
        siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in siblings[KEPT_PER_ROOT - 1 :]:
            stale.unlink(missing_ok=True)
