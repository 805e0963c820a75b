"""Per-file work: read, decode, parse once, run the query of each rule that applies to the file (its packages,
its bytes) and the rule's check on every match.

Everything this returns is plain, picklable data (no trees), so it can run in worker processes and be
cached by content hash.
"""

from __future__ import annotations

import codecs
import contextlib
import time
from collections.abc import Iterable
from dataclasses import field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from linter.context import FileContext, packages_depend_on
from linter.deadline import Deadline, OutOfTime
from linter.js.import_scan import scanned_references
from linter.js.imports import ModuleReference
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Notice
from linter.registry import become_rule, flow_spec_name, rule_gate
from linter.rule import Fact, Match, Rule
from linter.safe_read import read_found_file
from linter.suppression import Directive, find_directives, may_hold_directives
from linter.syntax import (
    LANGUAGES,
    LANGUAGE_BY_SUFFIX,
    ParseCancelled,
    QueryError,
    compile_query,
    compile_together,
    compiled_before,
    compiled_together,
    first_error,
    is_root_only,
    parse,
    too_deep,
)

if TYPE_CHECKING:  # what only analysing a file needs is imported then: a warm run analyses none
    from linter.flow.spec import FlowSpec
    from linter.flow.summary import FlowSummary
    from linter.needles import NeedleSet

MINIFIED_MIN_BYTES = 4096
MINIFIED_BYTES_PER_LINE = 1000
# The slowest parse seen, of any shape of input (error recovery in `{ try { } catch { (, e` runs, `x = /`
# runs), reads 130 kB a second, and some shapes slow down as they grow. A file the parser would read within the
# time left even at 1 kB a second is parsed without the cancellable parse, which costs a second parse to give
# the tree its text (5% of all parsing); with the default limit that is every file under 60 kB, 96% of the bytes
# of a large monorepo. Larger files, where a crafted shape could go on for long, stay cancellable.
PARSE_BYTES_PER_SECOND_FLOOR = 1_000


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    references: list[ModuleReference] = field(default_factory=list)
    flows: list[FlowSummary] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # Linted to the end: parsed and checked, or found to need no syntax tree (no rule applies). A file counts as
    # checked in the report when this is true.
    parsed: bool = False
    incomplete: bool = False


class RulePlan:
    """The enabled rules, and their queries compiled per language when a file first needs them.

    A file runs only the queries of the rules that apply to it (its needles, its packages): one combined query
    would also match, and hand to Python, the patterns of every rule that does not. Rules with the same query
    share one run of it.

    When the configs of several folders set a rule's options differently, the plan holds one instance of the
    rule per set of options (`Rule.instance`). A file reports the findings of the instances its own config
    enables, and leaves facts and flow summaries for every project-level instance: the project-wide check of
    each judges the files of its config with what every file shows.
    """

    def __init__(self, rules: list[Rule], known_ids: frozenset[str], trusted: frozenset[str] = frozenset()) -> None:
        self.rules = rules
        self.known_ids = known_ids
        self.trusted = trusted  # ids of rules whose queries the tests compile (the built-in pack)
        # In a run that analyses a few files, each file's queries this process has not compiled yet are compiled
        # as one (`syntax.compile_together`), and the queries compiled so are used.
        self.compiles_together = False

    def prepare(self, every_rule: bool = True) -> None:
        """Gather what every file's analysis reads, once (before worker processes fork), and import the rules.
        Without `every_rule`, a rule is imported by the first file it applies to, and the rules with a flow
        spec by the first file parsed (a rule the results cache recorded is gated without being imported,
        `registry.rule_gate`; a file no rule applies to is not parsed)."""
        self.needles, self.gates  # noqa: B018 (made on first use)
        if every_rule:
            self.flow_specs  # noqa: B018
            for rule in self.with_queries:
                become_rule(rule)

    # Made when a file is first analysed: a run that takes every file from the cache imports no rule for them.

    @cached_property
    def _rule_gates(self) -> list[tuple[Rule, tuple[bool, tuple[bytes, ...], tuple[str, ...], bool]]]:
        return [(rule, rule_gate(rule)) for rule in self.rules]

    @cached_property
    def with_queries(self) -> list[Rule]:
        return [rule for rule, gate in self._rule_gates if gate[0]]

    @cached_property
    def needles(self) -> NeedleSet:
        from linter.needles import NeedleSet

        return NeedleSet(needle for rule, gate in self._rule_gates if gate[0] for needle in gate[1])

    @cached_property
    def gates(self) -> list[tuple[Rule, frozenset[bytes] | None, tuple[str, ...], bool]]:
        """What tells, before parsing, whether each rule applies to a file: its needles (None: every file), the
        packages it requires, and whether it learns facts for a project-wide check (then it runs in files that
        report no findings too)."""
        return [
            (rule, frozenset(needles) or None, requires, learns)
            for rule, (has_query, needles, requires, learns) in self._rule_gates
            if has_query
        ]

    def gates_for(self, needles: frozenset[bytes]) -> list[tuple[Rule, tuple[str, ...], bool]]:
        """The gates of the rules whose needles include one of `needles` (those found in a file), or that have
        none, in rule order: found once per set of needles (the 4,200 files of a large monorepo hold 1,300)."""
        gates = self._gates_by_needles.get(needles)
        if gates is None:
            if len(self._gates_by_needles) >= 4096:  # a server's plan lives long
                self._gates_by_needles.clear()
            gates = self._gates_by_needles[needles] = [
                (rule, requires, learns)
                for rule, rule_needles, requires, learns in self.gates
                if rule_needles is None or not needles.isdisjoint(rule_needles)
            ]
        return gates

    @cached_property
    def _gates_by_needles(self) -> dict[frozenset[bytes], list[tuple[Rule, tuple[str, ...], bool]]]:
        return {}

    @cached_property
    def flow_specs(self) -> list[tuple[FlowSpec, str]]:
        """The flow specs of the enabled rules, one per name and instance: every file leaves a summary for each."""
        specs: dict[tuple[str, str], FlowSpec] = {}
        for rule in self.rules:
            if flow_spec_name(rule) is not None and rule.flow_spec is not None:
                specs.setdefault((rule.flow_spec.name, rule.instance), rule.flow_spec)
        return [(spec, instance) for (_, instance), spec in specs.items()]

    def query(self, rule: Rule, language: str):
        source = rule.query_for(language)
        # Only a run of a few files: another runs each group's cursor over the others' patterns too often.
        shared = compiled_together(source, language) if self.compiles_together else None
        if shared is not None:
            return shared
        try:
            return compile_query(source, language)
        except QueryError as error:
            raise QueryError(f"rule {rule.id}: bad query for {language}: {error}") from error

    def compile_together(self, groups: Iterable[list[Rule]], language: str) -> None:
        """The queries of `groups` (rules sharing a query) this process has not compiled yet, compiled as one. A
        bad one leaves them to `query`, which names its rule."""
        sources = {rules[0].query_for(language) for rules in groups}
        sources = [s for s in sorted(sources) if not is_root_only(s) and not compiled_before(s, language)]
        if len(sources) >= 2:
            with contextlib.suppress(QueryError):
                compile_together(sources, language)

    def validate(self) -> None:
        """Compile the queries of the rules that are not built in, for every language."""
        for rule in self.rules:
            if rule.id not in self.trusted and rule.query.strip():
                for language in LANGUAGES:
                    self.query(rule, language)


# Control characters other than whitespace: a text file has few. (A NUL in a comment or a string does not
# make a source file binary: it decodes and parses.)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"


def decode_source(raw: bytes) -> tuple[bytes | None, str | None]:
    """UTF-8 bytes to parse (BOM removed, UTF-16 converted), or (None, why it cannot be linted): it does not
    decode, or it is mostly not text."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").encode("utf-8"), None
        except UnicodeDecodeError:
            return None, "skipped: not valid UTF-16 text"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        if b"\0" in raw[:8192]:
            return None, "skipped: binary file"
        return None, f"skipped: not UTF-8 text (invalid byte at offset {error.start})"
    if _mostly_control(raw):  # UTF-16 without a byte-order mark, say: it decodes as UTF-8 too
        return None, "skipped: binary file"
    return raw, None


def _mostly_control(raw: bytes) -> bool:
    return len(raw) - len(raw.translate(None, _CONTROL_BYTES)) > len(raw) // 4


def looks_minified(source: bytes) -> bool:
    if len(source) < MINIFIED_MIN_BYTES:
        return False
    lines = source.count(b"\n") + 1
    return len(source) / lines > MINIFIED_BYTES_PER_LINE


def analyze_file(
    abs_path: Path,
    rel_path: str,
    plan: RulePlan,
    packages: list,
    report_findings: bool,
    time_limit: float | None = None,
    given: bytes | None = None,
    own: frozenset[tuple[str, str]] | None = None,
) -> FileResult:
    """Lint one file. `report_findings=False` runs only what project-level rules need (facts, imports).
    `given`: the file's text, read from stdin; the file on disk, if any, is not read.
    `own`: the (id, instance) of the rules whose findings the file reports (its config's); None: every rule.

    Never raises for a problem in the file or in a rule: what cannot be done becomes a notice. A file whose
    analysis fails outside a rule, or takes longer than `time_limit` seconds, keeps no partial results.
    """
    step = _Step("reading the file")
    deadline = Deadline(time_limit)
    try:
        with deadline:
            return _analyze(abs_path, rel_path, plan, packages, report_findings, own, deadline, step, given)
    except OutOfTime:
        message = _out_of_time_message(deadline.elapsed(), time_limit, step)
    except Exception as error:  # RecursionError, a bug in shared code: lose this file, not the run
        message = f"internal error while {step.doing}: {type(error).__name__}: {error}"
    return FileResult(path=rel_path, notices=[Notice(message=message, path=rel_path)], incomplete=True)


@dataclass
class _Step:
    """What the analysis of a file is doing, for the message when it fails or runs out of time, and how long
    each rule (or the rules sharing a query) has taken."""

    doing: str
    spent: dict[str, float] = field(default_factory=dict)
    _rule: str | None = None
    _started: float = 0.0

    def rule_started(self, names: str) -> None:
        self._rule, self._started = names, time.perf_counter()

    def rule_done(self) -> None:
        self.spent[self._rule] = time.perf_counter() - self._started
        self._rule = None

    def slowest_rule(self) -> tuple[str, float] | None:
        spent = dict(self.spent)
        if self._rule is not None:  # the one it was in when it stopped
            spent[self._rule] = time.perf_counter() - self._started
        return max(spent.items(), key=lambda item: item[1]) if spent else None


def _out_of_time_message(elapsed: float, time_limit: float | None, step: _Step) -> str:
    # The true time: native code (a query) runs on past the limit, and the alarm fires only when it returns.
    message = f"skipped: linting stopped after {elapsed:.1f} s (limit {time_limit:g} s) while {step.doing}"
    slowest = step.slowest_rule()
    if slowest is not None:
        message += f"; the slowest rule was {slowest[0]} ({slowest[1]:.1f} s)"
    return message + "; exclude the file if it is generated, or raise --timeout"


def _analyze(
    abs_path: Path,
    rel_path: str,
    plan: RulePlan,
    packages: list,
    report_findings: bool,
    own: frozenset[tuple[str, str]] | None,
    deadline: Deadline,
    step: _Step,
    given: bytes | None = None,
) -> FileResult:
    result = FileResult(path=rel_path)
    try:
        raw = read_found_file(abs_path) if given is None else given
    except OSError as error:
        result.notices.append(Notice(message=f"cannot read file: {error.strerror or error}", path=rel_path))
        return result
    step.doing = "decoding the file"
    source, problem = decode_source(raw)
    if source is None:
        result.notices.append(Notice(message=problem, path=rel_path, level=Level.NOTE))
        return result
    if looks_minified(source):
        result.notices.append(Notice(message="skipped: looks minified or generated", path=rel_path, level=Level.NOTE))
        return result
    language = LANGUAGE_BY_SUFFIX[abs_path.suffix]
    step.doing = "choosing the rules"
    active, reporting = _applying_rules(plan, language, packages, source, report_findings, own)
    if not active and not may_hold_directives(source):
        # No rule looks at the file, so it leaves no findings, facts or flow summaries: only its imports,
        # for the project's import graph, read from its bytes when they can be read with certainty.
        step.doing = "reading the imports"
        references = scanned_references(source, language)
        if references is not None:
            result.references = references
            result.parsed = True
            return result
    step.doing = "parsing"
    remaining = deadline.remaining()
    cancellable = remaining is not None and len(source) > remaining * PARSE_BYTES_PER_SECOND_FLOOR
    try:
        tree = parse(source, language, should_stop=deadline.expired if cancellable else None)
    except ParseCancelled:
        raise OutOfTime from None
    step.doing = "measuring the nesting depth"
    depth_limit = too_deep(tree.root_node)
    if depth_limit is not None:
        message = (
            f"skipped: nested more than {depth_limit:,} levels deep in {tree.root_node.descendant_count:,} syntax "
            "nodes, too deep to match rules in bounded time; exclude the file if it is generated"
        )
        result.notices.append(Notice(message=message, path=rel_path))
        result.incomplete = True
        return result
    file = FileContext(rel_path, source, language, tree, packages)
    if tree.root_node.has_error:
        error = first_error(tree.root_node) or tree.root_node
        at = file.lines.span(error.start_byte, error.start_byte)
        result.notices.append(
            Notice(
                message=f"syntax errors (the first at line {at.start_line}, column {at.start_column}): linted "
                "what the parser could recover",
                path=rel_path,
                level=Level.NOTE,
                span=at,
            )
        )
    step.doing = "collecting imports"
    result.references = list(file.module_references)
    step.doing = "reading suppression comments"
    result.directives = find_directives(rel_path, source, file.root, lambda: file.lines, plan.known_ids)
    _run_rules(file, plan, active, reporting, result, deadline, step)
    if plan.flow_specs:
        step.doing = "summarising value flows"
        from linter.flow.file_flow import kept_summary

        for spec, instance in plan.flow_specs:
            summary = kept_summary(file, spec, instance)
            if summary is not None and not summary.is_empty():
                result.flows.append(_summary_with_source_digest(summary, source))
    result.findings = _with_source_digest(result.findings, source)
    result.parsed = True
    file.release()
    return result


def lintable_source(abs_path: Path, given: bytes | None = None) -> bytes | None:
    """The text `analyze_file` goes on to choose rules for, or None where it stops before (the file cannot be
    read, is not text or looks minified: it then leaves no imports, facts or flow summaries)."""
    try:
        raw = read_found_file(abs_path) if given is None else given
    except OSError:
        return None
    source, _ = decode_source(raw)
    return source if source is not None and not looks_minified(source) else None


def runs_unreported(plan: RulePlan, rule: Rule, packages: list, source: bytes) -> bool:
    """Whether `rule` runs on a file the run does not report whose text is `source`, as `_applying_rules`
    decides it: a rule with a query that learns facts for its project-wide check, whose needles, packages and
    look at the bytes let the file through."""
    if not rule.query.strip() or type(rule).check_project is Rule.check_project:
        return False
    if rule.needles and not _anchor_set(tuple(rule.needles)).any_in(source):
        return False
    if rule.requires and not packages_depend_on(packages, tuple(rule.requires)):
        return False
    return bool(rule.may_report_in(source))


def _with_source_digest(findings: list[Finding], source: bytes) -> list[Finding]:
    """The findings with each fix stamped with the text its offsets refer to: `--fix` applies it to that text only."""
    if not any(finding.fixes for finding in findings):
        return findings
    from linter.fixes import source_digest

    digest = source_digest(source)
    return [
        finding.model_copy(update={"fixes": tuple(fix.model_copy(update={"source_digest": digest}) for fix in finding.fixes)})
        if finding.fixes
        else finding
        for finding in findings
    ]


def _summary_with_source_digest(summary: FlowSummary, source: bytes) -> FlowSummary:
    """The summary with the fixes of its sinks stamped as findings' fixes are: the project phase reports them."""
    if not any(sink.fixes for sink in summary.sinks):
        return summary
    from linter.fixes import source_digest

    digest = source_digest(source)
    sinks = [replace(sink, fixes=tuple(fix.model_copy(update={"source_digest": digest}) for fix in sink.fixes)) for sink in summary.sinks]
    return replace(summary, sinks=sinks)


def _applying_rules(
    plan: RulePlan, language: str, packages: list, source: bytes, report_findings: bool, own: frozenset[tuple[str, str]] | None
) -> tuple[dict[str, list[Rule]], set[int]]:
    """The rules that apply to the file, by the query they share (in rule order), and those of them (by id())
    whose findings the file reports. Told from the file's bytes and packages alone: before it is parsed. The
    cheap tests come first: the needles found, then the packages (once per set of packages a rule requires),
    then the rule's own look at the bytes (`Rule.may_report_in`)."""
    active: dict[str, list[Rule]] = {}  # query source -> the applying rules that share it, in rule order
    reporting: set[int] = set()
    depends: dict[tuple[str, ...], bool] = {}
    for rule, requires, learns in plan.gates_for(plan.needles.found_in(source)):
        reports = report_findings and (own is None or (rule.id, rule.instance) in own)
        if not reports and not learns:
            continue
        if requires:
            depended = depends.get(requires)
            if depended is None:
                depended = depends[requires] = packages_depend_on(packages, requires)
            if not depended:
                continue
        if rule.may_report_in(source):
            active.setdefault(rule.query_for(language), []).append(rule)
            if reports:
                reporting.add(id(rule))
    return active, reporting


def _run_rules(
    file: FileContext,
    plan: RulePlan,
    active: dict[str, list[Rule]],
    reporting: set[int],
    result: FileResult,
    deadline: Deadline,
    step: _Step,
) -> None:
    failed: set[str] = set()
    lowered: list[bytes] = []
    if plan.compiles_together:
        plan.compile_together(active.values(), file.language)
    for rules in active.values():
        names = ", ".join(rule.id for rule in rules)
        step.doing = f"matching the query of {names}"
        step.rule_started(names)
        ranges = _anchored_ranges(rules, file.source, lowered)
        # Native code: the alarm can only interrupt it once it returns (`linter.syntax.too_deep` bounds it).
        if ranges is None:
            matches = plan.query(rules[0], file.language).matches(file.root)
        else:
            matches = plan.query(rules[0], file.language).matches_in_ranges(file.root, ranges) if ranges else []
        for _, captures in matches:
            for rule in rules:
                if rule.id in failed:
                    continue
                deadline.check()  # also when a rule swallowed the alarm with a bare `except:`
                step.doing = f"running rule {rule.id}"
                file.rule_instance = rule.instance
                reports = id(rule) in reporting
                try:
                    for item in rule.check(Match(captures), file):
                        if isinstance(item, Fact):
                            if item.instance != rule.instance:
                                item = item.model_copy(update={"instance": rule.instance})
                            result.facts.append(item)
                        elif reports:
                            result.findings.append(item)
                except Exception as error:  # one broken rule must not stop the run
                    failed.add(rule.id)
                    result.incomplete = True
                    result.notices.append(
                        Notice(message=f"internal error in rule {rule.id}: {type(error).__name__}: {error}", path=file.path)
                    )
        step.rule_done()
    file.rule_instance = ""


# The characters that Python's case-insensitive matching takes for an ASCII letter (`(?i)limit` matches
# `lımit`), in UTF-8: an anchor found in any case may be written with one of them.
FOLDED_TO_ASCII = tuple(character.encode() for character in "\u0130\u0131\u017f\u212a")
# Anchors closer than this are visited as one stretch: a query cursor starts each stretch by stepping over the
# nodes before it (the siblings of its ancestors), which costs about as much as visiting a hundred bytes.
ANCHOR_GAP = 128
# At most this many stretches; beyond it, the stretches closest together are visited as one.
MAX_ANCHOR_RANGES = 16


@lru_cache(maxsize=None)
def _anchor_set(words: tuple[bytes, ...]) -> NeedleSet:
    from linter.needles import NeedleSet

    return NeedleSet(words)


def _anchored_ranges(rules: list[Rule], source: bytes, lowered: list[bytes]) -> list[tuple[int, int]] | None:
    """The stretches of bytes the query of `rules` needs to visit (`Rule.query_anchors`), in order and apart:
    the anchors found in the file, those close together as one; none when the file holds none; None (all of
    it) when a rule has none. `lowered` keeps the file's text in lower case once a rule needed it."""
    found: list[tuple[int, int]] = []
    for rule in rules:
        if not rule.query_anchors:
            return None
        if rule.query_anchors_ignore_case:
            if not lowered:
                lowered.append(source.lower())
            text, words = lowered[0], (*(word.lower() for word in rule.query_anchors), *FOLDED_TO_ASCII)
        else:
            text, words = source, rule.query_anchors
        found += _anchor_set(words).spans_in(text)
    if not found:
        return []
    if len(rules) > 1:
        found.sort()
    ranges = []
    start, end = found[0]
    for next_start, next_end in found:
        if next_start - end >= ANCHOR_GAP:
            ranges.append((start, end))
            start = next_start
        if next_end > end:
            end = next_end
    ranges.append((start, end))
    if len(ranges) > MAX_ANCHOR_RANGES:  # split only at the widest gaps
        widest = sorted(range(1, len(ranges)), key=lambda i: ranges[i - 1][1] - ranges[i][0])[: MAX_ANCHOR_RANGES - 1]
        firsts = [0, *sorted(widest)]
        return [(ranges[first][0], ranges[next_first - 1][1]) for first, next_first in zip(firsts, [*firsts[1:], len(ranges)])]
    return ranges
