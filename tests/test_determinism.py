"""Determinism and hygiene: the same input gives byte-identical output whatever the file system order, hash seed
or number of worker processes; and loadlint never runs the code it reads, never reads outside the root, never
starts a process and never opens a socket.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linter.engine import RunOptions, run
from linter.formatters import render
from tests.fixture_cases import FIXTURES
from tests.project_builder import write_files

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "sarif")


def _rendered(paths: list[Path], **options) -> dict[str, str]:
    report = run(RunOptions(paths=paths, jobs=1, **options)).report
    outputs = {}
    for fmt in FORMATS:
        out = io.StringIO()
        render(report, fmt, out, include_suppressed=True)
        outputs[fmt] = out.getvalue()
    return outputs


def test_file_system_order_and_argument_order_do_not_matter(tmp_path, monkeypatch):
    demo = shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    usual = _rendered([demo])
    assert '"ruleId"' in usual["sarif"]

    real_scandir = os.scandir

    def scandir_backwards(path):
        with real_scandir(path) as entries:
            return iter(sorted(entries, key=lambda entry: entry.name, reverse=True))

    monkeypatch.setattr(os, "scandir", scandir_backwards)
    assert _rendered([demo]) == usual
    parts = sorted(p for p in demo.iterdir() if p.is_dir())
    assert _rendered(parts[::-1]) == _rendered(parts)


def test_hash_seed_and_worker_count_do_not_matter(tmp_path):
    """Every fixture (more than the 64 files that start worker processes), in separate interpreters."""
    fixtures = shutil.copytree(FIXTURES, tmp_path / "fixtures")

    def lint(fmt: str, seed: str, jobs: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-m", "linter", "check", str(fixtures), "--format", fmt, "-j", jobs, "--no-color"]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    sarif = lint("sarif", "0", "1")
    assert sarif.count('"ruleId"') > 100
    assert lint("sarif", "1", "4") == sarif
    assert lint("sarif", "2", "2") == sarif
    assert lint("json", "3", "1") == lint("json", "4", "3")  # text: same report, see the test above


AUDIT_DRIVER = textwrap.dedent(
    """
    import json, sys

    events = []
    RECORDED = ("open", "compile", "exec", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                "os.spawn", "os.fork", "os.forkpty", "pty.spawn", "ctypes.dlopen")

    def hook(event, args):
        if event.startswith("socket.") or event in RECORDED:
            if event == "compile":
                args = (args[1],)  # the file name, not the source
            elif event == "exec":
                args = (getattr(args[0], "co_filename", "?"),)
            events.append([event, [a if isinstance(a, (str, int)) else repr(a) for a in args[:1]]])

    sys.addaudithook(hook)
    from linter.cli import main
    try:
        main(sys.argv[1:], prog_name="loadlint")
    except SystemExit as done:
        code = done.code
    with open(sys.argv[-1] + ".events.json", "w") as out:
        json.dump({"exit": code, "events": events}, out)
    """
)

POISON = "require('child_process').execSync('touch ' + __dirname + '/PWNED'); fetch('http://127.0.0.1:9/');\n"


def test_never_runs_scanned_code_reads_outside_the_root_spawns_or_connects(tmp_path):
    outside = write_files(
        tmp_path / "outside",
        {
            "secret.ts": "export const s = new PrismaClient();\n",
            "tsconfig.base.json": '{"compilerOptions": {"baseUrl": "."}}',
            "lib/helper.js": POISON,
        },
    )
    project = write_files(
        tmp_path / "project",
        {
            "package.json": json.dumps(
                {
                    "name": "app",
                    "main": "../outside/lib/helper.js",
                    "scripts": {"postinstall": "node ../outside/lib/helper.js", "prepare": "node loadlint.config.js"},
                    "dependencies": {"express": "4", "@prisma/client": "5"},
                }
            ),
            "tsconfig.json": json.dumps(
                {"extends": "../outside/tsconfig.base.json", "compilerOptions": {"paths": {"@out/*": ["../outside/*"]}}}
            ),
            "loadlint.config.js": POISON,
            ".eslintrc.js": POISON,
            "next.config.mjs": POISON,
            "src/app.ts": (
                "import { s } from '../../outside/secret';\n"
                "import { t } from '@out/secret';\n"
                "const helper = require('../../outside/lib/helper.js');\n"
                "await import('../../outside/lib/helper.js');\n"
                "export default s;\n"
            ),
        },
    )
    os.symlink(outside / "lib", project / "src" / "lib")
    driver = tmp_path / "driver.py"
    driver.write_text(AUDIT_DRIVER)
    report = tmp_path / "report.json"
    command = [sys.executable, str(driver), "check", str(project), "-j", "1", "--format", "json", "-o", str(report)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout, not an installed copy
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    recorded = json.loads(Path(str(report) + ".events.json").read_text())
    assert recorded["exit"] in (0, 1)
    events = recorded["events"]

    assert not (project / "PWNED").exists() and not (outside / "PWNED").exists()
    assert [e for e in events if e[0] not in ("open", "compile", "exec")] == []  # no process, fork or socket
    scanned = (str(project), str(outside))
    assert [e for e in events if e[0] in ("compile", "exec") and str(e[1][0]).startswith(scanned)] == []
    opened = [str(e[1][0]) for e in events if e[0] == "open" and isinstance(e[1][0], str)]
    assert [path for path in opened if path.startswith(str(outside))] == []
    assert str(project / "src" / "app.ts") in opened  # the run did read the project


@pytest.mark.parametrize("jobs", [1, 2])
def test_rule_crash_reports_are_deterministic_across_workers(tmp_path, jobs):
    rules = tmp_path / "rules"
    write_files(
        rules,
        {
            "crash/sometimes.py": (
                '"""Crashes on every third file."""\n'
                "from linter.model import Level, Precision\n"
                "from linter.rule import Rule\n"
                "class Sometimes(Rule):\n"
                "    id = 'crash/sometimes'\n    name = 'Sometimes'\n    level = Level.ERROR\n"
                "    precision = Precision.HIGH\n    query = '(program) @p'\n"
                "    def check(self, match, file):\n"
                "        if int(file.path[-6:-3]) % 3 == 0:\n            raise ValueError(file.path)\n"
                "        yield file.report(self, match['p'], 'seen')\n"
            )
        },
    )
    project = write_files(tmp_path / "project", {f"src/m{i:03}.js": "x;\n" for i in range(90)})
    in_one_process = _rendered([project], rules_dir=rules, select=["crash"])["sarif"]
    report = run(RunOptions(paths=[project], jobs=jobs, rules_dir=rules, select=["crash"])).report
    assert report.incomplete
    assert len(report.findings) == 60
    assert len([n for n in report.notices if n.message.startswith("internal error in rule crash/sometimes")]) == 30
    out = io.StringIO()
    render(report, "sarif", out, include_suppressed=True)
    assert out.getvalue() == in_one_process
