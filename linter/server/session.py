"""What `loadlint server` keeps warm between edits, and how it lints the buffers of an editor.

A `Project` is what `loadlint check ROOT` settles, finds and indexes (the same config, rules, discovery with
.gitignore and `exclude`, and packages), kept alive: every file's result stays in memory, keyed by what it was
made from. `Project.lint(buffers)` brings it up to date with the open files' text and returns each open file's
report, as `loadlint check ROOT` would report that file if the buffers were saved.

- A buffer whose text changed is analysed from that text (`analyze_file(text=…)`); nothing else is analysed.
- The project phase (every rule's `check_project`) sees a file only through what `ProjectIndex.add_file`
  records of it (its imports, its rules' facts, its flow summaries) and through the files it reads on demand.
  When an edit leaves those unchanged and the phase did not read the file, its previous findings still hold
  and are kept; otherwise it runs again, from the results in memory, and the reports of every open file
  change with it (the files whose findings depend on the edited one).
- `stale()` (a file saved, or changed on disk): the next `lint` settles the config again, finds the files
  again (the listing cache makes that cheap), and takes each changed file's result from the results cache or
  analyses it; a file whose content did not change keeps its result.

A file outside any project (no `.git` or `package.json` above it) is linted alone: its folder is not walked.
Nothing here imports the editor protocol: `linter.server.lsp` speaks it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from linter import engine
from linter.analysis import FileResult, RulePlan, analyze_file
from linter.cache import ResultCache, content_digest, packages_digest, run_key, usable_cache_dir
from linter.config import Config, ConfigError, enabled_rules, find_config_file, validate_against_rules
from linter.deadline import Deadline, OutOfTime
from linter.discovery import Discovered, is_source
from linter.files.kinds import project_file_kind
from linter.model import Finding, Level, Notice
from linter.project import ProjectIndex
from linter.registry import builtin_rules
from linter.rule import Rule
from linter.suppression import INVALID_ID, UNUSED_ID, Directive, apply_suppressions, project_file_directives


@dataclass(frozen=True)
class FileReport:
    """What the server shows for one open file: its active findings, sorted, and the notices about it."""

    path: str  # relative to the project's root
    findings: tuple[Finding, ...] = ()
    notices: tuple[Notice, ...] = ()


@dataclass
class _Entry:
    key: tuple[str, str]  # digests of the text analysed and of the packages around the file
    result: FileResult
    seen_by_project: tuple  # what the project phase reads of the result (`_seen_by_project`)


@dataclass
class _Settled:
    config: Config
    plan: RulePlan
    rules: list[Rule]  # every enabled rule, the suppression rules included
    run_key: str
    notices: list[Notice]


@dataclass
class _Phase:
    """The project phase's outcome: findings and directives by path, and the files it read on demand."""

    findings: dict[str, list[Finding]] = field(default_factory=lambda: defaultdict(list))
    directives: dict[str, list[Directive]] = field(default_factory=lambda: defaultdict(list))
    notices: list[Notice] = field(default_factory=list)
    read: frozenset[str] = frozenset()


class _Index(ProjectIndex):
    """The project index of one phase: records every file the rules read (a buffer's text is what they read)."""

    def read_js_source(self, path: str) -> bytes | None:
        self.__dict__.setdefault("_read", set()).add(path)
        return super().read_js_source(path)

    def read_source(self, path: str) -> bytes | None:
        self.__dict__.setdefault("_read", set()).add(path)
        return super().read_source(path)

    @property
    def read_paths(self) -> frozenset[str]:
        return frozenset(self.__dict__.get("_read", ()))


def project_root(path: Path) -> tuple[Path, bool]:
    """The root `loadlint check` would use for `path`, and whether it is a project (else a loose file's folder)."""
    root = engine.find_root(path.parent)
    return root, (root / ".git").exists() or (root / "package.json").is_file()


class Project:
    """One root and the config nearest the files it reports (see `Workspace.project_for`)."""

    def __init__(self, root: Path, config_start: Path, is_project: bool = True, jobs: int | None = None) -> None:
        self.root = root
        self.config_start = config_start
        self.is_project = is_project
        self.jobs = jobs
        self.timeout = engine.DEFAULT_FILE_TIMEOUT
        self._stale = True
        self._settled: _Settled | None = None
        self._found = Discovered()
        self._reported: set[str] = set()
        self._base: _Index | None = None
        self._cache: ResultCache | None = None
        self._entries: dict[str, _Entry] = {}
        self._phase: _Phase | None = None
        self._phase_buffers: dict[str, bytes] = {}  # the buffers of project files when the phase ran
        self._notices: list[Notice] = []
        self._sources: set[str] = set()  # the found source files
        self._buffered: set[str] = set()  # the sources whose result is made from a buffer
        self._run_key: str | None = None

    def stale(self) -> None:
        """Files changed on disk: settle and find them again at the next `lint`."""
        self._stale = True

    def lint(self, buffers: dict[str, bytes]) -> dict[str, FileReport]:
        """The report of each open file of `buffers` (root-relative path → the editor's text). Raises
        ConfigError, RuleLoadError or UsageError, as `loadlint check` exits 2 for them."""
        loose_files_changed = not self.is_project and set(buffers) != self._sources
        refreshed = self._stale or self._settled is None or loose_files_changed
        if refreshed:
            self._refresh(buffers)
        # What the project phase saw of each file that changed, before it changed.
        before: dict[str, tuple | None] = {}
        for path in sorted(self._buffered - set(buffers)):  # closed: its text is the file's again
            self._buffered.discard(path)
            try:
                text = (self.root / path).read_bytes()
            except OSError:
                continue
            self._update(path, text, before)
        for path, text in buffers.items():
            if path in self._sources:
                self._buffered.add(path)
                self._update(path, text, before)
        # The project files and manifests rules read whole: the phase reads their buffers itself.
        others = {path: text for path, text in buffers.items() if path not in self._sources and path in self._reported}
        if refreshed or self._phase is None or self._phase_depends_on(before, others):
            self._phase = self._project_phase(buffers)
            self._phase_buffers = others
        return {path: self._report(path) for path in buffers}

    def notices(self) -> list[Notice]:
        """What the last `lint` could not do that concerns no file in particular."""
        phase = self._phase.notices if self._phase is not None else []
        return sorted({n for n in [*self._notices, *phase] if n.path is None}, key=lambda n: n.sort_key)

    # settling and finding ------------------------------------------------------------------------------

    def _refresh(self, buffers: dict[str, bytes]) -> None:
        settled = self._settle()
        if self._settled is None or settled.run_key != self._settled.run_key:
            self._entries.clear()
        self._settled = settled
        config = settled.config
        options = engine.RunOptions(paths=[self.root], file_timeout=self.timeout)
        cache_folder, cache_problem = usable_cache_dir()
        notices = list(settled.notices)
        if cache_problem is not None:
            notices.append(Notice(message=cache_problem, level=Level.NOTE))
        if self.is_project:
            found, reported, stopped = engine._discover_in_time(self.root, [self.root], config, options, cache_folder)
            if stopped is not None:
                notices.append(stopped)
        else:  # a loose file: lint the open files of its folder, never walk it
            found = Discovered(sources=sorted(self.root / p for p in buffers if is_source(Path(p))))
            reported = {self._rel(p) for p in found.sources}
        notices.extend(found.notices)
        self._found, self._reported, self._notices = found, reported, notices
        self._sources = {self._rel(path) for path in found.sources}
        self._base = _Index.build(self.root, found, reported, notices, config.max_file_size)
        if cache_folder is None:
            self._cache = None
        elif self._cache is None or self._run_key != settled.run_key:
            self._cache = engine._open_cache(cache_folder, self.root, settled.plan)
        self._run_key = settled.run_key
        self._buffered.clear()  # `_load_results` keys every file by its text on disk
        self._load_results()
        self._stale = False

    def _settle(self) -> _Settled:
        """What `engine.run` settles before it looks at any file, for a run on the root whose config is the
        one nearest `config_start`."""
        options = engine.RunOptions(paths=[self.config_start])
        config = engine._load_settings(options, self.config_start, self.root)
        rules_folder, untrusted = engine._rules_folder(options, config, self.root)
        rule_classes = engine._all_rules(rules_folder)
        rule_options = validate_against_rules(config, rule_classes)
        chosen = enabled_rules(rule_classes, config.select, config.ignore)
        if not chosen:
            raise engine.UsageError(f"no rule to run: {config.source or 'configuration'} leaves none enabled")
        rules = [cls(rule_options.get(cls.id)) for cls in chosen]
        known_ids = frozenset(cls.id for cls in rule_classes)
        builtin_ids = frozenset(cls.id for cls in builtin_rules())
        plan = RulePlan([r for r in rules if r.id not in (INVALID_ID, UNUSED_ID)], known_ids, trusted=builtin_ids)
        engine._validate(plan)
        notices = [untrusted] if untrusted is not None else []
        return _Settled(config, plan, rules, run_key(plan.rules, plan.known_ids), notices)

    def _load_results(self) -> None:
        """Every found file's result: kept in memory when its content is the same, else from the results
        cache, else analysed (in worker processes when there are many)."""
        assert self._base is not None and self._settled is not None
        wanted, keys = [], {}
        for path in self._found.sources:
            rel = self._rel(path)
            packages = self._base.packages_around(rel)
            try:
                key = self._disk_key(rel, path, packages)
            except OSError:
                key = None
            keys[rel] = key
            entry = self._entries.get(rel)
            if key is None or entry is None or entry.key != key:
                wanted.append(path)
        results = engine._analyze_all(
            wanted, self.root, self._settled.plan, self._base, self.jobs, self.timeout, self._cache
        )
        for path, result in zip(wanted, results):
            rel = self._rel(path)
            key = keys[rel] or ("unreadable", "")
            self._entries[rel] = _Entry(key, result, _seen_by_project(result))
        found = set(keys)
        for rel in [rel for rel in self._entries if rel not in found]:
            del self._entries[rel]
        if self._cache is not None:
            self._cache.save()

    def _disk_key(self, rel: str, path: Path, packages) -> tuple[str, str]:
        if self._cache is not None:
            content, around, _ = self._cache.file_key(rel, path, packages)
            return content, around
        return content_digest(path.read_bytes()).hex(), packages_digest(packages).hex()

    # an edit -------------------------------------------------------------------------------------------

    def _update(self, path: str, text: bytes, before: dict[str, tuple | None]) -> None:
        """Analyse `path` from `text` unless its result was made from that text; `before` records what the
        project phase saw of the file until now."""
        assert self._base is not None and self._settled is not None
        packages = self._base.packages_around(path)
        key = (content_digest(text).hex(), packages_digest(packages).hex())
        entry = self._entries.get(path)
        if entry is not None and entry.key == key:
            return
        result = analyze_file(
            self.root / path, path, self._settled.plan, packages, path in self._reported, self.timeout, text=text
        )
        before.setdefault(path, entry.seen_by_project if entry is not None else None)
        self._entries[path] = _Entry(key, result, _seen_by_project(result))

    def _phase_depends_on(self, before: dict[str, tuple | None], others: dict[str, bytes]) -> bool:
        """Whether the project phase may find something else now that the files of `before` changed and the
        project files' buffers are `others`."""
        assert self._phase is not None
        if others != self._phase_buffers:
            return True
        return any(path in self._phase.read or seen != self._entries[path].seen_by_project for path, seen in before.items())

    # the project phase ---------------------------------------------------------------------------------

    def _project_phase(self, buffers: dict[str, bytes]) -> _Phase:
        assert self._base is not None and self._settled is not None
        index = dataclasses.replace(
            self._base,
            specifiers={},
            facts=defaultdict(list),
            _flow_summaries=defaultdict(dict),
            notices=[],
            buffers=dict(buffers),
        )
        for path in self._found.sources:
            entry = self._entries.get(self._rel(path))
            if entry is not None:
                result = entry.result
                index.add_file(result.path, result.references, result.facts, result.flows)
        phase = _Phase()
        for rule in self._settled.plan.rules:
            deadline = Deadline(self.timeout)
            try:
                with deadline:
                    found = list(rule.check_project(index))
            except OutOfTime:
                message = f"the project-wide check of rule {rule.id} stopped after {deadline.elapsed():.1f} s"
                phase.notices.append(Notice(message=message))
                continue
            except Exception as error:  # one broken rule must not stop the others
                phase.notices.append(Notice(message=f"internal error in rule {rule.id}: {type(error).__name__}: {error}"))
                continue
            for finding in found:
                phase.findings[finding.path].append(finding)
        for directive in project_file_directives(index, self._settled.plan.known_ids):
            phase.directives[directive.path].append(directive)
        phase.notices.extend(index.notices)
        phase.read = index.read_paths
        return phase

    # reports -------------------------------------------------------------------------------------------

    def _report(self, path: str) -> FileReport:
        """`path`'s findings as `engine.run` reports them: per-file ignores, suppressions, levels."""
        assert self._settled is not None and self._phase is not None
        if path not in self._reported:
            return FileReport(path)
        settled, config = self._settled, self._settled.config
        entry = self._entries.get(path)
        findings = list(entry.result.findings) if entry is not None else []
        findings.extend(self._phase.findings.get(path, ()))
        # Copies: marking a directive used must not carry over to the next report.
        directives = [dataclasses.replace(d) for d in (entry.result.directives if entry is not None else ())]
        directives.extend(dataclasses.replace(d) for d in self._phase.directives.get(path, ()))
        notices = [*(entry.result.notices if entry is not None else ()), *self._notices, *self._phase.notices]
        notices = [notice for notice in notices if notice.path == path]
        deadline = Deadline(self.timeout)
        try:
            with deadline:
                findings = engine._apply_per_file_ignores(findings, config, self.root)
        except OutOfTime:
            notices.append(Notice(message="applying per-file-ignores ran out of time; nothing was ignored"))
        findings = apply_suppressions(findings, directives)
        enabled_ids = {rule.id for rule in settled.rules}
        findings.extend(engine._directive_findings(directives, {path}, enabled_ids, self.root, settled.rules))
        findings = [f.model_copy(update={"level": config.levels.get(f.rule_id, f.level)}) for f in findings]
        active = sorted((f for f in findings if not f.suppressed), key=lambda f: f.sort_key)
        return FileReport(path, tuple(active), tuple(sorted(set(notices), key=lambda n: n.sort_key)))

    def rel(self, path: Path) -> str:
        """`path` relative to the root (it must lie inside it)."""
        return self._rel(path)

    def knows_source(self, path: str) -> bool:
        return path in self._sources

    def rule_docs(self, rule_id: str) -> str:
        """The documentation of an enabled rule (its module's docstring)."""
        rules = self._settled.rules if self._settled is not None else []
        return next((type(rule).docs() for rule in rules if rule.id == rule_id), "")

    def _rel(self, path: Path) -> str:
        return engine._rel(path, self.root)


def _seen_by_project(result: FileResult) -> tuple:
    """What `ProjectIndex.add_file` records of a file's result: the project phase sees nothing else of it."""
    return (
        tuple(reference.specifier for reference in result.references),
        tuple(result.facts),
        tuple(summary.to_data().__repr__() for summary in result.flows),
    )


class Workspace:
    """The projects of the files an editor opened, one per root and nearest config."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs
        self._projects: dict[tuple[Path, Path | None], Project] = {}
        self._lock = threading.Lock()  # projects are added by the linting thread, listed by the server's

    def project_for(self, path: Path) -> Project:
        """The project that reports `path`: its root, and the config nearest it (raises ConfigError for a
        config file loadlint must not read)."""
        path = Path(os.path.abspath(path))
        root, is_project = project_root(path)
        located = find_config_file(path.parent, root)
        config_start = located[0].parent if located is not None else root
        key = (root, config_start if is_project else None)
        with self._lock:
            if key not in self._projects:
                self._projects[key] = Project(root, config_start, is_project, self.jobs)
            return self._projects[key]

    def projects(self) -> list[Project]:
        with self._lock:
            return list(self._projects.values())


__all__ = ["ConfigError", "FileReport", "Project", "Workspace", "project_root"]
