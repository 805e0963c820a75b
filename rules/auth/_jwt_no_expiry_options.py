"""The options of `auth/jwt-no-expiry` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import field_validator

from linter.js.units import ms_seconds
from linter.rule_options import RuleOptions

from .jwt_no_expiry import DEFAULT_MAX_EXPIRY


class JwtNoExpiryOptions(RuleOptions):
    max_expiry: str | int = DEFAULT_MAX_EXPIRY

    @field_validator("max_expiry", mode="before")
    @classmethod
    def _whole_seconds(cls, value: object) -> object:
        if isinstance(value, (bool, float)):  # `true` would pass as one second
            raise ValueError("must be a duration such as '15m', '24h' or '7d', or a whole number of seconds")
        return value

    @field_validator("max_expiry")
    @classmethod
    def _readable(cls, value: str | int) -> str | int:
        if isinstance(value, str) and ms_seconds(value) is None:
            raise ValueError(f"{value!r} is not a duration such as '15m', '24h' or '7d'")
        if isinstance(value, int) and value <= 0:
            raise ValueError("must be a positive number of seconds")
        return value

    @property
    def max_seconds(self) -> float:
        return float(self.max_expiry) if isinstance(self.max_expiry, int) else ms_seconds(self.max_expiry) or 0.0
