"""A JSON Schema of the config (`.loadlint.toml`, `loadlint.toml`, package.json's `"loadlint"` key), generated
from the pydantic models: `Config` for the keys, each rule's `Options` for its table under `rules."<id>"`.

Editors use it to complete and check keys (taplo / Even Better TOML with a `#:schema` line, VS Code's
`json.schemas` for package.json). It is written for JSON Schema draft 7 and keeps to what draft 4 readers
such as taplo understand too (`definitions`, `minimum`). `loadlint config-schema` prints it (with the rules of
`--rules-dir` too); the copy checked in at `schema/loadlint.schema.json` is the built-in one:
`python -m linter.config_schema` writes it, `--check` says whether it is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from linter.config import Config
from linter.model import Level
from linter.rule import Rule

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "loadlint.schema.json"
_REF = "#/definitions/{model}"

# What each key means, shown by editors on hover. Every key of `Config` needs one (a test checks).
KEY_DESCRIPTIONS = {
    "select": "Only these rules or families (`auth`, `auth/secret-fallback`, `all`); default: every rule.",
    "ignore": "Rules or families not to run.",
    "exclude": "Gitignore-style globs of paths not to lint, relative to this file's folder.",
    "per-file-ignores": "Glob (relative to this file's folder) to the rules or families not reported in the files it matches.",
    "levels": "Rule id to the level all of its findings are reported at.",
    "fail-on": "The lowest level that makes the exit code 1.",
    "max-file-size": "Bytes; larger files are skipped with a notice.",
    "rules-dir": "A folder of your own rules (Python), relative to this file's folder; loaded only with --trust-config-rules.",
    "output-dirs": "Folder names taken for build output (not linted) at the top of a package; default: build, dist, out, coverage.",
    "baseline": "The baseline file `loadlint check` reads when no --baseline is given, relative to this file's folder.",
    "rules": 'Each rule\'s own options, in a table under its id: [rules."<id>"].',
}


def config_schema(rules: tuple[type[Rule], ...]) -> dict[str, Any]:
    """The schema of a loadlint config for `rules` (the built-in ones, and any loaded from a rules folder)."""
    schema = Config.model_json_schema(by_alias=True, ref_template=_REF)
    definitions = schema.pop("$defs", {})
    properties = schema["properties"]
    definitions["Selector"] = _selectors(rules)
    selectors = {"$ref": _REF.format(model="Selector")}
    level = {"$ref": _REF.format(model="Level")}
    properties["select"] = {"type": "array", "items": selectors, "minItems": 1}
    properties["ignore"] = {"type": "array", "items": selectors, "default": []}
    properties["per-file-ignores"] = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": selectors},
        "default": {},
    }
    properties["levels"] = {
        "type": "object",
        "properties": {rule.id: level for rule in rules},
        "additionalProperties": False,
        "default": {},
    }
    properties["rules"] = {
        "type": "object",
        "properties": {rule.id: _options_schema(rule, definitions) for rule in rules},
        "additionalProperties": False,
        "default": {},
    }
    for key, value in properties.items():
        value.pop("title", None)
        _draft4_minimum(value)
        value["description"] = KEY_DESCRIPTIONS[key]
    definitions["Level"] = {"type": "string", "enum": [level.value for level in Level], "description": "note < warning < error"}
    return {
        "$schema": DRAFT,
        "title": "loadlint configuration",
        "description": "loadlint's settings: .loadlint.toml, loadlint.toml, or the \"loadlint\" key of package.json.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "definitions": dict(sorted(definitions.items())),
    }


def package_json_schema(rules: tuple[type[Rule], ...]) -> dict[str, Any]:
    """A schema for package.json that checks only its `"loadlint"` key, for an editor's schema mapping (it adds
    to the schema the editor already has for package.json)."""
    config = config_schema(rules)
    definitions = config.pop("definitions")
    del config["$schema"]
    return {
        "$schema": DRAFT,
        "title": "package.json: loadlint's key",
        "type": "object",
        "properties": {"loadlint": config},
        "definitions": definitions,
    }


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _selectors(rules: tuple[type[Rule], ...]) -> dict[str, Any]:
    families = sorted({rule.id.split("/")[0] for rule in rules})
    return {
        "type": "string",
        "enum": ["all", *families, *(rule.id for rule in rules)],
        "description": "A rule id, a family (every rule whose id starts with it and a slash), or all.",
    }


def _options_schema(rule: type[Rule], definitions: dict[str, Any]) -> dict[str, Any]:
    schema = rule.Options.model_json_schema(by_alias=True, ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        if definitions.setdefault(name, definition) != definition:
            raise ValueError(f"rule {rule.id}: its options define {name}, which another model defines differently")
    schema.pop("title", None)
    for value in schema.get("properties", {}).values():
        value.pop("title", None)
        _draft4_minimum(value)
    schema["description"] = rule.summary()
    return schema


def _draft4_minimum(schema: dict[str, Any]) -> None:
    """An integer's `exclusiveMinimum: n` (a number since draft 6, a flag in draft 4) as `minimum: n + 1`."""
    bound = schema.get("exclusiveMinimum")
    if schema.get("type") == "integer" and isinstance(bound, int) and not isinstance(bound, bool):
        del schema["exclusiveMinimum"]
        schema["minimum"] = bound + 1


def main(argv: list[str]) -> int:
    from linter.registry import builtin_rules

    text = schema_text(config_schema(builtin_rules()))
    if "--check" in argv:
        if not SCHEMA_FILE.is_file() or SCHEMA_FILE.read_text(encoding="utf-8") != text:
            print(f"{SCHEMA_FILE} is out of date: run `python -m linter.config_schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
