"""`--diff REF`: only findings on lines changed since the merge base, with real git repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.diffscope import parse_unified_diff
from tests.project_builder import TEST_RULES, write_files

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]


@pytest.fixture(autouse=True)
def git_identity(tmp_path, monkeypatch):
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def findings(repo: Path, *args: str) -> tuple[int, set[tuple[str, int]], list[str]]:
    result = CliRunner().invoke(main, ["check", str(repo), *TEST_RULE_ARGS, "--format", "json", *args], catch_exceptions=False)
    if result.exit_code == 2:
        return 2, set(), [result.output]
    report = json.loads(result.output)
    return result.exit_code, {(f["path"], f["span"]["start_line"]) for f in report["findings"]}, [n["message"] for n in report["notices"]]


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: one old finding in a.js; branch `feature` checked out, its own commit not yet made."""
    root = tmp_path / "repo"
    write_files(root, {"package.json": '{"name": "app"}', "src/a.js": "new MarkerClient();\nconst a = 1;\n", "src/b.js": "new MarkerClient();\n"})
    git(root, "init", "--quiet")
    commit_all(root, "base")
    git(root, "checkout", "--quiet", "-b", "feature")
    return root


def test_only_findings_on_changed_lines_committed_uncommitted_or_untracked(repo):
    write_files(repo, {"src/a.js": "// moved down\nnew MarkerClient();\nconst a = new MarkerClient();\n"})
    commit_all(repo, "feature work")
    write_files(repo, {"src/b.js": "new MarkerClient();\nnew MarkerClient(); // not committed yet\n", "src/c.js": "new MarkerClient();\n"})
    code, found, notices = findings(repo, "--diff", "main")
    assert code == 1
    assert found == {("src/a.js", 3), ("src/b.js", 2), ("src/c.js", 1)}
    assert notices == []
    assert findings(repo)[1] >= found | {("src/a.js", 2), ("src/b.js", 1)}


def test_changes_on_the_base_branch_after_the_branch_point_do_not_count(repo):
    git(repo, "checkout", "--quiet", "main")
    write_files(repo, {"src/b.js": "new MarkerClient();\nnew MarkerClient();\n"})
    commit_all(repo, "main moves on")
    git(repo, "checkout", "--quiet", "feature")
    write_files(repo, {"src/a.js": "new MarkerClient();\nconst a = new MarkerClient();\n"})
    commit_all(repo, "feature")
    assert findings(repo, "--diff", "main")[1] == {("src/a.js", 2)}


def test_no_changes_means_no_findings(repo):
    assert findings(repo, "--diff", "main")[:2] == (0, set())


def test_shallow_clone_without_the_base_falls_back_to_every_finding(repo, tmp_path):
    write_files(repo, {"src/a.js": "new MarkerClient();\nconst a = new MarkerClient();\n"})
    commit_all(repo, "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--branch", "feature", repo.as_uri(), str(clone))
    code, found, notices = findings(clone, "--diff", "main")
    assert found == {("src/a.js", 1), ("src/a.js", 2), ("src/b.js", 1)}
    assert notices == [
        "--diff: main is not in this shallow clone, so every finding is reported; fetch more history "
        "(actions/checkout with `fetch-depth: 0`, or `git fetch origin <branch>`)"
    ]


def test_shallow_clone_without_the_merge_base_compares_with_the_ref(repo, tmp_path):
    write_files(repo, {"src/a.js": "new MarkerClient();\nconst a = new MarkerClient();\n"})
    commit_all(repo, "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-single-branch", "--branch", "feature", repo.as_uri(), str(clone))
    code, found, notices = findings(clone, "--diff", "origin/main")
    assert found == {("src/a.js", 2)}
    assert len(notices) == 1 and notices[0].startswith("--diff: this shallow clone does not reach a common ancestor")


@pytest.mark.parametrize(
    "ref, message",
    [("no-such-branch", "--diff: unknown revision 'no-such-branch'"), ("--output=x", "--diff takes a git revision")],
)
def test_bad_refs_are_usage_errors(repo, ref, message):
    code, _, output = findings(repo, f"--diff={ref}")
    assert code == 2 and message in output[0]


def test_outside_a_git_repository_is_a_usage_error(tmp_path):
    write_files(tmp_path / "app", {"package.json": "{}", "a.js": "new MarkerClient();\n"})
    code, _, output = findings(tmp_path / "app", "--diff", "main")
    assert code == 2 and "--diff needs a git repository" in output[0]


def test_parse_unified_diff_names_and_hunks():
    diff = (
        "diff --git a/x.js b/x.js\n--- a/x.js\n+++ b/x.js\n@@ -1,0 +2,3 @@\n+a\n+b\n+c\n@@ -9 +12 @@\n-x\n+y\n"
        "@@ -20,2 +23,0 @@\n-gone\n-gone\n"
        "--- a/with space.js\t\n+++ b/with space.js\t\n@@ -1 +1 @@\n-a\n+b\n"
        '--- "a/tab\\there.js"\n+++ "b/tab\\there.js"\n@@ -1 +1 @@\n-a\n+b\n'
        "--- a/deleted.js\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"
    )
    assert parse_unified_diff(diff) == {
        "x.js": frozenset({2, 3, 4, 12}),
        "with space.js": frozenset({1}),
        "tab\there.js": frozenset({1}),
    }
