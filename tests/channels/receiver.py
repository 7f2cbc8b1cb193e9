"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread."""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (then 200) and keeps what it got."""

    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    body: bytes = b"ok"  # what every answer carries
    headers: dict[str, str] = field(default_factory=dict)  # and these (a Location, say)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/facilities"


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            for name, value in {
                **receiver.headers,
                "Content-Length": str(len(receiver.body)),
            }.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(receiver.body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (README): recompute the HMAC over "<t>.<body>" and compare."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])
