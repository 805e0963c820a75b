"""Non-JavaScript project files: discovery, reporting scope, reading problems, suppressions, and the readers
(JSON locations, shell commands, `.env` entries) the deployment rules use."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.engine import RunOptions, run
from linter.rules.prisma._env_entries import env_entries
from linter.rules.prisma._json_locations import json_strings
from linter.files.kinds import COMPOSE, ENV_EXAMPLE, project_file_kind
from linter.rules.prisma._shell_commands import (
    Branches,
    ChangeFolder,
    PrismaCommand,
    ScriptCall,
    ScriptFile,
    actions,
    off_by_default,
)
from tests.fixture_cases import annotations
from tests.project_builder import write_files

DB_PUSH = "prisma/db-push-in-deploy"
DOCKERFILE = "FROM node:20\nCOPY . .\nCMD npx prisma db push && node server.js\n"


def _lint(paths, select=("prisma", "loadlint"), **options):
    result = run(RunOptions(paths=[Path(p) for p in paths], select=list(select), jobs=1, **options))
    return {(f.path, f.span.start_line, f.rule_id) for f in result.report.active_findings}, result


@pytest.mark.parametrize(
    "name, kind",
    [
        ("schema.prisma", "prisma"),
        ("user.prisma", "prisma"),
        ("Dockerfile", "dockerfile"),
        ("api.Dockerfile", "dockerfile"),
        ("Dockerfile.prod", "dockerfile"),
        ("Procfile", "procfile"),
        ("railway.toml", "railway-toml"),
        ("render.yaml", "render-yaml"),
        (".env.example", "env-example"),
        (".env.local.sample", "env-example"),
        ("docker-compose.prod.yml", "compose"),
        ("compose.yaml", "compose"),
        ("start.sh", "shell"),
        (".env", None),
        ("package.json", None),
        ("notes.md", None),
    ],
)
def test_project_file_kinds(name, kind):
    assert project_file_kind(name) == kind


def test_discovery_reports_into_project_files_and_honours_gitignore(tmp_path):
    write_files(
        tmp_path,
        {
            ".gitignore": "ignored/\n",
            "package.json": '{"dependencies": {"@prisma/client": "5"}}',
            "Dockerfile": DOCKERFILE,
            "ignored/Dockerfile": DOCKERFILE,
            "node_modules/pkg/Dockerfile": DOCKERFILE,
        },
    )
    found, result = _lint([tmp_path])
    assert found == {("Dockerfile", 3, DB_PUSH)}
    assert result.report.findings[0].span.start_column == 9  # `prisma db push`, after `CMD npx `


def test_a_project_file_passed_alone_is_reported_and_a_manifest_is_not_skipped(tmp_path):
    write_files(
        tmp_path,
        {
            "package.json": '{"scripts": {"build": "prisma db push && next build"}}',
            "api/Dockerfile": DOCKERFILE,
            "notes.txt": "prisma db push",
        },
    )
    found, _ = _lint([tmp_path / "api" / "Dockerfile"])
    assert found == {("api/Dockerfile", 3, DB_PUSH)}
    found, result = _lint([tmp_path / "package.json", tmp_path / "notes.txt"])
    assert found == {("package.json", 1, DB_PUSH)}
    notices = {n.path: n.message for n in result.report.notices}
    assert "package.json" not in notices and notices["notes.txt"].startswith("skipped")


def test_unreadable_project_files_become_notices(tmp_path):
    write_files(
        tmp_path,
        {"schema.prisma": b"model A {\xff\xfe}\n", "Procfile": b"\x00\x01\x02\x03\x04\x05web: node x\x00\x00\x00\x00"},
    )
    _, result = _lint([tmp_path])
    notices = {n.path: n.message for n in result.report.notices}
    assert notices["schema.prisma"].startswith("skipped: not UTF-8")
    assert notices["Procfile"] == "skipped: binary file"


def test_size_limit_applies_to_project_files(tmp_path):
    write_files(tmp_path, {"Dockerfile": DOCKERFILE + "# padding\n" * 200, "loadlint.toml": "max-file-size = 500\n"})
    found, result = _lint([tmp_path])
    assert found == set()
    assert any(n.path == "Dockerfile" and "limit" in n.message for n in result.report.notices)


def test_hash_and_slash_comment_suppressions(tmp_path):
    write_files(
        tmp_path,
        {
            "Dockerfile": (
                "FROM node:20\n"
                "# loadlint-ignore prisma/db-push-in-deploy -- review apps get a throwaway database\n"
                "CMD npx prisma db push && node server.js\n"
                "RUN echo hi # loadlint-ignore prisma/db-push-in-deploy -- suppresses nothing\n"
                "# loadlint-ignore prisma/db-push-in-deploy\n"
            ),
            "schema.prisma": (
                'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'
                "model User {\n  id String @id\n  posts Post[]\n}\n"
                "model Post {\n  id String @id\n  author User @relation(fields: [authorId], references: [id])\n"
                "  /// loadlint-ignore prisma/missing-relation-index -- a handful of posts per author\n"
                "  authorId String\n}\n"
            ),
        },
    )
    found, result = _lint([tmp_path])
    assert found == {
        ("Dockerfile", 4, "loadlint/unused-suppression"),
        ("Dockerfile", 5, "loadlint/invalid-suppression"),
    }
    suppressed = {(f.path, f.rule_id) for f in result.report.findings if f.suppressed}
    assert suppressed == {("Dockerfile", DB_PUSH), ("schema.prisma", "prisma/missing-relation-index")}


def test_json_string_locations():
    source = b'{"scripts": {"build": "prisma db push", "x": "a\\"b"}, "list": [1, {"k": "v"}], "e": {}}'
    strings = {s.path: s for s in json_strings(source)}
    build = strings[("scripts", "build")]
    assert source[build.start : build.end] == b'"prisma db push"'
    assert build.offset_of(7) == build.start + 8 and source[build.offset_of(7) :].startswith(b"db push")
    assert strings[("scripts", "x")].value == 'a"b' and strings[("scripts", "x")].offset_of(1) is None
    assert strings[("list", 1, "k")].value == "v"
    assert json_strings(b'{"a": "b", oops') == [json_strings(b'{"a": "b"}')[0]]


@pytest.mark.parametrize(
    "command, expected",
    [
        ("npx prisma db push --accept-data-loss", [PrismaCommand(("db", "push", "--accept-data-loss"), 4, 37)]),
        ("pnpm dlx prisma@6.5.0 db push", [PrismaCommand(("db", "push"), 9, 29)]),
        ("cd api && npm run start:prod", [ChangeFolder("api"), ScriptCall(("start:prod",))]),
        ("yarn workspace @acme/api build", [ScriptCall(("build",), None, "@acme/api")]),
        ("npm --prefix backend start", [ScriptCall(("start",), "backend")]),
        ("pnpm install && pnpm --filter=web build", [ScriptCall(("build",), None, "web")]),
        ("run-s build:*", [ScriptCall(("build:*",))]),
        ("NODE_ENV=production bash ./scripts/start.sh", [ScriptFile("./scripts/start.sh", 25, 43)]),
        (
            "./wait-for-it.sh db:5432 -- prisma db push",
            [ScriptFile("./wait-for-it.sh", 0, 16), PrismaCommand(("db", "push"), 28, 42)],
        ),
        ('sh -c "prisma db push && node x.js"', [PrismaCommand(("db", "push"), 7, 21)]),
        ("echo 'run prisma db push first' # prisma db push", []),
        ("node dist/main.js", []),
        ("npm install", []),
    ],
)
def test_shell_command_actions(command, expected):
    assert actions(command) == expected


def test_env_entries_of_dotenv_and_compose_files():
    dotenv = b'# comment\nexport DATABASE_URL="postgres://a@b/c" # trailing\nEMPTY=\nPLAIN=x # note\n'
    entries = {e.name: e for e in env_entries(ENV_EXAMPLE, dotenv)}
    assert set(entries) == {"DATABASE_URL", "PLAIN"}
    url = entries["DATABASE_URL"]
    assert dotenv[url.start : url.end] == b"postgres://a@b/c" and entries["PLAIN"].value == "x"
    compose = b"services:\n  api:\n    environment:\n      DATABASE_URL: postgres://x\n      - 'REDIS_URL=redis://r'\n"
    assert [(e.name, e.value) for e in env_entries(COMPOSE, compose)] == [
        ("DATABASE_URL", "postgres://x"),
        ("REDIS_URL", "redis://r"),
    ]


def test_sidecar_annotations_for_json_files(tmp_path):
    write_files(
        tmp_path / "case",
        {
            "package.json": "{}",
            "expected.txt": (
                "# comment\npackage.json:3 ruleid: prisma/db-push-in-deploy\napi/package.json:2 ok: x/y  # why\n"
            ),
        },
    )
    expected = annotations(tmp_path / "case").by_kind
    assert expected["ruleid"] == {("package.json", 3, DB_PUSH)} and expected["ok"] == {("api/package.json", 2, "x/y")}
    (tmp_path / "case" / "expected.txt").write_text("package.json 3 ruleid: x/y\n")
    with pytest.raises(ValueError, match="expected.txt:1"):
        annotations(tmp_path / "case")


@pytest.mark.parametrize(
    "condition, off",
    [
        ('[ "${PRISMA_DB_PUSH:-0}" = "1" ]', True),
        ("[ -n $RUN_DB_PUSH ]", True),
        ('[ "${SYNC_SCHEMA:-true}" = "true" ]', False),
        ('[ -n "$DATABASE_URL" ]', False),
        ('[ "$NODE_ENV" != "production" ]', True),
        ('! [ "$NODE_ENV" = "production" ]', True),
        ('[ "$NODE_ENV" = "production" ]', False),
        ('! [ "$PRISMA_DB_PUSH" = 1 ]', False),
        ('[ "$migration_count" -eq 0 ]', False),
    ],
)
def test_branches_that_a_default_production_deploy_skips(condition, off):
    assert off_by_default(condition) is off


def test_if_blocks_carry_across_the_lines_of_a_script():
    branches = Branches()
    script = [
        'if [ "$NODE_ENV" = production ]; then',
        "  prisma migrate deploy",
        "else",
        "  prisma db push",
        "fi",
        "prisma generate",
    ]
    found = [a for line in script for a in actions(line, branches=branches)]
    assert [(a.arguments[0], a.conditions) for a in found] == [
        ("migrate", ("[ $NODE_ENV = production ]",)),
        ("db", ("! [ $NODE_ENV = production ]",)),
        ("generate", ()),
    ]
    (pushed,) = actions('[ "$RESET" = 1 ] && prisma db push --force-reset')
    assert pushed.conditions == ("[ $RESET = 1 ]",)
