"""The byte tests `express/no-graceful-shutdown` makes before its walk over a file's calls drop no fact the walk
finds: on every fixture file and on spellings of each fact kind, its facts equal those of the full walk."""

from __future__ import annotations

import pytest

from linter.context import FileContext
from linter.rules.express import _servers, no_graceful_shutdown
from linter.rules.express.no_graceful_shutdown import NoGracefulShutdown
from linter.syntax import LANGUAGE_BY_SUFFIX, descendants_of_types, parse
from tests.fixture_cases import FIXTURES

FIXTURE_FILES = [
    path
    for path in sorted(FIXTURES.rglob("*"))
    if path.suffix in LANGUAGE_BY_SUFFIX and path.is_file() and "node_modules" not in path.parts
]
SPELLINGS = [
    "import express from 'express'; const app = express(); app['post']('/x', h);",
    "import express from 'express'; const r = express.Router(); (r.put as any)('/x', h);",
    "import { app } from './app'; async function f() { await app.patch<T>('/x', h); }",
    "import { app } from './app'; foo(b.get('/y', h)).delete('/x', h2); app.all(`/z`, h);",
    "import { app } from './app'; app.post.bind(app); x.all; Promise.all([a, b]); app?.post?.('/x', h);",
    "import { app } from './app'; app.a.all.all.all('/x', h); delete app.x; app['all']('/x', h);",
    "import { gracefulShutdown } from './lifecycle'; gracefulShutdown(server);",
    "import lifecycle from './lifecycle'; lifecycle.registerShutdownHooks(app);",
    "import { teardown as TearDown } from './t'; TearDown(); onExitHook();",
    "import { \u017fhutdown } from './s'; \u017fhutdown(server);",  # ſ: a case-insensitive `str` pattern takes it for s
    "import { handle\u212aill } from './s'; import { GRACEFUL } from './g'; GRACEFUL(app);",
    "const http = require('node:http'); const server = http.createServer(handler); server.listen(3000);",
    "const app = require('express')(); app.post('/x', h); app.listen(3000);",
    "import Koa from 'koa'; const app = new Koa(); app.listen(3000);",
    "import { NestFactory } from '@nestjs/core'; const app = await NestFactory.create(AppModule);",
    "import { serve } from '@hono/node-server'; serve({ fetch: app.fetch, port: 3000 });",
    "import express from 'express'; express().post('/x', h); const app = (express as any)();",
    "import * as http from 'http'; f(http); const s = new (http.Server)(h); const t = http['createServer'](h);",
    "const { createServer } = require('http'); const express = 1; createServer(h); x.createServer(h);",
    "import { NestFactory as F } from '@nestjs/core'; async function main() { await F.create<App>(M); }",
    "import fastify from 'fastify'; const app = await (fastify)({ logger: true }); app.delete('/x', h);",
    # More places than MAX_PLACES: the walk finds them.
    "import express from 'express';" + " express.Router().put('/x', h);" * 40 + " express();",
    "const e = require('http'); x" + "[e]" * 100 + "(); e.createServer(h);",
]


def _facts(file: FileContext) -> list[tuple]:
    rule = NoGracefulShutdown()
    return [(f.kind, f.span, sorted(f.data.items())) for f in rule._file_facts(file.root, file)]


def _context(path: str, data: bytes) -> FileContext:
    language = LANGUAGE_BY_SUFFIX["." + path.rsplit(".", 1)[-1]]
    return FileContext(path, data, language, parse(data, language))


def _cases() -> list[tuple[str, bytes]]:
    cases = [(str(path.relative_to(FIXTURES)), path.read_bytes()) for path in FIXTURE_FILES]
    return cases + [(f"spelling{index}.ts", source.encode()) for index, source in enumerate(SPELLINGS)]


def test_there_are_cases_with_each_walked_fact():
    kinds = {fact[0] for path, data in _cases() for fact in _facts(_context(path, data))}
    assert {"server", "mutating-route", "helper", "listen"} <= kinds


def test_byte_tests_drop_no_fact(monkeypatch):
    fast = {path: _facts(_context(path, data)) for path, data in _cases()}
    for name in ("may_name_creation", "may_name_mutating_route", "may_name_shutdown_helper"):
        monkeypatch.setattr(no_graceful_shutdown, name, lambda file: True)
    walked = {path: _facts(_context(path, data)) for path, data in _cases()}
    assert fast == walked


@pytest.mark.parametrize("path, data", _cases(), ids=lambda case: case if isinstance(case, str) else "")
def test_first_mutating_route_is_the_walks_first(path, data):
    file = _context(path, data)
    calls = descendants_of_types(file.root, ("call_expression",))
    expected = next((call for call in calls if _servers.is_mutating_route(call)), None)
    found = _servers.first_mutating_route(file, _servers.route_places(file))
    assert (found.byte_range if found else None) == (expected.byte_range if expected else None)


@pytest.mark.parametrize("path, data", _cases(), ids=lambda case: case if isinstance(case, str) else "")
def test_first_creation_is_the_walks_first(path, data):
    file = _context(path, data)
    calls = descendants_of_types(file.root, ("call_expression", "new_expression"))
    expected = next((call for call in calls if _servers.creation_kind(call, file) is not None), None)
    found = _servers.first_creation(file, _servers.creation_places(file))
    assert (found[0].byte_range if found else None) == (expected.byte_range if expected else None)
