"""Inputs for fuzzing loadlint: JavaScript/TypeScript-ish source from a small grammar, and mutated fixture files.

The grammar speaks the dialect the rules look for (Express handlers, Prisma calls, `process.env` reads, CORS
and rate-limit options, suppression comments), so random programs reach deep into the rules instead of
stopping at the first guard clause. Mutations (truncation, inserted bytes, swapped tokens, duplicated,
repeated or deleted ranges, bursts of nesting) turn real fixture files into the broken input editors save
mid-keystroke, and into the long, repetitive input generated code is made of.

`check_input` is the property both fuzz runs check: tests/test_fuzz.py (a short run in every test run) and
tests/fuzz_long.py (a long run by hand, see the README).
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from linter.analysis import decode_source
from linter.engine import RunOptions, run
from linter.formatters import render
from linter.model import Report
from linter.positions import LineIndex
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

# Hypothesis keeps caches in `.hypothesis/` of the working directory; the repository's top level stays as it is.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "loadlint-hypothesis")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCE_SUFFIXES = (".js", ".ts", ".tsx", ".jsx", ".mjs", ".cjs", ".mts")
# Every package a rule may be gated on (`requires`), so that no rule sits out a fuzz run.
MANIFEST = json.dumps(
    {
        "name": "fuzzed-app",
        "dependencies": {
            name: "*"
            for name in (
                "express", "@prisma/client", "prisma", "next", "cors", "express-rate-limit", "rate-limit-redis",
                "redis", "ioredis", "pg", "mysql2", "mongodb", "mongoose", "knex", "jsonwebtoken", "jose", "zod",
            )
        },
    }
)

# --- a small grammar ---------------------------------------------------------------------------------------

NAMES = st.sampled_from(
    [
        "app", "router", "req", "res", "next", "prisma", "db", "client", "user", "limit", "take", "page",
        "secret", "token", "origin", "cors", "limiter", "redis", "jwt", "config", "options", "data", "x",
        "PrismaClient", "express", "rateLimit", "RedisStore", "Pool", "handler", "GET", "POST", "globalThis",
        "café", "名前", "𝑥",
    ]
)
PROPERTIES = st.sampled_from(
    [
        "get", "post", "use", "listen", "query", "body", "params", "limit", "take", "skip", "findMany",
        "findUnique", "user", "env", "JWT_SECRET", "SESSION_SECRET", "DATABASE_URL", "PORT", "origin",
        "credentials", "store", "max", "windowMs", "sign", "verify", "connect", "json", "status", "prisma",
        "$queryRaw", "nextUrl", "searchParams", "headers", "cookies", "expiresIn", "algorithms",
    ]
)
STRINGS = st.sampled_from(
    [
        "'*'", '"dev-secret"', "'/api/leads'", '"http://localhost:3000"', "'limit'", "`SELECT * LIMIT ${x}`",
        "'@prisma/client'", "'express'", "'cors'", "'express-rate-limit'", "'./lib/prisma'", "'jsonwebtoken'",
        "'use server'", "''", "'😀é'", r"'\u{1F600}'", "/^https?:\\/\\/.*$/",
    ]
)
NUMBERS = st.sampled_from(["0", "1", "100", "1e9", "0x10", "-1", "15 * 60 * 1000", "Infinity", "NaN"])
COMMENTS = st.sampled_from(
    [
        "// plain comment",
        "// loadlint-ignore auth/secret-fallback -- fuzzed",
        "// loadlint-ignore prisma",
        "/* loadlint-ignore-file cors -- fuzzed */",
        "// loadlint-ignore-next nope/nope -- x",
        "/** @type {import('x')} */",
    ]
)
BINARY_OPERATORS = st.sampled_from(["||", "??", "&&", "+", "-", "*", "===", "!==", "<", ">", "instanceof", "in"])


def _expressions(leaf: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, PROPERTIES).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, PROPERTIES).map(lambda t: f"{t[0]}?.{t[1]}"),
            st.tuples(inner, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(NAMES, st.lists(inner, max_size=2)).map(lambda t: f"new {t[0]}({', '.join(t[1])})"),
            st.tuples(inner, BINARY_OPERATORS, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            st.lists(st.tuples(PROPERTIES, inner), max_size=4).map(
                lambda pairs: "{ " + ", ".join(f"{k}: {v}" for k, v in pairs) + " }"
            ),
            st.lists(PROPERTIES, min_size=1, max_size=3).map(lambda keys: "{ " + ", ".join(keys) + " }"),
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.tuples(st.lists(NAMES, max_size=3), inner).map(lambda t: f"({', '.join(t[0])}) => {t[1]}"),
            st.tuples(st.lists(NAMES, max_size=3), inner).map(
                lambda t: f"async ({', '.join(t[0])}) => {{ return await {t[1]}; }}"
            ),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"`a${{{e}}}b`"),
            inner.map(lambda e: f"await {e}"),
            inner.map(lambda e: f"{e} as any"),
            st.tuples(NAMES, inner).map(lambda t: f"<{t[0]} prop={{{t[1]}}}>{{{t[1]}}}</{t[0]}>"),
        ),
        max_leaves=12,
    )


EXPRESSIONS = _expressions(st.one_of(NAMES, STRINGS, NUMBERS, st.just("process.env.JWT_SECRET")))


def _statements() -> st.SearchStrategy[str]:
    simple = st.one_of(
        st.tuples(st.sampled_from(["const", "let", "var"]), NAMES, EXPRESSIONS).map(
            lambda t: f"{t[0]} {t[1]} = {t[2]};"
        ),
        st.tuples(st.lists(NAMES, min_size=1, max_size=3), EXPRESSIONS).map(
            lambda t: f"const {{ {', '.join(t[0])} }} = {t[1]};"
        ),
        EXPRESSIONS.map(lambda e: f"{e};"),
        st.tuples(NAMES, STRINGS).map(lambda t: f"import {t[0]} from {t[1]};"),
        st.tuples(st.lists(NAMES, min_size=1, max_size=2), STRINGS).map(
            lambda t: f"import {{ {', '.join(t[0])} }} from {t[1]};"
        ),
        st.tuples(NAMES, STRINGS).map(lambda t: f"const {t[0]} = require({t[1]});"),
        EXPRESSIONS.map(lambda e: f"export default {e};"),
        EXPRESSIONS.map(lambda e: f"module.exports = {e};"),
        EXPRESSIONS.map(lambda e: f"return {e};"),
        EXPRESSIONS.map(lambda e: f"throw new Error({e});"),
        COMMENTS,
    )
    return st.recursive(
        simple,
        lambda inner: st.one_of(
            st.tuples(EXPRESSIONS, st.lists(inner, max_size=3)).map(lambda t: f"if ({t[0]}) {{\n{_join(t[1])}\n}}"),
            st.tuples(NAMES, st.lists(NAMES, max_size=3), st.lists(inner, max_size=4)).map(
                lambda t: f"export async function {t[0]}({', '.join(t[1])}) {{\n{_join(t[2])}\n}}"
            ),
            st.tuples(EXPRESSIONS, STRINGS, st.lists(inner, max_size=4)).map(
                lambda t: f"{t[0]}.get({t[1]}, async (req, res) => {{\n{_join(t[2])}\n}});"
            ),
            st.tuples(st.lists(inner, max_size=3), st.lists(inner, max_size=2)).map(
                lambda t: f"try {{\n{_join(t[0])}\n}} catch (error) {{\n{_join(t[1])}\n}}"
            ),
            st.tuples(NAMES, st.lists(inner, max_size=3)).map(
                lambda t: f"class {t[0]} {{\n  method() {{\n{_join(t[1])}\n  }}\n}}"
            ),
            st.tuples(NAMES, EXPRESSIONS, st.lists(inner, max_size=3)).map(
                lambda t: f"for (const {t[0]} of {t[1]}) {{\n{_join(t[2])}\n}}"
            ),
        ),
        max_leaves=10,
    )


def _join(lines: list[str]) -> str:
    return "\n".join(lines)


PROGRAMS = st.lists(_statements(), max_size=12).map(lambda statements: "\n".join(statements) + "\n")
LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def generated_sources(draw) -> bytes:
    """A random program from the grammar, with random line endings and maybe a byte-order mark."""
    text = draw(PROGRAMS).replace("\n", draw(LINE_ENDINGS))
    encoded = text.encode("utf-8")
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + encoded


# --- mutations of real files -------------------------------------------------------------------------------

_TOKEN = re.compile(rb"[A-Za-z_$][\w$]*|\d+|\s+|.", re.S)
INSERTED_BYTES = st.one_of(
    st.binary(min_size=1, max_size=8),
    st.sampled_from(
        [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"`${",
         b"}", b")", b"/*", b"*/", b"//", b"<div>", b"'", b'"', b"\\", "\u2028".encode()]
    ),
)


@lru_cache(maxsize=1)
def fixture_files() -> tuple[tuple[str, bytes], ...]:
    """(suffix, content) of every JavaScript/TypeScript fixture file, sorted by path."""
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
    return tuple((p.suffix, p.read_bytes()) for p in files)


def _truncate(data: bytes, draw) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _insert(data: bytes, draw) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(INSERTED_BYTES) + data[at:]


def _delete(data: bytes, draw) -> bytes:
    start = draw(st.integers(0, len(data)))
    return data[:start] + data[start + draw(st.integers(0, 64)) :]


def _duplicate(data: bytes, draw) -> bytes:
    start = draw(st.integers(0, len(data)))
    end = min(len(data), start + draw(st.integers(0, 200)))
    return data[:end] + data[start:end] + data[end:]


def _swap_tokens(data: bytes, draw) -> bytes:
    tokens = _TOKEN.findall(data)
    if len(tokens) < 2:
        return data
    first = draw(st.integers(0, len(tokens) - 1))
    second = draw(st.integers(0, len(tokens) - 1))
    tokens[first], tokens[second] = tokens[second], tokens[first]
    return b"".join(tokens)


def _nest(data: bytes, draw) -> bytes:
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b"(", b")"), (b"{", b"}"), (b"f(", b")"), (b"`${", b"}`")]))
    depth = draw(st.integers(1, 300))
    at = draw(st.integers(0, len(data)))
    return data[:at] + opener * depth + closer * draw(st.integers(0, depth)) + data[at:]


def _repeat(data: bytes, draw) -> bytes:
    """A short stretch repeated many times (` || origin === x`, `.then(f)`, `case 1:`): finds rules whose time
    grows faster than the file."""
    start = draw(st.integers(0, len(data)))
    piece = data[start : start + draw(st.integers(1, 40))]
    return data[:start] + piece * draw(st.integers(2, 300)) + data[start:]


MUTATIONS = (_truncate, _insert, _delete, _duplicate, _swap_tokens, _nest, _repeat)


@st.composite
def mutated_fixtures(draw) -> tuple[str, bytes]:
    """(suffix, content): a fixture file after one to four random mutations."""
    suffix, data = draw(st.sampled_from(fixture_files()))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(st.sampled_from(MUTATIONS))(data, draw)
    return suffix, data


@st.composite
def fuzz_files(draw) -> tuple[str, bytes]:
    """(file name, content) of one file to lint: generated or a mutated fixture."""
    if draw(st.booleans()):
        return "src/generated" + draw(st.sampled_from(SOURCE_SUFFIXES)), draw(generated_sources())
    suffix, data = draw(mutated_fixtures())
    return "src/mutated" + suffix, data


# --- the property ------------------------------------------------------------------------------------------

FUZZ_FILE_TIMEOUT = 10.0  # a fuzzed file that takes this long is a finding (a slow rule), not a hang


class FuzzFailure(AssertionError):
    """loadlint broke a promise on one input: the message says which."""


def check_input(workdir: Path, name: str, data: bytes) -> Report:
    """Lint `data` as `name` in a fresh one-package project under `workdir` with every built-in rule, and check
    what loadlint promises on any input: a report (never an exception), no rule crash or timeout, positions
    inside the file, valid SARIF, and byte-identical output when run again (from the results cache, where the
    first run could fill it)."""
    write_files(workdir, {"package.json": MANIFEST, name: data})
    first = _lint(workdir)
    crashes = [n for n in first.notices if n.message.startswith(("internal error", "skipped: linting stopped"))]
    if crashes or first.incomplete:
        raise FuzzFailure("; ".join(f"{n.path}: {n.message}" for n in crashes) or "run marked incomplete")
    _check_positions(first, workdir)
    rendered = {fmt: _render(first, fmt) for fmt in ("text", "json", "sarif", "github")}
    assert_valid_sarif(json.loads(rendered["sarif"]))
    again = _lint(workdir)
    for fmt, output in rendered.items():
        if _render(again, fmt) != output:
            raise FuzzFailure(f"the {fmt} output differs between two runs on the same input")
    return first


def _lint(workdir: Path) -> Report:
    options = RunOptions(paths=[workdir], jobs=1, file_timeout=FUZZ_FILE_TIMEOUT)
    return run(options).report


def _render(report: Report, fmt: str) -> str:
    out = io.StringIO()
    render(report, fmt, out, include_suppressed=True)
    return out.getvalue()


def _check_positions(report: Report, workdir: Path) -> None:
    for finding in report.findings:
        source, _ = decode_source((workdir / finding.path).read_bytes())
        lines = LineIndex(source or b"")
        span = finding.span
        inside = 1 <= span.start_line <= span.end_line <= lines.line_count and span.start_column >= 1
        ordered = span.start_line < span.end_line or span.start_column <= span.end_column
        if not (inside and ordered and span.end_column >= 1):
            raise FuzzFailure(f"{finding.rule_id} reported {span} outside {finding.path} ({lines.line_count} lines)")
