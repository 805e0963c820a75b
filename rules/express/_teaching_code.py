"""Teaching code told apart by the repository's layout: lessons, lecture demos and course follow-alongs whose servers
only ever run on a learner's machine (tests/realcode/FINDINGS.md, `express/no-graceful-shutdown`).

An *independent* package is one no other package of the repository encloses (there is no manifest at the root or in
a folder above it): nothing ties it to the others, as a workspace would. Two layouts of independent packages say
"course" without reading a README:

- **Numbered lessons.** The app's package is, or sits in, one of three or more sibling folders named as steps of
  one sequence (`demo03`, `lesson-2`, `week3`, `day-05`, `exercise_1`, `01-intro`, `part2`), each holding an
  independent package of its own, and no deployment file (Dockerfile, Compose file, Procfile, platform config) sits
  in the app's own step folder or anywhere outside the sequence's folders. Release folders (`v1`, `v2`,
  `api-v3`) are not steps: they hold versions of one deployed app.
- **A development-only collection.** Three or more independent packages start servers, each under a file
  watcher (a `start`/`dev`/`watch` script runs `nodemon`, `ts-node-dev`, `babel-watch`, `node --watch`,
  `tsx watch`, …) or by hand (no such script, and no `server.js` for `npm start` to fall back on), at least one
  of them with a watcher (a script, or a watcher among its dependencies), and nothing in the repository runs a
  server as a deployment would: no Procfile, railway, render, fly or nixpacks file; no package script, Dockerfile
  `CMD`/`ENTRYPOINT` or Compose `command:` that starts one with a runner that does not watch (`node`, `ts-node`,
  `tsx`, `bun`, `pm2`, `nest start`, …; an `npm start` is read through the package's scripts); and no container
  that runs a watcher over code it carries: an image that copies the app in and starts it under `nodemon` is
  shipped somewhere (unless a Compose service that builds it bind-mounts the folder over it: a developer's
  checkout), and so is a Compose service that starts a watcher without mounting one.
"""

from __future__ import annotations

import posixpath
import re

from linter import lazy_re
import linter.files.kinds as kinds
from linter.project import Package, ProjectIndex
from linter.rules.express._containers import read_image, read_services

MIN_STEPS = 3  # sibling step folders that make a sequence
MIN_COLLECTION = 3  # independent server packages that make a collection

DEPLOY_KINDS = (
    kinds.DOCKERFILE, kinds.COMPOSE, kinds.PROCFILE, kinds.RAILWAY_JSON, kinds.RAILWAY_TOML, kinds.RENDER_YAML,
    kinds.FLY_TOML, kinds.NIXPACKS_TOML,
)  # fmt: skip
_PLATFORM_KINDS = (
    kinds.PROCFILE, kinds.RAILWAY_JSON, kinds.RAILWAY_TOML, kinds.RENDER_YAML, kinds.FLY_TOML, kinds.NIXPACKS_TOML,
)  # fmt: skip

# `demo03`, `lesson-2-routing`, `week 3`; `01-intro`.
_STEP = lazy_re.compile(
    r"^(?P<stem>[a-z][a-z_. -]*?)[_. -]?(?P<number>\d{1,3})(?:[_. -].*)?$|^(?P<lead>\d{1,3})[_. -].+$", re.I
)
_RELEASE_STEM = lazy_re.compile(r"^(v|ver|version|release|api[_. -]?v)$", re.I)

_SERVER_SCRIPT = lazy_re.compile(r"^(start|dev|develop|serve|server|prod|production|watch|debug|preview|run)([:_-].*)?$")
_RUNNERS = frozenset(
    {"node", "ts-node", "ts-node-esm", "tsx", "bun", "babel-node", "esno", "vite-node", "deno", "pm2", "pm2-runtime",
     "forever", "remix-serve", "react-router-serve"}
)  # fmt: skip
_STARTING_CLIS = frozenset({"nest", "fastify", "next", "nuxt"})  # `<cli> start`
_WATCHERS = frozenset({"nodemon", "ts-node-dev", "tsnd", "babel-watch", "node-dev", "supervisor", "node-supervisor"})
_WATCH_FLAGS = frozenset({"--watch", "--hot", "--watch-path"})  # `-w` only after `nest start`, `fastify start`
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
_PROGRAMS = _RUNNERS | _STARTING_CLIS | _PACKAGE_MANAGERS
_OPTIONS_WITH_VALUES = frozenset({"--prefix", "-C", "--dir", "--cwd", "--filter", "-F", "-w", "--workspace"})
_SEGMENT_SEPARATOR = lazy_re.compile(r"&&|\|\||[;|&\n]")
_ASSIGNMENT = lazy_re.compile(r"^\w+=")
_DEVELOPMENT_IMAGE = lazy_re.compile(r"(^|[._-])(dev|develop|development|local)([._-]|$)", re.I)
MAX_SCRIPT_DEPTH = 3
WATCHED, UNWATCHED = "watched", "unwatched"


def teaching_layout(project: ProjectIndex, package_dir: str, server_packages: frozenset[str]) -> str | None:
    """Why the server of the package at `package_dir` is teaching code (`"numbered lessons"`, `"development-only
    collection"`), or None. `server_packages`: the folders of the packages whose files start a server."""
    independent = independent_packages(project)
    if package_dir not in independent:
        return None
    if _numbered_lessons(project, package_dir, independent):
        return "numbered lessons"
    key = ("express.teaching-code.collection", server_packages)
    if project.memo(key, lambda: _development_only_collection(project, server_packages)):
        return "development-only collection"
    return None


def _development_only_collection(project: ProjectIndex, server_packages: frozenset[str]) -> bool:
    servers = [project.packages[folder] for folder in sorted(server_packages & independent_packages(project))]
    return (
        len(servers) >= MIN_COLLECTION
        and all(_starts_a_server(dict(p.scripts), WATCHED) or _started_by_hand(project, p) for p in servers)
        and any(_starts_a_server(dict(p.scripts), WATCHED) or p.depends_on(_WATCHERS) for p in servers)
        and _development_only(project)
    )


def independent_packages(project: ProjectIndex) -> frozenset[str]:
    """The folders of the packages no other package encloses (none when there is a manifest at the root)."""

    def compute() -> frozenset[str]:
        folders = set(project.packages)
        if "" in folders:
            return frozenset()
        return frozenset(f for f in folders if not any(a in folders for a in _ancestors(f)))

    return project.memo("express.teaching-code.independent", compute)


def step_of(name: str) -> tuple[str, int] | None:
    """A folder name read as a step of a sequence: (the sequence's stem, the number); `#` stands for the stem of
    names that lead with their number. None for other names and for release folders (`v2`)."""
    found = _STEP.match(name)
    if found is None:
        return None
    if found.group("lead") is not None:
        return "#", int(found.group("lead"))
    stem = found.group("stem").lower().rstrip("_. -")
    if _RELEASE_STEM.match(stem):
        return None
    return stem, int(found.group("number"))


def _numbered_lessons(project: ProjectIndex, package_dir: str, independent: frozenset[str]) -> bool:
    parts = package_dir.split("/")
    for depth in range(len(parts), 0, -1):
        step = step_of(parts[depth - 1])
        if step is None:
            continue
        parent = "/".join(parts[: depth - 1])
        siblings: dict[str, int] = {}
        for other in independent:
            if parent and not other.startswith(parent + "/"):
                continue
            name = (other[len(parent) + 1 :] if parent else other).split("/", 1)[0]
            other_step = step_of(name)
            if other_step is not None and other_step[0] == step[0]:
                siblings[name] = other_step[1]
        if len(set(siblings.values())) < MIN_STEPS:
            continue
        own = "/".join(parts[:depth])
        sequence = [posixpath.join(parent, name) for name in siblings]
        return not any(
            _inside(path, own) or not any(_inside(path, folder) for folder in sequence)
            for path in project.project_files(*DEPLOY_KINDS)
        )
    return False


def _development_only(project: ProjectIndex) -> bool:
    """Nothing in the repository runs a server as a deployment would: no platform file, no package script that
    starts one without a watcher, and no container that does, or that carries the code it runs."""
    if project.project_files(*_PLATFORM_KINDS):
        return False
    for package in project.packages.values():
        if _starts_a_server(dict(package.scripts), UNWATCHED):
            return False
    checkouts = set()  # folders a Compose service builds and bind-mounts: a developer's checkout in a container
    for path in project.project_files(kinds.COMPOSE):
        source = project.read_source(path)
        folder = posixpath.dirname(path)
        for service in read_services(source.decode("utf-8", "replace")) if source is not None else ():
            built = _joined(folder, service.build) if service.build else None
            mounted = {_joined(folder, mount) for mount in service.mounts}
            if service.command is not None:
                scripts = _scripts_near(project, built if built is not None else folder)
                kind = start_kind(service.command, scripts) if service.command else UNWATCHED
                if kind == UNWATCHED or (kind == WATCHED and not mounted):
                    return False
            if built is not None and built in mounted:
                checkouts.add(built)
    for path in project.project_files(kinds.DOCKERFILE):
        source = project.read_source(path)
        if source is None or _DEVELOPMENT_IMAGE.search(posixpath.basename(path)):
            continue
        folder = posixpath.dirname(path)
        image = read_image(source.decode("utf-8", "replace"))
        started = {start_kind(command, _scripts_near(project, folder), image=True) for command in image.starts}
        if UNWATCHED in started or (WATCHED in started and image.copies_code and folder not in checkouts):
            return False
    return True


def _started_by_hand(project: ProjectIndex, package: Package) -> bool:
    """No script starts the package's server, and `npm start` finds no `server.js` to run instead: someone types
    `node books.js` (or `nodemon books.js`) in a terminal."""
    if any(_SERVER_SCRIPT.match(name) for name, _ in package.scripts):
        return False
    files = project.memo("express.teaching-code.files", lambda: frozenset(project.files))
    return posixpath.join(package.dir, "server.js") not in files


def _starts_a_server(scripts: dict[str, str], kind: str) -> bool:
    """A server script (`start`, `dev`, `serve`, …) of the package starts something, `kind` (watched or not)."""
    return any(_SERVER_SCRIPT.match(name) and start_kind(command, scripts) == kind for name, command in scripts.items())


def start_kind(command: str, scripts: dict[str, str] | None, image: bool = False, depth: int = 0) -> str | None:
    """`UNWATCHED` when the shell command starts a program with a runner that does not watch files (`node
    server.js`, `pm2 start`, `nest start`, an `npm start` whose script does), else `WATCHED` when it starts one
    under a file watcher (`nodemon`, `tsx watch`, `node --watch`), else None. `scripts`: the package's scripts, to
    read `npm run <name>` through (None when unknown: then a script counts as an unwatched start). `image`: an
    image's command, where `npm start` with no start script runs `node server.js`."""
    found = set()
    for segment in _SEGMENT_SEPARATOR.split(command):
        words = [word.strip("'\"") for word in segment.split()]
        words = [word for word in words if word and not _ASSIGNMENT.match(word)]
        if any(posixpath.basename(word) in _WATCHERS or word in _WATCH_FLAGS for word in words):
            found.add(WATCHED)
            continue
        # The first program that starts something decides (`sh -c "node x"`, `dotenv -e .env -- node x`).
        at = next((i for i, word in enumerate(words) if posixpath.basename(word) in _PROGRAMS), None)
        if at is None:
            continue
        program, arguments = posixpath.basename(words[at]), words[at + 1 :]
        if program in _PACKAGE_MANAGERS:
            name = _script_called(arguments)
            if name is None:
                continue
            if scripts is None or (image and name == "start" and name not in scripts):
                found.add(UNWATCHED)
            elif name in scripts and depth < MAX_SCRIPT_DEPTH:
                found.add(start_kind(scripts[name], scripts, image, depth + 1))
        elif program in _RUNNERS:
            found.add(WATCHED if arguments[:1] == ["watch"] else UNWATCHED)
        elif program in _STARTING_CLIS and arguments[:1] == ["start"]:
            found.add(WATCHED if "-w" in arguments else UNWATCHED)
    return UNWATCHED if UNWATCHED in found else WATCHED if WATCHED in found else None


def _script_called(arguments: list[str]) -> str | None:
    """`start` for `npm start` / `yarn start`, `dev` for `npm run dev` / `pnpm dev` / `yarn dev`."""
    words, arguments = iter(arguments), []
    for word in words:
        if word in _OPTIONS_WITH_VALUES:
            next(words, None)
        elif not word.startswith("-"):
            arguments.append(word)
    if not arguments:
        return None
    if arguments[0] in ("run", "run-script"):
        return arguments[1] if len(arguments) > 1 else None
    if arguments[0] in ("install", "ci", "i", "add", "exec", "dlx", "x", "build", "test"):
        return None
    return arguments[0]


def _scripts_near(project: ProjectIndex, folder: str) -> dict[str, str] | None:
    """The scripts of the package in `folder` or the nearest one above it; None when there is none."""
    while True:
        package = project.packages.get(folder)
        if package is not None:
            return dict(package.scripts)
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _joined(folder: str, relative: str) -> str:
    """A path written relative to `folder`, as a root-relative path ("" for the root)."""
    joined = posixpath.normpath(posixpath.join(folder, relative)) if folder else posixpath.normpath(relative)
    return "" if joined == "." else joined


def _ancestors(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:depth]) for depth in range(len(parts))]


def _inside(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")
