"""From a call to the endpoints that run it, over the flow engine's call graph.

`EndpointReach(project).paths(path, node)` climbs from `node` through the functions around it. A function that
is a handler where it stands (`_endpoints.endpoint_here`) ends the climb; one that other code registers by
reference (`router.post('/chat', chat.create)`, in any module) is an endpoint there; otherwise the climb goes
on at its callers, in its own module and in the modules that import it (the call edges of
`linter.flow.file_flow.FileFlow.calls_out`, resolved by `linter.flow.modules`; a module is parsed only when its
bytes may hold such a call or registration, `_name_sites`), up to `MAX_HOPS` calls. A
call at module level runs once, not per request: no endpoint. Each path says whether a function on the way
checks a rate limit itself (`_limit_evidence.limits_itself`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from linter.flow.callees import may_name
from linter.flow.file_flow import file_flow
from linter.flow.modules import module_graph
from linter.flow.spec import RequestValueSpec
from linter.js.exports import function_key
from linter.js.expressions import callee, member_object, property_name
from linter.js.functions import enclosing_function
from linter.lazy_dataclasses import dataclass
from linter.model import Location
from linter.syntax import Node, descendants_of_types

from ._endpoints import Endpoint, endpoint_here, registrations_of
from ._limit_evidence import limits_itself
from ._name_sites import call_sites, reference_sites

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

    from ._name_sites import SiteTest

MAX_HOPS = 5  # calls climbed from the expensive call to the handler
MAX_PATHS = 1_000  # endpoint paths kept per function (a mail helper may have hundreds of callers)
MAX_FUNCTIONS = 1_000  # functions whose callers are looked for, per run: a bound for pathological projects
_CALL_GRAPH = RequestValueSpec()


@dataclass(frozen=True)
class EndpointPath:
    endpoint: Endpoint
    hops: tuple[Location, ...]  # the calls on the way, from the handler's side to the expensive call's
    limited: bool  # a function on the way checks a rate limit


class EndpointReach:
    """The climb, with what is found above each function kept for the run: expensive calls funnel through a
    few helpers (`sendEmail`, a model wrapper), whose callers are then read once."""

    def __init__(self, project: "ProjectIndex") -> None:
        self.graph = module_graph(project)
        self._callers: dict[tuple[str, str], list[tuple[str, Node]]] = {}
        # (path, key) -> (the calls that were left to climb, the paths found above the function)
        self._above: dict[tuple[str, str], tuple[int, list[EndpointPath]]] = {}

    def paths(self, path: str, node: Node) -> list[EndpointPath]:
        return self._climb(path, node, 0)

    def _climb(self, path: str, node: Node, depth: int) -> list[EndpointPath]:
        """The endpoints above `node`: its own functions first, then the callers of the first one other code
        can call."""
        file = self.graph.file(path)
        if file is None:
            return []
        limited = False
        fn = enclosing_function(node)
        while fn is not None:
            limited = limited or limits_itself(fn, file)
            endpoint = endpoint_here(fn, file)
            if endpoint is not None:
                return [EndpointPath(endpoint, (), limited)]
            key = function_key(fn)
            if key is not None:
                return [EndpointPath(p.endpoint, p.hops, p.limited or limited) for p in self._above_function(path, key, depth)]
            fn = enclosing_function(fn)
        return []  # module level: runs once

    def _above_function(self, path: str, key: str, depth: int) -> list[EndpointPath]:
        hops_left = MAX_HOPS - depth
        known = self._above.get((path, key))
        if known is not None and known[0] >= hops_left:
            return known[1]
        self._above[(path, key)] = (hops_left, [])  # a recursive call finds nothing more
        # `ModuleGraph.may_call`, with a closer look at the words it tests for (`_name_sites`)
        words = self.graph.call_words(path, key)
        modules = sorted(self.graph.importers(path) | {path})
        registrations = registrations_of(self.graph, path, key, modules, reference_sites(words))
        found = [EndpointPath(endpoint, (), False) for _, endpoint in registrations]
        if hops_left > 0 and len(self._above) <= MAX_FUNCTIONS:
            for caller_path, call in self._callers_of(path, key, modules, call_sites(words)):
                caller = self.graph.file(caller_path)
                hop = caller.location(call, f"calls `{key}`")
                found.extend(EndpointPath(p.endpoint, (*p.hops, hop), p.limited) for p in self._climb(caller_path, call, depth + 1))
                if len(found) >= MAX_PATHS:
                    break
        self._above[(path, key)] = (hops_left, found[:MAX_PATHS])
        return self._above[(path, key)][1]

    def _callers_of(self, path: str, key: str, modules: list[str], may_call: "SiteTest") -> list[tuple[str, Node]]:
        """The calls of function `key` of `path`, in `path` and the other `modules` whose bytes pass `may_call`."""
        if (path, key) not in self._callers:
            names = self.graph.call_names(path, key)
            found = []
            for caller in modules:
                if caller != path and not may_call(self.graph.source(caller)):
                    continue
                file = self.graph.file(caller)
                if file is None:
                    continue
                found.extend((caller, call) for call in self._calls_into(caller, file, path, key, names))
                if caller == path:
                    found.extend((caller, call) for call in _this_calls(file, key))
            self._callers[(path, key)] = found
        return self._callers[(path, key)]

    def _calls_into(self, caller: str, file: "FileContext", path: str, key: str, names: frozenset[str] | None) -> list[Node]:
        """The calls of `caller` whose callee resolves to the function `key` of `path`. Only a callee that names
        one of `names` (`ModuleGraph.call_names`) can: no other is resolved, and no module is read for it."""
        found = []
        for call, target in file_flow(file, _CALL_GRAPH).calls_out():
            if may_name(target, names) and self.graph.resolve(caller, target, leading_to=path) == (path, key):
                found.append(call)
        return found


def _this_calls(file: "FileContext", key: str) -> Iterator[Node]:
    """`this.method()` in the class of method `key` (`Class.method`): calls the call graph leaves to the class."""
    owner, dot, method = key.partition(".")
    if not dot or "." in method:
        return
    for call, called, around_key in file.lasting("ratelimit.this-calls", lambda: list(_calls_on_this(file))):
        if called == method and around_key is not None and around_key.partition(".")[0] == owner:
            yield call


def _calls_on_this(file: "FileContext") -> Iterator[tuple[Node, str, str | None]]:
    """Each `this.method()` call of the file, with the method called and the key of the method around it."""
    for call in descendants_of_types(file.root, ("call_expression",)):
        function = callee(call)
        if function is None or function.type != "member_expression":
            continue
        receiver = member_object(function)
        if receiver is None or receiver.type != "this":
            continue
        around = enclosing_function(call)
        while around is not None and around.type != "method_definition":
            around = enclosing_function(around)
        yield call, property_name(function), function_key(around) if around is not None else None


def reach_of(project: "ProjectIndex") -> EndpointReach:
    return project.memo("ratelimit.endpoint-reach", lambda: EndpointReach(project))
