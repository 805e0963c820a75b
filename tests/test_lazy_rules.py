"""A check run imports only the rules it enables, and a warm run only what it uses; the built-in pack known by
its modules' names is the pack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from linter.registry import builtin_rules

REPO = Path(__file__).resolve().parent.parent


def test_the_rules_known_by_module_name_are_the_built_in_pack():
    from linter.registry import lazy_builtin_rules

    lazy = lazy_builtin_rules()
    assert [rule.id for rule in lazy] == [cls.id for cls in builtin_rules()]
    assert [rule.load() for rule in lazy] == list(builtin_rules())


def _imported_by_a_run(root: Path, select: list[str], ignore: list[str]) -> tuple[str, list[str]]:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import linter.cache\n"
        "from linter.engine import RunOptions, run\n"
        "linter.cache.SETTLED_NS = 0  # what the test wrote counts as settled: the walk is kept\n"
        f"result = run(RunOptions(paths=[Path({str(root)!r})], select={select!r}, ignore={ignore!r}, jobs=1))\n"
        "print(sorted({f.rule_id for f in result.report.findings}))\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    env = {"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(root.parent / "cache"), "PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    findings, modules = shown.stdout.splitlines()
    return findings, modules.split()


def _rule_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("linter.rules.") and m.count(".") == 3 and "._" not in m]


def test_a_run_imports_only_the_rules_it_enables(tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "package.json").write_text('{"dependencies": {"jsonwebtoken": "9.0.0"}}')
    (root / "a.js").write_text("const jwt = require('jsonwebtoken');\njwt.sign({}, process.env.S || 'x');\n")
    findings, modules = _imported_by_a_run(root, ["auth"], ["auth/jwt-no-expiry"])
    assert findings == "['auth/secret-fallback']"
    assert _rule_modules(modules) == ["linter.rules.auth.jwt_verify_without_algorithms", "linter.rules.auth.secret_fallback"]


def test_a_warm_run_without_globs_to_match_imports_no_glob_matcher(tmp_path, monkeypatch):
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("dist/\n")
    (root / "package.json").write_text('{"dependencies": {"@prisma/client": "5.0.0"}}')
    (root / "a.js").write_text("const { PrismaClient } = require('@prisma/client');\nexport const db = new PrismaClient();\n")
    cold = _imported_by_a_run(root, ["all"], ["stripe"])
    assert "pathspec" in cold[1]  # the walk read the .gitignore
    warm = _imported_by_a_run(root, ["all"], ["stripe"])
    assert warm[0] == cold[0]
    assert "pathspec" not in warm[1] and "linter.rules.prisma.client_outside_singleton" in cold[1]
    assert not [m for m in cold[1] if m.startswith("linter.rules.stripe")]


def _cold_and_warm_runs_of_a_jwt_app(tmp_path: Path) -> tuple[list[str], list[str]]:
    """The modules a cold run and then a warm run of a small app imported (each finds the same two findings)."""
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "package.json").write_text('{"dependencies": {"jsonwebtoken": "9.0.0"}}')
    (root / "a.js").write_text("const jwt = require('jsonwebtoken');\njwt.sign({}, process.env.S || 'x');\n")
    cold = _imported_by_a_run(root, ["all"], [])
    warm = _imported_by_a_run(root, ["all"], [])
    assert warm[0] == cold[0] == "['auth/jwt-no-expiry', 'auth/secret-fallback']"
    return cold[1], warm[1]


def test_a_warm_run_without_a_config_file_imports_no_pydantic(tmp_path):
    """The records of a report are plain classes, and the settings are checked by pydantic only when a config
    file holds some, the options of a rule only when they are read: a run does not pay for importing it."""
    cold, warm = _cold_and_warm_runs_of_a_jwt_app(tmp_path)
    assert "pydantic" not in warm and "linter.model" in warm
    # Nor a run that loads rules: a rule's options class is imported when the options are first read.
    assert "linter.rules.auth.jwt_no_expiry" in cold and "pydantic" not in cold


def test_a_run_takes_its_digests_without_importing_hashlib(tmp_path):
    """`hashlib` loads OpenSSL, 2 to 3 ms, for constructors no run calls; the digests are those it would make."""
    import hashlib

    from linter.digests import blake2b

    assert blake2b(b"key", digest_size=16).hexdigest() == hashlib.blake2b(b"key", digest_size=16).hexdigest()
    cold, warm = _cold_and_warm_runs_of_a_jwt_app(tmp_path)
    assert "hashlib" not in cold and "hashlib" not in warm and "linter.cache" in warm


def test_a_cold_run_reads_default_options_without_pydantic(tmp_path):
    """Rules whose findings depend on an option (a page-size cap in a fix, a body-size or token-lifetime maximum)
    read its default without building the options: a cold run without a config file imports no pydantic."""
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "package.json").write_text(
        '{"dependencies": {"express": "4.0.0", "jsonwebtoken": "9.0.0", "@prisma/client": "5.0.0"}}'
    )
    (root / "server.js").write_text(
        "const express = require('express');\n"
        "const jwt = require('jsonwebtoken');\n"
        "const { PrismaClient } = require('@prisma/client');\n"
        "const prisma = new PrismaClient();\n"
        "const app = express();\n"
        "app.use(express.json({ limit: '50mb' }));\n"
        "app.get('/leads', async (req, res) => {\n"
        "  res.json(await prisma.lead.findMany({ take: Number(req.query.limit) }));\n"
        "});\n"
        "app.post('/login', (req, res) => {\n"
        "  res.json({ token: jwt.sign({ sub: 1 }, process.env.JWT_SECRET, { expiresIn: '30d' }) });\n"
        "});\n"
        "app.listen(3000);\n"
    )
    findings, modules = _imported_by_a_run(root, ["express/json-body-limit", "pagination", "auth/jwt-no-expiry"], [])
    assert findings == "['auth/jwt-no-expiry', 'express/json-body-limit', 'pagination/uncapped-limit']"
    assert "pydantic" not in modules


def _sarif_of_a_run(root: Path, select: list[str]) -> tuple[bytes, list[str]]:
    """The SARIF report (its rules' metadata included) of a run in a fresh process, and the modules it imported."""
    script = (
        "import io, sys\n"
        "from pathlib import Path\n"
        "import linter.cache\n"
        "from linter.engine import RunOptions, run\n"
        "from linter.formatters import render\n"
        "linter.cache.SETTLED_NS = 0\n"
        f"result = run(RunOptions(paths=[Path({str(root / 'a.js')!r})], select={select!r}, jobs=1))\n"
        "out = io.StringIO()\n"
        "render(result.report, 'sarif', out)\n"
        "print(' '.join(sorted(sys.modules)))\n"
        "print(out.getvalue())\n"
    )
    env = {"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(root.parent / "cache"), "PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    modules, report = shown.stdout.split("\n", 1)
    return report, modules.split()


def test_a_warm_run_of_unchanged_files_imports_no_rule(tmp_path):
    """Every file and every project-wide check comes from the cache: no rule is imported, the report (the
    rules' metadata, their levels from the config) is the one a run that imports them makes."""
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "loadlint.toml").write_text('[levels]\n"prisma/client-outside-singleton" = "error"\n')
    (root / "package.json").write_text('{"dependencies": {"@prisma/client": "5.0.0", "jsonwebtoken": "9.0.0"}}')
    (root / "a.js").write_text(
        "const { PrismaClient } = require('@prisma/client');\nexport const db = new PrismaClient();\n"
        "const jwt = require('jsonwebtoken');\njwt.sign({}, process.env.S || 'x');\n"
    )
    cold, cold_modules = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    warm, warm_modules = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    assert "linter.rules.prisma.client_outside_singleton" in cold_modules
    assert "prisma/client-outside-singleton" in cold and "loadlint/unused-suppression" in cold  # its metadata
    assert warm == cold
    assert [m for m in warm_modules if m.startswith("linter.rules.")] == []
    # Nor what only analysing a file needs: the flow engine, the framework models, the needle matcher.
    assert [m for m in warm_modules if m.startswith(("linter.flow", "linter.frameworks", "ahocorasick"))] == []
    # Edited: the rules run again, and the report follows the file.
    (root / "a.js").write_text("const { PrismaClient } = require('@prisma/client');\nexport const db = new PrismaClient();\n")
    edited, edited_modules = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    assert "linter.rules.prisma.client_outside_singleton" in edited_modules
    assert "prisma/client-outside-singleton" in edited and "jwt-no-expiry" not in edited.split('"results"')[1]


def test_rules_are_imported_before_workers_fork(monkeypatch):
    """A run that analyses files imports the rules in its own process first: forked workers inherit them."""
    from linter import engine
    from linter.analysis import RulePlan
    from linter.registry import DeferredRule, lazy_builtin_rules

    plan = RulePlan([DeferredRule(rule) for rule in lazy_builtin_rules()], frozenset())
    monkeypatch.setattr(engine, "analyze_file", lambda *args: None)
    engine._analyze_uncached([], plan, jobs=1)
    assert all(type(rule) is DeferredRule for rule in plan.rules)  # nothing to analyse: nothing imported
    engine._analyze_uncached([(Path("a.js"), "a.js")], plan, jobs=1)
    assert not [rule.id for rule in plan.rules if type(rule) is DeferredRule]


def test_an_edited_file_imports_only_the_rules_that_apply_to_it(tmp_path):
    """The cache recorded what gates each rule (its needles, the packages it requires): a run that analyses a
    few files imports the rules whose gates let one of them through, and those with a flow spec (every
    parsed file leaves a summary for each), not the others."""
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "package.json").write_text('{"dependencies": {"@prisma/client": "5.0.0", "jsonwebtoken": "9.0.0"}}')
    (root / "a.js").write_text("const { PrismaClient } = require('@prisma/client');\nexport const db = new PrismaClient();\n")
    (root / "b.js").write_text("const jwt = require('jsonwebtoken');\njwt.sign({}, process.env.S || 'x');\n")
    (root / "c.js").write_text("export const answer = 42;\n")
    cold, _ = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    with (root / "b.js").open("a") as out:
        out.write("// edited\n")
    edited, modules = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    assert edited == cold
    imported = _rule_modules(modules)
    assert "linter.rules.auth.jwt_no_expiry" in imported and "linter.rules.prisma.mass_assignment" in imported  # a flow spec
    assert "linter.rules.prisma.client_outside_singleton" not in imported
    with (root / "c.js").open("a") as out:  # no rule applies to it: it is not parsed, and no rule imported
        out.write("// edited\n")
    edited, modules = _sarif_of_a_run(root, ["prisma", "auth", "loadlint"])
    assert edited == cold and _rule_modules(modules) == []
