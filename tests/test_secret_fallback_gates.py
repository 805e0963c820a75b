"""The byte tests `auth/secret-fallback`'s helpers make before their real work drop nothing that work finds:
on every fixture file and on hand-written spellings, what they give equals what the ungated work gives."""

from __future__ import annotations

import pytest

from linter.context import FileContext
from linter.rules.auth import _env
from linter.syntax import LANGUAGE_BY_SUFFIX, parse
from tests.fixture_cases import FIXTURES

FIXTURE_FILES = [
    path
    for path in sorted(FIXTURES.rglob("*"))
    if path.suffix in LANGUAGE_BY_SUFFIX and path.is_file() and "node_modules" not in path.parts
]
ALIAS_SPELLINGS = [
    "const env = process.env; const { JWT_SECRET: s } = env; const t = env.API_TOKEN;",
    "const { env } = process; const e = env; const f = e; const { X_SECRET } = f; const g = f.Y_TOKEN;",
    "import { env as E } from 'node:process'; const a = E; const { K } = a; const b = E.SESSION_SECRET;",
    "import * as proc from 'process'; const { env: vars } = proc; const c = vars.JWT_SECRET;",
    "import P from 'node:process'; const { env: V } = P; const w = V.PASSWORD;",
    "import env from './env'; const s = env.JWT_SECRET; const copy = env;",
    "import { env as settings } from '@/env'; const key = settings.API_KEY; const cfg = { key };",
    "const parsed = schema.parse(process.env); const { SECRET } = parsed;",
    "const e = cleanEnv(process.env, {}); const x = createEnv({ runtimeEnv: process.env }).X;",
    "const g = globalThis.process; const { env: z } = globalThis.process; const q = z.TOKEN;",
    "const m = import.meta.env; const n = m.VITE_X; const o = import.meta.env.SECRET;",
    "const config = { jwt: { secret: process.env.JWT_SECRET } }; const other = { a: 1 }; let config2 = {};",
    "const a = process.env.A; const a = 1; const b = {}; var b = {}; const c = { d: process.env.D };",
    "const e = (process.env as any); const { S = 'x' } = (await load(process.env)); const t = e!.T;",
    "const \\u0065 = process.env; const { X } = \\u0065; const y = \\u0065.Y;",
    "const \u00e9 = process.env; const z = \u00e9; const { W } = z;",
]


def _aliases(file: FileContext):
    aliases = _env._collect_aliases(file)
    return (
        sorted(aliases.env_objects),
        sorted(aliases.env_vars.items()),
        sorted((name, value.byte_range) for name, value in aliases.config_objects.items()),
    )


def _both(path: str, source: bytes, language: str, monkeypatch):
    tree = parse(source, language)
    gated = _aliases(FileContext(path, source, language, tree))
    with monkeypatch.context() as patched:
        patched.setattr(_env, "_may_read_env", lambda *args: True)
        whole = _aliases(FileContext(path, source, language, tree))
    return gated, whole


def test_env_aliases_of_every_fixture_file_are_those_of_every_declarator(monkeypatch):
    found = 0
    for path in FIXTURE_FILES:
        gated, whole = _both(str(path), path.read_bytes(), LANGUAGE_BY_SUFFIX[path.suffix], monkeypatch)
        assert gated == whole, path.relative_to(FIXTURES)
        found += bool(whole[0] or whole[1])
    assert found > 10


@pytest.mark.parametrize("spelling", ALIAS_SPELLINGS)
def test_env_aliases_of_spellings_are_those_of_every_declarator(spelling, monkeypatch):
    gated, whole = _both("a.ts", spelling.encode(), "typescript", monkeypatch)
    assert gated == whole
    assert whole != ([], [], [])
