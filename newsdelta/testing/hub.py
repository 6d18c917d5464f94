"""The simulated newsroom's WebSub hub (W3C WebSub §5-7, the hub's side), for its own RSS, Atom and JSON feeds.

A subscription request is answered 202 and queued; `verify_pending` then does the verification of intent (a GET
to the callback that must echo the challenge), and `publish` sends every verified subscriber the topic's full
content, signed with its secret (X-Hub-Signature: sha256=…), whenever the topic changed since its last delivery.
Both are called by whoever drives the newsroom's clock (newsdelta.testing.drive, or POST /_control/hub), so a
test decides when the hub acts and nothing depends on timing. The hub talks to callbacks with a plain client:
it is the test's stand-in for a hub on the internet, not newsdelta's code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from newsdelta.testing.clock import NewsroomClock
from newsdelta.testing.httpserver import Request, Response

log = logging.getLogger(__name__)

HUB_PATH = "/hub"
MAX_LEASE_SECONDS = 10 * 24 * 3600
SECRET_MAX_BYTES = 200

# A topic's content now: body, Content-Type and a tag that changes whenever the body does.
Topic = tuple[bytes, str, str]


@dataclass(slots=True)
class _Request:
    mode: str
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int


@dataclass(slots=True)
class _Subscriber:
    secret: str | None
    lease_until: datetime
    delivered_tag: str


@dataclass(frozen=True, slots=True)
class Delivery:
    callback: str
    topic: str
    status: int | None  # None: the callback could not be reached


class NewsroomHub:
    def __init__(
        self, base_url: Callable[[], str], topics: Callable[[str], Topic | None], clock: NewsroomClock
    ):
        self._base_url = base_url
        self._topics = topics
        self._clock = clock
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._subscribers: dict[tuple[str, str], _Subscriber] = {}
        self.deliveries: list[Delivery] = []
        self.verifications: list[tuple[str, str, bool]] = []  # (mode, callback, verified)

    @property
    def url(self) -> str:
        return self._base_url() + HUB_PATH

    def link_header(self, topic: str) -> str:
        return f'<{self.url}>; rel="hub", <{topic}>; rel="self"'

    def subscribers(self, topic: str | None = None) -> list[str]:
        """Callbacks verified and leased now (for `topic`, or any)."""
        now = self._clock.now()
        with self._lock:
            return [
                callback
                for (subscribed, callback), subscriber in self._subscribers.items()
                if subscriber.lease_until > now and topic in (None, subscribed)
            ]

    def handle(self, request: Request) -> Response:
        """A subscription request (§5.1): 202 and queued when well-formed, else 400 saying why."""
        if request.method != "POST":
            return Response(405, b"POST a subscription request\n", [("Allow", "POST")])
        form = {
            name: values[-1] for name, values in parse_qs(request.body.decode("utf-8", "replace")).items()
        }
        mode, topic, callback = form.get("hub.mode"), form.get("hub.topic", ""), form.get("hub.callback", "")
        secret = form.get("hub.secret")
        problem = (
            "hub.mode must be subscribe or unsubscribe"
            if mode not in ("subscribe", "unsubscribe")
            else "hub.topic is not a topic of this hub"
            if self._topics(topic) is None
            else "hub.callback must be an http(s) URL"
            if urlsplit(callback).scheme not in ("http", "https")
            else "hub.secret must be shorter than 200 bytes"
            if secret is not None and len(secret.encode()) >= SECRET_MAX_BYTES
            else None
        )
        if problem is not None:
            return Response(400, f"{problem}\n".encode(), [("Content-Type", "text/plain")])
        lease = form.get("hub.lease_seconds", "")
        lease_seconds = (
            min(int(lease), MAX_LEASE_SECONDS) if lease.isdigit() and int(lease) > 0 else MAX_LEASE_SECONDS
        )
        with self._lock:
            self._queue.append(_Request(str(mode), topic, callback, secret, lease_seconds))
        return Response(202, b"accepted; verification follows\n", [("Content-Type", "text/plain")])

    def verify_pending(self) -> int:
        """Verify the intent of every queued request (§5.3); the state changes only if the callback agrees."""
        with self._lock:
            queue, self._queue = self._queue, []
        verified = 0
        for pending in queue:
            challenge = secrets.token_urlsafe(16)
            params = {"hub.mode": pending.mode, "hub.topic": pending.topic, "hub.challenge": challenge}
            if pending.mode == "subscribe":
                params["hub.lease_seconds"] = str(pending.lease_seconds)
            separator = "&" if "?" in pending.callback else "?"
            try:
                answer = httpx.get(pending.callback + separator + urlencode(params), timeout=10)
                agreed = 200 <= answer.status_code < 300 and answer.text == challenge
            except httpx.HTTPError:
                agreed = False
            self.verifications.append((pending.mode, pending.callback, agreed))
            if agreed:
                verified += 1
                self._apply(pending)
        return verified

    def _apply(self, pending: _Request) -> None:
        key = (pending.topic, pending.callback)
        with self._lock:
            if pending.mode == "unsubscribe":
                self._subscribers.pop(key, None)
                return
            topic = self._topics(pending.topic)
            self._subscribers[key] = _Subscriber(
                pending.secret,
                self._clock.now() + timedelta(seconds=pending.lease_seconds),
                topic[2] if topic is not None else "",
            )

    def publish(self) -> int:
        """Send each leased subscriber its topic's content if it changed since the last delivery (§7)."""
        now = self._clock.now()
        with self._lock:
            due = [(key, sub) for key, sub in self._subscribers.items() if sub.lease_until > now]
        sent = 0
        for (topic_url, callback), subscriber in due:
            topic = self._topics(topic_url)
            if topic is None or topic[2] == subscriber.delivered_tag:
                continue
            body, content_type, tag = topic
            headers = {"Content-Type": content_type, "Link": self.link_header(topic_url)}
            if subscriber.secret is not None:
                digest = hmac.new(subscriber.secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            try:
                status: int | None = httpx.post(
                    callback, content=body, headers=headers, timeout=10
                ).status_code
            except httpx.HTTPError:
                status = None
            self.deliveries.append(Delivery(callback, topic_url, status))
            with self._lock:
                if status == 410:  # §7: the subscriber says the subscription is gone
                    self._subscribers.pop((topic_url, callback), None)
                elif status is not None and 200 <= status < 300:
                    subscriber.delivered_tag = tag
                    sent += 1
        return sent
