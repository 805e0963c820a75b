"""`--fix` and `--diff-fix` change exactly what was analysed, and nothing about a file but its text: byte-order
marks, edits made while loadlint runs, owners, modes, hard links, line endings, links to elsewhere."""

from __future__ import annotations

import codecs
import os
import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

import linter.engine
import linter.fixes
from linter.cli import main
from tests.project_builder import write_files

PACKAGE = '{"name": "api", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0", "jsonwebtoken": "^9.0.0"}}'
ROUTE = """const express = require('express');
const { prisma } = require('./prisma');

const router = express.Router();
router.get('/leads', async (req, res) => {
  const limit = Number(req.query.limit) - 1;
  const leads = await prisma.lead.findMany({ take: limit });
  res.json(leads);
});
module.exports = router;
"""
FIXED_ROUTE = ROUTE.replace("{ take: limit }", "{ take: Math.min(limit, 100) }")
AUTH = """import jwt from 'jsonwebtoken';

const secret = process.env.JWT_SECRET || 'dev-secret';

export const sign = (user: { id: string }) => jwt.sign(user, secret, { expiresIn: '1h' });
"""
SELECT = ["--select", "pagination/uncapped-limit,auth/secret-fallback"]
EDITED = "// edited by hand while loadlint ran\n" + ROUTE


def invoke(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), *SELECT], catch_exceptions=False)


@pytest.fixture
def app(tmp_path):
    return write_files(tmp_path / "app", {".git/HEAD": "ref: refs/heads/main\n", "package.json": PACKAGE, "src/leads.js": ROUTE})


# --- item 11: a byte-order mark ---------------------------------------------------------------------------


def test_fixes_land_where_the_analysis_saw_them_after_a_byte_order_mark(app):
    leads = app / "src/leads.js"
    leads.write_bytes(codecs.BOM_UTF8 + ROUTE.encode())
    patch = invoke(app, "--diff-fix")
    assert "+  const leads = await prisma.lead.findMany({ take: Math.min(limit, 100) });\n" in patch.stdout
    if shutil.which("git"):
        (app / "fix.patch").write_text(patch.stdout, encoding="utf-8")
        subprocess.run(["git", "apply", "fix.patch"], cwd=app, check=True, capture_output=True)
        assert leads.read_bytes() == codecs.BOM_UTF8 + FIXED_ROUTE.encode()
        leads.write_bytes(codecs.BOM_UTF8 + ROUTE.encode())
    fixed = invoke(app, "--fix")
    assert "fixed 1 finding in 1 file" in fixed.stderr
    assert leads.read_bytes() == codecs.BOM_UTF8 + FIXED_ROUTE.encode()


# --- item 12: a file edited while loadlint runs -----------------------------------------------------------


def test_a_file_edited_after_its_analysis_is_left_alone(app, monkeypatch):
    real_run = linter.engine.run
    runs = []

    def run_then_edit(options):
        result = real_run(options)
        if not runs:
            (app / "src/leads.js").write_text(EDITED, encoding="utf-8")  # the offsets no longer fit
        runs.append(result)
        return result

    monkeypatch.setattr(linter.engine, "run", run_then_edit)
    result = invoke(app, "--fix")
    assert "loadlint: src/leads.js: not fixed: it changed since it was analysed; run loadlint again" in result.stderr
    assert "fixed 0 findings in 0 files" in result.stderr
    assert (app / "src/leads.js").read_text(encoding="utf-8") == EDITED


def test_a_file_edited_between_planning_and_writing_is_left_alone(app, monkeypatch):
    real_plan = linter.fixes.plan_fixes

    def plan_then_edit(*args, **kwargs):
        outcome = real_plan(*args, **kwargs)
        (app / "src/leads.js").write_text(EDITED, encoding="utf-8")
        return outcome

    monkeypatch.setattr(linter.fixes, "plan_fixes", plan_then_edit)
    result = invoke(app, "--fix")
    assert "loadlint: src/leads.js: not fixed: it changed since it was analysed; run loadlint again" in result.stderr
    assert (app / "src/leads.js").read_text(encoding="utf-8") == EDITED


# --- item 13: owner, group, mode, hard links, line endings ------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_fixed_file_keeps_its_owner_group_and_mode_when_root_fixes_it(app):
    leads = app / "src/leads.js"
    os.chown(leads, 1000, 1000)
    os.chmod(leads, 0o640)
    invoke(app, "--fix")
    info = leads.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1000, 1000, 0o640)
    assert leads.read_text(encoding="utf-8") == FIXED_ROUTE


def test_a_fixed_file_keeps_its_hard_links(app, tmp_path):
    leads = app / "src/leads.js"
    other_name = tmp_path / "leads-link.js"
    os.link(leads, other_name)
    invoke(app, "--fix")
    assert leads.read_text(encoding="utf-8") == FIXED_ROUTE
    assert os.path.samefile(leads, other_name) and leads.stat().st_nlink == 2
    assert not [p for p in app.rglob("*") if p.name.endswith(".tmp")]


def test_a_finding_the_project_phase_releases_keeps_its_fix(app):
    """In a package whose scripts name its entry, a finding of a module that exports something waits for the
    project phase (which knows whether anything loads the module); its fix still applies."""
    (app / "package.json").write_text(PACKAGE.replace('{"name": "api",', '{"name": "api", "scripts": {"start": "node src/server.js"},'))
    (app / "src/server.js").write_text("const { sign } = require('./auth');\nmodule.exports = { sign };\n")
    auth = app / "src/auth.ts"
    auth.write_text(AUTH)
    invoke(app, "--fix", "--unsafe-fixes")
    assert "const secret = requireEnv('JWT_SECRET');" in auth.read_text()


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_inserted_lines_end_as_the_file_s_lines_do(app, newline):
    auth = app / "src/auth.ts"
    auth.write_bytes(AUTH.replace("\n", newline).encode())
    patch = invoke(app, "--diff-fix", "--unsafe-fixes")
    invoke(app, "--fix", "--unsafe-fixes")
    expected = (
        "import jwt from 'jsonwebtoken';\n\n"
        "function requireEnv(name: string): string {\n"
        "  const value = process.env[name];\n"
        "  if (!value) throw new Error(`${name} must be set`);\n"
        "  return value;\n"
        "}\n\n"
        "const secret = requireEnv('JWT_SECRET');\n\n"
        "export const sign = (user: { id: string }) => jwt.sign(user, secret, { expiresIn: '1h' });\n"
    )
    assert auth.read_bytes() == expected.replace("\n", newline).encode()
    if shutil.which("git"):
        auth.write_bytes(AUTH.replace("\n", newline).encode())
        (app / "fix.patch").write_bytes(patch.stdout_bytes)
        subprocess.run(["git", "apply", "--include=src/auth.ts", "fix.patch"], cwd=app, check=True, capture_output=True)
        assert auth.read_bytes() == expected.replace("\n", newline).encode()


# --- item 2, for --fix: never through a link --------------------------------------------------------------


def test_a_file_in_a_folder_linked_inside_the_root_is_fixed(app):
    write_files(app, {"shared/leads.js": ROUTE})
    (app / "src/leads.js").unlink()
    (app / "src/lib").symlink_to("../shared", target_is_directory=True)
    result = invoke(app / "src", "--fix")
    assert "fixed 1 finding in 1 file" in result.stderr, result.stderr
    assert (app / "shared/leads.js").read_text(encoding="utf-8") == FIXED_ROUTE


def test_a_file_swapped_for_a_link_out_of_the_root_is_not_fixed_through_it(app, tmp_path, monkeypatch):
    outside = tmp_path / "outside.js"
    outside.write_text(ROUTE, encoding="utf-8")
    real_run = linter.engine.run
    runs = []

    def run_then_swap(options):
        result = real_run(options)
        if not runs:
            (app / "src/leads.js").unlink()
            (app / "src/leads.js").symlink_to(outside)
        runs.append(result)
        return result

    monkeypatch.setattr(linter.engine, "run", run_then_swap)
    result = invoke(app, "--fix")
    assert "loadlint: src/leads.js: not fixed: not read: it is a symbolic link" in result.stderr
    assert outside.read_text(encoding="utf-8") == ROUTE
    assert (app / "src/leads.js").is_symlink()
