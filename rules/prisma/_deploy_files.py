"""Where deployment starts, file by file: the commands a Dockerfile (`RUN`, `CMD`, `ENTRYPOINT`), a Procfile,
`railway.json`/`railway.toml`, `render.yaml`, `fly.toml` and `nixpacks.toml` run, located in their file.

Each reader is line-based and forgiving (these files are small and regular); development images
(`Dockerfile.dev`, a `FROM … AS dev` stage) are left out.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import field
from fnmatch import fnmatchcase

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
import linter.files.kinds as kinds
from linter.rules.prisma._json_locations import json_strings
from linter.rules.prisma._shell_commands import logical_lines
from linter.model import Location
from linter.project import ProjectIndex

# Development and test images, by file name (`Dockerfile.dev`, `dev.Dockerfile`) or stage name (`AS dev`).
DEVELOPMENT_NAME = lazy_re.compile(r"(^|[.\-_ ])(dev|develop|development|local|test|tests|testing|e2e|ci)([.\-_ ]|$)", re.I)

_DOCKER_INSTRUCTION = lazy_re.compile(r"^\s*(?P<name>[A-Za-z]+)\s+(?P<rest>.*)$", re.S)
_PROCFILE_LINE = lazy_re.compile(r"^(?P<name>[\w-]+)[ \t]*:[ \t]*(?P<command>\S.*)$")
_TOML_HEADER = lazy_re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = lazy_re.compile(r"^\s*(?P<key>[\w.\"'-]+)\s*=\s*")
_TOML_STRING = lazy_re.compile(r"\"((?:\\.|[^\"\\])*)\"|'([^']*)'")
_YAML_KEY = lazy_re.compile(r"^(?P<indent>\s*)(?P<item>-\s+)?(?P<key>[\w-]+)\s*:\s*(?P<value>.*)$")

TOML_COMMANDS = {
    kinds.RAILWAY_TOML: (("build", "buildCommand"), ("deploy", "startCommand"), ("deploy", "preDeployCommand")),
    kinds.FLY_TOML: (("deploy", "release_command"), ("processes", "*"), ("experimental", "cmd")),
    kinds.NIXPACKS_TOML: (("phases.*", "cmds"), ("phases.*", "cmd"), ("start", "cmd")),
}
RAILWAY_JSON_COMMANDS = (("build", "buildCommand"), ("deploy", "startCommand"), ("deploy", "preDeployCommand"))
RENDER_COMMANDS = frozenset({"buildCommand", "startCommand", "preDeployCommand", "dockerCommand"})


@dataclass(frozen=True)
class Command:
    """One command line written in a file: a script, a Dockerfile instruction, a config value."""

    path: str
    text: str
    span: tuple[int, int]  # byte offsets of the whole command in its file
    folder: str  # the folder it runs in, root-relative ("" for the root)
    origin: str  # how it is named to the user: "package.json script `build`", "Dockerfile `CMD`"
    # (index in `text`, byte offset in the file) where pieces of `text` start; () when they do not map.
    segments: tuple[tuple[int, int], ...] = ()
    script: str | None = None  # the name of a package.json script
    # Files a Dockerfile copied under another name before this command: (name in the image, path as written).
    copied_as: tuple[tuple[str, str], ...] = ()

    def byte_span(self, start: int, end: int) -> tuple[int, int]:
        """Byte offsets in the file of `text[start:end]`, or the whole command when they cannot be told."""
        if not self.segments:
            return self.span
        return self._offset(start), self._offset(end)

    def _offset(self, index: int) -> int:
        piece, byte = max((s for s in self.segments if s[0] <= index), default=self.segments[0])
        return byte + len(self.text[piece:index].encode("utf-8"))

    def location(self, project: ProjectIndex, message: str | None = None) -> Location:
        return project.location(self.path, *self.span, message)


def deploy_file_commands(path: str, kind: str, source: bytes) -> list[Command]:
    """The commands a deployment file of `kind` runs (none for other kinds)."""
    reader = _READERS.get(kind)
    return reader(path, kind, source) if reader is not None else []


def join_folder(folder: str, relative: str) -> str:
    """`relative` from `folder`, root-relative ("" for the root); an absolute path stays in `folder`."""
    if relative.startswith("/"):
        return folder
    joined = posixpath.normpath(posixpath.join(folder, relative)) if folder else posixpath.normpath(relative)
    return "" if joined in (".", "") else joined.removeprefix("./")


def _dockerfile_commands(path: str, kind: str, source: bytes) -> list[Command]:
    if DEVELOPMENT_NAME.search(posixpath.basename(path).replace("Dockerfile", "").replace("dockerfile", "")):
        return []
    text = source.decode("utf-8")
    folder = posixpath.dirname(path)
    commands = []
    development_stage = False
    copied_as: dict[str, str] = {}
    for line, segments in logical_lines(text):
        instruction = _DOCKER_INSTRUCTION.match(line)
        if instruction is None or line.lstrip().startswith("#"):
            continue
        name = instruction.group("name").upper()
        rest = instruction.group("rest")
        if name == "FROM":
            stage = re.search(r"\s+as\s+(\S+)", rest, re.I)
            development_stage = stage is not None and bool(DEVELOPMENT_NAME.search(stage.group(1)))
            continue
        if name in ("COPY", "ADD"):
            copied_as.update(_renamed_copy(rest))
            continue
        if name not in ("RUN", "CMD", "ENTRYPOINT") or development_stage:
            continue
        byte_segments = tuple((index, len(text[:position].encode("utf-8"))) for index, position in segments)
        end = byte_segments[-1][1] + len(line[segments[-1][0] :].encode("utf-8"))
        offset = instruction.start("rest")
        exec_form = _exec_form(rest)
        origin = f"`{name}` of {path}"
        renames = tuple(sorted(copied_as.items()))
        if exec_form is not None:
            span = (byte_segments[0][1], end)
            commands.append(Command(path, exec_form, span, folder, origin, copied_as=renames))
            continue
        shifted = tuple((max(0, index - offset), byte) for index, byte in byte_segments)
        shifted = ((0, byte_segments[0][1] + len(line[:offset].encode("utf-8"))),) + shifted[1:]
        commands.append(Command(path, rest, (byte_segments[0][1], end), folder, origin, shifted, copied_as=renames))
    return commands


def _renamed_copy(arguments: str) -> dict[str, str]:
    """`COPY docker/entry.sh /app/start.sh`: {"start.sh": "docker/entry.sh"} (a file copied under a new name,
    from the build context; not `--from` another stage)."""
    words = _exec_form(arguments)
    parts = [w for w in (arguments.split() if words is None else json.loads(arguments)) if not w.startswith("--")]
    if "--from" in arguments or len(parts) != 2 or parts[1].endswith(("/", ".")):
        return {}
    source, target = parts
    if posixpath.basename(source) == posixpath.basename(target):
        return {}
    return {posixpath.basename(target): source}


def _exec_form(rest: str) -> str | None:
    """`["sh", "-c", "npx prisma db push && node server.js"]` as one command line."""
    if not rest.lstrip().startswith("["):
        return None
    try:
        words = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return None
    return " ".join(w if w and not re.search(r"[\s'\"&|;]", w) else json.dumps(w) for w in words)


def _procfile_commands(path: str, kind: str, source: bytes) -> list[Command]:
    text = source.decode("utf-8")
    folder = posixpath.dirname(path)
    commands = []
    position = 0
    for raw in text.splitlines(keepends=True):
        start, position = position, position + len(raw)
        match = _PROCFILE_LINE.match(raw.rstrip("\r\n"))
        if match is None:
            continue
        begin = len(text[: start + match.start("command")].encode("utf-8"))
        command = match.group("command")
        span = (begin, begin + len(command.encode("utf-8")))
        origin = f"process `{match.group('name')}` of {path}"
        commands.append(Command(path, command, span, folder, origin, ((0, begin),)))
    return commands


def _railway_json_commands(path: str, kind: str, source: bytes) -> list[Command]:
    folder = posixpath.dirname(path)
    commands = []
    for string in json_strings(source):
        if string.path[:2] in RAILWAY_JSON_COMMANDS:
            segments = () if string.escaped else ((0, string.start + 1),)
            origin = f"`{'.'.join(str(p) for p in string.path[:2])}` of {path}"
            commands.append(Command(path, string.value, (string.start, string.end), folder, origin, segments))
    return commands


def _toml_commands(path: str, kind: str, source: bytes) -> list[Command]:
    """Command strings of a TOML deployment file, read line by line (tables, keys, strings and arrays of
    strings; enough for the few keys that hold commands)."""
    wanted = TOML_COMMANDS[kind]
    text = source.decode("utf-8")
    folder = posixpath.dirname(path)
    commands = []
    section = ""
    in_array_of: str | None = None
    position = 0
    for raw in text.splitlines(keepends=True):
        start, position = position, position + len(raw)
        line = raw.rstrip("\r\n")
        header = _TOML_HEADER.match(line) if in_array_of is None else None
        if header is not None:
            section = header.group("name").replace('"', "").replace(" ", "")
            continue
        value_start = 0
        if in_array_of is None:
            key = _TOML_KEY.match(line)
            if key is None:
                continue
            dotted = key.group("key").replace('"', "").replace("'", "")
            table, _, name = (f"{section}.{dotted}" if section else dotted).rpartition(".")
            if not any(fnmatchcase(table, t) and fnmatchcase(name, k) for t, k in wanted):
                continue
            value_start = key.end()
            in_array_of = f"`{table}.{name}` of {path}" if line[value_start:].lstrip().startswith("[") else None
            origin = in_array_of or f"`{table}.{name}` of {path}"
        else:
            origin = in_array_of
        for string in _TOML_STRING.finditer(line, value_start):
            value = string.group(1) if string.group(1) is not None else string.group(2)
            begin = len(text[: start + string.start() + 1].encode("utf-8"))
            escaped = string.group(1) is not None and "\\" in value
            span = (begin - 1, begin + len(value.encode("utf-8")) + 1)
            commands.append(Command(path, value, span, folder, origin, () if escaped else ((0, begin),)))
        if in_array_of is not None and "]" in _TOML_STRING.sub("", line[value_start:]):
            in_array_of = None
    return commands


def _render_commands(path: str, kind: str, source: bytes) -> list[Command]:
    """`buildCommand`/`startCommand`/`preDeployCommand` of each service of a render.yaml (read line by line:
    plain, quoted and block scalars), run from the service's `rootDir`."""
    text = source.decode("utf-8")
    base = posixpath.dirname(path)
    services: list[_RenderService] = [_RenderService(base)]
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for raw in lines:
        offsets.append(offsets[-1] + len(raw))
    index = 0
    while index < len(lines):
        line = lines[index].rstrip("\r\n")
        match = _YAML_KEY.match(line)
        index += 1
        if match is None:
            continue
        if match.group("item"):
            services.append(_RenderService(base))
        key, value = match.group("key"), match.group("value").split(" #", 1)[0].strip()
        if key == "rootDir":
            services[-1].folder = join_folder(base, value.strip("\"'"))
        if key not in RENDER_COMMANDS:
            continue
        origin = f"`{key}` of {path}"
        if value[:1] in ("|", ">"):
            indent = len(match.group("indent")) + len(match.group("item") or "")
            while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > indent):
                body = lines[index].rstrip("\r\n")
                if body.strip():
                    begin = len(text[: offsets[index] + _indent(body)].encode("utf-8"))
                    stripped = body.strip()
                    services[-1].add(path, stripped, begin, origin)
                index += 1
            continue
        column = match.start("value")
        quote = value[:1] if value[:1] in ("'", '"') else ""
        command = value[1:].rsplit(quote, 1)[0] if quote else value
        begin = len(text[: offsets[index - 1] + column + len(quote)].encode("utf-8"))
        if command:
            services[-1].add(path, command, begin, origin)
    return [c for service in services for c in service.resolved()]


@dataclass
class _RenderService:
    folder: str
    pending: list[tuple[str, str, int, str]] = field(default_factory=list)

    def add(self, path: str, command: str, begin: int, origin: str) -> None:
        self.pending.append((path, command, begin, origin))

    def resolved(self) -> list[Command]:
        return [
            Command(path, command, (begin, begin + len(command.encode("utf-8"))), self.folder, origin, ((0, begin),))
            for path, command, begin, origin in self.pending
        ]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_READERS = {
    kinds.DOCKERFILE: _dockerfile_commands,
    kinds.PROCFILE: _procfile_commands,
    kinds.RAILWAY_JSON: _railway_json_commands,
    kinds.RENDER_YAML: _render_commands,
    kinds.RAILWAY_TOML: _toml_commands,
    kinds.FLY_TOML: _toml_commands,
    kinds.NIXPACKS_TOML: _toml_commands,
}
DEPLOY_FILE_KINDS = frozenset(_READERS)
