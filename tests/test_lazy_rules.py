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
    assert "pathspec" not in warm[1] and "linter.rules.prisma.client_outside_singleton" in warm[1]
    assert not [m for m in warm[1] if m.startswith("linter.rules.stripe")]
