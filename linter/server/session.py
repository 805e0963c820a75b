"""What `loadlint server` keeps warm between edits, and how it lints the buffers of an editor.

A `Project` is what `loadlint check ROOT` settles, finds and indexes (the same configs, the nearest above each
file, rules, discovery with .gitignore and `exclude`, and packages), kept alive: every file's result stays in
memory, keyed by what it was made from. `Project.lint(buffers)` brings it up to date with the open files' text
and returns each open file's report, as `loadlint check ROOT` would report that file if the buffers were saved.

- A buffer whose text changed is analysed from that text (`analyze_file(given=…)`, as `RunOptions.buffers`
  are); nothing else is analysed.
- The project phase (every rule's `check_project`) sees a file only through what `ProjectIndex.add_file`
  records of it (its imports, its rules' facts, its flow summaries) and through the files it reads on demand,
  and a rule instance reads only its own facts. So after an edit, only the rules whose facts or flows in the
  file changed check the project again; every rule does when the file's imports changed or a rule read the
  file.
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
from dataclasses import field
from pathlib import Path

from linter.lazy_dataclasses import dataclass
import linter
from linter import engine
from linter.analysis import FileResult, RulePlan, analyze_file
from linter.cache import ResultCache, content_digest, packages_digest, run_key, usable_cache_dir
from linter.config import DEFAULT_MAX_FILE_SIZE
from linter.config_tree import ConfigTree
from linter.deadline import Deadline, OutOfTime
from linter.discovery import Discovered, is_source
from linter.model import Finding, Level, Notice
from linter.project import RecordingIndex
from linter.registry import rule_class
from linter.rule import Rule
from linter.safe_read import ReadRefused, read_repository_file
from linter.setups import RuleSetup
from linter.suppression import UNUSED_ID, Directive, apply_suppressions, project_file_directives

# A rule instance (`Rule.instance`): its id and the instance; configs that give a rule other options make more.
RuleKey = tuple[str, str]


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
    facts: dict[RuleKey, tuple]  # by the rule instance that made them: it reads only its own facts (`facts_of`)
    flows: dict[tuple[str, str], str]  # by flow spec and rule instance: the summary, as data

    @classmethod
    def of(cls, result: FileResult) -> "_Seen":
        facts: dict[RuleKey, list] = defaultdict(list)
        for fact in result.facts:
            facts[(fact.rule_id, fact.instance)].append(fact)
        return cls(
            tuple(reference.specifier for reference in result.references),
            {key: tuple(found) for key, found in facts.items()},
            {(summary.spec, summary.instance): repr(summary.to_data()) for summary in result.flows},
        )

    def rules_affected(self, other: "_Seen | None", rules: list[Rule]) -> set[RuleKey] | None:
        """The rules whose project check can find something else now that a file shows `self` instead of
        `other`; None: every rule (its imports changed, so the module graph did)."""
        if other is None or other.specifiers != self.specifiers:
            return None
        facts = {r for r in {*self.facts, *other.facts} if self.facts.get(r) != other.facts.get(r)}
        flows = {s for s in {*self.flows, *other.flows} if self.flows.get(s) != other.flows.get(s)}
        return {
            _key(rule)
            for rule in rules
            if _key(rule) in facts or (rule.flow_spec is not None and (rule.flow_spec.name, rule.instance) in flows)
        }


def _key(rule: Rule) -> RuleKey:
    return (rule.id, rule.instance)


@dataclass
class _Entry:
    key: tuple[str, str]  # digests of the text analysed, and of the packages around the file with its rules
    result: FileResult
    seen: _Seen


@dataclass
class _Settled:
    """What a run on the root settles before it analyses any file, once it has found them."""

    configs: ConfigTree
    setup_by_path: dict[str, RuleSetup]  # the rules each found file's own config enables
    plan: RulePlan
    rules: list[Rule]  # every enabled rule instance, the suppression rules included
    run_key: str


@dataclass
class _Phase:
    """The project phase's outcome: each rule's findings and notices, the directives of the project files, and
    the files the rules read on demand."""

    findings: dict[RuleKey, list[Finding]] = field(default_factory=dict)  # by rule instance
    rule_notices: dict[RuleKey, list[Notice]] = field(default_factory=dict)  # by rule instance
    directives: dict[str, list[Directive]] = field(default_factory=lambda: defaultdict(list))  # by path
    notices: list[Notice] = field(default_factory=list)  # problems reading files
    # The files each rule read on demand (None: the directives of the project files).
    read_by: dict[RuleKey | None, frozenset[str]] = field(default_factory=dict)

    def findings_in(self, path: str) -> list[Finding]:
        return [finding for found in self.findings.values() for finding in found if finding.path == path]

    def all_notices(self) -> list[Notice]:
        return [*self.notices, *(notice for notices in self.rule_notices.values() for notice in notices)]


class _Index(RecordingIndex):
    """The project index of one phase: records every file each rule reads (a buffer's text is what they read).

    Each rule's check starts from an empty memo (`reading_for`), so that what one rule built from a file cannot
    hide from another that it reads the file too; parses are still made once per phase (`parsed_file`), and a
    file whose text did not change since an earlier phase parsed it is that parse again (`keep_parses`), with
    what helpers kept of it alone (`FileContext.lasting`)."""

    def keep_parses(self, earlier: dict, on_disk: dict) -> None:
        """Hand out the parses of `earlier` (path → FileContext, from earlier phases) for files whose text is
        the same; this phase's parses are added to it. The text of a source file that is no buffer is read from
        disk once for every phase until the project is found again (`on_disk`: path → its text or None), as
        its result is: a change on disk makes the project stale."""
        self.__dict__["_earlier_parses"] = earlier
        self.__dict__["_on_disk"] = on_disk

    def keep_lasting(self, store: dict) -> None:
        """Keep what `lasting` computes in `store` (from one phase to the next), and take what it holds."""
        self.__dict__["_text_lasting"] = store

    def lasting(self, path: str, text: bytes, key: object, compute):
        store = self.__dict__.setdefault("_text_lasting", {})
        held = store.get((path, key))
        if held is None or (held[0] is not text and held[0] != text):
            held = (text, compute())
            store[(path, key)] = held
        return held[1]

    def read_js_source(self, path: str, keep: bool = True) -> bytes | None:
        on_disk = self.__dict__.get("_on_disk")
        if on_disk is None or path in self.given:
            return super().read_js_source(path, keep)
        self._note_read(path)
        if path not in on_disk:
            on_disk[path] = super().read_js_source(path)
        return on_disk[path]

    def parsed_file(self, path: str, keep: bool = True):  # the server keeps every parse for its next phases
        parsed = self.__dict__.setdefault("_parsed", {})
        if path in parsed:
            self._note_read(path)
            return parsed[path]
        earlier = self.__dict__.get("_earlier_parses", {})
        file = earlier.get(path)
        if file is not None and file.source == self.read_js_source(path):
            file.renew()
        else:
            file = super().parsed_file(path)
            if file is not None:
                earlier[path] = file
            else:
                earlier.pop(path, None)
        parsed[path] = file
        return file



def project_root(path: Path) -> tuple[Path, bool]:
    """The root `loadlint check` would use for `path`, and whether it is a project (else a loose file's folder)."""
    root = engine.find_root(path.parent)
    return root, (root / ".git").exists() or (root / "package.json").is_file()


class Project:
    """One root: each file is judged by the config nearest it, as `loadlint check ROOT` judges it."""

    def __init__(self, root: Path, is_project: bool = True, jobs: int | None = None) -> None:
        self.root = root
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
        self._phase_index: _Index | None = None  # the index the last phase ran on
        self._parses: dict = {}  # path -> the FileContext the project phases parsed, for its text
        self._on_disk: dict[str, bytes | None] = {}  # path -> the text of a source file as the phases read it on disk
        self._lasting: dict = {}  # what the project phases computed from one file's text (`ProjectIndex.lasting`)
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
        limit = self._base.max_file_size if self._base is not None else DEFAULT_MAX_FILE_SIZE
        for path in sorted(self._buffered - set(buffers)):  # closed: its text is the file's again
            self._buffered.discard(path)
            try:
                text = read_repository_file(self.root / path, self.root, limit)
            except (OSError, ReadRefused):
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
        """Settle the configs and rules, find the files, and index the packages, as `engine.run` does for a run
        on the root."""
        self._stale, self._loaded = False, False  # a change on disk from now on is seen by the next lint
        options = engine.RunOptions(paths=[self.root], file_timeout=self.timeout)
        configs = ConfigTree(self.root)
        config = configs.for_folder("")
        setups, known_ids, untrusted = engine._rule_setups(options, config, self.root)
        cache_folder, cache_problem = usable_cache_dir()
        notices = [untrusted] if untrusted is not None else []
        notices.extend(engine._nested_rules_dirs(configs, config))
        if cache_problem is not None:
            notices.append(Notice(message=cache_problem, level=Level.NOTE))
        if self.is_project:
            found, reported, stopped = engine._select_in_time(self.root, [self.root], configs, options, cache_folder)
            if stopped is not None:
                notices.append(stopped)
        else:  # a loose file: lint the open files of its folder, never walk it
            found = Discovered(sources=sorted(self.root / p for p in buffers if is_source(Path(p))))
            reported = {self._rel(p) for p in found.sources}
        setup_by_path = engine._setups_by_path(setups, configs, found, self.root)
        plan = engine._plan(setups, known_ids)
        settled = _Settled(configs, setup_by_path, plan, setups.instances(), run_key(plan.rules, plan.known_ids))
        if self._settled is None or settled.run_key != self._settled.run_key:
            self._entries.clear()
        self._settled = settled
        notices.extend(found.notices)
        self._found, self._reported, self._notices = found, reported, notices
        # The packages around a file may have changed, and so may the files on disk.
        self._parses, self._lasting, self._on_disk, self._phase_index = {}, {}, {}, None
        self._sources = {self._rel(path) for path in found.sources}
        max_file_size = max(c.max_file_size for c in configs.configs())
        self._base = _Index.build(self.root, found, reported, notices, max_file_size)
        self._cache_folder = cache_folder
        if cache_folder is None:
            self._cache = None
        elif self._cache is None or self._run_key != settled.run_key:
            self._cache = engine._open_cache(cache_folder, self.root, plan)
        self._run_key = settled.run_key

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
                key = self._disk_key(rel, path, packages, self._settled.setup_by_path[rel])
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
        settled = self._settled
        results = engine._analyze_all(
            wanted, self.root, settled.plan, self._base, settled.setup_by_path, 1, self.timeout, self._cache
        )
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

    def _disk_key(self, rel: str, path: Path, packages, setup: RuleSetup) -> tuple[str, str]:
        if self._cache is not None:
            content, around, _ = self._cache.file_key(rel, path, packages, setup.key)
            return content, around
        return content_digest(path.read_bytes()).hex(), _around(packages, setup)

    # an edit -------------------------------------------------------------------------------------------

    def _update(self, path: str, text: bytes, before: dict[str, _Seen | None]) -> None:
        """Analyse `path` from `text` unless its result was made from that text; `before` records what the
        project phase saw of the file until now."""
        assert self._base is not None and self._settled is not None
        self._on_disk.pop(path, None)  # opened, or closed after a save: read it again from disk when it is closed
        packages = self._base.packages_around(path)
        setup = self._settled.setup_by_path[path]
        key = (content_digest(text).hex(), _around(packages, setup))
        entry = self._entries.get(path)
        if entry is not None and entry.key == key:
            return
        reported = path in self._reported
        result = analyze_file(
            self.root / path, path, self._settled.plan, packages, reported, self.timeout, given=text, own=setup.own
        )
        before.setdefault(path, entry.seen if entry is not None else None)
        self._entries[path] = _Entry(key, result, _Seen.of(result))

    def _rules_to_check(self, before: dict[str, _Seen | None], others: dict[str, bytes]) -> set[RuleKey] | None:
        """The rules whose project check must run again now that the files of `before` changed and the project
        files' buffers are `others` (an empty set: none); None: every rule.

        A rule's check reads its own facts, its flow spec's summaries, the import graph, and the files it reads
        itself (the project files among them). So when a changed file's imports stay the same and no rule read
        it, only the rules whose facts or flows in it changed can find something else."""
        assert self._phase is not None and self._settled is not None
        if others != self._phase_buffers:
            return None
        rules: set[RuleKey] = set()
        for path, seen in before.items():
            affected = self._entries[path].seen.rules_affected(seen, self._settled.plan.rules)
            if affected is None or path in self._phase.read_by.get(None, ()):
                return None
            rules |= affected | {key for key, read in self._phase.read_by.items() if path in read}
        return rules

    # the project phase ---------------------------------------------------------------------------------

    def _project_phase(self, buffers: dict[str, bytes], only: set[RuleKey] | None) -> None:
        """Run the project check of the rule instances `only` names (None: every rule) on the results in memory,
        as `engine.run` runs them."""
        assert self._base is not None and self._settled is not None
        setup_by_path = self._settled.setup_by_path
        index = dataclasses.replace(
            self._base,
            specifiers={},
            facts=defaultdict(list),
            _flow_summaries=defaultdict(dict),
            notices=[],
            given=dict(buffers),
        )
        index.share_resolution(self._base)  # the same files, packages and aliases: resolved once per refresh
        for path in self._base.files:  # the found sources, relative to the root
            entry = self._entries.get(path)
            if entry is not None:
                result = entry.result
                index.add_file(result.path, result.references, result.facts, result.flows)
        last = self._phase_index
        if only is not None and last is not None and last.specifiers == index.specifiers:
            index.share_import_graph(last)  # no import changed: nor did what was computed from them
        index.keep_parses(self._parses, self._on_disk)
        index.keep_lasting(self._lasting)
        self._phase_index = index
        phase = _Phase() if only is None or self._phase is None else self._phase
        for rule in self._settled.plan.rules:
            key = _key(rule)
            if only is not None and key not in only:
                continue
            phase.findings[key], phase.rule_notices[key] = [], []
            deadline = Deadline(self.timeout)
            index.instance = rule.instance
            index.reading_for(key)
            try:
                with deadline:
                    # A finding belongs to the instance of the rule the config of its file enables.
                    found = rule.check_project(index)
                    phase.findings[key] = [f for f in found if f.path in setup_by_path and key in setup_by_path[f.path].own]
            except OutOfTime:
                message = f"the project-wide check of rule {rule.id} stopped after {deadline.elapsed():.1f} s"
                phase.rule_notices[key].append(Notice(message=message))
            except Exception as error:  # one broken rule must not stop the others
                message = f"internal error in rule {rule.id}: {type(error).__name__}: {error}"
                phase.rule_notices[key].append(Notice(message=message))
            finally:
                index.instance = ""
                phase.read_by[key] = index.files_read_by(key)
        if only is None:
            index.reading_for(None)
            for directive in project_file_directives(index, self._settled.plan.known_ids):
                phase.directives[directive.path].append(directive)
            phase.read_by[None] = index.files_read_by(None)
        phase.notices = sorted({*phase.notices, *index.notices}, key=lambda n: n.sort_key)
        self._phase = phase

    # reports -------------------------------------------------------------------------------------------

    def _report(self, path: str, with_project: bool = True) -> FileReport:
        """`path`'s findings as `engine.run` reports them: per-file ignores, suppressions, levels. Without the
        project phase: the file's own findings only, and no unused suppression (the phase may use it)."""
        assert self._settled is not None
        if path not in self._reported:
            return FileReport(path)
        settled = self._settled
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
                findings = engine._apply_per_file_ignores(findings, settled.configs, self.root)
        except OutOfTime:
            notices.append(Notice(message="applying per-file-ignores ran out of time; nothing was ignored"))
        findings = apply_suppressions(findings, directives)
        produced = engine._directive_findings(directives, {path}, settled.setup_by_path)
        findings.extend(f for f in produced if with_project or f.rule_id != UNUSED_ID)
        setup = settled.setup_by_path[path]
        findings = [f.model_copy(update={"level": setup.level_of(f.rule_id, f.level)}) for f in findings]
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
        return next((rule_class(rule).docs() for rule in rules if rule.id == rule_id), "")

    def _rel(self, path: Path) -> str:
        return engine._rel(path, self.root)


def _around(packages, setup: RuleSetup) -> str:
    """What a file's result depends on besides its text, as the results cache writes it (`file_key`)."""
    return f"{packages_digest(packages).hex()}:{setup.key}"


class Workspace:
    """The projects of the files an editor opened, one per root."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs
        self._projects: dict[Path, Project] = {}
        self._lock = threading.Lock()  # projects are added by the linting thread, listed by the server's

    def project_for(self, path: Path) -> Project:
        """The project that reports `path`: the one of its root."""
        root, is_project = project_root(Path(os.path.abspath(path)))
        with self._lock:
            if root not in self._projects:
                self._projects[root] = Project(root, is_project, self.jobs)
            return self._projects[root]

    def projects(self) -> list[Project]:
        with self._lock:
            return list(self._projects.values())


__all__ = ["FileReport", "Project", "Workspace", "project_root"]
