"""A webhook receiver on a loopback port, as an integrator would write one: it records every request
and acts on each Idempotency-Key once. It can be switched down (not listening), made to answer
500, made to answer too late (the work is done but the acknowledgement is lost), or made to hold
its first request until released.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    path: str
    headers: Message
    body: bytes

    @property
    def key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.processed: dict[str, Request] = {}  # the first successful request per Idempotency-Key
        self.status = 200
        self.late_by = 0.0  # seconds the first request's answer is held back (after its work is done)
        self.hold_first: threading.Event | None = None  # the first request waits for this to be set
        self.arrived = threading.Event()  # set when the first request has been received
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        """Listen (again) on the same port; the first start picks a free one."""
        self._server = _Server(("127.0.0.1", self.port), _handler_for(self))
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start` is called."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, request: Request) -> tuple[int, float, threading.Event | None]:
        """Record a request and do its work once per key; returns (status, delay, event to wait for)."""
        with self._lock:
            first = not self.requests
            self.requests.append(request)
            if 200 <= self.status < 300 and request.key is not None:
                self.processed.setdefault(request.key, request)
        if first:
            self.arrived.set()
        return self.status, self.late_by if first else 0.0, self.hold_first if first else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up before a late answer is what some tests are about


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, delay, hold = receiver.receive(Request(self.path, self.headers, body))
            if hold is not None:
                hold.wait(60)
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
