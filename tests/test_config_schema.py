"""The config's JSON Schema: generated from the pydantic models, checked in up to date, printed by
`loadlint config-schema`, and in agreement with what loadlint itself accepts."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from linter import config_schema as schema_module
from linter.cli import main
from linter.config import Config
from linter.config_schema import KEY_DESCRIPTIONS, config_schema, package_json_schema, schema_text
from linter.registry import builtin_rules
from tests.project_builder import TEST_RULES, write_files

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "schema" / "loadlint.schema.json").read_text(encoding="utf-8"))


def readme_toml_blocks() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    # Helix's languages.toml (the editor set-up of `loadlint server`) is Helix's config, not loadlint's.
    return [block for block in blocks if not block.startswith("[language-server.")]


def errors(instance, schema=SCHEMA) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [error.message for error in validator.iter_errors(instance)]


def test_the_checked_in_schema_is_up_to_date():
    assert schema_module.main(["--check"]) == 0, "run `python -m linter.config_schema`"


def test_the_schema_is_a_valid_draft_7_schema_readable_by_draft_4_tools():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    text = json.dumps(SCHEMA)
    assert "$defs" not in text and '"exclusiveMinimum"' not in text and '"const"' not in text


def test_loadlint_config_schema_prints_the_checked_in_schema():
    result = CliRunner().invoke(main, ["config-schema"])
    assert result.exit_code == 0 and json.loads(result.stdout) == SCHEMA


def test_every_config_key_is_in_the_schema_with_a_description():
    keys = {field.alias or name for name, field in Config.model_fields.items()}
    assert keys == set(SCHEMA["properties"]) == set(KEY_DESCRIPTIONS)
    assert all(SCHEMA["properties"][key]["description"] for key in keys)


def test_every_rule_and_its_options_are_in_the_schema():
    rules = builtin_rules()
    assert set(SCHEMA["properties"]["rules"]["properties"]) == {rule.id for rule in rules}
    assert set(SCHEMA["properties"]["levels"]["properties"]) == {rule.id for rule in rules}
    page_size = SCHEMA["properties"]["rules"]["properties"]["pagination/uncapped-limit"]["properties"]["max-page-size"]
    assert page_size == {"default": 100, "minimum": 1, "type": "integer"}


@pytest.mark.parametrize("block", readme_toml_blocks())
def test_the_readme_config_examples_are_valid(block):
    assert block.strip()
    assert errors(tomllib.loads(block)) == []


@pytest.mark.parametrize(
    "config",
    [
        {"selec": ["auth"]},
        {"select": ["auth/no-such-rule"]},
        {"select": []},
        {"max-file-size": 0},
        {"max-file-size": True},
        {"fail-on": "fatal"},
        {"levels": {"auth/secret-fallback": "critical"}},
        {"levels": {"nope/nope": "error"}},
        {"rules": {"pagination/uncapped-limit": {"max-pagesize": 50}}},
        {"rules": {"pagination/uncapped-limit": {"max-page-size": 0}}},
        {"rules": {"nope/nope": {}}},
        {"per-file-ignores": {"scripts/**": ["nope"]}},
    ],
)
def test_the_schema_rejects_what_loadlint_rejects(config, tmp_path):
    assert errors(config), f"the schema accepts {config}"
    write_files(tmp_path, {".loadlint.toml": json_to_toml(config), "a.js": "x();\n"})
    assert CliRunner().invoke(main, ["check", str(tmp_path)]).exit_code == 2  # and so does loadlint


def json_to_toml(config: dict) -> str:
    lines, tables = [], []
    for key, value in config.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {toml_value(value)}")
    for key, table in tables:
        for name, value in table.items():
            if isinstance(value, dict):
                lines.append(f'[{key}."{name}"]')
                lines += [f"{k} = {toml_value(v)}" for k, v in value.items()]
            else:
                lines.append(f'[{key}]\n"{name}" = {toml_value(value)}')
    return "\n".join(lines) + "\n"


def toml_value(value) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def test_the_package_json_schema_checks_the_loadlint_key_only(tmp_path):
    schema = json.loads(CliRunner().invoke(main, ["config-schema", "--package-json"]).stdout)
    assert schema == package_json_schema(builtin_rules())
    jsonschema.Draft7Validator.check_schema(schema)
    good = {"name": "app", "scripts": {"build": "next build"}, "loadlint": {"ignore": ["prisma"], "fail-on": "error"}}
    assert errors(good, schema) == []
    assert errors({"name": "app", "loadlint": {"ignore": ["prisma"], "fail_on": "error"}}, schema)


def test_config_schema_includes_the_options_of_a_rules_folder():
    schema = json.loads(CliRunner().invoke(main, ["config-schema", "--rules-dir", str(TEST_RULES)]).stdout)
    assert "testing/marker-client" in schema["properties"]["rules"]["properties"]
    assert "testing" in schema["definitions"]["Selector"]["enum"]
    assert schema == config_schema((*builtin_rules(), *_test_rules()))
    assert schema_text(schema).endswith("}\n")


def _test_rules():
    from linter.registry import load_rules_dir

    return load_rules_dir(TEST_RULES)
