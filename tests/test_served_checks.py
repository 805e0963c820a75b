"""`loadlint check` answered by a running `loadlint server --serve-checks` (linter.check_client,
linter.server.checks): the same report, byte for byte, and a silent fallback to the run's own lint whenever
the server cannot be trusted or cannot answer."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from linter import check_client
from linter.check_client import served_check, socket_path
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif
from tests.stdio_client import REPO, StdioClient
from tests.test_flow_engine import DB, ROUTE, SERVICE

SECRET = (
    "import jwt from 'jsonwebtoken';\n"
    "\n"
    "export function sign(user: { id: string }) {\n"
    "  const secret = process.env.JWT_SECRET || 'dev';\n"
    "  return jwt.sign(user, secret, { expiresIn: '1h' });\n"
    "}\n"
)
LEADS = (
    "import { prisma } from './db';\n"
    "\n"
    "export async function leads(take: number) {\n"
    "  // loadlint-ignore prisma/unbounded-find-many -- the caller caps it\n"
    "  const first = await prisma.lead.findMany({ take });\n"
    "  const all = await prisma.lead.findMany();\n"
    "  return [first, all];\n"
    "}\n"
)
MANIFEST = '{"name": "api", "dependencies": {"express": "4.21.0", "@prisma/client": "5.22.0", "jsonwebtoken": "9.0.0"}}'
OPTIONS = {"select": None, "ignore": None, "fail_on": None, "config_file": None, "category": None, "timeout": None, "fingerprints": True, "render": None}


@pytest.fixture
def runtime(monkeypatch):
    """A private runtime folder of its own (short: a socket's path is limited to about 100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ll-", dir="/tmp"))
    folder.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv(check_client.NO_SERVER_ENV, raising=False)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app(tmp_path):
    return write_files(
        tmp_path / "app",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": MANIFEST,
            "src/a.ts": SECRET,
            "src/b.ts": LEADS,
            "src/db.js": DB,
            "src/routes.js": ROUTE,
            "src/orders.js": SERVICE,
        },
    )


@pytest.fixture
def server(app, runtime):
    """`loadlint server --serve-checks` of `app`, up and warm (its first answer loads the rules)."""
    pytest.importorskip("pygls", reason="the server extra is not installed: pip install 'loadlint[server]'")
    client = StdioClient(["server", "--serve-checks"], dict(os.environ), framed=True)
    client.request("initialize", {"processId": os.getpid(), "rootUri": app.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    sock = socket_path(app.resolve())
    _wait_for(sock.exists, "the server made no socket")
    assert served_check([app / "src" / "a.ts"], OPTIONS, answer_seconds=120) is not None  # warm up
    yield client
    if client.process.poll() is None:
        client.request("shutdown")
        client.notify("exit")
    client.close()


def _wait_for(condition, message: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(message)
        time.sleep(0.05)


def _check(
    root: Path, *args: str, server: bool = True, deadline: float | None = None, models: list | None = None
) -> tuple[int, bytes, str]:
    """`loadlint check ARGS` in `root`, as a hook runs it: exit code, stdout, and the server's debug line;
    `models` gets whether the run imported the report's models (pydantic)."""
    env = {**os.environ, check_client.DEBUG_ENV: "1"}
    if not server:
        env[check_client.NO_SERVER_ENV] = "1"
    code = "import sys; from linter.cli import main; sys.argv = ['loadlint', *sys.argv[1:]]; main()"
    code = (
        "import atexit, sys; atexit.register(lambda: sys.stderr.write("
        "'loadlint: models: %s' % ('linter.model' in sys.modules))); " + code
    )
    prelude = f"import linter.check_client as c; c.ANSWER_SECONDS = {deadline};" if deadline else ""
    done = subprocess.run(
        [sys.executable, "-c", prelude + code, "check", *args],
        cwd=root,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=300,
    )
    lines = done.stderr.decode().splitlines()
    if models is not None:
        models.extend(line == "loadlint: models: True" for line in lines if line.startswith("loadlint: models:"))
    return done.returncode, done.stdout, "\n".join(line for line in lines if line.startswith("loadlint: server:"))


def _same_as_alone(root: Path, *args: str, deadline: float | None = 60) -> tuple[str, bytes]:
    """Check `args` with the server asked and without; assert the outcome is the same; the debug line and the
    report."""
    code, out, debug = _check(root, *args, deadline=deadline)
    alone_code, alone_out, alone_debug = _check(root, *args, server=False)
    assert alone_debug == ""  # not asked at all
    assert (code, out) == (alone_code, alone_out)
    return debug, out


def test_a_running_server_answers_with_the_report_the_run_would_make(server, app):
    answered = f"loadlint: server: answered by process {server.process.pid}"
    for fmt in ("json", "sarif"):
        debug, out = _same_as_alone(app, "src/a.ts", "src/b.ts", "--format", fmt)
        assert debug == answered
        assert b"prisma/unbounded-find-many" in out and b"auth/secret-fallback" in out
        if fmt == "sarif":
            assert_valid_sarif(json.loads(out))
    # Options that change the report travel with the request.
    options = ("--select", "auth,prisma", "--ignore", "auth/secret-fallback", "--fail-on", "error", "--include-suppressed")
    assert _same_as_alone(app, "src/b.ts", "--format", "json", *options)[0] == answered
    assert _same_as_alone(app, "--format", "sarif", "--category", "hook")[0] == answered  # no paths: the current folder


def test_a_server_renders_the_output_when_the_client_would_only_print_the_report(server, app, tmp_path):
    answered = f"loadlint: server: answered by process {server.process.pid}"
    runs = [
        ("--format", "json"),
        ("--format", "sarif", "--category", "hook"),
        ("--format", "github", "--quiet"),
        ("--format", "junit", "--include-suppressed", "--fail-on", "error"),
        ("--format", "gitlab", "--exit-zero"),
    ]
    for args in runs:
        models: list[bool] = []
        code, out, debug = _check(app, "src/a.ts", "src/b.ts", *args, models=models)
        assert debug == answered and models == [False]  # printed as the server rendered it
        assert (code, out) == _check(app, "src/a.ts", "src/b.ts", *args, server=False)[:2]
        assert b"auth/secret-fallback" in out and code == (0 if "--exit-zero" in args else 1)
    written = tmp_path / "report.json"
    assert _check(app, "src/b.ts", "--format", "json", "-o", str(written))[:2] == (1, b"")
    assert written.read_bytes() == _check(app, "src/b.ts", "--format", "json", server=False)[1]
    # What the client does to the report itself, or what its terminal decides, needs the report.
    for args in (("--format", "text"), ("--format", "json", "--statistics"), ("--format", "json", "--diff", "HEAD")):
        models = []
        _check(app, "src/a.ts", *args, models=models)
        assert models == [True]


def test_text_output_exit_codes_a_baseline_and_an_edited_file(server, app):
    assert "answered" in _same_as_alone(app, "src/a.ts", "src/b.ts")[0]
    # The baseline the config names is read by the run that asked, with what the server says of the config.
    before = _check(app, "src/a.ts", "src/b.ts", "--format", "json")[1]
    _check(app, "src/b.ts", "--write-baseline", server=False)
    (app / "loadlint.toml").write_text('baseline = "loadlint-baseline.json"\n', encoding="utf-8")
    debug, out = _same_as_alone(app, "src/a.ts", "src/b.ts", "--format", "json")
    assert "answered" in debug and out != before and b"secret-fallback" in out
    (app / "src" / "a.ts").write_text(SECRET.replace("|| 'dev'", "?? fail()"), encoding="utf-8")
    debug, out = _same_as_alone(app, "src/a.ts", "--format", "json")  # read again by the server
    assert "answered" in debug and b"secret-fallback" not in out


def test_the_socket_goes_with_the_server_and_a_killed_servers_is_replaced(server, app, runtime):
    sock = socket_path(app.resolve())
    server.request("shutdown")
    server.notify("exit")
    assert server.close() == 0
    assert not sock.exists()
    # A socket left by a server that was killed: nothing answers on it, the run lints alone.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()
    assert "Connection refused" in _same_as_alone(app, "src/a.ts", "src/b.ts", "--format", "json")[0]
    # The next server replaces it (it is this user's, and dead).
    client = StdioClient(["server", "--serve-checks"], dict(os.environ), framed=True)
    try:
        client.request("initialize", {"processId": os.getpid(), "rootUri": app.as_uri(), "capabilities": {}})
        client.notify("initialized", {})
        _wait_for(lambda: served_check([app / "src" / "a.ts"], OPTIONS, answer_seconds=120) is not None, "not served")
        client.request("shutdown")
        client.notify("exit")
    finally:
        client.close()
    assert not sock.exists()


def test_no_server_and_the_opt_outs(app, runtime):
    debug = _same_as_alone(app, "src/a.ts", "src/b.ts", "--format", "json")[0]
    assert debug == "loadlint: server: not used: no server of this project is up"
    assert _check(app, "src/a.ts", "--no-server")[2] == ""  # never asked


def test_what_a_server_is_not_asked(app, monkeypatch):
    from click.testing import CliRunner

    from linter.cli import main

    asked = []
    monkeypatch.setattr(check_client, "served_check", lambda paths, options: asked.append(options))
    monkeypatch.chdir(app)
    a = str(app / "src" / "a.ts")
    CliRunner().invoke(main, ["check", a, "--select", "auth", "--config", str(app / "loadlint.toml"), "--timeout", "0"])
    assert asked == [{**OPTIONS, "select": ["auth"], "config_file": str(app / "loadlint.toml"), "timeout": 0, "fingerprints": False}]
    for args in (["--no-server"], ["--no-cache"], ["--diff-fix"], ["--rules-dir", "src"], ["--trust-config-rules"], ["--config", "loadlint.toml"]):
        CliRunner().invoke(main, ["check", a, *args])
    CliRunner().invoke(main, ["check", "-", "--stdin-filename", a], input=SECRET)
    assert len(asked) == 1


def test_a_folder_others_can_enter_is_neither_used_nor_made(server, app, runtime, caplog):
    folder = socket_path(app.resolve()).parent
    folder.chmod(0o777)
    try:
        assert "others can enter" in _same_as_alone(app, "src/a.ts", "src/b.ts", "--format", "json")[0]
    finally:
        folder.chmod(0o700)
    # A server does not make its socket in such a folder.
    from linter.server.checks import CheckService

    other = write_files(app.parent / "other", {"package.json": MANIFEST, "x.ts": SECRET})
    folder.chmod(0o755)
    service = CheckService(_run_now)
    try:
        service.open_for(other.resolve())
        assert not socket_path(other.resolve()).exists()
        assert "others can enter" in caplog.text
    finally:
        service.close()
        folder.chmod(0o700)


def _run_now(work) -> Future:
    future: Future = Future()
    future.set_running_or_notify_cancel()
    future.set_result(work())
    return future


def _debug_of(monkeypatch, capsys, paths, **options) -> str:
    monkeypatch.setenv(check_client.DEBUG_ENV, "1")
    assert served_check(paths, {**OPTIONS, **options}, answer_seconds=60) is None
    return capsys.readouterr().err


def test_a_socket_or_server_of_another_user_is_not_asked(server, app, monkeypatch, capsys):
    sock = socket_path(app.resolve())
    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):
        info = real_lstat(path, *args, **kwargs)
        if Path(path) == sock:
            fields = list(info)
            fields[4] = info.st_uid + 1  # st_uid
            return os.stat_result(fields)
        return info

    with monkeypatch.context() as patch:
        patch.setattr(os, "lstat", lstat)
        assert "belongs to another user" in _debug_of(patch, capsys, [app / "src" / "a.ts"])
    with monkeypatch.context() as patch:
        patch.setattr(check_client, "peer_uid", lambda connection: os.geteuid() + 1)
        assert "the server runs as another user" in _debug_of(patch, capsys, [app / "src" / "a.ts"])
    assert served_check([app / "src" / "a.ts"], OPTIONS, answer_seconds=60) is not None


def test_a_server_of_other_code_or_another_project_or_a_changed_file_is_not_used(server, app, tmp_path, monkeypatch, capsys):
    a = app / "src" / "a.ts"
    with monkeypatch.context() as patch:  # other code: another version of loadlint or of its parsers, other rules
        patch.setattr(check_client, "code_identity", lambda: "0" * 32)
        assert "mismatch: the client runs other code" in _debug_of(patch, capsys, [a])
    other = write_files(tmp_path / "other", {".git/HEAD": "ref: refs/heads/main\n", "package.json": MANIFEST, "x.ts": SECRET})
    with monkeypatch.context() as patch:  # another project's files, sent to this project's server
        patch.setattr(check_client, "socket_path", lambda root: socket_path(app.resolve()))
        assert "mismatch: another project" in _debug_of(patch, capsys, [other / "x.ts"])
    with monkeypatch.context() as patch:  # a file whose text is not the one the server read
        patch.setattr(check_client, "file_digest", lambda path: "0" * 32)
        assert "a.ts changed" in _debug_of(patch, capsys, [a])
    with monkeypatch.context() as patch:  # another cache folder (its notices, its trust) could change the report
        patch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
        assert "another cache folder" in _debug_of(patch, capsys, [a])
    assert served_check([a], OPTIONS, answer_seconds=60) is not None


def test_a_busy_or_slow_server_is_not_waited_for(app, runtime, monkeypatch, capsys):
    from linter.server.checks import CheckService

    release = threading.Event()

    def never_starts(work) -> Future:
        return Future()  # the linting thread is busy with the editor's lint

    def slow(work) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()

        def finish():
            release.wait(30)
            future.set_result(({"status": "busy", "reason": "too late"}, None))

        threading.Thread(target=finish, daemon=True).start()
        return future

    for submit, expected in ((never_starts, "busy"), (slow, "out of time")):
        release.clear()
        service = CheckService(submit)
        service.open_for(app.resolve())
        try:
            started = time.monotonic()
            monkeypatch.setenv(check_client.DEBUG_ENV, "1")
            assert served_check([app / "src" / "a.ts"], OPTIONS, answer_seconds=0.5) is None
            assert time.monotonic() - started < 5
            assert expected in capsys.readouterr().err
        finally:
            release.set()
            service.close()
        assert not socket_path(app.resolve()).exists()


def test_the_server_serves_checks_only_when_asked(app, runtime):
    pytest.importorskip("pygls", reason="the server extra is not installed: pip install 'loadlint[server]'")
    client = StdioClient(["server"], dict(os.environ), framed=True)
    try:
        client.request("initialize", {"processId": os.getpid(), "rootUri": app.as_uri(), "capabilities": {}})
        client.notify("initialized", {})
        client.notify("textDocument/didOpen", {"textDocument": {"uri": (app / "src" / "a.ts").as_uri(), "languageId": "typescript", "version": 1, "text": SECRET}})
        client.diagnostics((app / "src" / "a.ts").as_uri(), timeout=120)
        assert not socket_path(app.resolve()).parent.exists()
        client.request("shutdown")
        client.notify("exit")
    finally:
        client.close()


def test_a_named_files_digest_follows_no_link_and_reads_no_special_file(tmp_path):
    outside = tmp_path / "outside.ts"
    outside.write_text("export const secret = 1;\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "plain.ts").write_text("export const a = 1;\n")
    (root / "link.ts").symlink_to(outside)
    os.mkfifo(root / "pipe.ts")
    assert check_client.file_digest(root / "plain.ts") is not None
    assert check_client.file_digest(root / "link.ts") is None
    assert check_client.file_digest(root / "pipe.ts") is None
