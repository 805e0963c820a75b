"""A run without a cache analyses a file it does not report only when a project-wide check asks for what the
file holds (`linter.on_demand.OnDemand`), and skips a check that cannot report in the reported files
(`Rule.project_reports_at` and the rest). What it reports must be what the run that analyses every file first
reports: each fixture project's files with findings of a project-wide check, linted alone and in pairs."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import linter.engine as engine
import linter.on_demand as on_demand
from linter.deadline import Deadline, OutOfTime, paused
from linter.engine import RunOptions, run
from linter.registry import builtin_rules
from linter.rule import Rule
from tests.fixture_cases import case_dirs, case_id
from tests.project_builder import analysed_paths, write_files

PROJECT_RULES = frozenset(rule.id for rule in builtin_rules() if rule.check_project is not Rule.check_project)
SOURCE_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")
# The mini repositories of the rules with a project-wide check (a one-file case leaves nothing to demand).
CASES = [case for case in case_dirs() if case.is_dir() and case.parent.parent.name != "demo" and any(
    f"{case.parent.parent.name}/{case.parent.name}" == rule_id for rule_id in PROJECT_RULES
)]


def _report(paths: list[Path], on_demand: bool, monkeypatch) -> str:
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", on_demand)
    return run(RunOptions(paths=paths, use_cache=False, jobs=1)).report.model_dump_json()


def _selections(target: Path) -> list[list[Path]]:
    """Each file with a finding of a project-wide check alone, every project file alone (a schema, a manifest),
    and each finding's file with the next one."""
    whole = run(RunOptions(paths=[target], use_cache=False, jobs=1)).report
    with_findings = sorted({f.path for f in whole.findings if f.rule_id in PROJECT_RULES})
    others = sorted(
        p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file() and not p.name.endswith(SOURCE_SUFFIXES)
    )
    sources = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.name.endswith(SOURCE_SUFFIXES))
    picks = [[path] for path in with_findings + [p for p in others if not p.startswith(".")]]
    for path in with_findings:
        following = [s for s in sources if s > path and s not in with_findings]
        if following:
            picks.append([path, following[0]])
    return [[target / p for p in pick] for pick in picks]


def test_there_are_project_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_selection_reports_what_analysing_every_file_reports(case, tmp_path, monkeypatch):
    target = tmp_path / case.name
    shutil.copytree(case, target)
    for selection in _selections(target):
        expected = _report(selection, False, monkeypatch)
        assert _report(selection, True, monkeypatch) == expected, [p.relative_to(target).as_posix() for p in selection]


def test_a_check_that_cannot_report_in_the_file_reads_no_other_file(tmp_path, monkeypatch):
    """A file with no fact a project-wide check reports at: the other files are never analysed (their imports
    are read from their bytes for the import paths)."""
    files = {
        "package.json": '{"name": "app", "dependencies": {"express": "4", "axios": "1"}}',
        "src/util.ts": "export function add(a: number, b: number) { return a + b; }\n",
    }
    for index in range(12):
        files[f"src/client{index}.ts"] = (
            "import axios from 'axios';\nexport async function load() {\n  return axios.get('https://api.example.com/x');\n}\n"
        )
    write_files(tmp_path, files)
    analysed = analysed_paths(monkeypatch)
    run(RunOptions(paths=[tmp_path / "src/util.ts"], use_cache=False, jobs=1))
    assert analysed == ["src/util.ts"]


def test_a_rule_asked_for_runs_on_the_files_it_runs_on(tmp_path, monkeypatch):
    """A request whose timeout the package's axios defaults set (`http/missing-timeout` reads the facts of every
    file): the file that sets them is analysed, and no file without the rule's needles."""
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "app", "dependencies": {"express": "4", "axios": "1"}}',
            "src/setup.ts": "import axios from 'axios';\naxios.defaults.timeout = 5000;\n",
            "src/plain.ts": "export const answer = 42;\n",
            "src/fetcher.ts": (
                "import axios from 'axios';\nexport async function load() {\n  return axios.get('https://api.example.com/x');\n}\n"
            ),
        },
    )
    analysed = analysed_paths(monkeypatch)
    report = run(RunOptions(paths=[tmp_path / "src/fetcher.ts"], use_cache=False, jobs=1)).report
    assert "src/setup.ts" in analysed and "src/plain.ts" not in analysed
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", False)
    assert run(RunOptions(paths=[tmp_path / "src/fetcher.ts"], use_cache=False, jobs=1)).report == report


def test_the_files_a_check_asks_for_are_not_its_time(tmp_path, monkeypatch):
    """The analysis a check's question starts runs under the files' own deadlines, not the check's: a run that
    analyses every file first never counts it against the check."""
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "app", "dependencies": {"express": "4", "axios": "1"}}',
            "src/setup.ts": "import axios from 'axios';\naxios.defaults.timeout = 5000;\n",
            "src/fetcher.ts": (
                "import axios from 'axios';\nexport async function load() {\n  return axios.get('https://api.example.com/x');\n}\n"
            ),
        },
    )
    real = on_demand.OnDemand._analyse

    def slow(self, rels, ids):
        time.sleep(1.2)
        return real(self, rels, ids)

    monkeypatch.setattr(on_demand.OnDemand, "_analyse", slow)
    result = run(RunOptions(paths=[tmp_path / "src/fetcher.ts"], use_cache=False, jobs=1, file_timeout=1.0))
    assert not result.incomplete and not result.report.notices


def test_a_paused_deadline_goes_on_after_the_pause():
    with pytest.raises(OutOfTime):
        with Deadline(0.4):
            with paused():
                time.sleep(0.6)  # not counted
            time.sleep(0.1)  # 0.1 of the 0.4 s
            assert True  # still running
            time.sleep(0.6)


_PRISMA_APP = {
    "package.json": '{"name": "app", "dependencies": {"express": "4", "@prisma/client": "5"}}',
    "lib/db.ts": "import { PrismaClient } from '@prisma/client';\nexport const prisma = new PrismaClient();\n",
    "src/server.ts": (
        "import express from 'express';\nimport { prisma } from '../lib/db';\nimport { report } from './jobs';\n"
        "const app = express();\napp.get('/users', async (req, res) => res.json(await prisma.user.findMany()));\n"
        "app.get('/report', async (req, res) => res.json(await report()));\napp.listen(3000);\n"
    ),
    "src/users.ts": "import { prisma } from '../lib/db';\nexport const users = () => prisma.user.findMany();\n",
}


def test_a_file_importing_a_module_client_reads_no_other_prisma_file(tmp_path, monkeypatch):
    """`prisma/client-outside-singleton` reports at clients and at calls of client factories: a file that holds
    neither and imports no factory (only a module-level client) is not reported, and the other files holding
    clients are never analysed for it."""
    files = dict(_PRISMA_APP)
    for index in range(6):
        files[f"src/tenant{index}.ts"] = (
            f"import {{ PrismaClient }} from '@prisma/client';\nexport const db{index} = new PrismaClient();\n"
        )
    write_files(tmp_path, files)
    analysed = analysed_paths(monkeypatch)
    report = run(RunOptions(paths=[tmp_path / "src/users.ts"], use_cache=False, jobs=1)).report
    assert not any(path.startswith("src/tenant") for path in analysed), analysed
    tenant = run(RunOptions(paths=[tmp_path / "src/tenant0.ts"], use_cache=False, jobs=1)).report
    assert [(f.rule_id, f.path, f.span.start_line) for f in tenant.findings] == [
        ("prisma/client-outside-singleton", "src/tenant0.ts", 2)
    ]  # a client the check reports, in a file the run on users.ts never read
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", False)
    assert run(RunOptions(paths=[tmp_path / "src/users.ts"], use_cache=False, jobs=1)).report == report


def test_a_factory_of_a_client_class_reports_where_it_runs_once(tmp_path, monkeypatch):
    """A module-level call of a factory that builds an imported class extending PrismaClient (the factory is
    known as one only once the class is): the calling module, which holds no fact of the rule, is reported
    alone as the whole repository's run reports it."""
    files = dict(_PRISMA_APP)
    files.update(
        {
            "src/client.ts": "import { PrismaClient } from '@prisma/client';\nexport class AppClient extends PrismaClient {}\n",
            "src/factory.ts": (
                "import { AppClient } from './client';\n// a new Prisma client on each call\n"
                "export function makeClient() {\n  return new AppClient();\n}\n"
            ),
            "src/jobs.ts": (
                "import { makeClient } from './factory';\nconst db = makeClient();\n"
                "export async function report() {\n  return db.user.count();\n}\n"
            ),
        }
    )
    write_files(tmp_path, files)
    report = run(RunOptions(paths=[tmp_path / "src/jobs.ts"], use_cache=False, jobs=1)).report
    assert [(f.rule_id, f.path, f.span.start_line) for f in report.findings] == [
        ("prisma/client-outside-singleton", "src/jobs.ts", 2)
    ]
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", False)
    assert run(RunOptions(paths=[tmp_path / "src/jobs.ts"], use_cache=False, jobs=1)).report == report


def test_a_cors_policy_module_reads_the_policies_of_the_modules_importing_it_alone(tmp_path, monkeypatch):
    """`cors/permissive-origin` reports in a policy module what the modules importing it apply (merged into one
    finding), and in a module its own credentialed findings: a run on the policy module analyses the modules
    importing it, and no other module with a CORS call."""
    router = (
        "import { Router } from 'express';\nimport cors from 'cors';\nimport session from 'express-session';\n"
        "import { openAccess } from '../config/access';\n\nexport const {name} = Router();\n"
        "{name}.use(session({ secret: process.env.SESSION_SECRET ?? '', resave: false, saveUninitialized: false }));\n"
        "{name}.use('/{name}', cors({ ...openAccess, credentials: true }));\n"
    )
    files = {
        "package.json": '{"name": "api", "dependencies": {"express": "4", "cors": "2", "express-session": "1"}}',
        "src/config/access.ts": "export const openAccess = {\n  origin: true,\n  methods: ['GET'],\n};\n",
        "src/routes/basket.ts": router.replace("{name}", "basket"),
        "src/routes/orders.ts": router.replace("{name}", "orders"),
    }
    for index in range(6):
        files[f"src/apps/app{index}.ts"] = (
            "import express from 'express';\nimport cors from 'cors';\nimport session from 'express-session';\n\n"
            f"export const app{index} = express();\napp{index}.use(session({{ secret: process.env.S ?? '' }}));\n"
            f"app{index}.use(cors({{ origin: true, credentials: true }}));\n"
        )
    write_files(tmp_path, files)
    analysed = analysed_paths(monkeypatch)
    report = run(RunOptions(paths=[tmp_path / "src/config/access.ts"], use_cache=False, jobs=1)).report
    assert not any(path.startswith("src/apps/") for path in analysed), analysed
    cors = [f for f in report.findings if f.rule_id == "cors/permissive-origin"]
    assert [(f.path, f.span.start_line) for f in cors] == [("src/config/access.ts", 2)]
    assert {r.path for r in cors[0].related} >= {"src/routes/basket.ts", "src/routes/orders.ts"}
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", False)
    assert run(RunOptions(paths=[tmp_path / "src/config/access.ts"], use_cache=False, jobs=1)).report == report


def test_a_run_reporting_many_files_does_not_parse_them_again_to_ask_where_a_check_may_report(tmp_path, monkeypatch):
    parsed_again = []
    real = on_demand._parsed
    monkeypatch.setattr(on_demand, "_parsed", lambda project, path: parsed_again.append(path) or real(project, path))
    files = {f"src/m{index:03}.js": f"export const value{index} = () => {index};\n" for index in range(on_demand.MAY_REPORT_AT_MAX_FILES + 1)}
    write_files(tmp_path, {".git/HEAD": "x", **files})
    options = {"use_cache": False, "jobs": 1, "select": ["ratelimit"]}
    run(RunOptions(paths=[tmp_path / "src/m000.js", tmp_path / "src/m001.js"], **options))
    assert parsed_again == ["src/m000.js", "src/m001.js"]  # neither holds an endpoint
    parsed_again.clear()
    run(RunOptions(paths=[tmp_path / "src"], **options))
    assert parsed_again == []
