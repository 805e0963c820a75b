"""The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

The log is built as plain JSON data. Each object lists its properties in the order the SARIF object model
(sarif-om) keeps them, required ones first and then by name, and leaves out exactly the properties that are
unset (None), keeping values that happen to equal a default: an explicit `level: "warning"` stays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from linter import PROJECT_URL
from linter.model import Finding, Fix, Location, Notice, Report, RuleInfo, Span
from linter.terminal_text import json_escaped

if TYPE_CHECKING:
    from linter.formatters import RenderOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"

_URI_PATH_SAFE = "/@!$&'()*+,;="


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write `report` as a SARIF 2.1.0 log (2-space indent, UTF-8, trailing newline), notifications included
    whatever `options.quiet` says."""
    log = sarif_log(report, include_suppressed=options.include_suppressed)
    out.write(json_escaped(json.dumps(log, indent=2, ensure_ascii=False)) + "\n")


def sarif_log(report: Report, *, include_suppressed: bool = False) -> dict[str, Any]:
    """Return the SARIF log for `report` as plain JSON data, `$schema` and `version` first: one run, every rule,
    findings in position order."""
    rule_index = {rule.id: index for index, rule in enumerate(report.rules)}
    findings = sorted(
        (f for f in report.findings if include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    driver = _set(
        name="loadlint",
        informationUri=PROJECT_URL,
        rules=[_rule(rule) for rule in report.rules],
        semanticVersion=report.tool_version,
        version=report.tool_version,
    )
    run = _set(
        tool={"driver": driver},
        automationDetails=_automation_details(report.category),
        columnKind="utf16CodeUnits",
        invocations=[_invocation(report.notices, succeeded=not report.incomplete)],
        originalUriBaseIds={SRCROOT: {"uri": root_uri(report.root)}},
        results=[_result(finding, rule_index.get(finding.rule_id)) for finding in findings],
    )
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _set(**properties: Any) -> dict[str, Any]:
    """A SARIF object of the `properties` that are set (not None), in the order given."""
    return {name: value for name, value in properties.items() if value is not None}


def root_uri(root: str) -> str:
    """Return the `file:` URI of the directory `root`, percent-encoded and ending in `/`."""
    uri = Path(root).absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def relative_uri(path: str) -> str:
    """Percent-encode a repository-relative POSIX path for `artifactLocation.uri`, keeping `/`."""
    return quote(path, safe=_URI_PATH_SAFE)


def _rule(rule: RuleInfo) -> dict[str, Any]:
    properties = _set(
        tags=list(rule.tags),
        precision=rule.precision.value,
        **{"security-severity": rule.security_severity, "problem.severity": rule.level.problem_severity},
    )
    return _set(
        id=rule.id,
        defaultConfiguration={"level": rule.level.sarif},
        fullDescription={"text": _full_description(rule)},
        help={"text": rule.docs, "markdown": rule.docs},
        helpUri=rule.help_uri,
        name=rule.name,
        properties=properties,
        shortDescription={"text": rule.summary},
    )


def _full_description(rule: RuleInfo) -> str:
    """The first paragraph under the docs' "Why is this bad?" heading, else the summary."""
    lines = rule.docs.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "## why is this bad?")
    except StopIteration:
        return rule.summary
    paragraph: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#") or line.startswith("```") or (not line.strip() and paragraph):
            break
        if line.strip():
            paragraph.append(line.strip())
    return " ".join(paragraph) or rule.summary


def _result(finding: Finding, rule_index: int | None) -> dict[str, Any]:
    related = [
        _location(loc.path, loc.span, loc.message, location_id=number)
        for number, loc in enumerate(finding.related, start=1)
    ]
    return _set(
        message=_message(finding.message),
        codeFlows=_code_flows(finding.code_flow),
        fixes=[_fix(finding.path, fix) for fix in finding.fixes] or None,
        level=finding.level.sarif,
        locations=[_location(finding.path, finding.span)],
        partialFingerprints={"primaryLocationLineHash": finding.fingerprint} if finding.fingerprint else None,
        relatedLocations=related or None,
        ruleId=finding.rule_id,
        ruleIndex=rule_index,
        suppressions=_suppressions(finding),
    )


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    """One artifact change with a replacement per edit; `properties.safe` says whether `--fix` applies it
    without `--unsafe-fixes`."""
    replacements = [
        _set(
            deletedRegion=_region(edit.span),
            insertedContent=_set(text=edit.replacement) if edit.replacement else None,
        )
        for edit in sorted(fix.edits, key=lambda e: (e.start_byte, e.end_byte))
    ]
    change = {"artifactLocation": _artifact_location(path), "replacements": replacements}
    return {"artifactChanges": [change], "description": _message(fix.description), "properties": {"safe": fix.safe}}


def _code_flows(steps: tuple[Location, ...]) -> list[dict[str, Any]] | None:
    if not steps:
        return None
    thread_flow = {"locations": [{"location": _location(step.path, step.span, step.message)} for step in steps]}
    return [{"threadFlows": [thread_flow]}]


def _suppressions(finding: Finding) -> list[dict[str, Any]] | None:
    if not finding.suppressed:
        return None
    return [_set(kind="inSource", justification=finding.suppression_reason)]


def _location(
    path: str, span: Span | None, message: str | None = None, *, location_id: int | None = None
) -> dict[str, Any]:
    physical = _set(artifactLocation=_artifact_location(path), region=_region(span) if span is not None else None)
    return _set(id=location_id, message=_message(message) if message else None, physicalLocation=physical)


def _artifact_location(path: str) -> dict[str, Any]:
    return {"uri": relative_uri(path), "uriBaseId": SRCROOT}


def _region(span: Span) -> dict[str, Any]:
    return _set(
        endColumn=span.end_column,
        endLine=span.end_line,
        startColumn=span.start_column,
        startLine=span.start_line,
    )


def _message(text: str) -> dict[str, Any]:
    return _set(text=text)


def _invocation(notices: tuple[Notice, ...], succeeded: bool) -> dict[str, Any]:
    notifications = [
        _set(
            message=_message(notice.message),
            level=notice.level.sarif,
            locations=[_location(notice.path, notice.span)] if notice.path else None,
        )
        for notice in sorted(notices, key=lambda n: n.sort_key)
    ]
    return _set(executionSuccessful=succeeded, toolExecutionNotifications=notifications or None)


def _automation_details(category: str | None) -> dict[str, Any] | None:
    if not category:
        return None
    return {"id": category if category.endswith("/") else category + "/"}
