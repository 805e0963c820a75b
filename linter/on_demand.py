"""The project phase of a run without a results cache, when the run reports a few files: the other files are
analysed only for what a project-wide check asks of them (`OnDemand`, behind `linter.project.DemandIndex`), and a
check that cannot report in the reported files is not run (`checks_that_may_report`)."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Callable

from linter.analysis import FileResult, RulePlan, lintable_source, runs_unreported
from linter.context import FileContext
from linter.deadline import paused
from linter.js.import_scan import scanned_references
from linter.project import DemandIndex
from linter.registry import become_rule, has_project_check
from linter.rule import Fact, Rule
from linter.setups import RuleSetup
from linter.syntax import LANGUAGE_BY_SUFFIX, parse


# A run that reports more files (a folder) runs the checks that may report in them without parsing each file
# again to ask `Rule.may_report_at`: the parses would cost more than the checks they might spare.
MAY_REPORT_AT_MAX_FILES = 64


class OnDemand:
    """The files a run without a cache does not report, analysed when the project phase first asks for what they
    hold (`linter.project.DemandIndex`): for one rule's facts, that rule alone on the files it runs on; for one
    flow spec's summaries, the rules of that spec on theirs; for the import graph, only the files whose imports
    cannot be read from their bytes, parsed with no rule. A file's analysis with some of the rules finds what
    they find in the analysis with every rule (`analyze_file`, reporting nothing): each rule reads the file
    alone, as in a run where the other rules do not apply to it."""

    def __init__(
        self,
        project: DemandIndex,
        plan: RulePlan,
        pending: list[tuple[Path, str]],
        setup_by_path: dict[str, RuleSetup],
        analyse: Callable[[list[tuple], RulePlan], list[FileResult]],
        timeout: float | None,
        given: dict[str, bytes],
    ) -> None:
        self._project = project
        self._plan = plan
        self._paths = {rel: path for path, rel in pending}  # the files not reported, in file order
        self._ran: dict[str, set[str]] = {rel: set() for rel in self._paths}  # the ids of the rules run on each
        self._setup_by_path = setup_by_path
        self._analyse_work = analyse
        self._timeout = timeout
        self._given = given
        self._texts: dict[str, bytes | None] | None = None
        self._plans: dict[frozenset[str], RulePlan] = {}

    def learning_rule_ids(self) -> list[str]:
        """The ids of the rules that may learn facts in a file the run does not report."""
        self._plan.prepare()
        return list(dict.fromkeys(rule.id for rule, _, _, learns in self._plan.gates if learns))

    def analyse_for_rule(self, rule_id: str, within: set[str] | None = None) -> None:
        """Run the rule `rule_id` on the files it runs on (those of `within` only, when given)."""
        with paused():  # not the time of the check that asks: each file has a deadline of its own
            self._analyse_where(frozenset({rule_id}), within)

    def facts_for_check(self, rule_id: str) -> list[Fact]:
        """The facts of the rule `rule_id` its project-wide check reads, in file order: those of every file it
        runs on; for a rule with `Rule.project_reads_for`, the facts of those kinds of the files around the
        reported ones it names alone, and the other files analysed only where `Rule.may_learn_elsewhere` lets
        their bytes through (the others hold no fact of another kind)."""
        project = self._project
        declared = [become_rule(rule).project_reads_for for rule in self._plan.rules if rule.id == rule_id]
        reads_for = declared[0] if declared else {}
        if not reads_for:
            self.analyse_for_rule(rule_id)
            return project.facts_in(project.files, rule_id)
        around = {files: project.around_reported(files) for files in set(reads_for.values())}
        near = frozenset().union(*around.values())

        def admits(rule: Rule, rel: str, text: bytes) -> bool:
            return rel in near or become_rule(rule).may_learn_elsewhere(text)

        with paused():
            self._analyse_where(frozenset({rule_id}), admits=admits)
        return [
            fact
            for fact in project.facts_in(project.files, rule_id)
            if fact.kind not in reads_for or fact.path in around[reads_for[fact.kind]]
        ]

    def analyse_for_flow_spec(self, spec: str, within: set[str] | None = None) -> None:
        """Run the rules of the flow spec `spec` on the files they run on (those of `within` only, when given)."""
        ids = frozenset(rule.id for rule in self._plan.rules if rule.flow_spec is not None and rule.flow_spec.name == spec)
        with paused():
            self._analyse_where(ids, within)

    def imports(self) -> dict[str, list[str]]:
        """The specifiers each file not analysed imports, read from its bytes; a file whose bytes do not tell
        them for certain is parsed instead."""
        with paused():
            return self._imports()

    def _imports(self) -> dict[str, list[str]]:
        texts = self._read_texts()
        scanned: dict[str, list[str]] = {}
        to_parse = []
        for rel, path in self._paths.items():
            if self._project.analysed(rel):
                continue
            source = texts[rel]
            references = scanned_references(source, LANGUAGE_BY_SUFFIX[path.suffix]) if source is not None else []
            if references is None:
                to_parse.append(rel)
            else:
                scanned[rel] = [reference.specifier for reference in references]
        self._analyse(to_parse, frozenset())
        return scanned

    def _analyse_where(self, ids: frozenset[str], within: set[str] | None = None, admits=None) -> None:
        """Analyse with the rules of `ids` the files (of `within`, when given) one of them runs on and
        `admits(rule, path, text)` lets through, when given."""
        rules = [rule for rule in self._plan.rules if rule.id in ids]
        if not rules:
            return
        self._plan.prepare()
        texts = self._read_texts()
        project = self._project
        self._analyse(
            [
                rel
                for rel in self._paths
                if (within is None or rel in within)
                and not ids <= self._ran[rel]
                and texts[rel] is not None
                and any(
                    runs_unreported(self._plan, rule, project.packages_around(rel), texts[rel])
                    and (admits is None or admits(rule, rel, texts[rel]))
                    for rule in rules
                )
            ],
            ids,
        )

    def _read_texts(self) -> dict[str, bytes | None]:
        if self._texts is None:
            self._texts = {rel: lintable_source(path, self._given.get(rel)) for rel, path in self._paths.items()}
        return self._texts

    def _analyse(self, rels: list[str], ids: frozenset[str]) -> None:
        """Analyse the files of `rels` with the rules of `ids` only."""
        if not rels:
            return
        plan = self._plans.get(ids)
        if plan is None:
            whole = self._plan
            plan = self._plans[ids] = RulePlan([rule for rule in whole.rules if rule.id in ids], whole.known_ids, whole.trusted)
        specs = frozenset(spec.name for spec, _ in plan.flow_specs)
        project = self._project
        work = [
            (self._paths[rel], rel, project.packages_around(rel), False, self._timeout, self._given.get(rel), self._setup_by_path[rel].own)
            for rel in rels
        ]
        for result in self._analyse_work(work, plan):
            project.add_result(result, ids, specs)
            self._ran[result.path] |= ids


def checks_that_may_report(rules: list[Rule], results: list[FileResult], project: DemandIndex, on_demand: OnDemand) -> list[Rule]:
    """`rules` less those whose project-wide check cannot report in the files the run reports (`results`), as
    `Rule.project_reports_at` and the rest tell: `Rule.may_report_at` says so of every reported file, or no
    reported file holds a fact of those kinds or a sink of the rule's flow spec, and no file on an import path to
    or from one holds a fact of the kinds that lead there (those files are analysed for it). When the run
    reports a file that is not JavaScript (a schema, a manifest), every check may report."""
    sources = set(project.files)
    if any(path not in sources for path in project.reported_paths):
        return rules
    held: set[tuple[str, str]] = set()  # (rule id, kind) of the reported files' facts, (spec name, "sink")
    for result in results:
        held.update((fact.rule_id, fact.kind) for fact in result.facts)
        held.update((summary.spec, "sink") for summary in result.flows if summary.sinks)
    parsed_again: dict[str, FileContext | None] = {}

    def may_report_at_one(rule: Rule) -> bool:
        """`Rule.may_report_at` of a reported file, when the rule has its own and the run reports few files (each
        read and parsed again, once; one not parsed, or whose analysis did not end, may hold anything)."""
        rule = become_rule(rule)
        if type(rule).may_report_at is Rule.may_report_at or len(results) > MAY_REPORT_AT_MAX_FILES:
            return True
        for result in results:
            if result.path not in parsed_again:
                parsed_again[result.path] = _parsed(project, result.path) if result.parsed and not result.incomplete else None
            file = parsed_again[result.path]
            if file is None or rule.may_report_at(file):
                return True
        return False

    def leads_here(rule: Rule, kinds: frozenset[str], direction: str) -> bool:
        if not kinds:
            return False
        near = project.around_reported(direction)
        on_demand.analyse_for_rule(rule.id, within=near)
        return any(fact.kind in kinds for fact in project.facts_in(near, rule.id))

    kept = []
    for rule in rules:
        where = become_rule(rule).project_reports_at if has_project_check(rule) else None
        if where is not None and not may_report_at_one(rule):
            continue
        if (
            where is None
            or any((rule.id, kind) in held for kind in where)
            or ("sink" in where and rule.flow_spec is not None and (rule.flow_spec.name, "sink") in held)
            or leads_here(rule, rule.project_reports_importing, "imported")
            or leads_here(rule, rule.project_reports_imported_by, "importing")
        ):
            kept.append(rule)
    return kept


def _parsed(project: DemandIndex, path: str) -> FileContext | None:
    """The reported file at `path`, read and parsed again (None: it cannot be read or is not text)."""
    source = project.read_js_source(path, keep=False)
    language = LANGUAGE_BY_SUFFIX.get(posixpath.splitext(path)[1])
    if source is None or language is None:
        return None
    return FileContext(path, source, language, parse(source, language), project.packages_around(path))
