"""The pydantic model that checks a config file's settings (`linter.config.Config.model_validate`) and gives
the config's JSON Schema (`linter.config_schema`); imported only for a config file or the schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from linter.config_defaults import DEFAULT_MAX_FILE_SIZE, DEFAULT_OUTPUT_DIRS
from linter.model import Level
from linter.paths import check_glob


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Config(BaseModel):
    # No docstring: it would become the schema's description.
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab)

    select: list[str] | None = None
    ignore: list[str] = []
    exclude: list[str] = []
    per_file_ignores: dict[str, list[str]] = {}
    levels: dict[str, Level] = {}
    fail_on: Level = Level.WARNING
    max_file_size: StrictInt = Field(DEFAULT_MAX_FILE_SIZE, gt=0)
    output_dirs: list[str] = list(DEFAULT_OUTPUT_DIRS)
    baseline: str | None = None
    rules_dir: str | None = None
    rules: dict[str, dict[str, Any]] = {}

    @field_validator("select", "ignore")
    @classmethod
    def _no_blank_selectors(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not isinstance(v, str) or not v.strip() for v in value):
            raise ValueError("selectors must be non-empty rule ids or families")
        return value

    @field_validator("select")
    @classmethod
    def _selects_something(cls, value: list[str] | None) -> list[str] | None:
        if value == []:
            raise ValueError("selects no rule; leave the key out to run every rule")
        return value

    @field_validator("rules_dir")
    @classmethod
    def _names_a_folder(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must name a folder")
        return value

    @field_validator("baseline")
    @classmethod
    def _names_a_file(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\0" in value):
            raise ValueError("must name a file")
        return value

    @field_validator("output_dirs")
    @classmethod
    def _folder_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip() or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
                raise ValueError(f"{name!r} is not a folder name (globs go in `exclude`)")
        return value

    @field_validator("exclude")
    @classmethod
    def _valid_globs(cls, value: list[str]) -> list[str]:
        for pattern in value:
            check_glob(pattern)
        return value

    @field_validator("per_file_ignores")
    @classmethod
    def _valid_glob_keys(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for pattern in value:
            check_glob(pattern)
        return value
