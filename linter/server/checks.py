"""`loadlint server --serve-checks`: answer `loadlint check` runs (a pre-commit hook's) of the projects the editor
opened, over the per-user, per-project sockets `linter.check_client` describes.

A check is answered by `engine.run`, the function `loadlint check` runs itself, with the same options, in this
process: the rules are loaded and their queries compiled already, and the report is byte for byte the one
the client would have made. It runs in the editor's linting thread, one at a time with the editor's own
lints; a check that cannot start within the time the client gives is answered `busy`, and the client lints
on its own; one that starts is answered `started`, then with its report. The answer is `mismatch` (the client lints on its own) when the client runs other code, names files
of another root, uses another cache folder, or when a file it named changed between its reading and the
run's.

The socket is made only in a folder of this user that no one else can enter; an old socket there is
replaced only when it is this user's and nothing answers on it; only a process of this user is answered;
the socket is removed when the server stops (`close`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import Callable

from linter import check_client
from linter.check_client import (
    MAX_REQUEST_BYTES,
    START_SECONDS,
    PROTOCOL,
    NotServed,
    encode,
    file_digest,
    receive_message,
    send_message,
)

ACCEPT_POLL_SECONDS = 0.5  # how soon a listener notices `close`
MAX_WAIT_SECONDS = 60.0  # the longest a client may ask the server to wait for its linting thread
SEND_SECONDS = 10.0  # to send one message
MAX_CONNECTIONS = 4  # answered at once; more are closed at once (their clients lint on their own)
_log = logging.getLogger(__name__)


class CheckService:
    """The check sockets of one server: one per project root. `submit(work)` runs `work` in the linting thread
    and returns its future."""

    def __init__(self, submit: Callable[[Callable[[], object]], Future]) -> None:
        self._submit = submit
        self._listeners: dict[Path, _Listener] = {}
        self._refused: set[Path] = set()
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # held while a check is queued or running
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.answered = 0  # checks answered `ok`, for tests and the log

    def open_for(self, root: Path) -> None:
        """Listen for checks of `root` (a project's resolved root), once; a problem is logged, not raised."""
        with self._lock:
            if root in self._listeners or root in self._refused:
                return
            try:
                listener = _Listener.open(root, self)
            except Exception as error:  # never at the cost of the editor's linting
                self._refused.add(root)
                _log.warning("not serving checks of %s: %s", root, error)
                return
            self._listeners[root] = listener
        listener.start()

    def close(self) -> None:
        with self._lock:
            listeners, self._listeners = list(self._listeners.values()), {}
        for listener in listeners:
            listener.close()

    # one connection, in its own thread -----------------------------------------------------------------

    def serve(self, connection: socket.socket, root: Path) -> None:
        with connection:
            if not self._connections.acquire(blocking=False):
                return
            try:
                self._serve(connection, root)
            except Exception as error:  # a client gone, a malformed request: its run lints on its own
                _log.debug("a check of %s was not answered: %s", root, error)
            finally:
                self._connections.release()

    def _serve(self, connection: socket.socket, root: Path) -> None:
        uid = check_client.peer_uid(connection)
        if hasattr(os, "geteuid") and uid is not None and uid != os.geteuid():
            return  # the folder keeps others out; this is the second lock
        request = _json(receive_message(connection, MAX_REQUEST_BYTES, time.monotonic() + START_SECONDS))
        wait = request.get("wait") if isinstance(request, dict) else None
        wait = min(float(wait), MAX_WAIT_SECONDS) if isinstance(wait, (int, float)) and wait > 0 else 0.0

        def say(answer: dict, report: bytes | None = None) -> None:
            answer.update(protocol=PROTOCOL, identity=check_client.code_identity(), root=str(root), pid=os.getpid())
            send_message(connection, encode(answer), time.monotonic() + SEND_SECONDS)
            if report is not None:
                send_message(connection, report, time.monotonic() + SEND_SECONDS)

        problem = _mismatch(request, root)
        if problem is not None:
            return say({"status": "mismatch", "reason": problem})
        if not self._busy.acquire(blocking=False):
            return say({"status": "busy", "reason": "another check is running"})
        try:
            started = threading.Event()

            def check():
                started.set()
                return _check(request, root)

            future = self._submit(check)
            if not started.wait(wait) and future.cancel():
                return say({"status": "busy", "reason": "the editor's lint is running"})
            say({"status": "started"})
            # The client may stop waiting before the run ends: it then lints on its own, and the run goes on
            # (it fills the cache), its answer to nobody.
            answer, report = future.result()
        except CancelledError:
            return say({"status": "busy", "reason": "the server is stopping"})
        finally:
            self._busy.release()
        if answer.get("status") == "ok":
            self.answered += 1
        say(answer, report)


class _Listener:
    """One root's socket and the thread that accepts its connections."""

    def __init__(self, root: Path, path: Path, server: socket.socket, service: CheckService) -> None:
        self.root, self.path, self.socket, self.service = root, path, server, service
        info = os.lstat(path)
        self.identity = (info.st_dev, info.st_ino)
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, name=f"loadlint-checks-{path.stem}", daemon=True)

    @classmethod
    def open(cls, root: Path, service: CheckService) -> "_Listener":
        if not hasattr(socket, "AF_UNIX"):
            raise NotServed("this system has no Unix domain sockets")
        path = check_client.socket_path(root)
        folder = path.parent
        folder.parent.parent.mkdir(parents=True, exist_ok=True)
        for private in (folder.parent, folder):  # the runtime folder exists; the cache folder is made private
            try:
                os.mkdir(private, 0o700)
            except FileExistsError:
                pass
        problem = check_client.folder_problem(folder)
        if problem is not None:
            raise NotServed(problem)
        _remove_if_stale(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(str(path))  # fails when another server bound it meanwhile: that one serves
            server.listen(8)
            server.settimeout(ACCEPT_POLL_SECONDS)
            return cls(root, path, server, service)
        except BaseException:
            server.close()
            raise

    def start(self) -> None:
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.socket.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            connection.settimeout(START_SECONDS)
            threading.Thread(target=self.service.serve, args=(connection, self.root), daemon=True).start()

    def close(self) -> None:
        """Stop listening and remove the socket, if it is still the one this listener made."""
        self.closed.set()
        try:
            info = os.lstat(self.path)
            if (info.st_dev, info.st_ino) == self.identity:
                os.unlink(self.path)
        except OSError:
            pass
        self.socket.close()


def _remove_if_stale(path: Path) -> None:
    """Remove an old socket at `path` nobody answers on (a server that was killed), if it is this user's;
    raise NotServed when a server answers there, or when it is something else."""
    try:
        problem = check_client.socket_problem(path)
    except FileNotFoundError:
        return
    if problem is not None:
        raise NotServed(problem)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(check_client.CONNECT_SECONDS)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            pass
        except OSError as error:
            raise NotServed(f"{path}: {error}") from None
        else:
            raise NotServed(f"another server answers on {path}")
    os.unlink(path)


def _json(raw: bytes):
    import json

    return json.loads(raw)


_OPTION_TYPES = {
    "select": (list, type(None)),
    "ignore": (list, type(None)),
    "fail_on": (str, type(None)),
    "config_file": (str, type(None)),
    "category": (str, type(None)),
    "timeout": (int, float, type(None)),
    "fingerprints": (bool,),
    "render": (dict, type(None)),
}
_RENDER_TYPES = {"format": str, "color": bool, "include_suppressed": bool, "quiet": bool, "width": int}
_REQUEST_KEYS = {"protocol", "identity", "root", "paths", "digests", "cache", "options", "wait"}


def _mismatch(request, root: Path) -> str | None:
    """Why the request cannot be answered here (None: it can)."""
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL or set(request) != _REQUEST_KEYS:
        return "another protocol"
    if request.get("identity") != check_client.code_identity():
        return "the client runs other code (another version of loadlint or of its parsers)"
    if request.get("root") != str(root):
        return "another project"
    if request.get("cache") != str(check_client.cache_folder()):
        return "another cache folder"
    paths, digests, options = request.get("paths"), request.get("digests"), request.get("options")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and os.path.isabs(p) for p in paths):
        return "malformed paths"
    if not isinstance(digests, dict) or not all(isinstance(d, (str, type(None))) for d in digests.values()):
        return "malformed digests"
    if not isinstance(options, dict) or set(options) != set(_OPTION_TYPES):
        return "other options"
    for name, kinds in _OPTION_TYPES.items():
        value = options[name]
        if not isinstance(value, kinds) or (isinstance(value, list) and not all(isinstance(v, str) for v in value)):
            return f"a malformed option {name}"
    config_file = options["config_file"]
    if config_file is not None and not os.path.isabs(config_file):
        return "a config file named relative to the client's folder"
    render = options["render"]
    if render is not None:
        if set(render) != set(_RENDER_TYPES) or not all(type(render[k]) is t for k, t in _RENDER_TYPES.items()):
            return "a malformed option render"
        if render["format"] not in check_client.RENDERED_FORMATS or render["width"] <= 0:
            return "a malformed option render"
    return None


def _check(request: dict, root: Path) -> tuple[dict, bytes | None]:
    """In the linting thread: run the check as `loadlint check` would, and the answer."""
    from linter.engine import DEFAULT_FILE_TIMEOUT, RunOptions, run
    from linter.model import Level

    paths = [Path(path) for path in request["paths"]]
    try:
        if not all(path.exists() for path in paths) or check_client.run_root(paths) != root:
            return {"status": "mismatch", "reason": "another project"}, None
        options = request["options"]
        timeout = options["timeout"]
        result = run(
            RunOptions(
                paths=paths,
                select=options["select"],
                ignore=options["ignore"],
                fail_on=Level(options["fail_on"]) if options["fail_on"] is not None else None,
                config_file=Path(options["config_file"]) if options["config_file"] is not None else None,
                jobs=1,  # the editor's process: its threads must not be forked, nor its cores all taken
                category=options["category"],
                file_timeout=DEFAULT_FILE_TIMEOUT if timeout is None else timeout or None,
                fingerprints=options["fingerprints"],
            )
        )
    except BaseException as error:  # an error, or a deadline's OutOfTime: the client's own run reports it as it should
        return {"status": "error", "reason": f"{type(error).__name__}: {error}"}, None
    changed = [path for path, digest in request["digests"].items() if file_digest(Path(path)) != digest]
    if changed:
        return {"status": "mismatch", "reason": f"{changed[0]} changed"}, None
    if result.report.root != str(root):
        return {"status": "mismatch", "reason": "another project"}, None
    config = result.config
    answer = {
        "status": "ok",
        "fail_on": result.fail_on.value,
        "incomplete": result.incomplete,
        "config": {
            "baseline": config.baseline,
            "base_dir": str(config.base_dir) if config.base_dir is not None else None,
            "source": config.source,
            "max_file_size": config.max_file_size,
        },
    }
    render = options["render"]
    if render is None or config.baseline is not None:  # the client applies the baseline to the report
        return answer, result.report.model_dump_json().encode("utf-8")
    return _rendered(answer, result, render)


def _rendered(answer: dict, result, render: dict) -> tuple[dict, bytes]:
    """The answer with the output `loadlint check` would print (`render`: its format and options) instead of
    the report, and whether a finding fails the run."""
    import io

    from linter.formatters import render as render_report

    out = io.StringIO()
    options = {key: value for key, value in render.items() if key != "format"}
    render_report(result.report, render["format"], out, **options)
    failing = any(f.level.rank >= result.fail_on.rank for f in result.report.active_findings)
    return {**answer, "rendered": True, "failing": failing}, out.getvalue().encode("utf-8")
