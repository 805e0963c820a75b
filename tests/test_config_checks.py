"""What the command line and the config file accept, through the CLI: a value that cannot be meant is one
error line and exit 2 (never a run that silently checks nothing, never an internal error); a file loadlint
cannot use is a notice and the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files

REPO = Path(__file__).resolve().parent.parent
TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing"]
MARKER = "new MarkerClient();\n"


@pytest.fixture
def project(tmp_path) -> Path:
    return write_files(tmp_path / "project", {".git/HEAD": "ref: refs/heads/main\n", "a.js": MARKER})


def check(*args, rules=TEST_RULE_ARGS) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *map(str, args), *rules, "--no-color"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def findings_and_notices(*args) -> tuple[int, set, dict]:
    exit_code, output = check(*args, "--format", "json")
    data = json.loads(output)
    return exit_code, {(f["path"], f["rule_id"]) for f in data["findings"]}, {n["path"]: n["message"] for n in data["notices"]}


# --timeout


@pytest.mark.parametrize(
    "value, error",
    [
        ("inf", "--timeout must be from 0 (no limit) to 86400 seconds, not inf"),
        ("1e20", "--timeout must be from 0 (no limit) to 86400 seconds, not 1e+20"),
        ("nan", "--timeout must be from 0 (no limit) to 86400 seconds, not nan"),
        ("86401", "--timeout must be from 0 (no limit) to 86400 seconds, not 86401.0"),
        ("-1", "--timeout must be from 0 (no limit) to 86400 seconds, not -1.0"),
        ("soon", "--timeout takes a number of seconds, not 'soon'"),
    ],
)
def test_a_timeout_that_is_not_a_usable_number_of_seconds_is_one_error_line(project, value, error):
    assert check(project, "--timeout", value) == (2, f"loadlint: error: {error}\n")


@pytest.mark.parametrize("value", ["0", "0.5", "86400"])
def test_timeouts_in_range_lint(project, value):
    assert findings_and_notices(project, "--timeout", value) == (1, {("a.js", "testing/marker-client")}, {})


# Types: a flag or a fraction is not a count


@pytest.mark.parametrize(
    "config, error",
    [
        ("max-file-size = true\n", "key 'max-file-size': Input should be a valid integer"),
        ("max-file-size = 2e6\n", "key 'max-file-size': Input should be a valid integer"),
        (
            '[rules."pagination/uncapped-limit"]\nmax-page-size = true\n',
            "key 'rules.pagination/uncapped-limit.max-page-size': Input should be a valid integer",
        ),
        (
            '[rules."auth/jwt-no-expiry"]\nmax-expiry = true\n',
            "key 'rules.auth/jwt-no-expiry.max-expiry': must be a duration such as '15m', '24h' or '7d', "
            "or a whole number of seconds",
        ),
        (
            '[rules."express/json-body-limit"]\nmax-body-size = 1.5\n',
            "key 'rules.express/json-body-limit.max-body-size': must be a size such as '512kb' or '2mb', "
            "or a whole number of bytes",
        ),
        (
            '[rules."ratelimit/memory-store"]\nrequire-shared-store = 1\n',
            "key 'rules.ratelimit/memory-store.require-shared-store': Input should be a valid boolean",
        ),
    ],
    ids=["size-true", "size-float", "page-size-true", "expiry-true", "body-size-float", "store-one"],
)
def test_a_bool_or_float_does_not_pass_as_a_number(project, config, error):
    write_files(project, {".loadlint.toml": config})
    assert check(project, rules=[]) == (2, f"loadlint: error: .loadlint.toml: {error}\n")


# Globs are checked when the config is read


@pytest.mark.parametrize(
    "config, error",
    [
        ('exclude = ["!"]\n', "key 'exclude': '!' is not a valid glob"),
        ('exclude = ["src/[z-a].js"]\n', "key 'exclude': 'src/[z-a].js' is not a valid glob"),
        ('[per-file-ignores]\n"lib\\\\" = ["testing"]\n', "key 'per-file-ignores': 'lib\\\\' is not a valid glob"),
        (
            '[rules."prisma/client-outside-singleton"]\none-shot-paths = ["[z-a]"]\n',
            "key 'rules.prisma/client-outside-singleton.one-shot-paths': '[z-a]' is not a valid glob",
        ),
    ],
    ids=["exclude-bang", "exclude-range", "per-file-ignores", "rule-option"],
)
def test_a_bad_glob_is_a_config_error_naming_the_key(project, config, error):
    write_files(project, {".loadlint.toml": config})
    assert check(project, rules=[]) == (2, f"loadlint: error: .loadlint.toml: {error}\n")


# A byte-order mark


@pytest.mark.parametrize("name, content", [(".loadlint.toml", 'exclude = ["a.js"]\n'), ("package.json", '{"loadlint": {"exclude": ["a.js"]}}')])
def test_a_config_with_a_byte_order_mark_is_read(project, name, content):
    write_files(project, {name: b"\xef\xbb\xbf" + content.encode(), "b.js": MARKER})
    assert findings_and_notices(project) == (1, {("b.js", "testing/marker-client")}, {})


# What sits at a config path


def test_a_config_name_holding_a_folder_is_an_error(project):
    (project / ".loadlint.toml").mkdir()
    assert check(project) == (2, "loadlint: error: .loadlint.toml: not a regular file\n")


def test_a_config_name_holding_a_fifo_is_an_error_and_never_opened(project):
    os.mkfifo(project / "loadlint.toml")
    done = subprocess.run(
        [sys.executable, "-m", "linter", "check", str(project), *TEST_RULE_ARGS],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "loadlint: error: loadlint.toml: not a regular file\n")


def test_a_config_linked_from_outside_the_root_is_an_error_and_not_read(tmp_path, project):
    outside = write_files(tmp_path / "outside", {"secret.toml": 'exclude = ["a.js"]\n'})
    os.symlink(outside / "secret.toml", project / ".loadlint.toml")
    assert check(project) == (
        2,
        "loadlint: error: .loadlint.toml: not read: it is a symbolic link to outside the root\n",
    )
    (project / ".loadlint.toml").unlink()
    os.symlink(tmp_path / "nowhere", project / ".loadlint.toml")
    assert check(project)[1] == "loadlint: error: .loadlint.toml: not read: it is a symbolic link to outside the root\n"


def test_a_config_link_to_nothing_is_an_error(project):
    os.symlink("missing.toml", project / ".loadlint.toml")
    assert check(project) == (2, "loadlint: error: .loadlint.toml: cannot read: No such file or directory\n")


def test_a_config_linked_inside_the_root_is_read(project):
    write_files(project, {"config/shared.toml": 'exclude = ["a.js"]\n', "b.js": MARKER})
    os.symlink("config/shared.toml", project / ".loadlint.toml")
    assert findings_and_notices(project) == (1, {("b.js", "testing/marker-client")}, {})


def test_a_package_json_linked_from_outside_the_root_gives_no_settings(tmp_path, project):
    outside = write_files(tmp_path / "outside", {"package.json": '{"loadlint": {"exclude": ["a.js"]}}'})
    os.symlink(outside / "package.json", project / "package.json")
    assert findings_and_notices(project) == (
        1,
        {("a.js", "testing/marker-client")},
        {"package.json": "skipped: a symbolic link to outside the root"},
    )


# A selection that runs nothing


@pytest.mark.parametrize(
    "files, args, error",
    [
        ({".loadlint.toml": "select = []\n"}, [], ".loadlint.toml: key 'select': selects no rule; leave the key out to run every rule"),
        (
            {"package.json": '{"loadlint": {"select": []}}'},
            [],
            "package.json: key 'select': selects no rule; leave the key out to run every rule",
        ),
        ({}, ["--select", ""], "--select names no rule; leave it out to run every rule"),
        ({}, ["--select", " , "], "--select names no rule; leave it out to run every rule"),
        ({}, ["--select", "auth", "--ignore", "auth"], "no rule to run: --select and --ignore leave none enabled"),
        (
            {".loadlint.toml": 'ignore = ["all"]\n'},
            [],
            "no rule to run: .loadlint.toml key 'ignore' leaves none enabled",
        ),
    ],
    ids=["config-empty", "package-json-empty", "flag-empty", "flag-commas", "flags-cancel", "config-ignores-all"],
)
def test_a_selection_of_no_rule_is_an_error(project, files, args, error):
    write_files(project, files)
    assert check(project, *args, rules=[]) == (2, f"loadlint: error: {error}\n")


# .gitignore files loadlint cannot use


def test_an_unreadable_gitignore_is_a_notice(project, monkeypatch):
    write_files(project, {"sub/.gitignore": "ignored.js\n", "sub/ignored.js": MARKER})
    real_open = os.open

    def open_(file, *args, **kwargs):
        if str(file).endswith(os.path.join("sub", ".gitignore")):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    assert findings_and_notices(project) == (
        1,
        {("a.js", "testing/marker-client"), ("sub/ignored.js", "testing/marker-client")},
        {"sub/.gitignore": "cannot read: Permission denied; its patterns are not applied"},
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_gitignore_without_read_permission_is_a_notice(project):
    write_files(project, {".gitignore": "ignored.js\n", "ignored.js": MARKER})
    (project / ".gitignore").chmod(0)
    try:
        _, _, notices = findings_and_notices(project)
    finally:
        (project / ".gitignore").chmod(0o644)
    assert notices == {".gitignore": "cannot read: Permission denied; its patterns are not applied"}


def test_invalid_gitignore_patterns_are_skipped_with_a_notice(project):
    write_files(project, {".gitignore": "!\nignored.js\nx[z-a]\n", "ignored.js": MARKER})
    assert findings_and_notices(project) == (
        1,
        {("a.js", "testing/marker-client")},
        {".gitignore": "patterns that are not valid globs skipped: 2"},
    )


# Names from the repository in messages


def test_a_key_with_control_characters_is_escaped_on_one_line(project):
    write_files(project, {".loadlint.toml": '"x\\n::error::pwned\\u001b[2J" = 1\n'})
    assert check(project) == (2, "loadlint: error: .loadlint.toml: key 'x\\n::error::pwned\\x1b[2J': unknown key\n")


def test_a_config_path_with_control_characters_is_escaped_on_one_line(project):
    folder = project / "app\n::warning::x"
    write_files(folder, {".loadlint.toml": "colour = 1\n", "a.js": MARKER})
    assert check(folder) == (2, "loadlint: error: app\\n::warning::x/.loadlint.toml: key 'colour': unknown key\n")
