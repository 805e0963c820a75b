"""auth/secret-fallback beyond the fixtures: the shared helpers it is built on (secret names, env reads,
callee resolution) and the shape of its findings."""

from __future__ import annotations

import pytest

from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.rules.auth._env import env_var_name, setting_name
from linter.js.references import resolve_imported
from linter.rules.auth._secrets import is_secret_name, may_hold_a_secret_name, may_name_a_secret_at
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


@pytest.mark.parametrize(
    "source",
    ["const k = cfg.api.key || 'dev'; // PASSport, tokenizer", "x.KEY ?? y.Hmac; privateKEYS = saltpepper", "apikeyapi passwd saltoken"],
)
def test_secret_words_found_by_place_agree_with_a_scan_of_each_range(source):
    file = _file(source)
    data = source.encode()
    for start in range(len(data) + 1):
        for end in range(start, len(data) + 1):
            assert may_name_a_secret_at(file, start, end) == may_hold_a_secret_name(data[start:end].lower()), (start, end)


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


# --- across modules, on the flow engine --------------------------------------------------------------------

CONFIG_MODULE = (
    "export const config = {\n"
    "  jwt: {\n"
    "    secret: process.env.TOKEN_SIGNER || 'changeme',\n"
    "  },\n"
    "};\n"
)
SIGNING_MODULE = (
    "import jwt from 'jsonwebtoken';\n"
    "import { config } from '../config';\n"
    "\n"
    "export const issue = (id: string) => jwt.sign({ id }, config.jwt.secret, { expiresIn: '1h' });\n"
)


def _project(tmp_path, files: dict[str, str]):
    from tests.project_builder import write_files

    write_files(tmp_path, {"package.json": '{"name": "api", "dependencies": {"jsonwebtoken": "9.0.2"}}', **files})
    return run(RunOptions(paths=[tmp_path], jobs=1)).report


def _secret_findings(report):
    return [f for f in report.active_findings if f.rule_id == RULE]


def test_a_config_value_is_reported_where_it_is_written_with_its_use_in_another_module(tmp_path):
    from linter.formatters.sarif import sarif_log
    from tests.sarif_schema import assert_valid_sarif

    report = _project(tmp_path, {"src/config/index.ts": CONFIG_MODULE, "src/auth/tokens.ts": SIGNING_MODULE})
    (finding,) = _secret_findings(report)
    assert (finding.path, finding.span.start_line, finding.span.start_column) == ("src/config/index.ts", 3, 41)
    assert "TOKEN_SIGNER" in finding.message and "src/auth/tokens.ts" in finding.message
    assert [(r.path, r.span.start_line) for r in finding.related] == [("src/auth/tokens.ts", 4)]
    assert [(step.path, step.span.start_line) for step in finding.code_flow] == [
        ("src/config/index.ts", 3),
        ("src/auth/tokens.ts", 4),
        ("src/auth/tokens.ts", 4),
    ]
    log = sarif_log(report)
    assert_valid_sarif(log)
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == RULE]
    (thread,) = result["codeFlows"][0]["threadFlows"]
    uris = [step["location"]["physicalLocation"]["artifactLocation"]["uri"] for step in thread["locations"]]
    assert uris == ["src/config/index.ts", "src/auth/tokens.ts", "src/auth/tokens.ts"]


def test_an_ignore_on_the_written_value_silences_a_finding_made_across_modules(tmp_path):
    ignored = CONFIG_MODULE.replace(
        "    secret:", "    // loadlint-ignore auth/secret-fallback -- a local demo, never deployed\n    secret:"
    )
    report = _project(tmp_path, {"src/config/index.ts": ignored, "src/auth/tokens.ts": SIGNING_MODULE})
    assert not [f for f in report.active_findings if f.rule_id in (RULE, "loadlint/unused-suppression")]
    assert [f.rule_id for f in report.findings if f.suppressed] == [RULE]


def test_a_value_used_in_its_module_and_in_another_is_one_finding(tmp_path):
    constants = "import jwt from 'jsonwebtoken';\nexport const SECRET = 'shared';\nexport const check = (t: string) => jwt.verify(t, SECRET);\n"
    report = _project(tmp_path, {"src/constants.ts": constants, "src/auth.ts": SIGNING_MODULE.replace("../config", "./constants").replace("config.jwt.secret", "SECRET").replace("{ config }", "{ SECRET }")})
    (finding,) = _secret_findings(report)
    assert (finding.path, finding.span.start_line) == ("src/constants.ts", 2)
    assert sorted((r.path, r.span.start_line) for r in finding.related) == [("src/auth.ts", 4), ("src/constants.ts", 3)]


def test_a_value_behind_an_exported_one_and_used_locally_is_reported_once(tmp_path):
    config = (
        "import jwt from 'jsonwebtoken';\n"
        "const fallback = process.env.TOKEN_SIGNER || 'changeme';\n"
        "export const config = { jwt: { secret: fallback } };\n"
        "export const local = (t: string) => jwt.verify(t, fallback);\n"
    )
    report = _project(tmp_path, {"src/config/index.ts": config, "src/auth/tokens.ts": SIGNING_MODULE})
    assert [(f.path, f.span.start_line) for f in _secret_findings(report)] == [("src/config/index.ts", 2)]


@pytest.mark.parametrize(
    "name, value",
    [("DATABASE_PASSWORD", "postgres"), ("REDIS_PASSWORD", "password"), ("DB_PASS", None), ("SMTP_PASSWORD", None),
     ("GOOGLE_CLIENT_SECRET", None), ("oidcClientSecret", None), ("TWITTER_API_KEY", "dummyApiKey"),
     ("GOOGLE_SECRET", "dummySecret")],
)  # fmt: skip
def test_the_apps_own_logins_at_other_services(name, value):
    from linter.rules.auth._secrets import is_outbound_credential

    assert is_outbound_credential(name, value)


@pytest.mark.parametrize(
    "name, value",
    [("JWT_SECRET", "dummySecret"), ("SESSION_SECRET", "password"), ("DATABASE_ENCRYPTION_KEY", "x"),
     ("ADMIN_PASSWORD", "admin"), ("STRIPE_WEBHOOK_SECRET", "dummy"), ("NEXTAUTH_SECRET", "dummy"),
     ("TWITTER_API_KEY", "k9Xq2LmPz8"), ("API_KEY", "dummy"), ("SMTP_SIGNING_KEY", "x"),
     ("EMAIL_VERIFICATION_SECRET", "dev"), ("REDIS_TOKEN", "local")],
)  # fmt: skip
def test_secrets_of_the_app_itself(name, value):
    from linter.rules.auth._secrets import is_outbound_credential

    assert not is_outbound_credential(name, value)


@pytest.mark.parametrize(
    "path, is_test",
    [("integration/setup.ts", True), ("apps/web/integration/setup.ts", True), ("packages/db/integration/reset.ts", True),
     ("apps/web/app/api/shopify/integration/webhook/route.ts", False), ("src/integration/slack.ts", False)],
)  # fmt: skip
def test_integration_suites_at_a_package_root_are_tests(path, is_test):
    from linter.paths import is_test_path

    assert is_test_path(path) is is_test


def _traced(source: str, use: str):
    from linter.flow.tracer import Tracer
    from linter.rules.auth._secret_flow import HARD_CODED_SECRETS

    file = _file(source)
    node = [n for n in walk(file.root) if n.type in ("identifier", "member_expression") and n.text.decode() == use][-1]
    return Tracer(file, HARD_CODED_SECRETS).trace(node)


@pytest.mark.parametrize(
    "source, use",
    [
        ("const c = { jwt: { secret: 'nested' } };\nsign(c.jwt.secret);", "c.jwt.secret"),
        ("class T { private secret = 'field'; run() { return sign(this.secret); } }", "this.secret"),
        ("class T { constructor() { this.key = 'assigned'; } run() { sign(this.key); } }", "this.key"),
        ("const opts = {};\nopts.secretOrKey = 'written';\nsign(opts.secretOrKey);", "opts.secretOrKey"),
        ("export function f(secret = 'default') { return sign(secret); }", "secret"),
    ],
)
def test_the_engine_follows_written_values_to_their_use(source, use):
    from linter.rules.auth._secret_flow import is_source

    flow = _traced(source, use)
    assert is_source(flow), flow
    assert flow.steps[0].node.type == "string"


def test_the_engine_stops_at_an_imported_name_for_the_project_phase():
    from linter.rules.auth._secret_flow import imported_callee, is_imported

    flow = _traced("import settings from './settings';\nsign(settings.auth.key);", "settings.auth.key")
    assert is_imported(flow)
    assert imported_callee(flow).to_data() == ["./settings", "default", ["auth", "key"]]


# --- what the app presents to other services, and settings nothing reads -----------------------------------


@pytest.mark.parametrize(
    "name, salt",
    [("PTC_ROLLOUT_SALT", True), ("ptc.rolloutSalt", True), ("PASSWORD_SALT", False), ("PASSWORD_PEPPER", False),
     ("INVITE_SALT_KEY", True), ("JWT_SECRET", False)],
)  # fmt: skip
def test_a_salt_alone_is_not_a_secret(name, salt):
    from linter.rules.auth._secrets import only_a_salt

    assert only_a_salt(name) is salt


@pytest.mark.parametrize(
    "source, login",
    [
        ("x = { store: { endPoint: 'h', secretKey: process.env.S || 'k' } }", "secretKey"),
        ("x = { local: { baseUrl: u, apiKey: process.env.K || 'k' } }", "apiKey"),
        ("function f(p) { const { region = '', secretAccessKey = '' } = p; }", "secretAccessKey"),
        # A module's flat settings, an option the app signs with, a group with no address: not a login.
        ("module.exports = { url: u, apiKey: process.env.K || 'k' }", None),
        ("x = { jwt: { url: u, secret: process.env.S || 'k' } }", None),
        ("x = { store: { bucket2: 'b', secretKey: process.env.S || 'k' } }", None),
    ],
)
def test_connection_logins(source, login):
    from linter.rules.auth._secrets import connection_login

    file = _file(source)
    value = [n for n in walk(file.root) if n.type == "string" and n.text in (b"'k'", b"''")][-1]
    assert connection_login(value) == login


@pytest.mark.parametrize(
    "source, key",
    [
        ("export default () => ({ auth: { jwt: { secret: process.env.S || 'k' } } });", "auth.jwt.secret"),
        ("export default function () { return { mail: { key: process.env.S || 'k' } }; }", "mail.key"),
        ("export default function load() { return { mail: { key: process.env.S || 'k' } }; }", "mail.key"),
        ("export default function load() { const f = () => ({ key: process.env.S || 'k' }); return f; }", None),
        ("export default () => { return { mail: { key: process.env.S || 'k' } }; };", "mail.key"),
        ("export default registerAs('auth', () => ({ secret: process.env.S || 'k' }));", "auth.secret"),
        ("export const c = () => ({ secret: process.env.S || 'k' });", None),
    ],
)
def test_configuration_factory_keys(source, key):
    from linter.rules.auth._config_keys import factory_key

    file = _file(source)
    value = [n for n in walk(file.root) if n.type == "string" and n.text == b"'k'"][-1]
    assert factory_key(value) == key


@pytest.mark.parametrize(
    "read, reaches",
    [("auth.jwt.secret", True), ("auth.jwt", True), ("auth", True), ("auth.", True), ("", True),
     ("auth.jwtSecret", False), ("au", False), ("auth.jwt.secret.old", False)],
)  # fmt: skip
def test_key_reads_that_reach_a_setting(read, reaches):
    from linter.rules.auth._config_keys import _reaches

    assert _reaches(read, "auth.jwt.secret") is reaches
