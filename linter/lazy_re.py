"""`compile`: a regular expression compiled when it is first used rather than when its module is imported.

`re.compile` parses and compiles a pattern in Python: about 0.1 ms a pattern. The engine and the rules hold
about 250 patterns in module and class constants; a run that re-checks a few edited files imports most of
those modules and uses about 30 of the patterns. A `LazyPattern` stands for `re.compile(pattern, flags)`:
its first search compiles it, and then puts the compiled pattern's own methods on the instance, so that each
later call costs what a call on the compiled pattern costs. Its other attributes (`flags`, `groups`,
`groupindex`) are the compiled pattern's; `pattern` is the text it was given, as the compiled pattern's is.

It is not an `re.Pattern`: pass it to no `re` function (`re.sub(PATTERN, ...)`) and test no instance of it
against `re.Pattern`; call its methods. Two of them are equal when their texts and flags are.
"""

from __future__ import annotations

import re
from typing import AnyStr

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class LazyPattern:
    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def _compiled(self) -> re.Pattern:
        compiled = self.__dict__.get("_pattern")
        if compiled is None:  # two threads may both compile it: the same pattern either way
            compiled = re.compile(self.pattern, self._flags)
            # Kept on the instance: found there from now on, without a call of `__getattr__`.
            self.__dict__.update({name: getattr(compiled, name) for name in _METHODS}, _pattern=compiled)
        return compiled

    def __getattr__(self, name: str):
        """The compiled pattern's attribute: its methods (`search`, ...) the first time, the others always."""
        if name.startswith("__"):  # what pickle and copy look for: the class's own answers stand
            raise AttributeError(name)
        return getattr(self._compiled(), name)

    def __repr__(self) -> str:
        return repr(self._compiled())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LazyPattern):
            return NotImplemented
        return (self.pattern, self._flags) == (other.pattern, other._flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self._flags))

    def __reduce__(self):
        return LazyPattern, (self.pattern, self._flags)

    def __copy__(self) -> LazyPattern:
        return self  # as a compiled pattern is copied

    def __deepcopy__(self, memo) -> LazyPattern:
        return self


def compile(pattern: AnyStr, flags: int = 0) -> LazyPattern:  # noqa: A001 - read as `lazy_re.compile`
    """`re.compile(pattern, flags)`, done on first use."""
    return LazyPattern(pattern, flags)
