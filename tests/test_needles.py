from linter.needles import NeedleSet


def test_every_needle_in_the_bytes_is_found_also_inside_another_and_nothing_else():
    needles = NeedleSet([b"limit", b"ratelimit", b"take", b"findMany"])
    assert needles.found_in(b"const ratelimit = 1; take(2)") == {b"limit", b"ratelimit", b"take"}
    assert needles.found_in(b"findmany") == frozenset()


def test_bytes_that_are_not_utf_8_are_matched_as_they_are():
    needles = NeedleSet([b"\xff\xfeab", b"secret"])
    assert needles.found_in(b"x\xff\xfeabc // secret") == {b"\xff\xfeab", b"secret"}


def test_no_needles_find_nothing():
    assert NeedleSet([]).found_in(b"anything") == frozenset()


def test_any_in_tells_whether_some_needle_occurs():
    needles = NeedleSet([b"jsonwebtoken", b"jose", b"crypto"])
    assert needles.any_in(b"import { SignJWT } from 'jose';")
    assert needles.any_in(b"const c = require('node:crypto')")
    assert not needles.any_in(b"import express from 'express';")
    assert not NeedleSet([]).any_in(b"anything")


def test_spans_overlap_every_occurrence_and_not_one_another():
    needles = NeedleSet([b"ratelimit", b"limit", b"tel", b"imi"])
    source = b"a ratelimit b limit c"
    spans = needles.spans_in(source)
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    for needle in [b"ratelimit", b"limit", b"tel", b"imi"]:
        at = source.find(needle)
        while at != -1:
            assert any(start < at + len(needle) and at < end for start, end in spans), needle
            at = source.find(needle, at + 1)
    assert NeedleSet([]).spans_in(source) == []
