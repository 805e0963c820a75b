"""Socket.io servers whose connections authenticate by a token, where a credentialed CORS policy leaks nothing.

A socket.io server's `cors` option governs its handshake requests only. Credentials there matter when the server
knows the user by what the browser sends by itself: a cookie read from the handshake
(`socket.handshake.headers.cookie`, `socket.request.headers.cookie`), the session an HTTP session middleware
attaches (`io.engine.use(session)`, `socket.request.session`). An SDK embedded on other sites that sends a token
in the handshake's `auth` payload or in its messages gives a foreign page nothing to borrow.

`socket_io_only(file)` says, in the file phase, whether every CORS policy of the file is a socket.io server's:
the file imports socket.io (or Nest's socket.io platform or websockets package), configures no HTTP CORS
(no CORS middleware import, no `enableCors`, no `NestFactory`, no hand-set `Access-Control-` header) and
exports no options object (which other modules could apply to HTTP).
`socket_server_reads_credentials(project, path)` answers in the project phase for the package of `path`: yes
when one of its files (tests aside) that deals with sockets (names socket.io, Nest's websockets or a handshake) mentions
cookies, reads a request's or socket's session or mounts middleware on the engine; and yes when the package
cannot be judged (no manifest, too many files, a file that cannot be read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.exports import export_table
from linter.js.expressions import unwrap
from linter.paths import is_test_path
from linter.syntax import text, walk

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

_SOCKET_MODULES = frozenset({"socket.io", "@nestjs/platform-socket.io", "@nestjs/websockets"})
_HTTP_CORS = lazy_re.compile(
    rb"""enableCors|NestFactory|Access-Control-|['"](?:cors|@fastify/cors|@koa/cors|hono/cors|koa2-cors)['"]"""
)
_SOCKET_FILE = lazy_re.compile(rb"socket\.io|@nestjs/websockets|handshake")
_SOCKET_CREDENTIAL = lazy_re.compile(rb"(?i:cookie)|\b(?:request|req|socket|client)\.session\b|\bengine\.use\s*\(")
MAX_FILES_READ = 4_000


def socket_io_only(file: "FileContext") -> bool:
    """The file configures a socket.io server and no HTTP CORS, and exports no options (see the module)."""
    if _HTTP_CORS.search(file.source) or _exports_options(file):
        return False
    return any(binding.module in _SOCKET_MODULES for binding in file.import_bindings)


def _exports_options(file: "FileContext") -> bool:
    """An exported top-level object literal that names an `origin`: other modules may apply it to HTTP."""
    exported = set(export_table(file.root).names.values())
    for node in walk(file.root):
        if node.type == "variable_declarator" and text(node.child_by_field_name("name")) in exported:
            value = unwrap(node.child_by_field_name("value"))
            if value is not None and value.type == "object" and b"origin" in value.text:
                return True
    return False


def socket_server_reads_credentials(project: "ProjectIndex", path: str) -> bool:
    package = project.package_of(path)
    if package is None or package.manifest is None:
        return True
    return project.memo(("rules.cors.socket-credentials", package.dir), lambda: _reads_them(project, package))


def _reads_them(project: "ProjectIndex", package) -> bool:
    prefix = f"{package.dir}/" if package.dir else ""
    sources = [
        file for file in project.files
        if file.startswith(prefix) and not is_test_path(file) and project.package_of(file) is package
    ]  # fmt: skip
    if len(sources) > MAX_FILES_READ:
        return True
    for source_path in sources:
        source = project.read_js_source(source_path)
        if source is None:
            if project.importers_of(source_path):
                return True
            continue
        if _SOCKET_FILE.search(source) and _SOCKET_CREDENTIAL.search(source):
            return True
    return False
