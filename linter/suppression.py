"""In-source suppressions.

    // loadlint-ignore <rule-id>[, <rule-id>…] -- <reason>        its own line; on a line of its own, the next line
    /* loadlint-ignore-file <rule-id>[, …] -- <reason> */        the whole file

In the non-JavaScript files rules read (`linter.files.kinds`), the same directives are line comments of the
file's own syntax: `// loadlint-ignore …` (or `///`) in Prisma schemas, `# loadlint-ignore …` in Dockerfiles,
shell scripts, YAML, TOML and `.env` files. JSON files have no comments: use `per-file-ignores` there.

A rule id may also be a family (`auth`). The reason is required. Directives without one, naming an unknown
rule, or suppressing nothing become findings of their own (`loadlint/invalid-suppression`,
`loadlint/unused-suppression`).
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import TYPE_CHECKING, Callable

from linter import lazy_re
from linter.config import matches_selector
from linter.files.kinds import line_comment_markers
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Span
from linter.positions import LineIndex
from linter.syntax import Node, walk

if TYPE_CHECKING:
    from linter.project import ProjectIndex

INVALID_ID = "loadlint/invalid-suppression"
UNUSED_ID = "loadlint/unused-suppression"

_MARKER = b"loadlint-ignore"
_DIRECTIVE = lazy_re.compile(r"loadlint-ignore(?P<suffix>[\w-]*)(?P<body>.*)", re.S)


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


def may_hold_directives(source: bytes) -> bool:
    return _MARKER in source


def find_directives(
    path: str, source: bytes, root: Node, line_index: Callable[[], LineIndex], known_ids: frozenset[str]
) -> list[Directive]:
    """The directives in a file's comments. `line_index` gives the file's lines, made only when one is found."""
    if _MARKER not in source:
        return []
    lines = line_index()
    directives = []
    for node in walk(root):
        if node.type != "comment" or _MARKER not in node.text:
            continue
        body = _comment_body(node.text.decode("utf-8", "replace"))
        match = _DIRECTIVE.match(body)
        if match is None:
            continue
        span = lines.span(node.start_byte, node.end_byte)
        directive = _directive(path, span, match, known_ids)
        before = source[lines.line_start(span.start_line) : node.start_byte]
        directive.trailing = bool(before.strip(b" \t{"))
        directives.append(directive)
    return directives


def find_line_directives(
    path: str, source: bytes, lines: LineIndex, known_ids: frozenset[str], comment_markers: tuple[str, ...]
) -> list[Directive]:
    """Directives in a file read without a syntax tree, written as line comments that start with one of
    `comment_markers` (`#`, or `//` which also matches `///`), on a line of their own or after other text."""
    if _MARKER not in source or not comment_markers:
        return []
    starts = b"|".join(re.escape(m[:1].encode()) + b"{%d,}" % len(m) for m in comment_markers)
    comment = re.compile(rb"(?:^|(?<=\s))(?:" + starts + rb")[ \t]*(?=loadlint-ignore)")
    directives = []
    for line in range(1, lines.line_count + 1):
        raw = lines.line_bytes(line)
        found = comment.search(raw) if _MARKER in raw else None
        if found is None:
            continue
        match = _DIRECTIVE.match(raw[found.end() :].decode("utf-8", "replace"))
        if match is None:
            continue
        line_start = lines.line_start(line)
        directive = _directive(path, lines.span(line_start + found.start(), line_start + len(raw)), match, known_ids)
        directive.trailing = bool(raw[: found.start()].strip())
        directives.append(directive)
    return directives


def project_file_directives(project: "ProjectIndex", known_ids: frozenset[str]) -> list[Directive]:
    """The directives in the reported non-JavaScript files of the project (schemas, Dockerfiles, scripts...)."""
    directives = []
    for path, kind in sorted(project.other_files.items()):
        markers = line_comment_markers(kind)
        if not markers or path not in project.reported_paths:
            continue
        source = project.read_source(path)
        if source is not None and _MARKER in source:
            directives.extend(find_line_directives(path, source, LineIndex(source), known_ids, markers))
    return directives


def _directive(path: str, span: Span, match: re.Match, known_ids: frozenset[str]) -> Directive:
    suffix = match.group("suffix")
    directive = _parse(path, span, suffix == "-file", match.group("body"), known_ids)
    if suffix not in ("", "-file"):
        directive.problem = (
            f"uses `loadlint-ignore{suffix}`, which is not a directive; write `loadlint-ignore` "
            "(its line, or the next one) or `loadlint-ignore-file`"
        )
    return directive


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
        directive.problem = "names no rule; write `loadlint-ignore <rule-id> -- <reason>`"
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
