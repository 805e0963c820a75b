"""The cheap tests some rules make before their real work (a file's bytes, its imports) turn away only files
where that work finds nothing: each accepts everything the work can find."""

from __future__ import annotations

import itertools
import re

import pytest

from linter.flow.modules import may_re_export
from linter.needles import NeedleSet
from linter.rules.db._db_clients import CLIENT_MODULES, names_a_client_module
from linter.rules.prisma.missing_relation_index import MissingRelationIndex
from linter.rules.prisma.unbounded_find_many import PAGE_PARAMETER, _mentions_paging
from linter.syntax import LANGUAGE_BY_SUFFIX
from tests.fixture_cases import FIXTURES

SOURCE_PATHS = [
    path
    for path in sorted(FIXTURES.rglob("*"))
    if path.suffix in LANGUAGE_BY_SUFFIX and path.is_file() and "node_modules" not in path.parts
]
SOURCES = [path.read_bytes() for path in SOURCE_PATHS]


def test_there_are_fixture_sources():
    assert len(SOURCES) > 100


@pytest.mark.parametrize(
    "source",
    [
        b"prisma.user.findMany()", b"db.post.findFirst({})", b"findUnique", b"deleteMany", b"updateMany",
        b"const w: Prisma.UserWhereInput = {}", b"t.relatedConnection('posts')", b"t.relationCount('posts')",
        b"t.relation('posts')", b"prisma.$extends({})", b"prisma.$use(async () => {})", b"defineExtension",
        b"prisma.$executeRaw`DELETE FROM x`", b"db.post.delete({ where })", b"db.post.update(\n  {", b"x.upsert({",
        b"x.count( {", b"x.aggregate({", b"x.groupBy({",
    ],
)  # fmt: skip
def test_relation_index_needles_take_what_its_byte_test_takes(source):
    rule = MissingRelationIndex()
    assert rule.may_report_in(source)
    assert NeedleSet(rule.needles).any_in(source)


def test_relation_index_needles_take_every_fixture_its_byte_test_takes():
    rule = MissingRelationIndex()
    needles = NeedleSet(rule.needles)
    taken = [source for source in SOURCES if rule.may_report_in(source)]
    assert taken
    assert all(needles.any_in(source) for source in taken)


# The letters Python's case-insensitive matching takes for an ASCII one: `İ`, `ı` (i), `ſ` (s), `K` (k).
_FOLDED = {"i": "iI\u0130\u0131", "s": "sS\u017f", "k": "kK\u212a"}


def _spellings(word: str):
    """`word` in every case, with the look-alike letters `re.IGNORECASE` accepts."""
    choices = [_FOLDED.get(letter.lower(), letter.lower() + letter.upper()) for letter in word]
    for letters in itertools.product(*choices):
        yield "".join(letters)


@pytest.mark.parametrize("word", ["page", "pageIndex", "pageNumber", "cursor", "offset", "skip"])
def test_paging_test_takes_every_page_parameter_name(word):
    spellings = list(_spellings(word))
    for name in spellings:
        assert PAGE_PARAMETER.match(name)
        assert _mentions_paging(f"const {{ {name} }} = req.query".encode())


def test_paging_test_turns_away_a_file_without_paging():
    assert not _mentions_paging(b"const users = await prisma.user.findMany({ where: { active: true } })")


@pytest.mark.parametrize("module", sorted(CLIENT_MODULES))
@pytest.mark.parametrize("quote", ["'", '"', "`"])
def test_client_module_test_takes_every_client_module(module, quote):
    assert names_a_client_module(f"import x from {quote}{module}{quote}".encode())
    assert names_a_client_module(f"const x = require({quote}{module}{quote})".encode())


def test_client_module_test_turns_away_lookalikes():
    assert not names_a_client_module(b"import logo from './logo.jpg'; const pgx = require('pg-format')")


# --- ratelimit: the calls `_expensive_calls` classifies ---------------------------------------------------------

_METHOD_SPELLINGS = [
    "openai.chat.completions.create({})", "a.create().b.create()", "x?.send(m)", "(transport.sendMail)(m)",
    "x['create'](1)", 'x["parse"](1)', "x[`stream`]()", "x[('send')]()", "(await client.messages).create({})",
    "await NestFactory.create<App>(AppModule)", "x.create!(1)", "(x.create as any)(1)", "x.create.bind(x)(1)",
    "x.create.y()", "f('create')", "x.createX()", "x.recreate()", "x.$create()", "x.create$()", "x.#create()",
    "x['cre\\u0061te']()", "x. /* c */ edit ()", "x\n  .generate\n  ()", "x.sendEmailWithTemplate({})",
    "x?.['parse']?.(s)", "new x.create()", "create()", "x.create", "// x.create()\ny.send()", "`${x.parse(1)}`",
    "x.create<T>(1)", "obj.create((y) => y.send(1))",
]  # fmt: skip


def _every_method_call(file):
    from linter.js.expressions import callee, property_name
    from linter.rules.ratelimit._expensive_calls import _LAST_METHODS
    from linter.syntax import descendants_of_types

    calls = descendants_of_types(file.root, ("call_expression",))
    return [c.byte_range for c in calls if property_name(callee(c)) in _LAST_METHODS]


def _method_calls_of(path: str, source: bytes, language: str):
    from linter.context import FileContext
    from linter.rules.ratelimit._expensive_calls import _method_calls
    from linter.syntax import parse

    file = FileContext(path, source, language, parse(source, language))
    return [c.byte_range for c in _method_calls(file)], _every_method_call(file)


def test_expensive_call_candidates_of_every_fixture_file_are_those_of_the_walk():
    from tests.fixture_cases import FIXTURES

    found = 0
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in LANGUAGE_BY_SUFFIX or not path.is_file() or "node_modules" in path.parts:
            continue
        gated, walked = _method_calls_of(str(path), path.read_bytes(), LANGUAGE_BY_SUFFIX[path.suffix])
        assert gated == walked, path.relative_to(FIXTURES)
        found += len(walked)
    assert found > 100


@pytest.mark.parametrize("spelling", _METHOD_SPELLINGS)
@pytest.mark.parametrize("language", ["typescript", "javascript"])
def test_expensive_call_candidates_of_spellings_are_those_of_the_walk(spelling, language):
    gated, walked = _method_calls_of("a.ts", spelling.encode(), language)
    assert gated == walked


# The byte test of a module that may re-export, as first written: tried at every byte of a file.
_RE_EXPORT_AT_A_WORD = re.compile(rb"\bexport\s*(?:type\s*)?[*{]|\bexports\s*=[^;]{0,200}?\brequire\b")


@pytest.mark.parametrize(
    "source",
    [
        b"export { a } from './a'", b"export * from './a'", b"export type { A } from './a'", b"export*from'./a'",
        b"module.exports = require('./a')", b"exports\n  = require('./a')", b"xexport { a }", b"_export * from",
        b"$export { a }", b"\xc3\xa9export { a }", b"exported { a }", b"reexports = require('x')",
        b"xexports = export { a } || require('b')",  # a word-bound match inside one that is not
        b"exports = require", b"", b"export", b"export default a",
    ],
)  # fmt: skip
def test_re_export_test_answers_as_the_word_bound_pattern(source):
    assert may_re_export(source) == (_RE_EXPORT_AT_A_WORD.search(source) is not None)


def test_re_export_test_takes_every_fixture_module_that_re_exports():
    from linter.js.exports import export_table
    from linter.syntax import parse

    re_exporting = 0
    for path, source in zip(SOURCE_PATHS, SOURCES):
        assert may_re_export(source) == (_RE_EXPORT_AT_A_WORD.search(source) is not None), path
        if export_table(parse(source, LANGUAGE_BY_SUFFIX[path.suffix]).root_node).re_exports:
            re_exporting += 1
            assert may_re_export(source), path
    assert re_exporting > 5


def _functions(source: bytes, language: str):
    from linter.js.functions import FUNCTION_TYPES
    from linter.syntax import descendants_of_types, parse

    root = parse(source, language).root_node
    return [root, *descendants_of_types(root, FUNCTION_TYPES)]


def test_stored_limit_test_takes_every_fixture_scope_holding_a_stored_limit():
    from linter.rules.ratelimit._limit_evidence import _stored_limit, may_store_limit

    limited = 0
    for path, source in zip(SOURCE_PATHS, SOURCES):
        for scope in _functions(source, LANGUAGE_BY_SUFFIX[path.suffix]):
            if _stored_limit(scope):
                limited += 1
                assert may_store_limit(source, scope.start_byte, scope.end_byte), (path, scope.start_point)
    assert limited >= 2


@pytest.mark.parametrize(
    "body",
    [
        "if (last && Date.now() - last.at < 60000) throw new Error('wait');",
        "if (new Date().getTime() - last.at < 60000) throw new Error('wait');",
        "const now = clock(); if (now - last.at < 60000) { return null; }",
        "if (u.asked < u.askMax) { u.asked++; } else { return null; }",
        "if (u.asked < u.askMax) { u.asked += 1; } else { return null; }",
        "if (u.asked < u.askMax) { save({ asked: u.asked +\u00a01 }); } else { return null; }",  # a no-break space
        "if (u.asked < u.askMax) { save({ asked:\u2003{ increment: 1 } }); } else { return null; }",
        "if (u.asked < u.askMax) { save({ asked: {\x1fincrement: 1 } }); } else { return null; }",
    ],
)
def test_stored_limit_test_takes_every_form_of_a_stored_limit(body):
    from linter.rules.ratelimit._limit_evidence import _stored_limit, may_store_limit

    source = f"async function ask(u, last) {{ {body} }}".encode()
    scope = _functions(source, "javascript")[1]
    assert _stored_limit(scope)
    assert may_store_limit(source, scope.start_byte, scope.end_byte)


def test_stored_limit_test_turns_away_a_scope_with_no_clock_and_no_count():
    from linter.rules.ratelimit._limit_evidence import may_store_limit

    source = b"async function ask(u) { if (u.length > u.maxLength) { return null; } return db.find({ take: limit }); }"
    assert not may_store_limit(source, 0, len(source))


@pytest.mark.parametrize(
    "source",
    [
        b"window.location.href = '/'", b"if (document.cookie) {}", b"localStorage.setItem('a', b)",
        b"sessionStorage.clear()", b"navigator.clipboard", b"axios.create({ withCredentials: true })",
        b"import Cookies from 'js-cookie'", b"getConfig().publicRuntimeConfig", b"mywindow.x", b"window .x",
        b"const documents = []", b"", b"\xc3\xa9window.x",
    ],
)  # fmt: skip
def test_browser_text_test_answers_as_its_pattern(source):
    from linter.rules.http._server_code import _BROWSER_TEXT, writes_browser_text

    assert writes_browser_text(source) == (_BROWSER_TEXT.search(source) is not None)


def test_browser_text_test_answers_as_its_pattern_on_every_fixture():
    from linter.rules.http._server_code import _BROWSER_TEXT, writes_browser_text

    answers = [writes_browser_text(source) for source in SOURCES]
    assert answers == [_BROWSER_TEXT.search(source) is not None for source in SOURCES]
    assert any(answers)


def test_jwt_byte_test_takes_every_fixture_the_query_matches_and_turns_away_lookalikes():
    from linter.rules.auth.jwt_no_expiry import JwtNoExpiry
    from linter.syntax import compile_query, parse

    rule = JwtNoExpiry()
    matched = 0
    for path, source in zip(SOURCE_PATHS, SOURCES):
        language = LANGUAGE_BY_SUFFIX[path.suffix]
        if compile_query(rule.query_for(language), language).matches(parse(source, language).root_node):
            matched += 1
            assert rule.may_report_in(source), path
    assert matched > 10
    for source in [b"jwt.sign(p, k)", b"sign(p)", b"await signAsync(p)", b"c.jwtSign(p)", b"JwtModule.register({})",
                   b"m.registerAsync({})", b"new jose.SignJWT(p)", b"app.register(fastifyJwt)"]:  # fmt: skip
        assert rule.may_report_in(source), source
    for source in [b"const signedUrl = await getSignedUploadUrl(key)", b"design", b"signIn()", b"registered", b"$sign"]:
        assert not rule.may_report_in(source), source
