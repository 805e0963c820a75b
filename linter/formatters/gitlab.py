"""The `gitlab` format: a GitLab Code Quality report (`artifacts: reports: codequality:`).

A JSON array with one issue per unsuppressed finding, with the fields GitLab reads (a subset of the Code
Climate spec): `description` (the message), `check_name` (the rule id), `fingerprint`, `severity` and
`location.path` / `location.lines.begin` (and `end`). Notices have no place in it and are left out.

GitLab compares the fingerprints of a merge request's report with its target branch's to tell new issues from
fixed ones, so a fingerprint must be unique in a report and stay the same while the code does: it hashes the
rule, the path, the finding's line hash (GitHub's `primaryLocationLineHash` of the text from its line on, spaces
ignored: `linter.fingerprint`) and how many findings before it in the file share those, never the line
number. Code moving up or down keeps its issues; editing the flagged line makes a new one.

Severities: error → `major`, warning → `minor`, note → `info` (GitLab's scale: info, minor, major, critical,
blocker). The text is exact; characters a terminal would act on are written as JSON escapes (`json_escaped`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from linter.model import Finding, Level, Report
from linter.terminal_text import json_escaped

if TYPE_CHECKING:
    from linter.formatters import RenderOptions

SEVERITY = {Level.ERROR: "major", Level.WARNING: "minor", Level.NOTE: "info"}


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write the issues as a 2-space-indented JSON array and a newline; never suppressed findings."""
    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []
    for finding in sorted(report.active_findings, key=lambda f: f.sort_key):
        key = (finding.rule_id, finding.path, finding.fingerprint or f"line {finding.span.start_line}")
        issues.append(_issue(finding, fingerprint(*key, seen[key])))
        seen[key] += 1
    out.write(json_escaped(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n")


def fingerprint(rule_id: str, path: str, line_hash: str, occurrence: int) -> str:
    # surrogatepass: a path that is not UTF-8 on disk still hashes, to the same value every run
    data = "\0".join((rule_id, path, line_hash, str(occurrence))).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    span = finding.span
    return {
        "description": finding.message,
        "check_name": finding.rule_id,
        "fingerprint": fingerprint,
        "severity": SEVERITY[finding.level],
        "location": {"path": finding.path, "lines": {"begin": span.start_line, "end": span.end_line}},
    }
