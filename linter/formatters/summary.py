"""The closing line of the human-readable formats, and the counts it is made of.

Every part of it is a plain fact about the report: the findings shown and their levels, the files they are in,
the files the run checked, and the findings it does not count (suppressed in the source, accepted by a
baseline, on lines --diff leaves out), so that "No problems" never hides that some were found.
"""

from __future__ import annotations

from collections import Counter

from linter.model import Level, Report


def summary_line(report: Report) -> str:
    """"Found 3 problems (2 errors, 1 warning) in 2 files; 12 files checked." and what else is true of the run:
    "No problems reported; 12 files checked. Not counted: 2 accepted by the baseline."."""
    active = report.active_findings
    checked = f"{plural(report.files_checked, 'file')} checked"
    not_counted = _not_counted(report)
    if active:
        files = len({finding.path for finding in active})
        sentences = [f"Found {plural(len(active), 'problem')} ({level_counts(active)}) in {plural(files, 'file')}; {checked}."]
    elif not_counted:
        sentences = [f"No problems reported; {checked}."]
    else:
        sentences = [f"No problems found; {checked}."]
    if not_counted:
        sentences.append(f"Not counted: {', '.join(not_counted)}.")
    if report.incomplete:
        sentences.append("The run is incomplete (see the notices): there may be more.")
    return " ".join(sentences)


def level_counts(findings) -> str:
    """"2 errors, 1 warning": how many findings of each level, most serious first."""
    by_level = Counter(finding.level for finding in findings)
    return ", ".join(plural(by_level[level], level.value) for level in sorted(by_level, key=lambda lv: -lv.rank))


def _not_counted(report: Report) -> list[str]:
    suppressed = sum(1 for finding in report.findings if finding.suppressed)
    parts = [
        (report.baselined, "accepted by the baseline"),
        (suppressed, "suppressed in the source"),
        (report.outside_diff, "on lines --diff leaves out"),
    ]
    return [f"{count} {what}" for count, what in parts if count]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


LEVEL_STYLE = {Level.ERROR: "bold red", Level.WARNING: "bold yellow", Level.NOTE: "bold blue"}
