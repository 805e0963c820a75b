"""`loadlint check --stdin-filename src/a.ts -`: the text on stdin is linted as that file of its project; the
project around it is read from disk, nothing is cached for the file, and --fix prints the fixed text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cache import SUFFIX
from linter.cli import main
from tests.project_builder import cache_entries, write_files
from tests.sarif_schema import assert_valid_sarif

PACKAGE = '{"name": "api", "dependencies": {"@prisma/client": "^5.0.0", "express": "^4.19.0", "jsonwebtoken": "^9.0.0"}}'
SECOND_CLIENT = "import { PrismaClient } from '@prisma/client';\n\nexport const prisma = new PrismaClient();\n"
SECRET = "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev';\njwt.sign({}, secret, { expiresIn: '1h' });\n"


@pytest.fixture
def project(tmp_path) -> Path:
    """A shared Prisma client in src/lib/prisma.ts, imported by a route."""
    return write_files(
        tmp_path / "api",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": PACKAGE,
            "src/lib/prisma.ts": "import { PrismaClient } from '@prisma/client';\n\nexport const prisma = new PrismaClient();\n",
            "src/routes/users.ts": "import { prisma } from '../lib/prisma';\n\nexport const users = () => prisma.user.findMany({ take: 10 });\n",
            "src/routes/orders.ts": "export const orders = 1;\n",
        },
    )


def check(project: Path, stdin: str | bytes, *args, name: str = "src/routes/orders.ts"):
    return CliRunner().invoke(
        main, ["check", "--stdin-filename", str(project / name), "-", *map(str, args)], input=stdin, catch_exceptions=False
    )


def test_the_text_is_linted_as_its_file_with_the_project_read_from_disk(project):
    result = check(project, SECOND_CLIENT, "--format", "json")
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["path"], finding["rule_id"], finding["span"]["start_line"]) == (
        "src/routes/orders.ts", "prisma/client-outside-singleton", 3
    )
    assert "src/lib/prisma.ts" in finding["message"]  # the shared client, found on disk
    assert (project / "src/routes/orders.ts").read_text(encoding="utf-8") == "export const orders = 1;\n"


def test_a_file_that_is_not_on_disk_and_the_frame_shows_the_text_read(project):
    result = check(project, SECOND_CLIENT, "--no-color", name="src/routes/new.ts")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("src/routes/new.ts:3:23: error prisma/client-outside-singleton\n")
    assert "  3 | export const prisma = new PrismaClient();\n" in result.stdout
    assert result.stdout.endswith("Found 1 problem (1 error) in 1 file; 1 file checked.\n")


def test_the_text_wins_over_the_file_on_disk_either_way(project):
    write_files(project, {"src/routes/orders.ts": SECOND_CLIENT})
    assert check(project, "export const orders = 1;\n").exit_code == 0
    assert check(project, SECOND_CLIENT).exit_code == 1


def test_nothing_is_cached_for_the_file_read(project, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    write_files(project, {"src/routes/orders.ts": SECOND_CLIENT})
    assert CliRunner().invoke(main, ["check", str(project)]).exit_code == 1  # caches the file on disk
    assert check(project, "export const orders = 1;\n").exit_code == 0
    (results,) = (cache / "loadlint").glob(f"results-*{SUFFIX}")
    before = cache_entries(results)["src/routes/orders.ts"]
    assert check(project, SECRET.replace("jsonwebtoken", "x"), "--select", "auth").exit_code == 1
    for results in (cache / "loadlint").glob(f"results-*{SUFFIX}"):
        entries = cache_entries(results)
        assert entries.get("src/routes/orders.ts", before) == before  # the disk file's entry, untouched
    assert CliRunner().invoke(main, ["check", str(project)]).exit_code == 1  # still the disk file's finding


def test_fix_prints_the_fixed_text_and_reports_on_stderr(project):
    result = check(project, SECRET, "--fix", "--unsafe-fixes", "--select", "auth")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("function requireEnv(name: string): string {\n")
    assert "const secret = requireEnv('JWT_SECRET');\n" in result.stdout
    assert result.stderr == (
        "loadlint: fixed 1 finding in the text read from stdin\nNo problems found; 1 file checked.\n"
    )
    assert (project / "src/routes/orders.ts").read_text(encoding="utf-8") == "export const orders = 1;\n"
    unfixable = check(project, SECRET, "--fix", "--select", "auth")  # the fix is unsafe: the text comes back as it was
    assert unfixable.exit_code == 1 and unfixable.stdout == SECRET
    assert "1 more fix with --unsafe-fixes" in unfixable.stderr


def test_fix_keeps_the_bytes_it_does_not_change(project):
    raw = "\ufeff// caf\u00e9\r\n".encode("utf-8") + SECRET.replace("\n", "\r\n").encode("utf-8")
    result = CliRunner().invoke(
        main,
        ["check", "--stdin-filename", str(project / "src/a.js"), "-", "--fix", "--unsafe-fixes", "--select", "auth"],
        input=raw,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith("\ufeff// caf\u00e9\r\n".encode("utf-8"))
    assert b"const secret = requireEnv('JWT_SECRET');\r\n" in result.stdout_bytes


def test_diff_fix_prints_a_patch_of_the_text_read(project):
    result = check(project, SECRET, "--diff-fix", "--unsafe-fixes", "--select", "auth")
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/src/routes/orders.ts\n+++ b/src/routes/orders.ts\n")
    assert "-const secret = process.env.JWT_SECRET || 'dev';\n+const secret = requireEnv('JWT_SECRET');\n" in result.stdout


def test_sarif_of_the_text_read_is_valid_and_fingerprinted(project):
    log = json.loads(check(project, SECRET, "--format", "sarif", "--select", "auth").stdout)
    assert_valid_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/routes/orders.ts"
    assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_text_over_the_size_limit_is_skipped_with_a_notice(project):
    write_files(project, {".loadlint.toml": "max-file-size = 100\n"})
    result = check(project, SECRET + "// padding\n" * 20, "--format", "json")
    assert result.exit_code == 0, result.output
    notices = json.loads(result.stdout)["notices"]
    assert any(n["path"] == "src/routes/orders.ts" and "over the 100-byte limit" in n["message"] for n in notices)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-"], "reading stdin (`-`) needs --stdin-filename, the file the text stands for"),
        (["--stdin-filename", "a.ts", "-", "b.ts"], "--stdin-filename lints the text on stdin alone: give `-` as the only path, or no path"),
        (["--stdin-filename", "schema.prisma"], "--stdin-filename takes a JavaScript or TypeScript file name, not schema.prisma"),
        (["--stdin-filename", "a.ts", "--diff", "main"], "--diff compares the files on disk with git; it does not apply to stdin"),
        (["--stdin-filename", "no/such/folder/a.ts"], "--stdin-filename: the folder no/such/folder does not exist"),
    ],
)
def test_stdin_usage_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", *args], input="x();\n")
    assert result.exit_code == 2
    assert result.stderr == f"loadlint: error: {message}\n"


def test_stdin_filename_alone_reads_stdin(project, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["check", "--stdin-filename", "src/routes/orders.ts"], input=SECOND_CLIENT)
    assert result.exit_code == 1 and "src/routes/orders.ts:3:23: error prisma/client-outside-singleton" in result.stdout
