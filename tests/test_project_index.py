"""The project index: packages, tsconfig aliases, import resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.analysis import RulePlan, analyze_file
from linter.engine import RunOptions, run
from linter.discovery import discover
from linter.project import ProjectIndex
from tests.project_builder import TEST_RULES, write_files


def index_of(root: Path, files: list[str]) -> ProjectIndex:
    found = discover(root, [root], max_file_size=10**6)
    found.sources = [root / f for f in files]
    return ProjectIndex.build(root, found, set(files), [])


def test_relative_index_extension_swap_and_alias_resolution(tmp_path):
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "mono", "devDependencies": {"turbo": "1"}}',
            "apps/web/package.json": '{"name": "web", "dependencies": {"next": "14", "@prisma/client": "5"}}',
            "apps/web/tsconfig.json": '{\n  // comment\n  "extends": "./tsconfig.base.json",\n  "compilerOptions": {"paths": {"@/*": ["./src/*"], "~db": ["./src/lib/db.ts"]},},\n}',
            "apps/web/tsconfig.base.json": '{"compilerOptions": {"baseUrl": "."}}',
        },
    )
    files = [
        "apps/web/src/lib/prisma.ts",
        "apps/web/src/lib/db.ts",
        "apps/web/src/utils/index.ts",
        "apps/web/src/app/api/route.ts",
        "apps/web/src/esm.ts",
    ]
    project = index_of(tmp_path, files)
    route = "apps/web/src/app/api/route.ts"
    assert project.resolve(route, "@/lib/prisma") == "apps/web/src/lib/prisma.ts"
    assert project.resolve(route, "~db") == "apps/web/src/lib/db.ts"
    assert project.resolve(route, "../../utils") == "apps/web/src/utils/index.ts"
    assert project.resolve(route, "../../esm.js") == "apps/web/src/esm.ts"
    assert project.resolve(route, "@prisma/client") is None
    assert project.resolve(route, "../../../../../../etc/passwd") is None
    assert project.package_of(route).name == "web"
    assert project.depends_on(route, ("turbo",))
    assert not project.package_of(route).depends_on(("turbo",))


def test_bad_package_json_is_a_notice_not_a_crash(tmp_path):
    write_files(tmp_path, {"package.json": "{ not json", "a.js": "new MarkerClient();\n"})
    result = run(RunOptions(paths=[tmp_path], rules_dir=TEST_RULES, select=["testing"], jobs=1))
    assert any(n.path == "package.json" and "not valid JSON" in n.message for n in result.report.notices)
    assert len(result.report.findings) == 1


def test_import_graph_is_built_from_esm_and_commonjs(tmp_path):
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "api"}',
            "src/lib/prisma.js": "const { PrismaClient } = require('@prisma/client');\nmodule.exports = new PrismaClient();\n",
            "src/routes/a.js": "const prisma = require('../lib/prisma');\n",
            "src/routes/b.mjs": "import prisma from '../lib/prisma.js';\nexport * from './a.js';\n",
            "src/routes/c.ts": "import type { X } from '../types';\nconst lazy = () => import('../lib/prisma');\n",
        },
    )
    files = ["src/lib/prisma.js", "src/routes/a.js", "src/routes/b.mjs", "src/routes/c.ts"]
    project = index_of(tmp_path, files)
    for path in files:
        result = analyze_file(tmp_path / path, path, RulePlan([], frozenset()), [], True)
        project.add_file(result.path, result.references, result.facts)
    assert project.importers_of("src/lib/prisma.js") == ["src/routes/a.js", "src/routes/b.mjs", "src/routes/c.ts"]
    assert project.importers_of("src/routes/a.js") == ["src/routes/b.mjs"]


def test_a_module_leads_to_what_it_imports_through_at_most_five_others(tmp_path):
    import random

    from linter.flow.modules import MAX_RE_EXPORTS, module_graph

    def naive_leads_to(imports: dict[str, list[str]], module: str, target: str) -> bool:
        frontier, seen = [module], {module}
        for _ in range(MAX_RE_EXPORTS + 1):
            if target in frontier:
                return True
            frontier = [seen.add(n) or n for path in frontier for n in imports.get(path, ()) if n not in seen]
            frontier = list(dict.fromkeys(frontier))
        return False

    # A chain m0 -> m1 -> … -> m8, a cycle, and random edges between twenty modules.
    rng = random.Random(7)
    names = [f"m{i}" for i in range(20)]
    imports = {name: [] for name in names}
    for i in range(8):
        imports[f"m{i}"].append(f"m{i + 1}")
    imports["m12"].append("m10")
    for _ in range(14):
        imports[rng.choice(names[9:])].append(rng.choice(names))
    files = {f"src/{name}.js": "".join(f"import './{dep}';\n" for dep in deps) for name, deps in imports.items()}
    write_files(tmp_path, {"package.json": '{"name": "app"}', **files})
    project = index_of(tmp_path, list(files))
    for path, specifiers in ((p, [line.split("'")[1] for line in text.splitlines()]) for p, text in files.items()):
        project.add_file(path, [type("Reference", (), {"specifier": s})() for s in specifiers], [])
    graph = module_graph(project)
    by_path = {f"src/{name}.js": [f"src/{dep}.js" for dep in deps] for name, deps in imports.items()}
    assert graph.leads_to("src/m0.js", "src/m5.js") and not graph.leads_to("src/m0.js", "src/m6.js")
    for module in by_path:
        for target in by_path:
            assert graph.leads_to(module, target) == naive_leads_to(by_path, module, target), (module, target)


_BARREL = {
    "package.json": '{"name": "app"}',
    "src/lib/service.ts": "export function list(limit) {\n  return limit;\n}\n",
    "src/lib/index.ts": "export { list as listLeads } from './service';\n",
    "src/routes/leads.ts": "import { listLeads } from '../lib';\nexport const handler = (req) => listLeads(req.query.limit);\n",
}


def _barrel_index(tmp_path: Path, index_class=ProjectIndex) -> ProjectIndex:
    write_files(tmp_path, _BARREL)
    files = sorted(path for path in _BARREL if path.endswith(".ts"))
    found = discover(tmp_path, [tmp_path], max_file_size=10**6)
    found.sources = [tmp_path / f for f in files]
    project = index_class.build(tmp_path, found, set(files), [])
    for path in files:
        result = analyze_file(tmp_path / path, path, RulePlan([], frozenset()), [], True)
        project.add_file(result.path, result.references, result.facts)
    return project


def _spy_on_parses(monkeypatch) -> tuple[list, list]:
    """The paths the project index parses, and weak references to the files it makes of them."""
    import weakref

    import linter.project as project_module

    parsed, made = [], []

    class Spied(project_module.FileContext):
        def __init__(self, path, *rest, **options):
            super().__init__(path, *rest, **options)
            parsed.append(path)
            made.append(weakref.ref(self))

    monkeypatch.setattr(project_module, "FileContext", Spied)
    return parsed, made


def test_a_file_read_for_its_export_table_alone_is_parsed_once_and_not_kept(tmp_path, monkeypatch):
    import gc

    import linter.project as project_module
    from linter.flow.callees import Callee
    from linter.flow.modules import module_graph

    project = _barrel_index(tmp_path)
    parsed, made = _spy_on_parses(monkeypatch)
    monkeypatch.setattr(project_module, "RECENT_PARSES_BYTES", 0, raising=False)
    graph = module_graph(project)
    assert graph.resolve("src/routes/leads.ts", Callee("../lib", "listLeads")) == ("src/lib/service.ts", "list")
    assert sorted(parsed) == ["src/lib/index.ts", "src/lib/service.ts"]
    gc.collect()
    assert [ref() for ref in made] == [None, None]  # the trees went once the tables were read
    assert graph.resolve("src/routes/leads.ts", Callee("../lib", "listLeads", ("x",))) == ("src/lib/service.ts", "list.x")
    assert len(parsed) == 2  # the tables stay: no parse again


@pytest.mark.parametrize("recording", [False, True])
def test_a_dropped_parse_serves_the_next_reader_of_the_whole_file(tmp_path, monkeypatch, recording):
    from linter.flow.callees import Callee
    from linter.flow.modules import module_graph
    from linter.project import RecordingIndex

    project = _barrel_index(tmp_path, RecordingIndex if recording else ProjectIndex)
    parsed, _ = _spy_on_parses(monkeypatch)
    graph = module_graph(project)
    graph.resolve("src/routes/leads.ts", Callee("../lib", "listLeads"))
    file = graph.file("src/lib/service.ts")
    assert file is not None and file.root.type == "program"
    assert sorted(parsed) == ["src/lib/index.ts", "src/lib/service.ts"]


def test_export_tables_serve_every_check_and_count_as_its_reads(tmp_path, monkeypatch):
    from linter.flow.callees import Callee
    from linter.flow.modules import module_graph
    from linter.project import RecordingIndex

    project = _barrel_index(tmp_path, RecordingIndex)
    parsed, _ = _spy_on_parses(monkeypatch)
    for rule in ("first", "second"):
        project.reading_for(rule)
        assert module_graph(project).resolve("src/routes/leads.ts", Callee("../lib", "listLeads")) == ("src/lib/service.ts", "list")
        # a check's outcome is kept with the digests of the files it read: the tables' files count
        assert {"src/lib/index.ts", "src/lib/service.ts"} <= project.files_read_by(rule)
    assert sorted(parsed) == ["src/lib/index.ts", "src/lib/service.ts"]


def test_a_scan_of_every_file_keeps_none_of_their_texts(tmp_path):
    from linter.flow.modules import unmentioned

    project = _barrel_index(tmp_path)
    wanted = {("src/lib/service.ts", "list"), ("src/lib/service.ts", "limit")}
    assert unmentioned(project, wanted) == set()  # `list` is re-exported, `limit` written twice in its module
    assert unmentioned(project, {("src/routes/leads.ts", "handler")}) == {("src/routes/leads.ts", "handler")}
    assert not project.__dict__.get("_js_sources")


def test_what_a_check_asks_of_the_reported_paths_is_recorded_as_it_asks(tmp_path):
    from linter.project import RecordingIndex

    write_files(tmp_path, {"package.json": '{"name": "app"}', "a.js": "", "b.js": ""})
    found = discover(tmp_path, [tmp_path], max_file_size=10**6)
    project = RecordingIndex.build(tmp_path, found, {"a.js"}, [])
    assert project.reported_paths == frozenset({"a.js"})  # outside a check: the set itself, nothing recorded
    project.reading_for("asks")
    assert "a.js" in project.reported_paths and "b.js" not in project.reported_paths
    assert {"b.js", "c.js"}.isdisjoint(project.reported_paths)  # read whole (by the set's own code)
    project.reading_for("counts")
    assert len(project.reported_paths) == 1
    project.reading_for("iterates")
    assert sorted(project.reported_paths) == ["a.js"]
    project.reading_for("keys")
    assert {project.reported_paths: 1}
    project.reading_for(None)
    assert project.reported_asked_by(None) == {}
    assert project.reported_asked_by("asks") == {"a.js": True, "b.js": False, None: True}
    assert all(project.reported_asked_by(rule) == {None: True} for rule in ("counts", "iterates", "keys"))


def test_a_scan_for_names_ends_once_every_one_is_mentioned(tmp_path, monkeypatch):
    from linter.flow.modules import unmentioned

    project = _barrel_index(tmp_path)
    read = []
    original = ProjectIndex.read_js_source

    def spied(self, path, keep=True):
        read.append(path)
        return original(self, path, keep)

    monkeypatch.setattr(ProjectIndex, "read_js_source", spied)
    # `limit` is written twice in its own module: read first, it settles the question
    assert unmentioned(project, {("src/lib/service.ts", "limit")}) == set()
    assert read == ["src/lib/service.ts"]
    read.clear()
    assert unmentioned(project, {("src/routes/leads.ts", "handler")}) == {("src/routes/leads.ts", "handler")}
    assert sorted(read) == sorted(project.files)  # a name no other file writes: every file is read


_MOUNTS = {
    "package.json": '{"name": "app", "dependencies": {"express": "4"}}',
    "src/routes/ai.ts": "import { Router } from 'express';\nconst router = Router();\nexport default router;\n",
    "src/routes/index.ts": "export { default as aiRouter } from './ai';\n",
    "src/routes/paths.ts": "import ai from './ai';\nexport const mounted = [ai];\n",
    # Leads to the router's module (through `paths`) and writes `aiGuard`, but re-exports nothing.
    "src/middleware/guard.ts": "import { mounted } from '../routes/paths';\nexport const aiGuard = () => mounted;\n",
    "src/app.ts": (
        "import express from 'express';\nimport { aiRouter } from './routes';\nimport ai from './routes/ai';\n"
        "import { aiGuard } from './middleware/guard';\nconst app = express();\napp.use('/ai', aiGuard(), aiRouter);\n"
        "app.use('/v2', ai);\n"
    ),
}


def test_a_name_may_resolve_into_a_module_only_through_it_or_a_module_that_re_exports(tmp_path, monkeypatch):
    """`may_resolve_into` answers true wherever `resolve` lands in the module, and reads no export table."""
    from linter.flow.callees import Callee
    from linter.flow.modules import module_graph

    write_files(tmp_path, _MOUNTS)
    files = sorted(path for path in _MOUNTS if path.endswith(".ts"))
    project = index_of(tmp_path, files)
    for path in files:
        result = analyze_file(tmp_path / path, path, RulePlan([], frozenset()), [], True)
        project.add_file(result.path, result.references, result.facts)
    parsed, _ = _spy_on_parses(monkeypatch)
    graph = module_graph(project)
    target = "src/routes/ai.ts"
    callees = [
        Callee("./routes", "aiRouter"), Callee("./routes/ai", "default"), Callee("./middleware/guard", "aiGuard"),
        Callee("express", "default"), Callee("", "app"),
    ]  # fmt: skip
    answers = [graph.may_resolve_into("src/app.ts", callee, target) for callee in callees]
    assert answers == [True, True, False, False, False]
    assert parsed == []
    for callee, may in zip(callees, answers):
        resolved = graph.resolve("src/app.ts", callee, leading_to=target)
        assert may or resolved is None or resolved[0] != target
    assert graph.resolve("src/app.ts", callees[0], leading_to=target) == (target, "router")


def test_the_mounts_of_a_router_read_no_export_table_of_a_module_that_cannot_hold_it(tmp_path, monkeypatch):
    from linter.frameworks.admin_gates import RouterMounts
    from linter.flow.modules import module_graph
    from linter.syntax import descendants_of_types, text

    write_files(tmp_path, _MOUNTS)
    files = sorted(path for path in _MOUNTS if path.endswith(".ts"))
    project = index_of(tmp_path, files)
    for path in files:
        result = analyze_file(tmp_path / path, path, RulePlan([], frozenset()), [], True)
        project.add_file(result.path, result.references, result.facts)
    parsed, _ = _spy_on_parses(monkeypatch)
    graph = module_graph(project)
    router_file = graph.file("src/routes/ai.ts")
    receiver = next(n for n in descendants_of_types(router_file.root, ("identifier",)) if text(n) == "router")
    mounts = [(file.path, text(call)) for file, call in RouterMounts(project, graph).mounts(router_file, receiver)]
    assert mounts == [("src/app.ts", "app.use('/ai', aiGuard(), aiRouter)"), ("src/app.ts", "app.use('/v2', ai)")]
    assert "src/middleware/guard.ts" not in parsed  # leads to the router, writes a name used in a mount
