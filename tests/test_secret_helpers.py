"""auth/secret-fallback beyond the fixtures: the shared helpers it is built on (secret names, env reads,
callee resolution) and the shape of its findings."""

from __future__ import annotations

import pytest

from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.rules.auth._env import env_var_name, setting_name
from linter.js.references import resolve_imported
from linter.rules.auth._secrets import is_secret_name
from linter.syntax import parse, walk

RULE = "auth/secret-fallback"


@pytest.mark.parametrize(
    "name",
    ["JWT_SECRET", "SESSION_SECRET_OLD", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "DB_PASS",
     "PASSWORD_PEPPER", "ENCRYPTION_KEY", "PRIVATE_KEY_PEM", "SECRET_KEY_BASE", "jwtSecret", "secretOrKey",
     "config.jwt.secret", "API_TOKEN_V2"],
)  # fmt: skip
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["PORT", "DATABASE_URL", "JWT_EXPIRES_IN", "ACCESS_TOKEN_TTL", "REFRESH_TOKEN_EXPIRY", "JWT_ALGORITHM",
     "BCRYPT_SALT_ROUNDS", "TOKEN_COOKIE_NAME", "SECRETKEY_AWS_REGION", "AWS_ACCESS_KEY_ID", "CACHE_KEY",
     "RECAPTCHA_SITE_KEY", "JWT_PUBLIC_KEY", "NEXT_PUBLIC_MAPS_API_KEY", "VITE_API_KEY", "MAX_TOKENS",
     "ALLOW_INSECURE_DEFAULT_SECRETS", "OPENAI_TOKEN_CALC_CONCURRENCY", "config.jwt.expiresIn"],
)  # fmt: skip
def test_names_that_are_not_secrets(name):
    assert not is_secret_name(name)


def _file(source: str, path: str = "src/app.ts") -> FileContext:
    data = source.encode()
    return FileContext(path, data, "typescript", parse(data, "typescript"))


def _last(file: FileContext, kind: str):
    return [n for n in walk(file.root) if n.type == kind][-1]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x = process.env.JWT_SECRET", "JWT_SECRET"),
        ("x = process.env['JWT_SECRET']", "JWT_SECRET"),
        ("x = import.meta.env.JWT_SECRET", "JWT_SECRET"),
        ("const env = process.env; x = env.JWT_SECRET", "JWT_SECRET"),
        ("const { env } = process; x = env.JWT_SECRET", "JWT_SECRET"),
        ("import { env } from 'node:process'; x = env.JWT_SECRET", "JWT_SECRET"),
        ("const env = schema.parse(process.env); x = env.JWT_SECRET", "JWT_SECRET"),
        ("const c = { jwt: { secret: process.env.JWT_SECRET } }; x = c.jwt.secret", "JWT_SECRET"),
        ("x = someObject.JWT_SECRET", None),
    ],
)
def test_env_reads_through_aliases(source, expected):
    file = _file(source)
    assignment = _last(file, "assignment_expression")
    assert env_var_name(assignment.child_by_field_name("right"), file) == expected


def test_destructured_and_copied_env_names():
    file = _file("const { JWT_SECRET: secret } = process.env;\nlet key = process.env.API_KEY;\nx = [secret, key];")
    array = _last(file, "array")
    assert [env_var_name(n, file) for n in array.named_children] == ["JWT_SECRET", "API_KEY"]


def test_config_reads_across_files_are_settings_but_not_env_vars():
    file = _file("import config from './config';\nimport { argv } from './cli';\nx = [config.jwt.secret, argv.secret];")
    first, second = _last(file, "array").named_children
    assert env_var_name(first, file) is None
    assert setting_name(first, file) == "config.jwt.secret"
    assert setting_name(second, file) is None


@pytest.mark.parametrize(
    "source",
    [
        "import jwt from 'jsonwebtoken'; jwt.sign(a, b)",
        "import * as jwt from 'jsonwebtoken'; jwt.default.sign(a, b)",
        "import { sign } from 'jsonwebtoken'; sign(a, b)",
        "const { sign: signToken } = require('jsonwebtoken'); signToken(a, b)",
        "require('jsonwebtoken').sign(a, b)",
    ],
)
def test_callee_resolution(source):
    file = _file(source)
    call = _last(file, "expression_statement").named_children[0]
    imported = resolve_imported(call.child_by_field_name("function"), file)
    assert (imported.module, imported.path) == ("jsonwebtoken", ("sign",))


def test_a_constant_is_reported_on_its_literal_with_every_use_related(tmp_path):
    source = tmp_path / "token.js"
    source.write_text(
        "const jwt = require('jsonwebtoken');\n"
        "const SECRET = 'shh';\n"
        "exports.sign = (id) => jwt.sign({ id }, SECRET);\n"
        "exports.verify = (token) => jwt.verify(token, SECRET);\n"
    )
    findings = [f for f in run(RunOptions(paths=[source], jobs=1)).report.active_findings if f.rule_id == RULE]
    assert [(f.span.start_line, f.span.start_column) for f in findings] == [(2, 16)]
    assert [r.span.start_line for r in findings[0].related] == [3, 4]
    assert "`SECRET`" in findings[0].message
