"""The flow spec of page sizes: a client value keeps its size through conversions, defaults and arithmetic,
`Math.max` (a lower bound only) and `.toString()`; a cap stops it: `Math.min` with a bound, a guard or a
condition that keeps it under a maximum (`_caps`), a schema field with a maximum."""

from __future__ import annotations

from linter.flow.spec import CONVERSIONS, RequestValueSpec
from linter.syntax import Node

from ._caps import bounded_at, bounds, canonical, is_math_min


class PageSizeSpec(RequestValueSpec):
    name = "page-size"
    keeps_note = "keeps any size"

    def keeps_call(self, name: str) -> bool:
        return name in CONVERSIONS or name == "Math.max"

    def call(self, call: Node, name: str, arguments: list[Node], tracer, frame, depth: int):
        if not is_math_min(call):
            return NotImplemented
        # `Math.min(a, b)` is as large as its smallest argument: uncapped only when every one is the client's.
        flows = [tracer.trace_in(argument, frame, depth) for argument in arguments]
        if flows and all(flow is not None and flow.is_value for flow in flows):
            return flows[0]
        return None

    def guarded(self, use: Node) -> bool:
        return bounded_at(use)

    def branch_bounded(self, condition: Node | None, branch: Node, when_true: bool) -> bool:
        name = canonical(branch)
        return name is not None and bounds(condition, name, when_true)


PAGE_SIZE = PageSizeSpec()
