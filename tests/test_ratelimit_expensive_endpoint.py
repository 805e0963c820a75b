"""ratelimit/unlimited-expensive-endpoint beyond the fixtures: messages and code flows across modules, runs on
a few files, and the path questions it answers (Next.js URLs and matchers, `use` prefixes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import linter.engine as engine
from linter.engine import RunOptions, run
from linter.frameworks.admin_gates import under_prefix
from linter.needles import occurs_within
from linter.project import ProjectIndex
from linter.rules.ratelimit._next_matchers import matches
from linter.rules.ratelimit._endpoints import next_app_root, next_url
from linter.rules.ratelimit._limit_evidence import (
    _MAY_CAP,
    _MAY_CAP_WORDS,
    _MAY_LIMIT,
    _MAY_LIMIT_WORDS,
    LIMITER_NAME,
    _matches_at,
    may_name_limiter,
)
from tests.fixture_cases import FIXTURES
from tests.project_builder import analysed_paths, write_files

RULE = "ratelimit/unlimited-expensive-endpoint"
CASES = FIXTURES / "ratelimit" / "unlimited-expensive-endpoint"


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(CASES / case, target)
    return target


def _findings(paths: list[Path], use_cache: bool = False):
    report = run(RunOptions(paths=paths, jobs=1, select=[RULE], use_cache=use_cache)).report
    return [f for f in report.active_findings if f.rule_id == RULE]


def _where(findings) -> list[tuple[str, int, int]]:
    return [(f.path, f.span.start_line, len(f.code_flow)) for f in findings]


CALL_FORMS = [  # fixtures/…/call-forms: one route per form of calling sendDigest or of importing the handler
    ("src/routes/digest.routes.ts", 17, 3),  # `import { sendDigest as deliver }`
    ("src/routes/digest.routes.ts", 24, 3),  # `sendDigest?.(…)`
    ("src/routes/digest.routes.ts", 27, 3),  # `sendDigest /* … */ (…)`
    ("src/routes/digest.routes.ts", 34, 3),  # `const { sendDigest: send } = require(…)`
    ("src/routes/digest.routes.ts", 38, 3),  # `import { digestPlain as plainDigest }`
]


def test_every_form_of_calling_the_function_is_followed(tmp_path):
    assert _where(_findings([_copy("call-forms", tmp_path)])) == CALL_FORMS


def test_the_project_phase_parses_no_module_that_only_passes_the_function(tmp_path, monkeypatch):
    parsed = []
    parsed_file = ProjectIndex.parsed_file

    def recording(self, path, keep=True):
        parsed.append(path)
        return parsed_file(self, path, keep)

    monkeypatch.setattr(ProjectIndex, "parsed_file", recording)
    assert _where(_findings([_copy("call-forms", tmp_path)])) == CALL_FORMS
    assert "src/controllers/renamed.ts" in parsed  # a caller: the climb goes on in it
    assert "src/jobs/weekly.ts" not in parsed  # `queue.process('weekly-digest', sendDigest)`: no call there


_UNRELATED_CALLEE = {
    "package.json": '{"name": "digest", "dependencies": {"express": "4", "resend": "4"}}',
    "src/lib/mailer.ts": (
        "import { Resend } from 'resend';\nconst resend = new Resend(process.env.RESEND_KEY);\n"
        "export async function sendDigest(to: string, body: string) {\n"
        "  await resend.emails.send({ from: 'a@example.com', to, subject: 'Digest', html: body });\n}\n"
    ),
    # Leads to the mailer (it imports it) and exports `greeting`, which the controller calls too.
    "src/lib/format.ts": (
        "import { sendDigest } from './mailer';\nexport const senders = [sendDigest];\n"
        "export function greeting(name: string) {\n  return `<p>Hello ${name}</p>`;\n}\n"
    ),
    "src/controllers/digest.ts": (
        "import { sendDigest } from '../lib/mailer';\nimport { greeting } from '../lib/format';\n"
        "export async function digest(req, res) {\n"
        "  await sendDigest(req.body.email, greeting(req.body.name));\n  res.end();\n}\n"
    ),
    "src/app.ts": (
        "import express from 'express';\nimport { digest } from './controllers/digest';\n"
        "export const app = express();\napp.post('/digest', digest);\n"
    ),
}


def test_the_climb_resolves_only_the_calls_that_may_name_the_function(tmp_path, monkeypatch):
    """A caller's call of another function (`greeting()`, from a module that leads to the mailer) is not
    resolved on the way up from `sendDigest`: its module is not read for its export table."""
    parsed = []
    parsed_file = ProjectIndex.parsed_file

    def recording(self, path, keep=True):
        parsed.append(path)
        return parsed_file(self, path, keep)

    monkeypatch.setattr(ProjectIndex, "parsed_file", recording)
    repo = write_files(tmp_path / "digest", _UNRELATED_CALLEE)
    assert [(f.path, f.span.start_line) for f in _findings([repo])] == [("src/app.ts", 4)]
    assert "src/controllers/digest.ts" in parsed  # the caller: the climb goes on in it
    assert "src/lib/format.ts" not in parsed


def test_cached_and_partial_runs_find_what_a_cold_run_finds(tmp_path):
    repo = _copy("call-forms", tmp_path)
    routes = repo / "src" / "routes" / "digest.routes.ts"
    assert _where(_findings([repo], use_cache=True)) == CALL_FORMS  # cold, filling the cache
    assert _where(_findings([repo], use_cache=True)) == CALL_FORMS  # warm
    assert _where(_findings([routes, repo / "src" / "controllers" / "optional.ts"], use_cache=True)) == CALL_FORMS
    renamed = repo / "src" / "controllers" / "renamed.ts"
    renamed.write_text(renamed.read_text() + "\n// edited\n")  # its facts and the files the check read change
    assert _where(_findings([routes, renamed], use_cache=True)) == CALL_FORMS


def test_a_call_in_a_service_module_is_reported_at_the_route_with_every_call_on_the_way(tmp_path):
    repo = _copy("service-module", tmp_path)
    findings = {f.path: f for f in _findings([repo])}
    summaries = findings["src/routes/notes.routes.ts"]
    assert summaries.span.start_line == 9
    assert summaries.message.startswith(
        "`POST /summaries` calls OpenAI `openai.chat.completions.create()` (in src/services/summary.service.ts)"
    )
    assert [(step.path, step.span.start_line) for step in summaries.code_flow] == [
        ("src/routes/notes.routes.ts", 9),
        ("src/controllers/notes.controller.ts", 6),
        ("src/services/summary.service.ts", 7),
    ]
    assert [(r.path, r.span.start_line) for r in summaries.related] == [("src/services/summary.service.ts", 7)]


def test_a_run_on_the_routes_file_alone_still_follows_the_calls(tmp_path):
    repo = _copy("service-module", tmp_path)
    findings = _findings([repo / "src" / "routes" / "notes.routes.ts"])
    assert [(f.path, f.span.start_line) for f in findings] == [("src/routes/notes.routes.ts", 9)]


def test_a_run_on_the_service_alone_reports_nothing_there(tmp_path):
    repo = _copy("service-module", tmp_path)
    assert _findings([repo / "src" / "services" / "summary.service.ts"]) == []


_FEW_FILES_APP = {
    "package.json": '{"name": "app", "dependencies": {"express": "4", "openai": "4", "express-rate-limit": "7"}}',
    "src/routes/chat.ts": (
        "import { Router } from 'express';\nimport { ask } from '../services/ai';\n\nexport const chat = Router();\n"
        "chat.post('/chat', async (req, res) => {\n  res.json(await ask(req.body.question));\n});\n"
    ),
    "src/services/ai.ts": (
        "import OpenAI from 'openai';\n\nconst openai = new OpenAI();\n\nexport async function ask(question: string) {\n"
        "  return openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });\n}\n"
    ),
    **{
        f"src/routes/tool{index}.ts": (
            "import { Router } from 'express';\nimport OpenAI from 'openai';\n\nconst openai = new OpenAI();\n"
            f"export const tool{index} = Router();\ntool{index}.post('/tool{index}', async (req, res) => {{\n"
            "  res.json(await openai.images.generate({ prompt: req.body.prompt }));\n});\n"
        )
        for index in range(6)
    },
}


def _report_on_demand_and_not(paths: list[Path], monkeypatch):
    """The report of a no-cache run on `paths`, checked to be the one of the run that analyses every file first,
    and the files that run analysed."""
    analysed = analysed_paths(monkeypatch)
    report = run(RunOptions(paths=paths, jobs=1, select=[RULE], use_cache=False)).report
    on_demand = list(analysed)
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", False)
    assert run(RunOptions(paths=paths, jobs=1, select=[RULE], use_cache=False)).report == report
    monkeypatch.setattr(engine, "ANALYSE_ON_DEMAND", True)
    return report, on_demand


def test_a_run_on_a_few_files_reads_the_calls_of_the_modules_they_import_alone(tmp_path, monkeypatch):
    """A call leads only to the endpoints above it, in the modules importing its own: a run with no cache on a
    routes file reads the calls of the modules that file imports, and no other module with an expensive call is
    analysed (one naming no limiter cannot hold anything else the check reads)."""
    write_files(tmp_path, _FEW_FILES_APP)
    report, analysed = _report_on_demand_and_not([tmp_path / "src/routes/chat.ts"], monkeypatch)
    assert [(f.path, f.span.start_line) for f in report.findings] == [("src/routes/chat.ts", 5)]
    assert sorted(analysed) == ["src/routes/chat.ts", "src/services/ai.ts"]


def test_a_run_on_a_few_files_reads_the_limiters_of_every_module(tmp_path, monkeypatch):
    """A limiter applied to the app in a module the routes file does not import (where the router is mounted
    cannot be found, so it counts): that module is analysed, and the route is covered as in a run on every file."""
    files = dict(_FEW_FILES_APP)
    files["src/app.ts"] = (
        "import express from 'express';\nimport rateLimit from 'express-rate-limit';\n\nconst app = express();\n"
        "app.use(rateLimit({ windowMs: 60_000, limit: 20 }));\nfor (const name of ['chat']) app.use(require(`./routes/${name}`));\n"
        "app.listen(3000);\n"
    )
    write_files(tmp_path, files)
    report, analysed = _report_on_demand_and_not([tmp_path / "src/routes/chat.ts"], monkeypatch)
    assert report.findings == ()
    assert sorted(analysed) == ["src/app.ts", "src/routes/chat.ts", "src/services/ai.ts"]


def test_a_run_on_files_holding_no_endpoint_skips_the_check(tmp_path, monkeypatch):
    """Findings stand at endpoints: a run on a service module that holds none (only the expensive call) skips
    the project-wide check, and analyses no other file for it."""
    files = dict(_FEW_FILES_APP)
    files["src/app.ts"] = (
        "import express from 'express';\nimport rateLimit from 'express-rate-limit';\nimport { chat } from './routes/chat';\n\n"
        "const app = express();\napp.use(rateLimit({ windowMs: 60_000, limit: 20 }));\napp.use('/api', chat);\n"
    )
    write_files(tmp_path, files)
    report, analysed = _report_on_demand_and_not([tmp_path / "src/services/ai.ts"], monkeypatch)
    assert report.findings == ()
    assert analysed == ["src/services/ai.ts"]


@pytest.mark.parametrize(
    "path, source, may",
    [
        ("src/routes/chat.ts", "router.post('/chat', handler);\n", True),
        ("src/routes/chat.ts", "router.route('/chat').post(handler);\n", True),
        ("src/routes/chat.ts", "app.get(`/chat/${id}`, auth, (req, res) => res.end());\n", True),
        ("src/app/api/chat/route.ts", "export const dynamic = 'force-dynamic';\n", True),
        ("src/pages/api/chat.ts", "export default handler;\n", True),
        ("src/chat.controller.ts", "@Controller('chat')\nexport class ChatController {\n  @Post()\n  ask() {}\n}\n", True),
        ("src/chat.controller.ts", "@Controller('chat')\nexport class ChatController {\n  ask() {}\n}\n", False),
        ("src/node.ts", "const abortController = new AbortController();\nclass Node {\n  @Post()\n  run() {}\n}\n", False),
        ("src/services/ai.ts", "const cached = cache.get('key');\nawait Promise.all([a(), b()]);\n", False),
        ("src/routes/chat.test.ts", "router.post('/chat', handler);\n", False),
    ],
)
def test_where_an_endpoint_may_be(path, source, may):
    from linter.context import FileContext
    from linter.registry import builtin_rules
    from linter.syntax import parse

    rule = next(r for r in builtin_rules() if r.id == RULE)()
    raw = source.encode()
    assert rule.may_report_at(FileContext(path, raw, "typescript", parse(raw, "typescript"))) is may


def test_the_message_says_what_to_do_for_each_framework(tmp_path):
    next_app = {f.path: f.message for f in _findings([_copy("next-app", tmp_path)])}
    assert "@upstash/ratelimit" in next_app["src/app/api/chat/route.ts"]
    assert "the AI SDK `streamText()`" in next_app["src/app/api/chat/route.ts"]
    nest = [f.message for f in _findings([_copy("nest-app", tmp_path)])]
    assert all("ThrottlerGuard" in message for message in nest) and len(nest) == 3


@pytest.mark.parametrize(
    ("path", "url", "root"),
    [
        ("src/app/api/chat/route.ts", "/api/chat", ""),
        ("apps/web/app/(marketing)/api/[id]/route.js", "/api/[id]", "apps/web"),
        ("apps/web/src/pages/api/contact/index.ts", "/api/contact", "apps/web"),
        ("pages/api/send.ts", "/api/send", ""),
    ],
)
def test_next_urls_and_app_roots(path, url, root):
    assert next_url(path) == url
    assert next_app_root(path) == root


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("/api/:path*", "/api/chat", True),
        ("/api/:path*", "/api", True),
        ("/api/public/:path*", "/api/chat", False),
        ("/api/:path+", "/api", False),
        ("/((?!_next/static|_next/image|favicon.ico).*)", "/api/chat", True),
        ("/((?!api|_next/static).*)", "/api/chat", False),
        ("/dashboard/:path*", "/api/chat", False),
        ("/api/chat/:id", "/api/chat/[id]", True),
        # Patterns this does not read count as matching; none of them is handed to `re` as written.
        ("/((a+)+)b", "/" + "a" * 40, True),
        (":a*:b*:c*:d*:e*x", "/" + "a" * 40, True),
        ("/api/(.*)", "/dashboard", True),
    ],
)
def test_next_matchers(pattern, url, expected):
    assert matches(pattern, url) is expected


@pytest.mark.parametrize(
    ("route", "prefix", "under"),
    [
        ("/v1/chat", "/v1", True),
        ("/v2/chat", "/v1", False),
        ("/v1", "/", True),
        ("/v10/chat", "/v1", False),
        ("/users/42/avatar", "/users/:id", True),
    ],
)
def test_use_prefixes(route, prefix, under):
    assert under_prefix(route, prefix) is under


@pytest.mark.parametrize(
    ("source", "limits"),
    [
        (b"import { ratelimit } from '@/lib/rl';\nexport async function POST(req) { await ratelimit.limit(ip); }", True),
        (b"export async function POST(req) { await checkRateLimit(req); }", True),
        (b"export async function POST(req) { await aiRateLimiter.consume(req.ip); }", True),
        (b"export async function POST(req) { return new Response('slow down', { status: 429 }); }", True),
        (
            b"import { RateLimiterRedis } from 'rate-limiter-flexible';\nconst quota = new RateLimiterRedis({});\n"
            b"export async function POST(req) { await quota.consume(req.ip); }",
            True,
        ),
        (b"export async function POST(req) { const limit = 10; return db.find({ take: limit }); }", False),
        (b"export async function POST(req) { return split(req.body, getDelimiter()); }", False),
        (b"async function resend(id) { const last = await find(id); if (last && Date.now() - last.at < 60000) throw new Error('wait'); }", True),
        (b"async function confirm(id) { const c = await find(id); if (Date.now() - c.at > 60000) throw new Error('expired'); }", False),
        (b"async function ask(u) { if (u.asked < u.askMax) { await save({ asked: u.asked + 1 }); } else { return null; } }", True),
        (b"async function ask(u) { if (u.asked < u.askMax) { await save({ asked: u.asked }); } else { return null; } }", False),
    ],
)
def test_what_counts_as_a_handler_checking_a_limit(source, limits):
    from linter.context import FileContext
    from linter.js.functions import FUNCTION_TYPES
    from linter.rules.ratelimit._limit_evidence import limits_itself
    from linter.syntax import LANGUAGE_BY_SUFFIX, descendants_of_types, parse

    file = FileContext("route.ts", source, "typescript", parse(source, LANGUAGE_BY_SUFFIX[".ts"]), [])
    handler = descendants_of_types(file.root, tuple(FUNCTION_TYPES))[0]
    assert limits_itself(handler, file) is limits


@pytest.mark.parametrize(
    "name",
    ["aiRateLimiter", "RATE_LIMIT", "ThrottlerGuard", "slowDown", "slow_down", "bruteForce", "ſlowDown", "rateLİmit", "aıLimiter"],
)
def test_a_file_naming_a_limiter_in_any_case_is_read_for_limiter_facts(name):
    # `may_name_limiter` stands before `is_limiter`, which matches `LIMITER_NAME` case-insensitively (`ſ` is `s`).
    assert LIMITER_NAME.search(name)
    assert may_name_limiter(f"app.use({name});".encode())
    assert not may_name_limiter("app.use(cors());".encode())


def test_a_file_importing_a_limiter_package_is_read_for_limiter_facts():
    assert may_name_limiter(b"import guard from '@arcjet/next';\napp.use(guard);")


@pytest.mark.parametrize(
    "source",
    [
        b"if (Date.now() - last.sentAt < 60_000) throw new Error('Too Many requests');",
        b"const MAX = user.QUOTA; if (used >= limit) return res.status(429); x.getTime() + allowance",
        b"rateLimit slow_down SlowDown BRUTE throttle maxmax limitlimit",
    ],
)
def test_word_tables_answer_as_the_patterns_they_stand_for(source):
    # `_may_limit` and `_may_cap` look up the places `_MAY_LIMIT` and `_MAY_CAP` match, found once per file.
    for pattern, words in ((_MAY_LIMIT, _MAY_LIMIT_WORDS), (_MAY_CAP, _MAY_CAP_WORDS)):
        matches = _matches_at(source, words)
        for start in range(0, len(source), 3):
            for end in range(start, len(source) + 1, 2):
                assert occurs_within(matches, start, end) is (pattern.search(source, start, end) is not None)


_CALL_FORMS = (
    "{head}.{last}();",
    "{head}?.{last}();",
    "{head}['{last}']();",
    "{head}[`{last}`]();",
    "({head}.{last})();",
    "{head}.{last}!();",
    "{head}.{last}<Reply>();",
    "await {head}.{last}<Reply>();",
    "{head} /* the SDK */ .\n  {last}();",
)


@pytest.mark.parametrize("form", _CALL_FORMS)
def test_the_byte_test_before_the_walk_keeps_every_expensive_call(form):
    """`expensive_calls` first looks for the methods' names in the bytes: it must find every call that reading
    all the calls of the file finds, in whatever form the method is named."""
    from linter.context import FileContext
    from linter.rules.ratelimit._expensive_calls import _METHOD_PATHS, classify_call, expensive_calls
    from linter.syntax import LANGUAGE_BY_SUFFIX, descendants_of_types, parse

    for path in sorted(_METHOD_PATHS):
        call = form.format(head=".".join(("client", *path[:-1])), last=path[-1])
        source = f"import {{ client }} from './lib/client';\nexport async function handler() {{\n  {call}\n}}\n".encode()
        file = FileContext("route.ts", source, "typescript", parse(source, LANGUAGE_BY_SUFFIX[".ts"]), [])
        walked = [c for c in descendants_of_types(file.root, ("call_expression",)) if classify_call(c, file) is not None]
        assert walked, call  # the form names the method: reading every call finds it
        assert [found.node for found in expensive_calls(file)] == walked, call


@pytest.mark.parametrize(
    "call",
    [
        "app.use(limiter);",
        "app?.use('/api', limiter);",
        "(app.use)(limiter);",
        "(app.use as any)(limiter);",
        "app.use!(limiter);",
        "app /* the server */ .\n  use(limiter);",
        "fastify.register<Options>(rateLimit, { max: 5 });",
        "await fastify.register<Options>(rateLimit, { max: 5 });",
        "await fastify.register(rateLimit);",
        "consumer.apply(limiter).forRoutes('*');",
        "app.useGlobalGuards(new ThrottlerGuard());",
        "app.use(express.json()).use(limiter);",
    ],
)
def test_the_byte_search_for_limiter_methods_finds_every_call_reading_all_calls_finds(call):
    from linter.context import FileContext
    from linter.js.expressions import callee, property_name
    from linter.rules.ratelimit.unlimited_expensive_endpoint import _method_calls
    from linter.syntax import LANGUAGE_BY_SUFFIX, descendants_of_types, parse

    source = f"export async function start(app, fastify, consumer) {{\n  {call}\n  use(x); app['use'](y);\n}}\n".encode()
    file = FileContext("main.ts", source, "typescript", parse(source, LANGUAGE_BY_SUFFIX[".ts"]), [])
    walked = []
    for node in descendants_of_types(file.root, ("call_expression",)):
        function = callee(node)
        method = property_name(function) if function is not None and function.type == "member_expression" else None
        if method in ("use", "register", "apply", "useGlobalGuards"):
            walked.append((node, method))
    assert walked, call
    assert _method_calls(file) == walked, call
