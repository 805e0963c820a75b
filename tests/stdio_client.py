"""A JSON-RPC client for a server run as a subprocess, as editors and agents speak to one: `Content-Length`
framed messages (the Language Server Protocol) or one JSON object a line (MCP over stdio)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0


class StdioClient:
    def __init__(self, args: list[str], env: dict[str, str], framed: bool) -> None:
        self.framed = framed
        self.process = subprocess.Popen(
            [sys.executable, "-m", "linter", *args],
            cwd=REPO,  # the checkout's `linter`, as the other tests import it
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.notifications: list[dict] = []
        self.requests: list[dict] = []  # what the server asked of the client
        self._incoming: queue.Queue = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    # sending -------------------------------------------------------------------------------------------

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        if self.framed:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            self.process.stdin.write(body + b"\n")
        self.process.stdin.flush()

    def notify(self, method: str, params: dict | None = None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: dict | None = None, timeout: float = TIMEOUT) -> dict:
        """The response to the request (its `result`, or its `error` raised)."""
        self._next_id += 1
        ident = self._next_id
        self.send({"id": ident, "method": method, **({"params": params} if params is not None else {})})
        response = self.wait(lambda m: m.get("id") == ident and "method" not in m, timeout)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response.get("result")

    # receiving -----------------------------------------------------------------------------------------

    def wait(self, wanted, timeout: float = TIMEOUT) -> dict:
        """The first message from now on (or already received and not yet taken) for which `wanted` is true."""
        for message in list(self.notifications):
            if wanted(message):
                self.notifications.remove(message)
                return message
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such message in {timeout} s; stderr: {self.stderr_so_far()}")
            try:
                message = self._incoming.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                raise EOFError(f"the server closed its output; stderr: {self.stderr_so_far()}")
            if "method" in message and "id" in message:  # a request from the server: answer it as a client would
                self.requests.append(message)
                self.send({"id": message["id"], "result": None})
                continue
            if wanted(message):
                return message
            if "method" in message:
                self.notifications.append(message)

    def diagnostics(self, uri: str, timeout: float = TIMEOUT, version: int | None = None) -> list[dict]:
        """The next diagnostics published for `uri` (for `version` of it, when given)."""

        def wanted(message: dict) -> bool:
            if message.get("method") != "textDocument/publishDiagnostics" or message["params"]["uri"] != uri:
                return False
            return version is None or message["params"].get("version") == version

        return self.wait(wanted, timeout)["params"]["diagnostics"]

    def stderr_so_far(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        return self.process.stderr.read().decode("utf-8", "replace")[-2000:]

    def _read(self) -> None:
        stream = self.process.stdout
        try:
            while True:
                if self.framed:
                    length = None
                    while True:
                        line = stream.readline()
                        if not line:
                            return
                        if line in (b"\r\n", b"\n"):
                            break
                        name, _, value = line.decode("ascii").partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    body = stream.read(length)
                else:
                    body = stream.readline()
                    if not body:
                        return
                    if not body.strip():
                        continue
                self._incoming.put(json.loads(body))
        finally:
            self._incoming.put(None)

    def close(self) -> int | None:
        """Close the pipes and wait for the process (killed if it does not end)."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
