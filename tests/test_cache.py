"""The per-file results cache: same output warm as cold, changed files re-analysed, never fatal, never in the tree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import linter.analysis
from linter.cache import SUFFIX, cache_dir
from linter.cli import main
from tests.fixture_cases import DEMO
from tests.project_builder import TEST_RULES, edit_cache_entries, found, lint, write_files

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
    return sorted(cache_dir().glob(f"results-*{SUFFIX}"))


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


# --- project-wide checks --------------------------------------------------------------------------------------


@pytest.fixture
def checked(monkeypatch):
    """The rules whose project-wide check ran in this test (not served from the cache), in order."""
    import linter.project_cache

    ran: list[str] = []
    real = linter.project_cache._check

    def counting(project, rule, timeout):
        ran.append(rule.id)
        return real(project, rule, timeout)

    monkeypatch.setattr(linter.project_cache, "_check", counting)
    return ran


def _demo(tmp_path: Path) -> Path:
    demo = shutil.copytree(DEMO, tmp_path / "demo")
    (demo / ".git").mkdir()
    return demo


def _builtin(paths, **options):
    return lint(paths, rules_dir=None, select=None, **options)


def test_project_wide_checks_are_served_from_the_cache_while_what_they_read_holds(tmp_path, checked):
    demo = _demo(tmp_path)
    cold = _builtin([demo], use_cache=False)
    assert "prisma/missing-relation-index" in checked
    _builtin([demo])
    checked.clear()
    assert _builtin([demo]).report == cold.report
    assert checked == []

    schema = demo / "backend/prisma/schema.prisma"  # read by the Prisma rules' checks, not by the others
    schema.write_text(schema.read_text(encoding="utf-8").replace("@@index", "// @@index"), encoding="utf-8")
    checked.clear()
    edited = _builtin([demo])
    assert "prisma/missing-relation-index" in checked and "express/no-graceful-shutdown" not in checked
    assert edited.report == _builtin([demo], use_cache=False).report
    assert edited.report != cold.report


def test_a_file_whose_facts_or_imports_change_runs_the_checks_that_read_them(tmp_path, checked):
    demo = _demo(tmp_path)
    _builtin([demo])
    leads = demo / "backend/src/routes/leads.js"
    for edit in ("\n// a comment changes no fact\n", "\nconst extra = require('./forms');\n"):
        leads.write_text(leads.read_text(encoding="utf-8") + edit, encoding="utf-8")
        checked.clear()
        warm = _builtin([demo])
        ran = list(checked)
        assert warm.report == _builtin([demo], use_cache=False).report
        if edit.startswith("\n//"):  # only checks that read the file itself run (missing-relation-index does)
            assert "express/no-graceful-shutdown" not in ran and "cors/permissive-origin" not in ran
        else:  # the import graph changed: every check reads it
            assert "prisma/missing-relation-index" in ran and "express/no-graceful-shutdown" in ran


def test_a_pre_commit_run_reads_other_files_results_only_when_a_check_must_run(tmp_path, analysed, checked, monkeypatch):
    import linter.cache

    demo = _demo(tmp_path)
    some = [demo / "backend/src/routes/forms.js", demo / "web/app/api/leads/route.ts"]
    cold = _builtin(some, use_cache=False)
    _builtin([demo])
    decoded = []
    real = linter.cache._decode_result
    def recording(data, path, **options):
        decoded.append(path)
        return real(data, path, **options)

    monkeypatch.setattr(linter.cache, "_decode_result", recording)
    analysed.clear()
    checked.clear()
    assert _builtin(some).report == cold.report  # a new set of reported paths: the checks run, on every file
    assert analysed == [] and checked and len(decoded) > len(some)
    decoded.clear()
    checked.clear()
    assert _builtin(some).report == cold.report
    assert checked == [] and sorted(decoded) == sorted(p.relative_to(demo).as_posix() for p in some)


def test_an_entry_that_does_not_decode_when_a_check_needs_it_is_analysed_again(tmp_path, analysed):
    demo = _demo(tmp_path)
    some = [demo / "backend/src/routes/forms.js"]
    cold = _builtin(some, use_cache=False)
    _builtin([demo])

    def spoil(data):
        data["entries"]["backend/src/routes/leads.js"][3] = {"path": "elsewhere.js"}

    (cache_file,) = _cache_files()
    edit_cache_entries(cache_file, spoil)
    analysed.clear()
    assert _builtin(some).report == cold.report
    assert analysed == ["backend/src/routes/leads.js"]


def test_a_kept_outcome_naming_another_file_or_carrying_a_fix_is_not_used(tmp_path, checked):
    import json
    import sqlite3

    demo = _demo(tmp_path)
    cold = _builtin([demo], use_cache=False)
    _builtin([demo])
    (cache_file,) = _cache_files()
    db = sqlite3.connect(cache_file, isolation_level=None)
    for rule, inputs, text in db.execute("SELECT rule, inputs, outcome FROM project").fetchall():
        if rule.startswith("\0"):  # what the phase keeps of every file's record, not a check's outcome
            continue
        outcomes = json.loads(text)  # one per set of answers about the reported paths
        for finding in (finding for outcome in outcomes for finding in outcome["findings"]):
            finding["path"] = "../outside.js"
        db.execute("UPDATE project SET outcome = ? WHERE rule = ? AND inputs = ?", (json.dumps(outcomes), rule, inputs))
    db.close()
    checked.clear()
    assert _builtin([demo]).report == cold.report
    assert "prisma/missing-relation-index" in checked
    checked.clear()
    _builtin([demo], fresh_fixes=True)  # fixes are derived afresh: every check runs
    assert "prisma/missing-relation-index" in checked and "express/no-graceful-shutdown" in checked


def test_an_entry_left_undecoded_keeps_its_result_when_its_stat_is_stamped(project, analysed, monkeypatch):
    monkeypatch.setattr("linter.cache.SETTLED_NS", 10**18)  # nothing counts as settled: no stat is kept
    lint([project])
    monkeypatch.setattr("linter.cache.SETTLED_NS", 0)
    lint([project / "a.js"])  # b.js is not reported: its entry is not decoded, and gets its stat
    analysed.clear()
    assert found(lint([project])) == {("a.js", 1, "testing/marker-client"), ("b.js", 2, "testing/marker-client")}
    assert analysed == []


def test_a_check_that_runs_again_gets_every_file_s_imports_and_its_own_facts_and_flows(tmp_path, checked, monkeypatch):
    import linter.cache

    demo = _demo(tmp_path)
    _builtin([demo])
    auth = demo / "backend/src/middleware/auth.js"
    auth.write_text("\n\n" + auth.read_text(encoding="utf-8"), encoding="utf-8")  # every fact of the file moves
    decoded_facts: list[str] = []
    real = linter.cache._decode_result

    def recording(data, path, complete=True, only=None):
        result = real(data, path, complete, only)
        if not complete:  # a file not reported, decoded for the project phase
            decoded_facts.extend(fact.rule_id for fact in result.facts)
        return result

    monkeypatch.setattr(linter.cache, "_decode_result", recording)
    checked.clear()
    some = [demo / "backend/src/routes/forms.js"]
    _builtin(some)  # a new set of reported paths: every check runs, with what it reads
    assert decoded_facts and len(checked) > 1
    decoded_facts.clear()
    checked.clear()
    auth.write_text("\n" + auth.read_text(encoding="utf-8"), encoding="utf-8")
    warm = _builtin(some)
    ran, facts = list(checked), set(decoded_facts)
    assert warm.report == _builtin(some, use_cache=False).report
    assert ran and "express/no-graceful-shutdown" not in ran
    assert facts and facts <= set(ran)


def test_a_warm_run_decodes_the_facts_of_reported_files_only_for_a_check_that_must_run(tmp_path, checked, monkeypatch):
    import linter.cache

    demo = _demo(tmp_path)
    cold = _builtin([demo], use_cache=False)
    _builtin([demo])
    decoded: dict[str, list[str]] = {}  # path -> rule ids of the facts decoded
    real = linter.cache._decode_result

    def recording(data, path, complete=True, only=None):
        result = real(data, path, complete, only)
        decoded.setdefault(path, []).extend(fact.rule_id for fact in result.facts)
        return result

    monkeypatch.setattr(linter.cache, "_decode_result", recording)
    checked.clear()
    assert _builtin([demo]).report == cold.report
    assert checked == [] and not any(decoded.values())  # every file reported, not one fact decoded
    auth = demo / "backend/src/middleware/auth.js"
    auth.write_text("\n" + auth.read_text(encoding="utf-8"), encoding="utf-8")  # every fact of the file moves
    decoded.clear()
    warm = _builtin([demo])
    ran, facts = list(checked), {rule for rules in decoded.values() for rule in rules}
    assert warm.report == _builtin([demo], use_cache=False).report
    assert ran and "express/no-graceful-shutdown" not in ran
    assert len(decoded) > 1 and facts and facts <= set(ran)  # other reported files' facts, of the checks that run


@pytest.mark.parametrize("seen", ["not json", "{}", '{"i": "x", "f": [], "s": {}}', "1], [2"])
def test_a_damaged_record_of_what_the_project_phase_sees_makes_the_checks_run(tmp_path, checked, seen):
    import sqlite3

    demo = _demo(tmp_path)
    cold = _builtin([demo], use_cache=False)
    _builtin([demo])
    (cache_file,) = _cache_files()
    db = sqlite3.connect(cache_file, isolation_level=None)
    db.execute("UPDATE files SET seen = ? WHERE path = ?", (seen, "backend/src/routes/leads.js"))
    db.close()
    checked.clear()
    assert _builtin([demo]).report == cold.report
    assert "prisma/missing-relation-index" in checked


def test_a_pre_commit_run_on_other_files_runs_only_the_checks_that_asked_about_them(tmp_path, checked):
    demo = _demo(tmp_path)
    elsewhere = [demo / "web/lib/prisma.ts"]
    _builtin(elsewhere)  # secret-fallback asks whether its two files with secrets are reported: neither is
    checked.clear()
    other = [demo / "backend/src/config/redis.js"]
    warm, ran = _builtin(other), list(checked)
    assert "auth/secret-fallback" not in ran and "express/no-graceful-shutdown" not in ran
    assert warm.report == _builtin(other, use_cache=False).report
    checked.clear()
    auth = [demo / "backend/src/middleware/auth.js"]  # now one of them is: the check runs and reports there
    warm, ran = _builtin(auth), list(checked)
    assert ("backend/src/middleware/auth.js", 5, "auth/secret-fallback") in found(warm)
    assert "auth/secret-fallback" in ran
    assert warm.report == _builtin(auth, use_cache=False).report


def test_a_check_that_reads_the_reported_paths_whole_runs_for_every_other_set(tmp_path, checked):
    rules = tmp_path / "rules" / "counting"
    write_files(rules, {"reported_count.py": _REPORTED_COUNT_RULE})
    root = tmp_path / "app"
    write_files(root, {"package.json": '{"name": "app"}', "a.js": MARKER, "b.js": MARKER, "c.js": "const c = 1;\n"})
    (root / ".git").mkdir()

    def counted(paths):
        return lint(paths, rules_dir=tmp_path / "rules", select=["counting"])

    assert found(counted([root / "a.js"])) == {("a.js", 1, "counting/reported-count")}
    checked.clear()
    both = counted([root / "a.js", root / "b.js"])  # the same answer for a.js, but the set is read whole
    assert found(both) == set() and checked == ["counting/reported-count"]
    checked.clear()
    assert found(counted([root / "a.js"])) == {("a.js", 1, "counting/reported-count")} and checked == []


_REPORTED_COUNT_RULE = '''
from linter.model import Level, Precision
from linter.rule import Rule, facts_of


class ReportedCount(Rule):
    """Flags a marker client when it is the only file reported: its outcome depends on the whole set."""

    id = "counting/reported-count"
    name = "ReportedCount"
    level = Level.ERROR
    precision = Precision.HIGH
    needles = (b"MarkerClient",)
    query = "(new_expression) @hit"

    def check(self, match, file):
        yield file.fact(self, "client", match["hit"])

    def check_project(self, project):
        if len(project.reported_paths) != 1:
            return
        for fact in facts_of(project, self, "client"):
            if fact.path in project.reported_paths:
                yield self.finding(fact.location(), "The only reported file creates a marker client.")
'''


def test_an_unchanged_repository_decodes_no_file_s_record_of_what_the_project_phase_sees(tmp_path, checked, monkeypatch):
    import json

    import linter.project_cache

    demo = _demo(tmp_path)
    cold = _builtin([demo], use_cache=False)
    _builtin([demo])
    decoded: list[str] = []

    class Spy:
        def __getattr__(self, name):
            return getattr(json, name)

        @staticmethod
        def loads(text, **options):
            decoded.append(text)
            return json.loads(text, **options)

    monkeypatch.setattr(linter.project_cache, "json", Spy())
    checked.clear()
    assert _builtin([demo]).report == cold.report and checked == []
    assert decoded and not [text for text in decoded if text.startswith('[{"f"')]  # the digests made of them were kept
    leads = demo / "backend/src/routes/leads.js"
    leads.write_text(leads.read_text(encoding="utf-8") + "\nconst extra = require('./forms');\n", encoding="utf-8")
    decoded.clear()
    assert _builtin([demo]).report == _builtin([demo], use_cache=False).report
    assert [text for text in decoded if text.startswith('[{"f"')] and "express/no-graceful-shutdown" in checked


def test_the_code_s_digest_is_kept_while_no_source_changes(tmp_path, monkeypatch):
    """The digest of loadlint's sources is taken from the cache folder while each source has the stat it had;
    a source edited since is read again, whatever the digest kept says."""
    import linter.cache

    monkeypatch.setattr(linter.cache, "SETTLED_NS", 0)
    code = write_files(tmp_path / "code", {"a.py": "A = 1\n", "pkg/b.py": "B = 2\n"})
    memo = tmp_path / "memo"
    memo.mkdir(mode=0o700)

    def digest() -> bytes:
        linter.cache._folder_digest.cache_clear()
        return linter.cache.code_digest((code,), memo)

    first = digest()
    assert first == linter.cache.code_digest((code,)) and list(memo.glob("code-*.json"))
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    assert digest() == first and reads == []
    (code / "pkg" / "b.py").write_text("B = 3\n")
    assert digest() != first and "b.py" in reads
    linter.cache._folder_digest.cache_clear()


def test_the_code_s_digest_is_not_kept_for_sources_changed_just_before(tmp_path, monkeypatch):
    """A source written in the same clock tick as the digest could change unseen: nothing is kept then."""
    import linter.cache

    monkeypatch.setattr(linter.cache, "SETTLED_NS", 60_000_000_000)
    code = write_files(tmp_path / "code", {"a.py": "A = 1\n"})
    memo = tmp_path / "memo"
    memo.mkdir(mode=0o700)
    linter.cache._folder_digest.cache_clear()
    assert linter.cache.code_digest((code,), memo) == linter.cache.code_digest((code,))
    assert not list(memo.glob("code-*.json"))
    linter.cache._folder_digest.cache_clear()


def test_the_packages_part_of_a_file_s_key_follows_the_packages_given(tmp_path):
    """A server keeps its results cache open while it reads a changed manifest again: the new packages of the same
    folders key the files by what they now hold."""
    from linter.cache import ResultCache
    from linter.project import Package

    source = write_files(tmp_path / "app", {"src/a.js": "x();\n"}) / "src/a.js"
    cache = ResultCache.open(tmp_path / "cache", tmp_path / "app", "k" * 32)
    before = [Package(dir="", name="app", dependencies=frozenset({"express"}), manifest="package.json")]
    after = [Package(dir="", name="app", dependencies=frozenset({"express", "jsonwebtoken"}), manifest="package.json")]
    first = cache.file_key("src/a.js", source, before)[1]
    assert cache.file_key("src/a.js", source, after)[1] != first
    assert cache.file_key("src/a.js", source, list(before))[1] == first
