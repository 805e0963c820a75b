"""Baselines: `--write-baseline` records findings per (file, rule); `--baseline` reports only what goes beyond."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files
from tests.sarif_schema import assert_valid_sarif

TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]
LEGACY = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "package.json": '{"name": "legacy"}',
    "src/a.js": "new MarkerClient();\nnew MarkerClient();\nmarkerNote();\n",
    "src/b.js": "new MarkerClient();\n",
}


def invoke(*args):
    result = CliRunner().invoke(main, ["check", *map(str, args), *TEST_RULE_ARGS], catch_exceptions=False)
    return result


@pytest.fixture
def legacy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, LEGACY)
    written = invoke(".", "--write-baseline")
    assert written.exit_code == 0, written.output
    return tmp_path


def test_written_baseline_counts_per_file_and_rule_and_hides_everything(legacy):
    assert json.loads((legacy / "loadlint-baseline.json").read_text(encoding="utf-8")) == {
        "loadlint-baseline": 1,
        "findings": {
            "src/a.js": {"testing/marker-client": {"count": 2}, "testing/marker-note": {"count": 1}},
            "src/b.js": {"testing/marker-client": {"count": 1}},
        },
    }
    again = invoke(".", "--baseline", "loadlint-baseline.json")
    assert again.exit_code == 0
    assert again.output == "No problems reported; 2 files checked. Not counted: 4 accepted by the baseline.\n"


def test_rewriting_gives_the_same_bytes(legacy):
    first = (legacy / "loadlint-baseline.json").read_bytes()
    invoke(".", "--write-baseline")
    assert (legacy / "loadlint-baseline.json").read_bytes() == first


def test_findings_that_move_stay_hidden(legacy):
    write_files(legacy, {"src/a.js": "import x from 'x';\n\nnew MarkerClient(x);\nmarkerNote();\nnew MarkerClient();\n"})
    result = invoke(".", "--baseline", "loadlint-baseline.json")
    assert result.exit_code == 0, result.output


def test_a_grown_count_shows_every_finding_of_that_file_and_rule(legacy):
    write_files(legacy, {"src/a.js": "new MarkerClient();\nnew MarkerClient();\nmarkerNote();\nnew MarkerClient();\n"})
    result = invoke(".", "--baseline", "loadlint-baseline.json", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(f["path"], f["span"]["start_line"], f["rule_id"]) for f in report["findings"]] == [
        ("src/a.js", 1, "testing/marker-client"),
        ("src/a.js", 2, "testing/marker-client"),
        ("src/a.js", 4, "testing/marker-client"),
    ]
    assert [n["message"] for n in report["notices"]] == [
        "3 findings of testing/marker-client where loadlint-baseline.json allows 2: all are shown, "
        "since any of them may be the new one"
    ]


def test_entries_that_no_longer_occur_are_listed_for_pruning(legacy):
    write_files(legacy, {"src/a.js": "new MarkerClient();\n"})
    (legacy / "src/b.js").unlink()
    result = invoke(".", "--baseline", "loadlint-baseline.json", "--format", "json")
    assert result.exit_code == 0
    notices = {(n["path"], n["message"]) for n in json.loads(result.output)["notices"]}
    assert notices == {
        ("src/a.js", "the loadlint-baseline.json entry for testing/marker-client occurs 1 times instead of 2; prune it with --write-baseline"),
        ("src/a.js", "the loadlint-baseline.json entry for testing/marker-note no longer occurs; prune it with --write-baseline"),
        ("src/b.js", "the loadlint-baseline.json entry for testing/marker-client no longer occurs; prune it with --write-baseline"),
    }
    invoke(".", "--write-baseline")
    pruned = json.loads((legacy / "loadlint-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert pruned == {"src/a.js": {"testing/marker-client": {"count": 1}}}


def test_a_partial_run_neither_calls_other_entries_stale_nor_drops_them(legacy):
    write_files(legacy, {"src/b.js": "new MarkerClient();\nnew MarkerClient();\n"})
    result = invoke("src/b.js", "--baseline", "loadlint-baseline.json", "--format", "json")
    assert result.exit_code == 1
    assert all(n["path"] == "src/b.js" for n in json.loads(result.output)["notices"])

    only_notes = invoke(".", "--ignore", "testing/marker-client", "--baseline", "loadlint-baseline.json", "--format", "json")
    assert only_notes.exit_code == 0 and json.loads(only_notes.output)["notices"] == []

    invoke("src/b.js", "--write-baseline")
    findings = json.loads((legacy / "loadlint-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert findings["src/b.js"] == {"testing/marker-client": {"count": 2}}
    assert findings["src/a.js"] == {"testing/marker-client": {"count": 2}, "testing/marker-note": {"count": 1}}


def test_sarif_with_a_baseline_is_valid_and_carries_the_notices(legacy):
    (legacy / "src/b.js").unlink()
    result = invoke(".", "--baseline", "loadlint-baseline.json", "--format", "sarif")
    log = json.loads(result.output)
    assert_valid_sarif(log)
    run = log["runs"][0]
    assert run["results"] == []
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "no longer occurs" in notification["message"]["text"]


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "baseline file loadlint-baseline.json does not exist; create it with --write-baseline"),
        ("{", "baseline file loadlint-baseline.json is not valid JSON"),
        ('{"findings": {}}', "loadlint-baseline.json is not a loadlint baseline (version 1)"),
        ('{"loadlint-baseline": 1, "findings": []}', "loadlint-baseline.json: findings must be an object"),
        (
            '{"loadlint-baseline": 1, "findings": {"a.js": {"x/y": {"count": 0}}}}',
            "loadlint-baseline.json: findings.a.js.x/y.count must be a whole number above 0",
        ),
    ],
    ids=["missing", "not-json", "not-a-baseline", "bad-findings", "bad-count"],
)
def test_a_bad_baseline_file_is_one_line_and_exit_2(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, LEGACY)
    if content is not None:
        write_files(tmp_path, {"loadlint-baseline.json": content})
    result = invoke(".", "--baseline", "loadlint-baseline.json")
    assert result.exit_code == 2
    assert result.output.startswith(f"loadlint: error: {message}")
    assert result.output.count("\n") == 1


def test_writing_never_overwrites_a_file_that_is_not_a_baseline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {**LEGACY, "package-lock.json": '{"lockfileVersion": 3}'})
    result = invoke(".", "--write-baseline", "package-lock.json")
    assert result.exit_code == 2
    assert (tmp_path / "package-lock.json").read_text(encoding="utf-8") == '{"lockfileVersion": 3}'


@pytest.mark.parametrize(
    "args, message",
    [
        (["--write-baseline", "src/a.js"], "--write-baseline takes a .json file name, not src/a.js"),
        (["--write-baseline", "new.json", "--baseline", "old.json"], "use --baseline or --write-baseline, not both"),
    ],
)
def test_baseline_option_mistakes(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, LEGACY)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_the_config_baseline_key_is_read_when_no_baseline_is_given(legacy):
    """`baseline` in the config of the linted folder: plain `loadlint check` hides what it records."""
    (legacy / "ci").mkdir()
    (legacy / "loadlint-baseline.json").rename(legacy / "ci" / "accepted.json")
    write_files(legacy, {".loadlint.toml": 'baseline = "ci/accepted.json"\n'})
    assert invoke(".").exit_code == 0
    assert invoke("src/b.js").exit_code == 0
    write_files(legacy, {"src/b.js": "new MarkerClient();\nnew MarkerClient();\n"})
    grown = invoke(".", "--format", "json")
    assert grown.exit_code == 1 and {f["path"] for f in json.loads(grown.stdout)["findings"]} == {"src/b.js"}
    assert invoke(".", "--baseline", "ci/accepted.json", "--ignore", "testing/marker-client").exit_code == 0


def test_the_config_baseline_key_names_a_file_of_the_repository(legacy, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "accepted.json"
    (legacy / "loadlint-baseline.json").rename(outside)
    for value in (str(outside), "../" * 12 + str(outside).lstrip("/")):
        write_files(legacy, {".loadlint.toml": f"baseline = {json.dumps(value)}\n"})
        refused = invoke(".")
        assert refused.exit_code == 2
        assert refused.stderr == f"loadlint: error: .loadlint.toml: key 'baseline': {value} is outside the repository\n"
    (legacy / "link.json").symlink_to(outside)
    write_files(legacy, {".loadlint.toml": 'baseline = "link.json"\n'})
    refused = invoke(".")
    assert refused.exit_code == 2 and "link.json" in refused.stderr and "symbolic link" in refused.stderr
    write_files(legacy, {".loadlint.toml": 'baseline = "missing.json"\n'})
    missing = invoke(".")
    assert missing.exit_code == 2 and "missing.json does not exist; create it with --write-baseline" in missing.stderr
