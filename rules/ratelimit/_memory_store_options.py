"""The options of `ratelimit/memory-store` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import StrictBool

from linter.rule_options import RuleOptions


class MemoryStoreOptions(RuleOptions):
    # Report limiters without a shared store even where the app does not use Redis (several instances, no Redis).
    require_shared_store: StrictBool = False
