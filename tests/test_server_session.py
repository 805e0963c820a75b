"""The warm state of `loadlint server` (`linter.server.session`): it reports an open file as `loadlint check`
on the root would report the file with the buffers saved, analyses only what changed, and runs the project
phase again only when what it sees changed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from linter import engine as engine_module
from linter.engine import RunOptions, run
from linter.server import session as session_module
from linter.server.session import Project, Workspace
from tests.fixture_cases import DEMO
from tests.project_builder import write_files
from tests.test_config_scope import MONOREPO, PAGED_QUERY, PAGED_ROUTE
from tests.test_flow_engine import DB, PACKAGE, ROUTE, SERVICE

SECRET = "const jwt = require('jsonwebtoken');\nconst secret = process.env.JWT_SECRET || 'dev';\nmodule.exports = (u) => jwt.sign(u, secret, { expiresIn: '1h' });\n"


def _seen(findings) -> list[tuple]:
    return sorted((f.path, f.rule_id, f.span.start_line, f.span.start_column, f.span.end_column, f.level.value, f.message) for f in findings)


def _engine(root: Path, buffers: dict[str, bytes] | None = None) -> dict[str, list[tuple]]:
    options = RunOptions(paths=[root], jobs=1, buffers={root / p: t for p, t in (buffers or {}).items()})
    by_path: dict[str, list] = {}
    for finding in run(options).report.active_findings:
        by_path.setdefault(finding.path, []).append(finding)
    return {path: _seen(findings) for path, findings in by_path.items()}


@pytest.fixture
def shop(tmp_path):
    return write_files(
        tmp_path / "shop",
        {".git/HEAD": "ref: refs/heads/main\n", "package.json": PACKAGE, "src/routes.js": ROUTE, "src/orders.js": SERVICE, "src/db.js": DB},
    )


def test_every_file_of_the_demo_is_reported_as_the_engine_reports_it(tmp_path):
    demo = shutil.copytree(DEMO, tmp_path / "demo")
    (demo / ".git").mkdir()
    expected = _engine(demo)
    assert expected, "the demo has findings"
    project = Workspace(jobs=1).project_for(demo / "package.json")
    assert project.root == demo
    paths = [p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.is_file()]
    reports = project.lint({path: (demo / path).read_bytes() for path in paths})
    assert {path: _seen(r.findings) for path, r in reports.items() if r.findings} == expected
    # Edited: a line inserted at the top of every source file moves every finding, cross-file ones included.
    edited = {path: (b"// edited\n" if path.endswith((".js", ".ts", ".tsx")) else b"") + (demo / path).read_bytes() for path in paths}
    reports = project.lint(edited)
    assert {path: _seen(r.findings) for path, r in reports.items() if r.findings} == _engine(demo, edited)


def test_a_sequence_of_edits_is_reported_as_the_engine_reports_each_state(tmp_path):
    """Whatever the session keeps from one lint to the next, each state is reported as a fresh run reports it."""
    demo = shutil.copytree(DEMO, tmp_path / "demo")
    (demo / ".git").mkdir()
    project = Workspace(jobs=1).project_for(demo / "package.json")
    sources = sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.suffix in (".js", ".ts", ".tsx", ".prisma"))
    buffers = {path: (demo / path).read_bytes() for path in sources}
    chooser = random.Random(19)
    for _ in range(12):
        path = chooser.choice(sources)
        lines = buffers[path].split(b"\n")
        at = chooser.randrange(len(lines))
        edit = chooser.choice(["blank", "drop", "client", "import", "limit"])
        if edit == "blank":
            lines.insert(at, b"")
        elif edit == "drop" and len(lines) > 3:
            del lines[at]
        elif edit == "client" and not path.endswith(".prisma"):
            lines.append(b"const extra = new PrismaClient();")
        elif edit == "import" and not path.endswith(".prisma"):
            lines.insert(0, b"import './db';")
        elif edit == "limit" and not path.endswith(".prisma"):
            lines.append(b"export const list = (req) => prisma.lead.findMany({ take: Number(req.query.take) });")
        buffers[path] = b"\n".join(lines)
        reports = project.lint(buffers)
        expected = {p: found for p, found in _engine(demo, buffers).items() if p in buffers}
        assert {p: _seen(r.findings) for p, r in reports.items() if r.findings} == expected, (path, edit)


def test_an_edited_buffer_is_reported_as_the_engine_reports_it_saved(shop):
    project = Workspace(jobs=1).project_for(shop / "src/orders.js")
    orders = SERVICE.replace("async function list(limit) {", "async function list(limit) {\n  // one more line").encode()
    report = project.lint({"src/orders.js": orders})["src/orders.js"]
    assert _seen(report.findings) == _engine(shop, {"src/orders.js": orders})["src/orders.js"]
    assert report.findings[0].span.start_line == 5
    assert (shop / "src/orders.js").read_text() == SERVICE, "nothing is written"


def test_editing_the_caller_changes_the_findings_of_the_file_it_calls(shop):
    project = Workspace(jobs=1).project_for(shop / "src/orders.js")
    routes, orders = (shop / "src/routes.js").read_bytes(), (shop / "src/orders.js").read_bytes()
    assert [f.rule_id for f in project.lint({"src/routes.js": routes, "src/orders.js": orders})["src/orders.js"].findings] == [
        "pagination/uncapped-limit"
    ]
    capped = ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)").encode()
    assert project.lint({"src/routes.js": capped, "src/orders.js": orders})["src/orders.js"].findings == ()
    # Closed unsaved, the caller is the file on disk again.
    assert len(project.lint({"src/orders.js": orders})["src/orders.js"].findings) == 1


def test_only_the_edited_file_is_analysed_and_only_the_project_checks_it_feeds_run_again(shop, monkeypatch):
    project = Workspace(jobs=1).project_for(shop / "src/orders.js")
    analysed, phases = [], []
    original_analyze, original_phase = session_module.analyze_file, Project._project_phase
    monkeypatch.setattr(session_module, "analyze_file", lambda path, rel, *a, **k: analysed.append(rel) or original_analyze(path, rel, *a, **k))
    monkeypatch.setattr(Project, "_project_phase", lambda self, buffers, only: phases.append(only) or original_phase(self, buffers, only))
    routes, orders, db = ((shop / "src" / name).read_bytes() for name in ("routes.js", "orders.js", "db.js"))
    project.lint({"src/routes.js": routes, "src/orders.js": orders})
    assert analysed == [] and phases == [None]  # the buffers are the files: their results from the first load are used

    # A comment: the project phase sees the same imports, facts and flows of db.js, and read no file of it.
    project.lint({"src/routes.js": routes, "src/orders.js": orders, "src/db.js": db + b"// a comment\n"})
    assert analysed == ["src/db.js"] and phases == [None]
    # routes.js is read by the join (it passes the value on): the checks that read it run again, no other.
    project.lint({"src/routes.js": routes + b"// a comment\n", "src/orders.js": orders, "src/db.js": db + b"// a comment\n"})
    assert analysed == ["src/db.js", "src/routes.js"] and phases[-1] == {
        ("pagination/uncapped-limit", ""),
        ("prisma/client-outside-singleton", ""),
    }
    # A line above the sink moves it (its facts and flows change, and the join reads the sink's file).
    project.lint({"src/routes.js": routes + b"// a comment\n", "src/orders.js": b"\n" + orders, "src/db.js": db + b"// a comment\n"})
    assert ("pagination/uncapped-limit", "") in phases[-1]
    assert [f.span.start_line for f in project.lint({"src/orders.js": b"\n" + orders})["src/orders.js"].findings] == [5]
    # A new PrismaClient changes the facts of the singleton rule only; a new import changes the module graph.
    project.lint({"src/orders.js": b"\n" + orders, "src/db.js": db + b"const other = new PrismaClient();\n"})
    assert phases[-1] == {("prisma/client-outside-singleton", "")}
    project.lint({"src/orders.js": b"\n" + orders, "src/db.js": b"require('./orders');\n" + db})
    assert phases[-1] is None
    # Nothing changed: nothing is done.
    count = (len(analysed), len(phases))
    project.lint({"src/orders.js": b"\n" + orders, "src/db.js": b"require('./orders');\n" + db})
    assert (len(analysed), len(phases)) == count


MAILER = """const nodemailer = require('nodemailer');
const transporter = nodemailer.createTransport({ host: 'smtp.example.com' });

async function sendInvite(to) {
  await transporter.sendMail({ to, subject: 'Join the team', text: 'You were invited.' });
}

module.exports = { sendInvite };
"""
INVITES = """const { sendInvite } = require('./mailer');

async function invite(email) {
  await sendInvite(email);
}

module.exports = { invite };
"""
INVITE_ROUTE = """const express = require('express');
const { invite } = require('./invites');

const app = express();
app.post('/invite', async (req, res) => {
  await invite(req.body.email);
  res.sendStatus(204);
});
app.listen(3000);
"""


def test_an_edit_between_an_endpoint_and_an_expensive_call_changes_the_endpoints_finding(tmp_path):
    """The module in the middle has no fact of the rule: its findings change because the check reads it."""
    files = {
        ".git/HEAD": "x",
        "package.json": '{"dependencies": {"express": "^4.19.0", "nodemailer": "^6.9.0"}}',
        "src/mailer.js": MAILER,
        "src/invites.js": INVITES,
        "src/app.js": INVITE_ROUTE,
    }
    root = write_files(tmp_path / "app", files)
    project = Workspace(jobs=1).project_for(root / "src/app.js")
    opened = {path: text.encode() for path, text in files.items() if path.endswith(".js")}
    rule = "ratelimit/unlimited-expensive-endpoint"

    def lint(invites: str) -> list[tuple]:
        buffers = {**opened, "src/invites.js": invites.encode()}
        reports = project.lint(buffers)
        expected = _engine(root, buffers).get("src/app.js", [])
        assert _seen(reports["src/app.js"].findings) == expected
        return [[(step.path, step.span.start_line) for step in f.code_flow] for f in reports["src/app.js"].findings if f.rule_id == rule]

    assert lint(INVITES) == [[("src/app.js", 5), ("src/app.js", 6), ("src/invites.js", 4), ("src/mailer.js", 5)]]
    moved = INVITES.replace("  await sendInvite", "  // the mail goes out now\n  await sendInvite")
    assert lint(moved) == [[("src/app.js", 5), ("src/app.js", 6), ("src/invites.js", 5), ("src/mailer.js", 5)]]
    assert lint(INVITES.replace("await sendInvite(email);", "console.log(email);")) == []
    limited = "  const { success } = await ratelimit.limit(email);\n  if (!success) throw new Error('429');\n  await sendInvite"
    assert lint(INVITES.replace("  await sendInvite", limited)) == []
    assert lint(INVITES) == [[("src/app.js", 5), ("src/app.js", 6), ("src/invites.js", 4), ("src/mailer.js", 5)]]


def test_a_file_read_from_disk_then_opened_saved_and_closed_is_read_again(tmp_path):
    files = {".git/HEAD": "x", "package.json": '{"dependencies": {"express": "^4.19.0", "nodemailer": "^6.9.0"}}'}
    root = write_files(tmp_path / "app", {**files, "src/mailer.js": MAILER, "src/invites.js": INVITES, "src/app.js": INVITE_ROUTE})
    project = Workspace(jobs=1).project_for(root / "src/app.js")
    app = {"src/app.js": INVITE_ROUTE.encode()}
    rule = "ratelimit/unlimited-expensive-endpoint"

    def found(buffers: dict[str, bytes]) -> list[str]:
        return [f.rule_id for f in project.lint(buffers)["src/app.js"].findings if f.rule_id == rule]

    assert found(app) == [rule]  # invites.js read from disk
    quiet = INVITES.replace("await sendInvite(email);", "console.log(email);")
    assert found({**app, "src/invites.js": quiet.encode()}) == []
    (root / "src/invites.js").write_text(quiet)  # saved: the project is not stale, its buffer is the file's text
    assert found(app) == []  # closed: its text is the same
    assert found({**app, "src/mailer.js": b"\n" + MAILER.encode()}) == []  # the check runs again: reads it from disk
    assert [f for f in _engine(root).get("src/app.js", []) if f[1] == rule] == []


def test_config_and_gitignore_are_honoured(tmp_path):
    root = write_files(
        tmp_path / "app",
        {
            ".git/HEAD": "x",
            ".gitignore": "generated/\n",
            ".loadlint.toml": '[per-file-ignores]\n"src/legacy/**" = ["auth"]\n',
            "package.json": '{"dependencies": {"jsonwebtoken": "9.0.0"}}',
            "src/auth.js": SECRET,
            "src/legacy/auth.js": SECRET,
            "generated/auth.js": SECRET,
        },
    )
    project = Workspace(jobs=1).project_for(root / "src/auth.js")
    reports = project.lint({p: SECRET.encode() for p in ("src/auth.js", "src/legacy/auth.js", "generated/auth.js")})
    assert {p: [f.rule_id for f in r.findings] for p, r in reports.items()} == {
        "src/auth.js": ["auth/secret-fallback"],
        "src/legacy/auth.js": [],
        "generated/auth.js": [],
    }


def test_a_loose_file_is_linted_alone(tmp_path):
    folder = write_files(tmp_path / "loose", {"auth.js": SECRET, "other.js": SECRET})
    project = Workspace(jobs=1).project_for(folder / "auth.js")
    assert not project.is_project
    reports = project.lint({"auth.js": SECRET.encode()})
    assert [f.rule_id for f in reports["auth.js"].findings] == ["auth/secret-fallback"]
    assert project.knows_source("auth.js") and not project.knows_source("other.js")


def test_a_suppression_in_the_buffer_applies_and_an_unused_one_is_reported(shop):
    project = Workspace(jobs=1).project_for(shop / "src/orders.js")
    suppressed = SERVICE.replace(
        "  return prisma.order.findMany", "  // loadlint-ignore pagination/uncapped-limit -- capped upstream\n  return prisma.order.findMany"
    )
    assert project.lint({"src/orders.js": suppressed.encode()})["src/orders.js"].findings == ()
    unused = "// loadlint-ignore auth/secret-fallback -- nothing here\n" + SERVICE
    rules = [f.rule_id for f in project.lint({"src/orders.js": unused.encode()})["src/orders.js"].findings]
    assert rules == ["loadlint/unused-suppression", "pagination/uncapped-limit"]
    # The same directive, linted again, is still reported as unused (no state carried between reports).
    assert [f.rule_id for f in project.lint({"src/orders.js": unused.encode()})["src/orders.js"].findings] == rules
    # A suppression used until the caller caps the value is unused from then on, though its file is unchanged.
    routes = (shop / "src/routes.js").read_bytes()
    capped = ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)").encode()
    assert project.lint({"src/orders.js": suppressed.encode(), "src/routes.js": routes})["src/orders.js"].findings == ()
    after = project.lint({"src/orders.js": suppressed.encode(), "src/routes.js": capped})["src/orders.js"].findings
    assert [f.rule_id for f in after] == ["loadlint/unused-suppression"]


def test_first_reports_show_a_files_own_findings_before_the_project_loads(shop):
    write_files(shop, {"src/auth.js": "// loadlint-ignore auth -- unused\n" + SECRET, "package.json": PACKAGE.replace('"express"', '"jsonwebtoken": "9.0.0", "express"')})
    project = Workspace(jobs=1).project_for(shop / "src/orders.js")
    buffers = {p: (shop / p).read_bytes() for p in ("src/auth.js", "src/orders.js")}
    assert project.needs_refresh(buffers)
    first = project.first_reports(buffers)
    assert [f.rule_id for f in first["src/auth.js"].findings] == ["auth/secret-fallback"]
    assert first["src/orders.js"].findings == ()  # its finding comes from the project phase
    full = project.lint(buffers)
    # Only the full report can tell a suppression is unused: the project phase might have used it.
    assert [f.rule_id for f in full["src/auth.js"].findings] == ["loadlint/unused-suppression", "auth/secret-fallback"]
    assert [f.rule_id for f in full["src/orders.js"].findings] == ["pagination/uncapped-limit"]
    assert not project.needs_refresh(buffers)


def test_many_files_load_through_a_check_in_a_subprocess_never_from_forked_workers(tmp_path, monkeypatch):
    files = {".git/HEAD": "x", "package.json": '{"dependencies": {"jsonwebtoken": "9.0.0"}}', "src/auth.js": SECRET}
    files.update({f"src/module{n}.js": f"export const value{n} = {n};\n" for n in range(70)})
    root = write_files(tmp_path / "big", files)
    analysed: list[int] = []
    original = engine_module._analyze_uncached

    def counting(work, plan, jobs, sizes=None):
        assert jobs == 1, "the server never forks worker processes"
        analysed.append(len(work))
        return original(work, plan, jobs, sizes)

    monkeypatch.setattr(engine_module, "_analyze_uncached", counting)
    reports = Workspace(jobs=2).project_for(root / "src/auth.js").lint({"src/auth.js": SECRET.encode()})
    assert [f.rule_id for f in reports["src/auth.js"].findings] == ["auth/secret-fallback"]
    assert analysed == [0], "every result came from the cache the subprocess filled"
    (root / "src/module1.js").write_text("export const changed = 1;\n")
    project = Workspace(jobs=1).project_for(root / "src/auth.js")
    project.lint({"src/auth.js": SECRET.encode()})
    assert analysed == [0, 1], "one process: only the changed file is analysed, the rest are cached"


def test_each_file_is_judged_by_the_config_nearest_it_as_the_engine_judges_it(tmp_path):
    """Nested configs: their own levels, ignores and rule options (a second instance of a rule, a flow rule's
    among them), before and after an edit of every open file."""
    package = '{"name": "%s", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0"}}\n'
    files = {
        **MONOREPO,
        "small/package.json": package % "small",
        "small/.loadlint.toml": '[rules."pagination/uncapped-limit"]\nmax-page-size = 25\n',
        "small/routes.js": PAGED_ROUTE,
        "small/leads.js": PAGED_QUERY,
        "large/package.json": package % "large",
        "large/routes.js": PAGED_ROUTE,
        "large/leads.js": PAGED_QUERY,
    }
    root = write_files(tmp_path / "repo", files)
    project = Workspace(jobs=1).project_for(root / "apps/api/src/auth.js")
    opened = [path for path in files if path.endswith((".js", ".prisma"))]
    buffers = {path: (root / path).read_bytes() for path in opened}
    expected = _engine(root)
    assert {"apps/api/src/jobs/cleanup.js", "small/leads.js", "large/leads.js"} - set(expected) == {"apps/api/src/jobs/cleanup.js"}
    assert {path: _seen(r.findings) for path, r in project.lint(buffers).items() if r.findings} == expected
    edited = {path: (b"// edited\n" if path.endswith(".js") else b"") + text for path, text in buffers.items()}
    assert {path: _seen(r.findings) for path, r in project.lint(edited).items() if r.findings} == _engine(root, edited)
    caps = {path: [fix.edits[0].replacement for f in r.findings for fix in f.fixes] for path, r in project.lint(edited).items()}
    assert (caps["small/leads.js"], caps["large/leads.js"]) == (["Math.min(Number(limit), 25)"], ["Math.min(Number(limit), 100)"])


def test_a_dependency_added_to_the_package_is_seen_by_the_files_of_the_package(tmp_path):
    """The packages around a file are part of what its result is kept by: a rule gated by a dependency runs once
    the manifest on disk adds it, in the server as in `loadlint check`."""
    signs = "const jwt = require('jsonwebtoken');\nmodule.exports = (user) => jwt.sign({ sub: user.id }, process.env.KEY);\n"
    root = write_files(tmp_path / "app", {".git/HEAD": "x", "package.json": '{"dependencies": {"express": "^4.19.0"}}', "src/auth.js": signs})
    project = Workspace(jobs=1).project_for(root / "src/auth.js")
    buffers = {"src/auth.js": signs.encode()}
    assert project.lint(buffers)["src/auth.js"].findings == ()
    (root / "package.json").write_text('{"dependencies": {"express": "^4.19.0", "jsonwebtoken": "9.0.0"}}')
    project.stale()
    assert [f.rule_id for f in project.lint(buffers)["src/auth.js"].findings] == ["auth/jwt-no-expiry"]
    assert _seen(project.lint(buffers)["src/auth.js"].findings) == _engine(root)["src/auth.js"]
