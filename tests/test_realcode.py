"""The labelled real-code set: its files are well formed, always; scoring runs only on request
(LOADLINT_REALCODE_SCORE=1) and only on the repositories extracted on this machine (none in CI)."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path, PurePosixPath

import pytest

from tests.realcode import score

REPOS = score.load_repos()
LABELS = score.load_labels()
KINDS = {"next", "express", "nestjs", "fastify", "hono", "trpc", "other"}
VERDICTS = {"tp", "fp", "fn"}
LABEL_FIELDS = {"repo", "commit", "path", "line", "rule", "verdict", "note"}
REPO_FIELDS = {"commit", "kind", "frameworks", "prisma", "folder"}
COMMIT = re.compile(r"[0-9a-f]{40}")
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_NOTE = 200


def test_repos_file_schema():
    assert REPOS, "repos.json lists no repository"
    folders = Counter()
    for name, info in REPOS.items():
        assert REPO_NAME.fullmatch(name), name
        assert set(info) == REPO_FIELDS, f"{name}: fields {sorted(info)}"
        assert COMMIT.fullmatch(info["commit"]), f"{name}: commit {info['commit']!r}"
        assert info["kind"] in KINDS, f"{name}: kind {info['kind']!r}"
        assert info["frameworks"] and set(info["frameworks"]) <= KINDS - {"other"}, f"{name}: {info['frameworks']}"
        assert isinstance(info["prisma"], bool), name
        assert info["folder"] == name.replace("/", "+"), f"{name}: folder {info['folder']!r}"
        folders[info["folder"].lower()] += 1
    assert not [folder for folder, count in folders.items() if count > 1]


def test_labels_file_schema():
    rule_ids = score.known_rule_ids()
    for label in LABELS:
        where = f"{label.get('repo')} {label.get('path')}:{label.get('line')} {label.get('rule')}"
        assert set(label) == LABEL_FIELDS, f"{where}: fields {sorted(label)}"
        assert label["repo"] in REPOS, f"{where}: repository not in repos.json"
        assert label["commit"] == REPOS[label["repo"]]["commit"], f"{where}: commit differs from repos.json"
        assert label["rule"] in rule_ids, f"{where}: unknown rule id"
        assert label["verdict"] in VERDICTS, f"{where}: verdict {label['verdict']!r}"
        assert type(label["line"]) is int and label["line"] >= 1, where
        path = label["path"]
        assert isinstance(path, str) and path and "\\" not in path, where
        assert not PurePosixPath(path).is_absolute() and ".." not in PurePosixPath(path).parts, where
        assert PurePosixPath(path).as_posix() == path, f"{where}: path not in normal form"
        note = label["note"]
        assert isinstance(note, str) and note.strip() and len(note) <= MAX_NOTE and "\n" not in note, where
        # Labels hold words, never the scanned code: a quoted span names one identifier at most.
        assert all(" " not in quoted for quoted in re.findall(r"`([^`]*)`", note)), f"{where}: code in the note"


def test_labels_have_one_record_per_finding():
    keys = Counter(score.label_key(label) for label in LABELS)
    assert [key for key, count in keys.items() if count > 1] == []


def test_labels_stay_sorted_in_their_family_file():
    for path in sorted(score.LABELS_DIR.glob("*.json")):
        labels = score.load_label_file(path)
        keys = [(label["repo"].lower(), label["path"], label["line"], label["rule"]) for label in labels]
        assert keys == sorted(keys), f"keep {path.name} sorted by repo, path, line, rule (stable diffs)"
        assert {label["rule"].split("/")[0] for label in labels} <= {path.stem}, f"{path.name} holds another family"


def _ready():
    ready, _ = score.present_repos(REPOS, score.realcode_root())
    return ready


def test_labels_point_inside_the_extracted_files():
    ready = _ready()
    if not ready:
        pytest.skip("no labelled repository is extracted on this machine")
    line_counts: dict[Path, int] = {}
    for label in LABELS:
        folder = ready.get(label["repo"])
        if folder is None:
            continue
        file = folder / label["path"]
        assert file.is_file(), f"{label['repo']}: {label['path']} is not in the extracted tree"
        if file not in line_counts:
            line_counts[file] = len(file.read_bytes().splitlines())
        assert label["line"] <= line_counts[file], f"{label['repo']} {label['path']}:{label['line']}: past the end"


def test_score_on_the_extracted_repositories(capsys):
    if os.environ.get("LOADLINT_REALCODE_SCORE") != "1":
        pytest.skip("set LOADLINT_REALCODE_SCORE=1 to lint the extracted repositories")
    if not _ready():
        pytest.skip("no labelled repository is extracted on this machine")
    assert score.main([]) == 0
    output = capsys.readouterr().out
    assert "failed " not in output, output
    assert "precision" in output


def test_score_table_counts():
    repo = "owner/app"
    runs = {repo: score.RepoRun(findings=[
        ((repo, "a.ts", 1, "x/y"), "m"),  # labelled tp
        ((repo, "a.ts", 2, "x/y"), "m"),  # labelled fp
        ((repo, "a.ts", 3, "x/y"), "m"),  # an fn label now reported: promoted
        ((repo, "a.ts", 4, "x/y"), "m"),  # unlabelled
        ((repo, "a.ts", 4, "x/y"), "m"),  # the same location twice counts once
    ])}

    def label(line, verdict, repo=repo):
        return {"repo": repo, "path": "a.ts", "line": line, "rule": "x/y", "verdict": verdict}

    labels = [label(1, "tp"), label(2, "fp"), label(3, "fn"), label(5, "fn"), label(6, "tp"), label(7, "fp"),
              label(1, "fp", repo="other/absent")]
    result = score.score(runs, labels, [])
    row = result.rules["x/y"]
    assert (row.findings, row.tp, row.fp, row.unlabelled, row.fn) == (4, 2, 1, 1, 2)
    assert row.precision == pytest.approx(2 / 3) and row.recall == pytest.approx(0.5)
    assert [item["line"] for item in result.promoted] == [3]
    assert [item["line"] for item in result.lost] == [6]
    assert [item["line"] for item in result.fixed] == [7]
    assert score.check_failures(result) == ["1 findings have no label (--show-unlabelled lists them)"]


def test_check_fails_below_the_precision_floor():
    repo = "owner/app"
    keys = [(repo, "a.ts", line, "x/y") for line in range(1, 11)]
    runs = {repo: score.RepoRun(findings=[(key, "m") for key in keys])}
    labels = [{"repo": repo, "path": "a.ts", "line": line, "rule": "x/y", "verdict": "tp" if line <= 8 else "fp"}
              for line in range(1, 11)]
    failures = score.check_failures(score.score(runs, labels, []))
    assert failures == ["x/y: precision 0.80 on 10 labelled findings (under 0.9)"]
    labels[-1]["verdict"] = "tp"
    assert score.check_failures(score.score(runs, labels, [])) == []
    # a rule with fewer than five labelled findings is not judged yet
    few = score.score({repo: score.RepoRun(findings=[(keys[0], "m")])}, [{**labels[0], "verdict": "fp"}], [])
    assert score.check_failures(few) == []


def test_absent_or_moved_repositories_are_skipped(tmp_path):
    commit = "a" * 40
    repos = {"o/absent": {"folder": "o+absent", "commit": commit}, "o/moved": {"folder": "o+moved", "commit": commit},
             "o/here": {"folder": "o+here", "commit": commit}}
    (tmp_path / "o+moved").mkdir()
    (tmp_path / "o+moved" / score.COMMIT_MARKER).write_text("b" * 40 + "\n")
    (tmp_path / "o+here").mkdir()
    (tmp_path / "o+here" / score.COMMIT_MARKER).write_text(commit + "\n")
    ready, skipped = score.present_repos(repos, tmp_path)
    assert list(ready) == ["o/here"]
    assert [line.split(":")[0] for line in skipped] == ["o/absent", "o/moved"]
