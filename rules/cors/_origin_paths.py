"""Which paths through a function let a request's origin in without checking it.

A tiny abstract interpretation of one function body. A path carries a `PathState`: whether the origin passed an
allowlist test on the way (`allowed.includes(origin)` was true), whether it is known to be missing (`!origin`
was true: not a browser request), whether the path runs only in development (`NODE_ENV !== 'production'`),
and whether it is in the branch where a condition about something else holds (a route, a feature flag), a case
loadlint cannot judge. Statements are followed through blocks, `if`/`else`, `return`, `throw`, `try`, loops and
`switch`; expressions through `?:`, `&&` and `||`. Conditions are split on `!`, `&&` and `||`; each atom is then
a presence test of the origin, an allowlist test (anything else that mentions the origin or a value computed
from it, see `linter.rules.cors._origin_names`), an environment test, or unknown. Nested functions are not entered.

The caller names the sinks (a `callback(null, …)` call, a `return`, a header being set) and how to read the
value each sink lets through; `allows(...)` returns every sink with the states of the paths that reach it with
an allowing value.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from enum import Enum
from typing import Callable

from linter.js.deployment_checks import development_when_true
from linter.js.expressions import unwrap
from linter.js.functions import FUNCTION_TYPES, function_body
from linter.lazy_dataclasses import dataclass
from linter.rules.cors._origin_names import NULLISH, OriginNames
from linter.syntax import Node, text

_COMPARISONS = frozenset({"===", "==", "!==", "!=", "<", "<=", ">", ">=", "instanceof", "in"})
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
# `list.indexOf(origin) === -1`, `list.find(…) === undefined`: true when the origin was NOT found.
_NOT_FOUND_RESULTS = frozenset({"-1", "false", "undefined", "null"})
_EMPTY_VALUES = frozenset({"''", '""', "``", "0"})
# Bounds on the analysis: more distinct path states in one set, or deeper nesting of statements, conditions and
# values than this, and the function is given up on (no sink reported: a miss costs less than a false positive).
MAX_PATHS = 64
MAX_DEPTH = 200


class TooComplex(Exception):
    """The function has more paths or deeper nesting than the analysis follows."""


_nesting = threading.local()


def _enter() -> None:
    depth = getattr(_nesting, "depth", 0) + 1
    if depth > MAX_DEPTH:
        raise TooComplex
    _nesting.depth = depth


def _leave() -> None:
    _nesting.depth -= 1


def _bounded(states: set) -> set:
    if len(states) > MAX_PATHS:
        raise TooComplex
    return states


class Verdict(Enum):
    ALLOW = "allow"
    DENY = "deny"
    UNKNOWN = "unknown"


ALWAYS = object()  # what `sink_value` returns for a sink that lets the origin in whatever it is given


@dataclass(frozen=True)
class PathState:
    checked: bool = False  # the origin passed an allowlist test on this path
    absent: bool = False  # the origin is known to be missing on this path
    development: bool = False  # this path runs only outside production
    gated: bool = False  # inside a branch of a condition that says nothing about the origin
    failed: tuple[int, int] | None = None  # byte range of an allowlist test this path failed

    @property
    def unchecked(self) -> bool:
        """An origin on this path may be any website's."""
        return not (self.checked or self.absent or self.development or self.gated)


@dataclass(frozen=True)
class ReachedSink:
    sink: Node
    states: frozenset[PathState]  # the states of the paths that reach the sink with an allowing value


SinkValue = Callable[[Node], "Node | object | None"]
Leaf = Callable[[Node], "Verdict | None"]


def allows(
    function: Node,
    origin: OriginNames,
    sink_value: SinkValue,
    returns_are_sinks: bool = False,
    leaf: Leaf | None = None,
) -> list[ReachedSink]:
    """Every sink in `function` (or a whole program) that a path reaches with a value letting the origin in.

    `sink_value(node)` is the value a sink lets through, `ALWAYS` for a sink that lets the origin in whatever
    it is given, or None when `node` is not a sink. With `returns_are_sinks`, what the function returns is a
    sink too. `leaf(value)` reads the values the interpreter does not know (default: `true` and the origin
    itself allow; `false`, `null`, `undefined` and `''` deny)."""
    interpreter = _Interpreter(origin, sink_value, returns_are_sinks, leaf or default_leaf(origin))
    body = function if function.type == "program" else function_body(function)
    if body is None:
        return []
    try:
        if body.type in ("statement_block", "program"):
            interpreter.statement(body, {PathState()})
        else:  # an arrow function's expression body is its return value
            interpreter.returned(body, {PathState()}, body)
    except TooComplex:
        return []
    by_sink: dict[int, ReachedSink] = {}
    for sink, state in interpreter.reached:
        previous = by_sink.get(sink.start_byte)
        states = frozenset({state}) | (previous.states if previous else frozenset())
        by_sink[sink.start_byte] = ReachedSink(sink, states)
    return sorted(by_sink.values(), key=lambda r: r.sink.start_byte)


def default_leaf(origin: OriginNames) -> Leaf:
    def leaf(value: Node) -> Verdict | None:
        if value.type == "true" or origin.is_origin(value):
            return Verdict.ALLOW
        if value.type in ("false", "null", "undefined") or text(value) in _EMPTY_VALUES:
            return Verdict.DENY
        return None

    return leaf


def verdicts(
    value: Node | None, state: PathState, origin: OriginNames, leaf: Leaf
) -> list[tuple[PathState, Verdict]]:
    """What `value` lets through on each path: `ok ? origin : false`, `!origin || list.includes(origin)`.
    None past the analysis's bounds."""
    try:
        return list(_verdicts(value, {state}, origin, leaf))
    except TooComplex:
        return []


def _verdicts(
    value: Node | None, states: set[PathState], origin: OriginNames, leaf: Leaf
) -> set[tuple[PathState, Verdict]]:
    """`verdicts` of every state in `states` at once (each branch is evaluated once for all of them)."""
    _enter()
    try:
        return _bounded(_verdicts_of(value, states, origin, leaf))
    finally:
        _leave()


def _verdicts_of(
    value: Node | None, states: set[PathState], origin: OriginNames, leaf: Leaf
) -> set[tuple[PathState, Verdict]]:
    value = unwrap(value)
    if not states:
        return set()
    if value is None:
        return {(s, Verdict.DENY) for s in states}
    known = leaf(value)
    if known is not None:
        return {(s, known) for s in states}
    if value.type == "await_expression" and value.named_children:
        return _verdicts(value.named_children[-1], states, origin, leaf)
    if value.type == "ternary_expression":
        when_true, when_false = refine(value.child_by_field_name("condition"), states, origin)
        consequence, alternative = value.child_by_field_name("consequence"), value.child_by_field_name("alternative")
        return _verdicts(consequence, when_true, origin, leaf) | _verdicts(alternative, when_false, origin, leaf)
    operator = text(value.child_by_field_name("operator")) if value.type == "binary_expression" else None
    left, right = value.child_by_field_name("left"), value.child_by_field_name("right")
    if operator == "||":  # the left value when it is truthy, else the right one
        when_true, when_false = refine(left, states, origin)
        truthy = {v for v in _verdicts(left, when_true, origin, leaf) if v[1] != Verdict.DENY}
        return truthy | _verdicts(right, when_false, origin, leaf)
    if operator == "&&":
        when_true, when_false = refine(left, states, origin)
        falsy = {(s, Verdict.DENY) for s in when_false}
        return falsy | _verdicts(right, when_true, origin, leaf)
    if operator == "??":
        return _verdicts(left, states, origin, leaf) | _verdicts(right, states, origin, leaf)
    if _is_test(value, origin):
        when_true, when_false = refine(value, states, origin)
        return {(s, Verdict.ALLOW) for s in when_true} | {(s, Verdict.DENY) for s in when_false}
    return {(s, Verdict.UNKNOWN) for s in states}


def refine(
    condition: Node | None, states: set[PathState], origin: OriginNames
) -> tuple[set[PathState], set[PathState]]:
    """The states in which `condition` is true, and those in which it is false."""
    _enter()
    try:
        when_true, when_false = _refine(condition, states, origin)
        return _bounded(when_true), _bounded(when_false)
    finally:
        _leave()


def _refine(
    condition: Node | None, states: set[PathState], origin: OriginNames
) -> tuple[set[PathState], set[PathState]]:
    condition = unwrap(condition)
    if condition is None or not states:
        return set(states), set(states)
    if condition.type == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        when_true, when_false = refine(condition.child_by_field_name("argument"), states, origin)
        return when_false, when_true
    operator = text(condition.child_by_field_name("operator")) if condition.type == "binary_expression" else None
    if operator == "&&":
        left_true, left_false = refine(condition.child_by_field_name("left"), states, origin)
        both, right_false = refine(condition.child_by_field_name("right"), left_true, origin)
        return both, left_false | right_false
    if operator == "||":
        left_true, left_false = refine(condition.child_by_field_name("left"), states, origin)
        right_true, neither = refine(condition.child_by_field_name("right"), left_false, origin)
        return left_true | right_true, neither
    presence = _presence_test(condition, origin)
    if presence is not None:
        present, missing = set(states), {replace(s, absent=True) for s in states}
        return (present, missing) if presence else (missing, present)
    if origin.mentions(condition):
        passed = {replace(s, checked=True) for s in states}
        span = (condition.start_byte, condition.end_byte)
        failed = {s if s.checked else replace(s, failed=span) for s in states}
        return (passed, failed) if _true_when_found(condition) else (failed, passed)
    development = development_when_true(condition)
    if development is not None:
        dev = {replace(s, development=True) for s in states}
        return (dev, set(states)) if development else (set(states), dev)
    # A condition about something else (a route, a feature flag) being true is a case loadlint cannot judge;
    # it being false is the ordinary path.
    return {replace(s, gated=True) for s in states}, set(states)


def _presence_test(condition: Node, origin: OriginNames) -> bool | None:
    """True for a test that holds when the origin is there (`origin`, `origin != null`, `typeof origin ===
    'string'`), False for one that holds when it is missing (`origin === undefined`), None for anything else."""
    if origin.is_origin(condition):
        return True
    operator = text(condition.child_by_field_name("operator")) if condition.type == "binary_expression" else None
    if operator not in ("===", "==", "!==", "!="):
        return None
    left, right = unwrap(condition.child_by_field_name("left")), unwrap(condition.child_by_field_name("right"))
    for subject, other in ((left, right), (right, left)):
        if subject is None or other is None:
            continue
        if other.type in NULLISH and origin.is_origin(subject):
            holds_when_missing = True
        elif subject.type == "unary_expression" and text(subject.child_by_field_name("operator")) == "typeof":
            if not origin.is_origin(subject.child_by_field_name("argument")):
                continue
            holds_when_missing = text(other).strip("'\"`") == "undefined"
        else:
            continue
        return holds_when_missing == (operator in ("!==", "!="))
    return None


def _true_when_found(condition: Node) -> bool:
    """False for tests whose truth means the origin was NOT found: `list.indexOf(origin) === -1`, `< 0`,
    `found === undefined`, and an inequality with anything else (`origin !== trustedOrigin`)."""
    if condition.type != "binary_expression":
        return True
    operator = text(condition.child_by_field_name("operator"))
    right = text(unwrap(condition.child_by_field_name("right")))
    if operator in ("===", "=="):
        return right not in _NOT_FOUND_RESULTS
    if operator in ("!==", "!="):
        return right in _NOT_FOUND_RESULTS
    return not (operator == "<" and right == "0" or operator == "<=" and right == "-1")


def _is_test(value: Node, origin: OriginNames) -> bool:
    """A boolean computed from the origin: `list.includes(origin)`, `!origin`, a derived `isAllowed`."""
    if value.type == "identifier":
        return text(value) in origin.derived
    if value.type == "unary_expression":
        boolean = text(value.child_by_field_name("operator")) == "!"
    elif value.type == "binary_expression":
        boolean = text(value.child_by_field_name("operator")) in _COMPARISONS
    else:
        boolean = value.type == "call_expression"
    return boolean and origin.mentions(value)


class _Interpreter:
    def __init__(self, origin: OriginNames, sink_value: SinkValue, returns_are_sinks: bool, leaf: Leaf) -> None:
        self.origin = origin
        self.sink_value = sink_value
        self.returns_are_sinks = returns_are_sinks
        self.leaf = leaf
        self.reached: list[tuple[Node, PathState]] = []
        self._exits: list[set[PathState]] = []  # states leaving the innermost loop or switch by `break`

    # --- statements: each returns the states that complete normally ---------------------------------------------

    def statement(self, node: Node | None, states: set[PathState]) -> set[PathState]:
        _enter()
        try:
            return _bounded(self._statement(node, states))
        finally:
            _leave()

    def _statement(self, node: Node | None, states: set[PathState]) -> set[PathState]:
        if node is None or not states:
            return states
        kind = node.type
        if kind in ("statement_block", "program", "else_clause", "finally_clause"):
            for child in node.named_children:
                states = self.statement(child, states)
            return states
        if kind == "if_statement":
            when_true, when_false = refine(node.child_by_field_name("condition"), states, self.origin)
            out = self.statement(node.child_by_field_name("consequence"), when_true)
            out |= self.statement(node.child_by_field_name("alternative"), when_false)
            return _ungate(out, states)
        if kind == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is not None:
                self.returned(value, states, node)
            return set()
        if kind == "throw_statement":
            self.expression(node, states)
            return set()
        if kind in ("break_statement", "continue_statement"):
            if self._exits:
                self._exits[-1] |= states
            return set()
        if kind == "try_statement":
            out = self.statement(node.child_by_field_name("body"), states)
            handler = node.child_by_field_name("handler")
            if handler is not None:  # the error may come from anywhere in the body: enter with the states before it
                out |= self.statement(handler.child_by_field_name("body"), states)
            return self.statement(node.child_by_field_name("finalizer"), out)
        if kind in _LOOPS:
            return self._loop(node, states)
        if kind == "switch_statement":
            return self._switch(node, states)
        if kind in ("class_declaration", "comment", "empty_statement"):
            return states
        return self.expression(node, states)

    def returned(self, value: Node, states: set[PathState], sink: Node) -> None:
        if self.returns_are_sinks:
            self._record(sink, value, states)
        else:
            self.expression(value, states)

    def _loop(self, node: Node, states: set[PathState]) -> set[PathState]:
        """The body runs zero times or once; `break` and `continue` leave it."""
        for field in ("initializer", "right", "condition"):
            states = self.expression(node.child_by_field_name(field), states)
        self._exits.append(set())
        out = self.statement(node.child_by_field_name("body"), states)
        return _ungate(states | out | self._exits.pop(), states)

    def _switch(self, node: Node, states: set[PathState]) -> set[PathState]:
        """`switch (origin)` cases are allowlist tests; cases of any other value gate their body."""
        discriminant = node.child_by_field_name("value")
        states = self.expression(discriminant, states)
        on_origin = self.origin.mentions(discriminant)
        body = node.child_by_field_name("body")
        self._exits.append(set())
        falling: set[PathState] = set()
        has_default = False
        for case in body.named_children if body is not None else ():
            if case.type == "switch_default":
                has_default = True
                falling |= states
            else:
                falling |= {replace(s, checked=True) if on_origin else replace(s, gated=True) for s in states}
            for child in case.children_by_field_name("body"):
                falling = self.statement(child, falling)
        out = falling | self._exits.pop() | (set() if has_default else states)
        return _ungate(out, states)

    # --- expressions: each returns the states after it, following ?:, && and || as branches ---------------------

    def expression(self, node: Node | None, states: set[PathState]) -> set[PathState]:
        _enter()
        try:
            return _bounded(self._expression(node, states))
        finally:
            _leave()

    def _expression(self, node: Node | None, states: set[PathState]) -> set[PathState]:
        node = unwrap(node)
        if node is None or not states:
            return states
        value = self.sink_value(node)
        if value is not None:
            self._record(node, value, states)
            return states
        if node.type in FUNCTION_TYPES:
            return states
        if node.type == "ternary_expression":
            when_true, when_false = refine(node.child_by_field_name("condition"), states, self.origin)
            out = self.expression(node.child_by_field_name("consequence"), when_true)
            out |= self.expression(node.child_by_field_name("alternative"), when_false)
            return _ungate(out, states)
        operator = text(node.child_by_field_name("operator")) if node.type == "binary_expression" else None
        if operator in ("&&", "||"):  # `allowed && callback(null, true)`
            left = node.child_by_field_name("left")
            states = self.expression(left, states)
            when_true, when_false = refine(left, states, self.origin)
            right = node.child_by_field_name("right")
            if operator == "&&":
                out = when_false | self.expression(right, when_true)
            else:
                out = when_true | self.expression(right, when_false)
            return _ungate(out, states)
        for child in node.named_children:
            states = self.expression(child, states)
        return states

    def _record(self, sink: Node, value: Node | object, states: set[PathState]) -> None:
        if value is ALWAYS:
            self.reached.extend((sink, state) for state in states)
            return
        for path, verdict in _verdicts(value, set(states), self.origin, self.leaf):  # type: ignore[arg-type]
            if verdict == Verdict.ALLOW:
                self.reached.append((sink, path))


def _ungate(out: set[PathState], before: set[PathState]) -> set[PathState]:
    """Once both branches of a condition meet again, the condition no longer gates the path."""
    gated = any(s.gated for s in before)
    return {s if s.gated == gated else replace(s, gated=gated) for s in out}
