"""Pathological inputs found by fuzzing: rules must stay fast (no quadratic or exponential work) and not crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_bad_input import lint

HEAD = "const express = require('express');\nconst cors = require('cors');\nconst app = express();\n"


def _timed_lint(tmp_path: Path, source: str, rule: str, name: str = "server.js"):
    project = tmp_path / "project"
    project.mkdir()
    (project / name).write_text(source, encoding="utf-8")
    started = time.perf_counter()
    outcome = lint(project, project, "--no-cache", rules=["--select", rule])
    return outcome, time.perf_counter() - started


def _origin_chain(terms: int) -> str:
    return " || ".join(f"origin === 'https://s{i}.example.com'" for i in range(terms))


@pytest.mark.parametrize("shape", ["callback-value", "if-condition", "nested-ifs"])
def test_permissive_origin_on_huge_conditions_is_fast_and_quiet(tmp_path, shape):
    if shape == "callback-value":
        body = f"  origin: (origin, callback) => callback(null, {_origin_chain(100)}),\n"
    elif shape == "if-condition":
        body = f"  origin(origin, callback) {{\n    if (!origin || {_origin_chain(500)}) return callback(null, true);\n  }},\n"
    else:
        opens = "".join(f"    if (origin !== 'https://s{i}.example.com') {{\n" for i in range(500))
        body = "  origin(origin, callback) {\n" + opens + "callback(null, true);\n" + "}\n" * 500 + "  },\n"
    source = HEAD + "app.use(cors({\n" + body + "  credentials: true,\n}));\n"
    outcome, elapsed = _timed_lint(tmp_path, source, "cors/permissive-origin")
    assert not any("internal error" in message for message in outcome.notices.values()), outcome.notices
    assert elapsed < 5, elapsed


def test_prisma_client_resolution_is_linear_in_file_size(tmp_path):
    unit = "".join(
        f"const {{ PrismaClient: Client{i} }} = require('@prisma/client');\n"
        f"class Db{i} extends Client{i} {{}}\n"
        f"app.get('/r{i}', (req, res) => {{ const db = new Db{i}(); const other = new Unknown{i}(); res.json(db); }});\n"
        for i in range(1500)
    )
    source = "const express = require('express');\nconst app = express();\n" + unit
    outcome, elapsed = _timed_lint(tmp_path, source, "prisma/client-outside-singleton")
    assert not any("internal error" in message for message in outcome.notices.values()), outcome.notices
    assert any(rule == "prisma/client-outside-singleton" for *_, rule in outcome.findings)
    assert elapsed < 5, elapsed


def test_secret_fallback_on_a_deep_chain_of_secret_settings_is_fast(tmp_path):
    # A file that names no library taking a secret, whose secret words all sit under one deep `||` chain.
    chain = " ||\n  ".join(f"process.env.SECRET_{i:05d}_OF_A_SETTING_NAMED_AT_LENGTH_ON_ITS_OWN_LINE" for i in range(3000))
    source = f"const value =\n  {chain} ||\n  'dev';\nmodule.exports = {{ value }};\n"
    outcome, elapsed = _timed_lint(tmp_path, source, "auth/secret-fallback", name="settings.js")
    assert not any("internal error" in message for message in outcome.notices.values()), outcome.notices
    assert elapsed < 5, elapsed
