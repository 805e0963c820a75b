"""One run of loadlint: settle the root and config, discover, analyse every file, index, check, report."""

from __future__ import annotations

import codecs
import gc
import os
import threading
from collections.abc import Iterator
from dataclasses import field
from pathlib import Path

from linter import __version__
from linter.analysis import FileResult, RulePlan, analyze_file, decode_source
from linter.cache import Deferred, ResultCache, results_kept_for, run_key, usable_cache_dir
from linter.config import Config, ConfigError, check_selectors, load_config, matches_selector
from linter.config_tree import ConfigTree
from linter.deadline import Deadline, OutOfTime
from linter.discovery import Discovered
from linter.fingerprint import line_hashes
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Location, Notice, Report, RuleInfo, SourceText
from linter.processes import run_forked_while, stop_workers, worker_started
from linter.on_demand import OnDemand, checks_that_may_report
from linter.project import DemandIndex, ProjectIndex
from linter.project_cache import RecordingIndex, run_project_checks
from linter.registry import (
    RuleLoadError,
    builtin_rules,
    default_level,
    lazy_builtin_rules,
    load_rules_dir,
    rule_info,
)
from linter.roots import find_root
from linter.rule import Rule
from linter.safe_read import read_found_file
from linter.selection import config_prefix, in_targets as _in_targets, rel_path as _rel, select_files
from linter.setups import NoRuleEnabled, RuleSetup, RuleSetups
from linter.suppression import INVALID_ID, UNUSED_ID, Directive, apply_suppressions, project_file_directives
from linter.syntax import LANGUAGES

PARALLEL_MIN_FILES = 64
# Queries compiled together save about 6 ms (five on TypeScript), and cost about 0.3 ms a file: each group's
# cursor runs over the others' patterns too. Beyond this many files, they are compiled apart.
COMPILE_TOGETHER_MAX_FILES = 16
CHUNK_MIN_FILES = 8  # the fewest files a worker is sent at once (each batch costs a round trip)
# Seconds each step may take (one file's parse and rules, finding the files, one rule's project-wide check)
# before it is stopped with a notice. It exists so that one pathological input cannot stall CI, and is set
# far above what real input needs, so that whether a file is linted does not depend on the machine's load: of
# 31,000 files of 40 open-source apps the slowest takes 0.5 s (a 520 kB bundle), a 2 MB bundle (the size
# limit) 2.3 s, a typical file well under 0.1 s.
DEFAULT_FILE_TIMEOUT = 60.0
# Without a cache, a file the run does not report is analysed only when a project-wide check asks for what it
# holds (`OnDemand`); False: every file is analysed first (what a run reports is the same).
ANALYSE_ON_DEMAND = True
MAX_FILE_TIMEOUT = 86_400.0  # a day, far below where the interval timer overflows (1e10 s on Linux); 0: no limit


class UsageError(Exception):
    """A problem with what the user asked for (a missing path, a bad flag value): exit 2."""


@dataclass(frozen=True)
class StdinSource:
    """Text read from stdin, linted as the file `path` of its project (`--stdin-filename`): a run on that file
    with `raw` as its one buffer (`RunOptions.buffers`), whose report shows the text."""

    path: Path
    raw: bytes


@dataclass
class RunOptions:
    paths: list[Path] = field(default_factory=lambda: [Path(".")])
    select: list[str] | None = None
    ignore: list[str] | None = None
    extend_ignore: list[str] = field(default_factory=list)
    fail_on: Level | None = None
    rules_dir: Path | None = None
    trust_config_rules: bool = False  # load the config's `rules-dir` (Python code from the linted tree)
    config_file: Path | None = None
    jobs: int | None = None
    category: str | None = None
    file_timeout: float | None = DEFAULT_FILE_TIMEOUT  # None or 0: no limit
    use_cache: bool = True  # per-file results in $XDG_CACHE_HOME/loadlint (linter.cache)
    fresh_fixes: bool = False  # the fixes will be applied or printed: files with fixes are analysed, never cached
    # Text that stands in for files (an editor's unsaved buffers), by path: a file is analysed from it, read
    # from it by the project phase and fingerprinted from it, and never cached, whatever the disk holds there. It
    # is linted only where the run would lint the file (discovery, `exclude`, .gitignore, max-file-size on the
    # text's size); a file named in `paths` is linted from its text even when it does not exist on disk.
    buffers: dict[Path, bytes] = field(default_factory=dict)
    stdin: StdinSource | None = None  # lint this text as its file, alone (`paths` is ignored); never cached
    fingerprints: bool = True  # each finding's `primaryLocationLineHash` (False: the report's format shows none)


@dataclass
class RunResult:
    report: Report
    config: Config
    fail_on: Level
    incomplete: bool


def run(options: RunOptions) -> RunResult:
    _check_options(options)
    buffers = _buffers(options)
    targets = _resolve_targets(options.paths if options.stdin is None else [options.stdin.path], buffers)
    common = Path(os.path.commonpath([t if t.is_dir() else t.parent for t in targets]))
    root = find_root(common)
    configs = ConfigTree(root, _named_config(options))
    # The run's own config (fail-on, rules-dir, baseline): the one nearest the paths given.
    config = configs.for_folder(_rel(common, root))
    setups, known_ids, untrusted = _rule_setups(options, config, root)

    cache_folder, cache_problem = usable_cache_dir() if options.use_cache else (None, None)
    found, reported, stopped, warmed = _select_while_warming(
        root, targets, configs, options, cache_folder, buffers, setups, known_ids
    )
    given = _given_texts(buffers, root, found)
    setup_by_path = _setups_by_path(setups, configs, found, root)
    plan = _plan(setups, known_ids, warmed)

    notices = list(found.notices) + ([untrusted] if untrusted is not None else [])
    notices.extend(_nested_rules_dirs(configs, config))
    if cache_problem is not None:
        notices.append(Notice(message=cache_problem, level=Level.NOTE))
    incomplete = stopped is not None
    if stopped is not None:
        notices.append(stopped)
    elif not _lints_anything(found, reported, targets, root):
        notices.append(Notice(message="nothing to lint: no JavaScript or TypeScript files under the given paths"))
    max_file_size = max(c.max_file_size for c in configs.configs())
    cache = _open_cache(cache_folder, root, plan) if cache_folder is not None and stopped is None else None
    if cache is not None:
        cache.describe_rules(setups.instances())
    # With a cache, each project-wide check's outcome is kept with what it read (linter.project_cache); without
    # one, a file the run does not report is analysed only when a project-wide check asks for what it holds.
    if cache is not None:
        index_class = RecordingIndex if not given else ProjectIndex
    else:
        index_class = DemandIndex if ANALYSE_ON_DEMAND else ProjectIndex
    project = index_class.build(root, found, reported, notices, max_file_size)
    project.given = given
    sources = found.sources
    if index_class is DemandIndex:
        sources = [path for path, rel in zip(found.sources, project.files) if rel in reported]
        unreported = [(path, rel) for path, rel in zip(found.sources, project.files) if rel not in reported]
    results = _analyze_all(
        sources, root, plan, project, setup_by_path, options.jobs, options.file_timeout, cache, options.fresh_fixes,
        given, lazy=index_class is RecordingIndex, stats=found.stats, sizes=found.sizes,
    )
    if cache is not None:
        cache.forget_missing(root, {result.path for result in results})
    findings: list[Finding] = []
    directives: list[Directive] = []
    shown = [_shown(result) for result in results]
    for result in shown:
        if result is None:  # a file not reported: only the project phase reads it
            continue
        findings.extend(result.findings)
        directives.extend(result.directives)
        notices.extend(result.notices)
        incomplete |= result.incomplete

    def analyse_again(paths: list[str]) -> dict[str, FileResult]:
        timeout = options.file_timeout
        work = [(root / p, p, project.packages_around(p), False, timeout, None, setup_by_path[p].own) for p in paths]
        return {result.path: result for result in _analyze_uncached(work, plan, options.jobs)}

    checks = plan.rules
    processes = _processes(options.jobs) if len(project.files) >= PARALLEL_MIN_FILES else 1
    if isinstance(project, DemandIndex):
        analyse = lambda work, plan: _analyze_uncached(work, plan, options.jobs, found.sizes)  # noqa: E731
        on_demand = OnDemand(project, plan, unreported, setup_by_path, analyse, options.file_timeout, given)
        project.supply(on_demand)
        for result in results:
            project.add_result(result)  # with every rule
        checks = checks_that_may_report(plan.rules, results, project, on_demand)
        if unreported:
            processes = 1  # the files the checks ask for are analysed in `jobs` processes, each once
    project_findings, failed = run_project_checks(
        project, checks, results, cache, options.file_timeout, setup_by_path, analyse_again, not options.fresh_fixes,
        processes,
    )
    findings.extend(project_findings)
    incomplete |= failed
    if isinstance(project, DemandIndex):
        incomplete |= project.demanded_incomplete()
    # Before the cache is saved: it records what the report needs of the rules (for runs that import none).
    rules_shown = _report_rules(setups.of(config), [setup_by_path[path] for path in reported])
    if cache is not None:
        cache.note_rules(setups.instances())
        cache.save()
        cache.close()
    directives.extend(project_file_directives(project, plan.known_ids))

    deadline = Deadline(options.file_timeout)
    try:
        with deadline:
            findings = _apply_per_file_ignores(findings, configs, root)
    except OutOfTime:  # the patterns come from the scanned repository's config
        incomplete = True
        message = f"applying per-file-ignores {_stopped_after(deadline, options.file_timeout)}; nothing was ignored"
        notices.append(Notice(message=message))
    findings = apply_suppressions([f for f in findings if f.path in reported], directives)
    findings.extend(_directive_findings(directives, reported, setup_by_path))
    # A finding keeps its own level (a rule may report some sites as warnings) unless its file's config sets the rule's.
    findings = [f.model_copy(update={"level": setup_by_path[f.path].level_of(f.rule_id, f.level)}) for f in findings]
    if options.fingerprints:
        findings = _with_fingerprints(findings, root, given)
    notices = [n for n in notices if n.path is None or _in_targets(root / n.path, targets)]

    report = Report(
        root=str(root),
        tool_version=__version__,
        rules=rules_shown,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        notices=tuple(sorted(set(notices), key=lambda n: n.sort_key)),
        files_checked=len(({r.path for r in shown if r is not None and r.parsed} | project.read_paths()) & reported),
        category=options.category,
        incomplete=incomplete,
        stdin=_stdin_text(given, _rel(targets[0], root)) if options.stdin is not None else None,
    )
    fail_on = options.fail_on or config.fail_on
    return RunResult(report=report, config=config, fail_on=fail_on, incomplete=incomplete)


def _shown(result: FileResult | Deferred) -> FileResult | None:
    """What the report shows of a file's result: its findings, notices and directives (None: not reported)."""
    return result.shown if isinstance(result, Deferred) else result


def _rule_setups(options: RunOptions, config: Config, root: Path) -> tuple[RuleSetups, frozenset[str], Notice | None]:
    """What each config makes of the rules the run knows (the built-in ones and those of the rules folder the
    run's own `config` may name), the ids of those rules, and the notice that `config`'s rules-dir is ignored."""
    rules_folder, untrusted = _rules_folder(options, config, root)
    rule_classes = all_rules(rules_folder, lazy=True)
    rule_ids = [cls.id for cls in rule_classes]
    check_selectors(options.select or [], rule_ids, "--select")  # flags are checked like the config file
    check_selectors(options.ignore or [], rule_ids, "--ignore")
    setups = RuleSetups(
        rule_classes, options.select, options.ignore, options.extend_ignore, _unknown_rule_explained(config, untrusted)
    )
    _setup_of(setups, config)
    return setups, frozenset(rule_ids), untrusted


def _setups_by_path(setups: RuleSetups, configs: ConfigTree, found: Discovered, root: Path) -> dict[str, RuleSetup]:
    """The rules of every file read: its own config's (a file not reported still has its config checked)."""
    setup_by_path = {}
    setup_of_folder: dict[str, RuleSetup] = {}  # the files of a folder share its config
    for path in (*found.sources, *found.project_files, *found.manifests):
        rel = _rel(path, root)
        folder = rel.rpartition("/")[0]  # its dirname: `rel` is a normalised relative path
        setup = setup_of_folder.get(folder)
        if setup is None:
            setup = setup_of_folder[folder] = _setup_of(setups, configs.for_folder(folder))
        setup_by_path[rel] = setup
    return setup_by_path


def _plan(setups: RuleSetups, known_ids: frozenset[str], warmed: RulePlan | None = None) -> RulePlan:
    """The plan of every rule instance some config enables (after `setups` made the setup of every file):
    `warmed` (made before every config was read, see `_select_while_warming`) when it holds the same rules."""
    rules = [r for r in setups.instances() if r.id not in (INVALID_ID, UNUSED_ID)]
    same = warmed is not None and len(warmed.rules) == len(rules) and all(a is b for a, b in zip(warmed.rules, rules))
    plan = warmed if same else RulePlan(rules, known_ids, trusted=frozenset(rule.id for rule in lazy_builtin_rules()))
    _validate(plan)
    return plan


def _lints_anything(found: Discovered, reported: set[str], targets: list[Path], root: Path) -> bool:
    """Whether the paths given hold a source file, or name a file loadlint reads (a hook passing a schema)."""
    named = {_rel(target, root) for target in targets if not target.is_dir()}
    return bool(named & reported) or any(_in_targets(path, targets) for path in found.sources)


def _setup_of(setups: RuleSetups, config: Config) -> RuleSetup:
    try:
        return setups.of(config)
    except NoRuleEnabled as error:
        raise UsageError(str(error)) from None


def _unknown_rule_explained(run_config: Config, untrusted: Notice | None):
    """How a config error about a rule id reads: a config whose rules-dir was not loaded says so."""

    def explained(config: Config, error: ConfigError) -> ConfigError:
        if config is run_config and untrusted is not None:
            return ConfigError(f"{error} (its rules-dir is loaded only with --trust-config-rules)")
        if config is not run_config and config.rules_dir is not None:
            return ConfigError(f"{error} (the rules-dir of a config below the linted folder is never loaded)")
        return error

    return explained


def _nested_rules_dirs(configs: ConfigTree, run_config: Config) -> list[Notice]:
    """A config below the folder the run was given cannot add rules: only the run's own config names the
    rules folder, and only with --trust-config-rules."""
    ignored = (
        f"key 'rules-dir' ignored: rules come only from --rules-dir, or from the config nearest the linted paths "
        f"({run_config.source or 'none'}) with --trust-config-rules"
    )
    return [
        Notice(message=f"{config.source}: {ignored}")
        for config in configs.configs()
        if config is not run_config and config.rules_dir is not None
    ]


def _report_rules(run_setup: RuleSetup, reported: list[RuleSetup]) -> tuple[RuleInfo, ...]:
    """The rules that ran on the reported files, at the level the run's config gives them."""
    setups = {id(setup): setup for setup in (run_setup, *reported)}.values()
    rules = {rule.id: rule for setup in setups for rule in setup.rules}
    return tuple(rule_info(rules[rule_id], run_setup.level_of(rule_id, default_level(rules[rule_id]))) for rule_id in sorted(rules))


def _check_options(options: RunOptions) -> None:
    if options.select == []:  # `--select ''`: a run that checks nothing would pass
        raise UsageError("--select names no rule; leave it out to run every rule")
    seconds = options.file_timeout
    if seconds is not None and not 0 <= seconds <= MAX_FILE_TIMEOUT:  # NaN fails every comparison
        raise UsageError(f"--timeout must be from 0 (no limit) to {MAX_FILE_TIMEOUT:.0f} seconds, not {seconds!r}")


def _buffers(options: RunOptions) -> dict[Path, bytes]:
    """The text given for each file (the buffers, or the text read from stdin), by the file's absolute path."""
    if options.stdin is not None:
        if not options.stdin.path.absolute().parent.is_dir():
            raise UsageError(f"--stdin-filename: the folder {options.stdin.path.parent} does not exist")
        return {_given_path(options.stdin.path): options.stdin.raw}
    # A buffer in a folder that does not exist stands for no file a run could find.
    return {_given_path(path): raw for path, raw in options.buffers.items() if path.absolute().parent.is_dir()}


def _given_path(path: Path) -> Path:
    """The absolute path of a file whose text is given (its folder resolved; the file need not exist)."""
    target = path.absolute()
    return target.parent.resolve() / target.name


def _given_texts(buffers: dict[Path, bytes], root: Path, found: Discovered) -> dict[str, bytes]:
    """The text given for each file still to be linted (its config's `exclude` and `max-file-size` let it
    through; else a notice says why not), by its path relative to the root."""
    readable = {*found.sources, *found.project_files, *found.manifests}
    return {_rel(path, root): raw for path, raw in buffers.items() if path in readable}


def _stdin_text(given: dict[str, bytes], path: str) -> SourceText | None:
    raw = given.get(path)
    source = decode_source(raw)[0] if raw is not None else None
    return SourceText(path=path, text=source.decode("utf-8")) if source is not None else None


def _resolve_targets(paths: list[Path], buffers: dict[Path, bytes]) -> list[Path]:
    targets = []
    for path in paths or [Path(".")]:
        if buffers and path.absolute().parent.is_dir() and _given_path(path) in buffers:
            targets.append(_given_path(path))  # linted from its text, on disk or not
            continue
        if not path.exists():
            raise UsageError(f"path does not exist: {path}")
        targets.append(path.resolve())
    return sorted(set(targets))


def _named_config(options: RunOptions) -> Config | None:
    """The config named with --config: it applies to every file, and no other is read."""
    if options.config_file is None:
        return None
    path = options.config_file
    kind = "package.json" if path.name == "package.json" else "toml"
    return load_config(path, kind, display=str(path))


def _rules_folder(options: RunOptions, config: Config, root: Path) -> tuple[Path | None, Notice | None]:
    """The folder of custom rules the person running loadlint chose, and the notice that the config's own
    `rules-dir` is ignored (when it is). A rules folder is Python code: the config comes from the linted
    tree, perhaps a stranger's pull request, so its folder is loaded only with --trust-config-rules."""
    if options.rules_dir is not None or config.rules_dir is None:
        return options.rules_dir, None
    if options.trust_config_rules:
        return (config.base_dir or root) / config.rules_dir, None
    ignored = "key 'rules-dir' ignored: rules from a config file are loaded only with --trust-config-rules"
    return None, Notice(message=f"{config.source}: {ignored}")


def known_rules(options: RunOptions, start: Path) -> tuple[tuple[type[Rule], ...], Config, Notice | None]:
    """What `loadlint rules` and `explain` show from `start`: every rule a check there would know (the built-in
    ones and those of the chosen rules folder), the config that applies there (its `levels`), and the notice
    that the config's `rules-dir` is ignored, when it is."""
    start = start.resolve()
    root = find_root(start)
    config = ConfigTree(root, _named_config(options)).for_folder(_rel(start, root))
    folder, untrusted = _rules_folder(options, config, root)
    return all_rules(folder), config, untrusted


def all_rules(folder: Path | None, lazy: bool = False) -> tuple[type[Rule], ...]:
    """The built-in rules and those of `folder` (a rules folder someone chose), sorted by id; with `lazy`, the
    built-in ones as `LazyRule`s, imported only when the run builds them."""
    rules = lazy_builtin_rules() if lazy else builtin_rules()
    if folder is None:
        return rules
    extra = load_rules_dir(folder)
    clash = {r.id for r in extra} & {r.id for r in rules}
    if clash:
        raise RuleLoadError(f"{folder}: rule id {sorted(clash)[0]} is already a built-in rule")
    return tuple(sorted(rules + extra, key=lambda r: r.id))


def _select_in_time(
    root: Path,
    targets: list[Path],
    configs: ConfigTree,
    options: RunOptions,
    cache_folder: Path | None,
    buffers: dict[Path, bytes] | None = None,
):
    """The files to read and the paths to report, and None; out of time, nothing found and a notice. Matching a
    path against a pattern of a .gitignore or of `exclude` can take minutes (`**/a*/**/a*/…/z`)."""
    deadline = Deadline(options.file_timeout)
    try:
        with deadline:
            given = {path: len(raw) for path, raw in (buffers or {}).items()}
            selection = select_files(root, targets, configs, cache_folder, given)
            return selection.found, selection.reported, None
    except OutOfTime as stop:
        stopped_after = _stopped_after(deadline, options.file_timeout, stop.doing or "walking the folders")
        message = f"finding the files {stopped_after}; nothing was linted (raise --timeout for a repository that large)"
        return Discovered(), set(), Notice(message=message)


def _select_while_warming(
    root: Path,
    targets: list[Path],
    configs: ConfigTree,
    options: RunOptions,
    cache_folder: Path | None,
    buffers: dict[Path, bytes],
    setups: RuleSetups,
    known_ids: frozenset[str],
) -> tuple[Discovered, set[str], Notice | None, RulePlan | None]:
    """What `_select_in_time` finds, and the plan of the rules known so far when it was made meanwhile.

    A run in several processes that will analyse every file finds them in a forked child (walking a large
    repository takes a quarter of a second) while this process gets ready to analyse them: it imports the
    rules and compiles their queries, which the worker processes it forks later inherit, instead of each
    worker doing so once it has work. The child hands back the files and the configs it read."""
    if not _selects_beside(options, buffers, root, cache_folder):
        return (*_select_in_time(root, targets, configs, options, cache_folder, buffers), None)
    plan = RulePlan(
        [r for r in setups.instances() if r.id not in (INVALID_ID, UNUSED_ID)],
        known_ids,
        trusted=frozenset(rule.id for rule in lazy_builtin_rules()),
    )
    known = len(configs.configs())

    def select() -> tuple:
        return (*_select_in_time(root, targets, configs, options, cache_folder, buffers), configs.state())

    answered, answer = run_forked_while(select, _warming_steps(plan))
    if not answered:  # the child failed: find the files here, meeting the same error if there is one
        return (*_select_in_time(root, targets, configs, options, cache_folder, buffers), plan)
    found, reported, stopped, state = answer
    configs.take_state(state, known)
    return found, reported, stopped, plan


def _selects_beside(options: RunOptions, buffers: dict[Path, bytes], root: Path, cache_folder: Path | None) -> bool:
    """Whether the files are found in a forked child (`_select_while_warming`): in a run in several processes,
    on the disk's files alone, when no results are kept for the root (otherwise few files may need analysing)."""
    if _processes(options.jobs) <= 1 or buffers or not hasattr(os, "fork"):
        return False
    if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
        return False  # a server's run: forking a process with threads can copy a lock held by another
    return cache_folder is None or not results_kept_for(cache_folder, root)


def _warming_steps(plan: RulePlan) -> Iterator[None]:
    """Getting ready to analyse files with `plan`, a step at each iteration: the rules imported, each rule's
    query compiled for each language, then the rules' options models (the first imports the validation
    library, a long step that only some rules' checks need). A step that fails ends the warming: the run meets
    the problem again where it would have met it."""
    try:
        plan.prepare()
        yield
        for language in LANGUAGES:
            for rule in plan.with_queries:
                plan.query(rule, language)
                yield
        for rule in plan.rules:
            rule.Options  # noqa: B018 (imported on first use)
            yield
    except Exception:
        return


def _stopped_after(deadline: Deadline, limit: float | None, doing: str | None = None) -> str:
    # The true time: native code runs on past the limit, and the alarm fires only when it returns.
    while_doing = f" while {doing}" if doing else ""
    return f"stopped after {deadline.elapsed():.1f} s (limit {limit:g} s){while_doing}"


def _analyze_all(
    sources: list[Path],
    root: Path,
    plan: RulePlan,
    project: ProjectIndex,
    setup_by_path: dict[str, RuleSetup],
    jobs: int | None,
    timeout: float | None,
    cache: ResultCache | None,
    fresh_fixes: bool = False,
    given: dict[str, bytes] | None = None,
    lazy: bool = False,
    stats: dict[Path, os.stat_result] | None = None,
    sizes: dict[Path, int] | None = None,
) -> list[FileResult | Deferred]:
    """Every file's result, in the order of `sources`: from the cache when it has the file, else analysed;
    with `lazy`, a cached result is a `Deferred` (what the report shows of it decoded, the rest when the
    project phase needs it). With `fresh_fixes`, a cached result whose findings carry fixes is analysed
    again: fixes that are applied or printed as a patch are always derived from the file itself. A file in
    `given` (a buffer, stdin) is analysed from that text and neither taken from the cache nor put in it."""
    given = given or {}
    stats = stats or {}
    results: list[FileResult | None] = []
    work, keys = [], []
    packages_of_folder: dict[str, list] = {}  # the packages around the files of each folder, read only
    for path in sources:
        rel = _rel(path, root)
        folder = rel.rpartition("/")[0]
        packages = packages_of_folder.get(folder)
        if packages is None:
            packages = packages_of_folder[folder] = project.packages_around(rel)
        report_findings = rel in project.reported_paths
        setup = setup_by_path[rel]
        key = _cache_key(cache, rel, path, packages, setup.key, stats.get(path)) if rel not in given else None
        cached = cache.get(rel, key, report_findings, lazy) if key is not None else None
        shown = _shown(cached) if cached is not None else None
        if shown is not None and fresh_fixes and any(finding.fixes for finding in shown.findings):
            cached = None
        results.append(cached)
        if cached is None:
            work.append((path, rel, list(packages), report_findings, timeout, given.get(rel), setup.own))
            keys.append(key)
    # A few files analysed beside a cache that holds the rest (a pre-commit run): their queries are compiled
    # together. Without the cache, the project phase may analyse many others, whose queries stay apart.
    plan.compiles_together = cache is not None and len(work) <= COMPILE_TOGETHER_MAX_FILES
    analysed = _analyze_uncached(work, plan, jobs, sizes)
    if cache is not None:
        for (_, rel, _, report_findings, *_), key, result in zip(work, keys, analysed):
            if key is not None:
                cache.put(rel, key, report_findings, result)
    fresh = iter(analysed)
    return [result if result is not None else next(fresh) for result in results]


def _validate(plan: RulePlan) -> None:
    """Compile the queries of the rules from a rules folder for every language; a broken one stops the run.
    The built-in rules' queries are compiled by the tests, and in a run only for the files that need them."""
    try:
        plan.validate()
    except ValueError as error:
        raise RuleLoadError(str(error)) from error


def _open_cache(folder: Path, root: Path, plan: RulePlan) -> ResultCache | None:
    try:
        return ResultCache.open(folder, root, run_key(plan.rules, plan.known_ids, folder))
    except Exception:  # the cache only saves time: a run never fails for it
        return None


def _cache_key(cache: ResultCache | None, rel: str, path: Path, packages, rules: str, info=None) -> tuple | None:
    if cache is None:
        return None
    try:
        return cache.file_key(rel, path, packages, rules, info)
    except OSError:  # the analysis reports it
        return None


def _analyze_uncached(work: list[tuple], plan: RulePlan, jobs: int | None, sizes: dict[Path, int] | None = None) -> list[FileResult]:
    """Every file's result, in the order of `work`; in `jobs` processes (this one and forked workers) when there
    are many files. `sizes` (bytes, by path; a file not in it counts as small) only decides which files are
    taken first."""
    if not work:
        return []
    jobs = _processes(jobs)
    # In this process: forked workers inherit the rules. A few files import only the rules that apply to them.
    plan.prepare(every_rule=jobs > 1 and len(work) >= PARALLEL_MIN_FILES)
    if jobs <= 1 or len(work) < PARALLEL_MIN_FILES:
        return _analyze_here(work, plan)
    # Imported here: a run in one process (a pre-commit hook's few files) does not pay for them.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    # Workers are forked so that they inherit the plan (compiled queries cannot be pickled) and the work,
    # and are sent only which files to take; where fork does not exist the run stays in one process.
    if "fork" not in get_all_start_methods():
        return [analyze_file(path, rel, plan, *rest) for path, rel, *rest in work]
    global _WORKER_PLAN, _WORKER_WORK, _WORKER_CHUNKS
    context = get_context("fork")
    chunks = _chunks_largest_first(work, sizes or {}, jobs)
    next_chunk = context.Value("i", 0)
    _WORKER_PLAN, _WORKER_WORK, _WORKER_CHUNKS = plan, work, (chunks, next_chunk)
    # This process takes batches as the workers do: its results need no pickling, and it would only wait.
    pool = ProcessPoolExecutor(
        max_workers=jobs - 1, mp_context=context, initializer=worker_started, initargs=(os.getpid(),)
    )
    results: list[FileResult | None] = [None] * len(work)
    try:
        # Not `pool.map`: on an interrupt it cancels the queued work, which the pool's own thread then fails
        # to mark broken once the workers are stopped, with a traceback. Each call takes the next batch left
        # (or none), so a worker is never left with work this process could have taken.
        futures = [pool.submit(_analyze_in_worker) for _ in chunks]
        try:
            while (taken := _next_chunk(next_chunk, len(chunks))) is not None:
                for index in chunks[taken]:
                    path, rel, *rest = work[index]
                    results[index] = analyze_file(path, rel, plan, *rest)
                    gc.freeze()  # see `_analyze_here`
        finally:
            gc.unfreeze()
        for future in futures:
            taken, chunk_results = future.result()
            if taken is not None:
                for index, result in zip(chunks[taken], chunk_results):
                    results[index] = result
    except BaseException:  # SIGTERM, Ctrl-C, a worker killed: no worker outlives the run
        stop_workers(pool)
        raise
    finally:
        _WORKER_PLAN, _WORKER_WORK, _WORKER_CHUNKS = None, [], None
    pool.shutdown()
    return results


def _next_chunk(next_chunk, count: int) -> int | None:
    """The index of the next batch no process has taken, now taken; None when every one is."""
    with next_chunk.get_lock():
        taken = next_chunk.value
        if taken >= count:
            return None
        next_chunk.value = taken + 1
        return taken


def _processes(jobs: int | None) -> int:
    """How many processes a run uses for its files and its project-wide checks (`--jobs`; by default the cores, up to 4)."""
    return jobs or min(os.cpu_count() or 1, 4)


def _chunks_largest_first(work: list[tuple], sizes: dict[Path, int], jobs: int) -> list[list[int]]:
    """The indexes of `work` in the batches workers take them in: the largest files first, in batches that
    shrink towards the end, so that the workers finish together (one large file taken last would keep one
    worker busy while the others wait)."""
    order = sorted(range(len(work)), key=lambda index: -sizes.get(work[index][0], 0))
    largest = max(1, len(work) // (jobs * 8))
    chunks = []
    start = 0
    while start < len(order):
        size = max(CHUNK_MIN_FILES, min(largest, (len(order) - start) // (jobs * 4)))
        chunks.append(order[start : start + size])
        start += size
    return chunks


def _analyze_here(work: list[tuple], plan: RulePlan) -> list[FileResult]:
    """The results of `work`, analysed in this process. They live until the run ends, and the cycle collector
    would walk them again and again (a tenth of a second on a large repository, finding no cycle among them):
    each file's are frozen out of its way once the file is done, until every file is."""
    results = []
    try:
        for path, rel, *rest in work:
            results.append(analyze_file(path, rel, plan, *rest))
            gc.freeze()
    finally:
        gc.unfreeze()
    return results


_WORKER_PLAN: RulePlan | None = None
_WORKER_WORK: list[tuple] = []
_WORKER_CHUNKS: tuple | None = None  # the batches, and the shared index of the next one to take


def _analyze_in_worker() -> tuple[int | None, list[FileResult]]:
    """In a worker: the next batch left (its index) and its results; None when every batch is taken."""
    chunks, next_chunk = _WORKER_CHUNKS
    taken = _next_chunk(next_chunk, len(chunks))
    if taken is None:
        return None, []
    results = []
    for index in chunks[taken]:
        path, rel, *rest = _WORKER_WORK[index]
        results.append(analyze_file(path, rel, _WORKER_PLAN, *rest))
    return taken, results


def _apply_per_file_ignores(findings: list[Finding], configs: ConfigTree, root: Path) -> list[Finding]:
    """The findings without those the `per-file-ignores` of their file's config drop."""
    specs_by_config: dict[int, list] = {}
    kept = []
    for finding in findings:
        config = configs.for_path(finding.path)
        if not config.per_file_ignores:
            kept.append(finding)
            continue
        specs = specs_by_config.get(id(config))
        if specs is None:
            import pathspec  # here: only a run whose configs have per-file-ignores needs it

            prefix = config_prefix(config, root)
            specs = specs_by_config[id(config)] = [
                (pathspec.GitIgnoreSpec.from_lines([f"{prefix}/{pattern.lstrip('/')}" if prefix else pattern]), selectors)
                for pattern, selectors in config.per_file_ignores.items()
            ]
        ignored = any(
            spec.match_file(finding.path) and any(matches_selector(finding.rule_id, s) for s in selectors)
            for spec, selectors in specs
        )
        if not ignored:
            kept.append(finding)
    return kept


def _directive_findings(directives: list[Directive], reported: set[str], setup_by_path: dict[str, RuleSetup]) -> list[Finding]:
    """The findings about suppression comments themselves, by the rules the config of their file enables."""
    produced = []
    for directive in directives:
        if directive.path not in reported:
            continue
        setup = setup_by_path[directive.path]
        by_id = {rule.id: rule for rule in setup.rules}
        where = Location(path=directive.path, span=directive.span)
        if directive.problem is not None and INVALID_ID in by_id:
            produced.append(by_id[INVALID_ID].finding(where, f"This suppression {directive.problem}."))
        elif directive.problem is None and not directive.used and UNUSED_ID in by_id:
            names_enabled = any(matches_selector(rule_id, s) for s in directive.selectors for rule_id in setup.ids)
            if names_enabled:
                produced.append(
                    by_id[UNUSED_ID].finding(
                        where, f"This suppression of {', '.join(directive.selectors)} suppresses nothing; remove it."
                    )
                )
    return produced


def _with_fingerprints(findings: list[Finding], root: Path, given: dict[str, bytes]) -> list[Finding]:
    last_line: dict[str, int] = {}  # of each file, the last line a finding starts on: no hash below it is needed
    for finding in findings:
        last_line[finding.path] = max(last_line.get(finding.path, 0), finding.span.start_line)
    hashes_by_path: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        if finding.path not in hashes_by_path:
            raw = given.get(finding.path)
            if raw is None:
                raw = _file_bytes(root / finding.path)
            hashes_by_path[finding.path] = _line_hashes(raw, last_line[finding.path]) if raw is not None else []
        hashes = hashes_by_path[finding.path]
        line = finding.span.start_line
        fingerprint = hashes[line - 1] if 0 < line <= len(hashes) else None
        result.append(finding.model_copy(update={"fingerprint": fingerprint}))
    return result


def _file_bytes(path: Path) -> bytes | None:
    try:
        return read_found_file(path)
    except OSError:
        return None


def _line_hashes(raw: bytes, lines: int | None = None) -> list[str]:
    source, _ = decode_source(raw)
    if source is None:
        return []
    # GitHub hashes the text as Node decodes it, byte-order mark included.
    bom = "\ufeff" if raw.startswith(codecs.BOM_UTF8) else ""
    return line_hashes(bom + source.decode("utf-8"), lines)
