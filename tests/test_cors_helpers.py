"""The CORS helpers under the rules: allowlist bypasses, environment conditions, origin path analysis, apps that
serve no routes, and CORS options or origins imported from other modules."""

from __future__ import annotations

import pytest

from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.flow.callees import Callee
from linter.formatters.sarif import sarif_log
from linter.js.deployment_checks import development_when_true
from linter.model import Level
from linter.rules.cors._cors_calls import cors_options
from linter.rules.cors._imported_cors import OPTIONS, ORIGIN, ImportedPolicy, exported_only, imported_policies, module_value
from linter.rules.cors._served_routes import serves_no_routes
from linter.rules.cors._origin_allowlists import bypass, matches_any_origin, string_check_bypass
from linter.rules.cors._origin_names import OriginNames
from linter.rules.cors._origin_paths import allows
from linter.syntax import parse, text, walk
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif


@pytest.mark.parametrize(
    ("pattern", "origin"),
    [
        (r"example\.com", "https://example.com.evil.io"),
        (r"^https:\/\/.*example\.com", "https://example.com.evil.io"),
        (r"^https:\/\/.*example\.com$", "https://evilexample.com"),
        (r"example\.com$", "https://evilexample.com"),
        (r"^https:\/\/app.example\.com$", "https://appxexample.com"),
        (r"localhost", "https://localhost.evil.io"),
        (r"^https:\/\/.*\.vercel\.app$", "https://someone-else.vercel.app"),
        (r"^https:\/\/[\w-]+\.github\.io$", "https://someone-else.github.io"),
    ],
)
def test_leaky_regexes_name_an_origin_that_passes(pattern, origin):
    found = bypass(pattern, "")
    assert found is not None and found.origin == origin


@pytest.mark.parametrize(
    "pattern",
    [
        r"^https:\/\/(www\.)?example\.com$",
        r"\.example\.com$",
        r"^https:\/\/([a-z0-9-]+\.)*example\.com$",
        r"^https?:\/\/localhost(:\d+)?$",
        r"^https:\/\/example.com$",  # the dot only lets in `examplexcom`, which nobody can register
        r"^capacitor:\/\/localhost",
        r".*",
        r"^https:\/\/shop-admin\.netlify\.app$",  # one site on a shared hosting domain
    ],
)
def test_tight_regexes_pass_no_foreign_origin(pattern):
    assert bypass(pattern, "i") is None


def test_match_everything_regexes():
    assert matches_any_origin(".*", "") and matches_any_origin("^.+$", "")
    assert not matches_any_origin(r"\.example\.com$", "")


@pytest.mark.parametrize(
    ("method", "value", "origin"),
    [
        ("startsWith", "http://localhost", "http://localhost.evil.io"),
        ("includes", ".vercel.app", "https://evil.vercel.app.evil.io"),
        ("endsWith", "example.com", "https://evilexample.com"),
        ("startsWith", "http://localhost:", None),
        ("startsWith", "https://app.example.com/", None),
        ("endsWith", ".example.com", None),
        ("endsWith", ".vercel.app", "https://someone-else.vercel.app"),
        ("endsWith", ".app.example.com", None),
    ],
)
def test_string_checks(method, value, origin):
    found = string_check_bypass(method, value)
    assert (found.origin if found else None) == origin


def _expression(source: str, language: str = "javascript"):
    tree = parse(source.encode(), language)
    return tree.root_node.named_children[0].named_children[0]


@pytest.mark.parametrize(
    ("condition", "development"),
    [
        ("process.env.NODE_ENV !== 'production'", True),
        ("process.env.NODE_ENV === 'production'", False),
        ("nodeEnv === 'development'", True),
        ("isDev", True),
        ("config.isProduction", False),
        ("app.get('env') === 'development'", True),
        ("process.env.CORS_STRICT === 'true'", None),
        ("req.path === '/health'", None),
    ],
)
def test_development_conditions(condition, development):
    assert development_when_true(_expression(condition)) is development


def _unchecked_allows(source: str) -> list[str]:
    """The `cb(null, …)` calls that a path reaches with an unchecked origin, in the first function."""
    tree = parse(source.encode(), "javascript")
    fn = next(n for n in walk(tree.root_node) if n.type in ("function_declaration", "arrow_function"))
    names = OriginNames(["origin"]).learn(fn.child_by_field_name("body"))

    def sink_value(node):
        if node.type == "call_expression" and text(node.child_by_field_name("function")) == "cb":
            arguments = node.child_by_field_name("arguments").named_children
            return arguments[1] if len(arguments) == 2 and arguments[0].type == "null" else None
        return None

    reached = allows(fn, names, sink_value)
    return [text(r.sink) for r in reached if any(s.unchecked for s in r.states)]


def test_log_and_allow_is_reached_unchecked():
    source = """function check(origin, cb) {
  if (!origin || allowed.includes(origin)) return cb(null, true);
  console.warn(origin);
  return cb(null, origin);
}"""
    assert _unchecked_allows(source) == ["cb(null, origin)"]


def test_allows_behind_checks_and_in_development_are_not():
    source = """function check(origin, cb) {
  if (process.env.NODE_ENV !== 'production') return cb(null, true);
  const host = new URL(origin).hostname;
  if (allowed.indexOf(origin) === -1 && !host.endsWith('.example.com')) return cb(new Error('no'));
  cb(null, origin);
}"""
    assert _unchecked_allows(source) == []


def test_a_result_that_is_the_test_is_checked():
    assert _unchecked_allows("const f = (origin, cb) => cb(null, !origin || list.includes(origin));") == []
    assert _unchecked_allows("const f = (origin, cb) => cb(null, origin || true);") == ["cb(null, origin || true)"]


# --- apps that serve no routes ----------------------------------------------------------------------------------


def _file(source: str, path: str = "worker.js"):
    language = "typescript" if path.endswith(".ts") else "javascript"
    return FileContext(path, source.encode(), language, parse(source.encode(), language))


def _cors_call_serves_no_routes(source: str) -> bool:
    file = _file(source)
    call = next(n for n in walk(file.root) if n.type == "call_expression" and cors_options(n, file) is not None)
    return serves_no_routes(call, file)


_WORKER_HEAD = """const express = require('express');
const cors = require('cors');
const helmet = require('helmet');
const app = express();
app.use(cors({ origin: true, credentials: true }));
"""


@pytest.mark.parametrize(
    "rest",
    [
        "app.use(express.json());\napp.listen(8080);",
        "app.use(helmet());\napp.set('trust proxy', 1);\nrequire('http').createServer(app).listen(8080);",
        "const limiter = helmet();\napp.use('/x', limiter);\nprocess.on('SIGTERM', () => app.close());",
    ],
)
def test_an_app_with_only_middleware_and_listen_serves_no_routes(rest):
    assert _cors_call_serves_no_routes(_WORKER_HEAD + rest)


@pytest.mark.parametrize(
    "rest",
    [
        "app.get('/jobs/:id', (req, res) => res.json({}));",  # a route
        "app.use('/api', require('./routes'));",  # a router
        "app.use((req, res) => res.send('ok'));",  # a handler
        "module.exports = app;",  # others may add routes
        "registerRoutes(app);",  # handed to other code
        "server.applyMiddleware({ app });",  # the same, in shorthand
        "app.route('/jobs').get((req, res) => res.end());",
        "app.use(express.static('public'));",  # serves files
    ],
)
def test_any_route_or_other_use_of_the_app_may_serve_routes(rest):
    assert not _cors_call_serves_no_routes(_WORKER_HEAD + rest)


def test_an_app_that_is_not_created_here_may_serve_routes():
    source = "const cors = require('cors');\nmodule.exports = (app) => { app.use(cors({ origin: true })); };"
    assert not _cors_call_serves_no_routes(source)
    exported = "import express from 'express';\nimport cors from 'cors';\nexport const app = express();\napp.use(cors());"
    assert not _cors_call_serves_no_routes(exported)


def test_fastify_plugins_count_like_middleware():
    head = "import Fastify from 'fastify';\nimport cors from '@fastify/cors';\nimport helmet from '@fastify/helmet';\n"
    head += "const app = Fastify();\napp.register(cors, { origin: true, credentials: true });\n"
    assert _cors_call_serves_no_routes(head + "app.register(helmet);\napp.listen({ port: 3000 });")
    assert not _cors_call_serves_no_routes(head + "app.register(import('./routes'));")
    assert not _cors_call_serves_no_routes(head + "app.get('/', async () => ({}));")


# --- CORS options and origins from other modules -----------------------------------------------------------------


def _policies(source: str, path: str = "app.ts"):
    file = _file(source, path)
    return [(text(anchor).split("(")[0], policy) for anchor, policy in imported_policies(file)]


def test_imported_options_and_origins_are_recorded():
    source = """import cors from 'cors';
import { corsOptions, checkOrigin, shared } from './config/cors';
import * as config from '@/config';
import getOptions from './options';
app.use(cors(corsOptions));
app.use(cors(config.cors.api));
app.use(cors(getOptions()));
app.use(cors({ origin: checkOrigin, credentials: true }));
app.use(cors({ ...shared, credentials: true }));
const local = { origin: config.origin };
app.use(cors(local));
app.enableCors(corsOptions);
NestFactory.create(AppModule, { cors: corsOptions });
app.use(cors({ origin: ['https://example.com'], credentials: true }));
app.use(cors({ ...shared, origin: true }));
"""
    found = [(anchor, p.part, p.source, p.called, p.credentials is not None) for anchor, p in _policies(source)]
    assert found == [
        ("cors", OPTIONS, Callee("./config/cors", "corsOptions"), False, False),
        ("cors", OPTIONS, Callee("@/config", "*", ("cors", "api")), False, False),
        ("cors", OPTIONS, Callee("./options", "default"), True, False),
        ("cors", ORIGIN, Callee("./config/cors", "checkOrigin"), False, True),
        ("cors", OPTIONS, Callee("./config/cors", "shared"), False, True),
        ("cors", ORIGIN, Callee("@/config", "*", ("origin",)), False, False),
        ("app.enableCors", OPTIONS, Callee("./config/cors", "corsOptions"), False, False),
        ("cors: corsOptions", OPTIONS, Callee("./config/cors", "corsOptions"), False, False),
    ]


def test_inline_requires_are_imports():
    source = """const cors = require('cors');
app.use(cors(require('./cors')));
app.use(cors(require('./cors').corsOptions));
app.use(cors(require('./cors').makeOptions()));
app.use(cors({ origin: require('./origin').check, credentials: true }));
"""
    found = [(p.part, p.source, p.called) for _, p in _policies(source, "app.js")]
    assert found == [
        (OPTIONS, Callee("./cors", "*"), False),
        (OPTIONS, Callee("./cors", "*", ("corsOptions",)), False),
        (OPTIONS, Callee("./cors", "*", ("makeOptions",)), True),
        (ORIGIN, Callee("./origin", "*", ("check",)), False),
    ]


def test_an_imported_policy_survives_its_data_and_refuses_bad_data():
    (_, policy), *_ = _policies("import cors from 'cors';\nimport { check } from './o';\ncors({ origin: check, credentials: true });")
    assert ImportedPolicy.from_data(policy.to_data()) == policy
    with pytest.raises(TypeError):
        ImportedPolicy.from_data({**policy.to_data(), "part": "everything"})
    with pytest.raises(TypeError):
        ImportedPolicy.from_data({**policy.to_data(), "credentials": [1, 2, 3, 4]})


@pytest.mark.parametrize(
    ("source", "key", "value"),
    [
        ("export const corsOptions = { origin: true };", "corsOptions", "{ origin: true }"),
        ("const base = { origin: true };\nexport default base;", "base", "{ origin: true }"),
        ("export default { origin: false };", "<default>", "{ origin: false }"),
        ("module.exports = { origin: 'a' };", "<exports>", "{ origin: 'a' }"),
        ("exports.cors = { origin: 'b' };", "<exports>.cors", "{ origin: 'b' }"),
        ("module.exports = { cors: { origin: 'c' } };", "<exports>.cors.origin", "'c'"),
        ("const config = { cors: { api: opts } };\nconst opts = { origin: 'd' };", "config.cors.api", "{ origin: 'd' }"),
        ("export function check(origin, cb) { cb(null, true); }", "check", None),
        ("import { elsewhere } from './x';\nexport { elsewhere };", "elsewhere", "none"),
    ],
)
def test_module_value_finds_what_a_key_names(source, key, value):
    found = module_value(_file(source), key)
    if value == "none":  # an import of the module: `imported_value` follows it
        assert found is None
    elif value is None:
        assert found is not None and found.type == "function_declaration"
    else:
        assert found is not None and text(found) == value


def _exported_only(source: str, path: str = "cors.js") -> list[str]:
    """The first key of each object literal of `source` that `exported_only` lists."""
    file = _file(source, path)
    listed = exported_only(file)
    return [text(n.named_children[0]).split(":")[0] for n in walk(file.root) if n.type == "object" and n.start_byte in listed]


@pytest.mark.parametrize(
    ("source", "listed"),
    [
        ("exports.corsOptions = { origin: true };", ["origin"]),
        ("module.exports.corsOptions = { origin: true };", ["origin"]),
        ("module.exports = { origin: true };", ["origin"]),
        ("const corsOptions = { origin: true };\nmodule.exports = corsOptions;", ["origin"]),
        # the object `module.exports` is set to is listed too (it is exported and never used)
        ("const corsOptions = { origin: true };\nmodule.exports = { corsOptions };", ["origin", "corsOptions"]),
        ("const a = { origin: true };\nmodule.exports = { corsOptions: a };", ["origin", "corsOptions"]),
        ("export const corsOptions = { origin: true };\nexport default corsOptions;", ["origin"]),
        ("const a = { origin: true };\nexport { a as corsOptions };", ["origin"]),
        ("export default { origin: true };", ["origin"]),
        ("export function corsOptions() {\n  if (dev) return { dev: 1 };\n  return { origin: true };\n}", ["dev", "origin"]),
        ("exports.make = () => ({ origin: true });", ["origin"]),
        ("export const config = { port: 1, api: { origin: true } };", ["port", "origin"]),
        # used by the module itself: judged there, as any configuration
        ("const corsOptions = { origin: true };\napp.use(cors(corsOptions));\nmodule.exports = { corsOptions };", ["corsOptions"]),
        ("export const corsOptions = { origin: true };\nexport const open = () => withHeaders(corsOptions);", []),
        ("export function corsOptions() { return { origin: true }; }\napp.use(cors(corsOptions()));", []),
        ("const shared = { origin: true };\nexport const config = { api: shared };\nuse(shared);", ["api"]),
        # not exported
        ("const corsOptions = { origin: true };", []),
        ("function setup(app) { app.use(cors({ origin: true })); }\nmodule.exports = setup;", []),
        # under a `cors:` key, where socket.io or NestFactory.create read it
        ("export const socketOptions = { cors: { origin: true } };", ["cors"]),
    ],
)
def test_exported_only_lists_the_objects_a_module_exports_and_never_uses(source, listed):
    assert _exported_only(source) == listed


_SESSION_MIDDLEWARE = "const session = require('express-session');\nmodule.exports = session({ secret: 's' });\n"


def test_a_cross_module_finding_names_both_files_and_links_them_in_sarif(tmp_path):
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "api", "dependencies": {"express": "4.19.2", "cors": "2.8.5", "express-session": "1.18.0"}}',
            "src/session.js": _SESSION_MIDDLEWARE,
            "src/origin.js": (
                "const listed = ['https://app.example.com'];\n"
                "exports.check = (origin, cb) => {\n"
                "  if (listed.includes(origin)) return cb(null, true);\n"
                "  return cb(null, true);\n"
                "};\n"
            ),
            "src/app.js": (
                "const express = require('express');\nconst cors = require('cors');\n"
                "const { check } = require('./origin');\nconst app = express();\n"
                "app.use(cors({ origin: check, credentials: true }));\n"
                "app.get('/me', (req, res) => res.json(req.user));\nmodule.exports = app;\n"
            ),
        },
    )
    for _ in range(2):  # the second run reads the facts from the cache
        report = run(RunOptions(paths=[tmp_path], jobs=1, select=["cors"])).report
        (finding,) = report.active_findings
        assert (finding.path, finding.span.start_line, finding.level) == ("src/origin.js", 4, Level.ERROR)
        assert "src/origin.js" in finding.message and "src/app.js" in finding.message
        assert {loc.path for loc in finding.related} == {"src/origin.js", "src/app.js"}
        assert [(step.path, step.span.start_line) for step in finding.code_flow] == [("src/app.js", 5), ("src/origin.js", 4)]
    log = sarif_log(report)
    assert_valid_sarif(log)
    (result,) = log["runs"][0]["results"]
    (flow,) = result["codeFlows"]
    uris = [s["location"]["physicalLocation"]["artifactLocation"]["uri"] for s in flow["threadFlows"][0]["locations"]]
    assert uris == ["src/app.js", "src/origin.js"]


def test_options_two_modules_apply_are_one_finding_linking_both(tmp_path):
    app = (
        "const express = require('express');\nconst cors = require('cors');\n"
        "const { openCors } = require('./cors');\nconst app = express();\n"
        "app.use(cors(openCors));\napp.get('/me', (req, res) => res.json(req.user));\nmodule.exports = app;\n"
    )
    write_files(
        tmp_path,
        {
            "package.json": '{"name": "api", "dependencies": {"express": "4.19.2", "cors": "2.8.5", "express-session": "1.18.0"}}',
            "src/session.js": _SESSION_MIDDLEWARE,
            "src/cors.js": "exports.openCors = {\n  origin: true,\n  credentials: true,\n};\n",
            "src/public.js": app,
            "src/admin.js": app,
        },
    )
    report = run(RunOptions(paths=[tmp_path], jobs=1, select=["cors"])).report
    (finding,) = report.active_findings
    assert (finding.path, finding.span.start_line) == ("src/cors.js", 2)
    assert {loc.path for loc in finding.related} == {"src/cors.js", "src/admin.js", "src/public.js"}


def _credentialed_findings(tmp_path, files: dict[str, str]) -> list[str]:
    write_files(tmp_path, files)
    report = run(RunOptions(paths=[tmp_path], jobs=1, select=["cors"])).report
    return sorted(f"{f.path}:{f.span.start_line}" for f in report.active_findings)


_OPEN_API = (
    "const express = require('express');\nconst cors = require('cors');\nconst app = express();\n"
    "app.use(cors({ origin: true, credentials: true }));\napp.get('/me', (req, res) => res.json({}));\n"
    "module.exports = app;\n"
)


def test_credentials_count_only_in_an_app_that_has_some(tmp_path):
    manifest = '{"name": "api", "dependencies": {"express": "4.19.2", "cors": "2.8.5"%s}}'
    assert _credentialed_findings(tmp_path / "bare", {"package.json": manifest % "", "app.js": _OPEN_API}) == []
    # A session library counts where the code uses it, not where the manifest only lists it.
    declared_session = {"package.json": manifest % ', "express-session": "1.18.0"', "app.js": _OPEN_API}
    assert _credentialed_findings(tmp_path / "declared", declared_session) == []
    mounted = "const session = require('express-session');\nmodule.exports = (app) => app.use(session({ secret: 's' }));\n"
    with_session = {"package.json": manifest % ', "express-session": "1.18.0"', "app.js": _OPEN_API, "session.js": mounted}
    assert _credentialed_findings(tmp_path / "session", with_session) == ["app.js:4"]
    reads_cookies = {"package.json": manifest % "", "app.js": _OPEN_API, "me.js": "module.exports = (req) => req.headers.cookie;\n"}
    assert _credentialed_findings(tmp_path / "cookies", reads_cookies) == ["app.js:4"]
    # A session the request carries counts; a `Session` table and a session token in a response body do not.
    session_table = (
        "const { Session } = require('./models');\n"
        "module.exports = async (req, res) => res.json(await Session.create({ sessionToken: req.body.token }));\n"
    )
    tokens = {"package.json": manifest % "", "app.js": _OPEN_API, "sessions.js": session_table}
    assert _credentialed_findings(tmp_path / "tokens", tokens) == []
    reads_session = {"package.json": manifest % "", "app.js": _OPEN_API, "me.js": "module.exports = (req) => req.session.user;\n"}
    assert _credentialed_findings(tmp_path / "reads-session", reads_session) == ["app.js:4"]
    # A file that cannot be read counts only when the code imports it: one nothing imports is a bundled asset.
    unreadable = "var c=document.cookie;" * 2000  # minified: not read
    vendored = {"package.json": manifest % "", "app.js": _OPEN_API, "public/vendor/render.js": unreadable}
    assert _credentialed_findings(tmp_path / "vendored", vendored) == []
    imported = {"package.json": manifest % "", "app.js": _OPEN_API + "require('./lib/render');\n", "lib/render.js": unreadable}
    assert _credentialed_findings(tmp_path / "imported", imported) == ["app.js:4"]
    # No manifest to judge by, or a package of the repository that may read cookies for it: reported.
    assert _credentialed_findings(tmp_path / "loose", {"app.js": _OPEN_API}) == ["app.js:4"]
    workspace = {
        "package.json": '{"name": "root", "private": true}',
        "apps/api/package.json": manifest % ', "@acme/identity": "*"',
        "apps/api/app.js": _OPEN_API,
        "packages/identity/package.json": '{"name": "@acme/identity"}',
        "packages/identity/index.js": "module.exports = {};\n",
    }
    assert _credentialed_findings(tmp_path / "workspace", workspace) == ["apps/api/app.js:4"]
