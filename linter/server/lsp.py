"""`loadlint server`: a Language Server over stdio (pygls), for editors.

- Diagnostics on open, on change (debounced) and on save, from the editor's buffers: the rule id is the
  `code` (with a `codeDescription` link once the project has a home, `linter.PROJECT_URL`), the level its
  severity, related locations and the steps of a cross-file flow its `relatedInformation`.
- Code actions: each safe fix of a finding, and "suppress with a reason" (a `loadlint-ignore <id> -- ` line
  above the finding, in the file's line ending, for the reason to be typed after it).
- Hover over a finding: its rule's documentation.

The linting runs in one background thread (`linter.server.session` keeps each project warm), so the server
keeps answering while it works; a lint whose document changed meanwhile is not published, the next one is.

With `--serve-checks`, it also answers `loadlint check` runs (a pre-commit hook's) of the projects it lints,
in the same thread (`linter.server.checks`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from linter import __version__
from linter.config import ConfigError
from linter.discovery import is_source
from linter.engine import UsageError
from linter.files.kinds import line_comment_markers, project_file_kind
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Location, Notice
from linter.registry import RuleLoadError
from linter.rule import rule_help_uri
from linter.roots import find_root
from linter.safe_read import ReadRefused, read_repository_file
from linter.server.checks import CheckService
from linter.server.session import FileReport, Project, Workspace
from linter.server.text import UTF16, DocumentText
from linter.suppression import INVALID_ID, UNUSED_ID
from linter.terminal_text import printable

DEBOUNCE_SECONDS = 0.05  # after a change, wait this long for the next keystroke before linting
SOURCE = "loadlint"
MAX_RELATED_FILE_BYTES = 2_000_000

_SEVERITY = {
    Level.ERROR: lsp.DiagnosticSeverity.Error,
    Level.WARNING: lsp.DiagnosticSeverity.Warning,
    Level.NOTE: lsp.DiagnosticSeverity.Information,
}
# Files whose changes on disk can change what is found (watched when the client lets the server ask).
_WATCHED = (
    "**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
    "**/{package.json,tsconfig*.json,jsconfig*.json,.gitignore,.loadlint.toml,loadlint.toml}",
    "**/{*.prisma,Dockerfile*,*.Dockerfile,Procfile,*.sh,fly.toml,railway.json,railway.toml,render.yaml,nixpacks.toml}",
    "**/{.env*,*compose*.yml,*compose*.yaml}",
)


@dataclass
class _Published:
    """What was last published for a document: its text then, the report, and each finding's diagnostic."""

    version: int | None
    text: DocumentText
    project: Project
    report: FileReport
    diagnostics: list[tuple[lsp.Diagnostic, Finding | None]] = field(default_factory=list)


@dataclass
class _Snapshot:
    uri: str
    version: int | None
    text: str
    path: Path


class LoadlintServer(LanguageServer):
    def __init__(self, serve_checks: bool = False) -> None:
        super().__init__("loadlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.session = Workspace()
        self.published: dict[str, _Published] = {}
        self._linter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loadlint")
        self.checks = CheckService(self._linter.submit) if serve_checks else None
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._again = False
        self._told: set[str] = set()  # messages shown once
        self.shutdown_requested = False

    def document(self, uri: str):
        """The open document at `uri` (however the client quotes it), or None."""
        return self.workspace.text_documents.get(unquote(uri))

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or UTF16)

    # scheduling ----------------------------------------------------------------------------------------

    def schedule(self, delay: float = 0.0) -> None:
        """Lint the open documents after `delay` seconds (a later call restarts the wait)."""
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(delay, lambda: loop.create_task(self._lint()))

    async def _lint(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            self._again = True
            while self._again:
                self._again = False
                snapshots = self._snapshots()
                loop = asyncio.get_running_loop()
                # A project linted for the first time (or after files changed on disk) takes a while to load:
                # the open files' own findings are shown first.
                first = await loop.run_in_executor(self._linter, self._first_in_thread, snapshots)
                self._publish(snapshots, first, preliminary=True)
                outcome, notices = await loop.run_in_executor(self._linter, self._lint_in_thread, snapshots)
                for notice in notices:
                    self._tell_once(f"loadlint: {printable(notice.message)}", lsp.MessageType.Warning, show=False)
                self._publish(snapshots, outcome)
        finally:
            self._running = False

    def _snapshots(self) -> list[_Snapshot]:
        snapshots = []
        for document in list(self.workspace.text_documents.values()):
            path = _path_of(document.uri)
            if path is not None and _lintable(path):
                # The document's URI as the client wrote it: diagnostics are published for that one.
                snapshots.append(_Snapshot(document.uri, document.version, document.source, path))
        return snapshots

    def _by_project(self, snapshots: list[_Snapshot]) -> list[tuple[Project, list[_Snapshot], dict[str, bytes]]]:
        """The documents grouped by project, with their buffers."""
        by_project: dict[int, tuple[Project, list[_Snapshot]]] = {}
        for snapshot in snapshots:
            project = self.session.project_for(snapshot.path)
            by_project.setdefault(id(project), (project, []))[1].append(snapshot)
            if self.checks is not None and project.is_project:
                self.checks.open_for(project.root)
        return [
            (project, documents, {project.rel(s.path): s.text.encode("utf-8", "surrogatepass") for s in documents})
            for project, documents in by_project.values()
        ]

    def _first_in_thread(self, snapshots: list[_Snapshot]) -> dict[str, tuple[Project, FileReport]]:
        """In the linting thread: the first reports of the documents of projects about to load."""
        outcome: dict = {}
        for project, documents, buffers in self._by_project(snapshots):
            if not project.needs_refresh(buffers):
                continue
            try:
                reports = project.first_reports(buffers)
            except Exception:  # the full lint that follows says what is wrong
                continue
            for snapshot in documents:
                outcome[snapshot.uri] = (project, reports[project.rel(snapshot.path)])
        return outcome

    def _lint_in_thread(self, snapshots: list[_Snapshot]) -> tuple[dict[str, tuple[Project, FileReport] | str], list[Notice]]:
        """In the linting thread: each document's project and report, or the one line saying why there is none;
        and the notices about no file in particular."""
        outcome: dict[str, tuple[Project, FileReport] | str] = {}
        notices: list[Notice] = []
        for project, documents, buffers in self._by_project(snapshots):
            try:
                reports = project.lint(buffers)
            except (ConfigError, RuleLoadError, UsageError) as error:
                reports = str(error)
            except Exception as error:  # a bug must cost diagnostics, never the server
                logging.getLogger(__name__).exception("linting failed")
                reports = f"internal error: {type(error).__name__}: {error}"
            for snapshot in documents:
                outcome[snapshot.uri] = reports if isinstance(reports, str) else (project, reports[project.rel(snapshot.path)])
            if not isinstance(reports, str):
                notices.extend(project.notices())
        return outcome, notices

    def _publish(self, snapshots: list[_Snapshot], outcome: dict, preliminary: bool = False) -> None:
        for snapshot in snapshots:
            document = self.document(snapshot.uri)
            if document is None or document.version != snapshot.version:
                continue  # closed, or changed since: the next lint publishes it
            result = outcome.get(snapshot.uri)
            if result is None:
                continue
            if preliminary and (not result[1].findings or unquote(snapshot.uri) in self.published):
                continue  # nothing to add, or a full report shown already would lose its project findings
            if isinstance(result, str):
                self._tell_once(f"loadlint: {printable(result)}", lsp.MessageType.Error, show=True)
                self._send(snapshot.uri, snapshot.version, [])
                self.published.pop(unquote(snapshot.uri), None)
                continue
            project, report = result
            text = DocumentText(snapshot.text, self.encoding)
            published = _Published(snapshot.version, text, project, report)
            published.diagnostics = [(self._diagnostic(f, text, project), f) for f in report.findings]
            published.diagnostics += [(_notice_diagnostic(n), None) for n in report.notices if n.level != Level.NOTE]
            previous = self.published.get(unquote(snapshot.uri))
            self.published[unquote(snapshot.uri)] = published
            unchanged = previous is not None and previous.version == snapshot.version
            if unchanged and [d for d, _ in previous.diagnostics] == [d for d, _ in published.diagnostics]:
                continue
            self._send(snapshot.uri, snapshot.version, [d for d, _ in published.diagnostics])

    def _send(self, uri: str, version: int | None, diagnostics: list[lsp.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def _tell_once(self, message: str, kind: lsp.MessageType, show: bool) -> None:
        if message in self._told:
            return
        self._told.add(message)
        if show:
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
        self.window_log_message(lsp.LogMessageParams(type=kind, message=message))

    # findings as diagnostics ---------------------------------------------------------------------------

    def _diagnostic(self, finding: Finding, text: DocumentText, project: Project) -> lsp.Diagnostic:
        help_uri = rule_help_uri(finding.rule_id)
        related = [(location, location.message or "related") for location in finding.related]
        steps = len(finding.code_flow)
        related += [
            (step, f"step {number} of {steps}" + (f": {step.message}" if step.message else ""))
            for number, step in enumerate(finding.code_flow, 1)
        ]
        return lsp.Diagnostic(
            range=_range(text.span(finding.span)),
            severity=_SEVERITY[finding.level],
            code=finding.rule_id,
            code_description=lsp.CodeDescription(href=help_uri) if help_uri else None,
            source=SOURCE,
            message=finding.message,
            related_information=[
                lsp.DiagnosticRelatedInformation(location=self._location(location, finding.path, text, project), message=message)
                for location, message in related
            ]
            or None,
        )

    def _location(self, location: Location, own_path: str, own_text: DocumentText, project: Project) -> lsp.Location:
        path = project.root / location.path
        text = own_text if location.path == own_path else self._text_of(path, project)
        return lsp.Location(uri=from_fs_path(str(path)), range=_range(text.span(location.span)))

    def _text_of(self, path: Path, project: Project) -> DocumentText:
        """Another file's text, to count its columns in the client's unit (UTF-16 needs none)."""
        if self.encoding == UTF16:
            return DocumentText("", UTF16)
        document = self.document(from_fs_path(str(path)))
        if document is not None:
            return DocumentText(document.source, self.encoding)
        try:
            raw = read_repository_file(path, project.root, MAX_RELATED_FILE_BYTES)
        except ReadRefused:
            raw = b""
        return DocumentText(raw.decode("utf-8", "replace"), self.encoding)

    # code actions and hover ----------------------------------------------------------------------------

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        published = self.published.get(unquote(params.text_document.uri))
        document = self.document(params.text_document.uri)
        if published is None or document is None or document.version != published.version:
            return []  # the findings are of an older text: their edits would land in the wrong place
        actions = []
        for diagnostic, finding in published.diagnostics:
            if finding is None or not _overlaps(diagnostic.range, params.range):
                continue
            for fix in finding.fixes:
                if not fix.safe:
                    continue  # a fix that can change behaviour is offered by `loadlint check --unsafe-fixes` only
                edits = [
                    lsp.TextEdit(range=_range((published.text.at_byte(e.start_byte), published.text.at_byte(e.end_byte))), new_text=e.replacement)
                    for e in fix.edits
                ]
                actions.append(_action(f"loadlint: {fix.description}", diagnostic, params.text_document.uri, edits, preferred=True))
            suppress = _suppression_edit(finding, published)
            if suppress is not None:
                title = f"loadlint: suppress {finding.rule_id} on this line (with a reason)"
                actions.append(_action(title, diagnostic, params.text_document.uri, [suppress], preferred=False))
        return actions

    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        published = self.published.get(unquote(params.text_document.uri))
        if published is None:
            return None
        position = params.position
        shown: list[str] = []
        for diagnostic, finding in published.diagnostics:
            if finding is None or finding.rule_id in shown or not _contains(diagnostic.range, position):
                continue
            shown.append(finding.rule_id)
        if not shown:
            return None
        parts = [f"**{rule_id}** (loadlint)\n\n{published.project.rule_docs(rule_id)}" for rule_id in shown]
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))

    # files on disk -------------------------------------------------------------------------------------

    def files_changed(self, paths: list[Path]) -> None:
        for project in self.session.projects():
            if any(project.root == path or project.root in path.parents for path in paths):
                project.stale()
        self.schedule(DEBOUNCE_SECONDS)

    def saved(self, path: Path) -> None:
        # A source the project already knows is linted from its buffer, whose text is now the file's: nothing
        # else changes. Any other file saved (a new one, a config, a manifest) may change what is found.
        for project in self.session.projects():
            inside = project.root in path.parents
            if inside and not project.knows_source(project.rel(path)):
                project.stale()
        self.schedule(0.0)

    def serve_checks_of_workspace(self) -> None:
        """With --serve-checks: answer checks of the workspace's projects from now on, before a file is opened."""
        if self.checks is None:
            return
        folders = [to_fs_path(folder.uri) for folder in self.workspace.folders.values()] or [self.workspace.root_path]
        for folder in folders:
            if not folder or not os.path.isdir(folder):
                continue
            root = find_root(Path(folder).resolve())
            if (root / ".git").exists() or (root / "package.json").is_file():
                self.checks.open_for(root)

    def stop_serving_checks(self) -> None:
        if self.checks is not None:
            self.checks.close()

    async def watch_files(self) -> None:
        capability = self.client_capabilities.workspace
        watched = capability.did_change_watched_files if capability is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        options = lsp.DidChangeWatchedFilesRegistrationOptions(
            watchers=[lsp.FileSystemWatcher(glob_pattern=pattern) for pattern in _WATCHED]
        )
        registration = lsp.Registration(id="loadlint-files", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)
        try:
            await self.client_register_capability_async(lsp.RegistrationParams(registrations=[registration]))
        except Exception as error:  # the client refused: saves still refresh
            self.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Log, message=f"not watching files: {error}"))


def _path_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _lintable(path: Path) -> bool:
    return is_source(path) or project_file_kind(path.name) is not None or path.name == "package.json"


def _range(positions: tuple[tuple[int, int], tuple[int, int]]) -> lsp.Range:
    (start_line, start_character), (end_line, end_character) = positions
    return lsp.Range(
        start=lsp.Position(line=max(0, start_line), character=max(0, start_character)),
        end=lsp.Position(line=max(0, end_line), character=max(0, end_character)),
    )


def _notice_diagnostic(notice: Notice) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
        severity=lsp.DiagnosticSeverity.Information,
        source=SOURCE,
        message=notice.message,
    )


def _key(position: lsp.Position) -> tuple[int, int]:
    return position.line, position.character


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return _key(a.start) <= _key(b.end) and _key(b.start) <= _key(a.end)


def _contains(span: lsp.Range, position: lsp.Position) -> bool:
    return _key(span.start) <= _key(position) <= _key(span.end)


def _action(title: str, diagnostic: lsp.Diagnostic, uri: str, edits: list[lsp.TextEdit], preferred: bool) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=title,
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=preferred,
        edit=lsp.WorkspaceEdit(changes={uri: edits}),
    )


def _suppression_edit(finding: Finding, published: _Published) -> lsp.TextEdit | None:
    """A `loadlint-ignore <id> -- ` line above the finding's line, indented as it is, in the file's comment
    syntax and line ending; None where no comment can go (JSON) or for the suppression rules' own findings."""
    if finding.rule_id in (INVALID_ID, UNUSED_ID):
        return None
    name = Path(finding.path).name
    markers = ("//",) if is_source(Path(name)) else line_comment_markers(project_file_kind(name))
    if not markers:
        return None
    line = finding.span.start_line - 1
    current = published.text.line_text(line)
    if line == 0 and current.startswith("#!"):
        return None  # nothing may come before a hashbang
    indent = current[: len(current) - len(current.lstrip(" \t"))]
    comment = f"{indent}{markers[0]} loadlint-ignore {finding.rule_id} -- {published.text.line_ending()}"
    start = lsp.Position(line=line, character=published.text.at(line + 1, 1)[1])
    return lsp.TextEdit(range=lsp.Range(start=start, end=start), new_text=comment)


def build_server(serve_checks: bool = False) -> LoadlintServer:
    server = LoadlintServer(serve_checks)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: LoadlintServer, params: None) -> None:
        ls.shutdown_requested = True
        ls.stop_serving_checks()

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: LoadlintServer, params: lsp.InitializedParams) -> None:
        ls.serve_checks_of_workspace()
        await ls.watch_files()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LoadlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LoadlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(DEBOUNCE_SECONDS)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LoadlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        path = _path_of(params.text_document.uri)
        if path is not None:
            ls.saved(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LoadlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.published.pop(unquote(params.text_document.uri), None)
        ls._send(params.text_document.uri, None, [])
        ls.schedule(DEBOUNCE_SECONDS)  # its project reads the file from disk again

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: LoadlintServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        paths = [path for change in params.changes if (path := _path_of(change.uri)) is not None]
        if paths:
            ls.files_changed(paths)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=False),
    )
    def code_action(ls: LoadlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return ls.code_actions(params)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: LoadlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
        return ls.hover(params)

    return server


def serve(serve_checks: bool = False) -> None:
    """Serve one client over stdin and stdout until it says `exit`; with `serve_checks`, answer `loadlint check`
    runs of its projects too (`linter.server.checks`)."""
    logging.basicConfig(level=logging.WARNING, format="loadlint server: %(message)s")
    wire_in, wire_out = _claim_stdio()
    server = build_server(serve_checks)
    try:
        server.start_io(wire_in, wire_out)
    finally:
        server.stop_serving_checks()  # the sockets go before the process does
    # Now, without waiting for a project still loading in the linting thread: 0 after `shutdown`, as the
    # protocol asks, else 1.
    os._exit(0 if server.shutdown_requested else 1)


def _claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """The protocol's own streams, on private copies of stdin and stdout; the standard descriptors then point
    at the null device and at stderr. Worker processes are forked while a thread blocks reading the protocol:
    a forked child closes `sys.stdin` and flushes `sys.stdout` on its way, which would wait forever on the lock
    that thread holds, or send the parent's unflushed output a second time. And nothing printed by mistake
    can break a message."""
    wire_in = os.fdopen(_private_copy(0), "rb")
    wire_out = os.fdopen(_private_copy(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return wire_in, wire_out


def _private_copy(fd: int) -> int:
    try:
        import fcntl

        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    except (ImportError, OSError):
        return os.dup(fd)
