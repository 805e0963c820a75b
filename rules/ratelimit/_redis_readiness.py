"""Is a Redis client connected by the time some code runs? Per module: the clients it keeps, the functions that
hand them out, its `client.connect()` calls (as startup markers, see `linter.rules.ratelimit._startup_order`). Per project:
which client a reference names across modules, and whether a `connect()` of it runs before a given marker.

node-redis needs `connect()` to have been *called* (not finished) before a command: commands sent while it
connects wait in its offline queue. So "connected" here means "`connect()` was reached first".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.rules.ratelimit._redis_clients import (
    client_getters,
    connect_receiver,
    holder_key,
    holds_default_export,
    redis_client_kind,
    value_reference,
)
from linter.js.singletons import value_root
from linter.rules.ratelimit._startup_order import Occurrence, Outline, entry_modules, resolve_call, simulate
from linter.js.expressions import unwrap
from linter.syntax import Node

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.model import Span
    from linter.project import ProjectIndex

CONNECT_MARKER = "connect:"


class ModuleRedis:
    """The per-module side: pass `mark` to the outliner (it records the clients the module creates and returns a
    marker for each `client.connect()`), then take `facts(functions)` (plain data)."""

    def __init__(self, file: "FileContext") -> None:
        self.file = file
        self.clients: dict[str, dict] = {}  # binding key -> {"kind": NODE_REDIS…, "name": as told in messages}
        self.connects: dict[str, dict] = {}
        self._mentions_redis = _REDIS_WORD.search(file.source) is not None

    def mark(self, node: Node) -> str | None:
        if not self._mentions_redis:
            return None
        kind = redis_client_kind(node, self.file)
        if kind is not None:
            key = holder_key(node)
            if key is not None:
                name = "default export" if holds_default_export(node) else key.split(":", 1)[-1]
                self.clients.setdefault(key, {"kind": kind, "name": name})
            return None
        return self._connect_marker(node)

    def _connect_marker(self, node: Node) -> str | None:
        receiver = unwrap(connect_receiver(node))
        if receiver is None:
            return None
        if receiver.type in ("call_expression", "new_expression") and redis_client_kind(receiver, self.file):
            # `const client = await createClient().connect()`: the client it is kept in
            key = holder_key(value_root(node))
            reference = {"local": key} if key is not None else None
        else:
            reference = value_reference(receiver, self.file)
        if reference is None or reference.get("import", ".").split("/")[0] in _NOT_CLIENT_MODULES:
            return None
        marker = f"{CONNECT_MARKER}{len(self.connects)}"
        self.connects[marker] = {"ref": reference, "span": self.file.lines.span(node.start_byte, node.end_byte)}
        return marker

    def facts(self, functions: dict[str, Node]) -> dict:
        getters = client_getters(functions) if self.clients else {}
        return {"clients": self.clients, "getters": getters, "connects": self.connects}


_REDIS_WORD = re.compile(rb"redis", re.I)
# Packages whose `connect()` is not a Redis client's.
_NOT_CLIENT_MODULES = frozenset({"mongoose", "mongodb", "pg", "mysql", "mysql2", "amqplib", "nats", "knex"})


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
    """The project side. `modules` maps a path to its facts: `outline` plus what `ModuleRedis.facts` gave."""

    def __init__(self, project: "ProjectIndex", modules: dict[str, dict]) -> None:
        self.project = project
        self.modules = modules
        self.outlines: dict[str, Outline] = {path: data["outline"] for path, data in modules.items()}
        self._runs: dict[str, list[Occurrence]] = {}
        self._entries: dict[str, list[str]] = {}
        self._identities: dict[tuple[str, str], ClientIdentity | None] = {}

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
            resolved = resolve_call(self.project, self.outlines, path, reference["call"])
            if resolved is None:
                return None
            where, key = resolved
            getter = self.modules[where]["getters"].get(key)
            if getter is None:
                return None
            identity = self._binding(where, getter["returns"])
            if identity is not None and getter["connects"]:
                return ClientIdentity(identity.path, identity.key, identity.kind, identity.name, lazy=True)
            return identity
        return None

    def _binding(self, path: str, key: str) -> ClientIdentity | None:
        data = self.modules.get(path)
        client = data["clients"].get(key) if data is not None else None
        return ClientIdentity(path, key, client["kind"], client["name"]) if client is not None else None

    def connect_identity(self, path: str, marker: str) -> ClientIdentity | None:
        cache_key = (path, marker)
        if cache_key not in self._identities:
            connect = self.modules[path]["connects"].get(marker)
            self._identities[cache_key] = self.client(path, connect["ref"]) if connect is not None else None
        return self._identities[cache_key]

    def connect_after(self, path: str, marker: str, client: ClientIdentity | None = None) -> LateConnect | None:
        """The first `connect()` (of `client`, or of any Redis client of the project) that runs after the marker
        in some startup, provided no startup reaches one before it; None when one runs first or none is seen."""
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
                span = self.modules[after.path]["connects"][after.marker]["span"]
                late = LateConnect(after, span)
        return late

    def _is_connect_of(self, occurrence: Occurrence, client: ClientIdentity | None) -> bool:
        if not occurrence.marker.startswith(CONNECT_MARKER):
            return False
        identity = self.connect_identity(occurrence.path, occurrence.marker)
        if identity is None:
            return False
        return client is None or (identity.path, identity.key) == (client.path, client.key)

    def _orders(self, path: str) -> list[list[Occurrence]]:
        if path not in self._entries:
            self._entries[path] = entry_modules(self.project, self.outlines, {path})
        orders = []
        for entry in self._entries[path]:
            if entry not in self._runs:
                self._runs[entry] = simulate(self.project, self.outlines, entry)
            orders.append(self._runs[entry])
        return orders
