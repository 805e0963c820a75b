"""The commands a project runs when it is built and deployed, where they are written, and what they run in
turn, followed through package scripts and shell scripts.

Where deployment starts:
- `package.json` scripts that hosts run on their own: `build`, `start`, `postinstall`, `deploy`, `release`,
  their `pre`/`post` hooks, `start:prod`, `heroku-postbuild`, `vercel-build`...;
- Dockerfile `RUN`, `CMD` and `ENTRYPOINT` (not in development images: `Dockerfile.dev`, a `FROM … AS dev` stage);
- Procfile processes; `railway.json`/`railway.toml` build, start and pre-deploy commands; `render.yaml`
  build, start and pre-deploy commands; `fly.toml` release command and processes; `nixpacks.toml` phases.
From there `npm run x` / `yarn x` / `pnpm --filter pkg x` lead to package scripts, `sh ./start.sh` to shell
scripts, `cd backend` changes the folder the next commands run in.
"""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase
from typing import Iterator

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
import linter.files.kinds as kinds
from linter.rules.prisma._deploy_files import DEPLOY_FILE_KINDS, Command, deploy_file_commands, join_folder
from linter.rules.prisma._json_locations import json_strings
from linter.rules.prisma._shell_commands import (
    Branches,
    ChangeFolder,
    PrismaCommand,
    ScriptCall,
    ScriptFile,
    actions,
    logical_lines,
)
from linter.model import Location
from linter.project import Package, ProjectIndex

DEPLOY_SCRIPT = lazy_re.compile(
    r"^((pre|post)?(start|build|install|deploy|release)"
    r"|(start|build)[:_-](prod|production)"
    r"|(deploy|release)[:_-][\w:-]+"
    r"|heroku-(pre|post)build|vercel-build|render-build|railway-build)$"
)
MAX_DEPTH = 12


@dataclass(frozen=True)
class Reached:
    """A Prisma CLI command that runs during deployment, and the chain of commands that runs it."""

    command: PrismaCommand
    written_in: Command
    chain: tuple[Command, ...]  # from where deployment starts to `written_in`, both included
    conditions: tuple[str, ...] = ()  # the shell `if` tests it runs under, all along the chain

    def location(self, project: ProjectIndex) -> Location:
        start, end = self.written_in.byte_span(self.command.start, self.command.end)
        return project.location(self.written_in.path, start, end)


def prisma_commands_at_deploy(project: ProjectIndex) -> list[Reached]:
    """Every Prisma CLI command that deployment runs, once each (with the first chain that reaches it)."""
    return project.memo("deploy.prisma-commands", lambda: _walk_all(project))


def _walk_all(project: ProjectIndex) -> list[Reached]:
    found: dict[tuple[str, int, int], Reached] = {}
    for entry in deploy_entry_commands(project):
        for reached in _follow(project, entry, (entry,), set()):
            key = (reached.written_in.path, *reached.written_in.byte_span(reached.command.start, reached.command.end))
            found.setdefault(key, reached)
    return [found[key] for key in sorted(found)]


def _follow(
    project: ProjectIndex,
    command: Command,
    chain: tuple[Command, ...],
    seen: set,
    inherited: tuple[str, ...] = (),
    branches: Branches | None = None,
) -> Iterator[Reached]:
    if len(chain) > MAX_DEPTH:
        return
    folder = command.folder
    for action in actions(command.text, branches=branches):
        if isinstance(action, ChangeFolder):
            folder = join_folder(folder, action.path)
            continue
        conditions = inherited + action.conditions
        if isinstance(action, PrismaCommand):
            yield Reached(action, command, chain, conditions)
        elif isinstance(action, ScriptCall):
            for script in _scripts_called(project, action, folder, command):
                key = ("script", script.path, script.origin)
                if key not in seen:
                    seen.add(key)
                    yield from _follow(project, script, (*chain, script), seen, conditions)
        elif isinstance(action, ScriptFile):
            path = _script_file(project, action.path, folder, command)
            if path is not None and ("file", path) not in seen:
                seen.add(("file", path))
                script_branches = Branches()  # one script's `if` blocks span its lines
                for line in shell_script_commands(project, path, folder):
                    yield from _follow(project, line, (*chain, line), seen, conditions, script_branches)


def deploy_entry_commands(project: ProjectIndex) -> list[Command]:
    """The commands where deployment starts (see the module docs)."""
    entries: list[Command] = []
    for package in sorted(project.packages.values(), key=lambda p: p.dir):
        entries.extend(c for c in package_scripts(project, package) if DEPLOY_SCRIPT.match(c.script or ""))
    for path, kind in sorted(project.other_files.items()):
        source = project.read_source(path) if kind in DEPLOY_FILE_KINDS else None
        if source is not None:
            entries.extend(deploy_file_commands(path, kind, source))
    return entries


def package_scripts(project: ProjectIndex, package: Package) -> list[Command]:
    """The `scripts` of a package as commands located in its `package.json`."""
    if package.manifest is None:
        return []
    source = project.read_source(package.manifest)
    if source is None:
        return []
    commands = []
    for string in json_strings(source):
        if len(string.path) == 2 and string.path[0] == "scripts":
            segments = () if string.escaped else ((0, string.start + 1),)
            commands.append(
                Command(
                    package.manifest,
                    string.value,
                    (string.start, string.end),
                    package.dir,
                    f"script `{string.path[1]}` of {package.manifest}",
                    segments,
                    script=str(string.path[1]),
                )
            )
    return commands


def shell_script_commands(project: ProjectIndex, path: str, folder: str) -> list[Command]:
    """The command lines of a shell script, run from `folder` (a script runs where its caller runs)."""
    source = project.read_source(path)
    if source is None:
        return []
    text = source.decode("utf-8")
    commands = []
    for line, segments in logical_lines(text):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        byte_segments = tuple((index, len(text[:position].encode("utf-8"))) for index, position in segments)
        span = (byte_segments[0][1], byte_segments[-1][1] + len(line[segments[-1][0] :].encode("utf-8")))
        commands.append(Command(path, line, span, folder, f"{path}", byte_segments))
    return commands


def _scripts_called(project: ProjectIndex, call: ScriptCall, folder: str, caller: Command) -> list[Command]:
    package = _called_package(project, call, folder)
    if package is None:
        return []
    scripts = package_scripts(project, package)
    by_name = {s.script: s for s in scripts}
    called = []
    for pattern in call.names:
        names = [n for n in by_name if fnmatchcase(n, pattern)] if "*" in pattern else [pattern]
        for name in names:
            # npm runs `prebuild` and `postbuild` around `build`.
            called.extend(by_name[n] for n in (f"pre{name}", name, f"post{name}") if n in by_name)
    return called


def _called_package(project: ProjectIndex, call: ScriptCall, folder: str) -> Package | None:
    if call.package is not None:
        named = [p for p in project.packages.values() if p.name == call.package]
        if len(named) == 1:
            return named[0]
        by_folder = project.packages.get(join_folder(folder, call.package))
        return by_folder
    if call.folder is not None:
        folder = join_folder(folder, call.folder)
    return project.packages.get(folder) or project.package_of(f"{folder}/package.json" if folder else "package.json")


def _script_file(project: ProjectIndex, written: str, folder: str, caller: Command) -> str | None:
    """The shell script a command runs: by its path from the command's folder, else (a path inside a
    container, `/app/entrypoint.sh`) the only script of that name in the caller's package or the project."""
    scripts = project.project_files(kinds.SHELL)
    if not written.startswith("/"):
        candidate = join_folder(folder, written)
        if candidate in scripts:
            return candidate
        candidate = join_folder(posixpath.dirname(caller.path), written)
        if candidate in scripts:
            return candidate
    name = posixpath.basename(written)
    copied_from = dict(caller.copied_as).get(name)
    if copied_from is not None:
        # The build context is the Dockerfile's folder or one above it.
        folder = posixpath.dirname(caller.path)
        while True:
            candidate = join_folder(folder, copied_from)
            if candidate in scripts:
                return candidate
            if not folder:
                break
            folder = posixpath.dirname(folder)
    package = project.package_of(caller.path)
    scope = package.dir if package is not None else ""
    nearby = [s for s in scripts if posixpath.basename(s) == name and (not scope or s.startswith(scope + "/"))]
    if len(nearby) == 1:
        return nearby[0]
    anywhere = [s for s in scripts if posixpath.basename(s) == name]
    return anywhere[0] if len(anywhere) == 1 else None
