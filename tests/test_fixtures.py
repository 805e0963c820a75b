"""Every fixture case: the exact set of (path, line, rule) findings equals its annotations."""

from __future__ import annotations

import pytest

from tests.fixture_cases import annotations, case_dirs, case_id, compare, lint_case

CASES = case_dirs()


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_case_matches_annotations(case, tmp_path):
    expected = annotations(case)
    found, _ = lint_case(case, tmp_path)
    problems = compare(expected, found)
    assert not problems, "\n".join(problems)


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
