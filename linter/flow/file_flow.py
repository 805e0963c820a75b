"""The engine's per-file half: answers a rule's sinks and leaves the file's summary for the project phase.

`file_flow(file, spec)` is shared by every rule of the spec that runs on the file. `reach(value, …)` tells a
rule whether the client reaches a sink value in this file alone (a `Flow` to report); a value that comes from
further away is kept as a `SinkRecord`. `summary()` adds what other files need: calls into other modules
that pass client values or parameters (`CallEdge`) and what exported functions return (`ReturnRecord`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from linter import lazy_re
from linter.flow.callees import Callee, callee_of, may_name
from linter.flow.spec import FlowSpec
from linter.flow.summary import CallEdge, FlowStep, FlowSummary, Origin, ReturnRecord, SchemaRef, SinkRecord
from linter.flow.tracer import Flow, SchemaCheck, Tracer
from linter.frameworks.request_inputs import PARAMS, Input
from linter.js.exports import function_key
from linter.js.expressions import arguments_of, callee, key_text, object_keys, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.bindings import function_declared_as, returned_values
from linter.model import Fix
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

# Where a summary's calls are looked for: the uses of imported names, and `this.` (injected services).
_THIS = b"this."
_MAX_EDGES = 400
_WRAPPED_VALUE_TYPES = frozenset({"call_expression", "object", "class"})


def file_flow(file: "FileContext", spec: FlowSpec) -> "FileFlow":
    return file.memo(("flow", spec.name, file.rule_instance), lambda: FileFlow(file, spec))


def kept_summary(file: "FileContext", spec: FlowSpec, instance: str) -> FlowSummary | None:
    """The summary of the sinks the rule instance `instance` kept in the file, if it asked for its flows."""
    flows = file.memo(("flow", spec.name, instance), lambda: None)
    return flows.summary(instance) if flows is not None else None


def top_level_value(file: "FileContext", local: str) -> Node | None:
    """What the module binds to `local` at its top level: a `const`'s value, or a class or function declaration."""
    for statement in file.root.named_children:
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
        if declaration is None:
            continue
        if declaration.type in ("lexical_declaration", "variable_declaration"):
            for declarator in declaration.named_children:
                name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
                if name is not None and text(name) == local:
                    return declarator.child_by_field_name("value")
        elif declaration.type in ("class_declaration", "abstract_class_declaration", "function_declaration"):
            if text(declaration.child_by_field_name("name")) == local:
                return declaration
    return None


class FileFlow:
    def __init__(self, file: "FileContext", spec: FlowSpec) -> None:
        self.file = file
        self.spec = spec
        self.tracer = Tracer(file, spec)
        self._sinks: list[SinkRecord] = []
        self._calls: list[tuple[Node, Callee]] | None = None  # `_calls_out`, asked once per function it may call

    def trace(self, node: Node) -> Flow | None:
        return self.tracer.trace(node)

    def reach(self, value: Node) -> Flow | None:
        """The flow of a client value into a sink's `value`, or None. A flow the file shows whole
        (`flow.is_local`) is the rule's to report; one that starts beyond the file goes to `keep`."""
        flow = self.tracer.trace(value)
        return flow if flow is not None and flow.is_value else None

    def keep(self, flow: Flow, anchor: Node, label: str, fixes: Iterable[Fix] = ()) -> None:
        """Keep a sink whose flow starts beyond the file for the project phase, with the finding's anchor,
        label and fixes."""
        origin = self.origin(flow)
        if origin is not None:
            self._sinks.append(SinkRecord(self._span(anchor), label, origin, tuple(fixes)))

    def origin(self, flow: Flow) -> Origin | None:
        """`flow` as plain data, or None when part of it cannot be told to another file (a schema of this
        file still waiting for the field that is read)."""
        if flow.schema is not None and not isinstance(flow.schema, SchemaCheck):
            return None
        steps = tuple(FlowStep(self._span(step.node), step.note) for step in flow.steps)
        checks = tuple(SchemaRef(c.module, c.name, c.field, c.path, c.guard) for c in flow.checks)
        value = flow.input
        if isinstance(flow.schema, SchemaCheck):  # a bag checked by an imported schema: the field read next
            checks += (SchemaRef(flow.schema.module, flow.schema.name, "", flow.schema.path),)
            if value is not None:
                value = Input(PARAMS, value.origin)
        symbol = flow.symbol
        if symbol is None:
            handler = function_key(flow.handler) if flow.handler is not None else None
            return Origin(input=value, checks=checks, steps=steps, handler=handler)
        if symbol.kind == "param":
            key = function_key(symbol.function) if symbol.function is not None else None
            if key is None:
                return None
            return Origin(param=(key, symbol.index), path=symbol.path, checks=checks, steps=steps)
        arguments = []
        for index, argument in enumerate(symbol.arguments):
            origin = self.origin(argument) if argument is not None else None
            if origin is not None and origin.call is None:
                arguments.append((index, origin))
        if not arguments:
            return None
        return Origin(call=symbol.callee, arguments=tuple(arguments), path=symbol.path, checks=checks, steps=steps)

    def summary(self, instance: str = "") -> FlowSummary:
        """What every run keeps of the file: its sinks whose values come from beyond it. What a file passes to
        other functions and what they return is asked for on demand (`call_edges`, `returns`), by the project
        phase, of the few files on a path to a sink."""
        return FlowSummary(spec=self.spec.name, sinks=list(self._sinks), instance=instance)
    # calls into other modules ----------------------------------------------------------------------------

    def call_edges(self, wanted: Callable[[Callee], bool], names: frozenset[str] | None = None) -> list[CallEdge]:
        """The values this file passes in calls whose callee `wanted` accepts: client values, and parameters
        of the calling function. With `names`, `wanted` accepts only callees that name one of them (`may_name`):
        the file is searched for those calls alone (`calls_naming`)."""
        return list(self._call_edges(wanted, names))

    def _call_edges(self, wanted: Callable[[Callee], bool], names: frozenset[str] | None) -> Iterator[CallEdge]:
        count = 0
        for call, target in self.calls_naming(names):
            if not wanted(target):
                continue
            caller = enclosing_function(call)
            caller_key = function_key(caller) if caller is not None else None
            note = f"passed to `{_short(text(callee(call)))}()`"
            for index, argument in enumerate(arguments_of(call)):
                for key, value, overridden in _argument_parts(argument):
                    edge = self._edge(caller_key, target, index, key, value, note, overridden)
                    if edge is not None:
                        count += 1
                        yield edge
                        if count >= _MAX_EDGES:
                            return

    def _edge(self, caller_key, target, index: int, key: str | None, value: Node, note: str, overridden: frozenset[str]) -> CallEdge | None:
        if not _may_carry(value) or not self._names_a_local(value):
            return None
        flow = self.tracer.trace(value)
        if flow is None or (flow.symbol is not None and flow.symbol.kind != "param"):
            return None
        origin = self.origin(flow)
        if origin is None:
            return None
        return CallEdge(caller_key, target, index, key, origin, FlowStep(self._span(value), note), overridden)

    def calls_out(self) -> list[tuple[Node, Callee]]:
        """The file's calls of functions other modules also reach, with what each names: the call graph's
        edges out of this file (see `_calls_out`)."""
        return self.file.lasting(("flow.calls-out",), self._calls_out)

    def calls_naming(self, names: frozenset[str] | None) -> list[tuple[Node, Callee]]:
        """The calls of `calls_out` whose callee names one of `names` (`may_name`; None: every call)."""
        if names is None:
            return self.calls_out()
        every = self.file.lasting_kept(("flow.calls-out",))
        if every is not None:  # found already (another check follows every call): filtered, not searched again
            return [(call, target) for call, target in every if may_name(target, names)]
        return self.file.lasting(("flow.calls-naming", names), lambda: self._find_calls_out(names))

    def _calls_out(self) -> list[tuple[Node, Callee]]:
        """The calls that may hand a value to a function other modules also reach: of an imported name
        (`list()`, `svc.list()`), of a member of `this` (an injected service), or of a top-level function of
        this module (`Callee` with no module: the chain may come back here from another file)."""
        if self._calls is None:
            self._calls = self._find_calls_out()
        return self._calls

    def _find_calls_out(self, names: frozenset[str] | None = None) -> list[tuple[Node, Callee]]:
        """`_calls_out`, or with `names` the calls whose callee names one of them (`may_name`): then only the
        places where such a call may start are looked up in the tree (`_CallSites`)."""
        source, root = self.file.source, self.file.root
        calls: dict[int, tuple[Node, Callee]] = {}
        local_functions = self._local_functions()
        sites = _CallSites(source, names, self.file) if names is not None and not root.has_error else None
        imported = {binding.local: self._leaves(binding.local, sites) for binding in self.file.import_bindings}
        instances = self._instances_of(imported)
        words = set(imported) | set(local_functions) | instances
        for word in sorted(words):
            end = len(word.encode())
            for at, leaf in imported[word] if word in imported else self._leaves(word, sites, word in instances):
                if leaf is None or leaf.type != "identifier" or leaf.end_byte != at + end:
                    continue
                call = _call_of_chain(leaf)
                if call is None or call.id in calls:
                    continue
                if word in local_functions and callee(call) == leaf:
                    if function_declared_as(leaf) == local_functions[word]:
                        calls[call.id] = (call, Callee("", word))
                    continue
                target = callee_of(callee(call), self.file)
                if target is not None:
                    calls[call.id] = (call, target)
        for at in _occurrences(source, _THIS, word_end=False):
            leaf = root.descendant_for_byte_range(at, at + 4)
            call = _call_of_chain(leaf) if leaf is not None and leaf.type == "this" else None
            target = callee_of(callee(call), self.file) if call is not None else None
            if target is not None:
                calls[call.id] = (call, target)
        found = [calls[key] for key in sorted(calls, key=lambda k: calls[k][0].start_byte)]
        return found if names is None else [(call, target) for call, target in found if may_name(target, names)]

    def _leaves(self, word: str, sites: "_CallSites | None" = None, instance: bool = False) -> list[tuple[int, Node | None]]:
        """Where `word` occurs in the file as a whole word (not after a `.`), with the node there; with `sites`,
        only where a call `sites` looks for, or a `new`, may start (elsewhere the node is None). `instance`: the
        word is a local name holding an instance of an imported class (`_instances_of`)."""
        encoded, root = word.encode(), self.file.root
        keep = sites.keeper(word, instance) if sites is not None else None
        return [
            (at, root.descendant_for_byte_range(at, at + len(encoded)) if keep is None or keep(at, at + len(encoded)) else None)
            for at in _occurrences(self.file.source, encoded)
        ]

    def _instances_of(self, classes: dict[str, list[tuple[int, Node | None]]]) -> set[str]:
        """Local names holding an instance of an imported class (`const presenter = new ListPresenter()`), from
        where each class name occurs (`_leaves`)."""
        names = set()
        for occurrences in classes.values():
            for _, leaf in occurrences:
                created = leaf.parent if leaf is not None else None
                holder = created.parent if created is not None and created.type == "new_expression" else None
                if holder is not None and holder.type == "variable_declarator":
                    name = holder.child_by_field_name("name")
                    if name is not None and name.type == "identifier":
                        names.add(text(name))
        return names

    def _local_functions(self) -> dict[str, Node]:
        """Top-level functions of this module that other modules reach, by name."""
        found = {}
        for fn in _top_level_functions(self.file.root):
            key = function_key(fn)
            if key is not None and "." not in key and not key.startswith("<"):
                found[key] = fn
        return found

    def _names_a_local(self, value: Node) -> bool:
        """Whether `value` mentions a parameter or a local variable of a function around it: a value made of
        module-level names and globals alone is the same on every request, so it is not followed."""
        names = {text(node) for node in _identifiers(value)}
        if not names:
            return False
        function = enclosing_function(value)
        while function is not None:
            if names & self._locals_of(function):
                return True
            function = enclosing_function(function)
        return False

    def _locals_of(self, function: Node) -> frozenset[str]:
        return self.file.memo(("flow.locals", function.id), lambda: _declared_names(function))

    # what exported functions return ----------------------------------------------------------------------

    def returns(self, function: str) -> list[ReturnRecord]:
        """What the function with key `function` returns of its parameters (or of the client)."""
        return list(self._returns(function))

    def _returns(self, wanted: str) -> Iterator[ReturnRecord]:
        for fn in _top_level_functions(self.file.root):
            key = function_key(fn)
            if key != wanted:
                continue
            if not _parameter_names(fn):
                continue
            for returned in returned_values(fn):
                returned = unwrap(returned)
                if returned is not None and returned.type == "await_expression" and returned.named_children:
                    returned = unwrap(returned.named_children[0])
                for field_name, value, overridden in _argument_parts(returned) if returned is not None else ():
                    if not _may_carry(value) or not self._names_a_local(value):
                        continue
                    flow = self.tracer.trace(value)
                    if flow is None or (flow.symbol is not None and flow.symbol.kind != "param"):
                        continue
                    origin = self.origin(flow)
                    if origin is not None:
                        yield ReturnRecord(key, field_name, origin, overridden)

    def _span(self, node: Node):
        return self.file.lines.span(node.start_byte, node.end_byte)


# What may follow a name in a member chain before the call's arguments: spaces, `.`, `?.`, `!`, and names.
_CHAIN = lazy_re.compile(rb"[\s.?!\w$#\x80-\xff]*")


class _CallSites:
    """Where in a file (with no syntax error) a call whose callee names one of `names` (`may_name`) may start:
    at a name whose chain of members before the arguments writes one of them, or at any use of an imported
    name or local function that is itself one. A comment, type arguments or a template after the chain keep
    the place (they may hide the call's own shape); a `new` before a name keeps it for `_instances_of`."""

    def __init__(self, source: bytes, names: frozenset[str], file: "FileContext") -> None:
        self.source = source
        self.words = [name.encode() for name in names]
        self.names = names
        # A class named as a callee's imported name: its instances are followed whatever their members.
        self.any_instance = any(binding.imported in names for binding in file.import_bindings)
        self.file = file

    def keeper(self, word: str, instance: bool) -> Callable[[int, int], bool] | None:
        """The test of the places of `word` (an imported name, a local function or, with `instance`, a local
        instance), or None when every place counts."""
        binding = self.file.binding(word)
        if word in self.names or (binding is not None and binding.imported in self.names):
            return None
        if instance and binding is None and self.any_instance:
            return None  # an instance of a class whose name is wanted: a call of any of its members may be
        return self._may_start

    def _may_start(self, start: int, end: int) -> bool:
        return self._after_new(start) or self._chain_names(end)

    def _chain_names(self, end: int) -> bool:
        source = self.source
        chain_end = _CHAIN.match(source, end).end()
        following = source[chain_end : chain_end + 1]
        if following in (b"<", b"/", b"`"):
            return True
        chain = source[end:chain_end]
        return following == b"(" and any(word in chain for word in self.words)

    def _after_new(self, start: int) -> bool:
        before = self.source[max(0, start - 64) : start].rstrip()
        return before.endswith((b"new", b"/")) or (bool(before) and before[-1] >= 0x80)


def _identifiers(value: Node, limit: int = 64) -> Iterator[Node]:
    """The identifiers an expression reads (not inside functions it holds), at most `limit` nodes visited."""
    stack = [value]
    seen = 0
    while stack and seen < limit:
        node = stack.pop()
        seen += 1
        if node.type in ("identifier", "shorthand_property_identifier"):
            yield node
        elif node.type not in FUNCTION_TYPES:
            stack.extend(node.named_children)


def _parameter_names(function: Node) -> list[str]:
    params = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if params is None:
        return []
    return [text(node) for node in _pattern_names(params)]


def _declared_names(function: Node) -> frozenset[str]:
    """The names a function declares for itself: parameters and variables of its body (not of nested functions)."""
    names = set(_parameter_names(function))
    body = function.child_by_field_name("body")
    stack = [body] if body is not None else []
    while stack:
        node = stack.pop()
        if node.type == "variable_declarator":
            pattern = node.child_by_field_name("name")
            if pattern is not None:
                names.update(text(n) for n in _pattern_names(pattern))
        if node.type not in FUNCTION_TYPES:
            stack.extend(node.named_children)
    return frozenset(names)


def _pattern_names(pattern: Node) -> Iterator[Node]:
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            yield node
        elif node.type not in ("type_annotation", "decorator") and node.type not in FUNCTION_TYPES:
            if node.type in ("pair_pattern", "object_assignment_pattern", "assignment_pattern", "required_parameter", "optional_parameter"):
                value = node.child_by_field_name("value") if node.type == "pair_pattern" else None
                left = node.child_by_field_name("left") or node.child_by_field_name("pattern")
                stack.extend(n for n in (value, left) if n is not None)
                if value is None and left is None:
                    stack.extend(node.named_children)
            else:
                stack.extend(node.named_children)


def _short(source: str) -> str:
    return source if len(source) <= 40 else source[:37] + "..."


def _argument_parts(argument: Node) -> list[tuple[str | None, Node, frozenset[str]]]:
    """An argument as (property, value, keys overridden) triples: each entry of an object literal, each spread
    as the whole value with the keys the literal writes after it (they replace what the spread brings), or the
    argument itself."""
    node = unwrap(argument)
    if node is None:
        return []
    if node.type != "object":
        return [(None, node, frozenset())]
    parts: list[tuple[str | None, Node, frozenset[str]]] = [(key, value, frozenset()) for key, value in object_keys(node).items()]
    written_after: set[str] = set()
    for child in reversed(node.named_children):
        if child.type == "spread_element" and child.named_children:
            parts.append((None, child.named_children[0], frozenset(written_after)))
        elif child.type == "pair":
            written_after.add(key_text(child.child_by_field_name("key")))
        elif child.type == "shorthand_property_identifier":
            written_after.add(text(child))
    return parts


def _may_carry(value: Node) -> bool:
    """Whether a value can hold a client value at all: not a literal, a function or a JSX element."""
    return value.type not in (
        "string", "number", "true", "false", "null", "undefined", "regex", "jsx_element", "jsx_self_closing_element",
        "arrow_function", "function_expression", "function", "class", "array", "object",
    )  # fmt: skip


def _occurrences(source: bytes, word: bytes, word_end: bool = True) -> Iterator[int]:
    at = source.find(word)
    while at != -1:
        before = source[at - 1 : at] if at else b""
        after = source[at + len(word) : at + len(word) + 1]
        if not (before.isalnum() or before in (b"_", b"$", b".")) and (not word_end or not (after.isalnum() or after in (b"_", b"$"))):
            yield at
        at = source.find(word, at + 1)


def _call_of_chain(leaf: Node) -> Node | None:
    """The call whose function is the member chain starting at `leaf` (`svc.list(…)`, `this.svc.list(…)`)."""
    node = leaf
    while node.parent is not None and node.parent.type in ("member_expression", "non_null_expression") and node.parent.child_by_field_name("object") in (node, None):
        node = node.parent
    parent = node.parent
    if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == node:
        return parent
    return None


def function_with_key(file: "FileContext", key: str) -> Node | None:
    """The function other modules reach by `key` (`function_key`) in `file`, or None."""
    return next((fn for fn in _top_level_functions(file.root) if function_key(fn) == key), None)


def _top_level_functions(root: Node) -> Iterator[Node]:
    """The functions other modules may reach: declared at the top level, held by a top-level binding or an
    export (through wrapper calls), methods of top-level classes and object literals."""
    for statement in root.named_children:
        if statement.type == "export_statement":
            node = statement.child_by_field_name("declaration") or statement.child_by_field_name("value")
        else:
            node = statement
        if node is None:
            continue
        yield from _functions_in(node, 0)


def _functions_in(node: Node, depth: int) -> Iterator[Node]:
    if depth > 4:
        return
    node = unwrap(node)
    if node is None:
        return
    kind = node.type
    if kind in FUNCTION_TYPES:
        yield node
        return
    if kind in ("class_declaration", "abstract_class_declaration", "class"):
        body = node.child_by_field_name("body")
        for member in body.named_children if body is not None else ():
            if member.type == "method_definition":
                yield member
        return
    if kind == "object":
        for entry in node.named_children:
            if entry.type == "method_definition":
                yield entry
            elif entry.type == "pair":
                yield from _functions_in(entry.child_by_field_name("value"), depth + 1)
        return
    if kind in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            if declarator.type == "variable_declarator":
                yield from _functions_in(declarator.child_by_field_name("value"), depth + 1)
        return
    if kind == "expression_statement" and node.named_children:
        yield from _functions_in(node.named_children[0], depth + 1)
        return
    if kind == "assignment_expression":
        yield from _functions_in(node.child_by_field_name("right"), depth + 1)
        return
    if kind == "call_expression":  # `withAuth(async (req) => …)`
        for argument in arguments_of(node):
            if unwrap(argument) is not None and unwrap(argument).type in FUNCTION_TYPES:
                yield unwrap(argument)
