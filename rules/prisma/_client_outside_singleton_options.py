"""The options of `prisma/client-outside-singleton` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from linter.paths import check_glob

from .client_outside_singleton import DEFAULT_ONE_SHOT_PATHS


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class ClientOutsideSingletonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True)

    one_shot_paths: list[str] = list(DEFAULT_ONE_SHOT_PATHS)
    extend_one_shot_paths: list[str] = []

    @field_validator("one_shot_paths", "extend_one_shot_paths")
    @classmethod
    def _valid_globs(cls, value: list[str]) -> list[str]:
        for pattern in value:
            check_glob(pattern)
        return value
