"""In-source suppressions.

    // prodlint-ignore <rule-id>[, <rule-id>…] -- <reason>        its own line; on a line of its own, the next line
    /* prodlint-ignore-file <rule-id>[, …] -- <reason> */        the whole file

A rule id may also be a family (`auth`). The reason is required. Directives without one, naming an unknown
rule, or suppressing nothing become findings of their own (`prodlint/invalid-suppression`,
`prodlint/unused-suppression`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from linter.config import matches_selector
from linter.model import Finding, Span
from linter.positions import LineIndex
from linter.syntax import Node, walk

INVALID_ID = "prodlint/invalid-suppression"
UNUSED_ID = "prodlint/unused-suppression"

_MARKER = b"prodlint-ignore"
_DIRECTIVE = re.compile(r"prodlint-ignore(?P<suffix>[\w-]*)(?P<body>.*)", re.S)


@dataclass
class Directive:
    path: str
    span: Span
    whole_file: bool
    selectors: tuple[str, ...]
    reason: str
    problem: str | None = None
    trailing: bool = False  # written after code on the same line: covers that line only
    used: bool = field(default=False, compare=False)

    def covers(self, finding: Finding) -> bool:
        if finding.path != self.path or finding.rule_id in (INVALID_ID, UNUSED_ID):
            return False
        if not any(matches_selector(finding.rule_id, s) for s in self.selectors):
            return False
        line = finding.span.start_line
        last_line = self.span.end_line if self.trailing else self.span.end_line + 1
        return self.whole_file or self.span.start_line <= line <= last_line


def find_directives(path: str, source: bytes, root: Node, lines: LineIndex, known_ids: frozenset[str]) -> list[Directive]:
    if _MARKER not in source:
        return []
    directives = []
    for node in walk(root):
        if node.type != "comment" or _MARKER not in node.text:
            continue
        body = _comment_body(node.text.decode("utf-8", "replace"))
        match = _DIRECTIVE.match(body)
        if match is None:
            continue
        span = lines.span(node.start_byte, node.end_byte)
        suffix = match.group("suffix")
        directive = _parse(path, span, suffix == "-file", match.group("body"), known_ids)
        if suffix not in ("", "-file"):
            directive.problem = (
                f"uses `prodlint-ignore{suffix}`, which is not a directive; write `prodlint-ignore` "
                "(its line, or the next one) or `prodlint-ignore-file`"
            )
        before = source[lines.line_start(span.start_line) : node.start_byte]
        directive.trailing = bool(before.strip(b" \t{"))
        directives.append(directive)
    return directives


def _comment_body(comment: str) -> str:
    if comment.startswith("//"):
        return comment[2:].strip()
    return comment.removeprefix("/*").removesuffix("*/").strip().lstrip("*").strip()


def _parse(path: str, span: Span, whole_file: bool, body: str, known_ids: frozenset[str]) -> Directive:
    ids_part, separator, reason = body.partition("--")
    selectors = tuple(s for s in re.split(r"[,\s]+", ids_part.strip()) if s)
    reason = " ".join(reason.split())
    directive = Directive(path=path, span=span, whole_file=whole_file, selectors=selectors, reason=reason)
    if not selectors:
        directive.problem = "names no rule; write `prodlint-ignore <rule-id> -- <reason>`"
    elif not separator or not reason:
        directive.problem = "has no reason; add one after ` -- `"
    else:
        unknown = [s for s in selectors if not any(matches_selector(i, s) for i in known_ids)]
        if unknown:
            directive.problem = f"names an unknown rule: {', '.join(unknown)}"
    return directive


def apply_suppressions(findings: list[Finding], directives: list[Directive]) -> list[Finding]:
    """Mark the findings that a valid directive covers as suppressed (and the directives as used)."""
    by_path: dict[str, list[Directive]] = {}
    for directive in directives:
        if directive.problem is None:
            by_path.setdefault(directive.path, []).append(directive)
    result = []
    for finding in findings:
        cover = next((d for d in by_path.get(finding.path, ()) if d.covers(finding)), None)
        if cover is None:
            result.append(finding)
            continue
        for directive in by_path[finding.path]:
            if directive.covers(finding):
                directive.used = True
        result.append(finding.model_copy(update={"suppressed": True, "suppression_reason": cover.reason}))
    return result
