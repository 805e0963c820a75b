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
    return sorted(cache_dir().glob("results-*.json"))


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
    real_collect = linter.context.collect_references

    def collect_references(root, source):
        if b"const x" in root.text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_collect(root, source)

    monkeypatch.setattr(linter.context, "collect_references", collect_references)
    assert lint([project]).incomplete
    monkeypatch.setattr(linter.context, "collect_references", real_collect)
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


class _Planted:
    """Unpickling this runs code: it makes the folder `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


@pytest.mark.parametrize("payload", ["pickle", "junk", "wrong-shape"])
def test_a_cache_file_that_is_not_ours_is_ignored_and_never_unpickled(project, analysed, tmp_path, monkeypatch, payload):
    import pickle

    cold = lint([project])
    (cache_file,) = _cache_files()
    planted = tmp_path / "planted"
    contents = {
        "pickle": pickle.dumps({"a.js": _Planted(planted)}, protocol=pickle.HIGHEST_PROTOCOL),
        "junk": os.urandom(4096),
        "wrong-shape": b'{"format": 2, "entries": {"a.js": ["x", 1, null, {"path": 3}], "b.js": 7}}',
    }
    cache_file.write_bytes(contents[payload])

    unpickled = []

    def refuse(*args, **kwargs):  # the cache swallows errors, so record the call as well as refusing it
        unpickled.append(args)
        raise AssertionError("the cache must never be unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    analysed.clear()
    assert lint([project]).report == cold.report
    assert sorted(analysed) == ["a.js", "b.js"]
    assert not planted.exists()
    assert unpickled == []
    analysed.clear()
    lint([project])
    assert analysed == []


def test_fact_data_and_every_part_of_a_result_round_trip_through_plain_data():
    import json

    from linter.analysis import FileResult
    from linter.cache import _decode_result, _encode_result
    from linter.js.imports import ModuleReference
    from linter.model import Finding, Fix, Level, Location, Notice, Span, TextEdit
    from linter.rule import Fact
    from linter.suppression import Directive

    span = Span(start_line=1, start_column=2, end_line=3, end_column=4)
    data = {
        "text": "x", "n": 3, "f": 1.5, "yes": True, "none": None, "list": [1, [2, "3"]], "tuple": (1, ("a", None)),
        "set": {1, 2}, "frozen": frozenset({"a"}), "span": span, "keys": {1: "one", ("a", 2): span},
        "\0odd": {"\0tuple": [1]}, "nested": {"outline": [{"name": "f", "calls": ("g",)}]},
    }
    location = Location(path="a.js", span=span, message="here")
    finding = Finding(
        rule_id="r/x", message="m", path="a.js", span=span, level=Level.ERROR, related=(location,),
        code_flow=(location,), fingerprint="fp", fixes=(Fix(description="d", edits=(TextEdit(start_byte=0, end_byte=1, span=span, replacement="y"),)),),
    )
    result = FileResult(
        path="a.js",
        findings=[finding],
        facts=[Fact(rule_id="r/x", kind="k", path="a.js", span=span, data=data)],
        references=[ModuleReference("express", "import", 0, 10)],
        directives=[Directive("a.js", span, False, ("r/x", "auth"), "because", None, True)],
        notices=[Notice(message="skipped", path="a.js", level=Level.WARNING)],
        parsed=True,
    )
    back = _decode_result(json.loads(json.dumps(_encode_result(result))), "a.js")
    assert back == result
    assert back.facts[0].data == data
    assert type(back.facts[0].data["tuple"]) is tuple and type(back.facts[0].data["frozen"]) is frozenset
    assert back.findings[0].model_dump() == finding.model_dump()


def _age(path: Path, seconds: float = 60) -> None:
    """Set the file's modification time in the past (its ctime stays now)."""
    past = os.stat(path).st_mtime_ns - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def test_a_settled_file_is_not_read_again_while_its_stat_holds(project, analysed, monkeypatch):
    for name in ("a.js", "b.js"):
        _age(project / name)
    monkeypatch.setattr("linter.cache.SETTLED_NS", 0)  # the files' ctime is now: count them settled at once
    lint([project])
    digests = _count_digests(monkeypatch)
    analysed.clear()
    assert found(lint([project])) == {("a.js", 1, "testing/marker-client"), ("b.js", 2, "testing/marker-client")}
    assert analysed == [] and digests == []


def test_a_file_rewritten_with_the_same_size_and_time_is_analysed_again(project, analysed, monkeypatch):
    monkeypatch.setattr("linter.cache.SETTLED_NS", 0)
    _age(project / "a.js")
    lint([project])
    before = os.stat(project / "a.js")
    (project / "a.js").write_text(MARKER.replace("new", "wen"))  # same size
    os.utime(project / "a.js", ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime; the ctime moves on
    analysed.clear()
    assert found(lint([project])) == {("b.js", 2, "testing/marker-client")}
    assert analysed == ["a.js"]


def test_a_file_changed_just_before_it_was_digested_is_read_every_time(project, analysed, monkeypatch):
    lint([project])  # the files were written a moment ago: not settled
    digests = _count_digests(monkeypatch)
    analysed.clear()
    lint([project])
    assert analysed == [] and len(digests) == 2


def _count_digests(monkeypatch) -> list[bytes]:
    """The contents the cache digests from now on (each one a file it had to read)."""
    import linter.cache

    digested: list[bytes] = []
    real = linter.cache.content_digest

    def counting(source: bytes) -> bytes:
        digested.append(source)
        return real(source)

    monkeypatch.setattr(linter.cache, "content_digest", counting)
    return digested
