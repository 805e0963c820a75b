"""Framework file conventions rules share: Next.js routing files and directives, one-shot entry points.

Paths are POSIX and relative to the repository root; a Next.js app may sit in a monorepo folder
(`apps/web/src/pages/api/x.ts`), so every pattern matches at any folder depth.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from linter import lazy_re
from linter.syntax import Node, text

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Next.js data functions of the pages router that run on every request (or, in dev, every render).
PER_REQUEST_PAGE_FUNCTIONS = frozenset({"getServerSideProps", "getInitialProps"})

_SOURCE = r"\.(?:[cm]?[jt]sx?)$"
_PAGES_API = lazy_re.compile(r"(^|/)pages/api/")
_PAGES = lazy_re.compile(r"(^|/)pages/")
_APP_ROUTE = lazy_re.compile(r"(^|/)app/(?:.*/)?route" + _SOURCE)
_APP_RENDERED = lazy_re.compile(r"(^|/)app/(?:.*/)?(?:page|layout|template|default|not-found|error)" + _SOURCE)
_MIDDLEWARE = lazy_re.compile(r"(^|/)(?:src/)?(?:middleware|proxy)" + _SOURCE)


def is_pages_api(path: str) -> bool:
    """A Next.js pages-router API route: `pages/api/**`, whose default export handles every request."""
    return bool(_PAGES_API.search(path))


def is_pages_file(path: str) -> bool:
    """A Next.js pages-router page (or API route)."""
    return bool(_PAGES.search(path))


def is_app_route(path: str) -> bool:
    """A Next.js app-router route handler: `app/**/route.ts`, whose exported GET/POST/... run per request."""
    return bool(_APP_ROUTE.search(path))


def is_app_rendered(path: str) -> bool:
    """A Next.js app-router server component file (`page`, `layout`, ...): its default export renders per request."""
    return bool(_APP_RENDERED.search(path))


def is_next_middleware(path: str) -> bool:
    """Next.js middleware (`middleware.ts`, or `proxy.ts` since Next 16) at the app root or in `src/`."""
    return bool(_MIDDLEWARE.search(path))


def is_next_routed(path: str) -> bool:
    """A file Next.js loads by its path (nobody imports it, yet it runs): API routes, route handlers, pages..."""
    return is_pages_file(path) or is_app_route(path) or is_app_rendered(path) or is_next_middleware(path)


def directives_of(body: Node | None) -> tuple[str, ...]:
    """The leading directives (`'use server'`, `'use strict'`, ...) of a program or function body."""
    found: list[str] = []
    if body is None:
        return ()
    for statement in body.named_children:
        if statement.type == "comment":
            continue
        if statement.type != "expression_statement" or statement.named_child_count != 1:
            break
        value = statement.named_children[0]
        if value.type != "string":
            break
        found.append("".join(text(c) for c in value.named_children))
    return tuple(found)


def has_use_server(body: Node | None) -> bool:
    """True when the program or function body starts with the `'use server'` directive (server actions)."""
    return "use server" in directives_of(body)


# Packages that run code in per-request isolates (Cloudflare Workers): I/O objects such as a database client
# cannot be shared across requests there, so creating one per request is the documented way.
ISOLATE_RUNTIME_PACKAGES = ("wrangler", "@cloudflare/workers-types", "@cloudflare/next-on-pages")

_RUNNERS = frozenset(
    {"node", "ts-node", "tsx", "bun", "babel-node", "esno", "esrun", "vite-node", "ts-node-esm", "deno", "jiti", "zx"}
)
_SERVER_SCRIPTS = lazy_re.compile(r"^(start|dev|develop|serve|server|prod|production|watch|debug|preview)([:_-].*)?$")
_SCRIPT_FILE = lazy_re.compile(r"\.(?:[cm]?[jt]sx?)$")


@lru_cache(maxsize=256)  # asked for every file of a package
def command_script_files(package_dir: str, scripts: tuple[tuple[str, str], ...], main: str | None) -> frozenset[str]:
    """Files a package runs as one-shot commands from its `scripts` (`"sync": "node sync-stripe.js"`), as
    root-relative paths. Scripts that start the server (`start`, `dev`, ...) and the `main` entry are left out."""
    files = set()
    excluded = {_package_path(package_dir, main)} if main else set()
    for name, command in scripts:
        if _SERVER_SCRIPTS.match(name):
            continue
        for part in re.split(r"&&|\|\||[;|]", command):
            tokens = part.split()
            for index, token in enumerate(tokens):
                if token.rsplit("/", 1)[-1] not in _RUNNERS:
                    continue
                target = next((t for t in tokens[index + 1 :] if _SCRIPT_FILE.search(t) and not t.startswith("-")), None)
                if target is not None:
                    files.add(_package_path(package_dir, target))
                break
    return frozenset(files - excluded)


# Commands that start a server from a file while developing (`nodemon server.js`, `ts-node-dev src/index.ts`).
_WATCHERS = frozenset({"nodemon", "ts-node-dev", "tsnd"})


@lru_cache(maxsize=256)  # asked for every file of a package
def server_entry_files(package_dir: str, scripts: tuple[tuple[str, str], ...], main: str | None) -> frozenset[str]:
    """The files a package starts its server from, as root-relative paths: its `main` entry and the files its
    server scripts (`start`, `dev`, ...) run (`"start": "node server.js"`, `"dev": "tsx watch src/app.ts"`)."""
    files = {_package_path(package_dir, main)} if main else set()
    for name, command in scripts:
        if not _SERVER_SCRIPTS.match(name):
            continue
        for part in re.split(r"&&|\|\||[;|]", command):
            tokens = part.split()
            for index, token in enumerate(tokens):
                if token.rsplit("/", 1)[-1] not in _RUNNERS | _WATCHERS:
                    continue
                target = next((t for t in tokens[index + 1 :] if _SCRIPT_FILE.search(t) and not t.startswith("-")), None)
                if target is not None:
                    files.add(_package_path(package_dir, target))
                break
    return frozenset(files)


def _package_path(package_dir: str, relative: str) -> str:
    joined = posixpath.normpath(posixpath.join(package_dir, relative)) if package_dir else posixpath.normpath(relative)
    return joined.removeprefix("./")
