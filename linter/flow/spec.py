"""What a flow rule declares: how values move through calls and operators, and what stops them.

The sources are the request inputs of the framework models (`linter.frameworks.request_inputs`); a spec says
what happens to such a value on the way to the rule's sinks. `RequestValueSpec` follows any client value
through conversions, defaults and arithmetic and has no barrier; a rule subclasses it (as CodeQL's
`*Customizations.qll` do) to add barriers, such as a cap on a page size. A spec may also start flows of its
own (`value`: a value written in the code, say) and follow names imported from other modules
(`follows_imports`), whose values the rule then looks up in the project phase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.frameworks.request_inputs import ARGUMENT, VALUE, Input
from linter.frameworks.validation_schemas import UNBOUNDED, FieldCheck, schema_field

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.tracer import Tracer
    from linter.syntax import Node

# Calls that change a value's type or rounding but keep what the client chose.
CONVERSIONS = frozenset(
    {
        "parseInt", "parseFloat", "Number", "String", "BigInt", "Number.parseInt", "Number.parseFloat",
        "Math.floor", "Math.ceil", "Math.round", "Math.trunc", "Math.abs",
    }
)  # fmt: skip
STRING_METHODS = frozenset({"toString", "trim", "valueOf", "toLowerCase", "toUpperCase"})
ARITHMETIC = frozenset({"+", "-", "*", "/", "**"})
TRUNCATING = frozenset({"|", ">>", ">>>", "<<"})


class FlowSpec:
    """How client values move for one family of sinks. `name` keys the summaries the spec leaves."""

    name = "request-value"
    keeps_note = "keeps its value"  # the code-flow step of a call `keeps_call` admits
    accepts_note = "the schema accepts any size of `{field}`"  # the code-flow step of a field `field_passes` lets through
    # A name imported from another module becomes a symbol (`Symbol("import")`) rather than the end of the
    # flow. Request values never come from a module's top level, so only specs of other sources want this.
    follows_imports = False

    def value(self, node: "Node", tracer: "Tracer", frame, depth: int):
        """A chance to decide a value before the engine follows it: a `Flow` that starts at `node` (a source of
        the spec other than a request input), `None` (stopped), or `NotImplemented` to let the engine follow it."""
        return NotImplemented

    def keeps_call(self, name: str) -> bool:
        """`name(value, …)` returns the value, or one as large."""
        return name in CONVERSIONS

    def call(self, call: "Node", name: str, arguments: list["Node"], tracer: "Tracer", frame, depth: int):
        """A chance to decide a call the spec knows (a barrier such as `Math.min`): a `Flow`, `None` (stopped),
        or `NotImplemented` to let the engine follow it."""
        return NotImplemented

    def guarded(self, use: "Node") -> bool:
        """The value at `use` has passed a check that bounds it (a guard before it, a condition around it)."""
        return False

    def guard_calls(self, use: "Node") -> list["Node"]:
        """Calls that checks on the way to `use` make with the value, to functions the file cannot see into
        (`if (!isSafe(sql)) throw …`, `isSafe` imported): the project phase asks `checks_value` of each."""
        return []

    def checks_value(self, function: "Node", file: "FileContext") -> bool:
        """A function of another module, called with the value by a check on the way, stops it when it passes."""
        return False

    def branch_bounded(self, condition: "Node | None", branch: "Node", when_true: bool) -> bool:
        """A ternary's branch that only runs when `condition` bounds the value it returns."""
        return False

    def field_passes(self, check: FieldCheck) -> bool:
        """A schema's field lets the value through (a schema the same file or another module defines)."""
        return check.state == UNBOUNDED

    def bag_passes(self, schema: "Node", file: "FileContext") -> bool:
        """A schema of another module lets a whole bag of request parameters through (the value a flow brings
        is the bag itself, not one of its fields)."""
        return self.field_passes(schema_field(schema, "", file))

    def arrives(self, value: Input) -> bool:
        """What a flow across modules brings to the sink is the kind of value the spec reports: by default a
        value the client chose (a bag of them, for a spec whose sinks take a whole object)."""
        return value.kind in (VALUE, ARGUMENT)


class RequestValueSpec(FlowSpec):
    """Any value the client sent, through conversions, defaults and arithmetic; nothing stops it."""

    name = "request-value"
