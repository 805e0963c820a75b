"""Score the linter on real repositories already extracted on this machine, against the labels in tests/realcode/labels/.

    python -m tests.realcode.score [--root DIR] [--rule ID]... [--repo OWNER/NAME]... [--show-unlabelled] [--check]

Fetches nothing. A repository of repos.json is scored when its folder is under the root (`--root`, else
$LOADLINT_REALCODE, else /work/realcode) at the recorded commit: the folder's `.loadlint-realcode-commit` marker
(written when it was extracted) or, in a git checkout, its HEAD. Others are skipped with one line.

Findings match labels by (repo, path, line, rule). Per rule: tp counts reported findings labelled tp, and "fn"
labels that are now reported (promote them to tp); fn counts "fn" labels not reported and tp labels no longer
reported (lost). Exit status 0, unless --check: then 1 when a rule with 5 or more labelled findings is under 0.9
precision, or when some finding has no label.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent
LABELS_DIR = HERE / "labels"  # one file per rule family: <family>.json
REPOS_FILE = HERE / "repos.json"
DEFAULT_ROOT = "/work/realcode"
COMMIT_MARKER = ".loadlint-realcode-commit"
MAX_WORKERS = 2  # a shared two-core machine
RUN_TIMEOUT = 900
CHECK_MIN_LABELLED = 5
CHECK_MIN_PRECISION = 0.9

Key = tuple[str, str, int, str]  # repo, repo-relative POSIX path, line, rule


def load_repos(path: Path = REPOS_FILE) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_labels(folder: Path = LABELS_DIR) -> list[dict]:
    """Every label, from the family files in `folder` (each sorted by repo, path, line, rule)."""
    return [label for path in sorted(folder.glob("*.json")) for label in load_label_file(path)]


def load_label_file(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def known_rule_ids() -> frozenset[str]:
    from linter.registry import builtin_rules

    return frozenset(rule.id for rule in builtin_rules())


def label_key(label: dict) -> Key:
    return (label["repo"], label["path"], label["line"], label["rule"])


def realcode_root(given: str | None = None) -> Path:
    return Path(given or os.environ.get("LOADLINT_REALCODE") or DEFAULT_ROOT)


def present_commit(folder: Path) -> str | None:
    """The commit the folder holds: its extraction marker, else a git checkout's HEAD."""
    marker = folder / COMMIT_MARKER
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    if (folder / ".git").exists():
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else None
    return None


def present_repos(repos: dict[str, dict], root: Path) -> tuple[dict[str, Path], list[str]]:
    """Repositories ready to score (name -> folder), and one line for each one skipped."""
    ready: dict[str, Path] = {}
    skipped: list[str] = []
    for name, info in sorted(repos.items()):
        folder = root / info["folder"]
        if not folder.is_dir():
            skipped.append(f"{name}: absent")
            continue
        commit = present_commit(folder)
        if commit != info["commit"]:
            skipped.append(f"{name}: at {commit or 'an unknown commit'}, labels are for {info['commit'][:12]}")
            continue
        ready[name] = folder
    return ready, skipped


@dataclass
class RepoRun:
    findings: list[tuple[Key, str]] = field(default_factory=list)  # key, message
    notices: int = 0
    error: str | None = None


def run_linter(name: str, folder: Path, rules: list[str]) -> RepoRun:
    """One `loadlint check` of the checkout's code on `folder`, in a subprocess with a cache of its own."""
    from linter.engine import find_root

    command = [sys.executable, "-m", "linter", "check", str(folder), "--format", "json", "--exit-zero", "--no-cache",
               "-j", "1"]
    if rules:
        command += ["--select", ",".join(rules)]
    with tempfile.TemporaryDirectory(prefix="loadlint-realcode-") as cache:
        env = dict(os.environ, XDG_CACHE_HOME=cache, PYTHONPATH=str(CHECKOUT))
        try:
            done = subprocess.run(command, cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return RepoRun(error=f"no answer in {RUN_TIMEOUT} s")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return RepoRun(error=f"exit {done.returncode}: {done.stderr.strip()[-300:] or 'no JSON on stdout'}")
    run_root = find_root(folder.resolve())
    result = RepoRun(notices=len(report.get("notices", [])))
    for finding in report["findings"]:
        absolute = run_root / finding["path"]
        try:
            path = absolute.relative_to(folder.resolve()).as_posix()
        except ValueError:
            path = finding["path"]
        key = (name, path, finding["span"]["start_line"], finding["rule_id"])
        result.findings.append((key, finding["message"]))
    return result


@dataclass
class RuleScore:
    findings: int = 0  # distinct (path, line) locations reported
    tp: int = 0
    fp: int = 0
    unlabelled: int = 0
    fn: int = 0

    @property
    def labelled(self) -> int:
        return self.tp + self.fp

    @property
    def precision(self) -> float | None:
        return self.tp / self.labelled if self.labelled else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Score:
    rules: dict[str, RuleScore]
    promoted: list[dict]  # fn labels now reported
    lost: list[dict]  # tp labels no longer reported
    fixed: list[dict]  # fp labels no longer reported
    unlabelled: list[tuple[Key, str]]


def score(runs: dict[str, RepoRun], labels: list[dict], rules: list[str]) -> Score:
    wanted = (lambda rule: rule in rules) if rules else (lambda rule: True)
    by_key = {label_key(label): label for label in labels if label["repo"] in runs and wanted(label["rule"])}
    reported: dict[Key, str] = {}
    for run in runs.values():
        for key, message in run.findings:
            if wanted(key[3]):
                reported.setdefault(key, message)
    table: dict[str, RuleScore] = defaultdict(RuleScore)
    promoted, lost, fixed, unlabelled = [], [], [], []
    for key, message in sorted(reported.items()):
        row = table[key[3]]
        row.findings += 1
        label = by_key.get(key)
        if label is None:
            row.unlabelled += 1
            unlabelled.append((key, message))
        elif label["verdict"] == "fp":
            row.fp += 1
        else:
            row.tp += 1
            if label["verdict"] == "fn":
                promoted.append(label)
    for key, label in sorted(by_key.items()):
        if key in reported:
            continue
        if label["verdict"] == "fn":
            table[key[3]].fn += 1
        elif label["verdict"] == "tp":
            table[key[3]].fn += 1
            lost.append(label)
        else:
            fixed.append(label)
    return Score(dict(sorted(table.items())), promoted, lost, fixed, unlabelled)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(table: dict[str, RuleScore]) -> str:
    header = ("rule", "findings", "tp", "fp", "unlabelled", "fn", "precision", "recall")
    counts = ("findings", "tp", "fp", "unlabelled", "fn")
    total = RuleScore()
    for row in table.values():
        for name in counts:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    rows = [header]
    for rule, row in [*table.items(), ("all rules", total)]:
        rows.append((rule, *(getattr(row, name) for name in counts), _ratio(row.precision), _ratio(row.recall)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [str(row[0]).ljust(widths[0])] + [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if index == 0 or index == len(rows) - 2:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def check_failures(result: Score) -> list[str]:
    failures = []
    for rule, row in result.rules.items():
        if row.labelled >= CHECK_MIN_LABELLED and row.precision is not None and row.precision < CHECK_MIN_PRECISION:
            failures.append(f"{rule}: precision {row.precision:.2f} on {row.labelled} labelled findings "
                            f"(under {CHECK_MIN_PRECISION})")
    if result.unlabelled:
        failures.append(f"{len(result.unlabelled)} findings have no label (--show-unlabelled lists them)")
    return failures


def _where(label: dict) -> str:
    return f"{label['repo']} {label['path']}:{label['line']} {label['rule']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realcode.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help=f"where the repositories are (default $LOADLINT_REALCODE or {DEFAULT_ROOT})")
    parser.add_argument("--rule", action="append", default=[], help="score only this rule id (repeatable)")
    parser.add_argument("--repo", action="append", default=[], help="score only this owner/name (repeatable)")
    parser.add_argument("--show-unlabelled", action="store_true", help="list every finding that has no label")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when a rule with >= {CHECK_MIN_LABELLED} labelled findings is under "
                             f"{CHECK_MIN_PRECISION} precision, or when a finding has no label")
    parser.add_argument("--jobs", type=int, default=MAX_WORKERS,
                        help=f"repositories linted at once (at most {MAX_WORKERS})")
    args = parser.parse_args(argv)

    repos = load_repos()
    labels = load_labels()
    unknown = [name for name in args.repo if name not in repos]
    if unknown:
        parser.error(f"not in repos.json: {', '.join(unknown)}")
    unknown = [rule for rule in args.rule if rule not in known_rule_ids()]
    if unknown:
        parser.error(f"unknown rule id: {', '.join(unknown)}")
    if args.repo:
        repos = {name: info for name, info in repos.items() if name in args.repo}
    root = realcode_root(args.root)
    ready, skipped = present_repos(repos, root)
    for line in skipped:
        print(f"skipped {line}")
    if not ready:
        print(f"no labelled repository is present under {root}: nothing to score")
        return 0

    workers = max(1, min(MAX_WORKERS, args.jobs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(run_linter, name, folder, args.rule) for name, folder in ready.items()}
        runs = {name: future.result() for name, future in futures.items()}
    failed = {name: run.error for name, run in runs.items() if run.error}
    for name, error in failed.items():
        print(f"failed {name}: {error}")
    runs = {name: run for name, run in runs.items() if not run.error}

    result = score(runs, labels, args.rule)
    kinds = Counter(repos[name]["kind"] for name in runs)
    print(f"\nscored {len(runs)} repositories under {root} ("
          + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) + ")\n")
    print(format_table(result.rules))
    print("\nprecision = tp / (tp + fp); recall = tp / (tp + fn); fn = 'fn' labels not reported + tp labels lost")
    for label in result.promoted:
        print(f"now reported, promote this fn label to tp: {_where(label)}")
    for label in result.lost:
        print(f"no longer reported (a tp label, counted as fn): {_where(label)}")
    if result.fixed:
        print(f"{len(result.fixed)} findings labelled fp are no longer reported")
    if args.show_unlabelled:
        for (name, path, line, rule), message in result.unlabelled:
            print(f"unlabelled: {name} {path}:{line} {rule}: {message}")
    elif result.unlabelled:
        print(f"{len(result.unlabelled)} findings have no label: --show-unlabelled lists them")
    if args.check:
        failures = check_failures(result) + [f"{name} could not be linted" for name in failed]
        for failure in failures:
            print(f"check failed: {failure}")
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
