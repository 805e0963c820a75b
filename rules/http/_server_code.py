"""Which side of the app a file runs on: the server, the browser (or a phone), or neither (a one-off script).

A hung request costs a server something a browser does not: the request handler (and the connection, the memory,
the client's socket) waiting on it. So the rule looks at server code only:

- one-off code is left out: tests, scripts (`scripts/`, `bin/`, seeds, migrations, files a package script runs
  with `node`, files that read `process.argv` or check `require.main`), config files, stories, and command-line
  tools (a package whose manifest has a `"bin"` and that depends on no server framework);
- browser code is left out: a file under `'use client'`, any file of a package that depends on a browser framework
  (React, Vue, Svelte, Angular, Solid, Preact, React Native, Tauri's webview) but on no server framework, and, in a
  package that has both (Next.js, Remix, an Express server rendering React), components and hooks (files with JSX
  or React hook calls, `components/` and `hooks/` folders) and the pages router's pages outside their data
  functions;
- the rest of such a mixed package is server code when its conventions say so (route handlers, API routes,
  middleware, server actions, server components, `*.server.*`, `server/`, `api/` folders, `import 'server-only'`,
  Node built-ins, a database client or a server framework imported), and AMBIGUOUS otherwise (`lib/github.ts`):
  the project phase asks its importers (`side_of_importers`).

Packages without a browser framework (Express, NestJS, Fastify, Hono APIs, workers, libraries) are server code.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.frameworks.nextjs import (
    command_script_files,
    directives_of,
    is_app_rendered,
    is_app_route,
    is_next_middleware,
    is_pages_api,
    is_pages_file,
)
from linter.js.functions import exported_name, function_chain, enclosing_function
from linter.js.expressions import callee
from linter.paths import is_test_support_path
from linter.syntax import Node, descendants_of_types, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import Package, ProjectIndex

SERVER, BROWSER, SCRIPT, AMBIGUOUS = "server", "browser", "script", "ambiguous"

SERVER_FRAMEWORKS = frozenset(
    {
        "express", "fastify", "koa", "@koa/router", "koa-router", "hono", "@hono/node-server", "@nestjs/core",
        "@nestjs/common", "@hapi/hapi", "restify", "h3", "nitropack", "elysia", "@trpc/server", "next",
        "@remix-run/node", "@remix-run/server-runtime", "@react-router/node", "@sveltejs/kit", "nuxt", "astro",
        "@vercel/node", "@netlify/functions", "firebase-functions", "@apollo/server", "apollo-server",
        "apollo-server-express", "graphql-yoga", "socket.io", "bullmq", "bull", "inngest", "@trigger.dev/sdk",
        "wrangler", "@cloudflare/workers-types",
    }
)  # fmt: skip
BROWSER_FRAMEWORKS = frozenset(
    {"react", "react-dom", "vue", "svelte", "@angular/core", "solid-js", "preact", "react-native", "expo"}
)
MOBILE_FRAMEWORKS = frozenset({"react-native", "expo"})
_ONE_SHOT = lazy_re.compile(
    r"(^|/)(scripts?|bin|seeds?|seeders|migrations|fixtures|mocks?|__fixtures__|\.storybook|stories)/"
    r"|(^|/)[^/]*(\.config|\.stories|\.story|\.seed|seed)\.[cm]?[jt]sx?$"
)
_ENTRY_MARKERS = (b"require.main === module", b"require.main == module", b"import.meta.main", b"process.argv")
_BROWSER_FOLDERS = lazy_re.compile(r"(^|/)(components|hooks|contexts|providers|ui)/")
_SERVER_PATHS = lazy_re.compile(r"(^|/)server/|\.server\.[cm]?[jt]sx?$")
# What only browser code touches: the page, its storage, its cookies.
_BROWSER_TEXT = lazy_re.compile(rb"\b(window|document|localStorage|sessionStorage|navigator)\.|withCredentials|js-cookie|publicRuntimeConfig")
# What `_BROWSER_TEXT` matches holds one of these: looked for first, they spare most files the pattern.
_BROWSER_TEXT_WORDS = (
    b"window.", b"document.", b"localStorage.", b"sessionStorage.", b"navigator.", b"withCredentials", b"js-cookie",
    b"publicRuntimeConfig",
)  # fmt: skip
_SERVER_MODULES = lazy_re.compile(
    r"^(node:|fs$|fs/|path$|crypto$|child_process$|http$|https$|net$|stream$|os$|worker_threads$|server-only$"
    r"|@prisma/client|drizzle-orm|mongoose$|pg$|mysql2|ioredis$|redis$|@upstash/|express$|fastify$|hono$|@nestjs/"
    r"|next/server$|next/headers$|@trpc/server)"
)
_HOOK = lazy_re.compile(r"^use[A-Z]\w*$")
_DATA_FUNCTIONS = frozenset({"getServerSideProps", "getStaticProps", "getStaticPaths", "loader", "action"})
_USE_CLIENT = lazy_re.compile(rb"^\s*(?:(?://[^\n]*\n|/\*.*?\*/)\s*)*['\"]use client['\"]", re.S)
_USE_SERVER = lazy_re.compile(rb"^\s*(?:(?://[^\n]*\n|/\*.*?\*/)\s*)*['\"]use server['\"]", re.S)
_JSX_TEXT = lazy_re.compile(rb"<[A-Z][\w.]*[\s/>]|</[a-z]+>|\buse[A-Z]\w*\(")
_SERVER_ONLY_TEXT = lazy_re.compile(rb"""['"]server-only['"]""")
MAX_IMPORTER_DEPTH = 3


def file_side(file: "FileContext") -> str:
    """SERVER, BROWSER, SCRIPT or AMBIGUOUS for code at the top of `file` (see the module)."""
    return file.memo("http.side", lambda: _file_side(file))


def call_side(call: Node, file: "FileContext") -> str:
    """The side of one call: a pages-router page runs its data functions on the server, the rest in the browser."""
    side = file_side(file)
    if side != BROWSER or not is_pages_file(file.path):
        return side
    fn = enclosing_function(call)
    for outer in function_chain(fn) if fn is not None else ():
        if exported_name(outer, file.root) in _DATA_FUNCTIONS:
            return SERVER
    return BROWSER


def _file_side(file: "FileContext") -> str:
    path = file.path
    if is_test_support_path(path) or _ONE_SHOT.search(path) or _runs_as_command(file):
        return SCRIPT
    directives = directives_of(file.root)
    if "use client" in directives:
        return BROWSER
    package = file.packages[0] if file.packages else None
    dependencies = package.dependencies if package is not None else frozenset()
    if package is not None and _command_line_tool(package):
        return SCRIPT
    if dependencies & MOBILE_FRAMEWORKS or _webview_app(dependencies):
        return BROWSER
    if not dependencies & BROWSER_FRAMEWORKS:
        return SERVER
    server_package = bool(dependencies & SERVER_FRAMEWORKS)
    if "use server" in directives or is_app_route(path) or is_pages_api(path) or is_next_middleware(path):
        return SERVER
    if is_app_rendered(path):
        return SERVER  # a server component: 'use client' was ruled out above
    if is_pages_file(path) or _BROWSER_FOLDERS.search(path) or _renders(file) or _BROWSER_TEXT.search(file.source):
        return BROWSER
    if not server_package:
        return BROWSER
    if _SERVER_PATHS.search(path) or any(_SERVER_MODULES.match(b.module) for b in file.import_bindings):
        return SERVER
    return AMBIGUOUS


def _command_line_tool(package: "Package") -> bool:
    """A package that installs a command (`"bin"` in its manifest) and runs no server: a CLI someone runs."""
    return package.command and not package.dependencies & SERVER_FRAMEWORKS


@lru_cache(maxsize=256)  # asked for every file of a package
def _webview_app(dependencies: frozenset[str]) -> bool:
    """A Tauri app's JavaScript runs in its webview."""
    return any(name.startswith("@tauri-apps/") for name in dependencies)


def _runs_as_command(file: "FileContext") -> bool:
    source = file.source
    if source.startswith(b"#!") or any(marker in source for marker in _ENTRY_MARKERS):
        return True
    for package in file.packages[:1]:
        if file.path in command_script_files(package.dir, package.scripts, package.main):
            return True
    return False


def _renders(file: "FileContext") -> bool:
    """JSX, or a call of a React hook (`useEffect`, `useSWR`, `useQuery`)."""
    if descendants_of_types(file.root, ("jsx_element", "jsx_self_closing_element", "jsx_fragment")):
        return True
    for call in descendants_of_types(file.root, ("call_expression",)):
        function = callee(call)
        if function is not None and function.type == "identifier" and _HOOK.match(text(function)):
            return True
    return False


def side_of_importers(project: "ProjectIndex", path: str) -> str:
    """For an AMBIGUOUS module: SERVER when every module that imports it (through ambiguous ones, a few levels
    up) is server code, BROWSER when one is browser code, AMBIGUOUS when nothing imports it."""
    return project.memo(("http.importers-side", path), lambda: _importers_side(project, path, 0, frozenset()))


def _importers_side(project: "ProjectIndex", path: str, depth: int, seen: frozenset[str]) -> str:
    importers = [p for p in project.importers_of(path) if p not in seen]
    if not importers or depth > MAX_IMPORTER_DEPTH:
        return AMBIGUOUS
    sides = set()
    for importer in importers:
        side = text_side(project, importer)
        if side == AMBIGUOUS:
            side = _importers_side(project, importer, depth + 1, seen | {path})
        if side == BROWSER:
            return BROWSER
        sides.add(side)
    if AMBIGUOUS in sides:
        return AMBIGUOUS
    return SERVER if SERVER in sides else SCRIPT


def text_side(project: "ProjectIndex", path: str) -> str:
    """The side of a module from its path and text alone (no parse): the importer check of `side_of_importers`."""
    source = project.read_js_source(path) or b""
    return project.lasting(path, source, "http.text-side", lambda: _text_side(project, path, source))


def writes_browser_text(source: bytes) -> bool:
    """`_BROWSER_TEXT.search(source)`, tried only on a file that holds one of its words."""
    return any(word in source for word in _BROWSER_TEXT_WORDS) and _BROWSER_TEXT.search(source) is not None


def _text_side(project: "ProjectIndex", path: str, source: bytes) -> str:
    if is_test_support_path(path) or _ONE_SHOT.search(path):
        return SCRIPT
    if _USE_CLIENT.match(source):
        return BROWSER
    package = project.package_of(path)
    dependencies = package.dependencies if package is not None else frozenset()
    if package is not None and _command_line_tool(package):
        return SCRIPT
    if dependencies & MOBILE_FRAMEWORKS or _webview_app(dependencies):
        return BROWSER
    if not dependencies & BROWSER_FRAMEWORKS:
        return SERVER
    if _USE_SERVER.match(source) or is_app_route(path) or is_pages_api(path) or is_next_middleware(path) or is_app_rendered(path):
        return SERVER
    if b"server-only" in source and _SERVER_ONLY_TEXT.search(source):
        return SERVER
    if is_pages_file(path) or _BROWSER_FOLDERS.search(path):
        return BROWSER
    if posixpath.splitext(path)[1] in (".tsx", ".jsx") and _JSX_TEXT.search(source) or writes_browser_text(source):
        return BROWSER
    if _SERVER_PATHS.search(path):
        return SERVER
    return AMBIGUOUS
