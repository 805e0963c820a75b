"""The installed `loadlint` command, run in a subprocess outside the repository (needs `pip install .`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixture_cases import FIXTURES
from tests.sarif_schema import assert_valid_sarif

BIN = Path(sys.executable).parent


def _installed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(list(args), cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def loadlint_command() -> str:
    command = BIN / "loadlint"
    if not command.exists():
        pytest.fail(f"loadlint is not installed in {BIN}: run `pip install '.[test]'` first")
    return str(command)


def test_installed_command_lints_the_demo_app(tmp_path, loadlint_command):
    demo = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", demo)
    result = _installed(tmp_path, loadlint_command, "check", "demo", "--format", "sarif", "--no-color")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    log = json.loads(result.stdout)
    assert_valid_sarif(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"auth/secret-fallback"}


def test_module_entry_point_and_version(tmp_path, loadlint_command):
    result = _installed(tmp_path, sys.executable, "-m", "linter", "--version")
    assert result.returncode == 0 and result.stdout.startswith("loadlint, version")


def test_wheel_ships_rules_inside_linter_and_no_top_level_rules_module(tmp_path, loadlint_command):
    probe = (
        "import importlib.util, pathlib, linter\n"
        "print(importlib.util.find_spec('rules') is None)\n"
        "print((pathlib.Path(linter.__file__).parent / 'rules' / 'auth').is_dir())\n"
    )
    result = _installed(tmp_path, sys.executable, "-c", probe)
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_installed_command_reads_stdin_and_prints_every_new_format(tmp_path, loadlint_command):
    """Issue 18's output options through the installed command, in a pipe (no terminal, no colour)."""
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "package.json").write_text('{"name": "app", "dependencies": {"jsonwebtoken": "^9.0.0"}}', encoding="utf-8")
    source = "const secret = process.env.JWT_SECRET || 'dev';\n"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR", "FORCE_COLOR", "COLUMNS")}

    def loadlint(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [loadlint_command, *args], cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=120, env=env
        )

    concise = loadlint("check", "--stdin-filename", "app/src/a.js", "-", "--format", "concise", "-q", stdin=source)
    assert concise.returncode == 1, concise.stderr
    assert concise.stdout == (
        "src/a.js:1:42: error auth/secret-fallback JWT_SECRET falls back to a hard-coded value when unset; fail at "
        "startup instead of running with a secret from the source.\n"
    )
    text = loadlint("check", "--stdin-filename", "app/src/a.js", stdin=source)
    assert text.stdout.startswith("src/a.js:1:42: error auth/secret-fallback\n  JWT_SECRET falls back")
    assert all(len(line) <= 80 for line in text.stdout.splitlines() if line.startswith("  JWT"))
    assert text.stdout.endswith("Found 1 problem (1 error) in 1 file; 1 file checked.\n")
    fixed = loadlint("check", "--stdin-filename", "app/src/a.js", "--fix", "--unsafe-fixes", stdin=source)
    assert fixed.returncode == 0 and "const secret = requireEnv('JWT_SECRET');" in fixed.stdout
    assert not (app / "src" / "a.js").exists()
    (app / "src" / "a.js").write_text(source, encoding="utf-8")
    gitlab = json.loads(loadlint("check", "app", "--format", "gitlab").stdout)
    assert [issue["check_name"] for issue in gitlab] == ["auth/secret-fallback"]
    assert "<failure" in loadlint("check", "app", "--format", "junit").stdout
    assert loadlint("check", "app", "--statistics", "-q").stdout == "1  auth/secret-fallback  error  1 fixable with --unsafe-fixes\n"
    schema = json.loads(loadlint("config-schema").stdout)
    assert "pagination/uncapped-limit" in schema["properties"]["rules"]["properties"]
    typo = loadlint("explain", "auth/secret-fallbak")
    assert typo.returncode == 2
    assert typo.stderr == "loadlint: error: unknown rule 'auth/secret-fallbak'; did you mean auth/secret-fallback?\n"
    assert loadlint("explain", "auth").stdout.startswith("auth: 3 rules\n")
