"""Fail a CI job when a SARIF log holds findings at or above a level: the last step of the GitHub action.

The action runs `loadlint check --exit-zero` so that the SARIF is uploaded whatever it holds, then asks this
module whether the job should fail:

    python -m linter.sarif_gate loadlint.sarif --fail-on error

Exit codes, as `loadlint check` would have given them: 0 nothing at or above the level (or `--fail-on none`),
1 findings, 2 an incomplete run (a rule failed on some file; the log's notifications say where) or a file that
cannot be read. Suppressed results (present only with `--include-suppressed`) never fail the job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from linter.terminal_text import printable

LEVEL_RANK = {"none": -1, "note": 0, "warning": 1, "error": 2}
FAIL_ON_CHOICES = ("error", "warning", "note", "none")


def failing_results(log: dict[str, Any], fail_on: str) -> list[dict[str, Any]]:
    """The unsuppressed results of every run whose level reaches `fail_on` (`none`: no result fails)."""
    if fail_on == "none":
        return []
    threshold = LEVEL_RANK[fail_on]
    return [
        result
        for run in log.get("runs", [])
        for result in run.get("results", [])
        if not result.get("suppressions") and LEVEL_RANK.get(result.get("level", "warning"), 1) >= threshold
    ]


def incomplete_run_notices(log: dict[str, Any]) -> list[str] | None:
    """The notifications of an invocation that did not succeed, or None when every invocation succeeded."""
    invocations = [invocation for run in log.get("runs", []) for invocation in run.get("invocations", [])]
    if all(invocation.get("executionSuccessful", True) for invocation in invocations):
        return None
    return [
        notification.get("message", {}).get("text", "")
        for invocation in invocations
        for notification in invocation.get("toolExecutionNotifications", [])
    ]


def describe(result: dict[str, Any]) -> str:
    """`path:line  rule-id  message`, as the text format prints a finding."""
    where = "?"
    locations = result.get("locations") or []
    if locations:
        physical = locations[0].get("physicalLocation", {})
        where = physical.get("artifactLocation", {}).get("uri", "?")
        line = physical.get("region", {}).get("startLine")
        if line:
            where += f":{line}"
    return printable(f"{where}  {result.get('ruleId', '?')}  {result.get('message', {}).get('text', '')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linter.sarif_gate", description=__doc__.split("\n", 1)[0])
    parser.add_argument("sarif", type=Path)
    parser.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default="error")
    args = parser.parse_args(argv)
    try:
        log = json.loads(args.sarif.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(printable(f"loadlint: error: cannot read {args.sarif}: {error}"), file=sys.stderr)
        return 2
    if args.fail_on == "none":
        return 0
    failing = failing_results(log, args.fail_on)
    for result in failing:
        print(describe(result))
    noun = "finding" if len(failing) == 1 else "findings"
    print(f"loadlint: {len(failing) or 'no'} {noun} at or above {args.fail_on}.")
    incomplete = incomplete_run_notices(log)
    if incomplete is not None:
        for message in incomplete:
            print(f"loadlint: {printable(message)}")
        print("loadlint: the run is incomplete: a rule failed or ran out of time on some file.")
        return 2
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
