"""Is a Redis client connected by the time some code runs? Per file: the clients a module creates and its
`client.connect()` calls (startup markers, see `linter.rules.ratelimit._startup_order`). Per project: which client
a reference names across modules, and whether a `connect()` of it runs before a given marker.

node-redis needs `connect()` to have been *called* (not finished) before a command: commands sent while it
connects wait in its offline queue. So "connected" here means "`connect()` was reached first".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.js.expressions import unwrap
from linter.js.singletons import value_root
from linter.lazy_dataclasses import dataclass
from linter.rules.ratelimit._redis_clients import (
    calls_connect,
    connect_receiver,
    holder_key,
    holds_default_export,
    redis_client_kind,
    returned_binding,
    value_reference,
)
from linter.rules.ratelimit._startup_order import Occurrence, Startup
from linter.syntax import Node

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.model import Span
    from linter.project import ProjectIndex

CONNECT_MARKER = "connect"
# Packages whose `connect()` is not a Redis client's.
_NOT_CLIENT_MODULES = frozenset({"mongoose", "mongodb", "pg", "mysql", "mysql2", "amqplib", "nats", "knex"})


def marker_of(kind: str, node: Node) -> str:
    """The id of the startup marker at `node` (`limiter@120-188`): its byte range, as the outline sees it."""
    return f"{kind}@{node.start_byte}-{node.end_byte}"


def marker_range(marker: str) -> tuple[int, int]:
    start, end = marker.rsplit("@", 1)[1].split("-")
    return int(start), int(end)


# Per file ----------------------------------------------------------------------------------------------------------


def created_client(node: Node, file: "FileContext") -> dict | None:
    """For a call or `new` creating a Redis client kept in a variable or a default export: {"key", "client",
    "name"} (the binding key, its kind NODE_REDIS…, the name messages use)."""
    kind = redis_client_kind(node, file)
    key = holder_key(node) if kind is not None else None
    if key is None:
        return None
    name = "default export" if holds_default_export(node) else key.split(":", 1)[-1]
    return {"key": key, "client": kind, "name": name}


def connect_call(node: Node, file: "FileContext") -> dict | None:
    """For `x.connect()` where `x` may be a Redis client: {"ref": the reference to `x`, "marker": …}."""
    receiver = unwrap(connect_receiver(node))
    if receiver is None:
        return None
    if receiver.type in ("call_expression", "new_expression") and redis_client_kind(receiver, file):
        # `const client = await createClient().connect()`: the client it is kept in
        key = holder_key(value_root(node))
        reference = {"local": key} if key is not None else None
    else:
        reference = value_reference(receiver, file)
    if reference is None or reference.get("import", ".").split("/")[0] in _NOT_CLIENT_MODULES:
        return None
    return {"ref": reference, "marker": marker_of(CONNECT_MARKER, node)}


# Per project -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientIdentity:
    path: str
    key: str
    kind: str  # NODE_REDIS, IOREDIS, UPSTASH
    name: str  # the variable it is kept in, or "default export"
    lazy: bool = False  # handed out by a getter that connects it first


@dataclass(frozen=True)
class LateConnect:
    """A `connect()` that runs only after the marker: where it is and the calls that reach it."""

    occurrence: Occurrence
    span: "Span"


class Readiness:
    """The project side, over the per-file facts: `clients` (path → binding key → client fact data) and
    `connects` (path → marker → {"ref", "span"})."""

    def __init__(self, project: "ProjectIndex", startup: Startup, clients: dict, connects: dict) -> None:
        self.project = project
        self.startup = startup
        self.clients = clients
        self.connects = connects
        self._entries: dict[str, list[str]] = {}
        self._identities: dict[tuple[str, str], ClientIdentity | None] = {}
        self._connected: dict[tuple[str, str] | None, bool] = {}

    def client(self, path: str, reference: dict | None, depth: int = 0) -> ClientIdentity | None:
        """The client `reference` (made in module `path`) names, when it is one the project creates."""
        if reference is None or depth > 4:
            return None
        if "local" in reference:
            return self._binding(path, reference["local"])
        if "import" in reference:
            found = module_graph(self.project).resolve(path, Callee(reference["import"], reference["name"]))
            return self._binding(*found) if found is not None else None
        if "call" in reference:
            resolved = self.startup.resolve_call(path, reference["call"])
            if resolved is None or resolved[0] not in self.clients:
                return None
            where, key = resolved
            function = self.startup.function(where, key)
            returned = returned_binding(function) if function is not None else None
            identity = self._binding(where, returned) if returned is not None else None
            if identity is not None and calls_connect(function):
                return ClientIdentity(identity.path, identity.key, identity.kind, identity.name, lazy=True)
            return identity
        return None

    def _binding(self, path: str, key: str) -> ClientIdentity | None:
        client = self.clients.get(path, {}).get(key)
        return ClientIdentity(path, key, client["client"], client["name"]) if client is not None else None

    def connect_identity(self, path: str, marker: str) -> ClientIdentity | None:
        cache_key = (path, marker)
        if cache_key not in self._identities:
            connect = self.connects.get(path, {}).get(marker)
            self._identities[cache_key] = self.client(path, connect["ref"]) if connect is not None else None
        return self._identities[cache_key]

    def connect_after(self, path: str, marker: str, client: ClientIdentity | None = None) -> LateConnect | None:
        """The first `connect()` (of `client`, or of any Redis client of the project) that runs after the marker
        in some startup, provided no startup reaches one before it; None when one runs first or none is seen."""
        if not self._connected_somewhere(client):
            return None  # no startup to replay
        late: LateConnect | None = None
        for order in self._orders(path):
            index = next((i for i, o in enumerate(order) if o.path == path and o.marker == marker), None)
            if index is None:
                continue
            connects = [(i, o) for i, o in enumerate(order) if self._is_connect_of(o, client)]
            if any(i < index for i, _ in connects):
                return None
            after = next((o for i, o in connects if i > index), None)
            if after is not None and late is None:
                span = self.connects[after.path][after.marker]["span"]
                late = LateConnect(after, span)
        return late

    def _connected_somewhere(self, client: ClientIdentity | None) -> bool:
        """Whether the project calls `connect()` on `client` (on any client of the project, for None)."""
        wanted = (client.path, client.key) if client is not None else None
        if wanted not in self._connected:
            self._connected[wanted] = any(
                self._is_identity_of(self.connect_identity(path, marker), client)
                for path, markers in sorted(self.connects.items())
                for marker in markers
            )
        return self._connected[wanted]

    def _is_connect_of(self, occurrence: Occurrence, client: ClientIdentity | None) -> bool:
        if not occurrence.marker.startswith(CONNECT_MARKER):
            return False
        return self._is_identity_of(self.connect_identity(occurrence.path, occurrence.marker), client)

    @staticmethod
    def _is_identity_of(identity: ClientIdentity | None, client: ClientIdentity | None) -> bool:
        if identity is None:
            return False
        return client is None or (identity.path, identity.key) == (client.path, client.key)

    def _orders(self, path: str) -> list[list[Occurrence]]:
        if path not in self._entries:
            self._entries[path] = self.startup.entries({path})
        return [self.startup.run(entry) for entry in self._entries[path]]
