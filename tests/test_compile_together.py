"""Queries compiled together (`syntax.compile_together`, in a run of a few files beside a cache) give each rule
the matches its own query gives, in the same order and numbering, and the run the same report."""

from __future__ import annotations

import shutil

import pytest

import linter.analysis
import linter.cache
import linter.syntax
from linter.engine import RunOptions, run
from linter.registry import builtin_rules
from linter.syntax import LANGUAGE_BY_SUFFIX, LANGUAGES, compile_query, compile_together, is_root_only, parse
from tests.fixture_cases import DEMO, FIXTURE_SOURCES, described_matches


def _queries(language: str) -> list[str]:
    rules = [cls() for cls in builtin_rules()]
    return sorted({rule.query_for(language) for rule in rules if rule.query.strip()} - {""})


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_query_compiled_together_matches_what_it_matches_alone(language):
    queries = [query for query in _queries(language) if not is_root_only(query)]
    together = compile_together(queries, language)
    assert len(queries) > 5 and list(together) == queries
    checked = matched = 0
    for path in FIXTURE_SOURCES[::3]:
        if LANGUAGE_BY_SUFFIX[path.suffix] != language:
            continue
        source = path.read_bytes()
        root = parse(source, language).root_node
        middle = (len(source) // 3, len(source) // 3 + 200)
        for query in queries:
            alone, shared = compile_query(query, language), together[query]
            everywhere = described_matches(alone.matches(root))
            assert described_matches(shared.matches(root)) == everywhere, (path, query)
            assert described_matches(shared.matches(root, middle)) == described_matches(alone.matches(root, middle))
            assert shared._last_captures == alone._last_captures
            checked += 1
            matched += bool(everywhere)
    assert checked > 50 and matched > 10  # the fixtures give the queries matches to compare


def test_a_query_of_no_pattern_and_a_bad_one():
    together = compile_together(["(identifier) @name", "; a comment, no pattern"], "javascript")
    root = parse(b"a + b", "javascript").root_node
    assert described_matches(together["; a comment, no pattern"].matches(root)) == []
    assert [index for index, _ in together["(identifier) @name"].matches(root)] == [0, 0]
    with pytest.raises(linter.syntax.QueryError):
        compile_together(["(identifier) @name", "(no_such_node) @x"], "javascript")


def _findings(result) -> list[tuple]:
    findings = result.report.findings
    return sorted((f.path, f.span.start_line, f.span.start_column, f.rule_id, f.message) for f in findings)


def test_a_run_of_a_few_edited_files_compiles_their_queries_together_and_reports_as_a_run_without_cache(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(linter.cache, "SETTLED_NS", 0)
    demo = shutil.copytree(DEMO, tmp_path / "demo")
    (demo / ".git").mkdir()
    run(RunOptions(paths=[demo], jobs=1))  # fills the cache
    edited = [demo / "backend/src/routes/leads.js", demo / "backend/src/index.js", demo / "web/app/api/leads/route.ts"]
    for path in edited:
        path.write_text(path.read_text() + "\n// edited\n")
    # As in the pre-commit process that runs next: nothing compiled yet.
    monkeypatch.setattr(linter.syntax, "_compiled_alone", set())
    monkeypatch.setattr(linter.syntax, "_compiled_together", {})
    compiled: list[list[str]] = []
    real = linter.analysis.compile_together

    def recorded(sources, language):
        compiled.append(sources)
        return real(sources, language)

    monkeypatch.setattr(linter.analysis, "compile_together", recorded)

    warm = run(RunOptions(paths=edited, jobs=1))

    assert compiled and max(len(sources) for sources in compiled) >= 2
    alone = run(RunOptions(paths=edited, jobs=1, use_cache=False))
    assert _findings(warm) and _findings(warm) == _findings(alone)
    # A process that runs again (a server answering pre-commit runs) compiles them no more.
    for path in edited:
        path.write_text(path.read_text() + "// edited again\n")
    compiled.clear()
    assert _findings(run(RunOptions(paths=edited, jobs=1))) == _findings(alone) and compiled == []
