"""`Rule.query_anchors` only saves time: a rule's query, run over the stretches of a file around its anchors,
matches what it matches over the whole file, in the same order; and the engine hands a rule only the matches
that touch those stretches."""

from __future__ import annotations

import re
import sys

import pytest

import linter.analysis
from linter.analysis import ANCHOR_GAP, FOLDED_TO_ASCII, RulePlan, _anchored_ranges, analyze_file
from linter.model import Level, Precision
from linter.registry import builtin_rules
from linter.rule import Rule
from linter.syntax import LANGUAGE_BY_SUFFIX, compile_query, parse, text
from tests.fixture_cases import FIXTURE_SOURCES, FIXTURES, described_matches

ANCHORED = [rule() for rule in builtin_rules() if rule.query_anchors]


def test_some_rule_has_anchors():
    assert ANCHORED


@pytest.mark.parametrize("gap", [ANCHOR_GAP, 1], ids=["default-gap", "every-anchor-apart"])
@pytest.mark.parametrize("rule", ANCHORED, ids=lambda rule: rule.id)
def test_anchored_queries_match_what_they_match_in_the_whole_file(rule, gap, monkeypatch):
    monkeypatch.setattr(linter.analysis, "ANCHOR_GAP", gap)
    checked = 0
    for path in FIXTURE_SOURCES:
        language = LANGUAGE_BY_SUFFIX[path.suffix]
        source = path.read_bytes()
        root = parse(source, language).root_node
        query = compile_query(rule.query_for(language), language)
        everywhere = described_matches(query.matches(root))
        ranges = _anchored_ranges([rule], source, [])
        anchored = described_matches(query.matches_in_ranges(root, ranges)) if ranges else []
        assert anchored == everywhere, path.relative_to(FIXTURES)
        checked += bool(everywhere)
    assert checked  # the fixtures exercise the query


class _Anchors(Rule):
    query_anchors = (b"limit", b"take")
    query_anchors_ignore_case = False


def test_anchors_close_together_are_one_stretch_and_far_apart_two():
    far = b" " * ANCHOR_GAP
    assert _anchored_ranges([_Anchors()], b"a limit b take" + far + b"limit", []) == [(2, 14), (14 + ANCHOR_GAP, 19 + ANCHOR_GAP)]
    assert _anchored_ranges([_Anchors()], b"nothing here", []) == []


def test_many_stretches_are_joined_where_they_are_closest(monkeypatch):
    monkeypatch.setattr(linter.analysis, "MAX_ANCHOR_RANGES", 2)
    source = b"limit" + b" " * 1000 + b"limit" + b" " * 200 + b"limit" + b" " * 300 + b"limit"
    assert _anchored_ranges([_Anchors()], source, []) == [(0, 5), (1005, len(source))]


_CALLS = '(call_expression function: (identifier) @function (#any-of? @function "limit" "take")) @call'
_NAMES = '((identifier) @name (#any-of? @name "limit" "take"))\n((property_identifier) @property (#eq? @property "limit"))'


def _ranges_of(source: bytes, *words: bytes) -> list[tuple[int, int]]:
    return sorted((source.index(word), source.index(word) + len(word)) for word in words)


@pytest.mark.parametrize(
    "query_source, source, words",
    [
        (_NAMES, b"take(x.limit);\nother(1);\nlimit(2);\n", [b"take", b"limit)", b"limit(2"]),  # one-node patterns
        (_CALLS, b"limit(take(1));\nother(2);\ntake(3);\n", [b"limit(t", b"take(1", b"take(3"]),  # a call in another
        (_CALLS, b"other.take;\nlimit(2);\n", [b"take", b"limit"]),  # no match in the first range
        (_CALLS, b"limit(1);\nother.take;\n", [b"limit", b"take"]),  # nor in the last
    ],
)
def test_matches_in_several_ranges_are_those_of_one_range_covering_them(query_source, source, words):
    root = parse(source, "javascript").root_node
    query = compile_query(query_source, "javascript")
    ranges = _ranges_of(source, *words)
    covering = (ranges[0][0], ranges[-1][1])
    assert described_matches(query.matches_in_ranges(root, ranges)) == described_matches(query.matches(root, covering))


_METHODS = '(call_expression function: (member_expression property: (property_identifier) @method (#eq? @method "limit"))) @call'


def test_matches_found_in_several_ranges_come_in_the_order_of_their_last_node(monkeypatch):
    # The outer call ends after the inner one: the cursor gives it second, when it reaches its `limit`.
    source = b"x(y.limit(1), " + b"z, " * 100 + b"0).limit(2);\n" + b"w;\n" * 100 + b"v.limit(3);\n"
    root = parse(source, "javascript").root_node
    query = compile_query(_METHODS, "javascript")
    runs, matches = [], type(query).matches
    monkeypatch.setattr(type(query), "matches", lambda self, node, at=None: runs.append(at) or matches(self, node, at))
    ranges = _anchored_ranges([_Anchors()], source, [])
    assert len(ranges) == 3
    found = described_matches(query.matches_in_ranges(root, ranges))
    assert runs == ranges  # each range visited once, nothing again
    assert found == described_matches(query.matches(root, (ranges[0][0], ranges[-1][1])))
    assert [text(query.matches(root)[i][1]["call"][0])[-2:] for i in range(3)] == ["1)", "2)", "3)"]


@pytest.mark.parametrize(
    "query_source",
    [
        "(call_expression arguments: (arguments (identifier)* @argument)) @call",  # a repeated node
        "(call_expression function: (identifier) @function arguments: (arguments)) @call",  # the last node not captured
        '(arguments "(" @open) @arguments',  # an anonymous node last
    ],
)
def test_patterns_whose_matches_end_elsewhere_are_matched_again_over_one_range(query_source):
    query = compile_query(query_source, "javascript")
    assert query._last_captures is None


def test_one_node_patterns_found_in_several_ranges_come_in_document_order(monkeypatch):
    source = b"limit(a.limit);\n" + b"x;\n" * 100 + b"take(b.limit);\n"
    root = parse(source, "javascript").root_node
    query = compile_query(_NAMES, "javascript")
    runs, matches = [], type(query).matches
    monkeypatch.setattr(type(query), "matches", lambda self, node, at=None: runs.append(at) or matches(self, node, at))
    ranges = _anchored_ranges([_Anchors()], source, [])
    assert len(ranges) == 2
    found = [text(captures[name][0]) for _, captures in query.matches_in_ranges(root, ranges) for name in captures]
    assert found == ["limit", "limit", "take", "limit"]
    assert runs == ranges  # each range visited once, nothing again


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


def test_a_rule_gets_only_the_matches_that_touch_the_stretches_around_its_anchors(tmp_path):
    source = "before(one)\nlimit(two, skip)\nmiddle(three)\nx.limit\n" + "far;\n" * ANCHOR_GAP + "after(four)\nlimit\n"
    # `middle(three)` lies between two anchors close together; `far` and `after(four)`, far from any
    assert _reported(_Names(), tmp_path, source) == ["limit", "two", "middle", "three", "x", "limit"]


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


_FAR = "\n" + "x;\n" * ANCHOR_GAP


@pytest.mark.parametrize(
    "spelling",
    [
        "FETCH(url)", "Axios(url)", "Got(url)", "wRequest(url)", "client.get(url)", "api.postForm(url, data)",
        "api.putForm(url)", "http.patchForm(url)", "x.delete(url)", "x.head(url)", "x.options(url)", "axios.create()",
        "got.extend({})", "got.stream(url)", "x.fetch(url)", "x.request(cfg)", "client.timeout = 5000", "a.b.timeout = 0",
    ],
)  # fmt: skip
def test_missing_timeout_anchors_take_every_spelling_of_its_patterns(spelling):
    from linter.rules.http.missing_timeout import MissingTimeout

    rule = MissingTimeout()
    source = f"first();{_FAR}{spelling};{_FAR}last();\n".encode()
    root = parse(source, "typescript").root_node
    query = compile_query(rule.query_for("typescript"), "typescript")
    everywhere = described_matches(query.matches(root))
    ranges = _anchored_ranges([rule], source, [])
    assert everywhere
    assert described_matches(query.matches_in_ranges(root, ranges) if ranges else []) == everywhere
