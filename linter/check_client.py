"""`loadlint check` answered by a running `loadlint server --serve-checks` of the same project, when one is up.

Most of a pre-commit run is starting up: importing and loading the rules, compiling their queries, reading the
caches. An editor's server did all that already. So `loadlint check FILES…` first asks the server of the
files' project for the report `engine.run` makes of them, and lints on its own, saying nothing, whenever
there is no server, or it is busy, slow, of other code, or answers anything unexpected. The outcome never
depends on the server; only the time does.

Where it is: one Unix domain socket per user and project root, `<folder>/<digest of the root>.sock`, in a
folder private to the user: `$XDG_RUNTIME_DIR/loadlint`, else `<cache folder>/sockets`
(`$XDG_CACHE_HOME/loadlint`, else `~/.cache/loadlint`). Never in the scanned repository (which may be
written by an attacker, who could plant a socket there) and never a TCP port (which any local user can
reach). Before connecting, the folder must be a folder of this user that no one else can enter, and the
socket a socket of this user; after connecting, the process listening must run as this user
(`SO_PEERCRED`, where the system tells).

What is asked (one length-prefixed JSON message each way, `send_message`): the protocol, the identity of the
code (`code_identity`: loadlint's version, its sources and the versions of the packages that decide findings),
the root, the paths as given (absolute) with the digest of each file's content as this run reads it, the
cache folder, and the options that change the report (select, ignore, fail-on, config file, category,
timeout, fingerprints) and, when the client has nothing to do to the report but print it, how to render it
(`render`: a format of RENDERED_FORMATS and its options), and how long the server may wait for its linting
thread. The server answers `started` when its run starts, within `START_SECONDS` of asking, or why not
(`busy`, `mismatch`); then `ok` with the report and what the run's config says about baselines, within
`ANSWER_SECONDS` of starting, or why not. Asked to render, and with no baseline in the run's config, it sends
the output instead of the report: the client then prints it without importing the report's models.
Anything else is a fallback. Two deadlines, because a started run does less than this process would (no
start-up), so waiting for it beats starting over, even on a loaded machine where it takes seconds; while a
server that cannot start soon is not worth waiting for.

Set LOADLINT_NO_SERVER=1 (or pass `--no-server`) never to ask; LOADLINT_SERVER_DEBUG=1 to have one line on
stderr say whether the server answered, or why it was not used.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from linter import __version__
from linter.digests import blake2b
from linter.lazy_dataclasses import dataclass
from linter.roots import find_root

if TYPE_CHECKING:  # imported where a server is asked: a run without one does not pay for it
    import socket

PROTOCOL = 2
CONNECT_SECONDS = 0.25
START_SECONDS = 1.0  # from asking to the server's run starting
ANSWER_SECONDS = 10.0  # from its start to the whole report; a warm server answers a hook's few files in 0.2 s of CPU
MAX_REQUEST_BYTES = 16 << 20  # a path and a digest per file: 150 bytes or so, 100,000 files
MAX_ANSWER_BYTES = 512 << 20
MAX_SOCKET_PATH_BYTES = 100  # sun_path holds 108 bytes on Linux, 104 on macOS, the final NUL included
NO_SERVER_ENV = "LOADLINT_NO_SERVER"
DEBUG_ENV = "LOADLINT_SERVER_DEBUG"
# The packages whose versions decide what a run finds: the parsers and the gitignore matching.
DEPENDENCIES = ("tree_sitter", "tree_sitter_javascript", "tree_sitter_typescript", "pathspec")
# The formats a server may render for the client: those whose output depends on the report and the render
# options alone (text and concise go through rich, which also reads the client's terminal and environment).
RENDERED_FORMATS = ("json", "sarif", "gitlab", "junit", "github")


class NotServed(Exception):
    """Why the server did not answer, or its answer is not used; the run lints on its own."""


@dataclass(frozen=True)
class ServedConfig:
    """What `loadlint check` reads of the run's config after the run (the baseline it names)."""

    baseline: str | None
    base_dir: Path | None
    source: str | None
    max_file_size: int


@dataclass(frozen=True)
class ServedResult:
    """The server's `engine.RunResult`, as `loadlint check` uses it. When the client asked for the output
    (`options["render"]`) and the run's config names no baseline, the server renders it: `rendered` holds it,
    `failing` says whether a finding is at or above the run's fail-on level, and `report` and `fail_on` are
    None (the client then imports no model of the report)."""

    report: object  # linter.model.Report, or None when `rendered`
    config: ServedConfig
    fail_on: object  # linter.model.Level, or None when `rendered`
    incomplete: bool
    root: str = ""
    rendered: str | None = None
    failing: bool = False


# the rendezvous -------------------------------------------------------------------------------------------


def sockets_folder() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "loadlint"
    return cache_folder() / "sockets"


def cache_folder() -> Path:
    """The results cache's folder, as `linter.cache.cache_dir` names it (that module is slower to import)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "loadlint"


def socket_path(root: Path) -> Path:
    """The socket of the server of `root` (an absolute, resolved path). Raises NotServed when it is too long."""
    name = blake2b(os.fsencode(str(root)), digest_size=12).hexdigest() + ".sock"
    path = sockets_folder() / name
    if len(os.fsencode(str(path))) > MAX_SOCKET_PATH_BYTES:
        raise NotServed(f"the socket's path {path} is too long")
    return path


def folder_problem(folder: Path) -> str | None:
    """Why the sockets' folder cannot be trusted (None: it is a folder of this user that only this user can
    enter). Raises FileNotFoundError when there is none."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"{folder} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o077:
        return f"others can enter {folder} (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def socket_problem(path: Path) -> str | None:
    """Why `path` is not a server's socket to talk to (None: a socket of this user). Raises FileNotFoundError."""
    info = os.lstat(path)
    if not stat.S_ISSOCK(info.st_mode):
        return f"{path} is not a socket"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"{path} belongs to another user (uid {info.st_uid})"
    return None


def peer_uid(connection: socket.socket) -> int | None:
    """The user the process at the other end runs as, where the system tells (Linux); else None."""
    import socket
    import struct

    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return uid


# what both sides must agree on ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def code_identity() -> str:
    """A digest of what decides a run's findings besides its input: loadlint's version and sources (the rule
    pack's too), the versions of the parsers and of the gitignore matching, and Python's version. Two
    installs of the same code in different places (an editor's and pre-commit's) have the same identity."""
    import linter

    digest = blake2b(digest_size=16)
    digest.update(f"{PROTOCOL}\0{__version__}\0{sys.version_info[0]}.{sys.version_info[1]}\0".encode())
    for module in DEPENDENCIES:
        digest.update(f"{module}={installed_version(module)}\0".encode())
    package = Path(linter.__file__).resolve().parent
    rules = sys.modules.get("linter.rules")
    rule_pack = Path(rules.__path__[0]).resolve() if rules is not None else package / "rules"
    for label, folder in (("linter", package), ("rules", rule_pack)):
        for source in _sources(folder, skip=rule_pack):
            digest.update(f"{label}/{source.relative_to(folder).as_posix()}\0".encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _sources(folder: Path, skip: Path) -> list[Path]:
    found = []
    for current, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != "__pycache__" and Path(current, name) != skip)
        found.extend(Path(current, name) for name in sorted(files) if name.endswith(".py"))
    return found


def installed_version(module: str) -> str:
    """The version in the name of the module's `.dist-info` folder, without importing the module or
    `importlib.metadata` (a tenth of a second); `?` when there is none to read."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return "?"
    if spec is None or spec.origin is None:
        return "?"
    origin = Path(spec.origin)
    site = origin.parent.parent if origin.name == "__init__.py" else origin.parent
    prefix = module.lower() + "-"
    try:
        names = [name for name in os.listdir(site) if name.lower().startswith(prefix) and name.endswith(".dist-info")]
    except OSError:
        return "?"
    return names[0][len(prefix) : -len(".dist-info")] if len(names) == 1 else "?"


_MAX_DIGESTED_BYTES = 64 << 20  # far above the largest file a run reads (`max-file-size`)


def file_digest(path: Path) -> str | None:
    """The digest of a file's content as a run reads it; None when it is no regular file (a folder), a link (a
    run reads none out of its root, and the digest is not worth following one) or larger than any run reads."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as stream:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        content = stream.read(_MAX_DIGESTED_BYTES + 1)
        return blake2b(content, digest_size=16).hexdigest() if len(content) <= _MAX_DIGESTED_BYTES else None


def run_root(paths: list[Path]) -> Path:
    """The root `engine.run` lints `paths` in (they exist)."""
    targets = sorted({path.resolve() for path in paths})
    return find_root(Path(os.path.commonpath([t if t.is_dir() else t.parent for t in targets])))


# the wire ------------------------------------------------------------------------------------------------


def send_message(connection: socket.socket, body: bytes, deadline: float) -> None:
    connection.settimeout(_left(deadline))
    connection.sendall(len(body).to_bytes(4, "big") + body)


def receive_message(connection: socket.socket, limit: int, deadline: float) -> bytes:
    size = int.from_bytes(_receive(connection, 4, deadline), "big")
    if size > limit:
        raise NotServed(f"a message of {size} bytes, over the limit of {limit}")
    return _receive(connection, size, deadline)


def _receive(connection: socket.socket, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        connection.settimeout(_left(deadline))
        try:
            chunk = connection.recv(min(left, 1 << 20))
        except TimeoutError:
            raise NotServed("out of time") from None
        if not chunk:
            raise NotServed("the connection closed mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise NotServed("out of time")
    return left


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("ascii")  # lone surrogates of odd file names escaped


# the client ----------------------------------------------------------------------------------------------


def served_check(paths: list[Path], options: dict, answer_seconds: float | None = None) -> ServedResult | None:
    """The result of linting `paths` with `options` (see the module's docstring) from the project's server;
    None when there is none to ask or its answer is not used. Never raises; with LOADLINT_SERVER_DEBUG set,
    one line on stderr says what happened. `answer_seconds`: instead of ANSWER_SECONDS."""
    if os.environ.get(NO_SERVER_ENV):
        return None
    try:
        result, pid = _ask(paths, options, ANSWER_SECONDS if answer_seconds is None else answer_seconds)
    except FileNotFoundError:
        _debug("not used: no server of this project is up")
        return None
    except Exception as error:  # whatever went wrong, the run lints on its own
        _debug(f"not used: {error or type(error).__name__}")
        return None
    _debug(f"answered by process {pid}")
    return result


def _ask(paths: list[Path], options: dict, answer_seconds: float) -> tuple[ServedResult, int | None]:
    deadline = time.monotonic() + START_SECONDS
    if not all(path.exists() for path in paths):
        raise NotServed("a path does not exist")
    root = run_root(paths)
    path = socket_path(root)
    problem = folder_problem(path.parent) or socket_problem(path)
    if problem is not None:
        raise NotServed(problem)
    request = {
        "protocol": PROTOCOL,
        "identity": code_identity(),
        "root": str(root),
        "paths": [str(given.absolute()) for given in paths],
        "digests": {str(given.absolute()): file_digest(given) for given in paths if not given.is_dir()},
        "cache": str(cache_folder()),
        "options": options,
        # Seconds the server may wait for its linting thread before it answers `busy`, with time to spare.
        "wait": _left(deadline) / 2,
    }
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(min(CONNECT_SECONDS, _left(deadline)))
        connection.connect(str(path))
        uid = peer_uid(connection)
        if hasattr(os, "geteuid") and uid is not None and uid != os.geteuid():
            raise NotServed(f"the server runs as another user (uid {uid})")
        send_message(connection, encode(request), deadline)
        _expect(receive_message(connection, MAX_ANSWER_BYTES, deadline), "started", request)
        deadline = time.monotonic() + answer_seconds
        answer = _expect(receive_message(connection, MAX_ANSWER_BYTES, deadline), "ok", request)
        raw_report = receive_message(connection, MAX_ANSWER_BYTES, deadline)
    return _result(answer, raw_report, root), answer.get("pid")


def _expect(raw: bytes, status: str, request: dict) -> dict:
    """The server's message `raw`, which must have `status` and be about `request`; else NotServed, why."""
    answer = json.loads(raw)
    if not isinstance(answer, dict) or answer.get("status") != status:
        said = answer.get("status") if isinstance(answer, dict) else "?"
        raise NotServed(f"the server answered {said}: {answer.get('reason') if isinstance(answer, dict) else None}")
    if answer.get("protocol") != PROTOCOL or answer.get("identity") != request["identity"] or answer.get("root") != request["root"]:
        raise NotServed("the answer is for another request")
    return answer


def _result(answer: dict, raw_report: bytes, root: Path) -> ServedResult:
    config = _served_config(answer["config"])
    incomplete = answer["incomplete"]
    if not isinstance(incomplete, bool):
        raise NotServed("a malformed answer")
    if answer.get("rendered") is True:
        failing = answer["failing"]
        if not isinstance(failing, bool) or config.baseline is not None:
            raise NotServed("a malformed answer")
        text = raw_report.decode("utf-8")
        return ServedResult(None, config, None, incomplete, str(root), rendered=text, failing=failing)
    from linter.model import Level, Report

    report = Report.model_validate_json(raw_report)
    if report.root != str(root):
        raise NotServed("the report is of another root")
    if incomplete != report.incomplete:
        raise NotServed("the answer contradicts its report")
    return ServedResult(report=report, config=config, fail_on=Level(answer["fail_on"]), incomplete=incomplete, root=str(root))


def _served_config(config: dict) -> ServedConfig:
    base_dir = config["base_dir"]
    return ServedConfig(
        baseline=_optional_text(config["baseline"]),
        base_dir=Path(base_dir) if isinstance(base_dir, str) else None,
        source=_optional_text(config["source"]),
        max_file_size=int(config["max_file_size"]),
    )


def _optional_text(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise NotServed("a malformed answer")
    return value


def _debug(message: str) -> None:
    if os.environ.get(DEBUG_ENV):
        from linter.terminal_text import printable

        print(f"loadlint: server: {printable(message)}", file=sys.stderr)
