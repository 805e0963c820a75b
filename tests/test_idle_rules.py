"""The benchmark's run with the rules idle (`tests.idle_rules`) must do the engine's work and none of the rules':
were a rule to run in it, the benchmark would count the rule's time as the engine's."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.fixture_cases import DEMO, REPO


def _check_demo(module: str) -> tuple[int, dict]:
    command = [sys.executable, "-m", module, "check", "--format", "json", "--no-cache", "-j", "1", str(DEMO)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_the_demo_app_with_the_rules_idle_has_the_engine_notices_and_no_finding():
    real_code, real = _check_demo("linter")
    idle_code, idle = _check_demo("tests.idle_rules")
    assert real_code == 1 and len(real["findings"]) >= 10  # the demo's rules, per file and project-wide
    assert {finding["rule_id"] for finding in real["findings"]} >= {"prisma/client-outside-singleton", "pagination/uncapped-limit"}
    assert (idle_code, idle["findings"]) == (0, [])
    assert idle["notices"] == real["notices"]
