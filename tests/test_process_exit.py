"""The `loadlint` command ends its process once it has answered, without the interpreter's teardown (which
frees every object of a large run one by one): the exit handlers run, the exit code is the command's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.project_builder import TEST_RULES, write_files

REPO = Path(__file__).resolve().parent.parent
SCRIPT = """
import atexit, os, sys

class Loud:
    def __del__(self, write=os.write):
        write(1, b"torn down\\n")  # sys.stdout may be gone by then

kept_until_teardown = Loud()
atexit.register(lambda: print("exit handlers ran", flush=True))
if sys.argv[1] == "profiled":
    sys.setprofile(lambda *_: None)
sys.argv = ["loadlint", "check", "--no-cache", "--no-server", "--format", "json", *sys.argv[2:]]
from linter.cli import run_command

run_command()
"""


def _check(tmp_path: Path, how: str, *args: str) -> subprocess.CompletedProcess:
    project = write_files(tmp_path / "project", {".git/HEAD": "x", "a.js": "new MarkerClient();\n"})
    command = [sys.executable, "-c", SCRIPT, how, "--rules-dir", str(TEST_RULES), "--select", "testing", *args, str(project)]
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "LOADLINT_NO_SERVER": "1"}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, exit_code", [((), 1), (("--exit-zero",), 0)], ids=["findings", "exit-zero"])
def test_the_process_ends_without_teardown_after_the_exit_handlers(tmp_path, args, exit_code):
    ran = _check(tmp_path, "plain", *args)
    assert ran.returncode == exit_code, ran.stderr
    report, after = _report_and_after(ran.stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["testing/marker-client"]
    assert after == ["exit handlers ran"]


def test_a_profiled_run_ends_as_python_ends_it(tmp_path):
    ran = _check(tmp_path, "profiled")
    assert ran.returncode == 1, ran.stderr
    assert _report_and_after(ran.stdout)[1] == ["exit handlers ran", "torn down"]


def _report_and_after(stdout: str) -> tuple[dict, list[str]]:
    """The JSON report, and the lines printed after it."""
    report, end = json.JSONDecoder().raw_decode(stdout)
    return report, [line for line in stdout[end:].splitlines() if line]
