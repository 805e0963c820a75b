"""Whether a module runs in the app at all: a module written to be imported that nothing loads is left behind
(an old helper after a migration) or read only by a tool's command (`knexfile.js`, which the knex CLI loads for
migrations); a module only one-shot commands import runs in those commands, not in the server.

`never_loaded(project, path)` answers yes only when the package's scripts or `main` name an entry file the
project holds (so there is an app to load modules), and nothing could load the module without an import the
project index sees: no file imports it (nor has an import left unresolved whose last part is the module's
name), it is not a file a framework loads by its path (Next.js routes, a `*.config.*` file), nor named like an
entry (`index`, `server`, `main`, `app`, … next to the package's manifest or in its
`src/`), nor named by a script or the `main` of its package, nor run on its own (a `#!` line,
`require.main === module`, `process.argv`, a serverless `handler` export, a worker thread's entry); its package
installs no command, depends on no library that loads modules by their path (route autoloaders, file-routed
frameworks and serverless platforms), on no other package of the repository that might import it by a subpath,
and none of its files imports a module by a computed path (`require(path.join(dir, file))`).

`runs_in_commands_only(project, path)` answers yes for a one-shot command (a file a package script other than
the server's runs, `"migrate": "tsx scripts/migrate.ts"`, or one with a `#!` line or `require.main === module`
that starts no server) and for a module only such commands import.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.entries import loaded_by
from linter.frameworks.nextjs import command_script_files, is_next_routed
from linter.paths import is_test_path

if TYPE_CHECKING:
    from linter.project import Package, ProjectIndex

_ENTRY_STEMS = frozenset(
    {"index", "server", "main", "app", "worker", "handler", "lambda", "instrumentation", "bootstrap", "start", "cli"}
)
_ENTRY_FOLDERS = frozenset({"", "src", "server", "api", "bin"})
_TOOL_CONFIG = lazy_re.compile(r"(^|/)[^/]*\.config\.[cm]?[jt]s$|(^|/)\.[^/]*rc\.[cm]?[jt]s$")
COMMAND_MARKERS = (b"require.main", b"import.meta.main")
_RUNS_ON_ITS_OWN = (*COMMAND_MARKERS, b"process.argv", b"parentPort", b"workerData")
_HANDLER_EXPORT = lazy_re.compile(rb"exports\.handler\s*=|export\s+(?:const|let|async\s+function|function)\s+handler\b")
# Dependencies that load modules by their path: route and plugin autoloaders, file-routed frameworks, serverless
# platforms (a name, or a scope's prefix ending in `/`).
_PATH_LOADERS = (
    "@fastify/autoload", "fastify-autoload", "fastify-cli", "consign", "require-all", "require-directory",
    "express-load", "express-file-routing", "@sveltejs/kit", "@remix-run/", "@react-router/", "nuxt", "nitropack",
    "astro", "@vercel/node", "firebase-functions", "@netlify/functions", "wrangler", "serverless", "honox",
    "@redwoodjs/", "@adonisjs/", "sails", "@tanstack/start", "@tanstack/react-start", "@azure/functions",
    "@google-cloud/functions-framework", "aws-lambda", "@types/aws-lambda", "moleculer",
)  # fmt: skip
# `require(x)` or `import(x)` whose argument is not one plain string.
_COMPUTED_LOAD = lazy_re.compile(rb"\b(?:require|import)\s*\(\s*(?!['\"][^'\"\n]*['\"]\s*[,)])[^\s)]")
# ... unless it is a fixed path joined to the module's folder: `require(path.resolve(__dirname, 'visit.js'))`.
_FIXED_PATH_LOAD = lazy_re.compile(
    rb"\(\s*(?:path\.)?(?:join|resolve)\(\s*(?:__dirname|process\.cwd\(\)|import\.meta\.dirname)"
    rb"(?:\s*,\s*['\"]([^'\"\n]*)['\"])+\s*\)\s*\)"
)
_SCRIPT_TARGET = lazy_re.compile(r"[\w./@-]+\.[cm]?[jt]sx?$")
# What starts a server: `app.listen(`, Hono's `serve({ fetch })`, `NestFactory.create`, `http.createServer(`.
_SERVER_START = lazy_re.compile(rb"\.listen\(|\bserve\(|NestFactory\b|\bcreateServer\(|\b(?:Bun|Deno)\.serve\b")
MAX_COMMAND_FILES = 300  # modules a command loads, read to tell it from a server; more, and it is a server
MAX_PACKAGE_FILES = 4_000  # files of one package read for computed loads; more, and every module counts as loaded
MAX_IMPORT_DEPTH = 20


def never_loaded(project: "ProjectIndex", path: str) -> bool:
    if project.importers_of(path) or is_next_routed(path) or _TOOL_CONFIG.search(path) or is_test_path(path):
        return False
    package = project.package_of(path)
    if not names_an_entry(package):
        return False
    stem = _stem(path)
    stems = _script_stems(package)
    if _entry_named(package, path) or stem in stems or not _has_entry(project, package, stems):
        return False
    if stem in _unresolved_names(project) or (stem == "index" and _stem(posixpath.dirname(path)) in _unresolved_names(project)):
        return False
    source = project.read_js_source(path)
    if source is None or source.startswith(b"#!") or any(m in source for m in _RUNS_ON_ITS_OWN) or _HANDLER_EXPORT.search(source):
        return False
    loaded = _loaded_by_path(project, package, path)
    return loaded is not None and stem not in loaded


def names_an_entry(package: "Package | None") -> bool:
    """Whether the package's scripts or `main` name a file to run: without one, no module of it is judged
    unloaded (known from the manifest alone, so the file phase can tell which findings to hold)."""
    return package is not None and package.manifest is not None and not package.command and bool(_script_stems(package))


def runs_in_commands_only(project: "ProjectIndex", path: str) -> bool:
    return _command_or_its_module(project, path, 0)


def _command_or_its_module(project: "ProjectIndex", path: str, depth: int) -> bool:
    if _is_command(project, path):
        return True
    importers = project.importers_of(path)
    if not importers or depth >= MAX_IMPORT_DEPTH:
        return False
    return all(_command_or_its_module(project, importer, depth + 1) for importer in importers)


def _is_command(project: "ProjectIndex", path: str) -> bool:
    """A file a package script runs as a one-shot command (`"backfill": "node scripts/backfill.js"`, not the
    server's `start`), or one marked as run on its own (`#!`, `require.main === module`), that starts no server,
    nor does any module it loads (a script named `run` may start the app)."""
    def compute() -> bool:
        package = project.package_of(path)
        listed = package is not None and path in command_script_files(package.dir, package.scripts, package.main)
        if not listed:
            source = project.read_js_source(path) or b""
            if project.importers_of(path) or not (source.startswith(b"#!") or any(m in source for m in COMMAND_MARKERS)):
                return False
        loaded = loaded_by(project, frozenset({path}))
        if len(loaded) > MAX_COMMAND_FILES:
            return False
        return not any(_SERVER_START.search(project.read_js_source(f) or b"") for f in sorted(loaded))

    return project.memo(("rules.auth.is-command", path), compute)


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def _package_files(project: "ProjectIndex", package: "Package") -> list[str]:
    prefix = f"{package.dir}/" if package.dir else ""
    return [f for f in project.files if f.startswith(prefix) and project.package_of(f) is package]


def _has_entry(project: "ProjectIndex", package: "Package", stems: frozenset[str]) -> bool:
    """Some file of the package is one its scripts or `main` run (by name: `node dist/server.js` runs what
    `src/server.ts` compiles to)."""
    if not stems:
        return False
    return project.memo(("rules.auth.has-entry", package.dir), lambda: any(_stem(f) in stems for f in _package_files(project, package)))


def _unresolved_names(project: "ProjectIndex") -> frozenset[str]:
    """The last parts of the local imports the project index could not resolve (`../lib/tokens` → `tokens`):
    a module of that name may be what they import."""

    def compute() -> frozenset[str]:
        return frozenset(
            _stem(specifier.rstrip("/"))
            for edges in project.imports.values()
            for specifier, target in edges
            if target is None and (specifier.startswith((".", "/", "~", "@/", "#")) or "/" in specifier)
        )

    return project.memo("rules.auth.unresolved-names", compute)


def _entry_named(package: "Package", path: str) -> bool:
    folder, name = posixpath.split(path)
    relative = folder[len(package.dir) + 1 :] if package.dir else folder
    if package.dir and not (folder + "/").startswith(package.dir + "/"):
        return False
    return posixpath.splitext(name)[0] in _ENTRY_STEMS and relative in _ENTRY_FOLDERS


def _script_stems(package: "Package") -> frozenset[str]:
    """The file names (without extension) the package's scripts run and its `main` names: `node dist/server.js`
    runs what `src/server.ts` compiles to."""
    targets = [token for _, command in package.scripts for token in re.split(r"[\s;&|=\"']+", command)]
    if package.main:
        targets.append(package.main)
    return frozenset(_stem(t) for t in targets if _SCRIPT_TARGET.search(t))


def _loaded_by_path(project: "ProjectIndex", package: "Package", path: str) -> frozenset[str] | None:
    """The names of the modules the package loads by a fixed path joined to a folder; None when it may load any
    module by its path (an autoloader, a file-routed framework, a computed `require`), or when other packages of
    the repository depend on it (and may import its modules by a subpath)."""

    def compute() -> frozenset[str] | None:
        dependencies = {name for around in project.packages_around(path) for name in around.dependencies}
        if any(name == loader or (loader.endswith("/") and name.startswith(loader)) for name in dependencies for loader in _PATH_LOADERS):
            return None
        if package.name and any(package.name in other.dependencies for other in project.packages.values() if other is not package):
            return None
        files = _package_files(project, package)
        if len(files) > MAX_PACKAGE_FILES:
            return None
        names: set[str] = set()
        for file in files:
            source = project.read_js_source(file) or b""
            for found in _COMPUTED_LOAD.finditer(source):
                line_start = source.rfind(b"\n", 0, found.start()) + 1
                if source[line_start : found.start()].lstrip().startswith((b"//", b"*", b"/*")):
                    continue  # a comment
                fixed = _FIXED_PATH_LOAD.match(source, source.index(b"(", found.start()))
                if fixed is None:
                    return None
                names.add(_stem(fixed.group(1).decode("utf-8", "replace")))
        return frozenset(names)

    return project.memo(("rules.auth.loaded-by-path", package.dir), compute)
