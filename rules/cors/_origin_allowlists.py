r"""Origin allowlists written as regexes or string checks: does a site the author did not mean to trust pass?

`bypass(pattern, flags)` builds an origin the regex was written for (`https://app.example.com` for
`/^https:\/\/app.example\.com$/`), then tries the usual mistakes on it: text after the domain
(`https://app.example.com.evil.io`, when `$` is missing), text before it (`https://evilexample.com`, when
nothing anchors the start of the host), and a letter where an unescaped `.` stands (`https://appxexample.com`).
It returns the first such origin the regex accepts whose host is outside the intended domain, or, for a site on a
shared hosting domain (`vercel.app`, `netlify.app`, `github.io`), a stranger's site there (`https://someone-else
.vercel.app` for `/^https:\/\/.*\.vercel\.app$/`).

`string_check_bypass(method, value)` does the same for `origin.startsWith('https://app.example.com')`,
`origin.includes('example.com')` and `origin.endsWith('example.com')` (and `origin.endsWith('.vercel.app')`).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

try:  # Python 3.11+: the regex parser behind `re`; its tree says which dots are unescaped.
    from re import _constants as _ops, _parser as _sre_parse
except ImportError:  # pragma: no cover
    _ops = _sre_parse = None

_ORIGIN = lazy_re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)?(?P<host>[^/:?#]*)(?P<port>:\d+)?")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})
ATTACKER = "evil.io"
# Hosting domains where anyone can publish a site under a name of their choosing (the private section of the
# Public Suffix List): a check that lets in every name under one of them lets in strangers' sites.
SHARED_HOSTS = frozenset(
    {"vercel.app", "netlify.app", "herokuapp.com", "github.io", "pages.dev", "workers.dev", "web.app",
     "firebaseapp.com", "onrender.com", "fly.dev", "railway.app", "up.railway.app", "azurewebsites.net",
     "azurestaticapps.net", "amplifyapp.com", "glitch.me", "surge.sh", "ngrok.io", "ngrok-free.app", "ngrok.app",
     "loca.lt", "deno.dev", "replit.app", "repl.co", "cloudfront.net", "appspot.com"}
)  # fmt: skip
_STRANGER = "someone-else"  # a site name anyone could take on a shared hosting domain


@dataclass(frozen=True)
class Bypass:
    origin: str  # an origin outside the intended domain that the regex accepts
    mistake: str  # "unanchored-end", "unanchored-start", "unescaped-dot" or "shared-host"


def compile_js_regex(pattern: str, flags: str) -> re.Pattern | None:
    """The JavaScript regex as a Python one, or None when it uses syntax the two do not share."""
    if "[^]" in pattern or "\\u{" in pattern or "\\p{" in pattern:
        return None
    try:
        named_groups = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)  # `(?<name>…)` is `(?P<name>…)` in Python
        return re.compile(named_groups, re.I if "i" in flags else 0)
    except (re.error, ValueError):
        return None


def matches_any_origin(pattern: str, flags: str) -> bool:
    """`/.*/`, `/^.+$/`: a regex every origin passes."""
    compiled = compile_js_regex(pattern, flags)
    return compiled is not None and all(compiled.search(o) for o in ("https://evil.io", "http://attacker.example.net"))


def bypass(pattern: str, flags: str) -> Bypass | None:
    """An origin outside the domain `pattern` was written for that `pattern` accepts, or None."""
    compiled = compile_js_regex(pattern, flags)
    if compiled is None or _sre_parse is None or matches_any_origin(pattern, flags):
        return None
    try:
        parsed = _sre_parse.parse(compiled.pattern, compiled.flags)
        intended = _sample(parsed, dot_as_x=-1)
    except (re.error, ValueError, TypeError, RecursionError):
        return None
    parts = _ORIGIN.match(intended)
    if parts is None or not compiled.search(intended):
        return None
    scheme = parts.group("scheme") or "https://"
    if scheme not in ("http://", "https://"):
        return None
    host = parts.group("host").lstrip(".")
    port = parts.group("port") or ""
    domain = _registrable(host)
    if not domain:
        return None
    candidates = [
        ("unanchored-end", f"{host}.{ATTACKER}"),
        ("unanchored-end", f"www.{host}.{ATTACKER}"),
        ("unanchored-start", f"evil{host}"),
        ("unanchored-start", f"evil-{host}"),
    ]
    dots = [0]
    _sample(parsed, -1, dots)
    for index in range(dots[0]):
        altered = _ORIGIN.match(_sample(parsed, dot_as_x=index))
        if altered is not None:
            candidates.append(("unescaped-dot", altered.group("host").lstrip(".")))
    for mistake, candidate_host in candidates:
        origin = f"{scheme}{candidate_host}{port}"
        if _outside(candidate_host, domain) and compiled.search(origin):
            return Bypass(origin, mistake)
    shared = _shared_host(host)
    if shared is not None and compiled.search(f"{scheme}{_STRANGER}.{shared}{port}"):
        return Bypass(f"{scheme}{_STRANGER}.{shared}{port}", "shared-host")
    return None


def string_check_bypass(method: str, value: str) -> Bypass | None:
    """An origin outside the intended site that `origin.<method>(value)` accepts, or None."""
    parts = _ORIGIN.match(value)
    host = parts.group("host") if parts is not None else ""
    if not value or not host or value[len(parts.group(0)) :]:
        return None
    scheme = parts.group("scheme") or ""
    if scheme not in ("", "http://", "https://"):  # `capacitor://localhost`: native apps, not web pages
        return None
    if method == "startsWith" and scheme and not parts.group("port"):
        candidate = f"{value}.{ATTACKER}"
        return Bypass(candidate, "unanchored-end")
    if method == "includes" and not parts.group("port"):
        prefix = "evil" if host.startswith(".") else ""
        candidate = f"{scheme or 'https://'}{prefix}{host}.{ATTACKER}"
        return Bypass(candidate, "unanchored-end") if value in candidate else None
    if method == "endsWith" and not scheme and not host.startswith("."):
        candidate = f"https://evil{value}"
        return Bypass(candidate, "unanchored-start") if _outside(f"evil{host}", _registrable(host)) else None
    if method == "endsWith" and not scheme and host.lstrip(".") in SHARED_HOSTS:
        return Bypass(f"https://{_STRANGER}{host}", "shared-host")
    return None


def _shared_host(host: str) -> str | None:
    """The shared hosting domain `host` is a site of (`vercel.app` for `app.vercel.app`), or None."""
    labels = host.split(".")
    for start in range(len(labels) - 1):
        suffix = ".".join(labels[start:])
        if suffix in SHARED_HOSTS:
            return suffix
    return None


def _registrable(host: str) -> str:
    """`example.com` for `app.example.com`, `example.co.uk` for `www.example.co.uk`, `localhost` as is."""
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return labels[0] if labels else ""
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _outside(host: str, domain: str) -> bool:
    """A host someone else can register: not `domain` or below it, and with a top-level domain."""
    labels = host.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return False
    return host != domain and not host.endswith("." + domain)


def _sample(parsed, dot_as_x: int, counter: list[int] | None = None, repeated: bool = False) -> str:
    """The shortest string the parsed regex matches, with the `dot_as_x`-th unescaped dot as `x` (a `.` inside a
    repetition, as in `.*`, is a wildcard on purpose and stands for `a`). `counter` counts the unescaped dots."""
    counter = counter if counter is not None else [0]
    out = []
    for op, arg in parsed:
        if op is _ops.LITERAL:
            out.append(chr(arg))
        elif op is _ops.NOT_LITERAL:
            out.append("a" if chr(arg) != "a" else "b")
        elif op is _ops.ANY:
            if repeated:
                out.append("a")
                continue
            out.append("x" if counter[0] == dot_as_x else ".")
            counter[0] += 1
        elif op is _ops.IN:
            out.append(_class_sample(arg))
        elif op in (_ops.MAX_REPEAT, _ops.MIN_REPEAT, getattr(_ops, "POSSESSIVE_REPEAT", None)):
            low, _, item = arg
            out.append(_sample(item, -1, [0], repeated=True) * low)
        elif op is _ops.SUBPATTERN:
            out.append(_sample(arg[3], dot_as_x, counter, repeated))
        elif op is _ops.BRANCH:
            out.append(_sample(arg[1][0], dot_as_x, counter, repeated))
        elif op is _ops.CATEGORY:
            out.append("0" if "DIGIT" in str(arg) else "a")
        elif op is _ops.AT:
            continue
        else:
            raise ValueError(f"unsupported regex operation {op}")
    return "".join(out)


def _class_sample(items) -> str:
    if any(op is _ops.NEGATE for op, _ in items):
        excluded = {chr(arg) for op, arg in items if op is _ops.LITERAL}
        return next(c for c in "abcxyz" if c not in excluded)
    op, arg = items[0]
    if op is _ops.LITERAL:
        return chr(arg)
    if op is _ops.RANGE:
        return chr(arg[0])
    if op is _ops.CATEGORY:
        return "0" if "DIGIT" in str(arg) else "a"
    return "a"
