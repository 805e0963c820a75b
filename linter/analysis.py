"""Per-file work: read, decode, parse once, run every per-file rule through one combined query per language.

Everything this returns is plain, picklable data (no trees), so it can run in worker processes and be
cached by content hash.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from linter.context import FileContext
from linter.js.imports import ModuleReference
from linter.model import Finding, Level, Notice
from linter.rule import Fact, Match, Rule
from linter.suppression import Directive, find_directives
from linter.syntax import LANGUAGES, LANGUAGE_BY_SUFFIX, QueryError, compile_query, parse

MINIFIED_MIN_BYTES = 4096
MINIFIED_BYTES_PER_LINE = 1000


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    references: list[ModuleReference] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    parsed: bool = False
    incomplete: bool = False


class RulePlan:
    """The enabled rules and, per language, one query combining all their patterns."""

    def __init__(self, rules: list[Rule], known_ids: frozenset[str]) -> None:
        self.rules = rules
        self.known_ids = known_ids
        self._combined: dict[str, tuple[object, list[tuple[int, Rule]]]] = {}

    def combined(self, language: str):
        if language not in self._combined:
            parts, owners, offset = [], [], 0
            for rule in self.rules:
                if not rule.query.strip():
                    continue
                try:
                    count = compile_query(rule.query, language).pattern_count
                except QueryError as error:
                    raise QueryError(f"rule {rule.id}: bad query for {language}: {error}") from error
                parts.append(rule.query)
                owners.append((offset + count, rule))
                offset += count
            query = compile_query("\n".join(parts), language) if parts else None
            self._combined[language] = (query, owners)
        return self._combined[language]

    def validate(self) -> None:
        for language in LANGUAGES:
            self.combined(language)


def decode_source(raw: bytes) -> tuple[bytes | None, str | None]:
    """UTF-8 bytes to parse (BOM removed, UTF-16 converted), or (None, why it cannot be linted)."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").encode("utf-8"), None
        except UnicodeDecodeError:
            return None, "skipped: not valid UTF-16 text"
    if b"\0" in raw[:8192]:
        return None, "skipped: binary file"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"skipped: not UTF-8 text (invalid byte at offset {error.start})"
    return raw, None


def looks_minified(source: bytes) -> bool:
    if len(source) < MINIFIED_MIN_BYTES:
        return False
    lines = source.count(b"\n") + 1
    return len(source) / lines > MINIFIED_BYTES_PER_LINE


def analyze_file(
    abs_path: Path, rel_path: str, plan: RulePlan, packages: list, report_findings: bool
) -> FileResult:
    """Lint one file. `report_findings=False` runs only what project-level rules need (facts, imports)."""
    result = FileResult(path=rel_path)
    try:
        raw = abs_path.read_bytes()
    except OSError as error:
        result.notices.append(Notice(message=f"cannot read file: {error.strerror or error}", path=rel_path))
        return result
    source, problem = decode_source(raw)
    if source is None:
        result.notices.append(Notice(message=problem, path=rel_path, level=Level.NOTE))
        return result
    if looks_minified(source):
        result.notices.append(Notice(message="skipped: looks minified or generated", path=rel_path, level=Level.NOTE))
        return result
    language = LANGUAGE_BY_SUFFIX[abs_path.suffix]
    tree = parse(source, language)
    file = FileContext(rel_path, source, language, tree, packages)
    result.parsed = True
    if tree.root_node.has_error:
        result.notices.append(
            Notice(message="syntax errors: linted what the parser could recover", path=rel_path, level=Level.NOTE)
        )
    result.references = list(file.module_references)
    result.directives = find_directives(rel_path, source, file.root, file.lines, plan.known_ids)
    _run_rules(file, plan, report_findings, result)
    return result


def _run_rules(file: FileContext, plan: RulePlan, report_findings: bool, result: FileResult) -> None:
    query, owners = plan.combined(file.language)
    if query is None:
        return
    active = {id(rule): _applies(rule, file, report_findings) for _, rule in owners}
    if not any(active.values()):
        return
    failed: set[str] = set()
    for pattern_index, captures in query.matches(file.root):
        rule = _owner(owners, pattern_index)
        if not active[id(rule)] or rule.id in failed:
            continue
        try:
            for item in rule.check(Match(captures), file):
                if isinstance(item, Fact):
                    result.facts.append(item)
                elif report_findings:
                    result.findings.append(item)
        except Exception as error:  # one broken rule must not stop the run
            failed.add(rule.id)
            result.incomplete = True
            result.notices.append(
                Notice(message=f"internal error in rule {rule.id}: {type(error).__name__}: {error}", path=file.path)
            )


def _applies(rule: Rule, file: FileContext, report_findings: bool) -> bool:
    if not report_findings and type(rule).check_project is Rule.check_project:
        return False
    if rule.needles and not any(needle in file.source for needle in rule.needles):
        return False
    return not rule.requires or file.depends_on(rule.requires)


def _owner(owners: list[tuple[int, Rule]], pattern_index: int) -> Rule:
    for end, rule in owners:
        if pattern_index < end:
            return rule
    raise IndexError(pattern_index)
