"""A rule's `may_report_in` only saves time: on every fixture case, the rules that have one report exactly
what they report when it lets every file through."""

from __future__ import annotations

import pytest

from linter.registry import builtin_rules
from linter.rule import Rule
from tests.fixture_cases import case_dirs, case_id, lint_case

FILTERED = [rule for rule in builtin_rules() if rule.may_report_in is not Rule.may_report_in]
CASES = case_dirs()


def test_some_rule_has_a_prefilter():
    assert FILTERED


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_prefilters_change_no_finding(case, tmp_path, monkeypatch):
    selected = [rule.id for rule in FILTERED]
    filtered, _ = lint_case(case, tmp_path / "filtered", select=selected)
    for rule in FILTERED:
        monkeypatch.setattr(rule, "may_report_in", lambda self, source: True)
    unfiltered, _ = lint_case(case, tmp_path / "unfiltered", select=selected, use_cache=False)
    assert filtered == unfiltered
