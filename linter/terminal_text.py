"""Text from the scanned repository made safe to print for people: on a terminal, in a CI log, in a `-o` file.

File names, messages that quote source (an env-var name, a config key) and source lines come from a repository
that may be written by an attacker. Printed raw, a newline starts a line of its own (`::add-mask::…` is then a
GitHub workflow command), ESC/OSC/BEL sequences drive the terminal (retitle it, clear it, fake a link), and
bidirectional overrides make a line read differently from what it holds ("Trojan Source"). Every human-readable
output passes such text through `printable`, which shows each of these characters as a visible escape:
`\\n`, `\\x1b`, `\\u202e`. JSON and SARIF keep the text exact: JSON escapes C0 controls by construction, and
`json_escaped` writes the rest as `\\u` escapes, which decode to the same text.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Beyond the C0 controls (0x00-0x1f): DEL and the C1 controls (NEL and the 8-bit CSI/OSC among them); the Arabic
# letter mark and the left-to-right / right-to-left marks; line and paragraph separators; bidi embeddings,
# overrides and isolates; lone surrogates (a file name that is not UTF-8, as Python decodes it).
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = f"[\x00-\x1f{_BEYOND_C0}]"
_UNSAFE_BUT_LINE_BREAKS = f"[\x00-\x09\x0b\x0c\x0e-\x1f{_BEYOND_C0}]"
_RAW_IN_JSON = f"[{_BEYOND_C0}]"  # JSON escapes C0 itself; these only ever occur inside a JSON string
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str, *, keep_line_breaks: bool = False) -> str:
    """`text` with every character that could act on a terminal or a log, rather than show, written as an
    escape (`\\n`, `\\x1b`, `\\u202e`); any other text is returned unchanged. `keep_line_breaks` leaves `\\n`
    and `\\r` to a caller that escapes them its own way (GitHub's `%0A`)."""
    if text.isascii() and text.isprintable():  # no control character, DEL included: told without compiling a pattern
        return text
    unsafe = _compiled(_UNSAFE_BUT_LINE_BREAKS if keep_line_breaks else _UNSAFE)
    if unsafe.search(text) is None:
        return text
    return unsafe.sub(_escape, text)


def _escape(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def json_escaped(serialized: str) -> str:
    """JSON text (as `json.dumps(..., ensure_ascii=False)` writes it) with every character `printable` escapes
    and JSON leaves raw written as a `\\u` escape: the same data, safe to show on a terminal."""
    if serialized.isascii() and "\x7f" not in serialized:
        return serialized
    raw_in_json = _compiled(_RAW_IN_JSON)
    if raw_in_json.search(serialized) is None:
        return serialized
    return raw_in_json.sub(lambda match: f"\\u{ord(match.group()):04x}", serialized)


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)
