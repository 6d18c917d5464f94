"""The WebSub callback on `newsdelta serve`: a hub's verification of intent (GET) and its notifications (POST).

The callback's last segment is an unguessable token, one per subscription (newsdelta.crawl.websub). A
verification is answered with its challenge only for the (un)subscription of that callback that is pending, in
that mode, for that topic; anything else is a 404, as the spec requires. A notification counts only when its
subscription was verified and its X-Hub-Signature (HMAC of the body with the subscription's secret: sha1,
sha256, sha384 or sha512) holds; otherwise it is logged and ignored, and nothing from it is stored. The
spec lets the answer be 2xx all the same, which tells a forger nothing. A verified notification is read like a
poll of its feed: its entries' dates are signals (origin "websub") and its new URLs are tracked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from newsdelta.config import Settings
from newsdelta.crawl.polling import track_links, wanted_urls
from newsdelta.crawl.websub import CALLBACK_PATH, MIN_RENEWAL, RENEW_AT, REQUESTED_LEASE
from newsdelta.discovery import DiscoveryError, discover_all
from newsdelta.store.models import HubSubscription

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# As large as a polled feed may be (the fetcher's cap); a longer body is refused unread.
MAX_NOTIFICATION_BYTES = 10_000_000
SIGNATURES: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def _subscription(session: Session, token: str) -> HubSubscription | None:
    """Locked (on PostgreSQL) against the crawler recording how the hub answered the request meanwhile."""
    query = select(HubSubscription).where(HubSubscription.callback_token == token).with_for_update()
    return session.scalar(query)


def verify_intent(session: Session, token: str, params: Mapping[str, str], now: datetime) -> str | None:
    """The body to answer a hub's GET with, or None for 404. Commits what it learned."""
    subscription = _subscription(session, token)
    mode, topic = params.get("hub.mode"), params.get("hub.topic")
    if subscription is None or topic != subscription.topic_url:
        return None
    if mode == "denied":
        log.warning("WebSub hub %s denied %s: %s", subscription.hub_url, topic, params.get("hub.reason"))
        subscription.state, subscription.requested_at, subscription.next_check_at = "denied", None, None
        subscription.last_error = f"denied by the hub: {params.get('hub.reason') or 'no reason given'}"[:2000]
        session.commit()
        return ""
    challenge = params.get("hub.challenge")
    if not challenge or subscription.requested_at is None or mode != subscription.mode:
        return None
    if mode == "unsubscribe":
        session.delete(subscription)
    else:
        lease = _lease(params.get("hub.lease_seconds"))
        subscription.state, subscription.requested_at = "active", None
        subscription.verified_at, subscription.lease_expires_at = now, now + lease
        subscription.next_check_at = now + max(lease * RENEW_AT, MIN_RENEWAL)
        subscription.error_streak, subscription.last_error = 0, None
    session.commit()
    log.info("WebSub %s of %s verified", mode, topic)
    return challenge


def _lease(value: str | None) -> timedelta:
    """The hub's lease (it must send one when subscribing); the requested one if it sent none we can read."""
    seconds = int(value) if value is not None and value.strip().isdigit() else 0
    return timedelta(seconds=seconds) if seconds > 0 else REQUESTED_LEASE


def signature_holds(secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature: method=hex HMAC of the body, keyed by the subscription's secret."""
    method, _, digest = (header or "").partition("=")
    algorithm = SIGNATURES.get(method.strip().lower())
    if algorithm is None:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def accept_notification(
    session: Session,
    token: str,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> str:
    """Apply a notification if it is authentic; the outcome: applied, unknown, unverified, forged, unreadable."""
    subscription = _subscription(session, token)
    if subscription is None:
        return "unknown"
    feed = subscription.feed
    if subscription.mode != "subscribe" or subscription.verified_at is None or feed is None:
        log.warning("WebSub notification for %s ignored: subscription not verified", subscription.topic_url)
        return "unverified"
    if not signature_holds(subscription.secret, body, headers.get("x-hub-signature")):
        log.warning("WebSub notification for %s ignored: signature missing or wrong", subscription.topic_url)
        return "forged"
    try:
        found = discover_all(body, headers.get("content-type"), subscription.topic_url)
    except DiscoveryError as exc:
        log.warning("WebSub notification for %s unreadable: %s", subscription.topic_url, exc)
        return "unreadable"
    wanted = wanted_urls(found.links, tuple(feed.exclude_patterns), settings.feed_max_items)
    added = track_links(
        session, feed, list(wanted.items()), now, initial_period=settings.policy.initial, origin="websub"
    )
    subscription.last_notification_at = now
    subscription.notifications += 1
    session.commit()
    log.info("WebSub notification for %s: %d entries, %d new", subscription.topic_url, len(wanted), added)
    return "applied"


async def _capped_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_NOTIFICATION_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_NOTIFICATION_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions  # type: ignore[no-any-return]


@router.get(CALLBACK_PATH + "{token}")
def verification(request: Request, token: str) -> Response:
    with _sessions(request)() as session:
        answer = verify_intent(session, token, request.query_params, request.app.state.clock())
    if answer is None:
        return PlainTextResponse("no such pending subscription\n", status_code=404)
    return PlainTextResponse(answer)


@router.post(CALLBACK_PATH + "{token}")
async def notification(request: Request, token: str) -> Response:
    body = await _capped_body(request)
    if body is None:
        log.warning("WebSub notification refused: larger than %d bytes", MAX_NOTIFICATION_BYTES)
        return PlainTextResponse("too large\n", status_code=413)
    headers = {name.lower(): value for name, value in request.headers.items()}

    def apply() -> str:
        with _sessions(request)() as session:
            return accept_notification(
                session, token, body, headers, request.app.state.settings, request.app.state.clock()
            )

    outcome = await run_in_threadpool(apply)
    if outcome == "unknown":  # the spec's way to tell a hub that a subscription is no more
        return PlainTextResponse("no such subscription\n", status_code=410)
    return PlainTextResponse("received\n", status_code=202)
