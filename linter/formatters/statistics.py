"""`--statistics`: how many findings each rule has, instead of the findings, as Ruff prints them.

Text (with `--format text` or `concise`): one line per rule, most findings first, with the levels of its
findings and how many `--fix` (or `--fix --unsafe-fixes`) would fix; then the notices and the summary, left
out with `quiet`. JSON (`--format json`): a sorted array of
`{"rule_id", "count", "levels": {level: count}, "fixable", "unsafe_fixable"}`. Suppressed findings are not
counted.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any, TextIO

from rich.text import Text

from linter.formatters.summary import LEVEL_STYLE, summary_line
from linter.formatters.text import notice_lines, plain_console, wrapped
from linter.model import Finding, Report
from linter.terminal_text import json_escaped, printable

if TYPE_CHECKING:
    from linter.formatters import RenderOptions


def render(report: Report, out: TextIO, options: "RenderOptions", *, as_json: bool = False) -> None:
    rows = rule_counts(report.active_findings)
    if as_json:
        out.write(json_escaped(json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False)) + "\n")
        return
    console = plain_console(out, options.color)
    digits = len(str(max((row["count"] for row in rows), default=0)))
    id_width = max((len(printable(row["rule_id"])) for row in rows), default=0)
    level_width = max((len(_levels_text(row)) for row in rows), default=0)
    for row in rows:
        line = Text(f"{row['count']:>{digits}}  {printable(row['rule_id']):<{id_width}}  ")
        levels = _levels_text(row)
        for index, level in enumerate(row["levels"]):
            line.append(", " if index else "")
            line.append(level, style=LEVEL_STYLE[_LEVELS[level]])
        fixes = _fixes_text(row)
        if fixes:
            line.append(" " * (level_width - len(levels)) + f"  {fixes}")
        console.print(line)
    if options.quiet:
        return
    if rows:
        console.print()
    for notice in sorted(report.notices, key=lambda n: n.sort_key):
        for line in notice_lines(notice, options.width):
            console.print(line)
    if report.notices:
        console.print()
    for line in wrapped(Text(), summary_line(report), options.width, 0):
        line.stylize("bold")
        console.print(line)


def rule_counts(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    """One row per rule with findings: most findings first, then by id."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_rule[finding.rule_id].append(finding)
    rows = []
    for rule_id, found in by_rule.items():
        levels = Counter(finding.level for finding in found)
        rows.append(
            {
                "rule_id": rule_id,
                "count": len(found),
                "levels": {level.value: levels[level] for level in sorted(levels, key=lambda lv: -lv.rank)},
                "fixable": sum(1 for f in found if any(fix.safe for fix in f.fixes)),
                "unsafe_fixable": sum(1 for f in found if f.fixes and not any(fix.safe for fix in f.fixes)),
            }
        )
    return sorted(rows, key=lambda row: (-row["count"], row["rule_id"]))


def _levels_text(row: dict[str, Any]) -> str:
    return ", ".join(row["levels"])


def _fixes_text(row: dict[str, Any]) -> str:
    parts = []
    if row["fixable"]:
        parts.append(f"{row['fixable']} fixable")
    if row["unsafe_fixable"]:
        parts.append(f"{row['unsafe_fixable']} fixable with --unsafe-fixes")
    return ", ".join(parts)


_LEVELS = {level.value: level for level in LEVEL_STYLE}
