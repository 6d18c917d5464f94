"""Sending one message: a signed JSON webhook for http(s) URLs, apprise for every other scheme.

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
from pathlib import Path
from typing import Any

import httpx

from newsdelta.notify.message import Format

SIGNATURE_HEADER = "X-Newsdelta-Signature"
TIMESTAMP_HEADER = "X-Newsdelta-Timestamp"
ID_HEADER = "X-Newsdelta-Id"
WEBHOOK_TIMEOUT = 10.0


class DeliveryError(Exception):
    """The channel did not take the message; the dispatcher retries it later."""


def is_webhook(url: str) -> bool:
    """http(s) URLs are newsdelta's own signed webhook; apprise's webhooks are json:// and form://."""
    return url.startswith(("http://", "https://"))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """What a receiver does (and the tests' receiver does): recompute and compare in constant time."""
    expected = sign(secret, headers.get(TIMESTAMP_HEADER, ""), body)
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))


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


async def send_apprise(
    url: str, title: str, render: Callable[[Format], str], attachment: Path | None = None
) -> None:
    """Send through apprise in the channel's own markup, with the share card where the service takes files."""
    channel = apprise_channel(url)
    fmt = _native_format(channel[0])
    attach = str(attachment) if attachment is not None and channel[0].attachment_support else None
    from apprise import LogCapture

    with LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]  # apprise leaves it unannotated
        sent = await channel.async_notify(body=render(fmt), title=title, body_format=fmt, attach=attach)
    if not sent:
        detail = captured.getvalue().strip()
        raise DeliveryError(detail.splitlines()[-1] if detail else "apprise reported a failure")
