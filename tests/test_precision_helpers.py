"""Helpers behind the precision work of issue 17: what a signed token is for, which database a connection URL
points at, and a grammar quirk of `await f<T>()`."""

from __future__ import annotations

import pytest

from linter.js.expressions import callee, property_name
from linter.rules.auth._token_purpose import token_purpose
from linter.rules.prisma.no_connection_limit import _host, _is_local, _replicas
from linter.syntax import parse, walk


def _sign_calls(source: str):
    tree = parse(source.encode(), "typescript")
    return [n for n in walk(tree.root_node) if n.type == "call_expression" and property_name(callee(n)) == "sign"]


def _purpose(source: str) -> str:
    (call,) = _sign_calls(source)
    arguments = call.child_by_field_name("arguments").named_children
    return token_purpose(call, arguments[0] if arguments else None)


@pytest.mark.parametrize(
    "source, purpose",
    [
        ("function f(u) { return jwt.sign({ sub: u.id }, k); }", "access"),
        # What it grants: a payload that names no user grants what it names.
        ("function f(t) { return jwt.sign({ trackId: t.id, exp: e }, k); }", "other"),
        ("function f(u, n) { return jwt.sign({ scope: 'user', external_id: u.id, name: n }, k); }", "access"),
        # Where it goes: into a link.
        ("function f(u, o) { const t = jwt.sign({ sub: u.id }, k); return `${o}/download/${t}`; }", "other"),
        ("function f(u) { return '/verify?token=' + jwt.sign({ sub: u.id }, k); }", "other"),
        ("function f(u) { const t = jwt.sign({ sub: u.id }, k); return { token: t, user: `${u.name}` }; }", "access"),
        # An account anyone may use.
        ("function f() { return jwt.sign({ id: DEMO_USER_ID }, k); }", "other"),
        # Names, when the structure says nothing.
        ("function f(u) { const refreshToken = jwt.sign({ sub: u.id }, k); return refreshToken; }", "refresh"),
        ("function refreshAccessToken(u) { return jwt.sign({ sub: u.id }, k); }", "access"),
        ("function sendInvite(u) { return jwt.sign({ sub: u.id }, k); }", "other"),
    ],
)
def test_token_purpose(source, purpose):
    assert _purpose(source) == purpose


@pytest.mark.parametrize(
    "url, values, host, local",
    [
        ("postgresql://u:p@localhost:5432/app", {}, "localhost", True),
        ("postgres://u:p@127.0.0.1:54322/app", {}, "127.0.0.1", True),
        ("postgresql://u:p@db:5432/app", {}, "db", True),
        ("postgresql://USER:PASSWORD@HOST:5432/DB", {}, "host", True),
        ("postgresql://u:p@${DB_HOST}:5432/app", {"DB_HOST": "localhost"}, "localhost", True),
        ("postgresql://u:p@[::1]:5432/app", {}, "[::1]", True),
        ("postgresql://u:p@ep-x-1.us-east-2.aws.neon.tech/app?sslmode=require", {}, "ep-x-1.us-east-2.aws.neon.tech", False),
        ("postgresql://u:p@postgres.railway.internal:5432/railway", {}, "postgres.railway.internal", False),
    ],
)
def test_connection_url_hosts(url, values, host, local):
    assert _host(url, values) == host
    assert _is_local(host) is local


def test_unknown_host_variable_is_not_judged():
    assert _host("postgresql://u:p@${DB_HOST}:5432/app", {}) is None


def test_compose_replicas_are_read_per_service():
    source = (
        b"services:\n"
        b"    api:\n"
        b"        deploy:\n"
        b"            replicas: 3\n"
        b"        environment:\n"
        b"            DATABASE_URL: postgres://a:b@db:5432/x\n"
        b"    cron:\n"
        b"        environment:\n"
        b"            - DATABASE_URL=postgres://a:b@db:5432/x\n"
    )
    assert _replicas(source, source.index(b"postgres://")) == 3
    assert _replicas(source, source.rindex(b"postgres://")) == 1


def test_awaited_call_with_type_arguments_has_the_awaited_callee():
    # tree-sitter-typescript reads `await A.create<T>(x)` as a call of `(await A.create)`.
    tree = parse(b"async function f() { const app = await NestFactory.create<App>(AppModule); }", "typescript")
    (call,) = [n for n in walk(tree.root_node) if n.type == "call_expression"]
    assert callee(call).type == "member_expression" and property_name(callee(call)) == "create"


def test_serverless_packages_get_the_connection_limit_one_advice(tmp_path):
    import shutil

    from linter.engine import RunOptions, run
    from tests.fixture_cases import FIXTURES

    cases = FIXTURES / "prisma" / "no-connection-limit"
    messages = {}
    for case in ("lambda-api", "express-api"):
        shutil.copytree(cases / case, tmp_path / case)
        report = run(RunOptions(paths=[tmp_path / case], jobs=1)).report
        messages[case] = [f.message for f in report.active_findings if f.rule_id == "prisma/no-connection-limit"]
    (serverless,) = messages["lambda-api"]
    assert "serverless functions" in serverless and "`connection_limit=1`" in serverless
    assert all("connection_limit=1" not in message for message in messages["express-api"])
    assert any("each of the service's 4 replicas" in message for message in messages["express-api"])


def test_what_exports_mention_is_kept_per_module_for_both_questions():
    # One walk of the exports answers both questions, and each module has its own answers.
    from linter.js.functions import exports_mention
    from linter.js.invocation import call_sites

    tree = parse(b"const client = create()\nexport const db = create()\nexport { client }\n", "typescript")
    root = tree.root_node
    assert exports_mention(root, {"create"}) and not exports_mention(root, {"create"}, called_ok=True)
    assert exports_mention(root, {"client"}, called_ok=True) and not exports_mention(root, {"nothing"})
    other = parse(b"function create() {}\nexport const db = 1\ncreate()\n", "typescript").root_node
    assert not exports_mention(other, {"create"}) and exports_mention(root, {"client"}, called_ok=True)
    (declared,) = [n for n in walk(other) if n.type == "function_declaration"]
    assert [n.type for n in call_sites(declared, other)] == ["call_expression"]
