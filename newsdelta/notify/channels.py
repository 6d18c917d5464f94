"""Channels: how one finished message leaves newsdelta. A signed JSON webhook for http(s) URLs, apprise for
every other scheme, and whatever a plugin registers for its own scheme (`register_channel`, one line).

The dispatcher owns everything else (rules, cursor, outbox, order, retries, ids), so a channel only sends an
`Outgoing`; raising DeliveryError makes the dispatcher retry it later.

The webhook's signature: `X-Newsdelta-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` keyed
with the subscription's secret, `X-Newsdelta-Timestamp` the Unix time it was signed at (so a receiver can
refuse replays), and `X-Newsdelta-Id` the message's stable id (so it can drop repeats).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from newsdelta.notify.message import Format

SIGNATURE_HEADER = "X-Newsdelta-Signature"
TIMESTAMP_HEADER = "X-Newsdelta-Timestamp"
ID_HEADER = "X-Newsdelta-Id"
WEBHOOK_TIMEOUT = 10.0


class DeliveryError(Exception):
    """The channel did not take the message; the dispatcher retries it later."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as every channel can send it: a JSON payload (webhooks), a title and a body rendered in
    the channel's markup (chat and mail), and a share card for channels that take files."""

    id: str
    payload: Any
    title: str
    render: Callable[[Format], str]
    card: Callable[[], Path | None] = lambda: None


class Channel(Protocol):
    def check(self, url: str) -> None:
        """Raise DeliveryError when this channel cannot use `url` (asked when a subscription is added)."""
        ...

    async def send(self, url: str, secret: str, message: Outgoing, http: httpx.AsyncClient) -> None:
        """Deliver `message` or raise DeliveryError; `secret` is the subscription's signing key and `http` the
        delivery round's client."""
        ...


CHANNELS: dict[str, Channel] = {}
# The channel for URL schemes no channel registered: apprise knows some hundred services by their scheme.
FALLBACK_SCHEME = "*"


def register_channel(schemes: tuple[str, ...], channel: Channel) -> Channel:
    for scheme in schemes:
        CHANNELS[scheme.lower()] = channel
    return channel


def channel_for(url: str) -> Channel:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return CHANNELS.get(scheme) or CHANNELS[FALLBACK_SCHEME]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """What a receiver does (and the tests' receiver does): recompute and compare in constant time."""
    expected = sign(secret, headers.get(TIMESTAMP_HEADER, ""), body)
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))


class Webhook:
    """newsdelta's own webhook: http(s) URLs get the JSON payload, signed (apprise's are json:// and form://)."""

    def check(self, url: str) -> None:
        return None

    async def send(self, url: str, secret: str, message: Outgoing, http: httpx.AsyncClient) -> None:
        await send_webhook(http, url, secret, message.id, message.payload)


async def send_webhook(
    client: httpx.AsyncClient, url: str, secret: str, message_id: str, payload: Any
) -> None:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        response = await client.post(url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise DeliveryError(f"the webhook answered HTTP {response.status_code}")  # its URL may hold a token


def apprise_channel(url: str) -> Any:
    """An apprise notifier for one URL; apprise is imported here because importing it takes half a second."""
    import apprise

    channel = apprise.Apprise()
    if not channel.add(url):
        raise DeliveryError("apprise does not understand this URL")
    return channel


_NATIVE_FORMATS: dict[str, Format] = {"html": "html", "markdown": "markdown"}


def _native_format(plugin: Any) -> Format:
    """The markup the channel reads natively, so deletions and insertions look right there."""
    formats = plugin.notify_format
    preferred = formats[0] if isinstance(formats, tuple) else formats
    return _NATIVE_FORMATS.get(str(preferred.value), "text")


class Apprise:
    """Any service apprise knows, in the service's own markup, with the share card where it takes files."""

    def check(self, url: str) -> None:
        apprise_channel(url)

    async def send(self, url: str, secret: str, message: Outgoing, http: httpx.AsyncClient) -> None:
        channel = apprise_channel(url)
        fmt = _native_format(channel[0])
        card = message.card() if channel[0].attachment_support else None
        from apprise import LogCapture

        try:
            with LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]  # apprise leaves it unannotated
                sent = await channel.async_notify(
                    body=message.render(fmt),
                    title=message.title,
                    body_format=fmt,
                    attach=str(card) if card is not None else None,
                )
        finally:
            if card is not None:
                card.unlink(missing_ok=True)
        if not sent:
            detail = captured.getvalue().strip()
            raise DeliveryError(detail.splitlines()[-1] if detail else "apprise reported a failure")


register_channel(("http", "https"), Webhook())
register_channel((FALLBACK_SCHEME,), Apprise())
