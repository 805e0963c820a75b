"""The options of `express/json-body-limit` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import field_validator

from linter.js.units import byte_count
from linter.rule_options import RuleOptions

from .json_body_limit import DEFAULT_MAX_BODY_SIZE


class JsonBodyLimitOptions(RuleOptions):
    max_body_size: str | int = DEFAULT_MAX_BODY_SIZE

    @field_validator("max_body_size", mode="before")
    @classmethod
    def _whole_bytes(cls, value: object) -> object:
        if isinstance(value, (bool, float)):  # `true` would pass as one byte
            raise ValueError("must be a size such as '512kb' or '2mb', or a whole number of bytes")
        return value

    @field_validator("max_body_size")
    @classmethod
    def _readable(cls, value: str | int) -> str | int:
        count = byte_count(value)
        if count is None or count <= 0:
            raise ValueError(f"{value!r} is not a size such as '512kb' or '2mb'")
        return value

    @property
    def max_bytes(self) -> float:
        return byte_count(self.max_body_size) or 0.0
