"""The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

The log is built from sarif-om's classes and written by `to_json`, our own serializer: sarif-om has none, and
`jschema_to_python`'s drops every value equal to its default, so an explicit `level: "warning"` would vanish.
`_new` sets every field the caller did not pass to None, so "unset" always means None and `to_json` drops
exactly those, keeping values that happen to equal a default.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar
from urllib.parse import quote

import attrs
import sarif_om

from linter import PROJECT_URL
from linter.model import Finding, Fix, Location, Notice, Report, RuleInfo, Span
from linter.terminal_text import json_escaped

if TYPE_CHECKING:
    from linter.formatters import RenderOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"

_URI_PATH_SAFE = "/@!$&'()*+,;="

T = TypeVar("T")


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write `report` as a SARIF 2.1.0 log (2-space indent, UTF-8, trailing newline), notifications included
    whatever `options.quiet` says."""
    log = sarif_log(report, include_suppressed=options.include_suppressed)
    out.write(json_escaped(json.dumps(log, indent=2, ensure_ascii=False)) + "\n")


def sarif_log(report: Report, *, include_suppressed: bool = False) -> dict[str, Any]:
    """Return the SARIF log for `report` as plain JSON data, `$schema` and `version` first."""
    log = to_json(build_log(report, include_suppressed=include_suppressed))
    return {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}


def build_log(report: Report, *, include_suppressed: bool = False) -> sarif_om.SarifLog:
    """Build the sarif-om object tree for `report`: one run, every rule, findings in position order."""
    rule_index = {rule.id: index for index, rule in enumerate(report.rules)}
    findings = sorted(
        (f for f in report.findings if include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    driver = _new(
        sarif_om.ToolComponent,
        name="loadlint",
        version=report.tool_version,
        semantic_version=report.tool_version,
        information_uri=PROJECT_URL,
        rules=[_rule(rule) for rule in report.rules],
    )
    run = _new(
        sarif_om.Run,
        tool=_new(sarif_om.Tool, driver=driver),
        invocations=[_invocation(report.notices, succeeded=not report.incomplete)],
        automation_details=_automation_details(report.category),
        results=[_result(finding, rule_index.get(finding.rule_id)) for finding in findings],
        column_kind="utf16CodeUnits",
        original_uri_base_ids={SRCROOT: _new(sarif_om.ArtifactLocation, uri=root_uri(report.root))},
    )
    return _new(sarif_om.SarifLog, schema_uri=SCHEMA_URI, version=SARIF_VERSION, runs=[run])


def to_json(value: Any) -> Any:
    """Turn a sarif-om object tree into JSON data, naming fields by their `schema_property_name`.

    None values (unset fields, absent property-bag entries) are dropped; everything else is kept as given.
    """
    if attrs.has(type(value)):
        return {
            field.metadata["schema_property_name"]: to_json(item)
            for field in attrs.fields(type(value))
            if (item := getattr(value, field.name)) is not None
        }
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def root_uri(root: str) -> str:
    """Return the `file:` URI of the directory `root`, percent-encoded and ending in `/`."""
    uri = Path(root).absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def relative_uri(path: str) -> str:
    """Percent-encode a repository-relative POSIX path for `artifactLocation.uri`, keeping `/`."""
    return quote(path, safe=_URI_PATH_SAFE)


def _new(cls: type[T], **given: Any) -> T:
    unset = {
        field.name: None
        for field in attrs.fields(cls)
        if field.name not in given and field.default is not attrs.NOTHING
    }
    return cls(**unset, **given)


def _rule(rule: RuleInfo) -> sarif_om.ReportingDescriptor:
    properties = {
        "tags": list(rule.tags),
        "precision": rule.precision.value,
        "security-severity": rule.security_severity,
        "problem.severity": rule.level.problem_severity,
    }
    return _new(
        sarif_om.ReportingDescriptor,
        id=rule.id,
        name=rule.name,
        short_description=_new(sarif_om.MultiformatMessageString, text=rule.summary),
        full_description=_new(sarif_om.MultiformatMessageString, text=_full_description(rule)),
        help=_new(sarif_om.MultiformatMessageString, text=rule.docs, markdown=rule.docs),
        help_uri=rule.help_uri,
        default_configuration=_new(sarif_om.ReportingConfiguration, level=rule.level.sarif),
        properties=properties,
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


def _result(finding: Finding, rule_index: int | None) -> sarif_om.Result:
    related = [
        _location(loc.path, loc.span, loc.message, location_id=number)
        for number, loc in enumerate(finding.related, start=1)
    ]
    return _new(
        sarif_om.Result,
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=finding.level.sarif,
        message=_message(finding.message),
        locations=[_location(finding.path, finding.span)],
        related_locations=related or None,
        code_flows=_code_flows(finding.code_flow),
        partial_fingerprints=(
            {"primaryLocationLineHash": finding.fingerprint} if finding.fingerprint else None
        ),
        suppressions=_suppressions(finding),
        fixes=[_fix(finding.path, fix) for fix in finding.fixes] or None,
    )


def _fix(path: str, fix: Fix) -> sarif_om.Fix:
    """One artifact change with a replacement per edit; `properties.safe` says whether `--fix` applies it
    without `--unsafe-fixes`."""
    replacements = [
        _new(
            sarif_om.Replacement,
            deleted_region=_region(edit.span),
            inserted_content=_new(sarif_om.ArtifactContent, text=edit.replacement) if edit.replacement else None,
        )
        for edit in sorted(fix.edits, key=lambda e: (e.start_byte, e.end_byte))
    ]
    change = _new(
        sarif_om.ArtifactChange,
        artifact_location=_new(sarif_om.ArtifactLocation, uri=relative_uri(path), uri_base_id=SRCROOT),
        replacements=replacements,
    )
    return _new(sarif_om.Fix, description=_message(fix.description), artifact_changes=[change], properties={"safe": fix.safe})


def _code_flows(steps: tuple[Location, ...]) -> list[sarif_om.CodeFlow] | None:
    if not steps:
        return None
    thread_flow = _new(
        sarif_om.ThreadFlow,
        locations=[
            _new(sarif_om.ThreadFlowLocation, location=_location(step.path, step.span, step.message))
            for step in steps
        ],
    )
    return [_new(sarif_om.CodeFlow, thread_flows=[thread_flow])]


def _suppressions(finding: Finding) -> list[sarif_om.Suppression] | None:
    if not finding.suppressed:
        return None
    return [_new(sarif_om.Suppression, kind="inSource", justification=finding.suppression_reason)]


def _location(
    path: str, span: Span | None, message: str | None = None, *, location_id: int | None = None
) -> sarif_om.Location:
    physical = _new(
        sarif_om.PhysicalLocation,
        artifact_location=_new(sarif_om.ArtifactLocation, uri=relative_uri(path), uri_base_id=SRCROOT),
        region=_region(span) if span is not None else None,
    )
    return _new(
        sarif_om.Location,
        id=location_id,
        physical_location=physical,
        message=_message(message) if message else None,
    )


def _region(span: Span) -> sarif_om.Region:
    return _new(
        sarif_om.Region,
        start_line=span.start_line,
        start_column=span.start_column,
        end_line=span.end_line,
        end_column=span.end_column,
    )


def _message(text: str) -> sarif_om.Message:
    return _new(sarif_om.Message, text=text)


def _invocation(notices: tuple[Notice, ...], succeeded: bool) -> sarif_om.Invocation:
    notifications = [
        _new(
            sarif_om.Notification,
            message=_message(notice.message),
            level=notice.level.sarif,
            locations=[_location(notice.path, notice.span)] if notice.path else None,
        )
        for notice in sorted(notices, key=lambda n: n.sort_key)
    ]
    return _new(sarif_om.Invocation, execution_successful=succeeded, tool_execution_notifications=notifications or None)


def _automation_details(category: str | None) -> sarif_om.RunAutomationDetails | None:
    if not category:
        return None
    return _new(sarif_om.RunAutomationDetails, id=category if category.endswith("/") else category + "/")
