"""What GitHub code scanning needs from loadlint's SARIF to keep alerts stable: checked end to end through the CLI.

An alert's identity is (rule id, repo-relative path, category, `primaryLocationLineHash`); if any of these
moves between two runs on unchanged code, the alert is closed and a new one opened.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.fixture_cases import FIXTURES
from tests.project_builder import TEST_RULES, write_files
from tests.sarif_schema import assert_valid_sarif

TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]
MAX_TAGS = 10  # GitHub shows at most 10 tags per rule and drops the rest


def sarif_of(*args, cwd: Path | None = None, monkeypatch=None) -> dict:
    if cwd is not None:
        monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, ["check", *map(str, args), "--format", "sarif"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    log = json.loads(result.output)
    assert_valid_sarif(log)
    return log


def results(log: dict) -> list[dict]:
    (run,) = log["runs"]
    return run["results"]


def uris(log: dict) -> list[str]:
    return [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(log)]


def test_line_hash_survives_unrelated_lines_inserted_above(tmp_path):
    body = "function load() {\n  return new MarkerClient();\n}\n"
    write_files(tmp_path, {"package.json": '{"name": "app"}', "src/a.js": body})
    before = results(sarif_of(tmp_path, *TEST_RULE_ARGS))
    write_files(tmp_path, {"src/a.js": "import x from 'x';\n\n// a comment\nconst y = x + 1;\n" + body})
    after = results(sarif_of(tmp_path, *TEST_RULE_ARGS))

    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in (*before, *after)] == [2, 6]
    assert after[0]["partialFingerprints"] == before[0]["partialFingerprints"]


def test_identical_bytes_across_runs_and_one_run_on_the_demo_app(tmp_path):
    outputs = []
    for name in ("first.sarif", "second.sarif"):
        out = tmp_path / name
        CliRunner().invoke(main, ["check", str(FIXTURES / "demo"), "--format", "sarif", "-o", str(out)])
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    log = json.loads(outputs[0])
    assert_valid_sarif(log)
    assert len(log["runs"]) == 1
    assert results(log), "the demo app is meant to have findings"


def test_every_rule_has_at_most_ten_tags(tmp_path):
    write_files(tmp_path, {"a.js": "const x = 1;\n"})
    rules = sarif_of(tmp_path)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) > 5
    too_many = {rule["id"]: len(rule["properties"]["tags"]) for rule in rules if len(rule["properties"]["tags"]) > MAX_TAGS}
    assert not too_many


@pytest.fixture
def monorepo(tmp_path):
    root = tmp_path / "repo"
    write_files(
        root,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": '{"name": "monorepo", "private": true}',
            "packages/api/package.json": '{"name": "api"}',
            "packages/api/src/a.js": "new MarkerClient();\n",
            "packages/web/package.json": '{"name": "web"}',
            "packages/web/b.js": "new MarkerClient();\n",
        },
    )
    return root


@pytest.mark.parametrize(
    "cwd, args",
    [
        ("packages/api", ["."]),
        ("packages/api/src", ["a.js"]),
        ("", ["packages/api"]),
        ("packages/web", ["../api/src/a.js"]),
    ],
    ids=["package-folder", "one-file-from-its-folder", "package-from-the-root", "sibling-package"],
)
def test_paths_are_relative_to_the_repository_wherever_the_run_starts(monorepo, monkeypatch, cwd, args):
    log = sarif_of(*args, *TEST_RULE_ARGS, cwd=monorepo / cwd, monkeypatch=monkeypatch)
    assert uris(log) == ["packages/api/src/a.js"]
    location = results(log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uriBaseId"] == "%SRCROOT%"
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == monorepo.as_uri() + "/"


def test_automation_details_only_with_a_category(tmp_path):
    write_files(tmp_path, {"a.js": "new MarkerClient();\n"})
    assert "automationDetails" not in sarif_of(tmp_path, *TEST_RULE_ARGS)["runs"][0]
    categorised = sarif_of(tmp_path, *TEST_RULE_ARGS, "--category", "backend")["runs"][0]
    assert categorised["automationDetails"] == {"id": "backend/"}
