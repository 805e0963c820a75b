"""The command line through click's runner: exit codes, formats, output file, bad input."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files
from tests.sarif_schema import assert_valid_sarif

TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path):
    return write_files(tmp_path, {"package.json": '{"name": "app"}', "src/a.js": "new MarkerClient();\nmarkerNote();\n"})


def test_findings_exit_1_and_print_location(project):
    result = invoke("check", project, *TEST_RULE_ARGS)
    assert result.exit_code == 1
    assert "src/a.js:1:1: error testing/marker-client\n  MarkerClient is created here.\n" in result.output
    assert "\x1b" not in result.output


def test_clean_exit_0(tmp_path):
    write_files(tmp_path, {"a.js": "const x = 1;\n"})
    result = invoke("check", tmp_path, *TEST_RULE_ARGS)
    assert result.exit_code == 0, result.output
    assert "No problems found; 1 file checked." in result.output


@pytest.mark.parametrize(
    "extra, code",
    [
        (["--fail-on", "error"], 1),
        (["--select", "testing/marker-note"], 0),
        (["--select", "testing/marker-note", "--fail-on", "note"], 1),
        (["--ignore", "testing/marker-client"], 0),
        (["--exit-zero"], 0),
    ],
)
def test_fail_on_select_ignore_exit_zero(project, extra, code):
    args = ["check", project, "--rules-dir", TEST_RULES, *extra]
    if "--select" not in extra:
        args += ["--select", "testing"]
    assert invoke(*args).exit_code == code


def test_json_is_sorted_and_stable(project):
    first = invoke("check", project, *TEST_RULE_ARGS, "--format", "json").output
    second = invoke("check", project, *TEST_RULE_ARGS, "--format", "json").output
    assert first == second
    data = json.loads(first)
    assert [f["rule_id"] for f in data["findings"]] == ["testing/marker-client", "testing/marker-note"]


def test_sarif_output_file_is_valid(project, tmp_path):
    out = tmp_path / "report.sarif"
    result = invoke("check", project, *TEST_RULE_ARGS, "--format", "sarif", "--output", out, "--category", "backend")
    assert result.exit_code == 1
    log = json.loads(out.read_text(encoding="utf-8"))
    assert_valid_sarif(log)
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": "backend/"}
    assert [r["ruleId"] for r in run["results"]] == ["testing/marker-client", "testing/marker-note"]
    assert run["results"][0]["partialFingerprints"]["primaryLocationLineHash"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_github_format(project):
    result = invoke("check", project, *TEST_RULE_ARGS, "--format", "github")
    assert "::error file=src/a.js,line=1,col=1,endLine=1,endColumn=19,title=testing/marker-client::" in result.output
    assert "::notice file=src/a.js,line=2" in result.output


def test_missing_path_is_exit_2_with_one_line(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"loadlint: error: path does not exist: {tmp_path / 'nope'}"]


def test_bad_config_is_exit_2_naming_file_and_key(tmp_path):
    write_files(tmp_path, {".loadlint.toml": 'select = ["auth"]\nfail_on = "error"\n', "a.js": "x;\n"})
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == "loadlint: error: .loadlint.toml: key 'fail_on': unknown key"


def test_broken_user_rule_is_exit_2(tmp_path):
    write_files(tmp_path, {"rules/x/broken.py": "raise RuntimeError('boom')\n", "a.js": "x;\n"})
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--rules-dir", str(tmp_path / "rules")])
    assert result.exit_code == 2
    assert "broken.py: RuntimeError: boom" in result.output
    assert "Traceback" not in result.output


def test_bad_input_files_become_notices_and_the_run_goes_on(tmp_path):
    write_files(
        tmp_path,
        {
            "binary.js": b"\x7fELF\x00\x00\x01\x02" * 64,
            "latin1.js": "const café = 1;\n".encode("latin-1"),
            "bundle.js": "var a=1;" * 700_000,
            "broken.js": "const = ;\nnew MarkerClient();\n",
            "good.js": "new MarkerClient();\n",
        },
    )
    (tmp_path / "dir.js").mkdir()
    os.symlink(tmp_path, tmp_path / "loop")
    result = CliRunner().invoke(main, ["check", str(tmp_path), *map(str, TEST_RULE_ARGS), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    notices = {n["path"]: n["message"] for n in data["notices"]}
    assert notices["binary.js"] == "skipped: binary file"
    assert notices["latin1.js"].startswith("skipped: not UTF-8 text")
    assert "minified" in notices["bundle.js"] or "limit" in notices["bundle.js"]
    assert "syntax errors" in notices["broken.js"]
    assert {(f["path"], f["span"]["start_line"]) for f in data["findings"]} == {("broken.js", 2), ("good.js", 1)}


def test_unreadable_file_is_a_notice(tmp_path, monkeypatch):
    write_files(tmp_path, {"secret.js": "new MarkerClient();\n", "good.js": "new MarkerClient();\n"})
    real_open = os.open

    def open_(file, *args, **kwargs):  # as a file without read permission (the tests may run as root)
        if os.path.basename(file) == "secret.js":
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    result = CliRunner().invoke(main, ["check", str(tmp_path), *map(str, TEST_RULE_ARGS), "--format", "json"])
    data = json.loads(result.output)
    assert {n["path"]: n["message"] for n in data["notices"]} == {"secret.js": "cannot read file: Permission denied"}
    assert [f["path"] for f in data["findings"]] == ["good.js"]


def test_rule_crash_is_a_notice_and_exit_2(tmp_path):
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
            "a.js": "new MarkerClient();\n",
        },
    )
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--rules-dir", str(tmp_path / "rules"), "--no-color"])
    assert result.exit_code == 2
    assert "internal error in rule crash/boom: ValueError: bad day" in result.output
    assert CliRunner().invoke(main, ["check", str(tmp_path), "--rules-dir", str(tmp_path / "rules"), "--exit-zero"]).exit_code == 0


def test_rules_and_explain():
    listing = invoke("rules")
    assert listing.exit_code == 0
    assert "loadlint/unused-suppression" in listing.output
    explained = invoke("explain", "loadlint/invalid-suppression")
    assert "Why is this bad?" in explained.output
    assert "Frameworks it understands: any (no framework changes what it reads)." in explained.output
    shutdown = invoke("explain", "express/no-graceful-shutdown").output
    assert "Frameworks it understands: Express, Node http, Next.js, NestJS, Fastify, Hono, Koa." in " ".join(shutdown.split())
    unknown = CliRunner().invoke(main, ["explain", "nope/nope"])
    assert unknown.exit_code == 2
    assert "unknown rule 'nope/nope'" in unknown.output


def test_version():
    assert invoke("--version").output.startswith("loadlint, version ")
