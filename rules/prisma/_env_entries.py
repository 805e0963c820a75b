"""Environment variables as example files and Compose files set them, with where each value is written.

    .env.example          DATABASE_URL="postgresql://user:pass@localhost:5432/app"   (also `export X=…`)
    docker-compose.yml    DATABASE_URL: postgresql://…      - DATABASE_URL=postgresql://…

Compose files are read line by line for `NAME: value` and `- NAME=value` entries; a name is matched wherever
it appears, which is enough for the variable names rules ask about (`DATABASE_URL`).
"""

from __future__ import annotations

import re

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
import linter.files.kinds as kinds

_DOTENV_LINE = lazy_re.compile(r"^[ \t]*(?:export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(?P<value>.*)$")
_COMPOSE_LINE = lazy_re.compile(
    r"^[ \t]*(?:-[ \t]*)?(?P<quote>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:[ \t]*:[ \t]+|=)(?P<value>.*?)(?P=quote)[ \t]*$"
)


@dataclass(frozen=True)
class EnvEntry:
    name: str
    value: str  # without quotes and trailing comment
    start: int  # byte offsets of the value in the file
    end: int


def env_entries(kind: str, source: bytes) -> list[EnvEntry]:
    """The `NAME=value` entries of an `.env` example or a Compose file (other kinds have none)."""
    pattern = {kinds.ENV_EXAMPLE: _DOTENV_LINE, kinds.COMPOSE: _COMPOSE_LINE}.get(kind)
    if pattern is None:
        return []
    text = source.decode("utf-8")
    entries = []
    position = 0
    for raw in text.splitlines(keepends=True):
        line_start, position = position, position + len(raw)
        line = raw.rstrip("\r\n")
        if line.lstrip().startswith("#"):
            continue
        match = pattern.match(line)
        if match is None:
            continue
        value, offset = _unquoted(match.group("value"))
        if not value:
            continue
        start = len(text[: line_start + match.start("value") + offset].encode("utf-8"))
        entries.append(EnvEntry(match.group("name"), value, start, start + len(value.encode("utf-8"))))
    return entries


def _unquoted(value: str) -> tuple[str, int]:
    """The value inside its quotes, or before a ` #` comment; and where it starts in `value`."""
    stripped = value.strip()
    lead = len(value) - len(value.lstrip())
    if stripped[:1] in ("'", '"'):
        close = stripped.find(stripped[0], 1)
        return (stripped[1:close] if close > 0 else stripped[1:]), lead + 1
    return re.split(r"[ \t]+#", stripped, maxsplit=1)[0], lead
