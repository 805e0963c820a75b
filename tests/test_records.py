"""The report's records (`linter.records`): built and checked from plain data as the cache and the served
report give it, refused when the data describes something else."""

from __future__ import annotations

import pickle

import pytest

from linter.model import Finding, Level, Location, Notice, Span
from linter.rule import Fact

SPAN = {"start_line": 1, "start_column": 1, "end_line": 1, "end_column": 5}


def _finding(**changes):
    data = {"rule_id": "a/b", "message": "m", "path": "x.ts", "span": SPAN, "level": "error", **changes}
    return Finding.model_validate(data)


def test_plain_data_becomes_the_record_it_describes():
    finding = _finding(related=[{"path": "y.ts", "span": SPAN, "message": "here"}])
    assert finding.level is Level.ERROR and finding.span == Span(**SPAN)
    assert finding.related == (Location(path="y.ts", span=Span(**SPAN), message="here"),)
    assert finding.model_dump(mode="json")["related"] == [{"path": "y.ts", "span": SPAN, "message": "here"}]
    assert Finding.model_validate(finding.model_dump(mode="json")) == finding
    assert Finding.model_validate_json(finding.model_dump_json()) == finding
    assert pickle.loads(pickle.dumps(finding)) == finding and hash(finding) == hash(_finding(related=finding.related))


@pytest.mark.parametrize(
    "changes",
    [{"level": "fatal"}, {"span": {**SPAN, "start_line": "one"}}, {"related": "y.ts"}, {"colour": "red"}, {"message": None}],
)
def test_data_that_describes_something_else_is_refused(changes):
    with pytest.raises(ValueError):
        _finding(**changes)


def test_a_missing_field_or_a_record_that_is_not_a_dict_is_refused():
    with pytest.raises(ValueError):
        Notice.model_validate({"path": "x.ts"})
    with pytest.raises(ValueError):
        Notice.model_validate(["message"])


def test_records_are_frozen_and_copies_change_only_what_they_say():
    notice = Notice(message="m", path="x.ts")
    with pytest.raises(TypeError):
        notice.message = "other"  # type: ignore[misc]
    assert notice.model_copy(update={"level": Level.NOTE}) == Notice(message="m", path="x.ts", level=Level.NOTE)
    assert notice.level is Level.WARNING


def test_a_fact_keeps_its_own_copy_of_its_data():
    data = {"names": ["a"]}
    fact = Fact(rule_id="a/b", kind="k", path="x.ts", span=Span(**SPAN), data=data)
    data["more"] = 1
    assert fact.data == {"names": ["a"]}
