"""Signs that requests are rate limited: a limiter passed as middleware, a guard or a wrapper, and checks a
handler makes itself.

The test is generous on purpose (a missed limiter is a false finding): an expression counts as a limiter when
it comes from a rate-limiting package (`RATE_LIMIT_PACKAGES`: `rateLimit({...})`, an imported `ThrottlerGuard`,
`@upstash/ratelimit`'s `Ratelimit`), directly or through a binding of the file, or when its name says so
(`aiLimiter`, `rateLimit('chat')`, `withRateLimit(handler)`, `ThrottlerBehindProxyGuard`). A function limits
its requests itself when it calls something so named (`await ratelimit.limit(ip)`, `checkRateLimit(user)`,
`limiter.consume(ip)`), or a client of such a package, or answers 429, or keeps a per-user limit in stored
records by hand (a cooldown on the time since the last one, a count under a maximum that it bumps).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.bindings import declaration_of
from linter.js.expressions import callee, member_chain, unwrap
from linter.rules.ratelimit._rate_limiters import RATE_LIMIT_PACKAGES
from linter.needles import occurs_within
from linter.syntax import Node, descendants_of_types, text

if TYPE_CHECKING:
    from linter.context import FileContext

LIMITER_NAME = lazy_re.compile(r"rate_?limit|(?<!de)limiter|throttl|slow_?down|brute", re.I)
_TOO_MANY = lazy_re.compile(r"too many requests", re.I)
MAX_DEPTH = 3
# What a file's text holds wherever `is_limiter` holds: a word of `LIMITER_NAME` in any case, or the name of a
# rate-limiting package (imported).
_LIMITER_WORDS = (b"ratelimit", b"rate_limit", b"limiter", b"throttl", b"slowdown", b"slow_down", b"brute")
_LIMITER_PACKAGE_NAMES = tuple(sorted(name.encode() for name in RATE_LIMIT_PACKAGES))
# The letters beyond ASCII that `re.I` takes for letters of those words (İ and ı for `i`, ſ for `s`), in UTF-8.
_FOLDED_TO_ASCII = ((b"\xc4\xb0", b"i"), (b"\xc4\xb1", b"i"), (b"\xc5\xbf", b"s"))


def may_name_limiter(source: bytes) -> bool:
    """False when nothing in `source` can be a limiter (`is_limiter`): a test before reading its calls, made
    with plain searches of the lower-cased text (many times faster than a case-insensitive pattern)."""
    folded = source
    if not source.isascii():
        for letter, ascii_letter in _FOLDED_TO_ASCII:
            folded = folded.replace(letter, ascii_letter)
    folded = folded.lower()
    return any(word in folded for word in _LIMITER_WORDS) or any(name in source for name in _LIMITER_PACKAGE_NAMES)


def is_limiter(node: Node | None, file: "FileContext", depth: int = 0) -> bool:
    """Whether a middleware, guard or wrapper expression is a rate limiter."""
    node = unwrap(node)
    if node is None or depth > MAX_DEPTH:
        return False
    if node.type == "array":
        return any(is_limiter(item, file, depth + 1) for item in node.named_children)
    if node.type in ("call_expression", "new_expression"):
        function = callee(node)
        if function is not None and (is_limiter(function, file, depth + 1) or _from_limiter_package(function, file)):
            return True
        return False
    if node.type in ("identifier", "member_expression", "type_identifier"):
        if LIMITER_NAME.search(text(node)):
            return True
        if _from_limiter_package(node, file):
            return True
        if node.type == "identifier":
            declaration = declaration_of(node)
            if declaration is not None and declaration.kind == "variable" and declaration.declarator is not None:
                return is_limiter(declaration.declarator.child_by_field_name("value"), file, depth + 1)
    return False


def _from_limiter_package(node: Node, file: "FileContext") -> bool:
    root, _ = member_chain(unwrap(node))
    if root is None or root.type != "identifier":
        return False
    binding = file.binding(text(root))
    return binding is not None and binding.module in RATE_LIMIT_PACKAGES


_MAY_LIMIT = lazy_re.compile(rb"429|limit|throttl|slow_?down|brute|too many", re.I)
# `_MAY_LIMIT`'s alternatives spelt out: at most one of them starts at any byte.
_MAY_LIMIT_WORDS = (b"429", b"limit", b"throttl", b"slowdown", b"slow_down", b"brute", b"too many")


def limits_itself(scope: Node, file: "FileContext") -> bool:
    """Whether code in `scope` (a function, or a module) checks a rate limit: a call of a limiter, a 429, or a
    per-user limit kept in stored records (`_stored_limit`)."""
    if (_may_limit(file, scope.start_byte, scope.end_byte) or _imports_limiter(file)) and file.lasting(
        ("ratelimit.limits-itself", scope.id), lambda: _limits_itself(scope, file)
    ):
        return True
    start, end = scope.start_byte, scope.end_byte
    if not _may_cap(file, start, end) or not may_store_limit(file.source, start, end):
        return False
    return file.lasting(("ratelimit.stored-limit", scope.id), lambda: _stored_limit(scope))


def _may_limit(file: "FileContext", start: int, end: int) -> bool:
    """`_MAY_LIMIT.search(file.source, start, end)`, from the places it matches in the file, found once: a
    climb asks again for every function around every call."""
    return occurs_within(file.lasting("ratelimit.may-limit-at", lambda: _matches_at(file.source, _MAY_LIMIT_WORDS)), start, end)


def _may_cap(file: "FileContext", start: int, end: int) -> bool:
    """`_MAY_CAP.search(file.source, start, end)`, as `_may_limit`."""
    return occurs_within(file.lasting("ratelimit.may-cap-at", lambda: _matches_at(file.source, _MAY_CAP_WORDS)), start, end)


def _matches_at(source: bytes, words: tuple[bytes, ...]) -> tuple[list[int], list[int]]:
    # Every place a match starts, overlaps included: plain searches of the lower-cased text, many times faster
    # than a case-insensitive pattern tried at every byte.
    lower = source.lower()
    found = []
    for word in words:
        at = lower.find(word)
        while at != -1:
            found.append((at, at + len(word)))
            at = lower.find(word, at + 1)
    found.sort()
    return [start for start, _ in found], [end for _, end in found]


def _imports_limiter(file: "FileContext") -> bool:
    return file.lasting("ratelimit.imports-limiter", lambda: any(b.module in RATE_LIMIT_PACKAGES for b in file.import_bindings))


def _limits_itself(scope: Node, file: "FileContext") -> bool:
    # Only the places the cheap test matched are read, then (when the file imports a limiter package) the
    # calls of clients of one, whatever their names.
    for found in _MAY_LIMIT.finditer(file.source, scope.start_byte, scope.end_byte):
        leaf = file.root.descendant_for_byte_range(found.start(), found.end())
        if leaf is None:
            continue
        if leaf.type == "number":
            if text(leaf) == "429":
                return True
        elif leaf.type == "string_fragment":
            if _TOO_MANY.search(text(leaf)):
                return True
        elif leaf.type in ("identifier", "property_identifier"):
            function = leaf
            while function.parent is not None and function.parent.type == "member_expression" and function.parent.child_by_field_name("property") in (function, None):
                function = function.parent
            if function.type == "identifier" and function.parent is not None and function.parent.type == "member_expression":
                function = function.parent  # `rateLimiter.consume(ip)`: the limiter is the receiver
                while function.parent is not None and function.parent.type == "member_expression":
                    function = function.parent
            call = function.parent
            if call is not None and call.type in ("call_expression", "new_expression") and callee(call) == function and is_limiter(function, file):
                return True
    if not _imports_limiter(file):
        return False
    for call in descendants_of_types(scope, ("call_expression",)):
        root, _ = member_chain(callee(call))
        if root is not None and root.type == "identifier" and _held_limiter(root, file):
            return True
    return False


# A per-user limit written against stored records: a cooldown on the clock or a counter under a maximum.
_MAY_CAP = lazy_re.compile(rb"now\(\)|getTime\(\)|max|limit|quota|allowance", re.I)
_MAY_CAP_WORDS = (b"now()", b"gettime()", b"max", b"limit", b"quota", b"allowance")  # `_MAY_CAP`'s, lower-cased
_CAP_NAME = lazy_re.compile(r"max|limit|quota|allowance", re.I)
_CLOCK_READ = lazy_re.compile(r"^(Date\.now\(\)|new Date\(\)\.getTime\(\)|now)$")
_SMALLER_SIDE = {"<": "left", "<=": "left", ">": "right", ">=": "right"}
# What `_stored_limit` reads in a scope's bytes before it finds a limit there: a clock (`_CLOCK_READ` writes
# `now` or `getTime()`) for a cooldown, or the tail of a counter bumped (`_counter_side`) for a count. Its
# spaces are those of a `str` pattern's `\s` (Unicode ones start with a byte over 0x7f).
_SPACES = rb"[\s\x1c-\x1f\x80-\xff]*"
_MAY_STORE_LIMIT = lazy_re.compile(rb"now|getTime\(\)|\+\+|\+=?" + _SPACES + rb"1\b|:" + _SPACES + rb"\{" + _SPACES + rb"increment\b")


def may_store_limit(source: bytes, start: int, end: int) -> bool:
    """Whether the bytes `start`..`end` of `source` may hold what `_stored_limit` finds: a test before its walk."""
    return _MAY_STORE_LIMIT.search(source, start, end) is not None


def _stored_limit(scope: Node) -> bool:
    """`if (Date.now() - last.createdAt < 60_000) throw …` (too soon since the last one), or `if (user.used <
    user.monthlyMax) { …used + 1… } else return …` (a stored count under a stored maximum, bumped here): a check
    that refuses the request. An expiry check (`Date.now() - code.createdAt > ttl`, or `< ttl` going on) refuses
    what is too old, not what comes too soon, and is no limit."""
    for comparison in descendants_of_types(scope, ("binary_expression",)):
        smaller_side = _SMALLER_SIDE.get(text(comparison.child_by_field_name("operator")))
        if smaller_side is None:
            continue
        smaller = unwrap(comparison.child_by_field_name(smaller_side))
        if _since_clock(smaller) and _refuses(comparison, "consequence"):
            return True
        counter_side = _counter_side(comparison, scope)
        if counter_side is not None and _refuses(comparison, "alternative" if counter_side == smaller_side else "consequence"):
            return True
    return False


def _since_clock(node: Node | None) -> bool:
    """`Date.now() - then`: the time since a stored moment."""
    if node is None or node.type != "binary_expression" or text(node.child_by_field_name("operator")) != "-":
        return False
    return bool(_CLOCK_READ.match(text(unwrap(node.child_by_field_name("left")))))


def _refuses(comparison: Node, branch: str) -> bool:
    """Whether `comparison` (alone or joined by `&&`) is an `if` condition whose `branch` returns or throws."""
    node = comparison
    while node.parent is not None and (
        node.parent.type == "parenthesized_expression"
        or (node.parent.type == "binary_expression" and text(node.parent.child_by_field_name("operator")) == "&&")
    ):
        node = node.parent
    statement = node.parent
    if statement is None or statement.type != "if_statement" or statement.child_by_field_name("condition") != node:
        return False
    taken = statement.child_by_field_name(branch)
    return taken is not None and bool(descendants_of_types(taken, ("return_statement", "throw_statement")))


def _counter_side(comparison: Node, scope: Node) -> str | None:
    """The side of `user.used < user.monthlyMax` holding a count that `scope` bumps (`used + 1`, `used++`, Prisma's
    `used: { increment: 1 }`), when the other side is a maximum of the same record."""
    fields = {}
    owners = set()
    for side in ("left", "right"):
        operand = unwrap(comparison.child_by_field_name(side))
        if operand is None or operand.type != "member_expression":
            return None
        owner, _, field = text(operand).replace("?.", ".").rpartition(".")
        owners.add(owner)
        fields[side] = field
    counters = [side for side, field in fields.items() if not _CAP_NAME.search(field)]
    if len(owners) != 1 or len(counters) != 1:
        return None
    counter = fields[counters[0]]
    bumped = re.compile(rf"\b{re.escape(counter)}\s*(\+\+|\+=\s*1\b|\+\s*1\b|:\s*\{{\s*increment\b)")
    return counters[0] if bumped.search(text(scope)) else None


def _held_limiter(root: Node, file: "FileContext") -> bool:
    """`aj.protect(req)` with `const aj = arcjet({...})`: a client of a rate-limiting package."""
    declaration = declaration_of(root)
    if declaration is None or declaration.kind != "variable" or declaration.declarator is None:
        return False
    value = unwrap(declaration.declarator.child_by_field_name("value"))
    if value is None or value.type not in ("call_expression", "new_expression"):
        return False
    function = callee(value)
    return function is not None and _from_limiter_package(function, file)
