"""The cheap tests some rules make before their real work (a file's bytes, its imports) turn away only files
where that work finds nothing: each accepts everything the work can find."""

from __future__ import annotations

import itertools

import pytest

from linter.needles import NeedleSet
from linter.rules.db._db_clients import CLIENT_MODULES, names_a_client_module
from linter.rules.prisma.missing_relation_index import MissingRelationIndex
from linter.rules.prisma.unbounded_find_many import PAGE_PARAMETER, _mentions_paging
from linter.syntax import LANGUAGE_BY_SUFFIX
from tests.fixture_cases import FIXTURES

SOURCES = [
    path.read_bytes()
    for path in sorted(FIXTURES.rglob("*"))
    if path.suffix in LANGUAGE_BY_SUFFIX and path.is_file() and "node_modules" not in path.parts
]


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
