"""Validate SARIF logs against the vendored OASIS SARIF 2.1.0 schema (JSON Schema draft 4).

Import as `from tests.sarif_schema import assert_valid_sarif`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def _validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """Raise AssertionError listing every schema violation in `log`, each with its JSON path."""
    errors = sorted(_validator().iter_errors(log), key=lambda error: [str(p) for p in error.absolute_path])
    if errors:
        details = "\n".join(f"- /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
        raise AssertionError(f"SARIF log violates the 2.1.0 schema ({len(errors)} errors):\n{details}")
