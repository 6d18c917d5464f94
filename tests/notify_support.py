"""Real receivers on 127.0.0.1 for the notification tests: a signed-webhook server and an SMTP server."""

from __future__ import annotations

import email
import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from newsdelta.notify.channels import ID_HEADER, verify

MESSAGE_ID = re.compile(r"newsdelta:\d+:(?:\d+:\d+|digest:[0-9T:+-]+)")


@dataclass
class Received:
    id: str
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """Answers 500 to the first `fail_first` requests, then 200; keeps only messages whose HMAC verifies."""

    secret: str = ""
    fail_first: int = 0
    requests: int = 0
    forged: int = 0
    messages: list[Received] = field(default_factory=list)

    @property
    def ids(self) -> Counter[str]:
        return Counter(message.id for message in self.messages)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        self.requests += 1
        if self.requests <= self.fail_first:
            return 500
        if not verify(self.secret, headers, body):
            self.forged += 1
            return 401
        payload = json.loads(body)
        assert payload["id"] == headers[ID_HEADER]
        self.messages.append(Received(payload["id"], payload))
        return 204


def serve_webhook(receiver: WebhookReceiver) -> Iterator[str]:
    """Serve `receiver` until the generator is closed; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


class MailBox:
    """An aiosmtpd handler keeping each mail's decoded text; ids are read from the text."""

    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 OK"

    def text(self, mail: email.message.EmailMessage) -> str:
        return "\n".join(part.get_content() for part in mail.walk() if part.get_content_maintype() == "text")

    @property
    def ids(self) -> Counter[str]:
        found = Counter[str]()
        for mail in self.mails:
            ids = set(MESSAGE_ID.findall(self.text(mail)))
            assert len(ids) == 1, ids
            found.update(ids)
        return found


def serve_smtp(box: MailBox) -> Iterator[str]:
    """An SMTP server on 127.0.0.1; yields the apprise mailto:// URL that sends to it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"mailto://127.0.0.1:{port}?from=newsdelta@example.org&to=desk@example.org"
    finally:
        controller.stop()
