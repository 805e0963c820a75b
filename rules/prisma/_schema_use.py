"""Which Prisma schemas the project uses, and which are unused copies of another.

A schema is *in use* when Prisma is pointed at it or keeps its migrations beside it: a `migrations/` folder
next to its datasource file, the `prisma.schema` key of a `package.json`, a `--schema` argument of a package
script, the `schema` of a `prisma.config.*` file, or the default place `prisma generate` looks in a package
(`<package>/prisma/schema.prisma`, `<package>/schema.prisma`, `<package>/prisma/schema/`).

A schema that is not in use and whose models are nearly all (nine in ten) defined again by a schema in use is
a copy kept for reading (a reference under `docs/`, an older snapshot): no database is created or migrated from
it, so its findings belong in the schema in use. Two schemas in use are never copies of each other, and a
schema is never a copy when no schema of the project is known to be in use.
"""

from __future__ import annotations

import json
import posixpath

from linter import lazy_re
from linter.project import ProjectIndex

_COPY_SHARE = 0.9
_SCHEMA_ARGUMENT = lazy_re.compile(r"--schema(?:=|\s+)(?:\"([^\"]+)\"|'([^']+)'|(\S+))")
_CONFIG_SCHEMA = lazy_re.compile(rb"""\bschema\s*:\s*(?:"([^"\n]+)"|'([^'\n]+)')""")
_CONFIG_NAME = lazy_re.compile(r"(^|/)prisma\.config\.[cm]?[jt]s$")


def unused_copies(project: ProjectIndex, schemas: list) -> set[str]:
    """The datasource files of the schemas that are unused copies of a schema in use."""
    named = _named_paths(project)
    known = set(project.files) | set(project.other_files)
    in_use = [s for s in schemas if _in_use(s.root, named, known, project)]
    if not in_use:
        return set()
    copies = set()
    for schema in schemas:
        if any(schema is used for used in in_use):
            continue
        names = {m.name for m in schema.models()}
        if names and any(len(names & used.model_names) >= _COPY_SHARE * len(names) for used in in_use):
            copies.add(schema.root)
    return copies


def _in_use(root: str, named: set[str], known: set[str], project: ProjectIndex) -> bool:
    folder = posixpath.dirname(root)
    if root in named or folder in named:
        return True
    migrations = posixpath.join(folder, "migrations") + "/"
    if any(path.startswith(migrations) for path in known):
        return True
    for package in project.packages:
        prefix = package + "/" if package else ""
        if root in (prefix + "prisma/schema.prisma", prefix + "schema.prisma") or folder == prefix + "prisma/schema":
            return True
    return False


def _named_paths(project: ProjectIndex) -> set[str]:
    """Root-relative schema paths (files or folders) that package manifests, scripts and Prisma config files
    name."""
    named: set[str] = set()
    for folder, package in project.packages.items():
        for _, command in package.scripts:
            for match in _SCHEMA_ARGUMENT.finditer(command):
                named.add(_join(folder, next(g for g in match.groups() if g)))
        if package.manifest is None:
            continue
        source = project.read_source(package.manifest)
        if source is None or b'"prisma"' not in source:
            continue
        try:
            data = json.loads(source)
        except ValueError:
            continue
        settings = data.get("prisma") if isinstance(data, dict) else None
        schema = settings.get("schema") if isinstance(settings, dict) else None
        if isinstance(schema, str):
            named.add(_join(folder, schema))
    for path in project.files:
        if _CONFIG_NAME.search(path):
            source = project.read_js_source(path) or b""
            for match in _CONFIG_SCHEMA.finditer(source):
                value = (match.group(1) or match.group(2)).decode("utf-8", "replace")
                named.add(_join(posixpath.dirname(path), value))
    return named


def _join(folder: str, relative: str) -> str:
    joined = posixpath.normpath(posixpath.join(folder, relative.rstrip("/")))
    return "" if joined == "." else joined
