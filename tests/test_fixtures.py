"""Every fixture case: the exact set of (path, line, rule) findings equals its annotations."""

from __future__ import annotations

import pytest

from linter.model import Level
from linter.registry import builtin_rules
from tests.fixture_cases import annotations, case_dirs, case_id, compare, lint_case

CASES = case_dirs()


RULES = {rule.id: rule for rule in builtin_rules()}
LEVELS_SEEN: dict[tuple[str, Level], int] = {}  # (rule, level other than the rule's) -> findings, over the cases run
CASES_RUN: set[str] = set()


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_case_matches_annotations(case, tmp_path):
    expected = annotations(case)
    found, result = lint_case(case, tmp_path)
    problems = compare(expected, found)
    assert not problems, "\n".join(problems)
    # Every finding is at its rule's level (what `loadlint rules` shows) or at one the rule declares.
    for finding in result.report.active_findings:
        rule = RULES[finding.rule_id]
        assert finding.level == rule.level or finding.level in rule.other_levels, (
            f"{finding.path}:{finding.span.start_line}: {finding.rule_id} reports a {finding.level.value}; declare "
            f"it in the rule's other_levels"
        )
        if finding.level != rule.level:
            LEVELS_SEEN[(rule.id, finding.level)] = LEVELS_SEEN.get((rule.id, finding.level), 0) + 1
    CASES_RUN.add(case_id(case))


def test_every_other_level_a_rule_declares_occurs_in_its_fixtures():
    if len(CASES_RUN) < len(CASES):
        pytest.skip("needs every fixture case to have run in this session")
    declared = {(rule.id, level) for rule in RULES.values() for level in rule.other_levels}
    assert declared == set(LEVELS_SEEN)


def test_there_are_cases():
    assert len(CASES) >= 5


def test_compare_catches_every_kind_of_mismatch():
    from tests.fixture_cases import Expectations

    expected = Expectations()
    expected.add("ruleid", "a.js", 2, "x/y")
    expected.add("ok", "a.js", 4, "x/y")
    expected.add("todoruleid", "a.js", 6, "x/y")
    expected.add("todook", "a.js", 8, "x/y")
    found = {("a.js", 4, "x/y"), ("a.js", 6, "x/y"), ("a.js", 10, "x/y")}
    problems = "\n".join(compare(expected, found))
    for word in ("Missing", "Noisy (annotated ok)", "Noisy (flagged", "promote to ruleid", "promote to ok"):
        assert word in problems
