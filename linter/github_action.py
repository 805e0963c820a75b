"""The steps of the GitHub action (action.yml) that run loadlint and show what it found.

    python -I -m linter.github_action check    # run `loadlint check`, write the SARIF logs, set the step outputs
    python -I -m linter.github_action finish   # annotations when not uploaded, the job summary, the exit code

Every input comes from the environment (`INPUT_*`, set by action.yml from the workflow's `with:`), never pasted
into a script, and is passed to loadlint as a list of arguments, never through a shell. The exit code of the job
is the one `loadlint check` gives for the report (`fail-on` as the CLI takes it: the flag, else the config's
`fail-on`, else `warning`; 2 for an incomplete run), but only after the upload, so that the alerts show up even
on a failing pull request.

On a pull request, the report (the annotations, the summary, the exit code) holds only the findings on lines the
pull request changed (`--diff` against its base), while the log uploaded to code scanning holds them all:
code scanning compares it with the base branch's own analysis, and a partial log would make every other alert
look fixed.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from linter.terminal_text import printable

FAIL_ON_LEVELS = ("error", "warning", "note")
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
NO_DIFF = ("none", "false", "off", "")
# Options the action sets itself, or that must never come from a workflow file: `--rules-dir` and
# `--trust-config-rules` would import Python from the checkout, which on a pull request is a stranger's.
REFUSED_ARGS = (
    "--trust-config-rules", "--rules-dir", "--format", "--output", "-o", "--fix", "--diff-fix", "--unsafe-fixes",
    "--write-baseline", "--diff", "--baseline", "--config", "--category", "--fail-on",
)
LEVEL_COMMANDS = {"error": "error", "warning": "warning", "note": "notice", "none": "notice"}


class ActionError(Exception):
    """An input the action cannot use: one `::error::` line, exit 2."""


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:])[:1]
    try:
        if command == ["check"]:
            return check(os.environ)
        if command == ["finish"]:
            return finish(os.environ)
    except ActionError as error:
        print(f"::error title=loadlint::{_escape(str(error))}")
        return 2
    print("usage: python -m linter.github_action check|finish", file=sys.stderr)
    return 2


# check ---------------------------------------------------------------------------------------------------------


def check(env) -> int:
    folder = env.get("INPUT_WORKING_DIRECTORY") or "."
    if not Path(folder).is_dir():
        raise ActionError(f"working-directory: {folder} is not a folder of the checkout")
    os.chdir(folder)
    options, paths = _options(env), _paths(env)
    diff = _diff_ref(env)
    upload, why_not = _upload(env)
    out = Path(tempfile.mkdtemp(prefix="loadlint-", dir=env.get("RUNNER_TEMP") or None))
    report_file = out / "loadlint.sarif"
    report_options = [*options, *(["--diff", diff] if diff else []), "--", *paths]
    code = _loadlint(report_options, env, report_file)
    if not report_file.is_file():  # a usage or config error: loadlint said what on stderr
        return code or 2
    sarif_file = report_file
    if upload and diff:
        # Code scanning compares the whole log with the base branch's: upload every finding.
        sarif_file = out / "loadlint-all.sarif"
        _loadlint([*options, "--exit-zero", "--", *paths], env, sarif_file)
        if not sarif_file.is_file():
            return 2
    log = _read_log(report_file)
    counts = _counts(log)
    _set_outputs(
        env,
        {
            "sarif-file": str(sarif_file.resolve()),
            "report-file": str(report_file.resolve()),
            "exit-code": str(code),
            "upload": "true" if upload else "false",
            "upload-skipped": why_not,
            "diff": diff or "",
            "root": _root(log) or str(Path.cwd()),
            "findings": str(sum(counts.values())),
            **{f"{level}s": str(counts[level]) for level in FAIL_ON_LEVELS},
        },
    )
    return 0


def _options(env) -> list[str]:
    args = _split_args(env.get("INPUT_ARGS", ""))
    options = [*args]
    if env.get("INPUT_CONFIG"):
        options += ["--config", env["INPUT_CONFIG"]]
    if env.get("INPUT_CATEGORY"):
        options += ["--category", env["INPUT_CATEGORY"]]
    fail_on = env.get("INPUT_FAIL_ON", "")
    if fail_on and fail_on not in FAIL_ON_LEVELS:
        raise ActionError(f"fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON_LEVELS)} (or empty: the config's, else warning)")
    if fail_on:
        options += ["--fail-on", fail_on]
    if env.get("INPUT_BASELINE"):
        options += ["--baseline", env["INPUT_BASELINE"]]
    return options


def _paths(env) -> list[str]:
    """The paths as written, split on white space, never expanded."""
    return env.get("INPUT_PATHS", ".").split() or ["."]


def _split_args(text: str) -> list[str]:
    try:
        args = shlex.split(text)
    except ValueError as error:
        raise ActionError(f"args: {error}") from None
    for arg in args:
        if arg.split("=", 1)[0] in REFUSED_ARGS or _sets_output(arg):
            raise ActionError(f"args: {arg} is not allowed; the action sets its output itself, and never loads rules from the checkout")
        if arg == "--":
            raise ActionError("args: -- is not allowed; give paths in `paths`")
    return args


def _sets_output(arg: str) -> bool:
    """Whether a cluster of short options (`-o x`, `-qo x`) holds `-o`; `-j` takes the rest as its value."""
    if not arg.startswith("-") or arg.startswith("--"):
        return False
    for flag in arg[1:]:
        if flag == "o":
            return True
        if flag == "j":
            return False
    return False


def _diff_ref(env) -> str | None:
    """The revision `--diff` compares with: on a pull request by default, its base."""
    wanted = env.get("INPUT_DIFF", "auto").strip()
    if wanted.lower() in NO_DIFF:
        return None
    if wanted.lower() != "auto":
        return wanted
    base = env.get("BASE_SHA", "")
    if env.get("EVENT_NAME") not in PULL_REQUEST_EVENTS or not base:
        return None
    if not _has_commit(base):  # a shallow checkout: fetch the base itself, else loadlint reports all, with a note
        subprocess.run(["git", "fetch", "--quiet", "--no-tags", "--depth=1", "origin", base], capture_output=True, timeout=300)
    return base


def _has_commit(revision: str) -> bool:
    try:
        done = subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _upload(env) -> tuple[bool, str]:
    if env.get("INPUT_UPLOAD", "true") != "true":
        return False, "the `upload` input is not `true`"
    head, repository = env.get("HEAD_REPO", ""), env.get("REPOSITORY", "")
    if env.get("EVENT_NAME") == "pull_request" and head and head != repository:
        return False, "a pull request from a fork has no permission to upload to code scanning"
    return True, ""


def _loadlint(options: list[str], env, output: Path) -> int:
    command = [sys.executable, "-I", "-m", "linter", "check", "--format", "sarif", "--output", str(output), *options]
    return subprocess.run(command, env=dict(env)).returncode


def _read_log(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ActionError(f"cannot read {path}: {error}") from None


def _results(log: dict) -> list[dict]:
    return [r for run in log.get("runs", []) for r in run.get("results", []) if not r.get("suppressions")]


def _counts(log: dict) -> Counter:
    return Counter(result.get("level", "warning") for result in _results(log))


def _root(log: dict) -> str | None:
    for run in log.get("runs", []):
        uri = run.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).get("uri", "")
        if uri.startswith("file://"):
            from urllib.parse import unquote, urlparse

            return unquote(urlparse(uri).path).rstrip("/") or "/"
    return None


def _set_outputs(env, outputs: dict[str, str]) -> None:
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as out:
        for name, value in outputs.items():
            out.write(f"{name}={value.replace(chr(10), ' ')}\n")


# finish --------------------------------------------------------------------------------------------------------


def finish(env) -> int:
    log = _read_log(Path(env["REPORT_FILE"]))
    code = int(env.get("EXIT_CODE") or 2)
    uploaded = env.get("UPLOAD_OUTCOME") == "success"
    if not uploaded:
        print(f"::notice title=loadlint::{_escape(_not_uploaded(env))}")
        for line in annotations(log):
            print(line)
    else:
        for result in _results(log):
            print(describe(result))
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(job_summary(log, uploaded, env))
    print(_verdict(code, len(_results(log))))
    return code


def _not_uploaded(env) -> str:
    if env.get("UPLOAD_SKIPPED"):
        why = env["UPLOAD_SKIPPED"]
    elif env.get("UPLOAD_OUTCOME") == "failure":
        why = "code scanning refused the upload (is it enabled for this repository, with `security-events: write`?)"
    else:
        why = "the upload did not run"
    return f"the findings were not uploaded to code scanning: {why}; they are shown as annotations and in the job summary"


def _verdict(code: int, findings: int) -> str:
    noun = "finding" if findings == 1 else "findings"
    if code == 0:
        return f"loadlint: {findings or 'no'} {noun}, none at or above fail-on."
    if code == 1:
        return f"loadlint: {findings} {noun}; some reach fail-on, so the job fails."
    return "loadlint: the run is incomplete (a rule failed or ran out of time on some file; see the notices), so the job fails."


def annotations(log: dict) -> list[str]:
    """Workflow commands for the results and notices of a SARIF log, as `--format github` writes them."""
    lines = []
    for result in _results(log):
        location = _physical(result)
        region = location.get("region", {})
        properties = {"file": location.get("artifactLocation", {}).get("uri")}
        for name, key in (("line", "startLine"), ("col", "startColumn"), ("endLine", "endLine"), ("endColumn", "endColumn")):
            properties[name] = region.get(key)
        properties["title"] = result.get("ruleId", "loadlint")
        lines.append(_command(result.get("level", "warning"), properties, result.get("message", {}).get("text", "")))
    for run in log.get("runs", []):
        for invocation in run.get("invocations", []):
            for notification in invocation.get("toolExecutionNotifications", []):
                properties = {"file": _physical(notification).get("artifactLocation", {}).get("uri")}
                message = notification.get("message", {}).get("text", "")
                lines.append(_command(notification.get("level", "warning"), properties, message))
    return lines


def _physical(item: dict) -> dict:
    return (item.get("locations") or [{}])[0].get("physicalLocation", {})


def _command(level: str, properties: dict, message: str) -> str:
    from linter.formatters.github import escape_property

    rendered = ",".join(
        f"{key}={escape_property(printable(str(value), keep_line_breaks=True))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{LEVEL_COMMANDS.get(level, 'warning')}{' ' if rendered else ''}{rendered}::{_escape(message)}"


def job_summary(log: dict, uploaded: bool, env) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`: the counts per rule and level, and where the findings went."""
    by_rule: dict[str, Counter] = defaultdict(Counter)
    for result in _results(log):
        by_rule[str(result.get("ruleId", "?"))][result.get("level", "warning")] += 1
    counts = _counts(log)
    total = sum(counts.values())
    parts = [f"{counts[level]} {level}{'s' if counts[level] != 1 else ''}" for level in FAIL_ON_LEVELS if counts[level]]
    heading = f"**{total} finding{'s' if total != 1 else ''}**" + (f" ({', '.join(parts)})" if parts else "")
    lines = ["### loadlint", "", heading + "."]
    if env.get("DIFF"):
        lines[-1] += " Only the lines this pull request changed are reported."
    where = "Uploaded to code scanning." if uploaded else _md(_not_uploaded(env)) + "."
    lines.append(where[0].upper() + where[1:])
    if by_rule:
        lines += ["", "| rule | error | warning | note |", "|---|---:|---:|---:|"]
        for rule_id in sorted(by_rule):
            row = by_rule[rule_id]
            lines.append(f"| `{_md(rule_id)}` | {row['error']} | {row['warning']} | {row['note']} |")
    notices = sum(len(i.get("toolExecutionNotifications", [])) for run in log.get("runs", []) for i in run.get("invocations", []))
    if notices:
        lines += ["", f"{notices} notice{'s' if notices != 1 else ''} (files skipped, notes on the run): see the step's log."]
    return "\n".join(lines) + "\n\n"


def describe(result: dict) -> str:
    """`path:line  rule-id  message`, as the text format prints a finding."""
    location = _physical(result)
    where = location.get("artifactLocation", {}).get("uri", "?")
    line = location.get("region", {}).get("startLine")
    if line:
        where += f":{line}"
    return printable(f"{where}  {result.get('ruleId', '?')}  {result.get('message', {}).get('text', '')}")


def _escape(text: str) -> str:
    """A command's message: control characters made visible, line breaks kept inside the one command."""
    from linter.formatters.github import escape_data

    return escape_data(printable(text, keep_line_breaks=True))


def _md(text: str) -> str:
    """Text from the repository, safe in a Markdown table cell."""
    return printable(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("<", "&lt;")


if __name__ == "__main__":
    sys.exit(main())
