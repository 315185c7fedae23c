"""A department's system in miniature: an HTTP server on a free local port that verifies each
webhook's signature, dedupes on the delivery id, and can be made to fail or go away."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pingan.domain.webhooks import SignatureRejected, verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """`status` is what it answers to a well-signed request (set 500 to make it fail)."""

    def __init__(self, clock: Callable[[], datetime], window_s: int = 300) -> None:
        self.clock = clock
        self.window_s = window_s
        self.port = free_port()
        self.secret = ""
        self.status = 204
        self.accepted: list[dict[str, Any]] = []  # one per delivery id, first arrival
        self.duplicates: list[str] = []
        self.rejected: list[str] = []
        self.attempts = 0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pingan/events"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    self._receive(body)

            def _receive(self, body: bytes) -> None:
                receiver.attempts += 1
                try:
                    verify(
                        receiver.secret,
                        self.headers.get("X-Pingan-Timestamp"),
                        self.headers.get("X-Pingan-Signature"),
                        body,
                        receiver.clock(),
                        receiver.window_s,
                    )
                except SignatureRejected as exc:
                    receiver.rejected.append(exc.code)
                    self._answer(401)
                    return
                if receiver.status >= 300:
                    self._answer(receiver.status)
                    return
                delivery = self.headers.get("X-Pingan-Delivery") or ""
                if any(d["id"] == delivery for d in receiver.accepted):
                    receiver.duplicates.append(delivery)
                else:
                    receiver.accepted.append(
                        {
                            **json.loads(body),
                            "_headers": {k.lower(): v for k, v in self.headers.items()},
                        }
                    )
                self._answer(receiver.status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go away entirely: connections are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
