"""Which non-JavaScript files of a project loadlint reads, by name: the one place that decides it.

A *project file* is read whole by project-level rules (it is never parsed by tree-sitter). Its kind says how
to read it and which comment starts a line comment (for `loadlint-ignore` directives and fixture annotations).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from linter import lazy_re

PRISMA = "prisma"
DOCKERFILE = "dockerfile"
PROCFILE = "procfile"
RAILWAY_JSON = "railway-json"
RAILWAY_TOML = "railway-toml"
RENDER_YAML = "render-yaml"
FLY_TOML = "fly-toml"
NIXPACKS_TOML = "nixpacks-toml"
ENV_EXAMPLE = "env-example"
COMPOSE = "compose"
SHELL = "shell"
SQL = "sql"  # migrations and database dumps: read for the indexes they create, never run

_BY_NAME = {
    "Procfile": PROCFILE,
    "railway.json": RAILWAY_JSON,
    "railway.toml": RAILWAY_TOML,
    "render.yaml": RENDER_YAML,
    "render.yml": RENDER_YAML,
    "fly.toml": FLY_TOML,
    "nixpacks.toml": NIXPACKS_TOML,
}
_DOCKERFILE = lazy_re.compile(r"^(Dockerfile([.-][\w.-]+)?|[\w.-]+\.[Dd]ockerfile)$")
_ENV_EXAMPLE = lazy_re.compile(
    r"^\.env([.\w-]*)[.-](example|sample|template|dist)$|^\.env\.(example|sample|template)[.\w-]*$"
)
_COMPOSE = lazy_re.compile(r"^(docker-)?compose([.\w-]*)\.ya?ml$")
_SHELL_SUFFIXES = (".sh", ".bash")

# Kinds whose line comments start with `#`; Prisma schemas use `//` (and `///` for documentation comments).
HASH_COMMENT_KINDS = frozenset(
    {DOCKERFILE, PROCFILE, RAILWAY_TOML, RENDER_YAML, FLY_TOML, NIXPACKS_TOML, ENV_EXAMPLE, COMPOSE, SHELL}
)
SLASH_COMMENT_KINDS = frozenset({PRISMA})


def project_file_kind(name: str) -> str | None:
    """The kind of a file loadlint reads besides JS/TS sources and manifests, from its name; None for others."""
    name = PurePosixPath(name).name
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.endswith(".prisma"):
        return PRISMA
    if name.endswith(_SHELL_SUFFIXES):
        return SHELL
    if name.endswith(".sql"):
        return SQL
    if _DOCKERFILE.match(name):
        return DOCKERFILE
    if _ENV_EXAMPLE.match(name):
        return ENV_EXAMPLE
    if _COMPOSE.match(name):
        return COMPOSE
    return None


def line_comment_markers(kind: str | None) -> tuple[str, ...]:
    """The strings that start a line comment in a project file of `kind` (none for JSON)."""
    if kind in HASH_COMMENT_KINDS:
        return ("#",)
    if kind in SLASH_COMMENT_KINDS:
        return ("//",)
    return ()
