"""The plain-data records every part of loadlint passes around: findings, notices, rule metadata, the report.

Positions are 1-based lines and 1-based columns counted in UTF-16 code units (what SARIF's
`columnKind: utf16CodeUnits` and JavaScript tooling use); `end_column` is exclusive, as in SARIF.
"""

from __future__ import annotations

from enum import Enum

from linter.records import Frozen


class Level(str, Enum):
    """How serious a finding is; orders as note < warning < error."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    @property
    def sarif(self) -> str:
        return self.value

    @property
    def github_command(self) -> str:
        return _GITHUB_COMMAND[self]

    @property
    def problem_severity(self) -> str:
        """GitHub code scanning's `problem.severity` for this level."""
        return _PROBLEM_SEVERITY[self]


_LEVEL_RANK = {Level.NOTE: 0, Level.WARNING: 1, Level.ERROR: 2}
_GITHUB_COMMAND = {Level.NOTE: "notice", Level.WARNING: "warning", Level.ERROR: "error"}
_PROBLEM_SEVERITY = {Level.NOTE: "recommendation", Level.WARNING: "warning", Level.ERROR: "error"}


class Precision(str, Enum):
    """How often a finding of the rule is right, as GitHub code scanning reads it."""

    VERY_HIGH = "very-high"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Span(Frozen):
    start_line: int
    start_column: int
    end_line: int
    end_column: int


class Location(Frozen):
    """A place in a file, with an optional message (for related locations and code-flow steps)."""

    path: str
    span: Span
    message: str | None = None


class TextEdit(Frozen):
    """Replace the bytes `start_byte:end_byte` of the finding's file (its `span`, for SARIF) with `replacement`."""

    start_byte: int
    end_byte: int
    span: Span
    replacement: str


class Fix(Frozen):
    """A change that resolves a finding. `safe`: it cannot change behaviour beyond what the finding is about;
    an unsafe fix is applied only when asked (`--unsafe-fixes`). Edits do not overlap. `source_digest`: of the
    text the edits' offsets refer to, set by the analysis; a fix is applied only to a file that still holds it."""

    description: str
    edits: tuple[TextEdit, ...]
    safe: bool = True
    source_digest: str | None = None


class Finding(Frozen):
    rule_id: str
    message: str
    path: str
    span: Span
    level: Level
    related: tuple[Location, ...] = ()
    code_flow: tuple[Location, ...] = ()
    fingerprint: str | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    fixes: tuple[Fix, ...] = ()

    @property
    def sort_key(self) -> tuple:
        s = self.span
        return (self.path, s.start_line, s.start_column, self.rule_id, s.end_line, s.end_column, self.message)


class Notice(Frozen):
    """Something the run could not do (a file it skipped, a rule that failed); never a finding."""

    message: str
    path: str | None = None
    level: Level = Level.WARNING
    span: Span | None = None  # where in the file, when the notice is about one place (the first syntax error)

    @property
    def sort_key(self) -> tuple:
        return (self.path or "", self.message, self.level.rank)


class RuleInfo(Frozen):
    """A rule's public metadata, as the formatters show it."""

    id: str
    name: str
    summary: str
    docs: str
    level: Level
    precision: Precision
    tags: tuple[str, ...] = ()
    security_severity: str | None = None
    help_uri: str | None = None
    # The findings the rule reports at another level than `level`, and which: (level, what they are).
    other_levels: tuple[tuple[Level, str], ...] = ()


class SourceText(Frozen):
    """The text a run linted for a file instead of what is on disk (`--stdin-filename`)."""

    path: str
    text: str


class Report(Frozen):
    """Everything one run found: what the formatters render."""

    root: str
    tool_version: str
    rules: tuple[RuleInfo, ...]
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...] = ()
    files_checked: int = 0  # the files the run read and could report into: source and project files
    category: str | None = None
    incomplete: bool = False  # a rule failed somewhere: the findings may be partial
    # Findings left out of `findings`, for the summary: accepted by a baseline, or on lines --diff leaves out.
    baselined: int = 0
    outside_diff: int = 0
    stdin: SourceText | None = None  # the file read from stdin, whose lines the text formats show

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.suppressed)
