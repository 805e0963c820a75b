"""CORS options delegates: functions of the request that give the CORS options for that request.

The `cors` package takes, instead of an options object, a function it calls for every request:
`cors((req, callback) => callback(null, { origin: …, credentials: … }))`. `@fastify/cors` takes one too
(`app.register(cors, () => (req, callback) => …)`, or `{ delegator: … }`), and also one that returns the options,
or a promise of them (`async (req) => ({ … })`). What such a delegate hands out is the policy, path by path: the
rule follows the paths through it (`linter.rules.cors._origin_paths`) to each handout and reads its `origin`.

`delegate_of(fn, file)` tells whether a function is a delegate; `handing_out(obj, file)` lists the delegates
that hand out an options object literal (passed to the callback, returned, or held by a name that is).

A handout is recorded where the options are settled: an object literal handed out as written (in a `?:` branch
too), a `const` name holding one where it is handed out (`callback(null, openOptions)`), and otherwise, for a
local that changes (`let options; if (…) options = {…}`), each value it is given and each `options.origin = …`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from linter.js.bindings import declaration_of
from linter.js.expressions import WRAPPERS, arguments_of, key_text, outermost, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_body, function_name, parameter_names
from linter.lazy_dataclasses import dataclass
from linter.rules.cors._cors_calls import (
    callback_parameter,
    cors_calls_taking,
    cors_options,
    imported_cors_package,
    read_options,
)
from linter.rules.cors._imported_cors import entry_value, uses_of
from linter.rules.cors._origin_names import walk_own
from linter.syntax import Node, same_node, text

if TYPE_CHECKING:
    from linter.context import FileContext

# Functions a handout may sit in below the delegate: `lookup(origin).then(() => callback(null, {…}))`.
_NESTING = 3
_LOGICAL = frozenset({"||", "&&", "??"})
_MAX_LEAF_DEPTH = 16  # nested `?:` and logical operators followed in a handed-out value


@dataclass(frozen=True)
class Handout:
    """One place a delegate settles the options it hands out."""

    node: Node  # what the path analysis records: the object literal, the name handed out, `options.origin = …`
    origin: Node | None  # what the options say for `origin` there (None: they say nothing)
    options: tuple[Node, ...]  # the object literals behind it, where `credentials` is read


@dataclass(frozen=True)
class Delegate:
    function: Node
    callback: str | None  # the parameter the options are handed to; None when the function returns them
    library: str  # the CORS package whose semantics apply
    applied_by: tuple[Node, ...]  # the CORS calls of this file that apply it
    handouts: tuple[Handout, ...]
    unfollowed: frozenset[int]  # start bytes of options handed out inside nested functions, which are not followed

    def hands_out(self, obj: Node) -> bool:
        return obj.start_byte in self.unfollowed or any(
            same_node(obj, o) or same_node(obj, h.node) for h in self.handouts for o in h.options
        )

    def hands_out_name(self, use: Node) -> bool:
        """`use` (a name) is handed out here, or is the options whose `origin` the delegate sets."""
        for handout in self.handouts:
            if same_node(use, handout.node):
                return True
            if handout.node.type == "assignment_expression":
                left = unwrap(handout.node.child_by_field_name("left"))
                if left is not None and same_node(use, left.child_by_field_name("object")):
                    return True
        return False


def delegate_of(fn: Node, file: "FileContext") -> Delegate | None:
    """The delegate `fn` is, or None: a function handing options to its second parameter (`callback(null,
    {…})`), or one a CORS call of the file applies that takes at most the request and returns options."""
    return file.memo(("rules.cors.delegate", fn.start_byte, fn.end_byte), lambda: _delegate(fn, file))


def _delegate(fn: Node, file: "FileContext") -> Delegate | None:
    if fn.type not in FUNCTION_TYPES or function_body(fn) is None:
        return None
    callback = callback_parameter(fn)
    if callback is None and len(parameter_names(fn)) > 1:
        return None
    applied_by = _applying_calls(fn, file)
    if callback is None and not applied_by:
        return None
    handouts, unfollowed = _handouts(fn, callback, list(_handed_values(fn, callback)))
    if callback is not None and not handouts and not unfollowed:
        return None  # a callback given no `(null, options)`: some other kind of function
    library = next((lib for lib in (_library(c, file) for c in applied_by) if lib), None)
    library = library or imported_cors_package(file) or "cors"
    return Delegate(fn, callback, library, applied_by, tuple(handouts), frozenset(unfollowed))


def handing_out(obj: Node, file: "FileContext") -> list[Delegate]:
    """The delegates that hand out the options object literal `obj`. For an object held by a module-level name,
    only when every use of the name is a delegate handing it out: one also passed to `cors(…)` is judged as
    options there."""
    fn = enclosing_function(obj)
    for _ in range(_NESTING):
        if fn is None:
            break
        delegate = delegate_of(fn, file)
        if delegate is not None and delegate.hands_out(obj):
            return [delegate]
        fn = enclosing_function(fn)
    holder = _top(obj).parent
    if enclosing_function(obj) is not None or holder is None or holder.type != "variable_declarator":
        return []
    name = holder.child_by_field_name("name")
    uses = uses_of(file, text(name)) if name is not None and name.type == "identifier" else ()
    found: dict[int, Delegate] = {}
    for use in uses:
        user = enclosing_function(use)
        delegate = delegate_of(user, file) if user is not None else None
        if delegate is None or not delegate.hands_out_name(use):
            return []
        found[delegate.function.start_byte] = delegate
    return list(found.values())


# --- what a delegate hands out ---------------------------------------------------------------------------------


def _handed_values(fn: Node, callback: str | None) -> Iterator[Node]:
    """The values `fn` hands out itself: second arguments of `callback(null, …)`, or what it returns."""
    body = function_body(fn)
    if callback is None:
        if body.type != "statement_block":
            yield body
        for node in walk_own(body):
            if node.type == "return_statement" and node.named_children:
                yield node.named_children[0]
        return
    for node in walk_own(body):
        if _handing_call(node, callback):
            yield arguments_of(node)[1]


def _handing_call(node: Node, callback: str) -> bool:
    """`callback(null, options)`; `callback(error, …)` refuses the request."""
    if node.type != "call_expression":
        return False
    function = unwrap(node.child_by_field_name("function"))
    if function is None or function.type != "identifier" or text(function) != callback:
        return False
    arguments = arguments_of(node)
    return len(arguments) >= 2 and unwrap(arguments[0]).type in ("null", "undefined")


def _handouts(fn: Node, callback: str | None, handed: list[Node]) -> tuple[list[Handout], list[int]]:
    handouts: list[Handout] = []
    for value in handed:
        for leaf in _leaves(value):
            if leaf.type == "object":
                handouts.append(Handout(leaf, entry_value(leaf, "origin"), (leaf,)))
            elif leaf.type == "identifier":
                handouts.extend(_named_handouts(fn, leaf))
    unfollowed = []
    if callback is not None:  # `.then(() => callback(null, {…}))`: handed out where the paths are not followed
        body = function_body(fn)
        for node in _walk_nested(body):
            if _handing_call(node, callback):
                unfollowed.extend(leaf.start_byte for leaf in _leaves(arguments_of(node)[1]) if leaf.type == "object")
    return handouts, unfollowed


def _named_handouts(fn: Node, name: Node) -> list[Handout]:
    """The handouts of options a name holds. A `const` object literal the delegate does not change is handed out
    where the name is; a local the delegate sets (`let options; if (…) options = {…}`) at each value it is
    given; and options whose `origin` the delegate sets (`options.origin = …`) at each of those writes."""
    binding = declaration_of(name)
    if binding is None or binding.kind != "variable" or binding.declarator is None or binding.path:
        return []
    value = unwrap(binding.declarator.child_by_field_name("value"))
    declared = [leaf for leaf in _leaves(value) if leaf.type == "object"]
    local = binding.function is not None and same_node(binding.function, fn)
    given, origin_writes = _writes(function_body(fn), text(name))
    if not given and not origin_writes:
        declaration = binding.declarator.parent
        constant = declaration is not None and bool(declaration.children) and declaration.children[0].type == "const"
        if value is not None and value.type == "object" and constant:
            return [Handout(name, entry_value(value, "origin"), (value,))]
        return [Handout(o, entry_value(o, "origin"), (o,)) for o in declared] if local else []
    objects = [leaf for v in given for leaf in _leaves(v) if leaf.type == "object"]
    if local:  # a module-level value is settled before any request: only what the delegate sets counts
        objects = declared + objects
    handouts = [Handout(o, entry_value(o, "origin"), (o,)) for o in objects]
    options = tuple(objects or declared)
    handouts.extend(Handout(w, w.child_by_field_name("right"), options) for w in origin_writes)
    return handouts


def _writes(body: Node, name: str) -> tuple[list[Node], list[Node]]:
    """(the values `name = …` gives the local, the `name.origin = …` assignments) in the delegate's own body."""
    given, origin_writes = [], []
    for node in walk_own(body):
        if node.type != "assignment_expression":
            continue
        left = unwrap(node.child_by_field_name("left"))
        if left is None:
            continue
        if left.type == "identifier" and text(left) == name:
            given.append(node.child_by_field_name("right"))
        elif left.type == "member_expression" and text(left.child_by_field_name("object")) == name:
            if text(left.child_by_field_name("property")) == "origin":
                origin_writes.append(node)
    return given, origin_writes


def _leaves(value: Node | None, depth: int = 0) -> list[Node]:
    """The values `value` may be: both branches of `?:`, the operands of `||`, `&&` and `??`, through `await`."""
    value = unwrap(value)
    if value is None or depth > _MAX_LEAF_DEPTH:
        return []
    if value.type == "await_expression" and value.named_children:
        return _leaves(value.named_children[-1], depth + 1)
    if value.type == "ternary_expression":
        branches = [value.child_by_field_name("consequence"), value.child_by_field_name("alternative")]
    elif value.type == "binary_expression" and text(value.child_by_field_name("operator")) in _LOGICAL:
        branches = [value.child_by_field_name("left"), value.child_by_field_name("right")]
    else:
        return [value]
    return [leaf for branch in branches for leaf in _leaves(branch, depth + 1)]


def _top(node: Node) -> Node:
    """`node` with the wrappers, `?:` branches and logical operands around it."""
    while node.parent is not None:
        parent = node.parent
        if parent.type in WRAPPERS or parent.type == "await_expression":
            node = parent
        elif parent.type == "ternary_expression" and not same_node(parent.child_by_field_name("condition"), node):
            node = parent
        elif parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) in _LOGICAL:
            node = parent
        else:
            break
    return node


def _walk_nested(body: Node) -> Iterator[Node]:
    """The nodes inside the functions nested in `body`."""
    for node in walk_own(body):
        if node is not body and node.type in FUNCTION_TYPES:
            stack = [node]
            while stack:
                current = stack.pop()
                yield current
                stack.extend(current.children)


def credentials_entry(obj: Node, library: str) -> Node | None:
    """The `credentials: true` entry of options, written in them or in a `const` they spread
    (`{ ...baseOptions, origin: true }`)."""
    found = read_options(obj, library).credentials
    if found is not None:
        return found
    for entry in obj.named_children:
        spread = unwrap(entry.named_children[0]) if entry.type == "spread_element" and entry.named_children else None
        if spread is None or spread.type != "identifier":
            continue
        binding = declaration_of(spread)
        value = unwrap(binding.declarator.child_by_field_name("value")) if binding and binding.declarator else None
        if binding is not None and binding.kind == "variable" and not binding.path and value is not None and value.type == "object":
            found = read_options(value, library).credentials
            if found is not None:
                return found
    return None


# --- where a delegate is applied -------------------------------------------------------------------------------


def _applying_calls(fn: Node, file: "FileContext") -> tuple[Node, ...]:
    """The CORS calls of this file that apply `fn` as their delegate: `cors(fn)`, `cors(name)`,
    `app.register(cors, () => fn)`, `app.register(cors, { delegator: fn })`."""
    calls = []
    target = outermost(fn)
    holder = target.parent
    if holder is not None and holder.type in ("return_statement", *FUNCTION_TYPES):  # `() => (req, cb) => …`
        outer = holder if holder.type in FUNCTION_TYPES else enclosing_function(holder)
        if outer is not None:
            target = outermost(outer)
            holder = target.parent
    if holder is not None and holder.type == "pair" and key_text(holder.child_by_field_name("key")) == "delegator":
        target = outermost(holder.parent)
        holder = target.parent
    if holder is not None and holder.type == "arguments" and holder.parent is not None:
        found = cors_options(holder.parent, file)
        if found is not None and found[1] is not None and same_node(found[1], unwrap(target)):
            calls.append(holder.parent)
    name = _declared_name(fn)
    if name is not None:
        for call in cors_calls_taking(name, file):
            found = cors_options(call, file)
            if found is not None and found[1] is not None and found[1].type == "identifier" and text(found[1]) == name:
                calls.append(call)
    return tuple(calls)


def _declared_name(fn: Node) -> str | None:
    """The name `fn` is declared under: `function f(…)`, `const f = (…) => …`."""
    if fn.type in ("function_declaration", "generator_function_declaration"):
        return function_name(fn)
    holder = outermost(fn).parent
    if holder is not None and holder.type == "variable_declarator":
        name = holder.child_by_field_name("name")
        return text(name) if name is not None and name.type == "identifier" else None
    return None


def _library(call: Node, file: "FileContext") -> str | None:
    found = cors_options(call, file)
    return found[0] if found is not None else None

