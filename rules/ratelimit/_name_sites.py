"""Tests of a module's bytes, made before parsing it, that every module calling a function, or registering it as
a route handler, passes: given the words one of which such a module writes (`ModuleGraph.call_words`), one of
them must stand where a call, a reference or a renaming binding may.

- `call_sites`: followed by what may follow a callee or a name bound again (`sendEmail(`, `email.sendEmail<T>(`,
  `mail['sendEmail'](`, `sendEmail?.(`, `sendEmail as send`, `{ sendEmail: send }`, a comment);
- `reference_sites`: followed by what may follow an argument (`router.post('/', chat.create)`, `{ handler:
  create }`, `create as RequestHandler`), or a renaming binding.

A module that only renders, passes or re-exports the function (`<Toggle />`, `useAction(send)`, `export { send
}`) fails `call_sites`; the words anywhere else keep a module in (a comment, a string: parsed for nothing).
"""

from __future__ import annotations

import re
from typing import Callable

from linter import lazy_re

SiteTest = Callable[[bytes | None], bool]

_AFTER_CALLEE = lazy_re.compile(rb"\s*(?:[(.?!<`:'\"\[]|as\b|/[*/])")
_AFTER_REFERENCE = lazy_re.compile(rb"\s*(?:[,)\]}.?!:]|as\b|satisfies\b|/[*/])")
_NAME_CHARACTERS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def call_sites(words: frozenset[bytes] | None) -> SiteTest:
    return _sites(words, _AFTER_CALLEE)


def reference_sites(words: frozenset[bytes] | None) -> SiteTest:
    return _sites(words, _AFTER_REFERENCE)


def _sites(words: frozenset[bytes] | None, after: re.Pattern[bytes]) -> SiteTest:
    if words is None:  # a call need not write any word (a default export)
        return lambda source: source is not None
    ordered = sorted(words)
    return lambda source: source is not None and any(_stands(source, word, after) for word in ordered)


def _stands(source: bytes, word: bytes, after: re.Pattern[bytes]) -> bool:
    """Whether `word` stands in `source` as a whole name followed by `after`."""
    at = source.find(word)
    while at != -1:
        if (at == 0 or source[at - 1] not in _NAME_CHARACTERS) and after.match(source, at + len(word)):
            return True
        at = source.find(word, at + 1)
    return False
