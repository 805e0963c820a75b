"""`Rule.query_anchors` only saves time: a rule's query, run over the part of a file between the first and the
last of its anchors, matches what it matches over the whole file; and the engine hands a rule only the matches
that touch that part."""

from __future__ import annotations

import re
import sys

import pytest

from linter.analysis import FOLDED_TO_ASCII, RulePlan, _anchored_span, analyze_file
from linter.model import Level, Precision
from linter.registry import builtin_rules
from linter.rule import Rule
from linter.syntax import LANGUAGE_BY_SUFFIX, compile_query, parse, text
from tests.fixture_cases import FIXTURES

ANCHORED = [rule() for rule in builtin_rules() if rule.query_anchors]
SOURCES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in LANGUAGE_BY_SUFFIX and p.is_file())


def test_some_rule_has_anchors():
    assert ANCHORED


def _described(matches) -> list:
    return [(index, sorted((name, [n.byte_range for n in nodes]) for name, nodes in captures.items())) for index, captures in matches]


@pytest.mark.parametrize("rule", ANCHORED, ids=lambda rule: rule.id)
def test_anchored_queries_match_what_they_match_in_the_whole_file(rule):
    checked = 0
    for path in SOURCES:
        language = LANGUAGE_BY_SUFFIX[path.suffix]
        source = path.read_bytes()
        root = parse(source, language).root_node
        query = compile_query(rule.query_for(language), language)
        everywhere = _described(query.matches(root))
        span = _anchored_span([rule], source, [])
        anchored = _described(query.matches(root, span)) if span != (0, 0) else []
        assert anchored == everywhere, path.relative_to(FIXTURES)
        checked += bool(everywhere)
    assert checked  # the fixtures exercise the query


class _Names(Rule):
    id = "test/names"
    name = "Names"
    level = Level.WARNING
    precision = Precision.HIGH
    frameworks = ()
    query = "((identifier) @name (#not-eq? @name \"skip\"))"
    query_anchors = (b"limit",)

    def check(self, match, file):
        yield file.report(self, match["name"], text(match["name"]))


class _AnyCase(_Names):
    id = "test/any-case"
    query_anchors_ignore_case = True


def _reported(rule: Rule, tmp_path, source: str) -> list[str]:
    path = tmp_path / "app.js"
    path.write_text(source)
    plan = RulePlan([rule], frozenset({rule.id}))
    result = analyze_file(path, "app.js", plan, [], report_findings=True)
    assert not result.notices
    return [finding.message for finding in result.findings]


def test_a_rule_gets_only_the_matches_between_its_first_and_last_anchor(tmp_path):
    source = "before(one)\nlimit(two, skip)\nmiddle(three)\nx.limit\nafter(four)\n"
    assert _reported(_Names(), tmp_path, source) == ["limit", "two", "middle", "three", "x"]  # `x.limit`: a property


def test_a_rule_whose_anchors_are_absent_gets_no_match(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(RulePlan, "query", lambda self, rule, language: ran.append(rule.id))
    assert _reported(_Names(), tmp_path, "a(b)\nLIMIT(c)\n") == []
    assert ran == []  # the query did not even run


def test_anchors_in_any_case_include_letters_that_fold_to_ascii(tmp_path):
    assert _reported(_AnyCase(), tmp_path, "a(b)\nLIMIT(c)\nd\n") == ["LIMIT"]
    assert _reported(_AnyCase(), tmp_path, "a(b)\nl\u0131mit(c)\nd\n") == ["l\u0131mit"]


@pytest.mark.skipif(sys.maxunicode < 0x10FFFF, reason="narrow build")
def test_the_letters_that_fold_to_ascii_are_all_known():
    folding = {chr(c) for c in range(0x80, sys.maxunicode + 1) if re.fullmatch("(?i)[a-z]", chr(c))}
    assert {character.encode() for character in folding} == set(FOLDED_TO_ASCII)
