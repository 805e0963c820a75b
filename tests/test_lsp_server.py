"""`loadlint server`, started as an editor starts it and spoken to over stdio in the Language Server Protocol."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from linter.server.text import UTF8, UTF16, UTF32, DocumentText
from linter.model import Span
from tests.project_builder import write_files
from tests.stdio_client import StdioClient
from tests.test_flow_engine import DB, ROUTE, SERVICE

SECRET = (
    "const jwt = require('jsonwebtoken');\r\n"
    "\r\n"
    "function sign(user) {\r\n"
    "  const secret = process.env.JWT_SECRET || 'dev';\r\n"
    "  return jwt.sign(user, secret, { expiresIn: '1h' });\r\n"
    "}\r\n"
    "module.exports = { sign };\r\n"
)
PAGE = """const express = require('express');
const { prisma } = require('./db');

const router = express.Router();
router.get('/leads', async (req, res) => {
  const limit = parseInt(req.query.limit) || 20;
  res.json(await prisma.lead.findMany({ take: limit }));
});
module.exports = router;
"""
MANIFEST = '{"name": "api", "dependencies": {"express": "4.21.0", "@prisma/client": "5.22.0", "jsonwebtoken": "9.0.0"}}'


@pytest.fixture
def app(tmp_path):
    return write_files(
        tmp_path / "app",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": MANIFEST,
            "src/auth.js": SECRET,
            "src/leads.js": PAGE,
            "src/db.js": DB,
            "src/routes.js": ROUTE,
            "src/orders.js": SERVICE,
        },
    )


def needs_the_server_extra() -> None:
    """Skip a test of `loadlint server` where its extra is not installed (`pip install '.[test]'` installs it)."""
    pytest.importorskip("pygls", reason="the server extra is not installed: pip install 'loadlint[server]'")


@pytest.fixture
def server(tmp_path):
    needs_the_server_extra()
    client = StdioClient(["server"], {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, framed=True)
    yield client
    if client.process.poll() is None:
        client.process.kill()
    client.close()


def _initialize(server: StdioClient, root, encodings: list[str] | None = None) -> dict:
    capabilities = {"general": {"positionEncodings": encodings}} if encodings else {}
    result = server.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": capabilities})
    server.notify("initialized", {})
    return result


def _open(server: StdioClient, path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    text = path.read_bytes().decode("utf-8") if text is None else text
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "javascript", "version": version, "text": text}})
    return uri


def _change(server: StdioClient, uri: str, text: str, version: int) -> None:
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})


def _actions(server: StdioClient, uri: str, diagnostic: dict) -> list[dict]:
    return server.request(
        "textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}}
    )


def _apply(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits (UTF-16 positions) as an editor does."""
    document = DocumentText(text)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: dict) -> int:
        line_start = starts[position["line"]]
        prefix = document.line_text(position["line"])
        taken = characters = 0
        while taken < position["character"]:
            taken += len(prefix[characters].encode("utf-16-le")) // 2
            characters += 1
        return line_start + characters

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        text = text[: offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]) :]
    return text


def test_diagnostics_hover_code_actions_and_shutdown(server, app):
    result = _initialize(server, app)
    capabilities = result["capabilities"]
    assert capabilities["hoverProvider"] and capabilities["codeActionProvider"]
    assert result["serverInfo"]["name"] == "loadlint"

    uri = _open(server, app / "src/auth.js")
    (diagnostic,) = server.diagnostics(uri)
    assert diagnostic["code"] == "auth/secret-fallback"
    assert diagnostic["source"] == "loadlint" and diagnostic["severity"] == 1  # error
    assert "codeDescription" not in diagnostic  # the project has no public home yet (linter.PROJECT_URL)
    assert diagnostic["range"] == {"start": {"line": 3, "character": 43}, "end": {"line": 3, "character": 48}}

    hover = server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": 45}})
    assert hover["contents"]["kind"] == "markdown"
    assert "auth/secret-fallback" in hover["contents"]["value"] and "## Why is this bad?" in hover["contents"]["value"]
    assert server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}) is None

    # The fix of a secret fallback can change behaviour: only the suppression is offered, in the file's line ending.
    (suppress,) = _actions(server, uri, diagnostic)
    assert suppress["kind"] == "quickfix" and "suppress auth/secret-fallback" in suppress["title"]
    (edit,) = suppress["edit"]["changes"][uri]
    assert edit == {
        "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}},
        "newText": "  // loadlint-ignore auth/secret-fallback -- \r\n",
    }
    suppressed = _apply(SECRET, [edit]).replace("-- \r\n", "-- a local demo\r\n")
    _change(server, uri, suppressed, 2)
    assert server.diagnostics(uri, version=2) == []

    _change(server, uri, SECRET.replace(" || 'dev'", ""), 3)
    assert server.diagnostics(uri, version=3) == []
    _change(server, uri, SECRET, 4)
    assert [d["code"] for d in server.diagnostics(uri, version=4)] == ["auth/secret-fallback"]
    _change(server, uri, SECRET.replace(" || 'dev'", ""), 5)
    assert server.diagnostics(uri, version=5) == []

    # A safe fix is offered and applied by the editor: the finding goes.
    leads = _open(server, app / "src/leads.js")
    (page,) = server.diagnostics(leads)
    assert page["code"] == "pagination/uncapped-limit" and page["severity"] == 2  # warning
    fix, suppress = _actions(server, leads, page)
    assert fix["isPreferred"] and not suppress["isPreferred"]
    fixed = _apply(PAGE, fix["edit"]["changes"][leads])
    assert "findMany({ take: Math.min(limit, 100) })" in fixed
    _change(server, leads, fixed, 2)
    assert server.diagnostics(leads, version=2) == []

    assert server.request("shutdown") is None
    server.notify("exit")
    assert server.process.wait(timeout=10) == 0


def test_a_cross_file_finding_shows_its_flow_and_follows_edits_of_the_caller(server, app):
    _initialize(server, app)
    orders = _open(server, app / "src/orders.js")
    (finding,) = server.diagnostics(orders)
    assert finding["code"] == "pagination/uncapped-limit"
    related = finding["relatedInformation"]
    assert {r["location"]["uri"] for r in related} == {(app / "src/routes.js").as_uri(), orders}
    assert related[0]["message"] == "`limit` comes from the query string here"
    steps = [r["message"] for r in related[1:]]
    assert steps[0] == "step 1 of 6: `limit` comes from the query string"
    assert steps[-1] == "step 6 of 6: sets Prisma `take` in `findMany()`"
    assert related[-1]["location"]["range"]["start"] == {"line": 3, "character": 33}
    # The caller caps the value in its unsaved buffer: the finding in the other open file goes.
    routes = _open(server, app / "src/routes.js")
    assert server.diagnostics(routes) == []
    _change(server, routes, ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)"), 2)
    assert server.diagnostics(orders) == []


def test_config_gitignore_and_loose_files(server, app, tmp_path):
    write_files(app, {".gitignore": "generated/\n", "generated/auth.js": SECRET, ".loadlint.toml": 'ignore = ["pagination"]\n'})
    _initialize(server, app)
    assert server.diagnostics(_open(server, app / "generated/auth.js")) == []
    assert server.diagnostics(_open(server, app / "src/leads.js")) == []
    # Outside any project, in a folder whose name the URI quotes: diagnostics for the URI the client sent.
    loose = write_files(tmp_path / "a loose+folder", {"auth.js": SECRET})
    uri = _open(server, loose / "auth.js")
    assert "%20" in uri and "%2B" in uri
    (diagnostic,) = server.diagnostics(uri)
    assert diagnostic["code"] == "auth/secret-fallback"
    assert len(_actions(server, uri, diagnostic)) == 1
    # A config error is one message; the server goes on.
    write_files(tmp_path / "broken", {".git/HEAD": "x", ".loadlint.toml": "selct = []\n", "a.js": SECRET})
    _open(server, tmp_path / "broken/a.js")
    shown = server.wait(lambda m: m.get("method") == "window/showMessage")
    assert shown["params"]["type"] == 1 and ".loadlint.toml" in shown["params"]["message"] and "selct" in shown["params"]["message"]


def test_positions_in_utf8_for_a_client_that_asks(server, app):
    result = _initialize(server, app, encodings=["utf-8", "utf-16"])
    assert result["capabilities"]["positionEncoding"] == "utf-8"
    text = SECRET.replace("function sign(user) {", "function sign(user) { // é😀")
    text = text.replace("  const secret", "  const é = 1; const secret")
    (diagnostic,) = server.diagnostics(_open(server, app / "src/auth.js", text))
    # `  const é = 1; const secret = process.env.JWT_SECRET || ` is 56 characters, 57 bytes (`é` takes two).
    assert diagnostic["range"]["start"] == {"line": 3, "character": 57}


@pytest.mark.parametrize("encoding, expected", [(UTF16, (0, 7)), (UTF8, (0, 10)), (UTF32, (0, 6))])
def test_document_text_counts_columns_in_the_agreed_unit(encoding, expected):
    text = DocumentText("a😀é = x;\r\nb\rc\n", encoding)
    # `x` is at UTF-16 column 8 (1-based, as findings count), byte 10 of the line.
    assert text.at(1, 8) == expected
    assert text.at_byte(10) == expected
    assert text.at(3, 1) == (2, 0) and text.at_byte(len("a😀é = x;\r\nb\r".encode())) == (2, 0)
    assert text.line_ending() == "\r\n"


def test_document_text_counts_a_byte_order_mark_on_the_first_line_only():
    text = DocumentText("\ufeffconst a = 1;\nb", UTF16)
    assert text.span(Span(start_line=1, start_column=7, end_line=2, end_column=2)) == ((0, 7), (1, 1))
    assert text.at_byte(6) == (0, 7)


def test_the_cli_stays_light_and_names_the_missing_extra(monkeypatch):
    import subprocess
    import sys

    probe = "import sys, linter.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'mcp')))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"

    import importlib.util

    from linter.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("pygls", "mcp") else real(name, *a))
    for command, extra in (("server", "server"), ("mcp", "mcp")):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 2
        assert result.stderr == f"loadlint: error: `loadlint {command}` needs the {extra} extra: pip install 'loadlint[{extra}]'\n"


def test_the_readme_editor_and_agent_set_ups_name_the_commands():
    import json
    import re
    import tomllib

    from tests.stdio_client import REPO

    section = (REPO / "README.md").read_text(encoding="utf-8").split("## In your editor and in AI coding agents", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    settings = [json.loads(body) for kind, body in blocks if kind == "json"]
    assert settings[0]["glspc.server.command"] == "loadlint" and settings[0]["glspc.server.commandArguments"] == ["server"]
    assert settings[1]["mcpServers"]["loadlint"]["args"][0] == "mcp"
    (helix,) = [tomllib.loads(body) for kind, body in blocks if kind == "toml"]
    assert helix["language-server"]["loadlint"] == {"command": "loadlint", "args": ["server"]}
    assert all("loadlint" in language["language-servers"] for language in helix["language"])
    (lua,) = [body for kind, body in blocks if kind == "lua"]
    assert "cmd = { 'loadlint', 'server' }" in lua and "vim.lsp.enable('loadlint')" in lua
    assert "claude mcp add --scope project loadlint -- loadlint mcp" in section


def test_files_changed_on_disk_are_found_again(server, app):
    capped = ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)")
    write_files(app, {"src/routes.js": capped})
    capabilities = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}
    server.request("initialize", {"processId": os.getpid(), "rootUri": app.as_uri(), "capabilities": capabilities})
    server.notify("initialized", {})
    orders = _open(server, app / "src/orders.js")
    assert server.diagnostics(orders) == []
    (registration,) = [r for r in server.requests if r["method"] == "client/registerCapability"]
    assert registration["params"]["registrations"][0]["method"] == "workspace/didChangeWatchedFiles"
    # A checkout changes the caller on disk, and adds a file: the editor says so.
    write_files(app, {"src/routes.js": ROUTE, "src/more.js": SECRET})
    changes = [{"uri": (app / "src/routes.js").as_uri(), "type": 2}, {"uri": (app / "src/more.js").as_uri(), "type": 1}]
    server.notify("workspace/didChangeWatchedFiles", {"changes": changes})
    assert [d["code"] for d in server.diagnostics(orders)] == ["pagination/uncapped-limit"]


def test_a_diagnostic_links_its_rule_once_the_project_has_a_home(monkeypatch, tmp_path):
    needs_the_server_extra()
    from linter import rule as rule_module
    from linter.model import Finding, Level
    from linter.server.lsp import LoadlintServer
    from linter.server.session import Project

    finding = Finding(rule_id="prisma/no-connection-limit", message="m", path="a.js", span=Span(start_line=1, start_column=1, end_line=1, end_column=2), level=Level.NOTE)
    server, text, project = LoadlintServer(), DocumentText("x\n"), Project(tmp_path)
    diagnostic = server._diagnostic(finding, text, project)
    assert diagnostic.code_description is None and diagnostic.severity == 3  # a note is information
    monkeypatch.setattr(rule_module, "PROJECT_URL", "https://example.org/loadlint")
    link = server._diagnostic(finding, text, project).code_description.href
    assert link == "https://example.org/loadlint/blob/main/rules/prisma/no_connection_limit.py"


def test_the_test_extra_installs_both_servers_so_that_ci_runs_their_tests():
    import tomllib

    from tests.stdio_client import REPO

    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert set(extras["server"]) | set(extras["mcp"]) <= set(extras["test"])
