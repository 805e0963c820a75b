import json
from pathlib import Path

import pytest

from linter.fingerprint import line_hash_for, line_hashes

VECTORS = json.loads((Path(__file__).parent / "data" / "primaryLocationLineHash-vectors.json").read_text("utf-8"))
CASES = VECTORS["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_line_hashes_match_codeql_action(case):
    assert line_hashes(case["text"]) == case["hashes"]


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_line_hash_for_is_one_based(case):
    for line, expected in enumerate(case["hashes"], start=1):
        assert line_hash_for(case["text"], line) == expected


@pytest.mark.parametrize("line", [0, 3])
def test_line_hash_for_rejects_lines_outside_the_text(line):
    with pytest.raises(IndexError):
        line_hash_for("a\nb", line)


def test_crlf_and_lf_hash_alike():
    assert line_hashes("a = 1\r\nb = 2\r\n") == line_hashes("a = 1\nb = 2\n")


def test_astral_characters_count_as_two_code_units():
    # Only the UTF-16 view gives these different hashes: two surrogates mean two rolling steps.
    assert line_hashes("x = '😀'")[0] != line_hashes("x = '\ue000'")[0]
    assert len(line_hashes("😀\n😀\n")) == 3
