"""A check run imports only the rules it enables; the built-in pack known by its modules' names is the pack."""

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


def test_a_run_imports_only_the_rules_it_enables(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "package.json").write_text('{"dependencies": {"jsonwebtoken": "9.0.0"}}')
    (tmp_path / "a.js").write_text("const jwt = require('jsonwebtoken');\njwt.sign({}, process.env.S || 'x');\n")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from linter.engine import RunOptions, run\n"
        f"result = run(RunOptions(paths=[Path({str(tmp_path)!r})], select=['auth'], ignore=['auth/jwt-no-expiry'], jobs=1))\n"
        "print(sorted({f.rule_id for f in result.report.findings}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('linter.rules.') and m.count('.') == 3"
        " and not m.rsplit('.', 1)[1].startswith('_')))\n"
    )
    env = {"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    findings, imported = shown.stdout.splitlines()
    assert findings == "['auth/secret-fallback']"
    assert imported == "['linter.rules.auth.jwt_verify_without_algorithms', 'linter.rules.auth.secret_fallback']"
