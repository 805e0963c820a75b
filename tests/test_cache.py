"""The per-file results cache: same output warm as cold, changed files re-analysed, never fatal, never in the tree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import linter.analysis
from linter.cache import cache_dir
from linter.cli import main
from tests.project_builder import TEST_RULES, found, lint, write_files

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
MARKER = "new MarkerClient();\n"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / ".git").mkdir()
    write_files(root, {"package.json": '{"name": "app"}', "a.js": MARKER, "b.js": "const x = 1;\n" + MARKER})
    return root


@pytest.fixture
def analysed(monkeypatch):
    """The paths analysed (not served from the cache) in this test, in order."""
    paths: list[str] = []
    real = linter.analysis.analyze_file

    def counting(abs_path, rel_path, *rest, **options):
        paths.append(rel_path)
        return real(abs_path, rel_path, *rest, **options)

    monkeypatch.setattr("linter.engine.analyze_file", counting)
    return paths


def _cache_files() -> list[Path]:
    return sorted(cache_dir().glob("results-*.pickle"))


def test_a_warm_run_analyses_nothing_and_reports_the_same(project, analysed):
    cold = lint([project])
    assert sorted(analysed) == ["a.js", "b.js"]
    analysed.clear()
    warm = lint([project])
    assert analysed == []
    assert warm.report == cold.report
    assert found(warm) == {("a.js", 1, "testing/marker-client"), ("b.js", 2, "testing/marker-client")}


def test_a_changed_file_is_analysed_again(project, analysed):
    lint([project])
    analysed.clear()
    write_files(project, {"b.js": "const x = 1;\n\n" + MARKER})
    result = lint([project])
    assert analysed == ["b.js"]
    assert found(result) == {("a.js", 1, "testing/marker-client"), ("b.js", 3, "testing/marker-client")}


def test_a_changed_rule_set_or_dependency_misses_the_cache(project, analysed):
    lint([project])
    analysed.clear()
    lint([project], select=["testing/marker-client"])
    assert sorted(analysed) == ["a.js", "b.js"]
    analysed.clear()
    write_files(project, {"package.json": '{"name": "app", "dependencies": {"express": "4"}}'})
    lint([project])
    assert sorted(analysed) == ["a.js", "b.js"]


def test_no_cache_neither_reads_nor_writes(project, analysed):
    lint([project], use_cache=False)
    assert _cache_files() == []
    lint([project])
    analysed.clear()
    lint([project], use_cache=False)
    assert sorted(analysed) == ["a.js", "b.js"]


def test_a_corrupt_cache_is_ignored_and_replaced(project, analysed):
    cold = lint([project])
    (cache_file,) = _cache_files()
    cache_file.write_bytes(b"\x80\x04not a pickle")
    analysed.clear()
    assert lint([project]).report == cold.report
    assert sorted(analysed) == ["a.js", "b.js"]
    analysed.clear()
    lint([project])
    assert analysed == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_cache_folder_is_not_fatal(project, tmp_path, monkeypatch):
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(read_only))
    assert found(lint([project])) == {("a.js", 1, "testing/marker-client"), ("b.js", 2, "testing/marker-client")}


def test_a_cache_path_that_is_a_file_is_not_fatal(project, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    result = lint([project])
    assert found(result) == {("a.js", 1, "testing/marker-client"), ("b.js", 2, "testing/marker-client")}
    assert not result.incomplete


def test_incomplete_results_are_not_kept(project, analysed, monkeypatch):
    real_collect = linter.context.collect_imports

    def collect_imports(root):
        if b"const x" in root.text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_collect(root)

    monkeypatch.setattr(linter.context, "collect_imports", collect_imports)
    assert lint([project]).incomplete
    monkeypatch.setattr(linter.context, "collect_imports", real_collect)
    analysed.clear()
    assert not lint([project]).incomplete
    assert analysed == ["b.js"]


def test_a_pre_commit_run_served_from_a_full_run_matches_a_cold_one(tmp_path, analysed):
    demo = shutil.copytree(DEMO, tmp_path / "demo")
    (demo / ".git").mkdir()
    some_files = sorted(p for p in demo.rglob("*.js") if "node_modules" not in p.parts)[:3]
    cold = lint(some_files, rules_dir=None, select=None, use_cache=False)
    lint([demo], rules_dir=None, select=None)
    analysed.clear()
    warm = lint(some_files, rules_dir=None, select=None)
    assert analysed == []
    assert warm.report == cold.report


def test_the_cache_lives_outside_the_work_tree(project):
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    options = ["--rules-dir", str(TEST_RULES), "--select", "testing", "--format", "json"]
    result = CliRunner().invoke(main, ["check", str(project), *options])
    assert result.exit_code == 1, result.output
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert len(_cache_files()) == 1
