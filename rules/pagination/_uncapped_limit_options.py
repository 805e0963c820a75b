"""The options of `pagination/uncapped-limit` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import Field, StrictInt

from linter.rule_options import RuleOptions

from .uncapped_limit import DEFAULT_MAX_PAGE_SIZE


class UncappedLimitOptions(RuleOptions):
    # The cap the fix writes: `Math.min(limit, max-page-size)`.
    max_page_size: StrictInt = Field(DEFAULT_MAX_PAGE_SIZE, ge=1)
