import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _windows_hashed_one_by_one(text: str) -> list[str]:
    """The definition, line by line: each line's hash is the base-37 polynomial (mod 2**64) of the 100 code
    units from its first, spaces and tabs left out, line breaks as one `\\n`, then 65535 and zeros."""
    units = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n").replace(" ", "").replace("\t", ""):
        encoded = char.encode("utf-16-le")
        units.extend(int.from_bytes(encoded[i : i + 2], "little") for i in range(0, len(encoded), 2))
    padded = units + [65535] + [0] * 100
    starts = [0] + [i + 1 for i, unit in enumerate(units) if unit == ord("\n")]
    seen: dict[str, int] = {}
    hashes = []
    for start in starts:
        value = 0
        for unit in padded[start : start + 100]:
            value = (value * 37 + unit) % 2**64
        seen[f"{value:x}"] = seen.get(f"{value:x}", 0) + 1
        hashes.append(f"{value:x}:{seen[f'{value:x}']}")
    return hashes


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " ", "\t", "\r", "\n", "\r\n", "😀", "\ue000", "é", "x" * 40]), max_size=60).map("".join))
def test_line_hashes_are_the_hash_of_each_lines_window(text):
    assert line_hashes(text) == _windows_hashed_one_by_one(text)



@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", " ", "\t", "\r", "\n", "\r\n", "😀", "é", "x" * 40, " " * 90]), max_size=80).map("".join),
    st.integers(min_value=0, max_value=30),
)
def test_the_first_lines_hash_as_in_the_whole_text(text, lines):
    assert line_hashes(text, lines) == line_hashes(text)[:lines]
