"""The byte scan of a file's imports gives what the parsed file gives (`collect_references`), or says it is
unsure; and the file phase parses only the files some rule looks at, the others' imports still feeding the
project's import graph."""

from __future__ import annotations

from pathlib import Path

import pytest

import linter.analysis as analysis
from linter.engine import RunOptions, run
from linter.js.import_scan import scanned_references
from linter.js.imports import collect_references
from linter.syntax import LANGUAGE_BY_SUFFIX, parse
from tests.project_builder import write_files

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _parsed(source: bytes, language: str) -> list[tuple[str, str]]:
    return [(r.specifier, r.kind) for r in collect_references(parse(source, language).root_node, source)]


def _scanned(source: bytes, language: str) -> list[tuple[str, str]] | None:
    found = scanned_references(source, language)
    return None if found is None else [(r.specifier, r.kind) for r in found]


READ_AS_PARSED = [
    ("typescript", b"import a, { b as c, type d } from './a';\nimport * as e from \"./e\";\nimport './side';\n"),
    ("typescript", b"import type { T } from './t';\nimport type X = require('./x');\nimport y = require('./y');\nimport z = A.B;\n"),
    ("typescript", b"import {\n  a, // the first\n  /* } */ b,\n} from './multi';\nimport { 'a-b' as ab } from './quoted';\n"),
    ("typescript", b"import from from './from';\nimport type from './type';\nimport * as j from './j.json' with { type: 'json' };\n"),
    ("typescript", b"export * from './all';\nexport * as ns from './ns';\nexport { a, b as c } from './some';\nexport type { T } from './types';\n"),
    ("typescript", b"export { a, b };\nexport const x = 1;\nexport default function f() {}\nexport = require('./eq');\n"),
    ("typescript", b"declare module 'm' {\n  import y from 'z';\n  export * from 'w';\n}\n"),
    ("typescript", b"type A = typeof import('./a');\nlet b: import('./b').B;\nconst c = await import(`./c`);\nimport(`./d${x}`);\n"),
    # A comment as the first argument leaves `import()` and `require()` reaching no module, as the parser reads them.
    ("typescript", b"const a = import(/* webpackChunkName: 'a' */ './a');\nconst b = require(/* c */ './b');\n"),
    ("typescript", b"const a = require('./a',);\nconst b = require('./b' /* c */);\nrequire('./c', './d');\nrequire(name);\n"),
    ("javascript", b"const a = require('./a');\nconst { b } = require('./b');\nx.require('./no');\n[...require('./spread')];\n"),
    ("javascript", b"class A { import(x) {} require(y) {} }\nconst url = import.meta.url;\nconst r = require('./after-class');\n"),
    ("javascript", b"class B { #require(m) {} load() { return this.#require('./private'); } }\n"),
    ("javascript", b"// import a from './comment'\n/* require('./block') */\nconst s = \"import b from './string'\";\nrequire('./real');\n"),
    ("javascript", b"const t = `require('./template') ${require('./inside')} import('./text')`;\nrequire('./after');\n"),
    ("javascript", b"const r = /import a from '.\\/regex'/;\nconst d = a / b / c;\nconst s = x.split(/'/);\nrequire('./after');\n"),
    ("javascript", b"if (a) { b(); }\nconst re = [/'/, /\"/];\nreturn2 / 2;\nrequire('./after');\n"),
    ("javascript", b"#!/usr/bin/env node\nrequire('./hashbang');\n"),
    ("javascript", b"// a comment that ends a sentence.\r\nimport a from './after-crlf';\r\n"),
    ("typescript", b"const a = await import('./a?t=' + Date.now());\nconst b = await import('./b', { with: {} });\n"),
    ("tsx", b"import React from 'react';\nimport { Button } from '@ui/button';\nexport default function Page() {\n  return <div>we import your data</div>;\n}\n"),
    ("tsx", b"const x = a < b;\nconst y = useState<string>('');\nconst Lazy = dynamic(() => import('./lazy'));\n"),
    ("typescript", b"const a = require('a\\\nb');\nconst b = require(\"x&amp;\");\nconst c = '\\u00e9';\nimport d from './\xc3\xa9t\xc3\xa9';\n"),
    ("javascript", b"import a from './nothing-else'"),
    ("javascript", b"const nothing = 1;\n"),
]


@pytest.mark.parametrize("language, source", READ_AS_PARSED)
def test_the_scan_reads_what_the_parser_reads(language, source):
    assert _scanned(source, language) == _parsed(source, language)


UNSURE = [
    ("tsx", b"const a = <div>don't</div>;\nconst b = import('./after-jsx');\n"),  # JSX text is not code
    ("javascript", b"const a = {}\n/re'/.test(x);\nrequire('./after');\n"),  # a block or an object, then `/`
    ("javascript", b"const a = 'unterminated\nrequire('./after');\n"),
    ("javascript", b"import type { T } from './t';\n"),  # TypeScript in a JavaScript file
    ("typescript", b"export import A = require('./a');\n"),
    ("typescript", b"import from 'broken' from\nrequire(\nexport *\n"),  # syntax errors
    ("typescript", b"const a = require<T>('./a');\nconst b = require?.('./b');\nnew require('./c');\n"),
]


@pytest.mark.parametrize("language, source", UNSURE)
def test_the_scan_says_when_it_is_unsure(language, source):
    assert _scanned(source, language) is None


def test_the_scan_reads_every_fixture_as_the_parser_does():
    """On the fixtures (780 files written to look like real code), the scan is never wrong: it gives what the
    parser gives, or is unsure (seldom)."""
    read = total = 0
    for path in sorted(FIXTURES.rglob("*")):
        language = LANGUAGE_BY_SUFFIX.get(path.suffix)
        if language is None or not path.is_file():
            continue
        source = path.read_bytes()
        total += 1
        scanned = _scanned(source, language)
        if scanned is not None:
            assert scanned == _parsed(source, language), path
            read += 1
    assert total > 700 and read > 0.95 * total


# --- the file phase parses only what rules look at --------------------------------------------------------------

PACKAGE = '{"name": "shop", "private": true, "dependencies": {"@prisma/client": "5.22.0", "express": "4.21.0"}}'
ROUTE = """const express = require('express');
const orders = require('./shop');

const router = express.Router();

router.get('/orders', async (req, res) => {
  res.json(await orders.list(Number(req.query.limit) || 20));
});

module.exports = router;
"""
BARREL = "module.exports = require('../orders');\n"  # no rule looks at it: it is not parsed in the file phase
SERVICE = """const { prisma } = require('./db');

async function list(limit) {
  return prisma.order.findMany({ take: limit });
}

module.exports = { list };
"""
DB = "const { PrismaClient } = require('@prisma/client');\nmodule.exports = { prisma: new PrismaClient() };\n"


@pytest.fixture
def shop(tmp_path):
    return write_files(
        tmp_path / "shop",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": PACKAGE,
            "src/routes.js": ROUTE,
            "src/shop/index.js": BARREL,
            "src/orders.js": SERVICE,
            "src/db.js": DB,
        },
    )


def _lint(root: Path, parsed: list[bytes], monkeypatch, select=("pagination",)):
    real = analysis.parse
    monkeypatch.setattr(analysis, "parse", lambda source, *rest, **named: parsed.append(source) or real(source, *rest, **named))
    return run(RunOptions(paths=[root], select=list(select), jobs=1, use_cache=False)).report


def test_a_file_no_rule_looks_at_is_not_parsed_and_its_imports_still_lead_to_a_finding(shop, monkeypatch):
    from linter.project import ProjectIndex

    opened: list[str] = []
    original = ProjectIndex.parsed_file
    monkeypatch.setattr(ProjectIndex, "parsed_file", lambda self, path, **named: opened.append(path) or original(self, path, **named))
    parsed: list[bytes] = []
    report = _lint(shop, parsed, monkeypatch)
    # The service keeps its sink for the project phase (its page size comes from a caller): it is parsed. The
    # barrel between the route and the service is not, and the cross-file flow through it is still found: the
    # project phase reads the barrel, on the path, when it follows the route's import.
    assert [(f.path, f.span.start_line, f.code_flow[0].path) for f in report.active_findings] == [("src/orders.js", 4, "src/routes.js")]
    assert SERVICE.encode() in parsed and ROUTE.encode() in parsed
    assert BARREL.encode() not in parsed and DB.encode() not in parsed
    assert "src/shop/index.js" in opened
    assert report.files_checked == 4


def test_without_the_scanned_imports_the_finding_through_the_barrel_is_lost(shop, monkeypatch):
    """The test above depends on the barrel's imports: read as none, the route no longer reaches the service."""
    monkeypatch.setattr(analysis, "scanned_references", lambda source, language: [])
    assert _lint(shop, [], monkeypatch).active_findings == ()


def test_a_file_with_suppression_comments_is_parsed(shop, monkeypatch):
    (shop / "src/shop/index.js").write_text("// loadlint-ignore-file pagination -- a barrel\n" + BARREL)
    parsed: list[bytes] = []
    report = _lint(shop, parsed, monkeypatch, select=("pagination", "loadlint"))
    assert any(source.startswith(b"// loadlint-ignore-file") for source in parsed)
    assert [f.rule_id for f in report.findings if f.path == "src/shop/index.js"] == ["loadlint/unused-suppression"]


def test_a_file_the_scan_is_unsure_of_is_parsed(shop, monkeypatch):
    (shop / "src/view.jsx").write_text("export const View = () => <p>don't</p>;\nexport const Lazy = () => import('./orders');\n")
    parsed: list[bytes] = []
    _lint(shop, parsed, monkeypatch)
    assert any(source.startswith(b"export const View") for source in parsed)


@pytest.mark.parametrize("unit", [b"export {", b"import /*", b"require /*", b"import {", b"import a, ", b"`${"])
def test_a_crafted_file_is_scanned_in_linear_time(unit):
    import time

    started = time.process_time()
    scanned_references(unit * (2_000_000 // len(unit)), "typescript")
    assert time.process_time() - started < 5  # a quadratic scan takes minutes
