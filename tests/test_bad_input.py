"""The bad-input matrix: whatever is on disk, loadlint answers with a report and one-line notices (SARIF
`toolExecutionNotifications`) or with one clear error line and exit 2. Never a traceback, never a hang, never a
partial output file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files
from tests.sarif_schema import assert_valid_sarif

REPO = Path(__file__).resolve().parent.parent
TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]
MARKER = "new MarkerClient();\n"


@dataclass
class Outcome:
    exit_code: int
    output: str  # what the user sees on the terminal: stdout and stderr
    notices: dict[str, str]  # SARIF notifications: path (or "") -> message
    findings: set[tuple[str, int, int, str]]  # (path, line, column, rule id)
    log: dict | None


def lint(project: Path, *args, rules=TEST_RULE_ARGS) -> Outcome:
    """Run `loadlint check ARGS` (default: the project folder) through click, the report as SARIF in a file next
    to the project; checks there is no traceback and the SARIF is valid."""
    report = project.parent / f"{project.name}.sarif"
    report.unlink(missing_ok=True)
    result = CliRunner().invoke(
        main, ["check", *map(str, args or [project]), *rules, "--format", "sarif", "-o", str(report)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if not report.exists():
        return Outcome(result.exit_code, result.output, {}, set(), None)
    log = json.loads(report.read_text(encoding="utf-8"))
    assert_valid_sarif(log)
    run = log["runs"][0]
    notices = {
        _uri(n["locations"][0]) if n.get("locations") else "": n["message"]["text"]
        for n in run["invocations"][0].get("toolExecutionNotifications", [])
    }
    findings = set()
    for sarif_result in run["results"]:
        location = sarif_result["locations"][0]
        region = location["physicalLocation"]["region"]
        findings.add((_uri(location), region["startLine"], region["startColumn"], sarif_result["ruleId"]))
    return Outcome(result.exit_code, result.output, notices, findings, log)


def _uri(location: dict) -> str:
    return location["physicalLocation"]["artifactLocation"]["uri"]


def run_in_subprocess(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI in its own process, for what could hang: the timeout fails the test instead of stalling it."""
    command = [sys.executable, "-m", "linter", "check", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


# --- what a file holds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, notice",
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "skipped: binary file"),
        ("const café = 1;\n".encode("latin-1"), "skipped: not UTF-8 text (invalid byte at offset 9)"),
        (b"\xff\xfe" + b"\x00\xd8", "skipped: not valid UTF-16 text"),  # a BOM, then half a surrogate pair
    ],
    ids=["binary", "invalid-utf8", "broken-utf16"],
)
def test_undecodable_file_is_a_notice(project, content, notice):
    write_files(project, {"bad.js": content, "good.js": MARKER})
    outcome = lint(project)
    assert outcome.notices == {"bad.js": notice}
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}
    assert outcome.exit_code == 1


@pytest.mark.parametrize(
    "line",
    [b"// generated \0 by a tool\n", b"/* \0 */\n", b"const separator = '\0';\n", b"const t = `a\0b`;\n"],
    ids=["line-comment", "block-comment", "string", "template"],
)
def test_nul_byte_in_a_comment_or_string_leaves_a_source_file(project, line):
    # A real repository hid its whole API setup from linting with one NUL in a comment.
    write_files(project, {"a.js": line + MARKER.encode()})
    outcome = lint(project)
    assert outcome.notices == {}  # not binary, and no syntax error: the NUL is text in a comment or string
    assert outcome.findings == {("a.js", 2, 1, "testing/marker-client")}
    assert outcome.exit_code == 1


def test_file_of_mostly_control_bytes_is_binary_even_when_it_decodes(project):
    # UTF-16 without a byte-order mark is valid UTF-8 (NUL is), but every other byte is a NUL.
    write_files(project, {"a.js": MARKER.encode("utf-16-le"), "good.js": MARKER})
    outcome = lint(project)
    assert outcome.notices == {"a.js": "skipped: binary file"}
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_linted(project, encoding):
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b"\xfe\xff"
    write_files(project, {"a.js": bom + ("// é😀\nconst c = " + MARKER).encode(encoding)})
    outcome = lint(project)
    assert outcome.findings == {("a.js", 2, 11, "testing/marker-client")}
    assert outcome.notices == {}
    text = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS]).output
    assert "  2 | const c = new MarkerClient();\n    |           ^^^^^^^^^^^^^^^^^^\n" in text


def test_utf8_bom_is_not_a_column_but_is_hashed_as_github_does(project):
    write_files(project, {"a.js": b"\xef\xbb\xbf" + MARKER.encode()})
    outcome = lint(project)
    assert outcome.findings == {("a.js", 1, 1, "testing/marker-client")}
    text = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS]).output
    assert "  1 | new MarkerClient();\n    | ^^^^^^^^^^^^^^^^^^\n" in text
    (fingerprint,) = [r["partialFingerprints"]["primaryLocationLineHash"] for r in outcome.log["runs"][0]["results"]]
    write_files(project, {"a.js": MARKER})
    assert lint(project).log["runs"][0]["results"][0]["partialFingerprints"]["primaryLocationLineHash"] != fingerprint


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_crlf_and_lone_cr_line_ends(project, newline):
    write_files(project, {"a.js": newline.join(["// one", "const x = 1;", "  " + MARKER.strip(), ""]).encode()})
    outcome = lint(project)
    assert outcome.findings == {("a.js", 3, 3, "testing/marker-client")}
    text = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS]).output
    assert "  3 |   new MarkerClient();\n    |   ^^^^^^^^^^^^^^^^^^\n" in text


def test_empty_file_is_linted_quietly(project):
    write_files(project, {"empty.js": b"", "blank.ts": b"\n\n"})
    outcome = lint(project)
    assert (outcome.exit_code, outcome.notices, outcome.findings) == (0, {}, set())
    assert "No problems found; 2 files checked." in CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS]).output


def test_twenty_megabyte_file_is_skipped_whether_found_or_named(project):
    line = b"const value = computeSomething(input, 42);\n"
    write_files(project, {"huge.js": (line * (20_000_000 // len(line) + 1))[:20_000_000], "good.js": MARKER})
    expected = "skipped: 20,000,000 bytes is over the 2,000,000-byte limit (max-file-size)"
    assert lint(project).notices == {"huge.js": expected}
    named = lint(project, project / "huge.js", project / "good.js")
    assert named.notices == {"huge.js": expected}
    assert named.findings == {("good.js", 1, 1, "testing/marker-client")}


def test_minified_bundle_is_skipped(project):
    bundle = b"!function(e){var t={};" + b"e.a=function(n){return t[n]||(t[n]=e(n))};" * 120_000 + b"}();"
    write_files(project, {"public/bundle.js": bundle, "good.js": MARKER})
    assert "over the 2,000,000-byte limit" in lint(project).notices["public/bundle.js"]
    write_files(project, {".loadlint.toml": "max-file-size = 10_000_000\n"})
    outcome = lint(project)
    assert outcome.notices == {"public/bundle.js": "skipped: looks minified or generated"}
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}


NESTINGS = {
    "arrays": ("x = ", "[\n", "]\n", ";\n"),
    "calls": ("f", "(\n", ")\n", ";\n"),
    "objects": ("x = ", "{a:\n", "}\n", ";\n"),
    "parentheses": ("x = ", "(\n", ")\n", ";\n"),
    "arrow-functions": ("x = ", "() => (\n", ")\n", ";\n"),
    "blocks": ("", "if (a) {\n", "}\n", "\n"),
    "templates": ("x = ", "`${\n", "}`\n", ";\n"),
}


@pytest.mark.parametrize("kind", NESTINGS)
def test_five_thousand_levels_of_nesting_with_every_builtin_rule(project, kind):
    prefix, opener, closer, suffix = NESTINGS[kind]
    body = prefix + opener * 5000 + "1" + closer * 5000 + suffix
    write_files(project, {"package.json": '{"dependencies": {"express": "4", "@prisma/client": "5", "cors": "2"}}',
                          "deep.js": body + "const secret = process.env.JWT_SECRET || 'dev';\n"})
    outcome = lint(project, project, "--timeout", "5", rules=[])
    assert not [m for m in outcome.notices.values() if "internal error" in m or "stopped" in m], outcome.notices
    assert ("deep.js", 10002, "auth/secret-fallback") in {(f[0], f[1], f[3]) for f in outcome.findings}


# --- what the file system holds ---------------------------------------------------------------------------


def test_file_vanishing_between_discovery_and_reading(project, monkeypatch):
    import linter.discovery
    import linter.listing_cache
    import linter.selection

    write_files(project, {"gone.js": MARKER, "good.js": MARKER})
    real_discover = linter.discovery.discover

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        (project / "gone.js").unlink()
        return found

    for module in (linter.selection, linter.listing_cache):  # the walk without and with the kept listing
        monkeypatch.setattr(module, "discover", discover_then_delete)
    outcome = lint(project)
    assert outcome.notices == {"gone.js": "cannot read file: No such file or directory"}
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder(project):
    write_files(project, {"secret.js": MARKER, "locked/inner.js": MARKER, "good.js": MARKER})
    (project / "secret.js").chmod(0)
    (project / "locked").chmod(0)
    try:
        outcome = lint(project)
    finally:
        (project / "secret.js").chmod(0o644)
        (project / "locked").chmod(0o755)
    assert outcome.notices == {
        "secret.js": "cannot read file: Permission denied",
        "locked": "cannot read folder: Permission denied",
    }
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}


def test_directory_named_like_a_source_file(project):
    write_files(project, {"package.json": "{}", "x.js/inner.js": MARKER})
    outcome = lint(project)
    assert (outcome.notices, outcome.findings) == ({}, {("x.js/inner.js", 1, 1, "testing/marker-client")})
    assert lint(project, project / "x.js").findings == {("x.js/inner.js", 1, 1, "testing/marker-client")}


def test_symlink_loops(project):
    write_files(project, {"src/a.js": MARKER})
    os.symlink(project / "src", project / "src" / "again")  # a folder that holds itself
    os.symlink("self.js", project / "self.js")  # a link to itself
    outcome = lint(project)
    assert outcome.notices == {
        "self.js": "cannot read: Too many levels of symbolic links",
        "src/again": "skipped: a symbolic link loop (it points to a folder that holds it)",
    }
    assert outcome.findings == {("src/a.js", 1, 1, "testing/marker-client")}


def test_symlink_to_outside_the_root_is_not_followed(tmp_path, project):
    outside = write_files(tmp_path / "outside", {"evil.js": MARKER, "lib/evil.js": MARKER})
    write_files(project, {"package.json": "{}", "src/a.js": MARKER})
    os.symlink(outside / "lib", project / "src" / "lib")
    os.symlink(outside / "evil.js", project / "src" / "evil.js")
    outcome = lint(project)
    assert outcome.notices == {
        "src/evil.js": "skipped: a symbolic link to outside the root",
        "src/lib": "skipped: a symbolic link to outside the root",
    }
    assert outcome.findings == {("src/a.js", 1, 1, "testing/marker-client")}


def test_fifos_are_never_opened(project):
    write_files(project, {"src/good.js": MARKER})
    for name in ("src/pipe.js", "package.json", "src/tsconfig.json", "src/schema.prisma"):
        os.mkfifo(project / name)
    found = run_in_subprocess(project, *TEST_RULE_ARGS, "--format", "json")
    assert found.returncode == 1, found.stderr
    notices = {n["path"]: n["message"] for n in json.loads(found.stdout)["notices"]}
    assert notices == {
        "package.json": "skipped: not a regular file",
        "src/pipe.js": "skipped: not a regular file",
        "src/schema.prisma": "skipped: not a regular file",
        "src/tsconfig.json": "skipped: not a regular file",
    }
    named = run_in_subprocess(project / "src" / "pipe.js", *TEST_RULE_ARGS, "--format", "json")
    assert named.returncode == 0, named.stderr
    # The root is `src`: the package.json above it is a FIFO, not a manifest.
    assert {(n["path"], n["message"]) for n in json.loads(named.stdout)["notices"]} == {
        ("pipe.js", "skipped: not a regular file"),
        (None, "nothing to lint: no JavaScript or TypeScript files under the given paths"),
    }
    as_config = run_in_subprocess(project, "--config", project / "src" / "pipe.js")
    assert (as_config.returncode, as_config.stdout) == (2, "")
    assert as_config.stderr == f"loadlint: error: {project / 'src' / 'pipe.js'}: not a regular file\n"


def test_path_that_does_not_exist(project):
    write_files(project, {"a.js": MARKER})
    outcome = lint(project, project / "a.js", project / "nope.js")
    assert outcome.exit_code == 2
    assert outcome.output == f"loadlint: error: path does not exist: {project / 'nope.js'}\n"
    assert outcome.log is None


def test_root_without_source_files(project):
    write_files(project, {"README.md": "# hi\n", "package.json": "{}"})
    outcome = lint(project)
    assert outcome.exit_code == 0
    assert outcome.notices == {"": "nothing to lint: no JavaScript or TypeScript files under the given paths"}


@pytest.mark.parametrize(
    "manifest, notice",
    [
        (
            "{not json",
            "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); "
            "its settings are ignored",
        ),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON (nested too deeply); its settings are ignored"),
        (b"\xff\xfe{}", None),
    ],
    ids=["garbage", "nested-too-deeply", "not-utf8"],
)
def test_package_json_that_is_not_json(project, manifest, notice):
    write_files(project, {"package.json": manifest, "a.js": MARKER})
    outcome = lint(project)
    assert outcome.findings == {("a.js", 1, 1, "testing/marker-client")}
    assert list(outcome.notices) == ["package.json"]
    if notice:
        assert outcome.notices["package.json"] == notice
    as_config = lint(project, project, "--config", project / "package.json")
    assert as_config.exit_code == 2
    assert as_config.output.startswith(f"loadlint: error: {project / 'package.json'}: ")
    assert len(as_config.output.splitlines()) == 1


def test_package_json_whose_settings_are_not_an_object(project):
    write_files(project, {"package.json": '["loadlint"]', "a.js": MARKER})
    outcome = lint(project, project, "--config", project / "package.json")
    expected = f'loadlint: error: {project / "package.json"}: key "loadlint": must be an object\n'
    assert (outcome.exit_code, outcome.output) == (2, expected)


@pytest.mark.parametrize(
    "config, error",
    [
        ('colour = "red"\n', ".loadlint.toml: key 'colour': unknown key"),
        ("select = 3\n", ".loadlint.toml: key 'select': Input should be a valid list"),
        ('exclude = [1]\n', ".loadlint.toml: key 'exclude.0': Input should be a valid string"),
        ("max-file-size = 'big'\n", ".loadlint.toml: key 'max-file-size': Input should be a valid integer"),
        ('[per-file-ignores]\n"x/**" = "testing"\n',
         ".loadlint.toml: key 'per-file-ignores.x/**': Input should be a valid list"),
        ('select = ["testing/nope"]\n', ".loadlint.toml: key 'select': unknown rule or family 'testing/nope'"),
        ('[levels]\n"testing/nope" = "note"\n', ".loadlint.toml: key 'levels.testing/nope': unknown rule"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", ".loadlint.toml: not valid TOML: nested too deeply"),
        (b"select = ['\xff']\n", ".loadlint.toml: not UTF-8 text"),
    ],
    ids=["unknown-key", "wrong-type", "wrong-item-type", "not-a-number", "not-a-list", "unknown-rule",
         "unknown-rule-level", "nested-too-deeply", "not-utf8"],
)
def test_bad_config_is_one_line_and_exit_2(project, config, error):
    write_files(project, {".loadlint.toml": config, "a.js": MARKER})
    outcome = lint(project)
    assert outcome.exit_code == 2
    assert outcome.output == f"loadlint: error: {error}\n"
    assert outcome.log is None


def test_non_ascii_paths_and_identifiers(project):
    write_files(project, {"src/café/ünï 😀.js": "const 名前 = '😀é'; const c = " + MARKER})
    outcome = lint(project)
    # `const 名前 = '😀é'; const c = ` is 28 UTF-16 code units: 😀 counts twice, 名 and 前 once each
    assert outcome.findings == {("src/caf%C3%A9/%C3%BCn%C3%AF%20%F0%9F%98%80.js", 1, 29, "testing/marker-client")}
    region = outcome.log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["endColumn"] == 29 + len("new MarkerClient()")
    assert outcome.log["runs"][0]["columnKind"] == "utf16CodeUnits"


def test_file_and_folder_names_that_are_not_utf8(project):
    write_files(project, {"good.js": MARKER})
    os.makedirs(os.fsencode(project) + b"/caf\xe9")
    Path(os.fsdecode(os.fsencode(project) + b"/caf\xe9/a.js")).write_text(MARKER)
    Path(os.fsdecode(os.fsencode(project) + b"/na\xefve.js")).write_text(MARKER)
    outcome = lint(project)
    assert outcome.notices == {
        "caf%EF%BF%BD": "skipped: the name is not valid UTF-8",
        "na%EF%BF%BDve.js": "skipped: the name is not valid UTF-8",
    }
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}
    for fmt in ("text", "json", "github"):
        result = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS, "--format", fmt])
        assert result.exit_code == 1 and "Traceback" not in result.output


# --- the output file --------------------------------------------------------------------------------------


def test_output_file_is_never_partial(project, monkeypatch):
    write_files(project, {"a.js": MARKER})
    report = project.parent / "report.json"
    report.write_text("previous report\n")
    write_files(project, {".loadlint.toml": "nonsense = 1\n"})
    failed = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS, "--format", "json", "-o", str(report)])
    assert failed.exit_code == 2
    assert report.read_text() == "previous report\n"  # a run that fails writes nothing

    (project / ".loadlint.toml").unlink()

    def replace_fails(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace_fails)
    failed = CliRunner().invoke(main, ["check", str(project), *TEST_RULE_ARGS, "--format", "json", "-o", str(report)])
    assert failed.exit_code == 2
    assert failed.output == f"loadlint: error: cannot write {report}: No space left on device\n"
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in project.parent.iterdir()) == ["project", "report.json"]  # no temporary file left


def test_closed_stdout_is_not_a_traceback(project):
    write_files(project, {f"src/m{i}.js": MARKER for i in range(200)})
    command = f"{sys.executable} -m linter check {project} --rules-dir {TEST_RULES} --select testing | head -c 100"
    result = subprocess.run(["sh", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert len(result.stdout) == 100
    assert result.stderr == ""


# --- rules that crash or hang -----------------------------------------------------------------------------


def _rule(rules: Path, family: str, name: str, body: str, query: str = "(program) @p") -> None:
    """A rule module in `rules/<family>/<name>.py` with the given query and class body."""
    write_files(
        rules,
        {
            f"{family}/{name}.py": (
                f'"""A rule that misbehaves on purpose."""\n'
                "import time\n"
                "from linter.model import Level, Precision\n"
                "from linter.rule import Rule\n"
                "class Misbehaving(Rule):\n"
                f"    id = '{family}/{name.replace('_', '-')}'\n"
                "    name = 'Misbehaving'\n    level = Level.ERROR\n    precision = Precision.HIGH\n"
                f"    query = {query!r}\n"
                f"{body}"
            )
        },
    )


def test_rule_crash_names_rule_and_file_and_the_run_goes_on(tmp_path, project):
    rules = tmp_path / "rules"
    crash_on_b = "    def check(self, match, file):\n        if file.path == 'b.js':\n            raise KeyError('x')\n"
    _rule(rules, "crash", "on_b", crash_on_b + "        return ()\n")
    _rule(rules, "crash", "in_project", "    def check_project(self, project):\n        raise ValueError('bad day')\n")
    write_files(project, {"a.js": MARKER, "b.js": MARKER})
    outcome = lint(project, rules=["--rules-dir", rules, "--select", "crash"])
    assert outcome.notices == {
        "": "internal error in rule crash/in-project: ValueError: bad day",
        "b.js": "internal error in rule crash/on-b: KeyError: 'x'",
    }
    assert outcome.exit_code == 2
    assert outcome.log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert lint(project, project, "--exit-zero", rules=["--rules-dir", rules, "--select", "crash"]).exit_code == 0


def test_rule_crash_in_worker_processes(tmp_path, project):
    rules = tmp_path / "rules"
    _rule(rules, "crash", "always", "    def check(self, match, file):\n        raise RuntimeError(file.path)\n")
    shutil.copytree(TEST_RULES / "testing", rules / "testing")
    write_files(project, {f"src/m{i:03}.js": MARKER for i in range(80)})
    outcome = lint(project, project, "-j", "2", rules=["--rules-dir", rules, "--select", "crash,testing"])
    assert len(outcome.notices) == 80
    assert outcome.notices["src/m007.js"] == "internal error in rule crash/always: RuntimeError: src/m007.js"
    assert len(outcome.findings) == 80  # the other rule still ran on every file
    assert outcome.exit_code == 2


def test_slow_rule_is_stopped_and_the_run_goes_on(tmp_path, project):
    rules = tmp_path / "rules"
    body = "    def check(self, match, file):\n        while file.path == 'slow.js':\n            pass\n"
    body += "        return ()\n"
    _rule(rules, "slow", "forever", body)
    shutil.copytree(TEST_RULES / "testing", rules / "testing")
    write_files(project, {"slow.js": MARKER, "fast.js": MARKER})
    args = ["--rules-dir", rules, "--select", "slow,testing"]
    outcome = lint(project, project, "--timeout", "0.5", rules=args)
    assert list(outcome.notices) == ["slow.js"]
    assert re.fullmatch(
        r"skipped: linting stopped after \d+\.\d s \(limit 0\.5 s\) while running rule slow/forever; "
        r"the slowest rule was slow/forever \(\d+\.\d s\); exclude the file if it is generated, or raise --timeout",
        outcome.notices["slow.js"],
    ), outcome.notices
    assert outcome.findings == {("fast.js", 1, 1, "testing/marker-client")}
    assert outcome.exit_code == 2


def test_rule_that_swallows_the_timeout_is_stopped_between_matches(tmp_path, project):
    rules = tmp_path / "rules"
    body = (
        "    def check(self, match, file):\n"
        "        try:\n            time.sleep(0.3)\n        except BaseException:\n            pass\n"
        "        return ()\n"
    )
    _rule(rules, "slow", "swallows", body, query="(identifier) @id")
    write_files(project, {"slow.js": "a; b; c; d; e; f; g; h;\n"})
    outcome = lint(project, project, "--timeout", "0.5", rules=["--rules-dir", rules, "--select", "slow"])
    stopped = r"skipped: linting stopped after \d+\.\d s \(limit 0\.5 s\) while running rule slow/swallows; "
    assert re.match(stopped, outcome.notices["slow.js"]), outcome.notices


def test_internal_error_outside_rules_loses_only_that_file(project, monkeypatch):
    import linter.context

    real_collect = linter.context.collect_references

    def collect_references(root, source):
        if b"explode" in root.text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_collect(root, source)

    monkeypatch.setattr(linter.context, "collect_references", collect_references)
    write_files(project, {"a.js": MARKER, "b.js": "explode();\n" + MARKER})
    outcome = lint(project)
    message = "internal error while collecting imports: RecursionError: maximum recursion depth exceeded"
    assert outcome.notices == {"b.js": message}
    assert outcome.findings == {("a.js", 1, 1, "testing/marker-client")}
    assert outcome.exit_code == 2


def test_a_rule_with_a_broken_query_is_a_usage_error(tmp_path, project):
    rules = tmp_path / "rules"
    _rule(rules, "broken", "query", "", query="(call_expression function: (no_such_node)) @call")
    write_files(project, {"a.js": "f();\n"})
    outcome = lint(project, project, rules=["--rules-dir", rules, "--select", "broken"])
    assert outcome.exit_code == 2
    assert "rule broken/query: bad query for javascript" in outcome.output
