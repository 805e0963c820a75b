"""The `junit` format: JUnit XML, the test report every CI system reads (GitLab `artifacts: reports: junit:`,
Jenkins, Azure Pipelines, CircleCI, Buildkite).

One `<testsuite>` named `loadlint` with one `<testcase>`, `run`, that fails with an `<error>` when the run is
incomplete (the notices say why), and the notices in its `<system-out>`; then one `<testsuite>` per file with
findings (named by its path), holding one `<testcase>` per finding (`rule-id at line:col`, with `classname`
and `file` the path and `line` its line) that fails with a `<failure>` whose `type` is the level and whose
text is the finding as `concise` prints it, with its related places and steps. Suppressed findings (with
`--include-suppressed`) are `<skipped>` test cases. A clean run is one passing test.

The text is escaped with `printable` (these reports are read by people, in a CI page) and then cannot hold a
character XML 1.0 forbids, so the document is well-formed whatever the repository holds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby
from typing import TYPE_CHECKING, TextIO

from linter import lazy_re
from linter.model import Finding, Location, Notice, Report
from linter.terminal_text import printable

if TYPE_CHECKING:
    from linter.formatters import RenderOptions

# What `printable` leaves and XML 1.0 still forbids (its Char production excludes U+FFFE and U+FFFF).
_NOT_XML = lazy_re.compile("[\ufffe\uffff]")
SUITE = "loadlint"


def render(report: Report, out: TextIO, options: "RenderOptions") -> None:
    """Write the report as a JUnit XML document; notices are in it whatever `options.quiet` says."""
    findings = sorted(
        (f for f in report.findings if options.include_suppressed or not f.suppressed), key=lambda f: f.sort_key
    )
    root = ET.Element("testsuites", name=SUITE)
    root.append(_run_suite(report))
    for path, group in groupby(findings, key=lambda f: f.path):
        root.append(_file_suite(path, list(group)))
    _count(root, root.findall("testsuite"))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def xml_text(text: str) -> str:
    """`text` as it may stand in the document: control characters and the like as visible escapes."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", printable(text))


def _run_suite(report: Report) -> ET.Element:
    suite = ET.Element("testsuite", name=SUITE)
    case = ET.SubElement(suite, "testcase", name="run", classname=SUITE)
    notices = sorted(report.notices, key=lambda n: n.sort_key)
    if report.incomplete:
        error = ET.SubElement(case, "error", message="the run is incomplete: some files or rules were not checked")
        error.text = "\n".join(_notice_line(n) for n in notices if n.level.rank > 0)
    if notices:
        ET.SubElement(suite, "system-out").text = "\n".join(_notice_line(n) for n in notices)
    _count(suite, [suite])
    return suite


def _file_suite(path: str, findings: list[Finding]) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(path))
    for finding in findings:
        span = finding.span
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"{xml_text(finding.rule_id)} at {span.start_line}:{span.start_column}",
            classname=xml_text(path),
            file=xml_text(path),
            line=str(span.start_line),
        )
        if finding.suppressed:
            reason = f": {finding.suppression_reason}" if finding.suppression_reason else ""
            ET.SubElement(case, "skipped", message=xml_text(f"suppressed{reason}"))
            continue
        failure = ET.SubElement(case, "failure", message=xml_text(finding.message), type=finding.level.value)
        failure.text = "\n".join(_finding_lines(finding))
    _count(suite, [suite])
    return suite


def _finding_lines(finding: Finding) -> list[str]:
    span = finding.span
    lines = [
        f"{xml_text(finding.path)}:{span.start_line}:{span.start_column}: {finding.level.value} "
        f"{xml_text(finding.rule_id)} {xml_text(finding.message)}"
    ]
    lines += [_location_line("related", location) for location in finding.related]
    lines += [_location_line(f"step {n}", location) for n, location in enumerate(finding.code_flow, start=1)]
    return lines


def _location_line(label: str, location: Location) -> str:
    span = location.span
    message = f" {xml_text(location.message)}" if location.message else ""
    return f"  {label}: {xml_text(location.path)}:{span.start_line}:{span.start_column}{message}"


def _notice_line(notice: Notice) -> str:
    where = f"{xml_text(notice.path)}: " if notice.path else ""
    return f"{notice.level.value}: {where}{xml_text(notice.message)}"


def _count(element: ET.Element, suites: list[ET.Element]) -> None:
    """Set the `tests`, `failures`, `errors` and `skipped` counts of `element` from the test cases of `suites`."""
    cases = [case for suite in suites for case in suite.findall("testcase")]
    element.set("tests", str(len(cases)))
    for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attribute, str(sum(1 for case in cases if case.find(outcome) is not None)))
