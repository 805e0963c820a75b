"""Issue 14, item 3: what the scanned repository wrote (file names, source quoted in messages, config keys,
baseline entries) can neither start a GitHub workflow command nor drive the terminal in any human-readable
output, while JSON and SARIF keep it exact."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from linter import github_action
from linter.cli import main
from linter.engine import RunOptions, run
from linter.formatters import render
from linter.model import Finding, Level, Location, Notice, Report, Span
from linter.terminal_text import json_escaped, printable
from tests.project_builder import write_files

PACKAGE = '{"name": "api", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0", "jsonwebtoken": "^9.0.0"}}'
# A secret fallback whose setting, quoted in the message, is source text spanning lines and holding escapes.
SOURCE = (
    "const jwt = require('jsonwebtoken');\n"
    "const secret = config.jwt/*\n::error::pwned-by-message\x1b]0;retitled\x07\u202e\n::add-mask::y*/.secret || 'dev-secret';\n"
    "jwt.sign({}, secret, { expiresIn: '1h' });\n"
)
NAMES = [
    "a\n::error::pwned.js",
    "b\n::add-mask::x.js",
    "c\r::stop-commands::tok.js",
    "d\x1b]0;retitled\x07\x1b[2J.js",
    "e[bold]x\u202e\u2028.js",
    "f\x9b31m.js",
]
MINIFIED = "g\n::error::notice.min.js"  # skipped with a notice that names it
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2028")
GITHUB_COMMAND = re.compile(r"::(error|warning|notice)( [a-zA-Z]+=[^,:]*(,[a-zA-Z]+=[^,:]*)*)?::")


@pytest.fixture
def hostile(tmp_path):
    root = tmp_path / "repo"
    files = {"package.json": PACKAGE, MINIFIED: "x();\n"}
    files.update({name: SOURCE for name in NAMES})
    return write_files(root, files)


def check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--select", "auth", "--no-cache"], catch_exceptions=False)


def assert_safe(output: str, *, github: bool = False) -> None:
    for char in RAW:
        assert char not in output, (char, output)
    for line in output.split("\n"):
        if line.startswith("::"):
            assert github and GITHUB_COMMAND.match(line), line
        assert not line.startswith(("::error::pwned", "::add-mask::", "::stop-commands::")), line


@pytest.mark.parametrize("fmt", ["text", "concise", "github"])
def test_hostile_names_and_messages_start_no_command_and_send_no_escape(hostile, fmt, tmp_path):
    result = check(hostile, "--format", fmt)
    assert result.exit_code == 1, result.output
    assert_safe(result.stdout, github=fmt == "github")
    assert_safe(result.stderr)
    line_break = "\\n" if fmt != "github" else "%0A"  # GitHub's own escape keeps a name whole in its annotation
    colons = "::" if fmt != "github" else "%3A%3A"
    for escaped in (
        f"a{line_break}{colons}error{colons}pwned.js",
        "d\\x1b]0;retitled\\x07\\x1b[2J.js",
        "f\\x9b31m.js",
        "e[bold]x\\u202e\\u2028.js",  # shown as named, never read as markup
        f"{line_break}::error::pwned-by-message\\x1b]0;retitled\\x07\\u202e{line_break}::add-mask::y",
        f"g{line_break}{colons}error{colons}notice.min.js",  # the notice names it escaped too
    ):
        assert escaped in result.stdout
    written = tmp_path / f"report.{fmt}"
    check(hostile, "--format", fmt, "-o", written)
    assert written.read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize("fmt", ["text", "concise"])
@pytest.mark.parametrize("statistics", [False, True])
def test_text_in_colour_sends_only_its_own_escapes(hostile, fmt, statistics):
    out = io.StringIO()
    report = run(RunOptions(paths=[hostile], select=["auth"], use_cache=False)).report
    render(report, fmt, out, color=True, statistics=statistics, include_suppressed=True)
    colours_removed = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert_safe(colours_removed)
    assert "\x1b[" in out.getvalue()


def test_every_line_of_the_concise_format_is_one_finding_or_notice(hostile):
    lines = check(hostile, "--format", "concise").stdout.splitlines()
    findings = [line for line in lines if ": error auth/secret-fallback " in line]
    assert len(findings) == len(NAMES)
    assert len(lines) == len(NAMES) + 1 + 1  # the findings, the minified file's notice, the summary


def test_gitlab_is_valid_json_with_the_exact_names(hostile):
    result = check(hostile, "--format", "gitlab")
    assert_safe(result.stdout)
    issues = json.loads(result.stdout)
    assert {issue["location"]["path"] for issue in issues} == set(NAMES)
    assert any("::error::pwned-by-message\x1b]0;retitled\x07\u202e\n::add-mask::y" in i["description"] for i in issues)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_junit_is_well_formed_xml_with_the_names_escaped(hostile):
    result = check(hostile, "--format", "junit")
    assert_safe(result.stdout)
    root = ET.fromstring(result.stdout.encode("utf-8"))
    names = {suite.get("name") for suite in root.findall("testsuite")}
    assert names == {"loadlint"} | {printable(name) for name in NAMES}
    assert printable(MINIFIED) in root.find("testsuite/system-out").text


@pytest.mark.parametrize(
    "text",
    ['"quoted" <tag attr="x">&amp; \'single\'', "]]> <![CDATA[ x", "\x00\x01\x0b\x1b[2J\x7f\x85\ufffe\uffff\udcff", "\u202e\u2028\r\n\t"],
)
def test_gitlab_and_junit_stay_valid_for_any_text(tmp_path, text):
    finding = Finding(rule_id="x/y", message=f"m {text}", path=f"src/{text}.js", level=Level.ERROR,
                      span=Span(start_line=1, start_column=1, end_line=1, end_column=2),
                      related=(Location(path=f"{text}.js", span=Span(start_line=2, start_column=1, end_line=2, end_column=3), message=text),))
    notice = Notice(message=f"n {text}", path=f"{text}.ts")
    report = Report(root=str(tmp_path), tool_version="1", rules=(), findings=(finding,), notices=(notice,), files_checked=1, incomplete=True)
    out = io.StringIO()
    render(report, "gitlab", out)
    (issue,) = json.loads(out.getvalue())
    assert issue["description"] == f"m {text}" and issue["location"]["path"] == f"src/{text}.js"
    out = io.StringIO()
    render(report, "junit", out)
    document = out.getvalue()
    document.encode("utf-8")  # no lone surrogate
    root = ET.fromstring(document.encode("utf-8"))
    suite = root.findall("testsuite")[1]
    assert suite.get("name") == f"src/{junit_text(text)}.js"
    failure = suite.find("testcase/failure")
    assert failure.get("message") == "m " + junit_text(text)
    assert failure.text.splitlines()[1] == f"  related: {junit_text(text)}.js:2:1 {junit_text(text)}"
    assert root.find("testsuite/testcase/error").text == f"warning: {junit_text(text)}.ts: n {junit_text(text)}"


def junit_text(text: str) -> str:
    return printable(text).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_keep_the_exact_names_and_messages(hostile, fmt):
    result = check(hostile, "--format", fmt)
    for char in ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2028"):
        assert char not in result.stdout  # JSON escapes: the same text, safe to print
    document = json.loads(result.stdout)
    if fmt == "json":
        paths = {f["path"] for f in document["findings"]}
        messages = {f["message"] for f in document["findings"]} | {n["message"] for n in document["notices"]}
        paths |= {n["path"] for n in document["notices"]}
    else:
        results = document["runs"][0]["results"]
        paths = {unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results}
        notifications = document["runs"][0]["invocations"][0].get("toolExecutionNotifications", [])
        paths |= {unquote(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for n in notifications}
        messages = {r["message"]["text"] for r in results}
    assert set(NAMES) | {MINIFIED} <= paths
    assert any("::error::pwned-by-message\x1b]0;retitled\x07\u202e\n::add-mask::y" in m for m in messages)


def test_a_config_error_naming_a_hostile_key_is_one_escaped_line(hostile):
    write_files(hostile, {".loadlint.toml": '"a\\n::error::x\\u001b]0;t\\u0007" = 1\n[rules."r\\n::add-mask::z"]\nk = 1\n'})
    result = check(hostile)
    assert result.exit_code == 2
    assert_safe(result.stderr)
    assert result.stderr.count("\n") == 1 and "a\\n::error::x\\x1b]0;t\\x07" in result.stderr


def test_baseline_entries_and_errors_are_shown_escaped(hostile):
    baseline = {"loadlint-baseline": 1, "findings": {"h\n::error::gone.js\x1b[2J": {"auth/secret-fallback": {"count": 1}}}}
    write_files(hostile, {"loadlint-baseline.json": json.dumps(baseline)})
    result = check(hostile, "--baseline", hostile / "loadlint-baseline.json")
    assert_safe(result.stdout)
    assert "h\\n::error::gone.js\\x1b[2J: the loadlint-baseline.json entry" in result.stdout
    baseline["findings"]["h\n::error::gone.js\x1b[2J"]["auth/secret-fallback"]["count"] = "x"
    write_files(hostile, {"loadlint-baseline.json": json.dumps(baseline)})
    result = check(hostile, "--baseline", hostile / "loadlint-baseline.json")
    assert result.exit_code == 2
    assert_safe(result.stderr)
    assert "findings.h\\n::error::gone.js\\x1b[2J.auth/secret-fallback.count" in result.stderr


def test_fix_messages_on_stderr_are_escaped(hostile):
    broken = hostile / "b\n::add-mask::x.js"
    broken.write_text("const s = process.env.JWT_SECRET || 'dev';\nconst = ;\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(broken), "--select", "auth", "--fix", "--unsafe-fixes"])
    assert "b\\n::add-mask::x.js: not fixed: it has syntax errors" in result.stderr
    assert_safe(result.stderr)


def test_diff_fix_quotes_hostile_names_as_git_does(tmp_path):
    name = "s\n::error::pwned\x1b[2J.js"
    root = write_files(tmp_path / "repo", {"package.json": PACKAGE, name: "const s = process.env.JWT_SECRET || 'dev';\n"})
    result = CliRunner().invoke(main, ["check", str(root), "--select", "auth", "--diff-fix", "--unsafe-fixes"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith('--- "a/s\\n::error::pwned\\033[2J.js"\n+++ "b/s\\n::error::pwned\\033[2J.js"\n')
    assert_safe(result.stdout)
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        (root / "fix.patch").write_text(result.stdout, encoding="utf-8")
        subprocess.run(["git", "apply", "fix.patch"], cwd=root, check=True, capture_output=True)
        assert "requireEnv('JWT_SECRET')" in (root / name).read_text(encoding="utf-8")


def test_the_action_prints_results_notices_and_its_summary_escaped(tmp_path, capsys):
    log = {
        "runs": [
            {
                "results": [
                    {
                        "ruleId": "auth/secret|fallback`<b>",
                        "level": "error",
                        "message": {"text": "x\n::add-mask::y\x1b]0;t\x07"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a\n::error::pwned.js"}}}],
                    }
                ],
                "invocations": [
                    {
                        "executionSuccessful": False,
                        "toolExecutionNotifications": [{"message": {"text": "n\n::stop-commands::tok\u202e"}}],
                    }
                ],
            }
        ]
    }
    sarif = tmp_path / "log.sarif"
    sarif.write_text(json.dumps(log), encoding="utf-8")
    summary = tmp_path / "summary.md"
    env = {"REPORT_FILE": str(sarif), "EXIT_CODE": "2", "GITHUB_STEP_SUMMARY": str(summary)}
    assert github_action.finish({**env, "UPLOAD_OUTCOME": "success"}) == 2
    uploaded = capsys.readouterr().out
    assert_safe(uploaded)
    assert "a\\n::error::pwned.js  auth/secret|fallback`<b>  x\\n::add-mask::y\\x1b]0;t\\x07" in uploaded
    assert github_action.finish({**env, "UPLOAD_OUTCOME": "failure"}) == 2
    annotated = capsys.readouterr().out
    for line in annotated.splitlines():  # every command is one line, and nothing else starts one
        assert line.startswith(("::error ", "::warning::", "::notice ", "loadlint: ")), line
    assert "::error file=a%0A%3A%3Aerror%3A%3Apwned.js,title=auth/secret|fallback`<b>::x%0A::add-mask::y\\x1b]0;t\\x07" in annotated
    assert "::warning::n%0A::stop-commands::tok\\u202e" in annotated
    assert "| `auth/secret\\|fallback'&lt;b>` | 1 | 0 | 0 |" in summary.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain src/a.ts: ünïcode ✓", "plain src/a.ts: ünïcode ✓"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x00\x07\x1b\x7f", "\\x00\\x07\\x1b\\x7f"),
        ("\x85\x9b\x9d", "\\x85\\x9b\\x9d"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
        ("bad\udcffname", "bad\\udcffname"),
    ],
)
def test_printable_shows_every_control_character(raw, shown):
    assert printable(raw) == shown


def test_printable_can_leave_line_breaks_to_the_caller():
    assert printable("a\r\nb\x1b", keep_line_breaks=True) == "a\r\nb\\x1b"


def test_json_escaped_is_the_same_data():
    data = {"path": "a\x7f\x9b\u202e\u2028\udcff.js", "n": [1, "\x1b\n"]}
    text = json_escaped(json.dumps(data, ensure_ascii=False))
    assert json.loads(text) == data
    assert all(char not in text for char in ("\x7f", "\x9b", "\u202e", "\u2028", "\udcff", "\x1b"))


def test_the_text_report_reads_no_markup_from_the_repository(tmp_path):
    name = "[link=evil][bold red]x[blink]y.js"
    root = write_files(tmp_path / "repo", {"package.json": PACKAGE, name: "const s = process.env.JWT_SECRET || 'dev';\n"})
    assert f"{name}:1:" in check(root).stdout
