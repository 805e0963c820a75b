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
- anything else (a constructor, a callback): unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from linter.context import FileContext
from linter.flow.callees import Callee, callee_of
from linter.flow.modules import module_graph
from linter.js.expressions import member_chain, unwrap
from linter.js.invocation import invocation
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
        for caller in sorted(self.graph.importers(path) | {path}):
            file = self.graph.file(caller)
            if file is None:
                continue
            calls = self._calls_of(file, path, wanted)
            if self.skip(caller):
                found.one_shot += len(calls)
                continue
            for call in calls:
                location = file.location(call)
                run = invocation(call, caller, file.root)
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
