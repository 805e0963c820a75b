"""Outbound HTTP calls and the options that give them a deadline.

`outbound_call(call, file)` says what an HTTP client call is (`Outbound`): an axios request (`axios.get(url)`,
`axios(config)`, `axios.request(config)`), an axios or got instance being created (`axios.create(options)`,
`got.extend(options)`: the requests made with it inherit its options), a got request, a `fetch` (the global one,
node-fetch, undici's, cross-fetch) or an undici `request`. Calls made through an instance are not requests of
their own here: the instance's creation is where its timeout goes.

`deadline(outbound, file)` reads the options argument: "set" when it has a key that bounds the wait (`timeout`,
`signal`, undici's `headersTimeout`…), "absent" when the options are missing or are a literal without one, and
"unknown" when the code does not show them (a variable, a spread, a helper's result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, unwrap
from linter.js.object_literals import entry, options_object
from linter.js.references import resolve_imported
from linter.js.static_values import const_initializer
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.context import FileContext

AXIOS, AXIOS_INSTANCE, GOT, GOT_INSTANCE, FETCH, NODE_FETCH, UNDICI = (
    "axios", "axios-instance", "got", "got-instance", "fetch", "node-fetch", "undici",
)  # fmt: skip
# Where each axios method takes its config (`axios.post(url, data, config)`).
_AXIOS_CONFIG_AT = {
    "get": 1, "delete": 1, "head": 1, "options": 1,
    "post": 2, "put": 2, "patch": 2, "postForm": 2, "putForm": 2, "patchForm": 2,
    "request": 0,
}  # fmt: skip
_GOT_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "stream"})
_FETCH_MODULES = frozenset({"node-fetch", "cross-fetch", "isomorphic-fetch", "node-fetch-native", "@whatwg-node/fetch"})
_DEADLINE_KEYS = {
    AXIOS: ("timeout", "signal", "cancelToken"),
    AXIOS_INSTANCE: ("timeout", "signal"),
    GOT: ("timeout", "signal"),
    GOT_INSTANCE: ("timeout", "signal"),
    FETCH: ("signal", "dispatcher"),  # an undici dispatcher may set its own timeouts
    NODE_FETCH: ("signal", "timeout", "agent"),  # node-fetch 2 has its own `timeout`
    UNDICI: ("headersTimeout", "bodyTimeout", "signal", "dispatcher"),
}
SET, ABSENT, UNKNOWN = "set", "absent", "unknown"


@dataclass(frozen=True)
class Outbound:
    client: str  # one of the kinds above
    call: Node
    position: int  # where the options argument is, or goes
    url: Node | None  # the URL argument, when the call takes one first


def outbound_call(call: Node, file: "FileContext") -> Outbound | None:
    """What HTTP client call `call` is, or None when it is none of those this rule knows."""
    function = callee(call)
    if function is None:
        return None
    arguments = arguments_of(call)
    first = arguments[0] if arguments else None
    if function.type == "identifier" and text(function) == "fetch" and file.binding("fetch") is None:
        return Outbound(FETCH, call, 1, first) if declaration_of(function) is None else None
    imported = resolve_imported(function, file)
    if imported is None:
        return None
    module, path = imported.module, imported.path
    if module == "axios":
        if path == ():
            at = 1 if _is_url(first) else 0
            return Outbound(AXIOS, call, at, first if at == 1 else None)
        if len(path) == 1 and path[0] in _AXIOS_CONFIG_AT:
            at = _AXIOS_CONFIG_AT[path[0]]
            return Outbound(AXIOS, call, at, first if at else None)
        if path == ("create",):
            return Outbound(AXIOS_INSTANCE, call, 0, None)
        return None
    if module == "got":
        if path == () or (len(path) == 1 and path[0] in _GOT_METHODS):
            at = 1 if _is_url(first) else 0
            return Outbound(GOT, call, at, first if at == 1 else None)
        return Outbound(GOT_INSTANCE, call, 0, None) if path == ("extend",) else None
    if module in _FETCH_MODULES and path in ((), ("fetch",)):
        return Outbound(NODE_FETCH if module == "node-fetch" else FETCH, call, 1, first)
    if module == "undici":
        if path == ("fetch",):
            return Outbound(FETCH, call, 1, first)
        if path == ("request",):
            return Outbound(UNDICI, call, 1, first)
    return None


def _is_url(first: Node | None) -> bool:
    """`axios(first)`, `got(first)`: whether `first` is the URL rather than the request's config. A name the
    code does not show as a string (`axios(config)`, `axios(requestConfig)`) is taken as a config, whose
    options are then unknown."""
    node = unwrap(first)
    if node is not None and node.type == "identifier":
        node = unwrap(const_initializer(node))
    if node is None:
        return False
    if node.type in ("string", "template_string", "binary_expression"):
        return True
    return node.type == "new_expression" and text(callee(node)) == "URL"


def deadline(outbound: Outbound, file: "FileContext") -> tuple[str, Node | None]:
    """SET, ABSENT or UNKNOWN (see the module), and the options literal when there is one."""
    arguments = arguments_of(outbound.call)
    if any(argument.type == "spread_element" for argument in arguments):
        return UNKNOWN, None
    given = arguments[outbound.position] if outbound.position < len(arguments) else None
    options = options_object(given, file.source)
    if options.state != "object":
        return (ABSENT, None) if options.absent else (UNKNOWN, None)
    states = [entry(options.node, key).state for key in _DEADLINE_KEYS[outbound.client]]
    if "value" in states:
        return SET, options.node
    return (UNKNOWN if "unknown" in states else ABSENT), options.node


def ignored_timeout(outbound: Outbound, options: Node | None) -> Node | None:
    """`fetch(url, { timeout: 5000 })` with the standard fetch, which has no such option: the entry."""
    if outbound.client != FETCH or options is None:
        return None
    found = entry(options, "timeout")
    if found.state != "value" or found.node is None:
        return None
    return found.node.parent if found.node.parent is not None and found.node.parent.type == "pair" else found.node
