"""Issue 18, "Output people can use", through the command line: the level of every finding in words, summaries
that add up, -q, --statistics, --color, wrapping, and the new formats on a real run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.fixture_cases import FIXTURES
from tests.project_builder import TEST_RULES, write_files

TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


def last_line(output: str) -> str:
    return " ".join(output.rstrip("\n").split("\n\n")[-1].split())  # the summary, unwrapped


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path):
    return write_files(
        tmp_path / "app",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": '{"name": "app"}',
            "src/a.js": "new MarkerClient();\nmarkerNote();\n",
            "src/b.js": "const b = 1;\n",
            "src/c.js": "const c = 2;\n",
        },
    )


# --- levels in words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", [["--no-color"], ["--color", "never"], ["--color", "auto"]], ids=["no-color", "never", "auto-pipe"])
def test_plain_text_names_each_finding_level(project, how):
    result = invoke("check", project, *TEST_RULE_ARGS, *how)
    assert "\x1b" not in result.output
    assert "src/a.js:1:1: error testing/marker-client\n" in result.output
    assert "src/a.js:2:1: note testing/marker-note\n" in result.output


def test_no_color_environment_keeps_the_level_words(project):
    result = invoke("check", project, *TEST_RULE_ARGS, env={"NO_COLOR": "1"})
    assert "\x1b" not in result.output and ": error testing/marker-client" in result.output


def test_every_level_reported_on_the_demo_is_the_rules_level_or_one_it_declares():
    listed = {rule["id"]: rule for rule in json.loads(invoke("rules", "--format", "json").output)}
    report = json.loads(invoke("check", FIXTURES / "demo", "--format", "json", "--no-cache").output)
    seen_other = set()
    for finding in report["findings"]:
        rule = listed[finding["rule_id"]]
        allowed = {rule["level"]} | {level for level, _ in rule["other_levels"]}
        assert finding["level"] in allowed, finding
        if finding["level"] != rule["level"]:
            seen_other.add(finding["rule_id"])
    assert "prisma/missing-relation-index" in seen_other  # the demo has a note of a warning rule


def test_rules_and_explain_say_which_findings_get_another_level():
    listing = invoke("rules").output
    assert re.search(r"^prisma/missing-relation-index +warning\* ", listing, re.M)
    assert "* prisma/missing-relation-index reports notes for a list query that filters on a foreign key" in " ".join(listing.split())
    explained = " ".join(invoke("explain", "prisma/db-push-in-deploy").output.split())
    assert "prisma/db-push-in-deploy (warning, precision high) It reports errors for `--accept-data-loss`" in explained


def test_a_level_set_in_the_config_is_the_one_rules_shows_and_check_reports(project, monkeypatch):
    write_files(project, {".loadlint.toml": '[levels]\n"testing/marker-note" = "warning"\n'})
    monkeypatch.chdir(project)
    listing = invoke("rules", "--rules-dir", TEST_RULES).output
    assert re.search(r"^testing/marker-note +warning \(config\) ", listing, re.M)
    assert "src/a.js:2:1: warning testing/marker-note\n" in invoke("check", *TEST_RULE_ARGS).output


# --- summaries ---------------------------------------------------------------------------------------------


def test_the_summary_counts_the_files_with_problems_and_the_files_checked(project):
    result = invoke("check", project, *TEST_RULE_ARGS)
    assert last_line(result.output) == "Found 2 problems (1 error, 1 note) in 1 file; 3 files checked."


def test_a_finding_in_a_project_file_counts_that_file_as_checked(tmp_path):
    write_files(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": json.dumps(
                {
                    "name": "app",
                    "scripts": {"build": "prisma db push --accept-data-loss && next build"},
                    "dependencies": {"@prisma/client": "^5.0.0", "next": "^14.0.0"},
                    "devDependencies": {"prisma": "^5.0.0"},
                }
            ),
        },
    )
    result = invoke("check", tmp_path, "--select", "prisma/db-push-in-deploy")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("package.json:1:39: error prisma/db-push-in-deploy\n")
    assert last_line(result.output) == "Found 1 problem (1 error) in 1 file; 1 file checked."


def test_after_writing_a_baseline_the_summary_says_what_it_accepted(project, monkeypatch):
    monkeypatch.chdir(project)
    result = invoke("check", ".", *TEST_RULE_ARGS, "--write-baseline")
    assert result.exit_code == 0
    assert result.stderr == "loadlint: loadlint-baseline.json records 2 findings in 1 file\n"
    assert result.stdout == "No problems reported; 3 files checked. Not counted: 2 accepted by the baseline.\n"
    write_files(project, {"src/b.js": "markerNote();\n"})
    again = invoke("check", ".", *TEST_RULE_ARGS, "--baseline", "loadlint-baseline.json")
    assert last_line(again.output) == (
        "Found 1 problem (1 note) in 1 file; 3 files checked. Not counted: 2 accepted by the baseline."
    )
    single = invoke("check", "src/b.js", *TEST_RULE_ARGS, "--write-baseline", "one.json")
    assert single.stderr == "loadlint: one.json records 1 finding in 1 file\n"


def test_suppressed_findings_are_counted_apart(project):
    write_files(project, {"src/a.js": "// loadlint-ignore testing/marker-client -- a fake client\nnew MarkerClient();\n"})
    result = invoke("check", project, *TEST_RULE_ARGS)
    assert result.output == "No problems reported; 3 files checked. Not counted: 1 suppressed in the source.\n"


def test_an_incomplete_run_says_so_in_its_summary(tmp_path):
    write_files(
        tmp_path,
        {
            "rules/crash/boom.py": (
                '"""Crashes."""\n'
                "from linter.model import Level, Precision\n"
                "from linter.rule import Rule\n"
                "class Boom(Rule):\n"
                "    id = 'crash/boom'\n    name = 'Boom'\n    level = Level.ERROR\n    precision = Precision.HIGH\n"
                "    query = '(program) @p'\n"
                "    def check(self, match, file):\n        raise ValueError('bad day')\n"
            ),
            "a.js": "const a = 1;\n",
        },
    )
    result = invoke("check", tmp_path, "--rules-dir", tmp_path / "rules", "--select", "crash")
    assert result.exit_code == 2
    assert last_line(result.output) == (
        "No problems found; 1 file checked. The run is incomplete (see the notices): there may be more."
    )
    quiet = invoke("check", tmp_path, "--rules-dir", tmp_path / "rules", "--select", "crash", "-q")
    assert quiet.exit_code == 2 and quiet.stdout == ""
    assert quiet.stderr == (
        "loadlint: the run is incomplete: some files or rules were not checked (run without --quiet to see why)\n"
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_findings_outside_the_diff_are_counted_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    repo = write_files(tmp_path / "repo", {"package.json": '{"name": "app"}', "src/a.js": "new MarkerClient();\nmarkerNote();\n", "src/b.js": "const b = 1;\n"})
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "base"]):
        subprocess.run(["git", *command], cwd=repo, check=True, capture_output=True)
    write_files(repo, {"src/b.js": "const b = 1;\nnew MarkerClient();\n"})
    result = invoke("check", repo, *TEST_RULE_ARGS, "--diff", "HEAD")
    assert last_line(result.output) == (
        "Found 1 problem (1 error) in 1 file; 2 files checked. Not counted: 2 on lines --diff leaves out."
    )


# --- -q, --statistics, --color, wrapping -------------------------------------------------------------------


def test_quiet_prints_the_findings_only(project, monkeypatch):
    write_files(project, {"src/big.min.js": "x();\n"})  # skipped with a notice
    loud = invoke("check", project, *TEST_RULE_ARGS)
    assert "big.min.js" in loud.output and "Found 2 problems" in loud.output
    quiet = invoke("check", project, *TEST_RULE_ARGS, "--quiet")
    assert quiet.exit_code == 1 and quiet.stderr == ""
    assert quiet.stdout.startswith("src/a.js:1:1: error testing/marker-client\n")
    assert "big.min.js" not in quiet.stdout and "problem" not in quiet.stdout and "testing/marker-note\n" in quiet.stdout
    concise = invoke("check", project, *TEST_RULE_ARGS, "-q", "--format", "concise")
    assert concise.stdout == (
        "src/a.js:1:1: error testing/marker-client MarkerClient is created here.\n"
        "src/a.js:2:1: note testing/marker-note markerNote is called here.\n"
    )
    monkeypatch.chdir(project)
    baseline = invoke("check", ".", *TEST_RULE_ARGS, "-q", "--write-baseline")
    assert baseline.exit_code == 0 and baseline.output == ""


def test_statistics_count_findings_per_rule(project):
    result = invoke("check", project, *TEST_RULE_ARGS, "--statistics")
    assert result.exit_code == 1
    assert result.output.startswith("1  testing/marker-client  error\n1  testing/marker-note    note\n\n")
    assert last_line(result.output).startswith("Found 2 problems")
    rows = json.loads(invoke("check", project, *TEST_RULE_ARGS, "--statistics", "--format", "json").output)
    assert rows == [
        {"rule_id": "testing/marker-client", "count": 1, "levels": {"error": 1}, "fixable": 0, "unsafe_fixable": 0},
        {"rule_id": "testing/marker-note", "count": 1, "levels": {"note": 1}, "fixable": 0, "unsafe_fixable": 0},
    ]
    refused = CliRunner().invoke(main, ["check", str(project), "--statistics", "--format", "sarif"])
    assert refused.exit_code == 2
    assert refused.stderr == "loadlint: error: --statistics prints in text, concise, json, not --format sarif\n"


def test_statistics_count_what_the_fixes_would_fix(tmp_path):
    write_files(tmp_path, {"package.json": '{"name": "a", "dependencies": {"jsonwebtoken": "^9.0.0"}}',
                           "a.js": "const s = process.env.JWT_SECRET || 'dev';\nconst t = process.env.API_TOKEN || 'x';\n"})
    result = invoke("check", tmp_path, "--select", "auth/secret-fallback", "--statistics", "-q")
    assert result.output == "2  auth/secret-fallback  error  2 fixable with --unsafe-fixes\n"


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ([], {}, False),  # not a terminal
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": ""}, False),  # empty: not set
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),  # FORCE_COLOR wins, as force-color.org's example
        (["--color", "always"], {"NO_COLOR": "1"}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        (["--no-color"], {"FORCE_COLOR": "1"}, False),
        (["--color", "always", "--format", "concise"], {}, True),
        (["--color", "always", "--format", "json"], {}, False),  # machine formats never
        (["--color", "always", "--format", "github"], {}, False),
    ],
)
def test_color_choice_and_environment(project, args, env, coloured):
    output = invoke("check", project, *TEST_RULE_ARGS, *args, env=env).output
    assert ("\x1b[" in output) == coloured
    if coloured:
        assert ANSI.sub("", output) == invoke("check", project, *TEST_RULE_ARGS, *args[2:], "--no-color").output


def test_color_always_colours_a_report_file_and_auto_never_does(project, tmp_path):
    invoke("check", project, *TEST_RULE_ARGS, "-o", tmp_path / "auto.txt", env={"FORCE_COLOR": "1"})
    invoke("check", project, *TEST_RULE_ARGS, "-o", tmp_path / "always.txt", "--color", "always")
    assert "\x1b[" not in (tmp_path / "auto.txt").read_text(encoding="utf-8")
    assert "\x1b[" in (tmp_path / "always.txt").read_text(encoding="utf-8")


def test_no_color_and_color_always_conflict(project):
    result = CliRunner().invoke(main, ["check", str(project), "--no-color", "--color", "always"])
    assert result.exit_code == 2 and result.stderr == "loadlint: error: use --color always or --no-color, not both\n"


LONG = "A very long message " + "that keeps going " * 12 + "until the end."


@pytest.fixture
def long_message_rule(tmp_path):
    write_files(
        tmp_path / "rules",
        {
            "long/message.py": (
                '"""Says a lot."""\n'
                "from linter.model import Level, Precision\n"
                "from linter.rule import Rule\n"
                "class Message(Rule):\n"
                "    id = 'long/message'\n    name = 'Message'\n    level = Level.WARNING\n    precision = Precision.HIGH\n"
                "    query = '(program) @p'\n"
                f"    def check(self, match, file):\n        yield file.report(self, match['p'], {LONG!r})\n"
            )
        },
    )
    return write_files(tmp_path / "app", {"package.json": '{"name": "a"}', "a.js": "x();\n"}), tmp_path / "rules"


@pytest.mark.parametrize(("env", "width"), [({}, 80), ({"COLUMNS": "120"}, 120), ({"COLUMNS": "10"}, 40)])
def test_messages_wrap_at_80_columns_or_the_given_width(long_message_rule, env, width):
    app, rules = long_message_rule
    lines = invoke("check", app, "--rules-dir", rules, "--select", "long", env=env).output.splitlines()
    body = lines[1 : lines.index("", 1)]
    message = [line for line in body if not re.match(r"^ +[0-9]* \|", line)]
    assert len(message) > 1 and all(line.startswith("  ") and len(line) <= width for line in message)
    assert max(len(line) for line in message) > width - 20
    assert " ".join(line.strip() for line in message) == LONG


# --- the new formats on a real run -------------------------------------------------------------------------


def test_concise_gitlab_and_junit_from_the_command_line(project):
    concise = invoke("check", project, *TEST_RULE_ARGS, "--format", "concise")
    assert concise.exit_code == 1
    assert concise.output.splitlines() == [
        "src/a.js:1:1: error testing/marker-client MarkerClient is created here.",
        "src/a.js:2:1: note testing/marker-note markerNote is called here.",
        "Found 2 problems (1 error, 1 note) in 1 file; 3 files checked.",
    ]
    issues = json.loads(invoke("check", project, *TEST_RULE_ARGS, "--format", "gitlab").output)
    assert [(i["check_name"], i["severity"], i["location"]) for i in issues] == [
        ("testing/marker-client", "major", {"path": "src/a.js", "lines": {"begin": 1, "end": 1}}),
        ("testing/marker-note", "info", {"path": "src/a.js", "lines": {"begin": 2, "end": 2}}),
    ]
    junit = ET.fromstring(invoke("check", project, *TEST_RULE_ARGS, "--format", "junit").output)
    assert (junit.get("tests"), junit.get("failures")) == ("3", "2")
