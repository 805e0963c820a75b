"""One config rule, one analysis scope: a file's findings do not depend on how loadlint was invoked.

The nearest config above a file applies to it (the root's, or the defaults, when no folder between has one),
and a run always reads the whole repository: linting a file alone, beside others, as part of its folder, or
from the root gives it the same findings.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linter.config import ConfigError
from linter.engine import RunOptions, UsageError, run
from tests.fixture_cases import REPO
from tests.project_builder import write_files

SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    String @id @default(cuid())
  leads Lead[]
}

model Lead {
  id        String   @id @default(cuid())
  createdAt DateTime @default(now())
  user      User     @relation(fields: [userId], references: [id])
  userId    String
}
"""

SECRET = "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev-secret';\nmodule.exports = (user) => jwt.sign(user, secret, { expiresIn: '1h' });\n"

SERVER = (
    "const express = require('express');\nconst cleanup = require('./jobs/cleanup');\nconst users = require('./users');\n\n"
    "const app = express();\napp.get('/users', async (req, res) => res.json(await users()));\napp.post('/cleanup', cleanup);\n"
    "app.listen(3000);\n"
)

USERS = "const { prisma } = require('@shop/db');\n\nmodule.exports = () => prisma.user.findMany({ take: 10 });\n"

# A monorepo: the schema lives in a package of its own, the api has a config of its own, the web app none.
MONOREPO = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "package.json": '{"name": "shop", "private": true, "workspaces": ["apps/*", "packages/*"]}\n',
    ".loadlint.toml": '[levels]\n"auth/secret-fallback" = "warning"\n',
    "packages/db/package.json": '{"name": "@shop/db", "main": "src/index.js", "dependencies": {"@prisma/client": "^5.0.0"}}\n',
    "packages/db/prisma/schema.prisma": SCHEMA,
    "packages/db/src/index.js": "const { PrismaClient } = require('@prisma/client');\n\nmodule.exports = { prisma: new PrismaClient() };\n",
    "apps/api/package.json": (
        '{"name": "api", "dependencies": {"express": "^4.19.0", "jsonwebtoken": "^9.0.0", '
        '"@prisma/client": "^5.0.0", "@shop/db": "*"}}\n'
    ),
    "apps/api/.loadlint.toml": (
        'ignore = ["express"]\n'
        '[levels]\n"auth/secret-fallback" = "error"\n'
        '[rules."prisma/client-outside-singleton"]\nextend-one-shot-paths = ["jobs/"]\n'
    ),
    "apps/api/src/auth.js": SECRET,
    "apps/api/src/server.js": SERVER,
    "apps/api/src/users.js": USERS,
    "apps/api/src/leads.js": (
        "const express = require('express');\nconst { prisma } = require('@shop/db');\n\n"
        "const router = express.Router();\n"
        "router.get('/leads', async (req, res) => {\n"
        "  const leads = await prisma.lead.findMany({ where: { userId: req.user.id }, orderBy: { createdAt: 'desc' }, take: 20, skip: 0 });\n"
        "  res.json(leads);\n"
        "});\n\nmodule.exports = router;\n"
    ),
    "apps/api/src/jobs/cleanup.js": (
        "const { PrismaClient } = require('@prisma/client');\n\nconst prisma = new PrismaClient();\n\n"
        "module.exports = () => prisma.lead.deleteMany({});\n"
    ),
    "apps/web/package.json": '{"name": "web", "dependencies": {"express": "^4.19.0", "jsonwebtoken": "^9.0.0", "@prisma/client": "^5.0.0", "@shop/db": "*"}}\n',
    "apps/web/src/auth.js": SECRET,
    "apps/web/src/server.js": SERVER,
    "apps/web/src/users.js": USERS,
    "apps/web/src/jobs/cleanup.js": (
        "const { PrismaClient } = require('@prisma/client');\n\nconst prisma = new PrismaClient();\n\n"
        "module.exports = () => prisma.lead.deleteMany({});\n"
    ),
}

FILES = [
    "apps/api/src/auth.js",
    "apps/api/src/server.js",
    "apps/api/src/leads.js",
    "apps/api/src/jobs/cleanup.js",
    "apps/web/src/auth.js",
    "apps/web/src/server.js",
    "apps/web/src/jobs/cleanup.js",
    "packages/db/prisma/schema.prisma",
]


def lint(root: Path, *paths: str, **options):
    options.setdefault("jobs", 1)
    result = run(RunOptions(paths=[root / p for p in paths], **options))
    return result


def under(path: str, given: str) -> bool:
    return given == "." or path == given or path.startswith(given + "/")


def findings_by_path(result) -> dict[str, set[tuple]]:
    by_path: dict[str, set[tuple]] = {}
    for f in result.report.active_findings:
        by_path.setdefault(f.path, set()).add((f.span.start_line, f.rule_id, f.level.value, f.message))
    return by_path


@pytest.fixture
def monorepo(tmp_path):
    return write_files(tmp_path / "shop", MONOREPO)


def test_each_file_follows_the_config_nearest_to_it(monorepo):
    found = findings_by_path(lint(monorepo, "."))
    rules = {path: {(rule, level) for _, rule, level, _ in items} for path, items in found.items()}
    # apps/api/.loadlint.toml: its own level, its own ignore, its own rule options
    assert rules["apps/api/src/auth.js"] == {("auth/secret-fallback", "error")}
    assert "apps/api/src/server.js" not in rules
    assert "apps/api/src/jobs/cleanup.js" not in rules
    # the web app has no config: the root's applies
    assert rules["apps/web/src/auth.js"] == {("auth/secret-fallback", "warning")}
    assert rules["apps/web/src/server.js"] == {("express/no-graceful-shutdown", "warning")}
    assert rules["apps/web/src/jobs/cleanup.js"] == {("prisma/client-outside-singleton", "error")}
    # the list query of the api is judged against the schema of another package
    assert ("prisma/missing-relation-index", "note") in rules["apps/api/src/leads.js"]


def test_the_same_file_gets_the_same_findings_however_it_is_invoked(monorepo):
    """Alone, with others, as part of its folder or package, from the root, and from a folder with a config."""
    expected = findings_by_path(lint(monorepo, "."))
    assert set(expected) <= set(FILES)
    invocations: list[tuple[str, ...]] = [("apps",), ("apps/api",), ("apps/api/src",), ("packages/db",), ("apps/web/src/jobs",)]
    invocations += [(path,) for path in FILES]
    invocations += list(itertools.combinations(FILES[::3], 2)) + [tuple(FILES)]
    invocations += [(os.path.dirname(path),) for path in FILES]
    for paths in invocations:
        result = lint(monorepo, *paths)
        reported = findings_by_path(result)
        for path in FILES:
            if any(under(path, p) for p in paths):
                assert reported.get(path, set()) == expected.get(path, set()), (paths, path)
            else:
                assert path not in reported, (paths, path)


def test_the_same_findings_with_the_results_cache_in_every_order(monorepo):
    expected = findings_by_path(lint(monorepo, ".", use_cache=False))
    for paths in (("apps/api/src/jobs/cleanup.js",), (".",), ("apps/web",), ("apps/api/src",), (".",)):
        reported = findings_by_path(lint(monorepo, *paths))
        assert reported == {p: f for p, f in expected.items() if any(under(p, q) for q in paths)}, paths


def test_a_folder_run_sees_the_schema_beside_the_folder(tmp_path):
    """`check backend/src` once lost the relation-index note the root run and the single-file run gave."""
    root = write_files(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "backend/package.json": '{"name": "backend", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0"}}\n',
            "backend/prisma/schema.prisma": SCHEMA,
            "backend/src/leads.js": MONOREPO["apps/api/src/leads.js"].replace("require('@shop/db')", "require('./db')"),
            "backend/src/db.js": MONOREPO["packages/db/src/index.js"],
        },
    )
    note = ("backend/src/leads.js", "prisma/missing-relation-index")
    for paths in ((".",), ("backend/src",), ("backend/src/leads.js",), ("backend",)):
        assert note in {(f.path, f.rule_id) for f in lint(root, *paths).report.active_findings}, paths


def test_changing_a_nested_config_changes_the_cached_findings_of_its_files(monorepo):
    assert "apps/api/src/server.js" not in findings_by_path(lint(monorepo, "apps/api/src/server.js"))
    (monorepo / "apps/api/.loadlint.toml").write_text('ignore = ["auth"]\n', encoding="utf-8")
    found = findings_by_path(lint(monorepo, "apps/api/src/server.js", "apps/api/src/auth.js"))
    assert {rule for _, rule, _, _ in found["apps/api/src/server.js"]} == {"express/no-graceful-shutdown"}
    assert "apps/api/src/auth.js" not in found


def test_rule_options_of_a_nested_config_make_a_second_instance_of_the_rule(monorepo):
    """The api's one-shot paths keep its job's client out; the same job in the web app is still a second pool."""
    result = lint(monorepo, "apps/api/src/jobs/cleanup.js", "apps/web/src/jobs/cleanup.js")
    assert {f.path for f in result.report.active_findings} == {"apps/web/src/jobs/cleanup.js"}
    (monorepo / "apps/api/.loadlint.toml").write_text('ignore = ["express"]\n', encoding="utf-8")
    result = lint(monorepo, "apps/api/src/jobs/cleanup.js", "apps/web/src/jobs/cleanup.js")
    assert {f.path for f in result.report.active_findings} == {"apps/api/src/jobs/cleanup.js", "apps/web/src/jobs/cleanup.js"}


def test_nested_exclude_per_file_ignores_and_max_file_size_apply_below_their_folder(monorepo):
    write_files(
        monorepo,
        {
            "apps/web/.loadlint.toml": (
                'exclude = ["src/jobs/"]\nmax-file-size = 400\n[per-file-ignores]\n"src/server.js" = ["express"]\n'
            ),
            "apps/web/src/big.js": SECRET + "// padding\n" * 40,
            "apps/api/src/big.js": SECRET + "// padding\n" * 40,
        },
    )
    for paths in ((".",), ("apps/web/src/big.js", "apps/api/src/big.js", "apps/web/src/server.js", "apps/web/src/jobs/cleanup.js")):
        result = lint(monorepo, *paths)
        found = findings_by_path(result)
        assert "apps/web/src/server.js" not in found and "apps/web/src/jobs/cleanup.js" not in found
        assert "apps/web/src/big.js" not in found and "apps/api/src/big.js" in found
        assert any(n.path == "apps/web/src/big.js" and "over the 400-byte limit" in n.message for n in result.report.notices)


def test_fail_on_comes_from_the_config_nearest_the_paths(monorepo):
    write_files(monorepo, {"apps/web/.loadlint.toml": 'fail-on = "error"\n', ".loadlint.toml": 'fail-on = "note"\n'})
    assert lint(monorepo, "apps/web").fail_on.value == "error"
    assert lint(monorepo, "apps/web/src/auth.js").fail_on.value == "error"
    assert lint(monorepo, ".").fail_on.value == "note"
    assert lint(monorepo, "apps/api").fail_on.value == "warning"  # its config says nothing: the default


def test_a_broken_nested_config_stops_every_run_of_the_repository(monorepo):
    write_files(monorepo, {"apps/web/.loadlint.toml": "colour = 'red'\n"})
    for paths in ((".",), ("apps/api/src/auth.js",)):
        with pytest.raises(ConfigError, match=r"^apps/web/.loadlint.toml: key 'colour': unknown key$"):
            lint(monorepo, *paths)


def test_a_nested_config_that_enables_no_rule_is_named(monorepo):
    write_files(monorepo, {"apps/web/.loadlint.toml": 'select = ["auth"]\nignore = ["auth"]\n'})
    with pytest.raises(UsageError, match="apps/web/.loadlint.toml key 'select' and apps/web/.loadlint.toml key 'ignore' leave none"):
        lint(monorepo, "apps/api")


def test_the_named_config_applies_to_every_file(monorepo, tmp_path):
    named = write_files(tmp_path / "elsewhere", {"strict.toml": 'select = ["auth"]\n'}) / "strict.toml"
    found = findings_by_path(lint(monorepo, ".", config_file=named))
    assert {rule for items in found.values() for _, rule, _, _ in items} == {"auth/secret-fallback"}
    assert {level for items in found.values() for _, _, level, _ in items} == {"error"}


def test_a_nested_config_cannot_load_rules_even_with_the_trust_flag(monorepo, tmp_path):
    marker = tmp_path / "marker"
    write_files(
        monorepo,
        {
            "apps/web/.loadlint.toml": 'rules-dir = "rules"\n',
            "apps/web/rules/x/evil.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n",
        },
    )
    for paths in ((".",), ("apps/api",)):
        result = lint(monorepo, *paths, trust_config_rules=True)
        assert not marker.exists()
        assert any(
            n.message.startswith("apps/web/.loadlint.toml: key 'rules-dir' ignored: rules come only from --rules-dir")
            for n in result.report.notices
        )
    # From the folder itself, its config is the run's: with the flag, the user trusts it.
    lint(monorepo, "apps/web", trust_config_rules=True)
    assert marker.exists()


def test_the_cli_reports_the_same_for_a_folder_and_the_root(monorepo):
    """Through the command, as a user types it, from inside the folder."""

    def check(cwd: Path, *paths: str) -> set[tuple]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-m", "linter", "check", "--format", "json", *paths],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 1, done.stderr
        return {(f["path"], f["span"]["start_line"], f["rule_id"], f["level"]) for f in json.loads(done.stdout)["findings"]}

    from_root = check(monorepo)
    from_folder = check(monorepo / "apps/api")
    assert from_folder == {f for f in from_root if f[0].startswith("apps/api/")} and from_folder
    assert check(monorepo / "apps/api/src", "auth.js") == {f for f in from_root if f[0] == "apps/api/src/auth.js"}


PAGED_ROUTE = """const express = require('express');
const { listLeads } = require('./leads');

const router = express.Router();
router.get('/leads', async (req, res) => res.json(await listLeads(req.query.limit)));
module.exports = router;
"""
PAGED_QUERY = """const { PrismaClient } = require('@prisma/client');

const prisma = new PrismaClient();

exports.listLeads = (limit) => prisma.lead.findMany({ take: Number(limit) });
"""


def test_flow_rules_keep_their_sinks_per_instance_and_fix_with_their_own_options(tmp_path):
    """Two packages, one with its own page size: a cross-file finding in each, once, fixed with its own cap."""
    package = '{"name": "%s", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0"}}\n'
    root = write_files(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "small/package.json": package % "small",
            "small/.loadlint.toml": '[rules."pagination/uncapped-limit"]\nmax-page-size = 25\n',
            "small/routes.js": PAGED_ROUTE,
            "small/leads.js": PAGED_QUERY,
            "large/package.json": package % "large",
            "large/routes.js": PAGED_ROUTE,
            "large/leads.js": PAGED_QUERY,
        },
    )
    for paths in ((".",), ("small/leads.js", "large/leads.js"), ("small",), ("large",)):
        result = lint(root, *paths, select=["pagination/uncapped-limit"])
        caps = {}
        for finding in result.report.active_findings:
            assert finding.path not in caps, (paths, finding.path)
            (fix,) = finding.fixes
            caps[finding.path] = fix.edits[0].replacement
        expected = {"small/leads.js": "Math.min(Number(limit), 25)", "large/leads.js": "Math.min(Number(limit), 100)"}
        assert caps == {p: text for p, text in expected.items() if any(under(p, q) for q in paths)}, paths


MARKED = "const jwt = require('jsonwebtoken');\nmodule.exports = jwt.sign({}, process.env.JWT_SECRET || 'dev');\n"


@pytest.fixture
def outputs(tmp_path):
    """Folders named like build output: at the top of a package (output), inside source (source), a package."""
    package = '{"name": "%s", "dependencies": {"jsonwebtoken": "^9.0.0"}}\n'
    return write_files(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": package % "root",
            "dist/index.js": MARKED,
            "coverage/lcov-report/sorter.js": MARKED,
            "src/build/routes.js": MARKED,
            "src/out/report.js": MARKED,
            "apps/web/package.json": package % "web",
            "apps/web/build/server.js": MARKED,
            "apps/web/src/dist/helpers.js": MARKED,
            "apps/cli/tsconfig.json": "{}\n",
            "apps/cli/out/main.js": MARKED,
            "packages/build/package.json": package % "build",
            "packages/build/index.js": MARKED,
            "tools/coverage/merge.js": MARKED,
        },
    )


def linted(result) -> set[str]:
    return {f.path for f in result.report.active_findings}


def output_notices(result) -> dict[str, str]:
    return {n.path: n.message for n in result.report.notices if "build output" in n.message}


SOURCE = {"src/build/routes.js", "src/out/report.js", "apps/web/src/dist/helpers.js", "packages/build/index.js", "tools/coverage/merge.js"}
OUTPUT = {"dist/index.js", "coverage/lcov-report/sorter.js", "apps/web/build/server.js", "apps/cli/out/main.js"}


def test_build_output_folders_are_skipped_at_the_top_of_a_package_only(outputs):
    result = lint(outputs, ".", select=["auth"])
    assert linted(result) == SOURCE
    assert set(output_notices(result)) == {"dist", "coverage", "apps/web/build", "apps/cli/out"}
    assert output_notices(result)["dist"] == (
        'skipped: `dist` at the top of a package is taken for build output; to lint it, leave "dist" out of '
        "`output-dirs` in the config"
    )


def test_a_file_named_in_a_build_output_folder_is_skipped_as_in_a_root_run(outputs):
    result = lint(outputs, "dist/index.js", "src/build/routes.js", select=["auth"])
    assert linted(result) == {"src/build/routes.js"}
    assert set(output_notices(result)) == {"dist/index.js"}


def test_output_dirs_in_the_config_replaces_the_list(outputs):
    write_files(outputs, {".loadlint.toml": 'output-dirs = ["coverage"]\n'})
    assert linted(lint(outputs, ".", select=["auth"])) == SOURCE | OUTPUT - {"coverage/lcov-report/sorter.js"}
    write_files(outputs, {".loadlint.toml": "output-dirs = []\n", "apps/web/.loadlint.toml": 'output-dirs = ["build"]\n'})
    assert linted(lint(outputs, ".", select=["auth"])) == SOURCE | OUTPUT - {"apps/web/build/server.js"}


def test_a_gitignored_output_folder_is_skipped_without_a_notice(outputs):
    write_files(outputs, {".gitignore": "dist/\ncoverage/\n"})
    result = lint(outputs, ".", select=["auth"])
    assert set(output_notices(result)) == {"apps/web/build", "apps/cli/out"}


@pytest.mark.parametrize("value", ['["a/b"]', '[""]', '[".."]', '["*/dist"]', "'dist'"])
def test_output_dirs_takes_folder_names(outputs, value):
    write_files(outputs, {".loadlint.toml": f"output-dirs = {value}\n"})
    with pytest.raises(ConfigError, match=r"^\.loadlint\.toml: key 'output-dirs"):
        lint(outputs, ".")


def test_a_nested_config_that_leads_out_of_the_root_stops_the_run_unopened(monorepo, tmp_path):
    outside = write_files(tmp_path / "outside", {"settings.toml": 'select = ["auth"]\n'}) / "settings.toml"
    (monorepo / "apps/web/.loadlint.toml").symlink_to(outside)
    for paths in ((".",), ("apps/api/src/auth.js",)):
        with pytest.raises(ConfigError, match=r"^apps/web/.loadlint.toml: not read: it is a symbolic link to outside the root$"):
            lint(monorepo, *paths)
    (monorepo / "apps/web/.loadlint.toml").unlink()
    os.mkfifo(monorepo / "apps/web/loadlint.toml")
    with pytest.raises(ConfigError, match=r"^apps/web/loadlint.toml: not a regular file$"):
        lint(monorepo, "apps/api")
