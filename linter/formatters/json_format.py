"""The `json` format: loadlint's stable, machine-readable contract for other tools.

Shape: `{"version", "findings", "notices", "summary"}`. Findings and notices are sorted by position, keys are
sorted, and every finding carries every key (null when absent), so the output diffs cleanly between runs.
`summary` counts the unsuppressed findings per rule id.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from linter.model import Finding, Location, Notice, Report, Span
from linter.terminal_text import json_escaped

if TYPE_CHECKING:
    from linter.formatters import RenderOptions


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write `report` as sorted, 2-space-indented JSON followed by a newline: the whole document, whatever
    `options.quiet` says; suppressed findings only with `options.include_suppressed`."""
    findings = sorted(
        (f for f in report.findings if options.include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    document = {
        "version": report.tool_version,
        "findings": [_finding(f) for f in findings],
        "notices": [_notice(n) for n in sorted(report.notices, key=lambda n: n.sort_key)],
        "summary": dict(Counter(f.rule_id for f in report.active_findings)),
    }
    out.write(json_escaped(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n")


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "level": finding.level.value,
        "message": finding.message,
        "path": finding.path,
        "span": _span(finding.span),
        "related": [_location(loc) for loc in finding.related],
        "code_flow": [_location(loc) for loc in finding.code_flow],
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppressed,
        "suppression_reason": finding.suppression_reason,
    }


def _location(location: Location) -> dict[str, Any]:
    return {"path": location.path, "span": _span(location.span), "message": location.message}


def _span(span: Span) -> dict[str, int]:
    return {
        "start_line": span.start_line,
        "start_column": span.start_column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def _notice(notice: Notice) -> dict[str, Any]:
    found = {"level": notice.level.value, "message": notice.message, "path": notice.path}
    if notice.span is not None:
        found["span"] = notice.span.model_dump()
    return found
