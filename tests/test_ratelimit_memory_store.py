"""ratelimit/memory-store beyond the fixtures: pre-commit runs, worker processes, options, messages, and the
startup-order simulation it is built on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linter.config import ConfigError
from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.rules.ratelimit import _startup_order as startup_order
from linter.rules.ratelimit._startup_order import Startup
from linter.model import Level
from linter.project import ProjectIndex
from linter.syntax import LANGUAGE_BY_SUFFIX, parse, text, walk
from tests.fixture_cases import FIXTURES
from tests.project_builder import write_files

RULE = "ratelimit/memory-store"
CASES = FIXTURES / "ratelimit" / "memory-store"


def _copy(case: str, tmp_path: Path) -> Path:
    """The case in a folder of its own (a one-file case as the only file of a folder named after it)."""
    target = tmp_path / case
    if (CASES / case).is_file():
        target.mkdir()
        shutil.copy2(CASES / case, target / case)
    else:
        shutil.copytree(CASES / case, target)
    return target


def _findings(paths: list[Path], jobs: int = 1):
    report = run(RunOptions(paths=paths, jobs=jobs, select=[RULE])).report
    return [f for f in report.active_findings if f.rule_id == RULE]


def test_pre_commit_on_the_limiter_file_still_follows_the_startup(tmp_path):
    repo = _copy("store-before-connect", tmp_path)
    findings = _findings([repo / "src" / "middleware" / "rate-limit.ts"])
    assert [(f.path, f.span.start_line, f.level) for f in findings] == [
        ("src/middleware/rate-limit.ts", 8, Level.ERROR)
    ]
    (only,) = findings
    assert "`main()` at src/server.ts:14" in only.message
    assert [(r.path, r.span.start_line) for r in only.related] == [("src/server.ts", 6), ("src/server.ts", 14)]


def test_worker_processes_find_the_same(tmp_path):
    repo = _copy("store-before-connect", tmp_path)
    write_files(repo, {f"src/routes/r{i}.ts": f"export const route{i} = () => {i};\n" for i in range(70)})
    one = {(f.path, f.span.start_line, f.message) for f in _findings([repo], jobs=1)}
    two = {(f.path, f.span.start_line, f.message) for f in _findings([repo], jobs=2)}
    assert one == two and len(one) == 2


def test_demo_names_the_init_call_that_connects_redis_too_late():
    (finding,) = _findings([FIXTURES / "demo" / "backend"])
    assert finding.level == Level.WARNING
    assert "by `initializeRedis()` in `start()`" in finding.message
    assert [r.path.rsplit("/", 1)[-1] for r in finding.related] == ["redis.js", "index.js"]


@pytest.mark.parametrize("setting", ['"require-shared-store" = "sometimes"', '"shared-store" = true'])
def test_bad_options_are_configuration_errors(tmp_path, setting):
    repo = _copy("no-redis", tmp_path)
    (repo / ".loadlint.toml").write_text(f'[rules."{RULE}"]\n{setting}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=RULE):
        run(RunOptions(paths=[repo], jobs=1))


def test_the_option_reports_a_package_without_redis(tmp_path):
    repo = _copy("no-redis", tmp_path)
    assert _findings([repo]) == []
    (repo / ".loadlint.toml").write_text(f'[rules."{RULE}"]\nrequire-shared-store = true\n', encoding="utf-8")
    assert [f.span.start_line for f in _findings([repo])] == [9, 12]


def test_the_option_reports_a_hand_written_limiter_without_redis(tmp_path):
    repo = _copy("hand-rolled-no-redis", tmp_path)
    assert _findings([repo]) == []
    (repo / ".loadlint.toml").write_text(f'[rules."{RULE}"]\nrequire-shared-store = true\n', encoding="utf-8")
    (finding,) = _findings([repo])
    assert (finding.path, finding.span.start_line) == ("src/app.js", 8)
    assert "`postsPerIp` keeps the counts of a hand-written limiter in an object" in finding.message
    assert "required here by `require-shared-store`" in finding.message


def test_a_default_exported_client_is_named_by_its_module(tmp_path):
    (finding,) = _findings([_copy("default-export-client", tmp_path)])
    assert "the node-redis client src/lib/redis.js exports before its `connect()` is called" in finding.message


def test_a_workspace_package_is_named_as_the_source_of_redis(tmp_path):
    (finding,) = _findings([_copy("monorepo-workspace-redis", tmp_path)])
    assert "(`ioredis` in packages/redis/package.json, of the workspace package `@fleet/redis` it depends on)" in finding.message


# Demand-driven: what is outlined -----------------------------------------------------------------------------------


@pytest.fixture
def outlined(monkeypatch):
    """The files the startup order outlines during a run."""
    seen: list[str] = []
    original = startup_order.ModuleOutliner.outline

    def outline(self):
        seen.append(self.file.path)
        return original(self)

    monkeypatch.setattr(startup_order.ModuleOutliner, "outline", outline)
    return seen


def test_nothing_is_outlined_when_no_verdict_depends_on_the_startup(tmp_path, outlined):
    repo = _copy("ioredis-store.js", tmp_path)  # ioredis: no `connect()` to order the limiters against
    write_files(repo, {f"routes/r{i}.js": f"module.exports = () => {i};\n" for i in range(20)})
    assert [(f.path, f.span.start_line) for f in _findings([repo])] == [("ioredis-store.js", 23)]
    assert outlined == []


def test_only_the_modules_on_the_way_to_a_marker_are_outlined(tmp_path, outlined):
    repo = _copy("store-before-connect", tmp_path)
    write_files(repo, {f"src/routes/r{i}.ts": f"export const route{i} = () => {i};\n" for i in range(30)})
    write_files(repo, {"src/app.ts": (repo / "src/app.ts").read_text() + "import './routes/r1';\n"})
    assert len(_findings([repo])) == 2
    assert not any(path.startswith("src/routes/") for path in outlined)
    # The client's module and the store's own module hold no marker and lead to none: their facts suffice.
    assert sorted(set(outlined)) == ["src/app.ts", "src/middleware/rate-limit.ts", "src/middleware/webhooks.ts", "src/server.ts"]


# The startup-order simulation ------------------------------------------------------------------------------------


def _project(tmp_path: Path, files: dict[str, str]) -> Startup:
    """The startup of `files`, with every call of a function named `step*` as a marker named after its argument."""
    write_files(tmp_path, files)
    project = ProjectIndex(root=tmp_path, files=sorted(files))
    marks = {}
    for path in sorted(files):
        source = (tmp_path / path).read_bytes()
        language = LANGUAGE_BY_SUFFIX[Path(path).suffix]
        file = FileContext(path, source, language, parse(source, language))
        for node in walk(file.root):
            function = node.child_by_field_name("function") if node.type == "call_expression" else None
            if function is not None and text(function).startswith("step"):
                marks.setdefault(path, {})[(node.start_byte, node.end_byte)] = text(node.child_by_field_name("arguments"))[2:-2]
        project.add_file(path, file.module_references, [])
    return Startup(project, marks, lambda path: True)


def _order(startup, entry):
    return [o.marker for o in startup.run(entry)]


def test_imports_run_in_place_and_callbacks_after_the_synchronous_startup(tmp_path):
    startup = _project(
        tmp_path,
        {
            "server.js": """
                const { init } = require('./redis');
                step('server top');
                process.nextTick(() => step('tick'));
                require('./routes');
                async function main() { await init(); step('after init'); }
                main().then(() => step('then'));
                [1].forEach(() => step('forEach'));
            """,
            "redis.js": "step('redis top');\nexports.init = async function () { step('init'); };\n",
            "routes.js": "step('routes top');\n",
        },
    )
    assert _order(startup, "server.js") == [
        "redis top", "server top", "routes top", "init", "after init", "forEach", "tick", "then",
    ]  # fmt: skip


def test_methods_and_constructors_are_followed(tmp_path):
    startup = _project(
        tmp_path,
        {
            "main.ts": "import { App } from './app';\nconst app = new App();\nstep('built');\n",
            "app.ts": """
                export class App {
                  constructor() { this.connect(); step('constructed'); }
                  private connect() { step('connect'); }
                }
            """,
        },
    )
    assert _order(startup, "main.ts") == ["connect", "constructed", "built"]


def test_calls_are_followed_through_re_exports_but_export_star_leaves_the_default(tmp_path):
    startup = _project(
        tmp_path,
        {
            "main.ts": "import main, { helper, start } from './index';\nhelper();\nstart();\nmain();\n",
            "index.ts": "export * from './a';\nexport { run as start } from './b';\n",
            "a.ts": "export default function main() { step('main'); }\nexport function helper() { step('helper'); }\n",
            "b.ts": "export async function run() { step('run'); }\n",
        },
    )
    assert _order(startup, "main.ts") == ["helper", "run"]


def test_calls_into_commonjs_modules_reach_the_function_that_runs(tmp_path):
    startup = _project(
        tmp_path,
        {
            "server.js": """
                const config = require('./config');
                const { connect } = require('./db');
                const queue = require('./queue');
                const cache = require('./cache');
                const jobs = require('./jobs');
                import api from './api.mjs';
                config.load();
                connect();
                queue.start();
                cache.warm();
                jobs();
                api.listen();
            """,
            "config.js": "module.exports = require('./config-impl');\n",
            "config-impl.js": "exports.load = function () { step('load'); };\n",
            "db.js": "module.exports = { connect() { step('connect'); } };\n",
            "queue.js": "class Queue { start() { step('queue'); } }\nmodule.exports = new Queue();\n",
            "cache.js": "const cache = { warm: () => step('warm') };\nmodule.exports = cache;\n",
            "jobs.js": "module.exports = () => step('jobs');\n",
            "api.mjs": "export default { listen() { step('listen'); } };\n",
        },
    )
    assert _order(startup, "server.js") == ["load", "connect", "queue", "warm", "jobs", "listen"]


def test_entries_are_the_modules_nobody_imports_tests_left_out(tmp_path):
    startup = _project(
        tmp_path,
        {
            "src/server.js": "require('./app');\n",
            "src/app.js": "require('./limits');\n",
            "src/limits.js": "step('limit');\n",
            "src/app.test.js": "require('./app');\n",
            "scripts/seed.js": "step('seed');\n",
        },
    )
    assert startup.entries({"src/limits.js"}) == ["src/server.js"]
