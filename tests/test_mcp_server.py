"""`loadlint mcp`, started as an AI coding agent starts it and spoken to over stdio in the Model Context Protocol."""

from __future__ import annotations

import os

import pytest

from tests.project_builder import write_files
from tests.stdio_client import StdioClient
from tests.test_lsp_server import MANIFEST, PAGE

SECRET = "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev';\nmodule.exports = (u) => jwt.sign(u, secret, { expiresIn: '1h' });\n"


@pytest.fixture
def repo(tmp_path):
    return write_files(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": MANIFEST,
            "src/auth.js": SECRET,
            "src/leads.js": PAGE,
            "src/db.js": "const { PrismaClient } = require('@prisma/client');\nmodule.exports = { prisma: new PrismaClient() };\n",
        },
    )


@pytest.fixture
def agent(tmp_path, repo):
    pytest.importorskip("mcp", reason="the mcp extra is not installed: pip install 'loadlint[mcp]'")
    client = StdioClient(["mcp", str(repo)], {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, framed=False)
    yield client
    client.close()


def _call(agent: StdioClient, name: str, arguments: dict) -> dict:
    return agent.request("tools/call", {"name": name, "arguments": arguments})


def test_initialize_list_tools_and_check_a_repository(agent, repo, tmp_path):
    result = agent.request(
        "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pytest", "version": "1"}}
    )
    assert result["serverInfo"]["name"] == "loadlint" and "tools" in result["capabilities"]
    assert "never edits files" in result["instructions"]
    agent.notify("notifications/initialized")

    tools = {tool["name"]: tool for tool in agent.request("tools/list")["tools"]}
    assert set(tools) == {"check", "explain_rule", "list_rules"}
    assert all(tool["annotations"]["readOnlyHint"] for tool in tools.values())
    assert "findings" in tools["check"]["outputSchema"]["properties"]

    checked = _call(agent, "check", {"paths": ["src"]})
    assert not checked.get("isError")
    content = checked["structuredContent"]
    assert content["root"] == str(repo) and content["files_checked"] == 3 and not content["incomplete"]
    by_rule = {finding["rule"]: finding for finding in content["findings"]}
    assert set(by_rule) == {"auth/secret-fallback", "pagination/uncapped-limit"}
    secret = by_rule["auth/secret-fallback"]
    assert (secret["level"], secret["path"], secret["line"], secret["column"]) == ("error", "src/auth.js", 2, 42)
    assert "JWT_SECRET" in secret["message"]
    assert secret["fix"]["safe"] is False and "requireEnv('JWT_SECRET')" in secret["fix"]["patch"]
    page = by_rule["pagination/uncapped-limit"]["fix"]
    assert page["safe"] is True and "+  res.json(await prisma.lead.findMany({ take: Math.min(limit, 100) }));" in page["patch"]
    assert page["edits"][0]["replacement"] == "Math.min(limit, 100)"
    assert (repo / "src/leads.js").read_text() == PAGE, "read-only: nothing is fixed"

    one_file = _call(agent, "check", {"paths": ["src/auth.js"]})["structuredContent"]
    assert [f["rule"] for f in one_file["findings"]] == ["auth/secret-fallback"]

    outside = write_files(tmp_path / "elsewhere", {"a.js": SECRET})
    for path in (str(outside), "../elsewhere", "src/../../elsewhere/a.js"):
        refused = _call(agent, "check", {"paths": [path]})
        assert refused["isError"] and "outside the workspace" in refused["content"][0]["text"]
    (repo / "src/link").symlink_to(outside)
    assert _call(agent, "check", {"paths": ["src/link"]})["isError"]

    explained = _call(agent, "explain_rule", {"rule_id": "auth/secret-fallback"})["structuredContent"]
    assert explained["level"] == "error" and "## Why is this bad?" in explained["docs"]
    assert _call(agent, "explain_rule", {"rule_id": "auth/nope"})["isError"]
    listed = _call(agent, "list_rules", {})["structuredContent"]["result"]
    assert "pagination/uncapped-limit" in {rule["id"] for rule in listed}

    assert agent.close() == 0  # the client closes stdin: the server ends
