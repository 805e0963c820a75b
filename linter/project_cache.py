"""The project phase of `loadlint check`, each rule's project-wide check served from the results cache when
nothing it reads has changed.

A check sees the project only through the index (`linter.project`): the import graph, its own facts
(`facts_of`), its flow spec's summaries, the files, packages, path aliases and project files found, the
reported paths, and the files it reads itself (`read_js_source`, `read_source`, `parsed_file`). So its outcome
(findings and notices) is kept with a digest of those inputs, made from what the cache already stores of every
file (`linter.cache.seen_of`: digests of its imports, facts and flow summaries), with the digest of every
file it read, and with what it asked of the reported paths (`RecordingIndex.reported_asked_by`: whether each
path it asked about is reported; a check that read the set whole, the set's digest). An unchanged repository
costs one look-up per check, and the files each check read are checked by the digests the run took anyway; an
edited file makes only the checks whose inputs it changed run again, and a pre-commit run on other files only
the checks that asked about those files (most look only at the files with their facts or flow summaries).
A file's cached result is decoded only when some check must run (`linter.cache.Deferred`).

Each check that runs starts from an empty memo, as in the editor's server (`linter.server.session`): what one
check built from a file cannot hide from another that it reads the file too. Parses are shared.
What is never kept: a check that failed or ran out of time, and the outcome of a run given buffers (their
text is not a file's) or applying fixes (a fix is never taken from the cache).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

from linter.analysis import FileResult
from linter.cache import Deferred, ResultCache, content_digest, packages_digest, seen_of
from linter.deadline import Deadline, OutOfTime
from linter.digests import blake2b
from linter.model import Finding, Notice
from linter.project import ProjectIndex, RecordingIndex
from linter.registry import flow_spec_name, has_project_check
from linter.rule import Rule

KEPT_PER_INPUTS = 4  # outcomes kept per check and inputs: each for other answers about the reported paths


def run_project_checks(
    project: ProjectIndex,
    rules: list[Rule],
    results: list,
    cache: ResultCache | None,
    timeout: float | None,
    setup_by_path: dict,
    analyse_again: Callable[[list[str]], dict[str, FileResult]],
    use_kept: bool = True,
    processes: int = 1,
) -> tuple[list[Finding], bool]:
    """Every rule instance's project-wide findings (those the config of their file gives to that instance) and
    whether a check failed or ran out of time. `results` are the files' results in the order of `project.files`,
    some of them `Deferred` (decoded here when a check must run; one that does not decode is analysed again by
    `analyse_again`). With `use_kept` false, every check runs (its outcome is still kept). The checks that run
    are shared by up to `processes` processes (`linter.project_split`)."""
    keeper = _Keeper.of(project, results, cache) if isinstance(project, RecordingIndex) else None
    checks = []  # (rule, its key, the digest of its inputs, its kept outcome or None)
    for rule in rules:
        if not has_project_check(rule):
            continue
        rule_key = f"{rule.id}\0{rule.instance}"
        inputs = keeper.inputs(rule) if keeper is not None else None
        kept = keeper.outcome(rule_key, inputs) if inputs is not None and use_kept else None
        checks.append((rule, rule_key, inputs, kept))
    to_run = [rule for rule, _, _, kept in checks if kept is None]
    incomplete = _index_every_file(project, results, cache, analyse_again, to_run) if to_run else False
    outcomes = iter(run_checks(project, to_run, timeout, processes))
    if isinstance(project, RecordingIndex):
        project.reading_for(None)  # every check ran: what is read from here on is no check's
    findings: list[Finding] = []
    for rule, rule_key, inputs, kept in checks:
        if kept is not None:
            found, notices = kept
            project.notices.extend(notices)
        else:
            found, failed, notices, reads, asked = next(outcomes)
            incomplete |= failed
            if inputs is not None and not failed:
                keeper.keep(rule_key, inputs, found, notices, reads, asked)
        judged = (rule.id, rule.instance)
        # A finding belongs to the instance of the rule the config of its file enables.
        findings.extend(f for f in found if f.path in setup_by_path and judged in setup_by_path[f.path].own)
    return findings, incomplete


def _index_every_file(project: ProjectIndex, results: list, cache: ResultCache | None, analyse_again, rules) -> bool:
    """Add every file's result to the index, for the checks of `rules` (a deferred result is decoded with only
    what they read: its imports, their facts and their flow summaries); whether one analysed again was
    incomplete."""
    deferred = [r for r in results if isinstance(r, Deferred)]
    facts = {(rule.id, rule.instance) for rule in rules}
    flows = {(rule.flow_spec.name, rule.instance) for rule in rules if rule.flow_spec is not None}
    if deferred and cache is not None:
        decoded = cache.resolve(deferred, (facts, flows))
    else:
        decoded = {d.path: None for d in deferred}
    missing = [path for path, result in decoded.items() if result is None]
    if missing:
        decoded.update(analyse_again(missing))
    incomplete = False
    for result in results:
        result = decoded[result.path] if isinstance(result, Deferred) else result
        incomplete |= result.incomplete
        project.add_file(result.path, result.references, result.facts, result.flows)
    return incomplete


# findings, failed, notices, files read, what it asked of the reported paths (`RecordingIndex.reported_asked_by`)
CheckOutcome = tuple[list[Finding], bool, list[Notice], frozenset[str], dict]


def run_checks(project: ProjectIndex, rules: list[Rule], timeout: float | None, processes: int = 1) -> list[CheckOutcome]:
    """The outcome of each rule's project-wide check, in the order of `rules`; their notices are in
    `project.notices`. In up to `processes` processes when there are two checks or more."""
    if processes > 1 and len(rules) > 1:
        from linter.project_split import run_split

        outcomes = run_split(project, rules, timeout, processes, run_check)
        if outcomes is not None:
            return outcomes
    return [run_check(project, rule, timeout) for rule in rules]


def run_check(project: ProjectIndex, rule: Rule, timeout: float | None) -> CheckOutcome:
    """One rule's project-wide check: its findings, whether it failed or ran out of time, the notices it added
    to `project.notices`, the files it read and what it asked of the reported paths (as `RecordingIndex`
    records them; nothing for another index)."""
    noticed = len(project.notices)
    recording = isinstance(project, RecordingIndex)
    rule_key = f"{rule.id}\0{rule.instance}"
    if recording:
        project.reading_for(rule_key)
    found, failed = _check(project, rule, timeout)
    reads = project.files_read_by(rule_key) if recording else frozenset()
    asked = project.reported_asked_by(rule_key) if recording else {}
    return found, failed, project.notices[noticed:], reads, asked


def _check(project: ProjectIndex, rule: Rule, timeout: float | None) -> tuple[list[Finding], bool]:
    deadline = Deadline(timeout)
    project.instance = rule.instance
    try:
        with deadline:
            return list(rule.check_project(project)), False
    except OutOfTime:
        stopped_after = f"stopped after {deadline.elapsed():.1f} s (limit {timeout:g} s)"
        message = f"the project-wide check of rule {rule.id} {stopped_after}; raise --timeout"
        project.notices.append(Notice(message=message))
    except Exception as error:  # one broken rule must not stop the run
        project.notices.append(Notice(message=f"internal error in rule {rule.id}: {type(error).__name__}: {error}"))
    finally:
        project.instance = ""
    return [], True


_SEEN = "\0seen"  # the project table's key for `_seen_digests` (no rule id starts with NUL)


def _seen_digests(results: list, texts: list[str], cache: ResultCache) -> tuple[str, dict, dict] | None:
    """From what the project phase sees of every file (`seen_of`, JSON text, in the order of `results`): the
    digest of every file's imports, and by rule instance (by flow spec and instance) the digest of the facts
    (flow summaries) of every file. Kept in the cache by a digest of the texts: decoding thousands of them
    costs more than the rest of the look-ups of an unchanged repository."""
    key = blake2b(digest_size=16)
    # One record per file: path, NUL, text, newline (a path holds no NUL, the JSON text neither NUL nor newline).
    key.update("".join(f"{result.path}\0{text}\n" for result, text in zip(results, texts)).encode("utf-8", "surrogatepass"))
    kept = cache.project_outcome(_SEEN, key.hexdigest())
    if kept is not None:
        try:
            imports, facts, flows = json.loads(kept)
            if type(imports) is str and type(facts) is dict and type(flows) is dict:
                return imports, facts, flows
        except ValueError:
            pass
    by_rule: dict[str, list] = defaultdict(list)  # rule instance -> [path, digest of its facts there], in file order
    by_spec: dict[str, list] = defaultdict(list)  # flow spec and rule instance -> [path, digest of its summary]
    try:
        seen = json.loads(f"[{','.join(texts)}]")  # one parse: one per file costs more than the rest of this
        if len(seen) != len(results):
            return None
        every_import = []
        for result, seen_data in zip(results, seen):
            path = result.path
            every_import.append([path, seen_data["i"]])
            for rule_key, value in seen_data["f"].items():
                by_rule[rule_key].append([path, value])
            for spec_key, value in seen_data["s"].items():
                by_spec[spec_key].append([path, value])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    imports = _digest(every_import)
    facts = {rule_key: _digest(found) for rule_key, found in by_rule.items()}
    flows = {spec_key: _digest(found) for spec_key, found in by_spec.items()}
    cache.put_project_outcome(_SEEN, key.hexdigest(), json.dumps([imports, facts, flows], separators=(",", ":")))
    return imports, facts, flows


def _digest(value) -> str:
    return blake2b(json.dumps(value, separators=(",", ":")).encode(), digest_size=16).hexdigest()


class _Keeper:
    """The digests of what each check reads, and the outcomes kept for them."""

    def __init__(self, project: RecordingIndex, cache: ResultCache, base: str, facts: dict, flows: dict) -> None:
        self._project = project
        self._cache = cache
        self._base = base
        self._facts = facts
        self._flows = flows

    @classmethod
    def of(cls, project: RecordingIndex, results: list, cache: ResultCache | None) -> "_Keeper | None":
        """None when some input has no digest: no cache, a file given as a buffer, a result plain data cannot hold."""
        if cache is None or project.given:
            return None
        texts = []
        for result in results:
            text = cache.seen(result.path)
            if text is None and isinstance(result, FileResult):
                try:
                    text = seen_of(result)
                except (TypeError, ValueError):
                    return None
            if text is None:
                return None
            texts.append(text)
        seen = _seen_digests(results, texts, cache)
        if seen is None:  # not what `seen_of` wrote: every check runs
            return None
        imports, facts, flows = seen
        digest = blake2b(digest_size=16)
        packages = [project.packages[folder] for folder in sorted(project.packages)]
        described = [
            str(project.root),
            project.max_file_size,
            project.files,
            packages_digest(packages).hex(),
            repr(project.aliases),
            sorted(project.other_files.items()),
            imports,  # the digest of every file's imports
        ]
        digest.update(json.dumps(described, separators=(",", ":")).encode())
        return cls(project, cache, digest.hexdigest(), facts, flows)

    def inputs(self, rule: Rule) -> str:
        """The digest of what the check of `rule` reads besides the files it reads on demand."""
        spec = flow_spec_name(rule)
        facts = self._facts.get(f"{rule.id}\0{rule.instance}")
        flows = self._flows.get(f"{spec}\0{rule.instance}") if spec is not None else None
        text = json.dumps([self._base, rule.id, rule.instance, facts, flows], separators=(",", ":"))
        return blake2b(text.encode(), digest_size=16).hexdigest()

    def outcome(self, rule_key: str, inputs: str) -> tuple[list[Finding], list[Notice]] | None:
        """The findings and notices kept for these inputs, when every file the check read is as it read it and
        what it asked of the reported paths has the same answers now."""
        text = self._cache.project_outcome(rule_key, inputs)
        if text is None:
            return None
        try:
            for kept in json.loads(text):
                reads = kept["reads"]
                if not isinstance(reads, dict) or not self._same_answers(kept["reported"]):
                    continue
                if any(self._read_digest(path) != digest for path, digest in reads.items()):
                    continue
                findings = [Finding.model_validate(f) for f in kept["findings"]]
                notices = [Notice.model_validate(n) for n in kept["notices"]]
                break
            else:
                return None
        except Exception:  # not an outcome this code wrote: the check runs
            return None
        known = self._known_paths()
        places = [loc.path for f in findings for loc in (f, *f.related, *f.code_flow)]
        if any(path not in known for path in places) or any(n.path not in (None, *known) for n in notices):
            return None
        return findings, notices

    def keep(self, rule_key: str, inputs: str, findings: list[Finding], notices: list[Notice], reads, asked: dict) -> None:
        """Keep the outcome for these inputs, with what it read and asked of the reported paths, before the
        others kept for them (run on other reported paths), up to KEPT_PER_INPUTS."""
        try:
            outcome = {
                "findings": [f.model_dump(mode="json") for f in findings],
                "notices": [n.model_dump(mode="json") for n in notices],
                "reads": {path: self._read_digest(path) for path in sorted(reads)},
                "reported": self._answers(asked),
            }
            try:
                others = json.loads(self._cache.project_outcome(rule_key, inputs) or "[]")
                others = [kept for kept in others if isinstance(kept, dict) and kept.get("reported") != outcome["reported"]]
            except ValueError:
                others = []
            text = json.dumps([outcome, *others[: KEPT_PER_INPUTS - 1]], separators=(",", ":"), allow_nan=False)
            self._cache.put_project_outcome(rule_key, inputs, text)
        except (TypeError, ValueError):  # a finding plain data cannot hold: the check runs every time
            pass

    def _answers(self, asked: dict) -> dict:
        """What a check asked of the reported paths, as kept: the paths it found reported and those it found
        not, and the digest of the whole set when it read it whole."""
        whole = asked.get(None) is True
        return {
            "in": sorted(path for path, answer in asked.items() if path is not None and answer),
            "out": sorted(path for path, answer in asked.items() if path is not None and not answer),
            "all": self._reported_digest() if whole else None,
        }

    def _same_answers(self, kept: dict) -> bool:
        reported = self._project.reported_paths
        if kept["all"] is not None and kept["all"] != self._reported_digest():
            return False
        return all(path in reported for path in kept["in"]) and not any(path in reported for path in kept["out"])

    def _reported_digest(self) -> str:
        text = json.dumps(sorted(self._project.reported_paths), separators=(",", ":"))
        return blake2b(text.encode(), digest_size=16).hexdigest()

    def _read_digest(self, path: str) -> str:
        """The digest of a file as a check reads it: a source file's content digest (the one this run took), or
        the text of a project file or manifest (read again, as the check would)."""
        if type(path) is not str:
            raise TypeError("not a path")
        digest = self._cache.digest_of(path)
        if digest is not None:
            return "c" + digest
        source = ProjectIndex.read_source(self._project, path)  # not a read of the check being looked up
        return "s" + (content_digest(source).hex() if source is not None else "-")

    def _known_paths(self) -> set[str]:
        known = self.__dict__.get("_known")
        if known is None:
            project = self._project
            manifests = {p.manifest for p in project.packages.values() if p.manifest}
            known = self.__dict__["_known"] = {*project.files, *project.other_files, *manifests}
        return known
