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
