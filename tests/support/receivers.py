"""Real local receivers of alerts: an HTTP webhook receiver and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.message
import email.policy
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class WebhookReceiver(http.server.ThreadingHTTPServer):
    """Records every POST on loopback and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, count: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """The payloads once at least ``count`` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return [payload for _, payload in self.posts]


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[WebhookReceiver]:
    """A :class:`WebhookReceiver` serving in a thread for the block."""
    server = WebhookReceiver(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[email.message.Message]]]:
    """A real SMTP server (aiosmtpd) on loopback; yields its port and the received messages."""
    from aiosmtpd.controller import Controller

    received: list[email.message.Message] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(
                email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
