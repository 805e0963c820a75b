"""`--fix`, `--diff-fix` and `--unsafe-fixes`: the uncapped-limit and secret-fallback fixes, end to end."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.fixes import apply_edits, plan_fixes, source_digest
from linter.model import Fix, Finding, Level, Report, Span, TextEdit
from linter.syntax import LANGUAGE_BY_SUFFIX, parse
from tests.fixture_cases import FIXTURES
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

PACKAGE = '{"name": "api", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0", "jsonwebtoken": "^9.0.0"}}'
ROUTE = """const express = require('express');
const { prisma } = require('./prisma');

const router = express.Router();
router.get('/leads', async (req, res) => {
  const limit = parseInt(req.query.limit) || 20;
  const leads = await prisma.lead.findMany({ take: limit });
  const { size } = req.query;
  const more = await prisma.lead.findMany({ take: size });
  res.json({ leads, more });
});
module.exports = router;
"""
AUTH = """import jwt from 'jsonwebtoken';

const secret = process.env.JWT_SECRET || 'dev-secret';
const refresh = process.env.REFRESH_SECRET ?? 'refresh-dev';

export const sign = (user: { id: string }) =>
  jwt.sign(user, secret, { expiresIn: '1h' }) + jwt.sign(user, refresh, { expiresIn: '1h' });
"""
SELECT = ["--select", "pagination/uncapped-limit,auth/secret-fallback"]


def invoke(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), *SELECT], catch_exceptions=False)


@pytest.fixture
def app(tmp_path):
    return write_files(tmp_path / "app", {"package.json": PACKAGE, "src/leads.js": ROUTE, "src/auth.ts": AUTH})


def test_fix_applies_only_safe_fixes_and_reports_what_is_left(app):
    result = invoke(app, "--fix")
    assert result.exit_code == 1
    assert "loadlint: fixed 1 finding in 1 file" in result.stderr
    assert "loadlint: 3 more fixes with --unsafe-fixes" in result.stderr
    leads = (app / "src/leads.js").read_text(encoding="utf-8")
    assert "findMany({ take: Math.min(limit, 100) })" in leads
    assert "findMany({ take: size })" in leads  # a raw query string: wrapping it would turn undefined into NaN
    assert (app / "src/auth.ts").read_text(encoding="utf-8") == AUTH
    assert "src/leads.js:9:" in result.stdout and "src/leads.js:7:" not in result.stdout


def test_unsafe_fixes_replace_secret_fallbacks_with_one_helper_per_file(app):
    result = invoke(app, "--fix", "--unsafe-fixes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "loadlint: fixed 4 findings in 2 files" in result.stderr
    auth = (app / "src/auth.ts").read_text(encoding="utf-8")
    assert auth.startswith(
        "import jwt from 'jsonwebtoken';\n\n"
        "function requireEnv(name: string): string {\n"
        "  const value = process.env[name];\n"
        "  if (!value) throw new Error(`${name} must be set`);\n"
        "  return value;\n"
        "}\n\n"
        "const secret = requireEnv('JWT_SECRET');\n"
        "const refresh = requireEnv('REFRESH_SECRET');\n\n"
    )
    assert auth.count("function requireEnv") == 1
    assert "const secret = requireEnv('JWT_SECRET');\nconst refresh = requireEnv('REFRESH_SECRET');" in auth
    assert "function requireEnv(name: string): string {" in auth
    assert "findMany({ take: Math.min(size, 100) })" in (app / "src/leads.js").read_text(encoding="utf-8")


def test_a_second_run_changes_nothing(app):
    invoke(app, "--fix", "--unsafe-fixes")
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    again = invoke(app, "--fix", "--unsafe-fixes")
    assert "loadlint: fixed 0 findings in 0 files" in again.stderr
    assert {p: p.read_bytes() for p in app.rglob("*") if p.is_file()} == before


def test_an_existing_helper_is_reused(app):
    write_files(app, {"src/auth.ts": AUTH.replace("const refresh", "function requireEnv(name: string) { return name; }\nconst refresh")})
    invoke(app, "--fix", "--unsafe-fixes")
    auth = (app / "src/auth.ts").read_text(encoding="utf-8")
    assert auth.count("function requireEnv") == 1 and "const secret = requireEnv('JWT_SECRET');" in auth


def test_max_page_size_comes_from_the_config(app):
    write_files(app, {".loadlint.toml": '[rules."pagination/uncapped-limit"]\nmax-page-size = 25\n'})
    invoke(app, "--fix")
    assert "take: Math.min(limit, 25)" in (app / "src/leads.js").read_text(encoding="utf-8")


def test_diff_fix_prints_a_patch_that_git_applies_and_changes_nothing(app):
    result = invoke(app, "--diff-fix", "--unsafe-fixes")
    assert result.exit_code == 1
    assert (app / "src/leads.js").read_text(encoding="utf-8") == ROUTE
    assert result.stdout.startswith("--- a/src/auth.ts\n+++ b/src/auth.ts\n")
    assert "+  const leads = await prisma.lead.findMany({ take: Math.min(limit, 100) });" in result.stdout
    if shutil.which("git"):
        patch = app / "fix.patch"
        patch.write_text(result.stdout, encoding="utf-8")
        subprocess.run(["git", "apply", "--check", "--unsafe-paths", str(patch)], cwd=app, check=True, capture_output=True)
    nothing = invoke(app, "--ignore", "pagination", "--diff-fix")
    assert nothing.exit_code == 0 and nothing.stdout == ""


def test_files_with_syntax_errors_are_never_touched(app):
    broken = ROUTE.replace("module.exports = router;", "module.exports = router;\nconst = ;")
    write_files(app, {"src/leads.js": broken})
    result = invoke(app, "--fix")
    assert "src/leads.js: not fixed: it has syntax errors" in result.stderr
    assert (app / "src/leads.js").read_text(encoding="utf-8") == broken


def test_fix_that_would_not_parse_is_refused(tmp_path):
    write_files(tmp_path, {"a.js": "const limit = 1;\n"})
    span = Span(start_line=1, start_column=15, end_line=1, end_column=16)
    edits = (TextEdit(start_byte=14, end_byte=15, span=span, replacement="("),)
    broken = Fix(description="x", edits=edits, source_digest=source_digest(b"const limit = 1;\n"))
    finding = Finding(rule_id="x/y", message="m", path="a.js", span=span, level=Level.WARNING, fixes=(broken,))
    report = Report(root=str(tmp_path), tool_version="0", rules=(), findings=(finding,))
    outcome = plan_fixes(report, tmp_path, include_unsafe=False)
    assert outcome.changes == [] and outcome.skipped == ["a.js: not fixed: the fixed code would not parse"]


def test_overlapping_fixes_wait_and_identical_edits_are_made_once():
    def fix(start, end, text):
        return Fix(description="x", edits=(TextEdit(start_byte=start, end_byte=end, span=Span(start_line=1, start_column=1, end_line=1, end_column=1), replacement=text),))

    helper = TextEdit(start_byte=0, end_byte=0, span=Span(start_line=1, start_column=1, end_line=1, end_column=1), replacement="H;")
    first = Fix(description="a", edits=(*fix(2, 3, "X").edits, helper))
    second = Fix(description="b", edits=(*fix(4, 5, "Y").edits, helper))
    assert apply_edits(b"a b c d", [first, second, fix(2, 5, "Z")]) == (b"H;a X Y d", 2)


def test_written_files_keep_their_mode_and_leave_no_temp_files(app):
    path = app / "src/leads.js"
    os.chmod(path, 0o640)
    invoke(app, "--fix")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in app.rglob("*") if p.name.endswith(".tmp")]


def test_sarif_carries_fixes_with_their_safety(app):
    result = invoke(app, "--format", "sarif")
    log = json.loads(result.stdout)
    assert_valid_sarif(log)
    fixes = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["fixes"][0]
        for r in log["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/leads.js"
    }
    assert fixes[7]["properties"] == {"safe": True} and fixes[9]["properties"] == {"safe": False}
    (change,) = fixes[7]["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "src/leads.js", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [
        {"deletedRegion": {"startLine": 7, "startColumn": 52, "endLine": 7, "endColumn": 57}, "insertedContent": {"text": "Math.min(limit, 100)"}}
    ]


@pytest.mark.parametrize(
    "args, message",
    [(["--fix", "--diff-fix"], "use --fix or --diff-fix, not both"), (["--unsafe-fixes"], "--unsafe-fixes needs --fix or --diff-fix")],
)
def test_fix_option_mistakes(app, args, message):
    result = invoke(app, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_every_fixture_fixes_cleanly_and_idempotently(tmp_path):
    """All fixes on every fixture case: each fixed file parses, and a second run has nothing left to fix."""
    corpus = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, corpus, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    CliRunner().invoke(main, ["check", str(corpus), "--fix", "--unsafe-fixes"], catch_exceptions=False)
    changed = [p for p, content in before.items() if p.read_bytes() != content]
    assert len(changed) > 10
    for path in changed:
        language = LANGUAGE_BY_SUFFIX[path.suffix]
        assert not parse(before[path], language).root_node.has_error
        assert not parse(path.read_bytes(), language).root_node.has_error, path
    after = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    second = CliRunner().invoke(main, ["check", str(corpus), "--fix", "--unsafe-fixes"], catch_exceptions=False)
    assert "fixed 0 findings in 0 files" in second.stderr
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == after
