"""What a repository's Dockerfiles and Compose files start, read line by line (these files are small and regular):
enough to tell an image that ships an app from a container that runs a developer's checkout.

- `read_image(text)`: a Dockerfile's start commands (`CMD`, `ENTRYPOINT`, exec or shell form) and whether it copies
  the app's code in (a `COPY`/`ADD` of anything besides manifests, lockfiles and env files).
- `read_services(text)`: each Compose service's build folder, its `command`/`entrypoint`, and the host paths it
  bind-mounts (`./api:/app`, or a long-syntax `source:`), as written.
"""

from __future__ import annotations

import json
import re

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

_INSTRUCTION = lazy_re.compile(r"^\s*(?P<name>CMD|ENTRYPOINT|COPY|ADD)\s+(?P<rest>.*?)\s*$", re.I)
_NOT_CODE = lazy_re.compile(
    r"(^|/)(package[\w*-]*\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?|\.npmrc|\.yarnrc(\.yml)?|"
    r"\.env[\w.-]*|tsconfig[\w.-]*\.json|prisma|[\w.-]+\.prisma)$"
)
_KEY = lazy_re.compile(r"^(?P<indent>\s*)(?P<item>-\s+)?(?P<key>[\w.-]+)\s*:(?:\s+(?P<value>.*?))?\s*$")
_ITEM = lazy_re.compile(r"^(?P<indent>\s*)-\s+(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class Image:
    starts: tuple[str, ...]  # the CMD / ENTRYPOINT commands, as shell text
    copies_code: bool


@dataclass
class Service:
    name: str
    build: str | None = None  # the build folder, as written ("." for `build: .`)
    command: str | None = None  # None: none written; "" when it cannot be read (taken as starting something)
    mounts: list[str] | None = None  # host paths bind-mounted, as written

    def __post_init__(self) -> None:
        self.mounts = self.mounts or []


def read_image(text: str) -> Image:
    starts, copies = [], False
    for line in _joined_lines(text):
        found = _INSTRUCTION.match(line)
        if found is None:
            continue
        name, rest = found.group("name").upper(), found.group("rest")
        if name in ("CMD", "ENTRYPOINT"):
            starts.append(command_text(rest))
            continue
        words = [word for word in _words(rest) if not word.startswith("--")]
        if any(flag.startswith("--from") for flag in rest.split()):
            continue  # from another stage: what that stage built, judged there
        sources = words[:-1]
        copies = copies or any(not _NOT_CODE.search(source.rstrip("/*")) for source in sources)
    return Image(starts=tuple(starts), copies_code=copies)


def read_services(text: str) -> list[Service]:
    services: list[Service] = []
    lines = text.splitlines()
    in_services, service_indent, service = False, None, None
    key_indent, section = None, None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_services = line.rstrip().startswith("services:")
            service_indent = service = None
            continue
        if not in_services:
            continue
        if service_indent is None or indent <= service_indent:
            found = _KEY.match(line)
            if found is not None and not found.group("item"):
                service_indent, key_indent, section = indent, None, None
                service = Service(found.group("key"))
                services.append(service)
            continue
        if service is None:
            continue
        if key_indent is None:
            key_indent = indent
        if indent <= key_indent:
            found = _KEY.match(line)
            section = None
            if found is None:
                continue
            key, value = found.group("key"), _scalar(found.group("value"))
            if key == "build":
                service.build = value or None
                section = "build" if not value else None
            elif key in ("command", "entrypoint"):
                service.command = command_text(value) if value else ""
                section = key if not value else None
            elif key == "volumes":
                section = "volumes"
            continue
        _read_nested(service, section, line)
    return services


def _read_nested(service: Service, section: str | None, line: str) -> None:
    """A line inside a service's `build:`, `command:` or `volumes:` block."""
    if section == "build":
        found = _KEY.match(line)
        if found is not None and found.group("key") == "context":
            service.build = _scalar(found.group("value")) or service.build
    elif section in ("command", "entrypoint"):
        found = _ITEM.match(line)
        if found is not None:
            service.command = (service.command + " " + _scalar(found.group("value"))).strip()
    elif section == "volumes":
        item = _ITEM.match(line)
        value = _scalar(item.group("value")) if item is not None else ""
        if ":" in value and value.startswith((".", "/")):  # `./api:/app`; `data:/var/lib/x` is a named volume
            service.mounts.append(value.split(":", 1)[0])
            return
        key = _KEY.match(line)
        if key is not None and key.group("key") == "source" and _scalar(key.group("value")).startswith((".", "/")):
            service.mounts.append(_scalar(key.group("value")))


def command_text(value: str) -> str:
    """A `CMD`/`ENTRYPOINT` or Compose `command:` as shell text, from its exec (JSON list) or shell form."""
    value = value.strip()
    if value.startswith("["):
        try:
            words = json.loads(value.replace("'", '"'))
        except ValueError:
            return value.strip("[]").replace(",", " ").replace('"', " ").replace("'", " ")
        return " ".join(str(word) for word in words) if isinstance(words, list) else ""
    return _scalar(value)


def _scalar(value: str | None) -> str:
    if not value:
        return ""
    value = value.split(" #", 1)[0].strip()
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value


def _words(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            words = None
        if isinstance(words, list):
            return [str(word) for word in words]
    return [word.strip("'\"") for word in text.split()]


def _joined_lines(text: str) -> list[str]:
    """Lines with their `\\` continuations joined."""
    joined, current = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    if current:
        joined.append(current)
    return joined
