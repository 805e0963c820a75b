"""The helpers behind auth/jwt-no-expiry, auth/jwt-verify-without-algorithms, express/json-body-limit and
express/no-graceful-shutdown: duration and size formats, constant evaluation, option lookups, rule options."""

from __future__ import annotations

import pytest

from linter.config import ConfigError
from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.js.static_values import constant_value
from linter.js.object_literals import option, options_object
from linter.rules.express._servers import is_stateful_package
from linter.js.units import byte_count, describe_bytes, describe_seconds, jose_seconds, ms_seconds
from linter.syntax import parse, walk

DAY = 24 * 60 * 60


@pytest.mark.parametrize(
    "value, seconds",
    [("7d", 7 * DAY), ("24h", DAY), ("2 days", 2 * DAY), ("1.5h", 5400), ("15m", 900), ("90s", 90),
     ("1y", 365.25 * DAY), ("2 weeks", 14 * DAY), ("3600", 3.6), ("500ms", 0.5), ("30 Days", 30 * DAY)],
)  # fmt: skip
def test_ms_format(value, seconds):
    assert ms_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "soon", "7 fortnights", "d7", "1h30m"])
def test_ms_format_rejects(value):
    assert ms_seconds(value) is None


@pytest.mark.parametrize(
    "value, seconds",
    [("2h", 7200), ("30 minutes", 1800), ("1 day from now", DAY), ("+1d", DAY), ("2 weeks", 14 * DAY)],
)
def test_jose_format(value, seconds):
    assert jose_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["1 day ago", "-2h", "500ms", "later"])
def test_jose_format_rejects(value):
    assert jose_seconds(value) is None


@pytest.mark.parametrize(
    "value, count",
    [("10mb", 10 << 20), ("100kb", 100 << 10), ("1.5 GB", 1.5 * (1 << 30)), ("2048", 2048), (4096, 4096),
     ("5MB", 5 << 20)],
)  # fmt: skip
def test_bytes_format(value, count):
    assert byte_count(value) == count


@pytest.mark.parametrize("value", ["ten megabytes", "10 mib", "-1mb", -5])
def test_bytes_format_rejects(value):
    assert byte_count(value) is None


def test_descriptions():
    assert describe_seconds(30 * DAY) == "30 days"
    assert describe_seconds(DAY) == "1 day"
    assert describe_seconds(36 * 3600) == "36 hours"
    assert describe_seconds(365.25 * DAY) == "1 year"
    assert describe_bytes(10 << 20) == "10 MB"
    assert describe_bytes(1536) == "1.5 KB"


def _context(source: str, language: str = "typescript") -> FileContext:
    data = source.encode()
    return FileContext("example.ts", data, language, parse(data, language))


def _value_of(file: FileContext, name: str):
    """The initializer of the last `const <name> = …` of the file."""
    found = None
    for node in walk(file.root):
        if node.type == "variable_declarator" and node.child_by_field_name("name").text.decode() == name:
            found = node.child_by_field_name("value")
    return found


@pytest.mark.parametrize(
    "expression, value",
    [("60 * 60 * 24 * 30", 2592000), ("'7' + 'd'", "7d"), ("`${DAYS}d`", "30d"), ("-(2 ** 3)", -8), ("0x10", 16),
     ("1_000", 1000), ("DAYS * 24", 720), ("config.jwt.expiresIn", "12h"), ("(TTL as number) / 2", 1800)],
)  # fmt: skip
def test_constant_values(expression, value):
    file = _context(
        "const DAYS = 30;\nconst TTL = 3600;\nconst config = { jwt: { expiresIn: '12h' } };\n"
        f"const probe = {expression};\n"
    )
    assert constant_value(_value_of(file, "probe")) == value


@pytest.mark.parametrize(
    "expression",
    ["process.env.JWT_EXPIRES_IN", "process.env.TTL || '7d'", "later", "counter", "days()", "shadowed", "1n"],
)
def test_unknown_values(expression):
    file = _context(
        "let counter = 5;\nconst shadowed = 1;\n"
        f"function f(shadowed) {{ const probe = {expression}; return probe; }}\n"
    )
    assert constant_value(_value_of(file, "probe")) is None


def test_options_object_follows_unwritten_constants_only():
    file = _context(
        "const fixed = { expiresIn: '1h' };\nconst built = { algorithm: 'HS256' };\nbuilt.expiresIn = '30d';\n"
        "const spread = { ...defaults, audience: 'web' };\n"
        "const a = fixed;\nconst b = built;\nconst c = spread;\n"
    )
    fixed = options_object(_value_of(file, "a"), file.source)
    assert fixed.state == "object" and option(fixed.node, "expiresIn").state == "value"
    assert option(fixed.node, "algorithms").absent
    assert options_object(_value_of(file, "b"), file.source).unknown
    spread = options_object(_value_of(file, "c"), file.source)
    assert spread.state == "object" and option(spread.node, "algorithms").unknown


@pytest.mark.parametrize("name", ["@prisma/client", "ioredis", "express-session", "socket.io", "@org/lib-mongodb"])
def test_stateful_dependencies(name):
    assert is_stateful_package(name)


@pytest.mark.parametrize("name", ["express", "swagger-ui-express", "helmet", "news-api", "lint-staged"])
def test_stateless_dependencies(name):
    assert not is_stateful_package(name)


@pytest.mark.parametrize(
    "config, message",
    [
        ('[rules."auth/jwt-no-expiry"]\nmax-expiry = "a week"\n', "max-expiry"),
        ('[rules."auth/jwt-no-expiry"]\nmaxExpiry = "7d"\n', "maxExpiry"),
        ('[rules."express/json-body-limit"]\nmax-body-size = "huge"\n', "max-body-size"),
    ],
)
def test_bad_options_are_errors(tmp_path, config, message):
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / ".loadlint.toml").write_text(config)
    with pytest.raises(ConfigError, match=message):
        run(RunOptions(paths=[tmp_path], jobs=1))


def test_options_change_the_maximum(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"jsonwebtoken": "9.0.2"}}')
    (tmp_path / ".loadlint.toml").write_text('[rules."auth/jwt-no-expiry"]\nmax-expiry = 3600\n')
    (tmp_path / "tokens.js").write_text(
        "const jwt = require('jsonwebtoken');\n"
        "exports.a = (id) => jwt.sign({ sub: id }, process.env.JWT_SECRET, { expiresIn: '1h' });\n"
        "exports.b = (id) => jwt.sign({ sub: id }, process.env.JWT_SECRET, { expiresIn: '2h' });\n"
    )
    report = run(RunOptions(paths=[tmp_path], select=["auth/jwt-no-expiry"], jobs=1)).report
    assert [(f.span.start_line, "2 hours" in f.message) for f in report.findings] == [(3, True)]
