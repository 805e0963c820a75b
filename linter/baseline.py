"""Adopting loadlint on a legacy repository: a baseline file of the findings a team has accepted for now.

The baseline counts findings per (file, rule), the scheme of ESLint's bulk suppressions: a count survives lines
moving and code being edited around a finding, which positions or line hashes would not. A run with a baseline
hides the findings of every (file, rule) whose count is within the recorded one. When a count grows, there is no
telling which finding is the new one, so all of that file's findings of the rule are shown again, with a notice
saying so. Entries that no longer occur, in whole or in part, are listed as notices so the file can be pruned
(writing the baseline again does it).

File shape, sorted and stable so that it diffs well in review:

    {"loadlint-baseline": 1, "findings": {"src/a.js": {"auth/secret-fallback": {"count": 2}}}}

Paths are relative to the repository root, as in every report.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from linter.atomic_write import write_atomically
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Notice, Report
from linter.safe_read import ReadRefused, read_named_file, read_repository_file

FORMAT_VERSION = 1
MAX_BASELINE_BYTES = 64_000_000  # some 500,000 entries

Counts = dict[tuple[str, str], int]  # (path, rule id) -> number of findings


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a loadlint baseline."""


@dataclass(frozen=True)
class Scope:
    """What a run looked at: entries outside it are neither checked for staleness nor replaced on write."""

    root: Path
    targets: tuple[Path, ...]  # absolute paths given on the command line
    rule_ids: frozenset[str]  # the rules that ran

    def covers(self, path: str, rule_id: str) -> bool:
        absolute = self.root / path
        in_targets = any(absolute == target or target in absolute.parents for target in self.targets)
        return in_targets and rule_id in self.rule_ids


def count_findings(findings: Iterable[Finding]) -> Counts:
    """The baseline of `findings`: how many unsuppressed findings each (path, rule) has."""
    return dict(Counter((f.path, f.rule_id) for f in findings if not f.suppressed))


def configured_baseline(config, root: Path) -> tuple[Path, Path | None]:
    """The baseline file the config's `baseline` key names (relative to the config's folder), and the root it
    must be read inside: a config of the repository names a file of the repository, never one elsewhere (a
    config named with --config, outside the repository, may name any file, as --baseline may)."""
    base = (config.base_dir or root).absolute()
    path = Path(os.path.normpath(base / config.baseline))
    if not _inside(base, root):
        return path, None
    if not _inside(path, root):
        raise BaselineError(f"{config.source}: key 'baseline': {config.baseline} is outside the repository")
    return path, root


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def load_baseline(path: Path, root: Path | None = None) -> Counts:
    """Read a baseline file (inside `root` when given: never through a link out of it); raises BaselineError
    naming the file and what is wrong."""
    try:
        if root is not None:
            raw = read_repository_file(path, root, MAX_BASELINE_BYTES)
        else:
            raw = read_named_file(path, MAX_BASELINE_BYTES)
        data = json.loads(raw.decode("utf-8"))
    except ReadRefused as error:
        if error.missing:
            raise BaselineError(f"baseline file {path} does not exist; create it with --write-baseline") from None
        raise BaselineError(f"baseline file {path}: {error}") from None
    except UnicodeDecodeError as error:
        raise BaselineError(f"cannot read baseline file {path}: {error}") from None
    except RecursionError:
        raise BaselineError(f"baseline file {path} is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise BaselineError(f"baseline file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("loadlint-baseline") != FORMAT_VERSION:
        raise BaselineError(f"{path} is not a loadlint baseline (version {FORMAT_VERSION}); write it with --write-baseline")
    counts: Counts = {}
    for file, rules in _mapping(data.get("findings", {}), path, "findings").items():
        for rule_id, entry in _mapping(rules, path, f"findings.{file}").items():
            count = _mapping(entry, path, f"findings.{file}.{rule_id}").get("count")
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise BaselineError(f"{path}: findings.{file}.{rule_id}.count must be a whole number above 0")
            counts[(file, rule_id)] = count
    return counts


def _mapping(value: object, path: Path, where: str) -> dict:
    if not isinstance(value, dict):
        raise BaselineError(f"{path}: {where} must be an object")
    return value


def write_baseline(path: Path, counts: Counts, root: Path | None = None) -> None:
    """Write `counts` as a baseline file, atomically, never through a link (`linter.atomic_write`)."""
    findings: dict[str, dict[str, dict[str, int]]] = {}
    for (file, rule_id), count in sorted(counts.items()):
        findings.setdefault(file, {})[rule_id] = {"count": count}
    document = {"loadlint-baseline": FORMAT_VERSION, "findings": findings}
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n", root)


def merged_baseline(previous: Counts, current: Counts, scope: Scope) -> Counts:
    """The baseline to write: this run's counts, plus the previous entries this run did not look at."""
    kept = {key: count for key, count in previous.items() if not scope.covers(*key)}
    return {**kept, **current}


def apply_baseline(report: Report, baseline: Counts, scope: Scope, baseline_name: str) -> Report:
    """Hide the findings the baseline accepts; add notices for grown counts and for entries that no longer occur."""
    current = count_findings(report.findings)
    notices = list(report.notices)
    kept: list[Finding] = []
    for finding in report.findings:
        key = (finding.path, finding.rule_id)
        if finding.suppressed or current[key] > baseline.get(key, 0):
            kept.append(finding)
    for (file, rule_id), count in sorted(current.items()):
        allowed = baseline.get((file, rule_id), 0)
        if 0 < allowed < count:
            notices.append(
                Notice(
                    path=file,
                    level=Level.NOTE,
                    message=f"{count} findings of {rule_id} where {baseline_name} allows {allowed}: all are shown, "
                    "since any of them may be the new one",
                )
            )
    for (file, rule_id), allowed in sorted(baseline.items()):
        found = current.get((file, rule_id), 0)
        if found < allowed and scope.covers(file, rule_id):
            gone = "no longer occurs" if found == 0 else f"occurs {found} times instead of {allowed}"
            notices.append(
                Notice(
                    path=file,
                    level=Level.NOTE,
                    message=f"the {baseline_name} entry for {rule_id} {gone}; prune it with --write-baseline",
                )
            )
    return report.model_copy(
        update={
            "findings": tuple(kept),
            "notices": tuple(sorted(set(notices), key=lambda n: n.sort_key)),
            "baselined": report.baselined + len(report.findings) - len(kept),
        }
    )
