"""What `loadlint server` keeps warm between edits, and how it lints the buffers of an editor.

A `Project` is what `loadlint check ROOT` settles, finds and indexes (the same config, rules, discovery with
.gitignore and `exclude`, and packages), kept alive: every file's result stays in memory, keyed by what it was
made from. `Project.lint(buffers)` brings it up to date with the open files' text and returns each open file's
report, as `loadlint check ROOT` would report that file if the buffers were saved.

- A buffer whose text changed is analysed from that text (`analyze_file(text=…)`); nothing else is analysed.
- The project phase (every rule's `check_project`) sees a file only through what `ProjectIndex.add_file`
  records of it (its imports, its rules' facts, its flow summaries) and through the files it reads on demand,
  and a rule reads only its own facts. So after an edit, only the rules whose facts or flows in the file
  changed check the project again; every rule does when the file's imports changed or a rule read the file.
  The others' findings are kept. The reports of every open file change with them (the files whose findings
  depend on the edited one).
- `stale()` (a file saved, or changed on disk): the next `lint` settles the config again, finds the files
  again (the listing cache makes that cheap), and takes each changed file's result from the results cache or
  analyses it; a file whose content did not change keeps its result.

A file outside any project (no `.git` or `package.json` above it) is linted alone: its folder is not walked.
Nothing here imports the editor protocol: `linter.server.lsp` speaks it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import linter
from linter import engine
from linter.analysis import FileResult, RulePlan, analyze_file
from linter.cache import ResultCache, content_digest, packages_digest, run_key, usable_cache_dir
from linter.config import Config, enabled_rules, find_config_file, validate_against_rules
from linter.deadline import Deadline, OutOfTime
from linter.discovery import Discovered, is_source
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


@dataclass(frozen=True)
class _Seen:
    """What `ProjectIndex.add_file` records of a file's result: the project phase sees nothing else of it but its
    text (when a rule reads the file itself)."""

    specifiers: tuple[str, ...]
    facts: dict[str, tuple]  # by the rule that made them: a rule reads only its own facts (`facts_of`)
    flows: dict[str, str]  # by flow spec: the summary, as data

    @classmethod
    def of(cls, result: FileResult) -> "_Seen":
        facts: dict[str, list] = defaultdict(list)
        for fact in result.facts:
            facts[fact.rule_id].append(fact)
        return cls(
            tuple(reference.specifier for reference in result.references),
            {rule_id: tuple(found) for rule_id, found in facts.items()},
            {summary.spec: repr(summary.to_data()) for summary in result.flows},
        )

    def rules_affected(self, other: "_Seen | None", rules: list[Rule]) -> set[str] | None:
        """The rules whose project check can find something else now that a file shows `self` instead of
        `other`; None: every rule (its imports changed, so the module graph did)."""
        if other is None or other.specifiers != self.specifiers:
            return None
        facts = {r for r in {*self.facts, *other.facts} if self.facts.get(r) != other.facts.get(r)}
        specs = {s for s in {*self.flows, *other.flows} if self.flows.get(s) != other.flows.get(s)}
        return {rule.id for rule in rules if rule.id in facts or (rule.flow_spec is not None and rule.flow_spec.name in specs)}


@dataclass
class _Entry:
    key: tuple[str, str]  # digests of the text analysed and of the packages around the file
    result: FileResult
    seen: _Seen


@dataclass
class _Settled:
    config: Config
    plan: RulePlan
    rules: list[Rule]  # every enabled rule, the suppression rules included
    run_key: str
    notices: list[Notice]


@dataclass
class _Phase:
    """The project phase's outcome: each rule's findings and notices, the directives of the project files, and
    the files the rules read on demand."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)  # by rule
    rule_notices: dict[str, list[Notice]] = field(default_factory=dict)  # by rule
    directives: dict[str, list[Directive]] = field(default_factory=lambda: defaultdict(list))  # by path
    notices: list[Notice] = field(default_factory=list)  # problems reading files
    read: set[str] = field(default_factory=set)

    def findings_in(self, path: str) -> list[Finding]:
        return [finding for found in self.findings.values() for finding in found if finding.path == path]

    def all_notices(self) -> list[Notice]:
        return [*self.notices, *(notice for notices in self.rule_notices.values() for notice in notices)]


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
        self._loaded = False  # every found file has its result: `_load_results` ran since `_find`
        self._cache_folder: Path | None = None

    def stale(self) -> None:
        """Files changed on disk: settle and find them again at the next `lint`."""
        self._stale = True

    def needs_refresh(self, buffers: dict[str, bytes]) -> bool:
        """Whether the next `lint` loads the project first (it takes a while the first time)."""
        return self._must_find(buffers) or not self._loaded

    def _must_find(self, buffers: dict[str, bytes]) -> bool:
        loose_files_changed = not self.is_project and set(buffers) != self._sources
        return self._stale or self._settled is None or loose_files_changed

    def first_reports(self, buffers: dict[str, bytes]) -> dict[str, FileReport]:
        """Before a `lint` that must load the project: each open file's own findings, from its analysis alone,
        without what the project phase adds. Each of them is in the report `lint` gives next."""
        if self._must_find(buffers):
            self._find(buffers)
        for path, text in buffers.items():
            if path in self._sources:
                self._update(path, text, {})
        return {path: self._report(path, with_project=False) for path in buffers}

    def lint(self, buffers: dict[str, bytes]) -> dict[str, FileReport]:
        """The report of each open file of `buffers` (root-relative path → the editor's text). Raises
        ConfigError, RuleLoadError or UsageError, as `loadlint check` exits 2 for them."""
        if self._must_find(buffers):
            self._find(buffers)
        refreshed = not self._loaded
        if refreshed:
            self._load_results()
        # What the project phase saw of each file that changed, before it changed.
        before: dict[str, _Seen | None] = {}
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
        rules = None if refreshed or self._phase is None else self._rules_to_check(before, others)
        if rules is None or rules:
            self._project_phase(buffers, rules)
            self._phase_buffers = others
        return {path: self._report(path) for path in buffers}

    def notices(self) -> list[Notice]:
        """What the last `lint` could not do that concerns no file in particular."""
        phase = self._phase.all_notices() if self._phase is not None else []
        return sorted({n for n in [*self._notices, *phase] if n.path is None}, key=lambda n: n.sort_key)

    # settling and finding ------------------------------------------------------------------------------

    def _find(self, buffers: dict[str, bytes]) -> None:
        """Settle the config and rules, find the files, and index the packages."""
        self._stale, self._loaded = False, False  # a change on disk from now on is seen by the next lint
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
        self._cache_folder = cache_folder
        if cache_folder is None:
            self._cache = None
        elif self._cache is None or self._run_key != settled.run_key:
            self._cache = engine._open_cache(cache_folder, self.root, settled.plan)
        self._run_key = settled.run_key

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
        self._buffered.clear()  # every file is keyed by its text on disk
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
        if self._cache_folder is not None and len(wanted) >= engine.PARALLEL_MIN_FILES and self._fill_cache():
            self._cache = engine._open_cache(self._cache_folder, self.root, self._settled.plan)
        # In this process, one file after the other: worker processes are never forked from a server whose
        # other threads may hold locks a child would wait for forever (`_fill_cache` uses them instead).
        results = engine._analyze_all(wanted, self.root, self._settled.plan, self._base, 1, self.timeout, self._cache)
        for path, result in zip(wanted, results):
            rel = self._rel(path)
            key = keys[rel] or ("unreadable", "")
            self._entries[rel] = _Entry(key, result, _Seen.of(result))
        found = set(keys)
        for rel in [rel for rel in self._entries if rel not in found]:
            del self._entries[rel]
        if self._cache is not None:
            self._cache.save()
        self._loaded = True

    def _fill_cache(self) -> bool:
        """Analyse the project in worker processes, in a `loadlint check` of the root run as a subprocess, which
        fills the results cache with every file's result: many files load faster that way. Whether it ran."""
        if (self.jobs or os.cpu_count() or 1) < 2:
            return False
        command = [sys.executable, "-m", "linter", "check", str(self.root), "--format", "json", "--output", os.devnull]
        command += ["--exit-zero", "--timeout", f"{self.timeout or 0:g}"]
        if self.jobs is not None:
            command += ["--jobs", str(self.jobs)]
        located = find_config_file(self.config_start, self.root)
        if located is not None and located != find_config_file(self.root, self.root):
            command += ["--config", str(located[0])]
        code_folder = str(Path(linter.__file__).resolve().parent.parent)  # this very `linter`, installed or not
        python_path = os.pathsep.join(p for p in (code_folder, os.environ.get("PYTHONPATH")) if p)
        try:
            subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": python_path},
                check=True,
            )
        except (OSError, subprocess.SubprocessError):  # the analysis in this process says what is wrong
            return False
        return True

    def _disk_key(self, rel: str, path: Path, packages) -> tuple[str, str]:
        if self._cache is not None:
            content, around, _ = self._cache.file_key(rel, path, packages)
            return content, around
        return content_digest(path.read_bytes()).hex(), packages_digest(packages).hex()

    # an edit -------------------------------------------------------------------------------------------

    def _update(self, path: str, text: bytes, before: dict[str, _Seen | None]) -> None:
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
        before.setdefault(path, entry.seen if entry is not None else None)
        self._entries[path] = _Entry(key, result, _Seen.of(result))

    def _rules_to_check(self, before: dict[str, _Seen | None], others: dict[str, bytes]) -> set[str] | None:
        """The rules whose project check must run again now that the files of `before` changed and the project
        files' buffers are `others` (an empty set: none); None: every rule.

        A rule's check reads its own facts, its flow spec's summaries, the import graph, and the files it reads
        itself (the project files among them). So when a changed file's imports stay the same and no rule read
        it, only the rules whose facts or flows in it changed can find something else."""
        assert self._phase is not None and self._settled is not None
        if others != self._phase_buffers:
            return None
        rules: set[str] = set()
        for path, seen in before.items():
            affected = None if path in self._phase.read else self._entries[path].seen.rules_affected(seen, self._settled.plan.rules)
            if affected is None:
                return None
            rules |= affected
        return rules

    # the project phase ---------------------------------------------------------------------------------

    def _project_phase(self, buffers: dict[str, bytes], only: set[str] | None) -> None:
        """Run the project check of the rules `only` names (None: every rule) on the results in memory."""
        assert self._base is not None and self._settled is not None
        index = dataclasses.replace(
            self._base,
            specifiers={},
            facts=defaultdict(list),
            _flow_summaries=defaultdict(dict),
            notices=[],
            buffers=dict(buffers),
        )
        index.share_resolution(self._base)  # the same files, packages and aliases: resolved once per refresh
        for path in self._found.sources:
            entry = self._entries.get(self._rel(path))
            if entry is not None:
                result = entry.result
                index.add_file(result.path, result.references, result.facts, result.flows)
        phase = _Phase() if only is None or self._phase is None else self._phase
        for rule in self._settled.plan.rules:
            if only is not None and rule.id not in only:
                continue
            phase.findings[rule.id], phase.rule_notices[rule.id] = [], []
            deadline = Deadline(self.timeout)
            try:
                with deadline:
                    phase.findings[rule.id] = list(rule.check_project(index))
            except OutOfTime:
                message = f"the project-wide check of rule {rule.id} stopped after {deadline.elapsed():.1f} s"
                phase.rule_notices[rule.id].append(Notice(message=message))
            except Exception as error:  # one broken rule must not stop the others
                message = f"internal error in rule {rule.id}: {type(error).__name__}: {error}"
                phase.rule_notices[rule.id].append(Notice(message=message))
        if only is None:
            for directive in project_file_directives(index, self._settled.plan.known_ids):
                phase.directives[directive.path].append(directive)
        phase.notices = sorted({*phase.notices, *index.notices}, key=lambda n: n.sort_key)
        phase.read |= index.read_paths
        self._phase = phase

    # reports -------------------------------------------------------------------------------------------

    def _report(self, path: str, with_project: bool = True) -> FileReport:
        """`path`'s findings as `engine.run` reports them: per-file ignores, suppressions, levels. Without the
        project phase: the file's own findings only, and no unused suppression (the phase may use it)."""
        assert self._settled is not None
        if path not in self._reported:
            return FileReport(path)
        settled, config = self._settled, self._settled.config
        phase = self._phase if with_project and self._phase is not None else _Phase()
        entry = self._entries.get(path)
        findings = list(entry.result.findings) if entry is not None else []
        findings.extend(phase.findings_in(path))
        # Copies: marking a directive used must not carry over to the next report.
        directives = [dataclasses.replace(d) for d in (entry.result.directives if entry is not None else ())]
        directives.extend(dataclasses.replace(d) for d in phase.directives.get(path, ()))
        notices = [*(entry.result.notices if entry is not None else ()), *self._notices, *phase.all_notices()]
        notices = [notice for notice in notices if notice.path == path]
        deadline = Deadline(self.timeout)
        try:
            with deadline:
                findings = engine._apply_per_file_ignores(findings, config, self.root)
        except OutOfTime:
            notices.append(Notice(message="applying per-file-ignores ran out of time; nothing was ignored"))
        findings = apply_suppressions(findings, directives)
        enabled_ids = {rule.id for rule in settled.rules}
        produced = engine._directive_findings(directives, {path}, enabled_ids, self.root, settled.rules)
        findings.extend(f for f in produced if with_project or f.rule_id != UNUSED_ID)
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


__all__ = ["FileReport", "Project", "Workspace", "project_root"]
