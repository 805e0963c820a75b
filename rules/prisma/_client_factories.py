"""The callers of a Prisma client factory, in every module: does `createClient()` run per request?

A factory (`_client_sites.FactoryClient`) makes a new client on every call. Whether that is a problem depends
on its callers, which may sit in any module: the module graph (`linter.flow.modules`) gives the files that
import the factory's module (through barrels too) and resolves each call there to a file and local key.
Each call that names the factory is judged where it stands (`linter.js.invocation`):

- per request (an Express handler or middleware, a Next.js route handler, API route or server action, a
  NestJS route): a new pool per request, reported at the factory;
- once (module level, behind a `globalThis` cache, a lazy accessor or a memoizer, a plugin hook): the client
  of the calling module, which the package check counts like any module-level client;
- on every call of another function other modules can reach (`getRepository()` calling `createClient()`):
  that function is a factory too, followed the same way up to `MAX_HOPS` calls;
- in a callback handed to a function of the project (`choose(url, { makeWriter: (u) => createClient(u) })`,
  the callee found through the module graph) that calls it in its own body: the callback runs while that
  call runs, so the call is judged in its place (once inside a named singleton, per request in a handler).
  A callee that keeps the callback for later, or one outside the project, leaves it unknown;
- anything else (a constructor, any other callback): unknown.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Callable

from linter.context import FileContext
from linter.flow.callees import Callee, callee_of
from linter.flow.file_flow import top_level_value
from linter.flow.modules import module_graph
from linter.js.expressions import key_text, member_chain, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.invocation import Invocation, invocation
from linter.lazy_dataclasses import dataclass
from linter.model import Location
from linter.syntax import Node, descendants_of_types, text

from ._client_sites import ModuleClient, factory_keys, function_label, module_client, request_phrase

if TYPE_CHECKING:
    from linter.project import ProjectIndex

MAX_HOPS = 3  # functions followed from a factory to the code that calls it per request


@dataclass(frozen=True)
class Hop:
    """A call on the way from the code that runs per request to the factory."""

    location: Location
    callee: str  # the function called there, `createClient`


@dataclass(frozen=True)
class RequestCall:
    """A call that runs once per request, and the calls it goes through to the factory (outermost first)."""

    location: Location
    phrase: str  # "on every request to this Next.js route handler"
    callee: str
    through: tuple[Hop, ...] = ()


@dataclass(frozen=True)
class OnceCall:
    """A call of the factory that runs once per module load, in the module that makes it."""

    location: Location
    client: ModuleClient


@dataclass
class FactoryUses:
    per_request: list[RequestCall] = field(default_factory=list)
    once: list[OnceCall] = field(default_factory=list)  # in the modules that call the factory itself
    once_through: int = 0  # calls that run once, of functions that call the factory
    one_shot: int = 0  # calls in tests and one-shot scripts, which are not the server's
    unknown: bool = False  # a call whose frequency is not known, or no call found at all


class FactoryCallers:
    """Finds the callers of factories across modules; `skip(path)` leaves out tests and one-shot scripts."""

    def __init__(self, project: "ProjectIndex", skip: Callable[[str], bool]) -> None:
        self.project = project
        self.graph = module_graph(project)
        self.skip = skip

    def uses(self, path: str, keys: tuple[str, ...], name: str, poolless: str) -> FactoryUses:
        found = FactoryUses()
        self._follow(path, keys, name, poolless, (), {(path, k) for k in keys}, found)
        if not (found.per_request or found.once or found.once_through or found.one_shot):
            found.unknown = True
        return found

    def _follow(self, path, keys, name, poolless, through: tuple[Hop, ...], seen: set, found: FactoryUses) -> None:
        wanted = set(keys)
        for caller in self.graph.may_call(path, keys):
            file = self.graph.file(caller)
            if file is None:
                continue
            calls = self._calls_of(file, path, wanted)
            if self.skip(caller):
                found.one_shot += len(calls)
                continue
            for call in calls:
                location = file.location(call)
                run = self._invocation(call, file)
                phrase = request_phrase(run, file)
                if phrase is not None:
                    found.per_request.append(RequestCall(location, phrase, name, through))
                elif run.runs in ("once", "lazy", "setup"):
                    if through:
                        found.once_through += 1
                    else:
                        found.once.append(OnceCall(location, module_client(call, run, file, poolless)))
                elif run.kind == "function" and run.function is not None and len(through) < MAX_HOPS:
                    # A function that passes a new client on: followed to its own callers.
                    outer = run.function
                    keys_of_outer = factory_keys(outer, file)
                    fresh = tuple(k for k in keys_of_outer if (caller, k) not in seen)
                    if not fresh:
                        found.unknown = found.unknown or not keys_of_outer  # no key: callers unknown; else a cycle
                        continue
                    seen.update((caller, k) for k in fresh)
                    hops = (Hop(location, name), *through)
                    self._follow(caller, fresh, function_label(outer), poolless, hops, seen, found)
                else:
                    found.unknown = True

    def _invocation(self, node: Node, file: FileContext) -> Invocation:
        """How often `node` runs; in a callback that a function of the project runs while it is called, how
        often that call runs (through up to `MAX_HOPS` callbacks)."""
        run = invocation(node, file.path, file.root)
        for _ in range(MAX_HOPS):
            if run.runs != "per-call" or run.kind != "function" or run.function is None:
                break
            handing = self._call_running(run.function, file)
            if handing is None:
                break
            run = invocation(handing, file.path, file.root)
        return run

    def _call_running(self, callback: Node, file: FileContext) -> Node | None:
        """The call that runs `callback` before it returns: `callback` is an argument of it, or the value of a
        property of an object literal argument, and the function called, a function of the project, calls
        that parameter (or that property of it) in its own body. None otherwise."""
        node, prop = callback, None
        parent = callback.parent
        if callback.type == "method_definition":  # `{ makeWriter(url) { … } }`
            prop, node = key_text(callback.child_by_field_name("name")), parent
        elif callback.type not in ("arrow_function", "function_expression", "function"):
            return None
        elif parent is not None and parent.type == "pair" and parent.child_by_field_name("value") == callback:
            prop = key_text(parent.child_by_field_name("key"))
            node = parent.parent  # the object literal
        if prop is not None and (node is None or node.type != "object" or not prop):
            return None
        argument = node.parent
        if argument is None or argument.type != "arguments":
            return None
        position = _position(argument, node)
        call = argument.parent
        if call is None or call.type != "call_expression" or position is None:
            return None
        receiver = self._function_called(call, file)
        if receiver is None:
            return None
        return call if _calls_parameter(receiver, position, prop) else None

    def _function_called(self, call: Node, file: FileContext) -> Node | None:
        """The function a call runs when it is a top-level function of a module of the project."""
        function = unwrap(call.child_by_field_name("function"))
        callee = callee_of(function, file)
        if callee is not None:
            target = self.graph.resolve(file.path, callee)
            if target is None or "." in target[1]:
                return None
            module = self.graph.file(target[0])
            value = top_level_value(module, target[1]) if module is not None else None
        elif function is not None and function.type == "identifier" and file.binding(text(function)) is None:
            value = top_level_value(file, text(function))
        else:
            return None
        value = unwrap(value) if value is not None else None
        return value if value is not None and value.type in FUNCTION_TYPES else None

    def _calls_of(self, file: FileContext, path: str, wanted: set[str]) -> list[Node]:
        """The calls in `file` of the functions `wanted` (local keys) of the module at `path`."""
        calls = []
        for call, callee in _callees(file):
            if callee.module:
                target = self.graph.resolve(file.path, callee, leading_to=path)
            elif file.path == path:
                target = (path, ".".join((callee.name, *callee.members)))
            else:
                continue
            if target is not None and target[0] == path and target[1] in wanted:
                calls.append(call)
        return calls


def _callees(file: FileContext) -> list[tuple[Node, Callee]]:
    """Every call of the file with what it names: an import (`Callee` with its module), or a function of the
    file itself (module "")."""

    def collect() -> list[tuple[Node, Callee]]:
        found = []
        for call in descendants_of_types(file.root, ("call_expression",)):
            function = unwrap(call.child_by_field_name("function"))
            callee = callee_of(function, file)
            if callee is None:
                root, members = member_chain(function)
                if root is None or root.type != "identifier" or file.binding(text(root)) is not None:
                    continue
                callee = Callee("", text(root), tuple(members))
            found.append((call, callee))
        return found

    return file.memo("prisma.factory-callees", collect)


def _position(arguments: Node, argument: Node) -> int | None:
    """The index of `argument` among the arguments of a call; None after a spread."""
    for index, child in enumerate(arguments.named_children):
        if child.type == "spread_element":
            return None
        if child == argument:
            return index
    return None


def _parameter(fn: Node, position: int) -> Node | None:
    """The pattern of the parameter at `position` (an identifier or an object pattern)."""
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return None
    if params.type == "identifier":
        return params if position == 0 else None
    named = [p for p in params.named_children if p.type != "comment"]
    if position >= len(named):
        return None
    param = named[position]
    if param.type in ("required_parameter", "optional_parameter"):
        param = param.child_by_field_name("pattern") or param
    if param.type == "assignment_pattern":
        param = param.child_by_field_name("left") or param
    return param


def _calls_parameter(fn: Node, position: int, prop: str | None) -> bool:
    """True when `fn` calls, in its own body (not in a function nested in it), the parameter at `position`:
    `open(url)`, or with `prop`, `makers.makeWriter(url)` or `makeWriter(url)` destructured in the
    parameter list."""
    param = _parameter(fn, position)
    if param is None:
        return False
    wanted: set[tuple[str, ...]] = set()
    if param.type == "identifier":
        wanted.add((text(param), prop) if prop else (text(param),))
    elif param.type == "object_pattern" and prop:
        for entry in param.named_children:
            if entry.type == "shorthand_property_identifier_pattern" and text(entry) == prop:
                wanted.add((prop,))
            elif entry.type == "pair_pattern" and key_text(entry.child_by_field_name("key")) == prop:
                value = entry.child_by_field_name("value")
                if value is not None and value.type == "identifier":
                    wanted.add((text(value),))
    if not wanted:
        return False
    for call in descendants_of_types(fn, ("call_expression",)):
        if enclosing_function(call) != fn:
            continue
        root, members = member_chain(unwrap(call.child_by_field_name("function")))
        if root is not None and root.type == "identifier" and (text(root), *members) in wanted:
            return True
    return False
