"""One run of loadlint: settle the root and config, discover, analyse every file, index, check, report."""

from __future__ import annotations

import codecs
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import pathspec

from linter import __version__
from linter.analysis import FileResult, RulePlan, analyze_file, decode_source
from linter.cache import ResultCache, run_key, usable_cache_dir
from linter.config import (
    Config,
    ConfigError,
    check_selectors,
    enabled_rules,
    find_config_file,
    load_config,
    matches_selector,
    validate_against_rules,
)
from linter.deadline import Deadline, OutOfTime
from linter.discovery import MANIFEST_NAMES, Discovered, discover, display_path, file_problem, is_source, path_order
from linter.files.kinds import project_file_kind
from linter.fingerprint import line_hashes
from linter.listing_cache import discover_cached
from linter.model import Finding, Level, Location, Notice, Report
from linter.processes import stop_workers, worker_started
from linter.project import ProjectIndex
from linter.registry import RuleLoadError, builtin_rules, load_rules_dir
from linter.rule import Rule
from linter.suppression import INVALID_ID, UNUSED_ID, Directive, apply_suppressions, project_file_directives

PARALLEL_MIN_FILES = 64
# Seconds each step may take (one file's parse and rules, finding the files, one rule's project-wide check)
# before it is stopped with a notice. It exists so that one pathological input cannot stall CI, and is set
# far above what real input needs, so that whether a file is linted does not depend on the machine's load: of
# 31,000 files of 40 open-source apps the slowest takes 0.5 s (a 520 kB bundle), a 2 MB bundle (the size
# limit) 2.3 s, a typical file well under 0.1 s.
DEFAULT_FILE_TIMEOUT = 60.0
MAX_FILE_TIMEOUT = 86_400.0  # a day, far below where the interval timer overflows (1e10 s on Linux); 0: no limit


class UsageError(Exception):
    """A problem with what the user asked for (a missing path, a bad flag value): exit 2."""


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
    # Text that replaces a file's bytes on disk for this run (an editor's unsaved buffer), by the file's path:
    # the file is analysed, read by the project phase and fingerprinted from it, and never cached. The file must
    # exist, and it is linted only where the run would lint it on disk (discovery, `exclude`, .gitignore).
    buffers: dict[Path, bytes] = field(default_factory=dict)


@dataclass
class RunResult:
    report: Report
    config: Config
    fail_on: Level
    incomplete: bool


def find_root(start: Path) -> Path:
    """The repository root above `start` (the folder holding `.git`), else the nearest package, else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    for folder in (start, *start.parents):
        if (folder / "package.json").is_file():
            return folder
    return start


def run(options: RunOptions) -> RunResult:
    _check_options(options)
    targets = _resolve_targets(options.paths)
    common = Path(os.path.commonpath([t if t.is_dir() else t.parent for t in targets]))
    root = find_root(common)
    config = _load_settings(options, common, root)
    rules_folder, untrusted = _rules_folder(options, config, root)
    rule_classes = _all_rules(rules_folder)
    try:
        rule_options = validate_against_rules(config, rule_classes)
    except ConfigError as error:
        if untrusted is None:
            raise
        raise ConfigError(f"{error} (its rules-dir is loaded only with --trust-config-rules)") from error
    rule_ids = [cls.id for cls in rule_classes]
    check_selectors(options.select or [], rule_ids, "--select")  # flags are checked like the config file
    check_selectors(options.ignore or [], rule_ids, "--ignore")
    select = options.select if options.select is not None else config.select
    ignore = (options.ignore if options.ignore is not None else config.ignore) + options.extend_ignore
    chosen = enabled_rules(rule_classes, select, ignore)
    if not chosen:
        raise UsageError(f"no rule to run: {_emptied_by(options, config)} enabled")
    rules = [cls(rule_options.get(cls.id)) for cls in chosen]
    known_ids = frozenset(cls.id for cls in rule_classes)
    builtin_ids = frozenset(cls.id for cls in builtin_rules())
    plan = RulePlan([r for r in rules if r.id not in (INVALID_ID, UNUSED_ID)], known_ids, trusted=builtin_ids)
    _validate(plan)
    levels = {cls.id: config.levels.get(cls.id, cls.level) for cls in chosen}

    cache_folder, cache_problem = usable_cache_dir() if options.use_cache else (None, None)
    found, reported, stopped = _discover_in_time(root, targets, config, options, cache_folder)
    notices = list(found.notices) + ([untrusted] if untrusted is not None else [])
    if cache_problem is not None:
        notices.append(Notice(message=cache_problem, level=Level.NOTE))
    incomplete = stopped is not None
    if stopped is not None:
        notices.append(stopped)
    elif not any(_in_targets(path, targets) for path in found.sources):
        notices.append(Notice(message="nothing to lint: no JavaScript or TypeScript files under the given paths"))
    project = ProjectIndex.build(root, found, reported, notices, config.max_file_size)
    project.buffers = _buffers_by_path(options.buffers, root)

    cache = _open_cache(cache_folder, root, plan) if cache_folder is not None and stopped is None else None
    results = _analyze_all(
        found.sources, root, plan, project, options.jobs, options.file_timeout, cache, options.fresh_fixes
    )
    if cache is not None:
        cache.forget_missing(root, {result.path for result in results})
        cache.save()
    findings: list[Finding] = []
    directives: list[Directive] = []
    for result in results:
        findings.extend(result.findings)
        directives.extend(result.directives)
        notices.extend(result.notices)
        incomplete |= result.incomplete
        project.add_file(result.path, result.references, result.facts, result.flows)
    for rule in plan.rules:
        deadline = Deadline(options.file_timeout)
        try:
            with deadline:
                findings.extend(rule.check_project(project))
        except OutOfTime:
            incomplete = True
            stopped_after = _stopped_after(deadline, options.file_timeout)
            notices.append(Notice(message=f"the project-wide check of rule {rule.id} {stopped_after}; raise --timeout"))
        except Exception as error:  # one broken rule must not stop the run
            incomplete = True
            notices.append(Notice(message=f"internal error in rule {rule.id}: {type(error).__name__}: {error}"))
    directives.extend(project_file_directives(project, plan.known_ids))

    deadline = Deadline(options.file_timeout)
    try:
        with deadline:
            findings = _apply_per_file_ignores(findings, config, root)
    except OutOfTime:  # the patterns come from the scanned repository's config
        incomplete = True
        message = f"applying per-file-ignores {_stopped_after(deadline, options.file_timeout)}; nothing was ignored"
        notices.append(Notice(message=message))
    enabled_ids = {cls.id for cls in chosen}
    findings = apply_suppressions([f for f in findings if f.path in reported], directives)
    findings.extend(_directive_findings(directives, reported, enabled_ids, root, rules))
    # A finding keeps its own level (a rule may report some sites as warnings) unless the config sets the rule's.
    findings = [f.model_copy(update={"level": config.levels.get(f.rule_id, f.level)}) for f in findings]
    findings = _with_fingerprints(findings, root, project.buffers)
    notices = [n for n in notices if n.path is None or _in_targets(root / n.path, targets)]

    report = Report(
        root=str(root),
        tool_version=__version__,
        rules=tuple(cls.info(levels[cls.id]) for cls in chosen),
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        notices=tuple(sorted(set(notices), key=lambda n: n.sort_key)),
        files_checked=sum(1 for r in results if r.parsed and r.path in reported),
        category=options.category,
        incomplete=incomplete,
    )
    fail_on = options.fail_on or config.fail_on
    return RunResult(report=report, config=config, fail_on=fail_on, incomplete=incomplete)


def _check_options(options: RunOptions) -> None:
    if options.select == []:  # `--select ''`: a run that checks nothing would pass
        raise UsageError("--select names no rule; leave it out to run every rule")
    seconds = options.file_timeout
    if seconds is not None and not 0 <= seconds <= MAX_FILE_TIMEOUT:  # NaN fails every comparison
        raise UsageError(f"--timeout must be from 0 (no limit) to {MAX_FILE_TIMEOUT:.0f} seconds, not {seconds!r}")


def _emptied_by(options: RunOptions, config: Config) -> str:
    where = config.source or "configuration"
    select = "--select" if options.select is not None else f"{where} key 'select'" if config.select else None
    ignore = "--ignore" if options.ignore is not None else f"{where} key 'ignore'" if config.ignore else None
    parts = [part for part in (select, ignore) if part]
    return f"{' and '.join(parts)} leave none" if len(parts) != 1 else f"{parts[0]} leaves none"


def _resolve_targets(paths: list[Path]) -> list[Path]:
    targets = []
    for path in paths or [Path(".")]:
        if not path.exists():
            raise UsageError(f"path does not exist: {path}")
        targets.append(path.resolve())
    return sorted(set(targets))


def _load_settings(options: RunOptions, common: Path, root: Path) -> Config:
    if options.config_file is not None:
        path = options.config_file
        kind = "package.json" if path.name == "package.json" else "toml"
        return load_config(path, kind, display=str(path))
    located = find_config_file(common, root)
    if located is None:
        return Config().located(None, root)
    path, kind = located
    return load_config(path, kind, display=_rel(path, root), root=root)


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


def _all_rules(folder: Path | None) -> tuple[type[Rule], ...]:
    rules = builtin_rules()
    if folder is None:
        return rules
    extra = load_rules_dir(folder)
    clash = {r.id for r in extra} & {r.id for r in rules}
    if clash:
        raise RuleLoadError(f"{folder}: rule id {sorted(clash)[0]} is already a built-in rule")
    return tuple(sorted(rules + extra, key=lambda r: r.id))


def _discover_in_time(root: Path, targets: list[Path], config: Config, options: RunOptions, cache_folder: Path | None):
    """`_discover` within the time limit, and None; out of time, nothing found and a notice. Matching a path
    against a pattern of a .gitignore or of `exclude` can take minutes (`**/a*/**/a*/…/z`)."""
    deadline = Deadline(options.file_timeout)
    try:
        with deadline:
            return (*_discover(root, targets, config, cache_folder), None)
    except OutOfTime as stop:
        stopped_after = _stopped_after(deadline, options.file_timeout, stop.doing or "walking the folders")
        message = f"finding the files {stopped_after}; nothing was linted (raise --timeout for a repository that large)"
        return Discovered(), set(), Notice(message=message)


def _stopped_after(deadline: Deadline, limit: float | None, doing: str | None = None) -> str:
    # The true time: native code runs on past the limit, and the alarm fires only when it returns.
    while_doing = f" while {doing}" if doing else ""
    return f"stopped after {deadline.elapsed():.1f} s (limit {limit:g} s){while_doing}"


def _discover(root: Path, targets: list[Path], config: Config, cache_folder: Path | None):
    files = [t for t in targets if not t.is_dir()]
    start_dirs = [t for t in targets if t.is_dir()]
    for file in files:
        start_dirs.append(_package_dir(file, root))
    if cache_folder is not None:
        found = discover_cached(root, start_dirs, config.max_file_size, cache_folder)
    else:
        found = discover(root, start_dirs, config.max_file_size)
    found.manifests = sorted({*found.manifests, *_enclosing_manifests(start_dirs, root, config.max_file_size)})
    named_sources, named_project_files = [], []
    for file in files:
        wanted = is_source(file) or project_file_kind(file.name) is not None
        # A named file gets the same checks as a found one: a FIFO named `x.js` must not be opened.
        problem = file_problem(file, root, config.max_file_size) if wanted else None
        if problem is not None:
            found.notices.append(problem)
        elif is_source(file):
            named_sources.append(file)
        elif wanted:
            named_project_files.append(file)
        elif file.name not in MANIFEST_NAMES:
            where = display_path(file, root)
            found.notices.append(Notice(message="skipped: not a JavaScript or TypeScript file", path=where))
    # Discovery's lists are sorted and without repeats: only named files can change that.
    found.sources = _merged(found.sources, named_sources)
    found.project_files = _merged(found.project_files, named_project_files)
    if config.exclude:
        excluded = _exclude_spec(config, root)
        try:
            found.sources = [p for p in found.sources if not excluded.match_file(_rel(p, root))]
            found.project_files = [p for p in found.project_files if not excluded.match_file(_rel(p, root))]
        except OutOfTime:
            raise OutOfTime("matching the paths against `exclude`") from None
    # Rules also report into the non-JavaScript files they read (a schema, a Dockerfile, package.json scripts).
    readable = [*found.sources, *found.project_files, *found.manifests]
    reported = {_rel(path, root) for path in readable if _in_targets(path, targets)}
    return found, reported


def _merged(found: list[Path], named: list[Path]) -> list[Path]:
    return sorted({*found, *named}, key=path_order) if named else found


def _enclosing_manifests(start_dirs: list[Path], root: Path, max_file_size: int) -> set[Path]:
    """The package manifests above the walked folders, up to the root. A monorepo root's dependencies count
    for its apps, so a run on a few files must know them as a run on the whole repository does (and then
    the two can share cached results)."""
    manifests = set()
    for start in start_dirs:
        folder = start
        while folder != root and root in folder.parents:
            folder = folder.parent
            manifest = folder / "package.json"
            if manifest.is_file() and file_problem(manifest, root, max_file_size) is None:
                manifests.add(manifest)
    return manifests


def _in_targets(path: Path, targets: list[Path]) -> bool:
    # On strings: `Path.parents` costs more than the rest of discovery on a large repository.
    text = str(path)
    return any(text == target or text.startswith(folder) for target, folder in _target_strings(tuple(targets)))


@lru_cache(maxsize=8)
def _target_strings(targets: tuple[Path, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(t), os.path.join(t, "")) for t in targets)


def _config_prefix(config: Config, root: Path) -> str:
    """Where the config's globs are anchored, relative to the root: its folder, or the root itself when the
    file lies outside it (`--config ../shared.toml`)."""
    base = config.base_dir.resolve() if config.base_dir else root
    return _rel(base, root) if base == root or root in base.parents else ""


def _package_dir(file: Path, root: Path) -> Path:
    for folder in file.parents:
        if (folder / "package.json").is_file():
            return folder
        if folder == root:
            break
    return file.parent


def _exclude_spec(config: Config, root: Path) -> pathspec.PathSpec:
    prefix = _config_prefix(config, root)
    patterns = [f"{prefix}/{p.lstrip('/')}" if prefix else p for p in config.exclude]
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _analyze_all(
    sources: list[Path],
    root: Path,
    plan: RulePlan,
    project: ProjectIndex,
    jobs: int | None,
    timeout: float | None,
    cache: ResultCache | None,
    fresh_fixes: bool = False,
) -> list[FileResult]:
    """Every file's result, in the order of `sources`: from the cache when it has the file, else analysed.
    With `fresh_fixes`, a cached result whose findings carry fixes is analysed again: fixes that are applied
    or printed as a patch are always derived from the file itself."""
    results: list[FileResult | None] = []
    work, keys = [], []
    for path in sources:
        rel = _rel(path, root)
        packages = project.packages_around(rel)
        report_findings = rel in project.reported_paths
        text = project.buffers.get(rel)
        key = _cache_key(cache, rel, path, packages) if text is None else None
        cached = cache.get(rel, key, report_findings) if key is not None else None
        if cached is not None and fresh_fixes and any(finding.fixes for finding in cached.findings):
            cached = None
        results.append(cached)
        if cached is None:
            work.append((path, rel, packages, report_findings, timeout, text))
            keys.append(key)
    analysed = _analyze_uncached(work, plan, jobs)
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
        return ResultCache.open(folder, root, run_key(plan.rules, plan.known_ids))
    except Exception:  # the cache only saves time: a run never fails for it
        return None


def _cache_key(cache: ResultCache | None, rel: str, path: Path, packages) -> tuple | None:
    if cache is None:
        return None
    try:
        return cache.file_key(rel, path, packages)
    except OSError:  # the analysis reports it
        return None


def _analyze_uncached(work: list[tuple], plan: RulePlan, jobs: int | None) -> list[FileResult]:
    jobs = jobs or min(os.cpu_count() or 1, 4)
    # Workers are forked so that they inherit the plan (compiled queries cannot be pickled);
    # where fork does not exist the run stays in one process.
    if jobs <= 1 or len(work) < PARALLEL_MIN_FILES or "fork" not in get_all_start_methods():
        return [analyze_file(path, rel, plan, *rest) for path, rel, *rest in work]
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    chunk = max(1, len(work) // (jobs * 8))
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("fork"), initializer=worker_started, initargs=(os.getpid(),)
    )
    try:
        results = list(pool.map(_analyze_in_worker, work, chunksize=chunk))
    except BaseException:  # SIGTERM, Ctrl-C, a worker killed: no worker outlives the run
        stop_workers(pool)
        raise
    pool.shutdown()
    return results


_WORKER_PLAN: RulePlan | None = None


def _analyze_in_worker(work) -> FileResult:
    path, rel, *rest = work
    return analyze_file(path, rel, _WORKER_PLAN, *rest)


def _apply_per_file_ignores(findings: list[Finding], config: Config, root: Path) -> list[Finding]:
    if not config.per_file_ignores:
        return findings
    prefix = _config_prefix(config, root)
    specs = []
    for pattern, selectors in config.per_file_ignores.items():
        full = f"{prefix}/{pattern.lstrip('/')}" if prefix else pattern
        specs.append((pathspec.GitIgnoreSpec.from_lines([full]), selectors))
    return [
        f
        for f in findings
        if not any(spec.match_file(f.path) and any(matches_selector(f.rule_id, s) for s in sel) for spec, sel in specs)
    ]


def _directive_findings(
    directives: list[Directive], reported: set[str], enabled_ids: set[str], root: Path, rules: list[Rule]
) -> list[Finding]:
    by_id = {rule.id: rule for rule in rules}
    produced = []
    for directive in directives:
        if directive.path not in reported:
            continue
        where = Location(path=directive.path, span=directive.span)
        if directive.problem is not None and INVALID_ID in by_id:
            produced.append(by_id[INVALID_ID].finding(where, f"This suppression {directive.problem}."))
        elif directive.problem is None and not directive.used and UNUSED_ID in by_id:
            names_enabled = any(
                matches_selector(rule_id, s) for s in directive.selectors for rule_id in enabled_ids
            )
            if names_enabled:
                produced.append(
                    by_id[UNUSED_ID].finding(
                        where, f"This suppression of {', '.join(directive.selectors)} suppresses nothing; remove it."
                    )
                )
    return produced


def _with_fingerprints(findings: list[Finding], root: Path, buffers: dict[str, bytes]) -> list[Finding]:
    hashes_by_path: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        if finding.path not in hashes_by_path:
            hashes_by_path[finding.path] = _file_line_hashes(root / finding.path, buffers.get(finding.path))
        hashes = hashes_by_path[finding.path]
        line = finding.span.start_line
        fingerprint = hashes[line - 1] if 0 < line <= len(hashes) else None
        result.append(finding.model_copy(update={"fingerprint": fingerprint}))
    return result


def _file_line_hashes(path: Path, text: bytes | None = None) -> list[str]:
    try:
        raw = path.read_bytes() if text is None else text
    except OSError:
        return []
    source, _ = decode_source(raw)
    if source is None:
        return []
    # GitHub hashes the text as Node decodes it, byte-order mark included.
    bom = "\ufeff" if raw.startswith(codecs.BOM_UTF8) else ""
    return line_hashes(bom + source.decode("utf-8"))


def _buffers_by_path(buffers: dict[Path, bytes], root: Path) -> dict[str, bytes]:
    by_path = {}
    for path, text in buffers.items():
        resolved = path.resolve()
        if root in resolved.parents:
            by_path[_rel(resolved, root)] = text
    return by_path


def _rel(path: Path, root: Path) -> str:
    text, prefix = str(path), os.path.join(root, "")
    if text.startswith(prefix):  # on strings: pathlib's relative_to costs much on a large repository
        return text[len(prefix) :].replace(os.sep, "/")
    rel = path.relative_to(root).as_posix()
    return "" if rel == "." else rel
