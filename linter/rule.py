"""The rule protocol: metadata, docs, a tree-sitter query that pre-selects candidates, and a check.

A rule module holds one subclass of `Rule`. Per-file rules yield findings from `check`; project-level
rules also yield `Fact`s from `check` (plain data, computed per file, maybe in a worker process) and turn
the facts of the whole project into findings in `check_project`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from linter import PROJECT_URL
from linter.model import Finding, Fix, Level, Location, Precision, RuleInfo, Span
from linter.records import Frozen

if TYPE_CHECKING:
    from pydantic import BaseModel

    from linter.context import FileContext
    from linter.flow.spec import FlowSpec
    from linter.project import ProjectIndex
    from linter.syntax import Node


def __getattr__(name: str):
    # `RuleOptions` is a pydantic model, made when first asked for: a run that builds no rule's options (one
    # served from the cache) does not import pydantic.
    if name == "RuleOptions":
        from linter.rule_options import RuleOptions

        return RuleOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LazyOptions:
    """A rule's `Options`, a pydantic model kept in a module of its own (`module`, relative to the rule's
    package, and the class's `name`): imported when the run first reads, checks or describes the options, so
    that loading the rule does not import pydantic."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def __get__(self, instance: object, owner: type) -> type[BaseModel]:
        import importlib

        return getattr(importlib.import_module(self._module, owner.__module__.rpartition(".")[0]), self._name)


class Fact(Frozen):
    """Something a rule learned about one file, kept for its project-level check."""

    rule_id: str
    kind: str
    path: str
    span: Span
    data: dict[str, Any] = {}
    instance: str = ""  # the rule instance that learned it (`Rule.instance`)

    def location(self, message: str | None = None) -> Location:
        return Location(path=self.path, span=self.span, message=message)


class Match:
    """One query match: the captured nodes by capture name."""

    __slots__ = ("captures",)

    def __init__(self, captures: dict[str, list["Node"]]) -> None:
        self.captures = captures

    def __getitem__(self, name: str) -> "Node":
        return self.captures[name][0]

    def get(self, name: str) -> "Node | None":
        nodes = self.captures.get(name)
        return nodes[0] if nodes else None


class Rule:
    id: ClassVar[str]
    name: ClassVar[str]
    level: ClassVar[Level]
    # The findings reported at another level than `level` (`finding(..., level=...)`), and which: shown by
    # `loadlint rules`, `loadlint explain` and the README, so that a finding's level never surprises.
    other_levels: ClassVar[dict[Level, str]] = {}
    # The frameworks (names from `linter.frameworks.FRAMEWORK_NAMES`) whose handlers, inputs, registrations or
    # lifecycles the rule understands, shown by `loadlint explain` and the README; `()` for a rule that no framework
    # changes (it reads comments, a Prisma schema or deploy files). Every built-in rule declares it (a test checks).
    frameworks: ClassVar[tuple[str, ...] | None] = None
    precision: ClassVar[Precision]
    security_severity: ClassVar[str | None] = None
    tags: ClassVar[tuple[str, ...]] = ()
    # npm packages that gate the rule: it runs on a file only when the file's package depends on one of them.
    requires: ClassVar[tuple[str, ...]] = ()
    # The rule only runs on files whose bytes contain one of these (a cheap pre-filter); empty = every file.
    needles: ClassVar[tuple[bytes, ...]] = ()
    query: ClassVar[str] = ""
    # Words every match of `query` touches: some node of each match (captured or not) holds one in its text, as
    # written, or in any case with `query_anchors_ignore_case`. The query then visits only the stretches of a
    # file around these words (`linter.analysis.ANCHOR_GAP`), and does not run on a file without one. A query
    # visits every node of what it runs on (about a quarter of the parse), and its text predicates (`#eq?`,
    # `#any-of?`, `#match?`) are tested outside tree-sitter, on every node of the kinds they name; a rule keyed
    # on a few names visits little. Not for a query with a pattern every file matches (`(program) @p`).
    query_anchors: ClassVar[tuple[bytes, ...]] = ()
    query_anchors_ignore_case: ClassVar[bool] = False
    Options: ClassVar[type[BaseModel]] = LazyOptions("linter.rule_options", "RuleOptions")  # type: ignore[assignment]
    # A flow rule's spec (`linter.flow.spec.FlowSpec`): every file then leaves a flow summary for it, and
    # `check_project` can ask `linter.flow.project.cross_file_reaches` for the flows across modules.
    flow_spec: ClassVar["FlowSpec | None"] = None
    # Where `check_project` can report, besides the files that are not JavaScript (a Prisma schema, a manifest,
    # a Dockerfile): only in files holding a fact of one of these kinds of this rule, or ("sink") a sink of its
    # flow spec. A run with no results cache skips the check when no file it reports holds one (its findings
    # would be dropped). None: it can report in any file.
    project_reports_at: ClassVar[frozenset[str] | None] = None
    # ... and in the files that import, directly or through others, a file holding a fact of one of these kinds
    # (the endpoints above a call), or that such a file imports so (the module a value is imported from).
    project_reports_importing: ClassVar[frozenset[str]] = frozenset()
    project_reports_imported_by: ClassVar[frozenset[str]] = frozenset()
    # Kinds of fact the project-wide check reads for nothing but the findings they lead to in files around
    # theirs, each with the files around the reported ones it then needs them from: "reported" (the reported
    # files: a fact that holds a finding of its own file), "imported" (the reported files and those they import,
    # directly or through others: a call leads to the endpoints above it) or "importing" (the reported files and
    # those importing them so: an imported value leads to the module holding it). A run with no results cache
    # that reports a few files gives the check the facts of those kinds of those files alone, and analyses
    # another file for the rule only when `may_learn_elsewhere` lets its bytes through.
    project_reads_for: ClassVar[dict[str, str]] = {}
    # Which instance of the rule this is, when configs of several folders give it different options: "" for
    # the rule with its default options, else a digest of them (set by the engine). Facts and flow summaries
    # are kept per instance, and each instance's project-wide check reads its own.
    instance: str = ""

    def __init__(self, options: BaseModel | None = None) -> None:
        # Built without options: they are the defaults, which a rule may know without building them.
        self.default_options = options is None
        if options is not None:
            self.options = options

    @property
    def options(self) -> BaseModel:
        """The rule's options; those of a rule built without any are made when first read."""
        options = self.__dict__.get("_options")
        if options is None:
            options = self.__dict__["_options"] = self.Options()
        return options

    @options.setter
    def options(self, value: BaseModel) -> None:
        self.__dict__["_options"] = value

    def may_report_in(self, source: bytes) -> bool:
        """A cheap test of a file's bytes, made when `needles` let the file through: False when the rule can
        neither report nor learn anything in this file, so its query need not run."""
        return True

    def may_report_at(self, file: "FileContext") -> bool:
        """For a rule with `project_reports_at`: False when its project-wide check can report nothing in `file`, a
        file the run reports; a run with no results cache skips the check when it says so of every one."""
        return True

    def may_learn_elsewhere(self, source: bytes) -> bool:
        """For a rule with `project_reads_for`: a cheap test of the bytes of a file the rule runs on where the
        check reads no fact of those kinds, False when the file can hold no fact of another kind."""
        return True

    def query_for(self, language: str) -> str:
        """The query for files of `language` ("javascript", "typescript", "tsx"): `query`, unless the rule
        names node types that only some grammars have."""
        return self.query

    def check(self, match: Match, file: "FileContext") -> Iterable[Finding | Fact]:
        return ()

    def check_project(self, project: "ProjectIndex") -> Iterable[Finding]:
        return ()

    @classmethod
    def docs(cls) -> str:
        module = inspect.getmodule(cls)
        return inspect.cleandoc(module.__doc__ or "") if module else ""

    @classmethod
    def summary(cls) -> str:
        return cls.docs().split("\n", 1)[0].strip()

    @classmethod
    def info(cls, level: Level | None = None) -> RuleInfo:
        """The rule's metadata; `level`: the one a config sets for all its findings, which then have no other."""
        return RuleInfo(
            id=cls.id,
            name=cls.name,
            summary=cls.summary(),
            docs=cls.docs(),
            level=level or cls.level,
            precision=cls.precision,
            tags=tuple(cls.tags),
            security_severity=cls.security_severity,
            help_uri=rule_help_uri(cls.id),
            other_levels=() if level is not None else tuple(sorted(cls.other_levels.items(), key=lambda i: -i[0].rank)),
        )

    def finding(
        self,
        location: Location,
        message: str,
        related: Iterable[Location] = (),
        code_flow: Iterable[Location] = (),
        level: Level | None = None,
        fixes: Iterable[Fix] = (),
    ) -> Finding:
        """A finding of this rule at `location` (project-level checks use this; per-file ones use FileContext.report).

        `level` overrides the rule's level for this one finding (a rule whose findings differ in severity);
        a level set for the rule in the config still wins. `fixes` are edits of the finding's own file
        (`linter.fixes` builds them).
        """
        return Finding(
            rule_id=self.id,
            message=message,
            path=location.path,
            span=location.span,
            level=level or self.level,
            related=tuple(related),
            code_flow=tuple(code_flow),
            fixes=tuple(fixes),
        )


def rule_help_uri(rule_id: str) -> str | None:
    """Where a rule's documentation is published, once the project has a home (`linter.PROJECT_URL`)."""
    if PROJECT_URL is None:
        return None
    family, name = rule_id.split("/")
    return f"{PROJECT_URL}/blob/main/rules/{family}/{name.replace('-', '_')}.py"


def facts_of(project: "ProjectIndex", rule: Rule, kind: str | None = None) -> Iterator[Fact]:
    """The facts this instance of the rule learned from every file."""
    for fact in project.facts.get(rule.id, ()):
        if fact.instance == rule.instance and (kind is None or fact.kind == kind):
            yield fact


def held_finding(fact: Fact) -> Finding | None:
    """The finding a per-file check kept in `fact.data["finding"]` for the project phase to release or drop;
    None when the fact holds none, or one about another file than the fact's own."""
    try:
        finding = Finding.model_validate(fact.data["finding"])
    except (KeyError, TypeError, ValueError):
        return None
    return finding if finding.path == fact.path else None
