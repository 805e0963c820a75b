"""prisma/client-outside-singleton and db/client-per-request beyond the fixtures: pre-commit runs, levels, options,
worker processes, and the shared helpers they are built on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linter.config import ConfigError
from linter.engine import RunOptions, run
from linter.model import Level
from tests.fixture_cases import FIXTURES

RULE = "prisma/client-outside-singleton"
CASES = FIXTURES / "prisma" / "client-outside-singleton"


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(CASES / case, target)
    return target


def _findings(paths: list[Path], jobs: int = 1, rule: str = RULE):
    report = run(RunOptions(paths=paths, jobs=jobs)).report
    return [f for f in report.active_findings if f.rule_id == rule]


def test_pre_commit_one_route_file_still_sees_the_package(tmp_path):
    repo = _copy("half-migrated", tmp_path)
    findings = _findings([repo / "src" / "routes" / "orders.ts"])
    assert [(f.path, f.span.start_line) for f in findings] == [("src/routes/orders.ts", 7)]
    (only,) = findings
    assert "src/lib/prisma.ts" in only.message
    assert [r.path for r in only.related] == ["src/lib/prisma.ts"]


def test_pre_commit_per_call_names_the_singleton_and_prints_nothing_else(tmp_path):
    repo = _copy("half-migrated", tmp_path)
    report = run(RunOptions(paths=[repo / "src" / "routes" / "reports.ts"], jobs=1)).report
    assert {f.path for f in report.active_findings} == {"src/routes/reports.ts"}
    lines = sorted(f.span.start_line for f in report.active_findings if f.rule_id == RULE)
    assert lines == [9, 16]
    assert all("import the shared client from src/lib/prisma.ts" in f.message for f in report.active_findings)


def test_pre_commit_the_singleton_alone_is_clean(tmp_path):
    repo = _copy("half-migrated", tmp_path)
    assert _findings([repo / "src" / "lib" / "prisma.ts"]) == []


def test_next_hot_reload_is_a_warning_and_per_call_stays_an_error(tmp_path):
    repo = _copy("next-hot-reload", tmp_path)
    (finding,) = _findings([repo])
    assert finding.level is Level.WARNING
    assert "globalThis" in finding.message
    next_app = _copy("next-app", tmp_path)
    levels = {f.level for f in _findings([next_app])}
    assert levels == {Level.ERROR}


def test_config_level_still_overrides_a_per_finding_level(tmp_path):
    repo = _copy("next-hot-reload", tmp_path)
    (repo / ".loadlint.toml").write_text('[levels]\n"prisma/client-outside-singleton" = "note"\n')
    (finding,) = _findings([repo])
    assert finding.level is Level.NOTE


def test_without_a_singleton_all_but_the_first_module_are_reported(tmp_path):
    repo = _copy("audit-backend", tmp_path)
    module_level = [f for f in _findings([repo]) if "path order" in f.message]
    assert sorted(f.path for f in module_level) == [
        "src/routes/leads.js",
        "src/routes/ultralead/campaigns.js",
        "src/routes/videosite.js",
        "src/services/leadService.js",
    ]
    assert all("src/routes/copilot.js" in f.message for f in module_level)
    assert all(r.path == "src/routes/copilot.js" for f in module_level for r in f.related)


def test_unknown_option_is_an_error(tmp_path):
    repo = _copy("next-hot-reload", tmp_path)
    (repo / ".loadlint.toml").write_text('[rules."prisma/client-outside-singleton"]\none-shot-pathz = []\n')
    with pytest.raises(ConfigError, match="one-shot-pathz"):
        run(RunOptions(paths=[repo], jobs=1))


def test_one_shot_paths_option_replaces_the_defaults(tmp_path):
    repo = _copy("one-shot", tmp_path)
    (repo / ".loadlint.toml").write_text('[rules."prisma/client-outside-singleton"]\none-shot-paths = []\n')
    # The server loads both modules, so that only the path option keeps them quiet (a module the server never
    # loads is left alone whatever its path).
    with (repo / "src" / "server.js").open("a") as server:
        server.write("require('../scripts/stale-invoices');\nrequire('../tools/reindex');\n")
    flagged = {f.path for f in _findings([repo])}
    assert flagged == {
        "scripts/stale-invoices.js",
        "tools/reindex.js",
        "src/server.js",  # flagged with the defaults too: the main entry is not a one-shot command
    }
    # Still quiet: tests and test-runner setup such as `prisma/test-environment.js` (not a path option), the files package.json's scripts run (`prisma/seed.js`,
    # `reports/monthly.js`), the command-line entry point (`#!/usr/bin/env node`, `process.argv`), and
    # `scripts/backfill-invoices.js`, whose function disconnects the client it creates (a one-off job).


def test_worker_processes_give_the_same_findings(tmp_path):
    repo = _copy("half-migrated", tmp_path)
    for index in range(70):  # enough files for the engine to use worker processes
        (repo / "src" / f"filler{index}.ts").write_text(f"export const value{index} = {index};\n")
    serial = {(f.path, f.span.start_line, f.message) for f in _findings([repo], jobs=1)}
    parallel = {(f.path, f.span.start_line, f.message) for f in _findings([repo], jobs=2)}
    assert serial == parallel and len(serial) == 6


def test_db_rule_is_gated_on_the_package_dependencies(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"express": "^4.0.0"}}')
    (tmp_path / "app.js").write_text(
        "const Redis = require('ioredis');\n"
        "module.exports = (req, res) => { const r = new Redis(); res.end(String(Boolean(r))); };\n"
    )
    assert _findings([tmp_path], rule="db/client-per-request") == []
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"ioredis": "^5.0.0"}}')
    assert len(_findings([tmp_path], rule="db/client-per-request")) == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("apps/web/pages/api/users/[id].ts", "pages-api"),
        ("src/app/api/leads/route.ts", "route-handler"),
        ("app/(dashboard)/settings/page.tsx", "server-render"),
        ("src/middleware.ts", "next-middleware"),
    ],
)
def test_framework_file_conventions(path, expected):
    from linter.frameworks.nextjs import is_app_rendered, is_app_route, is_next_middleware, is_pages_api

    checks = {
        "pages-api": is_pages_api,
        "route-handler": is_app_route,
        "server-render": is_app_rendered,
        "next-middleware": is_next_middleware,
    }
    assert [kind for kind, check in checks.items() if check(path)] == [expected]


def test_deeply_nested_code_does_not_hit_the_recursion_limit(tmp_path):
    depth = 3000
    source = (
        "const { PrismaClient } = require('@prisma/client');\n"
        "module.exports = (req, res) => " + "[\n" * depth + "new PrismaClient()" + "]\n" * depth + ";\n"
    )
    (tmp_path / "deep.js").write_text(source)
    findings = _findings([tmp_path / "deep.js"])
    assert len(findings) == 1


def _factory_findings(case: str, tmp_path: Path) -> dict[str, object]:
    repo = _copy(case, tmp_path)
    return {f.path: f for f in _findings([repo])}


def test_a_factory_called_per_request_is_reported_at_its_client_with_the_callers(tmp_path):
    found = _factory_findings("factory-per-request", tmp_path)
    assert sorted(found) == ["src/db/ledger-client.js", "src/lib/open-database.ts"]
    direct = found["src/lib/open-database.ts"]
    assert direct.span.start_line == 6
    assert "`openDatabase()` creates a new PrismaClient" in direct.message
    assert "src/routes/invoices.ts calls it on every request in an Express request handler" in direct.message
    assert [(r.path, r.span.start_line) for r in direct.related] == [("src/routes/invoices.ts", 8)]
    assert "calls `openDatabase()`" in direct.related[0].message
    chained = found["src/db/ledger-client.js"]
    assert "src/routes/ledger.js calls it through `balanceOf()`" in chained.message
    assert [(r.path, r.span.start_line) for r in chained.related] == [
        ("src/routes/ledger.js", 7),
        ("src/services/ledger.js", 4),
    ]


def test_a_factory_called_from_a_nestjs_route_through_a_service(tmp_path):
    found = _findings([_copy("factory-nest", tmp_path)])
    messages = {(f.path, f.span.start_line): f.message for f in found}
    factory = messages[("src/tenants/tenant-client.ts", 6)]
    assert "src/tenants/tenants.controller.ts calls it through `members()` on every request to a NestJS route" in factory
    assert "on every request to this NestJS route" in messages[("src/tenants/tenants.controller.ts", 17)]


def test_a_second_client_beside_a_workspace_package_client_names_both(tmp_path):
    (finding,) = _findings([_copy("monorepo-shared-client", tmp_path)])
    assert finding.path == "apps/worker/src/export-clicks.ts"
    assert "packages/database/src/client.ts" in finding.message
    assert {r.path for r in finding.related} == {"packages/database/src/client.ts", "apps/worker/src/index.ts"}


def test_factory_findings_carry_sarif_related_locations(tmp_path, monkeypatch):
    from tests.test_sarif_quality import results, sarif_of

    repo = _copy("factory-per-request", tmp_path)
    log = sarif_of(repo, "--select", RULE, cwd=repo, monkeypatch=monkeypatch)
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results(log)}
    related = by_uri["src/db/ledger-client.js"]["relatedLocations"]
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == [
        "src/routes/ledger.js",
        "src/services/ledger.js",
    ]
    assert all(r["message"]["text"] for r in related)


def test_the_default_one_shot_paths_match_as_their_globs_do():
    import pathspec

    from linter.rules.prisma.client_outside_singleton import DEFAULT_ONE_SHOT_PATH, DEFAULT_ONE_SHOT_PATHS

    globs = pathspec.GitIgnoreSpec.from_lines(DEFAULT_ONE_SHOT_PATHS)
    made = [
        "scripts/a.ts", "Scripts/a.ts", "a/scripts", "a/scripts/b/c.js", "ascripts/b.ts", "a/my-scripts/b.ts",
        "-scripts/x.js", "bin/www", "a/bin", "sbin/x.js", "seed.ts", "seed", "a/seed.d/y.ts", "a/seeds.ts",
        "seeds/a.ts", "seeders/1.js", "seed/a.js", "a/user.seed.ts", "a/.seed.", "prisma/seed.ts", "prisma/seedUsers.ts",
        "prisma/seed/a.ts", "x/prisma/seeds", "notprisma/seed-a.ts", "db/migrations/1.js", "migration/1.js",
        "jest.setup.ts", "a/vitest.setup.mts", "avitest.setup.ts", "src/setupTests.js", "setupTests", "custom-test-environment.js",
        "test-environment.ts", "a\nb/scripts/x.ts", "scripts\n/x.ts", "a/b/c.ts", "src/server.js", "",
    ]  # fmt: skip
    paths = made + [str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*")]
    for path in paths:
        assert (DEFAULT_ONE_SHOT_PATH.match(path) is not None) == globs.match_file(path), path
