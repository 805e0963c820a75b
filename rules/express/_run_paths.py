"""How the repository runs a package's server: only under a developer's file watcher, or some other way.

A file watcher (`nodemon`, `ts-node-dev`, `node --watch`, `tsx watch`, …) restarts the server on every saved
file: it is how a developer runs code they are editing. When every script of the package that starts
something runs it under a watcher, the package has no build step, no deployment file (Dockerfile, Procfile,
platform config) sits in its folder or above, and no enclosing package's script names its folder, nothing in
the repository runs the server the way a deployment does: it is run on the machine it is edited on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter.files.kinds import DOCKERFILE, FLY_TOML, NIXPACKS_TOML, PROCFILE, RAILWAY_JSON, RAILWAY_TOML, RENDER_YAML

if TYPE_CHECKING:
    from linter.project import Package, ProjectIndex

_WATCHER = re.compile(
    r"(?<![\w-])(nodemon|babel-watch|ts-node-dev|tsnd|node-dev|supervisor)(?![\w-])|--watch\b|(?<![\w-])(tsx|bun)\s+watch\b"
)
# A command that starts a program (a server, or anything else): node and the launchers people run servers with.
_RUNNER = re.compile(
    r"(?<![\w./-])(node|ts-node|tsx|bun|deno|babel-node|pm2|pm2-runtime|forever|nest|next|nodemon|"
    r"babel-watch|ts-node-dev|tsnd|node-dev|supervisor|vite-node|micro|fastify|serve)(?![\w-])"
)
# A command or script that builds the package for somewhere else to run.
_BUILDER = re.compile(r"(?<![\w./-])(tsc|babel|webpack|esbuild|swc|rollup|tsup|ncc|pkg|vite)(?![\w-])|\bbuild\b")
_DEPLOY_NAMES = ("build", "compile", "prod", "production", "deploy", "serve", "start:prod", "postinstall")
_DEPLOY_KINDS = (DOCKERFILE, PROCFILE, RAILWAY_JSON, RAILWAY_TOML, RENDER_YAML, FLY_TOML, NIXPACKS_TOML)


def only_run_under_watcher(project: "ProjectIndex", package: "Package | None") -> bool:
    """The package's scripts start it only under a file watcher, and nothing else in the repository runs or
    builds it (see the module's docstring)."""
    if package is None or package.manifest is None:
        return False
    watched = False
    for name, command in package.scripts:
        if name.split(":")[0] in _DEPLOY_NAMES or name in _DEPLOY_NAMES or _BUILDER.search(command):
            return False
        if _WATCHER.search(command):
            watched = True
        elif _RUNNER.search(command):
            return False
    return watched and not _deployment_file_above(project, package.dir) and not _run_from_above(project, package)


def _deployment_file_above(project: "ProjectIndex", folder: str) -> bool:
    for path in project.project_files(*_DEPLOY_KINDS):
        where = path.rpartition("/")[0]
        if where == "" or where == folder or folder.startswith(where + "/"):
            return True
    return False


def _run_from_above(project: "ProjectIndex", package: "Package") -> bool:
    """A script of an enclosing package names this package's folder (`npm start --prefix backend`,
    `cd server && node index.js`, a workspace filter by folder or package name): the repository runs it from
    there."""
    for outer in project.packages.values():
        if outer is package or not (outer.dir == "" or package.dir.startswith(outer.dir + "/")):
            continue
        relative = package.dir[len(outer.dir) + 1 :] if outer.dir else package.dir
        names = [name for name in (relative, package.name) if name]
        pattern = re.compile(r"(?<![\w@/-])(" + "|".join(re.escape(name) for name in names) + r")(?![\w-])")
        if names and any(pattern.search(command) for _, command in outer.scripts):
            return True
    return False
