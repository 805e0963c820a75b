"""`loadlint mcp`: a Model Context Protocol server over stdio (the official `mcp` SDK), for AI coding agents.

Tools: `check` lints paths of the workspace and returns the findings as structured content (rule, level,
path, line, message, and the fix when there is one, as edits and a patch); `explain_rule` gives a rule's
documentation; `list_rules` lists the rules. It only reads: it never applies a fix (the agent may apply the
patch it is given, or run `loadlint check --fix`). Every path it is given must lie inside the workspace it
was started for (`loadlint mcp [ROOT]`, default the current folder), after symbolic links are followed.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from linter import __version__
from linter.config import ConfigError
from linter.engine import RunOptions, UsageError, run
from linter.fixes import apply_edits, source_digest
from linter.model import Finding, Fix
from linter.registry import RuleLoadError, builtin_rules
from linter.safe_read import ReadRefused, read_repository_file

MAX_FINDINGS = 500  # a whole monorepo's findings would flood the agent's context: the rest are counted
INSTRUCTIONS = (
    "loadlint finds what takes Express, Next.js and Prisma apps down under load (a PrismaClient per request, "
    "uncapped page sizes, in-memory rate limits) and the holes that let strangers in (secret fallbacks, "
    "permissive CORS). Call `check` on the files you changed; `explain_rule` says why a rule matters and "
    "how to fix its findings. The server never edits files: apply a finding's `fix.patch` yourself."
)


class EditOut(BaseModel):
    start_line: int = Field(description="1-based")
    start_column: int = Field(description="1-based, in UTF-16 code units")
    end_line: int
    end_column: int = Field(description="exclusive")
    replacement: str


class FixOut(BaseModel):
    description: str
    safe: bool = Field(description="false: the fix can change behaviour; review it before applying")
    edits: list[EditOut]
    patch: str | None = Field(description="the fix as a unified diff of the file (paths relative to `root`)")


class FindingOut(BaseModel):
    rule: str
    level: str = Field(description="error, warning or note")
    path: str = Field(description="relative to `root`")
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: FixOut | None = None


class CheckResult(BaseModel):
    root: str = Field(description="the repository root the paths are relative to")
    findings: list[FindingOut]
    findings_left_out: int = Field(description=f"findings beyond the first {MAX_FINDINGS}, not listed")
    notices: list[str] = Field(description="files skipped and steps that failed")
    files_checked: int
    incomplete: bool = Field(description="a rule failed or ran out of time: the findings may be partial")


class RuleOut(BaseModel):
    id: str
    level: str
    precision: str
    summary: str


class RuleDocs(RuleOut):
    docs: str = Field(description="Markdown: why it matters, an example, what to write instead")


def inside(workspace: Path, given: str) -> Path:
    """`given` (relative to the workspace, or absolute) resolved; ToolError when it leads outside the workspace."""
    path = Path(given).expanduser()
    resolved = (path if path.is_absolute() else workspace / path).resolve()
    if resolved != workspace and workspace not in resolved.parents:
        raise ToolError(f"{given}: outside the workspace {workspace}; only paths inside it are checked")
    if not resolved.exists():
        raise ToolError(f"{given}: no such file or folder")
    return resolved


def check_paths(workspace: Path, paths: list[str]) -> CheckResult:
    targets = [inside(workspace, given) for given in paths or ["."]]
    try:
        # One process: worker processes are never forked from a server whose other threads (the SDK reads and
        # writes the protocol in threads) may hold locks a child would wait for forever. The results cache
        # makes the next call fast.
        result = run(RunOptions(paths=targets, jobs=1))
    except (ConfigError, RuleLoadError, UsageError) as error:
        raise ToolError(str(error)) from None
    report = result.report
    active = sorted(report.active_findings, key=lambda f: f.sort_key)
    root = Path(report.root)
    sources: dict[str, bytes | None] = {}
    listed = [_finding_out(f, root, sources, result.config.max_file_size) for f in active[:MAX_FINDINGS]]
    return CheckResult(
        root=str(root),
        findings=listed,
        findings_left_out=max(0, len(active) - MAX_FINDINGS),
        notices=[f"{n.path}: {n.message}" if n.path else n.message for n in report.notices],
        files_checked=report.files_checked,
        incomplete=report.incomplete,
    )


def _finding_out(finding: Finding, root: Path, sources: dict[str, bytes | None], limit: int) -> FindingOut:
    span = finding.span
    fix = next((f for f in finding.fixes if f.safe), finding.fixes[0] if finding.fixes else None)
    return FindingOut(
        rule=finding.rule_id,
        level=finding.level.value,
        path=finding.path,
        line=span.start_line,
        column=span.start_column,
        end_line=span.end_line,
        end_column=span.end_column,
        message=finding.message,
        fix=_fix_out(fix, finding.path, root, sources, limit) if fix is not None else None,
    )


def _fix_out(fix: Fix, path: str, root: Path, sources: dict[str, bytes | None], limit: int) -> FixOut:
    edits = [
        EditOut(
            start_line=e.span.start_line,
            start_column=e.span.start_column,
            end_line=e.span.end_line,
            end_column=e.span.end_column,
            replacement=e.replacement,
        )
        for e in fix.edits
    ]
    return FixOut(description=fix.description, safe=fix.safe, edits=edits, patch=_patch(fix, path, root, sources, limit))


def _patch(fix: Fix, path: str, root: Path, sources: dict[str, bytes | None], limit: int) -> str | None:
    """The fix as a unified diff, when the file still holds the text it was made for (else None)."""
    if path not in sources:
        try:
            sources[path] = read_repository_file(root / path, root, limit, follow_links=False)
        except ReadRefused:
            sources[path] = None
    raw = sources[path]
    if raw is None:
        return None
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    source = raw[len(bom) :]
    if fix.source_digest is not None and fix.source_digest != source_digest(source):
        return None
    after, _ = apply_edits(source, [fix])
    try:
        before_lines = source.decode("utf-8").splitlines(keepends=True)
        after_lines = after.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None
    return "".join(difflib.unified_diff(before_lines, after_lines, f"a/{path}", f"b/{path}"))


def _rule_out(rule) -> RuleOut:
    return RuleOut(id=rule.id, level=rule.level.value, precision=rule.precision.value, summary=rule.summary())


def build_server(workspace: Path) -> MCPServer:
    workspace = workspace.resolve()
    server = MCPServer("loadlint", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    def check(paths: list[str] = ["."]) -> CheckResult:  # noqa: B006 (the SDK reads the default for the schema)
        """Lint files or folders of the workspace (relative to it, or absolute inside it) as `loadlint check`
        does, with the repository's config, and return the findings. Fixes are returned, never applied."""
        return check_paths(workspace, paths)

    @server.tool(annotations=read_only)
    def explain_rule(rule_id: str) -> RuleDocs:
        """A rule's documentation: why its findings matter, a bad and a good example, its options."""
        rule = next((r for r in builtin_rules() if r.id == rule_id), None)
        if rule is None:
            raise ToolError(f"unknown rule {rule_id!r}; list_rules lists them")
        return RuleDocs(**_rule_out(rule).model_dump(), docs=rule.docs())

    @server.tool(annotations=read_only)
    def list_rules() -> list[RuleOut]:
        """Every rule: id, level, precision and a one-line summary."""
        return [_rule_out(rule) for rule in builtin_rules()]

    return server


def serve(workspace: Path) -> None:
    build_server(workspace).run("stdio")


__all__ = ["CheckResult", "build_server", "check_paths", "serve"]
